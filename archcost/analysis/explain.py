"""Workings of layers, blocks and whole models under a counting convention (pure Python).

A layer's working comes from its op's ``explain`` hook (archcost/ops); this module applies the
convention (which cost categories are MACs or FLOPs, whether batch-norm's running statistics
are params), the dtype and the batch, and sums layers into blocks and models: a block's working
is the sum of its parts, grouped by the dotted node ids, so a model's working reads
``model = stage sums``, each stage ``= its blocks``, down to one line per layer.

Every value here equals what :func:`archcost.analysis.analyze_graph` computes (a test sums the
workings of every zoo model and compares with the totals).
"""

from __future__ import annotations

from math import prod

from ..ir import INPUT, Graph
from ..ops import OPS
from ..ops import working as wk
from ..ops.working import Working
from .conventions import CONVENTIONS, DTYPE_BYTES, EXTRA_FLOPS

WEIGHT_FAMILIES = ("conv", "linear")  # the layers papers count in a network's depth


def explains(graph: Graph, node) -> dict:
    """The op's workings for one node (cached on the graph)."""
    cache = graph.cache.explains
    got = cache.get(node.id)
    if got is None:
        got = cache[node.id] = OPS[node.op].explain(node.attrs, list(node.in_shapes), node.out_shape)
    return got


def zero(quantity: str, note: str, label: str = "") -> Working:
    return Working(quantity, 0, ("0",), note=note, label=label)


def _relabel(w: Working, label: str, quantity: str | None = None, unit: str | None = None, note: str | None = None):
    return Working(quantity or w.quantity, w.value, w.sides, w.unit if unit is None else unit,
                   w.note if note is None else note, w.parts, label)


def node_working(graph: Graph, node, quantity: str, convention: str = "default", *, dtype: str = "float32",
                 batch: int = 1) -> Working:
    """The working of one quantity of one layer; its value equals the layer's row in ``analyze``."""
    conv = CONVENTIONS[convention]
    ex = explains(graph, node)
    op = OPS[node.op]
    ins = list(node.in_shapes)
    p = op.params(node.attrs, ins)
    params, trainable, buffers = conv.params(p, node.op, node)
    label = node.id
    if quantity == "output_shape":
        return _relabel(ex["output_shape"], label)
    if quantity in ("params", "trainable_params", "non_trainable_params", "buffers", "weight_bytes"):
        if node.shares:  # the row counts 0: the weights are the owner's, counted at its row
            return zero(quantity, f"shares the weights of {node.shares}, counted there", label)
        w = _params_working("params" if quantity == "weight_bytes" else quantity, ex, p, conv, node.op, params,
                            trainable, buffers)
        if quantity == "weight_bytes":
            b = DTYPE_BYTES[dtype]
            w = wk.scaled(w, b, f"bytes ({dtype})", quantity="weight_bytes", unit="bytes") if w.value else \
                zero("weight_bytes", w.note)
        return _relabel(w, label)
    if quantity in ("macs", "flops"):
        c = op.costs(node.attrs, ins, node.out_shape)
        w = _macs_working(ex, c, conv, node, p) if quantity == "macs" else _flops_working(ex, c, conv, node, p)
    elif quantity in ("activation_elems", "activation_bytes"):
        view = " (a view: it shares its input's storage)" if op.view else ""
        w = wk.product("activation_elems", [(node.out_shape, "elements")], note=f"the output of {node.op}{view}")
        if quantity == "activation_bytes":
            w = wk.scaled(w, DTYPE_BYTES[dtype], f"bytes ({dtype})", quantity="activation_bytes", unit="bytes")
    else:
        raise KeyError(quantity)
    if batch != 1 and w.value:
        w = wk.scaled(w, batch, "images (batch)")
    return _relabel(w, label)


