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
from math import prod

from ..errors import ShapeError, SpecError, short_repr
from ..ir import INPUT, Graph, Node
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
MODIFIERS = ("name", "if", "repeat", "first", "from")
COMPOSITES = ("sequential", "residual", "parallel", "activation")
TYPE_NAMES = {"int": int, "float": float, "bool": bool, "str": str}


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


# arguments torch's constructors take and a spec never does: the shape before the layer says them
_INFERRED = {"in_channels": "input channels are", "in_features": "input features are",
             "num_features": "the number of features is", "input_size": "the input size is"}


class Expander:
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
        self.depth = 0

    # -- errors -----------------------------------------------------------------
    def _err(self, msg, *, line, path, fix=None, file=None):
        return SpecError(msg, file=file or self.file, line=line, path=path or None, fix=fix)

    def _run(self, fn, *, line, path, file):
        """Call fn(); turn ShapeError/SpecError raised inside into a located SpecError."""
        try:
            return fn()
        except ShapeError as e:
            raise self._err(e.message, line=line, path=path, fix=e.fix, file=file) from None
        except SpecError as e:
            raise e.located(file=file, line=line, path=path or None)

    # -- entry ------------------------------------------------------------------
    def build(self, layers) -> Graph:
        shape = self.input_shape
        scope = {**self.params, "in": shape[0]}
        inp = _T(INPUT, shape)
        self.frame = {"input": inp, "in": inp, "in0": inp}
        try:
            out = self.seq(layers, inp, scope, "", (), self.file, getattr(layers, "line", None))
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

    # -- structure --------------------------------------------------------------
    def seq(self, items, cur, scope, prefix, stack, file, line):
        if items is None:
            return cur
        if self.depth >= MAX_NESTING:
            raise self._err(f"layers nested more than {MAX_NESTING} deep", line=getattr(items, "line", line),
                            path=prefix.rstrip("."), file=file,
                            fix="flatten the structure: fewer sequential/residual/parallel levels inside each other.")
        self.depth += 1
        try:
            return self._seq(items, cur, scope, prefix, stack, file, line)
        finally:
            self.depth -= 1

    def _seq(self, items, cur, scope, prefix, stack, file, line):
        if not isinstance(items, list):
            raise self._err(f"expected a list of layers, got {type(items).__name__} {short_repr(items, 60)}",
                            line=getattr(items, "line", line), path=prefix.rstrip("."), file=file,
                            fix="write layers as a YAML list: each layer on its own line starting with `- `.")
        counts: dict = {}
        for idx, item in enumerate(items):
            il = getattr(item, "line", None) or (items.item_line(idx) if hasattr(items, "item_line") else line)
            cur = self.item(item, cur, scope, prefix, counts, il, stack, file)
        return cur

    def item(self, item, cur, scope, prefix, counts, line, stack, file):
        if type(item) is LocDict and len(item) == 1:
            key = next(iter(item))
            if key not in MODIFIERS and key not in ("add", "concat", "multiply"):
                return self._plain_item(item, key, cur, scope, prefix, counts, line, stack, file)
        here = prefix.rstrip(".")
        parent = here
        if not isinstance(item, dict) or not item:
            hint = f"`- {item}: {{}}`" if isinstance(item, str) else "`- conv2d: {out_channels: 64, kernel_size: 3}`"
            raise self._err(f"each layer must be a mapping with one op or block name, got {short_repr(item, 60)}",
                            line=line, path=here, file=file, fix=f"write it as {hint}.")
        keys = [k for k in item if k not in MODIFIERS]
        if len(keys) != 1:
            what = ", ".join(map(str, keys)) if keys else "none"
            raise self._err(f"a layer needs exactly one op or block name, found {what}",
                            line=line, path=here, file=file,
                            fix="put each op on its own list item (`- conv2d: {...}` then `- relu: {}`); "
                                "allowed extra keys are name, if, repeat and first.")
        key = keys[0]
        value = item[key]
        # errors in the modifiers (repeat, if, first) name the layer as it would be named
        here = prefix + (str(item["name"]) if "name" in item else f"{key}{counts.get(key, 0)}")
        key_line = item.key_line(key) if hasattr(item, "key_line") else line
        base = {**scope, **_shape_names(cur.shape)}
        n, repeated = 1, "repeat" in item
        if repeated:
            n = self._run(lambda: expr.evaluate(str(item["repeat"]), base) if isinstance(item["repeat"], str)
                          else item["repeat"], line=item.key_line("repeat"), path=here, file=file)
            if isinstance(n, float) and n.is_integer():
                n = int(n)
            if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n > MAX_REPEAT:
                raise self._err(f"repeat must be an integer from 0 to {MAX_REPEAT:,}, got {short_repr(n)}",
                                line=item.key_line("repeat"), path=here, file=file,
                                fix="repeat counts the copies of this layer; a real network repeats a block tens of times at most.")
        first = item.get("first")
        if first is not None and not isinstance(first, dict):
            raise self._err("`first` must be a mapping of argument overrides for the first repetition",
                            line=line, path=here, file=file, fix="write e.g. `first: {s: 2}`.")
        for i in range(n):
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise self._err(f"expanding the network visits more than {MAX_STEPS:,} layers",
                                line=item.key_line("repeat") if repeated else line, path=here, file=file,
                                fix="check repeat counts (repeats multiply when blocks repeat blocks).")
            s = {**base, "i": i} if repeated else base
            if "if" in item:
                cond = item["if"]
                cond = self._run(lambda: expr.evaluate(cond, s) if isinstance(cond, str) else cond,
                                 line=item.key_line("if"), path=here, file=file)
                if not cond:
                    continue
            if "name" in item:
                nm = str(item["name"])
                if not nm or "." in nm or not nm.replace("_", "a").replace("-", "a").isalnum():
                    raise self._err(f"layer name {short_repr(nm, 60)} must be letters, digits, _ or - (no dots)",
                                    line=item.key_line("name"), path=parent, file=file, fix="rename the layer.")
                nm = f"{nm}{i}" if repeated and n > 1 else nm
            else:
                k = counts.get(key, 0)
                counts[key] = k + 1
                nm = f"{key}{k}"
            path = prefix + nm
            if path in self.paths:
                raise self._err(f"two layers are named '{path}'", line=item.key_line("name") if "name" in item else line,
                                path=path, file=file, fix="give one of them another `name:`.")
            self.paths.add(path)
            self.path_log.append(path)
            v = value
            if first is not None and i == 0:
                if value is not None and not isinstance(value, dict):
                    raise self._err("`first` needs the layer's arguments to be a mapping", line=line, path=path,
                                    file=file, fix="write the layer as `- block: {arg: value}`.")
                v = {**(value or {}), **first}
            srcs = None
            if "from" in item:
                srcs = self.sources(item["from"], cur, item.key_line("from"), path, file)
                cur = srcs[0]
                s = {**s, **_shape_names(cur.shape)}
            if key in ("add", "concat", "multiply"):
                if srcs is None or len(srcs) < 2:
                    raise self._err(f"a standalone '{key}' needs `from:` with two or more tensor names",
                                    line=line, path=path, file=file,
                                    fix=f"write `- {{{key}: {{}}, from: [a, b]}}` with names given by `name:`, "
                                        "or use `parallel:` / `residual:`.")
                if value not in (None, {}) and not (key == "concat" and isinstance(value, dict) and set(value) <= {"dim"}):
                    raise self._err(f"'{key}' takes no arguments here", line=line, path=path, file=file,
                                    fix=f"write `- {{{key}: {{}}, from: [...]}}`.")
                attrs = {}
                if key == "concat":
                    dim_attr = OPS["concat"].attr_index["dim"]
                    attrs = {"dim": self._run(lambda: _coerce(dim_attr, eval_value((value or {}).get("dim", 0), s, "int")),
                                              line=key_line, path=path, file=file)}
                cur = self.add_node(path, key, attrs, srcs, key_line, file)
            elif srcs is not None and len(srcs) > 1:
                if key not in self.blocks:
                    raise self._err(f"'{key}' takes one input but `from:` names {len(srcs)}", line=line, path=path,
                                    file=file, fix="give one name, or call a block with several inputs.")
                cur = self.block(key, v, cur, s, path, key_line, stack, file, srcs)
            else:
                cur = self.dispatch(key, v, cur, s, path, key_line, stack, file)
            if "name" in item:
                self.frame[nm] = cur
        return cur

    def _plain_item(self, item, key, cur, scope, prefix, counts, line, stack, file):
        """The common case of :meth:`item`: one op or block, no modifiers (same checks, less work)."""
        self.steps += 1
        k = counts.get(key, 0)
        path = f"{prefix}{key}{k}"
        if self.steps > MAX_STEPS:
            raise self._err(f"expanding the network visits more than {MAX_STEPS:,} layers", line=line,
                            path=path, file=file,
                            fix="check repeat counts (repeats multiply when blocks repeat blocks).")
        counts[key] = k + 1
        if path in self.paths:
            raise self._err(f"two layers are named '{path}'", line=line, path=path, file=file,
                            fix="give one of them another `name:`.")
        key_line = item.key_line(key)
        self.paths.add(path)
        self.path_log.append(path)
        shape = cur.shape
        s = {**scope, "ch": shape[0], "h": shape[1] if len(shape) > 1 else 1, "w": shape[-1] if len(shape) > 1 else 1}
        return self.dispatch(key, item[key], cur, s, path, key_line, stack, file)

    def sources(self, names, cur, line, path, file):
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names:
            raise self._err("`from` must be a tensor name or a list of names", line=line, path=path, file=file,
                            fix="write `from: x` or `from: [a, b]`.")
        out = []
        for n in names:
            if n == "_":
                out.append(cur)
            elif isinstance(n, str) and n in self.frame:
                out.append(self.frame[n])
            else:
                names = [k for k in self.frame if k not in ("in0",)]
                known = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "") if names else "none"
                raise self._err(f"`from` names '{n}', which is not an earlier named layer here", line=line,
                                path=path, file=file,
                                fix=f"give that layer `name: {n}` before using it; names visible here: {known}, _.")
        return out

    def dispatch(self, key, value, cur, scope, path, line, stack, file):
        if key in OPS:
            return self.primitive(key, value, cur, scope, path, line, file)
        if key in self.blocks:
            return self.block(key, value, cur, scope, path, line, stack, file)
        if key == "activation":
            if not isinstance(value, dict) or "fn" not in value or len(value) > 2:
                raise self._err("activation needs `fn:` naming the function", line=line, path=path, file=file,
                                fix="write `- activation: {fn: relu}` or pass fn through a block argument.")
            fn = self._run(lambda: eval_value(value["fn"], scope, "str"), line=line, path=path, file=file)
            if fn in (None, "none", "identity", "linear"):
                fn = "identity"
            elif not isinstance(fn, str) or fn not in ACTIVATIONS:
                raise self._err(f"unknown activation {short_repr(fn, 60)}", line=line, path=path, file=file,
                                fix="use one of " + ", ".join(ACTIVATIONS) + " or none.")
            rest = {k: v for k, v in value.items() if k != "fn"}
            return self.primitive(fn, rest or None, cur, scope, path, line, file)
        if key == "sequential":
            if isinstance(value, dict) and set(value) != {"layers"}:
                raise self._err("sequential takes a list of layers (or `{layers: [...]}`)", line=line, path=path,
                                file=file, fix="write `- sequential: [...]` with the layers as list items.")
            layers = value.get("layers") if isinstance(value, dict) else value
            return self.seq(layers, cur, scope, path + ".", stack, file, line)
        if key == "residual":
            if not isinstance(value, dict) or "layers" not in value or set(value) - {"layers", "shortcut"}:
                raise self._err("residual needs `layers:` (and optionally `shortcut:`)", line=line, path=path,
                                file=file, fix="write `- residual: {layers: [...], shortcut: [...]}`.")
            body = self.seq(value["layers"], cur, scope, path + ".", stack, file, line)
            short = self.seq(value.get("shortcut"), cur, scope, path + ".shortcut.", stack, file, line)
            return self.join("add", [body, short], path, line, file)
        if key == "parallel":
            return self.parallel(value, cur, scope, path, line, stack, file)
        close = difflib.get_close_matches(str(key), list(OPS) + list(self.blocks) + list(COMPOSITES), n=3)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise self._err(f"unknown op or block '{key}'", line=line, path=path, file=file,
                        fix=f"{hint}run `archcost ops` for the op list, or define it under `blocks:`.")

    def parallel(self, value, cur, scope, path, line, stack, file):
        if not isinstance(value, dict) or "branches" not in value or set(value) - {"branches", "join", "split"}:
            raise self._err("parallel needs `branches:` (a list of layer lists) and optional `join:` and `split:`",
                            line=line, path=path, file=file,
                            fix="write `- parallel: {join: concat, branches: [[...], [...]]}`.")
        branches = value["branches"]
        join = value.get("join", "concat")
        if join not in ("concat", "add", "multiply"):
            raise self._err(f"join must be concat, add or multiply, got {join!r}", line=line, path=path,
                            file=file, fix="use `join: concat` (channels), `add` (residual) or `multiply` (gating).")
        if not isinstance(branches, list) or not branches:
            raise self._err("branches must be a non-empty list of layer lists", line=line, path=path, file=file,
                            fix="write each branch as a list; `[]` is the identity branch.")
        starts = [cur] * len(branches)
        if value.get("split") is not None:
            starts = self.split(value["split"], cur, len(branches), scope, path, line, file)
        outs = [self.seq(b, st, scope, f"{path}.branch{k}.", stack, file, line)
                for k, (b, st) in enumerate(zip(branches, starts))]
        if len(outs) == 1:
            return outs[0]
        return self.join(join, outs, path, line, file)

    def split(self, spec, cur, n_branches, scope, path, line, file):
        c = cur.shape[0]
        sizes = self._run(lambda: eval_value(spec, scope), line=line, path=path, file=file)
        if isinstance(sizes, int) and not isinstance(sizes, bool):
            if sizes != n_branches or c % sizes:
                raise self._err(f"split: {sizes} must equal the number of branches ({n_branches}) and divide {c} channels",
                                line=line, path=path, file=file, fix="give explicit sizes, e.g. `split: [ch // 2, ch // 2]`.")
            sizes = [c // sizes] * sizes
        if (not isinstance(sizes, list) or len(sizes) != n_branches or sum(sizes) != c
                or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in sizes)):
            raise self._err(f"split sizes {short_repr(sizes, 60)} must be {n_branches} positive integers adding up to {c} channels",
                            line=line, path=path, file=file, fix="make the sizes sum to the input channels.")
        out, start = [], 0
        for k, size in enumerate(sizes):
            out.append(self.add_node(f"{path}.split{k}", "slice", {"start": start, "length": size}, [cur], line, file))
            start += size
        return out

    def block(self, key, value, cur, scope, path, line, stack, file, inputs=None):
        bdef, bfile = self.blocks[key]
        if key in stack:
            chain = " → ".join((*stack[stack.index(key):], key))
            raise self._err(f"cyclic block reference: {chain}", line=line, path=path, file=file,
                            fix="a block must not use itself, directly or through other blocks.")
        if len(stack) >= MAX_BLOCK_DEPTH:
            raise self._err(f"blocks nested more than {MAX_BLOCK_DEPTH} deep", line=line, path=path, file=file,
                            fix="flatten the block structure.")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self._err(f"block '{key}' takes a mapping of arguments, got {short_repr(value, 60)}", line=line, path=path,
                            file=file, fix=f"write `- {key}: {{arg: value}}`; its args are "
                                           f"{', '.join(bdef.args) or 'none'}.")
        unknown = [a for a in value if a not in bdef.args]
        if unknown:
            raise self._err(f"block '{key}' has no argument '{unknown[0]}'", line=line, path=path, file=file,
                            fix=_comma_hint(unknown[0]) + f"its arguments are: {', '.join(bdef.args) or 'none'}.")
        inputs = inputs or [cur]
        self.groups[path] = key
        self.group_log.append(path)
        bscope = {**self.params, "in": cur.shape[0], **{f"in{k}": t.shape[0] for k, t in enumerate(inputs)}}
        for arg, decl in bdef.args.items():
            if arg in value:
                kind = "str" if decl == "str" or (isinstance(decl, str) and decl not in TYPE_NAMES) else "arg"
                v = self._run(lambda: eval_value(value[arg], scope, kind), line=line, path=path, file=file)
                want = TYPE_NAMES.get(decl) if isinstance(decl, str) else None
                if want is int and isinstance(v, float) and v.is_integer():
                    v = int(v)
                if want is float and isinstance(v, int) and not isinstance(v, bool):
                    v = float(v)
                if want is not None and not isinstance(v, want):
                    raise self._err(f"argument '{arg}' of block '{key}' must be {decl}, got {v!r}", line=line,
                                    path=path, file=file, fix=f"pass a {decl} value.")
            elif isinstance(decl, str) and decl in TYPE_NAMES:
                raise self._err(f"block '{key}' needs argument '{arg}' ({decl})", line=line, path=path, file=file,
                                fix=f"write `- {key}: {{{arg}: ...}}`.")
            else:
                raw_args = getattr(getattr(bdef, "_raw", None), "get", lambda _: None)("args")
                decl_line = raw_args.key_line(arg) if hasattr(raw_args, "key_line") else None
                v = self._run(lambda: eval_value(decl, bscope, "arg"), line=decl_line or line, path=path, file=bfile)
            bscope[arg] = v
        out = self._block_body(key, bdef, bfile, bscope, cur, inputs, path, line, stack, file)
        if bdef.residual == "auto" and out.shape == cur.shape and out is not cur:
            return self.join("add", [out, cur], path, line, file)
        return out

    def _block_body(self, key, bdef, bfile, bscope, cur, inputs, path, line, stack, file):
        """Expand a block's layers, or replay an identical earlier call of it.

        A block body is a pure function of its arguments, its input shapes and the spec's params
        (constant within one expansion): repeated stages (MobileNet's, ResNet's blocks) are expanded
        once and their nodes re-issued under the new call's path.  The replay runs the same name,
        size and step checks as a fresh expansion.
        """
        memo_key = _memo_key(key, bdef, bscope, inputs, len(stack), self.depth, bfile) if self.memoize else None
        hit = self.memo.get(memo_key) if memo_key is not None else None
        if hit is not None and self.steps + hit[3] <= MAX_STEPS:  # else expand, to name the line at fault
            return self._replay(hit, path, inputs, line, file)
        n0, p0, s0, g0 = len(self.nodes), len(self.path_log), self.steps, len(self.group_log)
        outer = self.frame
        self.frame = {"in": cur, **{f"in{k}": t for k, t in enumerate(inputs)}}
        try:
            out = self.seq(bdef.layers, cur, bscope, path + ".", (*stack, key), bfile, line)
        except SpecError as e:
            # an error inside a block from another file (a library): also name the call, where the arguments came from
            if e.file != file and getattr(e, "call_site", None) is None:
                e.call_site = (key, file, line)
            raise
        finally:
            self.frame = outer
        if memo_key is not None:
            ext = [t.id for t in inputs]
            new = self.nodes[n0:]
            internal = {n.id for n in new}
            out_ref = ("node", out.id) if out.id in internal else next(
                (("input", k) for k, t in enumerate(inputs) if t is out), None)
            if out_ref is not None and len(set(ext)) == len(ext):
                groups = [(g, self.groups[g]) for g in self.group_log[g0:]]
                self.memo[memo_key] = (path, new, self.path_log[p0:], self.steps - s0, ext, out_ref, out.shape, groups)
        return out

    def _replay(self, hit, path, inputs, line, file):
        old, nodes, paths, steps, ext, out_ref, out_shape, groups = hit
        cut = len(old)
        self.steps += steps
        for p in paths:
            q = path + p[cut:]
            if q in self.paths:
                raise self._err(f"two layers are named '{q}'", line=line, path=q, file=file,
                                fix="give one of them another `name:`.")
            self.paths.add(q)
            self.path_log.append(q)
        for g, kind in groups:  # the block calls nested in the body
            self.groups[path + g[cut:]] = kind
            self.group_log.append(path + g[cut:])
        ext_map = {e: t.id for e, t in zip(ext, inputs)}
        for n in nodes:
            nid = path + n.id[cut:]
            ins = tuple(ext_map[i] if i in ext_map else path + i[cut:] for i in n.inputs)
            self._register(nid, n.line, n.file)
            self.nodes.append(Node(nid, n.op, n.attrs, ins, n.in_shapes, n.out_shape, n.line, n.file))
        if out_ref[0] == "input":
            return inputs[out_ref[1]]
        return _T(path + out_ref[1][cut:], out_shape)

    # -- nodes ------------------------------------------------------------------
    def join(self, op, outs, path, line, file):
        if len(outs) == 1:
            return outs[0]
        return self.add_node(f"{path}.{op}", op, {"dim": 0} if op == "concat" else {}, outs, line, file)

    def primitive(self, opname, value, cur, scope, path, line, file):
        op = OPS[opname]
        if op.arity != 1:
            raise self._err(f"'{opname}' joins several tensors and cannot stand alone in a list of layers",
                            line=line, path=path, file=file,
                            fix=f"use `- parallel: {{join: {opname}, branches: [...]}}` or `- residual: {{...}}`.")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self._err(f"the arguments of '{opname}' must be a mapping, got {short_repr(value, 60)}", line=line,
                            path=path, file=file,
                            fix=f"write `- {opname}: {{{', '.join(a.name + ': ...' for a in op.attrs[:2])}}}`.")
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
                    raise self._err(f"'{opname}' has no argument '{k}'", line=_key_line(value, k, line), path=path,
                                    file=file,
                                    fix=f"{_comma_hint(k)}{hint}its arguments are: {', '.join(index) or 'none'}.")
                attrs[k] = _coerce(attr, eval_value(v, scope, attr.kind))
        except ShapeError as e:
            raise self._err(e.message, line=_key_line(value, k, line), path=path, fix=e.fix, file=file) from None
        except SpecError as e:
            raise e.located(file=file, line=_key_line(value, k, line), path=path or None)
        if len(attrs) != len(op.attrs):
            for attr in op.attrs:
                if attr.name not in attrs:
                    if attr.default is REQUIRED:
                        raise self._err(f"'{opname}' needs argument '{attr.name}'"
                                        + (f" ({attr.doc})" if attr.doc else ""), line=line, path=path, file=file,
                                        fix=f"add `{attr.name}: ...` to the layer.")
                    attrs[attr.name] = attr.default
        return self.add_node(path, opname, attrs, [cur], line, file)

    def add_node(self, path, opname, attrs, ins, line, file):
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
        self._register(path, line, file)
        self.nodes.append(Node(path, opname, a, tuple(t.id for t in ins), tuple(in_shapes), out, line, file))
        return _T(path, out)

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
