"""Calls made with a module's own tensors, as timm's layers make them (issue 18): ``F.batch_norm`` with the
module's weights and running statistics, timm's BatchNormAct2d (batch norm, then its drop and act submodules),
``F.linear`` with the module's weight and bias.  Hand-written modules (tests/capture_models/timm_like.py), so
CI, which has no timm, covers the mappings; tests/test_capture_timm.py runs timm's own models."""

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import archcost  # noqa: E402
from archcost.capture import capture  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "capture_models"))
import timm_like  # noqa: E402
from test_capture import _truth, check_round_trip  # noqa: E402


def _randomise_stats(model):
    """Running statistics and affine tensors away from their defaults, so a round trip that dropped or
    swapped them shows in the output."""
    torch.manual_seed(0)
    for name, t in model.state_dict().items():
        if name.endswith("running_var"):
            t.uniform_(0.5, 2.0)
        elif name.endswith("running_mean") or (name.endswith(("bias", "weight")) and t.dim() == 1):
            t.normal_()
    return model


def test_batch_norm_with_own_tensors_is_a_batchnorm_row_named_by_the_module():
    model = timm_like.OwnWeightsNet()
    cap = capture(model, input=(3, 16, 16))
    assert cap.not_understood == []
    rows = [(r.id, r.op) for r in cap.trace.rows]
    assert rows == [("conv1", "conv2d"), ("bn1", "batchnorm2d"), ("relu", "relu"), ("conv2", "conv2d"),
                    ("bn2", "batchnorm2d"), ("bn2_act", "silu"), ("conv3", "conv2d"), ("bn3", "batchnorm2d"),
                    ("add", "add"), ("pool", "global_avg_pool2d"), ("flat", "flatten"), ("head", "linear")]
    bn1 = next(r for r in cap.trace.rows if r.id == "bn1")
    assert bn1.attrs == {"eps": 1e-3, "momentum": 0.1, "affine": True, "track_running_stats": True}
    assert bn1.params == 16 and bn1.module == "bn1"
    params, macs, _ = _truth(model, (3, 16, 16))
    a = archcost.analyze(model, input=(3, 16, 16))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)


@pytest.mark.parametrize("batch_stats", [False, True])
def test_own_tensors_round_trip(batch_stats, tmp_path):
    """The written spec lowers to nn.BatchNorm2d / nn.Linear under the modules' names: timm-style state_dict
    keys load, and the outputs agree with the statistics and weights randomised."""
    model = _randomise_stats(timm_like.OwnWeightsNet(batch_stats=batch_stats))
    if batch_stats:
        assert next(r for r in capture(model, input=(3, 16, 16)).trace.rows if r.id == "bn1").attrs[
            "track_running_stats"] is False
    check_round_trip(model, (3, 16, 16), tmp_path)


def test_own_linear_on_tokens_and_maps_round_trip(tmp_path):
    cap = capture(timm_like.TokenLinearNet(), input=(4, 4, 8))
    assert cap.not_understood == [] and [r.op for r in cap.trace.rows].count("linear") == 2
    assert {r.id for r in cap.trace.rows if r.op == "linear"} == {"fc1", "fc2"}
    check_round_trip(timm_like.TokenLinearNet(), (4, 4, 8), tmp_path)


def test_user_norm_act_is_counted_and_its_spec_loads(tmp_path):
    """A user's batch norm with an activation submodule: the batch norm cannot take the module's name (``bn``
    would be a row and the group holding ``bn.act``), so it is ``bn.batch_norm``; the written spec still
    loads and analyses to the module's params and MACs."""
    model = timm_like.UserNormActNet()
    cap = capture(model, input=(3, 8, 8))
    assert [(r.id, r.op) for r in cap.trace.rows] == [("conv", "conv2d"), ("bn.batch_norm", "batchnorm2d"),
                                                      ("bn.act", "silu")]
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    params, macs, _ = _truth(model, (3, 8, 8))
    a = archcost.analyze(str(path))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)


def test_batch_norm_with_another_modules_tensors_stays_opaque():
    model = timm_like.ForeignStatsNet()
    cap = capture(model, input=(8, 4, 4))
    assert [r.op for r in cap.trace.rows] == ["opaque"] and "F.batch_norm" in cap.not_understood[0][1]
    assert cap.trace.rows[0].params == 16 and cap.trace.unused == [("a", 16)]  # a's γ and β are never used


def test_channel_slice_with_trailing_whole_dims(tmp_path):
    cap = capture(timm_like.GhostSliceNet(), input=(3, 8, 8))
    assert cap.not_understood == []
    assert [(r.op, r.attrs) for r in cap.trace.rows if r.op == "slice"] == [
        ("slice", {"start": 0, "length": 20}), ("slice", {"start": 2, "length": 18})]
    check_round_trip(timm_like.GhostSliceNet(), (3, 8, 8), tmp_path)


