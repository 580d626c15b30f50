"""Captured rows → spec data in archcost's own language → YAML a person would write.

Node ids are the module's own paths (``layer1.0.conv1``), written as dotted ``name:``s relative to
the enclosing block call.  A submodule whose captured rows form a self-contained piece (one input,
one output, contiguous) becomes a block when it recurs, by this rule:

- identical pieces share a block without arguments (as plain containers, ``nn.Sequential`` stages, always do);
- pieces of one module class with the same rows, names, wiring and attribute names that differ only in
  numbers share one block with arguments (ResNet's ``Bottleneck`` at four widths → ``bottleneck: {width}``;
  Swin's blocks → one block with ``heads``, ``shift``, ``p``, ...).  A number that differs between calls is
  an argument; numbers equal in every call share one (widths — ``out_channels``, ``out_features``,
  ``groups`` — among themselves, else numbers of one attribute name).  A width is written as an
  expression instead where that is exact in every call: ``in`` (the block input's channels), 2 … 8 times
  another width argument (``width * 4``), a ``groups`` count as ``width // 8``.  No other
  formula is guessed: floats such as stochastic depth's ``p`` ramp are passed per call.  An argument's
  default is its op's default when some call uses it (``stride: 1``, ``shift: 0``), and calls omit it;
- not worth it, so only identical pieces share: a block with more arguments than half its rows (at least
  one allowed) reads worse than its rows written out (``Conv2dNormActivation`` at other kernel, stride,
  padding and groups);
- a block that would be written only once (inside another block's body) is written out there instead;
- blocks are named by their module class (``Bottleneck`` → ``bottleneck``); two blocks of one class by the
  submodule only one of them has (``bottleneck_downsample``), else numbered (``inverted_residual_2``).

Consecutive calls of one block with equal arguments named ``P.0, P.1, ...`` become one item with
``repeat`` and ``name: "P.{i}"``.  The same data is what ``archcost table`` builds (through
:func:`archcost.language.spec_from_data`) and what ``archcost import`` writes: one truth.
"""

from __future__ import annotations

import dataclasses

import re
from dataclasses import dataclass, field

import yaml

from ..errors import SpecError
from ..ops import OPS
from .source import Tokens, is_module_source, load, parse_input, parse_source
from .trace import Trace, free_name, trace

