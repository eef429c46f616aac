#!/usr/bin/env python3
"""Least privilege of the live tracer (docs/security.md), in the lab.

Once attached, the tracer runs as the dnssnoop user (else nobody) with no
capability, no_new_privs and a seccomp filter, and still traces:
  1. /proc/PID/status of a running tracer: Uid/Gid, CapInh/CapPrm/CapEff/
     CapBnd/CapAmb 0, NoNewPrivs 1, Seccomp 2; a dig query and its response
     are traced after the drop;
  2. the filter refuses for real: gdb makes the running tracer call
     socket(AF_INET) (EPERM under seccomp, a socket with --seccomp off) and
     getpid (allowed: the injection itself works); execve ends the product
     build (SIGSYS);
  3. -Z root keeps uid 0 but no capability; --seccomp off; an unknown -Z
     user is a usage error (exit 2);
  4. nothing stays attached after SIGINT or SIGKILL of a dropped tracer;
  5. started as nobody with only CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN
     (setpriv, ambient), it traces; the start-up socket scan degrades (one
     stderr line, capture_stats.degraded);
  6. clsact: the tracer keeps CAP_NET_ADMIN permitted only, its guard only
     CAP_NET_ADMIN with no_new_privs; killing the guard stops the tracer with
     a clear message, and the tracer removes its filters itself.
Needs root, the lab's tools, gdb and setpriv.
"""

import os
import pwd
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
import test_hooks as hooks  # noqa: E402
import test_live as live  # noqa: E402
from lab import run  # noqa: E402
from runner import check  # noqa: E402

DIG = ["+qr", "+tries=1", "+timeout=2"]
PRODUCT = os.path.join(labmod.REPO, "build", "dnssnoop")
NO_CAPS = "0000000000000000"
CAP_NET_ADMIN = 12
AF_INET, SOCK_DGRAM = 2, 2
SYS_GETPID, SYS_SOCKET, SYS_EXECVE = 39, 41, 59
EPERM = 1
CAPS_FLAGS = "+bpf,+perfmon,+net_admin"


def default_user():
    """(uid, gid) the tracer drops to without -Z."""
    for name in ("dnssnoop", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            pass
    return 65534, 65534


def status(pid):
    """/proc/PID/status as {field: value}."""
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def check_ids(st, uid, gid):
    check(st["Uid"].split() == [str(uid)] * 4, "Uid %r, want %d everywhere", st["Uid"], uid)
    check(st["Gid"].split() == [str(gid)] * 4, "Gid %r, want %d everywhere", st["Gid"], gid)


def check_confined(st, prm=NO_CAPS, bnd=NO_CAPS):
    for field, want in (("CapInh", NO_CAPS), ("CapPrm", prm), ("CapEff", NO_CAPS),
                        ("CapBnd", bnd), ("CapAmb", NO_CAPS)):
        check(st[field] == want, "%s %s, want %s", field, st[field], want)
    check(st["NoNewPrivs"] == "1", "NoNewPrivs %s", st["NoNewPrivs"])
    check(st["Seccomp"] == "2", "Seccomp %s (2: a filter)", st["Seccomp"])


def check_traced(lab, t, qname):
    """The stopped tracer saw dig's query (egress) and response (ingress) for qname."""
    d = lab.dig(DIG + [qname, "A"])
    check(d.rc == 0 and len(d.responses()) == 1, "dig failed: %s %s", d.out[-300:], d.err)
    qid = d.queries()[0]["id"]
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])
    mine = sorted((r["qr"], r["dir"]) for r in t.records()
                  if r.get("type") == "dns" and r.get("qname") == qname
                  and r.get("pid") == d.pid and r.get("id") == qid)
    check(mine == [("query", "egress"), ("response", "ingress")],
          "dig's query and response (pid %d, id %d) once each, got %s; the tracer wrote %s",
          d.pid, qid, mine, [brief(r) for r in t.records()][-8:])
    return t.records()


def lab_tracer(lab, args, **kw):
    """A tracer of the lab's cgroup only: other DNS on the host (a busy CI
    machine's) cannot crowd the lab's out of its ring buffer."""
    return lab.tracer(["--cgroup", lab.cgroup] + list(args), **kw)


