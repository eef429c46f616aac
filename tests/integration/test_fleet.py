#!/usr/bin/python3
"""Integration tests for fleet input: dnssnoop -r HOST.jsonl -r HOST2.jsonl ...

Needs no root and never skips. The JSON Lines are dnssnoop's own: a pcap
written by tools/gen-pcap is split by client address into two captures
(two "hosts"), each is read with `build/dnssnoop -r X.pcap`, and the
"host" field of each output is rewritten to host1/host2. Oracles:
  - one stream holding both hosts' records in time order gives the same
    statistics as the two files merged by dnssnoop, record for record;
  - the host-wide tables of the merged files equal those of the unsplit
    capture (every exchange lives on one host);
  - the statistics of a capture and of its own JSON replay are equal;
  - counts written down from the input lines (queries per host and
    process, exchanges seen from both ends);
  - independent of dnssnoop's code: per-name and per-client counts, first
    and last seen, response codes and clients' shares, counted in Python
    from the input's dns records.

CLI contract under test:
  dnssnoop -r FILE [-r FILE ...] [--no-events] [--top N] [--interval S]
where each FILE is a pcap/pcapng or JSON Lines (told by content), "-" is
stdin; JSON Lines feed the statistics with "host" as part of the key.

Usage: python3 tests/integration/test_fleet.py [CASE-SUBSTRING...]
Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped";
exits 1 if a case failed.
"""

import datetime
import heapq
import ipaddress
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, addr, check, rfc3339_to_ns  # noqa: E402

GEN = os.path.join(REPO, "tools", "gen-pcap")
STATS_TYPES = ("process_stats", "peer_stats", "name_stats", "pair_stats")
SERVERS = {ipaddress.ip_address(a) for a in ("10.0.0.1", "10.0.0.2", "fd00::53", "fd00::54")}
LINKTYPE_RAW = 101


# ---------------------------------------------------------------- helpers

class Run(runner.Run):
    """One dnssnoop run, with its statistics records."""

    TIMEOUT = 300

    def stats(self, types=STATS_TYPES):
        return [r for r in self.records if r["type"] in types]

    def capture_stats(self):
        """The session's capture_stats (scope total: with --interval each
        interval has its own too, and they add up to it)."""
        recs = [r for r in self.records if r["type"] == "capture_stats"]
        s = [r for r in recs if r["scope"] == "total"]
        check(len(s) == 1, "want one total capture_stats record, got %d", len(s))
        iv = [r for r in recs if r["scope"] == "interval"]
        for k in ("events_delivered", "messages", "responses_matched", "unanswered"):
            check(not iv or sum(r[k] for r in iv) == s[0][k],
                  "intervals' capture_stats %s add up to %d, total %d", k,
                  sum(r[k] for r in iv), s[0][k])
        return s[0]