_SCALAR_LISTS = {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size"}


@dataclass
class Captured:
    """A module captured as spec data: ``data`` (the spec), ``text`` (its YAML), ``trace`` (rows)."""

    data: dict
    text: str
    trace: Trace
    source: str
    not_understood: list = field(default_factory=list)  # (row id, call) of opaque rows

    def graph(self):
        from ..language import build_graph, spec_from_data
        from ..language.yamlload import load_yaml_text

        raw = load_yaml_text(self.text, file=self.source)
        graph = build_graph(spec_from_data(raw, self.source))
        captured = {"source": self.source, "not_understood": [c for _, c in self.not_understood],
                    "unused_params": [list(u) for u in self.trace.unused]}
        if self.trace.tied:
            captured["tied_params"] = [list(t) for t in self.trace.tied]
        return dataclasses.replace(graph, meta={**graph.meta, "captured": captured})  # a Graph is frozen

    def summary(self) -> str:
        """One paragraph on what was not understood and what was never called ('' when all was)."""
        parts = []
        if self.not_understood:
            n = len(self.not_understood)
            calls = "; ".join(f"{rid} ({call})" for rid, call in self.not_understood[:8])
            more = f"; ... {n - 8} more" if n > 8 else ""
            parts.append(f"{n} call{'s' if n > 1 else ''} not understood (opaque rows with the shapes, params "
                         f"and FLOPs measured on the module): {calls}{more}.")
        if self.trace.unused:
            tot = sum(p for _, p in self.trace.unused)
            names = ", ".join(f"{name} ({p:,})" for name, p in self.trace.unused[:6])
            parts.append(f"{tot:,} params in modules forward never called, not counted: {names}.")
        if self.trace.tied:
            from ..analysis.display import tied_line

            parts.append(f"{tied_line(self.trace.tied)}; torch counts each tensor once (a module called twice is "
                         "written `shares:` and counted once; a tensor two modules hold is not).")
        return " ".join(parts)


def capture(obj, *, input=None) -> Captured:
    import torch

    label, default_shape = None, None
    if isinstance(obj, str):
        if not is_module_source(obj):
            raise SpecError(f"{obj!r} does not name a torch module",
                            fix="write torchvision:NAME, timm:NAME or path/to/model.py:ClassName.")
        label = obj
        obj, default_shape = load(parse_source(obj), meta=True)
    if not isinstance(obj, torch.nn.Module):
        raise SpecError(f"expected a torch.nn.Module, got {type(obj).__name__}",
                        fix="pass a module instance (archcost.analyze(model, input=(3, 224, 224))).")
    label = label or f"<{type(obj).__name__}>"
    if input is not None:
        input = parse_input(input)
    shape = input if input is not None else parse_input(default_shape) or _module_input(obj)
    if shape is None:
        raise SpecError(f"archcost cannot tell the input shape of {type(obj).__name__}",
                        fix="give it without the batch: --input 3,224,224 (CLI) or input=(3, 224, 224) (Python); "
                            "integer token ids: --input tokens:128, input=('tokens', 128).")
    tr = trace(obj, tuple(shape), tokens=isinstance(shape, Tokens))
    data, opaque = spec_data(tr, obj, label)
    text = to_yaml(data, header=_header(label, tr, opaque))
    return Captured(data, text, tr, label, opaque)


def _module_input(m):
    shape = getattr(m, "input_shape", None)
    if not shape:
        return None
    return parse_input(shape)  # (3, 224, 224), or ("tokens", 128)


def _header(label, tr, opaque):
    import torch

    lines = [f"captured from {label} by archcost import (torch {torch.__version__.split('+')[0]})",
             f"{len(tr.rows)} rows, {tr.params_total:,} params; node ids are the module's own names"]
    if opaque:
        lines.append(f"{len(opaque)} call(s) not understood (opaque rows): " + ", ".join(c for _, c in opaque[:5]))
    for name, p in tr.unused:
        lines.append(f"never called by forward, left out: {name} ({p:,} params)")
    return lines


# -- spec data ------------------------------------------------------------------------------------------

def _spec_name(label):
    name = re.sub(r"[^A-Za-z0-9_]+", "_", label.split(":")[-1].split("(")[0]).strip("_").lower()
    return name or "captured"


def _clean_attrs(op, attrs, keep=()):
    """Drop arguments equal to the op's defaults (but those in ``keep``); [3, 3] → 3 (the spelling a person
    would use)."""
    idx = OPS[op].attr_index
    out = {}
    for k, v in attrs.items():
        v = _norm(k, v)
        if k in keep or isinstance(v, str) and k in idx and idx[k].kind != "str":
            out[k] = v
            continue
        d = idx[k].default if k in idx else None
        if k in idx and v == d and type(v) is type(d):
            continue
        if k in idx and isinstance(d, float) and isinstance(v, (int, float)) and float(v) == d:
            continue
        out[k] = v
    return out


def _norm(k, v):
    """One attribute value as a person would spell it: [3, 3] → 3 for the per-dimension lists, tuples → lists."""
    if k in _SCALAR_LISTS and isinstance(v, (list, tuple)) and v and all(x == v[0] for x in v):
        v = v[0]
    return list(v) if isinstance(v, tuple) else v


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _shape_of(v):
    """What must agree for two values to be one argument: a number, a flat list of numbers of one length, else
    the value itself."""
    if _is_num(v):
        return "#"
    if isinstance(v, list) and v and all(_is_num(x) for x in v):
        return ("#",) * len(v)
    return _freeze(v)


def _is_container(m):
    return type(m).__module__ == "torch.nn.modules.container"


def spec_data(tr: Trace, model, label):
    rows = tr.rows
    pos = {r.id: k for k, r in enumerate(rows)}
    modules = dict(model.named_modules())
    classes = {name: type(m).__name__ for name, m in modules.items()}
    users: dict = {}
    for k, r in enumerate(rows):
        for i in r.inputs:
            users.setdefault(i, []).append(k)
    users.setdefault(tr.output, []).append(len(rows))
    pieces = _pieces(rows, classes, users, pos)
    _group(pieces, rows, {p for p, m in modules.items() if _is_container(m)}, tr.input_shape)
    key_count: dict = {}
    for p in pieces.values():
        key_count[p["key"]] = key_count.get(p["key"], 0) + 1
    blocks: dict = {}  # key -> (name, layers, args)
    names_used: set = set()
    kids: dict = {}  # block name -> (name base, its submodules' names)
    opaque = [(r.id, r.attrs["call"]) for r in rows if r.op == "opaque"]

    def value(k, key, idx, subst):
        """The spelling of attribute ``key`` (element ``idx``) of rows[k]: an argument's expression inside a
        parametrized block's body, else the literal."""
        if (k, key, idx) in subst:
            return subst[(k, key, idx)]
        v = _norm(key, rows[k].attrs[key])
        return v if idx is None else v[idx]

    def attrs_of(k, subst):
        r = rows[k]
        raw, keep = {}, set()
        for key, v in r.attrs.items():
            v = _norm(key, v)
            if (k, key, None) in subst:
                v = subst[(k, key, None)]
            elif isinstance(v, list) and any((k, key, j) in subst for j in range(len(v))):
                v = [subst.get((k, key, j), x) for j, x in enumerate(v)]
            else:
                raw[key] = v
                continue
            raw[key] = v
            keep.add(key)
        return _clean_attrs(r.op, raw, keep)

    def call_args(piece, subst):
        form = piece.get("form")
        if form is None:
            return {}
        out = {}
        for name, (t, key, idx) in form["at"].items():
            v = value(piece["lo"] + t, key, idx, subst)
            if name in form["defaults"] and not isinstance(v, str) and v == form["defaults"][name]:
                continue
            out[name] = v
        return out

    def emit(lo, hi, scope, in_ref, subst, peers):
        """Items for rows[lo:hi] inside ``scope`` ('' or 'P.'), whose input tensor is ``in_ref``.  In a
        parametrized block's body, ``subst`` maps (row, attr, element) to the argument expression written there
        and ``peers`` are the scopes of the block's other calls (whose pieces must agree for a nested call)."""
        items, k = [], lo
        prev = "in" if scope else "input"  # the tensor an item without `from` reads
        alias = {}  # row id -> the name a later item refers to it by (a block call's name)
        while k < hi:
            r = rows[k]
            piece = _outermost(pieces, r.id, k, scope, key_count, peers)
            if piece is not None and piece["hi"] <= hi:
                key = piece["key"]
                if key not in blocks:
                    base = _block_base(classes.get(piece["path"], "block"))
                    bname = free_name(base, names_used, start=2)
                    blocks[key] = (bname, None, None)
                    form = piece.get("form")
                    members = form["members"] if form is not None else [piece]
                    first = members[0]  # the body is written from the group's first piece
                    pre = first["path"] + "."
                    kids[bname] = (base, [c for c in dict.fromkeys(rows[q].id[len(pre):].split(".")[0]
                                                                   for q in range(first["lo"], first["hi"]))
                                          if pre + c in classes])
                    inner = {(first["lo"] + t, a, j): e for (t, a, j), e in form["expr"].items()} if form else {}
                    body = emit(first["lo"], first["hi"], first["path"] + ".", first["in"], inner,
                                [m["path"] + "." for m in members[1:]])
                    blocks[key] = (bname, body, form["decl"] if form is not None else None)
                rel = piece["path"][len(scope):]
                item = {blocks[key][0]: call_args(piece, subst), "name": rel}
                src = _ref(piece["in"], scope, in_ref, alias)
                if src != prev:
                    item["from"] = src
                items.append(item)
                prev = rel
                alias[rows[piece["hi"] - 1].id] = rel
                k = piece["hi"]
                continue
            rel = r.id[len(scope):]
            item = {r.op: attrs_of(k, subst), "name": rel}
            srcs = [_ref(i, scope, in_ref, alias) for i in r.inputs]
            if OPS[r.op].arity != 1:
                item["from"] = srcs
            elif srcs[0] != prev:
                item["from"] = srcs[0]
            if r.shares:  # relative to the block body when inside it (_pieces keeps a piece's shares inside)
                item["shares"] = r.shares[len(scope):] if scope and r.shares.startswith(scope) else r.shares
            items.append(item)
            prev = rel
            k += 1
        return _fold_repeats(items, blocks)

    while True:  # a block written once (inside another block's body) is written out there instead
        blocks.clear()
        names_used.clear()
        kids.clear()
        layers = emit(0, len(rows), "", "input", {}, [])
        calls: dict = {}
        for items in [layers] + [b[1] for b in blocks.values()]:
            for it in items:
                calls[next(iter(it))] = calls.get(next(iter(it)), 0) + it.get("repeat", 1)
        once = [key for key, b in blocks.items() if calls.get(b[0], 0) < 2]
        if not once:
            break
        for key in once:
            key_count[key] = 0
    last = layers[-1]["name"]
    out_ref = _ref(tr.output, "", "input", {})
    if out_ref != last and not _ends_at(layers, tr.output):
        layers.append({"identity": {}, "name": "output", "from": out_ref})
    data = {"name": _spec_name(label), "input": list(tr.input_shape)}
    renames = _variant_names(kids)
    if renames:
        layers = _renamed(layers, renames)
        blocks = {k: (renames.get(n, n), _renamed(body, renames), decl) for k, (n, body, decl) in blocks.items()}
    if blocks:
        data["blocks"] = {name: ({"args": decl} if decl else {}) | {"layers": body}
                          for name, body, decl in blocks.values()}
    data["layers"] = layers
    return data, opaque


def _ends_at(layers, out_id):
    nm = layers[-1]["name"]
    return "{" in nm or out_id == nm or out_id.startswith(nm + ".")


def _ref(rid, scope, in_ref, alias):
    if rid == in_ref:
        return "in" if scope else "input"
    if rid in alias:
        return alias[rid]
    return rid[len(scope):] if scope and rid.startswith(scope) else rid


def _pieces(rows, classes, users, pos):
    """Submodule paths whose rows are contiguous, read one outside tensor and are read outside only at
    their last row: the pieces that can be written as a block call.  path -> info: ``sig`` (rows, attributes
    and wiring: equal for identical pieces) and ``shape`` (the same, with numbers as placeholders)."""
    spans: dict = {}
    for k, r in enumerate(rows):
        parts = r.id.split(".")
        for j in range(1, len(parts)):
            p = ".".join(parts[:j])
            if p in classes:
                lo, hi, n = spans.get(p, (k, k, 0))
                spans[p] = (lo, k + 1, n + 1)
    out = {}
    for p, (lo, hi, n) in spans.items():
        if n != hi - lo or n < 2:
            continue
        inside = {rows[k].id for k in range(lo, hi)}
        ext = {i for k in range(lo, hi) for i in rows[k].inputs if i not in inside}
        if len(ext) != 1:
            continue
        ok = all(all(lo <= u < hi for u in users.get(rows[k].id, [])) for k in range(lo, hi - 1))
        if not ok:
            continue
        (src,) = ext
        pre = p + "."
        if any(r.shares and r.shares not in inside for r in rows[lo:hi]):
            continue  # it uses weights of a module outside it: `shares:` would name what a block body cannot
        wiring = [(r.id[len(pre):], r.op, tuple("in" if i == src else i[len(pre):] for i in r.inputs),
                   r.shares and r.shares[len(pre):]) for r in rows[lo:hi]]
        sig = tuple((w[0], w[1], _freeze(r.attrs), w[2], w[3]) for w, r in zip(wiring, rows[lo:hi]))
        shape = (classes[p],) + tuple((w[0], w[1], tuple((a, _shape_of(_norm(a, v))) for a, v in r.attrs.items()), w[2],
                                       w[3]) for w, r in zip(wiring, rows[lo:hi]))
        out[p] = {"path": p, "lo": lo, "hi": hi, "in": src, "sig": sig, "shape": shape, "key": sig}
    return out


def _outermost(pieces, rid, k, scope, key_count, peers):
    parts = rid.split(".")
    for j in range(1, len(parts)):
        p = ".".join(parts[:j])
        if scope and not (p + ".").startswith(scope) or p + "." == scope or len(p) < len(scope):
            continue
        piece = pieces.get(p)
        if piece is None or piece["lo"] != k or key_count[piece["key"]] < 2:
            continue
        rel = p[len(scope):]
        if all(pieces.get(q + rel, {}).get("key") == piece["key"] for q in peers):
            return piece
    return None


def _freeze(v):
    if isinstance(v, dict):
        return tuple((k, _freeze(x)) for k, x in v.items())
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def _block_base(cls_name):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls_name).lower().replace("__", "_")
    base = re.sub(r"[^a-z0-9_]", "_", base) or "block"
    if base in OPS or base in ("sequential", "residual", "parallel", "activation"):
        base += "_block"
    return base


