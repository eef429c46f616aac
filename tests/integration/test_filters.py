#!/usr/bin/python3
"""Integration tests for the display filters (docs/output.md, "Display
filters"): --name, --rcode, --qtype, --dir, --unanswered, --slower-than,
--client, --server, and --filter-stats.

Needs no root and never skips. The input is one pcap written by
tools/gen-pcap (Linux cooked v2, so every packet has a direction; UDP and
TCP, IPv4 and IPv6, NOERROR/NXDOMAIN/SERVFAIL/REFUSED, many types,
unanswered queries). The oracle is dnssnoop's own unfiltered output of the
same file, filtered here in Python by the documented rule: each filtered
run must print exactly those records, in the same order, and every
filter's result must be neither empty nor everything, so that a filter
that passes all or nothing fails. Also:
  - the statistics records are those of the unfiltered run without
    --filter-stats, and count only what passes with it;
  - -w with a filter writes a pcap that, read back, gives the records that
    passed (less what a file of them cannot know: a response whose query
    was left out has no latency; an unanswered query's wait ends with the
    file);
  - --dnstap-out with a filter writes only the messages that pass;
  - bad values are usage errors (exit 2, one message naming the flag and
    the value, nothing on stdout).

Usage: python3 tests/integration/test_filters.py [CASE-SUBSTRING...]
Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped";
exits 1 if a case failed.
"""

import fnmatch
import ipaddress
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, check  # noqa: E402

GEN = os.path.join(REPO, "tools", "gen-pcap")
EVENTS = ("dns", "unanswered")


