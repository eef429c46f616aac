#!/usr/bin/python3
"""Integration test: DNS over TCP with segments out of order (dnssnoop -r).

Needs no root and never skips. The pcap is built here: a 65533-byte DNS
response (4094 A records) after a handshake, in 1000-byte TCP segments
shuffled (three seeds), some sent twice. dnssnoop must hold the early
segments and put the stream back in order (docs/output.md, tcp_gaps):
exactly one dns record, whole, and tcp_gaps 0 in capture_stats. tshark,
told to reassemble out of order, is the oracle for the answer count.

Usage: python3 tests/integration/test_tcp_reorder.py [CASE-SUBSTRING...]
"""

import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import brief_line, check  # noqa: E402


class Run(runner.Run):
    def dns(self):
        return [r for r in self.records if r["type"] == "dns"]

    def stats(self):
        s = [r for r in self.records if r["type"] == "capture_stats"]
        check(len(s) == 1 and self.records[-1] is s[0],
              "want one capture_stats record, last; got %d", len(s))
        return s[0]


def big_response(qid, n_answers):
    """A DNS response for big.example A with n_answers A records (names compressed)."""
    msg = struct.pack("!HHHHHH", qid, 0x8180, 1, n_answers, 0, 0)
    msg += b"\x03big\x07example\x00" + struct.pack("!HH", 1, 1)
    for i in range(n_answers):
        msg += struct.pack("!HHHIH", 0xc00c, 1, 1, 300, 4) + bytes([10, i >> 16 & 255,
                                                                    i >> 8 & 255, i & 255])
    return msg


def eth_ipv4_tcp(src, dst, sport, dport, seq, flags, payload):
    """An Ethernet frame: IPv4 (checksummed) + TCP (ACK set unless a bare SYN)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, 1, 5 << 4, flags, 65535,
                      0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    words = struct.unpack("!10H", ip)
    c = sum(words)
    c = (c & 0xffff) + (c >> 16)
    c = (c & 0xffff) + (c >> 16)
    ip = ip[:10] + struct.pack("!H", ~c & 0xffff) + ip[12:]
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


def write_pcap(path, frames, start_s=1767225600):
    """Classic pcap, µs, Ethernet: frames 1 ms apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", start_s + i // 1000, i % 1000 * 1000, len(fr),
                                len(fr)) + fr)


def test_tcp_out_of_order_64k(tmp):
    """(b) A 65533-byte response (4094 A records) in 1000-byte TCP segments,
    shuffled, some twice: exactly one message, whole, tcp_gaps 0;
    tshark, told to reassemble out of order, agrees on the answer count."""
    msg = big_response(0x4242, 4094)
    check(len(msg) == 65533, "message of %d bytes", len(msg))
    stream = struct.pack("!H", len(msg)) + msg
    srv, cli, isn = "192.0.2.53", "192.0.2.1", 1000000
    for seed in (1, 2, 3):
        rng = random.Random(seed)
        segs = [(off, stream[off:off + 1000]) for off in range(0, len(stream), 1000)]
        rng.shuffle(segs)
        segs += rng.sample(segs, 5)  # retransmissions
        frames = [eth_ipv4_tcp(cli, srv, 40000, 53, 5000, 0x02, b""),
                  eth_ipv4_tcp(srv, cli, 53, 40000, isn, 0x12, b"")]
        frames += [eth_ipv4_tcp(srv, cli, 53, 40000, isn + 1 + off, 0x18, data)
                   for off, data in segs]
        path = os.path.join(tmp, "ooo-%d.pcap" % seed)
        write_pcap(path, frames)
        run = Run(["-r", path]).ok()
        dns = run.dns()
        check(len(dns) == 1, "seed %d: %d dns records, want 1", seed, len(dns))
        r = dns[0]
        check(r["qr"] == "response" and r["id"] == 0x4242 and r["qname"] == "big.example"
              and r["ancount"] == 4094 and len(r["answers"]) == 64 and r["len"] == 65533
              and not r["truncated_capture"] and r["decode_status"] == [],
              "seed %d: %s", seed, brief_line(r))
        # At most 64 RRs are listed (docs/output.md): the first 64 of them.
        check([a["data"] for a in r["answers"]] == ["10.0.0.%d" % i for i in range(64)],
              "seed %d: answers %s", seed, r["answers"][:3])
        st = run.stats()
        check(st["tcp_gaps"] == 0 and st["messages"] == 1 and st["decode_errors"] == 0,
              "seed %d: capture_stats %s", seed, st)
    p = subprocess.run(["tshark", "-n", "-r", path, "-o", "tcp.reassemble_out_of_order:TRUE",
                        "-Y", "dns", "-T", "fields", "-e", "dns.count.answers"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    check(p.stdout.split() == [b"4094"], "tshark: %r %r", p.stdout[:200], p.stderr[-300:])


CASES = [test_tcp_out_of_order_64k]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-tcp-reorder-", tools=("tshark",))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
