"""The peers' presets on a captured module equal each peer run on that same module, exactly (issue 18, item 4).

A captured call carries its form (``module`` / ``functional`` / ``method``, the ops' ``form`` attribute),
so ptflops' patched functionals, thop's and torchinfo's module hooks and fvcore's aten handles are
counted as each tool counts them on the module itself.  Small hand-written nets run here; torchvision
models (among them every family the README lists under "Where a preset and a peer differ") are slow.
"""

import logging
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ptflops")
pytest.importorskip("thop")
pytest.importorskip("torchinfo")
pytest.importorskip("fvcore")

import archcost  # noqa: E402
from archcost.capture import capture  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "capture_models"))
import user_nets  # noqa: E402
from peer_util import PEER_NAMES, run_peers  # noqa: E402

TORCHVISION = ["resnet18", "mobilenet_v2", "shufflenet_v2_x1_0", "googlenet", "densenet121", "efficientnet_b0",
               "squeezenet1_0", "inception_v3", "mnasnet0_5", "shufflenet_v2_x0_5", "alexnet", "mobilenet_v3_small",
               "regnet_y_400mf"]


def fvcore_total(model, x) -> int:
    from fvcore.nn import FlopCountAnalysis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            f = FlopCountAnalysis(model, x)
            f.unsupported_ops_warnings(False)
            f.uncalled_modules_warnings(False)
            return int(f.total())
        finally:
            logging.disable(logging.NOTSET)


def check_presets_equal_peers(model, shape, meta_model=None):
    model.eval()
    graph = capture(model, input=shape).graph()
    x = torch.randn(1, *shape)
    measured = run_peers(model, x, meta_model=meta_model)
    measured["fvcore"] = (fvcore_total(model, x), None)
    got = {}
    for peer in (*PEER_NAMES, "fvcore"):
        t = archcost.analyze(graph, convention=peer).totals
        got[peer] = (t["macs"], t["params"] if measured[peer][1] is not None else None)
    assert got == measured


@pytest.mark.parametrize("make, shape", [(user_nets.FunctionalNet, (1, 28, 28)), (user_nets.LoopNet, (3, 16, 16)),
                                         (user_nets.GateNet, (3, 8, 8))])
def test_presets_equal_peers_on_hand_written_nets(make, shape):
    check_presets_equal_peers(make(), shape)


def test_functional_calls_carry_their_form():
    text = capture(user_nets.FunctionalNet(), input=(1, 28, 28)).text
    assert "{relu: {form: functional}, name: relu}" in text  # F.relu: ptflops patches it
    assert "{relu: {form: method}, name: relu_1}" in text  # torch.relu: no peer sees it
    assert "max_pool2d: {kernel_size: 2, form: functional}" in text
    mean = capture(user_nets.LoopNet(), input=(3, 16, 16)).text
    assert "{global_avg_pool2d: {form: method}, name: mean}" in mean  # x.mean([2, 3]): fvcore's aten::mean


@pytest.mark.slow
@pytest.mark.parametrize("name", TORCHVISION)
def test_presets_equal_peers_on_torchvision_modules(name):
    from archcost.capture.source import load, parse_source

    torch.manual_seed(0)
    model, shape = load(parse_source(f"torchvision:{name}"))
    check_presets_equal_peers(model, shape)  # every tool on the real module (thop fails on regnet's on meta)
