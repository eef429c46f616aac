#!/usr/bin/env python3
"""Per-packet cost of dnssnoop's packet programs (driven by tools/bench-bpf-cost).

For each hook (cgroup, tc, xdp) and each run, the tracer and then an empty
program of the same hook (tools/bench/bpf_floor.bpf.c; the order alternates
between runs) are attached in turn to the same place and see the same
traffic:
  udp  UDP datagrams to a non-DNS port, each echoed back
  tcp  a TCP ping-pong of small messages to a non-DNS port (data and ACKs)
  dns  DNS queries to port 53, each answered by a responder
The kernel's BPF statistics (run_time_ns / run_cnt, summed over the hook's
programs of that one process) give ns per program run, i.e. per packet. The
empty program's figure is the floor every program pays at that hook (the
statistics' own clock reads, the call); "above" is the tracer's figure minus
the floor of the same run.

cgroup: a cgroup of our own, with the client and the responder in it, over
loopback (127.0.0.77), so other traffic on the host does not count. tc and
xdp: a veth pair between two private namespaces; the programs sit on the
client's end (xdp sees only what arrives there: echoes and DNS responses).
"""
import json
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLOOR = os.path.join(ROOT, "build/bench/bpf_floor")
FLOOR_OBJ = os.path.join(ROOT, "build/bench/bpf_floor.bpf.o")
TAG = f"bbc{os.getpid()}"
NS_CLIENT, NS_SERVER = f"{TAG}a", f"{TAG}b"
VETH_CLIENT, VETH_SERVER = f"{TAG}a", f"{TAG}b"
LAB_CLIENT, LAB_SERVER = "10.231.45.1", "10.231.45.2"
LOOPBACK = "127.0.0.77"
UDP_PORT, TCP_PORT, DNS_PORT = 9999, 9998, 53
PHASES = ("udp", "tcp", "dns")
WINDOW = 8
# www.example.com A, recursion desired
QUERY = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")


# ---- roles run in the private namespaces / the cgroup ----

def serve(addr):
    """Echo UDP on UDP_PORT and TCP on TCP_PORT; answer DNS on DNS_PORT (QR set)."""
    sel = selectors.DefaultSelector()
    udp = {}
    for port in (UDP_PORT, DNS_PORT):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "udp")
        udp[s] = port
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, TCP_PORT))
    lst.listen(8)
    sel.register(lst, selectors.EVENT_READ, "listen")
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "udp":
                while True:
                    try:
                        data, peer = s.recvfrom(2048)
                    except BlockingIOError:
                        break
                    if udp[s] == DNS_PORT and len(data) >= 12:
                        data = data[:2] + bytes([data[2] | 0x80]) + data[3:]
                    s.sendto(data, peer)
            elif key.data == "listen":
                c, _ = s.accept()
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(c, selectors.EVENT_READ, "tcp")
            else:
                data = s.recv(65536)
                if not data:
                    sel.unregister(s)
                    s.close()
                else:
                    s.sendall(data)


def client(phase, addr, n):
    """n exchanges of the phase's kind, WINDOW in flight (UDP)."""
    if phase == "tcp":
        c = socket.create_connection((addr, TCP_PORT))
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        msg = b"y" * 64
        for _ in range(n):
            c.sendall(msg)
            got = 0
            while got < len(msg):
                got += len(c.recv(4096))
        c.close()
        return
    port, payload = (DNS_PORT, QUERY) if phase == "dns" else (UDP_PORT, b"x" * 40)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    s.settimeout(0.2)
    for _ in range(0, n, WINDOW):
        for _ in range(WINDOW):
            s.send(payload)
        try:
            for _ in range(WINDOW):
                s.recv(2048)
        except socket.timeout:
            pass
    s.close()


# ---- the orchestrator ----

def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    sys.exit("bench-bpf-cost: no cgroup2 mount found")


