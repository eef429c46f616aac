"""Building blocks shared by the project's pcap generators (tools/gen-pcap,
tools/gen-scenario): DNS message encoding, IPv4/IPv6/UDP/TCP headers with
real checksums, link-layer framing, and pcap/pcapng writers.

Python 3 standard library only. Nothing here draws random numbers except
weighted(), which takes the caller's generator, so a caller's output stays a
function of its own seed.
"""

import struct

LINKTYPES = {
    "ethernet": 1, "vlan": 1, "qinq": 1, "sll": 113, "sll2": 276, "raw": 101,
    "ipv4": 228, "ipv6": 229, "null": 0, "null-be": 0, "loop": 108,
}

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
          "AAAA": 28, "SRV": 33, "OPT": 41, "HTTPS": 65, "CAA": 257}
RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}

MTU = 1500
IPPROTO_HOPOPTS, IPPROTO_TCP, IPPROTO_UDP = 0, 6, 17
IPPROTO_FRAGMENT, IPPROTO_ICMP, IPPROTO_DSTOPTS = 44, 1, 60
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def weighted(rng, mix):
    """One value of mix, a list of (value, weight), drawn with rng."""
    total = sum(w for _, w in mix)
    x = rng.random() * total
    for v, w in mix:
        x -= w
        if x < 0:
            return v
    return mix[-1][0]


def checksum(data, start=0):
    """The Internet checksum (RFC 1071) of data, starting from a partial sum."""
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_bytes(addr):
    if ":" in addr:
        return ipv6_bytes(addr)
    return bytes(int(x) for x in addr.split("."))


def ipv6_bytes(addr):
    """Packed form of an IPv6 address written with hex groups and at most
    one '::' (no embedded IPv4)."""
    head, _, tail = addr.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    return struct.pack(">8H", *(h + [0] * (8 - len(h) - len(t)) + t))


# ---------------------------------------------------------------- DNS messages

def encode_name(name):
    """Wire form of a domain name, uncompressed ('.' is the root)."""
    if name == ".":
        return b"\0"
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question(qname, qtype):
    return encode_name(qname) + struct.pack(">HH", QTYPES[qtype], 1)


def rr(owner, rtype, ttl, rdata):
    """A resource record of class IN; owner in wire form (or a pointer)."""
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def opt_rr(udp_size):
    return b"\0" + struct.pack(">HHIH", 41, udp_size, 0, 0)


def query_message(qid, qname, qtype, udp_size):
    """A recursive query (RD), with an OPT record when udp_size is not 0."""
    flags = 0x0100  # RD
    header = struct.pack(">6H", qid, flags, 1, 0, 0, 1 if udp_size else 0)
    return header + question(qname, qtype) + (opt_rr(udp_size) if udp_size else b"")


def response_bytes(qid, qname, qtype, rcode, answers, authority, udp_size):
    """A response (QR, RD, RA) to query_message(): answers and authority are
    lists of encoded records; an OPT record when udp_size is not 0."""
    flags = 0x8180 | RCODES[rcode]  # QR, RD, RA
    header = struct.pack(">6H", qid, flags, 1, len(answers), len(authority),
                         1 if udp_size else 0)
    msg = header + question(qname, qtype) + b"".join(answers) + b"".join(authority)
    if udp_size:
        msg += opt_rr(udp_size)
    return msg


def soa_rdata():
    return (encode_name("ns1.example.com") + encode_name("hostmaster.example.com")
            + struct.pack(">5I", 2024010101, 7200, 3600, 1209600, 300))


# ---------------------------------------------------------------- IP packets

def ipv4_header(src, dst, proto, payload_len, ident, frag=0):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident & 0xFFFF, frag, 64,
                    proto, 0, src, dst)
    return h[:10] + struct.pack(">H", checksum(h)) + h[12:]


def ipv6_header(src, dst, next_header, payload_len):
    return struct.pack(">IHBB16s16s", 6 << 28, payload_len, next_header, 64, src, dst)


def l4_checksum(src, dst, proto, segment):
    if len(src) == 4:
        pseudo = src + dst + struct.pack(">BBH", 0, proto, len(segment))
    else:
        pseudo = src + dst + struct.pack(">IxxxB", len(segment), proto)
    c = checksum(pseudo + segment)
    return c if c or proto != IPPROTO_UDP else 0xFFFF


