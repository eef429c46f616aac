#!/usr/bin/python3
"""Integration tests: what is made from the option table against `dnssnoop --help`.

The man page (build/dnssnoop.8) and the bash completion
(build/completion/dnssnoop) are written by tools/cli-doc from the table
that --help prints; docs/output.md's flag table is written by hand. Needs
no root and never skips (man-db, groff-base and bash-completion are in the
Makefile's TEST_PKGS).
  - Every flag `--help` prints (long and short, with its argument) has its
    entry in the man page's OPTIONS section, and every entry there is a
    flag of `--help`: neither side can gain a flag the other misses. The
    same for docs/output.md's "Command line" table.
  - The page renders without a warning, by groff (-ww) and by man
    (--warnings), and says the version --version prints.
  - It has the sections a reader looks for.
  - bash, with Debian's bash-completion, offers every flag for "-", the
    choices the parser takes for an option with choices, and files for -r.

Usage: python3 tests/integration/test_manpage.py [CASE-SUBSTRING...]
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from runner import REPO, Run, check  # noqa: E402

PAGE = os.path.join(REPO, "build", "dnssnoop.8")
COMPLETION = os.path.join(REPO, "build", "completion", "dnssnoop")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
DOCS = os.path.join(REPO, "docs", "output.md")
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


def test_page_version(tmp):
    run = Run(["--version"], text=True).ok()
    version = run.stdout.split()[1]
    with open(PAGE, encoding="utf-8") as f:
        th = [line for line in f if line.startswith(".TH ")]
    check(len(th) == 1 and '"dnssnoop %s"' % version in th[0], ".TH %r, version %s", th,
          version)


def docs_flags():
    """{long flag}: the first cells of docs/output.md's "Command line" table."""
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    flags = set()
    for line in section.splitlines():
        if line.startswith("| `-"):
            first = line.split(" | ", 1)[0]
            flags.update(re.findall(r"--[a-z][a-z-]*", first))
    check(len(flags) > 40, "only %d flags found in docs/output.md", len(flags))
    return flags


def test_docs_table_has_every_flag(tmp):
    want = {f[1] for f in help_flags()}
    have = docs_flags()
    check(want == have, "docs/output.md's table lacks %s and has unknown %s",
          sorted(want - have), sorted(have - want))


def complete(tmp, *words):
    """What bash offers for the last of words (dnssnoop WORD... CUR)."""
    line = " ".join(("dnssnoop",) + words)
    script = ('source %s; source %s; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; '
              'COMP_POINT=${#COMP_LINE}; _dnssnoop; printf "%%s\\n" "${COMPREPLY[@]}"' %
              (BASH_COMPLETION, COMPLETION, " ".join("'%s'" % w for w in ("dnssnoop",) + words),
               len(words), "'%s'" % line))
    p = subprocess.run(["bash", "-c", script], cwd=tmp, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    check(p.returncode == 0 and p.stderr == "", "bash: exit %d: %s", p.returncode, p.stderr)
    return set(w for w in p.stdout.splitlines() if w)


def test_completion_offers_every_flag(tmp):
    want = set()
    for short, long_, _arg in help_flags():
        want.add(long_)
        if short:
            want.add(short)
    have = complete(tmp, "-")
    check(want == have, "completion of '-' lacks %s and offers unknown %s", sorted(want - have),
          sorted(have - want))
    check(complete(tmp, "--top-l") == {"--top-live"}, "--top-l: %s",
          complete(tmp, "--top-l"))


def parser_choices(flag):
    """The values the parser names when refusing one: "'x' is not a, b or c"."""
    run = Run([flag, "bogus-value"], text=True)
    check(run.rc == 2, "%s bogus-value: exit %s", flag, run.rc)
    m = re.search(r"is not (.*)$", run.stderr.splitlines()[0])
    check(m, "%s: %r", flag, run.stderr)
    return set(re.split(r", | or ", m.group(1)))


def test_completion_offers_the_parsers_choices(tmp):
    for flag in ("--format", "--hook", "--tc-attach", "--seccomp"):
        have = complete(tmp, flag, "")
        want = parser_choices(flag)
        check(have == want, "%s: completion offers %s, the parser takes %s", flag,
              sorted(have), sorted(want))
    check(complete(tmp, "--dir", "e") == {"egress"}, "--dir e")


def test_completion_of_files(tmp):
    for name in ("cap.pcap", "capture.jsonl", "other"):
        open(os.path.join(tmp, name), "w").close()
    have = complete(tmp, "-r", "cap")
    check(have == {"cap.pcap", "capture.jsonl"}, "-r cap: %s", have)
    check(complete(tmp, "-w", "oth") == {"other"}, "-w oth")
    check(not complete(tmp, "--top", ""), "--top takes a number: nothing to offer")


CASES = [test_every_help_flag_in_the_page, test_every_page_flag_in_help, test_sections,
         test_renders_without_warnings, test_page_version, test_docs_table_has_every_flag,
         test_completion_offers_every_flag, test_completion_offers_the_parsers_choices,
         test_completion_of_files]


def main(argv):
    return runner.run_offline_tests(argv, CASES, "dnssnoop-manpage-",
                                    tools=("groff", "man", "bash"),
                                    files=((PAGE, "make builds it"), (COMPLETION, "make builds it"),
                                           (BASH_COMPLETION, "make deps installs it")))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