def brief(r):
    """A record in a few words, for failure messages."""
    if r.get("type") != "dns":
        return {k: r.get(k) for k in ("type", "messages", "lost_events", "degraded")}
    return {k: r.get(k) for k in ("qr", "qname", "pid", "comm", "id", "dir")}


def gdb_syscall(pid, nr, *args):
    """Make process pid call syscall(nr, args...) now; (return value, errno)."""
    call = "call (long)syscall(%s)" % ", ".join(str(a) for a in (nr,) + args)
    p = run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", call,
             "-ex", "call (int)*(int *)__errno_location()"], check=False, timeout=60)
    vals = re.findall(r"^\$\d+ = (-?\d+)$", p.stdout, re.M)
    check(len(vals) == 2, "gdb could not make %d call syscall %d: %s %s", pid, nr,
          p.stdout[-800:], p.stderr[-800:])
    return int(vals[0]), int(vals[1])


def is_sanitizer_build(path):
    syms = subprocess.run(["nm", path], stdout=subprocess.PIPE, text=True).stdout
    return "__asan_init" in syms


# ---------------------------------------------------------------- cases

def test_dropped_and_still_tracing(lab):
    """1. the default drop: ids, no capability, no_new_privs, seccomp; dig traced."""
    t = lab_tracer(lab, [])
    st = status(t.proc.pid)
    check_ids(st, *default_user())
    check(st["Groups"].split() in ([], [str(default_user()[1])]),
          "supplementary groups %r", st["Groups"])
    check_confined(st)
    check_traced(lab, t, "www.lab.test")


def test_forbidden_syscall_refused(lab):
    """2. socket(AF_INET) fails with EPERM under the filter, works with --seccomp off."""
    t = lab_tracer(lab, [])
    ret, _ = gdb_syscall(t.proc.pid, SYS_GETPID)
    check(ret == t.proc.pid, "getpid through gdb returned %d, not the tracer's pid", ret)
    ret, err = gdb_syscall(t.proc.pid, SYS_SOCKET, AF_INET, SOCK_DGRAM, 0)
    check(ret == -1 and err == EPERM, "socket(AF_INET) after the drop: %d, errno %d", ret, err)
    check_traced(lab, t, "www.lab.test")
    t = lab_tracer(lab, ["--seccomp", "off"])
    st = status(t.proc.pid)
    check(st["Seccomp"] == "0" and st["NoNewPrivs"] == "1" and st["CapEff"] == NO_CAPS,
          "--seccomp off: Seccomp %s NoNewPrivs %s CapEff %s", st["Seccomp"],
          st["NoNewPrivs"], st["CapEff"])
    ret, err = gdb_syscall(t.proc.pid, SYS_SOCKET, AF_INET, SOCK_DGRAM, 0)
    check(ret >= 0, "without the filter socket(AF_INET) should work: %d, errno %d", ret, err)
    check(t.stop() == 0, "--seccomp off: exit status %s: %s", t.returncode, t.stderr[-800:])


