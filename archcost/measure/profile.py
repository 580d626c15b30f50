"""Latency of a lowered spec: whole-model forward passes and, optionally, every node.

The spec is lowered with random weights, put in eval mode and run under
``torch.inference_mode``.  Whole-model samples are plain forward calls (no hooks).
Per-layer samples come from separate forward passes with a pre- and a post-forward
hook on every node's module: on CPU the hooks read the clock, on CUDA they record
events (read after one synchronize at the end of the pass, so no sync happens between
layers).  Whole-model and hooked passes alternate (W H W H ...), so load on a shared
machine affects both alike; the ratio of the per-layer sum to the whole-model time shows
what the hooks themselves cost.  Rows are named by node id, exactly as ``archcost
table`` names them.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field

from ..errors import SpecError
from .device import load_average, setup
from .timer import NOISY_REL_IQR, NOISY_REL_IQR_LAYER, Block, Measurement, measurements, quartiles, rounds

DTYPES = ("float32", "float16", "bfloat16")


@dataclass
class Prepared:
    """A spec lowered and placed on a device, with its example input."""

    name: str
    graph: object
    model: object
    x: object
    batch: int
    dtype: str
    info: dict
    spec: str = ""
    input: object = None
    overrides: dict = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.info["kind"] == "cuda"


def prepare(spec, *, input=None, overrides=None, batch: int = 1, dtype: str = "float32", info: dict) -> Prepared:
    """Build the graph, lower it (random weights, eval) and make a random input on ``info``'s device."""
    import torch

    from ..api import build
    from ..lowering import example_input, lower_graph

    if dtype not in DTYPES:
        raise SpecError(f"--dtype {dtype!r} cannot be timed", fix=f"use one of {', '.join(DTYPES)}.")
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise SpecError(f"batch must be a positive integer, got {batch!r}", fix="use --batch 1 or more.")
    graph = build(spec, input=input, overrides=overrides)
    model = lower_graph(graph).eval()
    tdtype = getattr(torch, dtype)
    model = model.to(device=info["torch_device"], dtype=tdtype)
    x = example_input(model, batch, device=info["torch_device"])
    if x.is_floating_point():  # token ids stay integers
        x = x.to(tdtype)
    return Prepared(name=graph.name, graph=graph, model=model, x=x, batch=batch, dtype=dtype, info=info,
                    spec=str(spec), input=input, overrides=dict(overrides or {}))


