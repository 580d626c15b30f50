"""Parsed spec files on disk, so that a cold ``archcost table`` of a file read before skips PyYAML.

Importing PyYAML and composing a zoo spec cost ~17 ms of a ~150 ms cold start (issue 21); reading
the same tree back from JSON costs well under a millisecond.  One entry per file text, in
``<cache root>/parsed-1/<crc32>-<length>.json`` (:mod:`archcost.cachedir`): ``{"text": ..., "tree":
...}``.  The entry holds the whole text and is used only when it equals the file's text exactly, so
it can never be stale or confused by a checksum collision; an entry that is unreadable, malformed or
made of anything but LocDict/LocList/plain scalars is ignored (and overwritten on the next parse).
Only successful parses are stored (errors re-parse, so their messages are PyYAML's, located), and
only trees of plain values (no dates, sets or non-finite floats: such a file is simply re-parsed).

Writes are atomic (a temporary file renamed into place), failures to write are ignored (a
read-only home, a full disk), and the folder is pruned to the newest half when it passes
MAX_ENTRIES.  ``ARCHCOST_NO_PARSE_CACHE=1`` turns the cache off.

Encoding (FORMAT 1) — a LocDict is ``{"d": [line, [[key, value], ...], [[key, key_line], ...],
[[key, text], ...] | null]}`` (the last: numbers as written, ``LocDict.scalar_text``), a LocList
``{"l": [line, [item, ...], [item_line, ...]]}``, a scalar itself.  Change FORMAT with the encoding.
"""

from __future__ import annotations

import json
import math
import os
import zlib

from .loc import MAX_FILE_BYTES, PARSE_CACHE_MAX_TEXT, LocDict, LocList

FORMAT = 1
MAX_ENTRIES = 2_000
_SCALARS = (str, int, float, bool, type(None))


class _Unfit(Exception):
    """A value the cache does not store (the file is then parsed each time)."""


def _path(data: bytes) -> str | None:
    if os.environ.get("ARCHCOST_NO_PARSE_CACHE") or len(data) > PARSE_CACHE_MAX_TEXT:
        return None
    from ..cachedir import cache_root

    return os.path.join(cache_root(), f"parsed-{FORMAT}", f"{zlib.crc32(data):08x}-{len(data):x}.json")


def get(data: bytes, text: str):
    """The tree stored for this file text, or None."""
    path = _path(data)
    if path is None:
        return None
    from .safefile import read_regular

    try:
        entry = json.loads(read_regular(path, 4 * MAX_FILE_BYTES))
        if type(entry) is not dict or entry.get("text") != text:
            return None
        return _decode(entry["tree"])
    except (OSError, ValueError, KeyError, TypeError, IndexError, RecursionError, _Unfit):
        return None


def put(data: bytes, text: str, tree) -> None:
    """Store the tree parsed from this file text (quietly nothing when it cannot)."""
    path = _path(data)
    if path is None or not isinstance(tree, (LocDict, LocList)):
        return
    try:
        blob = json.dumps({"text": text, "tree": _encode(tree)}, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    except (_Unfit, ValueError, RecursionError):
        return
    folder = os.path.dirname(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(folder, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(blob)
        os.replace(tmp, path)
        _prune(folder)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _prune(folder: str) -> None:
    with os.scandir(folder) as it:
        entries = [e for e in it if e.name.endswith(".json")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime)
    for e in entries[:len(entries) - MAX_ENTRIES // 2]:
        try:
            os.unlink(e.path)
        except OSError:
            pass


def _encode(value):
    if isinstance(value, LocDict):
        keys = list(value)
        for k in keys:
            _encode_scalar(k)
        texts = value.scalar_texts
        return {"d": [value.line, [[k, _encode(value[k])] for k in keys],
                      [[k, line] for k, line in value.key_lines.items()],
                      None if texts is None else [[k, t] for k, t in texts.items()]]}
    if isinstance(value, LocList):
        return {"l": [value.line, [_encode(v) for v in value], list(value.item_lines)]}
    return _encode_scalar(value)


def _encode_scalar(value):
    if type(value) not in _SCALARS or (type(value) is float and not math.isfinite(value)):
        raise _Unfit(type(value).__name__)
    return value


def _line(x):
    if x is not None and type(x) is not int:
        raise _Unfit("line")
    return x


def _decode(value):
    """The tree from its encoding, checking every part (a cache file is only trusted to be well formed)."""
    if type(value) is dict:
        if len(value) != 1:
            raise _Unfit("entry")
        if "d" in value:
            line, items, key_lines, texts = value["d"]
            out = LocDict(line=_line(line))
            for k, v in items:
                out[_encode_scalar(k)] = _decode(v)
            out.key_lines = {_encode_scalar(k): _line(n) for k, n in key_lines}
            if texts is not None:
                out.scalar_texts = {_encode_scalar(k): t for k, t in texts if type(t) is str}
            return out
        line, items, item_lines = value["l"]
        out = LocList([_decode(v) for v in items], line=_line(line))
        out.item_lines = [_line(n) for n in item_lines]
        return out
    return _encode_scalar(value)
