"""The analytic engine: rows per node, totals and peak memory, in pure Python.

This module (and everything it imports) must never import torch, fvcore,
pandas or plotly; ``tests/test_no_heavy_imports.py`` enforces that.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from math import prod

from ..errors import SpecError
from ..ir import INPUT, Graph
from ..ops import OPS
from .conventions import CONVENTIONS, DTYPE_BYTES


@dataclass(slots=True)
class Row:
    """One analysed node. Shapes include the batch dimension."""

    name: str
    op: str
    input_shapes: list
    output_shape: list
    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    weight_bytes: int
    activation_bytes: int
    read_bytes: int
    write_bytes: int
    arithmetic_intensity: float  # flops per byte moved

    def to_dict(self) -> dict:
        return asdict(self)


ROW_FIELDS = [f.name for f in fields(Row)]


def node_costs(graph: Graph) -> list:
    """Per node: (params, trainable, buffers, input elems, output elems, is view, cost dict).

    Independent of batch, dtype and convention, so computed once and cached on the graph.
    """
    cached = getattr(graph, "_node_costs", None)
    if cached is None:
        cached = []
        for n in graph.nodes:
            op = OPS[n.op]
            ins = list(n.in_shapes)
            p = op.params(n.attrs, ins)
            cached.append((p.weight + p.bias, p.trainable, p.buffers, sum(prod(s) for s in n.in_shapes),
                           prod(n.out_shape), op.view, op.costs(n.attrs, ins, n.out_shape)))
        graph._node_costs = cached
    return cached


def _convention_counts(graph: Graph, conv) -> list:
    """(macs, flops) per node for batch 1 under a convention, cached on the graph."""
    cache = graph.__dict__.setdefault("_conv_counts", {})
    if conv.name not in cache:
        cache[conv.name] = [(conv.macs(c[6]), conv.flops(c[6])) for c in node_costs(graph)]
    return cache[conv.name]


def peak_activation_elems(graph: Graph) -> int:
    cached = graph.__dict__.get("_peak_elems")
    if cached is None:
        cached = graph.__dict__["_peak_elems"] = _peak_activation_elems(graph)
    return cached


def _peak_activation_elems(graph: Graph) -> int:
    """Peak number of live activation elements (batch 1) over an inference pass.

    Tensor liveness: a node's output is allocated when the node runs and freed
    after its last consumer; views (flatten, dropout, identity, slice) share their
    input's storage and extend its life.  The network input is live until its
    last use; the output until the end.  Weights are not included.
    """
    base = {INPUT: INPUT}
    size = {INPUT: prod(graph.input_shape)}
    last = {INPUT: -1}
    for i, n in enumerate(graph.nodes):
        if OPS[n.op].view:
            base[n.id] = base[n.inputs[0]]
        else:
            base[n.id] = n.id
            size[n.id] = prod(n.out_shape)
            last[n.id] = i
        for src in n.inputs:
            last[base[src]] = i
    last[base[graph.output]] = len(graph.nodes)
    free_at: dict = {}
    for storage, i in last.items():
        free_at.setdefault(i, []).append(storage)
    live = size[INPUT]
    peak = live
    for s in free_at.get(-1, []):
        live -= size[s]
    for i, n in enumerate(graph.nodes):
        if base[n.id] == n.id:
            live += size[n.id]
            peak = max(peak, live)
        for s in free_at.get(i, []):
            live -= size[s]
    return peak


class Analysis:
    """The result of :func:`analyze`: ``rows``, ``totals`` and how they were counted."""

    def __init__(self, graph: Graph, rows: list, totals: dict, *, convention: str, dtype: str, batch: int,
                 meta: dict | None = None):
        self.graph = graph
        self.rows = rows
        self.totals = totals
        self.convention = convention
        self.dtype = dtype
        self.batch = batch
        self.meta = meta or {}

    @property
    def model(self) -> str:
        return self.graph.name

    @property
    def input_shape(self) -> list:
        return [self.batch, *self.graph.input_shape]

    def to_dict(self) -> dict:
        """The JSON contract (stable; only ever extended)."""
        return {
            "model": self.model,
            "input_shape": self.input_shape,
            "convention": self.convention,
            "dtype": self.dtype,
            "batch": self.batch,
            "meta": self.meta,
            "layers": [r.to_dict() for r in self.rows],
            "totals": dict(self.totals),
        }

    def to_pandas(self):
        import pandas as pd  # lazily: the analytic path stays light

        df = pd.DataFrame([r.to_dict() for r in self.rows], columns=ROW_FIELDS)
        df.attrs.update(model=self.model, convention=self.convention, dtype=self.dtype, totals=dict(self.totals))
        return df

    def collapse(self, depth: int) -> "Analysis":
        """Merge rows whose names share the first ``depth`` path segments (blocks as one row)."""
        if depth < 1:
            raise SpecError(f"--depth must be at least 1, got {depth}", fix="use --depth 1 for top-level blocks.")
        groups: dict = {}
        order = []
        for r in self.rows:
            key = ".".join(r.name.split(".")[:depth])
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(r)
        rows = []
        for key in order:
            rs = groups[key]
            if len(rs) == 1 and rs[0].name == key:
                rows.append(rs[0])
                continue
            flops = sum(r.flops for r in rs)
            rb, wb = sum(r.read_bytes for r in rs), sum(r.write_bytes for r in rs)
            rows.append(Row(
                name=key, op=f"block({len(rs)})", input_shapes=rs[0].input_shapes, output_shape=rs[-1].output_shape,
                params=sum(r.params for r in rs), trainable_params=sum(r.trainable_params for r in rs),
                buffers=sum(r.buffers for r in rs), macs=sum(r.macs for r in rs), flops=flops,
                weight_bytes=sum(r.weight_bytes for r in rs), activation_bytes=rs[-1].activation_bytes,
                read_bytes=rb, write_bytes=wb, arithmetic_intensity=flops / (rb + wb) if rb + wb else 0.0))
        return Analysis(self.graph, rows, self.totals, convention=self.convention, dtype=self.dtype,
                        batch=self.batch, meta=self.meta)


def analyze_graph(graph: Graph, *, convention: str = "default", dtype: str = "float32", batch: int = 1,
                  meta: dict | None = None) -> Analysis:
    """Analyse an expanded graph under a named counting convention."""
    try:
        conv = CONVENTIONS[convention]
    except KeyError:
        raise SpecError(f"unknown convention '{convention}'",
                        fix=f"use one of {', '.join(CONVENTIONS)} (see the README's counting conventions).") from None
    try:
        b = DTYPE_BYTES[dtype]
    except KeyError:
        raise SpecError(f"unknown dtype '{dtype}'", fix=f"use one of {', '.join(DTYPE_BYTES)}.") from None
    if not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be a positive integer, got {batch!r}", fix="use --batch 1 or more.")
    rows = []
    append = rows.append
    tot_params = tot_train = tot_buf = tot_macs = tot_flops = tot_act = tot_rb = tot_wb = 0
    saved = prod(graph.input_shape)
    for n, (params, trainable, buffers, in_elems, out_elems, view, _), (m1, f1) in zip(
            graph.nodes, node_costs(graph), _convention_counts(graph, conv)):
        macs = m1 * batch
        flops = f1 * batch
        act = out_elems * batch * b
        wbytes = params * b
        if view:
            rb = wb = 0
        else:
            rb = in_elems * batch * b + wbytes + buffers * b
            wb = act
            saved += out_elems
        append(Row(n.id, n.op, [[batch, *s] for s in n.in_shapes], [batch, *n.out_shape], params,
                   trainable, buffers, macs, flops, wbytes, act, rb, wb, flops / (rb + wb) if rb + wb else 0.0))
        tot_params += params
        tot_train += trainable
        tot_buf += buffers
        tot_macs += macs
        tot_flops += flops
        tot_act += act
        tot_rb += rb
        tot_wb += wb
    peak = peak_activation_elems(graph) * batch * b
    weight_bytes = tot_params * b
    totals = {
        "params": tot_params,
        "trainable_params": tot_train,
        "buffers": tot_buf,
        "macs": tot_macs,
        "flops": tot_flops,
        "weight_bytes": weight_bytes,
        "buffer_bytes": tot_buf * b,
        "activation_bytes": tot_act,
        "peak_activation_bytes": peak,
        "read_bytes": tot_rb,
        "write_bytes": tot_wb,
        "arithmetic_intensity": tot_flops / (tot_rb + tot_wb) if tot_rb + tot_wb else 0.0,
        # training, Adam: weights + gradients + two moments, plus every non-view output saved for backward
        "training_bytes": 4 * tot_train * b + tot_buf * b + saved * batch * b,
        "layers": len(rows),
    }
    return Analysis(graph, rows, totals, convention=convention, dtype=dtype, batch=batch, meta=meta)
