"""Every zoo spec against an independent source.

* ``reference.torchvision``: total params equal torchvision's ``num_params`` meta and the
  model's own count; default MACs within 0.5% of the ``_ops`` meta; every compared leaf
  layer's output shape equals torchvision's; and (slow) torchvision's randomly initialised
  weights copied into the lowered archcost module give the same outputs.
* ``reference.paper``: params and MACs within 1% (or the stated tolerance) of the paper's table.
"""

from __future__ import annotations

import os

import pytest

import archcost
from archcost.zoo import entries
from zoo_util import HUGE_PARAMS, is_huge

ENTRIES = entries()
TV = [e.name for e in ENTRIES if archcost.load_spec(e.name).reference.get("torchvision")]
PAPER = [e.name for e in ENTRIES if archcost.load_spec(e.name).reference.get("paper")]
HUGE = {e.name for e in ENTRIES if is_huge(e.name)}
RUN_HUGE = os.environ.get("ARCHCOST_HUGE") == "1"


def _skip_if_huge(name):
    if name in HUGE and not RUN_HUGE:
        pytest.skip(f"{name}: over {HUGE_PARAMS // 10**6:,}M params, a test worker past 2 GB with real weights; "
                    "checked on the meta device instead (test_huge_models_on_meta); ARCHCOST_HUGE=1 runs this too")


@pytest.mark.parametrize("name", PAPER)
def test_paper_figures(name):
    spec = archcost.load_spec(name)
    ref = spec.reference["paper"]
    a = archcost.analyze(name, convention=ref.get("convention", "default"))
    tol = ref.get("tolerance", 0.01)
    if "params" in ref:
        assert a.totals["params"] == pytest.approx(ref["params"], rel=tol), ref.get("source")
    if "trainable_params" in ref:
        assert a.totals["trainable_params"] == pytest.approx(ref["trainable_params"], rel=tol), ref.get("source")
    if "macs" in ref:
        assert a.totals["macs"] == pytest.approx(ref["macs"], rel=ref.get("macs_tolerance", tol)), ref.get("source")


@pytest.mark.parametrize("name", TV)
def test_torchvision_meta(name):
    from zoo_util import torchvision_meta

    spec = archcost.load_spec(name)
    meta = torchvision_meta(spec)
    a = archcost.analyze(name)
    if spec.reference.get("torchvision_kwargs"):
        # e.g. aux_logits=False: compare with the model built with those arguments (on the meta device: vit_h_14 at
        # 518 px is 632M parameters, 2.5 GB of weights a worker does not need to count them)
        from zoo_util import torchvision_model_on_meta

        assert a.totals["params"] == sum(p.numel() for p in torchvision_model_on_meta(spec).parameters())
    else:
        assert a.totals["params"] == meta["num_params"]
    # _ops is measured in eval mode (no auxiliary heads) and printed to 3 decimals of GMACs,
    # so allow half of its last digit as well as 0.5%
    assert a.totals["macs"] == pytest.approx(meta["_ops"] * 1e9, rel=0.005, abs=0.0005e9)


@pytest.mark.slow
@pytest.mark.parametrize("name", [e.name for e in ENTRIES])
def test_verify_against_torch_and_fvcore(name):
    """Per layer: analytic shape, params and fvcore-convention MACs equal the lowered module's and fvcore's."""
    from archcost.verify import verify_graph

    _skip_if_huge(name)
    report = verify_graph(archcost.build(name))
    assert report.ok, "\n".join(report.problems()[:20])


def _on_tensors_of(tv, lower):
    """The module ``lower()`` builds, lowered on the meta device and given ``tv``'s own tensors
    (no second copy of the weights: a worker stays under 2 GB, issue 21)."""
    import torch
    from zoo_util import copy_weights_in_order

    with torch.device("meta"):
        module = lower().eval()
    copy_weights_in_order(tv, module, assign=True)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("name", TV)
