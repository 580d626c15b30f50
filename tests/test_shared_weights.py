"""Weights shared across calls (`shares:`): a module called twice has its parameters once, in torch and in
archcost, whether written as a spec or captured from the module (issue 21's note: a conv called twice read
1,168 params where torch has 584)."""

import sys
from pathlib import Path

import pytest

import archcost
from archcost.errors import SpecError
from located import assert_located

SPEC = """\
name: twice
input: [8, 16, 16]
layers:
  - {conv2d: {out_channels: 8, kernel_size: 3, padding: 1}, name: conv}
  - {relu: {}, name: relu}
  - {conv2d: {out_channels: 8, kernel_size: 3, padding: 1}, name: again, shares: conv}
  - {batchnorm2d: {}, name: bn}
  - {relu: {}, name: relu_1}
  - {batchnorm2d: {}, name: bn_1, shares: bn}
  - {flatten: {}}
  - {linear: {out_features: 8}, name: fc}
"""


def _write(tmp_path, text, name="net.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_shared_layer_counts_params_once_and_macs_at_every_call(tmp_path):
    a = archcost.analyze(_write(tmp_path, SPEC))
    rows = {r.name: r for r in a.rows}
    conv, again = rows["conv"], rows["again"]
    assert (conv.params, again.params) == (8 * 8 * 9 + 8, 0)
    assert again.weight_bytes == 0 and again.macs == conv.macs == 8 * 8 * 9 * 16 * 16
    assert (rows["bn"].params, rows["bn"].buffers, rows["bn_1"].params, rows["bn_1"].buffers) == (16, 17, 0, 0)
    # the shared call reads the weights again (memory traffic), though it owns none
    assert again.read_bytes == conv.read_bytes
    fc = 8 * 16 * 16 * 8 + 8
    assert a.totals["params"] == 584 + 16 + fc
    assert a.totals["macs"] == 2 * conv.macs + 8 * 16 * 16 * 8
    assert a.totals["weight_bytes"] == 4 * a.totals["params"]
    # under every convention, as every tool counts a module's parameters once
    for convention in ("fvcore", "ptflops", "thop", "torchinfo", "keras"):
        assert archcost.analyze(_write(tmp_path, SPEC), convention=convention).rows[2].params == 0
    assert again.to_dict()["shares"] == "conv" and "shares" not in conv.to_dict()
    from archcost.analysis.display import header_lines
    from archcost.analysis.explain import node_working

    assert any(line.startswith("shared weights: again uses conv's, bn_1 uses bn's") for line in header_lines(a))
    g = archcost.build(_write(tmp_path, SPEC))
    w = node_working(g, g.by_id()["again"], "params")
    assert w.value == 0 and "shares the weights of conv" in w.note


def test_training_memory_counts_shared_weights_once(tmp_path):
    from archcost.analysis.training import training_memory

    path = _write(tmp_path, SPEC)
    unshared = _write(tmp_path, SPEC.replace(", shares: conv", "").replace(", shares: bn", ""), "plain.yaml")
    m, u = training_memory(archcost.build(path), batch=1), training_memory(archcost.build(unshared), batch=1)
    assert u.weight_bytes - m.weight_bytes == 4 * (584 + 16)
    assert u.gradient_bytes - m.gradient_bytes == 4 * (584 + 16)
    assert u.buffer_bytes - m.buffer_bytes == 4 * 16 + 8  # bn_1's running mean and variance, its int64 counter
    assert m.saved_activation_bytes == u.saved_activation_bytes  # both calls still save their inputs for backward


@pytest.mark.parametrize("line, fragments, fix", [
    ("  - {conv2d: {out_channels: 8, kernel_size: 3, padding: 1}, name: again, shares: nope}",
     ["`shares` names 'nope'", "no earlier layer"], "name the layer"),
    ("  - {conv2d: {out_channels: 8, kernel_size: 5, padding: 2}, name: again, shares: conv}",
     ["its kernel_size is", "same arguments"], "kernel_size"),
    ("  - {batchnorm2d: {}, name: again, shares: conv}", ["is a conv2d, this layer a batchnorm2d"], "same op"),
    ("  - {relu: {}, name: again, shares: relu}", ["has no weights to share"], "drop `shares:`"),
    ("  - {residual: {layers: [{relu: {}}]}, name: again, shares: conv}", ["works on a single op"], "each layer"),
])
def test_bad_shares_is_a_located_error(tmp_path, line, fragments, fix):
    lines = SPEC.splitlines()
    lines[5] = line
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(SpecError) as e:
        archcost.analyze(path)
    msg = assert_located(e.value, path, *fragments, line=6, layer="again")
    assert fix in msg.split("Fix:")[1]


def test_shares_inside_a_block_is_relative_to_the_call_and_replayed(tmp_path):
    spec = """\
name: blocks
input: [8, 8, 8]
blocks:
  twice:
    layers:
      - {conv2d: {out_channels: 8, kernel_size: 3, padding: 1}, name: conv}
      - {relu: {}}
      - {conv2d: {out_channels: 8, kernel_size: 3, padding: 1}, name: conv_1, shares: conv}
      - {conv2d: {out_channels: 8, kernel_size: 1}, name: proj, shares: stem}
layers:
  - {conv2d: {out_channels: 8, kernel_size: 1}, name: stem}
  - {twice: {}, name: 'b{i}', repeat: 3}
"""
    g = archcost.build(_write(tmp_path, spec))
    shares = {n.id: n.shares for n in g.nodes if n.shares}
    assert shares == {**{f"b{i}.conv_1": f"b{i}.conv" for i in range(3)}, **{f"b{i}.proj": "stem" for i in range(3)}}
    assert archcost.analyze(g).totals["params"] == 72 + 3 * 584


def _torch():
    return pytest.importorskip("torch")


def test_lowered_module_holds_shared_weights_once_and_verifies(tmp_path):
    torch = _torch()
    from archcost.verify import verify_graph

    path = _write(tmp_path, SPEC)
    model = archcost.lower(path)
    assert sum(p.numel() for p in model.parameters()) == archcost.analyze(path).totals["params"]
    assert not any(k.startswith(("again.", "bn_1.")) for k in model.state_dict())
    assert model.get_submodule("again").owner is model.get_submodule("conv")
    # the shared call computes with the owner's weights
    x = torch.randn(1, 8, 16, 16)
    with torch.no_grad():
        model.get_submodule("conv").weight.mul_(2)
        y = model.get_submodule("again")(x)
        assert torch.equal(y, model.get_submodule("conv")(x))
    report = verify_graph(archcost.build(path))
    assert report.ok, report.problems()


def test_module_called_twice_is_captured_with_shares_and_round_trips(tmp_path):
    torch = _torch()
    sys.path.insert(0, str(Path(__file__).parent / "capture_models"))
    import user_nets
    from test_capture import check_round_trip

    from archcost.capture import capture

    model = user_nets.SharedNet().eval()
    a = archcost.analyze(model, input=(8, 16, 16))
    assert a.totals["params"] == sum(p.numel() for p in model.parameters())
    cap = capture(model, input=(8, 16, 16))
    g = cap.graph()
    shares = {n.id: n.shares for n in g.nodes if n.shares}
    assert shares["stem_1"] == "stem" and shares["u1.conv_1"] == "u1.conv" and shares["u3.bn_1"] == "u3.bn"
    assert "shares: conv" in cap.text and "shares: stem" in cap.text  # u1 and u3 share one block, relative names
    check_round_trip(model, (8, 16, 16), tmp_path)  # params, MACs, state_dict names and the output
    from archcost.verify import verify_graph

    report = verify_graph(g)
    assert report.ok, report.problems()


def test_training_memory_of_shared_layers_against_torch(tmp_path):
    """Saved activations, gradients, Adam's state, weights and buffers of one step, as torch holds them."""
    torch = _torch()
    sys.path.insert(0, str(Path(__file__).parent))
    from saved_torch import torch_saved

    from archcost.analysis.training import training_memory

    g = archcost.build(_write(tmp_path, SPEC))
    measured, _ = torch_saved(g, batch=3)
    tm = training_memory(g, batch=3)
    assert tm.saved_activation_bytes == measured
    model = archcost.lower(g).train()
    optim = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(2, *g.input_shape)).sum().backward()
    optim.step()
    assert tm.optimizer_bytes == sum(v.nbytes for s in optim.state.values() for k, v in s.items()
                                     if torch.is_tensor(v) and k != "step")
    assert tm.gradient_bytes == sum(p.grad.nbytes for p in model.parameters())
    assert (tm.weight_bytes, tm.buffer_bytes) == (sum(p.nbytes for p in model.parameters()),
                                                  sum(b.nbytes for b in model.buffers()))


