"""Plot, compare and report commands: ``plot accuracy-vs-*``, ``plot layers``, ``compare``, ``report``.

``compare`` needs no extra (pure Python); ``plot`` and ``report`` need the ``plot`` extra and say so
first.  Outputs default to reports/ (git-ignored).
"""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from ..errors import SpecError
from ._app import SpecArg, complete_spec, Format, app, fail, out, overrides, typer_app
from .options import (Convention, Dtype, InputEach, OutputFormat, SetsEach, Wide, depth_option, device_profile_option,
                      family_option, output_option)

plot_app = typer_app(no_args_is_help=True, help="Plots (self-contained HTML; PNG/SVG through kaleido + Chromium: -o FILE.png or --image svg).")
app.add_typer(plot_app, name="plot")

Names = Annotated[Optional[list[str]], typer.Argument(help="zoo names, aliases or spec files", show_default=False, metavar="NAME...",
                                                               autocompletion=complete_spec)]
All = Annotated[bool, typer.Option("--all", help="every zoo model")]
Family = family_option("every zoo model of this family")
Output = output_option("the chart's file: .html, or .png/.svg for that image alone "
                       "(default reports/<chart>-<models>.html)")
Image = Annotated[Optional[list[str]], typer.Option("--image", help="also write the chart as png or svg next to the "
                                                             "HTML (needs Chromium; repeatable)")]
Png = Annotated[Optional[str], typer.Option("--png", hidden=True, help="deprecated: use --image png or -o FILE.png")]
Svg = Annotated[bool, typer.Option("--svg", hidden=True, help="deprecated: use --image svg")]
IMAGE_FORMATS = ("png", "svg")
Labels = Annotated[str, typer.Option("--labels", help="names written on the chart: frontier (the Pareto frontier "
                                                      "and the models named; default), all or none; every name "
                                                      "is on hover")]
Dataset = Annotated[Optional[str], typer.Option("--dataset", help="plot top-1 on this dataset (default: the one most models use)")]
Latency = Annotated[Optional[str], typer.Option("--latency", help="measured latencies: a reports/latency-*.json from `archcost profile --zoo`")]
Profile = device_profile_option("predicted latencies from this device profile (NAME or FILE)")
BarDepth = depth_option("one bar per block: sum the layers under this many name levels")
ReportOutput = output_option("HTML file (default reports/report-<models>.html)")


def _need_plot(what: str):
    from ..extras import need

    need("plot", what)


def _targets(output: str, image, png: Optional[str], svg: bool) -> tuple:
    """(HTML path or None, [(image path, format)]) from -o's extension, --image and the old --png/--svg.

    ``-o chart.png`` or ``-o chart.svg`` writes that image alone; any other name is the HTML page."""
    stem, ext = os.path.splitext(output)
    ext = ext.lower().lstrip(".")
    for fmt in image or []:
        if fmt not in IMAGE_FORMATS:
            raise SpecError(f"--image {fmt!r} is not an image format archcost writes",
                            fix=f"use --image {' or --image '.join(IMAGE_FORMATS)}.")
    if ext in IMAGE_FORMATS:
        html, images = None, [(output, ext)]
    else:  # anything else is the HTML page, whatever it is called
        html, images = output, []
    images += [(stem + "." + f, f) for f in image or [] if f != ext]
    if png:
        images.append((png, "png"))
    if svg and ext != "svg":
        images.append((stem + ".svg", "svg"))
    return html, images


def _write_figure(fig, html: Optional[str], images: list):
    """HTML first (so it exists even if the images fail); the images come after, in one Chromium session."""
    if html:
        from ..plot.export import write_html

        write_html(fig, html)
        out(f"wrote {html}")
    return images


def _images(fig, targets):
    from ..plot.export import write_images

    if targets:
        write_images(fig, targets)
        for p, _ in targets:
            out(f"wrote {p}")


def _check_outputs(html: Optional[str], images: list):
    from ..plot.export import check_writable

    if html:
        check_writable(html, "-o")
    for p, fmt in images:
        check_writable(p, "--image " + fmt)


