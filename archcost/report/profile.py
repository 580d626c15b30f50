"""Latency results as text: the rich table, CSV and Markdown of `archcost profile`, and zoo reports.

Numbers whose spread makes them meaningless are not printed with false precision: a
measurement whose IQR exceeds its flag threshold is shown as ``≈`` two significant digits,
and its error rounded to 10%, marked ``noisy``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .. import units


def ms(x, noisy: bool = False) -> str:
    if x is None:
        return ""
    if noisy:
        return "≈" + _sig(x, 2)
    return _sig(x, 3)


def _sig(x: float, digits: int) -> str:
    """``digits`` significant digits; large numbers in full with thousands separators."""
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def pct(x, noisy: bool = False) -> str:
    if x is None:
        return ""
    if noisy:
        return f"≈{round(x / 10) * 10:+.0f}%"
    return f"{x:+.1f}%"


def header_lines(r: dict) -> list:
    m = r["measured_ms"]
    dev = r["device"] + (f" ({r['device_name']})" if r.get("device_name") else "")
    lines = [f"{r['model']} — {dev}, {r['threads']} thread{'s' if r['threads'] != 1 else ''}, batch {r['batch']}, "
             f"{r['dtype']}, input {units.shape(r['input_shape'])}",
             f"torch {r['torch']}, clock {r['clock']}, warm-up {r['warmup']}, {m['repeats']} samples × {m['number']} "
             f"call{'s' if m['number'] != 1 else ''}" + (", cudnn.benchmark on" if r.get("cudnn_benchmark") else
                                                        ", cudnn.benchmark off" if r.get("cudnn_benchmark") is False else "")]
    spread = 100 * m["iqr"] / m["median"] if m["median"] else 0
    line = (f"measured: median {ms(m['median'])} ms, IQR {ms(m['iqr'])} ms ({spread:.1f}%), min {ms(m['min'])} ms, "
            f"CV {100 * m['cv']:.1f}%")
    if m.get("load_factor"):
        line += f", wall/CPU {m['load_factor']:.2f}"
    if r.get("noisy"):
        line += " — NOISY: spread above 10% of the median, compare with care"
    lines.append(line)
    if r.get("predicted_ms") is not None:
        line = f"predicted: {ms(r['predicted_ms'])} ms (profile {r['profile']}), error {pct(r['error_pct'], r.get('noisy'))}"
        if r.get("macs_baseline_ms") is not None:
            be = 100 * (r["macs_baseline_ms"] - m["median"]) / m["median"] if m["median"] else None
            line += f"; MACs-only baseline {ms(r['macs_baseline_ms'])} ms ({pct(be, r.get('noisy'))})"
        lines.append(line)
    if r.get("layers"):
        lines.append(f"per layer: hooked layers sum to {ms(r['per_layer_sum_ms'])} ms ({r['hook_overhead_pct']:+.1f}% "
                     f"of the whole pass); the {ms(r['outside_layers_ms'])} ms outside them is shared evenly per layer")
    return lines


def _layer_cells(row: dict) -> list:
    noisy = row.get("noisy")
    spread = 100 * row["iqr_ms"] / row["hooked_ms"] if row.get("hooked_ms") else None
    return [row["name"], row["op"], row.get("class") or "", units.count(row["macs"]) if row["macs"] else "",
            ms(row["measured_ms"], noisy), f"{spread:.0f}%" if spread is not None else "",
            ms(row.get("predicted_ms")), pct(row.get("error_pct"), noisy), "noisy" if noisy else ""]


LAYER_HEAD = ["layer", "op", "class", "MACs", "measured ms", "IQR", "predicted ms", "error", "flag"]


def profile_table(r: dict, width=200):
    """``(table, print_width)`` of one model's profile, fitted to ``width`` (None: no limit)."""
    from .terminal import Column, build

    lines = header_lines(r)
    rows = r.get("layers") or []
    cells = [_layer_cells(row) for row in rows]
    foot = {"layer": "total", "measured ms": ms(r["measured_ms"]["median"], r.get("noisy")),
            "predicted ms": ms(r.get("predicted_ms")), "error": pct(r.get("error_pct"), r.get("noisy"))}
    # the layer, its measured and predicted times and the error are what profile is for; class, IQR, MACs make way
    prio = {"class": 4, "IQR": 3, "op": 2, "MACs": 1, "flag": 1}
    cols = [Column(h, [c[i] for c in cells], foot.get(h, ""), prio.get(h, 0),
                   "left" if i < 3 or h == "flag" else "right",
                   shorten="tree" if h == "layer" else "middle" if h == "op" else None,
                   min_width=11 if h == "op" else 16) for i, h in enumerate(LAYER_HEAD)]
    return build(cols, width, title=lines[0], caption_lines=lines[1:], show_footer=bool(rows), header_style="bold",
                 footer_style="bold", row_styles=["dim" if row.get("noisy") else None for row in rows])


