"""Expand a validated spec into the graph IR, checking every layer on the way.

The expander walks ``layers`` top to bottom carrying the current tensor's
shape.  Each layer item is a mapping with exactly one *main key* and optional
modifiers:

main keys
    an op name (``conv2d: {...}``), a block name (``inverted_residual: {...}``),
    ``activation: {fn: NAME}`` (the activation chosen by a parameter),
    ``sequential: [...]`` (a named group),
    ``residual: {layers: [...], shortcut: [...]}`` (add body and shortcut; no
    shortcut = identity), or
    ``parallel: {branches: [[...], ...], join: concat|add|multiply, split: N|[sizes]}``
    (branches from the same input, or from channel slices when ``split`` is given).
modifiers
    ``name`` (node id segment), ``if`` (expression; skip the layer when false),
    ``repeat`` (expression; the loop index is ``i``), ``first`` (a mapping of
    argument overrides for the first repetition: a stage's stride), ``from``
    (take the input from earlier named tensor(s) instead of the previous layer).

Graphs that are not a chain (DenseNet's concat, DPN's dual path, NASNet's
two-input cells) use names: a layer with ``name: x`` also names its output
tensor ``x`` within the enclosing block call (or the top level); ``from: x``
(or ``from: [a, b]``) feeds a later layer from it.  ``_`` is the previous
layer's output, ``in`` the block's input (``in0``, ``in1``... when a block is
called with ``from: [a, b]``).  ``add``, ``concat`` and ``multiply`` may stand
alone with ``from: [a, b, ...]``.

Names available to expressions: the spec's ``params``, the block's ``args``,
``in`` (channels entering the enclosing block), ``ch`` / ``h`` / ``w`` (shape
of the tensor entering this layer) and ``i`` inside ``repeat``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from math import prod
from typing import NamedTuple

from ..errors import ShapeError, SpecError, short_repr
from ..ir import INPUT, FrozenDict, Graph, Node
from .yamlload import LocDict
from ..ops import OPS
from ..ops.act import ACTIVATIONS
from ..ops.base import REQUIRED
from . import expr

MAX_NODES = 50_000
MAX_REPEAT = 10_000
MAX_BLOCK_DEPTH = 32
MAX_ELEMENTS = 2**40  # per tensor, batch 1: no machine holds more
MAX_STEPS = 200_000  # layer items visited (repeat × nesting), so `repeat` of empty blocks cannot hang
MAX_NESTING = 64  # layer lists inside layer lists (sequential, residual, parallel, blocks)
MODIFIERS = ("name", "if", "repeat", "first", "from", "shares")
COMPOSITES = ("sequential", "residual", "parallel", "activation")
JOINS = ("add", "concat", "multiply")  # a parallel's join; may stand alone in a list, with `from: [a, b, ...]`
TYPE_NAMES = {"int": int, "float": float, "bool": bool, "str": str}
_node = tuple.__new__  # Node's fields with attrs already frozen: skips Node.__new__'s check (a call per node)


class _T:
    """A tensor during expansion: the id of the node producing it and its shape."""

    __slots__ = ("id", "shape")

    def __init__(self, id, shape):
        self.id = id
        self.shape = shape


def _is_name(text: str) -> bool:
    return text.isidentifier()


def _shape_names(shape) -> dict:
    """The expression names describing the tensor entering a layer."""
    return {"ch": shape[0], "h": shape[1] if len(shape) > 1 else 1, "w": shape[-1] if len(shape) > 1 else 1}


def eval_value(v, scope, kind="any"):
    """Evaluate a YAML value: strings are expressions, except literal words where a word is expected."""
    if isinstance(v, str):
        if kind == "str":
            return scope[v] if _is_name(v) and v in scope else v
        if kind == "padding" and v in ("same", "valid"):
            return v
        bare_word = _is_name(v) and v not in scope and v not in expr.CONSTANTS
        if kind in ("padding", "ints", "int", "float", "bool") and bare_word:
            if v in ("same", "valid"):
                raise expr.ExprError(f"'{v}' padding is only for convolutions",
                                     fix="give the padding as a number of elements, e.g. `padding: 1`.")
            if kind == "bool":
                raise expr.ExprError(f"expected true or false, got {v!r}", fix="write `true` or `false`.")
            if kind == "padding":
                raise expr.ExprError(f"padding {v!r} is not a number, 'same' or 'valid'",
                                     fix="write `padding: 1`, `padding: same`, `padding: valid` or a list.")
        if kind in ("any", "arg") and bare_word:
            return v  # a bare word: a string argument such as `act: relu6`
        return expr.evaluate(v, scope)
    if isinstance(v, list):
        return [eval_value(x, scope, kind if kind != "padding" else "any") for x in v]
    return v


def _coerce(attr, v):
    """Check one evaluated attribute value against its schema kind; return it normalised."""
    k = attr.kind
    if k == "int":
        v = _coerce_int_like(attr, v, "an integer", "wrap fractional expressions in int(), round() or make_divisible().")
        if attr.min is not None and v < attr.min:
            raise ShapeError(f"{attr.name} must be at least {attr.min:g}, got {v}", fix=f"use {attr.name} >= {attr.min:g}.")
    elif k == "float":
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ShapeError(f"{attr.name} must be a number, got {short_repr(v)}", fix=f"write e.g. `{attr.name}: 0.1`.")
        if attr.min is not None and v < attr.min:
            raise ShapeError(f"{attr.name} must be at least {attr.min:g}, got {v}", fix=f"use {attr.name} >= {attr.min:g}.")
        v = float(v)
    elif k == "bool":
        if not isinstance(v, bool):
            raise ShapeError(f"{attr.name} must be true or false, got {short_repr(v)}", fix=f"write `{attr.name}: true` or `false`.")
    elif k == "str":
        if not isinstance(v, str) or (attr.choices and v not in attr.choices):
            raise ShapeError(f"{attr.name} must be one of {', '.join(attr.choices or ())}, got {short_repr(v)}",
                             fix=f"pick one of {', '.join(attr.choices or ())}.")
    elif k == "ints":
        if isinstance(v, list):
            v = [int(x) if isinstance(x, float) and x.is_integer() else x for x in v]
            if not v or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                raise ShapeError(f"{attr.name} must be an integer or a list of integers, got {short_repr(v)}",
                                 fix=f"write e.g. `{attr.name}: 3` or `{attr.name}: [3, 3]`.")
        elif v is not None:
            v = _coerce_int_like(attr, v, "an integer or a list of integers", f"write e.g. `{attr.name}: 3`.")
    elif k == "padding":
        if isinstance(v, float) and v.is_integer():
            v = int(v)
    if _too_large(v):
        raise ShapeError(f"{attr.name}={short_repr(v)} is too large (sizes beyond {expr.MAX_ABS_VALUE:.0e} fit no machine)",
                         fix="check the value.")
    return v


def _too_large(v, depth=0) -> bool:
    """An integer (possibly inside lists) beyond what torch's int64 sizes or any real layer allow."""
    if isinstance(v, int) and not isinstance(v, bool):
        return abs(v) > expr.MAX_ABS_VALUE
    if isinstance(v, (list, tuple)) and depth < 8:
        return any(_too_large(x, depth + 1) for x in v)
    return False


