"""Every torchvision CNN classifier from ``torchvision:NAME``: params, default MACs, shapes, import round trip.

Slow (each model is built, traced and run): CI runs them; locally ``-m slow``.  The totals are checked on
the model built on the meta device (shapes and parameter counts, no storage: regnet_y_128gf's 645M
parameters cost nothing, and FlopCounterMode's formulas read only shapes), so a test worker stays
small; the round trip copies weights, and skips models over HUGE_PARAMS unless ARCHCOST_HUGE=1.
"""

import os

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcost  # noqa: E402
from archcost.capture import capture  # noqa: E402
from archcost.capture.source import load, parse_source  # noqa: E402

CNN_FAMILIES = ("alexnet", "vgg", "resnet", "resnext", "wide_resnet", "densenet", "squeezenet", "googlenet",
                "inception_v3", "mobilenet_v2", "mobilenet_v3", "mnasnet", "shufflenet_v2", "efficientnet_b",
                "regnet_")
CNNS = [n for n in torchvision.models.list_models(module=torchvision.models) if n.startswith(CNN_FAMILIES)]
HUGE_PARAMS = 300_000_000
ROUND_TRIP = ["resnet50", "mobilenet_v2", "densenet121", "googlenet", "shufflenet_v2_x1_0", "efficientnet_b0",
              "mobilenet_v3_small", "squeezenet1_1", "regnet_y_400mf", "inception_v3"]


def test_the_cnn_list_is_the_expected_one():
    assert len(CNNS) >= 60


@pytest.mark.slow
@pytest.mark.parametrize("name", CNNS)
def test_torchvision_cnn(name):
    model, shape = load(parse_source(f"torchvision:{name}"), meta=True)
    assert next(model.parameters()).is_meta
    model.eval()
    x = torch.empty(1, *shape, device="meta")
    with FlopCounterMode(display=False) as fc:  # grad enabled, as torchvision's _ops were measured
        model(x)
    cap = capture(model, input=shape)
    a = archcost.analyze(cap.graph())
    assert a.totals["params"] == sum(p.numel() for p in model.parameters())
    assert a.totals["macs"] == fc.get_total_flops() // 2
    assert cap.not_understood == [] and cap.trace.unused == []
    graph_shapes = {n.id: tuple(n.out_shape) for n in cap.graph().nodes}
    assert {r.id: tuple(r.out_shape) for r in cap.trace.rows} == graph_shapes


@pytest.mark.slow
@pytest.mark.parametrize("name", ROUND_TRIP)
def test_import_round_trip(name, tmp_path):
    from test_capture import check_round_trip

    meta, _ = load(parse_source(f"torchvision:{name}"), meta=True)
    if sum(p.numel() for p in meta.parameters()) > HUGE_PARAMS and not os.environ.get("ARCHCOST_HUGE"):
        pytest.skip("over HUGE_PARAMS parameters: set ARCHCOST_HUGE=1 to copy its weights")
    model, shape = load(parse_source(f"torchvision:{name}"))
    check_round_trip(model, shape, tmp_path)
