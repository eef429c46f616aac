#!/usr/bin/python3
"""Integration tests: what dnssnoop refuses in its flags and its inputs.

Needs no root and never skips.
  - Numbers in flags have one syntax (docs/output.md, "Numbers"): digits,
    and for seconds and ratios an optional '.' and more digits. Forms that
    strtoul/strtod would take (" 5", "0x10", "1e-300", "5abc", "+5", "")
    are usage errors: exit 2, a message naming the flag and the value, and
    nothing on stdout. The documented forms keep working.
  - JSON Lines lines over --max-line-bytes are reported as
    FILE:LINE: line longer than N bytes, skipped and skipped without being
    held: a 50 MB line costs no 50 MB (max RSS of the run, from wait4,
    against the same file without that line).
  - JSON Lines values are checked as docs/output.md gives them (qname,
    latency_ns, ports...): FILE:LINE: "field" why, the line skipped, the
    rest used, exit status 1.

Usage: python3 tests/integration/test_inputs.py [CASE-SUBSTRING...]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, TRACER, Run, check  # noqa: E402

MAX_RSS_GROWTH_KIB = 16 * 1024
MAX_RSS_KIB = 96 * 1024  # the ASan build's own, with the statistics tables: about 48 MiB
LONG_LINE_BYTES = 50 * 1000 * 1000


def dns_lines(tmp):
    """JSON Lines of 40 dns records (20 exchanges), written by dnssnoop from a
    generated capture."""
    path = os.path.join(tmp, "src.pcap")
    subprocess.run([sys.executable, os.path.join(REPO, "tools", "gen-pcap"), "-o", path,
                    "-n", "40", "--seed", "5", "--unanswered", "0", "--proto", "udp",
                    "--frag-share", "0"], check=True, timeout=120, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    run = Run(["-r", path]).ok()
    lines = [line for line in run.stdout.splitlines() if line.startswith('{"type":"dns"')]
    check(len(lines) == 40, "%d dns lines", len(lines))
    return lines


def used_records(stderr, name):
    """From -v: how many dns/unanswered records of input name were used."""
    for line in stderr.splitlines():
        if line.startswith("dnssnoop: %s: JSON Lines," % name):
            return int(line.split(" lines, ")[1].split()[0])
    raise AssertionError("no -v line for %s in %r" % (name, stderr[-1000:]))


def test_bad_numbers_refused(tmp):
    """Each refused form: exit 2, the flag and the value in the message, no stdout."""
    cases = [("--interval", " 5"), ("--interval", "0x10"), ("--interval", "1e-300"),
             ("--interval", "0.0000000001"), ("--interval", "inf"), ("-c", "5abc"),
             ("-c", "+5"), ("-c", ""), ("-c", "18446744073709551616"), ("--timeout", "-1"),
             ("--port", "0x35"), ("--top", " 3"), ("--exclusive-share", "8e-1"),
             ("--min-repeat", "nan"), ("--business-hours", " 8-19"),
             ("--business-hours", "08-+19"), ("--max-line-bytes", "0"),
             ("--max-line-bytes", "1k")]
    for flag, value in cases:
        run = Run(["-r", "/dev/null", flag, value], text=True)
        check(run.rc == 2, "%s %r: exit %d", flag, value, run.rc)
        check(run.stdout == "", "%s %r: stdout %r", flag, value, run.stdout[:200])
        check(("dnssnoop: %s: '%s' is not" % (flag, value)) in run.stderr,
              "%s %r: stderr %r", flag, value, run.stderr)


def test_documented_numbers_work(tmp):
    """The documented forms, decimals included, are taken."""
    for args in (["--interval", "0.5"], ["--interval", "2"], ["--timeout", "2.5"],
                 ["--timeout", "0.000000001"], ["-c", "5"], ["--exclusive-share", "0.8"],
                 ["--exclusive-share", "1"], ["--min-repeat", "1.5"], ["--port", "053"],
                 ["--business-hours", "08-19"], ["--business-hours", "0-24"],
                 ["--max-line-bytes", "1048576"], ["--silence", "3600"]):
        run = Run(["-r", "/dev/null"] + args).ok()
        check(run.records and run.records[-1]["type"] == "capture_stats", "%s: %s", args,
              run.stdout[-300:])


def max_rss_run(args):
    """Run dnssnoop; (exit status, stderr, max RSS in KiB) of that run alone."""
    p = subprocess.Popen([TRACER] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    return p.returncode, err, usage.ru_maxrss


def test_long_line_skipped_without_memory(tmp):
    """A 50 MB line between two records: reported with its line number and
    the default cap, skipped; both records used. The run's max RSS grows
    by less than 16 MiB over the same file without that line (the ASan
    build alone takes about 48 MiB, most of it the statistics tables)."""
    lines = dns_lines(tmp)
    path, short = os.path.join(tmp, "long.jsonl"), os.path.join(tmp, "short.jsonl")
    with open(short, "wb") as f:
        f.write(lines[0].encode() + b"\n" + lines[1].encode() + b"\n")
    with open(path, "wb") as f:
        f.write(lines[0].encode() + b"\n")
        f.write(b'{"type":"dns","v":1,"pad":"')
        chunk = b"x" * (1 << 20)
        for _ in range(LONG_LINE_BYTES // len(chunk)):
            f.write(chunk)
        f.write(b'"}\n' + lines[1].encode() + b"\n")
    rc, err, base_kib = max_rss_run(["-v", "-r", short, "--no-events"])
    check(rc == 0, "without the long line: exit %d: %s", rc, err[-500:])
    rc, err, kib = max_rss_run(["-v", "-r", path, "--no-events"])
    print("  max RSS %.1f MiB with a %d MB line, %.1f MiB without it"
          % (kib / 1024, LONG_LINE_BYTES / 1e6, base_kib / 1024))
    check(rc == 1, "exit %d: %s", rc, err[-500:])
    check("dnssnoop: %s:2: line longer than 1048576 bytes, skipped\n" % path in err,
          "stderr %r", err[-1000:])
    check(used_records(err, path) == 2, "stderr %r", err[-1000:])
    check(kib - base_kib < MAX_RSS_GROWTH_KIB, "max RSS %d KiB, %d KiB without the line", kib,
          base_kib)
    check(kib < MAX_RSS_KIB, "max RSS %d KiB", kib)


def test_max_line_bytes_flag(tmp):
    """--max-line-bytes N: lines of N bytes are read, longer ones skipped
    with N in the message; the count of records used says which."""
    lines = dns_lines(tmp)[:3]
    path = os.path.join(tmp, "cap.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    n = len(lines[1])
    run = Run(["-v", "-r", path, "--no-events", "--max-line-bytes", str(n)], text=True)
    longer = [i + 1 for i, line in enumerate(lines) if len(line) > n]
    check(run.rc == (1 if longer else 0), "exit %d", run.rc)
    for i in longer:
        check("dnssnoop: %s:%d: line longer than %d bytes, skipped\n" % (path, i, n) in run.stderr,
              "stderr %r", run.stderr)
    check(used_records(run.stderr, path) == 3 - len(longer), "stderr %r", run.stderr)
    run = Run(["-v", "-r", path, "--no-events", "--max-line-bytes", str(n - 1)], text=True)
    check(run.rc == 1 and "%s:2: line longer than %d bytes" % (path, n - 1) in run.stderr,
          "exit %d, stderr %r", run.rc, run.stderr)


def test_values_checked(tmp):
    """Bad values: one message per line, FILE:LINE: "field" why; the line
    skipped, the others used, exit status 1."""
    good = dns_lines(tmp)[0]
    rec = json.loads(good)
    bad = [('"qname" has an empty label', {"qname": "a..example"}),
           ('"qname" has an empty label (a trailing dot)', {"qname": "www.example."}),
           ('"qname" has a label longer than 63 bytes', {"qname": "x" * 64 + ".example"}),
           ('"qname" is longer than 255 bytes in wire format',
            {"qname": ".".join(["y" * 63] * 4)}),
           ('"qname" holds a control character', {"qname": "a\nb.example"}),
           ('"qname" holds a control character', {"qname": "caf\u00e9.example"}),
           ('"qname" has a backslash that is not', {"qname": "a\\300.example"}),
           ('"latency_ns" is not an integer from 0 to 9223372036854775807',
            {"qr": "response", "rcode": "NOERROR", "latency_ns": 2**63}),
           ('"latency_ns" is not an integer', {"qr": "response", "rcode": "NOERROR",
                                              "latency_ns": -5}),
           ('"sport" is not an integer from 0 to 65535', {"sport": 65536}),
           ('"id" is not an integer', {"id": "7"})]
    path = os.path.join(tmp, "values.jsonl")
    with open(path, "w") as f:
        f.write(good + "\n")
        for _, change in bad:
            f.write(json.dumps(dict(rec, **change)) + "\n")
        f.write(good + "\n")
    run = Run(["-v", "-r", path, "--no-events"], text=True)
    check(run.rc == 1, "exit %d", run.rc)
    head = "dnssnoop: %s:" % path
    got = [line for line in run.stderr.splitlines()
           if line.startswith(head) and line[len(head):len(head) + 1].isdigit()]
    check(len(got) == len(bad), "stderr %r", run.stderr)
    for i, (why, _) in enumerate(bad):
        prefix = "dnssnoop: %s:%d: %s" % (path, i + 2, why)
        check(got[i].startswith(prefix), "line %d: %r, want %r...", i + 2, got[i], prefix)
    check("%d bad lines skipped; 2 records of %d lines used" % (len(bad), len(bad) + 2)
          in run.stderr, "stderr %r", run.stderr)
    check(used_records(run.stderr, path) == 2, "stderr %r", run.stderr)
    check(run.stdout.splitlines()[-1].startswith('{"type":"capture_stats"'), "stdout %r",
          run.stdout[-300:])


CASES = [test_bad_numbers_refused, test_documented_numbers_work,
         test_long_line_skipped_without_memory, test_max_line_bytes_flag, test_values_checked]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-inputs-")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
