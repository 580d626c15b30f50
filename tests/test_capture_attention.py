"""archcost.capture on transformer modules as users write them (issue 18): rows, totals, import round trip.

Totals: params equal ``sum(p.numel())``; ``default`` MACs equal ``FlopCounterMode``'s total / 2 (grad
enabled, on CPU) plus the attention matmuls it does not see there — ``F.scaled_dot_product_attention``
and ``nn.MultiheadAttention``'s (which runs sdpa inside) have no CPU formula, so each misses QKᵀ and A·V,
2·N²·D per attention; a hand-written ``q @ kᵀ`` is an ``aten.bmm`` it counts.
"""

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archcost  # noqa: E402
from archcost.capture import capture  # noqa: E402
from archcost.errors import SpecError  # noqa: E402

HERE = Path(__file__).parent / "capture_models"
sys.path.insert(0, str(HERE))
import attention_nets as nets  # noqa: E402


def _input(model, batch=1):
    shape = model.input_shape
    if shape[0] == "tokens":
        return torch.randint(0, model.embed.num_embeddings, (batch, *shape[1:]))
    return torch.randn(batch, *shape)


def _truth(model):
    model.eval()
    with FlopCounterMode(display=False) as fc:  # grad enabled: the slow path, as torchvision's _ops
        out = model(_input(model))
    return sum(p.numel() for p in model.parameters()), fc.get_total_flops() // 2, out


def _rows(a):
    return [(r.name, r.op, tuple(r.output_shape[1:])) for r in a.rows]


def _attn(n, d, layers=1):
    """QKᵀ and A·V MACs of `layers` self-attentions on n tokens of d (what FlopCounterMode misses on CPU)."""
    return layers * 2 * n * n * d


def test_matmul_attention_rows():
    a = archcost.analyze(nets.MatmulAttention())
    assert _rows(a) == [
        ("norm", "layernorm", (16, 32)), ("q", "linear", (16, 32)), ("view", "unflatten", (16, 4, 8)),
        ("transpose", "transpose", (4, 16, 8)), ("k", "linear", (16, 32)), ("view_1", "unflatten", (16, 4, 8)),
        ("transpose_1", "transpose", (4, 16, 8)), ("v", "linear", (16, 32)), ("view_2", "unflatten", (16, 4, 8)),
        ("transpose_2", "transpose", (4, 16, 8)), ("transpose_3", "transpose", (4, 8, 16)),
        ("matmul", "matmul", (4, 16, 16)), ("truediv", "scale", (4, 16, 16)), ("softmax", "softmax", (4, 16, 16)),
        ("matmul_1", "matmul", (4, 16, 8)), ("transpose_4", "transpose", (16, 4, 8)),
        ("reshape", "flatten", (16, 32)), ("proj", "linear", (16, 32)), ("add", "add", (16, 32))]
    params, macs, _ = _truth(nets.MatmulAttention())
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)  # both matmuls are aten.bmm: counted
    text = capture(nets.MatmulAttention()).text
    assert "{matmul: {form: method}, name: matmul, from: [transpose, transpose_3]}" in text  # q @ kᵀ
    assert "{matmul: {form: functional}, name: matmul_1" in text  # torch.matmul: ptflops patches it
    assert "{softmax: {dim: 2, form: functional}, name: softmax}" in text  # F.softmax(dim=-1) on H×N×N


def test_sdpa_attention_rows():
    a = archcost.analyze(nets.SDPAAttention())
    ops = [(r.name, r.op) for r in a.rows]
    assert ops[:3] == [("q", "linear"), ("unflatten", "unflatten"), ("permute", "permute")]
    assert ("scaled_dot_product_attention", "scaled_dot_product_attention") in ops
    assert ops[-9:] == [("scaled_dot_product_attention", "scaled_dot_product_attention"), ("permute_3", "permute"),
                        ("flatten", "flatten"), ("proj", "linear"), ("add", "add"), ("fc1", "linear"),
                        ("gelu", "gelu"), ("fc2", "linear"), ("add_1", "add")]
    sdpa = next(r for r in a.rows if r.op == "scaled_dot_product_attention")
    assert tuple(sdpa.output_shape[1:]) == (4, 16, 8) and sdpa.macs == _attn(16, 32)
    params, macs, _ = _truth(nets.SDPAAttention())
    assert (a.totals["params"], a.totals["macs"]) == (params, macs + _attn(16, 32))


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_stack(norm_first):
    """nn.TransformerEncoder(Layer): its slow path's math, traced instead of its fast-path forward."""
    model = nets.EncoderStack(norm_first=norm_first)
    a = archcost.analyze(model)
    layer = [(r.name, r.op) for r in a.rows if r.name.startswith("encoder.layers.0.")]
    order = ["norm1", "self_attn", "dropout1", "add", "norm2", "linear1", "relu", "dropout", "linear2", "dropout2",
             "add_1"] if norm_first else \
        ["self_attn", "dropout1", "add", "norm1", "linear1", "relu", "dropout", "linear2", "dropout2", "add_1", "norm2"]
    assert [n.split(".")[-1] for n, _ in layer] == order
    assert dict(layer)["encoder.layers.0.self_attn"] == "multi_head_attention"
    assert [r.name for r in a.rows[-3:]] == ["getitem", "getitem_flat", "head"]
    params, macs, _ = _truth(model)
    assert (a.totals["params"], a.totals["macs"]) == (params, macs + _attn(20, 64, layers=2))
    text = capture(model).text
    assert "{transformer_encoder_layer: {}, name: 'encoder.layers.{i}', repeat: 2}" in text
    # the layer's activation is F.relu, held since construction: ptflops' patch of F.relu misses it
    assert "{relu: {form: method}, name: relu}" in text