def test_tied_tensors_of_two_modules_are_said_not_hidden():
    """Two modules holding one tensor (tied weights) have no spec key yet: their rows count it twice, and the
    table, JSON and `archcost import` say so, with the amount (not a silent overcount)."""
    _torch()
    sys.path.insert(0, str(Path(__file__).parent / "capture_models"))
    import user_nets

    from archcost.analysis.display import header_lines
    from archcost.capture import capture

    model = user_nets.TiedNet()
    a = archcost.analyze(model)
    torch_params = sum(p.numel() for p in model.parameters())
    assert a.totals["params"] - torch_params == 256
    assert a.meta["captured"]["tied_params"] == [["fc2.weight", "fc1.weight", 256]]
    assert any("tied params counted at both modules' rows (256 more than sum(p.numel())): fc2.weight is fc1.weight"
               in line for line in header_lines(a))
    assert ("tied params counted at both modules' rows (256 more than sum(p.numel())): fc2.weight is fc1.weight; "
            "torch counts each tensor once") in capture(model).summary()


def test_a_repeated_shared_layer_counts_its_weights_once(tmp_path):
    """10,000 calls of one conv (`repeat` with `shares:`): 148 params, every call's MACs (the owner is found
    through an index, not a scan of the nodes per item, so an untrusted file cannot make it quadratic)."""
    spec = """\
name: loop
input: [4, 8, 8]
layers:
  - {conv2d: {out_channels: 4, kernel_size: 3, padding: 1}, name: c}
  - {conv2d: {out_channels: 4, kernel_size: 3, padding: 1}, name: 'r{i}', shares: c, repeat: 10000}
"""
    a = archcost.analyze(_write(tmp_path, spec))
    assert (a.totals["params"], a.totals["layers"]) == (148, 10_001)
    assert a.totals["macs"] == 10_001 * 4 * 4 * 9 * 64
    assert {n.shares for n in a.graph.nodes[1:]} == {"c"}
