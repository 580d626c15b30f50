"""Every command that needs an optional extra says so in one line (exit 2) when it is missing.

The CLI runs in a subprocess where importing the extra's packages fails (tests/blocker),
as on a machine where only `pip install archcost` was run.  Add a case here for each new
command or option that needs an extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BLOCKER = str(Path(__file__).resolve().parent / "blocker")
ROOT = Path(__file__).resolve().parent.parent

# (arguments, blocked packages, the extra named in the fix)
CASES = [
    (["table", "lenet5", "--verify"], "torch", "torch"),
    (["table", "lenet5", "--verify"], "fvcore", "torch"),
    (["plot", "accuracy-vs-macs", "resnet18", "-o", "reports/never.html"], "plotly", "plot"),
    (["plot", "accuracy-vs-latency", "resnet18"], "plotly", "plot"),
    (["plot", "layers", "lenet5", "-o", "reports/never.html"], "plotly", "plot"),
    (["plot", "accuracy-vs-macs", "resnet18", "--png", "reports/never.png"], "kaleido", "plot"),
    (["report", "lenet5", "-o", "reports/never.html"], "plotly", "plot"),
    (["report", "lenet5", "-o", "reports/never.html"], "pandas", "plot"),
    (["profile", "lenet5"], "torch", "torch"),
    (["profile", "--zoo", "--compare"], "torch", "torch"),
    (["calibrate"], "torch", "torch"),
    (["calibrate", "--device", "cuda"], "torch", "torch"),
]


def run_blocked(args, blocked):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([BLOCKER, str(ROOT)]), "ARCHCOST_BLOCK": blocked,
           "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "archcost", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_blocker_blocks():
    env = {**os.environ, "PYTHONPATH": BLOCKER, "ARCHCOST_BLOCK": "torch"}
    r = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr


@pytest.mark.parametrize("args,blocked,extra", CASES, ids=[" ".join(c[0]) + f" -{c[1]}" for c in CASES])
def test_missing_extra_is_one_line_exit_2(args, blocked, extra):
    r = run_blocked(args, blocked)
    assert r.returncode == 2, (r.stdout[-1000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr + r.stdout
    assert f"pip install 'archcost[{extra}]'" in r.stderr
    assert r.stderr.strip().count("\n") == 0, r.stderr
    assert r.stdout == ""  # the error comes first and alone


def test_compare_needs_no_extra():
    r = run_blocked(["compare", "resnet18", "lenet5", "--format", "json"], "torch,fvcore,pandas,plotly,kaleido,numpy")
    assert r.returncode == 0, r.stderr
    assert '"baseline": "resnet18"' in r.stdout


def test_python_dash_m_archcost():
    r = subprocess.run([sys.executable, "-m", "archcost", "table", "lenet5", "-f", "json"], capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert '"model": "lenet5"' in r.stdout
