"""The top level of a spec file: a small schema, validated by hand.

Layers are *not* validated here: the expander checks each layer against the
op registry as it walks the network, so a layer error can name the layer path
and the line.  Here we check the frame: name, metadata, input, params, blocks.

Why by hand and not pydantic: the frame is a dozen keys, and importing pydantic
cost ~130 ms of a ~250 ms cold `archcost table` (issue 8: start-up ≤ 0.10 s).
A table of fields per record (``FIELDS``) keeps the schema as readable as a
pydantic model, and every error is ours: located (file:line from the YAML's
LocDict/LocList), one paragraph, with a fix.  The rules follow pydantic's lax
mode, which the earlier frame used, so no existing spec changes meaning:
integers accept integral floats (``32.0``) and integer strings; numbers accept
numeric strings; strings must be strings; unknown keys are errors.

Spec syntax is a contract with users' files, so it changes only by adding
keys.  The keys, and why:

``name``        zoo name (lower_snake) — what `archcost table NAME` takes
``aliases``     other names (torchvision's spelling, e.g. ``mobilenet_v2``)
``family``      zoo grouping for ``archcost zoo --family``
``title``, ``paper``, ``accuracy``   metadata printed with every table
``input``       input shape without batch; entries may be expressions over params
``params``      named numbers (width, depth, resolution, classes ...); the CLI's
                ``--set k=v`` overrides them; later params may use earlier ones
``include``     block libraries from specs/blocks/NAME.yaml
``blocks``      reusable parameterised blocks (args + layers)
``layers``      the network, top to bottom
``variants``    named parameter sets (efficientnet_b0..b7 from one file)
``reference``   independent figures the tests compare against
"""

from __future__ import annotations

import difflib

from ..errors import SpecError, short_repr
from .yamlload import LocDict, LocList

REQUIRED = object()


class Record:
    """A validated mapping: one attribute per field of ``FIELDS`` (name -> (kind, default))."""

    FIELDS: dict = {}
    NOUN = "mapping"

    def __init__(self, **values):
        for k, v in values.items():
            setattr(self, k, v)

    def as_dict(self) -> dict:
        """The fields that are set (not None), as plain values (nested records as dicts)."""
        out = {}
        for k in self.FIELDS:
            v = getattr(self, k)
            if v is not None:
                out[k] = v.as_dict() if isinstance(v, Record) else v
        return out


    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in self.FIELDS)})"


class Paper(Record):
    FIELDS = {"title": ("str", REQUIRED), "authors": ("str?", None), "year": ("int?", None), "arxiv": ("str?", None),
              "venue": ("str?", None), "url": ("str?", None)}


class Accuracy(Record):
    FIELDS = {"top1": ("float?", None), "top5": ("float?", None), "dataset": ("str", "ImageNet-1k"),
              "source": ("str", REQUIRED)}


class BlockDef(Record):
    FIELDS = {"doc": ("str?", None), "args": ("dict", dict), "residual": (("none", "auto"), "none"),
              "layers": ("list", REQUIRED)}
    _raw = None  # the YAML mapping, for line numbers of args


class Variant(Record):
    FIELDS = {"params": ("dict", dict), "aliases": ("list[str]", list), "title": ("str?", None),
              "accuracy": (Accuracy, None), "reference": ("dict", dict), "paper_names": ("dict", dict)}


class SpecModel(Record):
    FIELDS = {"name": ("str", REQUIRED), "aliases": ("list[str]", list), "family": ("str?", None),
              "title": ("str?", None), "paper": (Paper, None), "accuracy": (Accuracy, None), "notes": ("str?", None),
              "input": ("list[int|str]", REQUIRED), "params": ("dict", dict), "include": ("list[str]", list),
              "blocks": ({BlockDef}, dict), "layers": ("list", REQUIRED), "variants": ({Variant}, dict),
              "reference": ("dict", dict), "paper_names": ("dict", dict)}


class BlockLibrary(Record):
    FIELDS = {"doc": ("str?", None), "blocks": ({BlockDef}, REQUIRED)}


_MISSING_FIX = {"name": "add `name: my_net`.", "input": "add e.g. `input: [3, 224, 224]` (channels, height, width).",
                "layers": "add `layers:` with a list of layers."}


# how to write each literal choice a field takes (see FIELDS)
_CHOICE_FIX = {("none", "auto"): "use `residual: auto` to add the block's input when shapes match, or `none`."}


class _Invalid(Exception):
    def __init__(self, message, loc, fix=None):
        super().__init__(message)
        self.message, self.loc, self.fix = message, loc, fix


def _where(loc) -> str:
    return ".".join(str(x) for x in loc)


def _check_int(v, loc):
    if isinstance(v, bool):
        raise _Invalid(f"'{_where(loc)}' must be a valid integer, not a boolean (got {v!r})", loc)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        raise _Invalid(f"'{_where(loc)}' must be a valid integer, got a number with a fractional part "
                       f"(got {short_repr(v)})", loc, "write a whole number.")
    if isinstance(v, str) and v.strip().lstrip("+-").isdigit():
        return int(v)
    raise _Invalid(f"'{_where(loc)}' must be a valid integer (got {short_repr(v)})", loc, "write a whole number.")


