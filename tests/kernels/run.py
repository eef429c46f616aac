#!/usr/bin/python3
"""The kernel matrix: boot Debian's kernels in qemu and run dnssnoop's live
smoke suite inside each.

    sudo make test-kernels                       # 5.10, 6.1 and 6.12
    sudo python3 tests/kernels/run.py 6.1        # one line
    python3 tests/kernels/run.py --exec 'dnssnoop -v -d 1' 5.10
                                                 # a command instead of the suite
                                                 # (after nsd starts), its output shown

For each kernel line, fetch-kernel downloads Debian's newest cloud kernel of
that line into build/kernels/LINE (a cache). One initramfs holds busybox,
the tracer, nsd, dig and bpftool with their shared libraries (copied as ldd
lists them), the lab zone and guest-init as /init; a second, per kernel,
the modules the kernel has as modules (clsact, cls_bpf, the diag family).
qemu boots it under TCG (there is no KVM here) with two serial ports: the
console (kept to tell a guest kernel crash from a failed test) and the
results channel that guest-init writes. The guest asserts nothing; the
cases below judge what it reported, the same cases for every kernel.

A boot that ends without the suite's last line and with a kernel crash on
the console (TCG guests sometimes die with a double fault; they get no
cmpxchg16b, which made the 6.12 guest's crashes frequent), or in which a
client (dig, nc) died of a signal, is retried, up to BOOTS times; a boot
that simply hangs is retried once. Anything else is a result.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import runner  # noqa: E402
from runner import REPO, TRACER, check  # noqa: E402
import zonedata  # noqa: E402

LINES = ["5.10", "6.1", "6.12"]
CACHE = os.path.join(REPO, "build", "kernels")
BOOTS = 5
# qemu's CPU model for the guests (override: DNSSNOOP_QEMU_CPU). Without
# cmpxchg16b: the 6.12 guest's SLUB fast path (this_cpu cmpxchg16b) died
# under TCG with a double fault in kmem_cache_alloc on 10 boots of 10 on
# one lab VM; without the instruction SLUB takes its other path and the
# same boots ran the suite.
QEMU_CPU = os.environ.get("DNSSNOOP_QEMU_CPU", "qemu64,-cx16")
BOOT_TIMEOUT = 240  # the suite takes 20-30 s on a quiet 2-core host
# Modules loaded in this order when the kernel has them as modules.
MODULES = ["sch_ingress", "cls_bpf", "inet_diag", "tcp_diag", "udp_diag"]
# What the guest copies from the host (with the libraries ldd lists).
PROGRAMS = ["busybox", "nsd", "dig", "bpftool"]
# What a TCG guest kernel dies of now and then (retried); a panic of its own
# (no init, init exited) is a result, not a flake.
CRASH = re.compile(r"Oops|double fault|invalid opcode|general protection fault|BUG: ")
TRACER_PROGRAMS = re.compile(r"name (dns_|sock_)")


# ---------------------------------------------------------------- the guest

def ldd_libs(path):
    """The shared libraries path needs, and its loader."""
    out = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def put(root, src, dst=None):
    """Copy src into root at dst (default: the same path), following links."""
    dst = root + (dst or src)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy(src, dst)


def nsd_conf():
    return "\n".join([
        "server:", "  ip-address: 127.0.0.1", "  ip-address: ::1", "  port: 53",
        "  server-count: 1", '  username: ""', '  chroot: ""', '  zonesdir: "/etc/nsd"',
        '  pidfile: "/tmp/nsd.pid"', '  database: ""', '  xfrdfile: "/tmp/xfrd.state"',
        '  xfrdir: "/tmp"', '  zonelistfile: "/tmp/zone.list"', '  logfile: "/tmp/nsd.log"',
        "  verbosity: 0", "  rrl-ratelimit: 0", "  tcp-count: 100",
        "remote-control:", "  control-enable: no",
        "zone:", "  name: lab.test", "  zonefile: lab.test.zone", ""])


def cpio(root, out):
    """An uncompressed newc archive of root (TCG decompresses slowly)."""
    files = subprocess.run(["find", "."], cwd=root, stdout=subprocess.PIPE, check=True).stdout
    with open(out, "wb") as f:
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], cwd=root, input=files,
                       stdout=f, check=True)


def build_common(work, exec_cmd=None):
    """The initramfs part every kernel shares."""
    root = os.path.join(work, "root")
    binaries = [(shutil.which(p), None) for p in PROGRAMS] + [(TRACER, "/usr/bin/dnssnoop")]
    binaries[0] = (shutil.which("busybox"), "/bin/busybox")  # guest-init's interpreter
    for path, dst in binaries:
        if not path:
            raise RuntimeError("a guest program is missing (run make deps)")
        put(root, path, dst)
        for lib in ldd_libs(path):
            put(root, lib)
    put(root, os.path.join(HERE, "guest-init"), "/init")
    os.chmod(root + "/init", 0o755)
    put(root, os.path.join(REPO, "tests", "integration", "zones", "lab.test.zone"),
        "/etc/nsd/lab.test.zone")
    etc = {"nsd/nsd.conf": nsd_conf(), "passwd": "root:x:0:0:root:/:/bin/sh\n",
           "group": "root:x:0:\n", "resolv.conf": "nameserver 127.0.0.1\n",
           "degradable": " ".join(DEGRADABLE) + "\n", "exec": exec_cmd or ""}
    for name, text in etc.items():
        with open(os.path.join(root, "etc", name), "w") as f:
            f.write(text)
    for d in ("bin", "sbin", "usr/sbin", "proc", "sys", "dev", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    out = os.path.join(work, "common.cpio")
    cpio(root, out)
    return out


def build_initrd(work, common, kdir):
    """common + this kernel's modules, as one file (concatenated archives)."""
    root = os.path.join(work, "mod-" + os.path.basename(kdir))
    os.makedirs(os.path.join(root, "modules"))
    have = []
    for m in MODULES:
        src = os.path.join(kdir, "modules", m + ".ko")
        if os.path.exists(src):
            shutil.copy(src, os.path.join(root, "modules"))
            have.append(m)
    with open(os.path.join(root, "modules", "order"), "w") as f:
        f.write("\n".join(have) + "\n")
    mods = root + ".cpio"
    cpio(root, mods)
    initrd = root + ".initrd"
    with open(initrd, "wb") as out:
        for part in (common, mods):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    return initrd


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def boot_once(kdir, initrd, work):
    """(results, console, seconds) of one boot. A guest whose console shows
    a kernel crash is stopped a few seconds later instead of at the timeout
    (a crashed TCG guest often hangs rather than reboots)."""
    console = os.path.join(work, "console.log")
    results = os.path.join(work, "results.txt")
    for f in (console, results):
        if os.path.exists(f):
            os.unlink(f)
    argv = ["qemu-system-x86_64", "-m", "1024", "-smp", "1", "-cpu", QEMU_CPU, "-no-reboot",
            "-display", "none", "-vga", "none", "-monitor", "none", "-nic", "none",
            "-serial", "file:" + console, "-serial", "file:" + results,
            "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet"]
    t0 = time.monotonic()
    crashed_at = None
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL) as qemu:
        while qemu.poll() is None:
            now = time.monotonic()
            if crashed_at is None and CRASH.search(read_text(console)):
                crashed_at = now
            if now - t0 > BOOT_TIMEOUT or (crashed_at and now - crashed_at > 3):
                qemu.kill()
                qemu.wait()
                break
            time.sleep(0.5)
    return read_text(results), read_text(console), time.monotonic() - t0


