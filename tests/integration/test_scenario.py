#!/usr/bin/python3
"""Tests of tools/gen-scenario, the generator of weeks-long DNS captures with
planted communication patterns, against two independent readers
of its pcaps: build/dnssnoop's statistics (-r FILE --no-events --top 0,
docs/output.md) and tshark.

Needs no root and never skips (a missing tshark or dnssnoop is a failure).
Python 3 standard library only.

What is checked:
  - the answer key's per-target and per-client query counts, first times
    and rcodes equal dnssnoop's name_stats and client_name pair_stats;
  - tshark reads every packet as DNS with good IPv4 and UDP checksums, and
    its own decoding of the planted lookups gives the key's counts and
    times; from tshark's timestamps this test checks, by itself, that the
    exclusive lookups are in weekday business hours in Europe/Moscow, that
    the beacon's intervals are 300 s +- 5 %, and the replacement's gap;
  - the key's figures for the default parameters equal values worked out
    by hand (shares, HHI, Wilson bound, weighted Jaccard, containment);
  - in dnssnoop's client_name table, no name but the planted ones is
    looked up almost only by one client (Wilson bound < 0.8), and with
    --no-plant none is and no planted name appears at all;
  - registered domains in the key agree with the Public Suffix List file;
  - same seed, same bytes; another seed, another file;
  - the default scenario (6 weeks) is a few hundred thousand packets and
    is written in well under a minute.

Usage: python3 tests/integration/test_scenario.py [CASE-SUBSTRING...]
Prints PASS/FAIL per case and "cases: P passed, F failed, S skipped";
exits 1 if a case failed.
"""

import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
from scenario import SMALL, Scenarios, close, generate  # noqa: E402
from runner import TRACER, check, ns_to_rfc3339  # noqa: E402

PSL_FILE = "/usr/share/publicsuffix/public_suffix_list.dat"

EXCLUSIVE = "mail1.planted-example.com"
BEACON = "update.beacon-example.net"
OLD, NEW = "mail1.replaced-example.co.uk", "mail2.successor-example.com"
PLANTED = (EXCLUSIVE, BEACON, OLD, NEW)



# ---------------------------------------------------------------- helpers


def dnssnoop_stats(path):
    """dnssnoop -r PATH --no-events --top 0: {"name": {name: rec},
    "client_name": {(client, name): rec}, "capture": rec}."""
    p = subprocess.run([TRACER, "-r", path, "--no-events", "--top", "0"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    check(p.returncode == 0, "dnssnoop -r %s exited %d: %s", path, p.returncode,
          p.stderr.decode()[-1000:])
    out = {"name": {}, "client_name": {}, "capture": None}
    for line in p.stdout.decode().splitlines():
        r = json.loads(line)
        if r.get("others"):
            check(r["queries"] == 0 or r["type"] not in ("name_stats", "pair_stats"),
                  "--top 0 left entries in an others record: %s", line[:300])
            continue
        if r["type"] == "name_stats":
            out["name"][r["name"]] = r
        elif r["type"] == "pair_stats" and r["pair"] == "client_name":
            out["client_name"][r["client"], r["name"]] = r
        elif r["type"] == "capture_stats":
            out["capture"] = r
    check(out["capture"] is not None, "no capture_stats record")
    return out


def tshark_dns(path):
    """Every packet as tshark decodes it, checksums verified: a list of
    dicts (ts_ns, src, id, qr, qname, rcode, ipsum, udpsum, malformed)."""
    fields = ["frame.time_epoch", "ip.src", "ipv6.src", "dns.id", "dns.flags.response",
              "dns.qry.name", "dns.flags.rcode", "ip.checksum.status", "udp.checksum.status",
              "_ws.malformed"]
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.check_checksum:TRUE", "-o",
           "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=/t"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    check(p.returncode == 0, "tshark failed: %s", p.stderr.decode()[-1000:])
    rows = []
    for line in p.stdout.decode().splitlines():
        v = line.split("\t")
        v += [""] * (len(fields) - len(v))
        sec, _, frac = v[0].partition(".")
        rows.append({"ts_ns": int(sec) * 10**9 + int((frac + "000000000")[:9]),
                     "src": v[1] or v[2], "id": v[3], "qr": v[4], "qname": v[5].lower(),
                     "rcode": v[6], "ipsum": v[7], "udpsum": v[8], "malformed": v[9]})
    return rows


def wilson_lower(k, n, z=1.959963984540054):
    p = k / n
    return ((p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)))
            / (1 + z * z / n))


