"""PyYAML behind :mod:`archcost.language.yamlload`: the loaders, the limits' checks, the located errors.

Imported only when a text is really parsed (not found in the parse memo or the disk cache of
:mod:`.parsecache`), so a cold ``archcost table`` of a spec parsed before does not import PyYAML
(~16 ms of start-up, issue 21).
"""

from __future__ import annotations

import re

import yaml

from ..errors import SpecError, short_repr
from .loc import MAX_ALIASES, MAX_DEPTH, MAX_EXPANDED, MAX_FILE_BYTES, LocDict, LocList

_BRACKETS = re.compile(r"[\[\]{}]")
# a line's leading spaces and block indicators; lines end at any YAML line break (\n, \r, NEL, LS, PS)
_LEADS = re.compile(r"(?:^|(?<=[\r\x85\u2028\u2029]))( *)((?:[-?:][ \t]+)*)(?=[^ \r\n\x85\u2028\u2029])", re.M)


def _nesting_depth(text: str) -> int:
    """Cheap upper bound of YAML nesting (indentation steps + open brackets), checked before parsing
    so that libyaml never recurses deeply."""
    depth = max_depth = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "[{":
            depth += 1
            if depth > max_depth:
                max_depth = depth
        else:
            depth -= 1
    # an upper bound: one level per leading space, plus compact nesting on one line (`- - - x`, `? ? x`)
    indent = max((len(a) + len(b) for a, b in _LEADS.findall(text)), default=0)
    return max_depth + indent


class _Guards:
    """Checks shared by both loaders: alias expansion size, and values the constructors cannot build."""

    def _count_alias(self, mark):
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise SpecError(
                f"more than {MAX_ALIASES} YAML alias references (*name)",
                line=mark.line + 1,
                fix="write the repeated part as a block and use `repeat:` instead of anchors and aliases.",
            )

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (SpecError, yaml.YAMLError, RecursionError):
            raise
        except Exception as err:  # noqa: BLE001 - PyYAML's constructors fail in many ways on odd scalars
            # e.g. `!!int abc`, a 5,000-digit integer, the date 2024-13-45
            raise SpecError(f"cannot read the value {short_repr(node.value if isinstance(node.value, str) else node.tag)}: "
                            f"{str(err)[:120]}", line=node.start_mark.line + 1,
                            fix="write a plain number or quote the text.") from None


class _FastLoader(_Guards, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser and composer (when available); the node tree is then built by :func:`_build`."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    _RESOLVED: dict = {}  # (kind, value, implicit) -> tag: a pure function of the class's resolver tables

    def resolve(self, kind, value, implicit):
        key = (kind, value, implicit)
        tag = self._RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._RESOLVED) < 100_000:
                self._RESOLVED[key] = tag
        return tag


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def _fast_load(text: str):
    """Compose with libyaml, then build LocDict/LocList values in one direct walk.

    The walk does what PyYAML's constructor machinery does for safe YAML (scalars through the
    SafeLoader's own constructors, merge keys, shared objects for aliases) without its
    generic per-node bookkeeping: loading is most of the time of re-reading a spec.  Aliases
    are counted as they are met, and only a document that has any is checked for expansion.
    """
    loader = _FastLoader(text)
    try:
        node = getattr(yaml, "CSafeLoader", yaml.SafeLoader).get_single_node(loader)
        if node is None:
            return None
        built: dict = {}
        constructors = loader.yaml_constructors

        def build(node):
            key = id(node)
            if key in built:
                loader._count_alias(node.start_mark)
                return built[key]
            if isinstance(node, yaml.ScalarNode):
                tag = node.tag
                if tag == _STR_TAG:
                    value = node.value
                elif tag == _INT_TAG and node.value.isdigit() and len(node.value) < 20 and (
                        node.value == "0" or node.value[0] != "0"):
                    value = int(node.value)
                else:
                    value = loader.construct_object(node)  # _Guards turns odd scalars into SpecError
                built[key] = value
                return value
            if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
                out = built[key] = LocList(line=node.start_mark.line + 1)
                return _fill_sequence(out, node, build)
            if not isinstance(node, yaml.MappingNode) or node.tag not in constructors or \
                    constructors[node.tag] is not _construct_mapping:
                _check_expansion(node)  # before PyYAML's constructors walk it
                value = loader.construct_object(node, deep=True)  # !!set, !!omap, unknown tags: PyYAML decides
                built[key] = value
                return value
            merged = _flatten(loader, node) if any(k.tag == _MERGE_TAG for k, _ in node.value) else 0
            out = built[key] = LocDict(line=node.start_mark.line + 1)
            return _fill_mapping(out, node, merged, build)

        value = build(node)
        if loader._aliases:
            _check_expansion(node)
        return value
    finally:
        loader.dispose()


