"""Opening files named by untrusted text: regular files only, never blocking, confined to a folder.

A spec, an answers key or a device profile may name other files (``spec:``, ``include:``, a
profile path).  When archcost grades homework in an autograder those names come from files a
student may have written, and the grader may run as root, so:

* :func:`read_regular` opens with ``O_NONBLOCK`` (a FIFO or ``/proc/kmsg`` cannot hang it), checks
  with ``fstat`` that it holds a regular file before reading a byte, and reads at most ``limit``
  bytes (one more, to say the file is too large);
* :func:`confine` refuses absolute paths and paths that resolve (symbolic links included) outside
  a root folder, with a message that says nothing about the file named: whether it exists, is
  readable or what it holds is never revealed by the refusal.
"""

from __future__ import annotations

import os
import stat

from ..errors import SpecError


class NotRegular(OSError):
    """The path names a directory, FIFO, device or socket, not a regular file."""

    def __init__(self, kind: str):
        super().__init__(f"not a regular file (a {kind})")
        self.strerror = f"not a regular file (a {kind})"
        self.kind = kind


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def read_regular(path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit + 1`` of them (so a caller can tell
    "too large" from "exactly the limit").  Raises OSError (:class:`NotRegular` for a directory,
    FIFO, device or socket) and never blocks on opening or reading."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(os.fspath(path), flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(_kind(st.st_mode))
        chunks, left = [], limit + 1
        while left > 0:
            try:
                b = os.read(fd, min(left, 1 << 20))
            except BlockingIOError:  # a regular file that still would block (procfs): nothing to read now
                break
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_regular(path) -> bool:
    """True when ``path`` is an existing regular file (stat only; never opens it)."""
    try:
        return stat.S_ISREG(os.stat(os.fspath(path)).st_mode)
    except (OSError, ValueError):
        return False


def within(path: str, root: str) -> bool:
    """Whether ``path`` resolves (symbolic links followed) to ``root`` or below it."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(os.path.join(top, ""))


def confine(text: str, base: str, *, what: str, root: str | None = None, file=None, line=None) -> str:
    """The absolute path that ``text`` (relative to ``base``) names, if it stays inside ``root``
    (default ``base``).

    Refuses, with one message that never depends on the file named, an absolute path, a ``~``, a
    NUL byte, and a path that leaves ``root`` (``..``, or a symbolic link out of it)."""
    root = base if root is None else root
    fix = (f"write `{what}` as a path relative to the file that names it and inside its folder; files elsewhere "
           "cannot be named (an instructor can widen the folder with `archcost check --root DIR`).")
    if (not isinstance(text, str) or not text or "\0" in text or os.path.isabs(text) or text.startswith("~")
            or (os.name == "nt" and os.path.splitdrive(text)[0])):
        raise SpecError(f"`{what}` must be a relative path inside the allowed folder", file=file, line=line, fix=fix)
    path = os.path.normpath(os.path.join(base, text))
    try:
        ok = within(path, root)
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise SpecError(f"`{what}` names a path outside the allowed folder", file=file, line=line, fix=fix)
    return path
