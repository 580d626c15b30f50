"""Models side by side with ratios to the first: the data of ``archcost compare`` (pure Python; no pandas).

:func:`compare_rows` returns the JSON contract below; :mod:`archcost.report.compare` renders it
as a rich table, CSV or Markdown, and :func:`compare` (``archcost.compare``) wraps the same rows in a
pandas DataFrame.

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

from ..api import parse_input
from ..errors import SpecError
from ..extras import need
from .latency import LatencyReport, load_latency_report, profile_label
from .models import summarize

#: the totals compared, in column order
COST_KEYS = ("params", "macs", "flops", "peak_activation_bytes", "weight_bytes")
#: latency columns, present when some model has them
LATENCY_KEYS = ("predicted_ms", "measured_ms")


def compare_rows(names, *, input=None, overrides: dict | None = None, convention: str = "default",
                 dtype: str = "float32", batch: int = 1, latency=None, device_profile=None) -> dict:
    """Totals, accuracy and latency of each model, with ratios to the first (see the module doc)."""
    names = list(names)
    if not names:
        raise SpecError("compare needs at least one model", fix="e.g. `archcost compare resnet50 mobilenetv2`.")
    measured = None
    if latency is not None:
        measured = latency if isinstance(latency, LatencyReport) else load_latency_report(str(latency))
    result = {"convention": convention, "dtype": dtype, "batch": batch,
              "input": list(parse_input(input)) if input is not None else None, "set": dict(overrides or {}),
              "baseline": None, "latency": {}, "models": []}
    if measured is not None:
        result["latency"].update(measured=measured.label(), measured_file=measured.path)
    if device_profile is not None:
        result["latency"]["predicted"] = profile_label(device_profile)
    for name in names:
        s = summarize(name, input=input, overrides=overrides, convention=convention, dtype=dtype, batch=batch,
                      device_profile=device_profile)
        row = {"model": s.name, "requested": s.requested, "family": s.family, "title": s.title,
               "input_shape": s.input_shape, **{k: s.totals[k] for k in COST_KEYS},
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
                         for k in numeric_columns(result)}
        row["top1_delta"] = (round(row["top1"] - base["top1"], 6)
                             if row["top1"] is not None and base["top1"] is not None else None)
    return result


def compare(models, *, input=None, overrides: dict | None = None, convention: str = "default", dtype: str = "float32",
            batch: int = 1, latency=None, device_profile=None):
    """Models side by side as a pandas DataFrame (one row per model, indexed by name).

    Columns: family, input_shape, params, macs, flops, peak_activation_bytes, weight_bytes, top1,
    accuracy_dataset, accuracy_source (and predicted_ms / measured_ms with ``device_profile`` /
    ``latency``), then ``<column>_ratio`` (to the first model) and ``top1_delta`` (points).  The pure
    data is :func:`compare_rows` (what ``archcost compare`` prints).
    """
    need("pandas", "archcost.compare")
    import pandas as pd

    res = compare_rows(models, input=input, overrides=overrides, convention=convention, dtype=dtype, batch=batch,
                       latency=latency, device_profile=device_profile)
    records = []
    for m in res["models"]:
        rec = {k: v for k, v in m.items() if k not in ("ratios", "model")}
        rec.update({f"{k}_ratio": v for k, v in m["ratios"].items()})
        records.append(rec)
    df = pd.DataFrame(records, index=pd.Index([m["model"] for m in res["models"]], name="model"))
    df.attrs.update({k: v for k, v in res.items() if k != "models"})
    return df


def numeric_columns(result) -> list:
    """The keys compared in ``result``: every cost, and each latency some model has."""
    return list(COST_KEYS) + [k for k in LATENCY_KEYS if any(k in m for m in result["models"])]