def _coerce_int_like(attr, v, what: str, fix: str):
    """An int, or a float with an integer value, as an int; anything else is an error."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ShapeError(f"{attr.name} must be {what}, got {short_repr(v)}", fix=fix)
    return v


@dataclass(slots=True)
class Ctx:
    """Where the expander stands: what a layer, or a list of layers, is expanded in.

    A layer's ``path`` is its node id (``stage1.conv2d0``); a list's is the id of the group it
    fills (``""`` at the top level), and its items are named ``prefix`` + their name.  The
    context of a list (made by :meth:`Expander._seq`) advances ``cur`` and ``line`` item by item
    and counts its unnamed items.
    """

    cur: _T  # the tensor entering the layer (in a list: entering the next item)
    scope: dict  # names visible to expressions: params, block args, in, ch/h/w, i
    path: str  # node id of the layer, or of the group a list fills
    line: int | None  # the line errors name
    stack: tuple  # the blocks being expanded, outermost first (refuses cycles)
    file: str  # the file the layers come from (a library's, inside its blocks)
    counts: dict | None = None  # a list's: op or block name -> its unnamed items so far (conv2d0, conv2d1, ...)
    prefix: str = ""  # a list's: its items' ids start with it ("" at the top level, else path + ".")

    def group(self, path, cur=None) -> "Ctx":
        """The context of a list of layers inside this layer (a residual's shortcut, a branch)."""
        return Ctx(self.cur if cur is None else cur, self.scope, path, self.line, self.stack, self.file)


class _Expansion(NamedTuple):
    """A block call's expansion, kept to replay identical calls (see :meth:`Expander._block_body`)."""

    path: str  # the call's path; a replay swaps it for its own
    nodes: list
    paths: list  # the layer paths claimed inside, in order
    steps: int
    ext: list  # ids of the call's input tensors
    out_ref: tuple  # ("node", id) or ("input", k)
    out_shape: tuple
    groups: list  # (path, block name) of the block calls inside


def _next_name(key, counts) -> str:
    """The name of the next unnamed ``key`` item of a list: conv2d0, conv2d1, ..."""
    k = counts.get(key, 0)
    counts[key] = k + 1
    return f"{key}{k}"


# arguments torch's constructors take and a spec never does: the shape before the layer says them
_INFERRED = {"in_channels": "input channels are", "in_features": "input features are",
             "num_features": "the number of features is", "input_size": "the input size is"}


class Expander:
    """Expands one spec's layers into nodes, checking each; :meth:`build` returns the :class:`Graph`.

    What is being expanded, and where, travels in a :class:`Ctx`; the expander itself keeps what
    the whole expansion shares: the nodes so far, the names claimed, the step count and the memo
    of block calls.
    """

    memoize = True  # replay identical block calls (tests switch it off to compare)

    def __init__(self, *, name, file, params, blocks, input_shape, meta=None):
        self.name = name
        self.file = file
        self.params = params
        self.blocks = blocks  # name -> (BlockDef, file)
        self.input_shape = tuple(input_shape)
        self.meta = meta or {}
        self.nodes: list[Node] = []
        self.ids: set[str] = set()
        self.prefixes: set[str] = set()  # dotted groups that contain nodes
        self.paths: set[str] = set()  # layer items seen, to refuse duplicate names
        self.path_log: list[str] = []  # the same, in order (a block's replay adds its share again)
        self.groups: dict = {}  # path of each block call -> block name (``count`` of blocks of a kind)
        self.group_log: list[str] = []  # the same paths, in order (a replay adds its nested calls again)
        self.steps = 0
        self.memo: dict = {}  # block body expansions, replayed for identical calls (see _block_body)
        self._by_id: dict = {}  # node id -> node, for `shares:` (filled from self.nodes on use: see _node_of)
        self.depth = 0
        self.frame: dict = {}  # tensor names visible to `from:` in the current block call (or the top level)

    # -- errors -----------------------------------------------------------------
    def _err(self, msg, *, line, path, fix=None, file=None):
        return SpecError(msg, file=file or self.file, line=line, path=path or None, fix=fix)

    def _fail(self, ctx: Ctx, msg, fix=None, **where):
        """A SpecError located at ``ctx`` (its line, path and file), except where ``where`` says otherwise."""
        return self._err(msg, fix=fix, **{"line": ctx.line, "path": ctx.path, "file": ctx.file, **where})

    def _run(self, fn, ctx: Ctx, **where):
        """Call fn(); turn ShapeError/SpecError raised inside into a SpecError located like :meth:`_fail`."""
        try:
            return fn()
        except ShapeError as e:
            raise self._fail(ctx, e.message, e.fix, **where) from None
        except SpecError as e:
            loc = {"line": ctx.line, "path": ctx.path, "file": ctx.file, **where}
            raise e.located(file=loc["file"], line=loc["line"], path=loc["path"] or None)

    # -- entry ------------------------------------------------------------------
    def build(self, layers) -> Graph:
        shape = self.input_shape
        inp = _T(INPUT, shape)
        self.frame = {"input": inp, "in": inp, "in0": inp}
        top = Ctx(inp, {**self.params, "in": shape[0]}, "", getattr(layers, "line", None), (), self.file)
        try:
            out = self.seq(layers, top)
        except SpecError as e:
            site = getattr(e, "call_site", None)
            if site and (site[1], site[2]) != (e.file, e.line):
                e.message += f" (inside block '{site[0]}', called at {site[1]}:{site[2]})"
                e.args = (str(e),)
            raise
        if not self.nodes:
            raise self._err("the network has no layers", line=getattr(layers, "line", 1), path="",
                            fix="add at least one layer under `layers:`.")
        return Graph(name=self.name, input_shape=self.input_shape, nodes=self.nodes, output=out.id,
                     file=self.file, params=dict(self.params), meta=self.meta, groups=self.groups)

    # -- names and limits ------------------------------------------------------
    def _claim(self, path, line, file):
        """Claim a layer's path for a layer item (fresh, or replayed with its block call): refuse a duplicate."""
        if path in self.paths:
            raise self._err(f"two layers are named '{path}'", line=line, path=path, file=file,
                            fix="give one of them another `name:`.")
        self.paths.add(path)
        self.path_log.append(path)

    def _step(self, line, path, file):
        """Count one layer item visited; refuse more than MAX_STEPS (repeats of repeats of empty blocks)."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise self._err(f"expanding the network visits more than {MAX_STEPS:,} layers", line=line,
                            path=path, file=file, fix="check repeat counts (repeats multiply when blocks repeat blocks).")

    # -- structure --------------------------------------------------------------
    def seq(self, items, ctx: Ctx) -> _T:
        """Expand a list of layers entered by ``ctx.cur`` into the group ``ctx.path``; returns its output."""
        if items is None:
            return ctx.cur
        if self.depth >= MAX_NESTING:
            raise self._fail(ctx, f"layers nested more than {MAX_NESTING} deep",
                             "flatten the structure: fewer sequential/residual/parallel levels inside each other.",
                             line=getattr(items, "line", ctx.line))
        self.depth += 1
        try:
            return self._seq(items, ctx)
        finally:
            self.depth -= 1

    def _seq(self, items, ctx: Ctx) -> _T:
        if not isinstance(items, list):
            raise self._fail(ctx, f"expected a list of layers, got {type(items).__name__} {short_repr(items, 60)}",
                             "write layers as a YAML list: each layer on its own line starting with `- `.",
                             line=getattr(items, "line", ctx.line))
        lst = Ctx(ctx.cur, ctx.scope, ctx.path, ctx.line, ctx.stack, ctx.file, {}, f"{ctx.path}." if ctx.path else "")
        for idx, item in enumerate(items):
            lst.line = getattr(item, "line", None) or (items.item_line(idx) if hasattr(items, "item_line") else ctx.line)
            lst.cur = self.item(item, lst)
        return lst.cur

    def item(self, item, lst: Ctx) -> _T:
        """Expand one item of the list ``lst`` (modifiers included); returns the tensor it outputs."""
        if type(item) is LocDict and len(item) == 1:
            key = next(iter(item))
            if key not in MODIFIERS and key not in JOINS:
                return self._plain_item(item, key, lst)
        key = self._main_key(item, lst)
        value = item[key]
        # errors in the modifiers (repeat, if, first) name the layer as it would be named
        here = lst.prefix + (str(item["name"]) if "name" in item else f"{key}{lst.counts.get(key, 0)}")
        key_line = item.key_line(key) if hasattr(item, "key_line") else lst.line
        base = {**lst.scope, **_shape_names(lst.cur.shape)}
        repeated = "repeat" in item
        n = self._repeat(item, base, here, lst) if repeated else 1
        first = item.get("first")
        if first is not None and not isinstance(first, dict):
            raise self._fail(lst, "`first` must be a mapping of argument overrides for the first repetition",
                             "write e.g. `first: {s: 2}`.", path=here)
        step_line = item.key_line("repeat") if repeated else lst.line
        cur = lst.cur
        for i in range(n):
            self._step(step_line, here, lst.file)
            s = {**base, "i": i} if repeated else base
            if "if" in item:
                cond = item["if"]
                if not self._run(lambda: expr.evaluate(cond, s) if isinstance(cond, str) else cond, lst,
                                 line=item.key_line("if"), path=here):
                    continue
            nm = self._name(item, key, i, n, s, here, lst)
            path = lst.prefix + nm
            self._claim(path, item.key_line("name") if "name" in item else lst.line, lst.file)
            v = value
            if first is not None and i == 0:
                if value is not None and not isinstance(value, dict):
                    raise self._fail(lst, "`first` needs the layer's arguments to be a mapping",
                                     "write the layer as `- block: {arg: value}`.", path=path)
                v = {**(value or {}), **first}
            site = Ctx(cur, s, path, key_line, lst.stack, lst.file)
            owner = self._owner(item, key, lst.prefix, site) if "shares" in item else None
            cur = self._layer(key, v, item, site, lst.line, owner)
            if "name" in item:
                self.frame[nm] = cur
        return cur

    def _plain_item(self, item, key, lst: Ctx) -> _T:
        """The common case of :meth:`item`: one op or block, no modifiers (same checks, less work)."""
        counts, line, file = lst.counts, lst.line, lst.file
        k = counts.get(key, 0)  # as _next_name, inline: this is the path most items take
        counts[key] = k + 1
        path = f"{lst.prefix}{key}{k}"
        self.steps += 1  # _step and _claim, inline (the common path: a call each costs ~1% of an expansion)
        if self.steps > MAX_STEPS or path in self.paths:  # one of them raises, with its message
            self.steps -= 1
            self._step(line, path, file)
            self._claim(path, line, file)
        self.paths.add(path)
        self.path_log.append(path)
        cur = lst.cur
        shape = cur.shape
        s = {**lst.scope, "ch": shape[0], "h": shape[1] if len(shape) > 1 else 1, "w": shape[-1] if len(shape) > 1 else 1}
        return self.dispatch(key, item[key], Ctx(cur, s, path, item.key_line(key), lst.stack, file))

    def _main_key(self, item, lst: Ctx) -> str:
        """The one key of a list item that is not a modifier: the op, block or composite it calls."""
        if not isinstance(item, dict) or not item:
            hint = f"`- {item}: {{}}`" if isinstance(item, str) else "`- conv2d: {out_channels: 64, kernel_size: 3}`"
            raise self._fail(lst, f"each layer must be a mapping with one op or block name, got {short_repr(item, 60)}",
                             f"write it as {hint}.")
        keys = [k for k in item if k not in MODIFIERS]
        if len(keys) != 1:
            what = ", ".join(map(str, keys)) if keys else "none"
            raise self._fail(lst, f"a layer needs exactly one op or block name, found {what}",
                             "put each op on its own list item (`- conv2d: {...}` then `- relu: {}`); "
                             "allowed extra keys are name, if, repeat, first, from and shares.")
        return keys[0]

    def _repeat(self, item, scope, here, lst: Ctx) -> int:
        """The evaluated ``repeat:`` of an item: how many copies of the layer."""
        line = item.key_line("repeat")
        n = self._run(lambda: expr.evaluate(str(item["repeat"]), scope) if isinstance(item["repeat"], str)
                      else item["repeat"], lst, line=line, path=here)
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > MAX_REPEAT:
            raise self._fail(lst, f"repeat must be an integer from 0 to {MAX_REPEAT:,}, got {short_repr(n)}",
                             "repeat counts the copies of this layer; a real network repeats a block tens of times at most.",
                             line=line, path=here)
        return n

    def _name(self, item, key, i, n, scope, here, lst: Ctx) -> str:
        """Copy ``i`` of ``n`` of an item: its ``name:``, else the next unnamed key.

        A name is segments of letters, digits, _ or -, joined by dots (a path inside the enclosing list, as
        torch names submodules: ``layer1.0``), with ``{expr}`` parts evaluated in ``scope`` (``"{i + 1}"``
        numbers repetitions as torch does); a repeated name without ``{}`` parts is numbered ``name0``, ...
        """
        if "name" not in item:
            return _next_name(key, lst.counts)
        raw = str(item["name"])
        nm, templated = raw, "{" in raw
        if templated:
            parts = []
            for k, piece in enumerate(raw.replace("}", "{").split("{")):
                if k % 2 == 0:
                    parts.append(piece)
                    continue
                v = self._run(lambda: expr.evaluate(piece, scope), lst, line=item.key_line("name"), path=here)
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                parts.append(str(v))
            nm = "".join(parts)
        if not nm or raw.count("{") != raw.count("}") or not all(
                seg and seg.replace("_", "a").replace("-", "a").isalnum() for seg in nm.split(".")):
            raise self._fail(lst, f"layer name {short_repr(raw, 60)} must be letters, digits, _ or -, or a dotted path of "
                             "such names (`layer1.0`), with `{i}`-style expressions", "rename the layer.",
                             line=item.key_line("name"))
        return f"{nm}{i}" if n > 1 and not templated else nm

    def _owner(self, item, key, prefix, site: Ctx) -> Node:
        """The node a ``shares:`` names: the layer whose weights this one uses (a module called twice).

        The name is a layer's id relative to the list the item is in (``conv``, ``layer1.0.conv1`` inside a
        block call reads ``<call path>.layer1.0.conv1``), else relative to each enclosing level, out to the
        top level (where it is the node id itself), the nearest first. A node that itself shares names its owner.
        """
        line = item.key_line("shares")
        name = item["shares"]
        if key not in OPS:
            raise self._fail(site, f"`shares` works on a single op, not on '{key}'",
                             "put `shares:` on each layer with weights (`- {conv2d: {...}, shares: conv1}`).", line=line)
        if not isinstance(name, str) or not name:
            raise self._fail(site, f"`shares` must name an earlier layer, got {short_repr(name, 60)}",
                             "write `shares: conv1` with the id of the layer whose weights are reused.", line=line)
        tried, p = [], prefix
        while True:
            tried.append(p + name)
            if not p:
                break
            p = p[:-1].rpartition(".")[0]
            p = f"{p}." if p else ""
        for cand in tried:
            n = self._node_of(cand)
            if n is not None:
                return self._node_of(n.shares) if n.shares else n
        raise self._fail(site, f"`shares` names '{name}', which is no earlier layer (looked for "
                               f"{', '.join(repr(t) for t in tried)})",
                         "name the layer whose weights are reused by its id (a `name:` given before this layer).",
                         line=line)

    def _node_of(self, nid):
        """The node with id ``nid`` built so far, or None (an index kept up to date as nodes are added, so that
        a `repeat` of `shares:` items costs the nodes once, not once per item)."""
        by_id = self._by_id
        if len(by_id) < len(self.nodes):  # ids are unique (_register): the index holds exactly the first len()
            for n in self.nodes[len(by_id):]:
                by_id[n.id] = n
        return by_id.get(nid)

    def _layer(self, key, value, item, site: Ctx, item_line, owner=None) -> _T:
        """One copy of an item with modifiers, once named: its ``from:`` inputs, then what ``key`` calls
        (``owner``: the node a ``shares:`` names)."""
        srcs = None
        if "from" in item:
            srcs = self.sources(item["from"], site, item.key_line("from"))
            site.cur = srcs[0]  # the layer takes its (first) input from there, and ch/h/w describe it
            site.scope = {**site.scope, **_shape_names(site.cur.shape)}
        if key in JOINS or (key in OPS and OPS[key].arity != 1):  # joins, matmul, attention
            if owner is not None:
                raise self._fail(site, f"'{key}' has no weights to share", "drop `shares:`.", line=item_line)
            return self._standalone_join(key, value, srcs, site, item_line)
        if srcs is not None and len(srcs) > 1:
            if key not in self.blocks or owner is not None:
                raise self._fail(site, f"'{key}' takes one input but `from:` names {len(srcs)}",
                                 "give one name, or call a block with several inputs.", line=item_line)
            return self.block(key, value, site, srcs)
        if owner is not None:
            return self.primitive(key, value, site, owner=owner)
        return self.dispatch(key, value, site)

    def _standalone_join(self, key, value, srcs, site: Ctx, item_line) -> _T:
        """``- {add: {}, from: [a, b]}``: a join of named tensors as a layer of its own."""
        if srcs is None or len(srcs) < 2:
            raise self._fail(site, f"a standalone '{key}' needs `from:` with two or more tensor names",
                             f"write `- {{{key}: {{}}, from: [a, b]}}` with names given by `name:`, "
                             "or use `parallel:` / `residual:`.", line=item_line)
        if OPS[key].attrs and key != "concat":  # matmul, attention: arguments as for any op
            return self.primitive(key, value, site, inputs=srcs)
        if value not in (None, {}) and not (key == "concat" and isinstance(value, dict) and set(value) <= {"dim"}):
            raise self._fail(site, f"'{key}' takes no arguments here", f"write `- {{{key}: {{}}, from: [...]}}`.",
                             line=item_line)
        attrs = {}
        if key == "concat":
            dim_attr = OPS["concat"].attr_index["dim"]
            attrs = {"dim": self._run(lambda: _coerce(dim_attr, eval_value((value or {}).get("dim", 0), site.scope, "int")),
                                      site)}
        return self.add_node(site, key, attrs, srcs)

    def sources(self, names, site: Ctx, line) -> list:
        """The tensors a ``from:`` (at ``line``) names: ``_`` is the layer's own input."""
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names:
            raise self._fail(site, "`from` must be a tensor name or a list of names", "write `from: x` or `from: [a, b]`.",
                             line=line)
        out = []
        for n in names:
            if n == "_":
                out.append(site.cur)
            elif isinstance(n, str) and n in self.frame:
                out.append(self.frame[n])
            else:
                names = [k for k in self.frame if k not in ("in0",)]
                known = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "") if names else "none"
                raise self._fail(site, f"`from` names '{n}', which is not an earlier named layer here",
                                 f"give that layer `name: {n}` before using it; names visible here: {known}, _.",
                                 line=line)
        return out

    def dispatch(self, key, value, site: Ctx) -> _T:
        """Expand what ``key`` names (an op, a block or a composite) with arguments ``value``."""
        if key in OPS:
            return self.primitive(key, value, site)
        if key in self.blocks:
            return self.block(key, value, site)
        if key == "activation":
            if not isinstance(value, dict) or "fn" not in value or len(value) > 2:
                raise self._fail(site, "activation needs `fn:` naming the function",
                                 "write `- activation: {fn: relu}` or pass fn through a block argument.")
            fn = self._run(lambda: eval_value(value["fn"], site.scope, "str"), site)
            if fn in (None, "none", "identity", "linear"):
                fn = "identity"
            elif not isinstance(fn, str) or fn not in ACTIVATIONS:
                raise self._fail(site, f"unknown activation {short_repr(fn, 60)}",
                                 "use one of " + ", ".join(ACTIVATIONS) + " or none.")
            rest = {k: v for k, v in value.items() if k != "fn"}
            return self.primitive(fn, rest or None, site)
        if key == "sequential":
            if isinstance(value, dict) and set(value) != {"layers"}:
                raise self._fail(site, "sequential takes a list of layers (or `{layers: [...]}`)",
                                 "write `- sequential: [...]` with the layers as list items.")
            layers = value.get("layers") if isinstance(value, dict) else value
            return self.seq(layers, site)
        if key == "residual":
            if not isinstance(value, dict) or "layers" not in value or set(value) - {"layers", "shortcut"}:
                raise self._fail(site, "residual needs `layers:` (and optionally `shortcut:`)",
                                 "write `- residual: {layers: [...], shortcut: [...]}`.")
            body = self.seq(value["layers"], site)
            short = self.seq(value.get("shortcut"), site.group(f"{site.path}.shortcut"))
            return self.join("add", [body, short], site)
        if key == "parallel":
            return self.parallel(value, site)
        close = difflib.get_close_matches(str(key), list(OPS) + list(self.blocks) + list(COMPOSITES), n=3)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise self._fail(site, f"unknown op or block '{key}'",
                         f"{hint}run `archcost ops` for the op list, or define it under `blocks:`.")

    def parallel(self, value, site: Ctx) -> _T:
        if not isinstance(value, dict) or "branches" not in value or set(value) - {"branches", "join", "split"}:
            raise self._fail(site, "parallel needs `branches:` (a list of layer lists) and optional `join:` and `split:`",
                             "write `- parallel: {join: concat, branches: [[...], [...]]}`.")
        branches = value["branches"]
        join = value.get("join", "concat")
        if join not in JOINS:
            raise self._fail(site, f"join must be concat, add or multiply, got {join!r}",
                             "use `join: concat` (channels), `add` (residual) or `multiply` (gating).")
        if not isinstance(branches, list) or not branches:
            raise self._fail(site, "branches must be a non-empty list of layer lists",
                             "write each branch as a list; `[]` is the identity branch.")
        starts = [site.cur] * len(branches)
        if value.get("split") is not None:
            starts = self.split(value["split"], len(branches), site)
        outs = [self.seq(b, site.group(f"{site.path}.branch{k}", st)) for k, (b, st) in enumerate(zip(branches, starts))]
        if len(outs) == 1:
            return outs[0]
        return self.join(join, outs, site)

    def split(self, spec, n_branches, site: Ctx) -> list:
        c = site.cur.shape[0]
        sizes = self._run(lambda: eval_value(spec, site.scope), site)
        if isinstance(sizes, int) and not isinstance(sizes, bool):
            if sizes != n_branches or c % sizes:
                raise self._fail(site, f"split: {sizes} must equal the number of branches ({n_branches}) "
                                       f"and divide {c} channels", "give explicit sizes, e.g. `split: [ch // 2, ch // 2]`.")
            sizes = [c // sizes] * sizes
        if (not isinstance(sizes, list) or len(sizes) != n_branches or sum(sizes) != c
                or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in sizes)):
            raise self._fail(site, f"split sizes {short_repr(sizes, 60)} must be {n_branches} positive integers "
                                   f"adding up to {c} channels", "make the sizes sum to the input channels.")
        out, start = [], 0
        for k, size in enumerate(sizes):
            out.append(self.add_node(site, "slice", {"start": start, "length": size}, [site.cur], f"{site.path}.split{k}"))
            start += size
        return out

    def block(self, key, value, site: Ctx, inputs=None) -> _T:
        """A call of block ``key`` with arguments ``value`` (and ``inputs`` when called with ``from: [a, b]``)."""
        bdef, bfile = self.blocks[key]
        stack, cur = site.stack, site.cur
        if key in stack:
            chain = " → ".join((*stack[stack.index(key):], key))
            raise self._fail(site, f"cyclic block reference: {chain}",
                             "a block must not use itself, directly or through other blocks.")
        if len(stack) >= MAX_BLOCK_DEPTH:
            raise self._fail(site, f"blocks nested more than {MAX_BLOCK_DEPTH} deep", "flatten the block structure.")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self._fail(site, f"block '{key}' takes a mapping of arguments, got {short_repr(value, 60)}",
                             f"write `- {key}: {{arg: value}}`; its args are {', '.join(bdef.args) or 'none'}.")
        unknown = [a for a in value if a not in bdef.args]
        if unknown:
            raise self._fail(site, f"block '{key}' has no argument '{unknown[0]}'",
                             _comma_hint(unknown[0]) + f"its arguments are: {', '.join(bdef.args) or 'none'}.")
        inputs = inputs or [cur]
        self.groups[site.path] = key
        self.group_log.append(site.path)
        bscope = {**self.params, "in": cur.shape[0], **{f"in{k}": t.shape[0] for k, t in enumerate(inputs)}}
        for arg, decl in bdef.args.items():
            if arg in value:
                kind = "str" if decl == "str" or (isinstance(decl, str) and decl not in TYPE_NAMES) else "arg"
                v = self._run(lambda: eval_value(value[arg], site.scope, kind), site)
                want = TYPE_NAMES.get(decl) if isinstance(decl, str) else None
                if want is int and isinstance(v, float) and v.is_integer():
                    v = int(v)
                if want is float and isinstance(v, int) and not isinstance(v, bool):
                    v = float(v)
                if want is not None and not isinstance(v, want):
                    raise self._fail(site, f"argument '{arg}' of block '{key}' must be {decl}, got {v!r}",
                                     f"pass a {decl} value.")
            elif isinstance(decl, str) and decl in TYPE_NAMES:
                raise self._fail(site, f"block '{key}' needs argument '{arg}' ({decl})", f"write `- {key}: {{{arg}: ...}}`.")
            else:
                raw_args = getattr(getattr(bdef, "_raw", None), "get", lambda _: None)("args")
                decl_line = raw_args.key_line(arg) if hasattr(raw_args, "key_line") else None
                v = self._run(lambda: eval_value(decl, bscope, "arg"), site, line=decl_line or site.line, file=bfile)
            bscope[arg] = v
        out = self._block_body(key, bdef, bfile, bscope, inputs, site)
        if bdef.residual == "auto" and out.shape == cur.shape and out is not cur:
            return self.join("add", [out, cur], site)
        return out

    def _block_body(self, key, bdef, bfile, bscope, inputs, site: Ctx) -> _T:
        """Expand a block's layers, or replay an identical earlier call of it.

        A block body is a pure function of its arguments, its input shapes and the spec's params
        (constant within one expansion): repeated stages (MobileNet's, ResNet's blocks) are expanded
        once and their nodes re-issued under the new call's path.  The replay runs the same name,
        size and step checks as a fresh expansion.
        """
        memo_key = _memo_key(key, bdef, bscope, inputs, len(site.stack), self.depth, bfile) if self.memoize else None
        hit = self.memo.get(memo_key) if memo_key is not None else None
        if hit is not None and self.steps + hit.steps <= MAX_STEPS:  # else expand, to name the line at fault
            return self._replay(hit, inputs, site)
        n0, p0, s0, g0 = len(self.nodes), len(self.path_log), self.steps, len(self.group_log)
        outer = self.frame
        self.frame = {"in": site.cur, **{f"in{k}": t for k, t in enumerate(inputs)}}
        try:
            out = self.seq(bdef.layers, Ctx(site.cur, bscope, site.path, site.line, (*site.stack, key), bfile))
        except SpecError as e:
            # an error inside a block from another file (a library): also name the call, where the arguments came from
            if e.file != site.file and getattr(e, "call_site", None) is None:
                e.call_site = (key, site.file, site.line)
            raise
        finally:
            self.frame = outer
        if memo_key is not None:
            ext = [t.id for t in inputs]
            new = self.nodes[n0:]
            internal = {n.id for n in new}
            out_ref = ("node", out.id) if out.id in internal else next(
                (("input", k) for k, t in enumerate(inputs) if t is out), None)
            # a body whose layers share weights outside it is expanded anew at every call (its `shares:` reads there)
            if out_ref is not None and len(set(ext)) == len(ext) and all(
                    n.shares is None or n.shares in internal for n in new):
                groups = [(g, self.groups[g]) for g in self.group_log[g0:]]
                self.memo[memo_key] = _Expansion(site.path, new, self.path_log[p0:], self.steps - s0, ext, out_ref,
                                                 out.shape, groups)
        return out

    def _replay(self, hit: _Expansion, inputs, site: Ctx) -> _T:
        path, cut = site.path, len(hit.path)
        self.steps += hit.steps
        for p in hit.paths:
            self._claim(path + p[cut:], site.line, site.file)
        for g, kind in hit.groups:  # the block calls nested in the body
            self.groups[path + g[cut:]] = kind
            self.group_log.append(path + g[cut:])
        ext_map = {e: t.id for e, t in zip(hit.ext, inputs)}
        for n in hit.nodes:
            nid = path + n.id[cut:]
            ins = tuple(ext_map[i] if i in ext_map else path + i[cut:] for i in n.inputs)
            self._register(nid, n.line, n.file)
            shares = path + n.shares[cut:] if n.shares else None  # inside the body (else not memoised)
            self.nodes.append(_node(Node, (nid, n.op, n.attrs, ins, n.in_shapes, n.out_shape, n.line, n.file, shares)))
        if hit.out_ref[0] == "input":
            return inputs[hit.out_ref[1]]
        return _T(path + hit.out_ref[1][cut:], hit.out_shape)

    # -- nodes ------------------------------------------------------------------
    def join(self, op, outs, site: Ctx) -> _T:
        if len(outs) == 1:
            return outs[0]
        return self.add_node(site, op, {"dim": 0} if op == "concat" else {}, outs, f"{site.path}.{op}")

    def primitive(self, opname, value, site: Ctx, inputs=None, owner=None) -> _T:
        op = OPS[opname]
        line = site.line
        if op.arity != 1 and inputs is None:
            raise self._fail(site, f"'{opname}' joins several tensors and cannot stand alone in a list of layers",
                             f"use `- parallel: {{join: {opname}, branches: [...]}}` or `- residual: {{...}}`.")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self._fail(site, f"the arguments of '{opname}' must be a mapping, got {short_repr(value, 60)}",
                             f"write `- {opname}: {{{', '.join(a.name + ': ...' for a in op.attrs[:2])}}}`.")
        attrs = {}
        index = op.attr_index
        k = None
        try:
            for k, v in value.items():
                attr = index.get(k)
                if attr is None:
                    close = difflib.get_close_matches(str(k), list(index), n=1)
                    hint = f"did you mean '{close[0]}'? " if close else ""
                    if k in _INFERRED:  # torch's constructor takes them; a spec never does
                        hint = f"drop `{k}`: {_INFERRED[k]} inferred from the previous layer's output; "
                    raise self._fail(site, f"'{opname}' has no argument '{k}'",
                                     f"{_comma_hint(k)}{hint}its arguments are: {', '.join(index) or 'none'}.",
                                     line=_key_line(value, k, line))
                attrs[k] = _coerce(attr, eval_value(v, site.scope, attr.kind))
        except ShapeError as e:
            raise self._fail(site, e.message, e.fix, line=_key_line(value, k, line)) from None
        except SpecError as e:
            raise e.located(file=site.file, line=_key_line(value, k, line), path=site.path or None)
        if len(attrs) != len(op.attrs):
            for attr in op.attrs:
                if attr.name not in attrs:
                    if attr.default is REQUIRED:
                        raise self._fail(site, f"'{opname}' needs argument '{attr.name}'"
                                         + (f" ({attr.doc})" if attr.doc else ""), f"add `{attr.name}: ...` to the layer.")
                    attrs[attr.name] = attr.default
        return self.add_node(site, opname, attrs, inputs or [site.cur], owner=owner)

    def add_node(self, site: Ctx, opname, attrs, ins, path=None, owner=None) -> _T:
        """Add one node (``path``, default the layer's own) with its shape checked; located at ``site``
        (``owner``: the node whose weights it uses, checked to be the same layer)."""
        path = site.path if path is None else path
        line, file = site.line, site.file
        op = OPS[opname]
        in_shapes = [t.shape for t in ins]
        if op.in_rank and len(in_shapes[0]) not in op.in_rank:
            want = " or ".join(str(r) for r in op.in_rank)
            if ins[0].id == INPUT and len(in_shapes[0]) < min(op.in_rank):
                # the first layer wants more dimensions than the input has: the input is what is wrong
                # (more dimensions, as a feature map into linear, keeps the flatten hint below)
                err = SpecError(f"the input shape {list(in_shapes[0])} has {len(in_shapes[0])} dimensions (without "
                                f"batch), but the first layer, '{opname}' ({path}), takes {want}",
                                fix="give a channels-first shape the first layer takes, e.g. 3,224,224 for a 2d "
                                    "convolution.")
                err.input_blame = True  # language.build_graph points at --input or `input:`
                raise err
            raise self._err(f"'{opname}' expects an input with {want} dimensions (without batch), "
                            f"got shape {list(in_shapes[0])}", line=line, path=path, file=file,
                            fix="flatten before linear layers, and use the 1d/2d op matching the input.")

        try:
            a = op.prepare(attrs, in_shapes) if op.prepare else attrs
            out = tuple(op.shape(a, in_shapes))
        except ShapeError as e:
            raise self._err(e.message, line=line, path=path, fix=e.fix, file=file) from None
        except SpecError as e:
            raise e.located(file=file, line=line, path=path or None)
        if out and min(out) < 1:
            raise self._err(f"output shape {list(out)} has an empty dimension", line=line, path=path, file=file,
                            fix="check strides, kernel sizes and padding against the input size.")
        if prod(out) > MAX_ELEMENTS:
            raise self._err(f"output shape {list(out)} has {prod(out):.3g} elements, beyond any machine's memory",
                            line=line, path=path, file=file, fix="check channel counts and multipliers.")
        if owner is not None:
            self._check_shared(owner, opname, a, in_shapes, site)
        self._register(path, line, file)
        self.nodes.append(_node(Node, (path, opname, FrozenDict(a), tuple(t.id for t in ins), tuple(in_shapes), out,
                                       line, file, owner.id if owner is not None else None)))
        return _T(path, out)

    def _check_shared(self, owner: Node, opname, a, in_shapes, site: Ctx):
        """A layer that ``shares:`` ``owner``'s weights must be the same layer: op, arguments, weights."""
        op = OPS[opname]
        where = f"`shares: {owner.id}`"
        if owner.op != opname:
            raise self._fail(site, f"{where}: '{owner.id}' is a {owner.op}, this layer a {opname}; only the same "
                                   "layer can share weights", "share with a layer of the same op, or drop `shares:`.")
        diff = [k for k in dict.fromkeys([*a, *owner.attrs]) if a.get(k) != owner.attrs.get(k)]
        if diff:
            k = diff[0]
            raise self._fail(site, f"{where}: its {k} is {short_repr(owner.attrs.get(k), 30)}, this layer's "
                                   f"{short_repr(a.get(k), 30)}; a layer that shares weights has the same arguments",
                             f"give this layer {k}: {short_repr(owner.attrs.get(k), 30)}, or drop `shares:`.")
        mine, theirs = op.params(a, in_shapes), OPS[owner.op].params(owner.attrs, list(owner.in_shapes))
        if mine != theirs:
            raise self._fail(site, f"{where}: '{owner.id}' has {theirs.weight + theirs.bias:,} params, this layer "
                                   f"would have {mine.weight + mine.bias:,} (its input has "
                                   f"{list(in_shapes[0])}, '{owner.id}''s {list(owner.in_shapes[0])})",
                             "a shared layer's weights fit one input size: feed it the same channels/features.")
        if not (mine.weight or mine.bias or mine.buffers):
            raise self._fail(site, f"{where}: a {opname} has no weights to share", "drop `shares:`.")

    def _register(self, path, line, file):
        """Claim a node id: refuse duplicates, a name used for a layer and a group, too many nodes."""
        if path in self.ids:
            raise self._err(f"two layers are named '{path}'", line=line, path=path, file=file,
                            fix="give one of them another `name:`.")
        parent = path.rpartition(".")[0]
        groups = ()
        if parent and parent not in self.prefixes:  # a new group: none of its levels may be a layer
            parts = path.split(".")
            groups = [".".join(parts[:k]) for k in range(1, len(parts))]
        if path in self.prefixes or any(g in self.ids for g in groups):
            raise self._err(f"the name '{path}' is used both for a layer and for a group of layers", line=line,
                            path=path, file=file, fix="rename one of them with `name:`.")
        if len(self.nodes) >= MAX_NODES:
            raise self._err(f"the network has more than {MAX_NODES:,} layers", line=line, path=path, file=file,
                            fix="check repeat counts; the largest zoo model has about 2,000.")
        self.ids.add(path)
        if groups:
            self.prefixes.update(groups)


def _key_line(value, key, line):
    """The line of ``key`` in a YAML mapping, else ``line``."""
    kl = getattr(value, "key_line", None)
    return kl(key) if kl is not None and key is not None else line


def _freeze(v):
    """A hashable stand-in for an evaluated argument (its type included: True, 1 and 1.0 differ here)."""
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(_freeze(x) for x in v))
    if isinstance(v, dict):
        return ("dict", tuple((k, _freeze(x)) for k, x in v.items()))
    hash(v)
    return (type(v).__name__, v)


def _memo_key(key, bdef, bscope, inputs, stack_depth, nesting, bfile):
    try:
        return (key, bfile, stack_depth, nesting, tuple(t.shape for t in inputs),
                tuple((a, _freeze(bscope[a])) for a in bdef.args))
    except TypeError:  # an argument that cannot be hashed: expand this call afresh
        return None


def _comma_hint(key) -> str:
    """A fix hint when an argument name is the tail of an expression that YAML split at a comma."""
    if isinstance(key, str) and (")" in key or "(" in key):
        return ("this looks like the end of an expression that YAML cut at a comma inside `{...}`: quote the "
                "whole expression, e.g. `{out: \"make_divisible(32 * width, 8)\"}`. ")
    return ""
