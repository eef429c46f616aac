#!/usr/bin/python3
"""Integration tests: SIGINT, SIGTERM and SIGHUP end a -r run promptly.

Needs no root and never skips. dnssnoop reads a pipe that this script
keeps open: an idle pcap (its global header, then nothing, as from
`tcpdump -w - | dnssnoop -r -` on a quiet link), a pcap streaming other
traffic without end, and JSON Lines streaming records of other types
without end. None of them produces a DNS record, so only the signal can
end the run. Each signal must end it within LATENCY_BOUND_S, with exit
status 0 and the end-of-session records on stdout (statistics, then
capture_stats last), as at the end of a file. And a run that had read
DNS messages before the pipe went idle keeps every record and statistic.

The bound: dnssnoop waits for input in poll() with a 100 ms timeout and
looks at the stop flag in every read loop, so a signal ends the reading
at once and the statistics follow (measured: well under 200 ms for the
plain build; the times are printed). What is asserted is the time from
the signal to the last record (capture_stats) on stdout: below 0.5 s,
because the ASan build runs on a 2-core machine shared with other
tests; the exit itself, after the sanitizers' leak check, within 2 s.

Usage: python3 tests/integration/test_signals.py [CASE-SUBSTRING...]
"""

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, TRACER, check  # noqa: E402

LATENCY_BOUND_S = 0.5
EXIT_BOUND_S = 2.0  # the sanitizers' checks at exit come on top
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The end-of-session records with --summary, each type once or more, in this order.
SUMMARY_TYPES = ["process_stats", "peer_stats", "name_stats", "client_stats", "pair_stats",
                 "capture_stats"]

PCAP_HEADER = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)


