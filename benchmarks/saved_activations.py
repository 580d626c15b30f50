"""Saved-activation bytes: archcost's analytic model vs what torch's autograd actually saves.

    python benchmarks/saved_activations.py [--batch 2] [models ...] > reports/saved_activations.md

For each model: one forward pass of the lowered module in train mode under
torch.autograd.graph.saved_tensors_hooks (tensors counted once per storage, parameters and
buffers left out; tests/saved_torch.py) against `training_memory(graph).saved_activation_bytes`.
The last column removes the one documented difference: on CPU torch saves dropout's mask in
the activation dtype, archcost models CUDA's 1-byte bool mask.
"""

from __future__ import annotations

import argparse
import sys
from math import prod
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

DEFAULT = ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "mobilenetv2", "googlenet", "densenet121",
           "efficientnet_b0", "shufflenet_v2_x1_0", "squeezenet1_0", "mobilenet_v3_small", "inception_v3", "zfnet"]


def main():
    import torch

    import archcost
    from archcost.analysis.training import training_memory
    from saved_torch import torch_saved

    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=DEFAULT)
    ap.add_argument("--batch", type=int, default=2)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, CPU, float32, batch {args.batch}, train mode\n")
    print("| model | archcost | torch (saved_tensors_hooks) | difference | after the CPU dropout mask |")
    print("|---|---:|---:|---:|---:|")
    for name in args.models:
        g = archcost.build(name)
        measured, _ = torch_saved(g, batch=args.batch)
        analytic = training_memory(g, batch=args.batch).saved_activation_bytes
        mask = sum(prod(n.out_shape) * args.batch * 3 for n in g.nodes if n.op == "dropout" and 0 < n.attrs["p"] < 1)
        print(f"| {name} | {analytic:,} | {measured:,} | {100 * (analytic - measured) / measured:+.3f}% | "
              f"{100 * (analytic + mask - measured) / measured:+.3f}% |", flush=True)


if __name__ == "__main__":
    main()
