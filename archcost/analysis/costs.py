"""Per node, what does not depend on batch, dtype or convention: params, element counts, view-ness, costs.

Its own module, below both the engine and the training model, which each read it (the engine
imports the training model for ``totals["training_bytes"]``, so neither can hold it).
"""

from __future__ import annotations

from math import prod

from ..ir import Graph
from ..ops import OPS


def node_costs(graph: Graph) -> list:
    """Per node: (Params, input elems, output elems, is view, cost dict).

    Independent of batch, dtype and convention, so computed once and cached on the graph.
    Nodes that share their attributes object and input shapes (a block call the expander
    replayed) share one entry.
    """
    cached = graph.__dict__.get("_node_costs")
    if cached is None:
        cached = []
        memo: dict = {}
        for n in graph.nodes:
            key = (n.op, id(n.attrs), n.in_shapes)
            entry = memo.get(key)
            if entry is None:
                op = OPS[n.op]
                ins = list(n.in_shapes)
                entry = memo[key] = (op.params(n.attrs, ins), sum(map(prod, n.in_shapes)), prod(n.out_shape),
                                     op.view, op.costs(n.attrs, ins, n.out_shape))
            cached.append(entry)
        graph.__dict__["_node_costs"] = cached
    return cached
