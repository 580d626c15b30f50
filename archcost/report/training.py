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


def memory_tables(tm, graph, layers: bool = False) -> list:
    from rich.table import Table

    t = Table(title=title(tm, graph), header_style="bold")
    t.add_column("component")
    t.add_column("bytes", justify="right")
    t.add_column("", justify="right")
    t.add_column("how")
    for name, b, how in components(tm, graph):
        style = "bold" if name == "total" else None
        t.add_row(name, f"{b:,}", units.nbytes(b), how, style=style)
    tables = [t]
    if layers:
        lt = Table(title="saved for backward, per layer (a shared tensor is counted at its first saver)",
                   header_style="bold")
        lt.add_column("layer", overflow="fold")
        lt.add_column("op")
        lt.add_column("counted here", justify="right")
        lt.add_column("saves", overflow="fold")
        for n, op, b, what in layer_rows(tm, graph):
            lt.add_row(n, op, units.nbytes(b), what)
        tables.append(lt)
    return tables
