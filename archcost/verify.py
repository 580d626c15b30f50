"""Cross-check the analytic numbers against the lowered torch module and fvcore.

For every node: the lowered submodule's output shape (forward hook), its
parameter count, and fvcore's count for that submodule must equal the analytic
shape, params and ``fvcore``-convention MACs.  Imports torch and fvcore.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

from .analysis import analyze_graph
from .ir import Graph


@dataclass
class Check:
    name: str
    op: str
    shape: tuple  # (analytic, torch)
    params: tuple
    macs: tuple  # fvcore convention: (analytic, fvcore)
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    model: str
    checks: list
    totals: dict  # {"params": (analytic, torch), "macs": (analytic, fvcore)}

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and all(a == b for a, b in self.totals.values())

    def problems(self) -> list:
        return [f"{c.name}: {p}" for c in self.checks for p in c.problems] + [
            f"total {k}: archcost {a:,} vs torch/fvcore {b:,}" for k, (a, b) in self.totals.items() if a != b]


def fvcore_by_module(model, x) -> dict:
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fvcore traces with torch.jit, which warns about its own deprecation
        from fvcore.nn import FlopCountAnalysis

        import torch

        # in eval under no_grad, as the presets count (nn.MultiheadAttention then takes its fused kernel)
        with torch.no_grad():
            fca = FlopCountAnalysis(model, x)
            fca.unsupported_ops_warnings(False)
            fca.uncalled_modules_warnings(False)
            fca.tracer_warnings("none")
            return dict(fca.by_module())


def verify_graph(graph: Graph, *, batch: int = 1, seed: int = 0) -> VerifyReport:
    import torch

    from .lowering import example_input, lower_graph

    torch.manual_seed(seed)
    model = lower_graph(graph).eval()
    x = example_input(model, batch=batch)
    shapes: dict = {}
    hooks = []
    for nid, m in model.node_modules():
        hooks.append(m.register_forward_hook(
            lambda mod, inp, out, nid=nid: shapes.__setitem__(nid, tuple((out[0] if isinstance(out, tuple) else out).shape))))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    by_module = fvcore_by_module(model, x)
    analysis = analyze_graph(graph, convention="fvcore", batch=batch)
    checks = []
    for row, (nid, m) in zip(analysis.rows, model.node_modules()):
        torch_params = sum(p.numel() for p in m.parameters())
        fv = int(by_module.get(nid, 0))
        c = Check(row.name, row.op, (tuple(row.output_shape), shapes.get(nid)), (row.params, torch_params),
                  (row.macs, fv))
        if c.shape[0] != c.shape[1]:
            c.problems.append(f"shape archcost {list(c.shape[0])} vs torch {list(c.shape[1] or [])}")
        if row.params != torch_params:
            c.problems.append(f"params archcost {row.params:,} vs torch {torch_params:,}")
        if row.macs != fv:
            c.problems.append(f"MACs (fvcore convention) archcost {row.macs:,} vs fvcore {fv:,}")
        checks.append(c)
    totals = {
        "params": (analysis.totals["params"], sum(p.numel() for p in model.parameters())),
        "trainable_params": (analysis.totals["trainable_params"],
                             sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "macs": (analysis.totals["macs"], int(by_module.get("", 0))),
    }
    return VerifyReport(graph.name, checks, totals)
