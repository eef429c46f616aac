#!/usr/bin/python3
"""Integration tests for the statistics: build/dnssnoop --summary
with its real BPF programs around known client traffic in the lab.

Two distinct client programs send known numbers of queries for known names
to known servers: dig (two processes: a `dig -f` batch and a dig with two
queries on its command line) and tests/integration/dnsclient.py (two
processes, comm "python3"), one of them to the lab's blackhole address,
which never answers. The expected figures are written by hand from that
plan (and cross-checked with what the clients themselves report); the
summary's per-process, per-peer, per-name and pair counts must equal them
exactly.

The lab runs in a cgroup of its own (Lab(cgroup=True)) and the tracer is
limited to it with --cgroup, so other DNS traffic on the host (other test
runs query the same names) cannot change the counts.

Both ends of every exchange are local, so the tracer sees each message twice
(the client's copy and nsd's). The per-process tables count both (dig and
python3 sent the queries, nsd answered them); the host-wide tables (peers,
names, client x name) count each exchange once, from the client's side: the
peer is nsd's address, never the client's (docs/output.md, user/analysis/stats.h).

Usage: python3 tests/integration/test_stats.py [CASE-SUBSTRING...]
Prints PASS/FAIL/SKIP per case and "cases: P passed, F failed, S skipped";
exits 77 when it cannot run (not root, tools or tracer missing), 1 if a
case failed.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from lab import LabError  # noqa: E402
from runner import brief_json, check, rfc3339_to_us  # noqa: E402

DNSCLIENT = os.path.join(labmod.HERE, "dnsclient.py")
DIG = ["+tries=1", "+timeout=2"]
RCODE_KEYS = ("NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "other")
KEY_FIELDS = ("key_host", "pid", "comm", "uid", "cgroup", "peer", "port", "proto", "client",
              "name")
TABLES = (("process_stats", "by", "pid"), ("process_stats", "by", "comm"),
          ("peer_stats", None, None), ("name_stats", None, None),
          ("client_stats", None, None), ("pair_stats", "pair", "process_peer"), ("pair_stats", "pair", "process_name"),
          ("pair_stats", "pair", "client_name"))
TEXT_TITLES = ("processes", "processes by name and cgroup", "peers", "names", "clients",
               "process x peer", "process x name", "client x name")
# Addresses in zones/lab.test.zone: www has two A and one AAAA.
WWW_ADDRS = 3


# ---------------------------------------------------------------- clients

class Traffic:
    """What the clients sent and got, by their own account."""

    def __init__(self):
        self.digs = {}  # label -> DigResult
        self.clients = {}  # label -> (pid, summary dict)


def dig_statuses(d):
    return re.findall(r"->>HEADER<<- opcode: QUERY, status: (\w+),", d.out)


def run_dig_batch(lab, label, lines, traffic, extra=()):
    """One dig process asking every line of a batch file (`dig -f`)."""
    path = os.path.join(lab.tmp, "batch-%s" % label)
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    d = lab.dig(DIG + list(extra) + ["-f", path])
    check(d.rc == 0, "dig -f %s failed (%d): %s", label, d.rc, d.err)
    traffic.digs[label] = d
    return d


def run_dig(lab, label, args, traffic):
    d = lab.dig(DIG + list(args))
    check(d.rc == 0, "dig %s failed (%d): %s", args, d.rc, d.err)
    traffic.digs[label] = d
    return d


def run_client(lab, label, queries, traffic, timeout=0.6, spacing=0.0):
    """dnsclient.py (comm "python3") in the client namespace; returns (pid, counts)."""
    argv = ["/usr/bin/python3", DNSCLIENT, "--server", lab.srv4, "--timeout", str(timeout),
            "--spacing", str(spacing), "--json"] + list(queries)
    p = lab.popen(lab.cli, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise LabError("dnsclient did not finish: %s" % queries)
    check(p.returncode == 0, "dnsclient failed (%d): %s", p.returncode, err)
    summary = json.loads(out.splitlines()[-1])
    check(summary["pid"] == p.pid, "dnsclient pid %d, Popen says %d", summary["pid"], p.pid)
    traffic.clients[label] = (p.pid, summary)
    return p.pid, summary


# ---------------------------------------------------------------- records

class Report:
    """The statistics records of one report (one scope and window)."""

    def __init__(self, recs):
        self.recs = recs

    def table(self, rtype, gkey=None, gval=None):
        """(entries in rank order, the others record) of one table."""
        rows = [r for r in self.recs if r["type"] == rtype
                and (gkey is None or r.get(gkey) == gval)]
        entries = [r for r in rows if not r["others"]]
        others = [r for r in rows if r["others"]]
        name = "%s %s" % (rtype, gval or "")
        check(len(others) == 1, "%s: want exactly one others record, got %d", name, len(others))
        check(rows[-1] is others[0], "%s: the others record is not after the entries", name)
        check([e["rank"] for e in entries] == list(range(1, len(entries) + 1)),
              "%s: ranks %s", name, [e["rank"] for e in entries])
        counts = [e["queries"] for e in entries]
        check(counts == sorted(counts, reverse=True), "%s: not ranked by queries: %s", name,
              counts)
        return entries, others[0]


def stats_records(recs):
    types = {t for t, _, _ in TABLES}
    return [r for r in recs if r.get("type") in types]


def final_total(recs):
    """The last report with scope "total" (the end of the session)."""
    stats = [r for r in stats_records(recs) if r["scope"] == "total"]
    check(stats, "no statistics records with scope total")
    end = max(r["window_end"] for r in stats)
    return Report([r for r in stats if r["window_end"] == end])


def brief(r):
    return brief_json(r, ("type", "by", "pair", "others", "rank") + KEY_FIELDS + (
        "queries", "queries_error", "responses", "unanswered", "rcodes", "qtypes", "entries",
        "total_queries"))


def find(entries, what, **key):
    """The one entry whose fields equal key."""
    hits = [e for e in entries if all(e.get(k) == v for k, v in key.items())]
    check(len(hits) == 1, "%s: want one entry with %s, got %d: %s", what, key, len(hits),
          [brief(e) for e in entries][:30])
    return hits[0]


def expect(entry, what, queries, responses, unanswered=0, nxdomain=0, qtypes=None, udp=None,
           **more):
    """Assert an entry's figures; NOERROR = responses - NXDOMAIN (no other rcode here)."""
    want = {"queries": queries, "queries_error": 0, "responses": responses,
            "unanswered": unanswered,
            "rcodes": {"NOERROR": responses - nxdomain, "NXDOMAIN": nxdomain, "SERVFAIL": 0,
                       "REFUSED": 0, "other": 0}}
    if qtypes is not None:
        want["qtypes"] = dict(qtypes, other=0)
    if udp is not None:
        want["udp"], want["tcp"] = udp, 0
    want.update(more)
    got = {k: entry.get(k) for k in want}
    check(got == want, "%s: want %s, got %s", what, want, got)
    check_latency(entry, what, responses if responses else None)