class Lab:
    """The cgroup, the namespaces, the veth pair and the responders."""

    def __init__(self, hooks):
        self.procs = []
        self.cg_dir = None
        self.netns = False
        self.hooks = hooks

    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    def setup(self):
        if "cgroup" in self.hooks:
            self.cg_rel = "/" + TAG
            self.cg_dir = cgroup2_root() + self.cg_rel
            os.mkdir(self.cg_dir)
            self.start_server([], LOOPBACK, in_cgroup=True)
        if "tc" in self.hooks or "xdp" in self.hooks:
            self.netns = True
            for ns in (NS_CLIENT, NS_SERVER):
                sh("ip", "netns", "add", ns)
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
                sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "link", "add", VETH_CLIENT, "netns", NS_CLIENT, "type", "veth",
               "peer", "name", VETH_SERVER, "netns", NS_SERVER)
            for ns, dev, ip in ((NS_CLIENT, VETH_CLIENT, LAB_CLIENT), (NS_SERVER, VETH_SERVER, LAB_SERVER)):
                sh("ip", "-n", ns, "addr", "add", ip + "/30", "dev", dev)
                sh("ip", "-n", ns, "link", "set", dev, "up")
            self.start_server(["ip", "netns", "exec", NS_SERVER], LAB_SERVER)
            # Neighbour entries, so the measured packets are not ARP.
            self.run_client("tc", "udp", 2 * WINDOW)

    def join_cgroup(self):
        with open(os.path.join(self.cg_dir, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def start_server(self, prefix, addr, in_cgroup=False):
        p = subprocess.Popen(prefix + [sys.executable, __file__, "serve", addr],
                             stdout=subprocess.PIPE, text=True,
                             preexec_fn=self.join_cgroup if in_cgroup else None)
        self.procs.append(p)
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"responder on {addr} did not start")

    def run_client(self, hook, phase, n):
        if hook == "cgroup":
            cmd, addr, pre = [], LOOPBACK, self.join_cgroup
        else:
            cmd, addr, pre = ["ip", "netns", "exec", NS_CLIENT], LAB_SERVER, None
        subprocess.run(cmd + [sys.executable, __file__, "client", phase, addr, str(n)],
                       check=True, preexec_fn=pre)

    def __exit__(self, *exc):
        for p in self.procs:
            stop(p)
        if self.cg_dir:
            try:
                os.rmdir(self.cg_dir)
            except OSError as e:
                print(f"bench-bpf-cost: cannot remove {self.cg_dir}: {e}", file=sys.stderr)
        if self.netns:
            for ns in (NS_CLIENT, NS_SERVER):
                sh("ip", "netns", "del", ns, check=False)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def start_attached(cmd, stream):
    """Start cmd and wait until it prints "attached" on stream."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
                         stderr=subprocess.PIPE if stream == "stderr" else None, text=True)
    out = p.stdout if stream == "stdout" else p.stderr
    for line in out:
        if "attached" in line:
            break
    else:
        p.wait()
        raise RuntimeError(f"{cmd[0]} did not attach (exit {p.returncode})")
    time.sleep(0.3)  # an XDP attach may take the link down and up
    return p


# BPF_PROG_TYPE_SCHED_CLS, _XDP, _CGROUP_SKB
PACKET_PROG_TYPES = {"3", "6", "8"}


def prog_stats(pid):
    """{prog id: (run_time_ns, run_cnt)} of the packet programs pid holds open."""
    stats = {}
    fddir = f"/proc/{pid}/fd"
    for fd in os.listdir(fddir):
        try:
            if os.readlink(f"{fddir}/{fd}") != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        info = {k.strip(): v.strip() for k, v in info.items()}
        if info.get("prog_type") in PACKET_PROG_TYPES:
            stats[int(info["prog_id"])] = (int(info["run_time_ns"]), int(info["run_cnt"]))
    return stats


def measure(lab, hook, cmd, stream, n):
    """{phase: (ns per run, runs)} for one attached program set."""
    p = start_attached(cmd, stream)
    res = {}
    try:
        for phase in PHASES:
            a = prog_stats(p.pid)
            lab.run_client(hook, phase, n)
            b = prog_stats(p.pid)
            t = sum(b[k][0] - a.get(k, (0, 0))[0] for k in b)
            c = sum(b[k][1] - a.get(k, (0, 0))[1] for k in b)
            res[phase] = (t / c if c else float("nan"), c)
    finally:
        stop(p)
    return res


def commands(lab, hook, tracer):
    if hook == "cgroup":
        return ([tracer, "-o", "/dev/null", "--cgroup", lab.cg_rel],
                [FLOOR, FLOOR_OBJ, "cgroup", lab.cg_dir])
    ns = ["ip", "netns", "exec", NS_CLIENT]
    return (ns + [tracer, "-o", "/dev/null", "--hook", hook, "-i", VETH_CLIENT],
            ns + [FLOOR, FLOOR_OBJ, hook, VETH_CLIENT])


def fmt(v):
    return f"{statistics.median(v):6.1f} ({min(v):.1f}-{max(v):.1f})"


def main():
    args = sys.argv[1:]
    n, runs, tracer, hooks = 20000, 5, os.path.join(ROOT, "build/dnssnoop"), ["cgroup", "tc", "xdp"]
    while args:
        a = args.pop(0)
        if a == "--runs":
            runs = int(args.pop(0))
        elif a == "--tracer":
            tracer = os.path.abspath(args.pop(0))
        elif a == "--hooks":
            hooks = args.pop(0).split(",")
        else:
            n = int(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench-bpf-cost: terminated"))
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        old_stats = f.read().strip()
    raw = {(h, ph): [] for h in hooks for ph in PHASES}
    floor = {(h, ph): [] for h in hooks for ph in PHASES}
    above = {(h, ph): [] for h in hooks for ph in PHASES}
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        with Lab(hooks) as lab:
            for r in range(runs):
                for hook in hooks:
                    tcmd, fcmd = commands(lab, hook, tracer)
                    order = [("tracer", tcmd, "stderr"), ("floor", fcmd, "stdout")]
                    if r % 2:
                        order.reverse()
                    got = {who: measure(lab, hook, cmd, stream, n) for who, cmd, stream in order}
                    for ph in PHASES:
                        (t, tc), (e, ec) = got["tracer"][ph], got["floor"][ph]
                        raw[hook, ph].append(t)
                        floor[hook, ph].append(e)
                        above[hook, ph].append(t - e)
                        print(f"run {r + 1} {hook:6s} {ph}: {t:6.1f} ns/packet over {tc} runs, "
                              f"empty program {e:5.1f} over {ec}, above floor {t - e:6.1f}",
                              flush=True)
    except KeyboardInterrupt:
        sys.exit("bench-bpf-cost: interrupted")
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(old_stats)
    print(f"\nns per packet, median of {runs} (min-max); tracer {tracer}")
    print(f"{'hook':6s} {'traffic':8s} {'raw':>20s} {'empty program':>20s} {'above floor':>20s}")
    names = {"udp": "UDP", "tcp": "TCP", "dns": "DNS"}
    for hook in hooks:
        for ph in PHASES:
            print(f"{hook:6s} {names[ph]:8s} {fmt(raw[hook, ph]):>20s} {fmt(floor[hook, ph]):>20s} "
                  f"{fmt(above[hook, ph]):>20s}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
        serve(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
