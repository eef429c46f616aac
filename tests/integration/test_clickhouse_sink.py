#!/usr/bin/python3
"""--clickhouse URL against real ClickHouse servers (tests/integration/clickhouse.py).

Every case compares what reached the server with the JSON output of the
same run: the rows of the messages table as a multiset of (type, ts, id,
qname, qtype) must be exactly the run's dns and unanswered records.

  one_server        -r of a generated pcap into one server; the stats table
                    holds the session's capture_stats with the sink's counts
  two_shards        a Distributed table over two servers (gzip=1): rows on both
  server_restart    the server stopped during a paced replay and started
                    again: every record once, spilled and replayed > 0
  dnstap_socket     a dnstap collector (--dnstap-socket) fed by another
                    dnssnoop: its records are the table's rows
  ambiguous_insert  a proxy passes an INSERT to the server and drops the
                    connection before the answer: the sink asks the server
                    (count of the batch) and does not insert it again
  server_killed     the server SIGKILLed during a paced replay (an insert
                    may be cut anywhere) and started again: no row twice
  config_errors     a wrong URL (exit 2), no server, a wrong password, a
                    missing table, a raw TCP server answering junk, a plain
                    HTTP server: one line naming each, exit 0, the records
                    complete; the next session with the spool sends them all
  live_seccomp      a live lab session (root): the sink runs after the
                    privilege drop with seccomp on, and rows arrive

Needs clickhouse-server (make deps). Standard library only.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import runner
from runner import check, REPO, TRACER
import clickhouse

GEN_PCAP = os.path.join(REPO, "tools", "gen-pcap")
# The messages table: the columns of sql/clickhouse/schema.sql's, which a
# RowBinary row fills in their order.
MESSAGES = clickhouse.schema_columns("dns.messages_local")
STATS = "(batch UInt64, host String, ts String, type String, json String)"


def create_tables(ch, i, messages="messages", stats="stats"):
    ch.query(i, "CREATE TABLE %s %s ENGINE = MergeTree ORDER BY (batch, ts_ns)"
             % (messages, MESSAGES))
    ch.query(i, "CREATE TABLE %s %s ENGINE = MergeTree ORDER BY (batch, ts)" % (stats, STATS))


def table_rows(ch, i, table="messages"):
    """The messages table's rows as sorted (unanswered, qr, time in µs,
    id, qname, qtype) tuples."""
    text = ch.query(i, "SELECT unanswered, qr, intDiv(ts_ns, 1000), id, qname, qtype FROM %s"
                       " FORMAT TabSeparated" % table)
    rows = []
    for line in text.splitlines():
        f = line.split("\t")
        rows.append((int(f[0]), int(f[1]), int(f[2]), int(f[3]), f[4], f[5]))
    return sorted(rows)


def record_rows(recs):
    """The same tuples of the dns and unanswered records."""
    return sorted((int(r["type"] == "unanswered"), int(r["qr"] == "response"),
                   runner.rfc3339_to_us(r["ts"]), r["id"], r["qname"], r["qtype"])
                  for r in recs if r["type"] in ("dns", "unanswered"))


def parse(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def last_stats(recs):
    stats = [r for r in recs if r["type"] == "capture_stats" and r.get("scope") == "total"]
    check(stats, "no capture_stats record")
    return stats[-1]


def same_rows(have, want, what):
    check(len(have) == len(want), "%s: %d rows in the table, %d records", what, len(have),
          len(want))
    if have != want:
        missing = sorted(set(want) - set(have))[:3]
        extra = sorted(set(have) - set(want))[:3]
        raise AssertionError("%s: rows differ from the records (missing %s, extra %s)"
                             % (what, missing, extra))
    dup = len(have) - len(set(have))
    check(dup == len(want) - len(set(want)), "%s: %d rows twice", what, dup)


class Fixture:
    def __init__(self, tmp):
        self.tmp = tmp
        self.pcap = os.path.join(tmp, "small.pcap")
        self.paced = os.path.join(tmp, "paced.pcap")
        self.seq = 0
        # 3000 messages, 3 % unanswered; the paced one spans about 7 s.
        self._gen(self.pcap, "-n", "3000", "--unanswered", "0.03")
        self._gen(self.paced, "-n", "4000", "--gap-us", "3500", "--unanswered", "0.03")

    @staticmethod
    def _gen(path, *args):
        subprocess.run([GEN_PCAP, "-o", path] + list(args), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def spool(self):
        self.seq += 1
        return os.path.join(self.tmp, "spool-%d" % self.seq)

    def run(self, args, timeout=60):
        p = subprocess.run([TRACER] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def start(self, args):
        """A tracer in the background; its records go to a file (a pipe
        nobody reads while the test works on the server would stop it)."""
        self.seq += 1
        out = open(os.path.join(self.tmp, "out-%d.json" % self.seq), "w+b")
        p = subprocess.Popen([TRACER] + args, stdout=out, stderr=subprocess.PIPE)
        p.out_file = out
        return p


def finish(p, timeout=60):
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        raise AssertionError("dnssnoop did not end within %d s: %s" % (timeout, err[-1500:]))
    p.out_file.seek(0)
    out = p.out_file.read()
    p.out_file.close()
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


# ---------------------------------------------------------------- cases

def test_one_server(fx):
    with clickhouse.ClickHouseServers(1) as ch:
        create_tables(ch, 0)
        url = ch.http_url(0) + "?database=default"
        rc, out, err = fx.run(["-r", fx.pcap, "--clickhouse", url,
                               "--clickhouse-spool", fx.spool()])
        check(rc == 0, "exit %d: %s", rc, err)
        check(not err.strip(), "stderr: %s", err)
        recs = parse(out)
        same_rows(table_rows(ch, 0), record_rows(recs), "one server")
        counts = last_stats(recs)["clickhouse"]
        want = len(record_rows(recs))
        check(counts["rows_sent"] == want, "rows_sent %d, %d records", counts["rows_sent"], want)
        check(counts["spilled"] == counts["dropped"] == counts["retried"] == 0, "counts %s",
              counts)
        batches = int(ch.query(0, "SELECT uniq(batch) FROM messages").strip())
        check(batches == counts["batches_sent"] and batches >= 1,
              "%d batch ids in the table, %d batches sent", batches, counts["batches_sent"])
        stats = ch.query(0, "SELECT type, json FROM stats FORMAT JSONEachRow").splitlines()
        check(len(stats) == 1, "stats table: %d rows, want the session's capture_stats", len(stats))
        row = json.loads(stats[0])
        check(row["type"] == "capture_stats" and json.loads(row["json"])["messages"] ==
              last_stats(recs)["messages"], "stats row %s", stats[0][:300])


def test_two_shards(fx):
    with clickhouse.ClickHouseServers(2) as ch:
        for i in range(2):
            create_tables(ch, i, "messages_local", "stats_local")
            for t in ("messages", "stats"):
                ch.query(i, "CREATE TABLE %s AS %s_local ENGINE = Distributed(%s, default,"
                            " %s_local, rand())" % (t, t, clickhouse.CLUSTER, t))
        # Compressed bodies too (gzip=1, the sink's parameter).
        rc, out, err = fx.run(["-r", fx.pcap, "--clickhouse", ch.http_url(0) + "?gzip=1",
                               "--clickhouse-spool", fx.spool()])
        check(rc == 0 and not err.strip(), "exit %d: %s", rc, err)
        recs = parse(out)
        want = record_rows(recs)
        # Synchronous distributed inserts: every row is on its shard now.
        local = [ch.count(i, "messages_local") for i in range(2)]
        check(min(local) > 0 and sum(local) == len(want),
              "rows per shard %s, %d records", local, len(want))
        same_rows(table_rows(ch, 1), want, "through the other server")


def paced_session(fx, ch, disturb, url=None):
    """A paced replay into server 0 while disturb(ch) runs; the records,
    the sink's last counts and stderr."""
    create_tables(ch, 0)
    p = fx.start(["-r", fx.paced, "--pace", "--clickhouse", url or ch.http_url(0),
                  "--clickhouse-spool", fx.spool()])
    disturb(ch)
    rc, out, err = finish(p)
    check(rc == 0, "exit %d: %s", rc, err)
    recs = parse(out)
    return recs, last_stats(recs)["clickhouse"], err


