"""``archcost profile --zoo``: measure many models, resumably, and report predicted vs measured.

Models are measured in chunks that fit in memory (by weight bytes); within a chunk they are
interleaved, one block of each per round (A B C A B C ...), so that load on a shared machine
hits every model alike.  After each chunk its results are appended to a resume log
(``<report>.partial.jsonl``, one JSON object per line); a rerun skips the models already
there.  Predictions are computed afterwards from the logged measurements (pure Python), so
one measurement can be compared with several device profiles.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SpecError

CHUNK_WEIGHT_BYTES = 1.5 * 2**30
CHUNK_MODELS = 8
SETTINGS = ("device", "threads", "batch", "dtype", "clock")


@dataclass
class Job:
    """One model to measure: a zoo name or spec, optionally at another input shape or with --set values."""

    spec: str
    input: tuple | None = None
    overrides: dict = field(default_factory=dict)
    family: str | None = None

    @property
    def label(self) -> str:
        s = self.spec
        if self.input:
            s += "@" + "x".join(map(str, self.input))
        if self.overrides:
            s += "[" + ",".join(f"{k}={v}" for k, v in sorted(self.overrides.items())) + "]"
        return s


def zoo_jobs(family: str | None = None) -> list:
    from ..zoo import entries

    jobs = [Job(e.name, family=e.family) for e in entries() if family is None or e.family == family]
    if not jobs:
        fams = sorted({e.family for e in entries()})
        raise SpecError(f"no zoo models in family '{family}'", fix=f"families: {', '.join(fams)}.")
    return jobs


def default_stem(device: str, threads: int, batch: int, dtype: str, when=None) -> str:
    """``reports/latency-cpu-2026-12-01`` (+ ``-2t``, ``-b64``, ``-float16`` when not the defaults)."""
    when = when or _dt.date.today()
    dev = device.split(":")[0] if device.startswith("cuda") else "cpu"
    parts = [f"latency-{dev}"]
    if dev == "cpu" and threads != 1:
        parts.append(f"{threads}t")
    if batch != 1:
        parts.append(f"b{batch}")
    if dtype != "float32":
        parts.append(dtype)
    parts.append(when.isoformat())
    return str(Path("reports") / "-".join(parts))


def read_log(path: Path) -> list:
    from .results import read_results

    return read_results(path) if path.is_file() else []


def _weight_bytes(job, dtype_bytes) -> float:
    from ..api import analyze

    a = analyze(job.spec, input=job.input, overrides=job.overrides or None)
    return (a.totals["params"] + a.totals["buffers"]) * dtype_bytes


def chunks(jobs: list, dtype_bytes: int = 4) -> list:
    out, cur, size = [], [], 0.0
    for j in jobs:
        w = _weight_bytes(j, dtype_bytes)
        if cur and (size + w > CHUNK_WEIGHT_BYTES or len(cur) >= CHUNK_MODELS):
            out.append(cur)
            cur, size = [], 0.0
        cur.append(j)
        size += w
    if cur:
        out.append(cur)
    return out


def run_zoo(jobs: list, *, log: str, device: str = "cpu", threads: int | None = None, batch: int = 1,
            dtype: str = "float32", warmup: int = 2, repeat: int | None = 7, budget_s: float | None = None,
            per_layer: bool = False, clock: str | None = None, fresh: bool = False, progress=None) -> list:
    """Measure every job (skipping those already in the log) and return all logged results."""
    from .device import setup
    from .profile import resolve_clock, prepare, run
    from .results import split_half_pct

    info = setup(device, threads)
    settings = {"device": info["device"], "threads": info["threads"], "batch": batch, "dtype": dtype,
                "clock": resolve_clock(info, clock)}
    log_path = Path(log)
    if fresh and log_path.exists():
        log_path.unlink()
    done = {}
    for r in read_log(log_path):
        theirs = {k: r.get(k) for k in SETTINGS}
        if theirs != settings:
            raise SpecError(f"the resume log was measured with {theirs}, not {settings}", file=str(log_path), line=1,
                            fix="add --fresh to start over, or --out another report path.")
        done[r["label"]] = r
    todo = [j for j in jobs if j.label not in done]
    report = progress or (lambda *a: None)
    n_done = len(jobs) - len(todo)
    report(n_done, len(jobs), "")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    elem = {"float32": 4, "float16": 2, "bfloat16": 2}[dtype]
    for chunk in chunks(todo, elem):
        preps = []
        for j in chunk:
            report(n_done, len(jobs), f"lowering {j.label}")
            preps.append(prepare(j.spec, input=j.input, overrides=j.overrides or None, batch=batch, dtype=dtype,
                                 info=info))
        names = ", ".join(j.label for j in chunk)
        results = run(preps, warmup=warmup, repeat=repeat, budget_s=budget_s, per_layer=per_layer, clock=clock,
                      on_round=lambda r, n, names=names: report(n_done, len(jobs), f"round {r}/{n or '…'}: {names}"))
        with log_path.open("a", encoding="utf-8") as f:
            for j, p, res in zip(chunk, preps, results):
                res.update(label=j.label, family=j.family, spec=j.spec,
                           input=list(j.input) if j.input else None, overrides=j.overrides or None,
                           per_layer=per_layer)
                res["split_half_pct"] = split_half_pct(res.get("samples_ms") or [])
                f.write(json.dumps(res) + "\n")
                done[j.label] = res
        n_done += len(chunk)
        report(n_done, len(jobs), names)
        del preps, results
    return [done[j.label] for j in jobs if j.label in done]


def predict_results(results: list, profile) -> list:
    """Each result with the profile's prediction, error and the MACs-only baseline (pure Python)."""
    from ..analysis.latency import load_profile
    from ..api import analyze
    from .profile import predict_into

    prof = load_profile(profile)
    out = []
    for r in results:
        a = analyze(r["spec"], input=tuple(r["input"]) if r.get("input") else None,
                    overrides=r.get("overrides") or None, batch=r["batch"], dtype=r["dtype"])
        m = dict(r)
        m.update(macs=a.totals["macs"], params=a.totals["params"])
        if r.get("layers"):
            m["layers"] = [dict(row) for row, _ in zip(r["layers"], a.graph.nodes)]
        predict_into(m, a.graph, prof, macs=a.totals["macs"])
        for row, counted in zip(m.get("layers") or [], a.rows):
            row.setdefault("macs", counted.macs)
        out.append(m)
    return out


def build_report(results: list, profile=None, *, include_layers: bool = False) -> dict:
    """The zoo report: settings, one record per model, and the summary (see the README's Latency section)."""
    from ..analysis.latency import load_profile
    from .results import by_class, summarize

    models = predict_results(results, profile) if profile is not None else [dict(r) for r in results]
    classes = by_class(models) if profile is not None else []
    first = results[0] if results else {}
    prof = load_profile(profile) if profile is not None else None
    report = {k: first.get(k) for k in ("device", "device_name", "threads", "batch", "dtype", "torch", "clock")}
    report.update(date=_dt.date.today().isoformat(), profile=prof.name if prof else None,
                  profile_date=prof.data.get("date") if prof else None,
                  models=[_slim(m, include_layers) for m in models], summary=summarize(models),
                  by_class=classes)
    return report


def _slim(m: dict, include_layers: bool) -> dict:
    keep = dict(m)
    if not include_layers:
        keep.pop("layers", None)
    return keep
