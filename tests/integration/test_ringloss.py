#!/usr/bin/python3
"""Load test of the ring buffer (no silent loss): more messages
than the smallest ring can hold, in the network lab (lab.py), bounded in
time (a few seconds per case).

The tracer runs with the smallest ring (--ringbuf-mb 1: the flag's minimum,
1 MiB) and the largest snap length (--snaplen 4096), and the queries are
padded (an EDNS Padding option) to QUERY_SIZE bytes, more than half of the
snap length. The kernel reserves the event header plus room for the payload
(all of snaplen, or a smaller size class that holds the payload); for these
queries that is snaplen whichever way, so each query takes

  sizeof(struct dnssnoop_event) 112 + snaplen 4096 + ring record header 8
  = 4216 bytes (already a multiple of 8);  1048576 // 4216 = 248 events.

What is exactly true, and asserted:
- In the kernel every packet that passes the port filter is counted in
  packets_matched and then either written (events_submitted) or dropped
  because the ring is full (events_lost): matched == submitted + lost.
- The tracer stops the kernel side before its final drain, so it reads
  every event written: events_delivered == events_submitted, hence
  events_delivered + events_lost == packets_matched.
- Here every event is one UDP DNS message that decodes and nothing is
  filtered, so messages == events_delivered == the number of `dns` records.
  `unanswered` records are additional records for delivered queries whose
  response was not delivered; they are not events.

Cases:
1. stopped_reader: the tracer is stopped (SIGSTOP) while a sender in a
   cgroup of its own (the only one traced) sends N queries to the lab's
   blackhole (never answered). Exactly N packets match; the ring keeps the
   first RING_CAPACITY, in order (ids 0..247), and drops the rest. After
   SIGCONT the tracer drains them, then traces a new query (the ring works
   again). Exact: matched N+1, delivered 249, lost N-248, 249 dns records
   and 249 unanswered records with those ids.
2. burst: a running tracer, the whole lab traced, a sender blasting N
   queries at nsd as fast as it can: the reader cannot keep up with a
   248-event ring (it is woken at most every 5 ms), so events are lost;
   the identities above hold, and a dig afterwards is traced completely
   (4 messages).
In both the tracer exits 0 on SIGINT with capture_stats as its last line.

Usage: python3 tests/integration/test_ringloss.py [CASE-SUBSTRING...]
Needs root; exits 77 when it cannot run.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
import runner  # noqa: E402
from runner import check  # noqa: E402

RING_MB = 1  # the smallest --ringbuf-mb
SNAPLEN = 4096  # the largest --snaplen
EVENT_HDR = 112  # sizeof(struct dnssnoop_event), bpf/dnssnoop.h
RINGBUF_HDR = 8  # BPF_RINGBUF_HDR_SZ: the kernel's header of every record
RECORD = (EVENT_HDR + SNAPLEN + RINGBUF_HDR + 7) // 8 * 8
RING_CAPACITY = (RING_MB << 20) // RECORD  # 248
TRACER_ARGS = ["--ringbuf-mb", str(RING_MB), "--snaplen", str(SNAPLEN)]

STOPPED_QUERIES = 2000  # 8 times what the ring holds
BURST_QUERIES = 30000  # ids 0..29999, all distinct
QNAME = "www.lab.test"
# Bytes of each query (UDP payload): above the largest size class below
# snaplen that a reservation could use, at most snaplen (captured whole).
QUERY_SIZE = 4000

# Sends COUNT A queries for QNAME with ids FIRST.. from one connected UDP
# socket as fast as it can, then counts responses for WAIT seconds. Each
# query is padded to SIZE bytes with an EDNS(0) Padding option (RFC 7830).
# Prints "PORT SENT RECEIVED".
SENDER = r"""
import socket, struct, sys, time
server, qname = sys.argv[1], sys.argv[5]
count, first, wait, size = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[6])
wire = b"".join(bytes([len(l)]) + l.encode() for l in qname.split(".")) + b"\0"
head = struct.pack("!HHHHH", 0x0100, 1, 0, 0, 1) + wire + struct.pack("!HH", 1, 1)
pad = size - 2 - len(head) - 11 - 4
opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 4 + pad) + struct.pack("!HH", 12, pad)
tail = head + opt + bytes(pad)
assert 2 + len(tail) == size
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.connect((server, 53))
port = s.getsockname()[1]
for i in range(count):
    s.send(struct.pack("!H", (first + i) & 0xFFFF) + tail)
got = 0
end = time.monotonic() + wait
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        s.recv(4096)
        got += 1
    except socket.timeout:
        break
