"""``archcost compare`` as text: :func:`compare_text` (JSON, CSV, Markdown) and :func:`compare_table` (rich).

They format the result of :func:`archcost.catalog.compare.compare_rows` (its module doc gives the
JSON contract) and compute nothing.
"""

from __future__ import annotations

import csv
import io
import json

from .. import units
from ..catalog.compare import numeric_columns

# (key, header, how a value prints)
COST_COLUMNS = [
    ("params", "params", units.count),
    ("macs", "MACs", units.count),
    ("flops", "FLOPs", units.count),
    ("peak_activation_bytes", "peak activations", units.nbytes),
    ("weight_bytes", "weights", units.nbytes),
]
LATENCY_COLUMNS = [("predicted_ms", "predicted ms", lambda v: f"{v:.3g}"),
                   ("measured_ms", "measured ms", lambda v: f"{v:.3g}")]


_BY_KEY = {c[0]: c for c in COST_COLUMNS + LATENCY_COLUMNS}


def _columns(result) -> list:
    return [_BY_KEY[k] for k in numeric_columns(result)]


def title_lines(result) -> list:
    """What was compared and how it was counted (shown above every rendering)."""
    how = [f"convention {result['convention']}", result["dtype"], f"batch {result['batch']}"]
    if result["input"]:
        how.append("input " + "×".join(map(str, result["input"])))
    how += [f"{k}={v}" for k, v in result["set"].items()]
    n = len(result["models"])
    lines = [f"compare {n} model{'s' if n != 1 else ''}; ratios to {result['baseline']} ({', '.join(how)})"
             if n > 1 else f"{result['baseline']} ({', '.join(how)})"]
    lat = result["latency"]
    if "predicted" in lat:
        lines.append(f"predicted latency: device profile {lat['predicted']}")
    if "measured" in lat:
        lines.append(f"measured latency: median, {lat['measured']} ({lat['measured_file']})")
    return lines


def cells(result, stacked: bool = False) -> tuple:
    """(headers, rows of strings, notes): a value and its ratio to the baseline in each cell.

    ``stacked`` (the rich table) puts the ratio on a second line and leaves out FLOPs where they are
    2 × MACs for every model, so the table fits 80 columns.
    """
    cols = _columns(result)
    if stacked and all(m["flops"] == 2 * m["macs"] for m in result["models"]):
        cols = [c for c in cols if c[0] != "flops"]
    short = {"peak_activation_bytes": "peak act."} if stacked else {}
    headers = ["model", *(short.get(k, h) for k, h, _ in cols), "top-1 %"]
    rows, notes = [], []
    for i, m in enumerate(result["models"]):
        row = [m["model"]]
        for k, _, fmt in cols:
            v, r = m.get(k), m["ratios"].get(k)
            row.append("" if v is None else fmt(v) if i == 0 or r is None else _with(fmt(v), _ratio(r), stacked))
        top, delta = m["top1"], m["top1_delta"]
        row.append("" if top is None else f"{top:.2f}" if i == 0 or delta is None
                   else _with(f"{top:.2f}", f"{delta:+.2f}", stacked))
        rows.append(row)
        notes += [f"{m['model']}: {n}" for n in m["notes"]]
    return headers, rows, notes


def _with(value: str, rel: str, stacked: bool) -> str:
    return f"{value}\n{rel}" if stacked else f"{value} ({rel})"


def _ratio(r: float) -> str:
    return f"{r:.3g}×"


def compare_text(result, fmt: str) -> str:
    """``json``, ``csv`` or ``markdown`` text of :func:`~archcost.catalog.compare.compare_rows`'s result."""
    if fmt == "json":
        return json.dumps(result, indent=2, allow_nan=False)
    if fmt == "csv":
        cols = [k for k, _, _ in _columns(result)]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["model", "family", "input_shape", *cols, "top1", "accuracy_dataset",
                    *(f"{k}_ratio" for k in cols), "top1_delta"])
        for m in result["models"]:
            w.writerow([m["model"], m["family"], "x".join(map(str, m["input_shape"])),
                        *("" if m.get(k) is None else m[k] for k in cols),
                        "" if m["top1"] is None else m["top1"], m["accuracy_dataset"] or "",
                        *("" if m["ratios"][k] is None else f"{m['ratios'][k]:.6g}" for k in cols),
                        "" if m["top1_delta"] is None else m["top1_delta"]])
        return buf.getvalue()
    headers, rows, notes = cells(result)
    lines = [f"**{line}**  " if i == 0 else f"{line}  " for i, line in enumerate(title_lines(result))]
    lines += ["", "| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def compare_table(result, width=200):
    """``(table, print_width)`` of :func:`~archcost.catalog.compare.compare_rows`'s result (``width`` None: no limit).

    Weights, then peak activations and FLOPs make way on a narrow terminal; models, MACs, params,
    latencies and top-1 stay.
    """
    from .terminal import Column, build

    headers, rows, notes = cells(result, stacked=True)
    head = title_lines(result)
    if all(m["flops"] == 2 * m["macs"] for m in result["models"]):
        head.append("FLOPs = 2 × MACs for every model (shown in --format json/csv/markdown)")
    prio = {"weights": 2, "peak act.": 1, "FLOPs": 1}
    cols = [Column(h, [r[i] for r in rows], "", prio.get(h, 0), "left" if i == 0 else "right",
                   shorten="middle" if i == 0 else None) for i, h in enumerate(headers)]
    return build(cols, width, title=head[0], caption_lines=head[1:] + notes, header_style="bold")