def clients_killed(results):
    """Clients (dig, nc) that died of a signal: on these TCG guests that is
    the guest kernel failing (a 6.12 guest once corrupted dig's memory map),
    not the tracer, which cannot touch another process's memory."""
    return re.findall(r"^@@rc (\S+) (129|1[3-5][0-9])$", results, re.M)  # 128 + signal


def boot(kdir, initrd, work, log):
    """Boot until the suite completes or retries run out; (results, console).
    Each boot's console is kept as KDIR/console-N.log."""
    hangs = 0
    for attempt in range(1, BOOTS + 1):
        results, console, dt = boot_once(kdir, initrd, work)
        with open(os.path.join(kdir, "console-%d.log" % attempt), "w") as f:
            f.write(console)
        killed = clients_killed(results)
        if "@@done" in results and killed and attempt < BOOTS:
            log("boot %d: clients killed by a signal %s: the guest is unreliable, retrying"
                % (attempt, killed))
            continue
        if "@@done" in results:
            log("boot %d: suite ran in %.0f s" % (attempt, dt))
            return results, console
        crash = CRASH.search(console)
        if crash:
            log("boot %d: guest kernel crashed after %.0f s (%s): retrying"
                % (attempt, dt, crash.group(0)))
            continue
        hangs += 1
        log("boot %d: no end of suite after %.0f s and no crash on the console" % (attempt, dt))
        if hangs > 1:
            break
    return results, console


