"""Every op's working shows the numbers its code computes (they cannot drift apart).

For every registered op over random valid attributes (the schema-driven draws of
``strategies.draw_case``, also used against torch in test_ops_property.py), and for every
node of random whole networks (``strategies.networks``: joins, splits, 1-D and 2-D ops), the
op's ``explain`` hook must

* give the output shape, the params (weight + bias), buffers and running statistics, and
  every non-zero cost category, each with exactly the value ``shape``/``params``/``costs`` computed;
* be arithmetically consistent: every side of every working (words stripped) evaluates,
  exactly, to the value (``archcost.ops.working.verify``).
"""

from __future__ import annotations

import os

from math import prod

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from archcost.errors import SpecError
from archcost.language import build_graph, load_spec
from archcost.ops import OPS
from archcost.ops.working import Working, evaluate_side, verify
from strategies import draw_case, networks

FAST = 8  # per op in the quick run; the slow run draws ARCHCOST_EXPLAIN_EXAMPLES (default 50)
EXAMPLES = int(os.environ.get("ARCHCOST_EXPLAIN_EXAMPLES", 50))
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
UNARY = sorted(name for name, op in OPS.items() if op.arity == 1 and op.lowerable)  # opaque: tests/test_capture.py


def check_node(node):
    op = OPS[node.op]
    ins = list(node.in_shapes)
    got = op.explain(node.attrs, ins, node.out_shape)
    assert got["output_shape"].value == tuple(node.out_shape)
    p = op.params(node.attrs, ins)
    want = {"params": p.weight + p.bias, "buffers": p.buffers, "running_stats": p.running_stats,
            **op.costs(node.attrs, ins, node.out_shape)}
    for key, value in want.items():
        if value:
            assert key in got, f"{node.op}: no working for {key} = {value}"
            assert got[key].value == value, f"{node.op} {key}: working {got[key].value} != computed {value}"
    for key, w in got.items():
        assert isinstance(w, Working)
        if key != "output_shape":
            assert want.get(key, 0) == w.value, f"{node.op}: working for {key} = {w.value}, computed {want.get(key, 0)}"
    # the output shape's dimension parts equal the shape's dimensions, and every side adds up
    for part in got["output_shape"].parts:
        if node.op == "unflatten" and part.label == f"dim {node.attrs['dim']}":  # the dim it splits: ∏ sizes
            assert part.value == prod(node.attrs["sizes"]), (node.op, part)
            continue
        assert part.value in node.out_shape, (node.op, part)
    problems = [pr for w in got.values() for pr in verify(w)]
    assert not problems, f"{node.op} {node.attrs}: " + "; ".join(problems)


def one_op(opname, data):
    shape, attrs = draw_case(data, opname)
    text = yaml.safe_dump({"name": "prop", "input": shape, "layers": [{opname: attrs}]}, sort_keys=False,
                          default_flow_style=None)
    note(text)
    try:
        graph = build_graph(load_spec("prop.yaml", text=text))
    except SpecError:
        assume(False)
    check_node(graph.nodes[-1])


@pytest.mark.parametrize("opname", UNARY)
@settings(max_examples=FAST, **SETTINGS)
@given(data=st.data())
def test_op_working_equals_computed(opname, data):
    one_op(opname, data)


@pytest.mark.slow
@pytest.mark.parametrize("opname", UNARY)
@settings(max_examples=EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_op_working_equals_computed_many(opname, data):
    one_op(opname, data)


def one_network(net):
    graph = build_graph(load_spec("net.yaml", text=net.text))
    for node in graph.nodes:
        check_node(node)


@settings(max_examples=FAST, **SETTINGS)
@given(net=networks())
def test_every_node_of_random_networks_is_explained(net):
    one_network(net)


@pytest.mark.slow
@settings(max_examples=EXAMPLES, **SETTINGS)
@given(net=networks())
def test_every_node_of_random_networks_is_explained_many(net):
    one_network(net)


def test_every_op_has_an_explain_hook():
    assert [name for name, op in OPS.items() if op.explain is None] == []


@pytest.mark.parametrize("text,value", [
    ("5·5·192 multiplies per output × 28·28·32 outputs", 120_422_400),
    ("4,800 × 25,088", 120_422_400),
    ("(11·11·3 + 1)·96", 34_944),
    ("⌊(224 − 11 + 2·2)/4⌋ + 1", 55),
    ("⌈7/2⌉ + 1 − 1", 4),
])
def test_side_evaluator(text, value):
    assert evaluate_side(text) == value


def test_verify_catches_a_wrong_side():
    w = Working("macs", 10, ("2·4", "10"))
    assert verify(w) and "2·4" in verify(w)[0]


def test_issue_examples_verbatim():
    """The exact lines the issue asks for: a 5×5 conv on 28×28×192, AlexNet's CONV1."""
    g = build_graph(load_spec("x.yaml", text="name: x\ninput: [192, 28, 28]\nlayers:\n"
                                             "  - conv2d: {out_channels: 32, kernel_size: 5, padding: 2}\n"))
    n = g.nodes[0]
    w = OPS["conv2d"].explain(n.attrs, list(n.in_shapes), n.out_shape)
    assert w["macs"].line() == ("5·5·192 multiplies per output × 28·28·32 outputs = 4,800 × 25,088 = "
                                "120,422,400 MACs")
    g = build_graph(load_spec("specs/homework/alexnet_conv1.yaml"))
    n = g.nodes[0]
    w = OPS["conv2d"].explain(n.attrs, list(n.in_shapes), n.out_shape)
    assert w["params"].line().startswith("(11·11·3 + 1)·96 = 34,944")
    h = w["output_shape"].parts[1]
    assert h.line().startswith("H: (227 − 11 + 2·0)/4 + 1 = 54 + 1 = 55")


def zoo_nodes_explained(names):
    import archcost

    for name in names:
        graph = archcost.build(name)
        for node in graph.nodes:
            check_node(node)


def test_classic_zoo_models_are_explained():
    zoo_nodes_explained(["lenet5", "alexnet", "vgg16_bn", "googlenet", "mobilenetv2", "resnet50"])


@pytest.mark.slow
def test_every_zoo_node_is_explained():
    from archcost.zoo import entries

    zoo_nodes_explained([e.name for e in entries()])
