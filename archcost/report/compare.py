"""``archcost compare``: models side by side, with ratios to the first (pure Python; no pandas).

:func:`compare_rows` returns the JSON contract below; :func:`compare_text` renders it as CSV or
Markdown and :func:`compare_table` as a rich table.  ``archcost.compare`` wraps the same rows in
a pandas DataFrame.

JSON (``archcost compare A B --format json``; keys are only ever added)::

    {"convention", "dtype", "batch", "input" (the --input override or null), "set" ({name: value}),
     "baseline" (the first model), "latency": {"measured": LABEL, "measured_file": PATH,
     "predicted": PROFILE} (each only when given),
     "models": [{"model", "requested", "family", "title", "input_shape", "params", "macs", "flops",
                 "peak_activation_bytes", "weight_bytes", "top1", "accuracy_dataset", "accuracy_source",
                 "predicted_ms"?, "measured_ms"?, "measured_iqr_ms"?, "measured_cv"?,
                 "ratios": {column: value / baseline's value}, "top1_delta" (percentage points vs the
                 baseline, or null), "notes": [why a value is missing]}]}
"""

from __future__ import annotations

import csv
import io
import json

from . import units

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


def compare_rows(names, *, input=None, overrides: dict | None = None, convention: str = "default",
                 dtype: str = "float32", batch: int = 1, latency=None, device_profile=None) -> dict:
    """Totals, accuracy and latency of each model, with ratios to the first (see the module doc)."""
    from ..api import _parse_input
    from .latency import LatencyReport, load_latency_report
    from .models import summarize

    names = list(names)
    if not names:
        from ..errors import SpecError

        raise SpecError("compare needs at least one model", fix="e.g. `archcost compare resnet50 mobilenetv2`.")
    measured = None
    if latency is not None:
        measured = latency if isinstance(latency, LatencyReport) else load_latency_report(str(latency))
    result = {"convention": convention, "dtype": dtype, "batch": batch,
              "input": list(_parse_input(input)) if input is not None else None, "set": dict(overrides or {}),
              "baseline": None, "latency": {}, "models": []}
    if measured is not None:
        result["latency"].update(measured=measured.label(), measured_file=measured.path)
    if device_profile is not None:
        from .latency import profile_label

        result["latency"]["predicted"] = profile_label(device_profile)
    for name in names:
        s = summarize(name, input=input, overrides=overrides, convention=convention, dtype=dtype, batch=batch,
                      device_profile=device_profile)
        row = {"model": s.name, "requested": s.requested, "family": s.family, "title": s.title,
               "input_shape": s.input_shape, **{k: s.totals[k] for k, _, _ in COST_COLUMNS},
               "top1": s.top1, "accuracy_dataset": s.dataset if s.top1 is not None else None,
               "accuracy_source": s.accuracy_source, "notes": []}
        if s.top1 is None:
            row["notes"].append(f"no top-1 accuracy ({s.accuracy_source or 'the spec gives none'})")
        if device_profile is not None:
            row["predicted_ms"] = s.totals["predicted_ms"]
        if measured is not None:
            entry, why = measured.lookup(s, input=input, overrides=overrides)
            row["measured_ms"] = entry["median"] if entry else None
            if entry:
                row["measured_iqr_ms"] = entry.get("iqr")
                row["measured_cv"] = entry.get("cv")
            else:
                row["notes"].append(f"no measured latency: {why}")
        result["models"].append(row)
    base = result["models"][0]
    result["baseline"] = base["model"]
    for row in result["models"]:
        row["ratios"] = {k: (row[k] / base[k] if isinstance(row.get(k), (int, float)) and base.get(k) else None)
                         for k in _numeric_columns(result)}
        row["top1_delta"] = (round(row["top1"] - base["top1"], 6)
                             if row["top1"] is not None and base["top1"] is not None else None)
    return result


def _numeric_columns(result) -> list:
    cols = [k for k, _, _ in COST_COLUMNS]
    return cols + [k for k, _, _ in LATENCY_COLUMNS if any(k in m for m in result["models"])]


def _columns(result) -> list:
    return COST_COLUMNS + [c for c in LATENCY_COLUMNS if any(c[0] in m for m in result["models"])]


def title_lines(result) -> list:
    """What was compared and how it was counted (shown above every rendering)."""
    how = [f"convention {result['convention']}", result["dtype"], f"batch {result['batch']}"]
    if result["input"]:
        how.append("input " + "×".join(map(str, result["input"])))
    how += [f"{k}={v}" for k, v in result["set"].items()]
    lines = [f"compare {len(result['models'])} models; ratios to {result['baseline']} ({', '.join(how)})"]
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
    """``json``, ``csv`` or ``markdown`` text of :func:`compare_rows`'s result."""
    if fmt == "json":
        return json.dumps(result, indent=2)
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


def compare_table(result):
    """The rich table of :func:`compare_rows`'s result."""
    from rich.table import Table

    headers, rows, notes = cells(result, stacked=True)
    head = title_lines(result)
    if all(m["flops"] == 2 * m["macs"] for m in result["models"]):
        head.append("FLOPs = 2 × MACs for every model (shown in --format json/csv/markdown)")
    t = Table(title=head[0], caption="\n".join(head[1:] + notes) or None, caption_justify="left",
              header_style="bold")
    for i, h in enumerate(headers):
        t.add_column(h, justify="left" if i == 0 else "right", no_wrap=True)
    for r in rows:
        t.add_row(*r)
    return t
