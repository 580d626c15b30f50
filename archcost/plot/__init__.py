"""Plots: accuracy against cost (Canziani et al. 2016 style), per-layer bars, the HTML report.

Every function returns a ``plotly.graph_objects.Figure`` (plotly is imported when one is called,
never when this package is imported)::

    import archcost.plot as ap
    fig = ap.accuracy_vs_macs(["resnet50", "mobilenetv2", "vgg16"])   # or all=True, family="efficient"
    ap.save(fig, html="reports/acc.html", png="reports/acc.png")
    ap.layers("mobilenetv2", metric="macs", depth=1).show()
    ap.figure_data(fig)   # the plotted numbers per model: what tests/golden pins

x is the metric on a log axis, y the spec's top-1 (source in the hover), bubble area ∝ params,
colour = family, one label per model, and the Pareto frontier (most accurate for its cost) dashed.
The convention is stamped in the title and the x axis.  Models without a top-1 are left out and
listed in ``fig.layout.meta["archcost"]["left_out"]``.
"""

from __future__ import annotations

from .data import ACCURACY_METRICS, LAYER_METRICS, accuracy_chart, layers_chart


def _need():
    from ..extras import need

    need("plot", "archcost.plot")


def accuracy_vs(metric: str, models=None, **kw):
    """Top-1 accuracy against ``metric`` (macs, params, flops, latency); keywords as :func:`accuracy_chart`
    (``all``, ``family``, ``convention``, ``input``, ``dataset``, ``latency``, ``device_profile``, ``highlight``)
    and ``labels`` (frontier: the Pareto frontier and the models named, the default; all; none)."""
    _need()
    from .figures import accuracy_figure

    labels = kw.pop("labels", "frontier")  # names written: frontier + the models asked for; all; none
    return accuracy_figure(accuracy_chart(models, metric=metric, **kw), labels=labels,
                           named=[models] if isinstance(models, str) else models or ())


def accuracy_vs_macs(models=None, **kw):
    """Top-1 accuracy vs MACs (log), bubble area ∝ params, colour = family, Pareto frontier."""
    return accuracy_vs("macs", models, **kw)


def accuracy_vs_params(models=None, **kw):
    """Top-1 accuracy vs parameters (log)."""
    return accuracy_vs("params", models, **kw)


def accuracy_vs_flops(models=None, **kw):
    """Top-1 accuracy vs FLOPs (log) under the chosen convention."""
    return accuracy_vs("flops", models, **kw)


def accuracy_vs_latency(models=None, *, latency=None, device_profile=None, **kw):
    """Top-1 accuracy vs latency: measured medians from ``latency`` (a reports/latency-*.json; default the
    newest in reports/) or predicted from ``device_profile``.  ``models=None`` and no ``all``/``family``:
    every model in the latency report."""
    if models is None and not kw.get("all") and kw.get("family") is None:
        models = measured_models(latency) if device_profile is None else None
    return accuracy_vs("latency", models, latency=latency, device_profile=device_profile, **kw)


def measured_models(latency=None, latency_dir: str = "reports") -> list:
    """The models of a latency report (default: the newest in ``latency_dir``), measured or not: a model
    whose run failed is then listed as left out, with the report's reason."""
    from ..catalog.latency import resolve_latency

    _, rep = resolve_latency(latency, None, default_dir=latency_dir)
    return list(rep.models) + [m for m in rep.not_measured if m not in rep.models]


def layers(spec, *, metric: str = "macs", depth: int | None = None, **kw):
    """A bar per layer (or per block with ``depth``) of ``metric`` (macs, params, activation_bytes,
    weight_bytes, flops, predicted_ms), stacked by layer kind (dense/pointwise/depthwise conv, linear, ...)."""
    _need()
    from .figures import layers_figure

    return layers_figure(layers_chart(spec, metric=metric, depth=depth, **kw))


def save(fig, *, html: str | None = None, png: str | None = None, svg: str | None = None) -> None:
    """Write ``fig`` as self-contained HTML and/or PNG/SVG (kaleido + a system Chromium; the HTML is
    written first, so it exists even when no browser is found)."""
    from .export import write_html, write_images

    if html:
        write_html(fig, html)
    write_images(fig, [(p, f) for p, f in ((png, "png"), (svg, "svg")) if p])


def figure_data(fig) -> dict:
    """The numbers a figure plots (see :func:`archcost.plot.figures.figure_data`)."""
    from .figures import figure_data as fd

    return fd(fig)


def report(names, **kw) -> str:
    """The self-contained HTML report of ``names`` (see :func:`archcost.plot.html_report.report_html`)."""
    _need()
    from .html_report import report_html

    return report_html(names, **kw)


__all__ = ["ACCURACY_METRICS", "LAYER_METRICS", "accuracy_vs", "accuracy_vs_macs", "accuracy_vs_params",
           "accuracy_vs_flops", "accuracy_vs_latency", "layers", "save", "figure_data", "report",
           "accuracy_chart", "layers_chart", "measured_models"]
