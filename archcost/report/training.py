"""Training memory as text: rich tables, JSON, CSV, Markdown (``archcost memory``)."""

from __future__ import annotations

import csv
import io
import json
from math import prod

from ..analysis.conventions import DTYPE_BYTES
from .. import units

_STATE = {"sgd": "plain SGD keeps no state",
          "momentum": "1 momentum buffer per trainable param",
          "adam": "2 moments (exp_avg, exp_avg_sq) per trainable param",
          "adamw": "2 moments (exp_avg, exp_avg_sq) per trainable param, as Adam"}


def title(tm, graph) -> str:
    name = graph.meta.get("title") or tm.model
    return (f"{name} ({tm.model}) — one training step: batch {tm.batch}, activations {tm.dtype}, "
            f"params {tm.param_dtype}, {tm.optimizer}")


def components(tm, graph) -> list:
    """(component, bytes, how it is counted) rows, total last."""
    pb = DTYPE_BYTES[tm.param_dtype]
    every = (prod(graph.input_shape) + sum(prod(n.out_shape) for n in graph.nodes)) * tm.batch * DTYPE_BYTES[tm.dtype]
    return [
        ("weights", tm.weight_bytes, f"{tm.params:,} params × {pb} B"),
        ("gradients", tm.gradient_bytes, f"{tm.trainable_params:,} trainable params × {pb} B"),
        ("optimizer state", tm.optimizer_bytes, f"{_STATE[tm.optimizer]} × {pb} B"),
        ("buffers", tm.buffer_bytes, "running means and variances; int64 batch counters"),
        ("saved activations", tm.saved_activation_bytes,
         f"what autograd keeps for backward (every layer's output would be {units.nbytes(every)})"),
        ("total", tm.total_bytes, "held at the end of the forward pass"),
    ]


def _first_savers(tm) -> dict:
    first = {}
    for nid, ts in tm.saved.items():
        for t in ts:
            first.setdefault(t.storage, nid)
    return first


def layer_rows(tm, graph) -> list:
    """(layer, op, bytes counted here, description of what it saves) per layer that saves something."""
    ops = {n.id: n.op for n in graph.nodes}
    first = _first_savers(tm)
    act = DTYPE_BYTES[tm.dtype]
    rows = []
    for nid, ts in tm.saved.items():
        parts = []
        for t in ts:
            text = f"{t.what} {units.nbytes(t.nbytes(tm.batch, act))}" + ("" if t.kind == "act" else f" {t.kind}")
            if not t.first:
                text += f" (shared, counted at {first[t.storage]})"
            parts.append(text)
        rows.append((nid, ops[nid], tm.per_node.get(nid, 0), "; ".join(parts)))
    return rows


def memory_json(tm, graph, indent: int = 2) -> str:
    d = tm.to_dict()
    d["input_shape"] = [tm.batch, *graph.input_shape]
    ops = {n.id: n.op for n in graph.nodes}
    d["layers"] = [{"name": layer["name"], "op": ops[layer["name"]], **layer} for layer in d["layers"]]
    return json.dumps(d, indent=indent, allow_nan=False)


def memory_csv(tm, graph, layers: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if layers:
        w.writerow(["layer", "op", "saved_bytes", "saved"])
        w.writerows(layer_rows(tm, graph))
    else:
        w.writerow(["component", "bytes", "how"])
        w.writerows(components(tm, graph))
    return buf.getvalue()


def memory_markdown(tm, graph, layers: bool = False) -> str:
    lines = [f"**{title(tm, graph)}**", "", "| component | bytes | | how |", "|---|---:|---:|---|"]
    for name, b, how in components(tm, graph):
        bold = "**" if name == "total" else ""
        lines.append(f"| {bold}{name}{bold} | {b:,} | {units.nbytes(b)} | {how} |")
    if layers:
        lines += ["", "| layer | op | saved (counted here) | saves |", "|---|---|---:|---|"]
        lines += [f"| {n} | {op} | {units.nbytes(b)} | {what} |" for n, op, b, what in layer_rows(tm, graph)]
    return "\n".join(lines) + "\n"


def memory_tables(tm, graph, layers: bool = False, width=None) -> list:
    """``(table, print_width)`` pairs for :func:`archcost.report.terminal.print_table`, fitted to ``width``.

    Every column is asked for; the prose columns wrap, layer names are shown as a tree and shortened
    from the middle, and a note says so when names were cut.  ``width=None``: no limit (``--wide``).
    """
    from . import terminal as T

    comps = components(tm, graph)
    cols = [T.Column("component", [c[0] for c in comps], justify="left"),
            T.Column("bytes", [f"{c[1]:,}" for c in comps]),
            T.Column("", [units.nbytes(c[1]) for c in comps]),
            T.Column("how", [c[2] for c in comps], justify="left", shorten="wrap", min_width=24)]
    styles = ["bold" if c[0] == "total" else None for c in comps]
    tables = [T.build(cols, width, title=title(tm, graph), row_styles=styles, header_style="bold")]
    if layers:
        rows = layer_rows(tm, graph)
        cols = [T.Column("layer", [r[0] for r in rows], justify="left", shorten="tree"),
                T.Column("op", [r[1] for r in rows], justify="left", shorten="middle"),
                T.Column("counted here", [units.nbytes(r[2]) for r in rows]),
                T.Column("saves", [r[3] for r in rows], justify="left", shorten="wrap", min_width=24)]
        tables.append(T.build(cols, width, header_style="bold",
                              title="saved for backward, per layer (a shared tensor is counted at its first saver)"))
    return tables
