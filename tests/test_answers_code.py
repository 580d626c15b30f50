"""`model: file.py:Name` runs that file: only an instructor's key (graded with --responses) may name one."""

from typer.testing import CliRunner

from archcost.cli import app

NETS = """import torch.nn as nn
class Net(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Conv2d(3, 8, 3))
"""
ANSWERS = """questions:
  - id: p
    model: nets.py:Net
    input: [3, 32, 32]
    quantity: params
    answer: 224
"""


def _files(tmp_path):
    (tmp_path / "nets.py").write_text(NETS)
    (tmp_path / "a.yaml").write_text(ANSWERS)
    (tmp_path / "r.yaml").write_text("p: 224\n")
    return str(tmp_path / "a.yaml"), str(tmp_path / "r.yaml")


def test_a_single_answers_file_names_no_python_code(tmp_path):
    answers, _ = _files(tmp_path)
    res = CliRunner().invoke(app, ["check", answers])
    assert res.exit_code == 2 and "names Python code" in res.stderr and "Traceback" not in res.output


def test_an_instructors_key_may_name_a_module(tmp_path):
    key, responses = _files(tmp_path)
    res = CliRunner().invoke(app, ["check", key, "--responses", responses, "-f", "json"])
    assert res.exit_code == 0, res.output
    assert '"score": 1.0' in res.stdout