def planted(key, kind):
    got = [p for p in key["planted"] if p["kind"] == kind]
    check(len(got) == 1, "key: want one planted %s, got %d", kind, len(got))
    return got[0]


def planted_targets(key):
    """[(TARGET figures)] for every planted name target in the key."""
    out = []
    for p in key["planted"]:
        if p["kind"] in ("exclusive", "beacon"):
            out.append(p["targets"]["name"])
        elif p["kind"] == "replacement":
            out += [p["old"]["targets"]["name"], p["new"]["targets"]["name"]]
    return out



# ---------------------------------------------------------------- cases

def test_key_agrees_with_dnssnoop(sc):
    """name_stats queries, first_seen and rcodes per planted name, and
    client_name queries and first_seen per planted client x name, are the
    key's; capture_stats counts every message of the file."""
    path, key = sc.small()
    st = dnssnoop_stats(path)
    f = key["file"]
    cap = st["capture"]
    check(cap["messages"] == f["queries"] + f["responses"] == f["packets"],
          "capture_stats messages %s, key queries %d + responses %d, packets %d",
          cap["messages"], f["queries"], f["responses"], f["packets"])
    check(cap["decode_errors"] == 0, "decode errors: %s", cap)
    targets = planted_targets(key)
    check(len(targets) == 4, "key: %d planted name targets", len(targets))
    for t in targets:
        r = st["name"].get(t["target"])
        check(r is not None, "dnssnoop has no name_stats for %s", t["target"])
        check(r["queries"] == t["queries"] and r["queries_error"] == 0,
              "%s: dnssnoop queries %d (error %d), key %d", t["target"], r["queries"],
              r["queries_error"], t["queries"])
        check(r["first_seen"] == t["first"], "%s: first_seen %s, key %s", t["target"],
              r["first_seen"], t["first"])
        for rc in ("NOERROR", "NXDOMAIN"):
            check(r["rcodes"][rc] == t["rcodes"].get(rc, 0), "%s: %s responses %d, key %d",
                  t["target"], rc, r["rcodes"][rc], t["rcodes"].get(rc, 0))
        for client, e in t["clients"].items():
            p = st["client_name"].get((client, t["target"]))
            check(p is not None, "no client_name entry %s x %s", client, t["target"])
            check(p["queries"] == e["queries"] and p["queries_error"] == 0,
                  "%s x %s: dnssnoop queries %d, key %d", client, t["target"], p["queries"],
                  e["queries"])
            check(p["first_seen"] == e["first"], "%s x %s: first_seen %s, key %s", client,
                  t["target"], p["first_seen"], e["first"])
        others = [c for (c, n) in st["client_name"] if n == t["target"]
                  and c not in t["clients"]]
        check(not others, "%s: clients not in the key: %s", t["target"], others)
    # The spam filter: every one of its names once.
    spam = planted(key, "spam_filter")
    mine = [r for (c, _), r in st["client_name"].items() if c == spam["client"]]
    check(len(mine) == spam["distinct_names"] == spam["lookups"] > 100
          and all(r["queries"] == 1 for r in mine),
          "spam filter: %d names in dnssnoop, key %d names, %d lookups", len(mine),
          spam["distinct_names"], spam["lookups"])


def test_tshark_reads_every_packet(sc):
    """tshark decodes every packet as DNS, IPv4 and UDP checksums good, and
    its queries per planted name and client are the key's."""
    path, key = sc.small()
    rows = tshark_dns(path)
    f = key["file"]
    check(len(rows) == f["packets"], "tshark read %d packets, key %d", len(rows), f["packets"])
    check(all(r["qname"] and r["qr"] in ("0", "1") for r in rows), "a packet is not DNS")
    check(all(r["udpsum"] == "1" for r in rows), "bad or unchecked UDP checksums: %s",
          Counter(r["udpsum"] for r in rows))
    check(all(r["ipsum"] in ("1", "") for r in rows), "bad IPv4 checksums")
    check(not any(r["malformed"] for r in rows), "malformed packets")
    queries = [r for r in rows if r["qr"] == "0"]
    check(len(queries) == f["queries"], "tshark queries %d, key %d", len(queries), f["queries"])
    check(ns_to_rfc3339(rows[0]["ts_ns"]) == f["first_packet"]
          and ns_to_rfc3339(rows[-1]["ts_ns"]) == f["last_packet"], "first/last packet times")
    check(all(a["ts_ns"] <= b["ts_ns"] for a, b in zip(rows, rows[1:])),
          "packets out of time order")
    for t in planted_targets(key):
        got = Counter(r["src"] for r in queries if r["qname"] == t["target"])
        want = {c: e["queries"] for c, e in t["clients"].items()}
        check(got == want, "%s: tshark queries by client %s, key %s", t["target"], dict(got),
              want)


