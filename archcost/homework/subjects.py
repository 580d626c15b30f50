"""Subjects: build the network a question is about and select the layers it asks about.

A zoo model (``model:`` with ``input``/``set``), a spec file (``spec:``, relative to the answers
file), an inline single layer (``conv2d: {in: [192, 28, 28], ...}``) or an inline sequence
(``layers: [...]`` with ``input:``), narrowed by ``layer:`` (node ids or dotted name prefixes such
as ``inception3a``) and ``ops:`` (op names or families).  A fully connected layer asked about on a
feature map is a flatten then a linear layer, as courses and Keras' ``Flatten`` + ``Dense`` mean it.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field

from ..api import build
from ..errors import SpecError, short_repr
from ..ir import Graph
from ..language import build_graph, spec_from_data
from ..language.yamlload import LocDict, LocList
from ..ops import OPS
from ..ops.base import fmt_shape
from .records import Subject

FAMILIES = ("conv", "linear", "norm", "pool", "act", "merge", "other")


@dataclass
class Selection:
    """A built network and the layers a question is about (in graph order)."""

    graph: Graph
    nodes: list
    label: str
    whole: bool = True
    notes: list = field(default_factory=list)
    scope: list | None = None  # the layers before an `ops` filter (the block whose input is "the input")

    @property
    def region(self) -> list:
        return self.scope if self.scope is not None else self.nodes


def _loc(d: dict, line) -> LocDict:
    out = LocDict(line=line)
    for k, v in d.items():
        out[k] = v
        out.key_lines[k] = d.key_line(k) if isinstance(d, LocDict) else line
    return out


def build_subject(s: Subject, file: str) -> Selection:
    """The graph of a subject and its selected layers; errors located in the answers file ``file``."""
    notes = []
    try:
        if s.kind == "model":
            graph = build(s.name, input=s.input, overrides=s.set or None)
            label = s.name
        elif s.kind == "spec":
            graph = build(s.name, input=s.input, overrides=s.set or None)
            label = graph.name
        else:
            line = s.line
            if s.kind == "op":
                args = _loc({k: v for k, v in s.value.items() if k not in ("in", "input")}, getattr(s.value, "line", line))
                layer = {s.name: args}
                arity = OPS[s.name].arity if s.name in OPS else 1
                if arity != 1:  # an op of several inputs on one shape: each input is it (self-attention: q = k = v)
                    layer["from"] = ["input"] * (arity or 2)
                    what = "query, key and value are each" if arity == 3 else "both inputs are"
                    notes.append(f"{what} the {fmt_shape(s.input)} input"
                                 + (" (self-attention)" if arity == 3 else ""))
                layers = LocList([_loc(layer, line)], line=line)
                layers.item_lines = [line]
                if s.name == "linear" and s.input and len(s.input) > 2:
                    layers.insert(0, _loc({"flatten": LocDict(line=line)}, line))
                    layers.item_lines.insert(0, line)
                    flat = 1
                    for d in s.input:
                        flat *= d
                    notes.append(f"a fully connected layer on a {fmt_shape(s.input)} feature map: "
                                 f"flatten to {flat:,} features, then linear")
                label = f"{s.name} on {fmt_shape(s.input)}"
            else:
                layers = s.value
                label = "inline layers"
            raw = LocDict(line=line)
            for k, v in (("name", "inline"), ("input", list(s.input)), ("layers", layers)):
                raw[k] = v
                raw.key_lines[k] = line
            if s.include:
                raw["include"] = list(s.include)
                raw.key_lines["include"] = line
            graph = build_graph(spec_from_data(raw, file))
    except SpecError as e:
        if s.kind == "model" and file:
            near = _spec_next_to(s.name, file)
            if near:
                raise SpecError(f"no zoo model {short_repr(s.name)}", file=file, line=s.line,
                                fix=f"there is a spec file {near} next to this answers file: write `spec: {near}` "
                                    "(`model:` names a zoo model; see `archcost zoo`).") from None
        if s.set and e.message.startswith("--set ") and file:  # a `set:` key the spec does not have
            raise SpecError("`set:` " + e.message.split(": ", 1)[-1], file=file, line=s.set_line or s.line,
                            fix=e.fix) from None
        if e.file is None or e.file == "<spec>":
            e.file = None
            raise e.located(file=file, line=s.line) from None
        if file and e.file != file:
            e.message += f" (the subject named at {file}:{s.line})"
            e.args = (str(e),)
        raise
    nodes = list(graph.nodes)
    whole = True
    if s.layer:
        aliases = paper_names(graph) if s.kind in ("model", "spec") else {}
        nodes = select_layers(graph, s.layer, file=file, line=s.layer_line, aliases=aliases)
        whole = False
        label += " / " + ", ".join(s.layer)
    scope = nodes
    if s.ops:
        nodes = [n for n in nodes if matches_op(n, s.ops)]
        whole = False
        if not nodes:
            raise SpecError(f"no layer of {label} is one of the ops {', '.join(s.ops)}", file=file, line=s.ops_line,
                            fix=f"ops there: {', '.join(sorted({n.op for n in graph.nodes}))}.")
        label += f" [{', '.join(s.ops)}]"
    return Selection(graph, nodes, label, whole, notes, scope)


def matches_op(node, ops) -> bool:
    return node.op in ops or OPS[node.op].family in ops


def group_names(graph: Graph) -> list:
    """Every node id and every dotted prefix of one (the blocks), in graph order."""
    seen, out = set(), []
    for n in graph.nodes:
        parts = n.id.split(".")
        for k in range(1, len(parts) + 1):
            p = ".".join(parts[:k])
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def _spec_next_to(name: str, file: str) -> str | None:
    """A spec file called ``name`` (or ``name.yaml``) in the answers file's folder, as the question would write it."""
    base = os.path.dirname(os.path.abspath(file))
    for cand in (name, name + ".yaml", name + ".yml"):
        if os.path.basename(cand) == cand and os.path.isfile(os.path.join(base, cand)) and cand.endswith((".yaml", ".yml")):
            return cand
    return None


