#!/usr/bin/python3
"""Integration tests for the interface hooks: --hook tc and
--hook xdp on the server's veth in the network lab (lab.py).

An interface hook attaches to an interface of the namespace it runs in, so
the tracer runs inside the server namespace (ip netns exec execs it: the
PID we signal is the tracer's). A dig from the client namespace must show,
with tc, its query once (ingress) and the response once (egress); with xdp
only the query (xdp sees ingress only). Neither hook can know a process:
pid, comm and cookie are null/0, ifindex is the server veth's.

After SIGINT and after SIGKILL nothing may remain attached: no XDP program
on the interface (ip link) and none of the TCX links the tracer created
(bpftool link show: bpftool 7.1 does not list TCX links in `net show`, so
the ids that appeared while the tracer ran must be gone afterwards).

--tc-attach clsact (the fallback for kernels without TCX, forced here) puts
cls_bpf filters at dnssnoop's handle 0xd55 / priority 3413 under a clsact
qdisc (tc filter show, run in the server namespace). The same dig must be
seen the same way; the filters must be gone after SIGINT and, removed by
the tracer's guard process, within 2 s of a SIGKILL, also of a kill -9 of
the tracer's whole process group (the guard has a session of its own); a
clsact qdisc the test created before the tracer (and a filter of its own in
it) must survive the tracer; a filter left by a tracer killed together with
its guard must be removed by the next run; and a second tracer on the same
interface must not take the first one's filters away.

Usage: python3 tests/integration/test_hooks.py [CASE-SUBSTRING...]
Needs root; exits 77 when it cannot run.
"""

import ipaddress
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from lab import run  # noqa: E402
from runner import check  # noqa: E402

DIG = ["+qr", "+tries=1", "+timeout=2"]
BPF_LINK_TYPE_TCX = 11  # bpftool 7.1 prints the number, newer ones "tcx"
TC_PREF, TC_HANDLE = 3413, "0xd55"  # dnssnoop's clsact filter slot (0xd55, 0xd55)
OUR_PROGS = {"ingress": "dns_tc_ingress", "egress": "dns_tc_egress"}
GUARD_COMM = "dnssnoop-guard"
GUARD_GRACE_S = 2.0
# Someone else's filter: classic BPF returning 0, "no match, go on to the next
# filter" (a match would end classification and hide packets from later ones).
FOREIGN_FILTER = ["pref", "100", "protocol", "all", "bpf", "bytecode", "1,6 0 0 0,"]


def tcx_links():
    """Ids of every TCX link in the system."""
    out = run(["bpftool", "-j", "link", "show"]).stdout
    return {ln["id"] for ln in json.loads(out or "[]")
            if ln.get("type") in (BPF_LINK_TYPE_TCX, "tcx")}


def xdp_attached(lab):
    out = run(["ip", "-n", lab.srv, "link", "show", "dev", lab.veth_srv]).stdout
    return "prog/xdp" in out or " xdp" in out.split("\n")[0]


def start_tracer(lab, hook, extra=(), env=None):
    args = ["netns", "exec", lab.srv, labmod.TRACER, "--hook", hook, "-i", lab.veth_srv]
    return lab.tracer(args + list(extra), tracer="ip", env=env)


def start_clsact_tracer(lab):
    return start_tracer(lab, "tc", ["--tc-attach", "clsact"])


def tc(lab, *args, check=True):
    return run(["ip", "netns", "exec", lab.srv, "tc"] + list(args), check=check)


def tc_filters(lab, direction):
    """The filters under the server veth's clsact direction, as dicts with
    pref, handle, name and id (tc filter show prints a chain line first)."""
    out = tc(lab, "filter", "show", "dev", lab.veth_srv, direction, check=False).stdout
    filters = []
    for line in out.splitlines():
        w = line.split()
        if "handle" not in w or "pref" not in w:
            continue
        f = {"pref": int(w[w.index("pref") + 1]), "handle": w[w.index("handle") + 1],
             "name": w[w.index("name") + 1] if "name" in w else None,
             "id": int(w[w.index("id") + 1]) if "id" in w else None}
        filters.append(f)
    return filters


