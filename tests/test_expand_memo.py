"""Replaying identical block calls gives exactly the graph that expanding each call gives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import archcost
from archcost.language import build_graph, expand, load_spec
from archcost.zoo import entries

from strategies import networks  # noqa: E402


def nodes(graph):
    return ([(n.id, n.op, n.attrs, n.inputs, n.in_shapes, n.out_shape, n.line, n.file) for n in graph.nodes],
            graph.output, graph.groups)


def both(spec):
    g1 = build_graph(spec)
    expand.Expander.memoize = False
    try:
        g2 = build_graph(spec)
    finally:
        expand.Expander.memoize = True
    return g1, g2


@pytest.mark.parametrize("name", [e.name for e in entries()])
def test_zoo_graph_is_the_same_with_and_without_replay(name):
    g1, g2 = both(archcost.load_spec(name))
    assert nodes(g1) == nodes(g2)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(networks())
def test_random_network_is_the_same_with_and_without_replay(net):
    g1, g2 = both(load_spec("rand.yaml", text=net.text))  # the generator only builds valid networks
    assert nodes(g1) == nodes(g2)


def test_replayed_blocks_still_refuse_a_name_clash():
    text = """
name: clash
input: [3, 8, 8]
blocks:
  b:
    layers:
      - relu: {}
layers:
  - {b: {}, name: x}
  - {relu: {}, name: x0}
  - {b: {}, repeat: 2, name: x}
"""
    with pytest.raises(archcost.SpecError, match="named 'x0"):
        build_graph(load_spec("clash.yaml", text=text))
