"""`archcost check`, `explain` and `calc` through typer's CliRunner: exit codes, formats, workings."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from archcost.cli import app

ROOT = Path(__file__).resolve().parent.parent
HW = ROOT / "specs" / "homework"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "120"})


ALL_RIGHT = """title: all right
questions:
  - id: macs
    text: MACs of the 5×5 convolution?
    conv2d: {in: [192, 28, 28], out_channels: 32, kernel_size: 5, padding: 2}
    quantity: macs
    answer: 120M
    points: 2
  - id: shape
    spec: SPEC
    quantity: output_shape
    layout: hwc
    answer: 28x28x32
"""


@pytest.fixture
def right_file(tmp_path):
    p = tmp_path / "right.yaml"  # a key names files inside its own folder only (issue 19)
    (tmp_path / "bottleneck.yaml").write_text((HW / "inception_5x5_bottleneck.yaml").read_text())
    p.write_text(ALL_RIGHT.replace("SPEC", "bottleneck.yaml"))
    return p


def test_check_all_right_exits_0_and_shows_the_working(right_file):
    r = run("check", right_file)
    assert r.exit_code == 0, r.output
    assert "✓ macs" in r.output and "✓ shape" in r.output
    assert "5·5·192 multiplies per output × 28·28·32 outputs = 4,800 × 25,088 = 120,422,400 MACs" in r.output
    assert "right to the 3 significant figures given" in r.output
    assert "2/2 right; score 3/3" in r.output


def test_check_any_wrong_exits_1():
    r = run("check", HW / "inception_5x5.answers.yaml")
    assert r.exit_code == 1
    assert "✗ naive-macs-as-flops" in r.output and "likely mistake: you counted FLOPs" in r.output


def test_unanswered_questions_show_the_expected_value_and_exit_1(tmp_path):
    p = tmp_path / "key.yaml"
    p.write_text("questions:\n  - {model: vgg16, quantity: params}\n")
    r = run("check", p)
    assert r.exit_code == 1
    assert "expected 138,357,544 — not answered" in r.output


def test_json_contract(right_file):
    r = run("check", right_file, "-f", "json")
    d = json.loads(r.output)
    assert list(d) == ["format", "version", "archcost", "file", "title", "score", "max_score", "right", "wrong",
                       "unanswered", "questions"]
    assert d["format"] == "archcost-check" and d["version"] == 1 and d["score"] == 3 and d["max_score"] == 3
    q = d["questions"][0]
    assert list(q) == ["id", "text", "subject", "quantity", "convention", "dtype", "batch", "layout", "points", "score",
                       "status", "right", "expected", "answer", "verdict", "tolerance", "diagnoses", "working"]
    assert q["expected"] == {"value": 120422400, "text": "120,422,400 (120M)"}
    assert q["answer"] == {"raw": "120M", "kind": "number", "value": 120000000}
    assert q["working"]["value"] == 120422400 and "4,800 × 25,088" in q["working"]["text"]
    assert d["questions"][1]["expected"]["value"] == [32, 28, 28]


def test_json_diagnoses():
    d = json.loads(run("check", HW / "inception_5x5.answers.yaml", "-f", "json").output)
    q = next(q for q in d["questions"] if q["id"] == "naive-macs-as-flops")
    assert q["status"] == "wrong" and q["score"] == 0
    assert q["diagnoses"][0]["name"] == "flops_not_macs" and q["diagnoses"][0]["value"] == 240844800


def test_gradescope_schema(tmp_path):
    out = tmp_path / "results.json"
    r = run("check", HW / "inception_5x5.answers.yaml", "-f", "gradescope", "-o", out)
    assert r.exit_code == 1 and r.output == ""
    d = json.loads(out.read_text())
    assert set(d) == {"score", "output", "tests"}
    assert len(d["tests"]) == 14
    for t in d["tests"]:
        assert set(t) == {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] in ("passed", "failed") and (t["score"] == t["max_score"]) == (t["status"] == "passed")
    assert d["score"] == sum(t["score"] for t in d["tests"]) == 8


def test_markdown_has_collapsible_working():
    r = run("check", HW / "inception_5x5.answers.yaml", "-f", "markdown")
    assert r.exit_code == 1
    assert "| ✓ | naive-macs | macs |" in r.output
    assert "<details><summary>working</summary>" in r.output
    assert "<li><details><summary>inception_5x5_bottleneck: 2,408,448 + 10,035,200 = 12,443,648 MACs" in r.output


# ---------------------------------------------------------------------------- explain

def test_explain_a_block():
    r = run("explain", "googlenet", "--layer", "inception3a", "-q", "macs")
    assert r.exit_code == 0, r.output
    assert "googlenet / inception3a: 9,633,792 + 101,154,816 + 6,021,120 + 4,816,896 = 121,626,624 MACs" in r.output
    assert "inception3a.parallel0.branch1.basic_conv1.conv2d0: 3·3·96 multiplies per output" in r.output


def test_explain_a_layer_default_quantities():
    r = run("explain", HW / "alexnet_2012.yaml", "--layer", "conv1")
    assert r.exit_code == 0, r.output
    for text in ("H: (227 − 11 + 2·0)/4 + 1 = 54 + 1 = 55", "(11·11·3 + 1)·96 = 34,944",
                 "11·11·3 multiplies per output × 55·55·96 outputs = 363 × 290,400 = 105,415,200 MACs",
                 "290,400 × 4 bytes (float32) = 1,161,600 bytes"):
        assert text in r.output


def test_explain_whole_model_and_formats():
    r = run("explain", "vgg16", "-q", "params", "-q", "depth")
    assert r.exit_code == 0
    assert "= 138,357,544" in r.output and "2 + 2 + 3 + 3 + 3 + 1 + 1 + 1 = 16" in r.output
    d = json.loads(run("explain", "vgg16", "-q", "params", "-f", "json").output)
    assert d["workings"]["params"]["value"] == 138357544 and len(d["workings"]["params"]["parts"]) == 8
    assert "<details>" in run("explain", "vgg16", "-q", "params", "-f", "markdown").output


@pytest.mark.parametrize("args,text", [
    (["explain", "vgg16", "--layer", "nope"], "no layer or block 'nope'"),
    (["explain", "vgg16", "-q", "speed"], "unknown quantity 'speed'"),
    (["explain", "vgg16", "-c", "tf"], "unknown convention"),
    (["explain", "vgg99"], "neither a spec file nor a zoo model"),
    (["calc", "conv3d", "--in", "3,8,8"], "unknown op 'conv3d'"),
    (["calc", "conv2d", "--in", "3,8,8", "--out-channels", "4", "--kernal-size", "3"], "did you mean --kernel-size"),
    (["calc", "conv2d", "--in", "3,a,8", "--out-channels", "4", "--kernel-size", "3"], "--in"),
    (["calc", "conv2d", "--in", "3,8,8", "--out-channels", "4", "--kernel-size", "9"], "larger than the padded input"),
    (["calc", "linear", "--in", "8", "--out-features", "4", "--compare", "depthwise-separable"], "compares a conv2d"),
    (["calc", "conv2d", "--in", "3,8,8", "--out-channels", "4", "--kernel-size", "3", "--compare", "winograd"],
     "unknown comparison"),
])
def test_bad_input_exit_2(args, text):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert text in r.output and r.output.strip().count("\n") == 0


# ---------------------------------------------------------------------------- calc

def test_calc_the_issue_example():
    r = run("calc", "conv2d", "--in", "3,227,227", "--out-channels", "96", "--kernel-size", "11", "--stride", "4")
    assert r.exit_code == 0, r.output
    for text in ("conv2d0: 96×55×55", "H: (227 − 11 + 2·0)/4 + 1 = 54 + 1 = 55", "(11·11·3 + 1)·96 = 34,944",
                 "= 105,415,200 MACs", "= 210,830,400 FLOPs", "= 1,161,600 bytes", "34,944 × 4 bytes (float32) = 139,776"):
        assert text in r.output


def test_calc_options_no_bias_dtype_and_fc_on_a_feature_map():
    r = run("calc", "linear", "--in", "256,6,6", "--out-features", "4096", "--no-bias", "--dtype", "float16")
    assert r.exit_code == 0, r.output
    assert "flatten to 9,216 features, then linear" in r.output
    assert "9,216·4,096 = 37,748,736" in r.output and "× 2 bytes (float16)" in r.output
    d = json.loads(run("calc", "max_pool2d", "--in", "96,55,55", "--kernel-size", "3", "--stride", "2", "-f", "json").output)
    assert d["output_shape"]["value"] == [96, 27, 27]


def test_calc_multi_head_attention_tokens_dim_heads():
    r = run("calc", "multi_head_attention", "--in", "197,768", "--num-heads", "12")
    assert r.exit_code == 0, r.output
    assert "(3·768·768 + 3·768) + (768·768 + 768) = 1,771,776 + 590,592 = 2,362,368" in r.output
    for line in ("Q, K, V projections: 768 multiplies per output × 197·2,304 outputs = 768 × 453,888 = 348,585,984 MACs",
                 "QKᵀ: 64 multiplies per score × 12·197·197 scores = 64 × 465,708 = 29,805,312 MACs",
                 "A·V: 197 multiplies per output × 12·197·64 outputs = 197 × 151,296 = 29,805,312 MACs",
                 "out projection: 768 multiplies per output × 197·768 outputs = 768 × 151,296 = 116,195,328 MACs",
                 "= 524,391,936 MACs"):
        assert line in r.output, line
    d = json.loads(run("calc", "multi_head_attention", "--in", "197,768", "--num-heads", "12", "--no-bias",
                       "-f", "json").output)
    assert d["params"]["value"] == 4 * 768 * 768
    r = run("calc", "multi_head_attention", "--in", "197,768", "--num-heads", "7")
    assert r.exit_code == 2 and "num_heads=7 does not divide the embedding size 768" in r.output


def test_calc_scaled_dot_product_attention_self_attention():
    r = run("calc", "scaled_dot_product_attention", "--in", "12,197,64")
    assert r.exit_code == 0, r.output
    assert "query, key and value are each the 12×197×64 input (self-attention)" in r.output
    assert "29,805,312 + 29,805,312 = 59,610,624 MACs" in r.output and "QKᵀ: 64 multiplies per score" in r.output
    d = json.loads(run("calc", "scaled_dot_product_attention", "--in", "12,197,64", "--is-causal", "-f", "json").output)
    assert d["macs"]["value"] == 2 * 12 * 197 * 197 * 64  # a causal mask computes every score too


def test_explain_an_encoder_block_shows_the_attention_matmuls():
    r = run("explain", "vit_b_16", "--layer", "encoder.layers.encoder_layer_0", "-q", "macs")
    assert r.exit_code == 0, r.output
    assert "QKᵀ: 64 multiplies per score × 12·197·197 scores" in r.output
    assert "A·V: 197 multiplies per output × 12·197·64 outputs" in r.output
    assert "encoder.layers.encoder_layer_0.mlp.0: 768 multiplies per output × 197·3,072 outputs" in r.output
    assert "= 1,453,954,560 MACs" in r.output


def test_calc_compare_depthwise_separable_mobilenet_layer():
    r = run("calc", "conv2d", "--in", "512,14,14", "--out-channels", "512", "--kernel-size", "3", "--padding", "1",
            "--no-bias", "--compare", "depthwise-separable")
    assert r.exit_code == 0, r.output
    assert "462,422,016" in r.output and "903,168" in r.output and "51,380,224" in r.output
    assert "1/512 + 1/(3·3) ≈ 0.1131" in r.output


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 16), n=st.integers(1, 64), k=st.integers(1, 5), size=st.integers(5, 20),
       s=st.integers(1, 3), p=st.integers(0, 2), bias=st.booleans())
def test_separable_macs_ratio_is_the_mobilenet_formula(c, n, k, size, s, p, bias):
    """MobileNet §3.1: depthwise-separable / standard computation = 1/N + 1/D_K², for any input,
    stride and padding (both produce the same output grid); params without bias obey it too."""
    from archcost.homework.calc import depthwise_separable

    sep = depthwise_separable((c, size, size), {"out_channels": n, "kernel_size": k, "stride": s, "padding": p,
                                                "bias": bias})
    assert sep.ratios["macs"] == Fraction(1, n) + Fraction(1, k * k) == sep.formula.value
    if not bias:
        assert sep.ratios["params"] == Fraction(1, n) + Fraction(1, k * k)
    # and the parts are the hand formulas
    out = (size + 2 * p - k) // s + 1
    assert sep.standard["macs"].value == k * k * c * n * out * out
    assert sep.depthwise["macs"].value == k * k * c * out * out
    assert sep.pointwise["macs"].value == c * n * out * out


def test_commands_run_without_the_heavy_packages():
    """As after `pip install archcost` alone: torch, numpy, pandas, plotly, fvcore cannot be imported."""
    from test_missing_extras import run_blocked

    blocked = "torch,torchvision,fvcore,numpy,pandas,plotly"
    r = run_blocked(["check", str(HW / "inception_5x5.answers.yaml")], blocked)
    assert r.returncode == 1 and "✓ naive-macs" in r.stdout, r.stderr[-2000:]
    r = run_blocked(["explain", "vgg16", "-q", "params"], blocked)
    assert r.returncode == 0 and "138,357,544" in r.stdout, r.stderr[-2000:]
    r = run_blocked(["calc", "conv2d", "--in", "3,227,227", "--out-channels", "96", "--kernel-size", "11",
                     "--stride", "4"], blocked)
    assert r.returncode == 0 and "34,944" in r.stdout, r.stderr[-2000:]