def our_filters(lab):
    """{direction: program id} of dnssnoop's filters on the server veth."""
    got = {}
    for d, name in OUR_PROGS.items():
        for f in tc_filters(lab, d):
            if f["pref"] == TC_PREF and f["handle"] == TC_HANDLE and f["name"] == name:
                got[d] = f["id"]
    return got


def clsact_present(lab):
    out = tc(lab, "qdisc", "show", "dev", lab.veth_srv).stdout
    return any(line.split()[1:2] == ["clsact"] for line in out.splitlines())


def wait_until(pred, timeout):
    """Poll pred until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def guard_of(t):
    """The tracer's guard process (its child named dnssnoop-guard)."""
    kids = [p for p in labmod.children_of(t.proc.pid) if comm_of(p) == GUARD_COMM]
    check(len(kids) == 1, "want one %s child of the tracer, got %s", GUARD_COMM, kids)
    return kids[0]


def reap_orphan(pid, timeout):
    """Wait for pid, which became our child (the lab is a subreaper) when its
    parent died; its exit status, or None if it is not our child."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("process %d still running %.1f s later: killed" % (pid, timeout))
        time.sleep(0.02)


def check_guard_reaped(guard):
    """After a normal exit the tracer must have reaped its guard itself: had
    it not, the guard (running or a zombie) would now be our child."""
    try:
        done, _ = os.waitpid(guard, os.WNOHANG)
    except ChildProcessError:
        return
    check(False, "the tracer did not reap its guard %d (%s)", guard,
          "a zombie" if done else "still running")


def lab_records(lab, t, qname):
    """The dns records of this lab's dig for qname."""
    addrs = {lab.cli4, lab.srv4}
    return [r for r in t.records() if r.get("type") == "dns" and r.get("qname") == qname
            and r.get("saddr") in addrs and r.get("daddr") in addrs]


def check_no_process(recs, ifindex):
    for r in recs:
        check(r["pid"] is None and r["comm"] is None and r["cookie"] == 0,
              "an interface hook cannot know the process: %s", r)
        check(r["ifindex"] == ifindex, "ifindex %s, want the server veth's %d: %s",
              r["ifindex"], ifindex, r)


def dig_one(lab, qname):
    d = lab.dig(DIG + [qname, "A"])
    check(d.rc == 0 and len(d.queries()) == 1 and len(d.responses()) == 1,
          "dig failed: %r %s %s", d, d.out[-500:], d.err[-300:])
    return d.queries()[0]["id"]


def check_query_and_response(lab, t, qname, qid):
    """The stopped tracer saw the dig's query (ingress) and response (egress) once each."""
    recs = lab_records(lab, t, qname)
    got = sorted((r["qr"], r["dir"], r["id"]) for r in recs)
    check(got == [("query", "ingress", qid), ("response", "egress", qid)],
          "want the query (ingress) and response (egress) of id %d once each, got %s",
          qid, got)
    check_no_process(recs, lab.ifindex(lab.srv, lab.veth_srv))
    resp = [r for r in recs if r["qr"] == "response"][0]
    check(resp["saddr"] == lab.srv4 and resp["sport"] == 53 and resp["daddr"] == lab.cli4,
          "response addresses %s", resp)
    check(sorted(a["data"] for a in resp["answers"]) == ["192.0.2.1", "192.0.2.2"],
          "answers %s", resp["answers"])


def test_tc_sees_query_and_response(lab):
    """tc: the query once on ingress, the response once on egress; detached after SIGINT."""
    before = tcx_links()
    t = start_tracer(lab, "tc")
    ours = tcx_links() - before
    check(len(ours) == 2, "want 2 new TCX links (ingress, egress), got %s", sorted(ours))
    qid = dig_one(lab, "www.lab.test")
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])
    check_query_and_response(lab, t, "www.lab.test", qid)
    left = tcx_links() & ours
    check(not left, "TCX links %s still there after SIGINT", sorted(left))