print(port, count, got)
"""


def send_queries(lab, server, count, first, wait, cgroup=None, timeout=30):
    """Run SENDER in the client namespace; returns (port, sent, received)."""
    p = lab.popen(lab.cli, ["python3", "-c", SENDER, server, str(count), str(first),
                            str(wait), QNAME, str(QUERY_SIZE)], cgroup=cgroup,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("the sender did not finish within %d s" % timeout)
    check(p.returncode == 0, "the sender exited %d: %s", p.returncode, err[-1000:])
    port, sent, got = (int(x) for x in out.split())
    check(sent == count, "the sender sent %d of %d queries", sent, count)
    return port, sent, got


def process_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("%s: not within %.0f s" % (what, timeout))


def dns_lines(tracer):
    """dns records written so far (the output file is read while it grows)."""
    return tracer.output().count('"type":"dns"')


def stop_cleanly(tracer):
    """SIGINT; the tracer must exit 0 with capture_stats last; returns the records."""
    rc = tracer.stop(signal.SIGINT)
    check(rc == 0, "tracer exited %s after SIGINT: %s", rc, tracer.stderr[-1500:])
    recs = tracer.records()
    check(recs and recs[-1].get("type") == "capture_stats",
          "the last record is not capture_stats: %s", recs[-1] if recs else "(no output)")
    check(sum(1 for r in recs if r.get("type") == "capture_stats"
              and r.get("scope") == "total") == 1, "not one total capture_stats record")
    return recs


def check_accounting(st, recs):
    """The identities that hold whatever was lost (see the docstring)."""
    matched, submitted = st["packets_matched"], st["events_submitted"]
    lost, delivered = st["events_lost"], st["events_delivered"]
    for k in ("packets_matched", "events_submitted", "events_lost", "events_delivered"):
        check(isinstance(st.get(k), int), "capture_stats.%s = %r", k, st.get(k))
    check(lost > 0, "no event lost: the ring (%d events) did not overflow; matched %d",
          RING_CAPACITY, matched)
    check(submitted + lost == matched, "kernel: submitted %d + lost %d != matched %d",
          submitted, lost, matched)
    check(delivered == submitted, "delivered %d != submitted %d (the final drain missed "
          "events, or user space counted more than the kernel wrote)", delivered, submitted)
    check(delivered + lost == matched, "delivered %d + lost %d != matched %d",
          delivered, lost, matched)
    dns = [r for r in recs if r.get("type") == "dns"]
    check(st["messages"] == delivered, "messages %d != delivered %d (UDP: one message per "
          "event)", st["messages"], delivered)
    check(len(dns) == delivered, "%d dns records for %d delivered events", len(dns), delivered)
    check(st["decode_errors"] == 0 and st["filtered"] == 0 and st["truncated_captures"] == 0,
          "decode_errors %d, filtered %d, truncated_captures %d: want 0",
          st["decode_errors"], st["filtered"], st["truncated_captures"])
    un = [r for r in recs if r.get("type") == "unanswered"]
    check(st["unanswered"] == len(un), "capture_stats.unanswered %d, %d records",
          st["unanswered"], len(un))
    responses = sum(1 for r in dns if r["qr"] == "response")
    check(st["responses_matched"] + st["responses_unmatched"] == responses,
          "responses_matched %d + unmatched %d != %d response records",
          st["responses_matched"], st["responses_unmatched"], responses)
    return dns, un


def test_stopped_reader(lab):
    """A stopped reader: the ring keeps exactly the first 248 events, the rest are counted lost."""
    cg = lab.sub_cgroup("ringloss-stopped")
    t = lab.tracer(["--cgroup", cg] + TRACER_ARGS)
    pid = t.proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_for(lambda: process_state(pid) == "T", 5, "tracer stopped")
        port, sent, _ = send_queries(lab, lab.blackhole4, STOPPED_QUERIES, 0, 0, cgroup=cg)
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_for(lambda: dns_lines(t) >= RING_CAPACITY, 10, "the tracer drained the ring")
    # The ring has room again: one more query must come through.
    port2, _, _ = send_queries(lab, lab.blackhole4, 1, STOPPED_QUERIES, 0, cgroup=cg)
    wait_for(lambda: dns_lines(t) >= RING_CAPACITY + 1, 10, "a query after the overflow")
    recs = stop_cleanly(t)
    st = recs[-1]
    dns, un = check_accounting(st, recs)

    # Exact: only the sender's cgroup is traced and the blackhole never answers.
    check(st["packets_matched"] == STOPPED_QUERIES + 1, "packets_matched %d, sent %d",
          st["packets_matched"], STOPPED_QUERIES + 1)
    check(st["events_delivered"] == RING_CAPACITY + 1,
          "events_delivered %d, want the %d the ring holds + 1", st["events_delivered"],
          RING_CAPACITY + 1)
    check(st["events_lost"] == STOPPED_QUERIES - RING_CAPACITY, "events_lost %d, want %d",
          st["events_lost"], STOPPED_QUERIES - RING_CAPACITY)
    first = sorted(r["id"] for r in dns if r["sport"] == port)
    check(first == list(range(RING_CAPACITY)), "ids delivered from the burst: want 0..%d "
          "(the first events, in order), got %d ids %s..%s", RING_CAPACITY - 1, len(first),
          first[:3], first[-3:])
    later = [r["id"] for r in dns if r["sport"] == port2]
    check(later == [STOPPED_QUERIES], "the query after the overflow: ids %s", later)
    for r in dns:
        check(r["qr"] == "query" and r["dir"] == "egress" and r["qname"] == QNAME
              and r["daddr"] == lab.blackhole4 and r["len"] == QUERY_SIZE
              and not r["truncated_capture"], "unexpected record: %s",
              runner.brief_json(r, ("id", "qr", "dir", "qname", "daddr", "len",
                                    "truncated_capture")))
    check(sorted(r["id"] for r in un) == sorted(r["id"] for r in dns),
          "unanswered ids %s != the delivered queries' ids", sorted(r["id"] for r in un)[:10])
    check(st["responses_matched"] == 0, "responses_matched %d", st["responses_matched"])


def check_interval_counts(recs, st):
    """--interval: each interval's capture_stats carries its share; they add up to the total."""
    iv = [r for r in recs if r.get("type") == "capture_stats" and r.get("scope") == "interval"]
    check(iv, "no capture_stats record with scope interval")
    for k in ("packets_matched", "events_submitted", "events_lost", "events_delivered",
              "messages", "unanswered"):
        check(sum(r[k] for r in iv) == st[k], "intervals' %s add up to %d, total %d", k,
              sum(r[k] for r in iv), st[k])
    check(any(r["events_lost"] > 0 for r in iv), "no interval reports a lost event")
    return len(iv)


