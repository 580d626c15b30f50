"""timm's models captured from ``timm:NAME`` (issue 18): params and MACs equal ``sum(p.numel())`` and
FlopCounterMode, no opaque row, and a written spec that lowers to timm's state_dict names and outputs.
CI does not install timm: these skip there (tests/test_capture_timm_layers.py covers the mappings on
hand-written copies of timm's layers).  Small models only; the README's table is measured on more."""

import copy

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcost  # noqa: E402
from archcost.capture import capture  # noqa: E402
from archcost.capture.source import load, parse_source  # noqa: E402


def _meta_truth(model, shape):
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(torch.empty(1, *shape, device="meta"))
    return sum(p.numel() for p in model.parameters()), fc.get_total_flops() // 2


@pytest.mark.parametrize("name, op", [("regnetx_002", "batchnorm2d"), ("mobilenetv3_large_100", "batchnorm2d"),
                                      ("ghostnet_100", "slice"), ("convnext_atto", "layer_scale"),
                                      ("vit_tiny_patch16_224", "scaled_dot_product_attention")])
def test_timm_model_is_clean_and_counted(name, op):
    model, shape = load(parse_source(f"timm:{name}"), meta=True)
    cap = capture(model, input=shape)
    assert cap.not_understood == []
    assert op in {r.op for r in cap.trace.rows}
    a = archcost.analyze(model.eval(), input=shape)
    assert (a.totals["params"], a.totals["macs"]) == _meta_truth(model, shape)


@pytest.mark.parametrize("name, kwargs, shape", [("regnetx_002", {}, (3, 64, 64)),
                                                 ("vit_tiny_patch16_224", {"img_size": 32}, (3, 32, 32)),
                                                 ("tf_efficientnet_b0", {}, (3, 65, 65))])  # TF "SAME" padding
def test_timm_round_trip_with_real_weights(name, kwargs, shape, tmp_path):
    """Random weights, batch-norm statistics, class token and position embedding: the written spec analyses to
    the same params and MACs (FlopCounterMode's on meta, where sdpa has a formula), lowers to timm's
    state_dict names and shapes, and computes the same output."""
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, **kwargs).eval()
    for key, t in model.state_dict().items():
        if key.endswith("running_var"):
            t.uniform_(0.5, 2.0)
        elif key.endswith(("running_mean", "cls_token", "pos_embed")) or (key.endswith(("bias", "weight"))
                                                                         and t.dim() == 1):
            t.normal_()
    cap = capture(model, input=shape)
    assert cap.not_understood == []
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    a = archcost.analyze(str(path))
    assert (a.totals["params"], a.totals["macs"]) == _meta_truth(copy.deepcopy(model).to("meta"), shape)
    lowered = archcost.lower(str(path)).eval()
    assert {k: tuple(v.shape) for k, v in lowered.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in model.state_dict().items()}
    lowered.load_state_dict(model.state_dict())
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(lowered(x), model(x), atol=1e-4, rtol=1e-4)
