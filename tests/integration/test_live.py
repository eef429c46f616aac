#!/usr/bin/python3
"""Integration tests: build/dnssnoop with its real BPF programs against a
live lab (client netns running dig, server netns running nsd; lab.py).

Every case starts the tracer, waits for "dnssnoop: attached", drives dig
(or raw sockets) in the lab, stops the tracer and checks the JSON Lines.
Expected values come from the zone file (zones/lab.test.zone, hand-written)
and from what dig itself printed (+qr shows the query it sent and the reply
it got: ids, flags, counts, sizes, sections) as an independent oracle.

Only records whose addresses belong to this run's lab are considered, so
other DNS traffic on the host does not disturb the checks.

Usage: python3 tests/integration/test_live.py [CASE-SUBSTRING...]
Prints PASS/FAIL/SKIP per case and "cases: P passed, F failed, S skipped";
exits 77 when it cannot run (not root, tools or tracer missing), 1 if a
case failed.
"""

import datetime
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from lab import LabError, TracerHung, run  # noqa: E402
from runner import brief_json, check  # noqa: E402
import zonedata  # noqa: E402

BPF_SRC = os.path.join(labmod.REPO, "bpf", "dnssnoop.bpf.c")
DIG = ["+qr", "+tries=1", "+timeout=2"]

# What the zone (zones/lab.test.zone) says, written out by hand.
WWW_A = [{"name": "www.lab.test", "type": "A", "class": "IN", "ttl": 300, "data": "192.0.2.1"},
         {"name": "www.lab.test", "type": "A", "class": "IN", "ttl": 300, "data": "192.0.2.2"}]
WWW_AAAA = [{"name": "www.lab.test", "type": "AAAA", "class": "IN", "ttl": 600, "data": "2001:db8::1"}]
MAIL_MX = [{"name": "mail.lab.test", "type": "MX", "class": "IN", "ttl": 900, "data": "10 mx1.lab.test"}]
MX1_A = {"name": "mx1.lab.test", "type": "A", "class": "IN", "ttl": 900, "data": "192.0.2.25"}
TXT_TXT = [{"name": "txt.lab.test", "type": "TXT", "class": "IN", "ttl": 120,
            "data": '"hello world" "second" "3rd-string"'}]
SOA_DATA = "ns.lab.test hostmaster.lab.test 2024010101 3600 900 604800 60"
BIG_TXT = [{"name": "big.lab.test", "type": "TXT", "class": "IN", "ttl": 300,
            "data": " ".join('"%s"' % (chr(ord("a") + i) * 255) for i in range(12))}]
TEXT_A = [{"name": "text.lab.test", "type": "A", "class": "IN", "ttl": 60, "data": "192.0.2.12"}]

DNS_KEYS = ("type", "v", "ts", "host", "dir", "proto", "ifindex", "saddr", "sport",
            "daddr", "dport", "pid", "tid", "comm", "uid", "cgroup", "unit", "container",
            "pod", "cookie", "id",
            "qr", "opcode", "flags", "qname", "qtype", "qclass", "qdcount", "ancount",
            "nscount", "arcount", "answers", "authority", "additional", "edns", "len",
            "truncated_capture", "decode_status")
STATS_KEYS = ("packets_matched", "events_submitted", "events_lost", "events_delivered",
              "messages", "decode_errors", "truncated_captures", "responses_matched",
              "responses_unmatched", "unanswered", "tcp_gaps", "filtered")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def clean_status(v):
    """decode_status of a message that decoded without complaint."""
    return v in (None, "", "ok", [])


# ---------------------------------------------------------------- helpers

