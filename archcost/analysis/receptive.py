"""Receptive fields: for every node, which region of the network input each output unit sees.

Pure Python (no torch).  Definitions follow Araujo, Norris & Sim, "Computing Receptive Fields
of Convolutional Neural Networks", Distill 2019 (doi:10.23915/distill.00021), per spatial
dimension (H, then W), in pixels of the network input, 0-based, pixel centres at integers:

``size``    r: the number of input pixels along the dimension that can influence one output
            unit.  *Not clipped to the image*, as in the paper (VGG16's pool5: 212; ResNet-50's
            last conv: 427 on a 224 input) — padding contributes nothing, so the visible part is
            the region intersected with ``[0, H-1]``.
``stride``  the effective stride ("jump"): how far apart, in input pixels, the regions of two
            neighbouring output units are (the product of the strides on the path).
``offset``  the centre of the *first* output unit's region, ``(u + v) / 2``, where ``u`` and ``v``
            are the paper's left-most and right-most input coordinates of that region (``u`` is
            negative where it reaches into padding; the paper's effective padding is ``-u``).
            Unit ``i``'s region is ``[u + i·stride, v + i·stride]``, centred at
            ``offset + i·stride``.  A float: a half-integer for even sizes.

Per layer (``k`` kernel, ``s`` stride, ``d`` dilation, ``p`` the padding before the first
element; ``S`` the input's effective stride) the paper's recurrences, run forwards:
``u ← u − p·S``, ``v ← v + (d·(k−1) − p)·S``, ``S ← s·S`` (so ``r ← r + d·(k−1)·S``).

Graphs with several paths (residual adds, inception concats, squeeze-excitation gates).  Each
node keeps one ``(u, v, S)`` triple per distinct stride among the paths into it; a merge takes
their union, so the region of unit ``i`` is ``[min(u + i·S), max(v + i·S)]`` over the triples.
For an aligned network (every path gives the same stride and centre, as in ResNet and
Inception) this is exactly the paper's rule — the largest receptive field over the paths into
the node — and in general it is the region the gradient of that unit actually reaches (the
tests check it against torch).  A tensor broadcast along a dimension (a squeeze-excitation gate
of size 1×1 multiplied into a C×H×W map) is the same for every unit, so its triple gets stride
0: after the first SE gate every unit depends on the whole input, which is true of such a
network.  ``stride`` reports the largest stride among the triples.

Ops.  conv, max/avg pool: the recurrence above (asymmetric padding uses the padding before the
first element).  Adaptive pooling: exact when the output size divides the input size (it is
then a pool with kernel = stride = input/output), global pooling included: its one unit sees
every unit of its input.  Elementwise ops, activations, norms, dropout, scale, channel slices and
shuffles: identity (norms are taken as the per-element affine maps they are at inference; their
statistics are not counted as a spatial dependence).  ``zeropad2d`` shifts the region by its
padding (negative padding crops).  ``concat`` along channels and ``add``/``multiply``: the union
above.  Softmax along a spatial dimension makes that dimension global.

After the feature maps.  ``flatten`` only reshapes: each of its features is one unit of the
map, so it reports the map's field (``rf_region`` indexes its units by the map's H and W).  A
``linear`` layer mixes all of them: each of its units sees the union of the regions of every
unit of the map (the "whole input", usually larger than the image since it is not clipped),
reported as that union's ``size`` and ``offset`` with ``stride`` 0 — every unit shares one
region, there is no grid to step along; the classifier's activations, dropout and later linear
layers keep it.  A global pool's output is a 1×1 map whose one unit sees every unit of its input
(``stride`` = the input's stride × its size, as for any pool).

Tokens and attention.  A view with its geometry (flatten, permute, transpose, unflatten) keeps
track of which tensor dimension holds which positions (FLAT with a ``layout``), so ViT's patch
tokens and ConvNeXt's channels-last maps keep their units' fields, and a linear layer that mixes
only features (a per-token MLP) is the identity here.  Attention (rule ``global``) lets every
unit see every position: its output and everything after it is *global* (``RF.is_global``,
``size``/``offset`` of the whole input, stride 0; the table prints ``global``).  A matmul of two
activations (rule ``product``) is global when it sums over positions (A·V) and undefined when each
output pairs two positions (a QKᵀ score).

``None`` (undefined): every node of a network whose input has no spatial dimension (an MLP on a
vector); a transposed convolution with stride > 1 (its output units see windows of size varying
with the unit's phase, 1/stride apart: no single size and integer stride) and an adaptive pool
whose output size does not divide its input (windows of unequal size and spacing), and every
node after them up to a ``linear`` layer, which is defined again (it sees all of its input,
whatever the windows); ``concat`` along a spatial dimension.  :func:`rf_region` with
``clip=True`` is exact for all of these.

Where the per-op rules live: each op names its rule on its definition (``OpDef.rf``, an
:class:`~archcost.ops.base.RFRule`: one of eleven — same, window, transposed, union, join,
reshape, dense, shift, along, global, product — with the geometry it needs, computed by the op
from its own prepared attributes: kernel, stride, dilation, padding before, a dimension, or the
input dimensions a view's output dimensions are made of).  This module implements the rules once (:data:`RULES`, keyed by rule) and reads no op's attributes
itself; ``register`` refuses an op without a rule (``tests/test_registry.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..errors import SpecError
from ..ir import INPUT, Graph
from ..ops import OPS


@dataclass(frozen=True)
class RF:
    """Receptive field of a node's output units, one entry per spatial dimension (H, then W).

    ``size`` and ``stride`` are ints, ``offset`` floats (see the module docstring for the
    definitions and the offset convention).
    """

    size: tuple
    stride: tuple
    offset: tuple
    #: an attention layer, or any layer after one: every unit sees every position of the input, so the
    #: whole image; ``size``/``offset`` are then that region's (stride 0), and the table prints ``global``
    is_global: bool = False


class _State(NamedTuple):
    """What is known about a node's output units.

    kind    GRID: units indexed by the output's spatial dims; FLAT: a flattened map (each unit is
            one unit of that map, indexed by the map's spatial dims); VECTOR: every unit sees the
            same region (after a linear layer).
    pieces  per dim, the (u, v, S) triples, one per distinct stride S; None if undefined.
    whole   per dim, (lo, hi) of the union of every unit's region; None if unknown.
    sizes   the grid's (or flattened map's) spatial sizes; None for VECTOR.
    layout  FLAT only: per dimension of the tensor, the spatial dimensions of the map it indexes (``()``
            for features, ``(0, 1)`` for H and W flattened into tokens), or None when a reshape mixed
            features with positions (a CNN's flatten before its classifier).  A GRID's layout is the
            standard ``((), (0,), (1,))``: channels first.
    everything  VECTOR only: every unit sees every position of the input (after attention): ``global``.
    """

    kind: str
    pieces: tuple | None
    whole: tuple | None
    sizes: tuple | None
    layout: tuple | None = None
    everything: bool = False


GRID, FLAT, VECTOR = "grid", "flat", "vector"
#: the ``rf`` column of a node that sees the whole input through attention (``rf_stride``/``rf_offset`` null)
GLOBAL = "global"
ALL = "all"  # the range of every unit of a VECTOR node


class _Unmapped(Exception):
    """An exact clipped region cannot be traced through this op (a window over a flattened map)."""


def _merge(pieces):
    """One triple per stride: the union of triples with the same stride."""
    by_s: dict = {}
    for u, v, s in pieces:
        u0, v0, _ = by_s.get(s, (u, v, s))
        by_s[s] = (min(u, u0), max(v, v0), s)
    return tuple(sorted(by_s.values(), key=lambda p: p[2]))


def _grid(pieces, sizes):
    sizes = tuple(sizes)
    whole = tuple((min(u for u, _, _ in ps), max(v + (n - 1) * s for _, v, s in ps)) for ps, n in zip(pieces, sizes))
    return _State(GRID, pieces, whole, sizes)


def _vector(whole, everything=False):
    if whole is None:
        return _State(VECTOR, None, None, None, everything=everything)
    return _State(VECTOR, tuple(((lo, hi, 0),) for lo, hi in whole), whole, None, everything=everything)


def _standard(nd):
    """The layout of a channels-first map with ``nd`` spatial dimensions."""
    return ((),) + tuple((i,) for i in range(nd))


def _layout(x):
    """Per dimension of the tensor, the spatial dimensions of the map it indexes; None if unknown."""
    if x.kind == GRID:
        return _standard(len(x.sizes))
    return x.layout if x.kind == FLAT else None


def _union_whole(ins):
    if not ins or any(x.whole is None for x in ins):
        return None
    return tuple((min(x.whole[i][0] for x in ins), max(x.whole[i][1] for x in ins)) for i in range(len(ins[0].whole)))


def _undefined(node, whole=None):
    return _State(GRID, None, whole, tuple(node.out_shape[1:]))


def _geometry(node):
    """The op's geometry for its rule (see :data:`archcost.ops.base.RF_RULES`): for ``window`` and
    ``transposed`` (kernel, stride, dilation, padding before) per spatial dim, or None; for ``shift``
    the padding before per dim; for ``join`` and ``along`` a dimension (0 = channels)."""
    return OPS[node.op].rf.geometry(node.attrs, list(node.in_shapes), node.out_shape)


# ---- forward rules: input states -> output state (the affine, unclipped model)

def _slides(rule):
    """A forward rule for an op that slides over the grid: (input state, node) -> pieces or a state."""
    def forward(ins, node):
        x = ins[0]
        if x.kind == VECTOR:  # every unit already sees the same region
            return x
        if x.kind == FLAT or x.pieces is None:
            return _undefined(node)
        out = rule(x, node)
        return out if isinstance(out, _State) else _grid(out, node.out_shape[1:])
    return forward


@_slides
def _f_window(x, node):
    g = _geometry(node)
    if g is None:  # unequal adaptive windows: undefined per unit, though together they read all their input
        return _undefined(node, x.whole)
    return tuple(_merge((u - p * S, v + (d * (k - 1) - p) * S, s * S) for u, v, S in ps)
                 for ps, k, s, d, p in zip(x.pieces, *g))


@_slides
def _f_conv_transpose(x, node):
    kernel, stride, dilation, pad = _geometry(node)
    if any(s != 1 for s in stride):
        return _undefined(node)
    # stride 1: output j sums inputs j + p - d(k-1) .. j + p
    return tuple(_merge((u + (p - d * (k - 1)) * S, v + p * S, S) for u, v, S in ps)
                 for ps, k, d, p in zip(x.pieces, kernel, dilation, pad))


def _f_identity(ins, node):
    return ins[0]


def _per_position(x, node):
    """Whether a ``dense`` op mixes only features of ``x`` (a linear layer on channels-last tokens)."""
    layout = _layout(x)
    return (x.kind == FLAT and layout is not None and OPS[node.op].rf.geometry is not None
            and not any(layout[d] for d in _geometry(node)))


def _f_linear(ins, node):
    """Every output unit sees all of its input: one region, stride 0 — unless it mixes only features."""
    x = ins[0]
    if x.kind == VECTOR or _per_position(x, node):
        return x
    return _vector(x.whole)


def _global(whole):
    return _vector(whole, everything=True)


def _f_global(ins, node):
    """Attention: every unit sees every position of its inputs, so the whole input."""
    return _global(_union_whole(ins))


def _matmul_sums_positions(ins):
    """A matmul of two activations with known layouts: True when it sums over positions (A·V), False
    when each output pairs positions (QKᵀ), None when a layout is unknown."""
    lx, ly = (_layout(x) for x in ins)
    if (lx is not None and len(lx) >= 2 and lx[-1]) or (ly is not None and len(ly) >= 2 and ly[-2]):
        return True
    return None if lx is None or ly is None else False


def _f_matmul(ins, node):
    whole = _union_whole(ins)
    if any(x.everything for x in ins) or _matmul_sums_positions(ins):
        return _global(whole)
    sizes = next((x.sizes for x in ins if x.sizes is not None), None)
    # each output pairs a row of one operand with a column of the other: two positions, no single field
    return _State(FLAT, None, whole, sizes) if sizes is not None else _vector(whole)


def _relayout(layout, dims, out_sizes, map_sizes):
    """The layout after a view whose output dimension i is made of input dimensions ``dims[i]`` (a split
    repeats one input dimension); None when it mixes features with positions or splits tokens other
    than back into the map's own rows and columns."""
    out, i = [], 0
    while i < len(dims):
        src = dims[i]
        if len(src) == 1:  # one input dimension: kept, or split into a run of output dimensions
            j = i
            while j + 1 < len(dims) and dims[j + 1] == src:
                j += 1
            t, k = layout[src[0]], j - i + 1
            if k == 1 or not t:
                out += [t] * k
            elif len(t) == k and tuple(out_sizes[i:j + 1]) == tuple(map_sizes[d] for d in t):
                out += [(d,) for d in t]
            else:
                return None
            i = j + 1
            continue
        parts = [layout[d] for d in src]
        cat = sum(parts, ())
        if cat and (not all(parts) or list(cat) != list(range(cat[0], cat[0] + len(cat)))):
            return None  # features merged with positions, or positions out of row-major order
        out.append(cat)
        i += 1
    return tuple(out)


def _f_flatten(ins, node):
    """A view (flatten, permute, transpose, unflatten): each unit is still one unit of the map.  With the
    op's geometry the layout is followed, so tokens and channels-last maps stay mapped to the image."""
    x = ins[0]
    if x.kind == VECTOR:
        return x
    if OPS[node.op].rf.geometry is None:
        if x.kind != GRID or tuple(node.out_shape) == tuple(node.in_shapes[0]):
            return x
        return x._replace(kind=FLAT)
    layout = _layout(x)
    if layout is not None:
        layout = _relayout(layout, _geometry(node), node.out_shape, x.sizes)
    if layout == _standard(len(x.sizes)):
        return _State(GRID, x.pieces, x.whole, x.sizes)
    return _State(FLAT, x.pieces, x.whole, x.sizes, layout=layout)


def _softmax_dim(node):
    """The spatial dimension (0-based) a softmax normalises over, or None (the channels)."""
    d = _geometry(node)
    return d - 1 if d > 0 else None


def _f_softmax(ins, node):
    x = ins[0]
    d = _softmax_dim(node)
    if x.kind == FLAT and x.layout is not None:  # tokens: global along the positions the dimension indexes
        t = x.layout[_geometry(node)]
        if not t or x.pieces is None:
            return x
        return x._replace(pieces=tuple(((x.whole[i][0], x.whole[i][1], 0),) if i in t else ps
                                       for i, ps in enumerate(x.pieces)))
    if x.kind == FLAT:  # over the features of a flattened map: all of it
        return _vector(x.whole)
    if x.kind == VECTOR or d is None or x.pieces is None:
        return x
    out = list(x.pieces)
    out[d] = ((x.whole[d][0], x.whole[d][1], 0),)
    return _grid(tuple(out), x.sizes)


def _broadcast_dims(node, k):
    out = node.out_shape[1:]
    return [node.in_shapes[k][1 + i] == 1 and out[i] != 1 for i in range(len(out))]


def _f_union(ins, node):
    kinds = {x.kind for x in ins}
    nd = len(next((x.whole or x.pieces for x in ins if x.whole or x.pieces), ()))
    whole = None
    if nd and all(x.whole is not None for x in ins):
        whole = tuple((min(x.whole[i][0] for x in ins), max(x.whole[i][1] for x in ins)) for i in range(nd))
    if kinds != {GRID} and kinds != {FLAT}:
        # vectors (or a vector and a flattened map): every unit, one region; global if any side is
        return _vector(whole, everything=any(x.everything for x in ins))
    layout = ins[0].layout if all(x.layout == ins[0].layout for x in ins) else None
    if any(x.pieces is None for x in ins):
        return _State(ins[0].kind, None, whole, ins[0].sizes, layout=layout)
    merged = []
    for i in range(nd):
        ps = []
        for k, x in enumerate(ins):
            bc = x.kind == GRID and _broadcast_dims(node, k)[i]  # one value for every unit: stride 0
            ps += [(u, v, 0 if bc else s) for u, v, s in x.pieces[i]]
        merged.append(_merge(ps))
    if kinds == {FLAT}:
        return _State(FLAT, tuple(merged), whole, ins[0].sizes, layout=layout)
    return _grid(tuple(merged), node.out_shape[1:])


def _f_concat(ins, node):
    d = _geometry(node)
    if d != 0 and all(x.kind == GRID for x in ins):
        return _undefined(node)  # along a spatial dimension: units of different inputs side by side
    if all(x.kind == FLAT and x.layout is not None for x in ins) and any(x.layout[d] for x in ins):
        return _State(FLAT, None, _union_whole(ins), ins[0].sizes)  # along the tokens: likewise
    return _f_union(ins, node)


@_slides
def _f_zeropad(x, node):
    return tuple(tuple((u - b * S, v - b * S, S) for u, v, S in ps) for ps, b in zip(x.pieces, _geometry(node)))


# ---- backward rules: which units of the inputs a set of output units reads (exact, clipped).
# "Units" is one set of indices per spatial dimension (of the grid, or of the flattened map), or
# ALL.  Every op reads each dimension independently of the others, so the projections onto the
# dimensions propagate exactly.

def _full(sizes):
    return tuple(frozenset(range(n)) for n in sizes)


def _kept(sets):
    return None if any(not s for s in sets) else tuple(frozenset(s) for s in sets)


def _on_grid(rule):
    """A backward rule for an op that slides over the grid: (units, node, input state) -> units."""
    def back(r, node, ins):
        x = ins[0]
        if x.kind == VECTOR:  # every unit is alike
            return [ALL]
        if x.kind == FLAT:
            raise _Unmapped
        return [_kept(rule(_full(node.out_shape[1:]) if r is ALL else r, node, x))]
    return back


@_on_grid
def _b_window(r, node, x):
    g = _geometry(node)
    if g is None:  # adaptive windows: bin j reads floor(j n/o) .. ceil((j+1) n/o) - 1
        return [{i for j in js for i in range(j * n // o, -(-(j + 1) * n // o))}
                for js, n, o in zip(r, x.sizes, node.out_shape[1:])]
    return [{j * s - p + t * d for j in js for t in range(k)} & set(range(n))
            for js, k, s, d, p, n in zip(r, *g, x.sizes)]


@_on_grid
def _b_conv_transpose(r, node, x):
    rr = []
    for js, n, k, s, d, p in zip(r, x.sizes, *_geometry(node)):
        # output j reads input i where i·s = j + p - t·d for a tap t in [0, k)
        rr.append({(j + p - t * d) // s for j in js for t in range(k)
                   if (j + p - t * d) % s == 0 and 0 <= (j + p - t * d) // s < n})
    return rr


def _b_identity(r, node, ins):
    return [r]


def _b_linear(r, node, ins):
    x = ins[0]
    if x.kind != VECTOR and _per_position(x, node):
        return [r]
    return [ALL if x.kind == VECTOR else _full(x.sizes)]


def _b_global(r, node, ins):
    return [ALL if x.kind == VECTOR else _full(x.sizes) for x in ins]


def _b_matmul(r, node, ins):
    sizes = next((x.sizes for x in ins if x.sizes is not None), None)
    if r is ALL or r == _full(sizes or ()) or any(x.everything for x in ins) or _matmul_sums_positions(ins):
        return _b_global(r, node, ins)
    raise _Unmapped  # a score pairs two positions: the rows and columns do not project per dimension


def _b_softmax(r, node, ins):
    x = ins[0]
    if x.kind == FLAT and x.layout is not None:
        t = x.layout[_geometry(node)]
        return [r if r is ALL or not t else tuple(frozenset(range(x.sizes[i])) if i in t else js
                                                  for i, js in enumerate(r))]
    if x.kind == FLAT:
        return [_full(x.sizes)]
    d = _softmax_dim(node)
    if r is ALL or x.kind == VECTOR or d is None:
        return [r]
    out = list(r)
    out[d] = frozenset(range(x.sizes[d]))
    return [tuple(out)]


def _b_union(r, node, ins):
    out = []
    for k, x in enumerate(ins):
        if x.kind == VECTOR:
            out.append(ALL)
        elif r is ALL:
            out.append(_full(x.sizes))
        elif x.kind == GRID:
            out.append(tuple(frozenset({0}) if bc else js for js, bc in zip(r, _broadcast_dims(node, k))))
        else:
            out.append(r)
    return out


def _b_concat(r, node, ins):
    d = _geometry(node)
    if d == 0 or r is ALL or not all(x.kind == GRID for x in ins):
        return _b_union(r, node, ins)
    out, start = [], 0
    for x, shape in zip(ins, node.in_shapes):  # each input holds a stretch of the concatenated dimension
        rr = list(r)
        rr[d - 1] = {j - start for j in r[d - 1]} & set(range(shape[d]))
        out.append(_kept(rr))
        start += shape[d]
    return out


@_on_grid
def _b_zeropad(r, node, x):
    return [{j - p for j in js} & set(range(n)) for js, p, n in zip(r, _geometry(node), x.sizes)]


#: rule (``OpDef.rf.rule``) -> (forward: input states -> state, backward: output range -> input ranges)
RULES = {
    "same": (_f_identity, _b_identity),
    "window": (_f_window, _b_window),
    "transposed": (_f_conv_transpose, _b_conv_transpose),
    "union": (_f_union, _b_union),
    "join": (_f_concat, _b_concat),
    "reshape": (_f_flatten, _b_identity),
    "dense": (_f_linear, _b_linear),
    "shift": (_f_zeropad, _b_zeropad),
    "along": (_f_softmax, _b_softmax),
    "global": (_f_global, _b_global),
    "product": (_f_matmul, _b_matmul),
}


def _rule(graph, n):
    return RULES[OPS[n.op].rf.rule]


def _states(graph: Graph) -> dict:
    cached = graph.cache.rf_states
    if cached is not None:
        return cached
    nd = len(graph.input_shape) - 1
    states: dict = {}
    if nd >= 1:
        states[INPUT] = _grid(tuple(((0, 0, 1),) for _ in range(nd)), graph.input_shape[1:])
        for n in graph.nodes:
            states[n.id] = _rule(graph, n)[0]([states[i] for i in n.inputs], n)
    graph.cache.rf_states = states
    return states


def _rf(state, image) -> RF | None:
    if state.everything:
        whole = state.whole or tuple((0, n - 1) for n in image)
        return RF(tuple(hi - lo + 1 for lo, hi in whole), (0,) * len(whole), tuple((lo + hi) / 2 for lo, hi in whole),
                  is_global=True)
    if state.pieces is None:
        return None
    size, stride, offset = [], [], []
    for ps in state.pieces:
        lo, hi = min(u for u, _, _ in ps), max(v for _, v, _ in ps)
        size.append(hi - lo + 1)
        stride.append(max(s for _, _, s in ps))
        offset.append((lo + hi) / 2)
    return RF(tuple(size), tuple(stride), tuple(offset))


def receptive_fields(graph: Graph) -> dict:
    """Receptive field of every node, ``{node id: RF or None}`` (``None`` where undefined; see the
    module docstring).  Computed once per graph and cached on it."""
    cached = graph.cache.rf
    if cached is None:
        states = _states(graph)
        image = graph.input_shape[1:]
        cached = graph.cache.rf = {n.id: (_rf(states[n.id], image) if n.id in states else None) for n in graph.nodes}
    return cached


def rf_region(graph: Graph, node_id: str, index=None, *, clip: bool = False):
    """The input region that output unit ``index`` of ``node_id`` sees: one ``(first, last)``
    input pixel (inclusive) per spatial dimension of the network input.

    ``index`` is one int per spatial dimension (default: the first unit).  For a flattened map
    it is the unit of the map (feature ``c·H·W + h·W + w`` is unit ``(h, w)``); after a linear
    layer every unit sees the same region and ``index`` is ignored.

    ``clip=False``: the paper's affine model, ``[u + i·stride, v + i·stride]`` (the union over
    the paths' strides), which may reach into padding (negative, or past the input's end);
    ``None`` where the receptive field is undefined.
    ``clip=True``: exactly the pixels that can influence the unit, found by walking the graph
    backwards and dropping padded positions at every layer (never larger than the image; it also
    covers transposed convolutions and unequal adaptive windows).  ``None`` if no pixel can (a
    unit that reads only padding) or the walk meets a window over a flattened map.
    """
    states = _states(graph)
    if node_id not in states or node_id == INPUT:
        raise SpecError(f"no layer '{node_id}' in {graph.name}", file=graph.file,
                        fix="use a node id as `archcost table` lists it.")
    x = states[node_id]
    nd = len(graph.input_shape) - 1
    index = tuple(index) if index is not None else (0,) * nd
    if clip:
        try:
            return _clipped_region(graph, states, node_id, ALL if x.kind == VECTOR else tuple(frozenset({j}) for j in index))
        except _Unmapped:
            return None
    if x.pieces is None:
        return None
    j = (0,) * nd if x.kind == VECTOR else index
    return tuple((min(u + i * s for u, _, s in ps), max(v + i * s for _, v, s in ps)) for ps, i in zip(x.pieces, j))


def _clipped_region(graph, states, node_id, start):
    need = {node_id: start}
    for n in reversed(graph.nodes):
        r = need.pop(n.id, None)
        if r is None:
            continue
        for src, rr in zip(n.inputs, _rule(graph, n)[1](r, n, [states[i] for i in n.inputs])):
            if rr is None:
                continue
            old = need.get(src)
            if old is None:
                need[src] = rr
            elif old is ALL or rr is ALL:
                need[src] = ALL
            else:
                need[src] = tuple(a | b for a, b in zip(old, rr))
    got = need.get(INPUT)
    if got is ALL:
        got = _full(graph.input_shape[1:])
    return None if got is None else tuple((min(s), max(s)) for s in got)


def add_receptive_field_columns(analysis):
    """Add ``rf``, ``rf_stride`` and ``rf_offset`` columns (lists per spatial dim, H then W;
    empty where undefined) to an :class:`~archcost.analysis.Analysis`; ``--depth`` keeps a
    block's last layer's."""
    rfs = receptive_fields(analysis.graph)
    fields = [rfs.get(r.name) for r in analysis.rows]
    analysis.add_column("rf", [GLOBAL if f and f.is_global else list(f.size) if f else None for f in fields],
                        collapse="last")
    analysis.add_column("rf_stride", [list(f.stride) if f and not f.is_global else None for f in fields],
                        collapse="last")
    analysis.add_column("rf_offset", [list(f.offset) if f and not f.is_global else None for f in fields],
                        collapse="last")
    return analysis
