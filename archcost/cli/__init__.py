"""The command line: parses options, calls the library, prints. No work lives here.

One typer ``app``; each area registers its commands from its own module
(``core``: table, zoo, ops; later areas add theirs), imported below.  Command
modules import nothing heavy at module level: every command imports what it
needs when it runs, so ``archcost table`` starts fast.
"""

from __future__ import annotations

from ._app import Format, app, fail, overrides, out  # noqa: F401
from . import core  # noqa: F401,E402  (registers commands)


def main():
    app()


__all__ = ["app", "main", "Format"]
from . import latency  # noqa: F401,E402  (registers profile, calibrate)
