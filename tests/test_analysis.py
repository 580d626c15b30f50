"""Analysis engine: conventions, memory, batch/dtype scaling, collapse, exports."""

import json

import pytest

import archcost
from archcost.analysis import CONVENTIONS
from archcost.language import load_spec

RESNET_BLOCK = """
name: tiny_res
input: [8, 16, 16]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, bias: true}
  - batchnorm2d: {}
  - relu: {}
  - residual:
      layers:
        - conv2d: {out_channels: 16, kernel_size: 3, stride: 2, padding: 1, bias: false}
        - batchnorm2d: {}
      shortcut:
        - conv2d: {out_channels: 16, kernel_size: 1, stride: 2, bias: false}
  - max_pool2d: {kernel_size: 2}
  - flatten: {}
  - linear: {out_features: 10}
"""


def tiny(**kw):
    return archcost.analyze(load_spec("tiny.yaml", text=RESNET_BLOCK), **kw)


def test_rows_by_hand():
    a = tiny()
    rows = {r.name: r for r in a.rows}
    assert rows["conv2d0"].params == 8 * 8 * 9 + 8
    assert rows["conv2d0"].macs == 16 * 16 * 8 * 8 * 9
    assert rows["residual0.conv2d0"].output_shape == [1, 16, 8, 8]
    assert rows["residual0.shortcut.conv2d0"].macs == 8 * 8 * 16 * 8
    assert rows["residual0.add"].input_shapes == [[1, 16, 8, 8], [1, 16, 8, 8]]
    assert rows["linear0"].params == 16 * 4 * 4 * 10 + 10
    assert rows["batchnorm2d0"].buffers == 2 * 8 + 1


def test_conventions_differ_as_documented():
    d, f, full = tiny(), tiny(convention="fvcore"), tiny(convention="full")
    assert d.totals["flops"] == 2 * d.totals["macs"]
    # fvcore adds batch-norm (2 per element with affine), nothing for pooling/bias/adds/activations
    bn = 2 * (8 * 16 * 16) + 2 * (16 * 8 * 8)
    assert f.totals["macs"] == d.totals["macs"] + bn
    assert full.totals["macs"] == d.totals["macs"]
    extra = full.totals["flops"] - 2 * d.totals["macs"]
    bias = 8 * 16 * 16 + 10
    bn_full = 2 * (8 * 16 * 16) + 2 * (16 * 8 * 8)
    relu = 8 * 16 * 16
    add = 16 * 8 * 8
    maxpool = 16 * 4 * 4 * 3
    assert extra == bias + bn_full + relu + add + maxpool
    for a in (d, f, full):
        assert a.to_dict()["convention"] in CONVENTIONS


def test_batch_and_dtype_scale():
    a1, a4 = tiny(), tiny(batch=4, dtype="float16")
    assert a4.totals["macs"] == 4 * a1.totals["macs"]
    assert a4.totals["params"] == a1.totals["params"]
    assert a4.totals["weight_bytes"] == a1.totals["weight_bytes"] // 2
    assert a4.totals["peak_activation_bytes"] == 4 * a1.totals["peak_activation_bytes"] // 2
    assert a4.rows[0].input_shapes == [[4, 8, 16, 16]]


def test_peak_memory_is_liveness_not_sum():
    a = tiny()
    # hand-computed: while the residual body's BN runs, live = block input (8·16·16) + conv out + bn out
    # (16·8·8 each); the shortcut conv then runs with input, bn out and its own out live.
    block_in, half = 8 * 16 * 16, 16 * 8 * 8
    first = 8 * 16 * 16 + 8 * 16 * 16  # input + conv0 out
    assert a.totals["peak_activation_bytes"] == 4 * max(first, block_in + 2 * half)
    assert a.totals["peak_activation_bytes"] < a.totals["activation_bytes"]


def test_peak_memory_of_a_chain():
    text = "name: c\ninput: [4, 8, 8]\nlayers:\n" + "".join(
        f"  - conv2d: {{out_channels: {c}, kernel_size: 1}}\n" for c in (16, 2, 32, 4))
    a = archcost.analyze(load_spec("c.yaml", text=text))
    sizes = [4, 16, 2, 32, 4]
    assert a.totals["peak_activation_bytes"] == 4 * 64 * max(x + y for x, y in zip(sizes, sizes[1:]))


