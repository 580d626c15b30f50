"""Counting conventions without torch: hand-computed presets, exact breakdowns, the comparison CLI.

The presets' agreement with the peers themselves is tested in tests/test_peers.py (each op's
lowered module run through ptflops, thop and torchinfo) and, on torchvision's models, there too (slow).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import archcost
from archcost.analysis import CONVENTIONS
from archcost.analysis.peers import CATEGORIES
from archcost.cli import app
from archcost.language import load_spec

# tests/test_analysis.py's tiny net, 8×16×16 input: conv 3×3 (bias) → BN → ReLU →
# residual(conv 3×3/2 → BN; shortcut 1×1/2) → max-pool 2 → flatten → linear 10
from test_analysis import RESNET_BLOCK as TINY  # noqa: E402

CONV_MACS = 16 * 16 * 8 * 8 * 9 + 8 * 8 * 16 * 8 * 9 + 8 * 8 * 16 * 8 + 256 * 10  # 231,936
BIAS = 16 * 16 * 8 + 10  # conv outputs + linear outputs
BN_ELEMS = 8 * 16 * 16 + 16 * 8 * 8  # the two batch-norms' inputs
RELU = 8 * 16 * 16
POOL_IN = 16 * 8 * 8


def tiny(text=TINY, **kw):
    return archcost.analyze(load_spec("tiny.yaml", text=text), **kw)


def test_hand_computed_presets():
    macs = {c: tiny(convention=c).totals["macs"] for c in CONVENTIONS}
    assert macs["default"] == macs["torch"] == macs["full"] == macs["keras"] == CONV_MACS
    assert macs["fvcore"] == CONV_MACS + 2 * BN_ELEMS  # eval batch-norm with affine: 2 per element
    # ptflops: bias as outputs, BN 2/element (affine), nn.ReLU counted by its hook and by the patched F.relu,
    # nn.MaxPool2d by its hook and by the patched F.max_pool2d (input elements each time)
    assert macs["ptflops"] == CONV_MACS + BIAS + 2 * BN_ELEMS + 2 * RELU + 2 * POOL_IN
    # thop: no bias, BN 2 × 2/element with affine, nothing for ReLU or max pool
    assert macs["thop"] == CONV_MACS + 4 * BN_ELEMS
    # torchinfo: weight + bias numel × output positions for convs, × batch for the rest (BN: 2C)
    assert macs["torchinfo"] == CONV_MACS + BIAS + 2 * (8 + 16)
    assert tiny(convention="torch").totals["flops"] == 2 * CONV_MACS  # torch.utils.flop_counter's FLOPs
    for c in ("ptflops", "thop", "torchinfo"):
        assert tiny(convention=c, batch=3).totals["macs"] == 3 * macs[c]


PARAMS = """
name: params_rules
input: [4, 8, 8]
layers:
  - conv2d: {out_channels: 4, kernel_size: 1, trainable: false}   # 16 + 4 frozen params
  - groupnorm: {num_groups: 2}                                     # 8 params, 4·8·8 elements
  - flatten: {}
  - linear: {out_features: 2}                                      # 256·2 + 2
"""


def test_params_where_peers_differ():
    t = {c: tiny(PARAMS, convention=c).totals for c in ("default", "ptflops", "thop", "torchinfo")}
    assert t["default"]["params"] == t["torchinfo"]["params"] == 20 + 8 + 514
    assert t["ptflops"]["params"] == 8 + 514  # sum of p.numel() with requires_grad
    assert t["thop"]["params"] == 20 + 514  # nn.GroupNorm has no thop rule, so neither ops nor params
    # group norm: ptflops input elements × 2 (affine), thop nothing, torchinfo its 2C params
    conv, conv_bias, lin = 4 * 8 * 8 * 4, 4 * 8 * 8, 256 * 2
    assert t["ptflops"]["macs"] == conv + conv_bias + 2 * 256 + lin + 2
    assert t["thop"]["macs"] == conv + lin
    assert t["torchinfo"]["macs"] == conv + conv_bias + 8 + lin + 2


TOKENS = """
name: tokens
input: [5, 8]
layers:
  - linear: {out_features: 3}
  - layernorm: {}
  - softmax: {dim: -1}