def test_server_restart(fx):
    def stop_and_start(ch):
        time.sleep(1.5)
        ch.stop(0)
        time.sleep(2)
        ch.start(0)

    with clickhouse.ClickHouseServers(1) as ch:
        recs, counts, err = paced_session(fx, ch, stop_and_start)
        check(counts["spilled"] > 0 and counts["replayed"] > 0 and counts["dropped"] == 0,
              "counts %s", counts)
        check("cannot connect" in err and "inserting again" in err, "stderr: %s", err)
        check("the next session" not in err, "batches left behind: %s", err)
        same_rows(table_rows(ch, 0), record_rows(recs), "after the restart")


class SwallowProxy:
    """TCP proxy to a server; with swallow > 0, the next that many answers
    to requests whose first line says INSERT are dropped with the
    connection (the server did the insert; the client never hears)."""

    def __init__(self, port):
        self.port = port
        self.swallow = 0
        self.swallowed = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d/" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        up = socket.create_connection(("127.0.0.1", self.port))
        state = {"insert": False}
        threading.Thread(target=self._upward, args=(c, up, state), daemon=True).start()
        try:
            while True:
                data = up.recv(65536)
                if not data:
                    break
                if state["insert"] and self.swallow > 0:
                    self.swallow -= 1
                    self.swallowed += 1
                    break
                c.sendall(data)
        except OSError:
            pass
        for s in (c, up):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    @staticmethod
    def _upward(c, up, state):
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                if data.startswith(b"POST ") or data.startswith(b"GET "):
                    state["insert"] = b"INSERT" in data.split(b"\r\n", 1)[0]
                up.sendall(data)
        except OSError:
            pass

    def close(self):
        self.sock.close()


