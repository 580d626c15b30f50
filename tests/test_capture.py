"""archcost.capture on small hand-written modules: rows, totals, errors, import round trip (issue 18)."""

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
import user_nets  # noqa: E402


def _truth(model, shape):
    model.eval()
    with FlopCounterMode(display=False) as fc:
        out = model(torch.randn(1, *shape))
    return sum(p.numel() for p in model.parameters()), fc.get_total_flops() // 2, out


def _rows(a):
    return [(r.name, r.op, tuple(r.output_shape[1:])) for r in a.rows]


def test_functional_net_rows():
    a = archcost.analyze(user_nets.FunctionalNet(), input=(1, 28, 28))
    assert _rows(a) == [
        ("conv1", "conv2d", (6, 28, 28)), ("relu", "relu", (6, 28, 28)), ("max_pool2d", "max_pool2d", (6, 14, 14)),
        ("conv2", "conv2d", (16, 10, 10)), ("relu_1", "relu", (16, 10, 10)),
        ("avg_pool2d", "avg_pool2d", (16, 5, 5)), ("view", "flatten", (400,)), ("fc", "linear", (10,))]
    params, macs, _ = _truth(user_nets.FunctionalNet(), (1, 28, 28))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)


def test_loop_over_module_list_and_mean():
    a = archcost.analyze(user_nets.LoopNet(), input=(3, 16, 16))
    names = [r.name for r in a.rows]
    assert names == ["stem", "blocks.0.0", "blocks.0.1", "add", "relu", "blocks.1.0", "blocks.1.1", "add_1", "relu_1",
                     "blocks.2.0", "blocks.2.1", "add_2", "relu_2", "mean", "mean_flat", "head"]
    assert [r.op for r in a.rows][-3:] == ["global_avg_pool2d", "flatten", "linear"]
    params, macs, _ = _truth(user_nets.LoopNet(), (3, 16, 16))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)


def test_chunk_cat_gate():
    a = archcost.analyze(user_nets.GateNet(), input=(3, 8, 8))
    assert [(r.name, r.op) for r in a.rows] == [
        ("conv", "conv2d"), ("getitem", "slice"), ("getitem_1", "slice"), ("left", "conv2d"), ("gate", "conv2d"),
        ("sigmoid", "sigmoid"), ("mul", "multiply"), ("cat", "concat"), ("pool", "global_avg_pool2d"),
        ("flatten", "flatten"), ("fc", "linear")]
    params, macs, _ = _truth(user_nets.GateNet(), (3, 8, 8))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)


def test_data_dependent_control_flow_is_a_located_error():
    with pytest.raises(SpecError) as e:
        archcost.analyze(user_nets.BranchyNet(), input=(3, 8, 8))
    msg = str(e.value)
    line = next(k for k, t in enumerate((HERE / "user_nets.py").read_text().splitlines(), 1) if "x.sum() > 0" in t)
    assert f"user_nets.py:{line}" in msg and "branches" in msg and "Fix:" in msg


def test_unmapped_calls_are_opaque_rows_and_listed():
    cap = capture(user_nets.RollNet(), input=(3, 8, 8))
    a = archcost.analyze(user_nets.RollNet(), input=(3, 8, 8))
    ops = [(r.name, r.op) for r in a.rows]
    assert ops == [("conv", "conv2d"), ("roll", "opaque"), ("einsum", "opaque")]
    params, macs, _ = _truth(user_nets.RollNet(), (3, 8, 8))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)  # einsum's FLOPs and proj's params kept
    assert "2 calls not understood" in cap.summary() and "torch.roll at user_nets.py:" in cap.summary()
    from archcost.analysis.display import header_lines

    # and above the table (`archcost table model.py:Net` prints them, not only `archcost import`)
    assert any(line.startswith("2 calls not understood (opaque rows") and "torch.roll at user_nets.py:" in line
               for line in header_lines(a))


def test_missing_input_shape_says_how():
    with pytest.raises(SpecError, match="--input 3,224,224"):
        archcost.analyze(user_nets.LoopNet())


def test_file_source_with_literal_kwargs():
    a = archcost.analyze(f"{HERE / 'user_nets.py'}:make_net(width=4)")
    assert a.rows[0].output_shape == [1, 4, 28, 28] or tuple(a.rows[0].output_shape) == (1, 4, 28, 28)
    with pytest.raises(SpecError, match="not a literal"):
        archcost.analyze(f"{HERE / 'user_nets.py'}:make_net(width=__import__('os'))")


@pytest.mark.parametrize("make, shape", [(user_nets.FunctionalNet, (1, 28, 28)), (user_nets.LoopNet, (3, 16, 16)),
                                         (user_nets.GateNet, (3, 8, 8))])
def test_import_round_trip(make, shape, tmp_path):
    check_round_trip(make(), shape, tmp_path)


def check_round_trip(model, shape, tmp_path):
    """The written spec analyses to the module's params and MACs, lowers to a module with the same
    state_dict names and shapes, and with the original's weights gives the same output."""
    model.eval()
    cap = capture(model, input=shape)
    path = tmp_path / "net.yaml"
    path.write_text(cap.text)
    params, macs, out = _truth(model, shape)
    a = archcost.analyze(str(path))
    assert (a.totals["params"], a.totals["macs"]) == (params, macs)
    lowered = archcost.lower(str(path)).eval()
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in lowered.state_dict().items()}
    assert got == want
    lowered.load_state_dict(model.state_dict())
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(lowered(x), model(x), atol=1e-5, rtol=1e-4)


