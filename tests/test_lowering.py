"""Lowering: submodules sit at the node ids; the module runs on the spec's input."""

import pytest

torch = pytest.importorskip("torch")

import archcost  # noqa: E402
from archcost.language import load_spec  # noqa: E402


def test_submodules_named_by_node_ids():
    model = archcost.lower("mobilenetv2")
    graph = archcost.build("mobilenetv2")
    names = dict(model.named_modules())
    for node in graph.nodes:
        assert node.id in names
    assert isinstance(model.get_submodule("conv_bn_act0.conv2d0"), torch.nn.Conv2d)
    assert [n for n, _ in model.node_modules()] == [n.id for n in graph.nodes]


def test_forward_on_spec_input_and_batch():
    model = archcost.lower("mobilenetv2", input=(3, 96, 96)).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 96, 96)).shape == (2, 1000)


def test_frozen_layers_do_not_require_grad():
    text = ("name: f\ninput: [4]\nlayers:\n  - linear: {out_features: 3, trainable: false}\n"
            "  - linear: {out_features: 2}\n")
    spec = load_spec("f.yaml", text=text)
    model = archcost.lower(spec)
    a = archcost.analyze(spec)
    assert a.totals["params"] == 15 + 8 and a.totals["trainable_params"] == 8
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 8


def test_asymmetric_padding_lowers_to_pad_then_conv():
    text = ("name: p\ninput: [2, 8, 8]\nlayers:\n"
            "  - conv2d: {out_channels: 3, kernel_size: 3, stride: 2, padding: [[0, 1], [0, 1]]}\n")
    spec = load_spec("p.yaml", text=text)
    a = archcost.analyze(spec)
    assert a.rows[0].output_shape == [1, 3, 4, 4]
    with torch.no_grad():
        assert archcost.lower(spec)(torch.randn(1, 2, 8, 8)).shape == (1, 3, 4, 4)


def test_name_clash_with_module_attribute_is_a_spec_error():
    text = "name: c\ninput: [2, 4, 4]\nlayers:\n  - {relu: {}, name: train}\n"
    with pytest.raises(archcost.SpecError, match="clashes"):
        archcost.lower(load_spec("c.yaml", text=text))


def test_learned_tensors_follow_load_state_dict_assign():
    """A class token, position embedding and layer scale are held by the enclosing module (torchvision's
    names); load_state_dict(assign=True) replaces those parameter objects, and the forward pass uses the
    loaded ones (it used the replaced ones, so a model lowered on the meta device and given weights that way
    failed, and one on the CPU silently kept its initial values)."""
    text = """
name: learned
input: [4, 6]
layers:
  - {layer_scale: {}, name: ls}
  - {class_token: {}, name: class_token}
  - {pos_embedding: {}, name: pos_embedding}
"""
    graph = archcost.build(load_spec("learned.yaml", text=text))
    torch.manual_seed(0)
    src = archcost.lower(graph).eval()
    sd = {k: torch.randn_like(v) for k, v in src.state_dict().items()}
    src.load_state_dict(sd)
    x = torch.randn(2, 4, 6)
    want = src(x)
    on_cpu = archcost.lower(graph).eval()
    on_cpu.load_state_dict(sd, assign=True)
    with torch.device("meta"):
        on_meta = archcost.lower(graph).eval()
    on_meta.load_state_dict(sd, assign=True)
    for net in (on_cpu, on_meta):
        assert sorted(k for k, _ in net.named_parameters()) == sorted(sd)
        torch.testing.assert_close(net(x), want, rtol=0, atol=0)