def _params_working(quantity, ex, p, conv, opname, params, trainable, buffers) -> Working:
    torch_params = ex.get("params") or zero("params", f"{opname} has no parameters")
    stats = ex.get("running_stats")
    keras = conv.params_rule == "keras"
    if quantity == "params":
        if keras and stats is not None:
            w = wk.total("params", [_relabel(torch_params, "γ, β"), _relabel(stats, "moving mean, variance")],
                         note="Keras counts γ, β and the moving mean and variance (non-trainable)")
        else:
            w = torch_params
        want = params
    elif quantity == "trainable_params":
        w = zero("trainable_params", "frozen layer (trainable: false)") if p.frozen else torch_params
        want = trainable
    elif quantity == "non_trainable_params":
        parts = ([torch_params] if p.frozen and torch_params.value else []) + ([stats] if keras and stats else [])
        w = wk.total("non_trainable_params", parts) if len(parts) > 1 else parts[0] if parts else zero(
            "non_trainable_params", "every parameter is trainable" if params else f"{opname} has no parameters")
        want = params - trainable
    else:
        b = ex.get("buffers") or zero("buffers", f"{opname} has no buffers")
        if keras and stats is not None:
            w = Working("buffers", b.value - stats.value, (f"{wk.num(b.value)} − {wk.num(stats.value)}",
                                                           wk.num(b.value - stats.value)),
                        note="Keras counts the moving mean and variance as params; num_batches_tracked remains")
        else:
            w = b
        want = buffers
    if w.value != want:  # a convention this module does not know how to derive: say so, keep the number right
        w = Working(quantity, want, (wk.num(want),), note=f"as the {conv.name} convention counts {opname}")
    return w


def _macs_working(ex, c, conv, node, p) -> Working:
    opname = node.op
    value = conv.macs(c, node, p)
    if not value:
        return zero("macs", f"the {conv.name} convention counts no MACs for {opname}")
    for key in (conv.name, "macs", "fvcore"):
        w = ex.get(key)
        if w is not None and c.get(key) == value:  # its parts too (attention: projections, QKᵀ, A·V)
            return Working("macs", w.value, w.sides, "MACs", w.note, w.parts)
    return Working("macs", value, (wk.num(value),), "MACs", f"as the {conv.name} convention counts {opname}")


def _flops_working(ex, c, conv, node, p) -> Working:
    opname = node.op
    value = conv.flops(c, node, p)
    macs = _macs_working(ex, c, conv, node, p)
    if not value:
        return zero("flops", f"the {conv.name} convention counts no FLOPs for {opname}")
    two = wk.scaled(macs, 2, "FLOPs per MAC", quantity="flops", unit="FLOPs", note="a multiply and an add per MAC")
    if value == two.value:
        return two
    extras = [ex[k] for k in EXTRA_FLOPS if c.get(k) and k in ex]
    parts = ([two] if macs.value else []) + extras
    if len(parts) == 1 and parts[0].value == value:
        return Working("flops", value, parts[0].sides, "FLOPs", parts[0].note)
    if value == sum(p.value for p in parts):
        return wk.total("flops", parts, unit="FLOPs", note=", ".join(_category(p.quantity) for p in parts))
    return Working("flops", value, (wk.num(value),), "FLOPs", f"as the {conv.name} convention counts {opname}")


def _category(key: str) -> str:
    return {"flops": "2 × MACs", "bias_flops": "bias adds", "norm_flops": "normalisation", "act_flops": "activation",
            "pool_flops": "pooling", "eltwise_flops": "element-wise"}.get(key, key)


# ---------------------------------------------------------------------------- sums over blocks

