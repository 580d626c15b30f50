"""``archcost report``: one self-contained HTML page about some models.

Sections: summary (the ``compare`` table, the Pareto frontier, left-out models), the plots
(accuracy vs MACs and vs params, accuracy vs latency when a latency source is given, and a
per-block bar chart per model with a metric dropdown), then per model its header, the
``--verify`` status (where torch and fvcore are installed), the spec file and its SHA-256, and the
per-layer table (sortable, folded by top-level block).  The footer names the convention, the
archcost and plotly versions and the date.  plotly.js is embedded once; the page's own script
(sorting, folding) is :data:`archcost.report.html.TABLE_JS`; nothing is fetched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
from datetime import datetime, timezone
from html import escape

from ..errors import SpecError

LAYER_CHART_METRICS = ["macs", "params", "activation_bytes", "weight_bytes", "flops"]

PAGE_CSS = """
body { font-family: -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; margin: 0 auto;
       max-width: 1280px; padding: 0 1.5em 3em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
p.meta, .small { color: #555; font-size: 13px; }
nav a { margin-right: 1em; }
table.archcost-compare { border-collapse: collapse; font-size: 13px; }
table.archcost-compare th, table.archcost-compare td { padding: 3px 10px; border-bottom: 1px solid #e3e3e3; }
table.archcost-compare th { background: #f3f4f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #087f23; } .bad { color: #b00020; } .skip { color: #777; }
.plot { margin: 1em 0; }
details summary { cursor: pointer; }
button.fold-all { font-size: 12px; margin-right: 0.5em; }
code { background: #f3f4f6; padding: 0 3px; }
"""


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def spec_files(name: str) -> list:
    """(path, sha256) of a model's spec file and the block libraries it includes."""
    from ..language import load_spec

    spec = load_spec(name)
    files = [spec.file] + sorted({f for _, f in spec.blocks.values() if f != spec.file})
    out = []
    for f in files:
        with open(f, "rb") as fh:
            out.append((f, hashlib.sha256(fh.read()).hexdigest()))
    return out


def torch_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "fvcore"))


def verify_status(name: str, *, input=None, overrides=None) -> tuple:
    """(css class, HTML) of ``--verify`` for one model: analytic vs torch (shapes, params) and fvcore (MACs)."""
    from ..api import build
    from ..verify import verify_graph

    try:
        rep = verify_graph(build(name, input=input, overrides=overrides))
    except SpecError as err:
        return "bad", f"verify failed: {escape(str(err))}"
    tv, fv = _version("torch"), _version("fvcore")
    if rep.ok:
        return "ok", (f"✓ verified: all {len(rep.checks)} layers agree with the lowered torch module "
                      f"(output shapes, params; torch {escape(tv)}) and with fvcore {escape(fv)} "
                      "(MACs, fvcore convention); totals equal")
    probs = rep.problems()
    items = "".join(f"<li>{escape(p)}</li>" for p in probs[:20]) + ("<li>…</li>" if len(probs) > 20 else "")
    return "bad", f"✗ {len(probs)} disagreement(s) with torch/fvcore:<ul>{items}</ul>"


def report_html(names, *, input=None, overrides: dict | None = None, convention: str = "default",
                charts_all: bool = False, verify: bool | None = None, latency=None, device_profile=None,
                date: str | None = None, command: str | None = None) -> str:
    """The report page for ``names`` (see the module doc).

    ``charts_all``: the accuracy charts show every zoo model (the named ones outlined);
    ``verify``: None = where torch is installed; ``latency``/``device_profile``: add latency (measured
    or predicted) to the summary and an accuracy-vs-latency chart; ``date``: stamp (default now, UTC).
    """
    from ..analysis.conventions import CONVENTIONS
    from ..analysis.display import analysis_table_html, header_lines
    from ..api import analyze
    from ..catalog.compare import compare_rows
    from ..report.html import TABLE_CSS, TABLE_JS, compare_html
    from .data import accuracy_chart, layers_chart
    from .export import figure_html
    from .figures import accuracy_figure, layers_figure

    names = list(names)
    if not names:
        raise SpecError("report needs at least one model", fix="e.g. `archcost report resnet50 mobilenetv2`.")
    if convention not in CONVENTIONS:
        raise SpecError(f"unknown convention '{convention}'", fix=f"use one of {', '.join(CONVENTIONS)}.")
    if verify and not torch_available():
        from ..extras import need

        need("torch", "report --verify")
    do_verify = torch_available() if verify is None else verify
    summary = compare_rows(names, input=input, overrides=overrides, convention=convention, latency=latency,
                           device_profile=device_profile)
    canon = [m["model"] for m in summary["models"]]

    figures, notes, cache = [], [], {}  # (title, figure), text, analysed models shared by the charts

    def chart(metric, **kw):
        try:
            c = accuracy_chart(None if charts_all else names, all=charts_all, metric=metric, convention=convention,
                               input=input, highlight=canon if charts_all else (), cache=cache, **kw)
        except SpecError as err:
            # the reason only: the error's location and CLI fix (options of `plot`) mean nothing on this page
            notes.append(f"accuracy vs {metric}: not drawn ({err.message})")
            return None
        figures.append((f"Top-1 accuracy vs {metric}", accuracy_figure(c)))
        return c

    macs_chart = chart("macs")
    chart("params")
    if latency is not None or device_profile is not None:
        chart("latency", latency=latency, device_profile=device_profile, latency_dir=None)
    analyses = []
    for name in names:
        a = analyze(name, input=input, overrides=overrides, convention=convention, device_profile=device_profile)
        analyses.append(a)
        metrics = LAYER_CHART_METRICS + (["predicted_ms"] if device_profile is not None else [])
        lc = layers_chart(name, depth=1, input=input, overrides=overrides, convention=convention,
                          device_profile=device_profile, metrics=metrics)
        figures.append((f"{a.model}: cost per block", layers_figure(lc)))

    stamp = date or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    from .. import __version__

    plotly_version = _version("plotly")
    conv = CONVENTIONS[convention]
    title = "archcost report: " + ", ".join(canon)
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
             f"<style>{PAGE_CSS}{TABLE_CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f"<p class=\"meta\">convention <b>{escape(convention)}</b>: {escape(conv.doc)} · generated {escape(stamp)} "
             f"by archcost {escape(__version__)}" + (f" (<code>{escape(_public_command(command))}</code>)" if command else "") + "</p>",
             "<nav><a href=\"#summary\">summary</a><a href=\"#plots\">plots</a>"
             + "".join(f"<a href=\"#model-{_slug(m)}\">{escape(m)}</a>" for m in canon) + "</nav>",
             "<h2 id=\"summary\">Summary</h2>", compare_html(summary)]
    if macs_chart is not None:
        front = ", ".join(macs_chart.frontier)
        parts.append(f"<p>Pareto frontier (most accurate for its MACs, {len(macs_chart.points)} models on the chart): "
                     f"<b>{escape(front)}</b>.</p>")
        if macs_chart.left_out:
            parts.append("<details><summary>left out of the accuracy charts "
                         f"({len(macs_chart.left_out)})</summary><ul>"
                         + "".join(f"<li>{escape(n)}: {escape(w)}</li>" for n, w in macs_chart.left_out)
                         + "</ul></details>")
    parts += [f"<p class=\"skip\">{escape(n)}</p>" for n in notes]
    parts.append("<h2 id=\"plots\">Plots</h2>")
    for i, (ftitle, fig) in enumerate(figures):
        parts.append(f"<div class=\"plot\" aria-label=\"{escape(ftitle)}\">"
                     + figure_html(fig, full_html=False, include_plotlyjs=(i == 0),
                                   div_id=f"fig-{i}-{_slug(ftitle)[:40]}") + "</div>")
    for name, a in zip(names, analyses):
        slug = _slug(a.model)
        head = header_lines(a)
        parts.append(f"<h2 id=\"model-{slug}\">{escape(head[0])}</h2>")
        parts.append("<p>" + "<br>".join(escape(x) for x in head[1:]) + "</p>")
        if do_verify:
            cls, text = verify_status(name, input=input, overrides=overrides)
        else:
            cls, text = "skip", ("verify not run: " + ("--no-verify" if verify is False else
                                                       "torch and fvcore are not installed "
                                                       "(pip install 'archcost[torch]')"))
        parts.append(f"<p class=\"verify {cls}\">{text}</p>")
        files = spec_files(name)
        parts.append("<p class=\"small\">spec: " + "; ".join(
            f"<code>{escape(_rel(f))}</code> sha256 {h[:16]}" for f, h in files) + "</p>")
        tid = f"layers-{slug}"
        parts.append(f"<p><button class=\"fold-all\" type=\"button\" data-table=\"{tid}\" data-open=\"1\">expand all"
                     f"</button><button class=\"fold-all\" type=\"button\" data-table=\"{tid}\" data-open=\"0\">"
                     "collapse all</button><span class=\"small\">click a column to sort (blocks by their sums, "
                     "layers within each block); ▸ opens a block</span></p>")
        parts.append(analysis_table_html(a, interactive=True, table_id=tid))
    parts.append(f"<hr><p class=\"small\">archcost {escape(__version__)} · plotly {escape(plotly_version)} · "
                 f"Python {escape(platform.python_version())} · convention {escape(convention)} · {escape(stamp)} · "
                 "numbers computed analytically from the specs; top-1 figures as published (source in each "
                 "spec)</p>")
    parts.append(f"<script>{TABLE_JS}</script></body></html>")
    return "\n".join(parts)


def _rel(path: str) -> str:
    """A path as the page shows it: never an absolute local path (the page is shared).

    Relative to the current directory when the file is under it; a zoo file relative to the zoo
    (``specs/resnet.yaml``); anything else by its file name (its sha256 still identifies it).
    """
    if not os.path.isabs(path):
        return path
    from ..language import specs_dir

    for base, prefix in ((os.getcwd(), ""), (str(specs_dir()), "specs")):
        try:
            rel = os.path.relpath(path, base)
        except ValueError:  # another drive
            continue
        if not rel.startswith(".."):
            return os.path.join(prefix, rel) if prefix else rel
    return os.path.basename(path)


def _public_command(command: str) -> str:
    """The command line with every absolute path in it (``/x/y.yaml``, ``--output=/x/r.html``) shown as :func:`_rel` does."""
    import shlex

    def one(arg: str) -> str:
        key, eq, val = arg.partition("=") if arg.startswith("-") else ("", "", arg)
        return key + eq + _rel(val) if os.path.isabs(val) else arg

    return " ".join(shlex.quote(one(a)) for a in shlex.split(command))


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001
        return "?"