def paper_names(graph: Graph) -> dict:
    """The names a paper (or the course notes) use for a zoo model's layers, as its spec declares them
    (``paper_names:`` in the file, and in the variant): name → list of node ids or block prefixes."""
    return dict(_paper_names(graph.file, graph.meta.get("variant")))


@functools.lru_cache(maxsize=64)
def _paper_names(file: str, variant) -> tuple:
    from ..language import load_resolved

    if not isinstance(file, str) or not file.endswith((".yaml", ".yml")) or not os.path.isfile(file):
        return ()
    try:
        spec = load_resolved(file, variant)
    except SpecError:
        return ()
    v = spec.variant_model()
    names = {**spec.model.paper_names, **(v.paper_names if v else {})}
    return tuple((str(k), tuple(str(t) for t in (x if isinstance(x, list) else [x]))) for k, x in names.items())


def _norm(name: str) -> str:
    return re.sub(r"[\s()_\-]", "", name.lower())


def resolve_alias(name: str, aliases: dict):
    """The targets of a paper name, matched as written or ignoring case, spaces, brackets and ``_``/``-``
    (``Inception (3a)`` = ``inception_3a``); None when it is not one."""
    if name in aliases:
        return list(aliases[name])
    key = _norm(name)
    for k, v in aliases.items():
        if _norm(k) == key:
            return list(v)
    return None


def select_layers(graph: Graph, names, *, file: str, line, aliases: dict | None = None) -> list:
    """Nodes whose id is one of ``names`` or lies under one as a dotted prefix (``inception3a``); a name may
    be one of the spec's paper names (``conv2_x`` for ResNet's ``layer1``, ``conv5_3`` for VGG's ...)."""
    chosen = set()
    aliases = aliases or {}
    for name in names:
        hit = [n.id for n in graph.nodes if n.id == name or n.id.startswith(name + ".")]
        targets = resolve_alias(name, aliases) if not hit else None
        if targets:
            hit = [n.id for n in graph.nodes if any(n.id == t or n.id.startswith(t + ".") for t in targets)]
            if not hit:
                raise SpecError(f"{short_repr(name)} is the paper's name for {', '.join(targets)}, which "
                                f"{graph.name} does not have", file=file, line=line,
                                fix=f"`archcost explain {graph.name} --layers` lists the names this model has.")
        if not hit:
            close = difflib.get_close_matches(name, list(aliases) + group_names(graph), n=4, cutoff=0.5)
            top = list(dict.fromkeys(n.id.split(".")[0] for n in graph.nodes))
            raise SpecError(f"{graph.name} has no layer or block {short_repr(name)}", file=file, line=line,
                            fix=(f"did you mean {', '.join(close)}? " if close else "")
                                + f"its top-level names are {', '.join(top[:12])}{', ...' if len(top) > 12 else ''}"
                                + (f"; paper names: {', '.join(list(aliases)[:12])}" if aliases else "")
                                + f" (`archcost explain {graph.name} --layers` lists them all).")
        chosen.update(hit)
    return [n for n in graph.nodes if n.id in chosen]