def same_ip(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def lab_addrs(lab):
    return {str(ipaddress.ip_address(a)) for a in
            (lab.cli4, lab.srv4, lab.cli6, lab.srv6, lab.blackhole4)}


def ours(recs, lab, types=("dns", "unanswered")):
    """Records of this lab: both addresses belong to it."""
    addrs = lab_addrs(lab)
    out = []
    for r in recs:
        if r.get("type") not in types:
            continue
        try:
            s = str(ipaddress.ip_address(r.get("saddr")))
            d = str(ipaddress.ip_address(r.get("daddr")))
        except ValueError:
            continue
        if s in addrs and d in addrs:
            out.append(r)
    return out


def ts_seconds(ts):
    check(isinstance(ts, str) and TS_RE.match(ts), "ts %r is not RFC 3339 UTC with µs", ts)
    dt = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def rrs(lst):
    """Compare RR lists ignoring order and any extra keys the tracer adds."""
    check(isinstance(lst, list), "RR list expected, got %r", lst)
    return sorted((r.get("name"), r.get("type"), r.get("ttl"), r.get("data")) for r in lst)


def brief(r):
    return brief_json(r, ("type", "dir", "proto", "qr", "id", "saddr", "sport", "daddr", "dport",
                          "comm", "pid", "qname", "qtype", "rcode", "flags", "latency_ns",
                          "truncated_capture", "decode_status", "waited_ns"))


def stats_of(recs):
    st = [r for r in recs if r.get("type") == "capture_stats"]
    check(len(st) == 1, "expected one capture_stats record, got %d", len(st))
    return st[0]


class Session:
    """One tracer run around some client activity."""

    def __init__(self, lab, args, env=None):
        self.lab = lab
        self.t0 = time.time()
        self.tracer = lab.tracer(args, env=env)

    def stop(self, settle=0.2, sig=signal.SIGINT):
        time.sleep(settle)  # let the last events reach the ring buffer
        rc = self.tracer.stop(sig)
        self.t1 = time.time()
        check(rc == 0, "tracer exited %s on %s; stderr: %s", rc, sig.name,
              self.tracer.stderr[-1500:])
        self.recs = self.tracer.records()
        return self.recs


def exchange(recs, lab, qid, proto, cli, srv):
    """The four records of one query/response pair seen from both ends.

    Returns dict: cq (client query, egress), sq (server query, ingress),
    sr (server response, egress), cr (client response, ingress).
    """
    roles = {("query", "egress"): "cq", ("query", "ingress"): "sq",
             ("response", "egress"): "sr", ("response", "ingress"): "cr"}
    found = {v: [] for v in roles.values()}
    for r in ours(recs, lab, ("dns",)):
        if r.get("id") != qid or r.get("proto") != proto:
            continue
        if r.get("qr") == "query" and not (same_ip(r["saddr"], cli) and same_ip(r["daddr"], srv)):
            continue
        if r.get("qr") == "response" and not (same_ip(r["saddr"], srv) and same_ip(r["daddr"], cli)):
            continue
        role = roles.get((r.get("qr"), r.get("dir")))
        if role:
            found[role].append(r)
    for role, lst in found.items():
        check(len(lst) == 1, "id %d %s: expected 1 %s record, got %d: %s", qid, proto, role,
              len(lst), [brief(r) for r in lst] or
              [brief(r) for r in ours(recs, lab, ("dns",))][:12])
    return {k: v[0] for k, v in found.items()}


def check_schema(r):
    for k in DNS_KEYS:
        check(k in r, "record lacks %r: %s", k, brief(r))
    check(r["v"] == 1, "v = %r", r["v"])
    check(r["host"] == socket.gethostname(), "host %r != %r", r["host"], socket.gethostname())
    ts_seconds(r["ts"])
    check(r["opcode"] == "QUERY" and r["qclass"] == "IN", "opcode/qclass: %s", brief(r))
    check(isinstance(r["flags"], list), "flags not a list: %r", r["flags"])
    check(clean_status(r["decode_status"]), "decode_status %r on a clean message: %s",
          r["decode_status"], brief(r))
    check(r["truncated_capture"] is False, "truncated_capture on a small message: %s", brief(r))
    if r["qr"] == "response":
        check("rcode" in r, "response lacks rcode: %s", brief(r))
    else:
        check(r.get("latency_ns") is None, "query carries latency_ns: %s", brief(r))


def check_exchange(lab, sess, dig, proto, cli, srv, qname, qtype, rcode="NOERROR",
                   answers=None, dig_query=None, dig_resp=None, clean=True):
    """All the assertions of one dig exchange; returns the four records."""
    dq = dig_query or dig.queries()[0]
    dr = dig_resp or dig.responses()[-1]
    check(dr["rcode"] == rcode, "dig itself got %s, not %s: %s", dr["rcode"], rcode, dig.out)
    ex = exchange(sess.recs, lab, dq["id"], proto, cli, srv)
    cq, sq, sr, cr = ex["cq"], ex["sq"], ex["sr"], ex["cr"]
    for r in ex.values():
        if clean:
            check_schema(r)
        check(r["qname"] == qname, "qname %r != %r", r["qname"], qname)
        check(r["qtype"] == qtype, "qtype %r != %r", r["qtype"], qtype)
        t = ts_seconds(r["ts"])
        check(sess.t0 - 1 <= t <= time.time() + 1, "ts %s outside the session", r["ts"])
        check(r["sport"] != 0 and r["dport"] != 0, "zero port: %s", brief(r))
    # Client side: dig's process, its socket.
    for r in (cq, cr):
        check(r["comm"] == "dig", "client record comm %r, want dig: %s", r["comm"], brief(r))
        check(r["pid"] == dig.pid, "client record pid %r, dig's pid is %d: %s", r["pid"],
              dig.pid, brief(r))
        check(r["uid"] == 0, "dig runs as uid 0, record says %r", r["uid"])
    check(cq["cookie"] == cr["cookie"] and cq["cookie"], "dig's query and response "
          "are on one socket: cookies %r/%r", cq["cookie"], cr["cookie"])
    # Server side: nsd. nsd 4.6 names its processes "nsd: main", "nsd: xfrd",
    # "nsd: server 1" (that is their comm); all hold the listening sockets.
    nsd_pids = lab.nsd_pids()
    for r in (sq, sr):
        check(isinstance(r["comm"], str) and r["comm"].startswith("nsd"),
              "server record comm %r, want nsd's: %s", r["comm"], brief(r))
        check(r["pid"] in nsd_pids, "server record pid %r not one of nsd's %s: %s", r["pid"],
              nsd_pids, brief(r))
    check(sq["cookie"] == sr["cookie"] and sq["cookie"] and sq["cookie"] != cq["cookie"],
          "server cookies %r/%r (client %r)", sq["cookie"], sr["cookie"], cq["cookie"])
    # Addresses and ports: the response swaps the query's.
    check(cq["sport"] == sq["sport"] == sr["dport"] == cr["dport"], "client port differs: %s",
          [brief(r) for r in ex.values()])
    check(cq["dport"] == sq["dport"] == sr["sport"] == cr["sport"] == 53,
          "server port not 53 everywhere: %s", [brief(r) for r in ex.values()])
    # Latency: on matched responses only; the client's wait contains the server's.
    for r in (sr, cr):
        lat = r.get("latency_ns")
        check(isinstance(lat, int) and 0 < lat < 2e9, "response latency_ns %r: %s", lat, brief(r))
    check(cr["latency_ns"] > sr["latency_ns"], "client latency %d <= server latency %d",
          cr["latency_ns"], sr["latency_ns"])
    order = [ts_seconds(r["ts"]) for r in (cq, sq, sr, cr)]
    check(order == sorted(order), "timestamps out of order (cq sq sr cr): %s",
          [r["ts"] for r in (cq, sq, sr, cr)])
    # Against what dig printed.
    for r, d in ((cq, dq), (sq, dq), (sr, dr), (cr, dr)):
        check(set(r["flags"]) - {"qr"} == d["flags"] - {"qr"}, "%s flags %r, dig says %r",
              r["qr"], r["flags"], sorted(d["flags"]))
        for k in ("qdcount", "ancount", "nscount", "arcount"):
            check(r[k] == d[k], "%s %s %r, dig says %r", r["qr"], k, r[k], d[k])
        if clean:
            check(r["len"] == d["size"], "%s len %r, dig says %r", r["qr"], r["len"], d["size"])
        if d["edns_udp"] is None:
            check(r["edns"] is None, "edns %r, dig saw none", r["edns"])
        else:
            check(isinstance(r["edns"], dict) and r["edns"].get("udp_size") == d["edns_udp"],
                  "%s edns %r, dig says udp %d", r["qr"], r["edns"], d["edns_udp"])
            check(r["edns"].get("do") is False, "DO bit set? %r", r["edns"])
    for r in (sr, cr):
        check(r["rcode"] == rcode, "rcode %r != %r", r["rcode"], rcode)
        if clean:
            for sec in ("answers", "authority", "additional"):
                check(rrs(r[sec]) == rrs(dr[sec]), "%s: tracer %r, dig %r", sec, r[sec], dr[sec])
        if answers is not None:
            check(rrs(r["answers"]) == rrs(answers), "answers %r, zone says %r", r["answers"],
                  answers)
    for r in (cq, sq):
        check(r["ancount"] == 0 and r["answers"] == [], "query with answers: %s", brief(r))
    return ex


# ---------------------------------------------------------------- cases

def test_udp_a(lab):
    """1. dig A over UDP: four records, owners, latency, addresses, sections."""
    s = Session(lab, [])
    d = lab.dig(DIG + ["www.lab.test", "A"])
    s.stop()
    check(d.rc == 0, "dig failed: %s", d.err)
    ex = check_exchange(lab, s, d, "udp", lab.cli4, lab.srv4, "www.lab.test", "A",
                        answers=WWW_A)
    ci, si = lab.ifindex(lab.cli, lab.veth_cli), lab.ifindex(lab.srv, lab.veth_srv)
    for role, want in (("cq", ci), ("cr", ci), ("sq", si), ("sr", si)):
        check(ex[role]["ifindex"] == want, "%s ifindex %r, the veth is %d", role,
              ex[role]["ifindex"], want)
    for r in ex.values():
        check(r["dir"] in ("egress", "ingress") and r["proto"] == "udp", "dir/proto %s",
              brief(r))


def test_record_types(lab):
    """2. AAAA, MX (with glue), TXT (several strings), NXDOMAIN (SOA in authority)."""
    s = Session(lab, [])
    digs = [lab.dig(DIG + q) for q in (["www.lab.test", "AAAA"], ["mail.lab.test", "MX"],
                                       ["txt.lab.test", "TXT"], ["nope.lab.test", "A"])]
    s.stop()
    aaaa, mx, txt, nx = digs
    check_exchange(lab, s, aaaa, "udp", lab.cli4, lab.srv4, "www.lab.test", "AAAA",
                   answers=WWW_AAAA)
    ex = check_exchange(lab, s, mx, "udp", lab.cli4, lab.srv4, "mail.lab.test", "MX",
                        answers=MAIL_MX)
    check(MX1_A in ex["cr"]["additional"], "MX glue %r not in additional %r", MX1_A,
          ex["cr"]["additional"])
    check_exchange(lab, s, txt, "udp", lab.cli4, lab.srv4, "txt.lab.test", "TXT",
                   answers=TXT_TXT)
    ex = check_exchange(lab, s, nx, "udp", lab.cli4, lab.srv4, "nope.lab.test", "A",
                        rcode="NXDOMAIN", answers=[])
    for r in (ex["sr"], ex["cr"]):
        soa = [a for a in r["authority"] if a.get("type") == "SOA"]
        check(len(soa) == 1 and soa[0]["name"] == "lab.test" and soa[0]["data"] == SOA_DATA
              and 0 < soa[0]["ttl"] <= 3600, "NXDOMAIN authority %r, want SOA %r",
              r["authority"], SOA_DATA)


def test_tcp(lab):
    """3. dig +tcp: reassembled TCP messages, same checks, dig's pid."""
    s = Session(lab, [])
    d = lab.dig(DIG + ["+tcp", "www.lab.test", "A"])
    s.stop()
    check(d.rc == 0 and d.responses()[-1]["proto"] == "tcp", "dig +tcp failed: %s", d.out)
    check_exchange(lab, s, d, "tcp", lab.cli4, lab.srv4, "www.lab.test", "A", answers=WWW_A)


DEGRADABLE = ("sock_scan", "listener_owner", "leader_comm", "sock_create")


def test_degraded_features(lab):
    """3b. DNSSNOOP_DISABLE forces each optional part of the cgroup hook off
    (sock_create: the kernel is made to refuse it): one stderr line each,
    capture_stats.degraded names them, and what each costs shows: nsd's
    sockets opened before the start carry no process until nsd sends, an
    accepted TCP connection none at all, dig shows as its sending thread."""
    s = Session(lab, [], env={"DNSSNOOP_DISABLE": ",".join(DEGRADABLE)})
    du = lab.dig(DIG + ["www.lab.test", "A"])
    dt = lab.dig(DIG + ["+tcp", "mail.lab.test", "MX"])
    s.stop()
    for f in DEGRADABLE:
        check(re.search(r"^dnssnoop: degraded: %s \(DNSSNOOP_DISABLE\): \S" % f,
                        s.tracer.stderr, re.M), "no warning for %s: %s", f, s.tracer.stderr)
    check(sorted(stats_of(s.recs)["degraded"]) == sorted(DEGRADABLE),
          "capture_stats.degraded: %s", stats_of(s.recs)["degraded"])
    udp = exchange(s.recs, lab, du.queries()[0]["id"], "udp", lab.cli4, lab.srv4)
    tcp = exchange(s.recs, lab, dt.queries()[0]["id"], "tcp", lab.cli4, lab.srv4)
    for r in (udp["cq"], udp["cr"], tcp["cq"], tcp["cr"]):
        check(r["pid"] == (du if r is udp["cq"] or r is udp["cr"] else dt).pid and
              r["comm"] not in (None, "dig"), "dig's record should carry dig's pid and its "
              "thread's name: %s", brief(r))
    check(udp["sq"]["pid"] is None, "nsd's first UDP query attributed without the scan: %s",
          brief(udp["sq"]))
    check(udp["sr"]["comm"].startswith("nsd"), "nsd's response (sendmsg hook) not attributed: "
          "%s", brief(udp["sr"]))
    check(tcp["sq"]["pid"] is None and tcp["sr"]["pid"] is None,
          "an accepted connection attributed without listener storage: %s",
          [brief(tcp["sq"]), brief(tcp["sr"])])


def _big(lab, snaplen):
    args = ["--snaplen", str(snaplen)] if snaplen else []
    s = Session(lab, args)
    d = lab.dig(DIG + ["+bufsize=1232", "big.lab.test", "TXT"])
    s.stop()
    check("Truncated, retrying in TCP mode" in d.out, "dig did not fall back: %s", d.out)
    uq, tq = d.queries()[0], d.queries()[-1]
    check(d.responses()[-1]["proto"] == "tcp" and uq["id"] != tq["id"], "dig output: %s", d.out)
    # The UDP exchange: the response carries TC (dig does not print it: build it).
    udp = exchange(s.recs, lab, uq["id"], "udp", lab.cli4, lab.srv4)
    for role in ("sr", "cr"):
        check("tc" in udp[role]["flags"], "UDP %s lacks tc: %s", role, brief(udp[role]))
        check(udp[role]["truncated_capture"] is False, "UDP TC reply cut: %s", brief(udp[role]))
    return s, d, tq


def test_truncation_fallback(lab):
    """4. big TXT: UDP TC=1, TCP retry; whole TXT at the default snap
    length, truncated_capture with --snaplen 512."""
    s, d, tq = _big(lab, None)
    check_exchange(lab, s, d, "tcp", lab.cli4, lab.srv4, "big.lab.test", "TXT",
                   answers=BIG_TXT, dig_query=tq)
    s, d, tq = _big(lab, 512)
    tcp = exchange(s.recs, lab, tq["id"], "tcp", lab.cli4, lab.srv4)
    for role in ("cq", "sq"):
        check(tcp[role]["truncated_capture"] is False, "TCP query cut: %s", brief(tcp[role]))
    for role in ("sr", "cr"):
        r = tcp[role]
        check(r["truncated_capture"] is True, "3 KB response with --snaplen 512 not marked "
              "truncated_capture: %s", brief(r))
        check(r["qname"] == "big.lab.test" and r["rcode"] == "NOERROR" and r["ancount"] == 1,
              "header/question of the cut response: %s", brief(r))
        check(rrs(r["answers"]) != rrs(BIG_TXT), "cut response shows the whole TXT?")
    st = stats_of(s.recs)
    check(st["truncated_captures"] >= 2, "truncated_captures %r", st["truncated_captures"])


def test_large_answers(lab):
    """4b. 5 KB and 58 KB answers over TCP, at the default settings: every
    record decoded, the same at both ends, the same as the zone."""
    s = Session(lab, [])
    digs = {label: lab.dig(DIG + ["+tcp", "%s.lab.test" % label, "TXT"])
            for label in zonedata.TXT_RRSETS}
    s.stop()
    for label, d in digs.items():
        want = zonedata.txt_rrset(label)
        ex = exchange(s.recs, lab, d.queries()[0]["id"], "tcp", lab.cli4, lab.srv4)
        for role in ("sr", "cr"):
            r = ex[role]
            got = [a["data"] for a in r["answers"]]
            check(not r["truncated_capture"] and r["decode_status"] == [],
                  "%s %s: truncated_capture %s, decode_status %s, len %s", label, role,
                  r["truncated_capture"], r["decode_status"], r["len"])
            check(r["ancount"] == len(want) and sorted(got) == sorted(want),
                  "%s %s: ancount %d, %d answers, want the zone's %d", label, role,
                  r["ancount"], len(got), len(want))
        check(ex["cr"]["len"] > {"big5k": 5000, "huge": 57000}[label],
              "%s: response of %d bytes is smaller than the zone makes it", label, ex["cr"]["len"])
    check(stats_of(s.recs)["truncated_captures"] == 0, "truncated captures at the default snaplen")


def test_unanswered(lab):
    """5. queries to an address that never answers: one unanswered record each."""
    s = Session(lab, ["--timeout", "1"])
    d = lab.dig(["+tries=2", "+timeout=1", "www.lab.test", "A"], server=lab.blackhole4)
    time.sleep(1.6)  # past the tracer's timeout for the last retry
    s.stop(settle=0)
    check(d.rc == 9, "dig to the blackhole should time out (rc 9), got %d", d.rc)
    sent = [r for r in ours(s.recs, lab, ("dns",)) if same_ip(r["daddr"], lab.blackhole4)]
    check(sent, "no query records to the blackhole")
    for r in sent:
        check(r["qr"] == "query" and r["dir"] == "egress" and r["pid"] == d.pid,
              "unexpected record to the blackhole: %s", brief(r))
    keys = {(r["id"], r["sport"]) for r in sent}
    un = [r for r in ours(s.recs, lab, ("unanswered",)) if same_ip(r["daddr"], lab.blackhole4)]
    check(sorted((r["id"], r["sport"]) for r in un) == sorted(keys),
          "queries %s, unanswered records %s", sorted(keys), [brief(r) for r in un])
    for r in un:
        check(r["qname"] == "www.lab.test" and r["qtype"] == "A" and r["qr"] == "query",
              "unanswered record fields: %s", brief(r))
        check(r["comm"] == "dig" and r["pid"] == d.pid, "unanswered owner: %s", brief(r))
        w = r.get("waited_ns")
        check(isinstance(w, int) and 1e9 <= w < 2.5e9, "waited_ns %r: want >= 1 s (timeout) "
              "and reported at the timeout, not at session end", w)
    st = stats_of(s.recs)
    check(st["unanswered"] >= len(un), "capture_stats.unanswered %r < %d", st["unanswered"],
          len(un))


def test_ipv6(lab):
    """6. dig AAAA over IPv6 (ULA addresses)."""
    s = Session(lab, [])
    d = lab.dig(DIG + ["www.lab.test", "AAAA"], server=lab.srv6)
    s.stop()
    check(d.rc == 0, "dig -6 failed: %s", d.err)
    ex = check_exchange(lab, s, d, "udp", lab.cli6, lab.srv6, "www.lab.test", "AAAA",
                        answers=WWW_AAAA)
    check(ex["cq"]["saddr"] == str(ipaddress.ip_address(lab.cli6)),
          "IPv6 saddr %r not in RFC 5952 form %r", ex["cq"]["saddr"],
          str(ipaddress.ip_address(lab.cli6)))


def test_capture_stats(lab):
    """7. capture_stats: once, last, consistent with the records."""
    s = Session(lab, ["--timeout", "1"])
    lab.dig(DIG + ["www.lab.test", "A"])
    lab.dig(DIG + ["+tcp", "mail.lab.test", "MX"])
    lab.dig(["+tries=1", "+timeout=1", "www.lab.test", "A"], server=lab.blackhole4)
    time.sleep(1.2)
    recs = s.stop()
    check(recs and recs[-1].get("type") == "capture_stats", "last line is not capture_stats: %s",
          recs[-1] if recs else "(no output)")
    st = stats_of(recs)
    for k in STATS_KEYS:
        check(isinstance(st.get(k), int) and st[k] >= 0, "capture_stats.%s = %r", k, st.get(k))
    dns = [r for r in recs if r.get("type") == "dns"]
    un = [r for r in recs if r.get("type") == "unanswered"]
    mine = ours(recs, lab, ("dns",))
    check(len(mine) >= 8 + 1, "expected at least 9 lab records, got %d", len(mine))
    check(st["events_lost"] == 0, "events_lost %d", st["events_lost"])
    check(st["unanswered"] == len(un) and len(un) >= 1, "unanswered %d, records %d",
          st["unanswered"], len(un))
    check(st["messages"] >= len(dns), "messages %d < %d dns records", st["messages"], len(dns))
    matched = sum(1 for r in dns if r["qr"] == "response" and r.get("latency_ns") is not None)
    unmatched = sum(1 for r in dns if r["qr"] == "response" and r.get("latency_ns") is None)
    check(st["responses_matched"] == matched, "responses_matched %d, records with latency %d",
          st["responses_matched"], matched)
    check(st["responses_unmatched"] == unmatched, "responses_unmatched %d, records without %d",
          st["responses_unmatched"], unmatched)
    check(st["truncated_captures"] == sum(1 for r in dns if r["truncated_capture"]),
          "truncated_captures %d", st["truncated_captures"])
    check(st["events_delivered"] == st["events_submitted"], "delivered %d != submitted %d "
          "with nothing lost", st["events_delivered"], st["events_submitted"])
    udp = sum(1 for r in dns if r["proto"] == "udp")
    check(st["events_delivered"] >= udp, "events_delivered %d < %d UDP messages",
          st["events_delivered"], udp)
    check(st["packets_matched"] >= st["events_submitted"], "packets_matched %d < submitted %d",
          st["packets_matched"], st["events_submitted"])
    check(st["decode_errors"] == 0 and st["filtered"] == 0, "decode_errors %d filtered %d in a "
          "clean unfiltered session", st["decode_errors"], st["filtered"])


def test_filters(lab):
    """8. -p PID keeps only that process's records; --comm only that name's."""
    argv = lab.dig_argv(DIG + ["www.lab.test", "A"])
    # The shell execs dig after the tracer is up, so its PID is known in advance.
    waiter = lab.popen(lab.cli, ["sh", "-c", "read x; exec " + " ".join(argv)],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    s = Session(lab, ["-p", str(waiter.pid)])
    other = lab.dig(DIG + ["www.lab.test", "A"])
    waiter.stdin.write("\n")
    waiter.stdin.flush()
    chosen = lab.dig_finish(waiter)
    recs = s.stop()
    check(chosen.rc == 0 and other.rc == 0, "dig failed: %s %s", chosen.err, other.err)
    for r in recs:
        if r.get("type") in ("dns", "unanswered"):
            check(r["pid"] == waiter.pid, "-p %d let through: %s", waiter.pid, brief(r))
    qid, oid = chosen.queries()[0]["id"], other.queries()[0]["id"]
    mine = [r for r in ours(recs, lab, ("dns",)) if r["id"] == qid]
    check(sorted((r["qr"], r["dir"]) for r in mine) == [("query", "egress"),
                                                        ("response", "ingress")],
          "-p: want dig's query egress and response ingress, got %s", [brief(r) for r in mine])
    check(not [r for r in recs if r.get("id") == oid and r.get("type") == "dns"],
          "the other dig's id %d appears", oid)
    check(stats_of(recs)["filtered"] >= 6, "filtered %r, at least 6 messages were dropped",
          stats_of(recs)["filtered"])

    # --comm matches the process name exactly. dig's is "dig"; nsd 4.6 renames
    # its processes, so the server child is "nsd: server 1", not "nsd".
    s = Session(lab, ["--comm", "dig"])
    d = lab.dig(DIG + ["www.lab.test", "A"])
    recs = s.stop()
    for r in recs:
        if r.get("type") in ("dns", "unanswered"):
            check(r["comm"] == "dig", "--comm dig let through: %s", brief(r))
    qid = d.queries()[0]["id"]
    mine = [r for r in ours(recs, lab, ("dns",)) if r["id"] == qid]
    check(sorted((r["qr"], r["dir"]) for r in mine) == [("query", "egress"),
                                                        ("response", "ingress")],
          "--comm dig: want dig's query egress and response ingress, got %s",
          [brief(r) for r in mine])

    server = [c for c in (proc_comm(p) for p in lab.nsd_pids()) if c.startswith("nsd: server")]
    check(server, "no nsd server process among %s", lab.nsd_pids())
    s = Session(lab, ["--comm", server[0]])
    d = lab.dig(DIG + ["www.lab.test", "A"])
    recs = s.stop()
    for r in recs:
        if r.get("type") in ("dns", "unanswered"):
            check(r["comm"] == server[0], "--comm %r let through: %s", server[0], brief(r))
    qid = d.queries()[0]["id"]
    mine = [r for r in ours(recs, lab, ("dns",)) if r["id"] == qid]
    # The reply is sent by the server process itself; the query's ingress is
    # attributed to the socket's owner, which may be another nsd process.
    check(("response", "egress") in [(r["qr"], r["dir"]) for r in mine],
          "--comm %r: nsd's response egress missing: %s", server[0], [brief(r) for r in mine])
    check(all(r["dir"] == "ingress" and r["qr"] == "query" for r in mine
              if (r["qr"], r["dir"]) != ("response", "egress")),
          "--comm %r: client records let through: %s", server[0], [brief(r) for r in mine])


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().rstrip("\n")
    except OSError:
        return ""


def test_count(lab):
    """9. -c 5 exits by itself after exactly 5 DNS messages."""
    t0 = time.monotonic()
    t = lab.tracer(["-c", "5", "-d", "20"])
    lab.dig(DIG + ["www.lab.test", "A"])
    lab.dig(DIG + ["www.lab.test", "AAAA"])
    try:
        rc = t.wait(10)
    except TracerHung:
        raise AssertionError("-c 5: still running 10 s after 8 messages")
    check(rc == 0, "-c exit code %r: %s", rc, t.stderr[-1000:])
    check(time.monotonic() - t0 < 15, "-c 5 ran until -d")
    recs = t.records()
    dns = [r for r in recs if r.get("type") == "dns"]
    check(len(dns) == 5, "-c 5 printed %d dns records", len(dns))


def bpf_prog_names():
    """Function names of the SEC() programs in bpf/dnssnoop.bpf.c, cut to 15
    characters as the kernel stores them."""
    try:
        with open(BPF_SRC) as f:
            src = f.read()
    except OSError:
        return set()
    names = re.findall(r'SEC\("[^"]+"\)\s*(?:\w+\s+)*?(\w+)\s*\(', src)
    return {n[:15] for n in names}


def bpf_map_names():
    """Map names in bpf/dnssnoop.bpf.c, plus the skeleton's .rodata/.bss maps,
    which libbpf names after the object ("dnssnoop.rodata")."""
    try:
        with open(BPF_SRC) as f:
            src = f.read()
    except OSError:
        return set()
    names = {n[:15] for n in re.findall(r'\}\s*(\w+)\s+SEC\("\.maps"\)', src)}
    return names | {"dnssnoop.rodata", "dnssnoop.bss", "dnssnoop.data"}


def bpftool_maps():
    return {m["id"]: m for m in json.loads(run(["bpftool", "-j", "map", "show"]).stdout or "[]")}


def bpftool_progs():
    return {p["id"]: p for p in json.loads(run(["bpftool", "-j", "prog", "show"]).stdout or "[]")}


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    raise LabError("no cgroup2 mount")


def cgroup_attached_ids():
    out = run(["bpftool", "-j", "cgroup", "tree", cgroup2_root()]).stdout
    ids = set()
    for line in out.splitlines():  # bpftool prints one JSON document
        line = line.strip()
        if not line:
            continue
        for cg in json.loads(line):
            for p in cg.get("programs", []):
                ids.add(p["id"])
    return ids


def _attach_detach(lab, how):
    names, map_names = bpf_prog_names(), bpf_map_names()
    before, maps_before = set(bpftool_progs()), set(bpftool_maps())
    t = lab.tracer([])
    progs = bpftool_progs()
    my_maps = {i for i, m in bpftool_maps().items()
               if i not in maps_before and m.get("name") in map_names}
    new = {i: p for i, p in progs.items() if i not in before}
    if names:
        new = {i: p for i, p in new.items() if p.get("name") in names}
    pids_known = any("pids" in p for p in new.values())
    if pids_known:  # bpftool knows who holds each program: keep the tracer's
        new = {i: p for i, p in new.items()
               if t.proc.pid in [x.get("pid") for x in p.get("pids", [])]}
    mine = set(new)
    check(mine, "%s: no new programs named %s while the tracer runs", how, sorted(names))
    attached = cgroup_attached_ids() & mine
    check(attached, "%s: none of the tracer's programs %s in bpftool cgroup tree", how,
          sorted(mine))
    if how == "SIGINT":
        check(t.stop() == 0, "SIGINT exit code %r", t.returncode)
    else:
        t.kill()
    left_progs, left_cg, left_maps = mine, attached, my_maps
    deadline = time.monotonic() + 5  # links and programs are freed asynchronously
    while time.monotonic() < deadline:
        left_progs = mine & set(bpftool_progs())
        left_cg = mine & cgroup_attached_ids()
        left_maps = my_maps & set(bpftool_maps())
        if not left_progs and not left_cg and not left_maps:
            break
        time.sleep(0.1)
    check(not left_cg, "after %s: still attached to cgroups: %s", how, sorted(left_cg))
    check(not left_progs, "after %s: programs still loaded: %s", how,
          [(i, progs[i].get("name")) for i in sorted(left_progs)])
    check(my_maps, "%s: no new maps named %s while the tracer ran", how, sorted(map_names))
    check(not left_maps, "after %s: maps still exist: %s", how, sorted(left_maps))


def test_clean_detach(lab):
    """10. nothing stays attached after SIGINT, nor after SIGKILL."""
    _attach_detach(lab, "SIGINT")
    _attach_detach(lab, "SIGKILL")


HOSTILE_SENDER = r"""
import random, socket, struct, sys
srv = sys.argv[1]
rnd = random.Random(53)
def hdr(i, flags, qd, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", i, flags, qd, an, ns, ar)
qname = b"\x05hostl\x03lab\x04test\x00"
msgs = [
    bytes(rnd.getrandbits(8) for _ in range(5)),                 # shorter than a header
    bytes(rnd.getrandbits(8) for _ in range(64)),                # noise
    hdr(0xBAD1, 0x0100, 1) + b"\xc0\x0c" + b"\x00\x01\x00\x01",  # name points to itself
    hdr(0xBAD2, 0x0100, 1) + b"\xc0\xff" + b"\x00\x01\x00\x01",  # pointer past the end
    hdr(0xBAD5, 0x0100, 1) + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01",  # 64-byte label
    hdr(0xBAD3, 0x0100, 1, an=65535) + qname + b"\x00\x01\x00\x01",  # counts lie
    hdr(0xBAD4, 0x8400, 1, an=1) + qname + b"\x00\x01\x00\x01"       # answer name loops
        + b"\xc0\x1d\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04",
]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))
print(s.getsockname()[1], flush=True)
for m in msgs:
    s.sendto(m, (srv, 53))
# TCP: a loop message, then a length prefix promising more than is sent.
for payload in (struct.pack(">H", 18) + msgs[2], b"\xff\xff" + msgs[3]):
    t = socket.create_connection((srv, 53), timeout=2)
    t.sendall(payload)
    t.shutdown(socket.SHUT_WR)
    try:
        t.recv(4096)
    except OSError:
        pass
    t.close()
"""


def test_hostile_input(lab):
    """11. garbage and a compression loop to nsd: the tracer survives and counts them."""
    s = Session(lab, [])
    sender = lab.popen(lab.cli, ["/usr/bin/python3", "-c", HOSTILE_SENDER, lab.srv4],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = sender.communicate(timeout=15)
    check(sender.returncode == 0, "hostile sender failed: %s", err)
    port = int(out.split()[0])
    time.sleep(0.3)
    check(s.tracer.proc.poll() is None, "tracer died on hostile input (rc %s): %s",
          s.tracer.proc.returncode, s.tracer.stderr[-1500:])
    d = lab.dig(DIG + ["www.lab.test", "A"])
    recs = s.stop()
    # A memory error here fails the case through runner.SanitizerLogs (make
    # test runs the ASan/UBSan build); stop() has checked the exit status.
    check_exchange(lab, s, d, "udp", lab.cli4, lab.srv4, "www.lab.test", "A", answers=WWW_A)
    bad = [r for r in ours(recs, lab, ("dns",)) if r["sport"] == port or r["dport"] == port]
    flagged = [r for r in bad if not clean_status(r.get("decode_status"))]
    st = stats_of(recs)
    check(st["decode_errors"] > 0 or flagged, "hostile messages not counted: decode_errors "
          "%d, records from port %d: %s", st["decode_errors"], port, [brief(r) for r in bad])
    lying = [r for r in bad if r.get("id") == 0xBAD3 and r["dir"] == "egress"
             and r["qr"] == "query"]
    check(len(lying) == 1 and lying[0]["qname"] == "hostl.lab.test"
          and not clean_status(lying[0]["decode_status"]),
          "query claiming 65535 answers: want one record with its question and a "
          "decode_status, got %s", [brief(r) for r in lying])


def test_text_format(lab):
    """12. --format text: one line per message with the process and the qname."""
    s = Session(lab, ["--format", "text"])
    d = lab.dig(DIG + ["text.lab.test", "A"])
    time.sleep(0.2)
    rc = s.tracer.stop()
    check(rc == 0, "text mode exit %r: %s", rc, s.tracer.stderr[-1000:])
    check(d.rc == 0 and rrs(d.responses()[-1]["answers"]) == rrs(TEXT_A), "dig: %s", d.out)
    # This lab's lines: they name the qname and the client address and port.
    lines = [ln for ln in s.tracer.output().splitlines()
             if "text.lab.test" in ln and re.search(r"\b%s\b" % re.escape(lab.cli4), ln)]
    check(len(lines) == 4, "want 4 lines naming text.lab.test and %s (2 dig, 2 nsd), "
          "got %d: %s", lab.cli4, len(lines), lines)
    check(sum("dig" in ln for ln in lines) == 2 and sum("nsd" in ln for ln in lines) == 2,
          "process names in text lines: %s", lines)
    for ln in lines:
        check(not ln.lstrip().startswith("{"), "text mode printed JSON: %s", ln)


def test_cgroup_and_output_file(lab):
    """13. --cgroup traces one subtree only; -o FILE gets the records."""
    cg = "/dnssnoop-test-%d" % os.getpid()
    path = cgroup2_root() + cg
    os.mkdir(path)
    out = os.path.join(lab.tmp, "cgroup.jsonl")
    try:
        argv = lab.dig_argv(DIG + ["www.lab.test", "A"])
        # Starts in the cgroup (ip netns exec remounts /sys, so it moves first),
        # then waits for the tracer before exec'ing dig.
        inside = lab.popen(lab.cli, ["sh", "-c", "read x; exec " + " ".join(argv)], cgroup=cg,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        s = Session(lab, ["--cgroup", cg, "-o", out])
        outside = lab.dig(DIG + ["mail.lab.test", "MX"])
        inside.stdin.write("\n")
        inside.stdin.flush()
        chosen = lab.dig_finish(inside)
        check(s.stop() == [], "with -o FILE nothing may go to stdout")
        check(chosen.rc == 0 and outside.rc == 0, "dig failed: %s %s", chosen.err, outside.err)
        with open(out) as f:
            recs = [json.loads(line) for line in f]
        dns = [r for r in recs if r.get("type") == "dns"]
        check(sorted((r["qr"], r["dir"], r["pid"], r["cgroup"], r["qname"]) for r in dns) ==
              [("query", "egress", inside.pid, cg, "www.lab.test"),
               ("response", "ingress", inside.pid, cg, "www.lab.test")],
              "--cgroup %s: want dig's two copies only (pid %d), got %s", cg, inside.pid,
              [brief(r) for r in dns])
        check(recs[-1].get("type") == "capture_stats", "-o FILE: capture_stats not last")
    finally:
        os.rmdir(path)


CASES = [test_udp_a, test_record_types, test_tcp, test_degraded_features,
         test_truncation_fallback, test_large_answers,
         test_unanswered,
         test_ipv6, test_capture_stats, test_filters, test_count, test_clean_detach,
         test_hostile_input, test_text_format, test_cgroup_and_output_file]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
