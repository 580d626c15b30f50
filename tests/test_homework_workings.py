"""Block and model workings (archcost.analysis.explain) agree with the analysis they explain, and the
quantities that call colleagues' modules (receptive fields, training memory) use their API."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

import archcost
from archcost.analysis import peak_activation_elems
from archcost.analysis.explain import depth_working, liveness, peak_working, sum_working
from archcost.ops.working import verify

FAST = ["lenet5", "vgg16_bn", "googlenet", "mobilenetv2", "resnet50", "mobilenet_v3_small"]
QUANTITIES = ["params", "trainable_params", "buffers", "macs", "flops", "weight_bytes", "activation_bytes"]


def sums_match(name, convention, batch, dtype):
    a = archcost.analyze(name, convention=convention, batch=batch, dtype=dtype)
    g = a.graph
    for q in QUANTITIES:
        w = sum_working(g, g.nodes, q, convention, dtype=dtype, batch=batch)
        assert w.value == a.totals[q], (name, convention, q)
        assert verify(w) == [], (name, convention, q)
    w = peak_working(g, dtype=dtype, batch=batch)
    assert w.value == a.totals["peak_activation_bytes"] and verify(w) == []


PAIRS = [(m, c) for m in ("lenet5", "googlenet", "mobilenetv2") for c in ("default", "fvcore", "full", "keras")] + [
    ("vgg16_bn", "keras"), ("resnet50", "full"), ("mobilenet_v3_small", "fvcore")]


@pytest.mark.parametrize("name,convention", PAIRS)
def test_model_workings_sum_to_the_totals(name, convention):
    sums_match(name, convention, 2, "float16")


PEER_MODELS = ("mobilenetv2", "resnet50", "googlenet", "densenet121", "shufflenet_v2_x1_0", "efficientnet_b0")


def _zoo_names():
    from archcost.zoo import entries

    return [e.name for e in entries()]


@pytest.mark.slow
@pytest.mark.parametrize("name", _zoo_names())
def test_every_zoo_model_workings_sum_to_the_totals(name):
    """Every zoo model under the four arithmetic presets; the peer presets (whose counts come from the
    same per-op tables, tested per op) on a set of models that uses every op family."""
    from archcost.analysis import CONVENTIONS

    for c in CONVENTIONS:
        if c in ("default", "fvcore", "full", "keras") or name in PEER_MODELS:
            sums_match(name, c, 1, "float32")


def test_liveness_equals_the_engine_peak():
    for name in FAST + ["densenet121", "nasnet_a_mobile", "dpn92"]:
        g = archcost.build(name)
        assert liveness(g)[0] == peak_activation_elems(g), name


@pytest.mark.slow
def test_liveness_equals_the_engine_peak_on_every_zoo_model():
    from archcost.zoo import entries

    for e in entries():
        g = archcost.build(e.name)
        assert liveness(g)[0] == peak_activation_elems(g), e.name


@pytest.mark.parametrize("name,depth", [("vgg16", 16), ("vgg19", 19), ("resnet18", 18), ("resnet50", 50),
                                        ("resnet152", 152), ("googlenet", 22), ("lenet5", 7), ("alexnet", 8)])
def test_depth_as_the_papers_count(name, depth):
    """VGG's names, ResNet's names, GoogLeNet's "22 layers deep", LeNet-5's "7 layers", AlexNet's 8."""
    assert depth_working(archcost.build(name)).value == depth


def test_count_blocks_of_a_kind(tmp_path):
    from archcost.homework import check_file

    p = tmp_path / "a.yaml"
    p.write_text("questions:\n  - {model: googlenet, quantity: count, block: inception, answer: 9}\n"
                 "  - {model: resnet50, quantity: count, block: bottleneck, answer: 16}\n"
                 "  - {model: resnet50, quantity: count, op: conv2d, answer: 53}\n"
                 "  - {model: googlenet, layer: inception4a, quantity: count, op: conv, answer: 6}\n"
                 # nested in repeated blocks: 1 stem + 1 + 16·2 in the inverted residuals + 1 last = 35
                 "  - {model: mobilenetv2, quantity: count, block: conv_bn_act, answer: 35}\n"
                 "  - {model: mobilenetv2, layer: inverted_residual5, quantity: count, block: conv_bn_act, answer: 2}\n")
    assert [r.status for r in check_file(str(p)).results] == ["right"] * 6


