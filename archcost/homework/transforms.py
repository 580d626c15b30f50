"""The same network under a student's mistaken assumption, for the diagnoses.

Each transform changes layer attributes (bias on or off, padding, rounding, stride, groups) or
the structure (a depthwise + pointwise pair replaced by one standard convolution) and re-runs
shape inference through the op registry, so every later shape, parameter and MAC follows the
mistake exactly as the student's hand computation would.  A transform that makes the network
invalid (a kernel larger than its input) returns None: that mistake does not fit.
"""

from __future__ import annotations

from typing import Callable

from ..errors import ArchcostError, SpecError
from ..ir import INPUT, Graph, Node
from ..ops import OPS
from .subjects import Selection

# which layers a mistake touches, from the ops' own facts: (forward) convolutions by kind, fixed-window
# pools (ceil_mode, padding) by cost category, layers with a bias by family
CONVS = tuple(name for name, op in OPS.items() if op.kind == "conv")
POOLS = tuple(name for name, op in OPS.items() if op.category == "pool")
BIASED = tuple(name for name, op in OPS.items() if op.family in ("conv", "linear"))


def regraph(graph: Graph, change: Callable) -> Graph | None:
    """A copy of ``graph`` with ``change(node) -> new attrs | None`` applied and every shape
    recomputed; None when nothing changed or the changed network is invalid."""
    shapes = {INPUT: tuple(graph.input_shape)}
    nodes, changed = [], False
    for n in graph.nodes:
        attrs = change(n)
        ins = [shapes[s] for s in n.inputs]
        if attrs is None and tuple(ins) == tuple(n.in_shapes):
            nodes.append(n)
            shapes[n.id] = n.out_shape
            continue
        changed = changed or attrs is not None
        op = OPS[n.op]
        if op.in_rank and len(ins[0]) not in op.in_rank:
            return None
        try:
            a = dict(attrs if attrs is not None else n.attrs)
            a = op.prepare(a, ins) if op.prepare else a
            out = tuple(op.shape(a, ins))
        except (ArchcostError, SpecError, ValueError, TypeError, KeyError, ZeroDivisionError):
            return None
        if any(d < 1 for d in out):
            return None
        nodes.append(Node(n.id, n.op, a, n.inputs, tuple(ins), out, n.line, n.file, n.shares))
        shapes[n.id] = out
    if not changed:
        return None
    return Graph(graph.name, graph.input_shape, nodes, graph.output, graph.file, graph.params, graph.meta,
                 graph.groups)


def reselect(sel: Selection, graph: Graph | None, rename: dict | None = None) -> Selection | None:
    """The selection's layers in a transformed graph (layers merged away map through ``rename``)."""
    if graph is None:
        return None
    by_id = graph.by_id()
    order = {n.id: i for i, n in enumerate(graph.nodes)}

    def mapped(nodes):
        ids = {(rename or {}).get(n.id, n.id) for n in nodes}
        return sorted((by_id[i] for i in ids if i in by_id), key=lambda n: order[n.id])
    nodes = mapped(sel.nodes)
    scope = mapped(sel.scope) if sel.scope is not None else None
    return Selection(graph, nodes, sel.label, sel.whole, [], scope) if nodes else None


def upstream(sel: Selection) -> set:
    """Ids of the selected layers and every layer before them (whose shapes they depend on)."""
    ids = {n.id for n in sel.nodes}
    last = max(i for i, n in enumerate(sel.graph.nodes) if n.id in ids)
    return {n.id for n in sel.graph.nodes[:last + 1]}


def attrs_change(sel: Selection, pick: Callable, edit: Callable, *, scope: str = "upstream") -> Selection | None:
    """Apply ``edit(attrs, node) -> attrs`` to nodes where ``pick(node)``, among the selected layers
    (``scope='selection'``) or them and everything before them (``'upstream'``)."""
    ids = {n.id for n in sel.nodes} if scope == "selection" else upstream(sel)

    def change(n):
        if n.id in ids and pick(n):
            new = edit(dict(n.attrs), n)
            return new if new is not None and new != n.attrs else None
        return None
    return reselect(sel, regraph(sel.graph, change))


# ---------------------------------------------------------------------------- the mistakes

def without_bias(sel):
    return attrs_change(sel, lambda n: n.op in BIASED and n.attrs.get("bias"), lambda a, n: {**a, "bias": False},
                        scope="selection")


def with_bias(sel):
    return attrs_change(sel, lambda n: n.op in BIASED and not n.attrs.get("bias"), lambda a, n: {**a, "bias": True},
                        scope="selection")


def _pairs(a):
    return [list(p) for p in a["pads"]]


