"""The options several commands share, each defined once: the same flags, type and help everywhere.

Each is an ``Annotated`` alias; a command gives the default in its own signature
(``batch: Batch = 1``).  Where commands genuinely accept other values or mean something else
by the same flag (``--dtype float64`` for memory only; ``--depth`` collapses rows in ``table``
but shows levels of working in ``check``), a factory takes the difference as a parameter and the
command module keeps its own alias.  Nothing here imports more than typer.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..analysis.conventions import CONVENTIONS, DTYPE_BYTES
from ._app import Format

# help texts from the registries, so a new convention, dtype or format shows up in every command's help
CONVENTIONS_HELP = "counting convention: " + ", ".join(CONVENTIONS)
DTYPES = ", ".join(DTYPE_BYTES)
FORMATS = ", ".join(f.value for f in Format)

Input = Annotated[Optional[str], typer.Option("--input", "-i", help="input shape without batch, e.g. 3,224,224")]
InputEach = Annotated[Optional[str], typer.Option("--input", "-i",
                                                  help="input shape without batch for every model, e.g. 3,224,224")]
Batch = Annotated[int, typer.Option("--batch", "-b", help="batch size")]
Sets = Annotated[Optional[list[str]], typer.Option("--set", help="override a spec parameter, e.g. --set width=0.5")]
SetsEach = Annotated[Optional[list[str]], typer.Option(
    "--set", help="override a spec parameter for every model, e.g. --set width=0.5")]
Convention = Annotated[str, typer.Option("--convention", "-c", help=CONVENTIONS_HELP + " (see the README)")]
ConventionOrAll = Annotated[str, typer.Option("--convention", "-c",
                                              help=CONVENTIONS_HELP + "; all = compare them (see the README)")]
Device = Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N")]
Clock = Annotated[Optional[str], typer.Option("--clock", help="wall, or cpu: this thread's CPU time, immune to other "
                                                              "processes (default on one CPU thread; wall otherwise)")]


def dtype_option(values: str, what: str = ""):
    """``--dtype``: a command's own list of the dtypes it takes (``what`` says which tensors it sets)."""
    return Annotated[str, typer.Option("--dtype", help=what + values)]


Dtype = dtype_option(DTYPES)
TimedDtype = dtype_option("float32, float16 or bfloat16")  # what torch can time here (profile, calibrate)


def format_option(choices=Format, help: str = None):
    """``--format/-f`` over a command's own choices (an Enum: typer lists and checks them); the help names them."""
    help = help or "output format: " + ", ".join(f.value for f in choices)
    return Annotated[choices, typer.Option("--format", "-f", help=help)]


OutputFormat = format_option()


def depth_option(help: str):
    """``--depth N``: name levels (rows, bars) or levels of working, as the command says."""
    return Annotated[Optional[int], typer.Option("--depth", help=help)]


def batch_option(help: str):
    """``--batch/-b`` with a command's own help (the batch of what)."""
    return Annotated[int, typer.Option("--batch", "-b", help=help)]


def threads_option(help: str):
    """``--threads N``: CPU threads, with why the command's default is what it is."""
    return Annotated[Optional[int], typer.Option("--threads", help=help)]


def device_profile_option(help: str):
    """``--device-profile NAME|FILE``: a saved device profile, for what the command uses it."""
    return Annotated[Optional[str], typer.Option("--device-profile", help=help)]


def output_option(help: str):
    """``--output/-o FILE``: where the command writes instead of its default."""
    return Annotated[Optional[str], typer.Option("--output", "-o", help=help)]


def family_option(help: str):
    """``--family NAME``: zoo models of one family."""
    return Annotated[Optional[str], typer.Option("--family", help=help)]


Wide = Annotated[bool, typer.Option("--wide", help="show every column and row unshortened, however wide the terminal")]
