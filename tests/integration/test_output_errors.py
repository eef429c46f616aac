#!/usr/bin/python3
"""Integration tests for output errors and output file safety (docs/output.md,
"Exit status" and "Output files").

Needs root (a 1 MB tmpfs mounted in a temp dir, files chowned to another
uid, one live session); exits 77 without it, never skips otherwise. Input:
a pcap from tools/gen-pcap, big enough that its JSON Lines (about 5 MB) do
not fit on the tmpfs nor in a pipe's buffer.

Checked:
  - a full filesystem (-o, and standard output redirected to a file on
    it), /dev/full (as stdout and -o), a read-only and a closed stdout:
    exit 3, one message naming the file ("standard output") and the error,
    and a file that ends at a whole record, every line JSON, the same
    lines as a run that could write everything;
  - a reader that goes away (`| head -1`): exit 0, nothing on stderr;
  - -w onto a full tmpfs (live): exit 3 naming the file, the pcap cut back
    to its last whole record;
  - a start that fails (missing -r input, a live start refused) leaves
    existing -o and -w files byte for byte;
  - new files mode 0600; a symbolic link, a file with another hard link, a
    file of another user (in a sticky world-writable directory too) and a
    world-writable directory that is not sticky are refused (exit 3) and
    left as they were; an existing file of ours is emptied, not appended to;
  - every live-only flag with -r: exit 2, nothing on stdout.

Usage: python3 tests/integration/test_output_errors.py [CASE-SUBSTRING...]
Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped";
exits 77 when not root, 1 if a case failed.
"""

import contextlib
import json
import os
import select
import socket
import stat
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, TRACER, check  # noqa: E402

GEN = os.path.join(REPO, "tools", "gen-pcap")
EXIT_OUTPUT = 3
EXIT_USAGE = 2
ENOSPC_TEXT = "No space left on device"
NOBODY = 65534
LIVE_PORT = 15399  # the live case's queries go here (nothing listens)
PCAP_HDR, PCAP_REC_HDR = 24, 16


class Tmp:
    """The cases' temp dir and the pcap they read (made once)."""

    def __init__(self, path):
        self.dir = path
        self._pcap = None

    def pcap(self):
        if not self._pcap:
            self._pcap = os.path.join(self.dir, "in.pcap")
            p = subprocess.run([sys.executable, GEN, "-o", self._pcap, "-n", "5000",
                                "--seed", "91"], capture_output=True, timeout=300)
            check(p.returncode == 0, "gen-pcap failed: %s", p.stderr.decode()[-500:])
        return self._pcap

    def path(self, *names):
        return os.path.join(self.dir, *names)


def tracer(args, stdout=subprocess.DEVNULL, preexec_fn=None):
    """Run the tracer; (exit status, stderr text)."""
    p = subprocess.run([TRACER] + args, stdout=stdout, stderr=subprocess.PIPE,
                       preexec_fn=preexec_fn, timeout=120)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def reference_lines(tmp):
    """The JSON Lines of the pcap, written where there is room."""
    p = subprocess.run([TRACER, "-r", tmp.pcap()], capture_output=True, timeout=120)
    check(p.returncode == 0, "reference run exited %d: %s", p.returncode, p.stderr[-500:])
    return p.stdout.splitlines(keepends=True)


def check_one_message(rc, err, name, why):
    check(rc == EXIT_OUTPUT, "exit status %d, want %d (stderr %r)", rc, EXIT_OUTPUT, err)
    lines = err.splitlines()
    check(len(lines) == 1, "want one message on stderr, got %r", err)
    check(name in lines[0] and why in lines[0], "the message should name %s and say %r: %r",
          name, why, lines[0])


def check_whole_records(path, ref):
    """path holds the first lines of ref, each whole (JSON, newline-ended)."""
    with open(path, "rb") as f:
        data = f.read()
    check(len(data) > 0, "%s is empty: nothing was written before the disk was full", path)
    check(data.endswith(b"\n"), "%s ends in the middle of a line: %r", path, data[-60:])
    lines = data.splitlines(keepends=True)
    for n, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except ValueError:
            raise AssertionError("%s line %d is not JSON: %r" % (path, n, line[:100]))
    check(lines == ref[:len(lines)], "%s: not the first %d lines of the output", path,
          len(lines))
    check(len(lines) < len(ref), "%s holds every line: the disk was not full", path)


