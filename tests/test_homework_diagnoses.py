"""Each diagnosis of a wrong answer, one by one: it names the mistake for an answer computed that way
(the value written here by hand), and stays silent for the right answer."""

from __future__ import annotations

import pytest

from archcost.homework import check_file
from archcost.homework.diagnose import DIAGNOSES

CONV = "conv2d: {in: [192, 28, 28], out_channels: 32, kernel_size: 5, padding: 2}"
BN_NET = "input: [3, 8, 8]\n    layers: [{conv2d: {out_channels: 4, kernel_size: 3, bias: false}}, {batchnorm2d: {}}]"
SEP = ("input: [3, 6, 6]\n    layers: [{conv2d: {out_channels: 3, kernel_size: 3, groups: 3, bias: false}}, "
       "{conv2d: {out_channels: 5, kernel_size: 1, bias: false}}]")
CHAIN = ("input: [3, 8, 8]\n    layers: [{conv2d: {out_channels: 4, kernel_size: 3, padding: 1}}, {relu: {}}, "
         "{conv2d: {out_channels: 8, kernel_size: 3, padding: 1}}]")
FROZEN = ("input: [3, 8, 8]\n    layers: [{conv2d: {out_channels: 4, kernel_size: 3}}, {flatten: {}}, "
          "{linear: {out_features: 2, trainable: false}}]")
RATIO = ("quantity: ratio\n    of: {" + CONV + ", quantity: macs}\n"
         "    to: {conv2d: {in: [192, 28, 28], out_channels: 16, kernel_size: 1}, quantity: macs}")  # = 50
FRAC = ("quantity: fraction\n    part: {" + CONV + ", quantity: params}\n"
        "    whole: {input: [192, 28, 28], layers: [{conv2d: {out_channels: 32, kernel_size: 5, padding: 2}}, "
        "{conv2d: {out_channels: 32, kernel_size: 5, padding: 2}}], quantity: params}")  # 153,632 / 179,264

MHA = "multi_head_attention: {in: [10, 16], num_heads: 2}"
TOKENS = "input: [10, 16]\n    layers: [{linear: {out_features: 16}}, {multi_head_attention: {num_heads: 2}}]"

# (diagnosis name, the question's subject and options, the wrong answer, the right answer)
CASES = [
    ("flops_not_macs", f"{CONV}\n    quantity: macs", "240,844,800", "120,422,400"),
    ("macs_not_flops", f"{CONV}\n    quantity: flops", "120.4M", "240.8M"),
    ("forgot_bias", f"{CONV}\n    quantity: params", "153,600", "153,632"),   # 5·5·192·32
    ("added_bias", "conv2d: {in: [3, 8, 8], out_channels: 4, kernel_size: 3, bias: false}\n    quantity: params",
     "112", "108"),
    ("bn_stats_counted", f"{BN_NET}\n    quantity: params", "124", "116"),    # 108 + 4·4 vs 108 + 2·4
    ("bn_stats_left_out", f"{BN_NET}\n    quantity: params\n    convention: keras", "116", "124"),
    ("hwc_order", f"{CONV}\n    quantity: output_shape", "28x28x32", "32x28x28"),
    ("chw_order", f"{CONV}\n    quantity: output_shape\n    layout: hwc", "32x28x28", "28x28x32"),
    ("ceil_not_floor", "conv2d: {in: [3, 224, 224], out_channels: 96, kernel_size: 11, stride: 4}\n"
                       "    quantity: output_shape", "96x55x55", "96x54x54"),   # ⌊213/4⌋ + 1 = 54
    ("floor_not_ceil", "max_pool2d: {in: [4, 7, 7], kernel_size: 2, ceil_mode: true}\n    quantity: output_shape",
     "4x3x3", "4x4x4"),
    ("ignored_padding", f"{CONV}\n    quantity: output_shape", "32x24x24", "32x28x28"),
    ("same_padding", "conv2d: {in: [3, 8, 8], out_channels: 4, kernel_size: 5}\n    quantity: output_shape",
     "4x8x8", "4x4x4"),
    ("ignored_stride", "conv2d: {in: [3, 8, 8], out_channels: 4, kernel_size: 3, stride: 2, padding: 1}\n"
                       "    quantity: output_shape", "4x8x8", "4x4x4"),
    ("off_by_one_low", f"{CONV}\n    quantity: output_shape", "32x27x27", "32x28x28"),
    ("off_by_one_high", f"{CONV}\n    quantity: output_shape", "32x29x29", "32x28x28"),
    ("separable_as_standard", f"{SEP}\n    quantity: macs", "2,160", "672"),    # 3·3·3 × 4·4·5
    ("groups_ignored", f"{SEP}\n    quantity: macs", "1,536", "672"),          # 3·3·3·4·4·3 + 240
    ("only_depthwise", f"{SEP}\n    quantity: macs", "432", "672"),
    ("only_pointwise", f"{SEP}\n    quantity: macs", "240", "672"),
    ("elements_not_bytes", f"{CONV}\n    quantity: activation_bytes", "25,088", "100,352"),
    ("bytes_not_elements", f"{CONV}\n    quantity: activation_elems", "100,352", "25,088"),
    ("params_not_bytes", f"{CONV}\n    quantity: weight_bytes", "153,632", "614,528"),
    ("bytes_not_params", f"{CONV}\n    quantity: params", "614,528", "153,632"),
    ("mib_written_as_mb", f"{CONV}\n    quantity: weight_bytes", "0.586 MB", "0.615 MB"),   # 614,528 / 2^20
    ("mb_written_as_mib", f"{CONV}\n    quantity: weight_bytes", "0.615 MiB", "0.586 MiB"),
    ("dtype_float16", f"{CONV}\n    quantity: activation_bytes", "50,176", "100,352"),
    ("dtype_float32", f"{CONV}\n    quantity: activation_bytes\n    dtype: float16", "100,352", "50,176"),
    ("dtype_float64", f"{CONV}\n    quantity: activation_bytes", "200,704", "100,352"),
    # CHAIN: input 3·8·8 = 192, conv 4·8·8 = 256, relu 256, conv 8·8·8 = 512 values; alive at most: relu's 256
    # and the last conv's 512 (the input and the first conv's output are freed by then): 768 · 4 bytes
    ("sum_not_peak", f"{CHAIN}\n    quantity: peak_activation_bytes", "4,096", "3,072"),  # (256 + 256 + 512)·4
    ("only_last_layer", f"{CHAIN}\n    quantity: params", "296", "408"),      # (3·3·4 + 1)·8
    ("input_included", f"{CHAIN}\n    quantity: activation_elems", "1,216", "1,024"),   # + 3·8·8
    ("input_left_out", f"{CHAIN}\n    quantity: activation_elems\n    include_input: true", "1,024", "1,216"),
    ("batch_left_out", f"{CONV}\n    quantity: macs\n    batch: 4", "120,422,400", "481,689,600"),
    # a conv (3·3·3 + 1)·4 = 112 trainable, then a frozen linear on the flattened 4·6·6 map: (144 + 1)·2 = 290
    ("all_not_trainable", f"{FROZEN}\n    quantity: trainable_params", "402", "112"),
    ("trainable_not_all", f"{FROZEN}\n    quantity: params", "112", "402"),
    # attention on 10 tokens of 16 channels, 2 heads: projections 4·10·16² = 10,240, QKᵀ + A·V 2·10²·16 = 3,200;
    # params 4·16² + 4·16 = 1,088; a linear 10·16·16 = 2,560 in front (FlopCounterMode under no_grad sees only it)
    ("attention_matmuls_left_out", f"{MHA}\n    quantity: macs", "10,240", "13,440"),
    ("fused_attention_unseen", f"{TOKENS}\n    quantity: macs", "2,560", "16,000"),
    ("projections_per_head", f"{MHA}\n    quantity: params", "2,176", "1,088"),
    ("class_token_left_out", "input: [10, 16]\n    layers: [{class_token: {}}]\n    quantity: tokens", "10", "11"),
    ("inverted", f"{RATIO}", "0.02", "50x"),
    ("complement", f"{FRAC}", "14%", "86%"),
]


