"""Property test of every single-input op against torch and fvcore.

For each op in ``archcost.ops.OPS`` that takes one input, hypothesis draws an input
shape and attribute values (mostly sensible, sometimes out of range or of the wrong
type), builds a one-layer spec and:

* if archcost raises :class:`SpecError`, the draw is discarded (``assume``);
* otherwise torch must accept the lowered module (archcost must never hand out
  numbers for a layer torch refuses), and the analytic output shape, params and
  fvcore-convention MACs must equal torch's and fvcore's (``verify_graph``).

Attributes are drawn from the op's schema (kind, default, min, choices), so ops
registered later are covered without editing this file; a few attributes whose
meaning matters (groups, dims, sizes) get targeted draws.  ``verify_graph`` runs
with batch 2: batch norm without running statistics legitimately needs more than
one value per channel, which a batch of 1 cannot give for a ``(C,)`` input.
"""

from __future__ import annotations

import os

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from archcost.errors import SpecError
from archcost.ops import OPS
from archcost.ops.base import REQUIRED
from archcost.language import build_graph, load_spec

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")
from archcost.verify import verify_graph  # noqa: E402

EXAMPLES = int(os.environ.get("ARCHCOST_OP_EXAMPLES", 200))
UNARY = sorted(name for name, op in OPS.items() if op.arity == 1)
STATS: dict = {}


def small_ints(lo=-1, hi=6):
    return st.one_of(st.integers(1, hi), st.integers(lo, hi))  # mostly valid, sometimes not


JUNK = [2.0, 2.5, "2", "ch", "ch // 2", "h - 1", "w", True, None, [], {}, "same", "x", [2.0, 1], -0.0, 1e30]


def draw_attr(data, op, attr, shape):
    """A value for one attribute: targeted for attributes with known meaning, else by schema kind.
    One draw in ten is junk (wrong type, expression, empty) to exercise validation."""
    name, kind = attr.name, attr.kind
    c, d = shape[0], len(shape) - 1
    draw = data.draw
    if draw(st.sampled_from(range(10))) == 9:
        return draw(st.sampled_from(JUNK))
    if name in ("groups", "num_groups"):
        return draw(st.one_of(st.sampled_from([x for x in range(1, c + 1) if c % x == 0]), st.integers(0, 8)))
    if name in ("dim", "start_dim", "end_dim"):
        return draw(st.integers(-len(shape) - 2, len(shape) + 1))
    if name == "start":
        return draw(st.integers(-1, c))
    if name == "length":
        return draw(st.integers(0, c + 1))
    if name == "normalized_shape":
        trailing = list(shape[-draw(st.integers(1, len(shape))):])
        return draw(st.one_of(st.just(trailing), st.just(shape[-1]), st.lists(st.integers(0, 8), min_size=1, max_size=3)))
    if op.name.startswith("zeropad") and name == "padding":
        return draw(st.one_of(st.integers(-1, 3), st.lists(st.integers(-1, 3), min_size=2 * d, max_size=2 * d),
                              st.lists(st.integers(0, 3), min_size=1, max_size=5)))
    if name in ("p",):
        return draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, -0.1, 1.5]))
    if kind == "int":
        return draw(small_ints(-1, 2 * max(c, 8)))
    if kind == "float":
        return draw(st.sampled_from([attr.default if isinstance(attr.default, float) else 1.0, 0.0, 1e-5, 0.1, 0.5,
                                     1.0, 2.0, -0.5]))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "str":
        return draw(st.sampled_from([*(attr.choices or ()), "bogus"]))
    if kind == "ints" or kind == "padding":
        one = small_ints(-1 if kind == "ints" else -1, 6)
        options = [one, st.lists(one, min_size=max(d, 1), max_size=max(d, 1)), st.lists(one, min_size=1, max_size=3)]
        if attr.default is None:
            options.append(st.none())
        if kind == "padding":
            pairs = st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=max(d, 1), max_size=max(d, 1))
            options += [st.sampled_from(["same", "valid"]), pairs]
        return draw(st.one_of(*options))
    return draw(st.one_of(st.integers(-1, 6), st.lists(st.integers(0, 6), max_size=3), st.none()))


def draw_case(data, opname):
    op = OPS[opname]
    rank = data.draw(st.sampled_from(sorted(op.in_rank or (1, 2, 3))), label="rank")
    shape = [data.draw(st.integers(1, 16), label="channels")]
    shape += [data.draw(st.one_of(st.integers(1, 16), st.just(1)), label="size") for _ in range(rank - 1)]
    attrs = {}
    for attr in op.attrs:
        if attr.default is REQUIRED or data.draw(st.booleans(), label=f"set {attr.name}"):
            attrs[attr.name] = draw_attr(data, op, attr, shape)
    return shape, attrs


def check(opname, shape, attrs):
    spec = {"name": "prop", "input": shape, "layers": [{opname: attrs}]}
    text = yaml.safe_dump(spec, sort_keys=False, default_flow_style=None)
    note(text)
    stats = STATS.setdefault(opname, {"accepted": 0, "rejected": 0})
    try:
        graph = build_graph(load_spec("prop.yaml", text=text))
    except SpecError:
        stats["rejected"] += 1
        assume(False)
    stats["accepted"] += 1
    try:
        report = verify_graph(graph, batch=2)
    except SpecError:  # e.g. a lowering limit: archcost refused, which is allowed
        assume(False)
    except Exception as err:  # noqa: BLE001 - any torch failure is the finding
        pytest.fail(f"archcost accepted {opname} {attrs} on input {shape}, but torch rejects it: "
                    f"{type(err).__name__}: {err}")
    assert report.ok, "\n".join(report.problems())


@pytest.mark.slow  # about a minute for 43 ops x 200 examples on 2 cores
@pytest.mark.parametrize("opname", UNARY)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_op_matches_torch_and_fvcore(opname, data):
    shape, attrs = draw_case(data, opname)
    check(opname, shape, attrs)


def test_every_unary_op_is_covered():
    assert len(UNARY) >= 30
    for name in UNARY:
        assert OPS[name].lower is not None


def teardown_module():
    if os.environ.get("ARCHCOST_FUZZ_REPORT"):
        for name, s in sorted(STATS.items()):
            print(f"{name:24s} accepted {s['accepted']:5d}  rejected {s['rejected']:5d}")
