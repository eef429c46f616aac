#!/usr/bin/python3
"""Real captures of tunnelled DNS and of NFLOG, read with `dnssnoop -r`,
tshark the oracle.

Two network namespaces joined by a veth pair (10.200.0.1 - 10.200.0.2)
carry a VXLAN tunnel made by the kernel (VNI 42, inner 172.16.1.1 -
172.16.1.2). nsd serves zones/lab.test.zone in the second namespace on the
inner and the veth address; dig in the first asks through the tunnel over
UDP and TCP, and tcpdump on the first's veth saves the outer packets.
Separately, an iptables NFLOG rule in the first namespace copies its DNS
to group 5, and `tcpdump -i nflog:5` saves that.

The kernels this runs on may lack the other tunnels (this project's CI
kernel has no GRE, IPIP or Geneve), so the captured VXLAN's inner frames
are put, as they are, into GRE (key 5, IPv4 inside), GRE with ERSPAN II
(session 9, Ethernet inside), Geneve (VNI 7), GTP-U (TEID 99), IPIP and
an MPLS label stack, one file each, with the same outer addresses and
times.

For each file dnssnoop must read every message tshark decodes (id, name,
type, rcode, answers, latency), and name each message's tunnel: kind,
outer addresses and id.

Usage: python3 tests/integration/test_tunnels.py [CASE-SUBSTRING...]
Needs root; exits 77 when it cannot run.
"""

import os
import signal
import socket
import struct
import subprocess
import sys
import time

import runner
from runner import check
from test_offline import Run, compare_with_tshark

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = ("ip", "nsd", "dig", "tcpdump", "tshark", "iptables")
OUTER = ("10.200.0.1", "10.200.0.2")
# kind: (inner subnet's third octet, `ip link add` arguments, tunnel id)
TUNNELS = {
    "vxlan": (1, "type vxlan id 42 dstport 4789 local {l} remote {r}", 42),
}
# Files made from the VXLAN capture: kind -> the tunnel id records must show.
REWRAPPED = {"gre": 5, "erspan": 9, "geneve": 7, "gtpu": 99, "ipip": None, "mpls": None}
ETH_IP_UDP = 14 + 20 + 8


def sh(*args, check_rc=True):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def inner(kind, end):
    return "172.16.%d.%d" % (TUNNELS[kind][0], end)