def ceil_everywhere(sel):
    """Sizes rounded up instead of down: ceil_mode on every pool, and convolutions as if ceil."""
    def edit(a, n):
        if n.op in POOLS:
            return {**a, "ceil_mode": True} if not a["ceil_mode"] else None
        pads = _pairs(a)
        for i, size in enumerate(n.in_shapes[0][1:]):
            k, s, d = a["kernel_size"][i], a["stride"][i], a["dilation"][i]
            span = size + pads[i][0] + pads[i][1] - (d * (k - 1) + 1)
            if s > 1 and span % s:
                pads[i][1] += s - span % s
        return {**a, "padding": pads} if pads != _pairs(a) else None
    return attrs_change(sel, lambda n: n.op in POOLS + CONVS, edit)


def floor_everywhere(sel):
    return attrs_change(sel, lambda n: n.op in POOLS and n.attrs["ceil_mode"], lambda a, n: {**a, "ceil_mode": False})


def valid_padding(sel):
    return attrs_change(sel, lambda n: (n.op in CONVS and any(x for p in n.attrs["pads"] for x in p))
                        or (n.op in POOLS and any(n.attrs["padding"])), lambda a, n: {**a, "padding": 0})


def same_padding(sel):
    """TensorFlow's 'same': output = ⌈n / stride⌉, padding split with the extra pixel after."""
    def edit(a, n):
        pads = []
        for i, size in enumerate(n.in_shapes[0][1:]):
            k, s, d = a["kernel_size"][i], a["stride"][i], a["dilation"][i]
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            pads.append([total // 2, total - total // 2])
        return {**a, "padding": pads}
    return attrs_change(sel, lambda n: n.op in CONVS, edit)


def no_stride(sel):
    def edit(a, n):
        ones = (1,) * len(a["stride"])
        return {**a, "stride": ones}
    return attrs_change(sel, lambda n: n.op in CONVS + POOLS and any(s > 1 for s in n.attrs["stride"]), edit)


def groups_ignored(sel):
    """Grouped / depthwise convolutions counted as standard ones (each filter sees every channel)."""
    return attrs_change(sel, lambda n: n.op in CONVS and n.attrs["groups"] > 1, lambda a, n: {**a, "groups": 1})


def is_depthwise(n) -> bool:
    return OPS[n.op].kind_of(n.attrs) == "depthwise"


def is_pointwise(n) -> bool:
    return OPS[n.op].kind_of(n.attrs) == "pointwise"


def separable_pairs(graph: Graph, ids=None) -> list:
    """(depthwise node, the layers between, pointwise node) for each depthwise convolution followed,
    through single-consumer shape-keeping layers (norm, activation), by a 1×1 convolution."""
    consumers: dict = {}
    for n in graph.nodes:
        for s in n.inputs:
            consumers.setdefault(s, []).append(n)
    pairs = []
    for n in graph.nodes:
        if not is_depthwise(n) or (ids is not None and n.id not in ids):
            continue
        between, cur = [], n
        while True:
            nxt = consumers.get(cur.id, [])
            if len(nxt) != 1 or len(nxt[0].inputs) != 1:
                break
            cur = nxt[0]
            if is_pointwise(cur):
                pairs.append((n, between, cur))
                break
            if OPS[cur.op].kind not in ("norm", "act") or cur.out_shape != n.out_shape:
                break
            between.append(cur)
    return pairs


def separable_as_standard(sel):
    """Each depthwise + pointwise pair computed as one standard k×k convolution (the mistake of
    forgetting the split)."""
    g = sel.graph
    pairs = separable_pairs(g, {n.id for n in sel.nodes})
    if not pairs:
        return None
    drop, rename, replace = set(), {}, {}
    for d, between, p in pairs:
        drop.update(x.id for x in between)
        drop.add(p.id)
        rename[p.id] = d.id
        for x in between:
            rename[x.id] = d.id
        replace[d.id] = {**d.attrs, "groups": 1, "out_channels": p.attrs["out_channels"], "bias": p.attrs["bias"]}
    nodes = []
    for n in g.nodes:
        if n.id in drop:
            continue
        inputs = tuple(rename.get(s, s) for s in n.inputs)
        nodes.append(Node(n.id, n.op, replace.get(n.id, n.attrs), inputs, n.in_shapes, n.out_shape, n.line, n.file, n.shares))
    out = rename.get(g.output, g.output)
    merged = Graph(g.name, g.input_shape, nodes, out, g.file, g.params, g.meta, g.groups)
    new = regraph(merged, lambda n: replace.get(n.id))
    kept = {n.id for n in merged.nodes}
    return reselect(Selection(merged, [n for n in sel.nodes], sel.label, sel.whole, [],
                              sel.scope), new, {k: v for k, v in rename.items() if v in kept})


def only(sel, pick) -> Selection | None:
    nodes = [n for n in sel.nodes if pick(n)]
    if not nodes or len(nodes) == len(sel.nodes):
        return None
    return Selection(sel.graph, nodes, sel.label, False, [], sel.region)