def profile_markdown(r: dict) -> str:
    lines = [f"**{line}**  " if i == 0 else f"{line}  " for i, line in enumerate(header_lines(r))]
    if r.get("layers"):
        lines += ["", "| " + " | ".join(LAYER_HEAD) + " |", "|---|---|---|---:|---:|---:|---:|---:|---|"]
        for row in r["layers"]:
            lines.append("| " + " | ".join(_layer_cells(row)) + " |")
        lines.append(f"| **total** | | | | **{ms(r['measured_ms']['median'], r.get('noisy'))}** | | "
                     f"**{ms(r.get('predicted_ms'))}** | **{pct(r.get('error_pct'), r.get('noisy'))}** | |")
    return "\n".join(lines) + "\n"


LAYER_CSV = ["name", "op", "class", "macs", "measured_ms", "hooked_ms", "iqr_ms", "min_ms", "repeats", "noisy",
             "predicted_ms", "error_pct"]


def profile_csv(r: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LAYER_CSV)
    for row in r.get("layers") or []:
        w.writerow(["" if row.get(k) is None else row.get(k) for k in LAYER_CSV])
    m = r["measured_ms"]
    w.writerow(["total", "", "", r.get("macs", ""), m["median"], "", m["iqr"], m["min"], m["repeats"], r.get("noisy"),
                "" if r.get("predicted_ms") is None else r["predicted_ms"],
                "" if r.get("error_pct") is None else r["error_pct"]])
    return buf.getvalue()


# --- several models ---------------------------------------------------------------------------

MODEL_HEAD = ["model", "MACs", "measured ms", "IQR", "predicted ms", "error %", "MACs-only ms", "MACs-only error %", "flag"]


def _model_cells(m: dict) -> list:
    meas = m["measured_ms"]
    noisy = m.get("noisy")
    return [m.get("label") or m["model"], units.count(m["macs"]) if m.get("macs") else "", ms(meas["median"], noisy),
            f"{100 * meas['iqr'] / meas['median']:.0f}%" if meas["median"] else "", ms(m.get("predicted_ms")),
            pct(m.get("error_pct"), noisy), ms(m.get("macs_baseline_ms")), pct(m.get("macs_baseline_error_pct"), noisy),
            "noisy" if noisy else ""]


def summary_lines(s: dict) -> list:
    out = []
    p, b = s.get("predictor"), s.get("macs_baseline")
    if p and p.get("n"):
        out.append(f"predictor: median |error| {p['median_abs_error_pct']:.1f}%, within ±10% {100 * p['within_10_pct']:.0f}%, "
                   f"within ±20% {100 * p['within_20_pct']:.0f}%, median error {p['median_error_pct']:+.1f}%, "
                   f"Spearman(predicted, measured) {_f(p['spearman'])}  ({p['n']} models)")
    if b and b.get("n"):
        out.append(f"MACs-only baseline: median |error| {b['median_abs_error_pct']:.1f}%, within ±10% "
                   f"{100 * b['within_10_pct']:.0f}%, within ±20% {100 * b['within_20_pct']:.0f}%, "
                   f"Spearman(MACs, measured) {_f(s.get('spearman_macs_measured'))}")
    if s.get("noise_floor_split_half_median_pct") is not None:
        out.append(f"noise floor (median |difference| between the even and odd samples of one model): "
                   f"{s['noise_floor_split_half_median_pct']:.1f}%; noisy models: {s.get('noisy_models', 0)}")
    if s.get("median_load_factor"):
        out.append(f"median wall/CPU time ratio during the run: {s['median_load_factor']:.2f} (1.00 = an idle core)")
    return out