def check_latency(entry, what, count):
    lat = entry.get("latency")
    if count is None:
        check(lat is None, "%s: no response measured, latency %r", what, lat)
        return
    check(isinstance(lat, dict) and lat.get("count") == count, "%s: latency %r, want count %d",
          what, lat, count)
    check(0 < lat["min_ns"] <= lat["p50_ns"] <= lat["p90_ns"] <= lat["p99_ns"]
          <= lat["max_ns"] < 2 * 10**9, "%s: latency figures out of order: %r", what, lat)


def sum_figures(entries):
    tot = {"queries": 0, "responses": 0, "unanswered": 0,
           "rcodes": {k: 0 for k in RCODE_KEYS}}
    for e in entries:
        for k in ("queries", "responses", "unanswered"):
            tot[k] += e[k]
        for k in RCODE_KEYS:
            tot["rcodes"][k] += e["rcodes"][k]
    return tot


# ---------------------------------------------------------------- the main plan

class Plan:
    """Every client run of the counting case, and what each must add up to.

    dig  A: `dig -f` batch: 7 x www.lab.test A, 3 x mail.lab.test MX
    dig  B: `dig nope.lab.test A nope.lab.test A` (2 x NXDOMAIN)
    py   C: dnsclient: 5 x txt.lab.test TXT, 4 x www.lab.test AAAA
    py   D: dnsclient: 2 x hole.lab.test A to the blackhole (never answered)
    """

    def __init__(self):
        self.traffic = Traffic()

    def run(self, lab):
        t = self.traffic
        run_dig_batch(lab, "A", ["www.lab.test A"] * 7 + ["mail.lab.test MX"] * 3, t)
        run_dig(lab, "B", ["nope.lab.test", "A", "nope.lab.test", "A"], t)
        run_client(lab, "C", ["txt.lab.test,TXT,5", "www.lab.test,AAAA,4"], t)
        run_client(lab, "D", ["hole.lab.test,A,2,%s" % lab.blackhole4], t, timeout=0.5)
        self.check_clients()

    def check_clients(self):
        """The clients' own account agrees with the plan (the oracle's premise)."""
        t = self.traffic
        st = dig_statuses(t.digs["A"])
        check(st == ["NOERROR"] * 10, "dig A statuses %s", st)
        st = dig_statuses(t.digs["B"])
        check(st == ["NXDOMAIN"] * 2, "dig B statuses %s", st)
        c = t.clients["C"][1]
        check((c["sent"], c["noerror"], c["timeouts"]) == (9, 9, 0), "dnsclient C: %s", c)
        d = t.clients["D"][1]
        check((d["sent"], d["answered"], d["timeouts"]) == (2, 0, 2), "dnsclient D: %s", d)

    @property
    def pids(self):
        t = self.traffic
        return {"A": t.digs["A"].pid, "B": t.digs["B"].pid, "C": t.clients["C"][0],
                "D": t.clients["D"][0]}