def test_tc_ipv6_and_tcp(lab):
    """tc, as the cgroup hook's tests do: an AAAA over IPv6 and an A over TCP
    (reassembled), each query on ingress and response on egress once, the
    response matched to its query (a latency), the right addresses."""
    t = start_tracer(lab, "tc")
    d6 = lab.dig(DIG + ["www.lab.test", "AAAA"], server=lab.srv6)
    dt = lab.dig(DIG + ["+tcp", "www.lab.test", "A"])
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])
    check(d6.rc == 0 and dt.rc == 0 and d6.responses() and dt.responses(),
          "dig failed: %s %s", d6.err[-300:], dt.err[-300:])
    recs = [r for r in t.records() if r.get("type") == "dns"]
    cli6, srv6 = (str(ipaddress.ip_address(a)) for a in (lab.cli6, lab.srv6))
    for d, qname, proto, cli, srv in ((d6, "www.lab.test", "udp", cli6, srv6),
                                      (dt, "www.lab.test", "tcp", lab.cli4, lab.srv4)):
        qid = d.queries()[-1]["id"]
        mine = [r for r in recs if r["qname"] == qname and r["id"] == qid
                and r["proto"] == proto]
        got = sorted((r["qr"], r["dir"], r["saddr"], r["daddr"]) for r in mine)
        check(got == [("query", "ingress", cli, srv), ("response", "egress", srv, cli)],
              "%s over %s: want the query in and the response out once, got %s", qname,
              proto, got)
        resp = [r for r in mine if r["qr"] == "response"][0]
        check(resp.get("latency_ns", 0) > 0 and resp["rcode"] == "NOERROR" and resp["answers"],
              "%s over %s: response not matched or empty: %s", qname, proto,
              json.dumps(resp)[:400])
        check_no_process(mine, lab.ifindex(lab.srv, lab.veth_srv))


def test_xdp_sees_only_the_query(lab, env=None):
    """xdp: only the ingress query; no XDP program left after SIGINT."""
    t = start_tracer(lab, "xdp", env=env)
    check(xdp_attached(lab), "no XDP program on %s while tracing", lab.veth_srv)
    qid = dig_one(lab, "mail.lab.test")
    d6 = lab.dig(DIG + ["www.lab.test", "AAAA"], server=lab.srv6)
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])
    recs = lab_records(lab, t, "mail.lab.test")
    got = sorted((r["qr"], r["dir"], r["id"]) for r in recs)
    check(got == [("query", "ingress", qid)], "want only the query of id %d, got %s", qid, got)
    check_no_process(recs, lab.ifindex(lab.srv, lab.veth_srv))
    # IPv6 too: the AAAA query over IPv6, once, with its addresses.
    check(d6.rc == 0 and d6.queries(), "dig over IPv6 failed: %s", d6.err[-300:])
    cli6, srv6 = (str(ipaddress.ip_address(a)) for a in (lab.cli6, lab.srv6))
    q6 = [(r["qr"], r["dir"], r["saddr"], r["daddr"], r["qtype"]) for r in t.records()
          if r.get("type") == "dns" and r["id"] == d6.queries()[-1]["id"]
          and r["qname"] == "www.lab.test"]
    check(q6 == [("query", "ingress", cli6, srv6, "AAAA")],
          "xdp over IPv6: want the AAAA query once, got %s", q6)
    # Ingress only: a response can never come, so no query waits for one.
    un = [r for r in t.records() if r.get("type") == "unanswered"]
    st = [r for r in t.records() if r.get("type") == "capture_stats"]
    check(not un and st and st[-1]["unanswered"] == 0,
          "xdp reported %d unanswered records (capture_stats.unanswered %s)", len(un),
          st[-1]["unanswered"] if st else None)
    check(not xdp_attached(lab), "an XDP program is still on %s after SIGINT", lab.veth_srv)
    return t


def test_xdp_without_load_bytes(lab):
    """xdp as on kernels before 5.18 (no bpf_xdp_load_bytes; forced with
    DNSSNOOP_DISABLE): the same records, read from the linear buffer, and
    the tracer says what it runs without."""
    t = test_xdp_sees_only_the_query(lab, env={"DNSSNOOP_DISABLE": "xdp_load_bytes"})
    check(re.search(r"^dnssnoop: degraded: xdp_load_bytes \(DNSSNOOP_DISABLE\): ", t.stderr,
                    re.M), "no degraded line: %s", t.stderr)
    st = [r for r in t.records() if r.get("type") == "capture_stats"][-1]
    check(st["degraded"] == ["xdp_load_bytes"], "capture_stats.degraded %s", st["degraded"])
    q = [r for r in t.records() if r.get("type") == "dns" and r["qname"] == "mail.lab.test"]
    check(q and q[0]["len"] > 20 and not q[0]["truncated_capture"] and q[0]["edns"],
          "query decoded only partly from the linear buffer: %s", q)


