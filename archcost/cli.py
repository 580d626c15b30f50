"""The command line: parses options, calls the library, prints. No work lives here."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated, Optional

import typer

from .errors import SpecError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="archcost: what does this neural network cost? (shapes, params, MACs, memory)")


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def _fail(err: SpecError, code: int = 2):
    sys.stderr.write(str(err).replace("\n", " ") + "\n")
    raise typer.Exit(code)


def _overrides(sets: Optional[list]) -> dict:
    from .language import parse_override

    out = {}
    for item in sets or []:
        if "=" not in item:
            raise SpecError(f"--set {item!r} must look like name=value", fix="write e.g. --set width=0.5.")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_override(v.strip())
    return out


def _print(text: str):
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def table(
    spec: Annotated[str, typer.Argument(help="zoo name (see `archcost zoo`) or path to a spec YAML file")],
    input: Annotated[Optional[str], typer.Option("--input", "-i", help="input shape without batch, e.g. 3,224,224")] = None,
    batch: Annotated[int, typer.Option("--batch", "-b", help="batch size")] = 1,
    convention: Annotated[str, typer.Option("--convention", "-c", help="counting convention: default, fvcore, full")] = "default",
    dtype: Annotated[str, typer.Option(help="float32, float16, bfloat16, int8")] = "float32",
    depth: Annotated[Optional[int], typer.Option(help="collapse rows to this many name levels (blocks as one row)")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="output format")] = Format.table,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="override a spec parameter, e.g. --set width=0.5")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="lower to torch and check shapes, params and MACs against torch and fvcore")] = False,
):
    """Per-layer shapes, params, MACs, FLOPs and memory of a network."""
    from .api import analyze, build

    try:
        overrides = _overrides(set_)
        a = analyze(spec, input=input, convention=convention, dtype=dtype, batch=batch, overrides=overrides)
        if depth is not None:
            a = a.collapse(depth)
    except SpecError as err:
        _fail(err)
    if format == Format.json:
        from .report.formats import to_json

        _print(to_json(a))
    elif format == Format.csv:
        from .report.formats import to_csv

        _print(to_csv(a))
    elif format == Format.markdown:
        from .report.formats import to_markdown

        _print(to_markdown(a))
    else:
        from rich.console import Console

        from .report.table import rich_table

        console = Console()
        console.print(rich_table(a, width=console.width))
    if verify:
        _verify(build(spec, input=input, overrides=overrides), batch)


def _verify(graph, batch):
    try:
        from .verify import verify_graph
    except ImportError as err:
        _fail(SpecError(f"--verify needs torch and fvcore ({err.name} is not installed)",
                        fix="pip install 'archcost[torch]'"))
    from rich.console import Console
    from rich.table import Table

    try:
        report = verify_graph(graph, batch=batch)
    except SpecError as err:
        _fail(err)
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
    family: Annotated[Optional[str], typer.Option(help="only this family (classic, inception, residual, dense, efficient)")] = None,
    sort: Annotated[str, typer.Option(help="sort by name, family, year, params, macs or top1")] = "name",
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
):
    """List the zoo's models with params, MACs, input, accuracy and year."""
    from .report.zoo import zoo_rows, zoo_text

    try:
        rows = zoo_rows(family=family, sort=sort)
    except SpecError as err:
        _fail(err)
    if format == Format.table:
        from rich.console import Console

        from .report.zoo import zoo_table

        Console().print(zoo_table(rows))
    else:
        _print(zoo_text(rows, format.value))


@app.command()
def ops():
    """List the primitive ops a spec can use, with their arguments."""
    from rich.console import Console
    from rich.table import Table

    from .ops import OPS

    t = Table(title="archcost ops (argument = default)")
    t.add_column("op")
    t.add_column("arguments")
    t.add_column("torch")
    for name, op in sorted(OPS.items()):
        args = ", ".join(a.name if a.default is _required() else f"{a.name}={a.default!r}" for a in op.attrs)
        t.add_row(name, args, op.torch_name)
    Console().print(t)


def _required():
    from .ops.base import REQUIRED

    return REQUIRED


def main():
    app()


if __name__ == "__main__":
    main()
