"""Benchmark: how well does archcost predict latency on this CPU? The whole zoo, out of sample.

    python benchmarks/latency_zoo.py [--calibrations 3] [--repeat 5] [--threads 1] [--no-per-layer]

1. ``archcost calibrate`` N times, each a separate process with its own seed (synthetic
   micro-benchmarks and synthetic networks only: the calibration never sees a zoo model);
2. every zoo model at batch 1, float32, fixed threads, per layer too, with the variants the
   calibration never saw either (other resolutions and widths) each next to its zoo model:
   one resumable run (``archcost.measure.zoo.run_zoo``, what ``archcost profile --zoo`` runs),
   interleaved within memory-sized chunks, so a variant and its model share the machine's state;
3. predictions of every model with every calibration run's profile (pure Python), against the
   same measurements: median |error|, share within ±10% / ±20%, Spearman(predicted, measured),
   next to the MACs-only baseline (one ms-per-MAC constant fitted to the same synthetic
   benchmarks) and Spearman(MACs, measured); per op class, where the time goes and the error.

Writes ``reports/latency-cpu-reference.{json,md}`` (the committed reference) and the usual zoo
report ``reports/latency-cpu-DATE.{json,md}`` (first calibration).  Run it at normal priority
on a machine as quiet as you can get; the report states the load it saw.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = [  # (spec, input, --set values): shapes and widths the zoo does not have
    ("mobilenetv2", (3, 160, 160), {}),
    ("mobilenetv2", None, {"width": 0.75}),
    ("mobilenetv2", None, {"width": 1.2}),
    ("resnet50", (3, 160, 160), {}),
    ("resnet18", (3, 320, 320), {}),
    ("efficientnet_b0", (3, 192, 192), {}),
    ("efficientnet_b0", None, {"width": 0.75}),
    ("mnasnet1_0", (3, 256, 256), {}),
    ("densenet121", (3, 160, 160), {}),
    ("shufflenet_v2_x1_0", (3, 160, 160), {}),
    ("mobilenet_v1", None, {"width": 0.6}),
    ("mobilenet_v3_large", (3, 160, 160), {}),
    ("vgg11", (3, 160, 160), {}),
    ("inception_v3", (3, 224, 224), {}),
    ("squeezenet1_1", (3, 160, 160), {}),
]


def _merged_models(runs) -> list:
    """One row per model from several calibrations' reports: the measured fields, and the median of the
    predictions and errors with each calibration's value beside it."""
    models = []
    for i, m in enumerate(runs[0]["models"]):
        preds = [r["models"][i]["predicted_ms"] for r in runs]
        errs = [r["models"][i]["error_pct"] for r in runs]
        keep = {k: m.get(k) for k in ("model", "label", "family", "macs", "params", "measured_ms", "noisy",
                                      "split_half_pct", "macs_baseline_ms", "macs_baseline_error_pct")}
        keep.update(predicted_ms=statistics.median(preds), predicted_ms_runs=preds, error_pct=statistics.median(errs),
                    error_pct_runs=errs)
        models.append(keep)
    return models