class LayerTimer:
    """Hooks on every node module that record each node's time in a forward pass (attach / detach)."""

    def __init__(self, prep: Prepared, clock: str = "wall"):
        self.prep = prep
        self.ids = [n.id for n in prep.graph.nodes]
        self.samples = {i: [] for i in self.ids}
        self.handles = []
        self.cuda = prep.cuda
        self.mods = dict(prep.model.node_modules())
        if self.cuda:
            import torch

            self.events = {i: (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                           for i in self.ids}
        self.now = time.thread_time_ns if clock == "cpu" and not self.cuda else time.perf_counter_ns
        self._t0 = {}

    def attach(self):
        now, t0 = self.now, self._t0
        for nid in self.ids:
            m = self.mods[nid]
            if self.cuda:
                start, end = self.events[nid]
                self.handles.append(m.register_forward_pre_hook(lambda mod, args, e=start: e.record()))
                self.handles.append(m.register_forward_hook(lambda mod, args, out, e=end: e.record()))
            else:
                s = self.samples[nid]
                self.handles.append(m.register_forward_pre_hook(lambda mod, args, k=nid: t0.__setitem__(k, now())))
                self.handles.append(m.register_forward_hook(
                    lambda mod, args, out, k=nid, s=s: s.append((now() - t0[k]) / 1e9)))

    def detach(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def one_pass(self):
        """One hooked forward pass (CUDA: events read after a single synchronize at the end)."""
        self.attach()
        try:
            self.prep.model(self.prep.x)
            if self.cuda:
                import torch

                torch.cuda.synchronize()
                for nid, (a, b) in self.events.items():
                    self.samples[nid].append(a.elapsed_time(b) / 1e3)
        finally:
            self.detach()


def default_clock(info) -> str:
    """``cpu`` (this thread's CPU time) on one CPU thread, else ``wall``.

    On an idle core the two are equal; on a shared machine the CPU clock leaves out the time
    the operating system gave other processes, so results are comparable between runs.  Wall
    time is recorded with every sample anyway (``load_factor`` = wall / CPU).
    """
    return "cpu" if info["kind"] == "cpu" and info["threads"] == 1 else "wall"


def resolve_clock(info, clock):
    """The clock actually used: ``cuda`` (events) on CUDA, else ``clock`` or the default, checked."""
    if info["kind"] == "cuda":
        return "cuda"
    if clock is None:
        clock = default_clock(info)
    if clock not in ("wall", "cpu"):
        raise SpecError(f"--clock {clock!r} is not a clock", fix="use --clock wall or --clock cpu.")
    if clock == "cpu" and info["threads"] != 1:
        raise SpecError("--clock cpu measures this thread's CPU time, which is the latency only with one thread",
                        fix="use --threads 1, or --clock wall.")
    return clock


def run(preps: list, *, warmup: int = 3, repeat: int | None = None, budget_s: float | None = None,
        per_layer: bool = False, clock: str | None = None, min_repeat: int = 5, on_round=None) -> list:
    """Measure one or more prepared models, interleaved (A B A B …); returns one result dict each.

    Each round runs one whole-model block of every model and, with ``per_layer``, one hooked
    pass of every model.  Stops after ``repeat`` rounds, or when ``budget_s`` is spent (at
    least ``min_repeat`` rounds); default 10 rounds.
    """
    import torch

    if not preps:
        return []
    info = preps[0].info
    used_clock = resolve_clock(info, clock)
    if repeat is None and budget_s is None:
        repeat = 10
    cuda = info["kind"] == "cuda"
    with torch.inference_mode():
        blocks = [Block(lambda p=p: p.model(p.x), cuda=cuda) for p in preps]
        for p, b in zip(preps, blocks):
            try:
                b.warm_up(max(1, warmup))
            except RuntimeError as err:  # e.g. a dtype the device has no kernel for
                raise SpecError(f"torch could not run {p.name} on {info['device']} in {p.dtype}: "
                                f"{str(err).splitlines()[0][:200]}",
                                fix="use --dtype float32, or a device that supports this dtype.") from None
            b.size_to(0.01 if not cuda else 0.0)  # tiny models: several calls per sample
        layer_timers = [LayerTimer(p, clock=used_clock) for p in preps] if per_layer else []
        for lt in layer_timers:  # the first hooked pass warms the hooks' own code paths
            lt.one_pass()
            for s in lt.samples.values():
                s.clear()
        load_start = load_average()
        # each model's hooked pass right after its whole-model block: W H W H ...
        whole = rounds(blocks, repeat=repeat, budget_s=budget_s, min_repeat=min_repeat,
                       after=(lambda i: layer_timers[i].one_pass()) if per_layer else None,
                       on_round=None if on_round is None else (lambda n, _spent: on_round(n, repeat)))
    load_end = load_average()
    measured = measurements(blocks, whole, warmup=warmup, clock=used_clock, cuda=cuda)
    results = []
    for i, (p, m) in enumerate(zip(preps, measured)):
        res = describe(p, m, load=(load_start, load_end))
        if per_layer:
            rows = _layer_rows(p, layer_timers[i])
            hooked = sum(r["hooked_ms"] for r in rows)
            whole_ms = res["measured_ms"]["median"]
            # the model's time outside every layer (its loop, freeing tensors; minus what the hooks
            # themselves add), shared evenly, so that the layers add up to the whole forward pass
            share = (whole_ms - hooked) / max(1, len(rows))
            for r in rows:
                r["measured_ms"] = r["hooked_ms"] + share
            res["layers"] = rows
            res["per_layer_sum_ms"] = hooked
            res["outside_layers_ms"] = whole_ms - hooked
            res["hook_overhead_pct"] = 100.0 * (hooked / whole_ms - 1.0) if whole_ms > 0 else None
        results.append(res)
    return results


def describe(p: Prepared, m: Measurement, load=None) -> dict:
    """The result record of one model (the JSON format of `archcost profile`, without predictions)."""
    info = p.info
    d = {
        "model": p.name, "spec": p.spec, "input_shape": [p.batch, *p.graph.input_shape],
        "device": info["device"], "device_name": info["device_name"], "threads": info["threads"],
        "batch": p.batch, "dtype": p.dtype, "torch": info["torch"],
        "date": _dt.datetime.now().replace(microsecond=0).isoformat(),
        "clock": m.clock, "warmup": m.warmup,
        "measured_ms": m.to_dict(), "noisy": m.noisy(NOISY_REL_IQR),
        "samples_ms": [x * 1e3 for x in m.samples],
        "predicted_ms": None, "error_pct": None, "profile": None, "layers": [],
    }
    if p.overrides:
        d["overrides"] = p.overrides
    if info.get("cudnn_benchmark") is not None:
        d["cudnn_benchmark"] = info["cudnn_benchmark"]
    if load:
        d["load_average"] = {"start": load[0], "end": load[1]}
    return d


#: the convention of the MACs `profile` prints (the analysis' count, stamped as "macs_convention")
MACS_CONVENTION = "default"


def layer_macs(graph, batch: int) -> list:
    """Each node's MACs at ``batch`` as the analysis counts them under :data:`MACS_CONVENTION` (graph order)."""
    from ..analysis.engine import analyze_graph

    return [r.macs for r in analyze_graph(graph, convention=MACS_CONVENTION, batch=batch).rows]


def _layer_rows(p: Prepared, lt: LayerTimer) -> list:
    rows = []
    for n, macs in zip(p.graph.nodes, layer_macs(p.graph, p.batch)):
        s = lt.samples[n.id]
        q1, med, q3 = quartiles(s)
        rows.append({"name": n.id, "op": n.op, "macs": macs, "macs_convention": MACS_CONVENTION, "measured_ms": med * 1e3,
                     "hooked_ms": med * 1e3, "iqr_ms": (q3 - q1) * 1e3, "q1_ms": q1 * 1e3, "min_ms": min(s) * 1e3,
                     "repeats": len(s),
                     "noisy": len(s) < 3 or (q3 - q1) > NOISY_REL_IQR_LAYER * med,
                     "predicted_ms": None, "error_pct": None})
    return rows


def add_prediction(result: dict, prep: Prepared, profile) -> dict:
    """Fill ``predicted_ms`` / ``error_pct`` (model and layers) from a device profile (pure Python)."""
    return predict_into(result, prep.graph, profile, macs=sum(layer_macs(prep.graph, prep.batch)))


def predict_into(result: dict, graph, profile, *, macs: int) -> dict:
    """The prediction bookkeeping of one measured result (pure Python), filled in place and returned.

    Sets ``predicted_ms``, ``error_pct`` and ``profile``, the MACs-only baseline (``macs``,
    ``macs_baseline_ms``, ``macs_baseline_error_pct``) and, on every row of ``layers`` (graph
    order), ``predicted_ms``, ``error_pct`` and ``class``.  ``result`` carries ``batch``, ``dtype``
    and ``measured_ms`` as :func:`describe` writes them.
    """
    from ..analysis.latency import load_profile, macs_baseline_ms, predict_graph

    prof = load_profile(profile)
    per_node, classes, total = predict_graph(graph, prof, batch=result["batch"], dtype=result["dtype"])
    meas = result["measured_ms"]["median"]
    result["predicted_ms"] = total * 1e3
    result["error_pct"] = _err(total * 1e3, meas)
    result["profile"] = prof.name
    result["macs"] = macs
    result["macs_convention"] = MACS_CONVENTION
    result["macs_baseline_ms"] = macs_baseline_ms(macs, prof)
    result["macs_baseline_error_pct"] = _err(result["macs_baseline_ms"], meas)
    for row, s, cls in zip(result.get("layers") or [], per_node, classes):
        row["predicted_ms"] = s * 1e3
        row["error_pct"] = _err(s * 1e3, row["measured_ms"])
        row["class"] = cls
    return result


def _err(pred, meas):
    return 100.0 * (pred - meas) / meas if meas > 0 else None


def profile(spec, *, input=None, overrides=None, batch=1, dtype="float32", device="cpu", threads=None,
            warmup=3, repeat=None, budget_s=None, per_layer=False, clock=None, device_profile=None,
            on_round=None) -> dict:
    """Measure one spec (see :func:`run`); with ``device_profile``, add predictions and errors."""
    info = setup(device, threads)
    p = prepare(spec, input=input, overrides=overrides, batch=batch, dtype=dtype, info=info)
    res = run([p], warmup=warmup, repeat=repeat, budget_s=budget_s, per_layer=per_layer, clock=clock,
              on_round=on_round)[0]
    if device_profile is not None:
        add_prediction(res, p, device_profile)
    return res