def _accuracy(metric: str, names, all, family, output, image, png, svg, convention, input, dataset, latency=None,
              device_profile=None, labels="frontier"):
    try:
        _need_plot("archcost plot")
        from ..plot import measured_models
        from ..plot.data import ACCURACY_METRICS, accuracy_chart
        from ..plot.figures import accuracy_figure
        from .. import units

        output = output or default_output(f"accuracy-vs-{metric}", names, all, family)
        html, images = _targets(output, image, png, svg)
        _check_outputs(html, images)
        if metric == "latency" and not names and not all and family is None and device_profile is None:
            names = measured_models(latency)  # default: every model the latency report has
        chart = accuracy_chart(names, all=all, family=family, metric=metric, convention=convention, input=input,
                               dataset=dataset, latency=latency, device_profile=device_profile)
        fig = accuracy_figure(chart, labels=labels, named=names or ())
        targets = _write_figure(fig, html, images)
    except SpecError as err:
        fail(err)
    _, fmt = ACCURACY_METRICS[metric]
    out(chart.title)
    out(f"Pareto frontier (most accurate for its {'latency' if metric == 'latency' else ACCURACY_METRICS[metric][0]}):")
    by_label = {p.label: p for p in chart.points}
    width = max(len(n) for n in chart.frontier)
    for name in chart.frontier:
        p = by_label[name]
        out(f"  {name:<{width}}  {fmt(p.x):>10}  top-1 {p.y:.2f}%  params {units.count(p.size)}")
    if chart.left_out:
        out(f"left out ({len(chart.left_out)}):")
        for name, why in chart.left_out:
            out(f"  {name}: {why}")
    try:
        _images(fig, targets)
    except SpecError as err:
        fail(err)


def _cost_command(metric: str, doc: str):
    def command(names: Names = None, all: All = False, family: Family = None, output: Output = None,
                image: Image = None, convention: Convention = "default", input: InputEach = None,
                dataset: Dataset = None, labels: Labels = "frontier", png: Png = None, svg: Svg = False):
        _accuracy(metric, names, all, family, output, image, png, svg, convention, input, dataset, labels=labels)

    command.__doc__ = doc
    command.__name__ = f"accuracy_vs_{metric}"
    plot_app.command(f"accuracy-vs-{metric}")(command)


_cost_command("macs", "Top-1 accuracy vs MACs (log): bubble area = params, colour = family, Pareto frontier.")
_cost_command("params", "Top-1 accuracy vs parameters (log).")
_cost_command("flops", "Top-1 accuracy vs FLOPs (log) under the convention.")


@plot_app.command("accuracy-vs-latency")
def accuracy_vs_latency(names: Names = None, all: All = False, family: Family = None, output: Output = None,
                        image: Image = None, convention: Convention = "default", input: InputEach = None,
                        dataset: Dataset = None, latency: Latency = None, device_profile: Profile = None,
                        labels: Labels = "frontier", png: Png = None, svg: Svg = False):
    """Top-1 accuracy vs latency: measured (--latency FILE; default the newest reports/latency-*.json) or
    predicted (--device-profile). Without NAMES: every model of the latency report."""
    _accuracy("latency", names, all, family, output, image, png, svg, convention, input, dataset, latency,
              device_profile, labels=labels)


@plot_app.command("layers")
def layers(
    spec: SpecArg,
    metric: Annotated[str, typer.Option("--metric", "-m", help="macs, params, activation_bytes, weight_bytes, flops, predicted_ms")] = "macs",
    depth: BarDepth = None,
    output: Output = None, image: Image = None, convention: Convention = "default",
    input: InputEach = None, set_: SetsEach = None, device_profile: Profile = None,
    png: Png = None, svg: Svg = False,
):
    """Where the cost is: a bar per layer (or per block with --depth), coloured by layer kind."""
    try:
        _need_plot("archcost plot")
        from ..plot.data import LAYER_METRICS, layers_chart
        from ..plot.figures import layers_figure

        chart = layers_chart(spec, metric=metric, depth=depth, input=input, overrides=overrides(set_),
                             convention=convention, device_profile=device_profile)
        output = output or os.path.join("reports", f"layers-{_safe(chart.model)}-{metric}.html")
        html, images = _targets(output, image, png, svg)
        _check_outputs(html, images)
        fig = layers_figure(chart)
        targets = _write_figure(fig, html, images)
    except SpecError as err:
        fail(err)
    _, fmt = LAYER_METRICS[metric]
    out(chart.titles[metric][0])
    sums = [(sum(v[i] for v in chart.values[metric].values()), lab) for i, lab in enumerate(chart.labels)]
    total = chart.totals[metric]
    out("largest:")
    for v, lab in sorted(sums, key=lambda t: -t[0])[:5]:
        if v:
            out(f"  {lab}  {fmt(v)}" + (f"  ({100 * v / total:.1f}%)" if total else ""))
    try:
        _images(fig, targets)
    except SpecError as err:
        fail(err)