def sh(args, log):
    t0 = time.perf_counter()
    print("$", " ".join(args), flush=True)
    subprocess.run(args, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    dt_s = time.perf_counter() - t0
    log.append({"command": " ".join(args[2:]).replace(str(ROOT) + "/", ""), "seconds": round(dt_s, 1)})
    return dt_s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calibrations", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5, help="interleaved rounds per model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-per-layer", action="store_true", help="skip per-layer timing (halves the zoo run)")
    ap.add_argument("--out", default="reports/latency-cpu-reference")
    ap.add_argument("--reuse", action="store_true", help="reuse calibrations already in reports/calibration/")
    ap.add_argument("--family", help="only this zoo family (a dry run)")
    ap.add_argument("--quick", action="store_true", help="quick calibrations and 2 variants (a dry run of the script)")
    ap.add_argument("--add-models", help="comma-separated zoo models: measure only these (no variants) with fresh "
                    "calibrations and add their rows to the existing reference (its other rows and summary stay)")
    ap.add_argument("--no-calibrate", action="store_true", help="with --add-models: use the calibrations already "
                    "in reports/calibration/ named by --profiles")
    ap.add_argument("--profiles", help="with --add-models: comma-separated calibration files to predict with")
    a = ap.parse_args()
    if a.add_models:
        return add_models(a)

    from archcost.analysis.latency import load_profile, reference_rates
    from archcost.measure import zoo as Z
    from archcost.measure.device import load_average
    from archcost.measure.results import by_class, summarize
    from archcost.report.profile import ms, pct, write_zoo_report

    start = time.perf_counter()
    today = dt.date.today().isoformat()
    log, load = [], {"start": load_average()}
    py = [sys.executable, "-m", "archcost"]

    # 1. calibrations: separate processes, separate seeds
    cal_dir = ROOT / "reports" / "calibration"
    cal_dir.mkdir(parents=True, exist_ok=True)
    profiles = []
    for i in range(a.calibrations):
        path = cal_dir / f"cpu-{a.threads}t-run{i + 1}-{today}.json"
        if not (a.reuse and path.exists()):
            sh(py + ["calibrate", "--threads", str(a.threads), "--seed", str(i), "--out", str(path)]
               + (["--quick"] if a.quick else []), log)
        profiles.append(load_profile(str(path)))

    # 2. the zoo and the variants in one run (resumable: rerun the script to continue an interrupted run).
    # Each variant sits next to its zoo model, so the two are measured interleaved in the same chunk: the
    # machine's speed drifts by 10-30% over minutes, and a variant measured in another phase would show it.
    stem = str(ROOT / Z.default_stem("cpu", a.threads, 1, "float32"))
    if a.family:
        stem += f"-{a.family}"
    zoo_jobs = Z.zoo_jobs(a.family)
    variant_jobs = [Z.Job(s, input=i, overrides=o) for s, i, o in (VARIANTS[:2] if a.quick else VARIANTS)]
    jobs = []
    for j in zoo_jobs:
        jobs.append(j)
        jobs += [v for v in variant_jobs if v.spec == j.spec]
    jobs += [v for v in variant_jobs if v not in jobs]
    t0 = time.perf_counter()
    everything = Z.run_zoo(jobs, log=stem + ".partial.jsonl", threads=a.threads, repeat=a.repeat,
                           per_layer=not a.no_per_layer,
                           progress=lambda d, t, n: print(f"  measured {d}/{t} {n[-90:]}", flush=True))
    log.append({"command": f"measure {len(zoo_jobs)} zoo models and {len(variant_jobs)} variants "
                           f"({'with' if not a.no_per_layer else 'without'} per-layer times, {a.repeat} rounds)",
                "seconds": round(time.perf_counter() - t0, 1)})
    zoo_labels = {j.label for j in zoo_jobs}
    results = [r for r in everything if r["label"] in zoo_labels]
    variants = [r for r in everything if r["label"] not in zoo_labels]
    load["end"] = load_average()

    # 4. predictions with every calibration, against the same measurements
    runs = []
    for prof in profiles:
        rep = Z.build_report(results, prof, include_layers=True)
        vrep = Z.build_report(variants, prof) if variants else {"summary": {}, "models": []}
        wall = summarize([{**m, "measured_ms": {**m["measured_ms"], "median": m["measured_ms"]["wall_median"]}}
                          for m in rep["models"]])
        runs.append({"profile": prof.name, "duration_s": prof.data.get("duration_s"),
                     "load_average": [prof.data["host"].get("load_average_before"),
                                      prof.data["host"].get("load_average_after")],
                     "summary": rep["summary"], "summary_vs_wall_clock": wall, "variants_summary": vrep["summary"],
                     "by_class": by_class(rep["models"]), "reference_rates": reference_rates(prof),
                     "models": rep["models"], "variants": vrep["models"]})
    first = Z.build_report(results, profiles[0])
    write_zoo_report(first, stem)

    def rng(key, sub, field, scale=1.0):
        vals = [r[key][sub][field] * scale for r in runs if r[key].get(sub)]
        return (min(vals), max(vals)) if vals else None

    summary_range = {
        k: {"predictor_median_abs_error_pct": rng(k, "predictor", "median_abs_error_pct"),
            "predictor_within_10_pct": rng(k, "predictor", "within_10_pct", 100),
            "predictor_within_20_pct": rng(k, "predictor", "within_20_pct", 100),
            "predictor_spearman": rng(k, "predictor", "spearman"),
            "baseline_median_abs_error_pct": rng(k, "macs_baseline", "median_abs_error_pct"),
            "baseline_within_10_pct": rng(k, "macs_baseline", "within_10_pct", 100),
            "baseline_within_20_pct": rng(k, "macs_baseline", "within_20_pct", 100),
            "spearman_macs_measured": (runs[0][k]["spearman_macs_measured"],) * 2}
        for k in ("summary", "variants_summary", "summary_vs_wall_clock")}
    models = _merged_models(runs)
    variants_out = []
    for i, m in enumerate(runs[0]["variants"]):
        errs = [r["variants"][i]["error_pct"] for r in runs]
        variants_out.append({"model": m["model"], "label": m["label"], "macs": m["macs"], "measured_ms": m["measured_ms"],
                             "predicted_ms": statistics.median([r["variants"][i]["predicted_ms"] for r in runs]),
                             "error_pct": statistics.median(errs), "error_pct_runs": errs,
                             "macs_baseline_error_pct": m.get("macs_baseline_error_pct"), "noisy": m.get("noisy")})
    total_s = time.perf_counter() - start
    ref = {"device": first["device"], "device_name": first["device_name"], "threads": first["threads"], "batch": 1,
           "dtype": "float32", "torch": first["torch"], "clock": first["clock"], "date": today,
           "profile": profiles[0].name, "profiles": [p.name for p in profiles], "duration_s": round(total_s),
           "steps": log, "load_average": load, "models": models, "variants": variants_out,
           "summary": runs[0]["summary"], "range": summary_range,
           "runs": [{k: v for k, v in r.items() if k not in ("models", "variants")} for r in runs]}
    out = ROOT / a.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(ref, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(ref, ms, pct))
    print(f"wrote {out}.json and {out}.md in {total_s / 60:.1f} min")


def add_models(a):
    """Measure only ``--add-models`` (e.g. the models added to the zoo since the reference was measured) and
    add their rows to the reference under ``added``: the reference's own rows, runs and summary are left as
    they were (measured and calibrated then), and the new rows say when, with which calibrations and under
    what load they were measured."""
    from archcost.analysis.latency import load_profile
    from archcost.measure import zoo as Z
    from archcost.measure.device import load_average
    from archcost.measure.results import by_class, summarize
    from archcost.report.profile import ms, pct

    start = time.perf_counter()
    today = dt.date.today().isoformat()
    log, load = [], {"start": load_average()}
    py = [sys.executable, "-m", "archcost"]
    names = [n.strip() for n in a.add_models.split(",") if n.strip()]
    out = ROOT / a.out
    ref = json.loads(out.with_suffix(".json").read_text())
    batches = ([ref["added"]] if ref.get("added") else []) + ref.get("added_later", [])
    same = [i for i, b in enumerate(batches) if {m["label"] for m in b["models"]} == set(names)]
    overlap = [m["label"] for b in batches for m in b["models"] if m["label"] in set(names)]
    if overlap and not same:
        sys.exit(f"{', '.join(overlap)} already in an added batch of {out}.json: name exactly that batch's models "
                 "to measure it again, or only models not there yet")
    cal_dir = ROOT / "reports" / "calibration"
    cal_dir.mkdir(parents=True, exist_ok=True)
    if a.profiles:
        paths = [Path(p) for p in a.profiles.split(",")]
    else:
        paths = [cal_dir / f"cpu-{a.threads}t-run{i + 1}-{today}.json" for i in range(a.calibrations)]
    for i, path in enumerate(paths):
        if not (a.no_calibrate or (a.reuse and path.exists())):
            sh(py + ["calibrate", "--threads", str(a.threads), "--seed", str(i), "--out", str(path)]
               + (["--quick"] if a.quick else []), log)
    profiles = [load_profile(str(p)) for p in paths]
    families = {j.spec: j.family for j in Z.zoo_jobs(None)}
    jobs = [Z.Job(n, family=families.get(n)) for n in names]
    stem = str(ROOT / Z.default_stem("cpu", a.threads, 1, "float32")) + "-added"
    t0 = time.perf_counter()
    results = Z.run_zoo(jobs, log=stem + ".partial.jsonl", threads=a.threads, repeat=a.repeat,
                        per_layer=not a.no_per_layer,
                        progress=lambda d, t, n: print(f"  measured {d}/{t} {n[-90:]}", flush=True))
    results = [r for r in results if r["label"] in set(names)]
    log.append({"command": f"measure {len(jobs)} models ({'with' if not a.no_per_layer else 'without'} per-layer "
                           f"times, {a.repeat} rounds)", "seconds": round(time.perf_counter() - t0, 1)})
    load["end"] = load_average()
    runs = [Z.build_report(results, prof, include_layers=not a.no_per_layer) for prof in profiles]
    models = _merged_models(runs)
    added = {"date": today, "profiles": [p.name for p in profiles], "duration_s": round(time.perf_counter() - start),
             "load_average": load, "steps": log, "repeat": a.repeat, "per_layer": not a.no_per_layer,
             "models": models,
             "runs": [{"profile": p.name, "duration_s": p.data.get("duration_s"),
                       "load_average": [p.data["host"].get("load_average_before"),
                                        p.data["host"].get("load_average_after")],
                       "summary": r["summary"], "by_class": by_class(r["models"]) if not a.no_per_layer else [],
                       "classes": {k: v.get("terms") for k, v in p.data["classes"].items()
                                   if k in ("attention", "matmul", "layernorm", "layernorm2d", "gelu", "linear",
                                            "concat", "channel_shuffle")}}
                      for p, r in zip(profiles, runs)],
             "class_use": class_use(names, profiles[0]),
             "summary": summarize(models)}
    # each batch keeps its own rows, calibrations and summary (measured apart, never pooled): the first in
    # ``added``, later ones in ``added_later``; naming exactly a batch's models measures that batch again
    if same:
        batches[same[0]] = added
    else:
        batches.append(added)
    ref["added"] = batches[0]
    if len(batches) > 1:
        ref["added_later"] = batches[1:]
    out.with_suffix(".json").write_text(json.dumps(ref, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(ref, ms, pct))
    print(f"added {len(models)} models to {out}.json and {out}.md in {(time.perf_counter() - start) / 60:.1f} min")


def class_use(names, profile) -> list:
    """Which cost class each op of these models is predicted with: the op's latency class, the class the profile
    has coefficients for (the same, a substitute, or the ``eltwise`` fallback), layers and ops."""
    import archcost
    from archcost.analysis.latency import node_class

    use = {}
    for n in names:
        for node in archcost.analyze(n).graph.nodes:
            cls = node_class(node)
            u = use.setdefault(cls, {"class": cls, "predicted_as": profile.class_terms(cls)[0], "layers": 0, "ops": set()})
            u["layers"] += 1
            u["ops"].add(node.op)
    return [{**u, "ops": sorted(u["ops"])} for u in sorted(use.values(), key=lambda u: -u["layers"])]


def _added_markdown(ad, ms, pct, later=False) -> list:
    s = ad["summary"]
    p, b = s.get("predictor", {}), s.get("macs_baseline", {})
    title = "Models added later still" if later else "Models added since"
    L = ["", f"## {title} (measured {ad['date']}: only these rows are new)", "",
         f"Measured by `python benchmarks/latency_zoo.py --add-models ...` in {ad['duration_s'] / 60:.0f} min "
         f"({ad['repeat']} interleaved rounds, {'with' if ad['per_layer'] else 'without'} per-layer times; load average "
         f"{ad['load_average']['start']} at start, {ad['load_average']['end']} at end), predicted with "
         f"{len(ad['profiles'])} calibration run(s) that include the attention-era micro-benchmarks (attention, "
         "matmul, layer norm, layer norm 2d, GELU on tokens, token views) and synthetic ViT-/ConvNeXt-like networks "
         "— still synthetic only: none of these models was seen by the calibration. The rows above were measured and "
         "calibrated before; the sets are not pooled.", "",
         "| added models | predictor | MACs-only baseline |", "|---|---:|---:|",
         f"| median \\|error\\| | {p.get('median_abs_error_pct', float('nan')):.1f}% | "
         f"{b.get('median_abs_error_pct', float('nan')):.1f}% |",
         f"| within ±10% | {100 * p.get('within_10_pct', float('nan')):.0f}% | {100 * b.get('within_10_pct', float('nan')):.0f}% |",
         f"| within ±20% | {100 * p.get('within_20_pct', float('nan')):.0f}% | {100 * b.get('within_20_pct', float('nan')):.0f}% |",
         f"| Spearman with measured | {p.get('spearman', float('nan')):.3f} | {s.get('spearman_macs_measured', float('nan')):.3f} (MACs) |",
         "", "| calibration | seconds | load before → after | attention terms (s per MAC, per score) | median \\|error\\| |",
         "|---|---:|---|---|---:|"]
    for r in ad["runs"]:
        t = r["classes"].get("attention") or {}
        L.append(f"| `{r['profile']}` | {r['duration_s']:.0f} | {r['load_average'][0]} → {r['load_average'][1]} | "
                 f"{t.get('macs', 0):.3g}, {t.get('scores', 0):.3g} | "
                 f"{r['summary']['predictor']['median_abs_error_pct']:.1f}% |")
    if ad["runs"] and ad["runs"][0]["by_class"]:
        L += ["", "| class | layers | measured ms | share | predicted ms | error |", "|---|---:|---:|---:|---:|---:|"]
        for c in ad["runs"][0]["by_class"]:
            L.append(f"| {c['class']} | {c['layers']} | {ms(c['measured_ms'])} | {c['share_pct']:.1f}% | "
                     f"{ms(c['predicted_ms'])} | {pct(c['error_pct'])} |")
    if ad.get("class_use"):
        L += ["", "Which class each op is predicted with (first profile; a class without its own coefficients is "
                  "predicted as a substitute or as `eltwise`, the cost of copying its bytes):", "",
              "| latency class | predicted as | layers | ops |", "|---|---|---:|---|"]
        for u in ad["class_use"]:
            L.append(f"| {u['class']} | {u['predicted_as']} | {u['layers']} | {', '.join(u['ops'])} |")
    L += ["", "| model | family | MACs | measured ms (IQR) | predicted ms | error (runs) | MACs-only error |",
          "|---|---|---:|---:|---:|---:|---:|"]
    for m in sorted(ad["models"], key=lambda m: m["measured_ms"]["median"]):
        mm = m["measured_ms"]
        L.append(f"| {m['label']} | {m.get('family') or ''} | {m['macs'] / 1e6:,.0f}M | {ms(mm['median'], m.get('noisy'))} "
                 f"({100 * mm['iqr'] / mm['median']:.0f}%) | {ms(m['predicted_ms'])} | "
                 f"{_r((min(m['error_pct_runs']), max(m['error_pct_runs'])), '{:+.0f}')}% | {pct(m['macs_baseline_error_pct'])} |")
    return L


def _r(x, fmt="{:.1f}"):
    if x is None:
        return "n/a"
    lo, hi = x
    return fmt.format(lo) if abs(hi - lo) < 1e-9 else f"{fmt.format(lo)}–{fmt.format(hi)}"


def markdown(ref, ms, pct) -> str:
    rg = ref["range"]
    L = [f"# Latency reference: {ref['device_name']}, {ref['threads']} thread, batch 1, float32",
         "",
         f"Measured {ref['date']} with torch {ref['torch']} by `python benchmarks/latency_zoo.py` in "
         f"{ref['duration_s'] / 60:.0f} min (load average at start {ref['load_average']['start']}, at end "
         f"{ref['load_average']['end']}; clock `{ref['clock']}`: this thread's CPU time, wall time recorded too). "
         f"{len(ref['models'])} zoo models and {len(ref['variants'])} variants; {len(ref['profiles'])} separate "
         "calibration runs (synthetic micro-benchmarks and synthetic networks only — no zoo model).",
         "",
         "## Accuracy (range over the calibration runs)",
         "",
         "| | predictor | MACs-only baseline |",
         "|---|---:|---:|"]
    for title, key in (("zoo", "summary"), ("variants never calibrated on", "variants_summary"),
                       ("zoo, against wall-clock medians", "summary_vs_wall_clock")):
        r = rg[key]
        L += [f"| **{title}**: median \\|error\\| | {_r(r['predictor_median_abs_error_pct'])}% | "
              f"{_r(r['baseline_median_abs_error_pct'])}% |",
              f"| within ±10% | {_r(r['predictor_within_10_pct'], '{:.0f}')}% | {_r(r['baseline_within_10_pct'], '{:.0f}')}% |",
              f"| within ±20% | {_r(r['predictor_within_20_pct'], '{:.0f}')}% | {_r(r['baseline_within_20_pct'], '{:.0f}')}% |",
              f"| Spearman with measured | {_r(r['predictor_spearman'], '{:.3f}')} | "
              f"{_r(r['spearman_macs_measured'], '{:.3f}')} (MACs) |"]
    s = ref["summary"]
    L += ["", f"Noise floor: the median |difference| between a model's even and odd samples is "
              f"{s.get('noise_floor_split_half_median_pct', float('nan')):.1f}%; median wall/CPU time ratio "
              f"{s.get('median_load_factor', float('nan')):.2f} (1.00 on an idle core); "
              f"{s.get('noisy_models', 0)} models flagged noisy (IQR > 10% of the median).", "",
          "## Calibration runs", "", "| profile | seconds | load before → after | median \\|error\\| | within ±20% |",
          "|---|---:|---|---:|---:|"]
    for r in ref["runs"]:
        p = r["summary"]["predictor"]
        L.append(f"| `{r['profile']}` | {r['duration_s']:.0f} | {r['load_average'][0]} → {r['load_average'][1]} | "
                 f"{p['median_abs_error_pct']:.1f}% | {100 * p['within_20_pct']:.0f}% |")
    L += ["", "What the first profile predicts for reference layers inside a model:", "",
          "| layer | class | predicted | rate |", "|---|---|---:|---:|"]
    for x in ref["runs"][0]["reference_rates"]:
        L.append(f"| {x['what']} | {x['class']} | {ms(x['predicted_ms'])} ms | {x['rate']} |")
    L += ["", "## Where the time goes, and the error, by op class (first profile; per-layer times summed over the zoo)",
          "", "| class | layers | measured ms | share | predicted ms | error |", "|---|---:|---:|---:|---:|---:|"]
    for c in ref["runs"][0]["by_class"]:
        L.append(f"| {c['class']} | {c['layers']} | {ms(c['measured_ms'])} | {c['share_pct']:.1f}% | "
                 f"{ms(c['predicted_ms'])} | {pct(c['error_pct'])} |")
    L += ["", "## Variants (other resolutions and widths)", "",
          "| model | MACs | measured ms | predicted ms | error (runs) | MACs-only error |", "|---|---:|---:|---:|---:|---:|"]
    for m in ref["variants"]:
        L.append(f"| {m['label']} | {m['macs'] / 1e6:,.0f}M | {ms(m['measured_ms']['median'], m.get('noisy'))} | "
                 f"{ms(m['predicted_ms'])} | {_r((min(m['error_pct_runs']), max(m['error_pct_runs'])), '{:+.0f}')}% | "
                 f"{pct(m['macs_baseline_error_pct'])} |")
    L += ["", "## Models", "", "| model | family | MACs | measured ms (IQR) | predicted ms | error (runs) | MACs-only error |",
          "|---|---|---:|---:|---:|---:|---:|"]
    for m in sorted(ref["models"], key=lambda m: m["measured_ms"]["median"]):
        mm = m["measured_ms"]
        L.append(f"| {m['label']} | {m.get('family') or ''} | {m['macs'] / 1e6:,.0f}M | {ms(mm['median'], m.get('noisy'))} "
                 f"({100 * mm['iqr'] / mm['median']:.0f}%) | {ms(m['predicted_ms'])} | "
                 f"{_r((min(m['error_pct_runs']), max(m['error_pct_runs'])), '{:+.0f}')}% | {pct(m['macs_baseline_error_pct'])} |")
    L += ["", "## Steps", ""] + [f"- `{s['command']}`: {s['seconds'] / 60:.1f} min" for s in ref["steps"]]
    if ref.get("added"):
        L += _added_markdown(ref["added"], ms, pct)
    for ad in ref.get("added_later", []):
        L += _added_markdown(ad, ms, pct, later=True)
    return "\n".join(L) + "\n"


def rewrite(path: str):
    """Re-render the Markdown of an existing reference JSON (after a change to the layout only)."""
    from archcost.report.profile import ms, pct

    ref = json.loads(Path(path).read_text())
    Path(path).with_suffix(".md").write_text(markdown(ref, ms, pct))


if __name__ == "__main__":
    main()
