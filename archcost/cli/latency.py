"""Latency commands: ``profile`` (measure, and compare with a prediction) and ``calibrate``."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ..errors import SpecError
from ._app import Format, app, fail, out, overrides
from .options import (Batch, Clock, Device, Input, OutputFormat, Sets, TimedDtype, batch_option, device_profile_option,
                      family_option, output_option, threads_option)

ProfileThreads = threads_option("CPU threads (default 1: steadier; always printed)")
CalibrateThreads = threads_option("CPU threads (default 1; a profile is for one thread count)")
CompareWith = device_profile_option("profile name or file for --compare (default: the newest for this device)")
ZooFamily = family_option("with --zoo: only this family")
BenchBatch = batch_option("batch size of the benchmarks")


def _start(what: str, device: str, threads):
    """Check the extra, the device and the thread count before any output (pure parsing, then torch)."""
    from ..extras import need

    need("torch", what, modules=("torch",))
    from ..measure.device import check_threads, parse_device, setup

    parse_device(device)
    check_threads(threads)
    return setup(device, threads)


def _resolve_compare_profile(device_profile, info, dtype):
    """--device-profile, else the newest saved profile for this device, thread count and dtype."""
    from ..analysis.latency import list_profiles, load_profile, profiles_dir

    if device_profile:
        return load_profile(device_profile)
    cuda = info["kind"] == "cuda"
    for stem, path in list_profiles():
        if cuda and not stem.startswith("cuda-"):
            continue
        if not cuda and not stem.startswith(f"cpu-{info['threads']}t-"):
            continue
        prof = load_profile(str(path))
        if prof.dtype == dtype and prof.data.get("device_name") == info["device_name"]:
            return prof
    raise SpecError(f"no saved device profile for {info['device']} ({info['device_name']}), {info['threads']} "
                    f"thread(s), {dtype} in {profiles_dir()}",
                    fix=f"run `archcost calibrate --device {info['device']} --threads {info['threads']}` first, "
                        "or pass --device-profile FILE.")


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[note]}"), transient=False, console=_err_console())


ZooOutput = output_option("with --zoo: the report's path; .json and .md are written (an extension given is dropped)")
ProfileOutput = output_option("write the profile here instead of the user cache directory")
OldOut = Annotated[Optional[str], typer.Option("--out", hidden=True, help="deprecated: use -o/--output")]


def _stem(path):
    """A report path without its extension (``--zoo`` writes both .json and .md)."""
    import os

    if path and os.path.splitext(path)[1] in (".json", ".md"):
        return os.path.splitext(path)[0]
    return path


def _err_console():
    from rich.console import Console

    return Console(stderr=True)


@app.command()
def profile(
    specs: Annotated[Optional[list[str]], typer.Argument(help="zoo names or spec files (several: measured interleaved, A B A B)", metavar="SPEC...")] = None,
    input: Input = None,
    batch: Batch = 1,
    set_: Sets = None,
    dtype: TimedDtype = "float32",
    device: Device = "cpu",
    threads: ProfileThreads = None,
    warmup: Annotated[int, typer.Option(help="untimed forward passes first")] = 3,
    repeat: Annotated[Optional[int], typer.Option(help="timed samples (default 10, or as many as --budget allows)")] = None,
    budget: Annotated[Optional[float], typer.Option(help="time budget in seconds instead of --repeat (at least 5 samples)")] = None,
    per_layer: Annotated[bool, typer.Option("--per-layer", help="also time every layer (rows named as in `archcost table`)")] = False,
    compare: Annotated[bool, typer.Option("--compare", help="predicted vs measured, per model and per layer (implies --per-layer)")] = False,
    device_profile: CompareWith = None,
    clock: Clock = None,
    format: OutputFormat = Format.table,
    zoo: Annotated[bool, typer.Option("--zoo", help="every zoo model (resumable), report to reports/latency-DEVICE-DATE.{json,md}")] = False,
    family: ZooFamily = None,
    output: ZooOutput = None,
    out_: OldOut = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="with --zoo: ignore the resume log and measure again")] = False,
):
    """Measure latency (median, IQR, min, CV) of a spec, per model and per layer; with --compare, against the prediction."""
    try:
        if not zoo and not specs:
            raise SpecError("give a spec (zoo name or file), or --zoo", fix="e.g. `archcost profile mobilenetv2`.")
        if zoo and specs:
            raise SpecError("--zoo measures the zoo; do not also name specs", fix="drop the specs or --zoo.")
        if family and not zoo:
            raise SpecError("--family needs --zoo", fix="add --zoo.")
        if warmup < 0 or (repeat is not None and repeat < 1) or (budget is not None and budget <= 0):
            raise SpecError("--warmup must be >= 0, --repeat >= 1 and --budget > 0", fix="e.g. --warmup 3 --repeat 10.")
        info = _start("archcost profile", device, threads)
        from ..measure.profile import resolve_clock

        resolve_clock(info, clock)
        sets = overrides(set_)
        prof = _resolve_compare_profile(device_profile, info, dtype) if (compare or device_profile) else None
        if zoo:
            _profile_zoo(info, family=family, batch=batch, dtype=dtype, warmup=warmup, repeat=repeat, budget=budget,
                         per_layer=per_layer or compare, clock=clock, prof=prof, out_stem=_stem(output or out_), fresh=fresh,
                         format=format, input=input, sets=sets)
            return
        _profile_specs(info, specs, input=input, sets=sets, batch=batch, dtype=dtype, warmup=warmup, repeat=repeat,
                       budget=budget, per_layer=per_layer or compare, clock=clock, prof=prof, format=format)
    except SpecError as err:
        fail(err)


def _profile_specs(info, specs, *, input, sets, batch, dtype, warmup, repeat, budget, per_layer, clock, prof, format):
    from ..measure.profile import MACS_CONVENTION, add_prediction, layer_macs, prepare, run

    preps = [prepare(s, input=input, overrides=sets or None, batch=batch, dtype=dtype, info=info) for s in specs]
    err = _err_console()
    err.print(f"[dim]timing {', '.join(p.name for p in preps)} on {info['device']} ({info['device_name']}), "
              f"{info['threads']} thread(s)…[/]")
    with _progress() as bar:
        task = bar.add_task("rounds", total=repeat or None, note="")
        results = run(preps, warmup=warmup, repeat=repeat, budget_s=budget, per_layer=per_layer, clock=clock,
                      on_round=lambda r, n: bar.update(task, completed=r, total=n))
    for p, r in zip(preps, results):
        if prof is not None:
            add_prediction(r, p, prof)
        else:
            r["macs"] = sum(layer_macs(p.graph, p.batch))
            r["macs_convention"] = MACS_CONVENTION
    if len(results) == 1:
        _print_one(results[0], format)
    else:
        _print_many(results, format, title=f"latency on {info['device']} ({info['device_name']}), "
                                           f"{info['threads']} thread(s), batch {batch}, {dtype} — interleaved")


def _print_one(r, format):
    from ..report import profile as R

    if format == Format.json:
        import json

        out(json.dumps(r, indent=2, allow_nan=False))
    elif format == Format.csv:
        out(R.profile_csv(r))
    elif format == Format.markdown:
        out(R.profile_markdown(r))
    else:
        from ..report.terminal import print_table, terminal_width

        print_table(R.profile_table(r, width=terminal_width()))


def _print_many(results, format, title):
    from ..measure.results import summarize
    from ..report import profile as R

    summary = summarize(results)
    if format == Format.json:
        import json

        out(json.dumps({"models": results, "summary": summary}, indent=2, allow_nan=False))
    elif format == Format.markdown:
        out("\n".join([f"**{title}**", ""] + R.models_markdown(results) + [""] + [f"- {x}" for x in R.summary_lines(summary)]))
    elif format == Format.csv:
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        keys = ["model", "macs", "median_ms", "iqr_ms", "min_ms", "cv", "predicted_ms", "error_pct", "noisy"]
        w.writerow(keys)
        for m in results:
            mm = m["measured_ms"]
            w.writerow([m.get("label") or m["model"], m.get("macs"), mm["median"], mm["iqr"], mm["min"], mm["cv"],
                        m.get("predicted_ms"), m.get("error_pct"), m.get("noisy")])
        out(buf.getvalue())
    else:
        from ..report.terminal import print_table, terminal_width

        print_table(R.models_table(results, summary, title, width=terminal_width()))


def _profile_zoo(info, *, family, batch, dtype, warmup, repeat, budget, per_layer, clock, prof, out_stem, fresh,
                 format, input, sets):
    from ..measure import zoo as Z
    from ..report.profile import write_zoo_report

    if input or sets:
        raise SpecError("--zoo measures each model as the zoo defines it", fix="drop --input/--set, or name the specs.")
    jobs = Z.zoo_jobs(family)
    stem = out_stem or Z.default_stem(info["device"], info["threads"], batch, dtype)
    log = stem + ".partial.jsonl"
    with _progress() as bar:
        task = bar.add_task("zoo", total=len(jobs), note="")
        results = Z.run_zoo(jobs, log=log, device=info["device"], threads=info["threads"], batch=batch, dtype=dtype,
                            warmup=min(warmup, 2), repeat=repeat if repeat or budget else 7, budget_s=budget,
                            per_layer=per_layer, clock=clock, fresh=fresh,
                            progress=lambda done, total, note: bar.update(task, completed=done, total=total,
                                                                          note=note[-60:]))
    report = Z.build_report(results, prof)
    js, md = write_zoo_report(report, stem)
    title = f"zoo latency on {info['device']} ({info['device_name']}), {info['threads']} thread(s), batch {batch}, {dtype}"
    if format == Format.json:
        import json

        out(json.dumps(report, indent=2, allow_nan=False))
    elif format == Format.markdown:
        out(open(md, encoding="utf-8").read())
    else:
        _print_many(report["models"], format, title)
    sys.stderr.write(f"wrote {js} and {md} (resume log {log})\n")


@app.command()
def calibrate(
    device: Device = "cpu",
    threads: CalibrateThreads = None,
    dtype: TimedDtype = "float32",
    batch: BenchBatch = 1,
    budget: Annotated[float, typer.Option(help="seconds for the timed micro-benchmark rounds (synthetic networks add ~2/3 of it)")] = 45.0,
    seed: Annotated[int, typer.Option(help="seed of the random benchmark shapes and synthetic networks")] = 0,
    clock: Clock = None,
    output: ProfileOutput = None,
    out_: OldOut = None,
    list_: Annotated[bool, typer.Option("--list", help="list the saved device profiles and exit")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="a few small benchmarks only (seconds; a smoke test, not an accurate profile)")] = False,
):
    """Micro-benchmark this device (synthetic layers and networks only, never zoo models) and save a device profile."""
    try:
        if list_:
            _list_profiles()
            return
        if budget <= 0 or batch < 1:
            raise SpecError("--budget must be positive and --batch at least 1", fix="e.g. --budget 45 --batch 1.")
        if clock not in (None, "wall", "cpu"):
            raise SpecError(f"--clock {clock!r} is not a clock", fix="use --clock wall or --clock cpu.")
        info = _start("archcost calibrate", device, threads)
        from ..measure.profile import resolve_clock

        resolve_clock(info, clock)
        from ..measure.calibrate import calibrate as run_calibration
        from ..measure.calibrate import save

        err = _err_console()
        err.print(f"[dim]calibrating {info['device']} ({info['device_name']}), {info['threads']} thread(s), {dtype}, "
                  f"batch {batch}: synthetic micro-benchmarks and networks only[/]")
        with _progress() as bar:
            tasks = {}

            def progress(phase, done, total):
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total, note="")
                bar.update(tasks[phase], completed=done, total=total)

            size = dict(quick=True) if quick else dict(budget_s=budget, network_budget_s=budget * 2 / 3)
            prof = run_calibration(device=info["device"], threads=info["threads"], dtype=dtype, batch=batch, seed=seed,
                                   clock=clock, progress=progress, **size)
        path = save(prof, output or out_)
    except SpecError as err:
        fail(err)
    from rich.console import Console

    from ..report.profile import calibration_table

    console = Console()
    console.print(calibration_table(prof))
    console.print(f"saved device profile [bold]{prof['name']}[/] to {path} ({prof['duration_s']:.0f} s)")
    console.print(f"use it: archcost table SPEC --device-profile {prof['name'] if not (output or out_) else path}")


def _list_profiles():
    from rich.console import Console
    from rich.table import Table

    from ..analysis.latency import list_profiles, load_profile, profiles_dir

    t = Table(title=f"device profiles in {profiles_dir()} (newest first)")
    for c in ("name", "device", "threads", "dtype", "torch", "date"):
        t.add_column(c)
    for stem, path in list_profiles():
        try:
            d = load_profile(str(path)).data
            t.add_row(stem, f"{d['device']} ({d['device_name']})", str(d["threads"]), d["dtype"], d.get("torch", ""),
                      d.get("date", ""))
        except SpecError as err:
            t.add_row(stem, f"[red]unreadable: {err.message}[/]", "", "", "", "")
    Console().print(t)
