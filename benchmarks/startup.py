"""Benchmark: archcost's analytic path vs fvcore, as whole cold processes, in one run.

    python benchmarks/startup.py [--repeats 5] [--against /work/main/.venv/bin/archcost]

Prints the median wall time and peak RSS of
  A) `archcost table mobilenetv2 --format json`            (analytic, no torch)
  B) fvcore's flop table of torchvision's mobilenet_v2      (imports torch, traces the model)
and their ratio, then in-process `archcost.analyze("mobilenetv2")` calls per second,
with the expanded graph cached (the normal case in a session) and with a fresh parse each call.
Targets (issue 8): A at most 0.10 s and at least 30× faster than B, at most 40 MiB RSS;
analyze >= 20,000/s with the graph cached and >= 1,000/s re-parsed from text each call.
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


def rate(fn, seconds: float) -> float:
    """Calls per second of fn (best of three timed rounds, after a warm-up call)."""
    fn()
    best = 0.0
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 3:
            fn()
            n += 1
        best = max(best, n / (time.perf_counter() - t0))
    return best


def in_process(seconds=2.0):
    """In-process analyze rates for mobilenetv2: graph cached; spec re-parsed from the same text each
    call (a parameter sweep, an answers file: the YAML tree is cached by content, the graph is
    expanded and analysed every call); and from a new text each call (nothing can be reused)."""
    import itertools

    import archcost
    from archcost.language import specs_dir

    text = (specs_dir() / "mobilenetv2.yaml").read_text()
    counter = itertools.count()
    cached = rate(lambda: archcost.analyze("mobilenetv2"), seconds)
    same = rate(lambda: archcost.analyze(archcost.load_spec("m.yaml", text=text)), seconds)
    new = rate(lambda: archcost.analyze(archcost.load_spec("m.yaml", text=f"{text}\n# {next(counter)}\n")), seconds)
    return cached, same, new


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--against", help="another archcost executable, timed interleaved with this one (A B A B): "
                                      "on a loaded machine only the ratio of the two means much")
    ap.add_argument("--cli-only", action="store_true", help="only the cold CLI runs (no fvcore, no in-process rates)")
    args = ap.parse_args()
    exe = shutil.which("archcost") or sys.executable
    ours = [exe, "table", "mobilenetv2", "--format", "json"] if exe.endswith("archcost") else \
        [sys.executable, "-m", "archcost", "table", "mobilenetv2", "--format", "json"]
    theirs = [sys.executable, "-c", FVCORE]
    if args.against:
        other = [args.against, *ours[-4:]]
        pairs = [(run(ours), run(other)) for _ in range(args.repeats)]
        mine = statistics.median(a[0] for a, _ in pairs)
        base = statistics.median(b[0] for _, b in pairs)
        print(f"interleaved, median of {args.repeats}: this archcost {mine * 1000:.0f} ms "
              f"(min {min(a[0] for a, _ in pairs) * 1000:.0f}), {args.against} {base * 1000:.0f} ms "
              f"(min {min(b[0] for _, b in pairs) * 1000:.0f}); ratio {mine / base:.2f}")
    if args.cli_only:
        return
    a_wall, a_rss = measure(ours, args.repeats)
    b_wall, b_rss = measure(theirs, args.repeats)
    cached, same, new = in_process()
    print(f"cold process, median of {args.repeats} (2-core machine):")
    print(f"  archcost table mobilenetv2 --format json : {a_wall * 1000:7.0f} ms  peak RSS {a_rss:6.1f} MiB")
    print(f"  fvcore flop table, torchvision mobilenet_v2: {b_wall * 1000:7.0f} ms  peak RSS {b_rss:6.1f} MiB")
    print(f"  speed-up {b_wall / a_wall:.1f}x (target >= 30x, <= 100 ms), memory ratio {b_rss / a_rss:.1f}x "
          f"(target RSS <= 40 MiB)")
    print(f"in-process archcost.analyze('mobilenetv2'): {cached:,.0f}/s with the graph cached (target >= 20,000/s)")
    print(f"  re-parsed from the same text each call: {same:,.0f}/s (target >= 1,000/s); "
          f"from a new text each call: {new:,.0f}/s")


if __name__ == "__main__":
    main()