def _f(x):
    return "n/a" if x is None else f"{x:.3f}"


def models_table(models: list, summary: dict, title: str, width=200):
    """``(table, print_width)`` of several models' latencies, fitted to ``width`` (None: no limit)."""
    from .terminal import Column, build

    cells = [_model_cells(m) for m in models]
    prio = {2: 0, 4: 0, 5: 0, 3: 2, 6: 1, 7: 1}  # model, MACs, measured, predicted, error stay
    cols = [Column(h, [c[i] for c in cells], "", prio.get(i, 0), "left" if i == 0 or h == "flag" else "right",
                   shorten="middle" if i == 0 else None) for i, h in enumerate(MODEL_HEAD)]
    return build(cols, width, title=title, caption_lines=summary_lines(summary), header_style="bold",
                 row_styles=["dim" if m.get("noisy") else None for m in models])


def models_markdown(models: list) -> list:
    lines = ["| " + " | ".join(MODEL_HEAD) + " |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    lines += ["| " + " | ".join(_model_cells(m)) + " |" for m in models]
    return lines


def zoo_markdown(report: dict) -> str:
    r = report
    lines = [f"# Latency: {r.get('device')} ({r.get('device_name')}), {r.get('threads')} thread(s), batch {r.get('batch')}, "
             f"{r.get('dtype')}", "",
             f"torch {r.get('torch')}, clock {r.get('clock')}, measured {r.get('date')}; device profile "
             f"`{r.get('profile')}`.", ""]
    lines += [f"- {x}" for x in summary_lines(r.get("summary", {}))]
    lines += ["", "## Models", ""] + models_markdown(r.get("models", []))
    if r.get("by_class"):
        lines += ["", "## By op class (per-layer times summed over all models)", "",
                  "| class | layers | measured ms | share | predicted ms | error |", "|---|---:|---:|---:|---:|---:|"]
        for c in r["by_class"]:
            lines.append(f"| {c['class']} | {c['layers']} | {ms(c['measured_ms'])} | {c['share_pct']:.1f}% | "
                         f"{ms(c['predicted_ms'])} | {pct(c['error_pct'])} |")
    return "\n".join(lines) + "\n"


def write_zoo_report(report: dict, stem: str) -> tuple:
    """Write ``<stem>.json`` (the report of :func:`archcost.measure.zoo.build_report`, which
    :func:`archcost.catalog.latency.load_latency_report` reads) and ``<stem>.md``; returns both paths."""
    p = Path(stem)
    p.parent.mkdir(parents=True, exist_ok=True)
    js, md = p.with_name(p.name + ".json"), p.with_name(p.name + ".md")
    js.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    md.write_text(zoo_markdown(report), encoding="utf-8")
    return str(js), str(md)


def calibration_table(profile: dict):
    """What a new device profile predicts for reference layers, and how well it fitted."""
    from rich.table import Table

    from ..analysis.latency import reference_rates

    d = profile
    bw = d["bandwidth"]
    main = 1 / bw["s_per_byte"][-1] / 1e9
    lines = [f"{d['device']} ({d['device_name']}), {d['threads']} thread(s), {d['dtype']}, torch {d['torch']}, "
             f"clock {d['clock']}, {d['rounds']} rounds, {len(d['benchmarks'])} micro-benchmarks, "
             f"{len(d.get('networks', []))} synthetic networks, {d['duration_s']:.0f} s",
             f"copy bandwidth at {bw['ws_bytes'][-1] / 2**20:.0f} MiB: {main:.1f} GB/s moved; per node inside a model "
             f"{d['overhead']['node_s'] * 1e6:.1f} µs; MACs-only baseline {d['macs_baseline']['s_per_mac'] * 1e12:.1f} ms/GMAC",
             f"load average before / after: {d['host'].get('load_average_before')} / {d['host'].get('load_average_after')}"]
    t = Table(title="device profile: predictions for reference layers inside a model", caption="\n".join(lines),
              caption_justify="left", header_style="bold")
    for c, j in (("layer", "left"), ("class", "left"), ("predicted", "right"), ("rate", "right")):
        t.add_column(c, justify=j)
    for r in reference_rates(d):
        t.add_row(r["what"], r["class"], f"{ms(r['predicted_ms'])} ms", r["rate"])
    return t