def test_planted_timing_from_tshark(sc):
    """From tshark's timestamps alone: the exclusive pair's lookups are on
    weekdays between 09:00 and 18:00 in Moscow over more than two weeks; the
    beacon's intervals are 300 s +- 5 % for 3 days; the new name appears
    3 days after the old one's last lookup, first asked by the main client."""
    path, key = sc.small()
    queries = [r for r in tshark_dns(path) if r["qr"] == "0"]
    ex = planted(key, "exclusive")
    moscow = ZoneInfo("Europe/Moscow")
    pair = [r for r in queries if r["qname"] == EXCLUSIVE
            and r["src"] in (ex["main_client"], ex["second_client"])]
    check(len(pair) == 60 + 2 + 4, "exclusive: %d queries, want 66 (60 + 2 resent + 4)",
          len(pair))
    for r in pair:
        t = datetime.datetime.fromtimestamp(r["ts_ns"] / 1e9, moscow)
        check(t.weekday() < 5 and 9 <= t.hour < 18, "exclusive lookup at %s Moscow", t)
    spread = (pair[-1]["ts_ns"] - pair[0]["ts_ns"]) / 86400e9
    check(spread > 7, "exclusive lookups span only %.1f days", spread)
    days = {datetime.datetime.fromtimestamp(r["ts_ns"] / 1e9, moscow).date() for r in pair}
    per_day = Counter(datetime.datetime.fromtimestamp(r["ts_ns"] / 1e9, moscow).date()
                      for r in pair)
    check(len(days) >= 5 and len(set(per_day.values())) > 1,
          "not irregular: %d days, per day %s", len(days), sorted(per_day.values()))
    resent = Counter((r["src"], r["id"]) for r in pair)
    check(sorted(resent.values()).count(2) == 2, "want 2 retransmitted ids: %s",
          [k for k, v in resent.items() if v > 1])

    b = planted(key, "beacon")
    ts = [r["ts_ns"] for r in queries if r["qname"] == BEACON]
    check({r["src"] for r in queries if r["qname"] == BEACON} == {b["client"]},
          "beacon from more than its client")
    iv = [(y - x) / 1e9 for x, y in zip(ts, ts[1:])]
    check(all(285 <= x <= 315 for x in iv), "beacon interval out of 300 s +- 5 %%: %s",
          [x for x in iv if not 285 <= x <= 315][:5])
    # It stops at the first lookup due 3 days after the first: one interval
    # (at most 315 s) short of 3 days or less.
    short = 3 * 86400 - (ts[-1] - ts[0]) / 1e9
    check(0 <= short <= 315, "beacon spans 3 days less %.1f s", short)
    med = statistics.median(iv)
    check(abs(med - b["intervals"]["median_s"]) < 1e-6 and 290 < med < 310,
          "beacon median interval %.6f s, key %s", med, b["intervals"]["median_s"])
    check(len(ts) == b["targets"]["name"]["lookups"] and 860 <= len(ts) <= 870,
          "beacon lookups %d", len(ts))

    rp = planted(key, "replacement")
    old = [r for r in queries if r["qname"] == OLD]
    new = [r for r in queries if r["qname"] == NEW]
    gap = (new[0]["ts_ns"] - old[-1]["ts_ns"]) / 1e9
    check(abs(gap - 3 * 86400) < 1e-3 and close(gap, rp["gap_s"], 1e-3),
          "gap %.3f s, key %s", gap, rp["gap_s"])
    check(new[0]["src"] == rp["main_client"] == max(rp["shares"], key=rp["shares"].get),
          "new name first asked by %s, main client %s", new[0]["src"], rp["main_client"])
    check(old[-1]["ts_ns"] < key["span"]["start_ns"] + (rp["day"] * 86400 + 1) * 10**9,
          "old name still asked after day %d", rp["day"])


