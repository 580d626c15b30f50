"""Saved latency results: loading and summary statistics, in pure Python (no torch).

>>> from archcost.measure.results import load_latency
>>> load_latency("reports/latency-cpu-2026-12-01.json")      # doctest: +SKIP
{'alexnet': 41.2, 'densenet121': 177.0, ...}                   # model -> measured median ms

``load_latency`` reads any of archcost's latency files: a zoo report
(``reports/latency-<device>-<date>.json``, ``{"models": [...]}``), the benchmark's
reference report (same shape), a zoo run's resume log (``*.partial.jsonl``, one result per
line) or a single ``archcost profile --format json`` result.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from ..errors import SpecError


def read_results(path) -> list:
    """The per-model result records of a latency file (see the module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read latency results: {err}", file=str(p), fix="check the path.") from None
    if p.suffix == ".jsonl":
        out = []
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as err:
                if i == len(text.splitlines()):  # a run killed while writing its last line
                    break
                raise SpecError(f"line is not JSON: {err.msg}", file=str(p), line=i,
                                fix="delete the line (that model is then measured again).") from None
        return out
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SpecError(f"latency results are not valid JSON: {err.msg}", file=str(p), line=err.lineno,
                        fix="re-run the measurement.") from None
    if isinstance(data, dict) and isinstance(data.get("models"), list):
        return data["models"]
    if isinstance(data, dict) and "measured_ms" in data:
        return [data]
    if isinstance(data, list):
        return data
    raise SpecError("not an archcost latency file (no 'models' list and no 'measured_ms')", file=str(p), line=1,
                    fix="give a report written by `archcost profile` or benchmarks/latency_zoo.py.")


def load_latency(path) -> dict:
    """Model name → measured median latency in ms, from any archcost latency file."""
    out = {}
    for r in read_results(path):
        m = r.get("measured_ms")
        med = m.get("median") if isinstance(m, dict) else m
        if r.get("model") is not None and isinstance(med, (int, float)):
            out[r.get("label") or r["model"]] = float(med)
    return out


def ranks(xs: list) -> list:
    """Ranks 1..n, ties sharing their mean rank."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(a: list, b: list) -> float | None:
    if len(a) < 2:
        return None
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    sa = math.sqrt(sum((x - ma) ** 2 for x in a))
    sb = math.sqrt(sum((y - mb) ** 2 for y in b))
    if sa == 0 or sb == 0:
        return None
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (sa * sb)


def spearman(a: list, b: list) -> float | None:
    """Spearman's rank correlation (Pearson correlation of the ranks, ties averaged)."""
    return pearson(ranks(a), ranks(b))


def error_pct(pred: float, meas: float) -> float | None:
    return 100.0 * (pred - meas) / meas if meas else None


def error_stats(pred: list, meas: list) -> dict:
    """Median |error|, share within ±10% and ±20%, median signed error, Spearman(pred, meas)."""
    errs = [error_pct(p, m) for p, m in zip(pred, meas)]
    errs = [e for e in errs if e is not None]
    if not errs:
        return {"n": 0}
    a = [abs(e) for e in errs]
    return {"n": len(errs), "median_abs_error_pct": statistics.median(a),
            "mean_abs_error_pct": statistics.fmean(a),
            "within_10_pct": sum(x <= 10 for x in a) / len(a), "within_20_pct": sum(x <= 20 for x in a) / len(a),
            "median_error_pct": statistics.median(errs), "spearman": spearman(pred, meas)}


def split_half_pct(samples: list) -> float | None:
    """|median of the even-numbered samples − median of the odd ones| / overall median, in %.

    The same measurement repeated within one run: a floor for how well any predictor can match it.
    """
    if not samples or len(samples) < 4:
        return None
    a, b = samples[0::2], samples[1::2]
    med = statistics.median(samples)
    return 100.0 * abs(statistics.median(a) - statistics.median(b)) / med if med else None


def summarize(models: list) -> dict:
    """The summary of a zoo report: predictor and MACs-only baseline against the measured medians."""
    rows = [m for m in models if m.get("predicted_ms") is not None and m.get("measured_ms")]
    meas = [m["measured_ms"]["median"] for m in rows]
    out = {"models": len(models), "compared": len(rows),
           "noisy_models": sum(bool(m.get("noisy")) for m in models)}
    if rows:
        out["predictor"] = error_stats([m["predicted_ms"] for m in rows], meas)
        if all(m.get("macs_baseline_ms") is not None for m in rows):
            out["macs_baseline"] = error_stats([m["macs_baseline_ms"] for m in rows], meas)
        out["spearman_macs_measured"] = spearman([m["macs"] for m in rows], meas)
    floors = [m["split_half_pct"] for m in models if m.get("split_half_pct") is not None]
    if floors:
        out["noise_floor_split_half_median_pct"] = statistics.median(floors)
    lf = [m["measured_ms"].get("load_factor") for m in models if m.get("measured_ms", {}).get("load_factor")]
    if lf:
        out["median_load_factor"] = statistics.median(lf)
    return out


def by_class(models: list) -> list:
    """Per op class over every model's per-layer rows: measured and predicted ms summed, and the error."""
    acc: dict = {}
    total = 0.0
    for m in models:
        for r in m.get("layers") or []:
            if r.get("predicted_ms") is None:
                continue
            a = acc.setdefault(r.get("class") or r["op"], {"layers": 0, "measured_ms": 0.0, "predicted_ms": 0.0})
            a["layers"] += 1
            a["measured_ms"] += r["measured_ms"]
            a["predicted_ms"] += r["predicted_ms"]
            total += r["measured_ms"]
    rows = []
    for cls, a in acc.items():
        rows.append({"class": cls, **a, "share_pct": 100.0 * a["measured_ms"] / total if total else None,
                     "error_pct": error_pct(a["predicted_ms"], a["measured_ms"])})
    rows.sort(key=lambda r: -r["measured_ms"])
    return rows
