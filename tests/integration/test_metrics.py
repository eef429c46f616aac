#!/usr/bin/env python3
"""--metrics: the Prometheus exposition of a live session, checked by the
real Prometheus and promtool (Debian package prometheus), in the network
lab (lab.py: dig in a client namespace, nsd in a server namespace).

The lab runs in a cgroup of its own and the tracer traces only that
(--cgroup), so the counts are exactly what the cases send: each dig sends
one query (+tries=1). Prometheus runs with a config file of its own that
scrapes the tracer every second, its own storage in a temporary directory
and its own address; the cases ask its HTTP API. Ports are free loopback
ports; the processes a case starts are stopped by their PID (lab.popen
registers them; lab.end_case kills what a case left).

Cases:
  prometheus_counts_dig      Prometheus scrapes the tracer and reports
                             exactly the dig queries sent (sum over comm="dig")
  promtool_checks_exposition  /metrics passes `promtool check metrics`;
                             the headers and types are the contract's
  hostile_clients            a silent client, a 100 KB request line and a
                             half-closed client: capture goes on, a scrape works
  bad_metrics_value          bad --metrics values exit 2 naming the problem;
                             a port in use fails the start clearly
  other_series_bound         --max-entries 16 and 20 programs: 16 series and
                             an "other" one with the rest, totals add up
  ipv6_and_default_address   [::1]:PORT serves on IPv6; :PORT listens on
                             127.0.0.1 only
  findings_gauge_at_interval  with --interval, a finding (test_detect_live's
                             lonely program) shows in dnssnoop_findings and
                             dnssnoop_cases after a close
  responder_thread_unprivileged  the responder thread, started after the
                             privilege drop, has no capability, the dropped
                             uid and the seccomp filter
Needs root (BPF, namespaces, cgroups).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from runner import TRACER, check, stop_process  # noqa: E402

DIG = ["+tries=1", "+timeout=2", "+short"]
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dnsclient.py")
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path="/metrics", timeout=5):
    """(status, content type, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(text, name):
    """{labels text: value} of the samples of metric name in an exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line[len(name):].rpartition(" ")
            out[labels] = float(value)
    return out


def tracer_with_metrics(lab, extra=(), cgroup=None):
    """The tracer on the lab's cgroup (or cgroup) with --metrics on a free port; (tracer, port)."""
    port = free_port()
    t = lab.tracer(["--cgroup", cgroup or lab.cgroup, "-o", "/dev/null",
                    "--metrics", "127.0.0.1:%d" % port] + list(extra))
    return t, port


def digs(lab, n, name="www.lab.test"):
    for _ in range(n):
        d = lab.dig(DIG + [name, "A"])
        check(d.rc == 0, "dig failed: %s %s", d.out, d.err)


def scraped_value(port, metric, want, label="", timeout=15):
    """Poll the tracer's /metrics until the sum of metric's samples whose
    labels hold label is want; return what it was."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        _, _, body = http_get(port)
        got = sum(v for k, v in samples(body, metric).items() if label in k)
        if got == want:
            return got
        time.sleep(0.2)
    return got


class Prometheus:
    """A real Prometheus scraping one target every second, in tmp."""

    def __init__(self, lab, target_port, tmp):
        self.port = free_port()
        conf = os.path.join(tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: dnssnoop\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % target_port)
        self.log = open(os.path.join(tmp, "prometheus.log"), "w")
        self.proc = lab.register(subprocess.Popen(
            [PROMETHEUS, "--config.file=" + conf,
             "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT))

    def query(self, promql):
        """The value of an instant query's only sample, or None without one."""
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (self.port,
                                                             urllib.parse.quote(promql))
        with urllib.request.urlopen(url, timeout=5) as r:
            data = json.load(r)
        check(data.get("status") == "success", "query %s: %s", promql, data)
        result = data["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql, want, timeout=30):
        """Poll the query until it gives want; return the last value."""
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, "prometheus exited %s", self.proc.returncode)
            try:
                got = self.query(promql)
            except OSError:
                got = None  # not listening yet
            if got == want:
                return got
            time.sleep(0.5)
        return got

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def test_prometheus_counts_dig(lab):
    """N digs; a real Prometheus scraping every second reports exactly N."""
    n = 7
    t, port = tracer_with_metrics(lab)
    prom = Prometheus(lab, port, lab.tmp)
    try:
        digs(lab, n)
        q = 'sum(dnssnoop_process_queries_total{comm="dig"})'
        got = prom.wait_for(q, n)
        check(got == n, "%s = %s, want %d (prometheus log: %s)", q, got, n,
              open(prom.log.name).read()[-1500:])
        up = prom.query('up{job="dnssnoop"}')
        check(up == 1, "up = %s", up)
        # The responses dig got, by rcode, and the latency histogram's count.
        got = prom.wait_for('sum(dnssnoop_process_responses_total{comm="dig",rcode="NOERROR"})', n)
        check(got == n, "NOERROR responses to dig: %s, want %d", got, n)
        # Both ends are local: dig's copy and nsd's.
        got = prom.wait_for('dnssnoop_responses_total{rcode="NOERROR",qtype="A"}', 2 * n)
        check(got == 2 * n, "NOERROR A responses: %s, want %d", got, 2 * n)
        got = prom.wait_for('dnssnoop_peer_queries_total{peer="%s"}' % lab.srv4, n)
        check(got == n, "queries to the peer %s: %s, want %d", lab.srv4, got, n)
    finally:
        prom.stop()
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])


