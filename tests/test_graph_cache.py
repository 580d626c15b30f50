"""A built graph is shared (archcost.build caches it per file version): nobody can change it, and what
analysis derives from it lives in one explicit cache object, graph.cache."""

import copy
import dataclasses
import json
import pickle

import pytest

import archcost
from archcost.analysis.explain import explains
from archcost.analysis.receptive import receptive_fields
from archcost.analysis.training import training_memory
from archcost.homework.transforms import regraph
from archcost.ir import FrozenDict, Graph, GraphCache, Node


def _attempts(g):
    """Every way a caller might try to change a cached graph, each a (label, function) pair."""
    n = g.nodes[0]
    return [
        ("rename the graph", lambda: setattr(g, "name", "other")),
        ("swap the cache", lambda: setattr(g, "cache", GraphCache())),
        ("smuggle an attribute", lambda: setattr(g, "_node_costs", [])),
        ("append a node", lambda: g.nodes.append(n)),
        ("replace a node", lambda: g.nodes.__setitem__(0, n)),
        ("change a node's op", lambda: setattr(n, "op", "relu")),
        ("change a node's shape", lambda: setattr(n, "out_shape", (1,))),
        ("set an attribute", lambda: n.attrs.__setitem__("out_channels", 1)),
        ("delete an attribute", lambda: n.attrs.__delitem__("out_channels")),
        ("update the attributes", lambda: n.attrs.update(out_channels=1)),
        ("pop an attribute", lambda: n.attrs.pop("out_channels")),
        ("setdefault an attribute", lambda: n.attrs.setdefault("extra", 1)),
        ("clear the attributes", lambda: n.attrs.clear()),
        ("merge into the attributes", lambda: n.attrs.__ior__({"out_channels": 1})),
        ("change the title", lambda: g.meta.__setitem__("title", "x")),
        ("change the paper's accuracy", lambda: g.meta["accuracy"].__setitem__("top1", 99.9)),
        ("change a parameter", lambda: g.params.__setitem__("width", 2.0)),
        ("forget the block calls", lambda: g.groups.clear()),
    ]


def test_a_cached_graph_cannot_be_changed():
    g = archcost.build("mobilenetv2")
    before = archcost.analyze("mobilenetv2").to_dict()
    first = g.nodes[0]
    assert first.op == "conv2d" and g.meta["accuracy"]
    for label, attempt in _attempts(g):
        with pytest.raises((AttributeError, TypeError)):
            attempt()
            pytest.fail(f"could {label}")  # pragma: no cover
    again = archcost.build("mobilenetv2")
    assert again is g and again.nodes[0] is first and again.name == "mobilenetv2"
    assert first.attrs["out_channels"] == 32 and "extra" not in first.attrs
    assert archcost.analyze("mobilenetv2").to_dict() == before


def test_a_copy_of_the_attributes_is_an_ordinary_dict():
    n = archcost.build("mobilenetv2").nodes[0]
    a = dict(n.attrs)
    a["out_channels"] = 1
    assert n.attrs["out_channels"] == 32
    assert type(n.attrs.copy()) is dict and n.attrs | {"x": 1} == {**n.attrs, "x": 1}
    assert n.attrs == a | {"out_channels": 32} and isinstance(n.attrs, dict)
    assert json.loads(json.dumps(n.attrs)) == json.loads(json.dumps(a | {"out_channels": 32}))


def test_a_graph_is_frozen_on_construction():
    attrs, meta = {"out_features": 4, "bias": True}, {"accuracy": {"top1": 1.0}}
    n = Node("fc", "linear", attrs, ("input",), ((3,),), (4,))
    g = Graph("net", (3,), [n], "fc", meta=meta)
    assert type(g.nodes) is tuple and type(n.attrs) is FrozenDict and type(g.meta["accuracy"]) is FrozenDict
    attrs["bias"], meta["accuracy"]["top1"] = False, 0.0  # the caller's own dicts stay theirs
    assert n.attrs["bias"] is True and g.meta["accuracy"]["top1"] == 1.0
    with pytest.raises(TypeError):
        g.meta["accuracy"]["top1"] = 2.0
    shared = Node("fc2", "linear", n.attrs, ("fc",), ((4,),), (4,))
    assert shared.attrs is n.attrs  # replayed block calls share one attributes object (node_costs relies on it)


def test_pickle_and_deepcopy_round_trip():
    g = archcost.build("resnet18")
    for h in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert h == g and type(h.nodes[0].attrs) is FrozenDict and type(h.meta["paper"]) is FrozenDict
        assert archcost.analyze(h).totals == archcost.analyze(g).totals


def test_derived_values_live_in_graph_cache():
    g = archcost.build("mobilenetv2")
    archcost.analyze(g, convention="fvcore")
    training_memory(g)
    receptive_fields(g)
    explains(g, g.nodes[0])
    c = g.cache
    assert isinstance(c, GraphCache) and not hasattr(g, "__dict__")
    assert len(c.node_costs) == len(g.nodes) and {"default", "fvcore"} <= set(c.counted)
    assert c.peak_elems and c.training_model is not None and c.rf and c.rf_states
    assert set(c.explains) == {g.nodes[0].id}
    costs = c.node_costs[0]
    assert costs.out_elems == 32 * 112 * 112 and costs.view is False and costs.params.weight == 32 * 3 * 9
    counts = c.counted["default"].nodes[0]
    assert counts.macs == 32 * 3 * 9 * 112 * 112 and counts.params == costs.params.weight
    assert "GraphCache(" in repr(c) and "cache=" not in repr(g)


def test_a_new_graph_starts_with_an_empty_cache():
    g = archcost.build("mobilenetv2")
    archcost.analyze(g)
    sub = regraph(g, lambda n: {**n.attrs, "bias": True} if n.op == "conv2d" else None)
    assert sub.cache is not g.cache and sub.cache.node_costs is None and not sub.cache.counted
    assert dataclasses.replace(g, name="copy").cache.node_costs is None
    assert archcost.analyze(sub).totals["params"] > archcost.analyze(g).totals["params"]
