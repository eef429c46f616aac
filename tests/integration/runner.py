"""What the integration test scripts (test_*.py) share: the loop that runs
their cases and prints the results, the check() they assert with, and small
helpers for dnssnoop's records. The lab scripts' own runner (root, the lab
set up once, end_case after every case) is lab.run_lab_tests, built on this.

Output, which tools/run-tests parses:
  PASS|FAIL|SKIP NAME (T s)[: why]   one line per case
  total T s
  cases: P passed, F failed, S skipped
Exit status: 0 all passed, 1 a case failed (the caller returns 77 itself
when the whole file cannot run).
Standard library only.
"""

import atexit
import datetime
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TRACER = os.environ.get("DNSSNOOP_BIN", os.path.join(REPO, "build", "dnssnoop"))

# A live root session with the statistics folds into a default state file
# (docs/state.md) unless given --no-state; lab.Tracer passes --no-state, and
# for every other tracer a test starts (directly, through a shell, in a
# namespace) the default directory is this script's own temporary one, never
# /var/lib/dnssnoop, so that tests never judge each other's history.
STATE_DIR = os.environ.setdefault(
    "DNSSNOOP_STATE_DIR", os.path.join(tempfile.gettempdir(),
                                       "dnssnoop-test-state-%d" % os.getpid()))
if STATE_DIR.endswith("-%d" % os.getpid()):
    atexit.register(shutil.rmtree, STATE_DIR, True)


def tracer_is_sanitized(path=None):
    """The tracer was built with ASan (`make test` runs build/san/dnssnoop):
    its resident memory then includes shadow memory and the allocator's
    quarantine, several times the plain build's."""
    with open(path or TRACER, "rb") as f:
        return b"AddressSanitizer" in f.read()


# GNU time (Debian package time): peak RSS of a child has to be read by a
# small parent, since Linux counts in it the parent's memory that the child
# had before exec, and for a child of Python that is Python's 18 MiB.
GNU_TIME = "/usr/bin/time"


