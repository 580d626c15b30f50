"""The Python API as a person meets it (issue 21): repr, the notebook table, missing extras."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import archcost

ROOT = Path(__file__).resolve().parent.parent
BLOCKER = str(ROOT / "tests" / "blocker")


def test_repr_says_what_was_analysed():
    a = archcost.analyze("mobilenetv2")
    assert repr(a) == ("<Analysis mobilenetv2: input 1×3×224×224, 3,504,872 params, 300,774,272 MACs, "
                       "convention default, float32, 153 rows>")


def test_repr_html_is_styled_and_folds_big_models():
    small = archcost.analyze(str(ROOT / "specs" / "homework" / "inception_5x5_bottleneck.yaml"))._repr_html_()
    assert "<style>" in small and "text-align:right" in small and "<details>" not in small
    assert '<th class="n" data-type="num">params</th>' in small
    big = archcost.analyze("resnet50")._repr_html_()
    assert "<details><summary>all " in big and "blocks (depth 1)" in big
    head = big.split("<details>")[0]
    assert head.count("<tr>") < 30  # the block view before the fold, not 175 rows


API_CASES = [
    ("pandas", "import archcost; archcost.analyze('lenet5').to_pandas()", "pandas"),
    ("pandas", "import archcost.zoo; archcost.zoo.to_pandas()", "pandas"),
    ("torch", "import archcost; archcost.lower('lenet5')", "torch"),
]


@pytest.mark.parametrize("blocked,code,extra", API_CASES)
def test_missing_extra_in_the_api_is_an_import_error_with_the_cli_words(blocked, code, extra):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([BLOCKER, str(ROOT)]), "ARCHCOST_BLOCK": blocked}
    wrapped = (f"try:\n    {code}\nexcept ImportError as e:\n"
               "    print(type(e).__mro__[1].__name__, '|', e)\n")
    r = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    kind, _, message = r.stdout.partition(" | ")
    assert kind == "ImportError"
    assert f"pip install 'archcost[{extra}]'" in message and "needs" in message
