"""Summarise the test suite's memory from the log tests/conftest.py writes under ARCHCOST_RSS_LOG.

    ARCHCOST_RSS_LOG=/tmp/rss.log pytest && python benchmarks/rss_summary.py /tmp/rss.log [--top 15] [--limit-gb 2]

Each line of the log is "nodeid rss_after_bytes max_rss_bytes worker" (the node id may hold spaces).
Prints each worker's peak RSS and test count, then the tests that raised a worker's peak the most (the peak
after the test minus the peak before it, in that worker) and the tests that left the most resident memory.
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
            parts = line.rstrip("\n").rsplit(" ", 3)
            try:
                rows.append((parts[0], int(parts[1]), int(parts[2]), parts[3]))
            except (ValueError, IndexError):
                skipped += 1
    if skipped:
        print(f"{path}: {skipped} lines skipped, not 'nodeid rss peak worker'", file=sys.stderr)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--limit-gb", type=float, default=2.0)
    a = ap.parse_args(argv)
    rows = read(a.log)
    peak, count, last = defaultdict(int), defaultdict(int), {}
    raised = []
    for nodeid, rss, mx, worker in rows:
        prev = last.get(worker)  # a worker's first test: its peak includes start-up, not counted as raised
        raised.append((mx - prev if prev is not None else 0, mx, nodeid, worker))
        last[worker] = mx
        peak[worker] = max(peak[worker], mx)
        count[worker] += 1
    print("worker  tests  peak_gb")
    for w in sorted(peak):
        print(f"{w:7} {count[w]:6} {peak[w] / GB:8.2f}")
    print(f"\ntests that raised their worker's peak the most (top {a.top}):")
    for d, mx, nodeid, w in sorted(raised, reverse=True)[:a.top]:
        if d > 0:
            print(f"  +{d / GB:5.2f} GB -> {mx / GB:5.2f} GB  {w}  {nodeid}")
    print(f"\ntests that left the most resident memory (top {a.top}):")
    for nodeid, rss, _, w in sorted(rows, key=lambda r: -r[1])[:a.top]:
        print(f"  {rss / GB:5.2f} GB  {w}  {nodeid}")
    over = [w for w in peak if peak[w] > a.limit_gb * GB]
    if over:
        print(f"\nover {a.limit_gb:g} GB: {', '.join(sorted(over))}")
        return 1
    print(f"\nevery worker under {a.limit_gb:g} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