@contextlib.contextmanager
def tmpfs(path, size="1m"):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                   check=True, timeout=30)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], timeout=30)


def fill(mnt, leave):
    """Fill the filesystem at mnt up to its last `leave` bytes."""
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(mnt, "filler"), "wb") as f:
        f.write(bytes(free - leave))


def existing(path, data=b"precious bytes\n", uid=None):
    with open(path, "wb") as f:
        f.write(data)
    if uid is not None:
        os.chown(path, uid, uid)
    return data


def content(path):
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- write errors

def test_full_filesystem(tmp):
    """-o and a redirected stdout on a full 1 MB tmpfs: exit 3 naming the
    file, which ends at a whole record."""
    ref = reference_lines(tmp)
    with tmpfs(tmp.path("full")) as mnt:
        out = os.path.join(mnt, "out.jsonl")
        rc, err = tracer(["-r", tmp.pcap(), "-o", out])
        check_one_message(rc, err, out, ENOSPC_TEXT)
        check_whole_records(out, ref)
        os.unlink(out)
        redirected = os.path.join(mnt, "stdout.jsonl")
        with open(redirected, "wb") as f:
            rc, err = tracer(["-r", tmp.pcap()], stdout=f)
        check_one_message(rc, err, "standard output", ENOSPC_TEXT)
        check_whole_records(redirected, ref)


def test_dev_full(tmp):
    """/dev/full as stdout and as -o: exit 3 naming it."""
    with open("/dev/full", "wb") as f:
        rc, err = tracer(["-r", tmp.pcap()], stdout=f)
    check_one_message(rc, err, "writing standard output", ENOSPC_TEXT)
    rc, err = tracer(["-r", tmp.pcap(), "-o", "/dev/full"])
    check_one_message(rc, err, "writing /dev/full", ENOSPC_TEXT)


def test_unwritable_stdout(tmp):
    """A stdout open for reading only, and a closed one: exit 3 before anything is read."""
    fd = os.open(os.devnull, os.O_RDONLY)
    try:
        rc, err = tracer(["-r", tmp.pcap()], stdout=fd)
    finally:
        os.close(fd)
    check_one_message(rc, err, "standard output", "reading only")
    rc, err = tracer(["-r", tmp.pcap()], stdout=None, preexec_fn=lambda: os.close(1))
    check_one_message(rc, err, "standard output", "closed")


