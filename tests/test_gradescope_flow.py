"""The Gradescope flow of the README ("Grading in an autograder") end to end.

An autograder folder as Gradescope lays it out (/autograder/source with the key and a spec,
/autograder/submission with the student's file, /autograder/results), the README's run_autograder
script run as is with `archcost` on PATH: an honest submission, a cheating one (keys it may not set,
huge numbers, non-finite values, a path), and a single-file answers file probing paths outside its folder.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECRET = "ghp_SECRET_77e0"

KEY = """title: CNN costs
defaults: {show: verdict}
questions:
  - {id: 1a, text: params of LeNet-5, model: lenet5, quantity: params, points: 2}
  - {id: 1b, text: output of the bottleneck, spec: bottleneck.yaml, quantity: output_shape, layout: hwc}
  - {id: 2, conv2d: {in: [192, 28, 28], out_channels: 32, kernel_size: 5, padding: 2}, quantity: macs, show: all}
"""
HONEST = "1a: 61.7K\n1b: 28x28x32\n2: 120M\n"
CHEAT = f"""1a: 60840
1b: {"9" * 500}
2: .inf
defaults: {{tolerance: {{absolute: 1e300}}, points: 1e308}}
questions: [{{id: 1a, model: lenet5, quantity: params, answer: 1}}]
points: .nan
tolerance: 1e400
spec: /autograder/source/key.yaml
3: 1
"""


def run_autograder_script() -> str:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"```bash\n(#!/usr/bin/env bash\n# /autograder/run_autograder.*?)```", text, re.S)
    assert m, "the README shows a run_autograder script"
    return m.group(1)


@pytest.fixture
def autograder(tmp_path):
    base = tmp_path / "autograder"
    for d in ("source", "submission", "results"):
        (base / d).mkdir(parents=True)
    (base / "source" / "key.yaml").write_text(KEY)
    shutil.copy(ROOT / "specs" / "homework" / "inception_5x5_bottleneck.yaml", base / "source" / "bottleneck.yaml")
    (tmp_path / "secret.yaml").write_text(f"name: s\ninput: {SECRET}\nlayers: [{{relu: {{}}}}]\n")
    script = run_autograder_script().replace("/autograder", str(base))
    (base / "run_autograder").write_text(script)
    os.chmod(base / "run_autograder", 0o755)
    return base


def grade(base: Path, submission: str) -> dict:
    (base / "submission" / "answers.yaml").write_text(submission)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    p = subprocess.run(["bash", str(base / "run_autograder")], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0 and "Traceback" not in p.stderr + p.stdout, p.stderr
    d = json.loads((base / "results" / "results.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert math.isfinite(d["score"]) and 0 <= d["score"] <= 4
    return d


def test_honest_submission(autograder):
    d = grade(autograder, HONEST)
    by = {t["number"]: t for t in d["tests"]}
    assert d["score"] == 2 and by["1a"]["status"] == "failed" and by["1b"]["status"] == "passed"
    assert by["1a"]["output"].splitlines()[-1].endswith("61.7K: wrong")  # show: verdict — no true value
    assert "60,840" not in by["1a"]["output"] and "working" not in by["1a"]["output"]
    assert by["2"]["status"] == "passed" and "working" in by["2"]["output"]  # show: all


def test_cheating_submission(autograder):
    d = grade(autograder, CHEAT)
    by = {t["number"]: t for t in d["tests"]}
    assert d["score"] == 2  # 1a is right; nothing the file set about points or tolerance was obeyed
    assert [t["max_score"] for t in d["tests"]] == [2, 1, 1]
    assert "cannot read the answer" in by["1b"]["output"] and "cannot read the answer" in by["2"]["output"]
    for k in ("defaults", "questions", "points", "tolerance", "spec", "'3'"):
        assert f"{k}" in d["output"] and "ignored" in d["output"]


def test_single_file_answers_probing_outside_its_folder(autograder, tmp_path):
    secret = tmp_path / "secret.yaml"
    probes = [f"spec: {secret}", "spec: ../../secret.yaml", "spec: /etc/shadow", "spec: /proc/kmsg",
              f"model: {secret}", "model: ../../secret.yaml"]
    for probe in probes:
        (autograder / "submission" / "answers.yaml").write_text(
            f"questions:\n  - {{id: a, {probe}, quantity: params, answer: 1}}\n")
        out = autograder / "results" / "results.json"
        p = subprocess.run([str(Path(sys.executable).parent / "archcost"), "check",
                            str(autograder / "submission" / "answers.yaml"), "-f", "gradescope", "-o", str(out)],
                           capture_output=True, text=True, timeout=60)
        d = json.loads(out.read_text())
        assert p.returncode == 2 and d["score"] == 0 and d["tests"] == []
        for text in (p.stderr, d["output"]):
            assert SECRET not in text and "no spec file" not in text
            assert "relative path" in text or "outside" in text or "zoo model's name" in text, text