def test_promtool_checks_exposition(lab):
    """/metrics: content type 0.0.4, promtool finds no problem, the histogram is cumulative."""
    t, port = tracer_with_metrics(lab, ["--summary"])
    digs(lab, 3)
    digs(lab, 1, "nosuch.lab.test")
    # Both ends are local: each query is seen as dig sent it and as nsd got it.
    check(scraped_value(port, "dnssnoop_queries_total", 8) == 8, "4 queries not counted twice")
    status, ctype, body = http_get(port)
    check(status == 200 and ctype == "text/plain; version=0.0.4", "status %s type %r",
          status, ctype)
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
          "promtool check metrics: rc %d %s %s\n%s", p.returncode, p.stdout, p.stderr,
          body[:2000])
    for name, kind in (("dnssnoop_queries_total", "counter"),
                       ("dnssnoop_response_latency_seconds", "histogram"),
                       ("dnssnoop_events_lost_total", "counter"),
                       ("dnssnoop_pending_queries", "gauge"),
                       ("dnssnoop_ring_fill_ratio", "gauge")):
        check("# TYPE %s %s\n" % (name, kind) in body, "no TYPE line for %s %s", name, kind)
    check(samples(body, "dnssnoop_responses_total").get('{rcode="NXDOMAIN",qtype="A"}') == 2,
          "NXDOMAIN response not counted: %s", samples(body, "dnssnoop_responses_total"))
    buckets = list(samples(body, "dnssnoop_response_latency_seconds_bucket").values())
    check(buckets == sorted(buckets) and buckets[-1] ==
          samples(body, "dnssnoop_response_latency_seconds_count")[""],
          "buckets not cumulative up to the count: %s", buckets)
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])


def hostile_clients(port):
    """A silent client, one sending a 100 KB request line, a half-closed one."""
    silent = socket.create_connection(("127.0.0.1", port))
    big = socket.create_connection(("127.0.0.1", port))
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"GET /metr")
    half.shutdown(socket.SHUT_WR)
    big.settimeout(5)
    try:
        big.sendall(b"GET /" + b"A" * 100000)
    except OSError:
        pass  # the responder answered 400 and may have closed before all of it went
    return silent, big, half


def read_all(s, timeout=5):
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except OSError:
        return data


def test_hostile_clients(lab):
    """Bad clients cost neither the capture nor a normal scrape."""
    t, port = tracer_with_metrics(lab)
    silent, big, half = hostile_clients(port)
    try:
        t0 = time.monotonic()
        status, _, body = http_get(port)  # while the three are still connected
        check(status == 200 and "dnssnoop_queries_total" in body, "scrape: %s", status)
        check(time.monotonic() - t0 < 1.5, "a scrape waited for the bad clients")
        digs(lab, 5)
        check(read_all(big).startswith(b"HTTP/1.1 400 "), "100 KB request: no 400")
        check(read_all(half).startswith(b"HTTP/1.1 400 "), "half-closed partial request: no 400")
        # The silent one is dropped at its deadline (2 s): the server closes it.
        check(read_all(silent, 4) == b"", "silent client got data")
        got = scraped_value(port, "dnssnoop_process_queries_total", 5, 'comm="dig"')
        check(got == 5, "queries counted during the bad clients: %s, want 5", got)
        raw = socket.create_connection(("127.0.0.1", port))
        raw.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        check(read_all(raw).startswith(b"HTTP/1.1 405 "), "POST: no 405")
        check(http_get(port, "/other")[0] == 404, "/other: no 404")
    finally:
        for s in (silent, big, half):
            s.close()
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])


