#!/usr/bin/python3
"""Every RR type's text, checked against another implementation: BIND's.

nsd serves, on 127.0.0.1 at a free port, zones/rr.test.zone (one owner per
type with a presentation form, and NULL, which has none) and
zones/sec.test.zone signed at test time with NSEC3 (dnssec-signzone). dig
(BIND 9) asks for each owner, for a name that does not exist (NSEC3 and
RRSIG in the authority section), for a signed referral (DS), for the DNSKEY
set, once with a TSIG key, and nsupdate sends an UPDATE with prerequisites
and every kind of update (nsd refuses it: the request is what counts). tcpdump
saves all of it on the loopback interface; `dnssnoop -r` reads the file.

Per message, dnssnoop's records must be those dig (or nsupdate -D) printed:
owner, TTL, class, type and rdata text, section by section; names in rdata
are compared without their final dot (dnssnoop prints names without it).

Usage: python3 tests/integration/test_rdata.py [CASE-SUBSTRING...]
Needs root (tcpdump on lo); exits 77 when it cannot run.
"""

import collections
import os
import re
import signal
import socket
import subprocess
import sys
import time

import runner
from runner import check

HERE = os.path.dirname(os.path.abspath(__file__))
ZONES = os.path.join(HERE, "zones")
TOOLS = ("nsd", "tcpdump", "dig", "nsupdate", "dnssec-keygen", "dnssec-signzone")
TSIG = ("hmac-sha256", "tk.test", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=")
# RFC 3597 form is right only for these (no presentation form of their own).
NO_TEXT_FORM = {"NULL"}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def owners(zone_file):
    """The owner names (relative) of a zone file, in order, but the apex's."""
    names = []
    with open(zone_file) as f:
        for line in f:
            m = re.match(r"([a-z0-9]+)\t", line)
            if m and m.group(1) != "ns" and m.group(1) not in names:
                names.append(m.group(1))
    return names


def nsd_conf(d, port):
    return "\n".join([
        "server:", "  ip-address: 127.0.0.1", "  port: %d" % port,
        '  username: ""', '  chroot: ""', '  zonesdir: "%s"' % d,
        '  pidfile: "%s/nsd.pid"' % d, '  database: ""',
        '  zonelistfile: "%s/zone.list"' % d, '  xfrdfile: "%s/xfrd.state"' % d,
        '  xfrdir: "%s"' % d, '  logfile: "%s/nsd.log"' % d, "  verbosity: 0",
        "remote-control:", "  control-enable: no",
        "key:", "  name: %s" % TSIG[1], "  algorithm: %s" % TSIG[0],
        '  secret: "%s"' % TSIG[2],
        "zone:", "  name: rr.test", "  zonefile: rr.test.zone",
        "zone:", "  name: sec.test", "  zonefile: sec.test.signed", ""])


def sign_sec_zone(d):
    subprocess.run(["cp", os.path.join(ZONES, "sec.test.zone"), d], check=True)
    for extra in ([], ["-f", "KSK"]):
        subprocess.run(["dnssec-keygen", "-q", "-K", d, "-a", "ECDSAP256SHA256", "-n", "ZONE"]
                       + extra + ["sec.test"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["dnssec-signzone", "-q", "-K", d, "-d", d, "-S", "-3", "AABBCCDD", "-H", "1",
                    "-o", "sec.test", "-f", os.path.join(d, "sec.test.signed"),
                    os.path.join(d, "sec.test.zone")], check=True, stdout=subprocess.DEVNULL)


def start_nsd(d, port):
    conf = os.path.join(d, "nsd.conf")
    with open(conf, "w") as f:
        f.write(nsd_conf(d, port))
    nsd = subprocess.Popen(["nsd", "-d", "-c", conf], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        check(nsd.poll() is None, "nsd exited with %s", nsd.returncode)
        r = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+tries=1",
                            "+timeout=1", "sec.test", "SOA"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return nsd
        time.sleep(0.1)
    nsd.kill()
    raise AssertionError("nsd did not answer on port %d" % port)


def start_tcpdump(pcap, port):
    """tcpdump on lo, writing pcap; returns once it listens."""
    p = subprocess.Popen(["tcpdump", "-i", "lo", "-Z", "root", "-U", "--immediate-mode", "-w", pcap,
                          "port %d" % port], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    check("listening on" in line, "tcpdump did not start: %r", line)
    return p


def dig(port, args):
    r = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+nosplit", "+tries=2",
                        "+timeout=2"] + args, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "dig %s: %s", args, r.stderr)
    return r.stdout


NSUPDATE = """server 127.0.0.1 {port}
zone rr.test
prereq yxdomain ds.rr.test
prereq nxrrset x.rr.test A
prereq yxrrset www.rr.test A 192.0.2.1
update delete old.rr.test A
update delete old2.rr.test
update add new.rr.test 300 A 192.0.2.7
update delete www.rr.test A 192.0.2.1
send
"""


def nsupdate(port):
    r = subprocess.run(["nsupdate", "-D", "-t", "3"], input=NSUPDATE.format(port=port),
                       capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    check("Outgoing update query:" in out, "nsupdate printed no request: %s", out[-2000:])
    return out.split("Outgoing update query:", 1)[1].split("Reply from", 1)[0]


# ---------------------------------------------------------------- dig's text

SECTIONS = {"ANSWER": "answers", "AUTHORITY": "authority", "ADDITIONAL": "additional",
            "TSIG PSEUDOSECTION": "additional", "PREREQUISITE": "prerequisite",
            "UPDATE": "update"}


def no_final_dots(data):
    """rdata text with the final dot of each name token removed, quoted
    strings untouched."""
    out, pos = [], 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|\S+', data):
        tok = m.group(0)
        if not tok.startswith('"') and len(tok) > 1 and tok.endswith(".") \
                and not tok.endswith("\\."):
            tok = tok[:-1]
        out.append(data[pos:m.start()] + tok)
        pos = m.end()
    return "".join(out) + data[pos:]


def parse_sections(text):
    """{section: sorted [(name, ttl, class, type, data)]} of dig's or
    nsupdate's text."""
    secs, cur = collections.defaultdict(list), None
    for line in text.splitlines():
        m = re.match(r";; (.*?)( SECTION)?:$", line)
        if m:
            cur = SECTIONS.get(m.group(1))
            continue
        if not line.strip() or line.startswith(";") or cur is None:
            if not line.strip():
                cur = None
            continue
        f = line.split(None, 4)
        name = f[0][:-1] if len(f[0]) > 1 else f[0]
        data = no_final_dots(f[4].strip()) if len(f) > 4 else ""
        secs[cur].append((name, int(f[1]), f[2], f[3], data))
    return {k: sorted(v) for k, v in secs.items()}


def ours(rec):
    secs = {}
    for key in ("answers", "authority", "additional", "prerequisite", "update"):
        if rec.get(key):
            secs[key] = sorted((r["name"], r["ttl"], r["class"], r["type"], r["data"])
                               for r in rec[key])
    return secs


# ---------------------------------------------------------------- the capture

class Capture:
    """Run once: the pcap and what dig and nsupdate printed, by question."""

    def __init__(self, tmp):
        self.tmp, self.port = tmp, free_port()
        self.printed = {}  # (qname, qtype, opcode) -> dig's sections
        self.records = None

    def make(self):
        d, port = self.tmp, self.port
        subprocess.run(["cp", os.path.join(ZONES, "rr.test.zone"), d], check=True)
        sign_sec_zone(d)
        nsd = start_nsd(d, port)
        pcap = os.path.join(d, "rdata.pcap")
        try:
            tcpdump = start_tcpdump(pcap, port)
            try:
                self.ask(port)
            finally:
                time.sleep(0.3)  # the last packets into the file (-U)
                runner.stop_process(tcpdump, signal.SIGINT)
        finally:
            runner.stop_process(nsd)
        r = runner.Run(["-r", pcap, "--port", str(port)]).ok()
        self.records = [x for x in r.records if x["type"] == "dns" and x["qr"] == "response"
                        or x["type"] == "dns" and x.get("opcode") == "UPDATE"]

    def ask(self, port):
        for o in owners(os.path.join(ZONES, "rr.test.zone")):
            self.printed[(o + ".rr.test", "ANY", "QUERY")] = dig(port, [o + ".rr.test", "ANY"])
        for q in (["nope.sec.test", "A"], ["child.sec.test", "A"], ["sec.test", "DNSKEY"]):
            self.printed[(q[0], q[1], "QUERY")] = dig(port, ["+dnssec", "+norec"] + q)
        self.printed[("www.sec.test", "A", "QUERY")] = dig(port, ["-y", ":".join(TSIG),
                                                                  "www.sec.test", "A"])
        self.printed[("rr.test", "SOA", "UPDATE")] = nsupdate(port)

    def record(self, qname, qtype, opcode):
        want_qr = "query" if opcode == "UPDATE" else "response"
        for r in self.records:
            if (r["qname"], r["qtype"], r["opcode"], r["qr"]) == (qname, qtype, opcode, want_qr):
                return r
        raise AssertionError("no %s %s %s %s in dnssnoop's records" %
                             (opcode, want_qr, qname, qtype))


def compare(cap, keys):
    bad = []
    for key in keys:
        want, got = parse_sections(cap.printed[key]), ours(cap.record(*key))
        if want != got:
            bad.append("%s:\n  dig      %s\n  dnssnoop %s" % (" ".join(key), want, got))
    check(not bad, "%d of %d messages differ:\n%s", len(bad), len(keys), "\n".join(bad))


def test_every_type_as_dig_prints_it(cap):
    keys = [k for k in cap.printed if k[0].endswith(".rr.test")]
    check(len(keys) >= 45, "only %d owners asked", len(keys))
    compare(cap, keys)


def test_nsec3_rrsig_ds_dnskey_of_a_signed_zone(cap):
    keys = [("nope.sec.test", "A", "QUERY"), ("child.sec.test", "A", "QUERY"),
            ("sec.test", "DNSKEY", "QUERY")]
    compare(cap, keys)
    types = {r["type"] for k in keys for s in ("answers", "authority")
             for r in cap.record(*k)[s]}
    check({"NSEC3", "RRSIG", "DS", "DNSKEY"} <= types, "types seen: %s", sorted(types))


def test_tsig(cap):
    compare(cap, [("www.sec.test", "A", "QUERY")])
    tsig = [r for r in cap.record("www.sec.test", "A", "QUERY")["additional"]
            if r["type"] == "TSIG"]
    check(len(tsig) == 1 and tsig[0]["class"] == "ANY", "TSIG record: %s", tsig)


def test_update_sections_named_as_rfc_2136(cap):
    compare(cap, [("rr.test", "SOA", "UPDATE")])
    r = cap.record("rr.test", "SOA", "UPDATE")
    check("answers" not in r and "authority" not in r and len(r["prerequisite"]) == 3
          and len(r["update"]) == 4, "UPDATE record: %s", r)


def test_no_hex_form_where_a_text_form_exists(cap):
    hexed = sorted({(r["type"], r["data"]) for rec in cap.records
                    for s in ("answers", "authority", "additional", "prerequisite", "update")
                    for r in rec.get(s, []) if r["data"] is None or
                    (r["data"].startswith("\\#") and r["type"] not in NO_TEXT_FORM)})
    check(not hexed, "printed as \\# or null: %s", hexed)
    nulls = [r for rec in cap.records for r in rec.get("answers", []) if r["type"] == "NULL"]
    check(nulls and nulls[0]["data"] == "\\# 3 010203", "NULL record: %s", nulls)


CASES = [test_every_type_as_dig_prints_it, test_nsec3_rrsig_ds_dnskey_of_a_signed_zone,
         test_tsig, test_update_sections_named_as_rfc_2136,
         test_no_hex_form_where_a_text_form_exists]


def make_capture(tmp):
    cap = Capture(tmp)
    cap.make()
    return cap


def main(argv):
    return runner.run_fixture_tests(argv, CASES, "dnssnoop-rdata-", make_capture,
                                    "tcpdump on lo", TOOLS)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
