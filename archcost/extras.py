"""Optional extras: a missing one is a user error naming the pip command, not a traceback.

    >>> need("torch", "--verify")     # imports torch and fvcore, or raises SpecError

The extras and the modules each must provide are listed in ``EXTRAS`` (kept equal to
pyproject.toml's optional-dependencies).  Call :func:`need` at the top of any command or
function that needs an extra, before any work, so the error comes first and alone.
"""

from __future__ import annotations

import importlib

from .errors import SpecError

# extra -> the import names it provides (in the order they are checked)
EXTRAS = {
    "torch": ("torch", "fvcore"),
    "pandas": ("pandas",),
    "plot": ("plotly", "pandas", "kaleido"),
    "timm": ("torch", "timm"),
}


def need(extra: str, what: str, modules: tuple | None = None) -> None:
    """Import every module of ``extra`` (or ``modules``); raise a SpecError naming ``what`` needs them."""
    mods = modules or EXTRAS[extra]
    for mod in mods:
        try:
            importlib.import_module(mod)
        except ImportError as err:
            missing = getattr(err, "name", None) or mod
            raise SpecError(f"{what} needs {' and '.join(mods)} ({missing} is not installed or cannot be imported)",
                            fix=f"pip install 'archcost[{extra}]'") from None


class MissingExtra(ImportError):
    """An extra the Python API needs is not installed: the same words as the CLI's error."""


def require(extra: str, what: str, modules: tuple | None = None) -> None:
    """:func:`need` for the Python API: raise an ``ImportError`` (:class:`MissingExtra`) with the CLI's words.

        >>> require("pandas", "Analysis.to_pandas()")   # ImportError: ... pip install 'archcost[pandas]'
    """
    try:
        need(extra, what, modules)
    except SpecError as err:
        raise MissingExtra(str(err).replace("error: ", "", 1)) from None