def tracer_session(lab, args, workload, settle=0.3):
    t = lab.tracer(list(args) + ["--cgroup", lab.cgroup])
    workload()
    time.sleep(settle)  # let the last events reach the ring buffer
    rc = t.stop()
    check(rc == 0, "tracer exited %s: %s", rc, t.stderr[-1500:])
    return t


# ---------------------------------------------------------------- cases

def test_counts(lab):
    """Exact per-process, per-peer, per-name and pair figures of a known plan."""
    plan = Plan()
    t = tracer_session(lab, ["--no-events", "--summary", "--top", "0", "--timeout", "1"],
                       lambda: plan.run(lab))
    recs = t.records()
    check(not [r for r in recs if r.get("type") in ("dns", "unanswered")],
          "--no-events printed per-message records")
    stats = stats_records(recs)
    check(stats and {r["scope"] for r in stats} == {"total"},
          "without --interval the one report has scope total; got scopes %s",
          sorted({r["scope"] for r in stats}))
    rep = final_total(recs)
    check(len(rep.recs) == len(stats), "more than one report without --interval")
    p = plan.pids
    nsd = set(lab.nsd_pids())
    cg = lab.cgroup

    # Processes by pid: the four clients, and nsd's processes, nothing else.
    ents, oth = rep.table("process_stats", "by", "pid")
    expect(find(ents, "dig A", pid=p["A"]), "dig A (pid %d)" % p["A"], 10, 10,
           qtypes={"A": 7, "MX": 3}, udp=20, comm="dig", uid=0, cgroup=cg,
           distinct_names=2, distinct_names_estimated=False)
    expect(find(ents, "dig B", pid=p["B"]), "dig B (pid %d)" % p["B"], 2, 2, nxdomain=2,
           qtypes={"A": 2}, udp=4, comm="dig", cgroup=cg, distinct_names=1)
    expect(find(ents, "dnsclient C", pid=p["C"]), "dnsclient C (pid %d)" % p["C"], 9, 9,
           qtypes={"TXT": 5, "AAAA": 4}, udp=18, comm="python3", uid=0, cgroup=cg,
           distinct_names=2)
    expect(find(ents, "dnsclient D", pid=p["D"]), "dnsclient D (pid %d)" % p["D"], 2, 0,
           unanswered=2, qtypes={"A": 2}, udp=2, comm="python3", cgroup=cg, distinct_names=1)
    server = [e for e in ents if e["pid"] in nsd]
    check(len(ents) == 4 + len(server), "process entries other than the clients and nsd: %s",
          [brief(e) for e in ents if e["pid"] not in nsd and e["pid"] not in p.values()])
    # nsd answered the 21 queries that reached it; the first packet a
    # pre-existing shared socket receives may be attributed to another nsd
    # process (docs/capture.md), so the server side is summed over nsd's.
    got = sum_figures(server)
    want = {"queries": 21, "responses": 21, "unanswered": 0,
            "rcodes": {"NOERROR": 19, "NXDOMAIN": 2, "SERVFAIL": 0, "REFUSED": 0, "other": 0}}
    check(got == want, "nsd's processes (server side): want %s, got %s: %s", want, got,
          [brief(e) for e in server])
    senders = [e for e in server if e["responses"]]
    check(len(senders) == 1 and senders[0]["comm"].startswith("nsd: server")
          and senders[0]["responses"] == 21 and senders[0]["latency"]["count"] == 21,
          "every response is sent by nsd's server process: %s", [brief(e) for e in server])
    check(oth["entries"] == 0 and oth["queries"] == 0 and oth["total_queries"] == 44,
          "process others record (--top 0): %s", brief(oth))

    # By process name and cgroup: the two digs and the two python3 add up.
    ents, oth = rep.table("process_stats", "by", "comm")
    expect(find(ents, "comm dig", comm="dig", cgroup=cg), "comm dig", 12, 12, nxdomain=2,
           qtypes={"A": 9, "MX": 3}, udp=24, distinct_names=3)
    expect(find(ents, "comm python3", comm="python3", cgroup=cg), "comm python3", 11, 9,
           unanswered=2, udp=20, distinct_names=3)
    check(all("pid" not in e for e in ents), "by comm entries carry a pid")
    rest = [e for e in ents if e["comm"] not in ("dig", "python3")]
    check(all(e["comm"].startswith("nsd") for e in rest) and sum_figures(rest) == want,
          "by comm: nsd's names want %s: %s", want, [brief(e) for e in rest])
    check(oth["total_queries"] == 44 and oth["queries"] == 0, "comm others: %s", brief(oth))

    # Peers: nsd's address (every answered query once) and the blackhole;
    # nsd's copies (peer = the client) are mirrors, not counted here.
    ents, oth = rep.table("peer_stats")
    expect(find(ents, "peer nsd", peer=lab.srv4, port=53, proto="udp"),
           "peer %s:53 udp" % lab.srv4, 21, 21, nxdomain=2,
           qtypes={"A": 9, "TXT": 5, "AAAA": 4, "MX": 3}, udp=42, distinct_names=4)
    expect(find(ents, "peer blackhole", peer=lab.blackhole4, port=53, proto="udp"),
           "peer %s:53 udp (blackhole)" % lab.blackhole4, 2, 0, unanswered=2,
           qtypes={"A": 2}, udp=2, distinct_names=1)
    check(len(ents) == 2, "peers other than nsd and the blackhole (the client's address "
          "must not be a peer: nsd's copies are mirrors): %s", [brief(e) for e in ents])
    check(oth["total_queries"] == 23 and oth["entries"] == 0, "peer others: %s", brief(oth))

    # Names: exactly the numbers sent.
    ents, oth = rep.table("name_stats")
    expect(find(ents, "name", name="www.lab.test"), "www.lab.test", 11, 11,
           qtypes={"A": 7, "AAAA": 4}, udp=22, distinct_addrs=WWW_ADDRS,
           distinct_addrs_estimated=False)
    expect(find(ents, "name", name="mail.lab.test"), "mail.lab.test", 3, 3, qtypes={"MX": 3},
           udp=6, distinct_addrs=0)
    expect(find(ents, "name", name="txt.lab.test"), "txt.lab.test", 5, 5, qtypes={"TXT": 5},
           udp=10, distinct_addrs=0)
    expect(find(ents, "name", name="nope.lab.test"), "nope.lab.test", 2, 2, nxdomain=2,
           qtypes={"A": 2}, udp=4, distinct_addrs=0)
    expect(find(ents, "name", name="hole.lab.test"), "hole.lab.test", 2, 0, unanswered=2,
           qtypes={"A": 2}, udp=2, distinct_addrs=0)
    check(len(ents) == 5, "names: want 5, got %s", [e["name"] for e in ents])
    check(oth["total_queries"] == 23, "name others: %s", brief(oth))

    # Process x name.
    ents, oth = rep.table("pair_stats", "pair", "process_name")
    for label, name, q, r, kw in (("A", "www.lab.test", 7, 7, {}),
                                  ("A", "mail.lab.test", 3, 3, {}),
                                  ("B", "nope.lab.test", 2, 2, {"nxdomain": 2}),
                                  ("C", "txt.lab.test", 5, 5, {}),
                                  ("C", "www.lab.test", 4, 4, {}),
                                  ("D", "hole.lab.test", 2, 0, {"unanswered": 2})):
        expect(find(ents, "process_name", pid=p[label], name=name),
               "process_name %s x %s" % (label, name), q, r, **kw)
    for name, q, nx in (("www.lab.test", 11, 0), ("mail.lab.test", 3, 0),
                        ("txt.lab.test", 5, 0), ("nope.lab.test", 2, 2)):
        got = sum_figures([e for e in ents if e["pid"] in nsd and e["name"] == name])
        check((got["queries"], got["responses"], got["rcodes"]["NXDOMAIN"]) == (q, q, nx),
              "process_name nsd x %s: want %d queries, %d responses, %d NXDOMAIN; got %s",
              name, q, q, nx, got)
    check(not [e for e in ents if e["pid"] in nsd and e["name"] == "hole.lab.test"],
          "nsd never saw hole.lab.test")
    check(len({(e["pid"], e["name"]) for e in ents if e["pid"] not in nsd}) == 6
          and all(e["pid"] in nsd or e["pid"] in p.values() for e in ents),
          "process_name: unexpected pairs: %s", [brief(e) for e in ents])
    check(oth["total_queries"] == 44, "process_name others: %s", brief(oth))

    # Process x peer: clients -> nsd or the blackhole; nsd -> the client's address.
    ents, oth = rep.table("pair_stats", "pair", "process_peer")
    for label, peer, q, r, kw in (("A", lab.srv4, 10, 10, {}),
                                  ("B", lab.srv4, 2, 2, {"nxdomain": 2}),
                                  ("C", lab.srv4, 9, 9, {}),
                                  ("D", lab.blackhole4, 2, 0, {"unanswered": 2})):
        expect(find(ents, "process_peer", pid=p[label], peer=peer, port=53, proto="udp"),
               "process_peer %s x %s" % (label, peer), q, r, **kw)
    clients = [e for e in ents if e["pid"] not in nsd]
    check(len(clients) == 4, "process_peer: client pairs %s", [brief(e) for e in clients])
    served = [e for e in ents if e["pid"] in nsd]
    check(all(e["peer"] == lab.cli4 and e["proto"] == "udp" for e in served),
          "nsd's peers must be the client address %s: %s", lab.cli4,
          [brief(e) for e in served])
    check(sum_figures(served) == want, "process_peer nsd x client: want %s, got %s", want,
          sum_figures(served))
    check(oth["total_queries"] == 44, "process_peer others: %s", brief(oth))

    # Client x name: the one client address, each name once per exchange.
    ents, oth = rep.table("pair_stats", "pair", "client_name")
    for name, q, r, kw in (("www.lab.test", 11, 11, {}), ("mail.lab.test", 3, 3, {}),
                           ("txt.lab.test", 5, 5, {}),
                           ("nope.lab.test", 2, 2, {"nxdomain": 2}),
                           ("hole.lab.test", 2, 0, {"unanswered": 2})):
        expect(find(ents, "client_name", client=lab.cli4, name=name),
               "client_name %s x %s" % (lab.cli4, name), q, r, **kw)
    check(len(ents) == 5, "client_name: want 5 pairs, got %s", [brief(e) for e in ents])
    check(oth["total_queries"] == 23, "client_name others: %s", brief(oth))

    # The session's capture statistics agree: 2 unanswered, 21 + 21 matched.
    st = [r for r in recs if r.get("type") == "capture_stats"]
    check(len(st) == 1 and recs[-1] is st[0], "capture_stats: want one, last")
    check(st[0]["unanswered"] == 2 and st[0]["responses_matched"] == 42
          and st[0]["events_lost"] == 0, "capture_stats %s", st[0])


