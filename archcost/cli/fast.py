"""``archcost table SPEC [options]`` without typer: the command people run most, started fast.

Importing typer (and through it its click copy) is ~30 ms of a ~150 ms cold ``archcost table`` (issue 21).
This module reads the plain forms of ``table``'s options itself — ``--flag value``, ``--flag=value``,
``-f value``, the two boolean flags — and calls the same :func:`.table_run.run_table` the typer command
calls.  Anything else (``--help``, ``--verify``, ``-c all``, an unknown or misspelt flag, a missing or
ill-typed value, a value that starts with ``-``, two specs) is left to typer, which parses the whole
line again and answers or says what is wrong exactly as before: the fast path never decides an error
of the command line.  tests/test_cli_fast.py checks TABLE_FLAGS against the typer command's options
(same flags, same parameter, same kind) and that both paths print the same bytes and exit alike.
"""

from __future__ import annotations

import sys

from .plain import Format

#: flag -> (run_table's parameter, how the value is read); ``bool`` flags take no value, ``list`` repeats
TABLE_FLAGS = {
    "--input": ("input", str), "-i": ("input", str),
    "--batch": ("batch", int), "-b": ("batch", int),
    "--convention": ("convention", str), "-c": ("convention", str),
    "--dtype": ("dtype", str),
    "--depth": ("depth", int),
    "--format": ("format", Format), "-f": ("format", Format),
    "--set": ("set_", list),
    "--device-profile": ("device_profile", str),
    "--receptive-field": ("receptive_field", bool),
    "--wide": ("wide", bool),
}


def parse_table_args(args: list) -> dict | None:
    """run_table's keyword arguments for ``archcost table ARGS``, or None to let typer parse them."""
    kw: dict = {}
    spec = None
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            if spec is not None or arg == "-":
                return None
            spec = arg
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name not in TABLE_FLAGS:
            return None
        param, kind = TABLE_FLAGS[name]
        if kind is bool:
            if eq:
                return None
            kw[param] = True
            continue
        if not eq:
            if i >= len(args) or args[i].startswith("-"):
                return None
            value = args[i]
            i += 1
        if kind is list:
            kw.setdefault(param, []).append(value)
            continue
        try:
            kw[param] = kind(value)  # int() is click's own conversion; Format(...) its enum choice
        except ValueError:
            return None
    if spec is None or kw.get("convention") == "all":  # -c all: the comparison command (typer's path)
        return None
    return {"spec": spec, **kw}


def run_table_fast(args: list) -> bool:
    """Run ``archcost table ARGS`` if its arguments are plain (see the module docstring); False if not run."""
    kw = parse_table_args(args)
    if kw is None:
        return False
    from .table_run import run_table

    try:
        run_table(**kw)
        sys.stdout.flush()
    except KeyboardInterrupt:  # as the typer path (click's Abort)
        sys.stderr.write("aborted\n")
        raise SystemExit(1) from None
    except BrokenPipeError:  # e.g. `archcost table resnet50 | head`: stop quietly, as click does
        sys.stdout = None
        raise SystemExit(1) from None
    return True
