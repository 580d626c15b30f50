"""``archcost memory``: training memory (weights, gradients, optimizer state, saved activations)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import SpecError
from ._app import SpecArg, Format, app, fail, out, overrides
from .options import DTYPES, Batch, Input, OutputFormat, Sets, Wide, dtype_option

ActivationDtype = dtype_option(DTYPES, what="activation dtype: ")


@app.command()
def memory(
    spec: SpecArg,
    batch: Batch = 1,
    optimizer: Annotated[str, typer.Option(help="sgd, momentum, adam or adamw")] = "adam",
    dtype: ActivationDtype = "float32",
    param_dtype: Annotated[Optional[str], typer.Option(help="dtype of weights, gradients and optimizer state (default: --dtype; float32 with --dtype float16 = mixed precision)")] = None,
    input: Input = None,
    set_: Sets = None,
    layers: Annotated[bool, typer.Option("--layers", help="also list what each layer saves for backward")] = False,
    format: OutputFormat = Format.table,
    wide: Wide = False,
):
    """Memory of one training step: weights, gradients, optimizer state, buffers and saved activations."""
    from ..analysis.training import training_memory
    from ..api import build

    try:
        graph = build(spec, input=input, overrides=overrides(set_))
        tm = training_memory(graph, batch=batch, dtype=dtype, optimizer=optimizer, param_dtype=param_dtype)
    except SpecError as err:
        fail(err)
    from ..report.training import memory_csv, memory_json, memory_markdown

    if format == Format.json:
        out(memory_json(tm, graph))
    elif format == Format.csv:
        out(memory_csv(tm, graph, layers=layers))
    elif format == Format.markdown:
        out(memory_markdown(tm, graph, layers=layers))
    else:
        from ..report.terminal import print_table, terminal_width
        from ..report.training import memory_tables

        for t in memory_tables(tm, graph, layers=layers, width=terminal_width(wide)):
            print_table(t)