def test_tiny_vit_learned_tensors():
    """A class token concatenated and a position embedding added in forward become class_token and
    pos_embedding rows named by the parameters' paths; nn.MultiheadAttention one row."""
    a = archcost.analyze(nets.TinyViT())
    assert _rows(a)[:5] == [("patch", "conv2d", (48, 4, 4)), ("flatten", "flatten", (48, 16)),
                            ("transpose", "transpose", (16, 48)), ("cls", "class_token", (17, 48)),
                            ("pos", "pos_embedding", (17, 48))]
    assert ("blocks.0.attn", "multi_head_attention", (17, 48)) in _rows(a)
    params, macs, _ = _truth(nets.TinyViT())
    assert (a.totals["params"], a.totals["macs"]) == (params, macs + _attn(17, 48, layers=2))


def test_embedding_input():
    """Integer token ids: the module says input_shape = ("tokens", 24); --input tokens:24 / input=("tokens", 24)."""
    model = nets.TokenClassifier()
    a = archcost.analyze(model)
    assert _rows(a)[:3] == [("embed", "embedding", (24, 32)), ("pos", "pos_embedding", (24, 32)),
                            ("layer.self_attn", "multi_head_attention", (24, 32))]
    assert a.rows[0].params == 100 * 32 and a.rows[0].macs == 0
    params, macs, _ = _truth(model)
    assert (a.totals["params"], a.totals["macs"]) == (params, macs + _attn(24, 32))
    for given in (("tokens", 24), "tokens:24"):
        b = archcost.analyze(nets.TokenClassifier(), input=given)
        assert b.totals == a.totals
    with pytest.raises(SpecError, match=r"reads integer token ids.*--input tokens:24"):
        archcost.analyze(model, input=(24,))  # floats cannot index an embedding


def test_masked_encoder_is_refused():
    with pytest.raises(SpecError) as e:
        archcost.analyze(nets.MaskedEncoder(), input=(8, 16))
    assert "src_mask" in str(e.value) and "without masks" in str(e.value) and "Fix:" in str(e.value)


def test_sequence_first_attention_is_opaque_not_wrong():
    """nn.MultiheadAttention(batch_first=False) reads (tokens, batch, dim): the spec's dims have no batch
    first there, so the call is an opaque row (params and FLOPs kept), not a mis-shaped attention."""

    class SeqFirst(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(16, 2)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    cap = capture(SeqFirst(), input=(8, 16))
    assert [r.op for r in cap.trace.rows] == ["opaque"]
    assert archcost.analyze(cap.graph()).totals["params"] == sum(p.numel() for p in SeqFirst().parameters())


ROUND_TRIP = [nets.MatmulAttention, nets.SDPAAttention, nets.EncoderStack, nets.TinyViT, nets.TokenClassifier]


@pytest.mark.parametrize("make", ROUND_TRIP, ids=lambda m: m.__name__)
def test_import_round_trip(make, tmp_path):
    """The written spec analyses to the module's params and MACs, lowers to a module with the same
    state_dict names and shapes, and with the original's weights gives the same output."""
    torch.manual_seed(0)
    model = make().eval()
    cap = capture(model)
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    a = archcost.analyze(str(path))
    b = archcost.analyze(cap.graph())
    assert (a.totals["params"], a.totals["macs"]) == (b.totals["params"], b.totals["macs"])
    assert a.totals["params"] == sum(p.numel() for p in model.parameters())
    lowered = archcost.lower(str(path)).eval()
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in lowered.state_dict().items()}
    assert got == want
    lowered.load_state_dict(model.state_dict())
    x = _input(model, batch=2)
    with torch.no_grad():
        assert torch.allclose(lowered(x), model(x), atol=1e-5, rtol=1e-4)


def test_forward_with_defaulted_arguments():
    """forward(x, mask=None) (timm's ViT): captured as model(x), the defaults bound."""

    class WithMask(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(8, 8)

        def forward(self, x, mask=None, scale=1.0):
            x = self.fc(x)
            if mask is not None:
                x = x.masked_fill(mask, 0.0)
            return x * scale

    a = archcost.analyze(WithMask(), input=(4, 8))
    assert [(r.name, r.op) for r in a.rows] == [("fc", "linear"), ("mul", "scale")]


def test_cli_token_input_and_import(tmp_path):
    import json

    from typer.testing import CliRunner

    from archcost.cli import app

    src = f"{HERE / 'attention_nets.py'}:TokenClassifier"
    res = CliRunner().invoke(app, ["table", src, "--input", "tokens:24", "-f", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["totals"]["params"] == sum(p.numel() for p in nets.TokenClassifier().parameters())
    res = CliRunner().invoke(app, ["import", src, "-o", str(tmp_path / "t.yaml")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "t.yaml").read_text()
    assert "input: [24]" in text and "{embedding: {num_embeddings: 100, embedding_dim: 32, padding_idx: 0}, name: embed}" in text
    res = CliRunner().invoke(app, ["table", src, "--input", "24"])
    assert res.exit_code == 2 and "tokens:24" in res.output and "Traceback" not in res.output