def _check_float(v, loc):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            pass
    raise _Invalid(f"'{_where(loc)}' must be a valid number (got {short_repr(v)})", loc, "write a number, e.g. 72.1.")


def _check_str(v, loc):
    if isinstance(v, str):
        return v
    raise _Invalid(f"'{_where(loc)}' must be a valid string (got {short_repr(v)})", loc,
                   "write text (quote it if it looks like a number or list).")


def _check_list(v, loc):
    if isinstance(v, list):
        return v
    raise _Invalid(f"'{_where(loc)}' must be a valid list (got {short_repr(v)})", loc,
                   "write a YAML list: `[a, b]`, or one `- item` per line.")


def _check_dict(v, loc):
    if isinstance(v, dict):
        for k in v:
            if not isinstance(k, str):
                raise _Invalid(f"'{_where(loc)}' keys must be names (strings), got {short_repr(k)}", (*loc, k),
                               "use a name as the key.")
        return v
    raise _Invalid(f"'{_where(loc)}' must be a valid dictionary, a mapping of `key: value` (got {short_repr(v)})",
                   loc, "write `key: value` pairs, indented under it, or `{key: value}`.")


def _check(kind, v, loc):
    if isinstance(kind, str) and kind.endswith("?"):
        if v is None:
            return None
        kind = kind[:-1]
    if kind == "str":
        return _check_str(v, loc)
    if kind == "int":
        return _check_int(v, loc)
    if kind == "float":
        return _check_float(v, loc)
    if kind == "list":
        return _check_list(v, loc)
    if kind == "dict":
        return _check_dict(v, loc)
    if kind == "list[str]":
        return [_check_str(x, (*loc, i)) for i, x in enumerate(_check_list(v, loc))]
    if kind == "list[int|str]":
        out = []
        for i, x in enumerate(_check_list(v, loc)):
            if isinstance(x, str):
                out.append(x)
            else:
                try:
                    out.append(_check_int(x, (*loc, i)))
                except _Invalid as e:
                    raise _Invalid(e.message.replace("a valid integer", "a valid integer or an expression"), e.loc,
                                   "write a whole number or an expression over params, e.g. `resolution`.") from None
        return out
    if isinstance(kind, tuple):  # a literal choice
        if v in kind and isinstance(v, str):
            return v
        raise _Invalid(f"'{_where(loc)}' must be {' or '.join(repr(c) for c in kind)} (got {short_repr(v)})", loc,
                       _CHOICE_FIX.get(kind))
    if isinstance(kind, set):  # {Record}: a mapping of names to records
        (cls,) = kind
        return {k: _record(cls, x, (*loc, k)) for k, x in _check_dict(v, loc).items()}
    if v is None and isinstance(kind, type):
        return None
    return _record(kind, v, loc)


def _record(cls, raw, loc):
    if not isinstance(raw, dict):
        raise _Invalid(f"'{_where(loc)}' must be a valid dictionary, a mapping of `key: value` "
                       f"(got {short_repr(raw)})", loc, "write `key: value` pairs, indented under it.")
    values = {}
    for name, (kind, default) in cls.FIELDS.items():
        if name in raw:
            values[name] = _check(kind, raw[name], (*loc, name))
        elif default is REQUIRED:
            fix = _MISSING_FIX.get(name, f"add `{name}:`.")
            close = difflib.get_close_matches(name, [k for k in raw if isinstance(k, str) and k not in cls.FIELDS], n=1)
            if close:
                fix = f"`{close[0]}` looks like a misspelling of `{name}`; " + fix
            raise _Invalid(f"missing required key '{_where((*loc, name))}'", loc, fix)
        else:
            values[name] = default() if callable(default) else default
    for key in raw:
        if key not in cls.FIELDS:
            close = difflib.get_close_matches(str(key), list(cls.FIELDS), n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise _Invalid(f"unknown key '{_where((*loc, key))}'", (*loc, key),
                           f"remove it or check the spelling; {hint}keys allowed here: {', '.join(cls.FIELDS)}.")
    return cls(**values)


def line_of(raw, loc) -> int | None:
    """Follow a ``loc`` path through LocDict/LocList to the best line."""
    line = getattr(raw, "line", None)
    node = raw
    for key in loc:
        if isinstance(node, LocDict) and key in node:
            line = node.key_line(key)
            node = node[key]
        elif isinstance(node, LocList) and isinstance(key, int) and 0 <= key < len(node):
            line = node.item_line(key)
            node = node[key]
        else:
            break
        line = getattr(node, "line", None) or line
    return line


def validate(model_cls, raw, file: str):
    """Validate raw YAML data against a record class; raise a located SpecError."""
    if not isinstance(raw, dict):
        what = "empty" if raw is None else "a list" if isinstance(raw, list) else f"a {type(raw).__name__}"
        raise SpecError(f"the file is {what}, not a mapping of spec keys", file=file, line=1,
                        fix="a spec starts with `name:`, `input:` and `layers:` (see specs/lenet5.yaml).")
    try:
        return _record(model_cls, raw, ())
    except _Invalid as e:
        raise SpecError(e.message, file=file, line=line_of(raw, e.loc),
                        fix=e.fix or "see the spec reference in the README.") from None