def test_block_input_counts_once_under_an_ops_filter(tmp_path):
    """include_input adds the block's input, not each filtered layer's input."""
    from archcost.homework import check_file

    p = tmp_path / "a.yaml"
    p.write_text("questions:\n  - {model: vgg16, ops: [conv2d], include_input: true, quantity: activation_elems,"
                 " answer: '13,698,048'}\n")  # 150,528 + 13,547,520 (the 13 conv outputs)
    assert check_file(str(p)).results[0].status == "right"


# ---------------------------------------------------------------------------- colleagues' APIs

@dataclass
class RF:
    size: tuple
    stride: tuple
    offset: tuple


def test_receptive_field_quantities_use_receptive_fields(monkeypatch, tmp_path):
    """receptive_fields(graph) -> {node_id: RF | None}; the checker reads .size and .stride."""
    from archcost.homework import check_file

    calls = []

    def receptive_fields(graph):
        calls.append(graph.name)
        return {n.id: (RF((11, 11), (4, 4), (5.0, 5.0)) if n.op == "conv2d" else None) for n in graph.nodes}

    mod = types.ModuleType("archcost.analysis.receptive")
    mod.receptive_fields, mod.RF = receptive_fields, RF
    monkeypatch.setitem(sys.modules, "archcost.analysis.receptive", mod)
    p = tmp_path / "a.yaml"
    p.write_text("questions:\n"
                 "  - {conv2d: {in: [3, 227, 227], out_channels: 96, kernel_size: 11, stride: 4},"
                 " quantity: receptive_field, answer: 11}\n"
                 "  - {conv2d: {in: [3, 227, 227], out_channels: 96, kernel_size: 11, stride: 4},"
                 " quantity: effective_stride, answer: 4x4}\n"
                 "  - {conv2d: {in: [3, 227, 227], out_channels: 96, kernel_size: 11, stride: 4},"
                 " quantity: receptive_field, answer: 13}\n")
    rs = check_file(str(p)).results
    assert [r.status for r in rs] == ["right", "right", "wrong"] and calls
    assert rs[0].expected.value == (11, 11) and "offset 5, 5" in rs[0].expected.working.note
    p.write_text("questions:\n  - {model: vgg16, quantity: receptive_field, answer: 212}\n")
    from archcost.errors import SpecError

    with pytest.raises(SpecError, match="no finite receptive field"):
        check_file(str(p))


def test_training_bytes_uses_training_memory(monkeypatch, tmp_path):
    """training_memory(graph, *, batch, dtype, optimizer) -> object with *_bytes and .total_bytes."""
    from archcost.homework import check_file

    seen = {}

    def training_memory(graph, *, batch=1, dtype="float32", optimizer="adam"):
        seen.update(batch=batch, dtype=dtype, optimizer=optimizer)
        return types.SimpleNamespace(weight_bytes=100, gradient_bytes=100, optimizer_bytes=200,
                                     saved_activation_bytes=600, total_bytes=1000)

    mod = types.ModuleType("archcost.analysis.training")
    mod.training_memory = training_memory
    monkeypatch.setitem(sys.modules, "archcost.analysis.training", mod)
    p = tmp_path / "a.yaml"
    p.write_text("questions:\n  - {model: lenet5, quantity: training_bytes, batch: 8, dtype: float16, optimizer: sgd,"
                 " answer: 1 kB}\n")
    (r,) = check_file(str(p)).results
    assert r.status == "right" and seen == {"batch": 8, "dtype": "float16", "optimizer": "sgd"}
    assert "100 + 100 + 200 + 600 = 1,000 bytes" in r.expected.working.line()


def test_missing_colleague_modules_are_spec_errors(monkeypatch, tmp_path):
    from archcost.errors import SpecError
    from archcost.homework import check_file

    for name in ("archcost.analysis.receptive", "archcost.analysis.training"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails, as when the module does not exist
    p = tmp_path / "a.yaml"
    for q in ("receptive_field", "training_bytes"):
        p.write_text(f"questions:\n  - {{model: lenet5, quantity: {q}, answer: 1}}\n")
        with pytest.raises(SpecError, match="archcost.analysis"):
            check_file(str(p))
