#!/usr/bin/python3
"""Tests of the state file (--state, docs/state.md): one-shot sessions that
add up to weeks.

The small tools/gen-scenario capture (3 weeks, answer key) is cut into one
pcap per UTC day (tools/split-pcap-days) and read one day per session with
`dnssnoop -r day-N.pcap --state s.db`, in order. Then:
  - `dnssnoop --state s.db --report` finds what one run over the whole
    capture finds: the same findings (kind, target kind, target, client),
    the planted exclusive pair, its business-hours window and the
    replacement with the same figures (docs/state.md, "Tolerances"), the
    same case scores, and nothing the key forbids;
  - the last day's own session, with the history loaded, ends with the same
    findings as the whole capture (a target seen before is not new, the
    population counts the stored days);
  - --since keeps only the last days (fewer lookups judged);
and the faults:
  - two sessions folding into one new state file at once: both folded;
  - a session SIGKILLed in the middle of its fold (gdb stops it inside the
    fold's SQL statements): the file is the previous state, intact;
  - a full disk (a 256 KiB tmpfs in a private mount namespace): the
    session's own output complete, a message naming the state file, exit
    status 4, the file intact (the previous state);
  - a file that is not ours at the path (text, another program's SQLite
    database, a newer schema): refused with its name, exit status 4, not
    changed.

and live, in the network lab (root; skipped otherwise):
  - three short live sessions, each with the same lookups, folding into one
    state file: the first finds nothing about a name one program alone
    looks up (8 lookups: under --min-lookups), the second finds it with 16
    lookups (8 of them the first session's), the third with 24, first seen
    in the first session; the tracer has dropped its privileges (and runs
    under the seccomp filter) before each fold.

Usage: python3 tests/integration/test_state.py [CASE-SUBSTRING...]
The offline cases need no root (the full disk uses `unshare -rm`); Python 3
standard library and sqlite3 only. The live cases need root.
"""

import datetime
import glob
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from time import time_ns

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
import test_detect  # noqa: E402
from runner import TRACER, check  # noqa: E402
from scenario import Scenarios  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import pcaplib  # noqa: E402

SPLIT = os.path.join(REPO, "tools", "split-pcap-days")
ZONES = test_detect.ZONES
DETECT = ["--no-events", "--top", "0", "--tz", ZONES]
EXIT_STATE = 4


class StateScenarios(Scenarios):
    """The small scenario, its days, and the state file of all its days."""

    def split(self, name, pcap):
        """pcap cut into one file per UTC day (tools/split-pcap-days)."""
        if name not in self.cache:
            out = os.path.join(self.tmp, name)
            p = subprocess.run([SPLIT, pcap, out], stdout=subprocess.PIPE, check=True)
            self.cache[name] = p.stdout.decode().split()
        return self.cache[name]

    def days(self):
        days = self.split("days", self.small()[0])
        check(len(days) >= 20, "days: %d", len(days))
        return days

    def six_weeks(self):
        """tools/gen-scenario's default: six weeks, 220 clients, 5000 names."""
        return self.get("six-weeks")

    def whole(self):
        """The findings and cases of one run over the whole capture."""
        if "whole" not in self.cache:
            pcap, _ = self.small()
            self.cache["whole"] = run(["-r", pcap] + DETECT)
        return self.cache["whole"]

    def folded(self):
        """A state file every day was folded into, one session per day."""
        if "folded" not in self.cache:
            db = os.path.join(self.tmp, "all.db")
            fold_days(db, self.days())
            self.cache["folded"] = db
        return self.cache["folded"]