def default_output(chart: str, names, all: bool, family) -> str:
    """reports/<chart>-<what was picked>.html: a new pick does not overwrite the last chart of another."""
    if all:
        what = ["all"]
    elif family:
        what = [family]
    else:
        what = [os.path.splitext(os.path.basename(n))[0] for n in names or []]
    tail = "_".join(_safe(n) for n in what[:3]) + ("_etc" if len(what) > 3 else "")
    return os.path.join("reports", f"{chart}-{tail}.html" if tail else f"{chart}.html")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


@app.command()
def compare(
    names: Annotated[list[str], typer.Argument(help="models to compare; ratios are to the first", metavar="NAME...",
                                                        autocompletion=complete_spec)],
    format: OutputFormat = Format.table,
    input: InputEach = None, set_: SetsEach = None, convention: Convention = "default",
    dtype: Dtype = "float32",
    latency: Latency = None, device_profile: Profile = None, wide: Wide = False,
):
    """Models side by side: params, MACs, FLOPs, peak activations, weights, top-1, latency; ratios to the first."""
    from ..catalog.compare import compare_rows
    from ..report.compare import compare_text

    try:
        result = compare_rows(names, input=input, overrides=overrides(set_), convention=convention, dtype=dtype,
                              latency=latency, device_profile=device_profile)
    except SpecError as err:
        fail(err)
    if format == Format.table:
        from ..report.compare import compare_table
        from ..report.terminal import print_table, terminal_width

        print_table(compare_table(result, width=terminal_width(wide)))
    else:
        out(compare_text(result, format.value))


@app.command()
def report(
    names: Annotated[list[str], typer.Argument(help="models with a section (summary, plots, per-layer table)", metavar="NAME...",
                                                       autocompletion=complete_spec)],
    output: ReportOutput = None,
    charts_all: Annotated[bool, typer.Option("--charts-all", help="the accuracy charts show the whole zoo (the named models outlined)")] = False,
    verify: Annotated[Optional[bool], typer.Option("--verify/--no-verify", help="check every layer against torch and fvcore (default: where they are installed)")] = None,
    input: InputEach = None, set_: SetsEach = None, convention: Convention = "default",
    latency: Latency = None, device_profile: Profile = None,
):
    """One self-contained HTML page: summary, plots, per-layer tables (sortable, folded by block), verify status."""
    import sys
    import time

    try:
        _need_plot("archcost report")
        from ..plot.export import check_writable, write_text
        from ..plot.html_report import report_html

        output = output or os.path.join("reports", "report-" + "_".join(_safe(n) for n in names[:3])
                                        + ("_etc" if len(names) > 3 else "") + ".html")
        check_writable(output, "-o")
        from ..language import resolve

        for n in names:  # an unknown name is the only line on stderr, before any progress
            resolve(n)
        sys.stderr.write(f"report: {len(names)} model{'s' if len(names) != 1 else ''}: summary, charts, per-layer "
                         f"tables{'' if verify is False else ', verify where torch is installed'}…\n")
        t0 = time.perf_counter()
        html = report_html(names, input=input, overrides=overrides(set_), convention=convention,
                           charts_all=charts_all, verify=verify, latency=latency, device_profile=device_profile,
                           command="archcost " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["report"] else None)
        write_text(output, html)
    except SpecError as err:
        fail(err)
    out(f"wrote {output} ({len(html) / 2**20:.1f} MiB, {len(names)} model{'s' if len(names) != 1 else ''}, "
        f"{time.perf_counter() - t0:.1f} s)")
