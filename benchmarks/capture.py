"""Benchmark: capturing a torch module (archcost) vs fvcore's FlopCountAnalysis, same module, same run.

    python benchmarks/capture.py [--repeats 5] [--models resnet50,mobilenet_v2,...]

torch is imported first and each model built once (random weights); then, per model, the median of
``--repeats`` in-process calls of
  A) ``archcost.analyze(module, input=(3, 224, 224))``      (trace + map + meta shapes + analysis)
  B) ``archcost.analyze("torchvision:NAME")``              (the same, the model built on meta: what
                                                             ``archcost table torchvision:NAME`` does)
  C) fvcore ``FlopCountAnalysis(module, x).total()``        (jit-traces and runs the module on x)
and the ratio C / A.  Target (issue 18): B for resnet50 under 1 s.  Timings on a shared machine
vary; read the medians, and run it twice.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import warnings


def median_time(fn, repeats):
    fn()  # warm-up (lazy imports, first-call caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", default="resnet50,mobilenet_v2,densenet121,efficientnet_b0,convnext_tiny")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import torch
    import torchvision
    from fvcore.nn import FlopCountAnalysis

    import archcost

    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats}")
    print(f"{'model':<18} {'archcost(module)':>17} {'archcost(source)':>17} {'fvcore':>9} {'fvcore/archcost':>16}")
    for name in args.models.split(","):
        model = torchvision.models.get_model(name, weights=None).eval()
        x = torch.randn(1, 3, 224, 224)

        def fv():
            f = FlopCountAnalysis(model, x)
            f.unsupported_ops_warnings(False)
            f.uncalled_modules_warnings(False)
            return f.total()

        a = median_time(lambda: archcost.analyze(model, input=(3, 224, 224)), args.repeats)
        b = median_time(lambda: archcost.analyze(f"torchvision:{name}"), args.repeats)
        c = median_time(fv, args.repeats)
        print(f"{name:<18} {a:>16.3f}s {b:>16.3f}s {c:>8.3f}s {c / a:>15.1f}×")


if __name__ == "__main__":
    main()
