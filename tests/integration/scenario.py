"""Scenarios from tools/gen-scenario for the tests that read them
(test_scenario.py, test_detect.py): generated once per run into a temp
directory and shared between cases."""

import json
import os
import subprocess
import sys

from runner import REPO, check

GEN = os.path.join(REPO, "tools", "gen-scenario")

# A small scenario: three weeks, 44 ordinary clients; about 25 000 packets.
SMALL = ["--weeks", "3", "--clients", "40", "--ipv6-clients", "4", "--names", "500",
         "--scale", "0.3"]


def close(a, b, eps=1e-6):
    return abs(a - b) <= eps


def generate(tmp, name, *opts):
    """Run gen-scenario; returns (pcap path, key as a dict)."""
    path, key = os.path.join(tmp, name + ".pcap"), os.path.join(tmp, name + ".json")
    p = subprocess.run([sys.executable, GEN, "--out", path, "--key", key] + list(opts),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    check(p.returncode == 0, "gen-scenario %s failed: %s", opts, p.stderr.decode()[-1000:])
    with open(key) as f:
        return path, json.load(f)


class Scenarios:
    """Generated once, shared by the cases that only read them."""

    def __init__(self, tmp):
        self.tmp, self.cache = tmp, {}

    def get(self, name, *opts):
        if name not in self.cache:
            self.cache[name] = generate(self.tmp, name, *opts)
        return self.cache[name]

    def small(self):
        return self.get("small", *SMALL, "--seed", "5")
