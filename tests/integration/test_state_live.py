#!/usr/bin/python3
"""The state file's live cases (tests in test_state.py, LIVE_CASES): three
live lab sessions into one file, and the default file of live root
sessions. Needs root; exits 77 when it cannot run.

Usage: python3 tests/integration/test_state_live.py [CASE-SUBSTRING...]
"""

import sys

import lab as labmod
from test_state import LIVE_CASES


def main(argv):
    return labmod.run_lab_tests(argv, LIVE_CASES, "BPF, network namespaces, cgroups",
                                {"tag": "state", "cgroup": True})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