def udp_frame(i):
    """A pcap record: Ethernet/IPv4/UDP 10.0.0.1:40000 -> 10.0.0.2:9999 (not DNS)."""
    payload = b"x" * 32
    udp = struct.pack("!HHHH", 40000, 9999, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip
    ts = 1767225600 + i // 1000000
    return struct.pack("<IIII", ts, i % 1000000, len(frame), len(frame)) + frame


def other_record(i):
    return (json.dumps({"type": "capture_stats", "v": 1, "messages": i}) + "\n").encode()


class Feeder:
    """Writes head to dnssnoop's stdin, then chunks from more(i) until stopped
    (more None: the pipe stays open and idle)."""

    def __init__(self, pipe, head, more=None):
        self.pipe, self.head, self.more = pipe, head, more
        self.stop = threading.Event()
        self.written = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.pipe.write(self.head)
            self.pipe.flush()
            i = 0
            while self.more and not self.stop.is_set():
                self.pipe.write(b"".join(self.more(i + k) for k in range(64)))
                self.pipe.flush()
                i += 64
                self.written = i
        except (BrokenPipeError, ValueError, OSError):
            pass  # dnssnoop has gone: what the test waits for

    def close(self):
        self.stop.set()
        self.thread.join(5)
        try:
            self.pipe.close()
        except (BrokenPipeError, OSError):
            pass


class Collector:
    """Reads dnssnoop's stdout as it comes, noting when the capture_stats
    record (always the last one) arrived."""

    def __init__(self, pipe):
        self.pipe, self.data, self.done_at = pipe, b"", None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for line in self.pipe:
            self.data += line
            if b'"type":"capture_stats"' in line and self.done_at is None:
                self.done_at = time.monotonic()

    def records(self):
        self.thread.join(10)
        return [json.loads(line) for line in self.data.splitlines()]


def interrupted_run(tmp, name, args, head, more, sig, wait_s=0.6, ready=None):
    """Start dnssnoop on a pipe fed by a Feeder, send sig after wait_s (and
    ready()), and return (seconds from the signal to the last record,
    seconds to the exit, exit status, stdout records, stderr)."""
    p = subprocess.Popen([TRACER] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    feeder = Feeder(p.stdin, head, more)
    out = Collector(p.stdout)
    try:
        time.sleep(wait_s)
        deadline = time.monotonic() + 20
        while ready and not ready(feeder) and time.monotonic() < deadline:
            time.sleep(0.05)
        check(p.poll() is None, "%s: dnssnoop ended before the signal (%s)", name, p.returncode)
        # Popen.wait(timeout) polls with sleeps of up to 50 ms: a blocking
        # wait measures the exit itself, and a timer kills a hung run.
        watchdog = threading.Timer(10, p.kill)
        watchdog.start()
        t0 = time.monotonic()
        p.send_signal(sig)
        p.wait()
        exited = time.monotonic() - t0
        watchdog.cancel()
        check(p.returncode != -signal.SIGKILL, "%s: still running 10 s after %s", name,
              sig.name)
    finally:
        feeder.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    records = out.records()
    err = p.stderr.read().decode("utf-8", "replace")
    p.stderr.close()
    p.stdout.close()
    ended = out.done_at - t0 if out.done_at else float("inf")
    print("  %-16s %-7s last record after %5.1f ms, exit after %5.1f ms"
          % (name, sig.name, ended * 1000, exited * 1000))
    return ended, exited, p.returncode, records, err


def check_prompt_clean_end(name, sig, ended, exited, rc, records, err, want_types):
    check(rc == 0, "%s/%s: exit status %s: %s", name, sig.name, rc, err[-500:])
    check(ended < LATENCY_BOUND_S, "%s/%s: %.3f s from the signal to the last record", name,
          sig.name, ended)
    check(exited < EXIT_BOUND_S, "%s/%s: %.3f s from the signal to the exit", name, sig.name,
          exited)
    types = [r["type"] for i, r in enumerate(records)
             if i == 0 or r["type"] != records[i - 1]["type"]]
    check(types == want_types, "%s/%s: records %s", name, sig.name, types)
    check(records[-1]["scope"] == "total", "%s/%s: capture_stats %s", name, sig.name, records[-1])
    check(err == "", "%s/%s: stderr %r", name, sig.name, err[-500:])


def test_idle_pcap_pipe(tmp):
    """A pcap header, then nothing: each signal ends the run, with the
    statistics (--summary) and capture_stats."""
    for sig in SIGNALS:
        res = interrupted_run(tmp, "idle-pcap", ["-r", "-", "--summary"], PCAP_HEADER, None, sig)
        check_prompt_clean_end("idle pcap", sig, *res, SUMMARY_TYPES)
        check(res[3][-1]["messages"] == 0, "capture_stats %s", res[3][-1])


def test_idle_pipe_before_any_byte(tmp):
    """Not even a header yet (the input's kind is still unknown)."""
    for sig in SIGNALS:
        res = interrupted_run(tmp, "empty pipe", ["-r", "-"], b"", None, sig)
        check_prompt_clean_end("empty pipe", sig, *res, SUMMARY_TYPES)


def test_streaming_other_traffic(tmp):
    """A pcap streaming UDP to port 9999 without end: no DNS packet, ever."""
    for sig in SIGNALS:
        res = interrupted_run(tmp, "other traffic", ["-r", "-"], PCAP_HEADER, udp_frame, sig,
                              ready=lambda feeder: feeder.written >= 10000)
        check_prompt_clean_end("other traffic", sig, *res, ["capture_stats"])
        check(res[3][-1]["messages"] == 0, "capture_stats %s", res[3][-1])


def test_streaming_other_records(tmp):
    """JSON Lines streaming capture_stats records without end (JSON Lines
    input implies --summary)."""
    for sig in SIGNALS:
        res = interrupted_run(tmp, "other records", ["-r", "-"], other_record(0), other_record,
                              sig, ready=lambda feeder: feeder.written >= 10000)
        check_prompt_clean_end("other records", sig, *res, SUMMARY_TYPES)


def test_dns_then_idle(tmp):
    """DNS messages read, then the pipe idles: after the signal every dns
    record is there, and the statistics count every message."""
    path = os.path.join(tmp, "some.pcap")
    key_path = path + ".key"
    subprocess.run([sys.executable, os.path.join(REPO, "tools", "gen-pcap"), "-o", path,
                    "--key", key_path, "-n", "200", "--seed", "7", "--unanswered", "0",
                    "--proto", "udp", "--frag-share", "0"], check=True, timeout=120)
    with open(path, "rb") as f:
        data = f.read()
    with open(key_path) as f:
        key = [json.loads(line) for line in f]
    queries = sum(k["qr"] == "query" for k in key)
    for sig in SIGNALS:
        res = interrupted_run(tmp, "dns then idle", ["-r", "-", "--summary"], data, None, sig)
        ended, exited, rc, records, err = res
        dns = [r for r in records if r["type"] == "dns"]
        check(len(dns) == len(key), "%s: %d dns records, want %d", sig.name, len(dns), len(key))
        check([r["id"] for r in dns] == [k["id"] for k in key], "%s: ids differ", sig.name)
        check_prompt_clean_end("dns then idle", sig, ended, exited, rc,
                               [r for r in records if r["type"] != "dns"], err, SUMMARY_TYPES)
        st = records[-1]
        check(st["messages"] == len(key) and st["responses_matched"] == len(key) - queries,
              "%s: capture_stats %s", sig.name, st)
        peers = [r for r in records if r["type"] == "peer_stats" and not r["others"]]
        check(sum(r["queries"] for r in peers) == queries,
              "%s: peer_stats count %d queries, want %d", sig.name,
              sum(r["queries"] for r in peers), queries)


CASES = [test_idle_pcap_pipe, test_idle_pipe_before_any_byte, test_streaming_other_traffic,
         test_streaming_other_records, test_dns_then_idle]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-signals-")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
