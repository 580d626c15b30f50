"""Every torchvision CNN classifier, ViT, Swin (V1, V2) and MaxViT from ``torchvision:NAME``: params,
default MACs, shapes, import round trip.

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
                "efficientnet_v2", "regnet_", "convnext")
CNNS = [n for n in torchvision.models.list_models(module=torchvision.models) if n.startswith(CNN_FAMILIES)]
# on the meta device nn.MultiheadAttention's scaled_dot_product_attention runs its math form, whose
# bmm calls FlopCounterMode counts: there its total is conv + linear + attention, archcost's default
# (on CPU it has no formula for the fused kernel and misses QKᵀ and A·V: tests/test_capture_attention.py)
VITS = [n for n in torchvision.models.list_models(module=torchvision.models) if n.startswith("vit_")]
# window attention: Swin's ShiftedWindowAttention(V2) and MaxViT's RelativePositionalMultiHeadAttention are plain
# linear/matmul/einsum calls, all of which FlopCounterMode counts; their defaults also equal the zoo specs'
WINDOWED = [n for n in torchvision.models.list_models(module=torchvision.models) if n.startswith(("swin_", "maxvit_"))]
HUGE_PARAMS = 300_000_000
ROUND_TRIP = ["resnet50", "mobilenet_v2", "densenet121", "googlenet", "shufflenet_v2_x1_0", "efficientnet_b0",
              "mobilenet_v3_small", "squeezenet1_1", "regnet_y_400mf", "inception_v3", "convnext_tiny",
              "efficientnet_v2_s"]
# real weights: 88M parameters each, the module and its lowered copy ≈ 0.7 GB
ROUND_TRIP_VITS = ["vit_b_32", "vit_b_16"]
# 28-31M parameters each (≈ 0.25 GB for the module and its lowered copy); one per attention kind
ROUND_TRIP_WINDOWED = ["swin_t", "swin_v2_t", "maxvit_t"]


def test_the_cnn_list_is_the_expected_one():
    assert len(CNNS) >= 60 + 4 + 3  # with ConvNeXt and EfficientNetV2
    assert len(VITS) == 5
    assert sorted(WINDOWED) == ["maxvit_t", "swin_b", "swin_s", "swin_t", "swin_v2_b", "swin_v2_s", "swin_v2_t"]


@pytest.mark.slow
@pytest.mark.parametrize("name", CNNS + VITS + WINDOWED)
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
    if name in WINDOWED:  # the zoo spec (specs/swin.yaml, swin_v2.yaml, maxvit.yaml) at the same input
        zoo = archcost.analyze(name).totals
        assert (zoo["params"], zoo["macs"]) == (a.totals["params"], a.totals["macs"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ROUND_TRIP)
def test_import_round_trip(name, tmp_path):
    from test_capture import check_round_trip

    meta, _ = load(parse_source(f"torchvision:{name}"), meta=True)
    if sum(p.numel() for p in meta.parameters()) > HUGE_PARAMS and not os.environ.get("ARCHCOST_HUGE"):
        pytest.skip("over HUGE_PARAMS parameters: set ARCHCOST_HUGE=1 to copy its weights")
    model, shape = load(parse_source(f"torchvision:{name}"))
    check_round_trip(model, shape, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ROUND_TRIP_VITS + ROUND_TRIP_WINDOWED)
def test_import_round_trip_vit(name, tmp_path):
    """ViT, Swin, Swin V2, MaxViT: the written spec analyses to the capture's params and MACs (which equal
    sum(p.numel()) and FlopCounterMode on meta, test_torchvision_cnn), lowers to torchvision's state_dict
    names and shapes (class_token, encoder.pos_embedding, ...self_attention.in_proj_weight,
    ...attn.relative_position_bias_table, ...attn_layer.1.to_qkv.weight) and, with its weights, gives the
    same output."""
    torch.manual_seed(0)
    model, shape = load(parse_source(f"torchvision:{name}"))
    model.eval()
    cap = capture(model, input=shape)
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    a, b = archcost.analyze(str(path)), archcost.analyze(cap.graph())
    assert (a.totals["params"], a.totals["macs"]) == (b.totals["params"], b.totals["macs"])
    assert a.totals["params"] == sum(p.numel() for p in model.parameters())
    lowered = archcost.lower(str(path)).eval()
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in lowered.state_dict().items()} == want
    lowered.load_state_dict(model.state_dict())
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(lowered(x), model(x), atol=1e-4, rtol=1e-4)


def _written(name):
    model, shape = load(parse_source(f"torchvision:{name}"), meta=True)
    cap = capture(model.eval(), input=shape)
    a = archcost.analyze(cap.graph())  # the written text, analysed again
    assert a.totals["params"] == sum(p.numel() for p in model.parameters())
    return cap.text


def test_written_resnet50_has_one_bottleneck_per_kind_with_a_width():
    """Issue 18: ResNet-50's bottlenecks at four widths are written as block arguments, not four blocks each
    (113 lines before: bottleneck, bottleneck_2, _3, _4 and the four downsampling ones written row by row)."""
    text = _written("resnet50")
    # a stage's first block, with its downsample, is named by that submodule
    assert "  bottleneck_downsample:\n    args: {width: int, stride: 1}\n" in text
    assert "  bottleneck:\n    args: {width: int}\n" in text
    assert "bottleneck_2" not in text and "layer2.0.conv1" not in text
    assert "out_channels: width * 4" in text
    assert "- {bottleneck_downsample: {width: 128, stride: 2}, name: layer2.0}" in text
    assert "- {bottleneck: {width: 256}, name: 'layer3.{i + 1}', repeat: 5}" in text
    assert len(text.splitlines()) < 60


def test_written_swin_t_folds_its_blocks():
    """Swin's blocks differ in shift (0 / window // 2), stochastic depth p (a ramp), heads and widths: one block
    with those as arguments, each block one call (169 lines before, every block written row by row)."""
    text = _written("swin_t")
    assert text.count("  swin_transformer_block:\n    args: {heads: int, shift: 0, p: 0.0,") == 1
    assert "shift_size: shift" in text and "{stochastic_depth: {p: p}" in text
    assert "mlp_2" not in text and "features.1.0.norm1" not in text
    assert "- {swin_transformer_block: {heads: 3, shift: 3, p: 0.018181818181818184," in text
    assert text.count("{swin_transformer_block: ") == 12 and len(text.splitlines()) < 70