def tree(leaves, quantity: str, *, label: str, unit: str = "", keep_zero: bool = False) -> Working:
    """Sum leaf workings (each labelled by its dotted node id) into a tree of block sums.

    Layers that contribute nothing are left out of the sums (their number is noted) unless
    ``keep_zero``; a group with a single contributing layer is that layer.
    """
    leaves = list(leaves)
    kept = [w for w in leaves if keep_zero or w.value]
    skipped = len(leaves) - len(kept)

    def build(items, depth, prefix):
        groups: dict = {}
        for segs, w in items:
            key = segs[depth] if depth < len(segs) - 1 else None
            groups.setdefault(key if key is not None else ("leaf", w.label), []).append((segs, w))
        parts = []
        for key, members in groups.items():
            if isinstance(key, tuple):
                parts.append(members[0][1])
                continue
            path = f"{prefix}.{key}" if prefix else key
            parts.append(build(members, depth + 1, path))
        if len(parts) == 1:
            return parts[0]
        return wk.total(quantity, parts, unit=unit, label=prefix)

    items = [(w.label.split("."), w) for w in kept]
    noun = {"macs": "MACs", "flops": "FLOPs"}.get(quantity, quantity.replace("_", " "))
    note = f"not shown: {skipped} layer{'s' if skipped != 1 else ''} with 0 {noun}" if skipped else ""
    if not items:
        if len(leaves) == 1 and leaves[0].note:  # one layer: its own reason (a shared layer's weights)
            return zero(quantity, leaves[0].note, label)
        return zero(quantity, f"none of its {len(leaves)} layers has any {noun}", label)
    inner = build(items, 0, "")
    if len(items) == 1:  # one contributing layer: its own working (the note says what was left out)
        return Working(quantity, inner.value, inner.sides, inner.unit or unit, "; ".join(x for x in (inner.note, note) if x),
                       inner.parts, inner.label)
    if inner.parts:
        return Working(quantity, inner.value, inner.sides, unit, note, inner.parts, label)
    return wk.total(quantity, [inner], unit=unit, label=label, note=note)


def sum_working(graph: Graph, nodes, quantity: str, convention: str = "default", *, dtype: str = "float32",
                batch: int = 1, label: str = "", include_input=None) -> Working:
    """The working of an additive quantity over ``nodes``: the sum of each layer's, by block.

    ``include_input``: a list of layers (the block the nodes were chosen from, or True for ``nodes``)
    whose input tensor(s) to add, for activation sums.
    """
    leaves = [node_working(graph, n, quantity, convention, dtype=dtype, batch=batch) for n in nodes]
    if include_input is not None and include_input is not False:
        region = nodes if include_input is True else include_input
        leaves = [input_working(graph, region, quantity, dtype=dtype, batch=batch)] + leaves
    unit = {"macs": "MACs", "flops": "FLOPs", "activation_bytes": "bytes", "weight_bytes": "bytes"}.get(quantity, "")
    return tree(leaves, quantity, label=label or graph.name, unit=unit)


def input_working(graph: Graph, nodes, quantity: str, *, dtype: str = "float32", batch: int = 1) -> Working:
    """The input of a selection (the network input, or what enters the block) as an activation leaf."""
    ids = {n.id for n in nodes}
    shapes = {}
    for n in nodes:
        for src, shape in zip(n.inputs, n.in_shapes):
            if src not in ids:
                shapes.setdefault(src, shape)
    elems = [wk.product("activation_elems", [(s, "elements")],
                        note="the network input" if src == INPUT else f"entering from {src}") for src, s in shapes.items()]
    w = elems[0] if len(elems) == 1 else wk.total("activation_elems", elems)
    if quantity == "activation_bytes":
        w = wk.scaled(w, DTYPE_BYTES[dtype], f"bytes ({dtype})", quantity="activation_bytes", unit="bytes")
    if batch != 1:
        w = wk.scaled(w, batch, "images (batch)")
    return _relabel(w, "input" if list(shapes) == [INPUT] else "block input")


# ---------------------------------------------------------------------------- peak memory, depth