def test_tc_sigkill_leaves_nothing(lab):
    """SIGKILL: the kernel closes the TCX links with the process."""
    before = tcx_links()
    t = start_tracer(lab, "tc")
    ours = tcx_links() - before
    check(len(ours) == 2, "want 2 new TCX links, got %s", sorted(ours))
    t.stop(signal.SIGKILL)
    check(t.returncode == -signal.SIGKILL, "tracer status %s", t.returncode)
    left = tcx_links() & ours
    check(not left, "TCX links %s still there after SIGKILL", sorted(left))


def test_xdp_sigkill_leaves_nothing(lab):
    """SIGKILL: the XDP link goes with the process."""
    t = start_tracer(lab, "xdp")
    check(xdp_attached(lab), "no XDP program on %s while tracing", lab.veth_srv)
    t.stop(signal.SIGKILL)
    check(t.returncode == -signal.SIGKILL, "tracer status %s", t.returncode)
    check(not xdp_attached(lab), "an XDP program is still on %s after SIGKILL", lab.veth_srv)


class ClsactCase:
    """One clsact case: starts tracers and knows their guards; on the way out,
    whatever happened, kills a tracer still running, reaps the guards (our
    children once their tracer is gone) and deletes the veth's clsact qdisc,
    so a failed case leaves nothing to the next one."""

    def __init__(self, lab):
        self.lab = lab
        self.tracers = []
        self.guards = []

    def __enter__(self):
        lab = self.lab
        check(not our_filters(lab) and not clsact_present(lab),
              "the lab's veth is not clean before the case: filters %s, clsact %s",
              our_filters(lab), clsact_present(lab))
        return self

    def start(self):
        """A clsact tracer, attached; returns (tracer, guard pid)."""
        t = start_clsact_tracer(self.lab)
        self.tracers.append(t)
        guard = guard_of(t)
        self.guards.append(guard)
        return t, guard

    def reap(self, guard):
        """Wait for the guard of a tracer that was killed; its exit status."""
        self.guards.remove(guard)
        return reap_orphan(guard, GUARD_GRACE_S)

    def __exit__(self, *exc):
        for t in self.tracers:
            if t.proc.poll() is None:
                t.kill()
        for g in self.guards:
            try:
                reap_orphan(g, GUARD_GRACE_S)
            except (AssertionError, OSError):
                pass
        tc(self.lab, "qdisc", "del", "dev", self.lab.veth_srv, "clsact", check=False)
        return False


def check_stopped(t):
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])


def check_ours_gone(lab, when):
    check(not our_filters(lab), "%s: our filters %s are still there", when, our_filters(lab))


def test_clsact_sees_query_and_response(lab):
    """clsact: same records as TCX; our qdisc and filters gone after SIGINT, guard reaped."""
    with ClsactCase(lab) as c:
        t, guard = c.start()
        ours = our_filters(lab)
        check(sorted(ours) == ["egress", "ingress"], "want our 2 filters while tracing, got %s",
              ours)
        check(clsact_present(lab), "no clsact qdisc while tracing")
        qid = dig_one(lab, "www.lab.test")
        check_stopped(t)
        check_query_and_response(lab, t, "www.lab.test", qid)
        check_ours_gone(lab, "SIGINT")
        check(not clsact_present(lab), "the clsact qdisc the tracer created is still there")
        c.guards.remove(guard)
        check_guard_reaped(guard)


def test_clsact_sigkill_guard_removes(lab):
    """SIGKILL: the guard removes our filters and our qdisc within 2 s, then exits 0."""
    with ClsactCase(lab) as c:
        t, guard = c.start()
        check(len(our_filters(lab)) == 2, "want our 2 filters, got %s", our_filters(lab))
        t.stop(signal.SIGKILL)
        check(t.returncode == -signal.SIGKILL, "tracer status %s", t.returncode)
        gone = wait_until(lambda: not our_filters(lab) and not clsact_present(lab),
                          GUARD_GRACE_S)
        check(gone, "%.0f s after SIGKILL: filters %s, clsact %s", GUARD_GRACE_S,
              our_filters(lab), clsact_present(lab))
        status = c.reap(guard)
        check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
              "guard %d: status %s", guard, status)
        check("removed its 2 tc filter(s)" in t.stderr, "no guard line on stderr: %s",
              t.stderr[-1000:])


