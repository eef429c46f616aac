#!/usr/bin/python3
"""Fleet detection from ClickHouse: dnssnoop --from-clickhouse URL.

Two local ClickHouse 18.16 servers (clickhouse.py) are two shards of the
cluster `fleet`; tools/clickhouse-schema makes dnssnoop's schema on both
(sql/clickhouse/schema.sql; run twice: it is idempotent). The small
tools/gen-scenario capture (3 weeks, planted exclusive pair, beacon,
replacement) is read by dnssnoop and its records split by client address
into three hosts' JSON Lines (host1, host2, host3: the Distributed tables
put them on both shards), and host2's again as host4's with processes for
clients (comm, uid, cgroup: a space and a backslash in comm). Each host's records go in through the sink,
`dnssnoop -r hostN.jsonl --clickhouse URL`, one session per host, as one
sink per host would send them. Then:
  - `dnssnoop --from-clickhouse URL` writes the same finding and case
    records, field by field, as `dnssnoop -r host1.jsonl -r host2.jsonl
    -r host3.jsonl` (one run over the same records); through either
    server; and they are not nothing (the planted findings are there);
  - the messages table holds each host's records (count, ids, lengths,
    names) on both shards, and its aggregates are sums of them;
  - --hosts host1,host3 is the same as -r over those two hosts' files, a
    case of host2 disappears with it; the glob host? keeps all; a glob
    that matches nothing finds nothing;
  - --since keeps fewer days (fewer lookups judged), a long --since all;
  - errors, each one line and exit 1: not a URL, nothing listening, a
    wrong password, a missing database, a database without the schema's
    tables, a server that is not ClickHouse
    (an HTTP server answering 200 with junk, one answering 404).

Usage: python3 tests/integration/test_fleet_clickhouse.py [CASE-SUBSTRING...]
Needs no root (the servers run as nobody when started as root); Python 3
standard library only.
"""

import http.server
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clickhouse  # noqa: E402
import runner  # noqa: E402
from runner import REPO, TRACER, check, rfc3339_to_ns  # noqa: E402
from scenario import Scenarios  # noqa: E402

SCHEMA_TOOL = os.path.join(REPO, "tools", "clickhouse-schema")
HOSTS = ("host1", "host2", "host3", "host4")
# host4: host2's records again, their clients processes (comm, uid, cgroup).
COMMS = ("curl", "my prog", "back\\slash")
DETECT = ["--no-events", "--top", "0"]
DAY_NS = 86400 * 10**9