def test_torchvision_equal(name, tmp_path):
    """The zoo spec against torchvision's model (random weights): params, every compared layer's output
    shape, the output with torchvision's weights, the fvcore preset within 0.5% of fvcore.

    On the same module (no second build), the import round trip (issue 18): torchvision's model captured at
    the zoo's input and written as a spec analyses to sum(p.numel()) and the capture's MACs; its torch
    preset equals FlopCounterMode (eval, no_grad, CPU: counted during the forward pass of torchvision's
    model) and its fvcore preset equals fvcore exactly; lowered, it has torchvision's state_dict names and
    shapes and, on torchvision's tensors, gives torchvision's output."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from zoo_util import leaf_outputs, torchvision_model

    from archcost.capture import capture
    from archcost.verify import fvcore_by_module

    _skip_if_huge(name)
    spec = archcost.load_spec(name)
    tv = torchvision_model(spec)
    a = archcost.analyze(name)
    params = sum(p.numel() for p in tv.parameters())
    assert a.totals["params"] == params
    x = torch.randn(1, *a.graph.input_shape)
    torch.manual_seed(0)
    ours = _on_tensors_of(tv, lambda: archcost.lower(name))
    ours_shapes, got = leaf_outputs(ours, x)  # one forward pass for the shapes and the output
    assert sum(p.numel() for p in ours.parameters()) == params
    del ours
    with FlopCounterMode(display=False) as fc:  # leaf_outputs runs under no_grad: the torch preset's definition
        tv_shapes, expected = leaf_outputs(tv, x)
    assert ours_shapes == tv_shapes
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    del got

    # the import round trip
    cap = capture(tv, input=a.graph.input_shape)
    assert cap.not_understood == [] and cap.trace.unused == []
    graph = cap.graph()
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    written, captured = archcost.analyze(str(path)).totals, archcost.analyze(graph).totals
    assert (written["params"], written["macs"]) == (captured["params"], captured["macs"])
    assert written["params"] == params
    assert archcost.analyze(graph, convention="torch").totals["macs"] == fc.get_total_flops() // 2
    if not any(isinstance(m, torch.nn.MultiheadAttention) for m in tv.modules()):  # its fused kernel: uncounted
        assert written["macs"] == fc.get_total_flops() // 2  # the default is FlopCounterMode's count
    lowered = _on_tensors_of(tv, lambda: archcost.lower(str(path)))
    with torch.no_grad():
        out = lowered(x)
    want = {k: tuple(v.shape) for k, v in tv.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in lowered.state_dict().items()} == want
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)
    del lowered, out, expected

    # the fvcore preset reproduces fvcore run on torchvision's own model: the zoo spec's within 0.5%, the
    # captured module's exactly (MaxViT within 2e-7: fvcore reads its einsum through numpy's einsum_path
    # printout, rounded to 4 significant digits; README, "MaxViT-T: attention inside a module no tool has a rule for")
    fv_total = fvcore_by_module(tv, x)[""]
    assert archcost.analyze(name, convention="fvcore").totals["macs"] == pytest.approx(fv_total, rel=0.005)
    fv_captured = archcost.analyze(graph, convention="fvcore").totals["macs"]
    assert fv_captured == (pytest.approx(fv_total, rel=2e-7) if name.startswith("maxvit") else fv_total)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HUGE & set(TV)))
def test_huge_models_on_meta(name, tmp_path):
    """The models too big for a laptop worker, on the meta device (no weights are allocated): params, and
    every compared layer's output shape equal to torchvision's; and the import round trip: torchvision's
    model captured at the zoo's input and written as a spec analyses to sum(p.numel()) and to
    FlopCounterMode's MACs on meta (ViT's attention in its math form there, as archcost's default counts it),
    and lowers to torchvision's state_dict names and shapes.  ARCHCOST_HUGE=1 adds the outputs
    (test_torchvision_equal)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from zoo_util import leaf_output_shapes, torchvision_model_on_meta

    from archcost.capture import capture

    spec = archcost.load_spec(name)
    a = archcost.analyze(name)
    tv = torchvision_model_on_meta(spec)
    with torch.device("meta"):
        ours = archcost.lower(name).eval()
    params = sum(p.numel() for p in tv.parameters())
    assert a.totals["params"] == params == sum(p.numel() for p in ours.parameters())
    x = torch.empty(1, *a.graph.input_shape, device="meta")
    assert leaf_output_shapes(ours, x) == leaf_output_shapes(tv, x)

    cap = capture(tv, input=a.graph.input_shape)
    assert cap.not_understood == [] and cap.trace.unused == []
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    written, captured = archcost.analyze(str(path)).totals, archcost.analyze(cap.graph()).totals
    assert (written["params"], written["macs"]) == (captured["params"], captured["macs"])
    with FlopCounterMode(display=False) as fc:  # grad enabled, as tests/test_capture_zoo.py counts
        tv(x)
    assert (written["params"], written["macs"]) == (params, fc.get_total_flops() // 2)
    if not any(isinstance(m, torch.nn.MultiheadAttention) for m in tv.modules()):  # its fused kernel runs on CPU only
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            tv(x)
        assert archcost.analyze(cap.graph(), convention="torch").totals["macs"] == fc.get_total_flops() // 2
    with torch.device("meta"):
        lowered = archcost.lower(str(path))
    assert {k: tuple(v.shape) for k, v in lowered.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tv.state_dict().items()}


@pytest.mark.parametrize("name", TV)
def test_torchvision_name_is_an_alias(name):
    spec = archcost.load_spec(name)
    assert archcost.load_spec(spec.reference["torchvision"]).name == spec.name


def test_every_zoo_model_has_metadata_and_a_reference():
    for e in ENTRIES:
        spec = archcost.load_spec(e.name)
        assert spec.model.paper and spec.model.paper.year, e.name
        assert spec.accuracy is not None and spec.accuracy.source, e.name
        assert spec.reference.get("torchvision") or spec.reference.get("paper"), e.name
