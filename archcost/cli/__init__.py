"""The command line: parses options, calls the library, prints. No work lives here.

One typer ``app``; each area registers its commands from its own module
(``core``: table, zoo, ops; later areas add theirs).  Command modules import
nothing heavy at module level: every command imports what it needs when it
runs, so ``archcost table`` starts fast.  ``archcost.cli.app`` (PEP 562) is the
full app, every command module imported; :func:`main` imports only the module
of the command being run (:data:`COMMAND_MODULES`).
"""

from __future__ import annotations

from .plain import Format, fail, overrides, out  # noqa: F401

#: ``archcost COMMAND`` → the module under ``archcost.cli`` that registers it, so that ``main`` imports
#: only that one (tests/test_cli.py checks this against the full app).  A command not listed (``plot``,
#: a typo) goes to the full app.
COMMAND_MODULES = {"table": "core", "zoo": "core", "ops": "core", "conventions": "conventions",
                   "check": "homework", "explain": "homework", "calc": "homework", "profile": "latency",
                   "calibrate": "latency", "memory": "memory", "compare": "plots", "report": "plots",
                   "import": "importer", "quiz": "quiz"}


def _full_app():
    """The app with every command registered."""
    from . import core, conventions, homework, latency, memory, plots, importer, quiz  # noqa: F401
    from ._app import app, command_name

    # in the order of COMMAND_MODULES (help lists them so), whichever command module was imported first
    order = list(COMMAND_MODULES)
    app.registered_commands.sort(key=lambda info: order.index(n) if (n := command_name(info)) in order else len(order))
    return app


def __getattr__(name):
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main():
    """The ``archcost`` entry point: typer builds only the command being run.

    Typer turns every registered command into a click command (reading signatures and type
    hints) before it parses anything: ~15 commands cost ~60 ms of start-up.  For a plain
    ``archcost COMMAND ...`` we hand typer an app holding just that command (a no-op callback
    keeps the ``archcost COMMAND`` syntax); help, completion and anything unusual go to the
    full app.  tests/test_cli.py checks both give the same output.  ``archcost table`` with plain
    options does not even import typer (:mod:`.fast`; tests/test_cli_fast.py).
    """
    import os
    import sys

    argv = sys.argv[1:]
    completing = any(k.startswith("_ARCHCOST_COMPLETE") for k in os.environ)
    if argv[:1] == ["table"] and not completing:  # the common case, without typer (fast.py)
        from .fast import run_table_fast

        if run_table_fast(argv[1:]):
            return None
    info = _command(argv[0]) if argv else None
    if info is None or "--help" in argv or "-h" in argv or completing:
        return _full_app()()
    from ._app import typer_app

    single = typer_app(add_completion=False)
    single.registered_commands = [info]
    single.callback()(_no_op)
    return single(prog_name="archcost")


def _no_op():
    pass


def _command(name: str):
    """The typer command info of ``archcost NAME``, importing only its module; None when not one command."""
    import importlib

    module = COMMAND_MODULES.get(name)
    if module is None:
        return None
    from ._app import app, command_name

    importlib.import_module(f".{module}", __name__)
    for info in app.registered_commands:
        if command_name(info) == name:
            return info
    return None


__all__ = ["app", "main", "Format", "COMMAND_MODULES"]