FIGURES = ("queries", "queries_error", "responses", "unanswered", "udp", "tcp", "truncated",
           "bytes_query", "bytes_response")


def key_of(r):
    return tuple((k, r[k]) for k in KEY_FIELDS if k in r)


def add_into(acc, r):
    a = acc.setdefault(key_of(r), {"rcodes": {}, "qtypes": {}, "lat": 0, "min": None,
                                   "max": None, "first": None, "last": None})
    for k in FIGURES:
        a[k] = a.get(k, 0) + r[k]
    for k, v in r["rcodes"].items():
        a["rcodes"][k] = a["rcodes"].get(k, 0) + v
    for k, v in r["qtypes"].items():
        a["qtypes"][k] = a["qtypes"].get(k, 0) + v
    lat = r.get("latency")
    if lat:
        a["lat"] += lat["count"]
        a["min"] = lat["min_ns"] if a["min"] is None else min(a["min"], lat["min_ns"])
        a["max"] = lat["max_ns"] if a["max"] is None else max(a["max"], lat["max_ns"])
    if r["first_seen"]:
        a["first"] = r["first_seen"] if a["first"] is None else min(a["first"], r["first_seen"])
        a["last"] = r["last_seen"] if a["last"] is None else max(a["last"], r["last_seen"])


def aggregate(rows):
    acc = {}
    for r in rows:
        if not r["others"]:
            add_into(acc, r)
    for a in acc.values():
        a["qtypes"] = {k: v for k, v in a["qtypes"].items() if v}
    return acc


