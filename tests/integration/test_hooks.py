#!/usr/bin/python3
"""Integration tests for the interface hooks (issue 6): --hook tc and
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

Usage: python3 tests/integration/test_hooks.py [CASE-SUBSTRING...]
Needs root; exits 77 when it cannot run.
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from lab import run  # noqa: E402
from runner import check  # noqa: E402

DIG = ["+qr", "+tries=1", "+timeout=2"]
BPF_LINK_TYPE_TCX = 11  # bpftool 7.1 prints the number, newer ones "tcx"


def tcx_links():
    """Ids of every TCX link in the system."""
    out = run(["bpftool", "-j", "link", "show"]).stdout
    return {ln["id"] for ln in json.loads(out or "[]")
            if ln.get("type") in (BPF_LINK_TYPE_TCX, "tcx")}


def xdp_attached(lab):
    out = run(["ip", "-n", lab.srv, "link", "show", "dev", lab.veth_srv]).stdout
    return "prog/xdp" in out or " xdp" in out.split("\n")[0]


def start_tracer(lab, hook):
    args = ["netns", "exec", lab.srv, labmod.TRACER, "--hook", hook, "-i", lab.veth_srv]
    return lab.tracer(args, tracer="ip")


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


def test_tc_sees_query_and_response(lab):
    """tc: the query once on ingress, the response once on egress; detached after SIGINT."""
    before = tcx_links()
    t = start_tracer(lab, "tc")
    ours = tcx_links() - before
    check(len(ours) == 2, "want 2 new TCX links (ingress, egress), got %s", sorted(ours))
    qid = dig_one(lab, "www.lab.test")
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])
    recs = lab_records(lab, t, "www.lab.test")
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
    left = tcx_links() & ours
    check(not left, "TCX links %s still there after SIGINT", sorted(left))


def test_xdp_sees_only_the_query(lab):
    """xdp: only the ingress query; no XDP program left after SIGINT."""
    t = start_tracer(lab, "xdp")
    check(xdp_attached(lab), "no XDP program on %s while tracing", lab.veth_srv)
    qid = dig_one(lab, "mail.lab.test")
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])
    recs = lab_records(lab, t, "mail.lab.test")
    got = sorted((r["qr"], r["dir"], r["id"]) for r in recs)
    check(got == [("query", "ingress", qid)], "want only the query of id %d, got %s", qid, got)
    check_no_process(recs, lab.ifindex(lab.srv, lab.veth_srv))
    check(not xdp_attached(lab), "an XDP program is still on %s after SIGINT", lab.veth_srv)


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


def test_hook_needs_interface(lab):
    """--hook tc without -i is a usage error, before anything is loaded."""
    p = run([labmod.TRACER, "--hook", "tc"], check=False)
    check(p.returncode == 2 and "-i" in p.stderr, "rc %d: %s", p.returncode, p.stderr)
    p = run([labmod.TRACER, "--hook", "xdp", "-i", "lo", "--comm", "nsd"], check=False)
    check(p.returncode == 2 and "process" in p.stderr, "rc %d: %s", p.returncode, p.stderr)


CASES = [test_tc_sees_query_and_response, test_xdp_sees_only_the_query,
         test_tc_sigkill_leaves_nothing, test_xdp_sigkill_leaves_nothing,
         test_hook_needs_interface]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces",
                                {"tag": "hooks"}, tools=("bpftool",))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
