#!/usr/bin/python3
"""Integration tests for the statistics of an offline capture: the clients
table (client_stats), retransmissions and the text report of a pcap.

Needs no root and never skips. The input is written by tools/gen-pcap with
near-collisions (--collisions), among them queries retransmitted on the
same socket before their answer. Oracles:
  - dnssnoop's own dns and unanswered records, read back in Python: every
    figure of every client_stats entry is recomputed from them (the query's
    sender is the client: the source of a query, the destination of a
    response), retransmissions by replaying the pending queries;
  - the generator's answer key: how many retransmissions it wrote.

Usage: python3 tests/integration/test_stats_offline.py [CASE-SUBSTRING...]
Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped";
exits 1 if a case failed.
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, addr, check  # noqa: E402

GEN = os.path.join(REPO, "tools", "gen-pcap")
RCODE_KEYS = ("NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED")
PROCESS_TITLES = ("processes", "processes by name and cgroup", "process x peer",
                  "process x name")


def gen(tmp):
    """A mix with retransmissions; returns (path, answer key)."""
    path = os.path.join(tmp, "clients.pcap")
    cmd = [sys.executable, GEN, "-o", path, "--key", path + ".key", "-n", "3000",
           "--seed", "21", "--clients", "40", "--family", "mix", "--proto", "mix",
           "--tcp-share", "0.2", "--unanswered", "0.05", "--collisions", "0.15"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    check(p.returncode == 0, "gen-pcap failed: %s", p.stderr.decode()[-1000:])
    with open(path + ".key") as f:
        return path, [json.loads(line) for line in f]


def key_retransmits(key):
    """Queries the generator sent again on the same socket while pending."""
    pending, n = set(), 0
    for k in key:
        if k["qr"] == "query":
            q = (k["proto"], k["saddr"], k["sport"], k["id"], k["qname"])
            n += q in pending
            pending.add(q)
        else:
            pending.discard((k["proto"], k["daddr"], k["dport"], k["id"], k["qname"]))
    return n


def exchange(r):
    """A dns or unanswered record's exchange, oriented client -> server."""
    if r["type"] == "dns" and r["qr"] == "response":
        return (r["proto"], addr(r["daddr"]), r["dport"], addr(r["saddr"]), r["sport"], r["id"],
                r["qname"].lower(), r["qtype"])
    return (r["proto"], addr(r["saddr"]), r["sport"], addr(r["daddr"]), r["dport"], r["id"],
            r["qname"].lower(), r["qtype"])


def clients_from_records(recs):
    """client address -> the figures client_stats must show, from the records."""
    acc, pending = {}, set()

    def entry(client):
        return acc.setdefault(client, {
            "queries": 0, "responses": 0, "unanswered": 0, "retransmits": 0, "udp": 0,
            "tcp": 0, "rcodes": dict.fromkeys(RCODE_KEYS + ("other",), 0), "names": set(),
            "latencies": 0})

    for r in recs:
        if r["type"] not in ("dns", "unanswered") or r.get("qname") is None:
            continue
        ex = exchange(r)
        e = entry(ex[1])
        e["names"].add(r["qname"].lower())
        if r["type"] == "unanswered":
            e["unanswered"] += 1
            pending.discard(ex)
            continue
        e[r["proto"]] += 1
        if r["qr"] == "query":
            e["queries"] += 1
            e["retransmits"] += ex in pending
            pending.add(ex)
        else:
            e["responses"] += 1
            rc = r["rcode"] if r["rcode"] in RCODE_KEYS else "other"
            e["rcodes"][rc] += 1
            e["latencies"] += r.get("latency_ns") is not None
            pending.discard(ex)
    return acc


def as_figures(r):
    return {"queries": r["queries"], "responses": r["responses"],
            "unanswered": r["unanswered"], "retransmits": r["retransmits"], "udp": r["udp"],
            "tcp": r["tcp"], "rcodes": r["rcodes"], "names": r["distinct_names"],
            "latencies": r["latency"]["count"] if r["latency"] else 0}


