"""Plain-text outputs of an Analysis: JSON, CSV, Markdown. No rich, no pandas."""

from __future__ import annotations

import csv
import io
import json

from ..analysis.conventions import CONVENTIONS
from ..analysis.engine import ROW_FIELDS
from . import units


def to_json(analysis, indent: int = 2) -> str:
    """The JSON contract as text: indented, with one layer per line.

    One line per layer reads better than twenty, and keeps json's C encoder in use (``indent``
    sends json to its pure-Python encoder: ~30 ms for a zoo model's layers).
    """
    d = analysis.to_dict()
    layers = d.pop("layers")
    text = json.dumps(d, indent=indent)
    pad = " " * indent
    rows = f",\n{pad}{pad}".join(json.dumps(row) for row in layers)
    body = f'{pad}"layers": [\n{pad}{pad}{rows}\n{pad}]' if layers else f'{pad}"layers": []'
    head, sep, tail = text.rpartition(f',\n{pad}"totals": ')  # layers go before the totals, as in to_dict
    return f"{head},\n{body}{sep}{tail}" if sep else text


def cell_text(value) -> str:
    """An extra column's value as text (numbers with thousands separators, floats to 4 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "×".join(cell_text(v) for v in value)
    return str(value)


def to_csv(analysis) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    extra = list(analysis.columns)
    w.writerow(ROW_FIELDS + extra)
    for r in analysis.rows:
        d = r.to_dict()
        w.writerow([["x".join(map(str, s)) for s in d["input_shapes"]] if k == "input_shapes" else
                    ("x".join(map(str, d[k])) if k == "output_shape" else d[k]) for k in ROW_FIELDS]
                   + [_csv_value(d.get(k)) for k in extra])
    return buf.getvalue()


def _csv_value(v):
    if isinstance(v, (list, tuple)):
        return "x".join(map(str, v))
    return "" if v is None else v


def header_lines(analysis) -> list:
    t = analysis.totals
    conv = CONVENTIONS[analysis.convention]
    title = analysis.meta.get("title") or analysis.model
    lines = [
        f"{title} ({analysis.model}) — input {units.shape(analysis.input_shape)}, dtype {analysis.dtype}",
        f"convention: {analysis.convention} ({conv.doc})",
        f"total: {t['params']:,} params, {t['macs']:,} MACs, {t['flops']:,} FLOPs, "
        f"weights {units.nbytes(t['weight_bytes'])}, peak activations {units.nbytes(t['peak_activation_bytes'])}",
    ]
    if t.get("predicted_ms") is not None:
        lines.append(f"predicted latency: {t['predicted_ms']:.4g} ms per forward pass (device profile "
                     f"{analysis.meta.get('device_profile', '?')})")
    paper, acc = analysis.meta.get("paper"), analysis.meta.get("accuracy")
    if paper:
        where = paper.get("arxiv") and f"arXiv {paper['arxiv']}" or paper.get("venue") or ""
        lines.append(f"paper: {paper['title']} ({', '.join(str(x) for x in (paper.get('year'), where) if x)})")
    if acc and acc.get("top1") is not None:
        lines.append(f"top-1 {acc['top1']}% on {acc.get('dataset', 'ImageNet-1k')} ({acc['source']})")
    elif acc and acc.get("top5") is not None:  # e.g. googlenet_paper: the paper gives top-5 only
        lines.append(f"top-5 {acc['top5']}% on {acc.get('dataset', 'ImageNet-1k')} ({acc['source']})")
    return lines


def to_markdown(analysis) -> str:
    lines = [f"**{line}**  " if i == 0 else f"{line}  " for i, line in enumerate(header_lines(analysis))]
    extra = list(analysis.columns)
    lines += ["", "| layer | op | output | params | MACs | FLOPs | activations |" + "".join(f" {k} |" for k in extra),
              "|---|---|---|---:|---:|---:|---:|" + "---:|" * len(extra)]
    for r in analysis.rows:
        ex = r.extra or {}
        lines.append(f"| {r.name} | {r.op} | {units.shape(r.output_shape)} | {r.params:,} | {r.macs:,} | "
                     f"{r.flops:,} | {units.nbytes(r.activation_bytes)} |" + "".join(f" {cell_text(ex.get(k))} |" for k in extra))
    t = analysis.totals
    lines.append(f"| **total** | | | **{t['params']:,}** | **{t['macs']:,}** | **{t['flops']:,}** | "
                 f"peak {units.nbytes(t['peak_activation_bytes'])} |" + "".join(f" {cell_text(t.get(k))} |" for k in extra))
    return "\n".join(lines) + "\n"
