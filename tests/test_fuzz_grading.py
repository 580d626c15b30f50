"""Fuzzing `archcost check -f gradescope` over whole keys and responses files (issue 19).

Keys and responses are built as YAML text from pools of valid and hostile pieces (huge and
non-finite numbers, non-ASCII digits, unhashable values, paths, terminal escapes, stray keys) over
cheap subjects (inline one-layer networks).  Whatever comes in: the exit code is 0, 1 or 2, no
traceback, at most 10 s an example (hypothesis' deadline), and results.json is valid JSON whose
score is finite and between 0 and the key's maximum.  250 keys, 250 responses files and 62 pairs run in CI (ARCHCOST_GRADING_EXAMPLES=N runs N, N and N / 4;
issue 19's 2,000-example run is ARCHCOST_GRADING_EXAMPLES=900).
"""

from __future__ import annotations

import json
import math
import os
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from archcost.cli import app

runner = CliRunner()

SUBJECTS = [
    "conv2d: {in: [3, 8, 8], out_channels: 4, kernel_size: 3}",
    "linear: {in: [16], out_features: 4}",
    "max_pool2d: {in: [2, 6, 6], kernel_size: 2}",
    "layers: [{conv2d: {out_channels: 2, kernel_size: 1}}, {relu: {}}]\n    input: [2, 4, 4]",
    "model: lenet5",
]
QUANTITIES = ["params", "macs", "flops", "output_shape", "activation_bytes", "weight_bytes", "activation_elems"]
SCALARS = ["1", "0", "-1", "2.5", "1e308", "1e400", "-1e400", ".nan", ".inf", "-.inf", "1" + "0" * 401,
           "'1e99999999'", "'1e99999999%'", "true", "null", "[a]", "{absolute: .inf}", "{relative: 0.1}",
           "'2%'", "exact", "rounding", "'①'", "'₂'", "'❶'", "/etc/passwd", "../x.yaml", "'\\e[31m'",
           "[1, 2]", "{a: 1}", "'(1, 2]'", "1_000", "0x10", "'12.4M'", "'4x6x6'", "'(4, 6, 6)'", "3888"]
ANSWERS = SCALARS + ["60840", "60.84K", "'1/9'", "'11%'", "'10x'", "'55x55x96 HWC'", "'[1, 4, 6, 6]'", "144",
                     "'144 bytes'", "'576 B'", "'0.5 KiB'", "'~3.9K MACs'", "'1e' ", "'--1'", "'1,2'",
                     "'\\u202e1'", "'1' ", "'٣'", "'7' "]
OPTION_KEYS = ["tolerance", "points", "batch", "convention", "dtype", "layout", "show", "visibility",
               "include_input", "optimizer", "spec", "include", "layer", "ops"]
OPTION_VALUES = SCALARS + ["default", "float16", "hwc", "all", "verdict", "expected", "hidden", "fvcore", "2"]
IDS = ["a", "b", "c", "1", "2"]
EXTRA_RESPONSE_KEYS = ["defaults", "questions", "tolerance", "points", "spec", "model", "include", "title",
                       "'\\e]0;x\\a'", "[x]", "1.5", "true", "null"]


@st.composite
def keys(draw):
    n = draw(st.integers(1, 4))
    lines = []
    if draw(st.booleans()):
        k = draw(st.sampled_from(OPTION_KEYS))
        lines.append(f"defaults: {{{k}: {draw(st.sampled_from(OPTION_VALUES))}}}")
    lines.append("questions:")
    for i in range(n):
        lines.append(f"  - id: {IDS[i]}")
        lines.append(f"    {draw(st.sampled_from(SUBJECTS))}")
        lines.append(f"    quantity: {draw(st.sampled_from(QUANTITIES))}")
        for _ in range(draw(st.integers(0, 2))):
            k = draw(st.sampled_from(OPTION_KEYS))
            if f"    {k}:" not in "\n".join(lines[-6:]):
                lines.append(f"    {k}: {draw(st.sampled_from(OPTION_VALUES))}")
        if draw(st.booleans()):
            lines.append(f"    answer: {draw(st.sampled_from(ANSWERS))}")
    return "\n".join(lines) + "\n"


@st.composite
def responses(draw):
    lines, used = [], set()
    for _ in range(draw(st.integers(0, 6))):
        k = draw(st.sampled_from(IDS + EXTRA_RESPONSE_KEYS))
        if k in used:
            continue
        used.add(k)
        v = draw(st.one_of(st.sampled_from(ANSWERS),
                           st.text(alphabet="0123456789.eE+-x×%KMGB ,()[]①₂❶٣/", max_size=30).map(json.dumps)))
        lines.append(f"{k}: {v}")
    return "\n".join(lines) + "\n"


FIXED_KEY = """title: fuzz key
questions:
  - {id: a, conv2d: {in: [3, 8, 8], out_channels: 4, kernel_size: 3}, quantity: macs, points: 2}
  - {id: b, conv2d: {in: [3, 8, 8], out_channels: 4, kernel_size: 3}, quantity: output_shape, show: expected}
  - {id: '1', linear: {in: [16], out_features: 4}, quantity: params, tolerance: 2%, show: all}
"""


def run_graded(tmp_path, key_text, responses_text=None):
    key = tmp_path / "key.yaml"
    key.write_text(key_text, encoding="utf-8")
    args = ["check", str(key)]
    if responses_text is not None:
        resp = tmp_path / "student.yaml"
        resp.write_text(responses_text, encoding="utf-8")
        args += ["--responses", str(resp)]
    out = tmp_path / "results.json"
    if out.exists():
        out.unlink()
    r = runner.invoke(app, args + ["-f", "gradescope", "-o", str(out)])
    assert r.exit_code in (0, 1, 2), (r.exit_code, r.output, r.exception, key_text, responses_text)
    assert r.exception is None or isinstance(r.exception, SystemExit), (r.exception, key_text, responses_text)
    assert "Traceback" not in r.output
    d = json.loads(out.read_text(encoding="utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    top = sum(t["max_score"] for t in d["tests"])
    assert isinstance(d["score"], (int, float)) and math.isfinite(d["score"]) and 0 <= d["score"] <= top
    assert all(math.isfinite(t["score"]) and 0 <= t["score"] <= t["max_score"] for t in d["tests"])
    if r.exit_code == 2:
        assert d["tests"] == [] and d["score"] == 0
    return r, d


N = int(os.environ.get("ARCHCOST_GRADING_EXAMPLES", 250))
FUZZ = dict(deadline=timedelta(seconds=10), derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(max_examples=N, **FUZZ)
@given(text=keys())
def test_fuzz_keys(tmp_path, text):
    run_graded(tmp_path, text)


@settings(max_examples=N, **FUZZ)
@given(text=responses())
def test_fuzz_responses(tmp_path, text):
    r, d = run_graded(tmp_path, FIXED_KEY, text)
    if r.exit_code != 2:
        assert len(d["tests"]) == 3 and d["score"] <= 4


@settings(max_examples=max(1, N // 4), **FUZZ)
@given(key=keys(), text=responses())
def test_fuzz_key_and_responses(tmp_path, key, text):
    run_graded(tmp_path, key, text)