def check_one(tmp_path, body: str, answer: str):
    text = "questions:\n  - id: q\n    " + body + f"\n    answer: \"{answer}\"\n"
    path = tmp_path / "a.yaml"
    path.write_text(text)
    (r,) = check_file(str(path)).results
    return r


@pytest.mark.parametrize("name,body,wrong,right", CASES, ids=[c[0] for c in CASES])
def test_diagnosis(tmp_path, name, body, wrong, right):
    r = check_one(tmp_path, body, right)
    assert r.status == "right", (r.verdict.message, r.expected.value)
    assert r.diagnoses == []
    r = check_one(tmp_path, body, wrong)
    assert r.status == "wrong"
    names = [d.name for d in r.diagnoses]
    assert name in names, (names, r.expected.value)
    d = next(d for d in r.diagnoses if d.name == name)
    assert d.message and d.value is not None


def test_no_diagnosis_for_an_unrelated_wrong_answer(tmp_path):
    r = check_one(tmp_path, f"{CONV}\n    quantity: macs", "77M")
    assert r.status == "wrong" and r.diagnoses == []


def test_every_diagnosis_function_is_exercised():
    names = {c[0] for c in CASES}
    prefixes = {"flops_vs_macs": {"flops_not_macs", "macs_not_flops"}, "bias": {"forgot_bias", "added_bias"},
                "bn_running_stats": {"bn_stats_counted", "bn_stats_left_out"}, "layout": {"hwc_order", "chw_order"},
                "padding_stride": {"ceil_not_floor", "floor_not_ceil", "ignored_padding", "same_padding",
                                   "ignored_stride"},
                "off_by_one": {"off_by_one_low", "off_by_one_high"},
                "depthwise_split": {"separable_as_standard", "groups_ignored", "only_depthwise", "only_pointwise"},
                "bytes_vs_elements": {"elements_not_bytes", "bytes_not_elements", "params_not_bytes",
                                      "bytes_not_params"},
                "mb_vs_mib": {"mib_written_as_mb", "mb_written_as_mib"},
                "dtype": {"dtype_float16", "dtype_float32", "dtype_float64"}, "sum_not_peak": {"sum_not_peak"},
                "only_last_layer": {"only_last_layer"}, "input_included": {"input_included", "input_left_out"},
                "batch": {"batch_left_out"}, "trainable_vs_all": {"all_not_trainable", "trainable_not_all"},
                "inverted": {"inverted", "complement"},
                "attention": {"attention_matmuls_left_out", "fused_attention_unseen", "projections_per_head"},
                "class_token": {"class_token_left_out"}}
    assert sorted(prefixes) == sorted(f.__name__ for f in DIAGNOSES)
    assert set().union(*prefixes.values()) == names
