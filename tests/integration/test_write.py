#!/usr/bin/python3
"""Integration tests for `dnssnoop -w FILE` (the round trip): a live
session in the lab saves its DNS packets as a pcap; then
  (a) tshark reads the pcap without errors and decodes the same DNS
      messages as the live session printed (ids, names, types, rcodes, ...);
  (b) `dnssnoop -r FILE` reproduces the live session's dns records: every
      field except those a file cannot know (pid, tid, comm, uid, cgroup,
      cookie, ifindex, dir), and the response latencies.

dig sends, in each session: a UDP query, a TCP query (+tcp), a query whose
UDP answer is truncated (big.lab.test TXT, +bufsize=1232: TC=1, then dig
retries over TCP and gets a 3 KB answer; --snaplen 4096 keeps it whole) and
an NXDOMAIN.

Two vantages, each its own session:
  clients: dig runs in a child cgroup of the lab and the tracer is limited
      to it (--cgroup), so it sees each message once, as a host whose
      resolver is elsewhere does;
  both ends: the tracer watches the whole lab (dig and nsd), so it sees each
      message twice, leaving the client and reaching nsd (a host with a local
      resolver), and the pcap holds both copies. The two copies differ only
      in time; tshark is told not to treat the second TCP copy as a
      retransmission (tcp.analyze_sequence_numbers off).

The lab runs in a cgroup of its own (Lab(cgroup=True)), so other DNS traffic
on the host never gets into the pcap.

Usage: python3 tests/integration/test_write.py [CASE-SUBSTRING...]
Prints PASS/FAIL/SKIP per case and "cases: P passed, F failed, S skipped";
exits 77 when it cannot run (not root, tools or tracer missing), 1 if a
case failed.
"""

import collections
import decimal
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from runner import addr, brief_line, check, rfc3339_to_us  # noqa: E402

DIG = ["+qr", "+tries=1", "+timeout=2"]
SNAPLEN = 4096
# What a file cannot know: the process, the socket, the interface, the direction.
# dnssnoop -w writes Linux cooked v2, which keeps the direction and the interface.
UNKNOWABLE = ("pid", "tid", "comm", "uid", "cgroup", "unit", "container", "pod", "cookie")
# Compared separately (a response's latency).
LATENCY = "latency_ns"
KEY = ("ts", "saddr", "sport", "daddr", "dport", "proto", "id", "qr")
QTYPE_NUM = {"A": 1, "MX": 15, "TXT": 16, "AAAA": 28}
RCODE_NUM = {"NOERROR": 0, "NXDOMAIN": 3}


def brief(r):
    return brief_line(r, with_dir=True)


# ---------------------------------------------------------------- the session

class Capture:
    """One live session with -w: dig's results, the live records, the pcap."""

    def __init__(self, lab, vantage):
        self.vantage = vantage
        self.pcap = os.path.join(lab.tmp, "%s.pcap" % vantage)
        if vantage == "clients":
            cgroup = lab.sub_cgroup("clients")
            dig_cgroup, copies = cgroup, 1
        else:
            cgroup, dig_cgroup, copies = lab.cgroup, None, 2
        self.copies = copies
        t = lab.tracer(["-w", self.pcap, "--snaplen", str(SNAPLEN), "--cgroup", cgroup])
        self.digs = {
            "udp": lab.dig(DIG + ["www.lab.test", "A"], cgroup=dig_cgroup),
            "tcp": lab.dig(DIG + ["+tcp", "www.lab.test", "A"], cgroup=dig_cgroup),
            "big": lab.dig(DIG + ["+bufsize=1232", "big.lab.test", "TXT"], cgroup=dig_cgroup),
            "nx": lab.dig(DIG + ["nope.lab.test", "A"], cgroup=dig_cgroup),
        }
        time.sleep(0.3)  # let the last events reach the ring buffer
        rc = t.stop()
        check(rc == 0, "tracer exited %s: %s", rc, t.stderr[-1500:])
        self.records = t.records()
        self.live = [r for r in self.records if r.get("type") == "dns"]
        self.check_live()

    def check_live(self):
        """The live session itself is what dig did: the premise of the oracle."""
        for name, d in self.digs.items():
            check(d.rc == 0, "dig %s failed: %s", name, d.err)
        big = self.digs["big"]
        check("Truncated, retrying in TCP mode" in big.out, "dig did not fall back to TCP: %s",
              big.out)
        # Every query dig sent was answered (dig does not print the truncated
        # UDP answer, only that it retries over TCP).
        ids = collections.Counter()
        for d in self.digs.values():
            for m in d.queries():
                ids[(m["id"], "query")] += self.copies
                ids[(m["id"], "response")] += self.copies
        got = collections.Counter((r["id"], r["qr"]) for r in self.live)
        check(got == ids, "%s: live records (id, qr) %s, dig sent %s", self.vantage,
              sorted(got.items()), sorted(ids.items()))
        check(len(self.live) == 10 * self.copies, "%s: %d live dns records, want %d",
              self.vantage, len(self.live), 10 * self.copies)
        big_tcp = [r for r in self.live if r["qname"] == "big.lab.test" and r["proto"] == "tcp"
                   and r["qr"] == "response"]
        size = big.responses()[-1]["size"]
        check(len(big_tcp) == self.copies and all(
            r["len"] == size and r["truncated_capture"] is False and len(r["answers"]) == 1
            for r in big_tcp), "the whole %d-byte TXT over TCP: %s", size,
            [brief(r) + " len=%s trunc=%s" % (r["len"], r["truncated_capture"])
             for r in big_tcp])
        check(any("tc" in r["flags"] for r in self.live if r["qname"] == "big.lab.test"
                  and r["proto"] == "udp" and r["qr"] == "response"), "no UDP answer with TC")
        un = [r for r in self.records if r.get("type") == "unanswered"]
        check(not un, "unanswered queries in the live session: %s", [brief(r) for r in un])
        check(os.path.getsize(self.pcap) > 24, "%s: the pcap is empty", self.pcap)


