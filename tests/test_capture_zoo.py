"""Every torchvision CNN classifier, ViT, Swin (V1, V2) and MaxViT from ``torchvision:NAME``: params,
default MACs, shapes.

Slow (each model is built and traced): CI runs them; locally ``-m slow``.  The totals are checked on
the model built on the meta device (shapes and parameter counts, no storage: regnet_y_128gf's 645M
parameters cost nothing, and FlopCounterMode's formulas read only shapes), so a test worker stays
small.  The import round trip of each of these models (the written spec analyses to the same params and
MACs and, lowered with torchvision's weights, gives the same output) runs on the module
tests/test_zoo_reference.py::test_torchvision_equal already builds with weights (on the meta device for
the five over 150M params: test_huge_models_on_meta), and each peer's preset on the captured module in
tests/test_peers.py and there; tests/test_capture.py round-trips hand-written nets (batch 2).
"""

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
