"""Captured rows → spec data in archcost's own language → YAML a person would write.

Node ids are the module's own paths (``layer1.0.conv1``), written as dotted ``name:``s relative to
the enclosing block call.  A submodule whose captured rows form a self-contained piece (one input,
one output, contiguous) and recur identically elsewhere becomes a block; consecutive calls of one
block named ``P.0, P.1, ...`` become one item with ``repeat`` and ``name: "P.{i}"``.  The same data
is what ``archcost table`` builds (through :func:`archcost.language.spec_from_data`) and what
``archcost import`` writes: one truth.
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


def _clean_attrs(op, attrs):
    """Drop arguments equal to the op's defaults; [3, 3] → 3 (the spelling a person would use)."""
    idx = OPS[op].attr_index
    out = {}
    for k, v in attrs.items():
        if k in _SCALAR_LISTS and isinstance(v, list) and v and all(x == v[0] for x in v):
            v = v[0]
        if isinstance(v, tuple):
            v = list(v)
        d = idx[k].default if k in idx else None
        if k in idx and v == d and type(v) is type(d):
            continue
        if k in idx and isinstance(d, float) and isinstance(v, (int, float)) and float(v) == d:
            continue
        out[k] = v
    return out


def spec_data(tr: Trace, model, label):
    rows = tr.rows
    pos = {r.id: k for k, r in enumerate(rows)}
    classes = {name: type(m).__name__ for name, m in model.named_modules()}
    users: dict = {}
    for k, r in enumerate(rows):
        for i in r.inputs:
            users.setdefault(i, []).append(k)
    users.setdefault(tr.output, []).append(len(rows))
    pieces = _pieces(rows, classes, users, pos)
    sig_count: dict = {}
    for p in pieces.values():
        sig_count[p["sig"]] = sig_count.get(p["sig"], 0) + 1
    blocks: dict = {}  # sig -> (name, layers)
    names_used: set = set()
    opaque = [(r.id, r.attrs["call"]) for r in rows if r.op == "opaque"]

    def emit(lo, hi, scope, in_ref):
        """Items for rows[lo:hi] inside ``scope`` ('' or 'P.'), whose input tensor is ``in_ref``."""
        items, k = [], lo
        prev = "in" if scope else "input"  # the tensor an item without `from` reads
        alias = {}  # row id -> the name a later item refers to it by (a block call's name)
        while k < hi:
            r = rows[k]
            piece = _outermost(pieces, r.id, k, scope, sig_count)
            if piece is not None and piece["hi"] <= hi:
                sig = piece["sig"]
                if sig not in blocks:
                    bname = _block_name(classes.get(piece["path"], "block"), names_used)
                    blocks[sig] = (bname, None)
                    body = emit(piece["lo"], piece["hi"], piece["path"] + ".", piece["in"])
                    blocks[sig] = (bname, body)
                rel = piece["path"][len(scope):]
                item = {blocks[sig][0]: {}, "name": rel}
                src = _ref(piece["in"], scope, in_ref, alias)
                if src != prev:
                    item["from"] = src
                items.append(item)
                prev = rel
                alias[rows[piece["hi"] - 1].id] = rel
                k = piece["hi"]
                continue
            attrs = _clean_attrs(r.op, r.attrs)
            rel = r.id[len(scope):]
            item = {r.op: attrs, "name": rel}
            srcs = [_ref(i, scope, in_ref, alias) for i in r.inputs]
            if OPS[r.op].arity != 1:
                item["from"] = srcs
            elif srcs[0] != prev:
                item["from"] = srcs[0]
            items.append(item)
            prev = rel
            k += 1
        return _fold_repeats(items, blocks)

    layers = emit(0, len(rows), "", "input")
    last = layers[-1]["name"]
    out_ref = _ref(tr.output, "", "input", {})
    if out_ref != last and not _ends_at(layers, tr.output):
        layers.append({"identity": {}, "name": "output", "from": out_ref})
    data = {"name": _spec_name(label), "input": list(tr.input_shape)}
    if blocks:
        data["blocks"] = {name: {"layers": body} for name, body in blocks.values()}
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
    their last row: the pieces that can be written as a block call.  path -> info."""
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
        sig = tuple((r.id[len(pre):], r.op, _freeze(r.attrs),
                     tuple("in" if i == src else i[len(pre):] for i in r.inputs)) for r in rows[lo:hi])
        out[p] = {"path": p, "lo": lo, "hi": hi, "in": src, "sig": sig}
    return out


def _outermost(pieces, rid, k, scope, sig_count):
    parts = rid.split(".")
    for j in range(1, len(parts)):
        p = ".".join(parts[:j])
        if scope and not (p + ".").startswith(scope) or p + "." == scope or len(p) < len(scope):
            continue
        piece = pieces.get(p)
        if piece is not None and piece["lo"] == k and sig_count[piece["sig"]] >= 2:
            return piece
    return None


def _freeze(v):
    if isinstance(v, dict):
        return tuple((k, _freeze(x)) for k, x in v.items())
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


def _block_name(cls_name, used):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls_name).lower().replace("__", "_")
    base = re.sub(r"[^a-z0-9_]", "_", base) or "block"
    if base in OPS or base in ("sequential", "residual", "parallel", "activation"):
        base += "_block"
    return free_name(base, used, start=2)


def _fold_repeats(items, blocks):
    """Consecutive calls of one block named P.k, P.k+1, ... (no `from`) → one item with repeat."""
    block_names = {name for name, _ in blocks.values()}
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
                   and items[j]["name"] == f"{base}{start + j - k}"):
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
            lines.append("    layers:")
            lines += [f"      - {_flow(it)}" for it in b["layers"]]
    lines.append("layers:")
    lines += [f"  - {_flow(it)}" for it in data["layers"]]
    return "\n".join(lines) + "\n"