def test_interval(lab):
    """--interval 2 over ~5 s of spaced queries: interval and total reports;
    every total equals the sum of the intervals up to it."""
    traffic = Traffic()

    def work():
        run_client(lab, "E", ["www.lab.test,A,6", "nope.lab.test,A,2",
                              "hole.lab.test,A,2,%s" % lab.blackhole4], traffic,
                   timeout=0.4, spacing=0.45)

    t = tracer_session(lab, ["--no-events", "--interval", "2", "--top", "0", "--timeout", "1"],
                       work, settle=0.5)
    e = traffic.clients["E"][1]
    check((e["sent"], e["noerror"], e["nxdomain"], e["timeouts"]) == (10, 6, 2, 2),
          "dnsclient: %s", e)
    stats = stats_records(t.records())
    check({r["scope"] for r in stats} == {"interval", "total"}, "scopes %s",
          sorted({r["scope"] for r in stats}))
    windows = sorted({(r["window_start"], r["window_end"]) for r in stats
                      if r["scope"] == "interval"})
    totals = sorted({(r["window_start"], r["window_end"]) for r in stats
                     if r["scope"] == "total"})
    check(len(windows) >= 3, "~5 s at --interval 2: want at least 3 intervals, got %s", windows)
    check(len(totals) == len(windows), "one total report per interval: %d vs %d",
          len(totals), len(windows))
    for (s0, e0), (s1, _) in zip(windows, windows[1:]):
        check(e0 == s1, "intervals not contiguous: %s .. %s then %s", s0, e0, s1)
    for s, e in windows[:-1]:
        check(rfc3339_to_us(e) - rfc3339_to_us(s) == 2 * 10**6, "interval %s .. %s is not 2 s",
              s, e)
    with_queries = 0
    for i, (ts, te) in enumerate(totals):
        check(ts == windows[0][0] and te == windows[i][1],
              "total %d window %s .. %s, intervals %s", i, ts, te, windows[:i + 1])
        upto = {w for w in windows[:i + 1]}
        for rtype, gkey, gval in TABLES:
            def rows(scope, keep):
                return [r for r in stats if r["type"] == rtype and r["scope"] == scope
                        and (gkey is None or r.get(gkey) == gval)
                        and keep((r["window_start"], r["window_end"]))]
            summed = aggregate(rows("interval", lambda w: w in upto))
            total = aggregate(rows("total", lambda w: w == (ts, te)))
            check(summed == total, "%s %s: total at %s differs from the sum of its "
                  "intervals:\n  sum   %s\n  total %s", rtype, gval or "", te, summed, total)
    for w in windows:
        peers = [r for r in stats if r["type"] == "peer_stats" and r["scope"] == "interval"
                 and (r["window_start"], r["window_end"]) == w and not r["others"]
                 and r["peer"] == lab.srv4]
        with_queries += bool(peers and peers[0]["queries"])
    check(with_queries >= 2, "queries fell into only %d interval(s): the merge is not tested",
          with_queries)
    # And the final totals are the numbers sent.
    rep = final_total(t.records())
    ents, _ = rep.table("name_stats")
    expect(find(ents, "name", name="www.lab.test"), "www.lab.test", 6, 6, qtypes={"A": 6})
    expect(find(ents, "name", name="nope.lab.test"), "nope.lab.test", 2, 2, nxdomain=2)
    expect(find(ents, "name", name="hole.lab.test"), "hole.lab.test", 2, 0, unanswered=2)
    ents, _ = rep.table("process_stats", "by", "pid")
    expect(find(ents, "dnsclient", pid=traffic.clients["E"][0]), "dnsclient", 10, 8,
           unanswered=2, nxdomain=2, comm="python3")


