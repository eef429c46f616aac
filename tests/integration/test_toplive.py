#!/usr/bin/env python3
"""--top-live: the full-screen view, run in a tmux server of this test's
own (its own socket name, killed at the end of each case), read with
`tmux capture-pane -p` and driven with `tmux send-keys`, in the network lab
(lab.py: dig in a client namespace, nsd in a server namespace; the lab's
cgroup traced with --cgroup, so the counts are the cases' own).

The view runs as `sh -c 'dnssnoop ...; echo rc=$?; stty -a > FILE; echo
done; sleep'`: once dnssnoop has ended, the pane shows its exit status and
FILE says whether the terminal's modes came back (icanon, echo).

Cases:
  live_tables_and_keys    dig traffic with known names and counts: the dig
                          process, the name, the server and an NXDOMAIN
                          name in the failing table; Tab and 1-5 switch
                          tables, s sorts, / filters (Enter applies, Esc
                          clears), p pauses (counts held on screen), q
                          quits with exit status 0 and the terminal restored
  sigterm_restores        SIGTERM ends the view; the terminal is restored
  replay_shows_top_name   -r of two gen-pcap captures merged, --pace: the
                          names table's first row is the name that one of
                          them asks all the time; the end of the input
                          ends the view and restores the terminal
  no_terminal_exits_2     standard output or input not a terminal: exit 2
                          with the message, nothing drawn
  process_unit            dig in the cgroup /system.slice/demo.service
                          (test_identity.py's): its processes row says
                          demo.service under UNIT/CONTAINER, the
                          filter / finds the row by it, and u groups the
                          table: a row demo.service of 1 process
Needs root (BPF, namespaces, cgroups) and tmux.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from runner import REPO, TRACER, check  # noqa: E402
from test_identity import DEMO, Demo  # noqa: E402

TMUX = "/usr/bin/tmux"
DIG = ["+tries=1", "+timeout=2", "+short"]
GEN_PCAP = os.path.join(REPO, "tools", "gen-pcap")
NUM_COLUMNS = 9  # Q/S QUERIES NOERROR NXDOMAIN SERVFAIL OTHER FAIL P50 P99


class Tmux:
    """One tmux server (socket name of its own) running one command in a 160x50 pane."""

    seq = 0

    def __init__(self, command):
        Tmux.seq += 1
        self.sock = "dnssnoop-toplive-%d-%d" % (os.getpid(), Tmux.seq)
        self.tmux(["new-session", "-d", "-x", "160", "-y", "50", command])

    def tmux(self, args):
        return subprocess.run([TMUX, "-L", self.sock] + args, check=True, timeout=10,
                              stdout=subprocess.PIPE, text=True).stdout

    def screen(self):
        return self.tmux(["capture-pane", "-p"])

    def keys(self, *keys, literal=False):
        self.tmux(["send-keys"] + (["-l"] if literal else []) + ["--"] + list(keys))

    def wait_for(self, pred, what, timeout=15):
        """The screen once pred(screen) holds; AssertionError with the last screen if never."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen()
            if pred(s):
                return s
            if time.monotonic() > deadline:
                raise AssertionError("%s: not on screen within %ds:\n%s" % (what, timeout, s))
            time.sleep(0.2)

    def pane_pid(self):
        return int(self.tmux(["display-message", "-p", "#{pane_pid}"]).strip())

    def kill(self):
        subprocess.run([TMUX, "-L", self.sock, "kill-server"], stderr=subprocess.DEVNULL,
                       timeout=10)


def view_command(args, stty_file):
    """sh running the view, then saying how it ended and how the terminal is."""
    return ("sh -c '%s %s; echo rc=$?; stty -a > %s; echo done; sleep 600'"
            % (TRACER, " ".join(args), stty_file))


def table(screen):
    """(key, owner, [columns]) of each table row on screen: a key, the
    processes' UNIT/CONTAINER (None in the other tables), the numeric columns."""
    for line in screen.splitlines()[4:-1]:
        f = line.split()
        owner = f.pop(1) if len(f) == 2 + NUM_COLUMNS else None
        if len(f) == 1 + NUM_COLUMNS and re.match(r"^[0-9.]+$", f[1]):
            yield f[0], owner, f[1:]


def rows(screen):
    """{key: [columns]} of the table rows on screen."""
    return {key: cols for key, _, cols in table(screen)}