_captures = {}


def capture(lab, vantage):
    """The session of one vantage, made once and shared by the cases."""
    if vantage not in _captures:
        try:
            _captures[vantage] = Capture(lab, vantage)
        except Exception as e:
            _captures[vantage] = e
            raise
    c = _captures[vantage]
    if isinstance(c, Exception):
        raise AssertionError("the %s session failed earlier: %s" % (vantage, c))
    return c


# ---------------------------------------------------------------- (a) tshark

PI_ERROR = 0x00800000  # Wireshark's expert severity "error" (warnings and notes are below)


def tshark_errors(node):
    """Malformed-packet markers and error-severity expert infos in an ek layer tree.
    (The second copy of a message is, to tshark, a retransmission: a warning.)"""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "_ws_malformed":
                found.append("malformed: %s" % (v,))
            elif k == "_ws_expert__ws_expert_severity" and int(v) >= PI_ERROR:
                found.append(node.get("_ws_expert__ws_expert_message"))
            else:
                found += tshark_errors(v)
    elif isinstance(node, list):
        for v in node:
            found += tshark_errors(v)
    return found


def tshark_messages(path):
    """Every DNS message tshark decodes in path, in file order."""
    p = subprocess.run(["tshark", "-n", "-r", path, "-o", "tcp.analyze_sequence_numbers:FALSE",
                        "-T", "ek"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    err = [ln for ln in p.stderr.decode("utf-8", "replace").splitlines()
           if ln.strip() and not ln.startswith("Running as user")]
    check(p.returncode == 0 and not err, "tshark -r %s: exit %d: %s", path, p.returncode, err)
    msgs = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        layers = json.loads(line).get("layers")
        if not layers:
            continue
        bad = tshark_errors(layers)
        check(not bad, "tshark reports errors in frame %s: %s",
              layers.get("frame", {}).get("frame_frame_number"), bad)
        if "dns" not in layers:
            continue
        ts = decimal.Decimal(layers["frame"]["frame_frame_time_epoch"])
        d = layers["dns"]
        resp = d.get("dns_dns_flags_response") in (True, "1", "true")
        if "udp" in layers:
            proto, length = "udp", int(layers["udp"]["udp_udp_length"]) - 8
        else:
            proto, length = "tcp", int(d["dns_dns_length"])
        ip = layers.get("ip") or layers.get("ipv6")
        src = ip.get("ip_ip_src") or ip.get("ipv6_ipv6_src")
        msgs.append({"ts_us": int(ts * 10**6), "proto": proto, "saddr": addr(src),
                     "id": int(d["dns_dns_id"], 16), "qr": "response" if resp else "query",
                     "qname": d.get("dns_dns_qry_name"), "qtype": int(d["dns_dns_qry_type"]),
                     "rcode": int(d["dns_dns_flags_rcode"]) if resp else None,
                     "ancount": int(d["dns_dns_count_answers"]),
                     "tc": d.get("dns_dns_flags_truncated") in (True, "1", "true"),
                     "len": length})
    return msgs


def as_tshark(r):
    return {"ts_us": rfc3339_to_us(r["ts"]), "proto": r["proto"], "saddr": addr(r["saddr"]),
            "id": r["id"], "qr": r["qr"], "qname": r["qname"], "qtype": QTYPE_NUM[r["qtype"]],
            "rcode": RCODE_NUM[r["rcode"]] if r["qr"] == "response" else None,
            "ancount": r["ancount"], "tc": "tc" in r["flags"], "len": r["len"]}


def sort_key(m):
    return tuple(str(m[k]) for k in sorted(m))


def check_tshark(c):
    ts = tshark_messages(c.pcap)
    live = [as_tshark(r) for r in c.live]
    check(len(ts) == len(live), "%s: tshark decodes %d DNS messages in the pcap, the live "
          "session printed %d", c.vantage, len(ts), len(live))
    missing = sorted((m for m in live if m not in ts), key=sort_key)
    extra = sorted((m for m in ts if m not in live), key=sort_key)
    check(not missing and not extra, "%s: live messages tshark does not see: %s; tshark "
          "messages the live session did not print: %s", c.vantage, missing, extra)
    check(sorted(map(sort_key, ts)) == sorted(map(sort_key, live)),
          "%s: duplicates differ between tshark and the live session", c.vantage)


def test_tshark_clients(lab):
    """(a) clients' vantage: tshark decodes the 10 messages the live session printed."""
    check_tshark(capture(lab, "clients"))


def test_tshark_both_ends(lab):
    """(a) both ends local: tshark decodes both copies of the 10 messages."""
    check_tshark(capture(lab, "both ends"))


# ---------------------------------------------------------------- (b) -r

def offline_records(path):
    p = subprocess.run([labmod.TRACER, "-r", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, "dnssnoop -r %s: exit %d: %s", path, p.returncode,
          p.stderr.decode()[-1000:])
    recs = [json.loads(line) for line in p.stdout.decode("utf-8").splitlines() if line]
    for r in recs:
        if r["type"] == "dns":
            check(r["pid"] is None and r["cookie"] == 0 and r["dir"] in ("egress", "ingress")
                  and r["ifindex"] > 0, "offline record: a process, or no direction or "
                  "interface: %s", brief(r))
    return recs


def comparable(r):
    """A dns record without what a file cannot know and without the latency."""
    o = {k: v for k, v in r.items() if k not in UNKNOWABLE and k != LATENCY}
    o["saddr"], o["daddr"] = addr(r["saddr"]), addr(r["daddr"])
    return o


def check_roundtrip(c):
    off_recs = offline_records(c.pcap)
    off = [r for r in off_recs if r["type"] == "dns"]
    by_key = collections.defaultdict(list)
    for r in off:
        by_key[tuple(comparable(r)[k] for k in KEY)].append(r)
    problems, latencies = [], 0
    for r in c.live:
        k = tuple(comparable(r)[f] for f in KEY)
        cands = by_key.get(k, [])
        if not cands:
            problems.append("no offline record for live %s" % brief(r))
            continue
        o = cands.pop(0)
        want, got = comparable(r), comparable(o)
        if want != got:
            diff = {f: (want.get(f), got.get(f)) for f in set(want) | set(got)
                    if want.get(f) != got.get(f)}
            problems.append("live %s: fields differ (live, offline): %s" % (brief(r), diff))
        if r["qr"] == "response" and LATENCY in r and LATENCY in o:
            latencies += 1
            if r[LATENCY] != o[LATENCY]:
                problems.append("live %s: latency_ns live %d, offline %d"
                                % (brief(r), r[LATENCY], o[LATENCY]))
    left = [o for lst in by_key.values() for o in lst]
    if left:
        problems.append("offline records with no live counterpart: %s"
                        % [brief(o) for o in left])
    unanswered = [r for r in off_recs if r["type"] == "unanswered"]
    if unanswered:
        problems.append("offline unanswered records (the live session had none): %s"
                        % [brief(r) for r in unanswered])
    check(not problems, "%s: dnssnoop -r does not reproduce the live session (%d live, %d "
          "offline dns records):\n  %s", c.vantage, len(c.live), len(off),
          "\n  ".join(problems))
    live_lat = sum(LATENCY in r for r in c.live)
    check(live_lat == 5 * c.copies, "%s: %d live responses with a latency, want %d",
          c.vantage, live_lat, 5 * c.copies)
    return latencies


def test_roundtrip_clients(lab):
    """(b) clients' vantage: dnssnoop -r gives back every live record and latency."""
    c = capture(lab, "clients")
    n = check_roundtrip(c)
    check(n == 5, "latencies compared: %d, want all 5 responses", n)


def test_roundtrip_both_ends(lab):
    """(b) both ends local: dnssnoop -r gives back both copies of every live
    record, with their latencies where the file has them."""
    check_roundtrip(capture(lab, "both ends"))


CASES = [test_tshark_clients, test_roundtrip_clients, test_tshark_both_ends,
         test_roundtrip_both_ends]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces, cgroups",
                                {"tag": "write", "cgroup": True}, tools=("tshark",))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