def liveness(graph: Graph, nodes=None):
    """Peak live activation elements (batch 1) over ``nodes`` (default: the whole graph), and the
    tensors live at that moment as ``[(tensor id, elems)]``, with the node after which it occurs.

    Same rules as the engine's peak: a tensor lives from the layer that makes it to its last
    consumer; views share their input's storage; tensors entering the selection are live from the
    start, tensors leaving it (or the network output) until the end.
    """
    nodes = list(graph.nodes if nodes is None else nodes)
    ids = {n.id for n in nodes}
    whole = len(ids) == len(graph.nodes)
    consumers: dict = {}
    for n in graph.nodes:
        for src in n.inputs:
            consumers.setdefault(src, []).append(n.id)
    base: dict = {}
    size: dict = {}
    last: dict = {}
    entering = []
    for n in nodes:
        for src, shape in zip(n.inputs, n.in_shapes):
            if src not in ids and src not in base:
                base[src] = src
                size[src] = prod(shape)
                last[src] = -1
                entering.append(src)
    if whole and INPUT not in base:  # a network whose input feeds nothing still holds it
        base[INPUT], size[INPUT], last[INPUT] = INPUT, prod(graph.input_shape), -1
        entering.append(INPUT)
    end = len(nodes)
    for i, n in enumerate(nodes):
        if OPS[n.op].view:
            base[n.id] = base[n.inputs[0]]
        else:
            base[n.id] = n.id
            size[n.id] = prod(n.out_shape)
            last[n.id] = i
        for src in n.inputs:
            last[base[src]] = max(last[base[src]], i)
        if n.id == graph.output or any(c not in ids for c in consumers.get(n.id, ())):
            last[base[n.id]] = end
    free_at: dict = {}
    for storage, t in last.items():
        free_at.setdefault(t, []).append(storage)
    live = {s: size[s] for s in entering}
    total = peak = sum(live.values())
    at, peak_set = None, dict(live)
    for s in free_at.get(-1, []):
        total -= live.pop(s)
    for i, n in enumerate(nodes):
        if base[n.id] == n.id:
            live[n.id] = size[n.id]
            total += size[n.id]
            if total > peak:
                peak, at, peak_set = total, n.id, dict(live)
        for s in free_at.get(i, []):
            total -= live.pop(s)
    return peak, at, list(peak_set.items())


def peak_working(graph: Graph, nodes=None, *, dtype: str = "float32", batch: int = 1, label: str = "") -> Working:
    """Peak activation bytes with the tensors live at the peak as parts."""
    peak, at, live = liveness(graph, nodes)
    parts = [Working("activation_elems", e, (wk.num(e),), label=t) for t, e in live]
    where = f"just after {at} runs" if at else "at the start"
    elems = wk.total("peak_activation_elems", parts, note=f"tensors alive {where}", label=label or graph.name)
    w = wk.scaled(elems, DTYPE_BYTES[dtype], f"bytes ({dtype})", quantity="peak_activation_bytes", unit="bytes",
                  note="the largest sum of tensors alive at one time (liveness), not the sum of all outputs")
    if batch != 1:
        w = wk.scaled(w, batch, "images (batch)")
    return _relabel(w, label or graph.name)


def depth_path(graph: Graph, nodes=None) -> list:
    """The weight layers (conv, linear) on the longest path through ``nodes``, input to output."""
    nodes = list(graph.nodes if nodes is None else nodes)
    best: dict = {}
    for n in nodes:
        prev = max((best[s] for s in n.inputs if s in best), key=len, default=[])
        best[n.id] = prev + [n.id] if OPS[n.op].family in WEIGHT_FAMILIES else prev
    return max(best.values(), key=len, default=[])


def depth_working(graph: Graph, nodes=None, *, label: str = "") -> Working:
    """Depth as the ResNet / VGG / GoogLeNet papers count it, by top-level block."""
    path = depth_path(graph, nodes)
    groups: dict = {}
    for nid in path:
        groups.setdefault(nid.split(".")[0], []).append(nid)
    parts = [Working("depth", len(ids), (wk.num(len(ids)),), label=g,
                     note=ids[0] if len(ids) == 1 else f"{ids[0]} … {ids[-1]}") for g, ids in groups.items()]
    return wk.total("depth", parts, label=label or graph.name,
                    note="weight layers (convolutions and fully connected) on the longest path")