def test_key_figures_by_hand(sc):
    """With the default parameters the figures do not depend on the seed:
    exclusive 60 + 4 + 1 lookups, beacon NPMI 1, replacement 40/20/12/8
    (+1 spam filter) against 40/20/12/8 (+2 stranger)."""
    _, key = sc.small()
    t = planted(key, "exclusive")["targets"]["name"]
    check(t["lookups"] == 65 and t["queries"] == 67 and t["distinct_clients"] == 3,
          "exclusive: %d lookups, %d queries, %d clients", t["lookups"], t["queries"],
          t["distinct_clients"])
    check(close(t["top_share"], 60 / 65) and close(t["second_share"], 4 / 65),
          "shares %s %s", t["top_share"], t["second_share"])
    hhi = (60 * 60 + 4 * 4 + 1) / 65 ** 2  # 0.856095
    check(close(t["hhi"], hhi) and close(t["effective_clients"], 1 / hhi, 1e-5),
          "hhi %s, want %.6f", t["hhi"], hhi)
    # Wilson, z = 1.96, 60 of 65: (p + z²/2n - z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    check(close(t["wilson_lower"], 0.832241), "wilson %s, want 0.832241", t["wilson_lower"])
    check(close(t["wilson_lower"], round(wilson_lower(60, 65), 6)), "wilson formula")
    d = planted(key, "exclusive")["targets"]["registered_domain"]
    check(d["target"] == "planted-example.com" and d["lookups"] == 65,
          "registered domain %s %d", d["target"], d["lookups"])
    check(planted(key, "exclusive")["all_in_business_hours"], "exclusive outside hours")
    w = planted(key, "exclusive")["time_window"]
    check(w["weekday_share"] == 1.0 and sum(w["hour_of_week_utc"]) == 60
          and w["local"]["hours"] <= 9 and w["local"]["start_hour"] >= 9
          and "09:00:00" <= w["local_first_time"] and w["local_last_time"] < "18:00:00",
          "time window %s", {k: v for k, v in w.items() if k != "hour_of_week_utc"})
    check(sum(w["hour_of_week_utc"][5 * 24:]) == 0, "exclusive lookups on a weekend")

    b = planted(key, "beacon")
    check(b["pair"]["npmi"] == 1.0 and b["targets"]["name"]["hhi"] == 1.0
          and b["pair"]["client_figures"]["top_name_share"] == 1.0,
          "beacon: npmi %s", b["pair"]["npmi"])

    rp = planted(key, "replacement")
    o, n = rp["old"]["targets"]["name"], rp["new"]["targets"]["name"]
    check(sorted(e["lookups"] for e in o["clients"].values()) == [1, 8, 12, 20, 40],
          "old name counts %s", o["clients"])
    check(sorted(e["lookups"] for e in n["clients"].values()) == [2, 8, 12, 20, 40],
          "new name counts %s", n["clients"])
    # Σ min = 80/82; Σ max = 80/81 + 1/81 + 2/82.
    wj = (80 / 82) / (80 / 81 + 1 / 81 + 2 / 82)  # 0.952381
    check(close(rp["weighted_jaccard"], wj) and close(rp["containment"], 80 / 82)
          and close(rp["set_jaccard"], 4 / 6),
          "weighted Jaccard %s (want %.6f), containment %s, set Jaccard %s",
          rp["weighted_jaccard"], wj, rp["containment"], rp["set_jaccard"])
    check(rp["gap_ns"] == 3 * 86400 * 10**9 and rp["same_answer_address"],
          "gap %s", rp["gap_ns"])
    spam = planted(key, "spam_filter")
    check(sorted(spam["planted_names"]) == sorted([EXCLUSIVE, OLD]),
          "spam filter's planted names %s", spam["planted_names"])


def exclusive_names(st, min_lookups=16, bound=0.8):
    """Names that dnssnoop's client_name table shows looked up (almost)
    only by one client: Wilson lower bound of the top share >= bound."""
    by_name = defaultdict(list)
    for (c, n), r in st["client_name"].items():
        by_name[n].append(r["queries"])
    out = {}
    for n, counts in by_name.items():
        total = sum(counts)
        if total >= min_lookups and wilson_lower(max(counts), total) >= bound:
            out[n] = (max(counts), total)
    return out