def text_tables(out):
    """{title: (title line, header tokens, rows as lists of tokens)}."""
    tables, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^# (.+?) \((.*)\)$", line)
        if m:
            cur = {"title": line, "header": None, "rows": []}
            tables[m.group(1)] = cur
            continue
        if cur is None:
            continue
        if not line.strip():
            cur = None
        elif cur["header"] is None:
            cur["header"] = line.split()
        else:
            cur["rows"].append(line.split())
    return tables


def cells(row, at):
    """A row's tokens with the RCODES words from index at joined into one list
    (cut to what fits when the column was narrowed: "NXDOMAIN:1 …")."""
    end = at
    while end < len(row) and (":" in row[end] or row[end] in ("…", "-")):
        end += 1
    return row[:at] + [row[at:end]] + row[end:]


def mix_is(got, want):
    """The RCODES cell shows want, or its first words then "…"."""
    return got == want or (got[-1:] == ["…"] and want[:len(got) - 1] == got[:-1])


def test_text_format(lab):
    """--format text --no-events: the seven tables, with dig and python3 in them."""
    traffic = Traffic()

    def work():
        run_dig_batch(lab, "T", ["www.lab.test A"] * 3 + ["nope.lab.test A"], traffic)
        run_client(lab, "U", ["txt.lab.test,TXT,2"], traffic)

    t = tracer_session(lab, ["--format", "text", "--no-events", "--top", "0"], work)
    out = t.output()
    check(not re.search(r"^\s*\{", out, re.M), "JSON in text output: %s", out[:500])
    check("->" not in out, "--no-events printed message lines: %s",
          out[:1000])
    tables = text_tables(out)
    titles = [m.group(1) for m in re.finditer(r"^# (.+?) \(", out, re.M)
              if m.group(1) in TEXT_TITLES]
    check(titles == list(TEXT_TITLES), "table titles %s, want %s", titles, TEXT_TITLES)
    for name in TEXT_TITLES:
        tb = tables[name]
        check(re.search(r"\((all \d+|top \d+ of \d+) by queries; \d{4}-\d\d-\d\d "
                        r"\d\d:\d\d:\d\d \.\. .* UTC, total\)$", tb["title"]),
              "title line %r", tb["title"])
        check(tb["header"] and tb["rows"], "table %s is empty: %s", name, tb)
    dpid, ppid = traffic.digs["T"].pid, traffic.clients["U"][0]
    hdr = tables["processes"]["header"]
    check(hdr[:7] == ["PID", "COMM", "QUERIES", "RESP", "RCODES", "UNANS", "RETX"],
          "processes header %s", hdr)
    rows = {r[0]: cells(r, 4) for r in tables["processes"]["rows"]}
    d = rows.get(str(dpid), [None] * 7)
    check(d[1:4] == ["dig", "4", "4"] and mix_is(d[4], ["NXDOMAIN:1", "NOERROR:3"])
          and d[5:7] == ["0", "0"],
          "processes: want dig(%d) 4 queries 4 responses 1 NXDOMAIN: %s", dpid, rows)
    check(str(ppid) in rows
          and rows[str(ppid)][1:7] == ["python3", "2", "2", ["NOERROR:2"], "0", "0"],
          "processes: want python3(%d) 2 queries: %s", ppid, rows)
    rows = {r[0]: cells(r, 3) for r in tables["processes by name and cgroup"]["rows"]}
    d = rows.get("dig", [None] * 6)
    check(d[1:3] == ["4", "4"] and mix_is(d[3], ["NXDOMAIN:1", "NOERROR:3"])
          and d[4:6] == ["0", "0"], "by name: dig %s", rows)
    rows = {r[0]: r for r in tables["names"]["rows"]}
    check(tables["names"]["header"][:4] == ["NAME", "QUERIES", "RESP", "RCODES"]
          and rows.get("www.lab.test", [])[1:3] == ["3", "3"]
          and rows.get("nope.lab.test", [])[1:4] == ["1", "1", "NXDOMAIN:1"]
          and rows.get("txt.lab.test", [])[1:3] == ["2", "2"] and len(rows) == 3,
          "names table: %s", tables["names"]["rows"])
    rows = [r for r in tables["peers"]["rows"]]
    check(rows and rows[0][:4] == [lab.srv4, "53", "udp", "6"] and len(rows) == 1,
          "peers table: want %s 53 udp 6 queries: %s", lab.srv4, rows)
    check(any(r[:2] == [str(dpid), "dig"] for r in tables["process x name"]["rows"]),
          "dig missing from process x name")
    check(any(r[:2] == [lab.cli4, "www.lab.test"] and r[2] == "3"
              for r in tables["client x name"]["rows"]),
          "client x name: %s", tables["client x name"]["rows"])
    rows = tables["clients"]["rows"]
    check(tables["clients"]["header"][:6] == ["CLIENT", "QUERIES", "RESP", "RCODES", "UNANS",
                                             "RETX"]
          and len(rows) == 1
          and cells(rows[0], 3)[:6] == [lab.cli4, "6", "6", ["NXDOMAIN:1", "NOERROR:5"], "0",
                                        "0"],
          "clients: want %s 6 queries, 5 NOERROR, 1 NXDOMAIN: %s", lab.cli4, rows)


