#!/usr/bin/python3
"""A small DNS test client of the project's own (standard library only).

Sends queries over UDP, one at a time, and waits for each answer with a
timeout; the integration tests use it as a second client program next to
dig (its process name is "python3").

    dnsclient.py [--server ADDR] [--port N] [--timeout S] [--spacing S]
                 [--json] [-v] [--comm NAME] QUERY...

QUERY is NAME,TYPE[,COUNT[,SERVER]]: COUNT queries (default 1) for NAME and
TYPE (a mnemonic such as A, AAAA, MX, TXT, or a number) to SERVER (default
--server). All queries go out from one socket, in the order given, each
with a fresh random id and RD set, no EDNS. --spacing waits that long
between queries (after the answer or the timeout).

Prints one summary line:
    sent N answered A noerror X nxdomain Y other Z timeouts T
(answered = noerror + nxdomain + other), and with --json a JSON object
with the same counts, the process id and one entry per query (id, name,
type, server, outcome). -v prints a line per query on stderr. Exit status
0 when every query got its own answer or timed out, 2 on a usage error.
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
          "AAAA": 28, "SRV": 33, "HTTPS": 65, "ANY": 255, "CAA": 257}
RCODES = {0: "noerror", 3: "nxdomain"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError("bad label in %r" % name)
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def build_query(qid, name, qtype):
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD
    return header + encode_name(name) + struct.pack(">HH", qtype, 1)


def parse_query_arg(text, default_server):
    parts = text.split(",")
    if not 2 <= len(parts) <= 4:
        raise ValueError("query %r: want NAME,TYPE[,COUNT[,SERVER]]" % text)
    name, qtype = parts[0], parts[1].upper()
    num = QTYPES.get(qtype)
    if num is None:
        num = int(qtype)
    count = int(parts[2]) if len(parts) > 2 and parts[2] else 1
    server = parts[3] if len(parts) > 3 else default_server
    if not server:
        raise ValueError("query %r: no server (use --server)" % text)
    return name, qtype, num, count, server


def socket_for(family, sockets):
    if family not in sockets:
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        sockets[family] = s
    return sockets[family]


def wait_answer(sock, qid, server, port, timeout):
    """The rcode of the response to qid from (server, port), or None on timeout.
    Stray datagrams (another id, another sender) are ignored."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return None
        data, addr = sock.recvfrom(65535)
        if len(data) < 12 or addr[1] != port:
            continue
        if socket.inet_pton(sock.family, addr[0]) != socket.inet_pton(sock.family, server):
            continue
        rid, flags = struct.unpack(">HH", data[:4])
        if rid == qid and flags & 0x8000:
            return flags & 0xF


def set_comm(name):
    """PR_SET_NAME: the name the kernel (and dnssnoop) knows this process by."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, name.encode()[:15], 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", help="default server address")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds to wait per query")
    ap.add_argument("--spacing", type=float, default=0.0, help="seconds between queries")
    ap.add_argument("--json", action="store_true", help="print a JSON summary")
    ap.add_argument("-v", action="store_true", help="a line per query on stderr")
    ap.add_argument("--comm", help="process name to take (prctl), so several copies of this "
                    "client are told apart as distinct programs")
    ap.add_argument("queries", nargs="+", metavar="QUERY")
    args = ap.parse_args(argv[1:])
    if args.comm:
        set_comm(args.comm)
    try:
        plan = [parse_query_arg(q, args.server) for q in args.queries]
        for q in plan:
            encode_name(q[0])
    except ValueError as e:
        print("dnsclient: %s" % e, file=sys.stderr)
        return 2

    rnd = random.Random()
    sockets = {}
    counts = {"sent": 0, "answered": 0, "noerror": 0, "nxdomain": 0, "other": 0,
              "timeouts": 0}
    log = []
    first = True
    for name, qtype, num, count, server in plan:
        family = socket.AF_INET6 if ":" in server else socket.AF_INET
        sock = socket_for(family, sockets)
        for _ in range(count):
            if not first and args.spacing > 0:
                time.sleep(args.spacing)
            first = False
            qid = rnd.randrange(65536)
            sock.sendto(build_query(qid, name, num), (server, args.port))
            counts["sent"] += 1
            rcode = wait_answer(sock, qid, server, args.port, args.timeout)
            if rcode is None:
                outcome = "timeout"
                counts["timeouts"] += 1
            else:
                outcome = RCODES.get(rcode, "other")
                counts["answered"] += 1
                counts[outcome] += 1
            log.append({"id": qid, "name": name, "type": qtype, "server": server,
                        "outcome": outcome})
            if args.v:
                print("%s %s @%s id %d: %s" % (name, qtype, server, qid, outcome),
                      file=sys.stderr)
    for s in sockets.values():
        s.close()
    print("sent %(sent)d answered %(answered)d noerror %(noerror)d nxdomain %(nxdomain)d "
          "other %(other)d timeouts %(timeouts)d" % counts)
    if args.json:
        print(json.dumps(dict(counts, pid=os.getpid(), queries=log)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
