"""What every command shares and that needs no typer: the output formats, the one error format, stdout
writing, ``--set`` parsing and archcost's warning lines.

Kept apart from :mod:`._app` (typer) so that the fast ``archcost table`` path (:mod:`.fast`) and the
command bodies it runs (:mod:`.table_run`) start without importing typer (issue 21).
"""

from __future__ import annotations

import sys
import warnings
from enum import Enum
from typing import Optional

from ..errors import SpecError


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """archcost's own warnings as one ``warning: ...`` line on stderr (no source line, no class name)."""
    from ..errors import ArchcostWarning

    if issubclass(category, ArchcostWarning):
        sys.stderr.write(f"warning: {message}\n")
    else:
        _default_show_warning(message, category, filename, lineno, file, line)


_default_show_warning = warnings.showwarning
warnings.showwarning = _show_warning


def fail(err: SpecError, code: int = 2):
    """Print a user error as one paragraph on stderr and exit (2 = bad input).

    Raises SystemExit, not typer.Exit: the same exit under typer (click lets it through) and on the
    fast path that runs without typer."""
    from ..errors import printable

    sys.stderr.write(printable(str(err), newlines=False) + "\n")  # no terminal escapes from a file's text
    raise SystemExit(code)


def overrides(sets: Optional[list]) -> dict:
    """``--set k=v`` options as a dict of parsed values (numbers, booleans, strings; never eval)."""
    from ..language import parse_override

    result = {}
    for item in sets or []:
        if "=" not in item:
            raise SpecError(f"--set {item!r} must look like name=value", fix="write e.g. --set width=0.5.")
        k, v = item.split("=", 1)
        result[k.strip()] = parse_override(v.strip())
    return result


def out(text: str):
    """Write text to stdout with exactly one trailing newline."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
