"""Fuzz archcost with thousands of random valid networks (the property of tests/test_fuzz_networks.py).

    python benchmarks/fuzz_networks.py [N] [--seed S]

Draws N networks (default 1000) with ``tests/strategies.py``, checks each against
torch and fvcore layer by layer, and prints how many were tried and every failure
(its YAML and the disagreement), without stopping at the first.  Exit status 1 if
any failed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from strategies import networks  # noqa: E402
from test_fuzz_networks import check_network  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=1000, help="networks to try")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    failures, stats, seen = [], {"tried": 0, "nodes": 0}, set()

    @seed(args.seed)
    @settings(max_examples=args.n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(networks())
    def run(net):
        stats["tried"] += 1
        seen.add(net.text)
        try:
            stats["nodes"] += check_network(net)
        except Exception as err:  # noqa: BLE001 - collect every failure
            failures.append((net.text, f"{type(err).__name__}: {err}", traceback.format_exc(limit=3)))

    t0 = time.perf_counter()
    run()
    dt = time.perf_counter() - t0
    print(f"random networks tried: {stats['tried']} ({len(seen)} distinct, {stats['nodes']:,} layers) in {dt:.0f} s; "
          f"failures: {len(failures)}")
    for i, (text, err, _) in enumerate(failures[:20]):
        print(f"\n--- failure {i + 1}: {err[:500]}\n{text}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
