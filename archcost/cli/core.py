"""Core commands: ``table``, ``zoo``, ``ops``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import SpecError
from ._app import SpecArg, Format, app, fail, out
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
    from .table_run import run_table

    run_table(spec, input=input, batch=batch, convention=convention, dtype=dtype, depth=depth, format=format,
              set_=set_, verify=verify, receptive_field=receptive_field, device_profile=device_profile, wide=wide)


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