def run(args, timeout=120):
    p = subprocess.run([TRACER] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode("utf-8", "replace")


def judged(args):
    """finding and case records of a run that must succeed (host: the judging host's)."""
    rc, out, err = run(args)
    check(rc == 0, "dnssnoop %s exited %d: %s", " ".join(args), rc, err[-1500:])
    recs = []
    for line in out.splitlines():
        r = json.loads(line)
        if r["type"] in ("finding", "case"):
            r.pop("host", None)
            recs.append(r)
    return recs


def same_records(a, b, what):
    check(len(a) == len(b), "%s: %d finding/case records, one run %d", what, len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            diff = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
            raise AssertionError("%s: record %d (%s %s %s) differs: %s" % (
                what, i + 1, x["type"], x.get("kind"), x.get("target"),
                json.dumps(diff)[:1500]))


class Fleet:
    """The servers, the schema, three hosts' records sent through the sink."""

    def __init__(self, tmp, ch):
        self.tmp, self.ch = tmp, ch
        self.url = ch.http_url(0) + "?database=dns"
        for _ in range(2):  # the second run finds everything there
            p = subprocess.run([SCHEMA_TOOL, ch.http_url(0), ch.http_url(1)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            check(p.returncode == 0, "clickhouse-schema: %s", p.stderr.decode()[-800:])
        pcap, self.key = Scenarios(tmp).small()
        rc, out, err = run(["-r", pcap])
        check(rc == 0, "reading the scenario: %s", err[-800:])
        self.files, self.records = self.split(out)
        # One sink per host, at the same time, as a fleet sends.
        sinks = {host: subprocess.Popen(
            [TRACER, "-r", self.files[host]] + DETECT + [
                "--clickhouse", self.url, "--clickhouse-spool",
                os.path.join(tmp, "spool-%s" % host)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for host in HOSTS}
        for host, p in sinks.items():
            _, err = p.communicate(timeout=120)
            check(p.returncode == 0, "the sink of %s exited %d: %s", host, p.returncode,
                  err.decode()[-800:])
        self.one_run = judged(sum((["-r", self.files[h]] for h in HOSTS), []) + DETECT)

    def split(self, out):
        """dns/unanswered records by client address into one file per host."""
        recs = {h: [] for h in HOSTS}
        for line in out.splitlines():
            r = json.loads(line)
            if r["type"] not in ("dns", "unanswered"):
                continue
            client = int(ipaddress.ip_address(r["saddr"] if r["qr"] == "query" else r["daddr"]))
            r["host"] = HOSTS[client % 3]
            recs[r["host"]].append(r)
            if r["host"] == "host2":
                p = dict(r, host="host4", pid=100 + client % 7, tid=100 + client % 7,
                         comm=COMMS[client % 3], uid=1000 + client % 2,
                         cgroup="/user.slice/app-%d.scope" % (client % 5))
                recs["host4"].append(p)
        files = {}
        for host, rs in recs.items():
            files[host] = os.path.join(self.tmp, host + ".jsonl")
            with open(files[host], "w") as f:
                f.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in rs)
        return files, recs

    def rows(self, i, sql):
        return [line.split("\t") for line in self.ch.query(i, sql).splitlines()]


def make_fixture(tmp):
    ch = clickhouse.ClickHouseServers(2).__enter__()
    try:
        return Fleet(tmp, ch)
    except BaseException:
        ch.close()
        raise


# ---------------------------------------------------------------- cases

def test_same_as_one_run(f):
    """--from-clickhouse finds what one -r run over the hosts' files finds:
    every finding and case record, field by field, through either server."""
    kinds = {r["kind"] for r in f.one_run if r["type"] == "finding"}
    check({"mutual", "replacement", "periodic"} <= kinds, "one run found only %s", kinds)
    check(any(r["type"] == "case" for r in f.one_run), "one run has no case")
    procs = {r["client"]["label"] for r in f.one_run if r["type"] == "finding"
             and r["client"]["label"].startswith("host4/")}
    check(any(c in p for p in procs for c in COMMS[1:]),
          "no finding about host4's processes with a space or backslash: %s", procs)
    same_records(judged(["--from-clickhouse", f.url]), f.one_run, "--from-clickhouse")
    other = f.ch.http_url(1) + "?database=dns&table=messages"
    same_records(judged(["--from-clickhouse", other]), f.one_run, "through server 1")


def test_rows_are_the_records(f):
    """Every host's dns/unanswered records are rows (count, ids, lengths,
    names), spread over both shards; the aggregates sum the lookups."""
    per_shard = [dict((r[0], int(r[1])) for r in f.rows(i, "SELECT host, count() FROM "
                                                          "dns.messages_local GROUP BY host"))
                 for i in range(2)]
    check(all(per_shard), "a shard holds no rows: %s", per_shard)
    got = {r[0]: r[1:] for r in f.rows(0, "SELECT host, count(), sum(id), sum(len), "
                                          "sum(unanswered), groupUniqArray(qname) "
                                          "FROM dns.messages GROUP BY host")}
    for host, recs in f.records.items():
        want = [str(len(recs)), str(sum(r["id"] for r in recs)),
                str(sum(r["len"] for r in recs)),
                str(sum(r["type"] == "unanswered" for r in recs))]
        check(got[host][:4] == want, "%s: rows %s, records %s", host, got[host][:4], want)
        names = set(json.loads(got[host][4].replace("'", '"')))
        check(names == {r["qname"] for r in recs}, "%s: names differ", host)
    lookups = f.rows(0, "SELECT sum(lookup) FROM dns.messages")[0][0]
    summed = f.rows(0, "SELECT sum(n) FROM (SELECT countMerge(lookups) AS n FROM "
                       "dns.pair_hours WHERE kind = 0 GROUP BY host, client_key, target, hour)")
    check(summed[0][0] == lookups, "pair_hours sums %s lookups, messages %s", summed, lookups)
    total = [r["total_lookups"] for r in f.one_run if r["type"] == "finding"][0]
    check(int(lookups) == total, "rows count %s lookups, one run %d", lookups, total)


def case_hosts(recs):
    """Per case (its title), the hosts of its clients."""
    out = {}
    for c in (r for r in recs if r["type"] == "case"):
        labels = json.dumps(c)
        out[c["title"] if "title" in c else json.dumps(c)[:200]] = {
            h for h in HOSTS if '"%s/' % h in labels}
    return out


def test_hosts_narrow(f):
    """--hosts host1,host3 judges those hosts as -r over their files does; a
    case of host2 is gone; host? keeps every host, nohost* none."""
    two = judged(["-r", f.files["host1"], "-r", f.files["host3"]] + DETECT)
    narrow = judged(["--from-clickhouse", f.url, "--hosts", "host1,host3"])
    same_records(narrow, two, "--hosts host1,host3")
    of_host2 = [t for t, hs in case_hosts(f.one_run).items() if hs == {"host2"}]
    check(of_host2, "no case of host2 alone to lose: %s", case_hosts(f.one_run))
    check(not set(of_host2) & set(case_hosts(narrow)), "host2's cases %s stayed", of_host2)
    same_records(judged(["--from-clickhouse", f.url, "--hosts", "host?"]), f.one_run,
                 "--hosts host?")
    check(judged(["--from-clickhouse", f.url, "--hosts", "nohost*"]) == [],
          "a pattern of no host found something")


def test_since(f):
    """--since 7d judges the last days only (fewer lookups); --since 100w all."""
    week = judged(["--from-clickhouse", f.url, "--since", "7d"])
    full = [r["total_lookups"] for r in f.one_run if r["type"] == "finding"][0]
    totals = {r["total_lookups"] for r in week if r["type"] == "finding"}
    newest = max(rfc3339_to_ns(r["ts"]) for rs in f.records.values() for r in rs
                 if r["type"] == "dns" and r["qr"] == "query")
    first_day = (newest - 7 * DAY_NS) // DAY_NS
    in_days = sum(1 for rs in f.records.values() for r in rs if r["type"] == "dns"
                  and r["qr"] == "query" and rfc3339_to_ns(r["ts"]) // DAY_NS >= first_day)
    check(len(totals) == 1 and 0 < totals.pop() <= in_days < full,
          "--since 7d judged %s lookups, queries in its days %d, all %d", totals, in_days, full)
    same_records(judged(["--from-clickhouse", f.url, "--since", "100w"]), f.one_run,
                 "--since 100w")


class Junk(http.server.BaseHTTPRequestHandler):
    """A web server that is not ClickHouse: 200 with text, or 404."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        code = 404 if self.path.startswith("/missing") else 200
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"<html>hello, this is not a database</html>\n")

    def log_message(self, *args):
        pass


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_errors(f):
    """One line naming what was wrong, exit 1, nothing on stdout."""
    junk = http.server.HTTPServer(("127.0.0.1", 0), Junk)
    threading.Thread(target=junk.serve_forever, daemon=True).start()
    base = f.ch.http_url(0)
    bad_pw = base.replace("http://", "http://%s:pw-Xq7z@" % clickhouse.WRITER_USER)
    junk_url = "http://127.0.0.1:%d/" % junk.server_address[1]
    f.ch.query(0, "CREATE DATABASE IF NOT EXISTS noschema")  # a database without the tables
    cases = [
        ("ftp://127.0.0.1/", "not an http"),
        ("http://127.0.0.1:%d/" % closed_port(), "cannot query ClickHouse"),
        (bad_pw, "authentication failed"),
        (base + "?database=nosuchdb", "nosuchdb"),
        (base + "?database=noschema", "noschema.pair_hours"),
        (junk_url, "does not answer as ClickHouse does"),
        (junk_url + "missing", "does not answer as ClickHouse does"),
    ]
    try:
        for url, want in cases:
            rc, out, err = run(["--from-clickhouse", url])
            lines = err.strip().splitlines()
            check(rc == 1 and not out and len(lines) == 1 and want in lines[0],
                  "%s: exit %d, stderr %r", url, rc, err[-500:])
            check("pw-Xq7z" not in err, "the password is shown: %s", err)
    finally:
        junk.shutdown()
        junk.server_close()


CASES = [test_same_as_one_run, test_rows_are_the_records, test_hosts_narrow, test_since,
         test_errors]


def main(argv):
    cases = runner.selected(CASES, argv)
    why = clickhouse.available() or runner.missing_piece()
    if why:
        return runner.fail_every(cases, why)
    start = runner.time.monotonic()
    tmp = runner.tempfile.mkdtemp(prefix="dnssnoop-fleet-ch-")
    fleet = None
    try:
        try:
            fleet = make_fixture(tmp)
        except (AssertionError, clickhouse.ClickHouseError) as e:
            return runner.fail_every(cases, "fixture: %s" % e)
        counts = runner.run_cases(cases, fleet)
    finally:
        if fleet:
            fleet.ch.close()
        runner.shutil.rmtree(tmp, ignore_errors=True)
    return runner.finish(start, *counts)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
