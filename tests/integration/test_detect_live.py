#!/usr/bin/env python3
"""Detection on a live host: in the network lab, six distinct
programs resolve names through nsd while the tracer runs; one of them
("lonely") keeps resolving a name that no other program resolves. The
session must end with an exclusive_target finding naming that program for
that name, and no finding about the five ordinary programs or their names.
A second case is a one-shot session with a burst after everyone else is
done: a case must name the burst's program and name.

The programs are copies of tests/integration/dnsclient.py, each renamed
with --comm (prctl), so the kernel knows them as six processes with six
names. The lab runs in a cgroup of its own and the tracer traces only that.
Needs root.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from runner import check  # noqa: E402

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dnsclient.py")
ORDINARY = ["ordinary%d" % i for i in range(1, 6)]
LONELY, SECRET = "lonely", "only-me.lab.test"
LONELY_LOOKUPS = 20  # Wilson lower bound of 20/20 is 0.839: over 0.8


def client(lab, comm, queries, spacing):
    argv = ["/usr/bin/python3", CLIENT, "--comm", comm, "--server", lab.srv4,
            "--timeout", "1", "--spacing", str(spacing)] + queries
    return lab.popen(lab.cli, argv, cgroup=lab.cgroup, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)


def test_lonely_program_is_found(lab):
    """One program resolving a name nobody else resolves, among five ordinary ones."""
    t = lab.tracer(["--cgroup", lab.cgroup, "--no-events", "--top", "0"])
    # All six are active at the same time (the population rule counts the
    # clients active while the pair is): lonely over ~1.2 s, the others over ~1.3 s.
    procs = [client(lab, c, ["www.lab.test,A,6", "mail.lab.test,MX,4", "txt.lab.test,TXT,2"],
                    0.11) for c in ORDINARY]
    procs.append(client(lab, LONELY, ["%s,A,%d" % (SECRET, LONELY_LOOKUPS)], 0.06))
    for p in procs:
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0 and "timeouts 0" in out, "client failed: %s %s", out, err)
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])
    recs = [json.loads(line) for line in t.output().splitlines() if line]
    findings = [r for r in recs if r["type"] == "finding"]
    lonely = [f for f in findings if f["kind"] in ("exclusive_target", "mutual")
              and f["target_kind"] == "name" and f["target"] == SECRET]
    names = [(r["name"], r["queries"]) for r in recs if r["type"] == "name_stats"
             and not r.get("others")]
    procs_seen = [(r.get("comm"), r["queries"]) for r in recs if r["type"] == "process_stats"
                  and r.get("by") == "comm" and not r.get("others")]
    check(len(lonely) == 1, "want one exclusive_target/mutual finding on %s, got %s "
          "(names %s, programs %s)", SECRET, findings, names, procs_seen)
    f = lonely[0]
    check(f["client"].get("comm") == LONELY and f["client"].get("pid") == procs[-1].pid,
          "the finding names %s, not %s (pid %d)", f["client"], LONELY, procs[-1].pid)
    bt = f["by_target"]
    check((bt["lookups"], bt["top_lookups"], bt["second_lookups"]) == (LONELY_LOOKUPS,) * 2 + (0,),
          "by_target %s: want %d lookups, all by %s", bt, LONELY_LOOKUPS, LONELY)
    check(abs(bt["wilson_lower"] - 20 / (20 + 1.959964 ** 2)) < 1e-3,
          "Wilson lower bound %s", bt["wilson_lower"])
    # Nothing about the ordinary programs or the names they share.
    for g in findings:
        who = g["client"].get("comm")
        check(who == LONELY, "a finding about %s: %s", who, g)
        check(g["target"] in (SECRET, "lab.test", lab.srv4) or g["kind"] in (
            "time_window", "periodic"), "unexpected finding %s", g)
    shared = [g for g in findings if g["target"] in ("www.lab.test", "mail.lab.test",
                                                      "txt.lab.test")]
    check(not shared, "findings on shared names: %s", shared)


BURST, BURST_NAME = "burster", "burst-only.lab.test"
DOZEN = ["www.lab.test,A,1", "mail.lab.test,MX,1", "txt.lab.test,TXT,1"] + [
    "host%d.lab.test,A,1" % i for i in range(1, 10)]


def test_burst_in_a_short_session(lab):
    """A one-shot session: six programs look up a dozen ordinary names each and
    are done; then one program looks up a name nobody else does 20 times in
    under a second. The population around that burst is the session's (its own
    milliseconds hold one client), so the session ends with a case naming the
    program and the name, at the top, and no case about the others."""
    t = lab.tracer(["--cgroup", lab.cgroup, "--no-events", "--top", "0"])
    procs = [client(lab, c, DOZEN, 0.15) for c in ORDINARY + ["ordinary6"]]
    for p in procs:
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0 and "timeouts 0" in out, "client failed: %s %s", out, err)
    burst = client(lab, BURST, ["%s,A,20" % BURST_NAME], 0.02)
    out, err = burst.communicate(timeout=60)
    check(burst.returncode == 0 and "timeouts 0" in out, "burst failed: %s %s", out, err)
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1000:])
    recs = [json.loads(line) for line in t.output().splitlines() if line]
    cases = [r for r in recs if r["type"] == "case"]
    check(cases, "no case at all; findings %s",
          [r for r in recs if r["type"] == "finding"])
    top = cases[0]
    check(top["client"].get("comm") == BURST and top["client"].get("pid") == burst.pid
          and top["target"] == BURST_NAME and top["lookups"] == 20,
          "the top case is not %s -> %s (20 lookups): %s", BURST, BURST_NAME, top)
    check(top["active_clients"] >= 7, "population %s: the six others not counted",
          top["active_clients"])
    others = [c for c in cases if c["client"].get("comm") != BURST]
    check(not others, "cases about other programs: %s", others)


CASES = [test_lonely_program_is_found, test_burst_in_a_short_session]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces, cgroups",
                                {"tag": "detect", "cgroup": True})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