def _variant_names(kids):
    """Blocks of one class that differ in their submodules are named by the submodule only one has:
    ResNet's ``bottleneck`` and ``bottleneck_downsample`` rather than ``bottleneck`` and ``bottleneck_2``
    (the one with no submodule of its own keeps the class's name).  Old name -> new, where that is clear."""
    by_base: dict = {}
    for name, (base, _) in kids.items():
        by_base.setdefault(base, []).append(name)
    renames = {}
    for base, names in by_base.items():
        if len(names) < 2:
            continue
        own = {n: [c for c in kids[n][1] if not any(c in kids[m][1] for m in names if m != n)] for n in names}
        new = {n: f"{base}_{own[n][0]}" if own[n] else base for n in names}
        if (len(set(new.values())) < len(names) or any(not o[0][:1].isalpha() for o in own.values() if o)
                or any(v != n and (v in kids or v in OPS) and v not in names for n, v in new.items())
                or not all(re.fullmatch(r"[a-z][a-z0-9_]*", v) for v in new.values())):
            continue  # two without a submodule of their own, or a name that is taken: keep the numbers
        renames.update({n: v for n, v in new.items() if v != n})
    return renames


def _renamed(items, renames):
    return [{renames.get(k, k) if j == 0 else k: v for j, (k, v) in enumerate(it.items())} for it in items]