def test_vector_layer_scale_is_a_layer_scale_row(tmp_path):
    """γ a C vector reshaped to (1, C, 1, 1) is written as layer_scale under γ's name; the lowered γ is
    torchvision's C×1×1 (the same values viewed so: the weights load through a reshape)."""
    torch.manual_seed(0)
    model = timm_like.VectorScaleNet().eval()
    cap = capture(model, input=(3, 8, 8))
    assert cap.not_understood == []
    assert [(r.id, r.op, r.params) for r in cap.trace.rows] == [
        ("conv", "conv2d", 224), ("gamma", "layer_scale", 8), ("add", "add", 0)]
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    params, macs, _ = _truth(model, (3, 8, 8))
    a = archcost.analyze(str(path))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)
    lowered = archcost.lower(str(path)).eval()
    shapes = {k: v.shape for k, v in lowered.state_dict().items()}
    assert set(shapes) == set(model.state_dict()) and shapes["gamma"] == (8, 1, 1)
    lowered.load_state_dict({k: v.reshape(shapes[k]) for k, v in model.state_dict().items()})
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(lowered(x), model(x), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("unbind", [True, False])
def test_packed_qkv_permute_that_moves_the_batch(unbind, tmp_path):
    """qkv.reshape(B, N, 3, H, hd).permute(2, 0, 3, 1, 4): the spec permutes N×3×H×hd to 3×H×N×hd and takes q,
    k, v with a slice and a flatten each; no opaque row, and the round trip computes the same attention."""
    torch.manual_seed(0)
    model = timm_like.PackedQKVAttention(unbind=unbind)
    cap = capture(model, input=(6, 16))
    assert cap.not_understood == []
    perm = next(r for r in cap.trace.rows if r.op == "permute")
    assert perm.attrs == {"dims": [1, 2, 0, 3]} and perm.out_shape == (3, 2, 6, 8)
    assert [(r.op, r.attrs, r.out_shape) for r in cap.trace.rows if r.inputs == [perm.id]] == [
        ("slice", {"start": k, "length": 1}, (1, 2, 6, 8)) for k in range(3)]
    assert "scaled_dot_product_attention" in {r.op for r in cap.trace.rows}
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    params, macs, out = _truth(model, (6, 16))
    a = archcost.analyze(str(path))
    # FlopCounterMode has no CPU formula for sdpa: it misses QKᵀ and A·V, 2·N²·D (tests/test_capture_attention.py)
    assert (a.totals["params"], a.totals["macs"]) == (params, macs + 2 * 6 * 6 * 16)
    lowered = archcost.lower(str(path)).eval()
    lowered.load_state_dict(model.state_dict())
    x = torch.randn(2, 6, 16)
    with torch.no_grad():
        assert torch.allclose(lowered(x), model(x), atol=1e-5, rtol=1e-4)


def test_permute_moving_the_batch_otherwise_stays_opaque():
    cap = capture(timm_like.BatchMovedNet(), input=(4, 8))
    assert [call.split(" ")[0] for _, call in cap.not_understood] == ["Tensor.permute", "Tensor.sum"]


def test_slice_bounds_read_from_shapes(tmp_path):
    """A slice bound computed from a shape is a number by the time the call is mapped (it was a TypeError)."""
    cap = capture(timm_like.ComputedSliceNet(), input=(8, 4))
    assert cap.not_understood == []
    assert [r.attrs for r in cap.trace.rows if r.op == "slice"] == [
        {"start": 0, "length": 3}, {"start": 0, "length": 3}, {"start": 3, "length": 5}]  # the first read for its shape
    check_round_trip(timm_like.ComputedSliceNet(), (8, 4), tmp_path)


def test_tensorflow_same_padding_layers(tmp_path):
    """timm's Conv2dSame / AvgPool2dSame / MaxPool2dSame compute their padding from the input's size (fx cannot
    trace that): leaves, a zeropad2d row <name>_pad then the layer; a max pool's symmetric padding its own."""
    torch.manual_seed(0)
    cap = capture(timm_like.SamePadNet(), input=(3, 16, 16))
    assert cap.not_understood == []
    assert [(r.id, r.op, r.attrs.get("padding")) for r in cap.trace.rows] == [
        ("conv_pad", "zeropad2d", [0, 1, 0, 1]), ("conv", "conv2d", [0, 0]), ("dw_pad", "zeropad2d", [2, 2, 2, 2]),
        ("dw", "conv2d", [0, 0]), ("avg_pad", "zeropad2d", [0, 1, 0, 1]), ("avg", "avg_pool2d", 0),
        ("max", "max_pool2d", [1, 1])]
    check_round_trip(timm_like.SamePadNet(), (3, 16, 16), tmp_path)


def test_max_pool_same_with_asymmetric_padding_is_one_opaque_row():
    """-inf padded on one side only: no spec op; the module stays one row (not traced into), listed."""
    model = timm_like.SamePadNet(asymmetric_max=True)
    cap = capture(model, input=(3, 16, 16))
    assert cap.not_understood == [("max", next(c for _, c in cap.not_understood))]
    assert "MaxPool2dSame" in cap.not_understood[0][1]
    params, macs, _ = _truth(model, (3, 16, 16))
    a = archcost.analyze(model, input=(3, 16, 16))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)


def test_calls_on_a_batch_folded_with_other_dims_are_measured():
    """A call on a tensor whose dim 0 is not the batch (windows folded into it) would be a row counting one
    window; it is an opaque row measured on the whole tensor, and the totals stay FlopCounterMode's."""
    model = timm_like.FoldedBatchNet()
    cap = capture(model, input=(16, 8))
    assert [(r.id, r.op) for r in cap.trace.rows] == [("reshape", "opaque"), ("fc", "opaque"), ("reshape_1", "opaque"),
                                                      ("out", "linear")]
    params, macs, _ = _truth(model, (16, 8))
    a = archcost.analyze(model, input=(16, 8))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)