class _Loader(_Guards, yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._count_alias(self.peek_event().start_mark)
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


def _check_expansion(root):
    """Refuse documents whose aliases expand to more than MAX_EXPANDED values (or refer to themselves)."""
    sizes: dict = {}
    active: set = set()

    def size(node):
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise SpecError("a YAML alias refers to the mapping or list that contains it",
                            line=node.start_mark.line + 1, fix="remove the self-reference (*name inside &name).")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [x for pair in node.value for x in pair]
        else:
            children = ()
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED:
                raise SpecError(f"YAML anchors and aliases expand to more than {MAX_EXPANDED:,} values",
                                line=child.start_mark.line + 1,
                                fix="write the repeated part as a block and use `repeat:` instead of anchors "
                                    "and aliases.")
        active.discard(key)
        sizes[key] = total
        return total

    size(root)


def _flatten(loader, node) -> int:
    """Apply YAML merge keys (``<<: *base``); return how many leading pairs came from merges.

    PyYAML puts the merged pairs first, the mapping's own after them; a later pair overrides an
    earlier merged one, as YAML's merge-key rule says, so only a repeated *own* key is a mistake.
    """
    own = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
    loader.flatten_mapping(node)
    return len(node.value) - own


def _fill_mapping(out: LocDict, node, merged: int, value_of) -> LocDict:
    """Fill ``out`` from a (flattened) mapping node, building each key and value with ``value_of``;
    the first ``merged`` pairs came from merge keys (see :func:`_flatten`).  Both loaders use it."""
    overridable: set = set()  # keys set by merged pairs, which the mapping's own may override
    key_lines = out.key_lines
    for i, (key_node, value_node) in enumerate(node.value):
        key = value_of(key_node)
        try:
            hash(key)
        except TypeError:
            raise SpecError("a mapping key must be a plain value, not a list or mapping",
                            line=key_node.start_mark.line + 1, fix="use a simple name as the key.") from None
        if key in out and not (i < merged or key in overridable):
            raise SpecError(f"duplicate key '{key}'", line=key_node.start_mark.line + 1,
                            fix="each key may appear once per mapping; to add two layers, make them two list items.")
        if i < merged:
            overridable.add(key)
        else:
            overridable.discard(key)
        out[key] = value = value_of(value_node)
        key_lines[key] = key_node.start_mark.line + 1
        if isinstance(value, (int, float)) and isinstance(value_node, yaml.ScalarNode) and not value_node.style:
            if out.scalar_texts is None:
                out.scalar_texts = {}
            out.scalar_texts[key] = value_node.value
    return out


def _fill_sequence(out: LocList, node, value_of) -> LocList:
    lines = out.item_lines
    for child in node.value:
        out.append(value_of(child))
        lines.append(child.start_mark.line + 1)
    return out


def _construct_mapping(loader, node):
    merged = _flatten(loader, node)
    return _fill_mapping(LocDict(line=node.start_mark.line + 1), node, merged,
                         lambda n: loader.construct_object(n, deep=True))


def _construct_sequence(loader, node):
    return _fill_sequence(LocList(line=node.start_mark.line + 1), node,
                          lambda n: loader.construct_object(n, deep=True))


for _cls in (_Loader, _FastLoader):
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)

# YAML 1.1 reads `4.2e6` (no dot or unsigned exponent) as a string; in a spec it always means a number.
_SCI_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
for _cls in (_Loader, _FastLoader):
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _SCI_FLOAT, list("-+0123456789."))


def parse(text: str, file: str):
    """Parse YAML text (at most MAX_FILE_BYTES) into LocDict/LocList values; raise a located SpecError."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(
            f"file is {len(text):,} bytes, more than the {MAX_FILE_BYTES:,}-byte limit for a spec",
            file=file,
            line=1,
            fix="a spec describes a network with blocks and repeat; it should be a few kilobytes.",
        )
    # The pure-Python loader checks depth while composing; libyaml is ~10x faster, so use it when the
    # text is shallow enough that its recursive composer is safe.
    try:
        if _nesting_depth(text) <= MAX_DEPTH:
            return _fast_load(text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - derives from SafeLoader
    except SpecError as err:
        raise err.located(file=file)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        problem = err.problem or err.context or "invalid YAML"
        if err.context and err.problem and err.context_mark:
            problem += f" ({err.context} at line {err.context_mark.line + 1})"
        fix = "check indentation and that every `key: value` pair and list item `- ` is well formed."
        if mark is not None and "\t" in (text.splitlines()[mark.line:mark.line + 1] or [""])[0]:
            fix = "YAML does not allow tabs for indentation: indent with spaces."
        elif "constructor" in problem:
            fix = "specs are plain YAML: remove the `!!` or `!` tag."
        raise SpecError(f"YAML syntax error: {problem}", file=file, line=line, fix=fix) from None
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1 if isinstance(err.position, int) else 1
        char = chr(err.character) if isinstance(err.character, int) else err.character
        raise SpecError(f"the file contains a character YAML does not allow ({char!r})", file=file,
                        line=line, fix="remove control characters; save the spec as plain UTF-8 text.") from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML error: {err}".replace("\n", " "), file=file, line=1,
                        fix="check the file is valid YAML.") from None
    except RecursionError:
        raise SpecError("YAML nesting too deep", file=file, line=1,
                        fix="flatten the spec: define blocks and reference them by name.") from None