def udp_segment(src, dst, sport, dport, payload):
    seg = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_checksum(src, dst, IPPROTO_UDP, seg)
    return seg[:6] + struct.pack(">H", c) + seg[8:]


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload):
    seg = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0) + payload
    c = l4_checksum(src, dst, IPPROTO_TCP, seg)
    return seg[:16] + struct.pack(">H", c) + seg[18:]


def ext_header(nh, kind):
    """An 8-byte IPv6 options header (Hop-by-Hop or Destination) with PadN."""
    return struct.pack(">BB", nh, 0) + b"\x01\x04\0\0\0\0"


def udp_packet(src, dst, sport, dport, payload, ident=0):
    """One unfragmented IPv4 or IPv6 UDP packet; src and dst packed
    (ip_bytes). Returns (l3 bytes, family 4 or 6)."""
    seg = udp_segment(src, dst, sport, dport, payload)
    if len(src) == 4:
        return ipv4_header(src, dst, IPPROTO_UDP, len(seg), ident) + seg, 4
    return ipv6_header(src, dst, IPPROTO_UDP, len(seg)) + seg, 6


# ---------------------------------------------------------------- link layer

MAC_CLIENT, MAC_SERVER = b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02"
BSD_AF6 = {"null": 30, "null-be": 24, "loop": 24}


def link_frame(link, l3, family, outgoing, snaplen):
    """l3 (an IP packet, or an ARP body with family "arp") framed for link;
    outgoing: sent by the client (MAC addresses, SLL packet type)."""
    etype = 0x0806 if family == "arp" else (0x86DD if family == 6 else 0x0800)
    src, dst = (MAC_CLIENT, MAC_SERVER) if outgoing else (MAC_SERVER, MAC_CLIENT)
    if link == "ethernet":
        return dst + src + struct.pack(">H", etype) + l3
    if link == "vlan":
        return dst + src + struct.pack(">HHH", 0x8100, 100, etype) + l3
    if link == "qinq":
        return dst + src + struct.pack(">HHHHH", 0x88A8, 10, 0x8100, 200, etype) + l3
    if link == "sll":
        return struct.pack(">HHH8sH", 4 if outgoing else 0, 1, 6, src, etype) + l3
    if link == "sll2":
        return struct.pack(">HHIHBB8s", etype, 0, 2, 1, 4 if outgoing else 0, 6, src) + l3
    if link in ("raw", "ipv4", "ipv6"):
        return l3
    af = 2 if family == 4 else BSD_AF6[link]
    return struct.pack("<I" if link == "null" else ">I", af) + l3


# ---------------------------------------------------------------- files

class PcapWriter:
    """Classic pcap, µs or ns timestamps; packet(ts_ns, frame)."""

    def __init__(self, f, linktype, precision, snaplen):
        self.f, self.ns, self.snaplen = f, precision == "ns", snaplen or 262144
        self.last_truncated = False
        magic = 0xA1B23C4D if self.ns else 0xA1B2C3D4
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, self.snaplen, linktype))

    def packet(self, ts, frame):
        cap = frame[:self.snaplen]
        self.last_truncated = len(cap) < len(frame)
        frac = ts % 10**9 if self.ns else ts % 10**9 // 1000
        self.f.write(struct.pack("<IIII", ts // 10**9, frac, len(cap), len(frame)) + cap)


class PcapngWriter:
    """pcapng with one interface, µs or ns timestamps; packet(ts_ns, frame)."""

    def __init__(self, f, linktype, precision, snaplen):
        self.f, self.ns, self.snaplen = f, precision == "ns", snaplen or 262144
        self.last_truncated = False
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
        f.write(struct.pack("<II", 0x0A0D0D0A, 12 + len(shb)) + shb + struct.pack("<I", 12 + len(shb)))
        opts = struct.pack("<HHB3x", 9, 1, 9 if self.ns else 6) + struct.pack("<HH", 0, 0)
        idb = struct.pack("<HHI", linktype, 0, self.snaplen) + opts
        f.write(struct.pack("<II", 1, 12 + len(idb)) + idb + struct.pack("<I", 12 + len(idb)))

    def packet(self, ts, frame):
        cap = frame[:self.snaplen]
        self.last_truncated = len(cap) < len(frame)
        t = ts if self.ns else ts // 1000
        pad = b"\0" * (-len(cap) % 4)
        body = struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(cap), len(frame)) + cap + pad
        self.f.write(struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))


def writer_class(fmt):
    return PcapngWriter if fmt == "pcapng" else PcapWriter