# -- block arguments ----------------------------------------------------------------------------------

_WIDTHS = {"out_channels", "out_features", "groups", "num_channels", "hidden_dim", "embed_dim", "embedding_dim"}
_ARG_NAMES = {"kernel_size": "k", "num_heads": "heads", "shift_size": "shift", "window_size": "window",
              "sizes": "size", "output_size": "size", "partition_size": "partition", "head_dim": "head_dim"}
_RESERVED = {"in", "ch", "h", "w", "i", "int", "float", "bool", "str", "true", "false", "none", "and", "or", "not",
             "if", "else", "make_divisible", "round", "ceil", "floor", "min", "max", "abs", "sqrt"}
_MAX_FACTOR = 8  # a width written as another times 2 ... 8 (ResNet's ×4, an MLP's ×4, MobileNet's ×6)


def _group(pieces, rows, containers, in_shape):
    """Give each piece its ``key``: pieces of one module class with the same rows, wiring and attribute names
    but different numbers (ResNet's bottlenecks at four widths, Swin's blocks with and without a shift) share
    a key and a ``form`` (the block's arguments) when :func:`_arguments` finds that worth it; every other
    piece keeps its exact signature, and only identical pieces share a block, as plain containers
    (``nn.Sequential`` stages) always do."""
    by_shape: dict = {}
    for p in pieces.values():
        if p["path"] not in containers:
            by_shape.setdefault(p["shape"], []).append(p)
    for shape, members in by_shape.items():
        if len(members) < 2 or len({m["sig"] for m in members}) < 2:
            continue
        form = _arguments(members, rows, in_shape)
        if form is None:
            continue
        for m in members:
            m["key"], m["form"] = ("args", shape), form