def test_collapse_depth():
    a = archcost.analyze("mobilenetv2")
    c = a.collapse(1)
    assert sum(r.params for r in c.rows) == a.totals["params"]
    assert sum(r.macs for r in c.rows) == a.totals["macs"]
    assert len(c.rows) == 23
    assert c.rows[-1].name == "linear0"


def test_json_contract():
    d = json.loads(json.dumps(archcost.analyze("mobilenetv2").to_dict()))
    assert set(d) >= {"model", "input_shape", "convention", "dtype", "layers", "totals"}
    assert set(d["layers"][0]) >= {"name", "op", "input_shapes", "output_shape", "params", "macs", "flops",
                                   "weight_bytes", "activation_bytes", "read_bytes", "write_bytes"}
    assert set(d["totals"]) >= {"params", "trainable_params", "macs", "flops", "weight_bytes",
                                "peak_activation_bytes"}
    assert d["input_shape"] == [1, 3, 224, 224]


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    df = archcost.analyze("mobilenetv2").to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert df["params"].sum() == 3_504_872
    assert df.attrs["convention"] == "default"


def test_input_override_and_set():
    a = archcost.analyze("mobilenetv2", input="3,160,160")
    assert a.input_shape == [1, 3, 160, 160]
    assert a.totals["params"] == 3_504_872
    half = archcost.analyze("mobilenetv2", overrides={"width": 0.5})
    assert half.totals["params"] < 3_504_872


def test_unknown_convention_and_dtype():
    with pytest.raises(archcost.SpecError, match="convention"):
        archcost.analyze("mobilenetv2", convention="flopz")
    with pytest.raises(archcost.SpecError, match="dtype"):
        archcost.analyze("mobilenetv2", dtype="float8")


KERAS_CNN = """
name: keras_cnn
input: [3, 32, 32]
layers:
  - conv2d: {out_channels: 32, kernel_size: 3}
  - batchnorm2d: {}
  - relu: {}
  - flatten: {}
  - linear: {out_features: 10}
"""


def test_keras_counts_batchnorm_moving_statistics_as_non_trainable_params():
    # Keras summary(): Conv2D(32, 3) on 32×32×3 has 896 params; BatchNormalization on 32 channels
    # has 128 (gamma, beta trainable; moving mean and variance non-trainable); Dense 10 on 30·30·32.
    spec = load_spec("k.yaml", text=KERAS_CNN)
    k, t = archcost.analyze(spec, convention="keras"), archcost.analyze(spec)
    dense = 30 * 30 * 32 * 10 + 10
    assert k.totals["params"] == 896 + 128 + dense
    assert k.totals["trainable_params"] == 896 + 64 + dense
    assert k.totals["params"] - k.totals["trainable_params"] == 64
    assert t.totals["params"] == 896 + 64 + dense and t.totals["buffers"] == 65
    assert k.totals["buffers"] == 1  # num_batches_tracked stays a buffer
    assert k.totals["macs"] == t.totals["macs"]
    assert {r.name: r.params for r in k.rows}["batchnorm2d0"] == 128


def test_add_column_reaches_every_format_and_collapse():
    from archcost.report.formats import to_csv, to_json, to_markdown

    a = tiny()
    a.add_column("cost_ms", [0.5] * len(a.rows), total=0.5 * len(a.rows))
    d = json.loads(to_json(a))
    assert d["layers"][0]["cost_ms"] == 0.5 and d["totals"]["cost_ms"] == 0.5 * len(a.rows)
    assert to_csv(a).splitlines()[0].endswith(",cost_ms")
    assert "| cost_ms |" in to_markdown(a)
    c = a.collapse(1)
    assert {r.name: r.extra["cost_ms"] for r in c.rows}["residual0"] == 0.5 * 4
    # without extra columns the JSON keys are the contract's, unchanged
    assert "cost_ms" not in tiny().to_dict()["layers"][0]
