"""The graph IR: the one truth that analysis, lowering and reports read.

A :class:`Graph` is a list of :class:`Node` in topological order.  Each node is
one primitive op with prepared attributes, the ids of its inputs (``"input"``
is the network input) and its input/output shapes without the batch.  Node
ids are dotted layer paths (``stage1.inverted_residual0.conv2d0``); the
lowered torch module has a submodule of exactly that dotted name, so rows,
modules and profiler entries line up by name.

A graph is a value: ``archcost.build`` caches one per spec file version and
hands the same object to every caller, so neither a :class:`Graph` nor its
:class:`Node` can be changed once built.  A graph is a frozen dataclass, a node
a named tuple; ``nodes`` is a tuple and ``attrs``, ``params``, ``meta`` (nested mappings included) and
``groups`` are :class:`FrozenDict`.  To edit, build a new graph (as
``homework/transforms`` does): ``dict(node.attrs)`` is a plain, mutable copy.
Leaf values are kept as prepared (a conv's explicit ``padding`` may be a list).

A node with ``shares`` set runs with the weights of the earlier node it names (a module called twice,
written ``shares:`` in a spec): its params, buffers and weight bytes are counted once, at that node
(0 here, as ``sum(p.numel() for p in model.parameters())`` and every peer count them), its MACs at
every call.

What analysis derives from a graph (per-node costs, counts per convention,
peak liveness, the training model, receptive fields, workings) is kept in its
:class:`GraphCache`, ``graph.cache``: one slot per derived value, each filled on
first use by the one function that owns it and never changed after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

INPUT = "input"


class FrozenDict(dict):
    """A dict that refuses changes: the mappings of a graph, which every caller shares.

    Reads, ``**`` unpacking, ``json`` and ``==`` work as for a dict; ``dict(d)`` (or
    ``d.copy()``) gives a mutable copy.
    """

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("a graph's mappings are read-only (a built graph is shared); edit a copy: dict(...)")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self):  # pickle and copy rebuild it from its items, not item by item
        return type(self), (dict(self),)


def frozen(mapping) -> FrozenDict:
    """``mapping`` as a :class:`FrozenDict`, nested dicts included (itself when it already is one)."""
    if type(mapping) is FrozenDict:
        return mapping
    return FrozenDict({k: frozen(v) if isinstance(v, dict) else v for k, v in mapping.items()})


class GraphCache:
    """What analysis derives from one graph, filled on first use (each slot by the function named).

    All of it is independent of batch, dtype and (except ``counted``, keyed by it) convention;
    a graph's cache lives and dies with the graph, so a new graph (another input shape, a
    homework transform) starts empty.
    """

    __slots__ = ("node_costs", "counted", "peak_elems", "training_model", "rf_states", "rf", "explains")

    def __init__(self):
        self.node_costs: list | None = None  # analysis.engine.node_costs: a NodeCosts per node
        self.counted: dict = {}  # analysis.engine: convention name -> its per-node counts and sums
        self.peak_elems: int | None = None  # analysis.engine.peak_activation_elems (batch 1)
        self.training_model = None  # analysis.training: what backward saves (a _Model)
        self.rf_states: dict | None = None  # analysis.receptive: node id -> forward receptive-field state
        self.rf: dict | None = None  # analysis.receptive.receptive_fields: node id -> RF or None
        self.explains: dict = {}  # analysis.explain.explains: node id -> the op's workings

    def __repr__(self) -> str:
        filled = [s for s in self.__slots__ if getattr(self, s) not in (None, {})]
        return f"GraphCache({', '.join(filled) or 'empty'})"


class _NodeFields(NamedTuple):
    id: str
    op: str
    attrs: FrozenDict  # replayed nodes share one object
    inputs: tuple
    in_shapes: tuple
    out_shape: tuple
    line: int | None = None
    file: str | None = None
    shares: str | None = None  # the id of an earlier node whose weights this one uses (`shares:`), else None


class Node(_NodeFields):
    """One primitive op of a graph (immutable: a named tuple, a fraction of a frozen dataclass's
    construction time, which counts in expansion; ``attrs`` given as a dict is frozen here)."""

    __slots__ = ()

    def __new__(cls, id, op, attrs, inputs, in_shapes, out_shape, line=None, file=None, shares=None):
        if type(attrs) is not FrozenDict:
            attrs = FrozenDict(attrs)
        return tuple.__new__(cls, (id, op, attrs, inputs, in_shapes, out_shape, line, file, shares))


@dataclass(frozen=True, slots=True)
class Graph:
    name: str
    input_shape: tuple
    nodes: tuple  # a list is turned into a tuple on construction
    output: str
    file: str = "<spec>"
    params: FrozenDict = field(default_factory=FrozenDict)
    meta: FrozenDict = field(default_factory=FrozenDict)
    groups: FrozenDict = field(default_factory=FrozenDict)  # dotted path of each block call -> the block's name
    cache: GraphCache = field(default_factory=GraphCache, init=False, repr=False, compare=False)

    def __post_init__(self):
        set_ = object.__setattr__
        if type(self.nodes) is not tuple:
            set_(self, "nodes", tuple(self.nodes))
        set_(self, "input_shape", tuple(self.input_shape))
        for name in ("params", "meta", "groups"):
            set_(self, name, frozen(getattr(self, name)))

    def __len__(self) -> int:
        return len(self.nodes)

    def by_id(self) -> dict:
        return {n.id: n for n in self.nodes}