def test_ambiguous_insert(fx):
    with clickhouse.ClickHouseServers(1) as ch:
        proxy = SwallowProxy(ch.servers[0].http_port)

        def swallow_two(_):
            time.sleep(1.2)
            proxy.swallow = 2
        try:
            recs, counts, err = paced_session(fx, ch, swallow_two, proxy.url)
        finally:
            proxy.close()
        check(proxy.swallowed == 2, "the proxy dropped %d answers, want 2", proxy.swallowed)
        check(counts["retried"] >= 2 and counts["replayed"] >= 2, "counts %s", counts)
        check("no answer" in err, "stderr does not say the answer was missing: %s", err)
        same_rows(table_rows(ch, 0), record_rows(recs), "answers lost")


def test_server_killed(fx):
    def kill_twice(ch):
        for _ in range(2):
            time.sleep(1.5)
            ch.kill(0)
            time.sleep(0.5)
            ch.start(0)

    with clickhouse.ClickHouseServers(1) as ch:
        recs, counts, err = paced_session(fx, ch, kill_twice)
        check(counts["spilled"] > 0 and counts["replayed"] > 0, "counts %s", counts)
        same_rows(table_rows(ch, 0), record_rows(recs), "server killed")


def test_dnstap_socket(fx):
    """A dnstap collector (--dnstap-socket) with the sink: another dnssnoop
    feeds it the pcap's messages as dnstap (--dnstap-out unix:)."""
    sock = os.path.join(fx.tmp, "collector.sock")
    with clickhouse.ClickHouseServers(1) as ch:
        create_tables(ch, 0)
        p = fx.start(["--dnstap-socket", sock, "-d", "5", "--clickhouse", ch.http_url(0),
                      "--clickhouse-spool", fx.spool()])
        deadline = time.monotonic() + 5
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        rc, _, err = fx.run(["-r", fx.pcap, "-o", "/dev/null", "--dnstap-out", "unix:" + sock])
        check(rc == 0, "the feeding dnssnoop: exit %d: %s", rc, err)
        rc, out, err = finish(p)
        check(rc == 0 and not err.strip(), "collector: exit %d: %s", rc, err)
        recs = parse(out)
        check(len(record_rows(recs)) >= 3000, "%d records collected", len(record_rows(recs)))
        same_rows(table_rows(ch, 0), record_rows(recs), "dnstap collector")