def test_execve_ends_product_build(lab):
    """2. execve is on the kill list: the product build dies of SIGSYS, programs gone."""
    check(os.access(PRODUCT, os.X_OK) and not is_sanitizer_build(PRODUCT),
          "%s (the product build) is not built: run make", PRODUCT)
    t = lab_tracer(lab, [], tracer=PRODUCT)
    subprocess.run(["gdb", "-p", str(t.proc.pid), "-batch", "-nx", "-ex",
                    "call (long)syscall(%d, 0, 0, 0)" % SYS_EXECVE],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    rc = t.wait()
    check(rc == -signal.SIGSYS, "after execve the tracer's status is %s, want SIGSYS", rc)


def test_user_root_and_unknown_user(lab):
    """3. -Z root: uid 0, no capability, confined; -Z nosuchuser: exit 2."""
    t = lab_tracer(lab, ["-Z", "root"])
    st = status(t.proc.pid)
    check_ids(st, 0, 0)
    check_confined(st)
    check_traced(lab, t, "mail.lab.test")
    p = subprocess.run([labmod.TRACER, "-Z", "no-such-user-d55", "-d", "1"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    check(p.returncode == 2 and "-Z: no user 'no-such-user-d55'" in p.stderr,
          "unknown -Z user: exit %d, stderr %r", p.returncode, p.stderr)
    p = subprocess.run([labmod.TRACER, "-Z", "nobody", "-r", "/dev/null"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    check(p.returncode == 2 and "-Z" in p.stderr, "-Z with -r: exit %d, stderr %r",
          p.returncode, p.stderr)


def test_nothing_left_attached(lab):
    """4. a dropped tracer leaves no program after SIGINT or SIGKILL."""
    live.test_clean_detach(lab)


def setpriv_tracer(lab, args):
    argv = ["--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=" + CAPS_FLAGS, "--ambient-caps=" + CAPS_FLAGS, labmod.TRACER]
    return lab.tracer(argv + list(args), tracer="setpriv")


def tracer_pid(t):
    """setpriv execs the tracer: same pid."""
    with open("/proc/%d/comm" % t.proc.pid) as f:
        check(f.read().strip() == "dnssnoop", "pid %d is not the tracer", t.proc.pid)
    return t.proc.pid


def test_without_root_with_capabilities(lab):
    """5. nobody with CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN: traces; sock_scan degrades."""
    before = live.cgroup_attached_ids()
    t = setpriv_tracer(lab, [])
    pid = tracer_pid(t)
    ours = live.cgroup_attached_ids() - before
    check(ours, "no program attached to the cgroup root")
    st = status(pid)
    check_ids(st, 65534, 65534)
    # Without CAP_SETPCAP the bounding set cannot shrink: no_new_privs makes it moot.
    check_confined(st, bnd=st["CapBnd"])
    recs = check_traced(lab, t, "www.lab.test")
    check(re.search(r"^dnssnoop: degraded: sock_scan \(\d+ processes' descriptors unreadable "
                    r"without CAP_SYS_PTRACE", t.stderr, re.M),
          "no degraded line for the partial socket scan: %s", t.stderr[-1500:])
    stats = [r for r in recs if r.get("type") == "capture_stats"][-1]
    check("sock_scan" in stats["degraded"], "capture_stats.degraded %s", stats["degraded"])
    left = hooks.wait_until(lambda: not (live.cgroup_attached_ids() & ours), 5)
    check(left, "programs %s still attached after SIGINT", sorted(ours))


def test_clsact_guard_death_stops_tracer(lab):
    """6. clsact: CAP_NET_ADMIN permitted only; the guard's death stops the tracer,
    which then removes its filters and qdisc itself."""
    with hooks.ClsactCase(lab) as c:
        t, guard = c.start()
        check(hooks.our_filters(lab), "no clsact filters while tracing")
        st = status(t.proc.pid)
        check_ids(st, *default_user())
        check_confined(st, prm="%016x" % (1 << CAP_NET_ADMIN))
        gs = status(guard)
        check(gs["CapEff"] == gs["CapPrm"] == gs["CapBnd"] == "%016x" % (1 << CAP_NET_ADMIN)
              and gs["NoNewPrivs"] == "1",
              "guard: CapEff %s CapPrm %s CapBnd %s NoNewPrivs %s", gs["CapEff"],
              gs["CapPrm"], gs["CapBnd"], gs["NoNewPrivs"])
        os.kill(guard, signal.SIGKILL)
        c.guards.remove(guard)  # the tracer reaps it
        rc = t.wait(10)
        check(rc == 1, "tracer exit status %s after its guard died: %s", rc, t.stderr[-800:])
        check("the clsact guard process (pid %d) is gone: stopping" % guard in t.stderr,
              "no message about the guard: %s", t.stderr[-800:])
        hooks.check_ours_gone(lab, "after the guard died")
        check(not hooks.clsact_present(lab), "the tracer's clsact qdisc is still there")
        check(any(r.get("type") == "capture_stats" for r in t.records()),
              "no capture_stats at the end")


CASES = [test_dropped_and_still_tracing, test_forbidden_syscall_refused,
         test_execve_ends_product_build, test_user_root_and_unknown_user,
         test_nothing_left_attached, test_without_root_with_capabilities,
         test_clsact_guard_death_stops_tracer]


def main(argv):
    for tool in ("gdb", "setpriv", "nm"):
        if not run(["sh", "-c", "command -v " + tool], check=False).stdout.strip():
            print("%s is missing (run make deps)" % tool)
            return 77
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces",
                                lab_args={"cgroup": True})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
