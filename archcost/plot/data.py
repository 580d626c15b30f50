"""What the plots show, computed in pure Python (no plotly): points, frontier, left-out models, bars.

:func:`accuracy_chart` and :func:`layers_chart` decide every number and title; the figure
builders (:mod:`archcost.plot.figures`) only draw them.  So the numbers can be tested (and the
CLI can print the frontier) without a browser, and the golden figure data pins both halves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .. import units
from ..api import analyze
from ..catalog.latency import profile_label, resolve_latency
from ..catalog.models import pareto_front, select, summarize
from ..errors import SpecError
from ..ops import OPS

# metric -> (axis name, how a value prints)
ACCURACY_METRICS = {
    "macs": ("MACs", units.count),
    "params": ("params", units.count),
    "flops": ("FLOPs", units.count),
    "latency": ("latency (ms)", lambda v: f"{v:.3g} ms"),
}
# metric -> (axis name, how a value prints)
LAYER_METRICS = {
    "macs": ("MACs", lambda v: f"{v:,}"),
    "params": ("params", lambda v: f"{v:,}"),
    "activation_bytes": ("activation bytes (outputs)", units.nbytes),
    "weight_bytes": ("weight bytes", units.nbytes),
    "flops": ("FLOPs", lambda v: f"{v:,}"),
    "predicted_ms": ("predicted ms", lambda v: f"{v:.3g} ms"),
}
# the layer kinds a bar chart colours, in legend order
KINDS = ["conv (dense)", "pointwise conv (1×1)", "depthwise conv", "grouped conv", "transposed conv", "linear",
         "norm", "activation", "pooling", "add / multiply / concat", "other"]


@dataclass
class Point:
    """One model on an accuracy chart: ``x`` = the metric, ``y`` = top-1 %, ``size`` = params."""

    label: str
    x: float
    y: float
    size: int
    summary: object = field(repr=False)
    hover: str = ""


@dataclass
class AccuracyChart:
    """Everything an accuracy chart shows (see :func:`accuracy_chart`)."""

    metric: str
    points: list
    frontier: list      # labels on the Pareto frontier, in increasing x
    left_out: list      # (model, why)
    title: str
    subtitle: str
    x_title: str
    y_title: str
    convention: str
    dataset: str
    highlight: list = field(default_factory=list)

    @property
    def kind(self) -> str:
        return f"accuracy-vs-{self.metric}"


def _unknown(what: str, value: str, known) -> SpecError:
    import difflib

    close = difflib.get_close_matches(str(value), list(known), n=1)
    return SpecError(f"unknown {what} '{value}'",
                     fix=(f"did you mean {close[0]}? " if close else "") + f"use one of {', '.join(known)}.")


def _stamp(metric: str, convention: str) -> str:
    """``"convention X; "`` where the convention changes the plotted numbers: not for params, which only
    the presets with their own params rule (keras, ptflops, thop) count differently."""
    from ..analysis.conventions import CONVENTIONS

    if metric == "params" and CONVENTIONS[convention].params_rule == "torch":
        return ""
    return f"convention {convention}; "


def accuracy_chart(names=None, *, all: bool = False, family: str | None = None, metric: str = "macs",
                   convention: str = "default", input=None, dataset: str | None = None, latency=None,
                   device_profile=None, latency_dir: str | None = "reports", highlight=(),
                   cache: dict | None = None) -> AccuracyChart:
    """Top-1 accuracy against ``metric`` (macs, params, flops, latency) for the models asked for.

    Models without a top-1, or whose top-1 is on another dataset than the chart's (``dataset``;
    default: the one most of them use), or without a latency, are left out with the reason; an
    error only if none remain.  ``latency``: a report file (measured medians; default the newest
    ``latency_dir/latency-*.json``); ``device_profile``: predicted times instead.  ``cache`` (a dict)
    keeps the analysed models for the next chart of the same models (the report draws several).
    """
    if metric not in ACCURACY_METRICS:
        raise _unknown("metric", metric, ACCURACY_METRICS)
    requested = select(names, all=all, family=family, what=f"accuracy-vs-{metric}")
    source = resolve_latency(latency, device_profile, default_dir=latency_dir) if metric == "latency" else None
    predicted = source is not None and source[0] == "predicted"
    summaries, seen = [], set()
    for name in requested:
        key = (name, str(input), convention, str(device_profile) if predicted else None)
        s = cache.get(key) if cache is not None else None
        if s is None:
            s = summarize(name, input=input, convention=convention, device_profile=device_profile if predicted else None)
            if cache is not None:
                cache[key] = s
        if s.name not in seen:  # an alias of a model already asked for
            seen.add(s.name)
            summaries.append(s)
    with_top1 = [s for s in summaries if s.top1 is not None]
    if dataset is None and with_top1:
        counts = Counter(s.dataset for s in with_top1)
        dataset = max(counts, key=lambda d: (counts[d], -[s.dataset for s in with_top1].index(d)))
    dataset = dataset or "ImageNet-1k"
    axis, fmt = ACCURACY_METRICS[metric]
    points, left_out = [], []
    for s in summaries:
        if s.top1 is None:
            left_out.append((s.name, f"no top-1 accuracy ({s.accuracy_source or 'the spec gives none'})"))
            continue
        if s.dataset != dataset:
            left_out.append((s.name, f"top-1 is on {s.dataset}, this chart plots {dataset} (see --dataset)"))
            continue
        extra = ""
        if metric == "latency":
            if predicted:
                x = s.totals["predicted_ms"]
            else:
                entry, why = source[1].lookup(s, input=input)
                if entry is None:
                    left_out.append((s.name, f"no measured latency: {why}"))
                    continue
                x = entry["median"]
                spread = [f"{k} {entry[k]:.3g}" + (" ms" if k != "cv" else "") for k in ("iqr", "min", "cv") if k in entry]
                extra = f"<br>measured median {x:.3g} ms" + (f" ({', '.join(spread)})" if spread else "")
        else:
            x = s.totals[metric]
        if not x or x <= 0:
            left_out.append((s.name, f"{axis} is {x}: cannot go on a log axis"))
            continue
        t = s.totals
        hover = (f"<b>{s.name}</b> ({s.title}) · {s.family}<br>top-1 {s.top1:.2f}% on {s.dataset}<br>"
                 f"source: {s.accuracy_source}<br>{axis}: {fmt(x)}<br>params {units.count(t['params'])} · "
                 f"MACs {units.count(t['macs'])} · FLOPs {units.count(t['flops'])}<br>"
                 f"input {units.shape(s.input_shape)} · convention {convention}{extra}")
        points.append(Point(label=s.name, x=x, y=s.top1, size=t["params"], summary=s, hover=hover))
    if not points:
        why = "; ".join(f"{n}: {w}" for n, w in left_out[:6]) + ("; ..." if len(left_out) > 6 else "")
        raise SpecError(f"nothing to plot: every model was left out ({why})",
                        fix="choose models with a published top-1 (see `archcost zoo`), or another --dataset.")
    front = [points[i].label for i in pareto_front([(p.x, p.y) for p in points])]
    if metric == "latency":
        x_title = ("latency, ms: predicted from device profile " + profile_label(source[1]) if predicted
                   else f"latency, ms: median {source[1].label()}") + " (log scale)"
    else:
        x_title = f"{axis} ({_stamp(metric, convention)}log scale)"
    what = "latency" if metric == "latency" else axis
    notes = ["bubble area ∝ params", f"dashed line: Pareto frontier (most accurate for its {what})"]
    if input is not None:
        notes.append(f"input {units.shape(points[0].summary.input_shape)} for every model; top-1 is each spec's "
                     "published figure at its own resolution")
    if left_out:
        names_out = ", ".join(n for n, _ in left_out[:8]) + (", ..." if len(left_out) > 8 else "")
        notes.append(f"left out ({len(left_out)}): {names_out}")
    return AccuracyChart(
        metric=metric, points=points, frontier=front, left_out=left_out,
        title=f"Top-1 accuracy vs {what}: {len(points)} model{'s' if len(points) != 1 else ''}"
              + (f" ({_stamp(metric, convention).rstrip('; ')})" if _stamp(metric, convention) else ""),
        subtitle=" · ".join(notes), x_title=x_title, y_title=f"top-1 accuracy, % ({dataset})",
        convention=convention, dataset=dataset, highlight=list(highlight))


# the op's kind (archcost.ops.base.KINDS) -> the colour group it is drawn in
_KIND_LABELS = {"conv": "conv (dense)", "pointwise": "pointwise conv (1×1)", "depthwise": "depthwise conv",
                "grouped": "grouped conv", "transposed": "transposed conv", "linear": "linear", "norm": "norm",
                "act": "activation", "pool": "pooling", "merge": "add / multiply / concat"}


def layer_kind(node) -> str:
    """What kind of layer a node is, for colouring: its op's kind (depthwise vs pointwise vs dense conv,
    linear, norm, ...); views and the rest are "other"."""
    return _KIND_LABELS.get(OPS[node.op].kind_of(node.attrs), "other")


@dataclass
class LayersChart:
    """A per-layer (or per-block) stacked bar chart: ``values[metric][kind]`` has one value per label."""

    model: str
    metric: str
    metrics: list
    labels: list
    values: dict
    hover: dict         # metric -> kind -> text per label
    totals: dict        # metric -> the model's total
    titles: dict        # metric -> (title, y axis title)
    depth: int | None
    convention: str


def layers_chart(spec, *, metric: str = "macs", depth: int | None = None, input=None, overrides=None,
                 convention: str = "default", device_profile=None, metrics=None) -> LayersChart:
    """Where the cost is: ``metric`` per layer, or summed per block with ``depth``, coloured by layer kind.

    ``metrics`` (the report) computes several at once; the first is shown.  ``predicted_ms`` needs
    ``device_profile``.
    """
    metrics = list(metrics or [metric])
    for m in metrics:
        if m not in LAYER_METRICS:
            raise _unknown("metric", m, LAYER_METRICS)
    if "predicted_ms" in metrics and device_profile is None:
        raise SpecError("--metric predicted_ms needs a device profile", fix="add --device-profile NAME|FILE "
                        "(made by `archcost calibrate`).")
    if depth is not None and depth < 1:
        raise SpecError(f"--depth must be at least 1, got {depth}", fix="use --depth 1 for top-level blocks.")
    a = analyze(spec, input=input, overrides=overrides, convention=convention, device_profile=device_profile)
    nodes = a.graph.by_id()
    labels, index = [], {}
    for r in a.rows:
        key = ".".join(r.name.split(".")[:depth]) if depth else r.name
        if key not in index:
            index[key] = len(labels)
            labels.append(key)
    values, hover, totals, titles = {}, {}, {}, {}
    for m in metrics:
        axis, fmt = LAYER_METRICS[m]
        per = {k: [0] * len(labels) for k in KINDS}
        for r in a.rows:
            key = ".".join(r.name.split(".")[:depth]) if depth else r.name
            v = (r.extra or {}).get(m) if m == "predicted_ms" else getattr(r, m)
            per[layer_kind(nodes[r.name])][index[key]] += v or 0
        total = sum(sum(v) for v in per.values())
        values[m] = {k: v for k, v in per.items() if any(v)}
        hover[m] = {k: [f"<b>{lab}</b><br>{k}: {fmt(v)}" + (f" ({100 * v / total:.1f}% of the model)" if total else "")
                        for lab, v in zip(labels, vs)] for k, vs in values[m].items()}
        totals[m] = total
        where = f"per block (depth {depth}; each bar sums its layers)" if depth else "per layer"
        conv = "" if m == "predicted_ms" else f", convention {convention}"
        total_text = (f"sum of outputs {fmt(total)}, peak live {fmt(a.totals['peak_activation_bytes'])}"
                      if m == "activation_bytes" else f"total {fmt(total)}")
        titles[m] = (f"{a.model}: {axis} {where}; {total_text}{conv}", axis)
    return LayersChart(model=a.model, metric=metrics[0], metrics=metrics, labels=labels, values=values, hover=hover,
                       totals=totals, titles=titles, depth=depth, convention=convention)