def test_top(lab):
    """--top 1: one entry per table and an others record holding the rest."""
    traffic = Traffic()

    def work():
        run_dig_batch(lab, "V", ["www.lab.test A"] * 5 + ["mail.lab.test MX"] * 2, traffic)
        run_client(lab, "W", ["txt.lab.test,TXT,3", "nope.lab.test,A,1",
                              "hole.lab.test,A,1,%s" % lab.blackhole4], traffic, timeout=0.5)

    t = tracer_session(lab, ["--no-events", "--top", "1", "--timeout", "1"], work)
    rep = final_total(t.records())
    # Per table: total queries, responses, unanswered; entries (None: nsd's
    # split between its processes is not fixed); the top entry when known.
    proc = (23, 22, 1)  # dig 7 + python3 5 + nsd 11 (server side)
    host = (12, 11, 1)  # each exchange once
    plan = {
        ("process_stats", "pid"): proc + (None, None),
        ("process_stats", "comm"): proc + (None, None),
        ("peer_stats", None): host + (2, {"peer": lab.srv4, "queries": 11}),
        ("name_stats", None): host + (5, {"name": "www.lab.test", "queries": 5}),
        ("client_stats", None): host + (1, {"client": lab.cli4, "queries": 12}),
        ("pair_stats", "process_peer"): proc + (None, None),
        ("pair_stats", "process_name"): proc + (None, {"queries": 5}),
        ("pair_stats", "client_name"): host + (5, {"name": "www.lab.test", "queries": 5}),
    }
    for rtype, gkey, gval in TABLES:
        q, r, u, n, top = plan[(rtype, gval)]
        what = "%s %s" % (rtype, gval or "")
        ents, oth = rep.table(rtype, gkey, gval)
        check(len(ents) == 1 and ents[0]["rank"] == 1, "%s: --top 1 listed %d entries", what,
              len(ents))
        e = ents[0]
        if top:
            check(all(e.get(k) == v for k, v in top.items()), "%s: top entry %s, want %s",
                  what, brief(e), top)
        check(oth["total_queries"] == q, "%s: total_queries %d, want %d", what,
              oth["total_queries"], q)
        check(oth["queries"] == q - e["queries"] and (oth["queries"] > 0 or n == 1),
              "%s: others has %d queries, want %d - %d", what, oth["queries"], q, e["queries"])
        check(oth["responses"] + e["responses"] == r and oth["unanswered"] + e["unanswered"] == u,
              "%s: responses %d + %d (want %d), unanswered %d + %d (want %d)", what,
              e["responses"], oth["responses"], r, e["unanswered"], oth["unanswered"], u)
        if n is not None:
            check(oth["entries"] == n - 1, "%s: others.entries %d, want %d", what,
                  oth["entries"], n - 1)
        else:
            check(oth["entries"] >= 2, "%s: others.entries %d", what, oth["entries"])
    ents, oth = rep.table("name_stats")
    check(oth["rcodes"]["NXDOMAIN"] == 1 and oth["rcodes"]["NOERROR"] == 5
          and oth["qtypes"] == {"TXT": 3, "MX": 2, "A": 2, "other": 0}
          and oth["latency"]["count"] == 6,
          "names others (mail 2, txt 3, nope 1 NXDOMAIN, hole 1 unanswered): %s", brief(oth))


