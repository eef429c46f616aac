#!/usr/bin/python3
"""Capture files as sysadmins have them, made in the lab and read with
`dnssnoop -r`, tshark the oracle.

- pcapng with interfaces of different link types: dumpcap in the client's
  namespace on `any` (Linux cooked) keeping UDP and on the veth (Ethernet)
  keeping TCP, while dig asks nsd over both (libpcap 1.10 refuses such a
  file; tshark reads it).
- The same file and a classic pcap compressed with gzip, zstd, xz and lz4,
  read from files and from standard input: the same records as the plain
  file, whatever the file is called.
- A compressed file cut short: the message names the format and the
  damage, the exit status is 1, and the records before the cut are kept.

Usage: python3 tests/integration/test_captures.py [CASE-SUBSTRING...]
Needs root; exits 77 when it cannot run.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import lab as labmod
from runner import check
from test_offline import Run, compare_with_tshark

COMPRESSORS = {"gzip": ["gzip", "-c"], "zstd": ["zstd", "-q", "-c"], "xz": ["xz", "-c"],
               "lz4": ["lz4", "-q", "-c"]}
QUESTIONS = [("www.lab.test", "A"), ("www.lab.test", "AAAA"), ("mail.lab.test", "MX"),
             ("txt.lab.test", "TXT")]

_made = {}


def captures(lab):
    """The lab's capture files, made once: {'two_if': path, 'pcap': path}."""
    if _made:
        return _made
    two_if = os.path.join(lab.tmp, "two-interfaces.pcapng")
    plain = os.path.join(lab.tmp, "plain.pcap")
    dump = lab.popen(lab.cli, ["dumpcap", "-q", "-i", "any", "-f", "udp port 53",
                               "-i", lab.veth_cli, "-f", "tcp port 53", "-w", two_if],
                     stderr=subprocess.PIPE, text=True)
    tcpd = lab.popen(lab.cli, ["tcpdump", "-i", lab.veth_cli, "-Z", "root", "-U",
                               "--immediate-mode", "-w", plain, "port 53"],
                     stderr=subprocess.PIPE, text=True)
    wait_listening(dump, "Capturing on")
    wait_listening(tcpd, "listening on")
    time.sleep(1)  # dumpcap says so before its second interface is open
    for name, qtype in QUESTIONS:
        check(lab.dig([name, qtype]).rc == 0, "dig %s %s", name, qtype)
        check(lab.dig(["+tcp", name, qtype]).rc == 0, "dig +tcp %s %s", name, qtype)
    time.sleep(0.5)
    for p in (dump, tcpd):
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)
    _made.update(two_if=two_if, pcap=plain)
    for key in ("two_if", "pcap"):
        for kind, argv in COMPRESSORS.items():
            out = "%s.%s" % (_made[key], kind)
            with open(_made[key], "rb") as src, open(out, "wb") as dst:
                subprocess.run(argv, stdin=src, stdout=dst, check=True)
            _made["%s.%s" % (key, kind)] = out
    return _made


def wait_listening(p, word):
    deadline = time.monotonic() + 10
    line = ""
    while time.monotonic() < deadline:
        line = p.stderr.readline()
        if word in line:
            return
    raise AssertionError("capture did not start: %r" % line)


def dns_lines(run):
    return [r for r in run.records if r["type"] in ("dns", "unanswered")]


def test_pcapng_with_two_link_types(lab):
    c = captures(lab)
    run = Run(["-r", c["two_if"]]).ok()
    n, lat = compare_with_tshark(c["two_if"], run, want_count=4 * len(QUESTIONS))
    check(lat == 2 * len(QUESTIONS), "%d responses with a latency", lat)
    protos = {r["proto"] for r in run.dns()}
    check(protos == {"udp", "tcp"}, "protocols read: %s", protos)
    # libpcap alone refuses this file: what the reader of our own is for.
    r = subprocess.run(["tcpdump", "-r", c["two_if"]], capture_output=True, text=True)
    check(r.returncode != 0, "tcpdump read the two-link-type file: the case tests nothing")


def test_compressed_files_and_stdin(lab):
    c = captures(lab)
    for key in ("two_if", "pcap"):
        want = dns_lines(Run(["-r", c[key]]).ok())
        check(len(want) == 4 * len(QUESTIONS), "%s: %d records", key, len(want))
        for kind in COMPRESSORS:
            path = c["%s.%s" % (key, kind)]
            # A misleading name: the content decides.
            renamed = path + ".pcap"
            shutil.copy(path, renamed)
            got = dns_lines(Run(["-r", renamed]).ok())
            check(got == want, "%s read as %s: %d records, want %d", kind, renamed,
                  len(got), len(want))
            with open(path, "rb") as f:
                got = dns_lines(Run(["-r", "-"], stdin=f).ok())
            check(got == want, "%s from stdin: %d records, want %d", kind, len(got), len(want))


def test_compressed_and_cut_short(lab):
    c = captures(lab)
    want = dns_lines(Run(["-r", c["pcap"]]).ok())
    for kind in COMPRESSORS:
        path = c["pcap." + kind]
        cut = path + ".cut"
        with open(path, "rb") as f:
            data = f.read()
        with open(cut, "wb") as f:
            f.write(data[:len(data) * 2 // 3])
        run = Run(["-r", cut])
        check(run.rc == 1, "%s cut: exit %d, want 1", kind, run.rc)
        check(kind + " data damaged" in run.stderr, "%s cut: %s", kind, run.stderr)
        # A block-based format (zstd, lz4) may give nothing of a block cut short.
        got = dns_lines(run)
        check(len(got) < len(want) and got == want[:len(got)],
              "%s cut: %d records, not a prefix of the %d", kind, len(got), len(want))


CASES = [test_pcapng_with_two_link_types, test_compressed_files_and_stdin,
         test_compressed_and_cut_short]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "network namespaces and captures",
                                tools=("dumpcap", "tshark", "tcpdump", "gzip", "zstd", "xz",
                                       "lz4"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
