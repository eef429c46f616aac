#!/usr/bin/python3
"""Integration tests for dnstap, in and out, with real peers.

  unbound: Debian's unbound (built with dnstap) resolves the lab's zone
      from nsd and sends its dnstap to `dnssnoop --dnstap-socket` (the
      bidirectional Frame Streams handshake), while a kernel tracer watches
      the same exchanges: both views give the same client queries (id,
      port, name, type), the same rcodes, and the same queries from unbound
      to nsd. The collector's `--dnstap-out FILE` is read back by
      dnstap-ldns (Debian's dnstap reader) and by `dnssnoop -r`, compressed
      or not.
  fstrm_capture: `dnssnoop -r capture --dnstap-out unix:SOCK` feeds
      fstrm_capture (Debian's fstrm-bin collector); its file, printed by
      dnstap-ldns, holds every message of the capture.
  live: a kernel session's --dnstap-out names the process in the Dnstap
      "extra" field (read here by a small protobuf reader).
  bad input: a cut file, a file of another content type, a regular file
      where the socket should go, a client that sends garbage or offers
      another content type: one clear message each, the rest still read.

Usage: python3 tests/integration/test_dnstap.py [CASE-SUBSTRING...]
Prints PASS/FAIL/SKIP per case and "cases: P passed, F failed, S skipped";
exits 77 when it cannot run (not root, tools or tracer missing), 1 if a
case failed.
"""

import collections
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from runner import TRACER, check  # noqa: E402

FIXTURE = os.path.join(labmod.REPO, "tests", "fixtures", "pcap", "lab-any-sll2.pcap")
FIXTURE_PORT = "15353"
IDENTITY = "lab-unbound"
NAMES = [("www.lab.test", "A"), ("www.lab.test", "AAAA"), ("mail.lab.test", "MX"),
         ("txt.lab.test", "TXT"), ("nope.lab.test", "A")]


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def dns_records(recs):
    return [r for r in recs if r.get("type") == "dns"]