# ---------------------------------------------------------------- what it said

class Case:
    """One tracer run in the guest, as reported."""

    def __init__(self, name):
        self.name = name
        self.pids, self.rcs, self.sections = {}, {}, {}
        self.exit = None

    @property
    def records(self):
        out = []
        for n, line in enumerate(self.sections.get("out", "").splitlines(), 1):
            try:
                out.append(json.loads(line))
            except ValueError as e:
                raise AssertionError("%s: stdout line %d is not JSON (%s): %r"
                                     % (self.name, n, e, line[:200]))
        return out

    @property
    def stderr(self):
        return self.sections.get("err", "")


class Guest:
    def __init__(self, results, console):
        self.kernel, self.done, self.cases, self.pids = None, False, {}, {}
        self.console = console
        case, section, buf = None, None, []
        for line in results.splitlines():
            if section:
                if line == "@@endsec":
                    case.sections[section] = "\n".join(buf)
                    section, buf = None, []
                else:
                    buf.append(line)
                continue
            word, _, rest = line.partition(" ")
            if word == "@@kernel":
                self.kernel = rest
            elif word == "@@case":
                case = self.cases[rest] = Case(rest)
            elif word == "@@pid":
                label, _, pid = rest.partition(" ")
                (case.pids if case else self.pids)[label] = int(pid) if pid.isdigit() else None
            elif word == "@@rc" and case:
                label, _, rc = rest.partition(" ")
                case.rcs[label] = int(rc)
            elif word in ("@@out", "@@err", "@@progs", "@@status") and case:
                section = word[2:]
            elif word == "@@exit" and case:
                case.exit = int(rest) if rest.isdigit() else rest
            elif word == "@@done":
                self.done = True

    def case(self, name):
        check(name in self.cases, "the guest never ran case %s (kernel %s%s)", name,
              self.kernel, "" if self.done else ", the suite did not finish: see the console")
        return self.cases[name]


# ---------------------------------------------------------------- judging

def dns(records, **want):
    """dns records whose fields equal want (qr, dir, qname, qtype, proto ...)."""
    return [r for r in records if r.get("type") == "dns"
            and all(r.get(k) == v for k, v in want.items())]


def one(records, what, **want):
    found = dns(records, **want)
    check(found, "no %s record %s", what, json.dumps(want))
    return found[0]


def stats(c):
    s = [r for r in c.records if r.get("type") == "capture_stats"]
    check(s, "%s: no capture_stats record", c.name)
    return s[-1]


def ran_cleanly(c):
    """Exited 0 after SIGINT, and nothing of ours is left loaded."""
    check(c.exit == 0, "%s: the tracer exited %s: %s", c.name, c.exit, c.stderr[-1500:])
    check("dnssnoop: attached" in c.stderr, "%s: never attached: %s", c.name, c.stderr[-1500:])
    left = [l for l in c.sections.get("progs", "").splitlines() if TRACER_PROGRAMS.search(l)]
    check(not left, "%s: programs still loaded after exit: %s", c.name, left)
    s = stats(c)
    check(s.get("events_lost") == 0, "%s: events lost: %s", c.name, s)
    dropped_privileges(c, s.get("degraded") or [])


# The guest has no nobody user: the tracer drops to uid 65534 (docs/security.md).
DROPPED = {"Uid": "65534 65534 65534 65534", "CapEff": "0000000000000000",
           "NoNewPrivs": "1", "Seccomp": "2"}


def dropped_privileges(c, degraded):
    """/proc/PID/status once attached: unprivileged and confined, or the
    protection this kernel lacks named in capture_stats.degraded."""
    got = {}
    for line in c.sections.get("status", "").splitlines():
        field, _, value = line.partition(":")
        got[field] = " ".join(value.split())
    for field, want in DROPPED.items():
        lacks = {"NoNewPrivs": "no_new_privs", "Seccomp": "seccomp"}.get(field)
        if lacks in degraded:
            continue
        check(got.get(field) == want, "%s: %s %r after the drop, want %r", c.name, field,
              got.get(field), want)