def _small_windowed(kind):
    """Small torchvision Swin, Swin V2 and MaxViT (the zoo's are slow: tests/test_capture_zoo.py): Swin on a 10×10
    patch map, which its 4×4 windows pad and its patch merging halves to an odd 5×5."""
    from torchvision.models.maxvit import MaxVit
    from torchvision.models.swin_transformer import PatchMergingV2, SwinTransformer, SwinTransformerBlockV2

    if kind == "swin":
        return SwinTransformer([4, 4], 16, [2, 2], [2, 4], [4, 4], num_classes=10), (3, 40, 40)
    if kind == "swin_v2":
        return SwinTransformer([4, 4], 16, [2, 2], [2, 4], [4, 4], num_classes=10, block=SwinTransformerBlockV2,
                               downsample_layer=PatchMergingV2), (3, 32, 32)
    return MaxVit((32, 32), 8, 2, [16, 32], [1, 1], 8, 0.0, num_classes=10), (3, 32, 32)


@pytest.mark.parametrize("kind, ops", [
    ("swin", {"shifted_window_attention", "patch_merge"}), ("swin_v2", {"shifted_window_attention", "patch_merge"}),
    ("maxvit", {"window_partition", "relative_position_attention", "window_departition"})])
def test_torchvision_window_attention_round_trip(kind, ops, tmp_path):
    pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model, shape = _small_windowed(kind)
    cap = capture(model.eval(), input=shape)
    assert cap.not_understood == [] and ops <= {r.op for r in cap.trace.rows}
    if kind == "swin_v2":
        assert {r.attrs["version"] for r in cap.trace.rows if r.op == "shifted_window_attention"} == {2}
    check_round_trip(model, shape, tmp_path)


def test_cli_import_and_table(tmp_path):
    from typer.testing import CliRunner

    from archcost.cli import app

    src = f"{HERE / 'user_nets.py'}:GateNet"
    res = CliRunner().invoke(app, ["import", src, "--input", "3,8,8", "-o", str(tmp_path / "g.yaml")])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "g.yaml").read_text()
    assert text.startswith(f"# captured from {src}") and "name: conv" in text
    res = CliRunner().invoke(app, ["table", src, "--input", "3,8,8", "-f", "json"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["table", f"{HERE / 'user_nets.py'}:BranchyNet", "--input", "3,8,8"])
    assert res.exit_code == 2 and "Traceback" not in res.output and "user_nets.py:" in res.output


def test_module_sources_in_answers_files(tmp_path):
    """`model: torchvision:NAME` and (in an instructor's key) `model: file.py:Name` work; a student's
    responses, loaded with allow_code=False, may not name Python code (it would run)."""
    from archcost.homework.answers import load_answers
    from archcost.homework.check import check_file

    (tmp_path / "nets.py").write_text((HERE / "user_nets.py").read_text())
    key = tmp_path / "key.answers.yaml"
    key.write_text("questions:\n"
                   "  - {id: a, model: 'torchvision:resnet18', quantity: params, answer: 11689512}\n"
                   "  - {id: b, model: 'nets.py:make_net(width=4)', quantity: params, answer: 1}\n")
    responses = tmp_path / "student.yaml"
    responses.write_text("a: 11689512\nb: 1\n")
    report = check_file(str(key), str(responses))  # an instructor's key, graded against responses
    a, b = report.results
    assert a.verdict.right and a.expected.value == 11689512
    assert b.expected.value == sum(p.numel() for p in user_nets.make_net(width=4).parameters())
    with pytest.raises(SpecError):  # alone, the file may be a student's: no Python code
        check_file(str(key))
    with pytest.raises(SpecError) as e:
        load_answers(str(key), allow_code=False)
    assert "question 'b'" in str(e.value) and "Python code" in str(e.value) and "key.answers.yaml:3" in str(e.value)


def test_same_block_at_two_widths_is_one_block_with_an_argument(tmp_path):
    """Issue 18: submodules of one class that differ only in numbers are one block with arguments; calls with
    equal arguments fold into `repeat`; the written spec round-trips (outputs equal with copied weights)."""
    model = user_nets.TwoStageNet()
    text = capture(model.eval(), input=(3, 16, 16)).text
    assert text.count("    args:") == 1 and "  width_block:\n    args: {width: int}\n" in text
    assert "{conv2d: {out_channels: width * 2, kernel_size: 1}, name: conv2}" in text
    assert "- {width_block: {width: 8}, name: 'stage1.{i}', repeat: 2}" in text
    assert "- {width_block: {width: 16}, name: 'stage2.{i}', repeat: 2}" in text
    check_round_trip(model, (3, 16, 16), tmp_path)


@pytest.mark.parametrize("make, shape", [(user_nets.FunctionalNet, (1, 28, 28)), (user_nets.LoopNet, (3, 16, 16)),
                                         (user_nets.GateNet, (3, 8, 8)), (user_nets.TwoStageNet, (3, 16, 16)),
                                         (user_nets.SharedNet, (8, 16, 16))])
def test_verify_holds_on_captured_nets(make, shape):
    """`--verify` on a captured module: the lowered spec's shapes, params and fvcore MACs per row equal the
    analysis (a captured `x.mean([2, 3])` lowers as that method, aten::mean, which fvcore skips as the fvcore
    preset says; it lowered as nn.AdaptiveAvgPool2d, which fvcore counts)."""
    from archcost.verify import verify_graph

    report = verify_graph(capture(make(), input=shape).graph())
    assert report.ok, report.problems()
