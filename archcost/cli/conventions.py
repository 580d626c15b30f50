"""``archcost conventions SPEC`` (and ``archcost table SPEC --convention all``): every preset side by side."""

from __future__ import annotations

from typing import Optional

from ..errors import SpecError
from ._app import SpecArg, Format, app, fail, out, overrides
from .options import Batch, Input, OutputFormat, Sets, Wide


def show_comparison(spec: str, *, input: Optional[str], batch: int, sets: dict, format: Format, wide: bool = False):
    """Compare every convention on one network and print it in ``format`` (SpecError on bad input)."""
    from ..api import compare_conventions

    cmp = compare_conventions(spec, input=input, batch=batch, overrides=sets)
    if format == Format.table:
        from ..report.conventions import rich_table
        from ..report.terminal import print_table, terminal_width

        print_table(rich_table(cmp, width=terminal_width(wide)))
        return
    from ..report import conventions as fmt

    out({Format.json: fmt.to_json, Format.csv: fmt.to_csv, Format.markdown: fmt.to_markdown}[format](cmp))


@app.command()
def conventions(
    spec: SpecArg,
    input: Input = None,
    batch: Batch = 1,
    format: OutputFormat = Format.table,
    set_: Sets = None,
    wide: Wide = False,
):
    """Every counting convention on one network (ptflops, thop, torchinfo, fvcore, ...) and why they differ.

    One row per preset: MACs, FLOPs, params, the difference to `default` and that difference by op
    category (bias, batch-norm, other norms, activations, pooling, element-wise, adaptive pooling).
    Same as `archcost table SPEC --convention all`.
    """
    try:
        show_comparison(spec, input=input, batch=batch, sets=overrides(set_), format=format, wide=wide)
    except SpecError as err:
        fail(err)