def foreign_filters(lab):
    return [f for f in tc_filters(lab, "ingress") if f["pref"] != TC_PREF]


def run_on_existing_qdisc(lab, c, qname, foreign):
    """One SIGINT run (with a dig) and one SIGKILL run on a clsact qdisc the
    test made: after each, our filters are gone and the qdisc and the
    test's own filters (foreign) are as they were."""
    t, _ = c.start()
    check(len(our_filters(lab)) == 2, "want our 2 filters, got %s", our_filters(lab))
    qid = dig_one(lab, qname)
    check_stopped(t)
    recs = lab_records(lab, t, qname)
    check(sorted((r["qr"], r["dir"], r["id"]) for r in recs)
          == [("query", "ingress", qid), ("response", "egress", qid)], "records %s", recs)
    check_ours_gone(lab, "SIGINT")
    check(clsact_present(lab), "SIGINT: the tracer deleted a clsact qdisc it did not create")
    check(foreign_filters(lab) == foreign, "SIGINT: the test's filters changed: %s -> %s",
          foreign, foreign_filters(lab))

    t, guard = c.start()
    t.stop(signal.SIGKILL)
    check(wait_until(lambda: not our_filters(lab), GUARD_GRACE_S),
          "filters %s still there %.0f s after SIGKILL", our_filters(lab), GUARD_GRACE_S)
    c.reap(guard)  # the guard is done: it did all it was going to do
    check(clsact_present(lab), "SIGKILL: the guard deleted a clsact qdisc it did not create")
    check(foreign_filters(lab) == foreign, "SIGKILL: the test's filters changed: %s -> %s",
          foreign, foreign_filters(lab))


def test_clsact_keeps_foreign_qdisc_and_filter(lab):
    """A clsact qdisc that was there first survives SIGINT and SIGKILL, empty
    and with a filter of the test's own in it (which survives too)."""
    with ClsactCase(lab) as c:
        tc(lab, "qdisc", "add", "dev", lab.veth_srv, "clsact")
        run_on_existing_qdisc(lab, c, "mail.lab.test", [])
        tc(lab, "filter", "add", "dev", lab.veth_srv, "ingress", *FOREIGN_FILTER)
        foreign = foreign_filters(lab)
        check(len(foreign) == 1 and foreign[0]["pref"] == 100,
              "the test's own filter is not there: %s", foreign)
        run_on_existing_qdisc(lab, c, "www.lab.test", foreign)


def test_clsact_group_sigkill_guard_survives(lab):
    """kill -9 -PGID of the tracer's process group: the guard (a session of its
    own) is not in it, and removes our filters."""
    with ClsactCase(lab) as c:
        args = ["ip", "netns", "exec", lab.srv, labmod.TRACER, "--hook", "tc", "-i",
                lab.veth_srv, "--tc-attach", "clsact"]
        # setsid(1), not a group leader when Popen starts it, execs: the PID is the tracer's.
        t = lab.tracer(args, tracer="setsid")
        c.tracers.append(t)
        guard = guard_of(t)
        c.guards.append(guard)
        check(os.getpgid(t.proc.pid) == t.proc.pid and os.getpgid(guard) != t.proc.pid,
              "tracer pgid %d, guard pgid %d", os.getpgid(t.proc.pid), os.getpgid(guard))
        check(len(our_filters(lab)) == 2, "want our 2 filters, got %s", our_filters(lab))
        os.killpg(t.proc.pid, signal.SIGKILL)
        t.wait()
        check(wait_until(lambda: not our_filters(lab) and not clsact_present(lab),
                         GUARD_GRACE_S),
              "%.0f s after kill -9 -PGID: filters %s, clsact %s", GUARD_GRACE_S,
              our_filters(lab), clsact_present(lab))
        status = c.reap(guard)
        check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
              "guard %d: status %s", guard, status)


