#!/usr/bin/python3
"""Integration tests: the progress line of a long -r run (docs/output.md, -q).

Needs no root and never skips. The input is one generated capture of 200k
messages read as 8 inputs (about 290 MB: a second or so of reading, several
with the sanitizer build; the line is first drawn after 250 ms), standard output to /dev/null.
  - Standard error on a terminal (a pty): at least one line
    "\\rdnssnoop: N% X of Y, ..." and, at the end, the line erased: the last
    thing written is "\\r\\033[K".
  - Standard error to a pipe: no progress text at all.
  - -q with standard error on a terminal: none either.
  - Standard input from a pipe (-r -), on a terminal: none (no size to
    measure against), though the capture trickles in over a second.

Usage: python3 tests/integration/test_progress.py [CASE-SUBSTRING...]
"""

import os
import pty
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, TRACER, check  # noqa: E402

MESSAGES = 200000
INPUTS = 8
TIMEOUT = 120
PROGRESS = re.compile(rb"\rdnssnoop: \d{1,3}% [0-9.]+ [kMGT]?B of [0-9.]+ [kMGT]?B, \d+ packets, ")
ERASE = b"\r\033[K"


def make_capture(tmp):
    path = os.path.join(tmp, "big.pcap")
    subprocess.run([sys.executable, os.path.join(REPO, "tools", "gen-pcap"), "-o", path, "-n",
                    str(MESSAGES), "--seed", "7"], check=True, timeout=TIMEOUT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def read_all(fd):
    """Everything written to the pty until its last writer closed it."""
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: no writer left
            return out
        if not chunk:
            return out
        out += chunk


def run_on_pty(args, stdin=subprocess.DEVNULL):
    """dnssnoop ARGS with standard error on a pty: (exit status, what it wrote there)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([TRACER] + args, stdin=stdin, stdout=subprocess.DEVNULL,
                             stderr=slave)
        os.close(slave)
        slave = -1
        out = read_all(master)  # read while it runs: a full pty would block it
        return p.wait(timeout=TIMEOUT), out
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def inputs(path):
    return [a for _ in range(INPUTS) for a in ("-r", path)]


def test_progress_on_a_terminal(path):
    rc, err = run_on_pty(inputs(path))
    check(rc == 0, "exit %d: %r", rc, err[-500:])
    check(PROGRESS.search(err), "no progress line in %r", err[-500:])
    check(err.endswith(ERASE), "the last line is not erased: %r", err[-200:])
    last = err[:-len(ERASE)].rsplit(b"\r", 1)[-1]
    check(re.match(rb"dnssnoop: \d{1,3}% ", last), "before the erase: %r", last)


def test_no_progress_to_a_pipe(path):
    p = subprocess.run([TRACER] + inputs(path), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    check(p.returncode == 0, "exit %d: %r", p.returncode, p.stderr[-500:])
    check(b"\r" not in p.stderr and b"%" not in p.stderr, "stderr %r", p.stderr[-500:])


def test_quiet_on_a_terminal(path):
    for flag in ("-q", "--quiet"):
        rc, err = run_on_pty([flag] + inputs(path))
        check(rc == 0, "%s: exit %d: %r", flag, rc, err[-500:])
        check(err == b"", "%s: stderr %r", flag, err[-500:])


def trickle(path, w, pieces=20, pause=0.05):
    """Write the file to the pipe w in pieces, pause seconds apart, then close it."""
    with open(path, "rb") as f, os.fdopen(w, "wb") as out:
        data = f.read()
        step = len(data) // pieces + 1
        for i in range(0, len(data), step):
            out.write(data[i:i + step])
            out.flush()
            time.sleep(pause)


def test_no_progress_from_a_pipe(path):
    r, w = os.pipe()
    writer = threading.Thread(target=trickle, args=(path, w))
    writer.start()
    try:
        rc, err = run_on_pty(["-r", "-"], stdin=r)
    finally:
        os.close(r)
        writer.join(timeout=TIMEOUT)
    check(rc == 0, "exit %d: %r", rc, err[-500:])
    check(err == b"", "stderr %r", err[-500:])


CASES = [test_progress_on_a_terminal, test_no_progress_to_a_pipe, test_quiet_on_a_terminal,
         test_no_progress_from_a_pipe]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-progress-", make_arg=make_capture)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