"""


def test_token_linear_layernorm_softmax():
    t = {c: tiny(TOKENS, convention=c) for c in ("default", "ptflops", "thop", "torchinfo")}
    assert t["default"].totals["macs"] == 5 * 8 * 3
    # torchinfo counts an N-D linear once per sample: weight + bias, not once per token
    assert t["torchinfo"].totals["macs"] == 8 * 3 + 3 + 2 * 3
    # ptflops: linear per token with bias; LayerNorm has no `affine` attribute (×1); F.softmax: input numel
    assert t["ptflops"].totals["macs"] == 5 * (8 * 3 + 3) + 15 + 15
    # thop: LayerNorm 2 × 2/element (elementwise_affine); softmax per row 3·3 − 1
    assert t["thop"].totals["macs"] == 5 * 8 * 3 + 4 * 15 + 5 * (3 * 3 - 1)
    cmp = archcost.compare_conventions(load_spec("t.yaml", text=TOKENS)).by_name()
    assert cmp["torchinfo"].macs_vs_default_by_category == {"macs": 24 - 120, "bias": 3, "norm": 6}


@pytest.mark.parametrize("name", ["mobilenetv2", "resnet50", "googlenet", "efficientnet_b0", "densenet121",
                                  "inception_v3", "shufflenet_v2_x1_0", "squeezenet1_0", "mobilenet_v3_small",
                                  "lenet5", "nasnet_a_mobile", "maxvit_t"])
def test_breakdown_sums_to_the_difference_exactly(name):
    cmp = archcost.compare_conventions(name, batch=2)
    rows = cmp.by_name()
    base = rows["default"]
    for p in cmp.presets:
        assert sum(p.macs_vs_default_by_category.values()) == p.macs_vs_default == p.macs - base.macs, p.name
        assert sum(p.macs_by_category.values()) == p.macs, p.name
        assert p.macs == archcost.analyze(name, convention=p.name, batch=2).totals["macs"]
        assert set(p.macs_vs_default_by_category) <= set(CATEGORIES)
    full = rows["full"]
    assert full.flops == 2 * full.macs + sum(full.extra_flops_by_category.values())
    # any two tools' gap is the difference of their rows, category by category
    thop, pt = rows["thop"], rows["ptflops"]
    gap = {k: thop.macs_by_category.get(k, 0) - pt.macs_by_category.get(k, 0) for k in CATEGORIES}
    assert sum(gap.values()) == thop.macs - pt.macs


def test_mobilenetv2_breakdown():
    # figures checked against the peers in tests/test_peers.py; here the categories they fall in
    rows = archcost.compare_conventions("mobilenetv2").by_name()
    bn = 13_356_224  # 2 × the 6,678,112 elements entering the 52 batch-norms
    assert rows["fvcore"].macs_vs_default_by_category == {"batchnorm": bn, "adaptive_pool": 62_720}
    assert rows["ptflops"].macs_vs_default_by_category == {"bias": 1000, "batchnorm": bn, "act": 6_105_792,
                                                           "adaptive_pool": 2 * 62_720}
    assert rows["thop"].macs_vs_default_by_category == {"batchnorm": 2 * bn, "adaptive_pool": (49 + 1) * 1280}
    assert rows["torchinfo"].macs == 300_809_384 and rows["full"].flops == 627_397_736


def test_maxvit_breakdown_and_terminal_table():
    # totals equal to each tool on torchvision's maxvit_t (tests/test_peers.py); here where they differ
    rows = archcost.compare_conventions("maxvit_t").by_name()
    assert rows["default"].macs == rows["torch"].macs == 5_558_046_720  # _ops 5.558 G = FlopCounterMode / 2
    assert (rows["ptflops"].macs, rows["thop"].macs, rows["torchinfo"].macs) == (5_483_328_960, 5_456_315_648,
                                                                                 2_013_574_048)
    # per layer of each block two attentions (window, grid) over N tokens of D channels in groups of T = 49
    attention = 2 * (2 * 49) * (2 * 3136 * 64 + 2 * 784 * 128 + 5 * 196 * 256 + 2 * 49 * 512)  # QKᵀ, A·V: 2·N·T·D
    softmax = 2 * 49 * (2 * 3136 * 2 + 2 * 784 * 4 + 5 * 196 * 8 + 2 * 49 * 16)  # ptflops' F.softmax: N·H·T scores
    assert rows["ptflops"].macs_vs_default_by_category["attention"] == softmax - attention
    assert rows["thop"].macs_vs_default_by_category["attention"] == -attention
    assert rows["thop"].params == 30_919_624 - 28_392  # thop leaves the 22 relative-position bias tables out
    r = run("conventions", "maxvit_t")
    assert r.exit_code == 0 and "atten-" in r.output, r.output  # the terminal table names the attention column


def test_json_stamps_the_peer_and_default_stays_unstamped():
    assert "convention_peer" not in tiny().to_dict()
    d = tiny(convention="thop").to_dict()
    assert d["convention"] == "thop" and d["convention_peer"] == "thop 0.1.1"
    assert list(d)[:4] == ["model", "input_shape", "convention", "convention_peer"]
    assert tiny(convention="ptflops").to_dict()["convention_peer"] == "ptflops 0.7.5"
    assert tiny(convention="torchinfo").to_dict()["convention_peer"] == "torchinfo 1.8.0"
    assert tiny(convention="fvcore").to_dict()["convention_peer"] == "fvcore 0.1.5"


runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "120"})


def test_convention_all_json_and_conventions_command_agree():
    r = run("table", "mobilenetv2", "--convention", "all", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert [c["name"] for c in d["conventions"]] == list(CONVENTIONS)
    thop = {c["name"]: c for c in d["conventions"]}["thop"]
    assert thop["macs"] == 327_550_720 and thop["peer"] == "thop 0.1.1"
    assert sum(thop["macs_vs_default_by_category"].values()) == thop["macs_vs_default"]
    assert run("conventions", "mobilenetv2", "-f", "json").output == r.output


def test_convention_all_table_markdown_csv():
    r = run("table", "mobilenetv2", "-c", "all")
    assert r.exit_code == 0, r.output
    for text in ("ptflops", "thop", "torchinfo", "fvcore", "keras", "327.55M", "320.36M", "300.81M",
                 "batch-", "adaptive", "thop 0.1.1"):
        assert text in r.output, text
    md = run("conventions", "mobilenetv2", "-f", "markdown").output
    assert "| `thop` | thop 0.1.1 | 327,550,720 | 655,101,440 | 3,504,872 | +26,776,448 (+8.90%) |" in md
    lines = run("conventions", "mobilenetv2", "-f", "csv").output.splitlines()
    assert lines[0].startswith("convention,peer,macs,flops") and len(lines) == 1 + len(CONVENTIONS)
    narrow = runner.invoke(app, ["conventions", "resnet50"], env={"COLUMNS": "80"})
    assert "…" not in narrow.output.split("reproduces")[0]  # columns make way instead of being cropped


@pytest.mark.parametrize("args,text", [
    (["table", "mobilenetv2", "--convention", "nope"], "unknown convention 'nope'"),
    (["table", "mobilenetv2", "--convention", "all", "--depth", "1"], "--depth"),
    (["conventions", "no_such_model"], "neither a spec file nor a zoo model"),
    (["conventions", "mobilenetv2", "--batch", "0"], "batch"),
])
def test_bad_convention_input_is_one_paragraph_exit_2(args, text):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert text in r.output and "Traceback" not in r.output
    assert r.output.strip().count("\n") == 0
    if "nope" in args:
        for name in CONVENTIONS:
            assert name in r.output