def owners(screen):
    """{key: UNIT/CONTAINER} of the processes' rows on screen."""
    return {key: owner for key, owner, _ in table(screen)}


def first_row(screen):
    lines = [ln for ln in screen.splitlines()[4:-1] if ln.strip()]
    return lines[0].split()[0] if lines else None


def queries(screen, key):
    r = rows(screen).get(key)
    return int(r[1]) if r else None


def check_restored(t, stty_file, want_rc):
    s = t.wait_for(lambda s: re.search(r"^done$", s, re.M), "the shell after dnssnoop")
    check("rc=%d" % want_rc in s, "exit status: want rc=%d:\n%s", want_rc, s)
    check("dnssnoop --top-live" not in s, "the view is still on screen after the exit:\n%s", s)
    with open(stty_file) as f:
        modes = f.read().split()
    check("icanon" in modes and "echo" in modes and "-icanon" not in modes and "-echo" not in modes,
          "terminal not restored: %s", " ".join(modes))


def dig_n(lab, name, n):
    for _ in range(n):
        lab.dig(DIG + [name, "A"])


def start_live(lab, stty_file):
    return Tmux(view_command(["--top-live", "--cgroup", lab.cgroup, "--no-state"], stty_file))


def wait_view(t):
    t.wait_for(lambda s: "dnssnoop --top-live" in s, "the view")


def check_table_switching(t, lab):
    """The tables, by number; the dig process, the server, the failing name."""
    s = t.wait_for(lambda s: any(k.startswith("dig(") for k in rows(s)), "a dig(PID) row")
    check("[1 Processes]" in s, "processes not the first table:\n%s", s)
    t.keys("3")
    s = t.wait_for(lambda s: lab.srv4 in rows(s), "the server %s" % lab.srv4)
    check("[3 Servers]" in s and queries(s, lab.srv4) == 8, "server row:\n%s", s)
    t.keys("4")
    s = t.wait_for(lambda s: "nope.lab.test" in rows(s), "the failing name")
    check(rows(s)["nope.lab.test"][3] == "3" and "www.lab.test" not in rows(s),
          "failing table: want nope.lab.test with 3 NXDOMAIN and no www:\n%s", s)
    t.keys("5")
    s = t.wait_for(lambda s: "www.lab.test" in rows(s), "the slowest table")
    check(rows(s)["www.lab.test"][8] != "-", "no p99 in the slowest table:\n%s", s)
    t.keys("Tab")
    t.wait_for(lambda s: "[1 Processes]" in s, "Tab from the last table to the first")


def check_sort_and_filter(t):
    t.keys("2")
    s = t.wait_for(lambda s: queries(s, "www.lab.test") == 5, "www.lab.test with 5 queries")
    check(first_row(s) == "www.lab.test", "names not by rate (www first):\n%s", s)
    t.keys("s")
    s = t.wait_for(lambda s: "FAIL*" in s and "sort: failures" in s, "sorted by failures")
    check(first_row(s) == "nope.lab.test", "sorted by failures, nope.lab.test not first:\n%s", s)
    t.keys("/")
    t.keys("NOPE", literal=True)
    t.wait_for(lambda s: "filter: NOPE_" in s, "the filter being typed")
    t.keys("Enter")
    s = t.wait_for(lambda s: "filter: NOPE" in s and "www.lab.test" not in rows(s), "the filter")
    check("nope.lab.test" in rows(s), "the filter hides its own match:\n%s", s)
    t.keys("Escape")
    t.wait_for(lambda s: "www.lab.test" in rows(s) and "filter:" not in s, "the filter cleared")


def check_pause(t, lab):
    t.keys("p")
    t.wait_for(lambda s: "[PAUSED]" in s, "PAUSED")
    dig_n(lab, "www.lab.test", 2)
    time.sleep(2.5)  # two seconds of draws that must not happen
    s = t.screen()
    check(queries(s, "www.lab.test") == 5, "paused, yet the counts moved:\n%s", s)
    t.keys("p")
    t.wait_for(lambda s: queries(s, "www.lab.test") == 7 and "[PAUSED]" not in s,
               "the counts kept while paused (7)")