def junk_server():
    """A TCP server on loopback answering every connection with junk."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)

    def serve():
        while True:
            try:
                c, _ = s.accept()
                c.recv(65536)
                c.sendall(b"SSH-2.0-not-http\r\n\r\n")
                c.close()
            except OSError:
                return
    threading.Thread(target=serve, daemon=True).start()
    return s, "http://127.0.0.1:%d/" % s.getsockname()[1]


def plain_http_server():
    p = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         cwd="/")
    line = p.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
    return p, "http://127.0.0.1:%d/" % int(line.split(" port ")[1].split()[0])


def test_config_errors(fx):
    plain = fx.run(["-r", fx.pcap])
    want = record_rows(parse(plain[1]))
    spool = fx.spool()
    junk, junk_url = junk_server()
    web, web_url = plain_http_server()
    try:
        with clickhouse.ClickHouseServers(1) as ch:
            create_tables(ch, 0, stats="stats_elsewhere")
            ch.query(0, "CREATE TABLE stats %s ENGINE = MergeTree ORDER BY batch" % STATS)
            base = ch.http_url(0)
            bad = [
                ("ftp://127.0.0.1/", 2, "not an http://"),
                ("http://127.0.0.1:1/", 0, "cannot connect"),
                (base.replace("http://", "http://%s:wrong@" % clickhouse.WRITER_USER), 0,
                 "authentication failed"),
                (base + "?table=nosuch", 0, "table nosuch does not exist"),
                (junk_url, 0, "not a ClickHouse server"),
                (web_url, 0, "not a ClickHouse server"),
            ]
            sessions = 0
            for url, status, said in bad:
                rc, out, err = fx.run(["-r", fx.pcap, "--clickhouse", url,
                                       "--clickhouse-spool", spool])
                check(rc == status, "%s: exit %d, want %d: %s", url, rc, status, err)
                check(err.count(said) == 1, "%s: %r not said once: %s", url, said, err)
                check("wrong" not in err, "%s: the password is shown: %s", url, err)
                if status:
                    check(not out, "%s: records written after a usage error", url)
                    continue
                sessions += 1
                check(record_rows(parse(out)) == want, "%s: the records differ", url)
                check("wait in the spool %s" % spool in err, "%s: the spool not named: %s",
                      url, err)
            check(ch.count(0, "messages") == 0, "rows arrived through a wrong configuration")
            # The next session with that spool sends everything (the password
            # from the environment this time).
            env = dict(os.environ, DNSSNOOP_CLICKHOUSE_USER=clickhouse.WRITER_USER,
                       DNSSNOOP_CLICKHOUSE_PASSWORD=clickhouse.WRITER_PASSWORD)
            p = subprocess.run([TRACER, "-r", fx.pcap, "--clickhouse", base,
                                "--clickhouse-spool", spool], capture_output=True, env=env,
                               timeout=60)
            check(p.returncode == 0 and not p.stderr.strip(), "replay: exit %d: %s",
                  p.returncode, p.stderr)
            counts = last_stats(parse(p.stdout.decode()))["clickhouse"]
            check(counts["replayed"] > 0, "nothing replayed: %s", counts)
            # The nosuch session's rows went to table nosuch's batches: they
            # are sent to the table of the URL now (the spool keeps rows, not names).
            got = table_rows(ch, 0)
            check(got == sorted(want * (sessions + 1)),
                  "%d rows after the replay, want %d (%d sessions)", len(got),
                  len(want) * (sessions + 1), sessions + 1)
            check(not [n for n in os.listdir(spool) if os.path.getsize(os.path.join(spool, n))],
                  "the spool still holds batches: %s", os.listdir(spool))
    finally:
        junk.close()
        web.kill()
        web.wait()


def test_live_seccomp(fx):
    if os.geteuid() != 0:
        raise AssertionError("needs root (a live session in the lab)")
    import lab
    with clickhouse.ClickHouseServers(1) as ch, lab.Lab("ch") as L:
        create_tables(ch, 0)
        t = L.tracer(["-v", "--seccomp", "on", "--clickhouse", ch.http_url(0),
                      "--clickhouse-spool", fx.spool()])
        for name in ("www", "mail", "nonexistent"):
            L.dig([name + "." + lab.ZONE, "A"])
        time.sleep(0.3)
        check(t.stop() == 0, "tracer exit %s: %s", t.returncode, t.stderr)
        check("seccomp: on" in t.stderr and "running as uid 0 " not in t.stderr,
              "the tracer did not drop with seccomp on: %s", t.stderr)
        recs = t.records()
        mine = [r for r in recs if r["type"] in ("dns", "unanswered")]
        check(len(mine) >= 12, "%d dns records for 3 digs", len(mine))
        same_rows(table_rows(ch, 0), record_rows(recs), "live")
        check(ch.count(0, "stats") == 1, "no capture_stats row")


CASES = [test_one_server, test_two_shards, test_dnstap_socket, test_server_restart, test_ambiguous_insert,
         test_server_killed, test_config_errors, test_live_seccomp]


def main(argv):
    why = clickhouse.available()
    if why:
        return runner.fail_every(runner.selected(CASES, argv), why)
    if os.geteuid() == 0:
        import lab
        lab.install_cleanup_handlers()
    return runner.run_offline_tests(argv, CASES, "dnssnoop-chsink-", make_arg=Fixture)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