def test_background_has_no_exclusive_names(sc):
    """In dnssnoop's figures only the exclusive and the beacon names, and the
    names of the shapes that are exclusive by nature (an appliance's, a
    developer's burst), are looked up almost only by one client; with
    --no-plant --no-shapes no name is, none of the planted names or clients
    appears, and the key lists nothing."""
    path, key = sc.small()
    st = dnssnoop_stats(path)
    got = exclusive_names(st)
    by_nature = {t for s in key["shapes"].values() if not s["must_not_fire"]
                 for t in s["match"]["targets"] or []}
    check({EXCLUSIVE, BEACON} <= set(got) <= {EXCLUSIVE, BEACON} | by_nature
          and by_nature & set(got), "exclusive names: %s (shapes' %s)", got, by_nature)
    check(not key["background"]["strongest_unplanted"]["default_rules_fire"],
          "key: the background meets the rules: %s", key["background"]["strongest_unplanted"])
    path, key = sc.get("bg", *SMALL, "--seed", "5", "--no-plant", "--no-shapes")
    st = dnssnoop_stats(path)
    check(key["planted"] == [], "--no-plant key lists %s", key["planted"])
    check(not exclusive_names(st), "--no-plant: exclusive names %s", exclusive_names(st))
    check(not set(PLANTED) & set(st["name"]), "--no-plant: planted names in the file")
    clients = {c for c, _ in st["client_name"]}
    check("10.1.255.25" not in clients and "10.1.255.66" not in clients,
          "--no-plant: spam filter or beacon client present")
    check("10.1.255.10" in clients and "10.1.255.53" in clients and len(clients) == 46
          and sum(":" in c for c in clients) == 4,
          "--no-plant: want 40 + 4 ordinary + heavy + resolver clients, got %d", len(clients))
    bg = key["background"]
    check(bg["lookups"] == key["file"]["lookups"] and bg["queries"] == key["file"]["queries"],
          "--no-plant: background %d/%d, file %d/%d", bg["lookups"], bg["queries"],
          key["file"]["lookups"], key["file"]["queries"])
    check(sum(r["queries"] for r in st["name"].values()) == bg["queries"],
          "--no-plant: name_stats add up to %d, key %d",
          sum(r["queries"] for r in st["name"].values()), bg["queries"])
    nx = sum(r["rcodes"]["NXDOMAIN"] for r in st["name"].values())
    check(nx == bg["rcodes"]["NXDOMAIN"] and 0.005 < nx / bg["lookups"] < 0.2,
          "--no-plant: NXDOMAIN %d, key %s", nx, bg["rcodes"])


def test_nxdomain_replacement_and_switches(sc):
    """--replacement-mode nxdomain: the old name keeps being asked, answered
    NXDOMAIN; the gap counts from its last answered lookup. --no-beacon and
    --no-exclusive leave those out."""
    path, key = sc.get("nx", *SMALL, "--seed", "6", "--replacement-mode", "nxdomain",
                       "--no-beacon", "--no-exclusive")
    st = dnssnoop_stats(path)
    check([p["kind"] for p in key["planted"]] == ["replacement", "spam_filter"],
          "planted %s", [p["kind"] for p in key["planted"]])
    check(BEACON not in st["name"] and EXCLUSIVE not in st["name"], "switched-off names")
    rp = planted(key, "replacement")
    r = st["name"][OLD]
    check(rp["old"]["nxdomain_lookups"] == 20 and r["rcodes"]["NXDOMAIN"] == 20
          and r["rcodes"]["NOERROR"] == 81, "old name rcodes %s, key %s", r["rcodes"],
          rp["old"]["targets"]["name"]["rcodes"])
    check(r["last_seen"] > rp["new"]["first"], "NXDOMAIN lookups should go on after the new "
          "name appears: last_seen %s, new first %s", r["last_seen"], rp["new"]["first"])
    check(rp["new"]["first_ns"] - rp["old"]["last_noerror_ns"] == rp["gap_ns"] == 3 * 86400e9,
          "gap %s", rp["gap_ns"])
    check(st["name"][NEW]["first_seen"] == rp["new"]["first"], "new first_seen")


def test_registered_domains_follow_the_psl(sc):
    """The key's registered domains are public suffix + 1 label by the
    Public Suffix List (Debian's publicsuffix file), and the file has names
    under multi-label suffixes (co.uk, com.au, ...)."""
    path, key = sc.small()
    psl = Psl(PSL_FILE)
    for t in planted_targets(key):
        name = t["target"]
        for p in key["planted"]:
            for tt in [p.get("targets")] + [p.get(x, {}).get("targets") for x in ("old", "new")]:
                if tt and tt["name"]["target"] == name:
                    want = psl.registrable(name)
                    check(tt["registered_domain"]["target"] == want,
                          "%s: key %s, PSL %s", name, tt["registered_domain"]["target"], want)
    st = dnssnoop_stats(path)
    multi = [n for n in st["name"] if len(psl.suffix(n).split(".")) > 1]
    check(len(multi) > len(st["name"]) // 10, "only %d of %d names under multi-label suffixes",
          len(multi), len(st["name"]))
    sup = key["background"]["strongest_unplanted"]
    d = sup["target_registered_domain"]["target"]
    check(psl.registrable(d) == d, "strongest unplanted domain %s, PSL says %s", d,
          psl.registrable(d))


