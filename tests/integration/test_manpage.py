#!/usr/bin/python3
"""Integration tests: man/dnssnoop.8 against `dnssnoop --help`.

Needs no root and never skips (man-db and groff-base are in the Makefile's
TEST_PKGS).
  - Every flag `--help` prints (long and short, with its argument) has its
    entry in the man page's OPTIONS section, and every entry there is a
    flag of `--help`: neither side can gain a flag the other misses.
  - The page renders without a warning, by groff (-ww) and by man
    (--warnings), as `man ./man/dnssnoop.8` would.
  - It has the sections a reader looks for.

Usage: python3 tests/integration/test_manpage.py [CASE-SUBSTRING...]
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, Run, check  # noqa: E402

PAGE = os.path.join(REPO, "man", "dnssnoop.8")
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "RECORD TYPES", "EXAMPLES", "FILES",
            "EXIT STATUS", "CAPABILITIES", "SEE ALSO")
# A flag line of --help: "  -d, --duration SECONDS  text" or "      --summary  text";
# the argument is in capitals or a choice (json|text), the text starts in lower case.
FLAG_LINE = re.compile(r"^  (?:-[A-Za-z], |    )--[a-z]")
HELP_FLAG = re.compile(r"^  (?:(-[A-Za-z]), |    )(--[a-z][a-z-]*)"
                       r"(?: ([^a-z\s]\S*|\S*\|\S*))?(?: |$)")


def help_flags():
    """{(short or None, long, argument or None)} that --help prints."""
    run = Run(["--help"], text=True).ok()
    flags = set()
    for line in run.stdout.splitlines():
        if not FLAG_LINE.match(line):
            continue
        m = HELP_FLAG.match(line)
        check(m, "--help: a flag line not understood: %r", line)
        flags.add(m.groups())
    check(len(flags) > 40, "only %d flags parsed from --help", len(flags))
    return flags


def sections():
    """{section name: its roff lines}."""
    with open(PAGE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out, name = {}, None
    for line in lines:
        if line.startswith(".SH "):
            name = line[4:].strip().strip('"')
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def unroff(text):
    """A roff line as it reads: font escapes gone, \\- and \\e as typed."""
    text = re.sub(r"\\f[BIRP]", "", text)
    return text.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")


def man_flags():
    """{(short or None, long, argument or None)}: the tag line of each .TP in OPTIONS."""
    lines = sections().get("OPTIONS", [])
    flags = set()
    for i, line in enumerate(lines):
        if line != ".TP" or i + 1 >= len(lines):
            continue
        tag = unroff(lines[i + 1])
        m = re.match(r"^(?:(-[A-Za-z]), )?(--[a-z][a-z-]*)(?: (\S+))?$", tag)
        check(m, "OPTIONS: a tag that is not FLAG [ARG]: %r", lines[i + 1])
        flags.add(m.groups())
    return flags


def test_every_help_flag_in_the_page(tmp):
    missing = help_flags() - man_flags()
    check(not missing, "in --help, not in the man page's OPTIONS: %s", sorted(missing,
                                                                               key=str))


def test_every_page_flag_in_help(tmp):
    extra = man_flags() - help_flags()
    check(not extra, "in the man page's OPTIONS, not in --help: %s", sorted(extra, key=str))


def test_sections(tmp):
    have = sections()
    for name in SECTIONS:
        check(name in have, "no %s section (have %s)", name, sorted(have))
    files = "\n".join(have["FILES"])
    check("/var/lib/dnssnoop/state.db" in files, "FILES: %r", files)
    caps = unroff("\n".join(have["CAPABILITIES"]))
    for cap in ("CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"):
        check(cap in caps, "CAPABILITIES: no %s", cap)
    status = "\n".join(have["EXIT STATUS"])
    for n in range(5):
        check(".B %d" % n in status, "EXIT STATUS: no %d", n)


def render(argv):
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=60)
    check(p.returncode == 0, "%s: exit %d: %s", argv[0], p.returncode, p.stderr[-2000:])
    check(p.stderr == b"", "%s: warnings: %s", argv[0], p.stderr.decode(errors="replace"))
    return p.stdout.decode("utf-8")


def test_renders_without_warnings(tmp):
    render(["groff", "-ww", "-man", "-Tutf8", PAGE])
    text = render(["man", "--warnings", "-E", "UTF-8", "-l", PAGE])
    check("--dnstap-socket" in text and "EXIT STATUS" in text, "rendered: %r", text[:500])


CASES = [test_every_help_flag_in_the_page, test_every_page_flag_in_help, test_sections,
         test_renders_without_warnings]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-manpage-", tools=("groff", "man"),
                                    files=((PAGE, "it is in the repository"),))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