def percentile_ok(got, values, p):
    """A reported percentile: the upper edge of the log bucket holding the value of
    rank ceil(p/100 * n), capped at the max (docs/output.md): at most 1/64 above
    it, or 16 ns below 1024 ns."""
    values = sorted(values)
    true = values[max(0, -(-p * len(values) // 100) - 1)]
    slack = max(true // 64, 16)
    return true <= got <= min(true + slack, values[-1])


def check_latency_exact(entry, what, latencies):
    lat = entry["latency"]
    check(lat["count"] == len(latencies) and lat["min_ns"] == min(latencies)
          and lat["max_ns"] == max(latencies),
          "%s: latency %s, the dns records' latencies are %s", what, lat, sorted(latencies))
    for p in (50, 90, 99):
        check(percentile_ok(lat["p%d_ns" % p], latencies, p),
              "%s: p%d_ns %d for latencies %s", what, p, lat["p%d_ns" % p], sorted(latencies))


def test_figures_match_events(lab):
    """With events on, the summary's latencies, bytes and times are those of the
    dns records: host-wide tables from the clients' copies, nsd's from its own."""
    traffic = Traffic()

    def work():
        run_dig_batch(lab, "X", ["www.lab.test A"] * 6 + ["nope.lab.test A"] * 2, traffic)
        run_client(lab, "Y", ["www.lab.test,AAAA,3", "txt.lab.test,TXT,2"], traffic)

    t = tracer_session(lab, ["--summary", "--top", "0"], work)
    recs = t.records()
    dns = [r for r in recs if r.get("type") == "dns"]
    check(len(dns) == 13 * 4, "want 52 dns records (13 exchanges x 4 copies), got %d", len(dns))
    clients = {traffic.digs["X"].pid, traffic.clients["Y"][0]}
    nsd = set(lab.nsd_pids())
    client_copy = [r for r in dns if r["pid"] in clients]
    server_copy = [r for r in dns if r["pid"] in nsd]
    check(len(client_copy) == 26 and len(server_copy) == 26,
          "client copies %d, nsd copies %d (want 26 each)", len(client_copy), len(server_copy))
    rep = final_total(recs)
    names, _ = rep.table("name_stats")
    for name in ("www.lab.test", "nope.lab.test", "txt.lab.test"):
        mine = [r for r in client_copy if r["qname"] == name]
        e = find(names, "name", name=name)
        what = "name %s" % name
        check_latency_exact(e, what, [r["latency_ns"] for r in mine if r["qr"] == "response"])
        want = (sum(r["len"] for r in mine if r["qr"] == "query"),
                sum(r["len"] for r in mine if r["qr"] == "response"),
                min(r["ts"] for r in mine), max(r["ts"] for r in mine))
        got = (e["bytes_query"], e["bytes_response"], e["first_seen"], e["last_seen"])
        check(got == want, "%s: (bytes_query, bytes_response, first_seen, last_seen) %s, "
              "from the clients' dns records %s", what, got, want)
    peers, _ = rep.table("peer_stats")
    check_latency_exact(find(peers, "peer", peer=lab.srv4), "peer %s" % lab.srv4,
                        [r["latency_ns"] for r in client_copy if r["qr"] == "response"])
    procs, _ = rep.table("process_stats", "by", "pid")
    for pid in clients:
        check_latency_exact(find(procs, "process", pid=pid), "process %d" % pid,
                            [r["latency_ns"] for r in client_copy
                             if r["qr"] == "response" and r["pid"] == pid])
    sender = [e for e in procs if e["pid"] in nsd and e["responses"]]
    check(len(sender) == 1, "nsd processes with responses: %s", [brief(e) for e in sender])
    check_latency_exact(sender[0], "nsd (pid %d)" % sender[0]["pid"],
                        [r["latency_ns"] for r in server_copy if r["qr"] == "response"])


CASES = [test_counts, test_interval, test_text_format, test_top, test_figures_match_events]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces, cgroups",
                                {"tag": "stats", "cgroup": True})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
