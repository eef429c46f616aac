#!/usr/bin/env python3
"""tools/run-tests, the runner every suite's result goes through, fed programs
that pass, fail, skip, crash or report nothing: its closing line and exit
status must say what happened, and the strict mode CI uses
(DNSSNOOP_REQUIRE_INTEGRATION=1) must turn every skip into a failure.

The cmocka programs are compiled here from a few lines of C (gcc, cmocka);
the python ones are written here. Standard library only.
Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped".
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import runner  # noqa: E402
from runner import check  # noqa: E402

RUN_TESTS = os.path.join(REPO, "tools", "run-tests")

CMOCKA = r"""
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
static void passes(void **s) { (void)s; }
static void skips(void **s) { (void)s; skip(); }
static void fails(void **s) { (void)s; assert_int_equal(1, 2); }
int main(int argc, char **argv)
{
	const struct CMUnitTest pass[] = { cmocka_unit_test(passes), cmocka_unit_test(passes) };
	const struct CMUnitTest skip[] = { cmocka_unit_test(passes), cmocka_unit_test(skips) };
	const struct CMUnitTest fail[] = { cmocka_unit_test(passes), cmocka_unit_test(fails) };
	switch (argv[0][strlen(argv[0]) - 1]) {
	case 'p': return cmocka_run_group_tests(pass, NULL, NULL);
	case 's': return cmocka_run_group_tests(skip, NULL, NULL);
	case 'f': return cmocka_run_group_tests(fail, NULL, NULL);
	case '2': /* two groups: the counts of both add up */
		return cmocka_run_group_tests(pass, NULL, NULL) |
		       cmocka_run_group_tests(skip, NULL, NULL);
	}
	return 3;
}
"""

PYTHON = {
    "ok.py": 'print("PASS a (0.0s)")\nprint("PASS b (0.0s)")\n'
             'print("cases: 2 passed, 0 failed, 0 skipped")\n',
    "skip_case.py": 'print("PASS a (0.0s)")\nprint("SKIP b (0.0s): no x")\n'
                    'print("cases: 1 passed, 0 failed, 1 skipped")\n',
    "not_root.py": 'import sys\nprint("not_root.py: SKIP: needs root")\nsys.exit(77)\n',
    "silent.py": 'print("all good, trust me")\n',
    "short.py": 'print("PASS a (0.0s)")\nprint("cases: 3 passed, 0 failed, 0 skipped")\n',
    "crash.py": 'print("PASS a (0.0s)")\nprint("cases: 1 passed, 0 failed, 0 skipped")\n'
                'raise SystemExit(2)\n',
}


class Programs:
    def __init__(self, work):
        self.work = work
        src = os.path.join(work, "cm.c")
        with open(src, "w") as f:
            f.write(CMOCKA.replace("#include <cmocka.h>", "#include <cmocka.h>\n#include <string.h>"))
        base = os.path.join(work, "cm")
        subprocess.run(["gcc", src, "-o", base, "-lcmocka"], check=True)
        for kind in "psf2":
            os.link(base, base + "_" + kind)
        for name, text in PYTHON.items():
            with open(os.path.join(work, name), "w") as f:
                f.write(text)

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, names, strict):
        env = dict(os.environ)
        env.pop("DNSSNOOP_REQUIRE_INTEGRATION", None)
        if strict:
            env["DNSSNOOP_REQUIRE_INTEGRATION"] = "1"
        p = subprocess.run([RUN_TESTS, "t"] + [self.path(n) for n in names], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        last = p.stdout.rstrip("\n").rsplit("\n", 1)[-1]
        return p.returncode, last, p.stdout


def expect(progs, names, strict, status, last):
    rc, got, out = progs.run(names, strict)
    check(got == last, "%s (strict=%s): last line %r, expected %r\n%s", names, strict, got, last, out)
    check((rc == 0) == (status == 0), "%s (strict=%s): exit %d, expected %s\n%s",
          names, strict, rc, "0" if status == 0 else "non-zero", out)


def test_all_pass(p):
    expect(p, ["cm_p", "ok.py"], False, 0, "4 passed, 0 failed, 0 skipped")
    expect(p, ["cm_p", "ok.py"], True, 0, "4 passed, 0 failed, 0 skipped")


def test_cmocka_skip_counted(p):
    expect(p, ["cm_s"], False, 0, "1 passed, 0 failed, 1 skipped")


def test_cmocka_skip_fails_strict(p):
    expect(p, ["cm_s"], True, 1, "1 passed, 1 failed, 0 skipped")


def test_cmocka_failure(p):
    expect(p, ["cm_f"], False, 1, "1 passed, 1 failed, 0 skipped")


def test_cmocka_two_groups_add_up(p):
    expect(p, ["cm_2"], False, 0, "3 passed, 0 failed, 1 skipped")


def test_python_skip_fails_strict(p):
    expect(p, ["skip_case.py"], False, 0, "1 passed, 0 failed, 1 skipped")
    expect(p, ["skip_case.py"], True, 1, "1 passed, 1 failed, 0 skipped")


def test_whole_script_skip(p):
    expect(p, ["not_root.py", "ok.py"], False, 0, "2 passed, 0 failed, 1 skipped")
    expect(p, ["not_root.py", "ok.py"], True, 1, "2 passed, 1 failed, 0 skipped")


def test_missing_file_fails(p):
    expect(p, ["ok.py", "no_such_test.py"], False, 1, "2 passed, 1 failed, 0 skipped")


def test_no_count_fails(p):
    expect(p, ["silent.py"], False, 1, "0 passed, 1 failed, 0 skipped")


def test_counts_must_add_up(p):
    expect(p, ["short.py"], False, 1, "0 passed, 1 failed, 0 skipped")


def test_exit_status_without_failed_case(p):
    expect(p, ["crash.py"], False, 1, "1 passed, 1 failed, 0 skipped")


CASES = [test_all_pass, test_cmocka_skip_counted, test_cmocka_skip_fails_strict,
         test_cmocka_failure, test_cmocka_two_groups_add_up, test_python_skip_fails_strict,
         test_whole_script_skip, test_missing_file_fails, test_no_count_fails,
         test_counts_must_add_up, test_exit_status_without_failed_case]


def main(argv):
    start = time.monotonic()
    cases = runner.selected(CASES, argv)
    if shutil.which("gcc") is None:
        return runner.fail_every(cases, "gcc is missing (make deps)")
    work = tempfile.mkdtemp(prefix="dnssnoop-runtests-")
    try:
        progs = Programs(work)
        counts = runner.run_cases(cases, progs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return runner.finish(start, *counts)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
