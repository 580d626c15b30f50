"""Hints that point the right way (issue 21, item 6): each names what is wrong and the fix."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest
from typer.testing import CliRunner

import archcost
from archcost.cli import app
from archcost.errors import ArchcostWarning, SpecError

runner = CliRunner()


def _spec(tmp_path, text):
    p = tmp_path / "t.yaml"
    p.write_text(text)
    return str(p)


def test_channels_last_input_warns(tmp_path):
    p = _spec(tmp_path, "name: t\ninput: [32, 32, 3]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3}\n")
    with pytest.warns(ArchcostWarning, match=r"t.yaml:2: input \[32, 32, 3\] looks like height × width × channels"):
        archcost.analyze(p)
    # the CLI prints it as one line on stderr (a subprocess: pytest records warnings itself)
    r = subprocess.run([sys.executable, "-m", "archcost", "table", "mobilenetv2", "--input", "224,224,3", "-f", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.stderr.startswith("warning: --input 224,224,3 looks like height × width × channels"), r.stderr
    assert "write [3, 224, 224]" in r.stderr and r.stderr.count("\n") == 1
    json.loads(r.stdout)  # stdout stays pure
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        archcost.analyze("alexnet", input=(3, 224, 224))  # channels first: no warning
        archcost.analyze("lenet5")  # 1×32×32: no warning


def test_wrong_rank_input_blames_the_input_not_the_spec(tmp_path):
    r = runner.invoke(app, ["table", "mobilenetv2", "--input", "3,224"])
    assert r.exit_code == 2
    assert r.stderr.startswith("error: --input 3,224: the input shape [3, 224] has 2 dimensions")
    assert "mobilenetv2.yaml" not in r.stderr and "flatten" not in r.stderr
    p = _spec(tmp_path, "name: t\ninput: [3, 224]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3}\n")
    with pytest.raises(SpecError) as e:
        archcost.analyze(p)
    assert e.value.line == 2 and "the input shape [3, 224]" in str(e.value)


def test_in_channels_says_it_is_inferred(tmp_path):
    p = _spec(tmp_path, "name: t\ninput: [3, 32, 32]\nlayers:\n  - conv2d: {in_channels: 3, out_channels: 8, "
                        "kernel_size: 3}\n")
    with pytest.raises(SpecError) as e:
        archcost.analyze(p)
    assert "input channels are inferred from the previous layer" in str(e.value)
    assert "did you mean 'out_channels'" not in str(e.value)


def test_model_name_suggestions_begin_with_the_typo():
    r = runner.invoke(app, ["table", "mobilenetv3"])
    assert "did you mean mobilenet_v3_large, mobilenet_v3_small?" in r.stderr


def test_calc_names_the_option():
    r = runner.invoke(app, ["calc", "conv2d", "--in", "3,32,32", "--out-channels", "8"])
    assert r.exit_code == 2 and "--kernel-size" in r.stderr and "to the layer" not in r.stderr