def _derived(vec, bases, groups):
    """``vec`` as (base vector, operator, factor) of one of ``bases``: equal to the block input's channels
    (``in``, first), or equal to, 2 … 8 times or (a `groups` count) a whole fraction of a width argument; None
    when none fits exactly.  ``in * 2`` is not tried: the stage widths would vanish from the calls."""
    for name, b in bases:
        if vec == b:
            return (b, None, None)
        if name == "in":
            continue
        ks = {x // y if y > 0 and x % y == 0 else None for x, y in zip(vec, b)}
        if len(ks) == 1 and (f := next(iter(ks))) is not None and 2 <= f <= _MAX_FACTOR:
            return (b, "*", f)
        if groups:
            ks = {y // x if x > 0 and y % x == 0 else None for x, y in zip(vec, b)}
            if len(ks) == 1 and (f := next(iter(ks))) is not None and f >= 2:
                return (b, "//", f)
    return None


def _arguments(members, rows, in_shape):
    """The arguments of one block for ``members`` (pieces of one shape), or None when not worth it.

    The rule is the module docstring's.  Returns ``decl`` (the block's ``args:``), ``at`` (argument → the
    position, (row offset, attribute, list element or None), a call reads its value at), ``defaults`` and
    ``expr`` (position → what the body writes there).  Widths are tried in increasing order, so the smaller
    becomes the argument and the larger its product."""
    first = members[0]
    n_rows = first["hi"] - first["lo"]
    vals = [[{a: _norm(a, v) for a, v in rows[m["lo"] + t].attrs.items()} for t in range(n_rows)] for m in members]
    varying = []  # (position, vector) in row order
    for t in range(n_rows):
        for a, v in vals[0][t].items():
            idxs = [None] if _is_num(v) else range(len(v)) if isinstance(v, list) and v and _is_num(v[0]) else []
            for j in idxs:
                vec = tuple(vs[t][a] if j is None else vs[t][a][j] for vs in vals)
                if len(set(vec)) > 1:
                    varying.append(((t, a, j), vec))
    families: dict = {}  # family -> distinct vectors, in row order
    only_groups: dict = {}  # width vector -> whether only `groups` has it
    for (t, a, j), vec in varying:
        fam = "width" if a in _WIDTHS else a
        families.setdefault(fam, [])
        if vec not in families[fam]:
            families[fam].append(vec)
        if fam == "width":
            only_groups[vec] = only_groups.get(vec, True) and a == "groups"
    shape = {r.id: r.out_shape for r in rows}
    in_vec = tuple((shape[m["in"]] if m["in"] in shape else in_shape)[0] for m in members)
    spell: dict = {}  # (family, vector) -> the argument's name, or an expression of one (or of `in`)
    used = set(_RESERVED)
    for fam, vecs in families.items():
        ints = all(isinstance(x, int) for v in vecs for x in v)
        bases = [("in", in_vec)] if fam == "width" else []
        order = sorted(vecs, key=lambda v: (only_groups.get(v, False), v[0])) if ints else vecs
        for vec in order:
            spell[(fam, vec)] = _derived(vec, bases, fam == "width" and only_groups[vec]) if ints else None
            if spell[(fam, vec)] is None:
                bases.append((None, vec))
        for vec in vecs:  # names of the arguments in row order
            if spell[(fam, vec)] is None:
                name = free_name(_ARG_NAMES.get(fam, fam) if fam.isidentifier() else "arg", used, start=2)
                spell[(fam, vec)] = name
                bases = [(name if v == vec and b is None else b, v) for b, v in bases]
        for vec in order:  # expressions of arguments named just now
            e = spell[(fam, vec)]
            if isinstance(e, tuple):
                b, op, f = e
                name = next(n for n, v in bases if v == b)
                spell[(fam, vec)] = name if op is None else f"{name} {op} {f}"
    decl, at, defaults, expr = {}, {}, {}, {}
    for (t, a, j), vec in varying:
        fam = "width" if a in _WIDTHS else a
        e = spell[(fam, vec)]
        expr[(t, a, j)] = e
        if e in at or e == "in" or not e.isidentifier():
            continue
        at[e] = (t, a, j)
        op = rows[first["lo"] + t].op
        attr = OPS[op].attr_index.get(a)
        d = attr.default if attr is not None and j is None else None
        if _is_num(d) and d in vec:
            decl[e] = defaults[e] = d
        else:
            decl[e] = "int" if all(isinstance(x, int) for x in vec) else "float"
    if len(decl) > max(1, n_rows // 2):
        return None
    return {"members": members, "decl": decl, "at": at, "defaults": defaults, "expr": expr}


def _fold_repeats(items, blocks):
    """Consecutive calls of one block with the same arguments named P.k, P.k+1, ... (no `from`) → one item
    with repeat."""
    block_names = {b[0] for b in blocks.values()}
    out = []
    k = 0
    while k < len(items):
        it = items[k]
        key = next(iter(it))
        m = re.fullmatch(r"(.*?)(\d+)", it["name"]) if key in block_names else None
        j = k + 1
        if m:
            base, start = m[1], int(m[2])
            while (j < len(items) and next(iter(items[j])) == key and "from" not in items[j]
                   and items[j][key] == it[key] and items[j]["name"] == f"{base}{start + j - k}"):
                j += 1
        if j - k >= 2:
            off = f"i + {start}" if start else "i"
            new = {key: it[key], "name": f"{base}{{{off}}}", "repeat": j - k}
            if "from" in it:
                new["from"] = it["from"]
                if j - k >= 2:  # `from` applies to every repetition: keep the first apart
                    out.append(it)
                    new = {key: it[key], "name": f"{base}{{i + {start + 1}}}", "repeat": j - k - 1}
                    if j - k - 1 == 1:
                        new = items[k + 1]
            out.append(new)
            k = j
        else:
            out.append(it)
            k += 1
    return out


# -- YAML ---------------------------------------------------------------------------------------------

def _flow(v) -> str:
    return yaml.safe_dump(v, default_flow_style=True, width=10**9, sort_keys=False).strip()


def to_yaml(data: dict, header=()) -> str:
    lines = [f"# {h}" for h in header]
    lines.append(f"name: {data['name']}")
    lines.append(f"input: {_flow(data['input'])}")
    if data.get("blocks"):
        lines.append("blocks:")
        for name, b in data["blocks"].items():
            lines.append(f"  {name}:")
            if b.get("args"):
                lines.append(f"    args: {_flow(b['args'])}")
            lines.append("    layers:")
            lines += [f"      - {_flow(it)}" for it in b["layers"]]
    lines.append("layers:")
    lines += [f"  - {_flow(it)}" for it in data["layers"]]
    return "\n".join(lines) + "\n"