def run_measured(args, timeout=120):
    """Runs the tracer with args under GNU time; returns (exit status,
    stdout, stderr, peak RSS in KiB, wall seconds)."""
    with tempfile.NamedTemporaryFile("r") as usage:
        p = subprocess.run([GNU_TIME, "-f", "%M %e", "-o", usage.name, TRACER] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        # The last line; a line before it says a non-zero exit status.
        rss, seconds = usage.read().split("\n")[-2].split()
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"), int(rss), float(seconds))


class Skip(Exception):
    """A case that cannot run here (only where the file allows skips)."""


def check(cond, fmt, *args):
    if not cond:
        raise AssertionError(fmt % args if args else fmt)


# ---------------------------------------------------------------- the runner

def selected(cases, argv):
    """The cases whose names contain one of the command-line arguments (all without any)."""
    return [c for c in cases if not argv[1:] or any(a in c.__name__ for a in argv[1:])]


def print_counts(passed, failed, skipped):
    print("cases: %d passed, %d failed, %d skipped" % (passed, failed, skipped))


def fail_every(cases, why):
    """Every case failed before it ran (a file that may not skip misses a piece)."""
    for case in cases:
        print("FAIL %s: %s" % (case.__name__, why))
    print_counts(0, len(cases), 0)
    return 1


def _outcome(case, arg, failures, allow_skip):
    """(status, why) of one call of case(arg)."""
    try:
        case(arg)
        return "PASS", ""
    except Skip as e:
        if allow_skip:
            return "SKIP", str(e)
        return "FAIL", "skipped, and this file may not skip: %s" % e
    except failures as e:
        return "FAIL", str(e)
    except Exception as e:
        return "FAIL", "%s: %s\n%s" % (type(e).__name__, e,
                                       "".join(traceback.format_exc().splitlines(True)[-6:]))


class SanitizerLogs:
    """Sends the reports of sanitized programs started by the cases (the
    tracer of `make test` is built with ASan and UBSan) to files in a private
    directory, whatever way a case starts them and whatever it does with
    their stderr; after each case, a report there fails the case."""

    OPTIONS = ("ASAN_OPTIONS", "UBSAN_OPTIONS")

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dnssnoop-sanitizer-")
        # The live tracer writes its reports as the user it dropped to (nobody).
        os.chmod(self.dir, 0o1733)
        for var in self.OPTIONS:
            kept = os.environ.get(var)
            log = "log_path=%s/%s" % (self.dir, var.split("_")[0].lower())
            os.environ[var] = kept + ":" + log if kept else log

    def reports(self):
        """The reports written since the last call, as text (empty: none)."""
        text = []
        for name in sorted(os.listdir(self.dir)):
            path = os.path.join(self.dir, name)
            with open(path, errors="replace") as f:
                text.append("%s:\n%s" % (name, f.read()[-3000:]))
            os.unlink(path)
        return "\n".join(text)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run_cases(cases, arg, failures=(AssertionError,), allow_skip=False, after_case=None):
    """Runs case(arg) for every case and prints a line for each; returns
    (passed, failed, skipped). failures: the exceptions that are a plain
    failure (their text is the reason; any other exception adds a traceback).
    after_case(), called after every case even if it raised, may return why a
    case that passed has failed after all. A sanitizer report from any
    program a case started fails the case."""
    logs = SanitizerLogs()
    try:
        return _run_all(cases, arg, failures, allow_skip, after_case, logs)
    finally:
        logs.close()


def _run_all(cases, arg, failures, allow_skip, after_case, logs):
    passed = failed = skipped = 0
    for case in cases:
        t0 = time.monotonic()
        try:
            status, why = _outcome(case, arg, failures, allow_skip)
        finally:
            late = after_case() if after_case else None
        report = logs.reports()
        if report:
            status, why = "FAIL", "sanitizer report%s\n%s" % (": " + why if why else "", report)
        elif late and status == "PASS":
            status, why = "FAIL", late
        if status == "PASS":
            passed += 1
        elif status == "SKIP":
            skipped += 1
        else:
            failed += 1
        # Continuation lines indented: only a case's own line starts with its status.
        why = why.replace("\n", "\n    ")
        print("%s %s (%.1fs)%s" % (status, case.__name__, time.monotonic() - t0,
                                  ": " + why if why else ""), flush=True)
    return passed, failed, skipped


def finish(start, passed, failed, skipped):
    """The closing lines; the exit status."""
    print("total %.1fs" % (time.monotonic() - start))
    print_counts(passed, failed, skipped)
    return 1 if failed else 0


def missing_piece(tools=(), files=()):
    """Why an offline test cannot run, or None: a tool not installed, the
    tracer not built, or a file ((path, how to get it)) absent."""
    for t in tools:
        if shutil.which(t) is None:
            return "%s is missing (run make deps)" % t
    if not os.access(TRACER, os.X_OK):
        return "%s is not built (run make)" % TRACER
    for path, how in files:
        if not os.path.exists(path):
            return "%s is missing (%s)" % (path, how)
    return None


def run_offline_tests(argv, cases, tmp_prefix, tools=(), files=(), make_arg=None):
    """main() of a test file that needs no root: it never skips (a missing
    piece is a failure of every case). Each case gets a temp dir shared by
    all of them, or make_arg(that dir)."""
    cases = selected(cases, argv)
    start = time.monotonic()
    why = missing_piece(tools, files)
    if why:
        # Not a skip: nothing here needs root, so a missing piece is a failure.
        return fail_every(cases, why)
    tmp = tempfile.mkdtemp(prefix=tmp_prefix)
    try:
        counts = run_cases(cases, make_arg(tmp) if make_arg else tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish(start, *counts)


def stop_process(p, sig=signal.SIGTERM, timeout=10):
    """Signal p (a Popen this test started) and reap it; SIGKILL after timeout."""
    if p.poll() is None:
        p.send_signal(sig)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def run_fixture_tests(argv, cases, tmp_prefix, make_fixture, root_for, tools=()):
    """main() of a test file whose cases share one fixture that needs root
    (captures made in namespaces, say): exits 77 when not root, fails every
    case when a tool is missing or the fixture cannot be made.
    make_fixture(tmp) returns the cases' argument (AssertionError: failed)."""
    cases = selected(cases, argv)
    start = time.monotonic()
    if os.geteuid() != 0:
        print("SKIP all: needs root (%s)" % root_for)
        return 77
    why = missing_piece(tools)
    if why:
        return fail_every(cases, why)
    with tempfile.TemporaryDirectory(prefix=tmp_prefix) as tmp:
        try:
            fixture = make_fixture(tmp)
        except AssertionError as e:
            return fail_every(cases, "fixture: %s" % e)
        counts = run_cases(cases, fixture)
    return finish(start, *counts)


# ---------------------------------------------------------------- records

class Run:
    """One dnssnoop run: exit status, stderr, and stdout parsed as JSON
    (not with text=True)."""

    TIMEOUT = 120

    def __init__(self, args, stdin=None, input_bytes=None, text=False):
        p = subprocess.run([TRACER] + args, stdin=stdin, input=input_bytes,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=self.TIMEOUT)
        self.rc, self.args = p.returncode, args
        self.stderr = p.stderr.decode("utf-8", "replace")
        self.stdout = p.stdout.decode("utf-8")
        self.records = []
        if text:
            return
        for n, line in enumerate(self.stdout.splitlines(), 1):
            try:
                self.records.append(json.loads(line))
            except ValueError as e:
                raise AssertionError("stdout line %d is not JSON (%s): %r" % (n, e, line[:200]))

    def ok(self):
        check(self.rc == 0, "dnssnoop %s exited %d: %s", " ".join(self.args), self.rc,
              self.stderr[-2000:])
        return self


def addr(a):
    """An address in canonical text form (RFC 5952 for IPv6); None stays None."""
    return str(ipaddress.ip_address(a)) if a is not None else None


def brief_line(r, with_dir=False):
    """A dns record on one line, for failure messages."""
    return "%s %s %s:%s>%s:%s id=%s %s %s%s" % (
        r.get("ts"), r.get("proto"), r.get("saddr"), r.get("sport"), r.get("daddr"),
        r.get("dport"), r.get("id"), r.get("qr"), r.get("qname"),
        " dir=%s" % r["dir"] if with_dir and r.get("dir") else "")


def brief_json(r, keys):
    """The fields keys of a record, as JSON, for failure messages."""
    return json.dumps({k: r[k] for k in keys if k in r})


def rfc3339_to_ns(s):
    """dnssnoop's RFC 3339 text with µs -> ns since the epoch."""
    t = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10**9 + int(s[20:26]) * 1000


def rfc3339_to_us(s):
    """dnssnoop's RFC 3339 text with µs -> µs since the epoch."""
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp()) * 10**6 + t.microsecond


def ns_to_rfc3339(ns):
    """ns since the epoch -> RFC 3339 text with µs, as dnssnoop prints it."""
    t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (ns % 10**9 // 1000)
