"""User-facing errors.

Every problem with a user's input is raised as :class:`SpecError`, a value that
knows *what* went wrong, *where* (file, line, layer path) and *how to fix it*.
The CLI prints ``str(err)`` as one paragraph and exits with code 2; no
traceback reaches the user.
"""

from __future__ import annotations


class ArchcostError(Exception):
    """Base class for archcost's own errors."""


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
        return text


class ShapeError(ArchcostError):
    """Raised by an op's shape/attribute checks; turned into a located SpecError."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message)
