"""Latency prediction from a device profile: pure Python, deterministic, located errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import archcost
from archcost.analysis import latency as L
from archcost.cli import app
from archcost.errors import SpecError
from latency_util import toy_profile
from located import assert_located

ROOT = Path(__file__).resolve().parent.parent
HW = str(ROOT / "specs" / "homework" / "inception_5x5_bottleneck.yaml")
runner = CliRunner()


@pytest.fixture
def toy_file(tmp_path):
    p = tmp_path / "toy.json"
    p.write_text(json.dumps(toy_profile(), indent=1))
    return p


def test_prediction_by_hand(toy_file):
    # 1×1 conv 192→16 at 28×28 (2,408,448 MACs) then 5×5 conv 16→32 (10,035,200 MACs), as the README states;
    # toy profile: 10 µs per call + 1 ns per MAC, 2 µs per node in the model, 5 µs per forward call
    a = archcost.analyze(HW, device_profile=str(toy_file))
    rows = [r.to_dict()["predicted_ms"] for r in a.rows]
    assert rows[0] == pytest.approx((10e-6 + 2_408_448e-9 + 2e-6) * 1e3, rel=1e-12)
    assert rows[1] == pytest.approx((10e-6 + 10_035_200e-9 + 2e-6) * 1e3, rel=1e-12)
    assert a.totals["predicted_ms"] == pytest.approx(sum(rows) + 5e-3, rel=1e-12)
    assert a.meta["device_profile"] == toy_profile()["name"]


def test_memory_roof_binds_for_a_gemv(tmp_path):
    # linear 4096→4096 at batch 1: 16.8 M weights streamed from memory; with compute made nearly free,
    # the time is the weight bytes at the read bandwidth of the model's working set (log-log interpolation)
    d = toy_profile()
    d["classes"]["linear"]["terms"]["macs"] = 1e-15
    p = tmp_path / "fast.json"
    p.write_text(json.dumps(d))
    spec = tmp_path / "gemv.yaml"
    spec.write_text("name: gemv\ninput: [4096]\nlayers:\n  - linear: {out_features: 4096, bias: false}\n")
    a = archcost.analyze(str(spec), device_profile=str(p))
    w_bytes = 4096 * 4096 * 4
    ws = w_bytes + 4096 * 4  # weights + the output
    frac = (math.log(ws) - math.log(1e3)) / (math.log(1e9) - math.log(1e3))
    spb = math.exp(math.log(1e-11) + frac * (math.log(1e-10) - math.log(1e-11)))
    act = (4096 + 4096) * 4
    frac_a = (math.log(act) - math.log(1e3)) / (math.log(1e9) - math.log(1e3))
    spb_a = math.exp(math.log(1e-11) + frac_a * (math.log(1e-10) - math.log(1e-11)))
    expected = 10e-6 + w_bytes * spb + act * spb_a + 2e-6
    assert a.rows[0].to_dict()["predicted_ms"] == pytest.approx(expected * 1e3, rel=1e-9)


def test_predictor_is_deterministic_and_collapses_by_sum(toy_file):
    a1 = archcost.analyze("mobilenetv2", device_profile=str(toy_file))
    a2 = archcost.analyze("mobilenetv2", device_profile=L.load_profile(str(toy_file)))
    v1 = [r.to_dict()["predicted_ms"] for r in a1.rows]
    assert v1 == [r.to_dict()["predicted_ms"] for r in a2.rows]
    assert a1.totals["predicted_ms"] == a2.totals["predicted_ms"]
    c = a1.collapse(1)
    assert sum(r.extra["predicted_ms"] for r in c.rows) == pytest.approx(sum(v1), rel=1e-12)


def test_node_classes():
    g = archcost.build("mobilenetv2")
    by = {n.id: L.node_class(n) for n in g.nodes}
    assert by["conv_bn_act0.conv2d0"] == "conv"  # 3×3 stride 2
    assert by["inverted_residual1.conv_bn_act1.conv2d0"] == "depthwise"
    assert by["inverted_residual1.conv2d0"] == "conv1x1"
    assert by["linear0"] == "linear" and by["flatten0"] == "view" and by["conv_bn_act0.batchnorm2d0"] == "batchnorm"
    g = archcost.build("resnext50_32x4d")
    assert "grouped" in {L.node_class(n) for n in g.nodes}


def test_im2col_count_by_hand():
    # 5×5 conv 16→32 at 28×28, pad 2: im2col volume = positions × C_in × k² = 784 × 16 × 25
    g = archcost.build(HW)
    c = L.node_counts(g.nodes[1], 1)
    assert c["im2col"] == 784 * 16 * 25 and c["weights"] == 32 * 16 * 25 + 32 and c["macs"] == 10_035_200


def test_table_device_profile_json_and_rich(toy_file):
    r = runner.invoke(app, ["table", HW, "--device-profile", str(toy_file), "-f", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert all(isinstance(l["predicted_ms"], float) and l["predicted_ms"] > 0 for l in d["layers"])
    assert d["totals"]["predicted_ms"] > sum(l["predicted_ms"] for l in d["layers"])
    r = runner.invoke(app, ["table", HW, "--device-profile", str(toy_file)], env={"COLUMNS": "120"})
    assert r.exit_code == 0 and "predicted_ms" in r.output and "predicted latency: 12.47 ms" in r.output


def test_saved_profile_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHCOST_CACHE_DIR", str(tmp_path))
    d = tmp_path / "profiles"
    d.mkdir()
    old, new = toy_profile("cpu-1t-toy-torch0-20260101T000000"), toy_profile("cpu-1t-toy-torch0-20260202T000000")
    new["overhead"]["forward_s"] = 1.0
    for p in (old, new):
        (d / f"{p['name']}.json").write_text(json.dumps(p))
    assert L.load_profile("cpu-1t").name == new["name"]  # a prefix picks the newest
    assert L.load_profile(old["name"]).name == old["name"]
    with pytest.raises(SpecError, match="no saved device profile named 'cuda'") as err:
        L.load_profile("cuda")
    assert "cpu-1t-toy-torch0-20260202T000000" in str(err.value)  # the saved ones are named


def test_a_profile_file_is_read_again_only_when_it_changes(tmp_path):
    path = tmp_path / "p.json"
    prof = toy_profile("cpu-1t-toy-torch0-20260101T000000")
    path.write_text(json.dumps(prof))
    first = L.load_profile(str(path))
    assert L.load_profile(str(path)) is first  # plots and reports predict model after model with one file
    prof["overhead"]["forward_s"] = 0.5
    path.write_text(json.dumps(prof, indent=2))
    again = L.load_profile(str(path))
    assert again is not first and again.forward_s == 0.5


def test_no_saved_profile_says_to_calibrate(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHCOST_CACHE_DIR", str(tmp_path))
    with pytest.raises(SpecError, match="holds none yet") as err:
        L.load_profile("cpu-1t")
    assert "archcost calibrate" in str(err.value)


@pytest.mark.parametrize("mutate,fragment,key", [
    (lambda d: d.update(format="something"), "'format' must be", "format"),
    (lambda d: d.update(version=99), "'version' 99 is not supported", "version"),
    (lambda d: d["classes"]["relu"]["terms"].update(one=-1.0), "class 'relu' needs 'terms'", "relu"),
    (lambda d: d["classes"]["conv"]["terms"].update(bogus=1.0), "unknown terms ['bogus']", "conv"),
    (lambda d: d["bandwidth"].update(s_per_byte=[1e-11]), "'bandwidth' needs equal-length lists", "bandwidth"),
    (lambda d: d.pop("threads"), "'threads' is missing", None),
])
def test_bad_profile_is_a_located_error(tmp_path, mutate, fragment, key):
    d = toy_profile()
    mutate(d)
    p = tmp_path / "bad.json"
    text = json.dumps(d, indent=1)
    p.write_text(text)
    with pytest.raises(SpecError) as e:
        L.load_profile(str(p))
    line = None
    if key:
        line = next(i for i, ln in enumerate(text.splitlines(), 1) if f'"{key}"' in ln)
    assert_located(e.value, str(p), fragment, line=line)


def test_invalid_json_profile_names_the_line(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{\n "format": "archcost-device-profile",\n "version": 1,\n oops\n}\n')
    with pytest.raises(SpecError) as e:
        L.load_profile(str(p))
    assert_located(e.value, str(p), "not valid JSON", line=4)


def test_bad_profile_on_the_command_line_is_one_line_exit_2(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("[1, 2]")
    r = runner.invoke(app, ["table", HW, "--device-profile", str(p)])
    assert r.exit_code == 2 and "device profile: the file must hold a JSON object" in r.output
    assert r.output.strip().count("\n") == 0 and "Traceback" not in r.output
    r = runner.invoke(app, ["table", HW, "--device-profile", str(tmp_path / "missing.json")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_dtype_must_match_the_profile(toy_file):
    with pytest.raises(SpecError, match="calibrated for float32, not float16"):
        archcost.analyze(HW, dtype="float16", device_profile=str(toy_file))


def test_fallback_class_for_an_op_without_one(toy_file):
    d = toy_profile()
    del d["classes"]["tanh"]
    prof = L.DeviceProfile(d)
    g = archcost.build("lenet5")
    node = next(n for n in g.nodes if n.op == "tanh")
    assert prof.class_terms(L.node_class(node))[0] == L.FALLBACK


def test_attention_era_classes_and_features():
    g = archcost.build("vit_b_16")
    by = {n.id: n for n in g.nodes}
    mha = by["encoder.layers.encoder_layer_0.self_attention"]
    assert L.node_class(mha) == "attention" and L.terms_of("attention")[-1] == "scores"
    c = L.node_counts(mha, 2)
    assert c["scores"] == 2 * 12 * 197 * 197 and c["macs"] == 2 * (4 * 197 * 768 ** 2 + 2 * 197 ** 2 * 768)
    assert L.node_class(by["encoder.layers.encoder_layer_0.ln_1"]) == "layernorm"
    assert L.node_class(by["transpose0"]) == "view" and L.node_class(by["encoder.layers.encoder_layer_0.mlp.1"]) == "gelu"
    cn = archcost.build("convnext_tiny")
    assert {L.node_class(n) for n in cn.nodes if n.op == "layernorm2d"} == {"layernorm2d"}
    assert {L.node_class(n) for n in cn.nodes if n.op in ("permute", "unflatten")} == {"view"}
    # a profile calibrated before these classes had benchmarks times them as it did then
    d = toy_profile()
    for cls in ("attention", "matmul", "layernorm2d"):
        d["classes"].pop(cls, None)
    prof = L.DeviceProfile(d)
    assert prof.class_terms("attention")[0] == "linear" and prof.class_terms("matmul")[0] == "linear"
    assert prof.class_terms("layernorm2d")[0] == ("layernorm" if "layernorm" in d["classes"] else L.FALLBACK)


def test_calibration_plan_has_the_attention_era_kinds_after_the_classic_ones():
    from archcost.measure.calibrate import plan

    items = plan()
    classes = [c for c, _, _ in items]
    for cls in ("attention", "matmul", "layernorm", "layernorm2d"):
        assert classes.count(cls) >= 14, cls
    first_new = classes.index("attention")
    assert set(classes[first_new:]) <= {"attention", "matmul", "layernorm", "layernorm2d", "gelu", "view"}
    assert all(c not in ("attention", "matmul", "layernorm", "layernorm2d") for c in classes[:first_new])