class Net:
    """The two namespaces, their tunnels and nsd; torn down by close()."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.a, self.b = ("dnssnoop-tun-%d-%s" % (os.getpid(), x) for x in "ab")
        self.procs = []

    def up(self):
        for ns in (self.a, self.b):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", "va", "netns", self.a, "type", "veth", "peer", "name", "vb",
           "netns", self.b)
        for ns, dev, me, peer in ((self.a, "va", OUTER[0], OUTER[1]),
                                  (self.b, "vb", OUTER[1], OUTER[0])):
            sh("ip", "-n", ns, "addr", "add", me + "/30", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            for kind, (net, spec, _) in TUNNELS.items():
                dev_t = "t" + kind
                sh("ip", "-n", ns, "link", "add", dev_t, *spec.format(l=me, r=peer).split())
                end = 1 if ns == self.a else 2
                sh("ip", "-n", ns, "addr", "add", inner(kind, end) + "/30", "dev", dev_t)
                sh("ip", "-n", ns, "link", "set", dev_t, "up")
        self.start_nsd()

    def start_nsd(self):
        zone = os.path.join(HERE, "zones", "lab.test.zone")
        sh("cp", zone, self.tmp)
        addrs = [OUTER[1]] + [inner(k, 2) for k in TUNNELS]
        conf = os.path.join(self.tmp, "nsd.conf")
        with open(conf, "w") as f:
            f.write("server:\n" + "".join("  ip-address: %s\n" % a for a in addrs) +
                    '  port: 53\n  username: ""\n  chroot: ""\n  zonesdir: "%s"\n'
                    '  pidfile: "%s/nsd.pid"\n  database: ""\n  zonelistfile: "%s/zl"\n'
                    '  xfrdfile: "%s/xfrd"\n  xfrdir: "%s"\n  logfile: "%s/nsd.log"\n'
                    'remote-control:\n  control-enable: no\nzone:\n  name: lab.test\n'
                    '  zonefile: lab.test.zone\n' % ((self.tmp,) * 6))
        self.spawn(["ip", "netns", "exec", self.b, "nsd", "-d", "-c", conf])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if all(self.dig(a, ["lab.test", "SOA", "+short"], must=False) for a in addrs):
                return
            time.sleep(0.2)
        raise AssertionError("nsd does not answer on every address")

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append(p)
        return p

    def dig(self, server, args, must=True):
        r = sh("ip", "netns", "exec", self.a, "dig", "@" + server, "+tries=1", "+timeout=2",
               *args, check_rc=False)
        if must:
            check(r.returncode == 0 and "status: NOERROR" in r.stdout, "dig %s %s: %s",
                  server, args, r.stdout[-500:] + r.stderr)
        return r.returncode == 0 and r.stdout.strip()

    def tcpdump(self, iface, pcap):
        p = self.spawn(["ip", "netns", "exec", self.a, "tcpdump", "-i", iface, "-Z", "root",
                        "-U", "--immediate-mode", "-w", pcap], stderr=subprocess.PIPE,
                       text=True)
        line = p.stderr.readline()
        check("listening on" in line, "tcpdump -i %s did not start: %r", iface, line)
        return p

    def close(self):
        for p in reversed(self.procs):
            runner.stop_process(p)
        for ns in (self.a, self.b):
            sh("ip", "netns", "del", ns, check_rc=False)


def stop_capture(p, linger=0.3):
    """Stop tcpdump once what it was sent is in its file."""
    time.sleep(linger)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=10)


# ---------------------------------------------------------------- rewrapping

def ipv4(src, dst, proto, payload):
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def rewrap(kind, eth_hdr, src, dst, frame):
    """frame (an Ethernet frame that travelled in VXLAN) in a tunnel of kind."""
    ip_pkt = frame[14:]
    if kind == "gre":
        return eth_hdr + ipv4(src, dst, 47, struct.pack(">HHI", 0x2000, 0x0800, 5) + ip_pkt)
    if kind == "erspan":
        gre = struct.pack(">HHI", 0x1000, 0x88BE, 1)
        span = struct.pack(">HHI", 0x1000, 9, 0)
        return eth_hdr + ipv4(src, dst, 47, gre + span + frame)
    if kind == "geneve":
        gen = struct.pack(">BBHI", 0, 0, 0x6558, 7 << 8)
        return eth_hdr + ipv4(src, dst, 17, udp(49152, 6081, gen + frame))
    if kind == "gtpu":
        gtp = struct.pack(">BBHI", 0x30, 0xFF, len(ip_pkt), 99)
        return eth_hdr + ipv4(src, dst, 17, udp(2152, 2152, gtp + ip_pkt))
    if kind == "ipip":
        return eth_hdr + ipv4(src, dst, 4, ip_pkt)
    if kind == "mpls":  # two labels, the second the bottom of the stack
        return eth_hdr[:12] + struct.pack(">HII", 0x8847, 0x000200FF, 0x000111FF) + ip_pkt
    raise ValueError(kind)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    check(struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D), "%s: not LE pcap", path)
    recs, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append((data[off:off + 16], data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return data[:24], recs


def write_rewrapped(src_pcap, kind, out):
    """Every VXLAN packet of src_pcap, its inner frame put into kind instead."""
    head, recs = read_pcap(src_pcap)
    with open(out, "wb") as f:
        f.write(head)
        for rec_hdr, pkt in recs:
            if len(pkt) < ETH_IP_UDP + 8 or pkt[23] != 17 or pkt[36:38] != b"\x12\xb5":
                continue  # not VXLAN
            src, dst = socket.inet_ntoa(pkt[26:30]), socket.inet_ntoa(pkt[30:34])
            new = rewrap(kind, pkt[:14], src, dst, pkt[ETH_IP_UDP + 8:])
            ts = rec_hdr[:8]
            f.write(ts + struct.pack("<II", len(new), len(new)) + new)


class Captures:
    def __init__(self, tmp):
        self.tmp = tmp
        self.tunnels = os.path.join(tmp, "tunnels.pcap")
        self.nflog = os.path.join(tmp, "nflog.pcap")
        self.rewrapped = {k: os.path.join(tmp, k + ".pcap") for k in REWRAPPED}

    def make(self):
        net = Net(self.tmp)
        try:
            net.up()
            cap = net.tcpdump("va", self.tunnels)
            for kind in TUNNELS:
                net.dig(inner(kind, 2), ["www.lab.test", "A"])
                net.dig(inner(kind, 2), ["+tcp", "mail.lab.test", "MX"])
            stop_capture(cap)
            for chain, flag in (("OUTPUT", "--dport"), ("INPUT", "--sport")):
                for proto in ("udp", "tcp"):
                    sh("ip", "netns", "exec", net.a, "iptables", "-A", chain, "-p", proto,
                       flag, "53", "-j", "NFLOG", "--nflog-group", "5")
            cap = net.tcpdump("nflog:5", self.nflog)
            net.dig(OUTER[1], ["www.lab.test", "AAAA"])
            net.dig(OUTER[1], ["+tcp", "txt.lab.test", "TXT"])
            stop_capture(cap, linger=1.5)  # nfnetlink_log sends its batch after 1 s
        finally:
            net.close()
        for kind, path in self.rewrapped.items():
            write_rewrapped(self.tunnels, kind, path)


def check_tunnel_file(path, kind, tunnel_id):
    """tshark's messages (a UDP and a TCP exchange: 4), each naming its tunnel."""
    run = Run(["-r", path]).ok()
    n, lat = compare_with_tshark(path, run, want_count=4)
    check(lat == 2, "%s: %d responses with a latency, want 2", kind, lat)
    for r in run.dns():
        want_outer = OUTER if r["qr"] == "query" else OUTER[::-1]
        t = r.get("tunnel")
        if kind == "mpls":
            check(t is None, "MPLS is not a tunnel with addresses: %s", t)
            continue
        check(t == {"type": kind, "saddr": want_outer[0], "daddr": want_outer[1],
                    "id": tunnel_id}, "%s %s: tunnel %s", r["qr"], r["qname"], t)


def test_vxlan_capture(caps):
    check_tunnel_file(caps.tunnels, "vxlan", 42)


def test_rewrapped_gre_erspan_geneve_gtpu_ipip_mpls(caps):
    for kind, tunnel_id in REWRAPPED.items():
        check_tunnel_file(caps.rewrapped[kind], kind, tunnel_id)


def test_nflog_capture(caps):
    run = Run(["-r", caps.nflog]).ok()
    n, lat = compare_with_tshark(caps.nflog, run, want_count=4)
    check(lat == 2, "%d responses with a latency, want 2", lat)
    check(all("tunnel" not in r for r in run.dns()), "a tunnel in an NFLOG capture")


CASES = [test_vxlan_capture, test_rewrapped_gre_erspan_geneve_gtpu_ipip_mpls,
         test_nflog_capture]


def make_captures(tmp):
    caps = Captures(tmp)
    caps.make()
    return caps


def main(argv):
    return runner.run_fixture_tests(argv, CASES, "dnssnoop-tunnels-", make_captures,
                                    "network namespaces", TOOLS)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
