"""``archcost table``'s work, without typer: run by the typer command (:mod:`.core`) and by the fast path
(:mod:`.fast`), which parses the common ``archcost table SPEC [options]`` itself (issue 21: typer's import
is a fifth of a cold start).  The defaults here are the command's: tests/test_cli_fast.py checks them
against the typer signature."""

from __future__ import annotations

from ..errors import SpecError
from .plain import Format, fail, out, overrides


def run_table(spec: str, input=None, batch: int = 1, convention: str = "default", dtype: str = "float32", depth=None,
              format: Format = Format.table, set_=None, verify: bool = False, receptive_field: bool = False,
              device_profile=None, wide: bool = False):
    """Per-layer shapes, params, MACs, FLOPs and memory of a network, printed in ``format``."""
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
        raise SystemExit(1)
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
        raise SystemExit(1)
    console.print(f"[green]verified: all {len(report.checks)} layers agree[/]")