def wait_for(cond, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("%s: not within %ds" % (what, timeout))


def run_tracer(args, timeout=60):
    p = subprocess.run([TRACER] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


# ---- a small reader of Frame Streams and the Dnstap fields this test needs

def read_frames(path):
    """The data frames of a Frame Streams file."""
    data = open(path, "rb").read()
    frames, pos = [], 0
    while pos + 4 <= len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        pos += 4
        if n == 0:  # a control frame: its length, then it
            (c,) = struct.unpack(">I", data[pos:pos + 4])
            pos += 4 + c
            continue
        frames.append(data[pos:pos + n])
        pos += n
    return frames


def varint(b, pos):
    v = shift = 0
    while True:
        c = b[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, pos


def dnstap_fields(frame):
    """Top-level Dnstap fields: {1: identity, 2: version, 3: extra} as bytes."""
    out, pos = {}, 0
    while pos < len(frame):
        key, pos = varint(frame, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = varint(frame, pos)
        elif wire == 2:
            n, pos = varint(frame, pos)
            out[field] = frame[pos:pos + n]
            pos += n
        else:
            raise AssertionError("unexpected wire type %d in a Dnstap frame" % wire)
    return out


def ldns_quiet(path):
    """dnstap-ldns -q: one line per message ("... CQ 127.0.0.1 UDP 53b "name." IN A")."""
    p = subprocess.run(["dnstap-ldns", "-q", "-r", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    check(p.returncode == 0, "dnstap-ldns -r %s: rc %d: %s", path, p.returncode, p.stderr)
    return [line for line in p.stdout.splitlines() if line.strip()]


# ---- unbound in the lab's server namespace, dnstap to a socket

def unbound_conf(lab, sock):
    t = lab.tmp
    return "\n".join([
        "server:",
        "  interface: 127.0.0.1",
        "  port: 53",
        "  do-daemonize: no",
        "  username: \"\"",
        "  chroot: \"\"",
        "  directory: \"%s\"" % t,
        "  pidfile: \"%s/unbound.pid\"" % t,
        "  logfile: \"%s/unbound.log\"" % t,
        "  use-syslog: no",
        "  verbosity: 1",
        "  num-threads: 1",
        "  access-control: 127.0.0.0/8 allow",
        "  module-config: \"iterator\"",
        "  qname-minimisation: no",
        "  cache-max-ttl: 0",
        "  domain-insecure: \"lab.test\"",
        "  local-zone: \"test.\" nodefault",  # RFC 6761's test. is refused by default
        "stub-zone:",
        "  name: \"lab.test\"",
        "  stub-addr: %s" % lab.srv4,
        "dnstap:",
        "  dnstap-enable: yes",
        "  dnstap-socket-path: \"%s\"" % sock,
        "  dnstap-send-identity: yes",
        "  dnstap-identity: \"%s\"" % IDENTITY,
        "  dnstap-send-version: yes",
        "  dnstap-log-client-query-messages: yes",
        "  dnstap-log-client-response-messages: yes",
        "  dnstap-log-resolver-query-messages: yes",
        "  dnstap-log-resolver-response-messages: yes",
        "remote-control:",
        "  control-enable: no",
        ""])


PROBE = "ns.lab.test"


def start_unbound(lab, sock, collector=None):
    """unbound, answering; with collector (a Tracer on sock), once its dnstap
    reaches the collector too (unbound connects to it in the background and
    drops what it logs before)."""
    conf = os.path.join(lab.tmp, "unbound.conf")
    with open(conf, "w") as f:
        f.write(unbound_conf(lab, sock))
    subprocess.run(["unbound-checkconf", conf], check=True, stdout=subprocess.DEVNULL)
    p = lab.popen(lab.srv, ["unbound", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)

    def answers():
        if p.poll() is not None:
            raise AssertionError("unbound exited with %d" % p.returncode)
        r = lab.dig([PROBE, "+short", "+tries=1", "+timeout=1"], server="127.0.0.1",
                    ns=lab.srv)
        if not (r.rc == 0 and r.out.strip()):
            return False
        time.sleep(0.3)
        return collector is None or PROBE in open(collector.out_path).read()
    wait_for(answers, "unbound answering, its dnstap collected", 30)
    return p


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
    p.wait(20)


class UnboundSession:
    """unbound -> dnssnoop --dnstap-socket, with a kernel tracer alongside."""

    def __init__(self, lab):
        self.sock = os.path.join(lab.tmp, "dnstap.sock")
        self.out = os.path.join(lab.tmp, "collected.fstrm")
        collector = lab.tracer(["--dnstap-socket", self.sock, "--dnstap-out", self.out, "-v"],
                               wait=False)
        wait_for(lambda: os.path.exists(self.sock), "the collector's socket")
        kernel = lab.tracer(["--cgroup", lab.cgroup])
        unbound = start_unbound(lab, self.sock, collector)
        self.digs = [lab.dig([name, qtype, "+tries=1", "+timeout=3"], server="127.0.0.1",
                             ns=lab.srv) for name, qtype in NAMES]
        # unbound's dnstap thread sends what it holds every second (libfstrm's
        # flush timeout) and drops what is left when it is stopped.
        time.sleep(2.5)
        stop(unbound)
        kernel.stop()
        collector.stop()
        self.collector_rc, self.collector_err = collector.returncode, collector.stderr
        self.collected = dns_records(collector.records())
        self.kernel = dns_records(kernel.records())
        check(self.collector_rc == 0, "collector rc %s: %s", self.collector_rc,
              self.collector_err[-2000:])


_session = []


def unbound_session(lab):
    if not _session:
        try:
            _session.append(UnboundSession(lab))
        except Exception as e:
            _session.append(e)
            raise
    s = _session[0]
    if isinstance(s, Exception):
        raise AssertionError("the unbound session failed earlier: %s" % s)
    return s


def of_type(recs, t):
    return [r for r in recs if r.get("dnstap", {}).get("type") == t]


def test_unbound_client_side_matches_kernel(lab):
    s = unbound_session(lab)
    cq = of_type(s.collected, "CLIENT_QUERY")
    cr = of_type(s.collected, "CLIENT_RESPONSE")
    dig_q = [r for r in s.kernel if r["comm"] == "dig" and r["qr"] == "query"]
    dig_r = [r for r in s.kernel if r["comm"] == "dig" and r["qr"] == "response"]
    # The readiness probes are unbound's clients too: compare the test's digs.
    names = {n for n, _ in NAMES}
    key_q = collections.Counter((r["id"], r["sport"], r["qname"], r["qtype"]) for r in cq
                                if r["qname"] in names)
    want_q = collections.Counter((r["id"], r["sport"], r["qname"], r["qtype"]) for r in dig_q
                                 if r["qname"] in names)
    check(len(want_q) >= len(NAMES), "the kernel saw %d of dig's queries: %s", len(want_q),
          want_q)
    check(key_q == want_q, "dnstap CLIENT_QUERY %s, kernel %s", sorted(key_q), sorted(want_q))
    key_r = collections.Counter((r["id"], r["qname"], r["rcode"]) for r in cr
                                if r["qname"] in names)
    want_r = collections.Counter((r["id"], r["qname"], r["rcode"]) for r in dig_r
                                 if r["qname"] in names)
    check(key_r == want_r, "dnstap CLIENT_RESPONSE %s, kernel %s", sorted(key_r),
          sorted(want_r))
    check(("nope.lab.test", "NXDOMAIN") in {(r["qname"], r["rcode"]) for r in cr},
          "no NXDOMAIN among the client responses")
    check(all(r["dir"] == "ingress" for r in cq) and all(r["dir"] == "egress" for r in cr),
          "client messages are the server's side: %s",
          {(r["dnstap"]["type"], r["dir"]) for r in cq + cr})
    check(all(r["dnstap"]["identity"] == IDENTITY and r["dnstap"]["version"] for r in cq + cr),
          "identity/version: %s", {(r["dnstap"]["identity"], r["dnstap"]["version"])
                                   for r in cq + cr})
    check(all("latency_ns" in r and r["latency_ns"] > 0 for r in cr),
          "client responses without a latency: %s", [r["id"] for r in cr if not
                                                    r.get("latency_ns")])


def test_unbound_resolver_side_matches_kernel(lab):
    s = unbound_session(lab)
    rq = of_type(s.collected, "RESOLVER_QUERY")
    rr = of_type(s.collected, "RESOLVER_RESPONSE")
    k_q = [r for r in s.kernel if r["comm"] == "unbound" and r["qr"] == "query"
           and r["daddr"] == lab.srv4]
    got = collections.Counter((r["id"], r["qname"], r["qtype"]) for r in rq)
    want = collections.Counter((r["id"], r["qname"], r["qtype"]) for r in k_q)
    check(got and got == want, "dnstap RESOLVER_QUERY %s, kernel (unbound -> nsd) %s",
          sorted(got), sorted(want))
    check({(r["id"], r["rcode"]) for r in rr} ==
          {(r["id"], r["rcode"]) for r in s.kernel if r["comm"] == "unbound"
           and r["qr"] == "response" and r["saddr"] == lab.srv4},
          "RESOLVER_RESPONSE rcodes differ from the kernel's")
    check(all(r["daddr"] == lab.srv4 and r["dport"] == 53 for r in rq),
          "resolver queries not to nsd: %s", {(r["daddr"], r["dport"]) for r in rq})


def test_collected_dnstap_out_read_back(lab):
    s = unbound_session(lab)
    lines = ldns_quiet(s.out)
    check(len(lines) == len(s.collected), "dnstap-ldns printed %d messages, the collector "
          "wrote %d records", len(lines), len(s.collected))
    for name, qtype in NAMES:
        check(any('"%s." IN %s' % (name, qtype) in ln for ln in lines),
              "dnstap-ldns does not show %s %s", name, qtype)
    # Types are kept: CQ/CR/RQ/RR as unbound logged them.
    check({ln.split()[2] for ln in lines} == {"CQ", "CR", "RQ", "RR"},
          "types read back: %s", collections.Counter(ln.split()[2] for ln in lines))
    zst = s.out + ".zst"
    subprocess.run(["zstd", "-q", "-f", s.out, "-o", zst], check=True)
    for path in (s.out, zst):
        rc, out, err = run_tracer(["-r", path])
        back = dns_records([json.loads(x) for x in out.splitlines()])
        key = lambda r: (r["dnstap"]["type"], r["id"], r["qname"], r.get("rcode"), r["ts"])
        check(rc == 0 and sorted(map(key, back)) == sorted(map(key, s.collected)),
              "-r %s: rc %d, %d records, %d collected: %s", path, rc, len(back),
              len(s.collected), err[-500:])


def fixture_records():
    rc, out, err = run_tracer(["-r", FIXTURE, "--port", FIXTURE_PORT])
    check(rc == 0, "-r fixture: %s", err)
    return dns_records([json.loads(x) for x in out.splitlines()])


def test_dnstap_out_to_fstrm_capture(lab):
    sock = os.path.join(lab.tmp, "fstrm-capture.sock")
    out = os.path.join(lab.tmp, "fstrm-capture.out")
    cap = lab.register(subprocess.Popen(
        ["fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-w", out],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    wait_for(lambda: os.path.exists(sock), "fstrm_capture's socket")
    rc, _, err = run_tracer(["-r", FIXTURE, "--port", FIXTURE_PORT, "--dnstap-out",
                             "unix:" + sock, "--no-events", "--no-detect"])
    check(rc == 0, "--dnstap-out unix: rc %d: %s", rc, err)
    time.sleep(0.5)
    stop(cap, signal.SIGINT)
    want = fixture_records()
    lines = ldns_quiet(out)
    check(len(lines) == len(want) > 0, "fstrm_capture got %d messages, the capture has %d",
          len(lines), len(want))
    rc, txt, err = run_tracer(["-r", out])
    back = dns_records([json.loads(x) for x in txt.splitlines()])
    key = lambda r: (r["ts"], r["id"], r["qr"], r["qname"], r["saddr"], r["sport"])
    check(sorted(map(key, back)) == sorted(map(key, want)),
          "read back from fstrm_capture's file differs: %d vs %d", len(back), len(want))


def test_live_dnstap_out_names_the_process(lab):
    out = os.path.join(lab.tmp, "live.fstrm")
    t = lab.tracer(["--cgroup", lab.cgroup, "--dnstap-out", out])
    d = lab.dig(["www.lab.test", "A", "+tries=1", "+timeout=3"])
    time.sleep(0.3)
    t.stop()
    check(t.returncode == 0, "tracer rc %s: %s", t.returncode, t.stderr[-1000:])
    extras = [json.loads(dnstap_fields(f).get(3, b"null")) for f in read_frames(out)]
    digs = [e for e in extras if e and e["comm"] == "dig" and e["pid"] == d.pid]
    check(len(digs) == 2, "dig's query and response with its process: %s", extras)
    check(all(set(e) == {"pid", "tid", "comm", "uid", "cgroup"} for e in digs),
          "extra fields: %s", digs)
    stats = [r for r in t.records() if r.get("type") == "capture_stats"]
    check(stats and stats[-1]["dnstap_out"]["written"] == len(extras) and
          stats[-1]["dnstap_out"]["dropped"] == 0, "capture_stats dnstap_out %s, frames %d",
          stats and stats[-1].get("dnstap_out"), len(extras))
    types = {ln.split()[2] for ln in ldns_quiet(out) if "www.lab.test" in ln}
    # dig's side is the stub's; nsd's side (a query asking for recursion) the server's.
    check(types == {"SQ", "SR", "CQ", "CR"}, "types of the two vantages: %s", types)


def test_live_dnstap_out_socket_after_the_drop(lab):
    """A live session feeds fstrm_capture through libfstrm's I/O thread: that
    thread runs as the dropped user, without capabilities, under seccomp, and
    connects as that user (the collector's socket is made writable for it)."""
    # The dropped user must reach the socket: a directory it may search.
    opened = tempfile.mkdtemp(prefix="dnssnoop-dnstap-")
    os.chmod(opened, 0o711)
    try:
        live_socket_case(lab, os.path.join(opened, "collector.sock"))
    finally:
        shutil.rmtree(opened, ignore_errors=True)


def live_socket_case(lab, sock):
    out = os.path.join(lab.tmp, "live-collector.out")
    cap = lab.register(subprocess.Popen(
        ["fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-w", out],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(lambda: os.path.exists(sock), "fstrm_capture's socket")
    os.chmod(sock, 0o666)
    t = lab.tracer(["--cgroup", lab.cgroup, "--dnstap-out", "unix:" + sock])
    threads = labmod.thread_status(t.proc.pid)
    d = lab.dig(["mail.lab.test", "MX", "+tries=1", "+timeout=3"])
    time.sleep(1.5)  # the I/O thread flushes every second
    t.stop()
    stop(cap, signal.SIGINT)
    check(t.returncode == 0, "tracer rc %s: %s", t.returncode, t.stderr[-1000:])
    check(len(threads) >= 2, "no I/O thread: %s", list(threads))
    for tid, st in threads.items():
        check(st["Uid"].split()[0] != "0" and int(st["CapEff"], 16) == 0 and
              int(st["CapPrm"], 16) == 0 and st["Seccomp"] == "2",
              "thread %s: Uid %s CapEff %s CapPrm %s Seccomp %s", tid, st["Uid"], st["CapEff"],
              st["CapPrm"], st["Seccomp"])
    lines = [ln for ln in ldns_quiet(out) if "mail.lab.test" in ln]
    check(len(lines) == 4 and d.rc == 0, "the collector got %s", lines)
    stats = [r for r in t.records() if r.get("type") == "capture_stats"][-1]
    check(stats["dnstap_out"]["dropped"] == 0 and stats["dnstap_out"]["written"] >= 4,
          "dnstap_out %s", stats["dnstap_out"])


def dnstap_file(lab):
    path = os.path.join(lab.tmp, "fixture.fstrm")
    if not os.path.exists(path):
        rc, _, err = run_tracer(["-r", FIXTURE, "--port", FIXTURE_PORT, "--dnstap-out", path,
                                 "--no-events", "--no-detect"])
        check(rc == 0, "writing %s: %s", path, err)
    return path


def test_bad_files(lab):
    good = open(dnstap_file(lab), "rb").read()
    n_all = len(read_frames(dnstap_file(lab)))
    cut = os.path.join(lab.tmp, "cut.fstrm")
    with open(cut, "wb") as f:
        f.write(good[:len(good) // 2])
    rc, out, err = run_tracer(["-r", cut])
    got = len(dns_records([json.loads(x) for x in out.splitlines()]))
    check(rc == 1 and "cut short" in err and 0 < got < n_all,
          "a cut file: rc %d, %d of %d records, stderr %r", rc, got, n_all, err)
    other = os.path.join(lab.tmp, "other.fstrm")
    ctype = b"protobuf:other.Thing"
    start = struct.pack(">III", 2, 1, len(ctype)) + ctype
    with open(other, "wb") as f:
        f.write(struct.pack(">II", 0, len(start)) + start + struct.pack(">I", 3) + b"abc")
    rc, out, err = run_tracer(["-r", other])
    check(rc == 1 and "another content type" in err, "another content type: rc %d %r", rc,
          err)
    notsock = os.path.join(lab.tmp, "regular-file")
    open(notsock, "w").close()
    rc, out, err = run_tracer(["--dnstap-socket", notsock, "-d", "1"])
    check(rc == 1 and "exists and is not a socket" in err and os.path.exists(notsock),
          "a regular file at the socket path: rc %d %r", rc, err)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def control(ctype, content_type=None):
    body = struct.pack(">I", ctype)
    if content_type:
        body += struct.pack(">II", 1, len(content_type)) + content_type
    return struct.pack(">II", 0, len(body)) + body


def test_socket_bad_clients(lab):
    sock = os.path.join(lab.tmp, "bad-clients.sock")
    t = lab.tracer(["--dnstap-socket", sock, "-v"], wait=False)
    wait_for(lambda: os.path.exists(sock), "the collector's socket")
    garbage = connect(sock)
    garbage.sendall(b"\x00\x00\x00\x00\xff\xff\xff\xffgarbage")
    other = connect(sock)
    other.sendall(control(4, b"protobuf:other.Thing"))  # READY, not dnstap
    silent = connect(sock)  # says nothing until the end
    rc, _, err = run_tracer(["-r", FIXTURE, "--port", FIXTURE_PORT, "--dnstap-out",
                             "unix:" + sock, "--no-events", "--no-detect"])
    check(rc == 0, "a good writer beside bad ones: rc %d %r", rc, err)
    time.sleep(0.5)
    for s in (garbage, other, silent):
        s.close()
    time.sleep(0.3)
    t.stop()
    got = dns_records(t.records())
    want = fixture_records()
    # Exit status 1: problems with an input were reported (as for -r files).
    check(t.returncode == 1 and len(got) == len(want),
          "the collector: rc %s, %d records of %d: %s", t.returncode, len(got), len(want),
          t.stderr[-1500:])
    check("a damaged Frame Streams control frame" in t.stderr or "control frame of" in
          t.stderr, "garbage not reported: %s", t.stderr)
    check("not dnstap's content type" in t.stderr, "the other content type not reported: %s",
          t.stderr)
    check(not os.path.exists(sock), "the socket file is left behind")


def test_same_findings_as_the_capture(lab):
    """A scenario with planted patterns, as a capture and as dnstap: the same
    statistics, findings and cases (dnstap messages are packets to them)."""
    pcap = os.path.join(lab.tmp, "scenario.pcap")
    fstrm = os.path.join(lab.tmp, "scenario.fstrm")
    subprocess.run(["python3", os.path.join(labmod.REPO, "tools", "gen-scenario"), "--out", pcap,
                    "--key", pcap + ".key", "--weeks", "2", "--clients", "20", "--names", "150",
                    "--seed", "2"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    rc, from_pcap, err = run_tracer(["-r", pcap, "--no-events", "--dnstap-out", fstrm])
    check(rc == 0, "-r pcap: %s", err)
    rc, from_dnstap, err = run_tracer(["-r", fstrm, "--no-events"])
    check(rc == 0, "-r dnstap: %s", err)
    a = [json.loads(x) for x in from_pcap.splitlines()]
    b = [json.loads(x) for x in from_dnstap.splitlines()]
    findings = [r for r in a if r["type"] == "finding"]
    check(any("planted-example.com" in json.dumps(r) for r in findings),
          "the planted exclusive name is not among %d findings", len(findings))
    strip = lambda recs: [r for r in recs if r["type"] != "capture_stats"]
    check(strip(a) == strip(b), "dnstap gives other records than the capture: %s",
          [(x["type"], y["type"]) for x, y in zip(strip(a), strip(b)) if x != y][:5])


CASES = [test_unbound_client_side_matches_kernel, test_unbound_resolver_side_matches_kernel,
         test_collected_dnstap_out_read_back, test_dnstap_out_to_fstrm_capture,
         test_live_dnstap_out_names_the_process, test_bad_files, test_socket_bad_clients,
         test_same_findings_as_the_capture, test_live_dnstap_out_socket_after_the_drop]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces, cgroups",
                                {"tag": "dnstap", "cgroup": True},
                                tools=("unbound", "fstrm_capture", "dnstap-ldns", "zstd"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
