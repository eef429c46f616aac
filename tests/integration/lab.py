#!/usr/bin/python3
"""A throw-away DNS network lab for the dnssnoop integration tests.

Lab() builds, on this host:

  client netns  <name>-cli   veth <v4 .1/30, ULA ::1/64>
  server netns  <name>-srv   veth <v4 .2/30, ULA ::2/64>, nsd on port 53
                             serving zones/lab.test.zone
  a blackhole address (BLACKHOLE4) routed from the client to the server,
  where it is dropped: queries to it are sent but never answered.

Names and addresses are derived from this process's PID, so parallel runs
do not collide. Everything is undone unconditionally (context manager exit,
atexit, SIGTERM/SIGHUP): the processes the lab started are killed by PID,
the namespaces, the temp dir and the /etc/netns entries are removed.

Lab(cgroup=True) also runs the lab (this test process and everything it
starts from then on: nsd, clients, tracers) in a cgroup v2 directory of its
own, lab.cgroup (the path below the cgroup2 mount, e.g.
"/dnssnoop-test-1234"), so a tracer started with --cgroup lab.cgroup sees
this lab's traffic and nothing else on the host (other test runs query the
same names). lab.sub_cgroup("x") makes a child cgroup, and popen/dig with
cgroup=that path start a program in it, so a tracer can be limited to one
side of an exchange (the clients, not nsd). Teardown moves the process back
and removes the directories.

Tracer runs build/dnssnoop in the root namespace (its cgroup_skb hook sees
every namespace), waits for "dnssnoop: attached" and stops it with SIGINT.

Run this file directly (as root) for a self-check of the lab without the
tracer: python3 tests/integration/lab.py
Standard library only.
"""

import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import runner
from runner import HERE, REPO, TRACER  # noqa: F401 (the test files use lab.REPO)

ZONES = os.path.join(HERE, "zones")
ZONE = "lab.test"
ATTACHED_LINE = "dnssnoop: attached"


class LabError(Exception):
    """The lab (not the tracer under test) could not do what was asked."""