def test_burst(lab):
    """A burst at nsd overflows a running reader's ring; the accounting is exact, also per
    --interval; it recovers."""
    t = lab.tracer(["--cgroup", lab.cgroup, "--interval", "1"] + TRACER_ARGS)
    t0 = time.monotonic()
    port, sent, got = send_queries(lab, lab.srv4, BURST_QUERIES, 0, 1.0)
    burst_s = time.monotonic() - t0
    d = lab.dig(["+tries=1", "+timeout=2", QNAME, "A"])
    check(d.rc == 0 and d.responses(), "dig after the burst failed: %s", d.err)
    dig_id = d.responses()[-1]["id"]
    time.sleep(0.3)  # the dig's last messages reach the ring
    recs = stop_cleanly(t)
    st = recs[-1]
    dns, _ = check_accounting(st, recs)
    intervals = check_interval_counts(recs, st)

    # The sender's egress alone is BURST_QUERIES packets; at most 4 per query.
    check(BURST_QUERIES + 4 <= st["packets_matched"] <= 4 * BURST_QUERIES + 4,
          "packets_matched %d outside [%d, %d] (sent %d, %d responses received)",
          st["packets_matched"], BURST_QUERIES + 4, 4 * BURST_QUERIES + 4, sent, got)
    ids = [r["id"] for r in dns if r["qr"] == "query" and r["dir"] == "egress"
           and r["sport"] == port]
    check(len(ids) == len(set(ids)) and all(0 <= i < BURST_QUERIES for i in ids),
          "the sender's queries as delivered: %d records, %d distinct ids", len(ids),
          len(set(ids)))
    # After the overflow the ring has room again: the dig is traced completely.
    digs = [r for r in dns if r["id"] == dig_id and r["qname"] == QNAME
            and r["sport"] != port and r["dport"] != port]
    roles = sorted((r["qr"], r["dir"]) for r in digs)
    check(roles == [("query", "egress"), ("query", "ingress"), ("response", "egress"),
                    ("response", "ingress")],
          "the dig after the burst: want its 4 messages, got %s", roles)
    print("  burst: %d queries in %.2f s, %d responses received; matched %d, delivered %d, "
          "lost %d, %d intervals" % (sent, burst_s, got, st["packets_matched"],
                                     st["events_delivered"], st["events_lost"], intervals),
          flush=True)


CASES = [test_stopped_reader, test_burst]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces, cgroups",
                                {"tag": "ring", "cgroup": True}, tools=("python3",))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
