"""Receptive fields: hand-computed chains, the paper's VGG16 figures, and brute force on torch.

Brute force (tests/rf_brute.py): the gradient of one output unit with respect to the input, with
positive weights, average pooling standing in for max pooling and batch norm as the identity, is
non-zero exactly on the pixels that unit can see.
"""

from __future__ import annotations

import pytest

import archcost
from archcost.analysis.receptive import RF, receptive_fields, rf_region
from archcost.language import load_spec


def graph(text, name="t.yaml"):
    return archcost.build(load_spec(name, text=text))


def chain_rf(layers):
    """Hand recurrence of Araujo et al. for a single path: (size, stride, u) after each (k, s, p)."""
    r, S, u, out = 1, 1, 0, []
    for k, s, p in layers:
        r += (k - 1) * S
        u -= p * S
        S *= s
        out.append((r, S, u))
    return out


def test_three_3x3_convs_see_7x7():
    g = graph("""
name: stack
input: [1, 32, 32]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
  - conv2d: {out_channels: 4, kernel_size: 3}
""")
    rf = receptive_fields(g)
    assert [rf[n.id].size for n in g.nodes] == [(3, 3), (5, 5), (7, 7)]
    assert all(rf[n.id].stride == (1, 1) for n in g.nodes)
    # first unit: centred on pixel 0 while padded, then one pixel in for the unpadded conv
    assert [rf[n.id].offset for n in g.nodes] == [(0.0, 0.0), (0.0, 0.0), (1.0, 1.0)]
    assert rf_region(g, "conv2d2") == ((-2, 4), (-2, 4))
    assert rf_region(g, "conv2d2", (5, 7)) == ((3, 9), (5, 11))
    assert rf_region(g, "conv2d2", clip=True) == ((0, 4), (0, 4))


def test_alexnet_conv1_homework():
    rf = receptive_fields(archcost.build("specs/homework/alexnet_conv1.yaml"))
    assert rf["conv2d0"] == RF(size=(11, 11), stride=(4, 4), offset=(5.0, 5.0))


def test_alexnet_chain_by_hand():
    g = archcost.build("alexnet")
    rf = receptive_fields(g)
    spatial = [n.id for n in g.nodes if n.op in ("conv2d", "max_pool2d")]
    # torchvision's AlexNet: conv 11/4 p2, pool 3/2, conv 5 p2, pool 3/2, conv 3 p1 ×3, pool 3/2
    hand = chain_rf([(11, 4, 2), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)])
    assert [r for r, _, _ in hand] == [11, 19, 51, 67, 99, 131, 163, 195]
    for nid, (r, s, u) in zip(spatial, hand):
        assert rf[nid] == RF((r, r), (s, s), (u + (r - 1) / 2,) * 2), nid
    assert rf["conv_act0.conv2d0"] == RF((11, 11), (4, 4), (3.0, 3.0))
    # the classifier sees the union of the 6×6 map's fields: 195 + 5·32 = 355 pixels, no grid
    assert rf["linear0"] == RF((355, 355), (0, 0), (111.0, 111.0))


def test_vgg16_matches_the_distill_table():
    g = archcost.build("vgg16")
    rf = receptive_fields(g)
    sizes = [rf[n.id].size[0] for n in g.nodes if n.op in ("conv2d", "max_pool2d")]
    assert sizes == [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76, 92, 100, 132, 164, 196, 212]
    pool5 = rf["vgg_stage4.max_pool2d0"]
    # Araujo et al. (Distill 2019), table of end-points: vgg_16 pool5: r 212, stride 32, padding 90
    assert pool5.stride == (32, 32)
    assert pool5.offset[0] - (pool5.size[0] - 1) / 2 == -90


def test_mlp_has_no_receptive_field():
    g = graph("""
name: mlp
input: [20]
layers:
  - linear: {out_features: 8}
  - relu: {}
  - linear: {out_features: 2}
""")
    assert set(receptive_fields(g).values()) == {None}


def test_unknown_layer_is_a_spec_error():
    from archcost.errors import SpecError

    with pytest.raises(SpecError, match="no layer 'nope'"):
        rf_region(archcost.build("lenet5"), "nope")


def test_cached_on_the_graph():
    g = archcost.build("resnet18")
    assert receptive_fields(g) is receptive_fields(g)


# ---- brute force on small networks that exercise every rule (fast)

