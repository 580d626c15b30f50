"""The parsed-YAML values that remember where they came from (:class:`LocDict`, :class:`LocList`) and the
limits on a YAML file: the leaf that the loader (:mod:`.yamlload`), PyYAML's side (:mod:`.pyyaml_parse`) and
the disk cache (:mod:`.parsecache`) share, so none of them imports another upward."""

from __future__ import annotations

MAX_FILE_BYTES = 2_000_000
MAX_ALIASES = 1_000
MAX_DEPTH = 64
MAX_EXPANDED = 200_000  # values after alias expansion: a few aliases can expand to billions ("billion laughs")


class LocDict(dict):
    """A dict with the YAML line of itself and of each key."""

    __slots__ = ("line", "key_lines", "scalar_texts")

    def __init__(self, *args, line: int | None = None, **kw):
        super().__init__(*args, **kw)
        self.line = line
        self.key_lines: dict = {}
        self.scalar_texts: dict | None = None  # key -> a plain non-string scalar value as written

    def key_line(self, key) -> int | None:
        return self.key_lines.get(key, self.line)

    def scalar_text(self, key) -> str | None:
        """The text of a key's number as written in the file (``1.20e8``: YAML has made it 120000000.0),
        taken from the YAML node itself; None for strings, collections and values not read from a file."""
        return None if self.scalar_texts is None else self.scalar_texts.get(key)


class LocList(list):
    """A list with the YAML line where it starts and of each item."""

    __slots__ = ("line", "item_lines")

    def __init__(self, *args, line: int | None = None):
        super().__init__(*args)
        self.line = line
        self.item_lines: list = []

    def item_line(self, i: int) -> int | None:
        if 0 <= i < len(self.item_lines):
            return self.item_lines[i]
        return self.line


PARSE_CACHE_MAX_TEXT = 256 * 1024  # larger texts are neither memoised (yamlload) nor stored on disk (parsecache)
