"""Every counting convention on one network, and each one's difference to ``default`` by op category.

Pure Python.  Each convention's MACs are summed per category (:data:`~archcost.analysis.peers.CATEGORIES`)
from the same per-node counts the totals use, so a preset's per-category differences to ``default``
add up to its total difference exactly: the gap between any two tools is the difference of their rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Graph
from .conventions import CONVENTIONS, EXTRA_FLOPS
from .engine import analyze_graph, node_costs
from ..ops import OPS
from .peers import CATEGORIES, CATEGORY_LABELS

# which category each of the `full` preset's extra FLOPs falls in (norm and pool split by op)
_EXTRA = {"bias_flops": "bias", "act_flops": "act", "eltwise_flops": "eltwise"}


@dataclass
class PresetCount:
    """One convention's totals on a network, batch included."""

    name: str
    peer: str | None
    doc: str
    macs: int
    flops: int
    params: int
    trainable_params: int
    macs_by_category: dict = field(default_factory=dict)  # category -> MACs (zeros left out)
    macs_vs_default: int = 0
    macs_vs_default_by_category: dict = field(default_factory=dict)  # sums to macs_vs_default exactly
    extra_flops_by_category: dict = field(default_factory=dict)  # FLOPs - 2 × MACs, by category (full only)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Comparison:
    """The result of :func:`compare_conventions`: one :class:`PresetCount` per convention."""

    model: str
    input_shape: list
    batch: int
    presets: list
    meta: dict = field(default_factory=dict)

    def by_name(self) -> dict:
        return {p.name: p for p in self.presets}

    def categories(self) -> list:
        """Categories in which some preset differs from ``default`` (display order)."""
        used = {k for p in self.presets for k, v in p.macs_vs_default_by_category.items() if v}
        return [c for c in CATEGORIES if c in used]

    def to_dict(self) -> dict:
        return {"model": self.model, "input_shape": self.input_shape, "batch": self.batch,
                "categories": dict(CATEGORY_LABELS), "conventions": [p.to_dict() for p in self.presets]}


def category_macs(graph: Graph, convention: str) -> dict:
    """A convention's MACs on ``graph`` (batch 1) summed per category; zeros left out."""
    conv = CONVENTIONS[convention]
    out: dict = {}
    for n, e in zip(graph.nodes, node_costs(graph)):
        for k, v in conv.breakdown(e.costs, n, e.params).items():
            out[k] = out.get(k, 0) + v
    return {k: out[k] for k in CATEGORIES if out.get(k)}


def _extra_flops(graph: Graph) -> dict:
    out: dict = {}
    for n, e in zip(graph.nodes, node_costs(graph)):
        for key, v in e.costs.items():
            if not v or key not in EXTRA_FLOPS:
                continue
            cat = _EXTRA.get(key) or OPS[n.op].category  # norm_flops / pool_flops: the op's own category
            out[cat] = out.get(cat, 0) + v
    return {k: out[k] for k in CATEGORIES if out.get(k)}


def compare_conventions(graph: Graph, *, batch: int = 1, conventions=None, meta: dict | None = None) -> Comparison:
    """Analyse ``graph`` under each convention (all by default) and break each one's MACs down by category."""
    names = list(conventions or CONVENTIONS)
    base = {k: v * batch for k, v in category_macs(graph, "default").items()}
    presets = []
    for name in names:
        a = analyze_graph(graph, convention=name, batch=batch)  # validates the name and the batch
        cats = {k: v * batch for k, v in category_macs(graph, name).items()}
        diff = {k: cats.get(k, 0) - base.get(k, 0) for k in CATEGORIES}
        conv = CONVENTIONS[name]
        extra = {k: v * batch for k, v in _extra_flops(graph).items()} if conv.extra_flops else {}
        presets.append(PresetCount(
            name=name, peer=conv.peer, doc=conv.doc, macs=a.totals["macs"], flops=a.totals["flops"],
            params=a.totals["params"], trainable_params=a.totals["trainable_params"], macs_by_category=cats,
            macs_vs_default=a.totals["macs"] - sum(base.values()),
            macs_vs_default_by_category={k: v for k, v in diff.items() if v}, extra_flops_by_category=extra))
    return Comparison(model=graph.name, input_shape=[batch, *graph.input_shape], batch=batch, presets=presets,
                      meta=dict(meta if meta is not None else graph.meta))
