"""Hostile inputs to `archcost check` (issue 19): every finding of the probe is a file in tests/hostile/.

Answers files / keys (``*.yaml``) start with ``# expect: exit=N [score=S] text="a|b"``; responses files
(``*.responses.yaml``, graded against ``key.yaml``) with ``# expect: exit=N score=S ignored="a|b"``.
Each runs as an autograder would (``-f gradescope -o results.json``) and as text, from a student's
folder next to an ``instructor/`` folder holding a secret: never a traceback, exit codes 0/1/2 only,
``results.json`` always valid JSON with a finite score in [0, max], no terminal escape in any output,
and the secret (nor a word of the file a path names) never in any output.

Device profiles that were tracebacks or silent garbage are generated here (deep nesting, huge
integers, non-finite numbers, a directory, a FIFO, a file over the size limit).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcost.cli import app

CORPUS = Path(__file__).parent / "hostile"
LENET = str(Path(__file__).parent.parent / "specs" / "homework" / "lenet5.answers.yaml")
KEYS = sorted(p for p in CORPUS.glob("*.yaml") if not p.name.endswith(".responses.yaml") and p.name != "key.yaml")
RESPONSES = sorted(CORPUS.glob("*.responses.yaml"))
HEADER = re.compile(r'^# expect: exit=(?P<exit>\d)(?: score=(?P<score>[\d.]+))? (?:text|ignored)="(?P<text>[^"]*)"')
SECRET = "ghp_SECRET_4f1a9c"
runner = CliRunner()


def expectation(path: Path) -> dict:
    m = HEADER.match(path.read_text(encoding="utf-8").split("\n", 1)[0])
    assert m, f"{path.name}: first line must be an `# expect:` comment"
    return {"exit": int(m["exit"]), "score": None if m["score"] is None else float(m["score"]),
            "text": [t for t in m["text"].split("|") if t]}


@pytest.fixture
def classroom(tmp_path):
    """tmp/student/ (where the graded files are) and tmp/instructor/cfg.yaml (a secret outside it)."""
    (tmp_path / "student").mkdir()
    inst = tmp_path / "instructor"
    inst.mkdir()
    (inst / "cfg.yaml").write_text(f"name: cfg\ninput: {SECRET}\nlayers: [{{relu: {{}}}}]\n")
    return tmp_path


def _place(src: Path, classroom: Path) -> Path:
    text = src.read_text(encoding="utf-8").replace("SECRET_ABS", str(classroom / "instructor" / "cfg.yaml"))
    dst = classroom / "student" / src.name
    dst.write_text(text, encoding="utf-8")
    return dst


def assert_clean(r, *outputs):
    text = r.output + "".join(outputs)
    assert r.exit_code in (0, 1, 2), (r.exit_code, r.output, r.exception)
    assert "Traceback" not in text and not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit)
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text, text
    assert SECRET not in text and "root:" not in text, text


def assert_results(path: Path, exit_code: int) -> dict:
    d = json.loads(path.read_text(encoding="utf-8"),
                   parse_constant=lambda c: pytest.fail(f"results.json holds {c}"))
    assert isinstance(d["score"], (int, float)) and math.isfinite(d["score"])
    top = sum(t["max_score"] for t in d["tests"])
    assert 0 <= d["score"] <= top + 1e-9
    for t in d["tests"]:
        assert set(t) == {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert math.isfinite(t["score"]) and 0 <= t["score"] <= t["max_score"]
    if exit_code == 2:
        assert d["tests"] == [] and d["score"] == 0
    return d


@pytest.mark.parametrize("src", KEYS, ids=[p.stem for p in KEYS])
def test_hostile_answers_file(classroom, src, monkeypatch):
    exp = expectation(src)
    path = _place(src, classroom)
    monkeypatch.chdir(classroom / "student")
    res = classroom / "results.json"
    r = runner.invoke(app, ["check", path.name, "-f", "gradescope", "-o", str(res)])
    assert_clean(r, res.read_text(encoding="utf-8"))
    assert r.exit_code == exp["exit"], r.output
    d = assert_results(res, r.exit_code)
    if exp["score"] is not None:
        assert d["score"] == exp["score"], d
    t = runner.invoke(app, ["check", path.name])
    assert_clean(t)
    assert t.exit_code == exp["exit"]
    everything = (r.output + json.dumps(d, ensure_ascii=False) + t.output).lower()
    for fragment in exp["text"]:
        assert fragment.lower() in everything, (fragment, everything[:2000])
    if r.exit_code == 2:
        assert r.output.strip().count("\n") == 0 and "Fix:" in r.output


@pytest.mark.parametrize("src", RESPONSES, ids=[p.stem for p in RESPONSES])
def test_hostile_responses_file(classroom, src):
    exp = expectation(src)
    key = _place(CORPUS / "key.yaml", classroom)
    path = _place(src, classroom)
    res = classroom / "results.json"
    r = runner.invoke(app, ["check", str(key), "--responses", str(path), "-f", "gradescope", "-o", str(res)])
    assert_clean(r, res.read_text(encoding="utf-8"))
    assert r.exit_code == exp["exit"], r.output
    d = assert_results(res, r.exit_code)
    assert d["score"] == exp["score"], d
    for fragment in exp["text"]:
        assert fragment in d["output"], d["output"]
    if r.exit_code == 2:
        return
    # `show: verdict` (the key's default here) reveals neither the expected value nor the working
    by = {t["number"]: t for t in d["tests"]}
    assert by["p"]["max_score"] == 2 and "60,840" not in by["p"]["output"] and "working" not in by["p"]["output"]
    assert "working" in by["m"]["output"]  # show: all
    j = runner.invoke(app, ["check", str(key), "--responses", str(path), "-f", "json"])
    assert_clean(j)
    jd = json.loads(j.output)
    assert jd["score"] == exp["score"] and jd["responses"] == str(path)
    assert all(q["expected"] is None for q in jd["questions"] if q["id"] in ("p", "s"))


# ---------------------------------------------------------------------------- the smaller findings

def test_fifo_and_directory_as_answers_file_do_not_hang(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        r = runner.invoke(app, ["check", str(target)])
        assert r.exit_code == 2 and "not a regular file" in r.output, r.output


def test_fifo_named_by_spec_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "net.yaml")
    (tmp_path / "a.yaml").write_text("questions:\n  - {spec: net.yaml, quantity: params, answer: 1}\n")
    r = runner.invoke(app, ["check", str(tmp_path / "a.yaml")])
    assert r.exit_code == 2 and "no spec file" in r.output


def test_symlink_out_of_the_folder_is_refused(classroom):
    os.symlink(classroom / "instructor" / "cfg.yaml", classroom / "student" / "net.yaml")
    (classroom / "student" / "a.yaml").write_text("questions:\n  - {spec: net.yaml, quantity: params, answer: 1}\n")
    r = runner.invoke(app, ["check", str(classroom / "student" / "a.yaml")])
    assert r.exit_code == 2 and "outside" in r.output and SECRET not in r.output


def test_root_widens_the_folder(classroom):
    shutil.copy(Path(__file__).parent.parent / "specs" / "homework" / "alexnet_conv1.yaml", classroom / "net.yaml")
    (classroom / "student" / "a.yaml").write_text("questions:\n  - {spec: ../net.yaml, quantity: params}\n")
    a = str(classroom / "student" / "a.yaml")
    assert runner.invoke(app, ["check", a]).exit_code == 2
    r = runner.invoke(app, ["check", a, "--root", str(classroom)])
    assert r.exit_code == 1 and "not answered" in r.output, r.output


def test_failed_write_keeps_the_original_error(tmp_path):
    (tmp_path / "a.yaml").write_text("questions:\n  - {model: vgg17, quantity: params, answer: 1}\n")
    r = runner.invoke(app, ["check", str(tmp_path / "a.yaml"), "-f", "gradescope", "-o", str(tmp_path / "no" / "r.json")])
    assert r.exit_code == 2 and "vgg17" in r.output and "cannot write" in r.output


def test_check_depth_negative_is_refused_like_table():
    r = runner.invoke(app, ["check", LENET, "--depth", "-5"])
    assert r.exit_code == 2 and "--depth" in r.output


def test_table_batch_of_400_digits_is_an_error():
    r = runner.invoke(app, ["table", "lenet5", "--batch", "1" + "0" * 400])
    assert r.exit_code == 2 and "batch" in r.output and "Traceback" not in r.output


def test_internal_error_still_writes_results_and_exits_3(tmp_path, monkeypatch):
    import archcost.homework as hw

    def boom(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(hw, "check_file", boom)
    res = tmp_path / "results.json"
    r = runner.invoke(app, ["check", LENET, "-f", "gradescope", "-o", str(res)])
    assert r.exit_code == 3 and "internal error" in r.output
    d = json.loads(res.read_text())
    assert d["score"] == 0 and "boom" in d["output"]


def test_self_study_still_shows_everything():
    r = runner.invoke(app, ["check", LENET])
    assert "working:" in r.output and "expected " in r.output


# ---------------------------------------------------------------------------- device profiles

def _profile() -> dict:
    from latency_util import toy_profile

    return toy_profile()


PROFILE_CASES = {
    "deep_nesting": lambda p: "[" * 100_000 + "]" * 100_000,
    "huge_int": lambda p: json.dumps(p).replace('"threads": ' + str(p["threads"]), '"threads": ' + "9" * 4300),
    "ws_1e400": lambda p: json.dumps(p).replace('"ws_bytes": [', '"ws_bytes": [1e400, ', 1).replace(
        '"s_per_byte": [', '"s_per_byte": [1e-9, ', 1),
    "term_1e400": lambda p: _set(p, lambda d: d["classes"]["relu"]["terms"].update(one="X"), "1e400"),
    "term_1e308": lambda p: _set(p, lambda d: d["classes"]["relu"]["terms"].update(one=1e308)),
    "node_s_1e400": lambda p: _set(p, lambda d: d["overhead"].update(node_s="X"), "1e400"),
    "node_s_negative": lambda p: _set(p, lambda d: d["overhead"].update(node_s=-1.0)),
    "forward_s_negative": lambda p: _set(p, lambda d: d["overhead"].update(forward_s=-1.0)),
    "free_abc": lambda p: _set(p, lambda d: d["overhead"].update(free_s_per_byte="abc")),
    "read_ws_bad": lambda p: _set(p, lambda d: d["bandwidth"].update(read_ws_bytes=["x"], read_s_per_byte=[1e-9])),
    "read_spb_bad": lambda p: _set(p, lambda d: d["bandwidth"].update(read_ws_bytes=[1e6], read_s_per_byte=[-1])),
    "version_true": lambda p: _set(p, lambda d: d.update(version=True)),
    "nan_constant": lambda p: _set(p, lambda d: d["overhead"].update(node_s="X"), "NaN"),
    "infinity_constant": lambda p: _set(p, lambda d: d["overhead"].update(forward_s="X"), "Infinity"),
}


def _set(p, change, raw=None) -> str:
    change(p)
    text = json.dumps(p)
    return text.replace('"X"', raw) if raw else text


def _write_profile(tmp_path, name) -> str:
    if name == "directory":  # a bare name (no `/`, no .json), as a saved profile's name would be given
        (tmp_path / "profdir").mkdir()
        return "profdir"
    path = tmp_path / f"{name}.json"
    if name == "fifo":
        os.mkfifo(path)
    elif name == "too_large":
        with open(path, "wb") as f:
            f.truncate(40_000_000)  # sparse: the size limit must refuse it without reading it all
    else:
        path.write_text(PROFILE_CASES[name](_profile()))
    return str(path)


@pytest.mark.parametrize("name", [*PROFILE_CASES, "directory", "fifo", "too_large"])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_hostile_device_profile(tmp_path, name, fmt, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write_profile(tmp_path, name)
    r = runner.invoke(app, ["table", "lenet5", "--device-profile", path, "-f", fmt])
    assert r.exit_code == 2, (r.output, r.exception)
    assert "Traceback" not in r.output and "Fix:" in r.output and "no saved device profile" not in r.output
    assert r.output.strip().count("\n") == 0


def test_valid_profile_still_predicts(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(_profile()))
    r = runner.invoke(app, ["table", "lenet5", "--device-profile", str(path), "-f", "json"])
    assert r.exit_code == 0, r.output
    json.loads(r.output, parse_constant=lambda c: pytest.fail(c))


def test_corpus_covers_the_findings():
    assert len(KEYS) >= 35 and len(RESPONSES) >= 6
