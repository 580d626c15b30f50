"""The analytic engine: rows per node, totals and peak memory, in pure Python.

This module (and everything it imports) must never import torch, fvcore,
pandas or plotly; ``tests/test_no_heavy_imports.py`` enforces that.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from math import prod
from typing import NamedTuple

from ..errors import SpecError, short_repr
from ..ir import INPUT, Graph
from .conventions import CONVENTIONS, DTYPE_BYTES
from .costs import NodeCosts, node_costs  # noqa: F401  (re-exported)
from .training import checked_total_bytes


@dataclass(slots=True)
class Row:
    """One analysed node. Shapes include the batch dimension.

    ``extra`` holds optional columns added by later stages (``Analysis.add_column``:
    receptive field, ``predicted_ms``, ...); they appear in ``to_dict`` only when present,
    so the JSON contract only ever gains keys.  A layer that uses another's weights has
    ``shares`` (that layer's name) there from the start, and params 0.
    """

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
    extra: dict | None = None

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ROW_FIELDS}
        if self.extra:
            d.update(self.extra)
        return d


ROW_FIELDS = [f.name for f in fields(Row) if f.name != "extra"]


class Counts(NamedTuple):
    """One node's numbers under one convention at batch 1 (a :class:`Row` before batch and dtype)."""

    params: int
    trainable: int
    buffers: int
    in_elems: int
    out_elems: int
    view: bool
    macs: int
    flops: int
    shared: int = 0  # weight and buffer elements it reads that another node owns (`shares:`), counted there


class _Counted:
    """One graph under one convention, batch 1: a :class:`Counts` per node and their sums
    (``graph.cache.counted[convention name]``)."""

    __slots__ = ("nodes", "params", "trainable", "buffers", "macs", "flops", "out", "in_nv", "out_nv",
                 "params_nv", "buffers_nv", "shared_nv")

    def __init__(self, graph: Graph, conv):
        self.nodes = nodes = []
        memo: dict = {}
        params = trainable = buffers = macs = flops = out = in_nv = out_nv = params_nv = buffers_nv = shared_nv = 0
        for n, entry in zip(graph.nodes, node_costs(graph)):
            row = memo.get(id(entry))  # nodes sharing an entry share op, attrs and shapes: the same counts
            if row is None:
                p = entry.params
                counts = conv.params(p, n.op, n)
                if entry.shared:  # another node's weights: every tool counts a module's parameters once
                    counts = (0, 0, 0)
                row = memo[id(entry)] = Counts(*counts, entry.in_elems, entry.out_elems, entry.view,
                                               conv.macs(entry.costs, n, p), conv.flops(entry.costs, n, p),
                                               p.weight + p.bias + p.buffers if entry.shared else 0)
            nodes.append(row)
            params += row.params
            trainable += row.trainable
            buffers += row.buffers
            macs += row.macs
            flops += row.flops
            out += row.out_elems
            if not row.view:  # views read and write nothing
                in_nv += row.in_elems
                out_nv += row.out_elems
                params_nv += row.params
                buffers_nv += row.buffers
                shared_nv += row.shared
        self.params, self.trainable, self.buffers, self.macs, self.flops, self.out = (
            params, trainable, buffers, macs, flops, out)
        self.in_nv, self.out_nv, self.params_nv, self.buffers_nv = in_nv, out_nv, params_nv, buffers_nv
        self.shared_nv = shared_nv


def _counted(graph: Graph, conv) -> _Counted:
    cache = graph.cache.counted
    c = cache.get(conv.name)
    if c is None:
        c = cache[conv.name] = _Counted(graph, conv)
    return c


def peak_activation_elems(graph: Graph) -> int:
    cache = graph.cache
    if cache.peak_elems is None:
        cache.peak_elems = _peak_activation_elems(graph)
    return cache.peak_elems


def _peak_activation_elems(graph: Graph) -> int:
    """Peak number of live activation elements (batch 1) over an inference pass.

    Tensor liveness: a node's output is allocated when the node runs and freed
    after its last consumer; views (flatten, dropout, identity, slice) share their
    input's storage and extend its life.  The network input is live until its
    last use; the output until the end.  Weights are not included.
    """
    nodes = graph.nodes
    base = {INPUT: INPUT}  # tensor id -> id of the storage it lives in
    last = {INPUT: -1}  # storage id -> index of its last use
    sizes = []  # per node: elements it allocates (0 for a view)
    for i, (n, nc) in enumerate(zip(nodes, node_costs(graph))):
        out_elems, view = nc.out_elems, nc.view
        for src in n.inputs:
            last[base[src]] = i
        if view:
            base[n.id] = base[n.inputs[0]]
            sizes.append(0)
        else:
            base[n.id] = n.id
            last[n.id] = i
            sizes.append(out_elems)
    last[base[graph.output]] = len(nodes)
    size_of = {n.id: sz for n, sz in zip(nodes, sizes) if sz}
    size_of[INPUT] = prod(graph.input_shape)
    freed = [0] * (len(nodes) + 2)  # elements freed after step i (index i + 1; -1 -> 0)
    for storage, i in last.items():
        freed[i + 1] += size_of[storage]
    live = peak = size_of[INPUT]
    live -= freed[0]
    for i, sz in enumerate(sizes):
        if sz:
            live += sz
            if live > peak:
                peak = live
        live -= freed[i + 1]
    return peak


class Analysis:
    """The result of :func:`analyze`: ``rows``, ``totals`` and how they were counted.

    Totals are computed at once from per-graph sums (cheap); ``rows`` are built on first access.
    """

    def __init__(self, graph: Graph, rows, totals: dict, *, convention: str, dtype: str, batch: int,
                 meta: dict | None = None, columns: dict | None = None):
        self.graph = graph
        self._rows = rows  # a list, or a function that builds it
        self.totals = totals
        self.convention = convention
        self.dtype = dtype
        self.batch = batch
        self.meta = meta or {}
        self.columns = dict(columns or {})  # extra column name -> how `collapse` merges it ("sum" | "last")

    @property
    def rows(self) -> list:
        if callable(self._rows):
            self._rows = self._rows()
        return self._rows

    @property
    def model(self) -> str:
        return self.graph.name

    @property
    def input_shape(self) -> list:
        return [self.batch, *self.graph.input_shape]

    def add_column(self, name: str, values, *, total=None, collapse: str = "sum") -> "Analysis":
        """Add an optional per-row column (one value per row, in row order) and, if given, its total.

        The column appears in every row's ``to_dict`` (so in JSON/CSV/Markdown and the rich table)
        and ``total`` in ``totals``; ``collapse`` says how ``--depth`` merges it (sum, or last row's).
        """
        rows = self.rows
        values = list(values)
        if len(values) != len(rows):
            raise ValueError(f"column {name!r} has {len(values)} values for {len(rows)} rows")
        for r, v in zip(rows, values):
            if r.extra is None:
                r.extra = {}
            r.extra[name] = v
        if total is not None:
            self.totals[name] = total
        self.columns[name] = collapse
        return self

    def to_dict(self) -> dict:
        """The JSON contract (stable; only ever extended)."""
        d = {
            "model": self.model,
            "input_shape": self.input_shape,
            "convention": self.convention,
        }
        peer = CONVENTIONS[self.convention].peer
        if peer:  # only presets that reproduce a tool say which (and which version): default output is unchanged
            d["convention_peer"] = peer
        return {
            **d,
            "dtype": self.dtype,
            "batch": self.batch,
            "meta": self.meta,
            "layers": [r.to_dict() for r in self.rows],
            "totals": dict(self.totals),
        }

    def __repr__(self) -> str:
        t = self.totals
        return (f"<Analysis {self.model}: input {'×'.join(map(str, self.input_shape))}, {t['params']:,} params, "
                f"{t['macs']:,} MACs, convention {self.convention}, {self.dtype}, {len(self.rows)} rows>")

    def _repr_html_(self) -> str:
        """Jupyter shows an Analysis as its header and an HTML table of rows and totals (no pandas).

        The formatter is :mod:`.display`, below ``report/``, so this imports downward; lazily, as only
        notebooks need it."""
        from .display import analysis_html

        return analysis_html(self)

    def to_pandas(self):
        from ..extras import require

        require("pandas", "Analysis.to_pandas()")  # an ImportError naming the pip command, as the CLI does
        import pandas as pd  # lazily: the analytic path stays light

        df = pd.DataFrame([r.to_dict() for r in self.rows], columns=ROW_FIELDS + list(self.columns))
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
            extra = None
            if self.columns:
                extra = {}
                for col, how in self.columns.items():
                    vals = [(r.extra or {}).get(col) for r in rs]
                    nums = [v for v in vals if v is not None]
                    extra[col] = vals[-1] if how == "last" else (sum(nums) if nums else None)
            rows.append(Row(
                name=key, op=f"block({len(rs)})", input_shapes=rs[0].input_shapes, output_shape=rs[-1].output_shape,
                params=sum(r.params for r in rs), trainable_params=sum(r.trainable_params for r in rs),
                buffers=sum(r.buffers for r in rs), macs=sum(r.macs for r in rs), flops=flops,
                weight_bytes=sum(r.weight_bytes for r in rs), activation_bytes=rs[-1].activation_bytes,
                read_bytes=rb, write_bytes=wb, arithmetic_intensity=flops / (rb + wb) if rb + wb else 0.0,
                extra=extra))
        return Analysis(self.graph, rows, self.totals, convention=self.convention, dtype=self.dtype,
                        batch=self.batch, meta=self.meta, columns=self.columns)


def _build_rows(graph: Graph, counted: _Counted, batch: int, b: int) -> list:
    rows = []
    append = rows.append
    for n, (params, trainable, buffers, in_elems, out_elems, view, m1, f1, shared) in zip(graph.nodes, counted.nodes):
        flops = f1 * batch
        act = out_elems * batch * b
        wbytes = params * b
        if view:
            rb = wb = 0
        else:
            rb = in_elems * batch * b + wbytes + (buffers + shared) * b  # a shared layer reads its weights too
            wb = act
        append(Row(n.id, n.op, [[batch, *s] for s in n.in_shapes], [batch, *n.out_shape], params,
                   trainable, buffers, m1 * batch, flops, wbytes, act, rb, wb, flops / (rb + wb) if rb + wb else 0.0,
                   {"shares": n.shares} if n.shares else None))
    return rows


def analyze_graph(graph: Graph, *, convention: str = "default", dtype: str = "float32", batch: int = 1,
                  meta: dict | None = None) -> Analysis:
    """Analyse an expanded graph under a named counting convention."""
    try:
        conv = CONVENTIONS[convention]
    except KeyError:
        raise SpecError(f"unknown convention '{convention}'",
                        fix=f"use one of {', '.join(CONVENTIONS)} (see the README's counting conventions; "
                            "`archcost conventions SPEC` compares them all).") from None
    try:
        b = DTYPE_BYTES[dtype]
    except KeyError:
        raise SpecError(f"unknown dtype '{dtype}'", fix=f"use one of {', '.join(DTYPE_BYTES)}.") from None
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 10**9:  # 10**400 overflows float
        raise SpecError(f"batch must be a positive integer up to 10^9, got {short_repr(batch, 30)}",
                        fix="use --batch 1 or more.")
    c = _counted(graph, conv)
    flops = c.flops * batch
    rb = b * (batch * c.in_nv + c.params_nv + c.buffers_nv + c.shared_nv)
    wb = b * batch * c.out_nv
    totals = {
        "params": c.params,
        "trainable_params": c.trainable,
        "buffers": c.buffers,
        "macs": c.macs * batch,
        "flops": flops,
        "weight_bytes": c.params * b,
        "buffer_bytes": c.buffers * b,
        "activation_bytes": c.out * batch * b,
        "peak_activation_bytes": peak_activation_elems(graph) * batch * b,
        "read_bytes": rb,
        "write_bytes": wb,
        "arithmetic_intensity": flops / (rb + wb) if rb + wb else 0.0,
        # one Adam step: weights, gradients, two moments, buffers and what autograd saves for backward
        "training_bytes": checked_total_bytes(graph, batch, dtype, dtype, "adam"),  # dtype and batch checked above
        "layers": len(graph.nodes),
    }
    return Analysis(graph, lambda: _build_rows(graph, c, batch, b), totals, convention=convention, dtype=dtype,
                    batch=batch, meta=meta)