def test_clsact_stale_filter_removed_by_next_run(lab):
    """Tracer and guard both SIGKILLed: filters stay; the next run removes them."""
    with ClsactCase(lab) as c:
        t, guard = c.start()
        stale = our_filters(lab)
        check(len(stale) == 2, "want our 2 filters, got %s", stale)
        os.kill(guard, signal.SIGKILL)
        t.stop(signal.SIGKILL)
        c.reap(guard)
        check(our_filters(lab) == stale, "want the stale filters %s left, got %s", stale,
              our_filters(lab))

        t, _ = c.start()
        removed = [ln for ln in t.stderr_lines if "removed a stale tc filter" in ln]
        check(len(removed) == 2 and all(str(i) in " ".join(removed) for i in stale.values()),
              "want 2 stale-filter lines naming ids %s: %s", sorted(stale.values()), t.stderr)
        fresh = our_filters(lab)
        check(sorted(fresh) == ["egress", "ingress"]
              and not set(fresh.values()) & set(stale.values()),
              "want 2 new filters (not %s), got %s", stale, fresh)
        qid = dig_one(lab, "www.lab.test")
        check_stopped(t)
        check_query_and_response(lab, t, "www.lab.test", qid)
        check_ours_gone(lab, "SIGINT")
        # The crashed run's qdisc stays: the second run found it there.
        check(clsact_present(lab), "the second run deleted a qdisc it did not create")


def test_clsact_second_tracer_leaves_first_alone(lab):
    """A second tracer on the same interface fails; the first one's filters stay."""
    with ClsactCase(lab) as c:
        t, _ = c.start()
        first = our_filters(lab)
        check(len(first) == 2, "want our 2 filters, got %s", first)
        p = run(["ip", "netns", "exec", lab.srv, labmod.TRACER, "--hook", "tc", "-i",
                 lab.veth_srv, "--tc-attach", "clsact", "-d", "1"], check=False)
        check(p.returncode == 1 and "already has a tc filter" in p.stderr
              and "stale" not in p.stderr, "second tracer rc %d: %s", p.returncode, p.stderr)
        check(our_filters(lab) == first, "the first tracer's filters changed: %s -> %s", first,
              our_filters(lab))
        qid = dig_one(lab, "www.lab.test")
        check_stopped(t)
        check_query_and_response(lab, t, "www.lab.test", qid)
        check(not our_filters(lab) and not clsact_present(lab), "left: filters %s, clsact %s",
              our_filters(lab), clsact_present(lab))


def test_hook_needs_interface(lab):
    """--hook tc without -i is a usage error, before anything is loaded."""
    p = run([labmod.TRACER, "--hook", "tc"], check=False)
    check(p.returncode == 2 and "-i" in p.stderr, "rc %d: %s", p.returncode, p.stderr)
    p = run([labmod.TRACER, "--hook", "xdp", "-i", "lo", "--comm", "nsd"], check=False)
    check(p.returncode == 2 and "process" in p.stderr, "rc %d: %s", p.returncode, p.stderr)
    p = run([labmod.TRACER, "--hook", "tc", "-i", "lo", "--tc-attach", "netlink"], check=False)
    check(p.returncode == 2 and "--tc-attach" in p.stderr, "rc %d: %s", p.returncode, p.stderr)
    p = run([labmod.TRACER, "--hook", "xdp", "-i", "lo", "--tc-attach", "clsact"], check=False)
    check(p.returncode == 2 and "--tc-attach" in p.stderr, "rc %d: %s", p.returncode, p.stderr)


CASES = [test_tc_sees_query_and_response, test_tc_ipv6_and_tcp, test_xdp_sees_only_the_query,
         test_xdp_without_load_bytes,
         test_tc_sigkill_leaves_nothing, test_xdp_sigkill_leaves_nothing,
         test_clsact_sees_query_and_response, test_clsact_sigkill_guard_removes,
         test_clsact_keeps_foreign_qdisc_and_filter, test_clsact_group_sigkill_guard_survives,
         test_clsact_stale_filter_removed_by_next_run,
         test_clsact_second_tracer_leaves_first_alone, test_hook_needs_interface]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces",
                                {"tag": "hooks"}, tools=("bpftool",))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
