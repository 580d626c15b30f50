"""The worked answer files in specs/homework/: every verdict and every diagnosis, and the true values
against hand computations (each written out here from the layer sizes, not taken from archcost)."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import pytest

from archcost.homework import check_file

HW = Path(__file__).resolve().parent.parent / "specs" / "homework"

# question id -> (status, diagnosis names in order)
VERDICTS = {
    "alexnet_conv.answers.yaml": {
        "conv1-shape": ("right", []),
        "conv1-shape-224": ("wrong", ["ceil_not_floor", "off_by_one_high"]),
        "conv1-shape-off-by-one": ("wrong", ["off_by_one_low"]),
        "conv1-shape-chw": ("wrong", ["hwc_order"]),
        "conv1-params": ("right", []),
        "conv1-params-no-bias": ("wrong", ["forgot_bias"]),
        "conv1-macs": ("right", []),
        "conv1-flops": ("wrong", ["flops_not_macs"]),
        "conv1-activation-bytes": ("right", []),
        "conv1-activation-mib": ("right", []),
        "conv1-activation-mb-for-mib": ("wrong", ["mib_written_as_mb"]),
        "conv1-activation-elements": ("wrong", ["elements_not_bytes"]),
        "pool1-shape": ("right", []),
        "pool1-shape-off": ("wrong", ["same_padding", "off_by_one_high"]),
        "conv2-params": ("right", []),
        "conv2-params-one-tower": ("wrong", ["groups_ignored"]),
        "conv2-shape": ("right", []),
        "conv-params": ("right", []),
        "total-params": ("right", []),
        "total-params-one-tower": ("wrong", ["groups_ignored"]),
        "fc6-params": ("right", []),
        "fc-share": ("right", []),
    },
    "depthwise_separable.answers.yaml": {
        "standard-macs": ("right", []),
        "standard-shape": ("right", []),
        "depthwise-macs": ("right", []),
        "depthwise-as-standard": ("wrong", ["groups_ignored"]),
        "separable-macs": ("right", []),
        "separable-as-standard": ("wrong", ["separable_as_standard"]),
        "separable-only-depthwise": ("wrong", ["only_depthwise"]),
        "separable-only-pointwise": ("wrong", ["only_pointwise", "only_last_layer"]),
        "cost-ratio": ("right", []),
        "cost-ratio-decimal": ("right", []),
        "cost-ratio-percent": ("right", []),
        "cost-ratio-fraction": ("right", []),
        "cost-ratio-inverted": ("wrong", ["inverted"]),
        "mobilenet-layer-macs": ("right", []),
        "mobilenet-layer-standard": ("wrong", ["separable_as_standard"]),
        "mobilenet-layer-params": ("right", []),
        "mobilenet-layer-params-bias": ("wrong", ["added_bias"]),
        "mobilenet-ratio": ("right", []),
        "mobilenet-ratio-formula": ("right", []),
        "mobilenet-ratio-8": ("right", []),
        "mobilenet-ratio-10": ("wrong", []),
        "mobilenet-savings": ("right", []),
    },
    "as_students_write.answers.yaml": {
        "savings-fewer": ("right", []),
        "savings-under-half": ("right", []),
        "savings-more": ("wrong", ["inverted"]),
        "savings-10x-cheaper": ("right", []),
        "savings-a-tenth": ("right", []),
        "savings-10x-more": ("wrong", ["inverted"]),
        "naive-macs-about": ("right", []),
        "naive-macs-not-about": ("wrong", []),
        "bottleneck-macs-thin-space": ("right", []),
        "bottleneck-macs-decimal-comma": ("right", []),
        "conv5_3-channels": ("right", []),
        "pool5-spatial": ("right", []),
        "pool5-spatial-wrong": ("wrong", []),
        "downsampling": ("right", []),
        "stage-filters": ("right", []),
        "stage-filters-wrong": ("wrong", []),
        "hidden-fc": ("right", []),
        "fc8-params": ("right", []),
        "dilated-extent": ("right", []),
        "dilated-extent-wrong": ("wrong", []),
        "dilated-zero-taps": ("right", []),
        "googlenet-alexnet-fewer": ("right", []),
        "googlenet-alexnet-more": ("wrong", ["inverted"]),
        "resnet-conv2_x-shape": ("right", []),
        "googlenet-pool-channels": ("right", []),
    },
    "inception_5x5.answers.yaml": {
        "naive-macs": ("right", []),
        "naive-macs-exact": ("right", []),
        "naive-macs-as-flops": ("wrong", ["flops_not_macs"]),
        "naive-shape": ("right", []),
        "naive-shape-no-padding": ("wrong", ["ignored_padding"]),
        "naive-params": ("wrong", ["forgot_bias"]),
        "bottleneck-macs": ("right", []),
        "bottleneck-macs-2sf": ("right", []),
        "bottleneck-macs-13M": ("wrong", []),
        "bottleneck-last-layer": ("wrong", ["only_last_layer"]),
        "bottleneck-reduce-layer": ("right", []),
        "savings": ("right", []),
        "savings-inverted": ("wrong", ["inverted"]),
        "bottleneck-params": ("right", []),
    },
    "keras_summary.answers.yaml": {
        "total": ("right", []),
        "total-torch-count": ("wrong", ["bn_stats_left_out", "trainable_not_all"]),
        "trainable": ("right", []),
        "non-trainable": ("right", []),
        "non-trainable-zero": ("wrong", ["bn_stats_left_out"]),
        "bn1-params": ("right", []),
        "conv1-shape": ("right", []),
        "pool2-shape": ("right", []),
        "pool2-shape-ceil": ("wrong", ["ceil_not_floor", "off_by_one_high"]),
        "flatten-shape": ("right", []),
        "conv2-params": ("right", []),
        "conv2-params-no-bias": ("wrong", ["forgot_bias"]),
        "dense-params": ("right", []),
        "weight-memory": ("right", []),
        "weight-memory-keras-label": ("wrong", ["mib_written_as_mb"]),
        "weight-memory-kb": ("right", []),
    },
    "lenet5.answers.yaml": {
        "c1-shape": ("right", []),
        "c1-shape-same": ("wrong", ["same_padding"]),
        "c1-params": ("right", []),
        "c1-params-no-bias": ("wrong", ["forgot_bias"]),
        "c1-macs": ("right", []),
        "c1-connections": ("wrong", []),
        "s2-params": ("right", []),
        "s2-shape": ("right", []),
        "c3-params": ("right", []),
        "c3-full": ("wrong", []),
        "c5-params": ("right", []),
        "c5-shape": ("right", []),
        "f6-params": ("right", []),
        "trainable": ("right", []),
        "trainable-all": ("wrong", ["all_not_trainable"]),
        "params": ("right", []),
        "depth": ("right", []),
        "macs": ("right", []),
    },
    "mobilenetv2_block.answers.yaml": {
        "output-shape": ("right", []),
        "expanded-shape": ("right", []),
        "params": ("right", []),
        "params-keras-style": ("wrong", ["bn_stats_counted"]),
        "params-keras": ("right", []),
        "conv-params": ("right", []),
        "conv-params-bias": ("wrong", ["added_bias"]),
        "macs": ("right", []),
        "macs-groups-ignored": ("wrong", ["groups_ignored"]),
        "macs-flops": ("wrong", ["flops_not_macs"]),
        "depth": ("right", []),
        "depthwise-share": ("right", []),
        "activation-memory": ("right", []),
        "activation-memory-batch": ("wrong", ["batch_left_out"]),
    },
    "vit_attention.answers.yaml": {
        "patches": ("right", []),
        "tokens": ("right", []),
        "tokens-no-class-token": ("wrong", ["class_token_left_out"]),
        "tokens-384": ("right", []),
        "tokens-b32": ("right", []),
        "mha-params": ("right", []),
        "mha-params-no-bias": ("wrong", ["forgot_bias"]),
        "mha-params-per-head": ("wrong", ["projections_per_head"]),
        "mha-params-16-heads": ("right", []),
        "encoder-params": ("right", []),
        "attention-macs": ("right", []),
        "attention-macs-qk-only": ("wrong", []),
        "attention-macs-flops": ("wrong", ["flops_not_macs"]),
        "attention-growth-384": ("right", []),
        "attention-growth-linear": ("wrong", []),
        "mha-macs": ("right", []),
        "mha-macs-projections-only": ("wrong", ["attention_matmuls_left_out"]),
        "model-macs": ("right", []),
        "model-macs-flop-counter": ("wrong", ["fused_attention_unseen"]),
        "attention-share": ("right", []),
        "patch-field": ("right", []),
    },
    "vgg16_memory.answers.yaml": {
        "params": ("right", []),
        "params-exact": ("right", []),
        "params-no-bias": ("wrong", ["forgot_bias"]),
        "weight-memory": ("right", []),
        "weight-memory-mib": ("right", []),
        "weight-memory-mb-for-mib": ("wrong", ["mib_written_as_mb"]),
        "weight-memory-params": ("wrong", ["params_not_bytes"]),
        "weight-memory-fp16": ("wrong", ["dtype_float16"]),
        "activations": ("right", []),
        "activations-cs231n": ("wrong", []),
        "activations-no-input": ("wrong", ["input_left_out"]),
        "activation-memory": ("right", []),
        "activation-memory-mib": ("right", []),
        "activation-memory-cs231n": ("wrong", []),
        "activation-memory-mb-for-mib": ("wrong", ["mib_written_as_mb"]),
        "activation-memory-elements": ("wrong", ["elements_not_bytes"]),
        "activation-memory-fp16": ("wrong", ["dtype_float16"]),
        "peak": ("right", []),
        "peak-as-sum": ("wrong", ["sum_not_peak"]),
        "macs": ("right", []),
        "conv-macs": ("right", []),
        "flops": ("right", []),
        "flops-as-macs": ("wrong", ["macs_not_flops"]),
        "fc-share": ("right", []),
        "fc-share-complement": ("wrong", ["complement"]),
        "conv-share": ("right", []),
        "depth": ("right", []),
        "convs": ("right", []),
        "fc6-params": ("right", []),
    },
}

# hand computations of the true values (independent of archcost)
C = 28 * 28
VGG_CONV = [(3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56), (256, 256, 56),
            (256, 256, 56), (256, 512, 28), (512, 512, 28), (512, 512, 28), (512, 512, 14), (512, 512, 14),
            (512, 512, 14)]
VGG_FC = [(25088, 4096), (4096, 4096), (4096, 1000)]
VGG_PARAMS = sum((9 * i + 1) * o for i, o, _ in VGG_CONV) + sum((i + 1) * o for i, o in VGG_FC)
VGG_OUTPUTS = (224 * 224 * 3 + sum(o * s * s for _, o, s in VGG_CONV)
               + sum(c * s * s for c, s in ((64, 112), (128, 56), (256, 28), (512, 14), (512, 7)))  # pools
               + 4096 + 4096 + 1000)
ALEX = {"conv1": (11 * 11 * 3 + 1) * 96, "conv2": (5 * 5 * 48 + 1) * 256, "conv3": (3 * 3 * 256 + 1) * 384,
        "conv4": (3 * 3 * 192 + 1) * 384, "conv5": (3 * 3 * 192 + 1) * 256, "fc6": (9216 + 1) * 4096,
        "fc7": (4096 + 1) * 4096, "fc8": (4096 + 1) * 1000}
MB2 = 56 * 56
N, D, H, E = 197, 768, 12, 64  # ViT-B/16: tokens, embedding, heads, channels per head
MHA_PARAMS = 3 * D * D + 3 * D + D * D + D
MHA_MACS = 4 * N * D * D + 2 * N * N * D
VALUES = {
    "vit_attention.answers.yaml": {
        "patches": (224 // 16) ** 2, "tokens": (224 // 16) ** 2 + 1, "tokens-384": (384 // 16) ** 2 + 1,
        "tokens-b32": (224 // 32) ** 2 + 1, "mha-params": MHA_PARAMS, "mha-params-16-heads": MHA_PARAMS,
        "encoder-params": MHA_PARAMS + (D + 1) * 3072 + (3072 + 1) * D + 2 * 2 * D,
        "attention-macs": 2 * H * N * N * E, "attention-growth-384": Fraction(577 * 577, N * N),
        "mha-macs": MHA_MACS,
        "model-macs": 16 * 16 * 3 * 14 * 14 * D + 12 * (MHA_MACS + 2 * N * D * 3072) + D * 1000,
        "attention-share": Fraction(12 * MHA_MACS, 16 * 16 * 3 * 14 * 14 * D + 12 * (MHA_MACS + 2 * N * D * 3072)
                                    + D * 1000)},
    "inception_5x5.answers.yaml": {
        "naive-macs": C * 32 * 5 * 5 * 192, "naive-params": (5 * 5 * 192 + 1) * 32,
        "bottleneck-macs": C * 16 * 192 + C * 32 * 5 * 5 * 16, "bottleneck-reduce-layer": C * 16 * 192,
        "savings": Fraction(C * 32 * 5 * 5 * 192, C * 16 * 192 + C * 32 * 5 * 5 * 16),
        "bottleneck-params": (192 + 1) * 16 + (5 * 5 * 16 + 1) * 32, "naive-shape": (32, 28, 28)},
    "alexnet_conv.answers.yaml": {
        "conv1-shape": (96, (227 - 11) // 4 + 1, (227 - 11) // 4 + 1), "conv1-shape-224": (96, 54, 54),
        "conv1-params": ALEX["conv1"], "conv1-macs": 11 * 11 * 3 * 55 * 55 * 96,
        "conv1-activation-bytes": 55 * 55 * 96 * 4, "pool1-shape": (96, 27, 27), "conv2-params": ALEX["conv2"],
        "conv-params": sum(v for k, v in ALEX.items() if k.startswith("conv")),
        "total-params": sum(ALEX.values()), "fc6-params": ALEX["fc6"],
        "fc-share": Fraction(ALEX["fc6"] + ALEX["fc7"] + ALEX["fc8"], sum(ALEX.values()))},
    "vgg16_memory.answers.yaml": {
        "params": VGG_PARAMS, "weight-memory": 4 * VGG_PARAMS, "activations": VGG_OUTPUTS,
        "activation-memory": 4 * VGG_OUTPUTS, "peak": 2 * 224 * 224 * 64 * 4,
        "conv-macs": sum(9 * i * o * s * s for i, o, s in VGG_CONV),
        "macs": sum(9 * i * o * s * s for i, o, s in VGG_CONV) + sum(i * o for i, o in VGG_FC),
        "fc-share": Fraction(sum((i + 1) * o for i, o in VGG_FC), VGG_PARAMS), "depth": 16, "convs": 13},
    "lenet5.answers.yaml": {
        "c1-shape": (6, 28, 28), "c1-params": 156, "c1-macs": 25 * 28 * 28 * 6, "s2-params": 12, "c3-params": 1516,
        "c5-params": 48120, "f6-params": 10164, "trainable": 60000, "params": 60840, "depth": 7},
    "depthwise_separable.answers.yaml": {
        "standard-macs": 27 * 4 * 4 * 5, "depthwise-macs": 9 * 4 * 4 * 3, "separable-macs": 9 * 16 * 3 + 3 * 16 * 5,
        "cost-ratio": Fraction(1, 5) + Fraction(1, 9),
        "mobilenet-layer-macs": 9 * 512 * 14 * 14 + 512 * 512 * 14 * 14,
        "mobilenet-ratio": Fraction(1, 512) + Fraction(1, 9), "mobilenet-layer-params": 9 * 512 + 512 * 512},
    "mobilenetv2_block.answers.yaml": {
        "params": 24 * 144 + 288 + 9 * 144 + 288 + 144 * 24 + 48, "params-keras": 8832 + 2 * (144 + 144 + 24),
        "macs": MB2 * 144 * 24 + MB2 * 144 * 9 + MB2 * 24 * 144, "output-shape": (24, 56, 56),
        "activation-memory": MB2 * 144 * 4, "activation-memory-batch": 32 * MB2 * 144 * 4},
    # Keras 3.15.1 (torch backend) model.summary() of the same model (see the file's header)
    "keras_summary.answers.yaml": {
        "total": 225_418, "trainable": 225_226, "non-trainable": 192, "bn1-params": 128, "conv2-params": 18_496,
        "dense-params": 204_928, "conv1-shape": (32, 26, 26), "pool2-shape": (64, 5, 5), "flatten-shape": (1600,),
        "weight-memory": 225_418 * 4},
}


@pytest.fixture(scope="module", params=sorted(VERDICTS))
def checked(request):
    return request.param, check_file(str(HW / request.param))


def test_every_verdict_and_diagnosis(checked):
    name, report = checked
    got = {r.question.id: (r.status, [d.name for d in r.diagnoses]) for r in report.results}
    assert got == VERDICTS[name]


def test_true_values_equal_hand_computations(checked):
    name, report = checked
    by_id = {r.question.id: r for r in report.results}
    for qid, value in VALUES.get(name, {}).items():
        assert by_id[qid].expected.value == value, qid


def test_files_have_right_and_wrong_answers(checked):
    _, report = checked
    statuses = {r.status for r in report.results}
    assert statuses == {"right", "wrong"}


def test_every_working_adds_up(checked):
    from archcost.ops.working import verify

    _, report = checked
    for r in report.results:
        assert verify(r.expected.working) == [], r.question.id


@pytest.mark.skipif(importlib.util.find_spec("archcost.analysis.receptive") is None,
                    reason="archcost.analysis.receptive (receptive fields) is not in this build")
def test_receptive_field_file():
    report = check_file(str(HW / "receptive_field.answers.yaml"))
    got = {r.question.id: r.status for r in report.results}
    assert got == {"two-3x3": "right", "three-3x3": "right", "three-3x3-wrong": "wrong", "alexnet-conv1": "right",
                   "alexnet-conv1-stride": "right", "alexnet-pool1": "right", "alexnet-pool1-stride": "right",
                   "vgg16-conv5-3": "right", "vgg16-pool5": "right", "vgg16-pool5-stride": "wrong"}
    by_id = {r.question.id: r.expected.value for r in report.results}
    assert by_id["vgg16-pool5"] == (212, 212) and by_id["vgg16-pool5-stride"] == (32, 32)


def test_vit_attention_file_against_torch():
    """The attention numbers of vit_attention.answers.yaml as torch computes them: nn.MultiheadAttention's
    and torchvision's parameters, FlopCounterMode's count with grad enabled and sdpa's math backend (which
    it sees as bmm; under no_grad nn.MultiheadAttention takes a fused kernel FlopCounterMode cannot see),
    torchvision's token count and its _ops meta."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from torch import nn
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    by_id = {r.question.id: r.expected.value for r in check_file(str(HW / "vit_attention.answers.yaml")).results}

    def macs(fn):
        with torch.enable_grad(), FlopCounterMode(display=False) as fc, sdpa_kernel(SDPBackend.MATH):
            fn()
        return fc.get_total_flops() // 2

    with torch.device("meta"):
        for heads, qid in ((12, "mha-params"), (16, "mha-params-16-heads")):
            assert sum(p.numel() for p in nn.MultiheadAttention(D, heads).parameters()) == by_id[qid]
        mha = nn.MultiheadAttention(D, H, batch_first=True)
        x = torch.randn(1, N, D)
        assert macs(lambda: mha(x, x, x, need_weights=False)) == by_id["mha-macs"]
        q = torch.randn(1, H, N, E)
        assert macs(lambda: nn.functional.scaled_dot_product_attention(q, q, q)) == by_id["attention-macs"]
        block = torchvision.models.vision_transformer.EncoderBlock(H, D, 3072, 0.0, 0.0)
        assert sum(p.numel() for p in block.parameters()) == by_id["encoder-params"]
        for name, size, qid in (("vit_b_16", 224, "tokens"), ("vit_b_16", 384, "tokens-384"), ("vit_b_32", 224, "tokens-b32")):
            m = getattr(torchvision.models, name)(image_size=size).eval()
            img = torch.randn(1, 3, size, size)
            assert m._process_input(img).shape[1] + 1 == by_id[qid]
        m = torchvision.models.vit_b_16().eval()
        assert macs(lambda: m(torch.randn(1, 3, 224, 224))) == by_id["model-macs"]
    assert round(by_id["model-macs"] / 1e9, 3) == torchvision.models.ViT_B_16_Weights.DEFAULT.meta["_ops"]
    mha, x = nn.MultiheadAttention(D, H, batch_first=True).eval(), torch.randn(1, N, D)  # on the CPU, not meta
    with torch.no_grad(), FlopCounterMode(display=False) as fc:  # the fused kernel: nothing counted
        mha(x, x, x, need_weights=False)
    assert fc.get_total_flops() == 0  # what the wrong answer 11.27G (model-macs-flop-counter) comes from