def test_bad_metrics_value(lab):
    """Usage errors exit 2 naming the problem; a port in use fails at the start with exit 1."""
    for value, words in (("9153", "no port"), ("127.0.0.1:", "not a port"),
                         ("127.0.0.1:70000", "not a port"), ("300.1.1.1:9153", "not an IPv4"),
                         ("::1:9153", "not an IPv4"), ("[::1:9153", "no port"),
                         ("[zz]:9153", "not an IPv6")):
        p = subprocess.run([TRACER, "--metrics", value, "-d", "1"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 2 and words in p.stderr and "--metrics" in p.stderr,
              "--metrics %s: rc %d, stderr %r", value, p.returncode, p.stderr)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        p = subprocess.run([TRACER, "--metrics", ":%d" % port, "-d", "1", "--no-state"],
                           capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and "Address already in use" in p.stderr
          and "attached" not in p.stderr, "port in use: rc %d, stderr %r", p.returncode, p.stderr)


def test_other_series_bound(lab):
    """--max-entries 16: 20 distinct programs make 16 series and an "other" one; sums hold.

    The programs run in a cgroup of their own, traced alone, so that nsd's
    copy of each query is not counted."""
    clients = lab.sub_cgroup("bound")
    t, port = tracer_with_metrics(lab, ["--max-entries", "16"], clients)
    comms = ["prog%02d" % i for i in range(20)]
    for c in comms:
        p = lab.popen(lab.cli, ["/usr/bin/python3", CLIENT, "--comm", c, "--server", lab.srv4,
                                "--timeout", "1", "www.lab.test,A,1"], cgroup=clients,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=30)
        check(p.returncode == 0, "client %s failed: %s %s", c, out, err)
    got = scraped_value(port, "dnssnoop_process_queries_total", 20)
    _, _, body = http_get(port)
    s = samples(body, "dnssnoop_process_queries_total")
    check(got == 20, "process queries summed: %s, want 20: %s", got, s)
    other = [k for k in s if 'comm="other"' in k]
    check(len(s) == 17 and len(other) == 1 and s[other[0]] == 4,
          "want 16 programs and other=4, got %s", s)
    check(all('cgroup="%s"' % clients in k for k in s if k not in other),
          "cgroup label is not the lab's: %s", list(s))
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])


def test_ipv6_and_default_address(lab):
    """[::1]:PORT listens on IPv6 loopback; :PORT on 127.0.0.1 only."""
    port = free_port()
    t = lab.tracer(["--cgroup", lab.cgroup, "-o", "/dev/null", "--metrics", "[::1]:%d" % port])
    with urllib.request.urlopen("http://[::1]:%d/metrics" % port, timeout=5) as r:
        check(r.status == 200 and b"dnssnoop_messages_total" in r.read(), "no IPv6 scrape")
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])
    port = free_port()
    t = lab.tracer(["--cgroup", lab.cgroup, "-o", "/dev/null", "--metrics", ":%d" % port])
    with open("/proc/net/tcp") as f:
        listening = [line.split()[1] for line in f if line.split()[3] == "0A"]
    check("0100007F:%04X" % port in listening, ":%d is not listening on 127.0.0.1: %s", port,
          [a for a in listening if a.endswith(":%04X" % port)])
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])


def test_findings_gauge_at_interval(lab):
    """--interval: the lonely program of test_detect_live makes an
    exclusive_target (or mutual) finding; its gauge shows it after a close."""
    import test_detect_live as dl
    t, port = tracer_with_metrics(lab, ["--no-events", "--interval", "2"])
    procs = [dl.client(lab, c, ["www.lab.test,A,6", "mail.lab.test,MX,4", "txt.lab.test,TXT,2"],
                       0.11) for c in dl.ORDINARY]
    procs.append(dl.client(lab, dl.LONELY, ["%s,A,%d" % (dl.SECRET, dl.LONELY_LOOKUPS)], 0.06))
    for p in procs:
        out, err = p.communicate(timeout=60)
        check(p.returncode == 0 and "timeouts 0" in out, "client failed: %s %s", out, err)
    deadline = time.monotonic() + 10
    got = {}
    while time.monotonic() < deadline:
        got = samples(http_get(port)[2], "dnssnoop_findings")
        if got.get('{kind="exclusive_target"}', 0) + got.get('{kind="mutual"}', 0) >= 1:
            break
        time.sleep(0.5)
    check(got.get('{kind="exclusive_target"}', 0) + got.get('{kind="mutual"}', 0) >= 1,
          "no exclusive_target/mutual finding in the gauge: %s", got)
    cases = samples(http_get(port)[2], "dnssnoop_cases")
    check(sum(cases.values()) >= 1, "no case in the gauge: %s", cases)
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])


def test_responder_thread_unprivileged(lab):
    """The responder thread runs as the dropped user, with no capability, under seccomp."""
    t, port = tracer_with_metrics(lab)
    check(http_get(port)[0] == 200, "no scrape")
    threads = labmod.thread_status(t.proc.pid)
    check(len(threads) >= 2, "no responder thread: %s", list(threads))
    for tid, st in threads.items():
        check(st["Uid"].split()[0] != "0" and int(st["CapEff"], 16) == 0 and
              int(st["CapPrm"], 16) == 0 and st["Seccomp"] == "2",
              "thread %s: Uid %s CapEff %s CapPrm %s Seccomp %s", tid, st["Uid"], st["CapEff"],
              st["CapPrm"], st["Seccomp"])
    check(t.stop() == 0, "tracer exit status %s: %s", t.returncode, t.stderr[-1500:])


CASES = [test_prometheus_counts_dig, test_promtool_checks_exposition, test_hostile_clients,
         test_bad_metrics_value, test_other_series_bound, test_responder_thread_unprivileged,
         test_ipv6_and_default_address, test_findings_gauge_at_interval]


def main(argv):
    return labmod.run_lab_tests(argv, CASES, "BPF, network namespaces, cgroups",
                                {"tag": "metrics", "cgroup": True},
                                tools=(PROMETHEUS, PROMTOOL))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
