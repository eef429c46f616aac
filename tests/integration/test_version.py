#!/usr/bin/python3
"""Integration tests: what --version says about the build.

Needs no root and never skips.
  - The first line is "dnssnoop X.Y.Z (git REV)"; in a git checkout REV is
    `git rev-parse --short HEAD` (with "-dirty" when the tree has
    uncommitted changes), so a bug report names the build exactly.
  - One "LIBRARY VERSION" line per library follows, libbpf and libpcap
    among them; -V says the same; nothing on stderr, exit 0.
  - X.Y.Z is the version of the top entry of debian/changelog (as
    dpkg-parsechangelog reads it), which the Debian package carries.

Usage: python3 tests/integration/test_version.py [CASE-SUBSTRING...]
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, Run, check  # noqa: E402

FIRST_LINE = re.compile(r"^dnssnoop \d+\.\d+\.\d+ \(git ([0-9a-f]{4,40}(-dirty)?|unknown)\)$")
LIBRARY_LINE = re.compile(r"^[a-z][a-z0-9-]* \d+(\.\d+)*$")


def head_revision():
    """`git rev-parse --short HEAD` of the repository, or None outside a checkout."""
    p = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def version_lines(flag):
    run = Run([flag], text=True).ok()
    check(run.stderr == "", "%s: stderr %r", flag, run.stderr)
    return run.stdout.splitlines()


def test_first_line_names_the_revision(tmp):
    lines = version_lines("--version")
    m = FIRST_LINE.match(lines[0]) if lines else None
    check(m, "first line %r", lines[:1])
    rev = head_revision()
    if rev is not None:
        check(m.group(1).split("-")[0] == rev, "revision %r, HEAD is %r", m.group(1), rev)


def test_library_lines(tmp):
    lines = version_lines("--version")
    bad = [line for line in lines[1:] if not LIBRARY_LINE.match(line)]
    check(not bad, "not LIBRARY VERSION: %r", bad)
    names = [line.split()[0] for line in lines[1:]]
    for lib in ("libbpf", "libpcap"):
        check(lib in names, "no %s line in %r", lib, lines)
    check(len(set(names)) == len(names), "a library twice: %r", names)


def test_short_flag_says_the_same(tmp):
    check(version_lines("-V") == version_lines("--version"), "-V and --version differ")


def test_version_is_the_changelogs(tmp):
    changelog = os.path.join(REPO, "debian", "changelog")
    p = subprocess.run(["dpkg-parsechangelog", "-l", changelog, "-S", "Version"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0 and p.stdout.strip(), "dpkg-parsechangelog: %s", p.stderr)
    first = version_lines("--version")[0]
    check(first.split()[1] == p.stdout.strip(), "--version %r, debian/changelog %r", first,
          p.stdout.strip())


CASES = [test_first_line_names_the_revision, test_library_lines, test_short_flag_says_the_same,
         test_version_is_the_changelogs]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-version-",
                                    tools=("dpkg-parsechangelog",))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