def test_reader_goes_away(tmp):
    """`dnssnoop -r FILE | head -1`: a quiet end, exit 0."""
    p = subprocess.Popen([TRACER, "-r", tmp.pcap()], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode("utf-8", "replace")
    rc = p.wait(timeout=60)
    check(json.loads(first)["type"] == "dns", "first line: %r", first[:100])
    check(rc == 0 and err == "", "exit %d, stderr %r: want 0 and nothing", rc, err)


def wait_attached(proc, timeout=20):
    """Read the tracer's stderr until "dnssnoop: attached"; what it said."""
    said, end = b"", time.monotonic() + timeout
    while b"dnssnoop: attached" not in said:
        left = end - time.monotonic()
        check(left > 0 and proc.poll() is None, "the tracer did not attach: %r", said)
        if select.select([proc.stderr], [], [], left)[0]:
            said += os.read(proc.stderr.fileno(), 4096)
    return said


def pcap_cut_at_record(path):
    """The number of records of a pcap that must end exactly after one."""
    data = content(path)
    check(len(data) >= PCAP_HDR, "%s: %d bytes, no pcap header", path, len(data))
    off, n = PCAP_HDR, 0
    while off < len(data):
        check(off + PCAP_REC_HDR <= len(data), "%s ends inside a record header", path)
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        check(off + PCAP_REC_HDR + caplen <= len(data), "%s ends inside record %d", path,
              n + 1)
        off, n = off + PCAP_REC_HDR + caplen, n + 1
    return n


def test_pcap_writer_full(tmp):
    """Live -w onto a tmpfs with 8 KB left: exit 3 naming the file; the
    pcap (mode 0600) ends after a whole record."""
    with tmpfs(tmp.path("wfull")) as mnt:
        fill(mnt, 8192)
        cap = os.path.join(mnt, "cap.pcap")
        p = subprocess.Popen([TRACER, "-w", cap, "-o", os.devnull, "--port", str(LIVE_PORT),
                              "-d", "30"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            said = wait_attached(p)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            qname = b"".join(b"\x3f" + b"x" * 63 for _ in range(3)) + b"\x00"
            query = bytes.fromhex("123401000001000000000000") + qname + b"\x00\x01\x00\x01"
            for _ in range(400):
                s.sendto(query, ("127.0.0.1", LIVE_PORT))
                time.sleep(0.002)
            s.close()
            try:
                rc = p.wait(timeout=20)  # the full disk ends it, long before -d
            except subprocess.TimeoutExpired:
                raise AssertionError("still running 20 s after -w filled the disk")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = (said + p.stderr.read()).decode("utf-8", "replace")
        p.stderr.close()
        err = "\n".join(l for l in err.splitlines() if l != "dnssnoop: attached")
        check_one_message(rc, err, "writing " + cap, ENOSPC_TEXT)
        n = pcap_cut_at_record(cap)
        check(n > 10, "only %d records before the disk was full", n)
        mode = stat.S_IMODE(os.stat(cap).st_mode)
        check(mode == 0o600, "new pcap has mode %o, want 600", mode)


# ---------------------------------------------------------------- file safety

def test_failed_start_leaves_files(tmp):
    """A missing -r input (alone or with a good one) and a live start that
    fails: -o and -w files stay as they were."""
    out, cap = tmp.path("keep.jsonl"), tmp.path("keep.pcap")
    data, capdata = existing(out), existing(cap, b"not touched either\n")
    missing = tmp.path("no-such-input.pcap")
    for args in (["-r", missing], ["-r", tmp.pcap(), "-r", missing]):
        rc, err = tracer(args + ["-o", out])
        check(rc == 1 and missing in err, "%s: exit %d, stderr %r", args, rc, err)
        check(content(out) == data, "%s: the -o file was changed", args)
    rc, err = tracer(["--cgroup", "/no-such-cgroup-dnssnoop", "-o", out, "-w", cap])
    check(rc == 1 and "no-such-cgroup-dnssnoop" in err, "live: exit %d, stderr %r", rc, err)
    check(content(out) == data and content(cap) == capdata, "live: a file was changed")


def test_new_file_mode_and_emptying(tmp):
    """A new -o file is 0600 whatever the umask; an existing one of ours
    is emptied, not appended to."""
    new = tmp.path("new.jsonl")
    rc, err = tracer(["-r", tmp.pcap(), "-c", "1", "-o", new], preexec_fn=lambda: os.umask(0))
    check(rc == 0, "exit %d: %s", rc, err)
    mode = stat.S_IMODE(os.stat(new).st_mode)
    check(mode == 0o600, "new file has mode %o, want 600", mode)
    first = content(new)
    existing(new, b"x" * (len(first) * 3))
    rc, err = tracer(["-r", tmp.pcap(), "-c", "1", "-o", new])
    check(rc == 0 and content(new) == first, "rewriting: exit %d, %d bytes, want %d", rc,
          len(content(new)), len(first))


def test_symlink_and_hard_link_refused(tmp):
    """-o through a symbolic link (to a file or to nothing) or onto a file
    with another hard link: exit 3, nothing changed or created."""
    target, link = tmp.path("target"), tmp.path("link.jsonl")
    data = existing(target)
    os.symlink(target, link)
    rc, err = tracer(["-r", tmp.pcap(), "-o", link])
    check_one_message(rc, err, link, "symbolic link")
    check(content(target) == data and os.path.islink(link), "the link's target was changed")
    dangling, nowhere = tmp.path("dangling.jsonl"), tmp.path("nowhere")
    os.symlink(nowhere, dangling)
    rc, err = tracer(["-r", tmp.pcap(), "-o", dangling])
    check_one_message(rc, err, dangling, "symbolic link")
    check(not os.path.exists(nowhere), "a file was created through a dangling link")
    hard = tmp.path("hard.jsonl")
    os.link(target, hard)
    rc, err = tracer(["-r", tmp.pcap(), "-o", hard])
    check_one_message(rc, err, hard, "hard links")
    check(content(target) == data, "the hard link's file was changed")


def test_other_users_file_refused(tmp):
    """A file of uid 65534, in a sticky world-writable directory (like
    /tmp) and in one only root may write to: refused, left as it was."""
    for name, mode in (("sticky", 0o1777), ("private", 0o755)):
        d = tmp.path(name)
        os.mkdir(d)
        os.chmod(d, mode)
        theirs = os.path.join(d, "theirs.jsonl")
        data = existing(theirs, uid=NOBODY)
        rc, err = tracer(["-r", tmp.pcap(), "-o", theirs])
        check_one_message(rc, err, theirs, "another user")
        check(content(theirs) == data, "%s: the other user's file was changed", name)
        ours = os.path.join(d, "ours.jsonl")
        rc, err = tracer(["-r", tmp.pcap(), "-c", "1", "-o", ours])
        check(rc == 0 and content(ours).endswith(b"\n"), "%s: a new file: exit %d %s", name,
              rc, err)


def test_world_writable_dir_refused(tmp):
    """A directory anyone may write to, not sticky: no file created in it,
    an existing one left as it was."""
    d = tmp.path("open")
    os.mkdir(d)
    os.chmod(d, 0o777)
    new = os.path.join(d, "new.jsonl")
    rc, err = tracer(["-r", tmp.pcap(), "-o", new])
    check_one_message(rc, err, new, "writable by everyone")
    check(not os.path.exists(new), "%s was created", new)
    old = os.path.join(d, "old.jsonl")
    data = existing(old)
    rc, err = tracer(["-r", tmp.pcap(), "-o", old])
    check_one_message(rc, err, old, "writable by everyone")
    check(content(old) == data, "%s was changed", old)


# ---------------------------------------------------------------- usage errors

LIVE_ONLY = [(["-d", "1"], "-d/--duration"), (["--snaplen", "100"], "--snaplen"),
             (["--ringbuf-mb", "2"], "--ringbuf-mb"), (["--hook", "cgroup"], "--hook"),
             (["--tc-attach", "tcx"], "--tc-attach"), (["-i", "lo"], "-i/--interface"),
             (["-p", "1"], "-p/--pid"),
             (["--comm", "dig"], "--comm"), (["--cgroup", "/"], "--cgroup")]


def test_live_only_flags_with_r(tmp):
    """Every live-only flag with -r: exit 2 naming it, nothing on stdout;
    so is -r - twice. (-w is not one: it writes the packets read.)"""
    for args, name in LIVE_ONLY:
        p = subprocess.run([TRACER, "-r", tmp.pcap()] + args, capture_output=True,
                           cwd=tmp.dir, timeout=60)
        err = p.stderr.decode()
        check(p.returncode == EXIT_USAGE, "%s: exit %d, want 2", args, p.returncode)
        check(p.stdout == b"", "%s: %d bytes on stdout", args, len(p.stdout))
        check(err.startswith("dnssnoop: %s: only for a live capture" % name),
              "%s: message %r", args, err)
    p = subprocess.run([TRACER, "-r", "-", "-r", "-"], capture_output=True, input=b"",
                       timeout=60)
    check(p.returncode == EXIT_USAGE and p.stdout == b"" and b"only once" in p.stderr,
          "-r - twice: exit %d, stdout %r, stderr %r", p.returncode, p.stdout[:80], p.stderr)


CASES = [test_full_filesystem, test_dev_full, test_unwritable_stdout, test_reader_goes_away,
         test_pcap_writer_full, test_failed_start_leaves_files,
         test_new_file_mode_and_emptying, test_symlink_and_hard_link_refused,
         test_other_users_file_refused, test_world_writable_dir_refused,
         test_live_only_flags_with_r]


def main(argv):
    if os.geteuid() != 0:
        print("%s: SKIP: needs root (tmpfs mounts, chown, a live session)"
              % os.path.basename(argv[0]))
        return 77
    return runner.run_offline_tests(argv, CASES, "dnssnoop-output-errors-", make_arg=Tmp)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
