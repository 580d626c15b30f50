"""One registry: every per-op fact lives in the op's definition (archcost/ops/), nowhere else.

(a) Every registered op has every fact the analyses read (cost category, kind, what backward
saves, receptive-field rule, latency class and features), and each is one its interpreter knows;
the checker itself is shown to fail on a deliberately incomplete op.
(b) No module outside archcost/ops/ keeps a table keyed by op names: an AST walk flags any
dict / set / tuple / list literal naming two or more registered ops, except the explicit
allow-list below; the walk is shown to flag a synthetic offending source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import archcost
from archcost.analysis import latency as L
from archcost.analysis.peers import CATEGORIES, PEERS, _PT_RULES, _THOP_NO_PARAMS, _THOP_PARAMS, _THOP_RULES, _TI_RULES
from archcost.analysis.receptive import RULES
from archcost.ops import OPS, OpDef, register
from archcost.ops.base import KINDS, OP_CATEGORIES, RF_RULES, RFRule, missing_facts
from archcost.plot.data import layer_kind

PKG = Path(archcost.__file__).resolve().parent


# ---- (a) every op has every fact ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_every_fact(name):
    op = OPS[name]
    assert missing_facts(op) == [], name
    assert op.category in OP_CATEGORIES and op.kind in KINDS
    assert op.rf.rule in RULES  # the receptive-field module implements the op's rule
    assert (op.kind == "view") == op.view  # a view's kind says so, and only a view's
    assert callable(op.saves) and callable(op.latency_features)
    if not callable(op.latency_class):
        assert op.latency_class_of({}) in L.classes()


def test_the_check_fails_for_an_op_missing_facts():
    bare = OpDef(name="broken", attrs=(), shape=lambda a, ins: ins[0], lower=lambda a, ins: None)
    missing = missing_facts(bare)
    for fact in ("category", "kind", "saves", "rf", "latency_class"):
        assert any(m.startswith(fact) for m in missing), (fact, missing)
    with pytest.raises(ValueError, match="registered without: category"):
        register(bare)
    assert "broken" not in OPS
    # one fact missing, or wrong, is enough
    whole = dict(name="broken", attrs=(), shape=lambda a, ins: ins[0], lower=lambda a, ins: None, category="act",
                 kind="act", saves=lambda a, ins, out, rg: [], rf=RFRule("same"), latency_class="relu")
    assert missing_facts(OpDef(**whole)) == []
    assert missing_facts(OpDef(**{**whole, "category": "bias"}))[0].startswith("category")
    assert missing_facts(OpDef(**{**whole, "kind": None}))[0].startswith("kind")
    assert missing_facts(OpDef(**{**whole, "saves": None}))[0].startswith("saves")
    assert missing_facts(OpDef(**{**whole, "rf": RFRule("window")}))[0].startswith("rf geometry")
    assert missing_facts(OpDef(**{**whole, "rf": RFRule("convolve")}))[0].startswith("rf")
    assert missing_facts(OpDef(**{**whole, "latency_class": None}))[0].startswith("latency_class")
    assert missing_facts(OpDef(**{**whole, "latency_class": None, "view": True})) == []  # derived: "view"


def test_one_kind_classifier_for_latency_plot_and_homework():
    from archcost.homework import transforms as tf

    g = archcost.build("mobilenetv2")
    for n in g.nodes:
        kind = OPS[n.op].kind_of(n.attrs)
        assert tf.is_pointwise(n) == (kind == "pointwise") and tf.is_depthwise(n) == (kind == "depthwise")
        if kind in ("depthwise", "grouped", "linear"):
            assert L.node_class(n) == kind
        if kind == "pointwise":  # latency's conv1x1 is a pointwise conv with stride 1 and no padding
            assert L.node_class(n) == ("conv1x1" if all(s == 1 for s in n.attrs["stride"]) else "conv")
    assert {layer_kind(n) for n in g.nodes if OPS[n.op].kind_of(n.attrs) == "pointwise"} == {"pointwise conv (1×1)"}


def test_peer_tables_are_keyed_by_torch_classes_the_ops_lower_to():
    classes = {op.torch_class for op in OPS.values()} - {""}
    for table in (_PT_RULES, _THOP_RULES, _TI_RULES, _THOP_NO_PARAMS, _THOP_PARAMS):
        assert set(table) <= classes, set(table) - classes
    # every op gets a count from every peer, in every form (a class without a rule counts nothing)
    g = archcost.build("mobilenetv2")
    n = g.nodes[0]
    p, c = OPS[n.op].params(n.attrs, list(n.in_shapes)), OPS[n.op].costs(n.attrs, list(n.in_shapes), n.out_shape)
    for peer in PEERS.values():
        for form in ("module", "functional", "method"):
            assert set(peer.count(n.op, n.attrs, list(n.in_shapes), n.out_shape, c, p, form)) <= set(CATEGORIES)


def test_vocabularies():
    # an op's category is a category of the breakdown (which adds "bias"), or "other": counted by no peer
    assert set(OP_CATEGORIES) - {"other"} <= set(CATEGORIES)
    assert set(RULES) == set(RF_RULES)
    assert not set(RF_RULES) & set(OPS)  # rule names are no op names (a table keyed by them is no op table)


# ---- (b) no table keyed by op names outside archcost/ops/ ---------------------------------------------

#: (module, the op names a literal holds) -> why it may name them.  The peers' per-tool tables are keyed by
#: torch class (OpDef.torch_class), so they need no entry.
ALLOWED = {
    ("archcost/measure/calibrate.py", ("adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d",
                                       "local_response_norm", "max_pool2d")):
        "the calibration plan: which op stands for each pooling class, in the order of the seeded draws",
    ("archcost/measure/calibrate.py", ("add", "batchnorm2d", "channel_shuffle", "gelu", "hardsigmoid", "hardswish",
                                       "leaky_relu", "relu", "relu6", "scale", "sigmoid", "silu", "tanh",
                                       "zeropad2d")):
        "the calibration plan: which op stands for each element-wise class, in the order of the seeded draws",
    ("archcost/measure/calibrate.py", ("dropout", "flatten", "identity", "slice")):
        "the calibration plan: the view ops it times",
    ("archcost/measure/calibrate.py", ("permute", "transpose", "unflatten")):
        "the calibration plan: the attention era's view ops it times",
    ("archcost/measure/calibrate.py", ("layernorm", "layernorm2d")):
        "the calibration plan: the layer norms it times (over tokens, over a map's channels)",
    ("archcost/analysis/latency.py", ("linear", "matmul")):
        "latency classes (COMPUTE_CLASSES), two of them named like the op they stand for; each op names its "
        "class on its OpDef",
    ("archcost/analysis/latency.py", ("layernorm2d", "matmul")):
        "latency classes an older profile lacks and the class it used instead (keyed by class, not by op)",
    ("archcost/measure/synthetic.py", ("gelu", "hardswish", "leaky_relu", "relu", "relu6", "silu", "tanh")):
        "synthetic networks: the activations drawn (relu twice: weighted), a seeded design, not a per-op fact",
    ("archcost/measure/synthetic.py", ("hardsigmoid", "sigmoid")):
        "synthetic networks: the gate activation drawn for a squeeze-excitation block",
    ("archcost/language/expand.py", ("add", "concat", "multiply")):
        "the spec language's join keywords (`parallel: {join: ...}`, standalone joins)",
    ("archcost/language/expand.py", ("identity", "linear")):
        "the spec language's `activation: {fn: ...}` words for no activation (Keras' 'linear')",
}


def op_tables(source: str) -> list:
    """(line, sorted distinct op names) of each dict / set / tuple / list literal (a dict comprehension's
    literal included) in ``source`` that names two or more registered ops."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Dict, ast.Set, ast.Tuple, ast.List)):
            elts = node.keys if isinstance(node, ast.Dict) else node.elts
            names = {e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in OPS}
            if len(names) >= 2:
                found.append((node.lineno, tuple(sorted(names))))
    return found


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).as_posix()
        if not rel.startswith("archcost/ops/"):
            yield rel, path


