"""Per node, what does not depend on batch, dtype or convention: params, element counts, view-ness, costs.

Its own module, below both the engine and the training model, which each read it (the engine
imports the training model for ``totals["training_bytes"]``, so neither can hold it).
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

from ..ir import Graph
from ..ops import OPS
from ..ops.base import Params


class NodeCosts(NamedTuple):
    """One node's numbers that depend on nothing but the graph (no batch, dtype or convention)."""

    params: Params
    in_elems: int  # elements of all inputs, batch 1
    out_elems: int
    view: bool  # shares its input's storage: reads and writes nothing
    costs: dict  # the op's costs by category (see OpDef.costs)
    shared: bool = False  # uses another node's weights (`shares:`): ``params`` are that node's, counted there


def node_costs(graph: Graph) -> list:
    """A :class:`NodeCosts` per node, computed once per graph (``graph.cache.node_costs``).

    Nodes that share their attributes object and input shapes (a block call the expander
    replayed) share one entry.  A node that ``shares:`` another's weights keeps the op's ``params`` (its
    costs and the peers' rules read them) with ``shared`` set: the counts add them once, at the owner.
    """
    cache = graph.cache
    cached = cache.node_costs
    if cached is None:
        cached = []
        memo: dict = {}
        for n in graph.nodes:
            key = (n.op, id(n.attrs), n.in_shapes, n.shares is not None)
            entry = memo.get(key)
            if entry is None:
                op = OPS[n.op]
                ins = list(n.in_shapes)
                entry = memo[key] = NodeCosts(op.params(n.attrs, ins), sum(map(prod, n.in_shapes)), prod(n.out_shape),
                                              op.view, op.costs(n.attrs, ins, n.out_shape), n.shares is not None)
            cached.append(entry)
        cache.node_costs = cached
    return cached
