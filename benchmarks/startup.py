"""Benchmark: archcost's analytic path vs fvcore, as whole cold processes, in one run.

    python benchmarks/startup.py [--repeats 5]

Prints the median wall time and peak RSS of
  A) `archcost table mobilenetv2 --format json`            (analytic, no torch)
  B) fvcore's flop table of torchvision's mobilenet_v2      (imports torch, traces the model)
and their ratio, then in-process `archcost.analyze("mobilenetv2")` calls per second,
with the expanded graph cached (the normal case in a session) and with a fresh parse each call.
Targets (issue 3): A at least 10× faster than B, A at most 100 MiB RSS, analyze >= 1000/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

FVCORE = """
import logging, warnings
warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
import torch, torchvision
from fvcore.nn import FlopCountAnalysis, flop_count_table
m = torchvision.models.mobilenet_v2().eval()
f = FlopCountAnalysis(m, torch.randn(1, 3, 224, 224))
f.unsupported_ops_warnings(False)
print(flop_count_table(f))
"""


def run(cmd) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one cold process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"command failed: {cmd}")
    return wall, usage.ru_maxrss / 1024  # Linux: KiB


def measure(cmd, repeats):
    runs = [run(cmd) for _ in range(repeats)]
    return statistics.median(w for w, _ in runs), max(r for _, r in runs)


def in_process(seconds=2.0):
    import archcost
    from archcost import api

    archcost.analyze("mobilenetv2")
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        archcost.analyze("mobilenetv2")
        n += 1
    warm = n / (time.perf_counter() - t0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        api._GRAPH_CACHE.clear()
        archcost.analyze("mobilenetv2")
        n += 1
    cold = n / (time.perf_counter() - t0)
    return warm, cold


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    exe = shutil.which("archcost") or sys.executable
    ours = [exe, "table", "mobilenetv2", "--format", "json"] if exe.endswith("archcost") else \
        [sys.executable, "-m", "archcost.cli", "table", "mobilenetv2", "--format", "json"]
    theirs = [sys.executable, "-c", FVCORE]
    a_wall, a_rss = measure(ours, args.repeats)
    b_wall, b_rss = measure(theirs, args.repeats)
    warm, cold = in_process()
    print(f"cold process, median of {args.repeats} (2-core machine):")
    print(f"  archcost table mobilenetv2 --format json : {a_wall * 1000:7.0f} ms  peak RSS {a_rss:6.1f} MiB")
    print(f"  fvcore flop table, torchvision mobilenet_v2: {b_wall * 1000:7.0f} ms  peak RSS {b_rss:6.1f} MiB")
    print(f"  speed-up {b_wall / a_wall:.1f}x (target >= 10x), memory ratio {b_rss / a_rss:.1f}x (target RSS <= 100 MiB)")
    print(f"in-process archcost.analyze('mobilenetv2'): {warm:,.0f}/s with the graph cached, "
          f"{cold:,.0f}/s parsing the spec each call (target >= 1000/s)")


if __name__ == "__main__":
    main()
