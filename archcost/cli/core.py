"""Core commands: ``table``, ``zoo``, ``ops``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import SpecError
from ._app import SpecArg, Format, app, fail, out, overrides
from .options import (Batch, ConventionOrAll, Dtype, Input, OutputFormat, Sets, Wide, depth_option,
                      device_profile_option, family_option)

RowDepth = depth_option("collapse rows to this many name levels (blocks as one row)")
PredictWith = device_profile_option("add predicted_ms per layer from a device profile (name or file; see `archcost calibrate`)")
ZooFamily = family_option("only this family (classic, inception, residual, dense, efficient)")


@app.command()
def table(
    spec: SpecArg,
    input: Input = None,
    batch: Batch = 1,
    convention: ConventionOrAll = "default",
    dtype: Dtype = "float32",
    depth: RowDepth = None,
    format: OutputFormat = Format.table,
    set_: Sets = None,
    verify: Annotated[bool, typer.Option("--verify", help="lower to torch and check shapes, params and MACs against torch and fvcore")] = False,
    receptive_field: Annotated[bool, typer.Option("--receptive-field", help="add receptive-field columns: rf (size), rf_stride, rf_offset (H×W, input pixels)")] = False,
    device_profile: PredictWith = None,
    wide: Wide = False,
):
    """Per-layer shapes, params, MACs, FLOPs and memory of a network."""
    from ..api import analyze, build

    try:
        if verify:  # a missing extra is reported before any output
            from ..extras import need

            need("torch", "--verify")
        sets = overrides(set_)
        if convention == "all":
            if depth is not None:
                raise SpecError("--depth does not apply to --convention all, which compares whole-network totals",
                                fix="drop --depth, or pick one convention to see its rows by block.")
            from .conventions import show_comparison

            show_comparison(spec, input=input, batch=batch, sets=sets, format=format, wide=wide)
            if verify:
                _verify(build(spec, input=input, overrides=sets), batch, format)
            return
        a = analyze(spec, input=input, convention=convention, dtype=dtype, batch=batch, overrides=sets,
                    device_profile=device_profile)
        if receptive_field:
            from ..analysis.receptive import add_receptive_field_columns

            add_receptive_field_columns(a)
        if depth is not None:
            a = a.collapse(depth)
    except SpecError as err:
        fail(err)
    report = None
    if verify and format != Format.table:  # results go inside the output (json, markdown) or to stderr (csv)
        report = _verify_report(build(spec, input=input, overrides=sets), batch)
    if format == Format.json:
        from ..report.formats import to_json
        from ..report.verify import verify_dict

        out(to_json(a, extra=None if report is None else {"verify": verify_dict(report)}))
    elif format == Format.csv:
        from ..report.formats import to_csv

        out(to_csv(a))
    elif format == Format.markdown:
        from ..report.formats import to_markdown

        text = to_markdown(a)
        if report is not None:
            from ..report.verify import verify_markdown

            text += "\n" + verify_markdown(report)
        out(text)
    else:
        from ..report.table import readable_depth, rich_table
        from ..report.terminal import print_table, terminal_width

        width = terminal_width(wide)
        auto = readable_depth(a) if depth is None and not wide else None
        shown = a.collapse(auto) if auto else a
        print_table(rich_table(shown, width=width, collapsed=(len(a.rows), auto) if auto else None))
    if verify:
        if report is None:
            _verify(build(spec, input=input, overrides=sets), batch, format)
        else:
            _verify_outcome(report, format)


def _verify_report(graph, batch):
    from ..verify import verify_graph

    try:
        return verify_graph(graph, batch=batch)
    except SpecError as err:
        fail(err)


def _verify_outcome(report, format):
    """After the output: the verdict on stderr (stdout holds only the asked-for format); exit 1 on disagreement."""
    from rich.console import Console

    err = Console(stderr=True)
    if format == Format.csv:  # csv has no room for a second table: the disagreements go to stderr
        for p in report.problems():
            err.print(p, markup=False, highlight=False)
    if not report.ok:
        err.print(f"[red]{len(report.problems())} disagreement(s)[/]")
        raise typer.Exit(1)
    err.print(f"[green]verified: all {len(report.checks)} layers agree[/]")


def _verify(graph, batch, format=Format.table):
    from rich.console import Console
    from rich.table import Table

    report = _verify_report(graph, batch)
    if format != Format.table:
        return _verify_outcome(report, format)
    console = Console()
    t = Table(title=f"verify {graph.name}: analytic vs torch (shape, params) and fvcore (MACs, fvcore convention)")
    for col in ("layer", "op", "shape", "params", "MACs", "difference"):
        t.add_column(col)
    for c in report.checks:
        mark = lambda ok: "[green]ok[/]" if ok else "[red]differs[/]"  # noqa: E731
        t.add_row(c.name, c.op, mark(c.shape[0] == c.shape[1]), mark(c.params[0] == c.params[1]),
                  mark(c.macs[0] == c.macs[1]), "; ".join(c.problems))
    console.print(t)
    for k, (a, b) in report.totals.items():
        console.print(f"total {k}: archcost {a:,}  torch/fvcore {b:,}  {'[green]equal[/]' if a == b else '[red]differ[/]'}")
    if not report.ok:
        console.print(f"[red]{len(report.problems())} disagreement(s)[/]")
        raise typer.Exit(1)
    console.print(f"[green]verified: all {len(report.checks)} layers agree[/]")


@app.command()
def zoo(
    family: ZooFamily = None,
    sort: Annotated[str, typer.Option(help="sort by name, family, year, params, macs or top1")] = "name",
    format: OutputFormat = Format.table,
):
    """List the zoo's models with params, MACs, input, accuracy and year."""
    from ..report.zoo import zoo_text
    from ..zoo import zoo_rows

    try:
        rows = zoo_rows(family=family, sort=sort)
    except SpecError as err:
        fail(err)
    if format == Format.table:
        from rich.console import Console

        from ..report.zoo import zoo_table

        Console().print(zoo_table(rows))
    else:
        out(zoo_text(rows, format.value))


@app.command()
def ops(wide: Wide = False):
    """List the primitive ops a spec can use, with their arguments."""
    from ..ops import OPS
    from ..report.terminal import Column, build, print_table, terminal_width

    items = sorted(OPS.items())
    args = [", ".join(a.name if a.default is _required() else f"{a.name}={a.default!r}" for a in op.attrs)
            for _, op in items]
    cols = [Column("op", [name for name, _ in items], justify="left"),
            Column("arguments", args, justify="left", shorten="wrap", min_width=24),
            Column("torch", [op.torch_name for _, op in items], justify="left", priority=1)]
    print_table(build(cols, terminal_width(wide), title="archcost ops (argument = default)"))


def _required():
    from ..ops.base import REQUIRED

    return REQUIRED
