"""Plain-text outputs of an Analysis: JSON, CSV, Markdown. No rich, no pandas."""

from __future__ import annotations

import csv
import io
import json

from .. import units
from ..analysis.display import cell_text, header_lines
from ..analysis.engine import ROW_FIELDS


def to_json(analysis, indent: int = 2, extra: dict = None) -> str:
    """The JSON contract as text: indented, with one layer per line.

    One line per layer reads better than twenty, and keeps json's C encoder in use (``indent``
    sends json to its pure-Python encoder: ~30 ms for a zoo model's layers).
    ``extra`` adds top-level keys after the totals (``verify`` from ``table --verify``).
    """
    d = analysis.to_dict()
    d.update(extra or {})
    layers = d.pop("layers")
    text = json.dumps(d, indent=indent, allow_nan=False)
    pad = " " * indent
    rows = f",\n{pad}{pad}".join(json.dumps(row, allow_nan=False) for row in layers)
    body = f'{pad}"layers": [\n{pad}{pad}{rows}\n{pad}]' if layers else f'{pad}"layers": []'
    head, sep, tail = text.rpartition(f',\n{pad}"totals": ')  # layers go before the totals, as in to_dict
    return f"{head},\n{body}{sep}{tail}" if sep else text


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
