"""Summarise the test suite's memory from the log tests/conftest.py writes under ARCHCOST_RSS_LOG.

    ARCHCOST_RSS_LOG=/tmp/rss.log pytest && python benchmarks/rss_summary.py /tmp/rss.log [--top 15] [--limit-gb 2]

Each line of the log is "nodeid rss_after_bytes max_rss_bytes test_peak_bytes test_peak_file_bytes worker"
(the node id may hold spaces; test_peak is sampled every 20 ms, test_peak_file is the part of it mapped
from files: torch's shared libraries, the same pages in every worker). Prints each worker's peak RSS, test
count and RSS at the end, then the tests with the highest peaks of their own and the tests that add the most
to the RSS they started from (what the worker's previous test left).
Exits 1 when a worker's peak passes --limit-gb (issue 21: every worker under 2 GB).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

GB = 2**30


def read(path):
    rows, skipped = [], 0
    with open(path) as fh:
        for line in fh:
            parts = line.rstrip("\n").rsplit(" ", 5)
            try:
                rows.append((parts[0], int(parts[1]), int(parts[2]), int(parts[3]), int(parts[4]), parts[5]))
            except (ValueError, IndexError):
                skipped += 1
    if skipped:
        print(f"{path}: {skipped} lines skipped, not 'nodeid rss_after max_rss test_peak test_peak_file worker'", file=sys.stderr)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--limit-gb", type=float, default=2.0)
    a = ap.parse_args(argv)
    rows = read(a.log)
    if not rows:
        print(f"{a.log}: no test recorded", file=sys.stderr)
        return 2
    peak, count, rest = defaultdict(int), defaultdict(int), {}
    own = []
    for nodeid, rss, mx, test_peak, file, worker in rows:
        before = rest.get(worker, rss)  # the RSS the previous test left (a worker's first: its own)
        own.append((test_peak, test_peak - before, nodeid, worker, file))
        rest[worker] = rss
        peak[worker] = max(peak[worker], mx)
        count[worker] += 1
    print("worker  tests  peak_gb  rest_at_end_gb")
    for w in sorted(peak):
        print(f"{w:7} {count[w]:6} {peak[w] / GB:8.2f} {rest[w] / GB:15.2f}")
    print(f"\ntests with the highest peaks (top {a.top}): peak (of it mapped from files), added to the RSS before")
    for test_peak, added, nodeid, w, file in sorted(own, reverse=True)[:a.top]:
        print(f"  {test_peak / GB:5.2f} GB ({file / GB:4.2f})  +{added / GB:5.2f}  {w}  {nodeid}")
    print(f"\ntests that add the most (top {a.top})")
    for test_peak, added, nodeid, w, _ in sorted(own, key=lambda r: -r[1])[:a.top]:
        print(f"  +{added / GB:5.2f} GB -> {test_peak / GB:5.2f}  {w}  {nodeid}")
    over = [w for w in peak if peak[w] > a.limit_gb * GB]
    if over:
        print(f"\nover {a.limit_gb:g} GB: {', '.join(sorted(over))}")
        return 1
    print(f"\nevery worker under {a.limit_gb:g} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
