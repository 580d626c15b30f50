"""``archcost import``: write a torch module as a spec a person would read and edit."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import SpecError
from ._app import app, fail, out
from .options import Input, output_option


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="torchvision:NAME, timm:NAME, path/to/model.py:Name or model.py:make_net(width=0.5)")],
    output: output_option("write the spec here (default: print it)") = None,
    input: Input = None,
):
    """Capture a torch module and write it as a spec (blocks, repeat, the module's own names)."""
    from ..api import parse_input
    from ..capture import capture

    try:
        cap = capture(source, input=parse_input(input))
        cap.graph()  # the written spec must build: fail here, not when it is read back
    except SpecError as err:
        fail(err)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(cap.text)
        out(f"wrote {output}: {len(cap.trace.rows)} rows, {cap.trace.params_total:,} params")
    else:
        out(cap.text)
    note = cap.summary()
    if note:
        import sys

        sys.stderr.write(note + "\n")
