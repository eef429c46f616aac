#!/usr/bin/python3
"""Integration tests for offline analysis: build/dnssnoop -r FILE.

Needs no root and never skips. Inputs are pcaps written by tools/gen-pcap
(which also writes an answer key: what every DNS message in the file is)
and two small real captures in tests/fixtures/pcap/ (tcpdump on lo, and
on "any", of dig talking to nsd on 127.0.0.1 port 15353). Oracles:
  - tshark, independently decoding the same file (-T ek): every DNS
    message's id, qname, qtype, rcode, answer count and latency agree;
  - the generator's answer key, message for message, in order;
  - damaged files made here from good ones (wrong magic, last record cut).

CLI contract under test:
  dnssnoop -r FILE [-r FILE2 ...] [--port N] [--timeout S] ['filter expression']
prints JSON Lines (docs/output.md) to stdout; times come from the packets.

Usage: python3 tests/integration/test_offline.py [CASE-SUBSTRING...]
Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped";
exits 1 if a case failed.
"""

import decimal
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, addr, brief_line, check, ns_to_rfc3339, rfc3339_to_ns  # noqa: E402

GEN = os.path.join(REPO, "tools", "gen-pcap")
FIXTURES = os.path.join(REPO, "tests", "fixtures", "pcap")
LAB_PORT = 15353

QTYPE_NUM = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
             "AAAA": 28, "SRV": 33, "OPT": 41, "HTTPS": 65, "CAA": 257}
RCODE_NUM = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4,
             "REFUSED": 5}


# ---------------------------------------------------------------- helpers

class Run(runner.Run):
    """One dnssnoop run, with its records by type."""

    def dns(self):
        return [r for r in self.records if r["type"] == "dns"]

    def unanswered(self):
        return [r for r in self.records if r["type"] == "unanswered"]

    def stats(self):
        s = [r for r in self.records if r["type"] == "capture_stats"]
        check(len(s) == 1 and self.records[-1] is s[0],
              "want one capture_stats record, last; got %d", len(s))
        return s[0]


