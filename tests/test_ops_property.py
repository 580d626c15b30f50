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
one value per channel, which a batch of 1 cannot give for a ``(C,)`` input — except
for an op with ``per_forward_macs`` (Swin V2's position-bias MLP, computed once per
forward pass, which archcost counts per sample: exact at batch 1 only).
"""

from __future__ import annotations

import os

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from archcost.errors import SpecError
from archcost.ops import OPS
from archcost.language import build_graph, load_spec
from strategies import draw_case

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")
from archcost.verify import verify_graph  # noqa: E402

EXAMPLES = int(os.environ.get("ARCHCOST_OP_EXAMPLES", 50))  # CI; ARCHCOST_OP_EXAMPLES=200 for a deeper run
UNARY = sorted(name for name, op in OPS.items() if op.arity == 1 and op.lowerable)  # opaque: tests/test_capture.py
STATS: dict = {}


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
    # batch 1 where part of an op's cost is computed once per forward pass, which archcost counts per sample
    batch = 1 if any(OPS[n.op].costs(n.attrs, list(n.in_shapes), n.out_shape).get("per_forward_macs")
                     for n in graph.nodes) else 2
    try:
        report = verify_graph(graph, batch=batch)
    except SpecError:  # e.g. a lowering limit: archcost refused, which is allowed
        assume(False)
    except Exception as err:  # noqa: BLE001 - any torch failure is the finding
        pytest.fail(f"archcost accepted {opname} {attrs} on input {shape}, but torch rejects it: "
                    f"{type(err).__name__}: {err}")
    assert report.ok, "\n".join(report.problems())


@pytest.mark.slow  # a few minutes for ~55 ops x 50 examples on 2 cores (ARCHCOST_OP_EXAMPLES for more)
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
