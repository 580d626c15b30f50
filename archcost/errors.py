"""User-facing errors.

Every problem with a user's input is raised as :class:`SpecError`, a value that
knows *what* went wrong, *where* (file, line, layer path) and *how to fix it*.
The CLI prints ``str(err)`` as one paragraph and exits with code 2; no
traceback reaches the user.
"""

from __future__ import annotations

import re
import reprlib

class _Repr(reprlib.Repr):
    # the YAML loader's dict/list subclasses must be cut like plain ones, not repr()'d whole
    def repr_LocDict(self, x, level):
        return self.repr_dict(x, level)

    def repr_LocList(self, x, level):
        return self.repr_list(x, level)


_REPR = _Repr()
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxstring = _REPR.maxother = 60


def short_repr(value, limit: int = 80) -> str:
    """repr() for messages: bounded in depth and length (safe on YAML alias bombs), one line."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a message must never fail
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# C0 and C1 controls (ESC starts ANSI/OSC sequences; 0x9b is a one-byte CSI), DEL, and the bidirectional
# overrides and isolates that reorder what a terminal shows (U+202A-202E, U+2066-2069)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` with control characters removed, so that text from a file cannot drive a terminal
    (colour, cursor moves, OSC title or hyperlink sequences); tabs kept, newlines kept or made spaces."""
    text = _CONTROLS.sub("", str(text))
    return text if newlines else " ".join(text.split("\n"))


class ArchcostError(Exception):
    """Base class for archcost's own errors."""


class ArchcostWarning(UserWarning):
    """Input that is valid but probably not what was meant (the CLI prints it as ``warning: ...``)."""


class SpecError(ArchcostError):
    """A located, actionable error in a spec (or in CLI input)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.path = path
        self.fix = fix
        super().__init__(str(self))

    def located(self, *, file=None, line=None, path=None) -> "SpecError":
        """Fill in location fields that are still unknown (innermost wins)."""
        if self.file is None and file is not None:
            self.file = file
        if self.line is None and line is not None:
            self.line = line
        if self.path is None and path is not None:
            self.path = path
        self.args = (str(self),)
        return self

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}" if where else f"line {self.line}"
        text = f"{where}: error" if where else "error"
        if self.path:
            text += f" in layer '{self.path}'"
        text += f": {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return " ".join(text.split("\n"))


class ShapeError(ArchcostError):
    """Raised by an op's shape/attribute checks; turned into a located SpecError."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message)