def run(argv, check=True, timeout=30):
    """Run a short command, return its CompletedProcess (text mode)."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise LabError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                            p.stderr.strip()))
    return p


def missing_tools():
    """Programs the lab needs that are not installed."""
    return [t for t in ("ip", "nsd", "dig", "bpftool") if shutil.which(t) is None]


def children_of(pid):
    """Direct children of pid (from /proc/PID/task/*/children)."""
    kids = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def process_tree(pid):
    """pid and all its descendants that exist now."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children_of(p)
    return out


def thread_status(pid):
    """{tid: {field: value}} of /proc/pid/task/*/status (Uid, CapEff, Seccomp...)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            out[tid] = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    return out


def cgroup2_mount():
    """Where the cgroup v2 hierarchy is mounted (from /proc/self/mountinfo)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                return left.split()[4]
    raise LabError("no cgroup2 mount")


def own_cgroup():
    """This process's cgroup v2 path (below the mount)."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].rstrip("\n")
    raise LabError("no cgroup v2 entry in /proc/self/cgroup")


def rmdir_cgroups(paths, timeout=5):
    """Remove cgroup directories, children first, waiting up to timeout for the
    processes that exited to leave them (asynchronously); returns the errors."""
    errors = []
    deadline = time.monotonic() + timeout
    for path in paths:
        while True:
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    errors.append("rmdir %s: %s" % (path, e))
                    break
                time.sleep(0.05)
    return errors


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


# ---------------------------------------------------------------- dig output

_HEADER = re.compile(r"^;; ->>HEADER<<- opcode: (\w+), status: (\w+), id: (\d+)")
_FLAGS = re.compile(r"^;; flags:([^;]*); QUERY: (\d+), ANSWER: (\d+), "
                    r"AUTHORITY: (\d+), ADDITIONAL: (\d+)")
_EDNS = re.compile(r"^; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)")
_SECTION = re.compile(r"^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:")
_SIZE = re.compile(r"^;; (QUERY SIZE|MSG SIZE  rcvd): (\d+)")
_SERVER = re.compile(r"^;; SERVER: .*\((UDP|TCP)\)")


def _strip_dot(name):
    return name[:-1] if name.endswith(".") and name != "." else name


def _rr_from_dig(line):
    """One RR line of dig output as the tracer's answer object."""
    name, ttl, _cls, rtype, data = line.split(None, 4)
    data = data.strip()
    if rtype in ("MX", "NS", "CNAME", "PTR", "SOA", "SRV"):
        # Names in rdata lose their trailing dot, as the tracer prints them.
        data = " ".join(_strip_dot(w) for w in data.split())
    return {"name": _strip_dot(name), "type": rtype, "ttl": int(ttl), "data": data}


def parse_dig(text):
    """Messages dig printed (needs +qr for the queries), in order.

    Each is a dict: qr ("query"/"response"), opcode, rcode, id, flags (set),
    qdcount.., edns_udp (or None), answers/authority/additional (lists of
    {name,type,ttl,data}), size, and for responses proto ("udp"/"tcp").
    """
    msgs, cur, section, pending_qr = [], None, None, None
    for line in text.splitlines():
        if line.startswith(";; Sending:"):
            pending_qr = "query"
            continue
        if line.startswith(";; Got answer:"):
            pending_qr = "response"
            continue
        m = _HEADER.match(line)
        if m:
            cur = {"qr": pending_qr or "response", "opcode": m.group(1),
                   "rcode": m.group(2), "id": int(m.group(3)), "flags": set(),
                   "edns_udp": None, "answers": [], "authority": [],
                   "additional": [], "size": None, "proto": None}
            msgs.append(cur)
            section = None
            continue
        if cur is None:
            continue
        m = _FLAGS.match(line)
        if m:
            cur["flags"] = set(m.group(1).split())
            cur["qdcount"], cur["ancount"], cur["nscount"], cur["arcount"] = (
                int(m.group(i)) for i in range(2, 6))
            continue
        m = _EDNS.match(line)
        if m:
            cur["edns_udp"] = int(m.group(3))
            continue
        m = _SECTION.match(line)
        if m:
            section = {"ANSWER": "answers", "AUTHORITY": "authority",
                       "ADDITIONAL": "additional"}[m.group(1)]
            continue
        m = _SIZE.match(line)
        if m:
            cur["size"] = int(m.group(2))
            section = None
            continue
        m = _SERVER.match(line)
        if m:
            cur["proto"] = m.group(1).lower()
            continue
        if not line.strip() or line.startswith(";"):
            if not line.strip():
                section = None
            continue
        if section:
            cur[section].append(_rr_from_dig(line))
    return msgs


class DigResult:
    def __init__(self, argv, pid, rc, out, err):
        self.argv, self.pid, self.rc, self.out, self.err = argv, pid, rc, out, err
        self.messages = parse_dig(out)

    def queries(self):
        return [m for m in self.messages if m["qr"] == "query"]

    def responses(self):
        return [m for m in self.messages if m["qr"] == "response"]

    def __repr__(self):
        return "dig(pid %d, rc %d): %s" % (self.pid, self.rc, " ".join(self.argv))


# ---------------------------------------------------------------- the tracer

class TracerHung(Exception):
    pass


class Tracer:
    """build/dnssnoop running in the root namespace; stdout goes to a file."""

    def __init__(self, lab, args, tracer=TRACER, env=None, state=False):
        self.lab = lab
        self.args = list(args)
        # No state file unless the test names one or asks for the default:
        # history from other tests' sessions would change the findings.
        if not state and not {"--state", "--no-state"} & set(self.args):
            self.args.append("--no-state")
        self.out_path = os.path.join(lab.tmp, "tracer-%d.out" % lab.next_seq())
        self._out = open(self.out_path, "wb")
        self.stderr_lines = []
        self._attached = threading.Event()
        self.proc = subprocess.Popen([tracer] + self.args, stdout=self._out,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, **(env or {})))
        lab.register(self.proc)
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self.returncode = None

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.stderr_lines.append(line)
            if line.strip() == ATTACHED_LINE:
                self._attached.set()

    @property
    def stderr(self):
        return "\n".join(self.stderr_lines)

    def wait_attached(self, timeout=15):
        """Wait for "dnssnoop: attached"; raise AssertionError if it never comes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._attached.wait(0.05):
                return
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise AssertionError("tracer exited (rc %s) before attaching: %s"
                                     % (self.proc.returncode, self.stderr[-2000:]))
        self.kill()
        raise AssertionError("no %r on stderr within %ds: %s"
                             % (ATTACHED_LINE, timeout, self.stderr[-2000:]))

    def stop(self, sig=signal.SIGINT, timeout=10):
        """Signal the tracer and wait; SIGKILL it and raise TracerHung if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=10):
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TracerHung("tracer still running %ss after the signal/end: "
                             "killed with SIGKILL" % timeout)
        self._reader.join(2)
        self._out.close()
        return self.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.returncode = self.proc.wait()
        self._reader.join(2)
        self._out.close()

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def records(self):
        """The JSON Lines output as a list of dicts; a bad line is an AssertionError."""
        recs = []
        for n, line in enumerate(self.output().splitlines(), 1):
            if not line.strip():
                continue
            try:
                recs.append(json.loads(line))
            except ValueError as e:
                raise AssertionError("stdout line %d is not JSON (%s): %r"
                                     % (n, e, line[:300]))
        return recs


