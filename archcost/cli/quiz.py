"""``quiz``: a question sheet per student, each with their own numbers (a key's ``vary:``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import SpecError
from ._app import app, fail, out
from .options import output_option

QuizOutput = output_option("folder for the sheets: <id>.md and <id>.json per student (default: sheets)")


@app.command()
def quiz(
    key: Annotated[str, typer.Argument(help="the key: an answers file whose questions declare `vary:`")],
    students: Annotated[str, typer.Option("--students", help="roster CSV with a header row `id,name`")],
    output: QuizOutput = None,
):
    """Write each student's question sheet (Markdown, and JSON for an LMS import) with their own numbers,
    drawn reproducibly from their id; grade with `archcost check ANSWERS --student ID`."""
    from ..homework.quiz import write_sheets

    try:
        written = write_sheets(key, students, output or "sheets")
    except SpecError as err:
        fail(err)
    out(f"wrote {len(written) // 2} sheets ({len(written)} files) to {output or 'sheets'}")
