#!/usr/bin/env python3
"""Balances a GoogleTest suite over N shards by how long each test took last time.

GoogleTest's own sharding deals tests out by index, so the few long tests of a suite (a 5 s grace
period, a 5 s stop) can land in one shard and set the suite's wall time. With the durations of
the previous run, the longest tests are placed first, each in the shard with the least work.

  shard_plan.py plan BINARY DURATIONS N   prints N --gtest_filter values, one per line
                                          (nothing when DURATIONS does not exist yet)
  shard_plan.py record DURATIONS XML...   writes the durations of the tests in the XML reports
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

UNKNOWN_SECONDS = 0.5  # a test added since the last run


def list_tests(binary):
    """Full names (Suite.Test) of the tests the binary runs, in its order."""
    out = subprocess.run([binary, "--gtest_list_tests"], capture_output=True, text=True,
                         check=True).stdout
    names, suite = [], ""
    for line in out.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            suite = line.split("#")[0].strip()  # "Pool/FrozenWorker." (a comment may follow)
        else:
            names.append(suite + line.split("#")[0].strip())
    return names


def plan(binary, durations_path, shards):
    if not os.path.exists(durations_path):
        return 0
    seconds = {}
    with open(durations_path) as f:
        for line in f:
            value, name = line.rstrip("\n").split(" ", 1)
            seconds[name] = float(value)
    load = [0.0] * shards
    members = [[] for _ in range(shards)]
    tests = sorted(list_tests(binary), key=lambda n: seconds.get(n, UNKNOWN_SECONDS), reverse=True)
    for name in tests:
        lightest = load.index(min(load))
        load[lightest] += seconds.get(name, UNKNOWN_SECONDS)
        members[lightest].append(name)
    for names in members:
        print(":".join(names) if names else "-*")  # "-*": an empty shard runs nothing
    return 0


def record(durations_path, reports):
    lines = []
    for report in reports:
        if not os.path.exists(report):
            return 0  # a shard did not finish: keep the previous durations
        for case in ET.parse(report).getroot().iter("testcase"):
            lines.append(f"{float(case.get('time'))} {case.get('classname')}.{case.get('name')}")
    with open(durations_path, "w") as f:
        f.write("\n".join(sorted(lines)) + "\n")
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "plan":
        return plan(argv[2], argv[3], int(argv[4]))
    if len(argv) >= 3 and argv[1] == "record":
        return record(argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