TINY = {
    "asymmetric": """
name: asymmetric
input: [2, 23, 19]
layers:
  - conv2d: {out_channels: 3, kernel_size: [3, 5], stride: [2, 1], padding: [[0, 2], [3, 1]]}
  - relu: {}
  - conv2d: {out_channels: 3, kernel_size: 3, dilation: 2, padding: 2}
  - max_pool2d: {kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - zeropad2d: {padding: [2, 1, 0, 1]}
  - conv2d: {out_channels: 2, kernel_size: 2, stride: 2}
  - avg_pool2d: {kernel_size: 2, stride: 1}
  - flatten: {}
  - linear: {out_features: 3}
""",
    "branches": """
name: branches
input: [3, 26, 26]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
  - relu: {}
  - parallel:
      join: concat
      branches:
        - [conv2d: {out_channels: 2, kernel_size: 1}]
        - [conv2d: {out_channels: 2, kernel_size: 5, padding: 2}]
        - [max_pool2d: {kernel_size: 3, stride: 1, padding: 1}, conv2d: {out_channels: 2, kernel_size: 1}]
  - residual:
      layers:
        - conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
        - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
      shortcut:
        - conv2d: {out_channels: 4, kernel_size: 1, stride: 2}
  - parallel:
      join: add
      branches:
        - [conv2d: {out_channels: 4, kernel_size: 3, padding: [[0, 2], [0, 2]]}]
        - [conv2d: {out_channels: 4, kernel_size: 3, padding: [[2, 0], [2, 0]]}]
  - parallel:
      join: multiply
      branches:
        - []
        - [adaptive_avg_pool2d: {output_size: 1}, conv2d: {out_channels: 4, kernel_size: 1}, sigmoid: {}]
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1}
""",
    "transposed": """
name: transposed
input: [2, 21, 21]
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2}
  - conv_transpose2d: {out_channels: 2, kernel_size: 3, padding: 1}
  - conv_transpose2d: {out_channels: 2, kernel_size: 4, stride: 2, padding: 1}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1}
""",
    "adaptive": """
name: adaptive
input: [2, 21, 21]
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2}
  - adaptive_avg_pool2d: {output_size: 3}
  - relu: {}
  - flatten: {}
  - linear: {out_features: 4}
""",
    "conv1d": """
name: conv1d
input: [2, 90]
layers:
  - conv1d: {out_channels: 3, kernel_size: 5, stride: 2, padding: 2}
  - max_pool1d: {kernel_size: 3, stride: 2}
  - conv1d: {out_channels: 3, kernel_size: 3, dilation: 3, padding: [[4, 1]]}
  - global_avg_pool1d: {}
""",
}


def image_clip(region, g):
    return None if region is None else tuple(
        (max(lo, 0), min(hi, n - 1)) for (lo, hi), n in zip(region, g.input_shape[1:]))