def test_no_table_keyed_by_op_names_outside_ops():
    offences, used = [], set()
    for rel, path in _modules():
        for line, names in op_tables(path.read_text(encoding="utf-8")):
            if (rel, names) in ALLOWED:
                used.add((rel, names))
            else:
                offences.append(f"{rel}:{line}: {', '.join(names)}")
    assert not offences, ("tables keyed by op names outside archcost/ops/ (put the fact on the OpDef, or "
                          "allow-list a mirror in tests/test_registry.py):\n" + "\n".join(offences))
    assert used == set(ALLOWED), f"stale allow-list entries: {set(ALLOWED) - used}"


def test_the_walk_flags_a_table_keyed_by_op_names():
    src = '''
SLOW = {"relu": 1, "hardswish": 2}
ok = {"relu": 1, "other": 2}
CLASSES = {op: "act" for op in ("gelu", "silu")}
def f(n):
    return n.op in ["conv2d", "linear"] or n.op in {"add", "scale"}
'''
    assert [line for line, _ in op_tables(src)] == [2, 4, 6, 6]
    assert op_tables(src)[0][1] == ("hardswish", "relu")


#: modules that name an op outside any table: the importer returns the op a torch call stands for
#: (``F.hardtanh(x, 0, 6)`` is ``relu6``), a fact about torch's function rather than about the op
NAMES_AN_OP = {"archcost/capture/mapping.py"}


def test_hardswish_and_relu6_named_only_in_ops_or_allowed_modules():
    allowed = {rel for rel, _ in ALLOWED} | NAMES_AN_OP
    named = {rel for rel, path in _modules() if re.search(r'"(hardswish|relu6)"', path.read_text(encoding="utf-8"))}
    assert named <= allowed, named - allowed


def test_only_opaque_is_not_lowerable():
    """The torch property tests skip ops that cannot be lowered: keep that set to the captured-call op."""
    assert [name for name, op in OPS.items() if not op.lowerable] == ["opaque"]
