"""Safe YAML loading that remembers line numbers.

Mappings load as :class:`LocDict` and sequences as :class:`LocList`; both carry
the 1-based ``line`` where they start, and ``LocDict.key_line(k)`` gives the
line of a key, so every later error can point at file:line.  Only the safe
loader is used (no Python object tags), and three limits stop hostile files:
file size, number of alias expansions (the "billion laughs" bomb) and nesting
depth.
"""

from __future__ import annotations

import yaml

from ..errors import SpecError

MAX_FILE_BYTES = 2_000_000
MAX_ALIASES = 1_000
MAX_DEPTH = 64


class LocDict(dict):
    """A dict with the YAML line of itself and of each key."""

    __slots__ = ("line", "key_lines")

    def __init__(self, *args, line: int | None = None, **kw):
        super().__init__(*args, **kw)
        self.line = line
        self.key_lines: dict = {}

    def key_line(self, key) -> int | None:
        return self.key_lines.get(key, self.line)


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


class _Loader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise SpecError(
                    f"more than {MAX_ALIASES} YAML alias references (*name)",
                    line=mark.line + 1,
                    fix="write the repeated part as a block and use `repeat:` instead of anchors and aliases.",
                )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise SpecError(
                f"YAML nesting deeper than {MAX_DEPTH} levels",
                line=mark.line + 1,
                fix="flatten the spec: define blocks and reference them by name.",
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader, node):
    out = LocDict(line=node.start_mark.line + 1)
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise SpecError(
                "a mapping key must be a plain value, not a list or mapping",
                line=key_node.start_mark.line + 1,
                fix="use a simple name as the key.",
            ) from None
        if key in out:
            raise SpecError(
                f"duplicate key '{key}'",
                line=key_node.start_mark.line + 1,
                fix="each key may appear once per mapping; to add two layers, make them two list items.",
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader, node):
    out = LocList(line=node.start_mark.line + 1)
    for child in node.value:
        out.append(loader.construct_object(child, deep=True))
        out.item_lines.append(child.start_mark.line + 1)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_text(text: str, file: str = "<string>"):
    """Parse YAML text into LocDict/LocList values; raise a located SpecError."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(
            f"file is {len(text):,} bytes, more than the {MAX_FILE_BYTES:,}-byte limit for a spec",
            file=file,
            line=1,
            fix="a spec describes a network with blocks and repeat; it should be a few kilobytes.",
        )
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except SpecError as err:
        raise err.located(file=file)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        problem = err.problem or err.context or "invalid YAML"
        raise SpecError(
            f"YAML syntax error: {problem}",
            file=file,
            line=line,
            fix="check indentation and that every `key: value` pair and list item `- ` is well formed.",
        ) from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML error: {err}".replace("\n", " "), file=file, line=1,
                        fix="check the file is valid YAML.") from None
    except RecursionError:
        raise SpecError("YAML nesting too deep", file=file, line=1,
                        fix="flatten the spec: define blocks and reference them by name.") from None


def load_yaml_file(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_FILE_BYTES + 1)
    except UnicodeDecodeError:
        raise SpecError("file is not UTF-8 text", file=path, line=1,
                        fix="save the spec as UTF-8 YAML.") from None
    except OSError as err:
        raise SpecError(f"cannot read file: {err.strerror}", file=path,
                        fix="check the path, or run `archcost zoo` to list built-in specs.") from None
    return load_yaml_text(text, file=path)