def client_exchange(c, label, qname, qtype, proto, family_addr, comm="dig"):
    """The client's query (egress) and response (ingress), with its pid and
    process name, matched with a latency."""
    pid = c.pids.get(label)
    check(c.rcs.get(label) == 0, "%s: dig %s exited %s", c.name, label, c.rcs.get(label))
    rs = c.records
    q = one(rs, "client query", qr="query", dir="egress", qname=qname, qtype=qtype,
            proto=proto, saddr=family_addr)
    r = one(rs, "client response", qr="response", dir="ingress", qname=qname, qtype=qtype,
            proto=proto, daddr=family_addr, dport=q["sport"])
    for rec in (q, r):
        check(rec["pid"] == pid and rec["comm"] == comm,
              "%s: %s %s attributed to pid %s comm %r, not %s %s", c.name, label, rec["qr"],
              rec["pid"], rec["comm"], comm, pid)
    check(r.get("latency_ns", 0) > 0, "%s: %s response has no latency: %s", c.name, label,
          runner.brief_line(r))
    return q, r


def server_side(c, qname, proto, attributed):
    """nsd's received query: its sockets existed before the tracer started."""
    q = one(c.records, "server query", qr="query", dir="ingress", qname=qname, proto=proto,
            dport=53)
    if attributed:
        check(q["pid"] is not None and (q["comm"] or "").startswith("nsd"),
              "%s: nsd's %s query attributed to pid %s comm %r", c.name, proto, q["pid"],
              q["comm"])
    else:
        check(q["pid"] is None, "%s: nsd's %s query attributed (pid %s) although the "
              "feature that does it is off", c.name, proto, q["pid"])


def big_answer(c, qname, n):
    r = one(c.records, "big response", qr="response", dir="ingress", qname=qname, proto="tcp")
    check(not r["truncated_capture"] and r["decode_status"] == [],
          "%s: %s truncated_capture=%s decode_status=%s len=%s", c.name, qname,
          r["truncated_capture"], r["decode_status"], r["len"])
    got = [a["data"] for a in r["answers"]]
    want = zonedata.txt_rrset(qname.split(".")[0])
    check(r["ancount"] == n and sorted(got) == sorted(want),
          "%s: %s has ancount %d and %d decoded answers, want %d identical to the zone",
          c.name, qname, r["ancount"], len(got), n)


def unanswered(c):
    u = [r for r in c.records if r.get("type") == "unanswered" and r.get("qname") == "lost.lab.test"]
    check(u, "%s: no unanswered record for the query to the closed port", c.name)
    check(u[0]["pid"] == c.pids.get("lost"), "%s: unanswered pid %s, dig was %s", c.name,
          u[0]["pid"], c.pids.get("lost"))


def judge_degraded(c, degraded):
    """The forced feature is reported on stderr and in capture_stats."""
    got = stats(c).get("degraded")
    check(isinstance(got, list), "%s: capture_stats has no degraded list", c.name)
    if degraded:
        check(degraded in got, "%s: capture_stats.degraded %s lacks %s", c.name, got, degraded)
        check(re.search(r"^dnssnoop: degraded: %s \(DNSSNOOP_DISABLE\): " % re.escape(degraded),
                        c.stderr, re.M),
              "%s: no warning naming %s on stderr: %s", c.name, degraded, c.stderr)
    return got


def judge_cgroup(c, degraded=None):
    ran_cleanly(c)
    comm = "isc-net-0000" if degraded == "leader_comm" else "dig"
    client_exchange(c, "udp", "www.lab.test", "A", "udp", "127.0.0.1", comm)
    client_exchange(c, "tcp", "mail.lab.test", "MX", "tcp", "127.0.0.1", comm)
    client_exchange(c, "udp6", "www.lab.test", "AAAA", "udp", "::1", comm)
    big_answer(c, "big5k.lab.test", 5)
    big_answer(c, "huge.lab.test", 56)
    unanswered(c)
    server_side(c, "www.lab.test", "udp", degraded != "sock_scan")
    server_side(c, "mail.lab.test", "tcp", degraded not in ("sock_scan", "listener_owner"))
    return judge_degraded(c, degraded)