def gen(tmp, name, *opts, key=True):
    """Run tools/gen-pcap; returns (pcap path, answer key as a list)."""
    path = os.path.join(tmp, name)
    cmd = [sys.executable, GEN, "-o", path] + list(opts)
    if key:
        cmd += ["--key", path + ".key"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    check(p.returncode == 0, "gen-pcap %s failed: %s", opts, p.stderr.decode()[-1000:])
    if not key:
        return path, None
    with open(path + ".key") as f:
        return path, [json.loads(line) for line in f]


def expected(k):
    """What dnssnoop must print for the answer-key entry k."""
    e = {"ts": ns_to_rfc3339(k["ts_ns"]), "proto": k["proto"], "saddr": addr(k["saddr"]),
         "sport": k["sport"], "daddr": addr(k["daddr"]), "dport": k["dport"], "id": k["id"],
         "qr": k["qr"], "qname": k["qname"], "qtype": k["qtype"], "ancount": k["ancount"],
         "len": k["len"], "truncated_capture": k["truncated"],
         "rcode": k.get("rcode"), "latency_ns": k.get("latency_ns")}
    return e


def observed(r, fields):
    o = {f: r.get(f) for f in fields}
    o["saddr"], o["daddr"] = addr(r["saddr"]), addr(r["daddr"])
    return o


def brief(r):
    return brief_line(r)


def compare_with_key(run, key, skip_fields=()):
    """dnssnoop's dns records equal the key, message for message, in order;
    its unanswered records are exactly the key's unanswered queries."""
    dns = run.dns()
    check(len(dns) == len(key), "want %d dns records (answer key), got %d", len(key), len(dns))
    for i, (k, r) in enumerate(zip(key, dns)):
        want = expected(k)
        for f in skip_fields:
            want.pop(f)
        got = observed(r, want)
        if got != want:
            diff = {f: (want[f], got[f]) for f in want if want[f] != got[f]}
            raise AssertionError("message %d (%s): (want, got) %s" % (i + 1, brief(r), diff))
    want_un = sorted((addr(k["saddr"]), k["sport"], k["id"], k["qname"]) for k in key
                     if k.get("unanswered"))
    got_un = sorted((addr(r["saddr"]), r["sport"], r["id"], r["qname"])
                    for r in run.unanswered())
    check(got_un == want_un, "unanswered: want %s, got %s", want_un[:10], got_un[:10])


def tshark_messages(path, port=53):
    """Every DNS message tshark decodes, in file order."""
    cmd = ["tshark", "-n", "-r", path, "-T", "ek"]
    if port != 53:
        cmd += ["-d", "udp.port==%d,dns" % port, "-d", "tcp.port==%d,dns" % port]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    check(p.returncode == 0, "tshark failed: %s", p.stderr.decode()[-1000:])
    msgs = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        o = json.loads(line)
        layers = o.get("layers")
        if not layers or "dns" not in layers:
            continue
        frame_ts = decimal.Decimal(layers["frame"]["frame_frame_time_epoch"])
        dns = layers["dns"]
        for d in dns if isinstance(dns, list) else [dns]:
            resp = d.get("dns_dns_flags_response") in (True, "1", "true")
            m = {"id": int(d["dns_dns_id"], 16), "qr": "response" if resp else "query",
                 "qname": d.get("dns_dns_qry_name"),
                 "qtype": int(d["dns_dns_qry_type"]) if "dns_dns_qry_type" in d else None,
                 "ancount": int(d["dns_dns_count_answers"]),
                 "rcode": int(d["dns_dns_flags_rcode"]) if resp else None,
                 "latency_ns": (int(decimal.Decimal(d["dns_dns_time"]) * 10**9)
                                if "dns_dns_time" in d else None),
                 "ts_us": int(frame_ts * 10**6)}
            msgs.append(m)
    return msgs


def as_tshark(r):
    """A dnssnoop record in tshark's terms (numbers for types and rcodes)."""
    qt = r["qtype"]
    qt = QTYPE_NUM.get(qt, int(qt[4:]) if qt and qt.startswith("TYPE") else qt)
    rc = r.get("rcode")
    rc = RCODE_NUM.get(rc, int(rc[5:]) if rc and rc.startswith("RCODE") else rc)
    return {"id": r["id"], "qr": r["qr"], "qname": r["qname"], "qtype": qt,
            "ancount": r["ancount"], "rcode": rc, "latency_ns": r.get("latency_ns"),
            "ts_us": rfc3339_to_ns(r["ts"]) // 1000}


def compare_with_tshark(path, run, port=53, want_count=None):
    ts = tshark_messages(path, port)
    ours = [as_tshark(r) for r in run.dns()]
    if want_count is not None:
        check(len(ts) == want_count, "tshark decoded %d messages, want %d", len(ts), want_count)
    check(len(ours) == len(ts), "dnssnoop printed %d dns records, tshark decoded %d messages",
          len(ours), len(ts))
    latencies = 0
    for i, (a, b) in enumerate(zip(ours, ts)):
        if a != b:
            diff = {f: (b[f], a[f]) for f in a if a[f] != b[f]}
            raise AssertionError("message %d: (tshark, dnssnoop) %s" % (i + 1, diff))
        latencies += a["latency_ns"] is not None
    return len(ts), latencies


def answers(r, q):
    """Is key entry r the response to key entry q?"""
    return (r["qr"] == "response" and r["id"] == q["id"] and r["proto"] == q["proto"]
            and (r["saddr"], r["sport"], r["daddr"], r["dport"])
            == (q["daddr"], q["dport"], q["saddr"], q["sport"]))


def pcap_records(path):
    """(offset, caplen) of each record of a classic pcap file (test helper)."""
    with open(path, "rb") as f:
        data = f.read()
    check(struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D), "not a LE pcap")
    recs, off = [], 24
    while off < len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append((off, caplen))
        off += 16 + caplen
    return recs, data


# ---------------------------------------------------------------- cases

def near_collisions(key):
    """Counts, in an answer key, of UDP queries outstanding together on one
    socket with the same name and ids one byte apart (high, low), of one
    name and id outstanding on two sockets, and of retransmitted queries."""
    open_q, seen = {}, {"high": 0, "low": 0, "sockets": 0, "retransmit": 0}
    for k in key:
        if k["proto"] != "udp":
            continue
        if k["qr"] == "query":
            for (c, p, i, n) in open_q:
                if (c, n) != (k["saddr"], k["qname"]):
                    continue
                if p == k["sport"] and i == k["id"]:
                    seen["retransmit"] += 1
                elif p == k["sport"] and i ^ k["id"] < 256:
                    seen["low"] += 1
                elif p == k["sport"] and not (i ^ k["id"]) & 0xFF:
                    seen["high"] += 1
                elif p != k["sport"] and i == k["id"]:
                    seen["sockets"] += 1
            open_q[(k["saddr"], k["sport"], k["id"], k["qname"])] = True
        else:
            open_q.pop((k["daddr"], k["dport"], k["id"], k["qname"]), None)
    return seen


def test_tshark_oracle_generated(tmp):
    """(a) A generated mix (UDP, TCP, IPv4/6, fragments, unanswered, noise,
    near-collisions for the matcher: ids one byte apart outstanding on one
    socket, one id on two sockets, retransmissions): every message agrees
    with tshark, latencies included, and with the answer key."""
    path, key = gen(tmp, "mix.pcap", "-n", "3000", "--seed", "11", "--precision", "ns",
                    "--tcp-share", "0.2", "--frag-share", "0.05", "--unanswered", "0.05",
                    "--noise", "0.05", "--collisions", "0.1")
    seen = near_collisions(key)
    check(min(seen.values()) >= 10, "too few near-collisions in the file: %s", seen)
    run = Run(["-r", path]).ok()
    n, lat = compare_with_tshark(path, run, want_count=len(key))
    check(lat == sum("latency_ns" in k for k in key) and lat > 1000,
          "latencies compared: %d, key has %d", lat, sum("latency_ns" in k for k in key))
    compare_with_key(run, key)


def test_tshark_oracle_lab_capture(tmp):
    """(a) Real captures (tcpdump on lo: Ethernet; on any: Linux cooked v2) of
    dig against nsd: dnssnoop and tshark agree on all 26 messages."""
    for name in ("lab-lo-ethernet.pcap", "lab-any-sll2.pcap"):
        path = os.path.join(FIXTURES, name)
        run = Run(["-r", path, "--port", str(LAB_PORT)]).ok()
        n, lat = compare_with_tshark(path, run, LAB_PORT, want_count=26)
        check(lat == 13, "%s: 13 responses matched, got %d latencies", name, lat)
        dns = run.dns()
        # Written down from the dig commands that made the capture.
        check([(r["proto"], r["qname"], r["qtype"]) for r in dns if r["qr"] == "query"] == [
            ("udp", "www.lab.test", "A"), ("udp", "www.lab.test", "AAAA"),
            ("udp", "mail.lab.test", "MX"), ("udp", "txt.lab.test", "TXT"),
            ("udp", "nope.lab.test", "A"), ("udp", "lab.test", "SOA"),
            ("udp", "big.lab.test", "TXT"), ("tcp", "big.lab.test", "TXT"),
            ("tcp", "www.lab.test", "A"), ("udp", "www.lab.test", "AAAA"),
            ("tcp", "mail.lab.test", "MX"), ("tcp", "lab.test", "NS"),
            ("udp", "lab.test", "NS")], "%s: queries %s", name,
            [(r["proto"], r["qname"], r["qtype"]) for r in dns if r["qr"] == "query"])
        big = [r for r in dns if r["qname"] == "big.lab.test" and r["qr"] == "response"]
        check(len(big) == 2 and "tc" in big[0]["flags"] and big[1]["proto"] == "tcp"
              and len(big[1]["answers"]) == 1 and big[1]["len"] > 3000,
              "%s: big TXT: UDP with tc, then the whole 3 KB TXT over TCP: %s", name,
              [brief(r) for r in big])
        check(any(r["saddr"] == "::1" for r in dns), "%s: the ::1 query is missing", name)
        # Linux cooked captures say which way each packet went (tcpdump -i any
        # on loopback sees every packet arriving, on lo); others cannot.
        cooked = "sll" in name
        for r in dns:
            check(r["pid"] is None and r["comm"] is None and r["cookie"] == 0,
                  "%s: offline records have no process or socket: %s", name, r)
            check((r["dir"], r["ifindex"]) == (("ingress", 1) if cooked else (None, 0)),
                  "%s: direction and interface %s, want %s", name, (r["dir"], r["ifindex"]),
                  ("ingress", 1) if cooked else (None, 0))
        st = run.stats()
        check(st["messages"] == 26 and st["responses_matched"] == 13 and st["unanswered"] == 0
              and st["packets_matched"] is None,
              "%s: capture_stats %s", name, st)


def test_link_types(tmp):
    """(b) Every link type (Ethernet, 802.1Q, QinQ, cooked v1/v2, raw, raw
    IPv4/IPv6, BSD loopback in both byte orders): output equals the key."""
    for link in ("ethernet", "vlan", "qinq", "sll", "sll2", "raw", "ipv4", "ipv6", "null",
                 "null-be", "loop"):
        path, key = gen(tmp, "link-%s.pcap" % link, "-n", "400", "--seed", "21",
                        "--link", link, "--frag-share", "0.05", "--noise", "0.05")
        check(len(key) >= 400, "key too short")
        try:
            compare_with_key(Run(["-r", path]).ok(), key)
        except AssertionError as e:
            raise AssertionError("link type %s: %s" % (link, e))


def test_ipv6_extension_headers_and_fragments(tmp):
    """(b) IPv6 only, every packet with extension headers (Hop-by-Hop, and
    Destination Options inside fragmented datagrams), many fragmented
    responses, half of them sent last fragment first."""
    path, key = gen(tmp, "v6.pcap", "-n", "1500", "--seed", "31", "--family", "6",
                    "--ipv6-ext", "1", "--frag-share", "0.3", "--reverse-frags", "0.5",
                    "--tcp-share", "0.1")
    frag = sum(k["fragmented"] for k in key)
    check(frag > 100, "only %d fragmented messages in the key", frag)
    run = Run(["-r", path]).ok()
    compare_with_key(run, key)
    compare_with_tshark(path, run, want_count=len(key))


def test_ipv4_fragments(tmp):
    """(b) IPv4 responses of 2-6 KB in 2-5 fragments, in and out of order."""
    path, key = gen(tmp, "v4frag.pcap", "-n", "1500", "--seed", "41", "--family", "4",
                    "--proto", "udp", "--frag-share", "0.4", "--reverse-frags", "0.5")
    frag = [k for k in key if k["fragmented"]]
    check(len(frag) > 200 and max(k["len"] for k in frag) > 3000,
          "key: %d fragmented messages", len(frag))
    run = Run(["-r", path]).ok()
    compare_with_key(run, key)
    check(all(not r["decode_status"] for r in run.dns()), "decode problems after reassembly")


def test_tcp_segmentation(tmp):
    """(b) DNS over TCP only: several messages per segment, messages and
    length prefixes split across segments, 2-4 KB responses over several
    segments, handshakes and pure ACKs."""
    path, key = gen(tmp, "tcp.pcap", "-n", "2000", "--seed", "51", "--proto", "tcp",
                    "--frag-share", "0.1", "--precision", "ns")
    run = Run(["-r", path]).ok()
    compare_with_key(run, key)
    st = run.stats()
    check(st["tcp_gaps"] == 0 and st["decode_errors"] == 0, "capture_stats %s", st)
    compare_with_tshark(path, run, want_count=len(key))


def test_pcapng_and_precision(tmp):
    """(b) pcapng with ns and µs resolution, pcap with ns: latencies to the
    nanosecond (ns files) or whole µs (µs files), as the key says."""
    for fmt, prec in (("pcapng", "ns"), ("pcapng", "us"), ("pcap", "ns")):
        path, key = gen(tmp, "p-%s-%s.%s" % (fmt, prec, fmt), "-n", "600", "--seed", "61",
                        "--format", fmt, "--precision", prec, "--link", "sll2")
        run = Run(["-r", path]).ok()
        compare_with_key(run, key)
        lats = [r["latency_ns"] for r in run.dns() if "latency_ns" in r]
        sub_us = sum(x % 1000 != 0 for x in lats)
        check(sub_us > len(lats) // 2 if prec == "ns" else sub_us == 0,
              "%s/%s: %d of %d latencies not whole µs", fmt, prec, sub_us, len(lats))


def test_stdin_and_several_files(tmp):
    """-r - reads stdin; -r A -r B reads both, in order, into one session."""
    a, key_a = gen(tmp, "a.pcap", "-n", "300", "--seed", "71")
    b, key_b = gen(tmp, "b.pcap", "-n", "300", "--seed", "72", "--start", "1767229200",
                   "--format", "pcapng")
    with open(a, "rb") as f:
        compare_with_key(Run(["-r", "-"], stdin=f).ok(), key_a)
    run = Run(["-r", a, "-r", b]).ok()
    compare_with_key(run, key_a + key_b)
    st = run.stats()
    check(st["messages"] == len(key_a) + len(key_b), "capture_stats messages %s", st)
    check(st["window_start"] <= ns_to_rfc3339(key_a[0]["ts_ns"])
          and st["window_end"] >= ns_to_rfc3339(key_b[-1]["ts_ns"])
          and st["window_start"].startswith("2026-01-01T00:00:0"),
          "session window from packet times: %s .. %s", st["window_start"], st["window_end"])


def test_wrong_magic(tmp):
    """(c) A file that is not a pcap: clear message naming the file, non-zero exit."""
    path = os.path.join(tmp, "not-a-capture.pcap")
    with open(path, "wb") as f:
        f.write(b"GIF89a this is not a capture file" + bytes(100))
    run = Run(["-r", path])
    check(run.rc != 0, "exit status 0 for a file with a wrong magic")
    check(path in run.stderr and ("format" in run.stderr or "pcap" in run.stderr),
          "stderr should name %s and say it is not a capture: %r", path, run.stderr)
    check(not run.dns(), "records from a non-capture: %s", run.dns()[:3])
    missing = os.path.join(tmp, "no-such-file.pcap")
    run = Run(["-r", missing])
    check(run.rc != 0 and missing in run.stderr, "missing file: rc %d, stderr %r", run.rc,
          run.stderr)


def test_truncated_last_packet(tmp):
    """(c) The last record cut short (in its data, then in its header): the
    message names the file and the packet number, exit is non-zero, and
    every message completed before that packet was printed."""
    path, key = gen(tmp, "full.pcap", "-n", "800", "--seed", "81")
    recs, data = pcap_records(path)
    n = len(recs)
    last_off, last_cap = recs[-1]
    before = [k for k in key if k["frame"] < n]
    check(len(before) >= len(key) - 2, "key: the last frame completes too much")
    for name, cut in (("cut-data.pcap", last_off + 16 + last_cap // 2),
                      ("cut-header.pcap", last_off + 7)):
        damaged = os.path.join(tmp, name)
        with open(damaged, "wb") as f:
            f.write(data[:cut])
        run = Run(["-r", damaged])
        check(run.rc != 0, "%s: exit status 0 for a truncated file", name)
        check(damaged in run.stderr and str(n) in run.stderr,
              "%s: stderr should name the file and packet %d: %r", name, n, run.stderr)
        # A query whose response was in the lost packet is now unanswered.
        want = [dict(k, unanswered=True) if k["qr"] == "query" and not k.get("unanswered")
                and not any(answers(r, k) for r in before) else k for k in before]
        compare_with_key(run, want)
        run.stats()


def test_snaplen_shorter_than_packets(tmp):
    """(c) Snap length 80: every message is still there, with the bytes that
    were captured; the cut ones say truncated_capture and their full len."""
    path, key = gen(tmp, "snap.pcap", "-n", "600", "--seed", "91", "--proto", "udp",
                    "--snaplen", "80", "--frag-share", "0", "--family", "4")
    cut = sum(k["truncated"] for k in key)
    check(cut > 200, "only %d messages cut by the snap length", cut)
    run = Run(["-r", path]).ok()
    # A cut message keeps id, qr, len and addresses; its question may be cut too.
    dns = run.dns()
    check(len(dns) == len(key), "want %d records, got %d", len(key), len(dns))
    for k, r in zip(key, dns):
        e = expected(k)
        for f in ("ts", "proto", "saddr", "sport", "daddr", "dport", "id", "qr", "len",
                  "truncated_capture"):
            check(observed(r, [f])[f] == e[f], "%s: %s want %r got %r", brief(r), f, e[f],
                  r.get(f))
        if not k["truncated"]:
            check(r["qname"] == k["qname"] and r["ancount"] == k["ancount"],
                  "uncut message: %s", brief(r))
        else:
            check(r["decode_status"], "cut message without a decode_status: %s", brief(r))
    st = run.stats()
    check(st["truncated_captures"] == cut, "capture_stats truncated_captures %d, want %d",
          st["truncated_captures"], cut)


def test_bpf_filter(tmp):
    """(d) 'host 10.0.0.1' selects exactly the messages to or from 10.0.0.1;
    a bad expression is an error that quotes it."""
    path, key = gen(tmp, "filt.pcap", "-n", "1000", "--seed", "101", "--family", "4",
                    "--frag-share", "0.05", "--unanswered", "0")
    sub = [k for k in key if "10.0.0.1" in (k["saddr"], k["daddr"])]
    check(0 < len(sub) < len(key) * 0.7, "subset of %d out of %d", len(sub), len(key))
    compare_with_key(Run(["-r", path, "host 10.0.0.1"]).ok(), sub)
    udp = [k for k in key if k["proto"] == "udp"]
    compare_with_key(Run(["-r", path, "udp and not host 10.0.0.1"]).ok(),
                     [k for k in udp if "10.0.0.1" not in (k["saddr"], k["daddr"])])
    for bad in ("host 10.0.0.1 andd port 53", "port 99999"):
        run = Run(["-r", path, bad])
        check(run.rc != 0 and bad in run.stderr and "filter" in run.stderr,
              "bad expression %r: rc %d, stderr %r", bad, run.rc, run.stderr)
        check(not run.dns(), "records despite a bad filter")


def test_unanswered_on_packet_time(tmp):
    """Queries without a response time out on packet time: a file spanning
    ~12 s, read in a fraction of a second with --timeout 2, reports each
    unanswered query after 2 s of packet time, not at the end."""
    path, key = gen(tmp, "slow.pcap", "-n", "1200", "--seed", "111", "--gap-us", "20000",
                    "--unanswered", "0.1", "--proto", "udp", "--frag-share", "0")
    end_ns = key[-1]["ts_ns"]
    check(end_ns - key[0]["ts_ns"] > 10 * 10**9, "file spans too little time")
    t0 = time.monotonic()
    run = Run(["-r", path, "--timeout", "2"]).ok()
    wall = time.monotonic() - t0
    compare_with_key(run, key)
    early = 0
    for r in run.unanswered():
        q_ns = rfc3339_to_ns(r["ts"])
        if end_ns - q_ns > 3 * 10**9:
            early += 1
            check(2 * 10**9 <= r["waited_ns"] <= 3 * 10**9,
                  "waited_ns %d for a query %.1f s before the end", r["waited_ns"],
                  (end_ns - q_ns) / 1e9)
    check(early > 20, "only %d unanswered queries to check", early)
    check(wall < 10, "took %.1f s of wall time", wall)


def test_ports_and_noise(tmp):
    """Only the --port ports are DNS; other traffic (ARP, ICMP, NTP, HTTP) is skipped."""
    path, key = gen(tmp, "p5300.pcap", "-n", "500", "--seed", "121", "--port", "5300",
                    "--noise", "0.3")
    run = Run(["-r", path]).ok()
    check(not run.dns(), "port 53 selected %d records from a port-5300 file", len(run.dns()))
    compare_with_key(Run(["-r", path, "--port", "5300"]).ok(), key)


# Peak RSS allowed for a session with statistics and detection on a capture
# of 0 to 200 packets, at the default --max-entries and at its maximum: the
# tables grow with their keys, so this is the process, its libraries and a
# few table starts. Measured: 11 MiB for the plain build (5-6 MiB before
# libcurl, whose 40-odd libraries are loaded and relocated at every start),
# 13-15 MiB for the ASan build (shadow memory, quarantine); the tables
# allocated whole took 17 and 50 MiB at the default, 1.4 and 2.7 GiB at the
# maximum.
SMALL_SESSION_KIB = {False: 16 * 1024, True: 32 * 1024}  # by tracer_is_sanitized()
MAX_ENTRIES = 16777216  # --max-entries' maximum, docs/output.md


def empty_pcap(tmp):
    """A pcap file header (Ethernet) and no packets."""
    path = os.path.join(tmp, "empty.pcap")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    return path


def check_small_session(args, bound_kib, max_seconds=None):
    rc, out, err, rss, seconds = runner.run_measured(args)
    check(rc == 0, "dnssnoop %s exited %d: %s", " ".join(args), rc, err[-2000:])
    check(rss < bound_kib, "dnssnoop %s: peak RSS %d KiB, want under %d KiB", " ".join(args),
          rss, bound_kib)
    if max_seconds is not None:
        check(seconds < max_seconds, "dnssnoop %s took %.1f s, want under %d s", " ".join(args),
              seconds, max_seconds)
    return [json.loads(line) for line in out.splitlines()]


def test_memory_of_an_empty_session(tmp):
    """Statistics and detection on, nothing or one exchange to count: the
    tables start small instead of at --max-entries."""
    bound = SMALL_SESSION_KIB[runner.tracer_is_sanitized()]
    one, _ = gen(tmp, "one.pcap", "-n", "1", "--seed", "3", key=False)
    for path in (empty_pcap(tmp), one):
        for extra in ([], ["--interval", "60"]):
            recs = check_small_session(["-r", path, "--summary"] + extra, bound)
            check(any(r["type"] == "name_stats" for r in recs),
                  "no name_stats from %s: statistics did not run", path)


def test_max_entries_at_its_maximum(tmp):
    """--max-entries at its maximum on 200 exchanges: memory and time follow
    the 200 exchanges (it took 1.4 GiB and 6 s when the tables were allocated
    whole); one above the maximum is a usage error naming the flag and it."""
    bound = SMALL_SESSION_KIB[runner.tracer_is_sanitized()]
    path, _ = gen(tmp, "two-hundred.pcap", "-n", "200", "--seed", "3", key=False)
    recs = check_small_session(["-r", path, "--summary", "--max-entries", str(MAX_ENTRIES)],
                               bound, max_seconds=3)
    others = [r for r in recs if r["type"].endswith("_stats") and r.get("others")]
    check(len(others) == 8 and all(r["max_entries"] == MAX_ENTRIES for r in others),
          "want the 8 tables' others records with max_entries %d: %s", MAX_ENTRIES, others)
    run = Run(["-r", path, "--summary", "--max-entries", str(MAX_ENTRIES + 1)])
    check(run.rc == 2, "--max-entries %d: exit %d, want 2 (usage)", MAX_ENTRIES + 1, run.rc)
    check("--max-entries" in run.stderr and str(MAX_ENTRIES) in run.stderr,
          "the message should name --max-entries and its maximum: %r", run.stderr)
    check(not run.records, "records from a usage error: %s", run.records[:2])


CASES = [test_tshark_oracle_generated, test_tshark_oracle_lab_capture, test_link_types,
         test_ipv6_extension_headers_and_fragments, test_ipv4_fragments, test_tcp_segmentation,
         test_pcapng_and_precision, test_stdin_and_several_files, test_wrong_magic,
         test_truncated_last_packet, test_snaplen_shorter_than_packets, test_bpf_filter,
         test_unanswered_on_packet_time, test_ports_and_noise, test_memory_of_an_empty_session,
         test_max_entries_at_its_maximum]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-offline-",
                                    tools=("tshark", runner.GNU_TIME))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