class Fixture:
    """The generated capture and the oracle: its unfiltered records."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.pcap = os.path.join(tmp, "mix.pcap")
        p = subprocess.run([sys.executable, GEN, "-o", self.pcap, "-n", "3000", "--seed", "5",
                            "--link", "sll2", "--tcp-share", "0.2", "--unanswered", "0.05"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        check(p.returncode == 0, "gen-pcap failed: %s", p.stderr.decode()[-1000:])
        run = runner.Run(["-r", self.pcap]).ok()
        self.records = [r for r in run.records if r["type"] in EVENTS]
        self.stats = [r for r in run.records if r["type"] == "capture_stats"]
        protos = {(r["proto"], ":" in r["saddr"]) for r in self.records}
        check(len(protos) == 4, "the capture should mix UDP, TCP, IPv4, IPv6: %s", protos)
        check(any(r["type"] == "unanswered" for r in self.records), "no unanswered query")

    def path(self, name):
        return os.path.join(self.tmp, name)


# ---------------------------------------------------------------- the rule, in Python

def is_response(r):
    return r["type"] == "dns" and r["qr"] == "response"


def ends(r):
    """(client, server): the client sent the query."""
    c, s = r["saddr"], r["daddr"]
    return (s, c) if is_response(r) else (c, s)


def in_any(a, nets):
    ip = ipaddress.ip_address(a)
    return any(ip.version == n.version and ip in n for n in nets)


def rcode_passes(r, rcodes):
    if r["type"] == "unanswered":
        return "none" in rcodes
    return is_response(r) and r["rcode"] in rcodes


def slower_passes(r, ns):
    return r["type"] == "unanswered" or r.get("latency_ns", -1) > ns


CONDITIONS = {
    "name": lambda r, v: r["qname"] is not None and any(
        fnmatch.fnmatchcase(r["qname"].lower(), g.lower()) for g in v),
    "rcode": rcode_passes,
    "qtype": lambda r, v: r["qtype"] in v,
    "dir": lambda r, v: r["dir"] in v,
    "unanswered": lambda r, v: r["type"] == "unanswered",
    "slower": slower_passes,
    "client": lambda r, v: in_any(ends(r)[0], v),
    "server": lambda r, v: in_any(ends(r)[1], v),
}


def passes(r, rule):
    return all(CONDITIONS[k](r, v) for k, v in rule.items())


# (the flags, the same rule for Python)
FILTERS = [
    (["--name", "*.EXAMPLE.net"], {"name": ["*.example.net"]}),
    (["--name", "data1*", "--name", "*.corp.example"], {"name": ["data1*", "*.corp.example"]}),
    (["--rcode", "NXDOMAIN"], {"rcode": ["NXDOMAIN"]}),
    (["--rcode", "servfail", "--rcode", "REFUSED"], {"rcode": ["SERVFAIL", "REFUSED"]}),
    (["--rcode", "none"], {"rcode": ["none"]}),
    (["--qtype", "AAAA"], {"qtype": ["AAAA"]}),
    (["--qtype", "TYPE15", "--qtype", "txt"], {"qtype": ["MX", "TXT"]}),
    (["--dir", "ingress"], {"dir": ["ingress"]}),
    (["--dir", "egress"], {"dir": ["egress"]}),
    (["--unanswered"], {"unanswered": True}),
    (["--slower-than", "50ms"], {"slower": 50000000}),
    (["--slower-than", "49999.5us"], {"slower": 49999500}),
    (["--client", "10.1.0.0/16"], {"client": [ipaddress.ip_network("10.1.0.0/16")]}),
    (["--client", "fd00:c::/32", "--client", "10.1.2.0/24"],
     {"client": [ipaddress.ip_network("fd00:c::/32"), ipaddress.ip_network("10.1.2.0/24")]}),
    (["--server", "10.0.0.1"], {"server": [ipaddress.ip_network("10.0.0.1/32")]}),
    (["--server", "fd00::53/128"], {"server": [ipaddress.ip_network("fd00::53/128")]}),
    # combinations: different flags AND, repeats OR
    (["--qtype", "A", "--rcode", "NXDOMAIN"], {"qtype": ["A"], "rcode": ["NXDOMAIN"]}),
    (["--server", "10.0.0.0/8", "--slower-than", "20ms", "--dir", "ingress"],
     {"server": [ipaddress.ip_network("10.0.0.0/8")], "slower": 20000000, "dir": ["ingress"]}),
    (["--name", "*.lab.test", "--unanswered", "--client", "0.0.0.0/0"],
     {"name": ["*.lab.test"], "unanswered": True, "client": [ipaddress.ip_network("0.0.0.0/0")]}),
]


def expected(fx, rule):
    want = [r for r in fx.records if passes(r, rule)]
    check(0 < len(want) < len(fx.records), "rule %s keeps %d of %d records: the case could not "
          "fail both ways", rule, len(want), len(fx.records))
    return want


def events(run):
    return [r for r in run.records if r["type"] in EVENTS]


def brief(r):
    return "%s %s %s %s %s" % (r["type"], r["ts"], r["qname"], r["qtype"], r.get("rcode"))


def check_same(got, want, what):
    if got == want:
        return
    first = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got),
                                                                                len(want)))
    check(False, "%s: %d records, want %d; first difference at %d: %s / %s", what, len(got),
          len(want), first, brief(got[first]) if first < len(got) else "-",
          brief(want[first]) if first < len(want) else "-")


# ---------------------------------------------------------------- cases

def test_each_filter_against_the_oracle(fx):
    """Each filter and combination prints exactly the oracle's records that
    pass the rule, in order; capture_stats counts as without it."""
    for flags, rule in FILTERS:
        run = runner.Run(["-r", fx.pcap] + flags).ok()
        check_same(events(run), expected(fx, rule), " ".join(flags))
        stats = [r for r in run.records if r["type"] == "capture_stats"]
        check(stats == fx.stats, "%s: capture_stats differs: %s", flags, stats)


def statistics(run):
    return [r for r in run.records if r["type"].endswith("_stats") and r["type"] != "capture_stats"]


def test_statistics_narrowed_only_with_filter_stats(fx):
    """Without --filter-stats the statistics are the unfiltered run's;
    with it, the peers' queries, responses and unanswered add up to the
    records that pass."""
    base = ["-r", fx.pcap, "--no-events", "--top", "0"]
    flags, rule = ["--qtype", "AAAA", "--client", "10.0.0.0/8"], {
        "qtype": ["AAAA"], "client": [ipaddress.ip_network("10.0.0.0/8")]}
    whole = statistics(runner.Run(base).ok())
    check(whole, "no statistics records")
    check(statistics(runner.Run(base + flags).ok()) == whole,
          "a filter without --filter-stats changed the statistics")
    narrowed = statistics(runner.Run(base + flags + ["--filter-stats"]).ok())
    want = expected(fx, rule)
    peers = [r for r in narrowed if r["type"] == "peer_stats"]
    for field, n in (("queries", sum(r["type"] == "dns" and r["qr"] == "query" for r in want)),
                     ("responses", sum(is_response(r) for r in want)),
                     ("unanswered", sum(r["type"] == "unanswered" for r in want))):
        got = sum(p[field] for p in peers)
        check(got == n, "--filter-stats: peers' %s add up to %d, want %d", field, got, n)
    check(sum(p["qtypes"].get("A", 0) for p in peers) == 0, "an A query was counted")


def strip(r, fields):
    return {k: v for k, v in r.items() if k not in fields}


def write_and_read_back(fx, flags, name):
    pcap = fx.path(name)
    run = runner.Run(["-r", fx.pcap, "-w", pcap] + flags).ok()
    return events(run), events(runner.Run(["-r", pcap]).ok())


def sorted_json(recs, drop):
    return sorted(json.dumps(strip(r, drop), sort_keys=True) for r in recs)


def test_write_keeps_what_passes(fx):
    """-w with a filter: the file read back gives the records that passed.
    With a name filter (queries, responses, unanswered queries all kept)
    every field but the wait of an unanswered query; with an rcode filter
    the responses, without the latency their queries (left out) gave; with
    --unanswered the queries, as unanswered again."""
    shown, back = write_and_read_back(fx, ["--name", "*.example.net"], "name.pcap")
    check(shown == expected(fx, {"name": ["*.example.net"]}), "the filtered run itself differs")
    check(sorted_json(back, ("waited_ns",)) == sorted_json(shown, ("waited_ns",)),
          "--name: read back %d records, want %d", len(back), len(shown))
    shown, back = write_and_read_back(fx, ["--rcode", "NXDOMAIN", "--rcode", "SERVFAIL"], "rc.pcap")
    check(sorted_json(back, ("latency_ns",)) == sorted_json(shown, ("latency_ns",)),
          "--rcode: read back %d records, want %d", len(back), len(shown))
    shown, back = write_and_read_back(fx, ["--unanswered"], "unans.pcap")
    again = [r for r in back if r["type"] == "unanswered"]
    check(sorted_json(again, ("waited_ns",)) == sorted_json(shown, ("waited_ns",)),
          "--unanswered: read back %d unanswered, want %d", len(again), len(shown))
    check(len(back) == 2 * len(shown), "--unanswered: read back %d records, want each query "
          "and its unanswered record (%d)", len(back), 2 * len(shown))


def test_dnstap_out_keeps_what_passes(fx):
    """--dnstap-out with a filter writes the messages that pass, read back
    as the same ids, names and types."""
    out = fx.path("f.dnstap")
    flags, rule = ["--rcode", "NXDOMAIN", "--server", "fd00::/16"], {
        "rcode": ["NXDOMAIN"], "server": [ipaddress.ip_network("fd00::/16")]}
    runner.Run(["-r", fx.pcap, "--dnstap-out", out, "-o", os.devnull] + flags).ok()
    back = events(runner.Run(["-r", out]).ok())

    def keys(recs):
        return sorted((r["id"], r["qname"], r["qtype"], r["qr"], r.get("rcode")) for r in recs)
    check(keys(back) == keys(expected(fx, rule)), "dnstap read back: %d messages, want %d",
          len(back), len(expected(fx, rule)))


BAD = [
    (["--rcode", "NXDOMAN"], "--rcode", "NXDOMAN"),
    (["--qtype", "AAAAA"], "--qtype", "AAAAA"),
    (["--qtype", "TYPE65536"], "--qtype", "TYPE65536"),
    (["--dir", "both"], "--dir", "both"),
    (["--slower-than", "10 ms"], "--slower-than", "10 ms"),
    (["--slower-than", "1.5ns"], "--slower-than", "1.5ns"),
    (["--slower-than", "-1s"], "--slower-than", "-1s"),
    (["--client", "10.0.0.0/33"], "--client", "10.0.0.0/33"),
    (["--server", "fd00::/129"], "--server", "fd00::/129"),
    (["--server", "example.com"], "--server", "example.com"),
    (["--name", ""], "--name", ""),
]


def test_bad_values_are_usage_errors(fx):
    """A bad value: exit 2, one line naming the flag and the value (and the
    help hint), nothing on stdout; --filter-stats without a filter too."""
    for args, flag, value in BAD:
        run = runner.Run(["-r", fx.pcap] + args, text=True)
        lines = run.stderr.splitlines()
        check(run.rc == 2, "%s: exit %d, want 2", args, run.rc)
        check(run.stdout == "", "%s: %d bytes on stdout", args, len(run.stdout))
        check(len(lines) == 2 and lines[0].startswith("dnssnoop: %s: '%s' " % (flag, value)),
              "%s: message %r", args, run.stderr)
    run = runner.Run(["-r", fx.pcap, "--filter-stats"], text=True)
    check(run.rc == 2 and "--filter-stats" in run.stderr and run.stdout == "",
          "--filter-stats alone: exit %d, %r", run.rc, run.stderr)


def test_count_counts_what_passes(fx):
    """-c N with a filter stops after N records that pass."""
    run = runner.Run(["-r", fx.pcap, "--rcode", "NXDOMAIN", "-c", "5"]).ok()
    check(events(run) == expected(fx, {"rcode": ["NXDOMAIN"]})[:5], "-c 5: %d records",
          len(events(run)))


CASES = [test_each_filter_against_the_oracle, test_statistics_narrowed_only_with_filter_stats,
         test_write_keeps_what_passes, test_dnstap_out_keeps_what_passes,
         test_bad_values_are_usage_errors, test_count_counts_what_passes]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-filters-", make_arg=Fixture)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
