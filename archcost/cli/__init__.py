"""The command line: parses options, calls the library, prints. No work lives here.

One typer ``app``; each area registers its commands from its own module
(``core``: table, zoo, ops; later areas add theirs), imported below.  Command
modules import nothing heavy at module level: every command imports what it
needs when it runs, so ``archcost table`` starts fast.
"""

from __future__ import annotations

from ._app import Format, app, fail, overrides, out  # noqa: F401
from . import core  # noqa: F401,E402  (table, zoo, ops)
from . import conventions  # noqa: F401,E402  (conventions)
from . import homework  # noqa: F401,E402  (check, explain, calc)
from . import latency  # noqa: F401,E402  (profile, calibrate)
from . import memory  # noqa: F401,E402  (memory)
from . import plots  # noqa: F401,E402  (plot, compare, report)
from . import importer  # noqa: F401,E402  (import)
from . import quiz  # noqa: F401,E402  (quiz)


def main():
    """The ``archcost`` entry point: typer builds only the command being run.

    Typer turns every registered command into a click command (reading signatures and type
    hints) before it parses anything: ~15 commands cost ~60 ms of start-up.  For a plain
    ``archcost COMMAND ...`` we hand typer an app holding just that command (a no-op callback
    keeps the ``archcost COMMAND`` syntax); help, completion and anything unusual go to the
    full app.  tests/test_cli.py checks both give the same output.
    """
    import sys

    argv = sys.argv[1:]
    info = _command(argv[0]) if argv else None
    if info is None or "--help" in argv or "-h" in argv or any(k.startswith("_ARCHCOST_COMPLETE")
                                                               for k in __import__("os").environ):
        return app()
    from ._app import typer_app

    single = typer_app(add_completion=False)
    single.registered_commands = [info]
    single.callback()(_no_op)
    return single(prog_name="archcost")


def _no_op():
    pass


def _command(name: str):
    for info in app.registered_commands:
        if (info.name or info.callback.__name__.replace("_", "-")) == name:
            return info
    return None


__all__ = ["app", "main", "Format"]