def run(args, status=0):
    """dnssnoop ARGS; its records."""
    p = subprocess.run([TRACER] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    check(p.returncode == status, "dnssnoop %s: exit %d, want %d: %s", args[-6:],
          p.returncode, status, p.stderr.decode()[-800:])
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def fold_days(db, days, *extra):
    for day in days:
        run(["-r", day, "--state", db, "--no-events", "-o", "/dev/null"] + list(extra))


def of_type(recs, t):
    return [r for r in recs if r["type"] == t]


def fkeys(recs):
    return sorted(test_detect.fkey(f) for f in of_type(recs, "finding"))


# Figures that must agree with one run over the whole capture (docs/state.md).
FIGURES = [("lookups",), ("first_seen",), ("last_seen",), ("npmi",), ("repeat",), ("spread",),
           ("total_lookups",), ("by_target", "lookups"), ("by_target", "distinct_clients"),
           ("by_target", "top_share"), ("by_target", "wilson_lower"),
           ("by_target", "active_clients"), ("by_client", "lookups"),
           ("by_client", "wilson_lower"), ("time_window",), ("periodic",), ("replacement",)]


def figure(f, path):
    for k in path:
        if not isinstance(f, dict) or k not in f:
            return None
        f = f[k]
    return f


def check_same_as_whole(recs, whole, what):
    check(fkeys(recs) == fkeys(whole), "%s: findings differ from one run: only here %s, "
          "only in one run %s", what, sorted(set(fkeys(recs)) - set(fkeys(whole))),
          sorted(set(fkeys(whole)) - set(fkeys(recs))))
    mine = {test_detect.fkey(f): f for f in of_type(recs, "finding")}
    for f in of_type(whole, "finding"):
        g = mine[test_detect.fkey(f)]
        for path in FIGURES:
            a, b = figure(g, path), figure(f, path)
            same = test_detect.close(a, b, 1e-9) if isinstance(a, float) else a == b
            check(same, "%s: %s %s: %s, one run %s", what, test_detect.fkey(f),
                  ".".join(path), a, b)
    scores = [c["score"] for c in of_type(recs, "case")]
    check(scores == [c["score"] for c in of_type(whole, "case")], "%s: case scores %s, one "
          "run %s", what, scores, [c["score"] for c in of_type(whole, "case")])


def table_digest(db, *skip):
    """Every row of every table (but skip), hashed: the same file content, as SQL sees it."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    h = hashlib.sha256()
    try:
        check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "%s: not intact",
              db)
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                "ORDER BY name"):
            if t in skip:
                continue
            for row in con.execute("SELECT * FROM %s ORDER BY 1, 2, 3" % t):
                h.update(repr(row).encode())
    finally:
        con.close()
    return h.hexdigest()


def q(db, sql):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def check_consistent(db):
    """The name lookups stored are the folds' lookups: no half fold."""
    # IN, not a join: without statistics SQLite would scan daily once per target.
    stored = q(db, "SELECT coalesce(sum(lookups), 0) FROM daily WHERE target_id IN "
               "(SELECT id FROM targets WHERE kind = 0)")
    folded = q(db, "SELECT coalesce(sum(lookups), 0) FROM folds")
    check(stored == folded, "%s: %d name lookups stored, folds say %d", db, stored, folded)


def check_planted(key, fs, what):
    """The key's patterns in the findings, none it forbids: the exclusive pair
    with its business-hours window (histogram as the key's), the beacon, the
    replacement with its gap."""
    test_detect.check_against_key(key, fs, what)
    pair = test_detect.planted(key, "exclusive")
    name = pair["targets"]["name"]["target"]
    w = test_detect.one(fs, "time_window", "name", name)["time_window"]
    check(w["hour_of_week_utc"] == pair["time_window"]["hour_of_week_utc"],
          "%s: the exclusive pair's histogram differs from the key's", what)
    moscow = [z for z in w["zones"] if z["zone"] == "Europe/Moscow"]
    check(moscow and moscow[0]["business_hours"] and w["concentrated"],
          "%s: exclusive pair window %s", what, w)
    beacon = test_detect.planted(key, "beacon")["pair"]["name"]
    test_detect.one(fs, "periodic", "name", beacon)
    r = test_detect.planted(key, "replacement")
    old = r["old"]["targets"]["name"]["target"]
    got = test_detect.one(fs, "replacement", "name", old)["replacement"]
    check(got["new_target"] == r["new"]["targets"]["name"]["target"]
          and got["gap_ns"] == r["gap_ns"], "%s: replacement %s -> %s gap %d, key %d", what,
          old, got["new_target"], got["gap_ns"], r["gap_ns"])


# ---------------------------------------------------------------- cases

def test_report_equals_one_run(sc):
    _, key = sc.small()
    recs = run(["--state", sc.folded(), "--report"] + DETECT[3:])
    check(all(r["type"] in ("finding", "case") for r in recs), "report: other records %s",
          {r["type"] for r in recs})
    check_same_as_whole(recs, sc.whole(), "--report over %d days" % len(sc.days()))
    check_planted(key, of_type(recs, "finding"), "--report")
    check_consistent(sc.folded())


def check_time_records_tolerance(recs, whole, what):
    """With the default pool of time records (--time-records 4096), a pair
    of one run over six weeks may get its record late (the pool held by
    heavier pairs when it began): its time_window counts fewer lookups and
    its spread fewer slices. A report over daily folds judges every stored
    timestamp (docs/state.md, "Tolerances"): it counts them all, and its
    spread is never smaller. Everything else is the same."""
    check(fkeys(recs) == fkeys(whole), "%s: findings differ: %s", what,
          sorted(set(fkeys(recs)) ^ set(fkeys(whole))))
    mine = {test_detect.fkey(f): f for f in of_type(recs, "finding")}
    late = 0
    for f in of_type(whole, "finding"):
        g = mine[test_detect.fkey(f)]
        w, v = f.get("time_window"), g.get("time_window")
        if w and w["lookups_counted"] < f["lookups"]:
            late += 1
            check(v["lookups_counted"] == g["lookups"], "%s: %s: counted %d of %d", what,
                  test_detect.fkey(f), v["lookups_counted"], g["lookups"])
        elif w:
            check(v == w, "%s: %s: time_window differs", what, test_detect.fkey(f))
        check(g["spread"] >= f["spread"], "%s: %s: spread %d, one run %d", what,
              test_detect.fkey(f), g["spread"], f["spread"])
        for path in FIGURES:
            if path not in (("spread",), ("time_window",)):
                check(figure(g, path) == figure(f, path), "%s: %s %s differs", what,
                      test_detect.fkey(f), ".".join(path))
    return late


def test_six_weeks_in_daily_sessions(sc):
    """tools/gen-scenario's six weeks cut into 42 daily captures, read one
    per session into one state file, in order: the report finds every
    planted pattern with the figures of one run over the whole capture
    (with time records for every pair, exactly; with the default pool,
    within its tolerance), and one session over the whole capture folding
    at each --interval close stores what the 42 sessions stored."""
    pcap, key = sc.six_weeks()
    days = sc.split("six-weeks-days", pcap)
    check(len(days) == 42, "six weeks: %d daily files", len(days))
    db = os.path.join(sc.tmp, "six-weeks.db")
    fold_days(db, days)
    check_consistent(db)
    every = ["--time-records", "200000"]
    recs = run(["--state", db, "--report"] + every + DETECT[3:])
    check_same_as_whole(recs, run(["-r", pcap] + every + DETECT), "six weeks, 42 sessions")
    check_planted(key, of_type(recs, "finding"), "six weeks, 42 sessions")
    late = check_time_records_tolerance(run(["--state", db, "--report"] + DETECT[3:]),
                                        run(["-r", pcap] + DETECT), "six weeks, default pool")
    check(late > 0, "no pair of the one run got its time record late: the tolerance "
          "is not exercised")
    # One session, folding at each of its daily --interval closes.
    db1 = os.path.join(sc.tmp, "six-weeks-interval.db")
    run(["-r", pcap, "--state", db1, "--interval", "86400", "--no-events", "-o",
         "/dev/null"])
    check(q(db1, "SELECT count(*) FROM folds WHERE lookups > 0") == 42,
          "--interval 86400: %d folds with lookups, want 42",
          q(db1, "SELECT count(*) FROM folds WHERE lookups > 0"))
    check(table_digest(db1, "folds") == table_digest(db, "folds"),
          "--interval folds stored other counts than the 42 sessions")


TARGET_KINDS = ("name", "domain", "peer")  # targets.kind 0, 1, 2 (docs/state.md)


def stored_targets(db, where="1"):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return {(TARGET_KINDS[k], t) for k, t in
                con.execute("SELECT kind, text FROM targets WHERE " + where)}
    finally:
        con.close()


def copy_state(src, dst):
    """A consistent copy (the WAL included) through SQLite's backup."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def write_lookups(path, qname, client, t0_ns, n):
    """n lookups of qname by client, a minute apart from t0_ns (tools/pcaplib)."""
    server = pcaplib.ip_bytes("192.0.2.53")
    with open(path, "wb") as f:
        w = pcaplib.PcapWriter(f, 1, "ns", 0)
        for i in range(n):
            msg = pcaplib.query_message(100 + i, qname, "A", 0)
            l3, fam = pcaplib.udp_packet(pcaplib.ip_bytes(client), server, 40000 + i, 53, msg)
            w.packet(t0_ns + i * 60 * 10**9, pcaplib.link_frame("ethernet", l3, fam, True, 0))


def first_seen_set(recs):
    return {(f["target_kind"], f["target"]) for f in of_type(recs, "finding")
            if f["kind"] == "first_seen"}


def test_first_seen(sc):
    """The small scenario's first 10 days folded, then one session over the
    other 11 (where the replacement's new name appears): by default the
    first_seen findings are the new targets that another finding is about,
    the successor's name among them with its first client and first lookup
    (the key's); with --first-seen, every target the file did not hold;
    --report's "now" is the newest fold; a first session has no history
    and so no first_seen; --first-seen without a state file is refused."""
    _, key = sc.small()
    days = sc.days()
    db, db_all = os.path.join(sc.tmp, "fs.db"), os.path.join(sc.tmp, "fs-all.db")
    fold_days(db, days[:10])
    check(not first_seen_set(run(["--state", db, "--report", "--first-seen"] + DETECT[3:]))
          - stored_targets(db), "report: first_seen of a target not stored")
    copy_state(db, db_all)
    known = stored_targets(db)
    rest = [a for d in days[10:] for a in ("-r", d)]
    recs = run(rest + ["--state", db] + DETECT)
    new = stored_targets(db) - known
    got = first_seen_set(recs)
    others = of_type(recs, "finding")
    about = {(f["target_kind"], f["target"]) for f in others if f["kind"] != "first_seen"}
    about |= {(f["target_kind"], f["replacement"]["new_target"]) for f in others
              if f["kind"] == "replacement"}
    check(got and got <= new & about, "first_seen %s: not new or in no pattern %s", got,
          got - (new & about))
    check(got == new & about, "first_seen misses new targets in patterns: %s",
          (new & about) - got)
    r = test_detect.planted(key, "replacement")["new"]
    name = r["targets"]["name"]["target"]
    f = test_detect.one(others, "first_seen", "name", name)
    check(f["client"]["label"] == r["first_client"] and
          iso_ns(f["new_target"]["first_seen"]) == r["first_ns"] and
          f["history"]["targets"] == len(known) and f["thresholds"]["listed"] == "in_pattern",
          "first_seen %s: %s", name, f)
    check(not [c for c in of_type(recs, "case") for x in c.get("findings", [])
               if x.get("kind") == "first_seen"], "a case holds a first_seen finding")
    # --first-seen: the whole list, exactly the targets the file did not hold.
    every = first_seen_set(run(rest + ["--state", db_all, "--first-seen"] + DETECT))
    check(every == stored_targets(db_all) - known and len(every) > len(got),
          "--first-seen: %d listed, %d new targets", len(every),
          len(stored_targets(db_all) - known))
    # --report: now is the newest fold, the 11-day session.
    rep = first_seen_set(run(["--state", db_all, "--report", "--first-seen"] + DETECT[3:]))
    newest = q(db_all, "SELECT first_ns FROM folds WHERE lookups > 0 ORDER BY id DESC LIMIT 1")
    check(rep == stored_targets(db_all, "first_ns >= %d" % newest),
          "--report --first-seen: %d listed, %d first stored by the newest fold", len(rep),
          len(stored_targets(db_all, "first_ns >= %d" % newest)))
    # The newest fold's very first lookup is of a new name: first seen too.
    fresh = os.path.join(sc.tmp, "fresh.pcap")
    at = q(db_all, "SELECT max(last_ns) FROM targets") + 86400 * 10**9
    write_lookups(fresh, "fresh-name.example.org", "10.9.9.9", at, 3)
    fold_days(db_all, [fresh])
    rep = first_seen_set(run(["--state", db_all, "--report", "--first-seen"] + DETECT[3:]))
    check(("name", "fresh-name.example.org") in rep and len(rep) <= 3,
          "--report after a fold of one new name: first_seen %s", rep)
    p = subprocess.run([TRACER, "--state", db_all, "--report", "--first-seen", "--format",
                        "text"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    check("finding first_seen name fresh-name.example.org client 10.9.9.9 lookups 3 "
          in p.stdout.decode(), "text report: no first_seen line: %s", p.stdout.decode()[-600:])
    # A first session: no history, so nothing is first seen.
    empty = os.path.join(sc.tmp, "fs-empty.db")
    check(not first_seen_set(run(["-r", days[0], "--state", empty, "--first-seen"] + DETECT)),
          "first_seen without a history")
    run(["-r", days[0], "--first-seen"] + DETECT, status=2)


def test_text_report(sc):
    p = subprocess.run([TRACER, "--state", sc.folded(), "--report", "--format", "text"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    check(p.returncode == 0 and "planted-example.com" in p.stdout.decode(),
          "text report: exit %d: %s %s", p.returncode, p.stdout.decode()[:300],
          p.stderr.decode()[-300:])


def test_session_sees_history(sc):
    days = sc.days()
    db = os.path.join(sc.tmp, "history.db")
    fold_days(db, days[:-1])
    recs = run(["-r", days[-1], "--state", db] + DETECT)
    check_same_as_whole(recs, sc.whole(), "the last day's session with the history")
    # Without the history the last day alone finds nothing of the planted pair.
    alone = fkeys(run(["-r", days[-1]] + DETECT))
    check(alone != fkeys(sc.whole()), "the last day alone already finds everything")


def test_since(sc):
    recs = run(["--state", sc.folded(), "--report", "--since", "3d"] + DETECT[3:])
    whole = of_type(sc.whole(), "finding")
    n = [f["total_lookups"] for f in of_type(recs, "finding")]
    check(not n or n[0] < whole[0]["total_lookups"] / 3,
          "--since 3d judged %s lookups of %d", n[:1], whole[0]["total_lookups"])
    run(["--state", sc.folded(), "--report", "--since", "3x"], status=2)
    run(["-r", sc.days()[0], "--since", "3d"], status=2)
    run(["--report"], status=2)


def test_concurrent_folds(sc):
    days = sc.days()
    db = os.path.join(sc.tmp, "both.db")
    procs = [subprocess.Popen([TRACER, "-r", d, "--state", db, "--no-events", "-o",
                               "/dev/null"], stderr=subprocess.PIPE) for d in days[3:5]]
    for p in procs:
        _, err = p.communicate(timeout=300)
        check(p.returncode == 0, "concurrent fold: exit %d: %s", p.returncode,
              err.decode()[-500:])
    check(q(db, "SELECT count(*) FROM folds") == 2, "folds: %s", q(db, "SELECT count(*) FROM folds"))
    check_consistent(db)
    one = os.path.join(sc.tmp, "sequential.db")
    fold_days(one, days[3:5])
    for sql in ("SELECT sum(lookups) FROM daily", "SELECT count(*) FROM pairs",
                "SELECT count(*) FROM clients", "SELECT count(*) FROM targets"):
        check(q(db, sql) == q(one, sql), "%s: %s at once, %s one after the other", sql,
              q(db, sql), q(one, sql))


def test_sigkill_mid_fold(sc):
    days = sc.days()
    db = os.path.join(sc.tmp, "killed.db")
    fold_days(db, days[:1])
    before = table_digest(db)
    # Stop inside the fold, 300 SQL steps in (the transaction is open), and SIGKILL.
    gdb = ["gdb", "-q", "-batch", "-ex", "set breakpoint pending on",
           "-ex", "break state_fold", "-ex", "run", "-ex", "break sqlite3_step",
           "-ex", "ignore 2 300", "-ex", "continue", "-ex", "info frame", "-ex", "kill",
           "--args", TRACER, "-r", days[1], "--state", db, "--no-events", "-o", "/dev/null"]
    p = subprocess.run(gdb, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    out = p.stdout.decode()
    check("Breakpoint 2, " in out and "sqlite3_step" in out,
          "gdb did not stop inside the fold: %s", out[-1500:])
    check(table_digest(db) == before, "the killed fold changed the state file")
    check_consistent(db)
    fold_days(db, days[1:2])
    check(q(db, "SELECT count(*) FROM folds") == 2, "the next fold did not fold")
    check_consistent(db)


def test_full_disk(sc):
    days = sc.days()
    out = os.path.join(sc.tmp, "full")
    os.makedirs(out, exist_ok=True)
    mnt = os.path.join(out, "mnt")
    os.makedirs(mnt, exist_ok=True)
    pcap, _ = sc.small()
    script = ('mount -t tmpfs -o size=256k tmpfs "$1" || exit 99; '
              '"$2" -r "$3" --state "$1/s.db" --no-events -o "$4/ok.jsonl" || exit 98; '
              '"$2" -r "$5" --state "$1/s.db" -o "$4/out.jsonl" --no-events 2>"$4/err"; '
              'echo $? > "$4/rc"; cp "$1"/s.db* "$4"/')
    p = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", mnt, TRACER, days[0],
                        out, pcap], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    check(p.returncode == 0, "unshare/mount: %d %s", p.returncode, p.stderr.decode()[-500:])
    rc = int(open(os.path.join(out, "rc")).read())
    err = open(os.path.join(out, "err")).read()
    check(rc == EXIT_STATE, "full disk: exit %d, want %d: %s", rc, EXIT_STATE, err)
    check("s.db" in err and "full" in err, "full disk: message %r", err)
    recs = [json.loads(line) for line in open(os.path.join(out, "out.jsonl"))]
    check(recs and recs[-1]["type"] == "capture_stats" and of_type(recs, "finding"),
          "full disk: the session's output is not complete: %s",
          [r["type"] for r in recs[-3:]])
    db = os.path.join(out, "s.db")
    check(q(db, "SELECT count(*) FROM folds") == 1, "full disk: folds %s",
          q(db, "SELECT count(*) FROM folds"))
    check_consistent(db)


def test_foreign_files_refused(sc):
    day = sc.days()[0]
    cases = []
    text = os.path.join(sc.tmp, "notes.txt")
    with open(text, "w") as f:
        f.write("my notes, not a database\n")
    cases.append((text, "not an SQLite database"))
    other = os.path.join(sc.tmp, "other.db")
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    cases.append((other, "another program"))
    newer = os.path.join(sc.tmp, "newer.db")
    fold_days(newer, [day])
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 9")
    con.commit()
    con.close()
    cases.append((newer, "newer"))
    for path, words in cases:
        before = open(path, "rb").read()
        for args in (["-r", day, "--state", path, "--no-events"],
                     ["--state", path, "--report"]):
            p = subprocess.run([TRACER] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=300)
            err = p.stderr.decode()
            want = EXIT_STATE
            check(p.returncode == want and path in err and words in err,
                  "%s: exit %d (want %d), message %r", args, p.returncode, want, err)
            check(not p.stdout, "%s: wrote records before refusing", args)
        check(open(path, "rb").read() == before, "%s was changed", path)


def test_mode_and_link(sc):
    day = sc.days()[0]
    db = os.path.join(sc.tmp, "mode.db")
    os.umask(0o022)
    fold_days(db, [day])
    check(os.stat(db).st_mode & 0o777 == 0o600, "mode %o", os.stat(db).st_mode & 0o777)
    link = os.path.join(sc.tmp, "link.db")
    os.symlink(db, link)
    p = subprocess.run([TRACER, "-r", day, "--state", link, "--no-events"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    check(p.returncode == EXIT_STATE and "symbolic link" in p.stderr.decode(),
          "symlink: exit %d %s", p.returncode, p.stderr.decode())
    run(["-r", day, "--state", db, "--no-detect"], status=EXIT_STATE)


# ---------------------------------------------------------------- live cases

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dnsclient.py")
ORDINARY = ["ordinary%d" % i for i in range(1, 6)]
LONELY, SECRET = "lonely", "only-me.lab.test"
PER_SESSION = 8  # 8 of 8 is under --min-lookups (16); 16 of 16 is a finding (Wilson 0.806)


def live_session(lab, db, n):
    """One live session folding into db: five ordinary programs and the lonely one."""
    t = lab.tracer(["--cgroup", lab.cgroup, "--no-events", "--top", "0", "--state", db, "-v"])
    procs = []
    for comm, queries, spacing in [(c, ["www.lab.test,A,3", "mail.lab.test,MX,2",
                                        "txt.lab.test,TXT,1"], 0.1) for c in ORDINARY] + [
            (LONELY, ["%s,A,%d" % (SECRET, PER_SESSION)], 0.07)]:
        argv = ["/usr/bin/python3", CLIENT, "--comm", comm, "--server", lab.srv4,
                "--timeout", "1", "--spacing", str(spacing)] + queries
        procs.append(lab.popen(lab.cli, argv, cgroup=lab.cgroup, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True))
    for p in procs:
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0 and "timeouts 0" in out, "client failed: %s %s", out, err)
    check(t.stop() == 0, "session %d: tracer exit status %s: %s", n, t.returncode,
          t.stderr[-1500:])
    check("folded the session" in t.stderr and "running as uid" in t.stderr,
          "session %d: no fold after the drop: %s", n, t.stderr[-1500:])
    recs = [json.loads(line) for line in t.output().splitlines() if line]
    return recs, [f for f in of_type(recs, "finding") if f["kind"] in (
        "exclusive_target", "mutual") and f["target_kind"] == "name" and f["target"] == SECRET]


def iso_ns(text):
    """2026-12-05T08:23:15.754573Z in ns since the epoch."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp()) * 10**9 + t.microsecond * 1000


def test_live_sessions_see_history(lab):
    """Three live sessions into one state file, each with 8 lookups of a name
    one program alone looks up: the second and third judge the earlier ones'."""
    d = os.path.join(lab.tmp, "state")
    os.makedirs(d, mode=0o700)
    db = os.path.join(d, "live.db")
    starts = []
    for n in (1, 2, 3):
        starts.append(time_ns())
        recs, lonely = live_session(lab, db, n)
        if n == 1:
            check(not lonely, "session 1 (8 lookups) already finds %s: %s", SECRET, lonely)
            continue
        check(len(lonely) == 1, "session %d: want one finding on %s (with the history), got "
              "%s", n, SECRET, of_type(recs, "finding"))
        f = lonely[0]
        bt = f["by_target"]
        want = n * PER_SESSION
        check(f["client"].get("comm") == LONELY and (bt["lookups"], bt["top_lookups"]) ==
              (want, want), "session %d: %s by_target %s: want %d lookups by %s", n,
              f["client"], bt, want, LONELY)
        first = iso_ns(f["first_seen"])
        check(starts[0] <= first < starts[1], "session %d: first seen %s, not in session 1",
              n, f["first_seen"])
    check(q(db, "SELECT count(*) FROM folds") == 3, "folds: %s",
          q(db, "SELECT count(*) FROM folds"))
    check(q(db, "SELECT sum(d.lookups) FROM daily d JOIN targets t ON t.id = d.target_id "
             "WHERE t.kind = 0 AND t.text = '%s'" % SECRET) == 3 * PER_SESSION,
          "stored lookups of %s", SECRET)
    check_consistent(db)


VAR_LIB = "/var/lib/dnssnoop"
VAR_LIB_BEFORE = os.path.exists(VAR_LIB)


def test_default_state_file(lab):
    """A live root session with the statistics and neither --state nor
    --no-state folds into the default file (here in DNSSNOOP_STATE_DIR):
    the directory made 0700, the file 0600; --no-state, a session without
    the statistics and -r leave it alone; nothing is written to
    /var/lib/dnssnoop by the tests."""
    d = os.path.join(lab.tmp, "default-dir")
    env = {"DNSSNOOP_STATE_DIR": d}
    db = os.path.join(d, "state.db")
    pcap = os.path.join(lab.tmp, "default.pcap")

    def session(args, state, digs=2):
        t = lab.tracer(["--cgroup", lab.cgroup, "-v"] + args, env=env, state=state)
        for _ in range(digs):
            dg = lab.dig(["+tries=1", "www.lab.test", "A"], cgroup=lab.cgroup)
            check(dg.rc == 0, "dig failed: %s", dg.err)
        check(t.stop() == 0, "tracer exit %s: %s", t.returncode, t.stderr[-1500:])
        return t

    t = session(["--no-events", "-w", pcap], True)
    check("(the default; --no-state: none)" in t.stderr and "folded the session" in t.stderr,
          "the default file was not used: %s", t.stderr[-1500:])
    check(os.stat(d).st_mode & 0o777 == 0o700, "directory mode %o", os.stat(d).st_mode & 0o777)
    check(os.stat(db).st_mode & 0o777 == 0o600, "file mode %o", os.stat(db).st_mode & 0o777)
    check(q(db, "SELECT count(*) FROM folds") == 1, "folds %s", q(db, "SELECT count(*) FROM folds"))
    # A second one loads the first's history.
    t = session(["--no-events"], True)
    loaded = re.search(r"(\d+) pairs of history loaded", t.stderr)
    check(loaded and int(loaded.group(1)) > 0 and "folded the session" in t.stderr,
          "the first session's history not loaded: %s", t.stderr[-800:])
    check(q(db, "SELECT count(*) FROM folds") == 2, "folds %s", q(db, "SELECT count(*) FROM folds"))
    for args, state, why in ((["--no-events"], False, "--no-state (lab.Tracer's default)"),
                             ([], True, "no statistics (events only)")):
        t = session(args, state, 1)
        check("state file" not in t.stderr, "%s: %s", why, t.stderr[-800:])
        check(q(db, "SELECT count(*) FROM folds") == 2, "%s folded", why)
    # -r never uses the default.
    other = os.path.join(lab.tmp, "default-dir-r")
    p = subprocess.run([TRACER, "-r", pcap, "--no-events", "-v"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60,
                       env=dict(os.environ, DNSSNOOP_STATE_DIR=other))
    check(p.returncode == 0 and not os.path.exists(other) and b"state file" not in p.stderr,
          "-r: exit %d, %s: %s", p.returncode, os.path.exists(other), p.stderr[-500:])
    check(VAR_LIB_BEFORE or not os.path.exists(VAR_LIB), "the tests made %s", VAR_LIB)


LIVE_CASES = [test_live_sessions_see_history, test_default_state_file]


CASES = [test_report_equals_one_run, test_six_weeks_in_daily_sessions, test_first_seen, test_text_report, test_session_sees_history, test_since,
         test_concurrent_folds, test_sigkill_mid_fold, test_full_disk,
         test_foreign_files_refused, test_mode_and_link]


def main(argv):
    """The offline cases; the live ones (LIVE_CASES) run from test_state_live.py,
    so that each file ends with one cases line for tools/run-tests."""
    return runner.run_offline_tests(argv, CASES, "dnssnoop-state-", tools=("gdb", "unshare"),
                                    make_arg=StateScenarios)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