# ---------------------------------------------------------------- the lab

_live_labs = []
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _cleanup_all():
    for lab in list(_live_labs):
        lab.teardown()


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def _become_subreaper():
    """Make orphans of our processes (nsd's children once nsd's main process
    is gone) our children, so we can reap them instead of leaving zombies
    under a PID 1 that may not reap."""
    PR_SET_CHILD_SUBREAPER = 36
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reap(pids, timeout=3):
    """Wait for processes that became our children (see _become_subreaper)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break  # not ours (never reparented to us) or already reaped
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.02)


def install_cleanup_handlers():
    """atexit + SIGTERM/SIGHUP -> SystemExit, so `with Lab()` always unwinds.

    SIGINT already raises KeyboardInterrupt, which unwinds the same way.
    """
    _become_subreaper()
    atexit.register(_cleanup_all)
    # Explicitly: a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _raise_exit)


class Lab:
    def __init__(self, tag=None, cgroup=False):
        pid = os.getpid()
        self.name = "dnssnoop-test-%d%s" % (pid, "-" + tag if tag else "")
        self.cli = self.name + "-cli"
        self.srv = self.name + "-srv"
        self.veth_cli = "dsn%dc" % (pid % 10000000)
        self.veth_srv = "dsn%ds" % (pid % 10000000)
        # Private /30 in 100.64.0.0/10 (shared address space), one per PID.
        a, b, c = 64 + ((pid >> 14) & 63), (pid >> 6) & 255, (pid & 63) << 2
        self.cli4 = "100.%d.%d.%d" % (a, b, c + 1)
        self.srv4 = "100.%d.%d.%d" % (a, b, c + 2)
        # Routed to the server, dropped there (benchmark range 198.18.0.0/15).
        self.blackhole4 = "198.18.%d.%d" % ((pid >> 8) & 255, pid & 255)
        ula = "fd00:d55:%x:%x" % ((pid >> 16) & 0xFFFF, pid & 0xFFFF)
        self.cli6 = ula + "::1"
        self.srv6 = ula + "::2"
        self.tmp = None
        self.nsd = None
        self.want_cgroup = cgroup
        self.cgroup = None  # path below the cgroup2 mount, with Lab(cgroup=True)
        self._cgroup_dir = None
        self._cgroup_home = None  # where this process was before
        self._sub_cgroups = []
        self._procs = []
        self._tracers = []
        self._seq = 0
        self._created = {"cli": False, "srv": False, "netns_dir": []}
        self._torn_down = False

    # -- context manager

    def __enter__(self):
        _live_labs.append(self)
        try:
            self.start()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def next_seq(self):
        self._seq += 1
        return self._seq

    def register(self, proc):
        """Remember a process we started so teardown can kill it by PID."""
        self._procs.append(proc)
        return proc

    # -- setup

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix=self.name + ".")
        if self.want_cgroup:
            self._enter_cgroup()
        for key, ns in (("cli", self.cli), ("srv", self.srv)):
            run(["ip", "netns", "add", ns])
            self._created[key] = True
            # No duplicate address detection anywhere: addresses usable at once.
            self._sysctl(ns, "net/ipv6/conf/all/accept_dad", "0")
            self._sysctl(ns, "net/ipv6/conf/default/accept_dad", "0")
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", self.veth_cli, "netns", self.cli, "type", "veth",
             "peer", "name", self.veth_srv, "netns", self.srv])
        for ns, dev, a4, a6 in ((self.cli, self.veth_cli, self.cli4, self.cli6),
                                (self.srv, self.veth_srv, self.srv4, self.srv6)):
            run(["ip", "-n", ns, "addr", "add", a4 + "/30", "dev", dev])
            run(["ip", "-n", ns, "-6", "addr", "add", a6 + "/64", "dev", dev, "nodad"])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        run(["ip", "-n", self.cli, "route", "add", self.blackhole4 + "/32", "via", self.srv4])
        run(["ip", "-n", self.srv, "route", "add", "blackhole", self.blackhole4 + "/32"])
        self._write_resolv_conf()
        self._start_nsd()

    def _enter_cgroup(self):
        """Move this process (and so all it starts later) into a new cgroup."""
        mount = cgroup2_mount()
        home = own_cgroup()
        path = os.path.join(mount, self.name)
        os.mkdir(path)
        self._cgroup_dir = path
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write("%d\n" % os.getpid())
        self._cgroup_home = os.path.join(mount, home.lstrip("/"))
        self.cgroup = "/" + self.name

    def sub_cgroup(self, name):
        """Create the child cgroup <lab.cgroup>/name; returns its path below the
        mount (for --cgroup, and for popen/dig's cgroup=)."""
        if not self.cgroup:
            raise LabError("sub_cgroup needs Lab(cgroup=True)")
        path = os.path.join(self._cgroup_dir, name)
        os.mkdir(path)
        self._sub_cgroups.insert(0, path)
        return self.cgroup + "/" + name

    def _cgroup_argv(self, cgroup, argv):
        """argv started by a shell that first moves itself into cgroup (a path
        below the mount); the shell execs, so the PID stays the program's."""
        procs = os.path.join(cgroup2_mount(), cgroup.lstrip("/"), "cgroup.procs")
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', procs] + list(argv)

    def _leave_cgroup(self, errors):
        if not self._cgroup_dir:
            return
        try:
            if self._cgroup_home:
                with open(os.path.join(self._cgroup_home, "cgroup.procs"), "w") as f:
                    f.write("%d\n" % os.getpid())
        except OSError as e:
            errors.append("leave cgroup: %s" % e)
        errors.extend(rmdir_cgroups(self._sub_cgroups + [self._cgroup_dir]))

    def _sysctl(self, ns, key, value):
        run(["ip", "netns", "exec", ns, "sh", "-c",
             "echo %s > /proc/sys/%s" % (value, key)])

    def _write_resolv_conf(self):
        d = "/etc/netns/" + self.cli
        if not os.path.isdir("/etc/netns"):
            os.mkdir("/etc/netns")
            self._created["netns_dir"].append("/etc/netns")
        os.mkdir(d)
        self._created["netns_dir"].insert(0, d)
        with open(d + "/resolv.conf", "w") as f:
            f.write("nameserver %s\nsearch %s\noptions timeout:1 attempts:1\n"
                    % (self.srv4, ZONE))

    def _nsd_conf(self):
        t = self.tmp
        return "\n".join([
            "server:",
            "  ip-address: %s" % self.srv4,
            "  ip-address: %s" % self.srv6,
            "  port: 53",
            "  server-count: 1",
            "  username: \"\"",
            "  chroot: \"\"",
            "  zonesdir: \"%s\"" % t,
            "  pidfile: \"%s/nsd.pid\"" % t,
            "  database: \"%s/nsd.db\"" % t,
            "  xfrdfile: \"%s/xfrd.state\"" % t,
            "  xfrdir: \"%s\"" % t,
            "  zonelistfile: \"%s/zone.list\"" % t,
            "  logfile: \"%s/nsd.log\"" % t,
            "  verbosity: 0",
            "  rrl-ratelimit: 0",
            "  tcp-count: 100",
            "remote-control:",
            "  control-enable: no",
            "zone:",
            "  name: %s" % ZONE,
            "  zonefile: %s.zone" % ZONE,
            ""])

    def _start_nsd(self):
        shutil.copy(os.path.join(ZONES, ZONE + ".zone"), self.tmp)
        conf = os.path.join(self.tmp, "nsd.conf")
        with open(conf, "w") as f:
            f.write(self._nsd_conf())
        run(["nsd-checkconf", conf])
        # -d: stay in the foreground, so the Popen PID (ip netns exec execs)
        # is nsd's main process; its server children are found via /proc.
        self.nsd = self.register(subprocess.Popen(
            ["ip", "netns", "exec", self.srv, "nsd", "-d", "-c", conf],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.nsd.poll() is not None:
                raise LabError("nsd exited with %d: %s" % (self.nsd.returncode,
                                                           self.nsd_log()))
            ok4 = self.dig([ZONE, "SOA", "+short", "+tries=1", "+timeout=1"])
            ok6 = self.dig([ZONE, "SOA", "+short", "+tries=1", "+timeout=1"],
                           server=self.srv6)
            if ok4.rc == 0 and ok4.out.strip() and ok6.rc == 0 and ok6.out.strip():
                return
            time.sleep(0.2)
        raise LabError("nsd did not answer within 15 s: " + self.nsd_log())

    def nsd_log(self):
        try:
            with open(os.path.join(self.tmp, "nsd.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return "(no log)"

    def nsd_pids(self):
        """nsd's main process and its children (server, xfrd)."""
        return process_tree(self.nsd.pid) if self.nsd else []

    # -- running things

    def ns_argv(self, ns, argv):
        return ["ip", "netns", "exec", ns] + list(argv)

    def popen(self, ns, argv, cgroup=None, **kw):
        """Start argv in namespace ns (and in cgroup, a path below the cgroup2
        mount, when given); the Popen PID is the program's PID."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        argv = self.ns_argv(ns, argv)
        if cgroup:
            argv = self._cgroup_argv(cgroup, argv)
        return self.register(subprocess.Popen(argv, **kw))

    def dig_argv(self, args, server=None):
        return ["dig", "@" + (server or self.srv4)] + list(args)

    def dig_start(self, args, server=None, ns=None, cgroup=None):
        """Start dig in the client namespace; returns the Popen (pid = dig's)."""
        return self.popen(ns or self.cli, self.dig_argv(args, server), cgroup=cgroup,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def dig_finish(self, proc, timeout=20):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise LabError("dig did not finish within %ds: %s" % (timeout, proc.args))
        return DigResult(proc.args, proc.pid, proc.returncode, out, err)

    def dig(self, args, server=None, ns=None, timeout=20, cgroup=None):
        return self.dig_finish(self.dig_start(args, server, ns, cgroup), timeout)

    def tracer(self, args, wait=True, tracer=TRACER, env=None, state=False):
        """Start the tracer; env: variables to add to its environment;
        state: without --state, use the default state file (docs/state.md)
        instead of passing --no-state."""
        t = Tracer(self, args, tracer, env, state)
        self._tracers.append(t)
        if wait:
            t.wait_attached()
        return t

    def end_case(self):
        """Kill what a test case left running (tracers, clients); keep nsd.

        Returns how many processes had to be killed."""
        killed = 0
        for t in self._tracers:
            if t.proc.poll() is None:
                t.kill()
                killed += 1
        self._tracers = []
        for proc in self._procs:
            if proc is not self.nsd and proc.poll() is None:
                proc.kill()
                proc.wait()
                killed += 1
        self._procs = [p for p in self._procs if p is self.nsd]
        return killed

    def ifindex(self, ns, dev):
        out = run(["ip", "-n", ns, "-o", "link", "show", "dev", dev]).stdout
        return int(out.split(":", 1)[0])

    # -- teardown

    def _kill(self, proc):
        if proc.poll() is not None:
            return
        # nsd: TERM the main process, which stops its children; then make sure.
        tree = process_tree(proc.pid)
        try:
            proc.terminate()
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        for pid in tree[1:]:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        _reap(tree[1:])

    def teardown(self):
        """Undo everything; safe to call more than once and after partial setup."""
        if self._torn_down:
            return
        self._torn_down = True
        # A second signal must not cut the cleanup short: hold them until done.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            self._teardown()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _teardown(self):
        errors = []
        for proc in reversed(self._procs):
            try:
                self._kill(proc)
            except Exception as e:  # keep going: the rest must be removed too
                errors.append("kill %d: %s" % (proc.pid, e))
        for d in self._created["netns_dir"]:
            try:
                if d == "/etc/netns":
                    os.rmdir(d)  # only if empty: others may use it
                else:
                    shutil.rmtree(d)
            except OSError:
                pass
        for key, ns in (("cli", self.cli), ("srv", self.srv)):
            if self._created[key]:
                p = run(["ip", "netns", "del", ns], check=False)
                if p.returncode != 0:
                    errors.append("ip netns del %s: %s" % (ns, p.stderr.strip()))
        self._leave_cgroup(errors)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self in _live_labs:
            _live_labs.remove(self)
        if errors:
            print("lab teardown: " + "; ".join(errors), file=sys.stderr)


# ---------------------------------------------------------------- test runner

def run_lab_tests(argv, cases, root_for, lab_args=None, tools=()):
    """main() of a test file whose cases run in one lab: each case gets the
    lab, which is set up once; a case that left processes behind fails.
    Exits 77 (skip) when not root (root_for says why root is needed), a
    tool (the lab's or tools) is missing or the tracer is not built."""
    script = os.path.basename(argv[0])
    if os.geteuid() != 0:
        print("%s: SKIP: needs root (%s)" % (script, root_for))
        return 77
    missing = missing_tools() + [t for t in tools if shutil.which(t) is None]
    if missing:
        print("%s: SKIP: missing %s (run make deps)" % (script, " ".join(missing)))
        return 77
    if not os.access(TRACER, os.X_OK):
        print("%s: SKIP: %s not built (run make)" % (script, TRACER))
        return 77
    cases = runner.selected(cases, argv)
    install_cleanup_handlers()
    start = time.monotonic()
    try:
        lab_cm = Lab(**(lab_args or {}))
        lab = lab_cm.__enter__()
    except (LabError, OSError, subprocess.SubprocessError) as e:
        return runner.fail_every(cases, "lab setup: %s" % e)

    def processes_left():
        left = lab.end_case()
        return "%d process(es) left running and killed" % left if left else None

    try:
        counts = runner.run_cases(cases, lab, failures=(AssertionError, TracerHung),
                                  allow_skip=True, after_case=processes_left)
    finally:
        lab_cm.__exit__(None, None, None)
    return runner.finish(start, *counts)


# ---------------------------------------------------------------- self-check

def _self_check():
    if os.geteuid() != 0:
        print("lab.py: needs root (network namespaces)", file=sys.stderr)
        return 77
    if missing_tools():
        print("lab.py: missing %s (make deps)" % " ".join(missing_tools()), file=sys.stderr)
        return 77
    install_cleanup_handlers()
    ok = True
    with Lab() as lab:
        print("lab %s: client %s %s, server %s %s, blackhole %s" % (
            lab.name, lab.cli4, lab.cli6, lab.srv4, lab.srv6, lab.blackhole4))
        checks = [
            ("A over UDP", lab.dig(["+qr", "www.lab.test", "A"]),
             lambda d: {r["data"] for r in d.responses()[-1]["answers"]}
             == {"192.0.2.1", "192.0.2.2"}),
            ("AAAA over IPv6", lab.dig(["+qr", "www.lab.test", "AAAA"], server=lab.srv6),
             lambda d: d.responses()[-1]["answers"][0]["data"] == "2001:db8::1"),
            ("A over TCP", lab.dig(["+qr", "+tcp", "www.lab.test", "A"]),
             lambda d: d.responses()[-1]["proto"] == "tcp"),
            ("big TXT: TC then TCP", lab.dig(["+qr", "+bufsize=1232", "big.lab.test", "TXT"]),
             lambda d: "Truncated, retrying in TCP mode" in d.out
             and d.responses()[-1]["proto"] == "tcp" and d.responses()[-1]["size"] > 3000),
            ("NXDOMAIN", lab.dig(["+qr", "nope.lab.test", "A"]),
             lambda d: d.responses()[-1]["rcode"] == "NXDOMAIN"),
            ("blackhole times out", lab.dig(["+tries=1", "+timeout=1", "www.lab.test"],
                                            server=lab.blackhole4),
             lambda d: d.rc == 9),
            ("resolv.conf in the client netns",
             lab.dig_finish(lab.popen(lab.cli, ["dig", "+short", "www.lab.test"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)),
             lambda d: set(d.out.split()) == {"192.0.2.1", "192.0.2.2"}),
        ]
        for name, d, pred in checks:
            try:
                good = pred(d)
            except Exception as e:  # a parse problem is a failed check
                good = False
                name += " (%r)" % e
            ok &= bool(good)
            print("%s %s" % ("ok  " if good else "FAIL", name))
            if not good:
                print(d.out + d.err)
        print("nsd pids: %s" % lab.nsd_pids())
    left = run(["ip", "netns", "list"]).stdout
    if lab.name in left or os.path.exists("/etc/netns/" + lab.cli) or os.path.exists(lab.tmp):
        print("FAIL teardown left something behind")
        ok = False
    else:
        print("ok   teardown")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_self_check())