def check_against_brute_force(g, targets, affine="interior", random=False):
    """The brute-force support of the middle, first and last unit of every target must equal the
    exact clipped region, and the affine model (the RF size, stride and offset):

    affine="interior": for every unit whose affine region lies inside the image (then no padding
    is involved, and the support must be exactly ``[u + i·stride, v + i·stride]``);
    affine="tiled": for every unit, clipped to the image (true when the feature maps tile the
    image and nothing is cropped, as in the classic zoo models at 224); the first unit's right
    end and the last unit's left end then pin down fields larger than the image.

    Returns how many targets had a whole unclipped field checked."""
    from rf_brute import brute_regions, predicted_regions

    brute = brute_regions(g, targets, random=random)
    exact = predicted_regions(g, targets)
    nodes = g.by_id()
    sizes = g.input_shape[1:]
    checked = 0
    for nid in targets:
        assert brute[nid] == exact[nid], (nid, brute[nid], exact[nid])
        shape = nodes[nid].out_shape
        if affine is None or receptive_fields(g)[nid] is None:
            continue
        spatial = len(shape) == len(g.input_shape)
        units = [tuple(n // 2 for n in shape[1:]), None, tuple(n - 1 for n in shape[1:])] if spatial else [None] * 3
        regions = [rf_region(g, nid, u) for u in units]
        whole = False
        for got, region in zip(brute[nid], regions):
            inside = all(lo >= 0 and hi <= n - 1 for (lo, hi), n in zip(region, sizes))
            if affine == "tiled":
                assert got == image_clip(region, g), (nid, got, region)
            elif inside:
                assert got == region, (nid, got, region)
            whole |= inside
        first, last = regions[1], regions[2]
        whole |= affine == "tiled" and spatial and all(v < n - 1 and lo > 0 for (_, v), (lo, _), n in
                                                      zip(first, last, sizes))
        checked += whole
    return checked


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_networks_against_brute_force(name):
    pytest.importorskip("torch")
    g = graph(TINY[name], f"{name}.yaml")
    checked = check_against_brute_force(g, [n.id for n in g.nodes])
    assert checked >= 2, "some units' whole fields must lie inside the image"


def test_brute_force_redoes_in_float64_when_float32_would_underflow(monkeypatch):
    """48 convolutions of width 9 with weights 1/9: the fringe of a unit's field gets a gradient of
    9^-48 ≈ 2e-46, zero in float32; brute_regions sees gradients under 1e-30 and redoes it in float64."""
    pytest.importorskip("torch")
    import rf_brute

    g = graph("""
name: deep
input: [1, 400]
layers:
  - {conv1d: {out_channels: 1, kernel_size: 9, padding: 4}, repeat: 48}
""", "deep.yaml")
    last = g.nodes[-1].id
    assert rf_brute.brute_regions(g, [last]) == rf_brute.predicted_regions(g, [last])
    monkeypatch.setattr(rf_brute, "UNDERFLOW_MARGIN", 0.0)  # float32 only: the fringe is lost
    assert rf_brute.brute_regions(g, [last]) != rf_brute.predicted_regions(g, [last])


def test_tiny_network_rules():
    rf = receptive_fields(graph(TINY["branches"], "branches.yaml"))
    # inception-style concat: the largest branch (5×5 on a stride-2 map) = 3 + 4·2
    assert rf["parallel0.concat"].size == (11, 11)
    # residual: main path 3×3/2 then 3×3 vs a 1×1/2 shortcut; aligned, so the largest wins
    assert rf["residual0.add"].size == rf["residual0.conv2d1"].size
    # the unaligned add sees both sides: wider than either branch
    assert rf["parallel1.add"].size[0] > rf["parallel1.branch0.conv2d0"].size[0]
    # after the squeeze-excitation gate every unit sees the whole input
    gate = rf["parallel2.multiply"]
    assert gate.size[0] >= 26 and rf_region(graph(TINY["branches"], "b.yaml"), "parallel2.multiply", (1, 1),
                                            clip=True) == ((0, 25), (0, 25))
    t = receptive_fields(graph(TINY["transposed"], "tr.yaml"))
    assert t["conv_transpose2d0"] == RF((7, 7), (2, 2), (1.0, 1.0))  # stride 1: a conv with padding k-1-p
    assert t["conv_transpose2d1"] is None and t["conv2d1"] is None  # stride 2: undefined, and downstream
    a = receptive_fields(graph(TINY["adaptive"], "ad.yaml"))
    assert a["adaptive_avg_pool2d0"] is None and a["relu0"] is None  # 10 → 3: unequal windows
    assert a["linear0"] is not None  # it sees the whole input whatever the windows


def test_adaptive_pool_divisible_is_a_pool():
    g = graph("""
name: ad
input: [1, 16, 16]
layers:
  - adaptive_max_pool2d: {output_size: 4}
  - global_avg_pool2d: {}
""")
    rf = receptive_fields(g)
    assert rf["adaptive_max_pool2d0"] == RF((4, 4), (4, 4), (1.5, 1.5))
    assert rf["global_avg_pool2d0"] == RF((16, 16), (16, 16), (7.5, 7.5))


def test_zeropad_shifts_the_offset():
    g = graph("""
name: zp
input: [1, 10, 10]
layers:
  - zeropad2d: {padding: [3, 0, -1, 2]}
  - conv2d: {out_channels: 1, kernel_size: 3}
""")
    rf = receptive_fields(g)
    assert rf["zeropad2d0"] == RF((1, 1), (1, 1), (1.0, -3.0))  # H cropped by 1 (top), W padded 3 (left)
    assert rf["conv2d0"] == RF((3, 3), (1, 1), (2.0, -2.0))


# ---- the zoo models of the acceptance criteria (slow: a forward and one backward per node and unit)

ZOO_OPS = ("conv2d", "max_pool2d", "avg_pool2d", "add", "concat", "multiply", "adaptive_avg_pool2d", "linear")


def zoo_targets(g, k=3):
    picks = [n.id for n in g.nodes if n.op in ZOO_OPS]
    merges = [n.id for n in g.nodes if n.op in ("add", "concat")]
    spatial = [n.id for n in g.nodes if n.op in ZOO_OPS and len(n.out_shape) == 3 and n.out_shape[1] > 1]
    step = max(1, len(picks) // k)
    chosen = picks[::step] + merges[:1] + merges[len(merges) // 2:len(merges) // 2 + 1] + spatial[-1:] + picks[-1:]
    return list(dict.fromkeys(chosen))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet50", "googlenet", "mobilenetv2"])
def test_zoo_against_brute_force(name):
    pytest.importorskip("torch")
    g = archcost.build(name)
    targets = zoo_targets(g)
    assert any(g.by_id()[t].op in ("add", "concat") for t in targets) or name in ("alexnet", "vgg16")
    checked = check_against_brute_force(g, targets, affine="tiled")
    assert checked >= 3, "the brute force should pin down whole fields, not only clipped ones"


# ---- attention and tokens: global after attention; a per-token linear on channels-last keeps the field

TINY_VIT = ("vit_b_16", {"depth": 2, "hidden": 64, "mlp": 128, "heads": 4}, [3, 64, 64])
TINY_CONVNEXT = ("convnext_tiny", {"c1": 16, "c2": 32, "c3": 32, "c4": 32, "d1": 2, "d2": 1, "d3": 1, "d4": 1},
                 [3, 64, 64])


def token_targets(g):
    """Nodes whose unit 0 the brute force and rf_region index alike: not a channels-first token tensor
    (C×N: its unit 0 is a token, the brute force's feature 0 a channel), nor the tokens after a class
    token and before the first attention (token 0 is then the class token, which sees nothing, while
    rf_region indexes the patch tokens)."""
    rf = receptive_fields(g)
    out, after_token = [], False
    for n in g.nodes:
        after_token |= n.op == "class_token"
        if rf[n.id] is not None and rf[n.id].is_global:
            after_token = False
        if after_token or (n.op == "flatten" and len(n.out_shape) == 2 and n.out_shape[0] != n.in_shapes[0][1]):
            continue
        if len(n.out_shape) == 3 and (n.op == "unflatten" or n.op == "permute" and n.out_shape[-1] == n.in_shapes[0][0]):
            continue  # channels-last H×W×C: the brute force's feature 0 is a row
        out.append(n.id)
    return out


def test_attention_is_global_and_everything_after_it():
    g = archcost.build("vit_b_16")
    rf = receptive_fields(g)
    assert rf["conv_proj"] == RF((16, 16), (16, 16), (7.5, 7.5))
    assert rf["transpose0"] == rf["conv_proj"]  # tokens are still the patches, one each
    assert not rf["encoder.layers.encoder_layer_0.ln_1"].is_global
    attn = rf["encoder.layers.encoder_layer_0.self_attention"]
    assert attn.is_global and attn.size == (224, 224) and attn.stride == (0, 0)
    assert all(rf[n.id].is_global for n in g.nodes[g.nodes.index(g.by_id()["encoder.layers.encoder_layer_0"
                                                                                  ".self_attention"]):])
    assert rf_region(g, "heads.head", clip=True) == ((0, 223), (0, 223))


def test_per_token_linear_keeps_the_field():
    # ConvNeXt: dw 7×7 on a stride-4 map, then permute → flatten → layer norm → linear → GELU → linear →
    # unflatten → permute: the linears mix channels only, so every position keeps 4 + 6·4 = 28
    rf = receptive_fields(archcost.build("convnext_tiny"))
    for node in ("conv2d0", "permute0", "flatten0", "linear0", "linear1", "unflatten0", "permute1", "add"):
        got = rf[f"cnblock0.residual0.{node}" if node != "conv2d0" else "cnblock0.residual0.conv2d0"]
        assert got == RF((28, 28), (4, 4), (1.5, 1.5)), (node, got)
    assert rf["cnblock1.residual0.conv2d0"].size == (52, 52)
    assert not any(f.is_global for f in rf.values() if f)  # no attention: numbers all the way


def test_matmul_rules():
    g = graph("""
name: attn_by_hand
input: [8, 6, 6]
layers:
  - flatten: {start_dim: 2}
  - {transpose: {dim0: 0, dim1: 1}, name: tokens}
  - {linear: {out_features: 8}, name: q}
  - {linear: {out_features: 8}, from: tokens, name: k}
  - {transpose: {dim0: 0, dim1: 1}, name: kt}
  - {matmul: {}, from: [q, kt], name: scores}
  - {softmax: {dim: 1}, name: a}
  - {linear: {out_features: 8}, from: tokens, name: v}
  - {matmul: {}, from: [a, v], name: av}
""")
    rf = receptive_fields(g)
    assert rf["q"] == RF((1, 1), (1, 1), (0.0, 0.0))  # per token
    assert rf["scores"] is None  # a score pairs two tokens: no single field
    assert rf["av"].is_global  # A·V sums over every token
    assert rf_region(g, "av", clip=True) == ((0, 5), (0, 5))


def test_tiny_attention_networks_against_brute_force():
    pytest.importorskip("torch")
    for name, overrides, inp in (TINY_VIT, TINY_CONVNEXT):
        g = archcost.build(name, overrides=overrides, input=inp)
        targets = token_targets(g)
        assert any(receptive_fields(g)[t].is_global for t in targets) == (name == "vit_b_16")
        check_against_brute_force(g, targets, random=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vit_b_32"])  # convnext_tiny too by hand (34 s here); the fast test has a small one
def test_attention_zoo_against_brute_force(name):
    pytest.importorskip("torch")
    g = archcost.build(name)
    ids = token_targets(g)
    picks = [i for i in ids if g.by_id()[i].op in ("conv2d", "linear", "add", "multi_head_attention")]
    targets = list(dict.fromkeys(picks[:6] + picks[len(picks) // 2:len(picks) // 2 + 2] + picks[-2:]))
    check_against_brute_force(g, targets, affine="tiled", random=True)


# ---- the table column

def test_table_receptive_field_columns():
    import json

    from typer.testing import CliRunner

    from archcost.cli import app

    r = CliRunner().invoke(app, ["table", "vgg16", "--receptive-field", "-f", "json"])
    assert r.exit_code == 0, r.output
    layers = {row["name"]: row for row in json.loads(r.output)["layers"]}
    pool5 = layers["vgg_stage4.max_pool2d0"]
    assert (pool5["rf"], pool5["rf_stride"], pool5["rf_offset"]) == ([212, 212], [32, 32], [15.5, 15.5])
    assert layers["linear0"]["rf_stride"] == [0, 0]
    r = CliRunner().invoke(app, ["table", "vgg16", "--receptive-field", "--depth", "1", "-f", "csv"])
    rows = [line.split(",") for line in r.output.splitlines()]
    head, stage4 = rows[0], next(x for x in rows if x[0] == "vgg_stage4")
    assert stage4[head.index("rf")] == "212x212" and stage4[head.index("rf_offset")] == "15.5x15.5"
    r = CliRunner().invoke(app, ["table", "alexnet", "--receptive-field"], env={"COLUMNS": "160"})
    assert "11×11" in r.output and "rf_stride" in r.output
    plain = CliRunner().invoke(app, ["table", "alexnet", "-f", "json"]).output
    assert '"rf"' not in plain  # the default output is unchanged


def test_table_says_global_after_attention():
    import json

    from typer.testing import CliRunner

    from archcost.cli import app

    r = CliRunner().invoke(app, ["table", "vit_b_16", "--receptive-field", "-f", "json"])
    assert r.exit_code == 0, r.output
    layers = {row["name"]: row for row in json.loads(r.output)["layers"]}
    attn = layers["encoder.layers.encoder_layer_0.self_attention"]
    assert (attn["rf"], attn["rf_stride"], attn["rf_offset"]) == ("global", None, None)
    assert layers["conv_proj"]["rf"] == [16, 16] and layers["heads.head"]["rf"] == "global"
    r = CliRunner().invoke(app, ["table", "vit_b_16", "--receptive-field", "--depth", "1"], env={"COLUMNS": "160"})
    encoder = next(line for line in r.output.splitlines() if "encoder" in line)
    assert "global" in encoder and "224×224" not in encoder and "111.5" not in encoder