def judge_tc(c, degraded=None):
    ran_cleanly(c)
    judge_degraded(c, degraded)
    rs = c.records
    for qr in ("query", "response"):
        for qname, proto in (("www.lab.test", "udp"), ("mail.lab.test", "tcp")):
            seen = dns(rs, qr=qr, qname=qname, proto=proto)
            dirs = sorted(r["dir"] for r in seen)
            check(dirs == ["egress", "ingress"], "%s: %s %s over %s seen as %s (want egress "
                  "and ingress of lo once each)", c.name, qname, qr, proto, dirs)
            check(all(r["pid"] is None for r in seen), "%s: tc records carry a pid", c.name)


def judge_xdp(c, degraded=None):
    ran_cleanly(c)
    judge_degraded(c, degraded)
    rs = c.records
    for qr in ("query", "response"):
        seen = dns(rs, qr=qr, qname="www.lab.test", proto="udp")
        check([r["dir"] for r in seen] == ["ingress"], "%s: %s seen %d times (want once, "
              "ingress)", c.name, qr, len(seen))


# Parts of the cgroup hook the tracer can do without (docs/capture.md,
# "Kernels"); the guest forces each off with DNSSNOOP_DISABLE. sock_create
# stands for the optional programs: the kernel is made to refuse it.
DEGRADABLE = ["sock_scan", "listener_owner", "leader_comm", "sock_create"]


def kernel_cases(line, guest):
    """The cases of one kernel, as functions named LINE/CASE."""
    def named(name, fn):
        fn.__name__ = "%s/%s" % (line, name)
        return fn

    cases = [named("cgroup", lambda _: judge_cgroup(guest.case("cgroup")))]
    for feature in DEGRADABLE:
        cases.append(named("degrade-" + feature, lambda _, f=feature:
                           judge_cgroup(guest.case("degrade-" + f), f)))
    cases.append(named("tc", lambda _: judge_tc(guest.case("tc"))))
    cases.append(named("degrade-tcx", lambda _: judge_tc(guest.case("degrade-tcx"), "tcx")))
    cases.append(named("xdp", lambda _: judge_xdp(guest.case("xdp"))))
    cases.append(named("degrade-xdp_load_bytes", lambda _: judge_xdp(
        guest.case("degrade-xdp_load_bytes"), "xdp_load_bytes")))
    return cases


def kernel_degraded(guest):
    """What the kernel itself lacks: the union of the unforced runs' lists."""
    got = set()
    for name in ("cgroup", "tc", "xdp"):
        try:
            got.update(stats(guest.cases[name]).get("degraded") or [])
        except (KeyError, AssertionError):
            pass
    return sorted(got)


def main(argv):
    exec_cmd = argv[argv.index("--exec") + 1] if "--exec" in argv else None
    lines = [a for a in argv[1:] if a in LINES] or LINES
    start = time.monotonic()
    missing = [t for t in ("qemu-system-x86_64", "cpio", "busybox", "nsd", "dig", "bpftool")
               if not shutil.which(t)]
    if missing or not os.access(TRACER, os.X_OK):
        why = "missing: %s (run make deps and make)" % " ".join(missing or [TRACER])
        return runner.fail_every([type("c", (), {"__name__": l}) for l in lines], why)
    work = tempfile.mkdtemp(prefix="dnssnoop-kernels-")
    totals = [0, 0, 0]
    try:
        common = build_common(work, exec_cmd)
        for line in lines:
            kdir = os.path.join(CACHE, line)
            subprocess.run([os.path.join(HERE, "fetch-kernel"), line, kdir], check=True)
            with open(os.path.join(kdir, "VERSION")) as f:
                version = f.read().split()[0]
            initrd = build_initrd(work, common, kdir)
            results, console = boot(kdir, initrd, work,
                                    lambda s: print("%s: %s" % (line, s), flush=True))
            if exec_cmd:
                print(results)
                continue
            guest = Guest(results, console)
            if not guest.done:
                print("%s: the suite did not finish; the console ends:\n%s"
                      % (line, console[-3000:]), flush=True)
            counts = runner.run_cases(kernel_cases(line, guest), None)
            totals = [a + b for a, b in zip(totals, counts)]
            print("kernel %s (%s, %s): %d passed, %d failed; degraded: %s"
                  % (line, version, guest.kernel, counts[0], counts[1],
                     ",".join(kernel_degraded(guest)) or "none"), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return runner.finish(start, *totals)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
