"""Safe YAML loading that remembers line numbers.

Mappings load as :class:`LocDict` and sequences as :class:`LocList`; both carry
the 1-based ``line`` where they start, and ``LocDict.key_line(k)`` gives the
line of a key, so every later error can point at file:line.  Only the safe
loader is used (no Python object tags), and three limits stop hostile files:
file size, number of alias expansions (the "billion laughs" bomb) and nesting
depth.

The parsing itself (PyYAML) lives in :mod:`.pyyaml_parse`, imported only when a text is not found
in the parse memo (this process) or the disk cache (:mod:`.parsecache`, earlier processes).
"""

from __future__ import annotations

from ..errors import SpecError
from .loc import (MAX_ALIASES, MAX_DEPTH, MAX_EXPANDED, MAX_FILE_BYTES, PARSE_CACHE_MAX_TEXT,  # noqa: F401 - its API
                  LocDict, LocList)

_PARSED: dict = {}  # text -> parsed tree, most recent last (see load_yaml_text)
PARSE_CACHE_ENTRIES = 256


def load_yaml_text(text: str, file: str = "<string>"):
    """Parse YAML text into LocDict/LocList values; raise a located SpecError.

    Successful parses are cached by the text itself (content-addressed, so never stale): a
    parameter sweep or an answers file re-reads the same spec text many times, and libyaml's
    compose step alone costs ~1 ms for a zoo spec.  The returned tree is therefore shared:
    callers must treat it as read-only (the loader and expander never modify it).
    """
    tree = _PARSED.get(text)
    if tree is not None:
        return tree
    from .pyyaml_parse import parse

    return _remember(text, parse(text, file))


def _remember(text: str, tree):
    if len(text) <= PARSE_CACHE_MAX_TEXT and isinstance(tree, (LocDict, LocList)):
        if len(_PARSED) >= PARSE_CACHE_ENTRIES:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[text] = tree
    return tree


def load_yaml_file(path: str):
    """A file's parsed tree (see :func:`load_yaml_text`); a file parsed by an earlier process comes from the
    disk cache (:mod:`.parsecache`) when its text is the same, byte for byte."""
    from .safefile import read_regular

    try:
        data = read_regular(path, MAX_FILE_BYTES)  # regular files only, opened without blocking (FIFOs, /proc)
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise SpecError(f"file is not UTF-8 text (byte {data[err.start]:#04x})", file=path, line=line,
                        fix="save the spec as UTF-8 YAML.") from None
    except OSError as err:
        raise SpecError(f"cannot read file: {err.strerror}", file=path,
                        fix="check the path, or run `archcost zoo` to list built-in specs.") from None
    tree = _PARSED.get(text)
    if tree is not None:
        return tree
    from . import parsecache

    tree = parsecache.get(data, text)
    if tree is not None:
        return _remember(text, tree)
    tree = load_yaml_text(text, file=path)
    parsecache.put(data, text, tree)
    return tree
