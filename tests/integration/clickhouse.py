#!/usr/bin/python3
"""Throw-away local ClickHouse servers for the integration tests.

    with ClickHouseServers(2) as ch:
        ch.query(0, "CREATE TABLE ...")
        url = ch.http_url(0)          # http://127.0.0.1:PORT/
        ch.stop(1); ch.start(1)       # same ports, same data

ClickHouseServers(n) starts n (1 or 2) clickhouse-server processes (Debian's
18.16), each with its own free HTTP, TCP and interserver ports on 127.0.0.1,
its own data, tmp and log directories and config.xml in one temporary
directory, and a `fleet` cluster in <remote_servers> that has every server
as a shard (one replica each), so a Distributed(fleet, db, table, ...) table
on any server spreads rows across all of them. Run as root, the servers run
as `nobody` (setpriv, no capability): 18.16 would run as root too, but needs
no privilege. As another user, as that user. A server answers SELECT 1
about 0.3 s after its start here; SIGTERM stops it in about 2 s.

Users (users.xml of its own): `default` without password from loopback, and
WRITER_USER with WRITER_PASSWORD (tests of the sink's credentials).

Teardown is unconditional (context manager exit, atexit, SIGTERM/SIGHUP ->
SystemExit): every server is stopped by its PID (SIGTERM, then SIGKILL) and
the temporary directory removed.

Self-check: python3 tests/integration/clickhouse.py  (two servers, a
Distributed table over MergeTree, an insert, a query, a restart, the times).
Standard library only.
"""

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SERVER = "/usr/sbin/clickhouse-server"
CLUSTER = "fleet"
WRITER_USER = "writer"
WRITER_PASSWORD = "s3cret-pw"
START_TIMEOUT = 60
STOP_TIMEOUT = 20


SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sql",
                      "clickhouse", "schema.sql")


def schema_columns(table):
    """The parenthesised column list of table's CREATE TABLE in
    sql/clickhouse/schema.sql, comments removed."""
    with open(SCHEMA) as f:
        text = f.read()
    start = text.index("CREATE TABLE IF NOT EXISTS %s (" % table)
    body = text[text.index("(", start):text.index(") ENGINE", start) + 1]
    return "\n".join(line.split("--")[0] for line in body.splitlines())


class ClickHouseError(Exception):
    """A server could not be started, or a query failed (the server's text)."""


def available():
    """None when servers can be started here, else why not."""
    if not os.access(SERVER, os.X_OK):
        return "%s missing (make deps: clickhouse-server)" % SERVER
    return None


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound together so that they
    differ; a small race with other programs remains, as with any such)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


_live = []


def _cleanup_all():
    for servers in list(_live):
        servers.close()


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def _install_cleanup_handlers():
    atexit.register(_cleanup_all)
    for s in (signal.SIGTERM, signal.SIGHUP):
        # A handler of the caller's (lab.py's does the same) stays.
        if signal.getsignal(s) in (signal.SIG_DFL, None):
            signal.signal(s, _raise_exit)


CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>{dir}/log/server.log</log>
        <errorlog>{dir}/log/error.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>{http}</http_port>
    <tcp_port>{tcp}</tcp_port>
    <interserver_http_port>{inter}</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>50</max_concurrent_queries>
    <uncompressed_cache_size>8589934592</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>{dir}/data/</path>
    <tmp_path>{dir}/tmp/</tmp_path>
    <user_files_path>{dir}/user_files/</user_files_path>
    <format_schema_path>{dir}/format_schemas/</format_schema_path>
    <users_config>{dir}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <remote_servers>
        <{cluster}>
{shards}
        </{cluster}>
    </remote_servers>
</yandex>
"""

SHARD = """            <shard><replica><host>127.0.0.1</host><port>{tcp}</port></replica></shard>"""

USERS = """<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <{user}>
            <password>{password}</password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </{user}>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""


class Server:
    """One server: its ports, directory and process."""

    def __init__(self, index, top):
        self.index = index
        self.dir = os.path.join(top, "s%d" % index)
        self.http_port, self.tcp_port, self.inter_port = free_ports(3)
        self.proc = None
        self.start_seconds = None  # the last start's time to a SELECT 1

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.http_port