def test_live_tables_and_keys(lab):
    """Rows of every table, then each key's effect, then q."""
    stty_file = os.path.join(lab.tmp, "stty-live")
    t = start_live(lab, stty_file)
    try:
        wait_view(t)
        dig_n(lab, "www.lab.test", 5)
        dig_n(lab, "nope.lab.test", 3)
        check_table_switching(t, lab)
        check_sort_and_filter(t)
        check_pause(t, lab)
        t.keys("q")
        check_restored(t, stty_file, 0)
    finally:
        t.kill()


def test_sigterm_restores(lab):
    """SIGTERM to dnssnoop: it ends as on q, the terminal back in its modes."""
    stty_file = os.path.join(lab.tmp, "stty-term")
    t = start_live(lab, stty_file)
    try:
        wait_view(t)
        kids = labmod.children_of(t.pane_pid())
        check(len(kids) == 1, "want dnssnoop as the shell's one child: %s", kids)
        os.kill(kids[0], signal.SIGTERM)
        check_restored(t, stty_file, 0)
    finally:
        t.kill()


def make_replay(lab):
    """Two captures over the same 6 s: one asks name0.bench.test only, one many names."""
    one = os.path.join(lab.tmp, "one-name.pcap")
    many = os.path.join(lab.tmp, "many-names.pcap")
    for path, extra in ((one, ["--names", "1", "--seed", "5"]), (many, ["--seed", "6"])):
        subprocess.run([GEN_PCAP, "-n", "300", "--gap-us", "20000", "-o", path] + extra,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return one, many


def test_replay_shows_top_name(lab):
    """-r two captures with --pace: name0.bench.test on top of the names; end of input restores."""
    one, many = make_replay(lab)
    stty_file = os.path.join(lab.tmp, "stty-replay")
    t = Tmux(view_command(["--top-live", "--pace", "-r", one, "-r", many], stty_file))
    try:
        wait_view(t)
        t.keys("2")
        s = t.wait_for(lambda s: "[2 Names]" in s and (queries(s, "name0.bench.test") or 0) >= 60,
                       "name0.bench.test counted")
        check(first_row(s) == "name0.bench.test", "top name not name0.bench.test:\n%s", s)
        check_restored(t, stty_file, 0)
    finally:
        t.kill()


def test_no_terminal_exits_2(lab):
    """Not a terminal on standard output (a pipe), or on standard input: exit 2 and why."""
    for stdin in (None, subprocess.DEVNULL):
        p = subprocess.run([TRACER, "--top-live", "--no-state"], stdin=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 2 and "--top-live: needs a terminal" in err,
              "rc %d, stderr %r", p.returncode, err)
        check(p.stdout == b"", "something written to standard output: %r", p.stdout[:200])


def test_process_unit(lab):
    """dig in demo.service: its row's UNIT/CONTAINER is the unit; / finds it by that."""
    stty_file = os.path.join(lab.tmp, "stty-unit")
    with Demo():
        t = Tmux(view_command(["--top-live", "--cgroup", DEMO, "--no-state"], stty_file))
        try:
            wait_view(t)
            d = lab.dig(DIG + ["www.lab.test", "A"], cgroup=DEMO)
            key = "dig(%d)" % d.pid
            s = t.wait_for(lambda s: owners(s).get(key) == "demo.service", "demo.service on dig")
            check("UNIT/CONTAINER" in s, "no UNIT/CONTAINER column:\n%s", s)
            t.keys("/")
            t.keys("demo.serv", literal=True)
            t.keys("Enter")
            s = t.wait_for(lambda s: "filter: demo.serv" in s and "_" not in s.splitlines()[-1],
                           "the filter applied")
            check(key in rows(s), "the filter on the unit hides its row:\n%s", s)
            t.keys("u")
            s = t.wait_for(lambda s: "by unit/container" in s and
                           re.search(r"^demo\.service +1 process +[0-9.]+ +1 ", s, re.M),
                           "the row of demo.service, grouped")
            check(key not in s, "grouped, yet the process's row is shown:\n%s", s)
            t.keys("q")
            check_restored(t, stty_file, 0)
        finally:
            t.kill()


CASES = [test_live_tables_and_keys, test_sigterm_restores, test_replay_shows_top_name,
         test_no_terminal_exits_2, test_process_unit]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces, cgroups",
                                {"tag": "toplive", "cgroup": True}, tools=(TMUX,))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