def test_clients_table_from_records(tmp):
    """client_stats of a pcap: one entry per query sender, every figure equal
    to what the dns and unanswered records say; retransmissions as the
    generator wrote them, in the entries and in capture_stats."""
    path, key = gen(tmp)
    want_retx = key_retransmits(key)
    check(want_retx >= 20, "too few retransmissions in the file: %d", want_retx)
    run = runner.Run(["-r", path, "--summary", "--top", "0"]).ok()
    recs = run.records
    want = clients_from_records(recs)
    check(sum(e["retransmits"] for e in want.values()) == want_retx,
          "the records replay %d retransmissions, the key has %d",
          sum(e["retransmits"] for e in want.values()), want_retx)
    rows = [r for r in recs if r["type"] == "client_stats"]
    entries = [r for r in rows if not r["others"]]
    check(len(entries) == len(want) == 80, "client_stats entries %d, clients in records %d",
          len(entries), len(want))
    check([r["rank"] for r in entries] == list(range(1, 81)), "ranks %s",
          [r["rank"] for r in entries])
    for r in entries:
        check(set(r) >= {"client", "queries", "retransmits"} and "pid" not in r
              and "key_host" not in r and "by" not in r and "pair" not in r,
              "client_stats fields: %s", list(r))
        w = dict(want[r["client"]])
        w["names"] = len(w["names"])
        got = as_figures(r)
        check(got == w and not r["distinct_names_estimated"] and r["queries_error"] == 0,
              "client %s: want %s, got %s", r["client"], w, got)
    others = [r for r in rows if r["others"]]
    check(len(others) == 1 and others[0]["entries"] == 0 and others[0]["queries"] == 0
          and others[0]["total_queries"] == sum(e["queries"] for e in want.values()),
          "client_stats others: %s", others)
    st = [r for r in recs if r["type"] == "capture_stats"]
    check(len(st) == 1 and st[0]["retransmits"] == want_retx,
          "capture_stats retransmits %s, want %d", st[0].get("retransmits"), want_retx)
    # The peers count the same retransmissions; no process can be known here.
    peers = [r for r in recs if r["type"] == "peer_stats" and not r["others"]]
    check(sum(r["retransmits"] for r in peers) == want_retx, "peer_stats retransmits %d",
          sum(r["retransmits"] for r in peers))
    procs = [r for r in recs if r["type"] == "process_stats" or
             (r["type"] == "pair_stats" and r["pair"] != "client_name")]
    check(len(procs) == 4 and all(r["others"] and r["entries"] == 0 for r in procs),
          "JSON keeps one empty others record per process table: %s", procs)


def text_tables(out):
    """{title: [header line, row lines]} of the text report."""
    tables, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^# (.+?) \((.*)\)$", line)
        if m and not line.startswith("# capture stats"):
            cur = tables.setdefault(m.group(1), [])
        elif not line.strip():
            cur = None
        elif cur is not None and not line.startswith("#"):
            cur.append(line)
    return tables


def test_text_report_of_a_pcap(tmp):
    """--format text: no process sections, a clients table whose QUERIES,
    RESP, RCODES, UNANS and RETX are the JSON figures."""
    path = gen(tmp)[0]
    js = runner.Run(["-r", path, "--summary", "--no-events", "--top", "0"]).ok().records
    want = {r["client"]: r for r in js if r["type"] == "client_stats" and not r["others"]}
    p = subprocess.run([runner.TRACER, "-r", path, "--summary", "--no-events", "--top", "0",
                        "--format", "text"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    check(p.returncode == 0, "dnssnoop exited %d: %s", p.returncode, p.stderr[-500:])
    out = p.stdout.decode()
    tables = text_tables(out)
    check(list(tables) == ["peers", "names", "clients", "client x name"],
          "text tables %s", list(tables))
    for t in PROCESS_TITLES:
        check("# %s (" % t not in out, "text output has a %r section", t)
    rows = tables["clients"]
    header = rows[0].split()
    check(header == ["CLIENT", "QUERIES", "RESP", "RCODES", "UNANS", "RETX", "P50", "P99",
                     "NAMES", "TOP-QTYPE"], "clients header %s", header)
    check(len(rows) == 1 + len(want), "clients rows %d, JSON entries %d", len(rows) - 1,
          len(want))
    retx_col = rows[0].index("RETX") + len("RETX")
    for line in rows[1:]:
        tok = line.split()
        r = want[tok[0]]
        fails = sorted(((n, k) for k, n in r["rcodes"].items() if n and k != "NOERROR"),
                       key=lambda x: (-x[0], list(r["rcodes"]).index(x[1])))
        mix = ["%s:%d" % (k, n) for n, k in fails]
        mix += ["NOERROR:%d" % r["rcodes"]["NOERROR"]] if r["rcodes"]["NOERROR"] else []
        text = " ".join(mix) or "-"
        cell = line[rows[0].index("RCODES"):rows[0].index("UNANS")].rstrip()
        check(cell == text or (cell.endswith("…") and text.startswith(cell[:-1])),
              "client %s: RCODES %r, JSON says %r", tok[0], cell, text)
        retx = line[:retx_col].split()[-1]
        unans = line[:retx_col].split()[-2]
        check((tok[1], tok[2], unans, retx) ==
              (str(r["queries"]), str(r["responses"]), str(r["unanswered"]),
               str(r["retransmits"])),
              "client %s: text %s, JSON %s", tok[0], line, (r["queries"], r["responses"],
                                                          r["unanswered"], r["retransmits"]))
    check(any(int(line[:retx_col].split()[-1]) > 0 for line in rows[1:]),
          "no RETX above 0 in %s", rows[:5])


CASES = [test_clients_table_from_records, test_text_report_of_a_pcap]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-stats-offline-")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