class ClickHouseServers:
    def __init__(self, n=1, run_as="nobody"):
        if n < 1:
            raise ValueError("ClickHouseServers: n must be at least 1")
        self.n = n
        self.run_as = run_as if os.geteuid() == 0 else None
        self.tmp = None
        self.servers = []
        self._closed = False

    # -- context manager

    def __enter__(self):
        _live.append(self)
        try:
            self._setup()
            for i in range(self.n):
                self.start(i, wait=False)
            for i in range(self.n):
                self._wait_ready(i)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _setup(self):
        why = available()
        if why:
            raise ClickHouseError(why)
        self.tmp = tempfile.mkdtemp(prefix="dnssnoop-ch-")
        os.chmod(self.tmp, 0o755)  # the servers' user walks into it
        self.servers = [Server(i, self.tmp) for i in range(self.n)]
        shards = "\n".join(SHARD.format(tcp=s.tcp_port) for s in self.servers)
        for s in self.servers:
            for sub in ("data", "tmp", "log", "user_files", "format_schemas"):
                os.makedirs(os.path.join(s.dir, sub))
            with open(os.path.join(s.dir, "config.xml"), "w") as f:
                f.write(CONFIG.format(dir=s.dir, http=s.http_port, tcp=s.tcp_port,
                                      inter=s.inter_port, cluster=CLUSTER, shards=shards))
            with open(os.path.join(s.dir, "users.xml"), "w") as f:
                f.write(USERS.format(user=WRITER_USER, password=WRITER_PASSWORD))
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            for root, dirs, files in os.walk(self.tmp):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)

    # -- servers

    def http_url(self, i=0):
        """http://127.0.0.1:PORT/ of server i (no credentials: user default)."""
        return self.servers[i].url

    def tcp_port(self, i=0):
        return self.servers[i].tcp_port

    def pid(self, i=0):
        p = self.servers[i].proc
        return p.pid if p and p.poll() is None else None

    def _argv(self, s):
        argv = [SERVER, "--config-file=%s" % os.path.join(s.dir, "config.xml")]
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            argv = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                    "--clear-groups", "--inh-caps=-all"] + argv
        return argv

    def start(self, i, wait=True):
        """Start server i (again: same ports, same data); wait until it answers."""
        s = self.servers[i]
        if s.proc and s.proc.poll() is None:
            return
        s.started_at = time.monotonic()
        s.proc = subprocess.Popen(self._argv(s), cwd=s.dir, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(s.dir, "log", "stderr"), "ab"))
        if wait:
            self._wait_ready(i)

    def _wait_ready(self, i):
        s = self.servers[i]
        deadline = s.started_at + START_TIMEOUT
        while True:
            if s.proc.poll() is not None:
                raise ClickHouseError("clickhouse server %d exited with status %d: %s"
                                      % (i, s.proc.returncode, self.log_tail(i)))
            try:
                if self.query(i, "SELECT 1", timeout=2).strip() == "1":
                    s.start_seconds = time.monotonic() - s.started_at
                    return
            except (OSError, ClickHouseError):
                pass
            if time.monotonic() > deadline:
                raise ClickHouseError("clickhouse server %d does not answer after %d s: %s"
                                      % (i, START_TIMEOUT, self.log_tail(i)))
            time.sleep(0.05)

    def stop(self, i, sig=signal.SIGTERM):
        """Stop server i by its PID (sig, default SIGTERM; SIGKILL after
        STOP_TIMEOUT) and wait for it. stop(i, signal.SIGKILL) is a crash."""
        s = self.servers[i]
        if not s.proc or s.proc.poll() is not None:
            return
        s.proc.send_signal(sig)
        try:
            s.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait(5)

    def kill(self, i):
        self.stop(i, signal.SIGKILL)

    def log_tail(self, i, lines=5):
        out = []
        for name in ("error.log", "stderr"):
            try:
                with open(os.path.join(self.servers[i].dir, "log", name), errors="replace") as f:
                    out += f.read().splitlines()[-lines:]
            except OSError:
                pass
        return " | ".join(out[-lines:]) or "(no log)"

    # -- queries

    def query(self, i, sql, data=None, timeout=30, **settings):
        """Run sql on server i over HTTP; returns the answer's text. With
        data (str or bytes), sql goes in the URL and data is the POST body
        (an INSERT's rows); else sql is the body. Keyword arguments are URL
        parameters: user, password, ClickHouse settings
        (insert_distributed_sync=1). An HTTP error raises ClickHouseError
        with the server's message."""
        params = dict(settings)
        if data is None:
            body = sql.encode()
        else:
            params["query"] = sql
            body = data if isinstance(data, bytes) else data.encode()
        url = self.servers[i].url + "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body),
                                        timeout=timeout) as r:
                return r.read().decode()
        except urllib.error.HTTPError as e:
            raise ClickHouseError("server %d: HTTP %d: %s" % (
                i, e.code, e.read().decode(errors="replace").strip()))

    def count(self, i, table, where=None):
        sql = "SELECT count() FROM %s" % table + (" WHERE " + where if where else "")
        return int(self.query(i, sql).strip())

    # -- teardown

    def close(self):
        """Stop every server and remove the directory; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM,
                                                         signal.SIGHUP})
        try:
            for i in range(len(self.servers)):
                try:
                    self.stop(i)
                except Exception as e:  # keep going: the rest must go too
                    print("clickhouse teardown: server %d: %s" % (i, e), file=sys.stderr)
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
            if self in _live:
                _live.remove(self)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


_install_cleanup_handlers()


def self_check():
    t0 = time.monotonic()
    with ClickHouseServers(2) as ch:
        up = time.monotonic() - t0
        print("two servers answer SELECT 1 after %.2f s (each %s s)"
              % (up, ", ".join("%.2f" % s.start_seconds for s in ch.servers)))
        for i in range(2):
            ch.query(i, "CREATE TABLE dns_local (day Date, ts DateTime, host String, n UInt64)"
                        " ENGINE = MergeTree(day, (host, ts), 8192)")
            ch.query(i, "CREATE TABLE dns AS dns_local"
                        " ENGINE = Distributed(%s, default, dns_local, rand())" % CLUSTER)
        rows = "".join('{"day":"2026-12-04","ts":"2026-12-04 10:00:00","host":"h%d","n":%d}\n'
                       % (k % 7, k) for k in range(1000))
        # Synchronous: the rows are on their shards when the POST returns.
        ch.query(0, "INSERT INTO dns FORMAT JSONEachRow", data=rows, insert_distributed_sync=1)
        local = [ch.count(i, "dns_local") for i in range(2)]
        total = ch.count(1, "dns")
        print("1000 rows inserted through server 0: %d + %d on the shards, %d through server 1"
              % (local[0], local[1], total))
        t1 = time.monotonic()
        ch.stop(1)
        stopped = time.monotonic() - t1
        ch.start(1)
        print("server 1 stopped in %.2f s, started again in %.2f s"
              % (stopped, ch.servers[1].start_seconds))
        after = ch.count(1, "dns_local")
        ok = sum(local) == 1000 and total == 1000 and min(local) > 0 and after == local[1]
        tmp = ch.tmp
    ok = ok and not os.path.exists(tmp)
    print("self-check %s" % ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(self_check())