def gen(tmp, name, *opts):
    path = os.path.join(tmp, name)
    p = subprocess.run([sys.executable, GEN, "-o", path, "--link", "raw"] + list(opts),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    check(p.returncode == 0, "gen-pcap %s failed: %s", opts, p.stderr.decode()[-1000:])
    return path


def read_pcap(path):
    """(global header, [(record header, frame)]) of a classic little-endian pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    check(magic in (0xA1B2C3D4, 0xA1B23C4D) and link == LINKTYPE_RAW,
          "want a little-endian raw-IP pcap, got magic %x link %d", magic, link)
    recs, off = [], 24
    while off < len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append((data[off:off + 16], data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return data[:24], recs


def client_of(frame):
    """The address of a raw IP frame that is not one of gen-pcap's servers."""
    if frame[0] >> 4 == 4:
        src, dst = frame[12:16], frame[16:20]
    else:
        src, dst = frame[8:24], frame[24:40]
    src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    return dst if src in SERVERS else src


def split_pcap(path, tmp):
    """Two pcaps: frames whose client address is even go to host 1, odd to host 2."""
    header, recs = read_pcap(path)
    out = [os.path.join(tmp, "h1.pcap"), os.path.join(tmp, "h2.pcap")]
    parts = [[], []]
    for rh, frame in recs:
        parts[int(client_of(frame)) % 2].append(rh + frame)
    for p, frames in zip(out, parts):
        check(len(frames) > len(recs) // 5, "split too uneven: %d of %d", len(frames), len(recs))
        with open(p, "wb") as f:
            f.write(header + b"".join(frames))
    return out


def jsonl_of(pcap, host, out):
    """dnssnoop -r pcap, every record's host set to host; returns the records."""
    run = Run(["-r", pcap]).ok()
    recs = []
    for r in run.records:
        r["host"] = host
        recs.append(r)
    write_jsonl(out, recs)
    return recs


def write_jsonl(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def order_key(r):
    """When a record was written: ts, and ts + waited_ns for an unanswered one."""
    return rfc3339_to_ns(r["ts"]) + r.get("waited_ns", 0)


def one_stream(*streams):
    """All records in time order, ties to the stream named first (as dnssnoop merges)."""
    for s in streams:
        keys = [order_key(r) for r in s if r["type"] in ("dns", "unanswered")]
        check(keys == sorted(keys), "an input is not in time order")
    return list(heapq.merge(*[[r for r in s if r["type"] in ("dns", "unanswered")]
                              for s in streams], key=order_key))


def without(recs, *fields):
    return [{k: v for k, v in r.items() if k not in fields} for r in recs]


def same_records(a, b, what):
    check(len(a) == len(b), "%s: %d records against %d", what, len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            diff = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
            raise AssertionError("%s: record %d (%s) differs: %s" % (what, i + 1, x["type"],
                                                                      diff))


def entries(run, type_, **match):
    return [r for r in run.stats((type_,)) if not r["others"]
            and all(r.get(k) == v for k, v in match.items())]


class Fleet:
    """A generated capture split into two hosts' JSON Lines (made once, shared by the cases)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.pcap = gen(tmp, "all.pcap", "-n", "3000", "--seed", "7", "--unanswered", "0.05",
                        "--tcp-share", "0.2", "--gap-us", "2000")
        self.h1_pcap, self.h2_pcap = split_pcap(self.pcap, tmp)
        self.h1 = os.path.join(tmp, "h1.jsonl")
        self.h2 = os.path.join(tmp, "h2.jsonl")
        self.both = os.path.join(tmp, "both.jsonl")
        self.r1 = jsonl_of(self.h1_pcap, "host1", self.h1)
        self.r2 = jsonl_of(self.h2_pcap, "host2", self.h2)
        write_jsonl(self.both, one_stream(self.r1, self.r2))


FLEET = None


def fleet(tmp):
    global FLEET
    if FLEET is None:
        FLEET = Fleet(tmp)
    return FLEET


# ---------------------------------------------------------------- cases

def test_two_hosts_equal_one_stream(tmp):
    """-r h1.jsonl -r h2.jsonl gives the statistics of one stream holding both,
    record for record: every table, every figure, also with intervals and with
    tables small enough to evict (where the order of the messages matters)."""
    f = fleet(tmp)
    for opts in (["--top", "0"], ["--top", "0", "--interval", "0.5"],
                 ["--top", "5", "--max-entries", "16", "--interval", "1"]):
        merged = Run(["-r", f.h1, "-r", f.h2, "--no-events"] + opts).ok()
        one = Run(["-r", f.both, "--no-events"] + opts).ok()
        check(len(merged.stats()) > 50, "%s: only %d statistics records", opts,
              len(merged.stats()))
        same_records(merged.stats(), one.stats(), "merged vs one stream %s" % opts)
        a, b = merged.capture_stats(), one.capture_stats()
        check(a["window_start"] == b["window_start"] and a["window_end"] == b["window_end"],
              "session windows differ: %s %s", a, b)
    # With intervals, several windows were reported.
    check(len({r["window_start"] for r in merged.stats()}) >= 3, "intervals: %s",
          sorted({r["window_start"] for r in merged.stats()}))


def test_merged_hosts_equal_the_whole_capture(tmp):
    """The host-wide tables (peers, names) of the two hosts merged equal those
    of the unsplit capture; client x name too, apart from key_host, which says
    which host each client is on."""
    f = fleet(tmp)
    merged = Run(["-r", f.h1, "-r", f.h2, "--no-events", "--top", "0"]).ok()
    whole = Run(["-r", f.pcap, "--no-events", "--top", "0"]).ok()
    for t in ("peer_stats", "name_stats"):
        same_records(without(merged.stats((t,)), "host"), without(whole.stats((t,)), "host"),
                     t)
    cn_merged = [r for r in merged.stats(("pair_stats",)) if r["pair"] == "client_name"]
    cn_whole = [r for r in whole.stats(("pair_stats",)) if r["pair"] == "client_name"]
    for r in cn_merged:
        if not r["others"]:
            want = "host%d" % (int(ipaddress.ip_address(r["client"])) % 2 + 1)
            check(r.get("key_host") == want, "client %s: key_host %s, want %s", r["client"],
                  r.get("key_host"), want)
    check(all("key_host" not in r for r in cn_whole), "key_host in a capture's own entries")
    key = lambda r: (r["others"], r.get("client") or "", r.get("name") or "")
    same_records(sorted(without(cn_merged, "host", "key_host", "rank"), key=key),
                 sorted(without(cn_whole, "host", "key_host", "rank"), key=key), "client_name")
    # The numbers: every query of the key counted once.
    queries = sum(1 for r in f.r1 + f.r2 if r["type"] == "dns" and r["qr"] == "query")
    total = sum(r["queries"] for r in merged.stats(("name_stats",)))
    check(total == queries, "name_stats count %d queries, the inputs hold %d", total, queries)


def test_replay_equals_capture(tmp):
    """A capture and its own JSON Lines give the same statistics (figures and
    intervals), client entries marked with the host that wrote the lines."""
    f = fleet(tmp)
    for opts in (["--top", "0", "--interval", "0.5"], ["--top", "3", "--max-entries", "16"]):
        cap = Run(["-r", f.h1_pcap, "--no-events"] + opts).ok()
        rep = Run(["-r", f.h1, "--no-events"] + opts).ok()
        keyed = [r for r in rep.stats() if "key_host" in r]
        check(keyed and all(r["key_host"] == "host1" and r.get("pair") == "client_name"
                            for r in keyed), "key_host: %s", keyed[:2])
        same_records(without(cap.stats(), "host"), without(rep.stats(), "host", "key_host"),
                     "capture vs replay %s" % opts)


def owned(recs, host, pid, comm):
    """Records made live-like: direction from qr, an owning process."""
    out = []
    for r in recs:
        if r["type"] not in ("dns", "unanswered"):
            continue
        r = dict(r, host=host, dir="egress" if r["qr"] == "query" else "ingress", pid=pid,
                 tid=pid, comm=comm, uid=1000, cgroup="/system.slice/%s.service" % comm)
        out.append(r)
    return out


def test_process_entries_carry_key_host(tmp):
    """The same pid on two hosts is two processes: (host, pid) entries with
    key_host and each host's own counts; the text tables get a HOST column."""
    f = fleet(tmp)
    a = os.path.join(tmp, "p1.jsonl")
    b = os.path.join(tmp, "p2.jsonl")
    write_jsonl(a, owned(f.r1, "host1", 4242, "app"))
    write_jsonl(b, owned(f.r2, "host2", 4242, "app"))
    run = Run(["-r", a, "-r", b, "--no-events", "--top", "0"]).ok()
    procs = entries(run, "process_stats", by="pid")
    check(len(procs) == 2, "want 2 process entries, got %s", procs)
    for host, recs in (("host1", f.r1), ("host2", f.r2)):
        mine = [p for p in procs if p.get("key_host") == host]
        queries = sum(1 for r in recs if r["type"] == "dns" and r["qr"] == "query")
        responses = sum(1 for r in recs if r["type"] == "dns" and r["qr"] == "response")
        unanswered = sum(1 for r in recs if r["type"] == "unanswered")
        check(len(mine) == 1 and mine[0]["pid"] == 4242 and mine[0]["comm"] == "app"
              and mine[0]["cgroup"] == "/system.slice/app.service" and mine[0]["uid"] == 1000,
              "%s: process entry %s", host, mine)
        got = (mine[0]["queries"], mine[0]["responses"], mine[0]["unanswered"])
        check(got == (queries, responses, unanswered), "%s: (queries, responses, unanswered) "
              "%s, the input has %s", host, got, (queries, responses, unanswered))
    for t, match in (("process_stats", {"by": "comm"}), ("pair_stats", {"pair": "process_peer"}),
                     ("pair_stats", {"pair": "process_name"})):
        es = entries(run, t, **match)
        check(es and all(e.get("key_host") in ("host1", "host2") for e in es),
              "%s %s without key_host: %s", t, match, es[:2])
    text = Run(["-r", a, "-r", b, "--no-events", "--top", "3", "--format", "text"],
               text=True).ok()
    lines = text.stdout.splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith("# processes ("))
    check(lines[i + 1].split()[0] == "HOST" and {lines[i + 2].split()[0],
                                                 lines[i + 3].split()[0]} == {"host1", "host2"},
          "text table: %s", lines[i:i + 4])


def server_copies(recs, host, pid):
    """The server's copies of the exchanges in recs (a client's view): ingress
    query 1 µs after the client's egress query, egress response 1 µs before
    the client's ingress response, both owned by the server process."""
    out = []
    for r in recs:
        if r["type"] != "dns":
            continue
        us = 1 if r["qr"] == "query" else -1
        ts = rfc3339_to_ns(r["ts"]) + us * 1000
        t = datetime.datetime.fromtimestamp(ts // 10**9, datetime.timezone.utc)
        out.append(dict(r, host=host, ts=t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (
            ts % 10**9 // 1000), dir="ingress" if r["qr"] == "query" else "egress", pid=pid,
            tid=pid, comm="nsd", uid=53, cgroup="/system.slice/nsd.service"))
    return out


def test_mirror_across_hosts(tmp):
    """An exchange seen by two hosts (client on one, server on the other) and
    one seen twice on a single host (both ends local) count once in the
    host-wide tables and once for each process; exchanges whose ids differ
    are not taken for mirrors."""
    f = fleet(tmp)
    cli = owned([r for r in f.r1 if r["type"] == "dns"], "cli", 4242, "dig")
    srv = sorted(server_copies(cli, "srv", 53), key=order_key)  # a log is in time order
    exchanges = sum(1 for r in cli if r["qr"] == "query")
    answered = sum(1 for r in cli if r["qr"] == "response")
    paths = {n: os.path.join(tmp, n) for n in ("cli.jsonl", "srv.jsonl", "local.jsonl",
                                               "other.jsonl")}
    write_jsonl(paths["cli.jsonl"], cli)
    write_jsonl(paths["srv.jsonl"], srv)
    write_jsonl(paths["local.jsonl"], one_stream(cli, [dict(r, host="cli") for r in srv]))
    write_jsonl(paths["other.jsonl"], [dict(r, id=(r["id"] + 1) % 65536) for r in srv])
    for what, args in (("two hosts", ["-r", paths["cli.jsonl"], "-r", paths["srv.jsonl"]]),
                       ("one host", ["-r", paths["local.jsonl"]])):
        run = Run(args + ["--no-events", "--top", "0"]).ok()
        names = sum(r["queries"] for r in run.stats(("name_stats",)))
        resp = sum(r["responses"] for r in run.stats(("name_stats",)))
        check((names, resp) == (exchanges, answered), "%s: name_stats (queries, responses) "
              "%s, want %s", what, (names, resp), (exchanges, answered))
        peers = entries(run, "peer_stats")
        check(peers and all(ipaddress.ip_address(p["peer"]) in SERVERS for p in peers),
              "%s: peers are the servers only (the client side's view): %s", what,
              [p["peer"] for p in peers])
        procs = {(p.get("key_host"), p["pid"]): p for p in entries(run, "process_stats",
                                                                    by="pid")}
        host_srv = "srv" if what == "two hosts" else "cli"
        check(set(procs) == {("cli", 4242), (host_srv, 53)}, "%s: processes %s", what,
              sorted(procs))
        for k in procs:
            check((procs[k]["queries"], procs[k]["responses"]) == (exchanges, answered),
                  "%s: process %s counts %s", what, k,
                  (procs[k]["queries"], procs[k]["responses"]))
    run = Run(["-r", paths["cli.jsonl"], "-r", paths["other.jsonl"], "--no-events", "--top",
               "0"]).ok()
    names = sum(r["queries"] for r in run.stats(("name_stats",)))
    check(names == 2 * exchanges, "ids differ: %d queries counted, want %d", names,
          2 * exchanges)


def test_damaged_lines(tmp):
    """Garbage in the middle, a JSON array, a field of the wrong type and a
    half line at the end: each reported as FILE:LINE, everything else
    processed (the same statistics as the file without those lines), exit 1."""
    f = fleet(tmp)
    lines = open(f.h1).read().splitlines()
    bad = {40: "Nov 27 14:05:01 lab rsyslogd: garbage in the middle",
           41: "[1, 2, 3]",
           90: lines[89].replace('"sport":', '"sport":"x","was":')}
    damaged = os.path.join(tmp, "damaged.jsonl")
    clean = os.path.join(tmp, "clean.jsonl")
    with open(damaged, "w") as out, open(clean, "w") as good:
        for n, line in enumerate(lines, 1):
            out.write(bad.get(n, line) + "\n")
            if n not in bad:
                good.write(line + "\n")
        out.write(lines[-5][:60])  # a half line, no newline
    run = Run(["-r", damaged, "--no-events", "--top", "0"])
    check(run.rc == 1, "exit status %d, want 1", run.rc)
    n = len(lines) + 1
    for want in ("%s:40: not a JSON object: \"Nov 27 14:05:01 lab rsyslogd" % damaged,
                 "%s:41: not a JSON object: \"[1, 2, 3]\"" % damaged,
                 '%s:90: "sport" is not an integer' % damaged,
                 "%s:%d: last line cut short" % (damaged, n),
                 "%s: 4 bad lines skipped" % damaged):
        check(want in run.stderr, "stderr should say %r: %s", want, run.stderr)
    ref = Run(["-r", clean, "--no-events", "--top", "0"]).ok()
    check(len(ref.stats()) > 20, "too few statistics records")
    same_records(run.stats(), ref.stats(), "damaged vs clean")

    other = os.path.join(tmp, "other.json")
    with open(other, "w") as out:
        for i in range(30):
            out.write(json.dumps({"level": "info", "msg": "hello %d" % i}) + "\n")
    run = Run(["-r", other, "-r", f.h2, "--no-events", "--top", "0"])
    check(run.rc == 1, "exit status %d for a non-dnssnoop JSON file", run.rc)
    msgs = [l for l in run.stderr.splitlines() if "not a dnssnoop record" in l]
    check(len(msgs) == 20 and msgs[0].startswith("dnssnoop: %s:1: " % other),
          "want 20 messages then a total: %s", run.stderr[-500:])
    check("%s: 30 bad lines skipped (only the first ones were shown)" % other in run.stderr,
          "no total: %s", run.stderr[-500:])
    alone = Run(["-r", f.h2, "--no-events", "--top", "0"]).ok()
    same_records(run.stats(), alone.stats(), "the other input still read")


def test_stdin(tmp):
    """-r - reads JSON Lines and pcaps from stdin, a file or a pipe (the bytes
    looked at to tell the kind are not lost), alone or with other inputs."""
    f = fleet(tmp)
    want = Run(["-r", f.h1, "-r", f.h2, "--no-events", "--top", "0"]).ok().stats()
    with open(f.h1, "rb") as fh:
        same_records(Run(["-r", "-", "-r", f.h2, "--no-events", "--top", "0"],
                         stdin=fh).ok().stats(), want, "stdin (file)")
    with open(f.h1, "rb") as fh:
        data = fh.read()
    same_records(Run(["-r", "-", "-r", f.h2, "--no-events", "--top", "0"],
                     input_bytes=data).ok().stats(), want, "stdin (pipe)")
    with open(f.h1_pcap, "rb") as fh:
        data = fh.read()
    cap = Run(["-r", f.h1_pcap]).ok()
    piped = Run(["-r", "-"], input_bytes=data).ok()
    same_records(piped.records, cap.records, "pcap through a pipe")
    run = Run(["-r", "-", "-r", "-"], input_bytes=b"")
    check(run.rc != 0 and "standard input can be read only once" in run.stderr,
          "two stdins: %d %s", run.rc, run.stderr)


def test_pcap_and_jsonl_merged_by_time(tmp):
    """A pcap of host 1 and the JSON Lines of host 2 are read together in time
    order: the intervals equal those of the whole capture, and host 1's
    messages are printed as they are read. (The capture spans less than the
    5 s --timeout, so unanswered queries are reported at the end in both
    runs; an expiry inside the capture happens at whatever time the timers
    run, which depends on the packets that drive them.)"""
    f = fleet(tmp)
    for order in ([f.h1_pcap, f.h2], [f.h2, f.h1_pcap]):
        args = sum((["-r", p] for p in order), [])
        mixed = Run(args + ["--interval", "0.5", "--top", "0"]).ok()
        whole = Run(["-r", f.pcap, "--no-events", "--interval", "0.5", "--top", "0"]).ok()
        for t in ("name_stats", "peer_stats"):
            same_records(without(mixed.stats((t,)), "host"), without(whole.stats((t,)), "host"),
                         "%s, inputs %s" % (t, [os.path.basename(p) for p in order]))
        dns = [r for r in mixed.records if r["type"] == "dns"]
        check(len(dns) == sum(1 for r in f.r1 if r["type"] == "dns"),
              "host 1's dns records: %d", len(dns))
        check({r["host"] for r in dns} != {"host2"}, "JSON input reprinted")
        st = mixed.capture_stats()
        first = min(rfc3339_to_ns(r["ts"]) for r in f.r1 + f.r2 if r["type"] == "dns")
        check(rfc3339_to_ns(st["window_start"]) == first, "window_start %s, first message %d",
              st["window_start"], first)


def counted_from_lines(*streams):
    """Independent of dnssnoop's tables: from the input's dns records alone,
    per name and per (host, client, name), the query and response counts, the
    first and last message time, and the response codes. The client is the
    sender of a query and the receiver of a response; names are case-folded
    (ASCII), as the tables key them."""
    names, pairs = {}, {}

    def add(table, key, r, ts):
        e = table.setdefault(key, {"queries": 0, "responses": 0, "first": ts, "last": ts,
                                   "rcodes": {}})
        e["queries" if r["qr"] == "query" else "responses"] += 1
        e["first"], e["last"] = min(e["first"], ts), max(e["last"], ts)
        if r["qr"] == "response":
            e["rcodes"][r["rcode"]] = e["rcodes"].get(r["rcode"], 0) + 1

    for r in (r for s in streams for r in s):
        if r["type"] != "dns" or r["qname"] is None:
            continue
        name, ts = r["qname"].lower(), rfc3339_to_ns(r["ts"])
        client = r["saddr"] if r["qr"] == "query" else r["daddr"]
        add(names, name, r, ts)
        add(pairs, (r["host"], addr(client), name), r, ts)
    return names, pairs


def same_as_counted(got, want, what):
    check(got["queries"] == want["queries"] and got["queries_error"] == 0,
          "%s: %d queries (error %d), the input has %d", what, got["queries"],
          got["queries_error"], want["queries"])
    check(got["responses"] == want["responses"], "%s: %d responses, the input has %d",
          what, got["responses"], want["responses"])
    check((rfc3339_to_ns(got["first_seen"]), rfc3339_to_ns(got["last_seen"]))
          == (want["first"], want["last"]), "%s: seen %s..%s, the input %d..%d", what,
          got["first_seen"], got["last_seen"], want["first"], want["last"])
    rcodes = {k: v for k, v in got["rcodes"].items() if v}
    known = {k: v for k, v in want["rcodes"].items() if k in got["rcodes"]}
    known_other = sum(v for k, v in want["rcodes"].items() if k not in got["rcodes"])
    if known_other:
        known["other"] = known_other
    check(rcodes == known, "%s: rcodes %s, the input %s", what, rcodes, known)


def test_counts_from_the_input_lines(tmp):
    """An oracle that shares no code with dnssnoop: name_stats and the
    client x name table of the two hosts merged equal what Python counts in
    the input lines (per name over both hosts, per host, client and name),
    and so do the clients' shares of each name's queries."""
    f = fleet(tmp)
    names, pairs = counted_from_lines(f.r1, f.r2)
    run = Run(["-r", f.h1, "-r", f.h2, "--no-events", "--top", "0"]).ok()
    got_names = {r["name"]: r for r in entries(run, "name_stats")}
    got_pairs = {(r["key_host"], addr(r["client"]), r["name"]): r
                 for r in entries(run, "pair_stats", pair="client_name")}
    check(len(names) > 500 and set(got_names) == set(names),
          "names: %d in the input, %d in name_stats; only in the input: %s", len(names),
          len(got_names), sorted(set(names) - set(got_names))[:5])
    check({h for h, _, _ in pairs} == {"host1", "host2"} and set(got_pairs) == set(pairs),
          "client x name: %d in the input, %d in the table; only in the input: %s",
          len(pairs), len(got_pairs), sorted(set(pairs) - set(got_pairs))[:5])
    for name, want in names.items():
        same_as_counted(got_names[name], want, "name %s" % name)
    for key, want in pairs.items():
        same_as_counted(got_pairs[key], want, "client x name %s" % (key,))
    shared = 0
    for name, want in names.items():
        mine = [p for p in pairs if p[2] == name]
        shared += len(mine) > 1
        share = {p: pairs[p]["queries"] / want["queries"] for p in mine if want["queries"]}
        got = {p: got_pairs[p]["queries"] / got_names[name]["queries"]
               for p in mine if got_names[name]["queries"]}
        check(share == got, "shares of %s: %s, the input %s", name, got, share)
    check(shared >= 5, "only %d names asked by more than one client: shares untested", shared)


CASES = [test_counts_from_the_input_lines, test_two_hosts_equal_one_stream, test_merged_hosts_equal_the_whole_capture,
         test_replay_equals_capture, test_process_entries_carry_key_host,
         test_mirror_across_hosts, test_damaged_lines, test_stdin,
         test_pcap_and_jsonl_merged_by_time]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-fleet-")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