def test_deterministic(sc):
    """Same options and seed: the same pcap and key, byte for byte; another
    seed: another pcap."""
    a, _ = sc.get("d1", *SMALL, "--seed", "9")
    b, _ = sc.get("d2", *SMALL, "--seed", "9")
    c, _ = sc.get("d3", *SMALL, "--seed", "10")
    with open(a, "rb") as f1, open(b, "rb") as f2, open(c, "rb") as f3:
        da, db, dc = f1.read(), f2.read(), f3.read()
    check(da == db, "same seed, different pcaps")
    check(da != dc, "different seeds, same pcap")
    with open(a[:-5] + ".json") as f1, open(b[:-5] + ".json") as f2:
        check(f1.read() == f2.read(), "same seed, different keys")


def test_default_scenario_size_and_speed(sc):
    """The default scenario: six weeks from Monday 2026-01-05, 200 + 20
    ordinary clients, a few hundred thousand packets, written in well under a minute;
    dnssnoop sees all its messages."""
    t0 = time.monotonic()
    path, key = sc.get("default")
    secs = time.monotonic() - t0
    f = key["file"]
    check(200_000 <= f["packets"] <= 600_000, "%d packets", f["packets"])
    check(secs < 30, "generation took %.1f s", secs)
    check(key["span"]["start"] == "2026-01-05T00:00:00.000000Z"
          and key["span"]["end"] == "2026-02-16T00:00:00.000000Z",
          "span %s", key["span"])
    check(f["first_packet"] >= key["span"]["start"] and f["last_packet"] < key["span"]["end"],
          "packets outside the span")
    check(key["clients"]["ordinary"] == 220 and key["clients"]["ordinary_ipv6"] == 20,
          "clients %s", key["clients"])
    cap = dnssnoop_stats(path)["capture"]
    check(cap["messages"] == f["packets"], "dnssnoop messages %d, key packets %d",
          cap["messages"], f["packets"])
    print("    default scenario: %d packets in %.1f s (%.0f packets/s)"
          % (f["packets"], secs, f["packets"] / secs))


# ---------------------------------------------------------------- PSL

class Psl:
    """The Public Suffix List algorithm (rules, wildcards, exceptions) over
    the list file, ICANN and private sections both, as libpsl does."""

    def __init__(self, path):
        self.rules, self.wild, self.exc = set(), set(), set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = line.strip().split()[0] if line.strip() else ""
                if not r or r.startswith("//"):
                    continue
                if r.startswith("!"):
                    self.exc.add(r[1:])
                elif r.startswith("*."):
                    self.wild.add(r[2:])
                else:
                    self.rules.add(r)

    def suffix(self, name):
        """The longest matching rule, tried longest candidate first; an
        exception rule means its parent; no rule at all means "*"."""
        labels = name.lower().split(".")
        for i in range(len(labels)):
            cand = ".".join(labels[i:])
            if cand in self.exc:
                return ".".join(labels[i + 1:])
            if cand in self.rules:
                return cand
            if i + 1 < len(labels) and ".".join(labels[i + 1:]) in self.wild:
                return cand
        return labels[-1]

    def registrable(self, name):
        s = self.suffix(name)
        labels = name.lower().split(".")
        n = len(s.split(".")) + 1
        return ".".join(labels[-n:]) if len(labels) >= n else None


# ---------------------------------------------------------------- runner

CASES = [test_key_agrees_with_dnssnoop, test_tshark_reads_every_packet,
         test_planted_timing_from_tshark, test_key_figures_by_hand,
         test_background_has_no_exclusive_names, test_nxdomain_replacement_and_switches,
         test_registered_domains_follow_the_psl, test_deterministic,
         test_default_scenario_size_and_speed]


def main(argv):
    return runner.run_offline_tests(
        argv, CASES, "dnssnoop-scenario-", tools=("tshark",),
        files=((PSL_FILE, "apt-get install publicsuffix"),), make_arg=Scenarios)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
