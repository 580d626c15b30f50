"""The shared typer app and the helpers every command module uses."""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import Annotated, Optional

import typer

from ..errors import SpecError

app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="archcost: what does this neural network cost? (shapes, params, MACs, memory)")


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def fail(err: SpecError, code: int = 2):
    """Print a user error as one paragraph on stderr and exit (2 = bad input)."""
    from ..errors import printable

    sys.stderr.write(printable(str(err), newlines=False) + "\n")  # no terminal escapes from a file's text
    raise typer.Exit(code)


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


def complete_spec(incomplete: str) -> list:
    """Shell completion for a SPEC argument: zoo model names, or spec files once it looks like a path.

    Runs only when the shell asks for completions (typer's completion mode), never on a normal start.
    """
    if os.sep in incomplete or incomplete.startswith((".", "~")):
        import glob

        base = os.path.expanduser(incomplete)
        return sorted(p + (os.sep if os.path.isdir(p) else "") for p in glob.glob(base + "*")
                      if os.path.isdir(p) or p.endswith((".yaml", ".yml")))
    from ..language import model_names

    return [n for n in model_names() if n.startswith(incomplete)]


SpecArg = Annotated[str, typer.Argument(help="zoo name (see `archcost zoo`) or path to a spec YAML file",
                                        autocompletion=complete_spec)]
