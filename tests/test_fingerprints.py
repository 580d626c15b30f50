"""No behaviour change: every zoo model's and every worked answers file's outputs hash as recorded.

The golden file is ``tests/golden/fingerprints.json`` (see ``tests/fingerprints.py`` for what is recorded
and the one command that regenerates it, deliberately).
"""

import json

import pytest

import fingerprints as fp

GOLDEN = json.loads(fp.GOLDEN.read_text())


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(fp.ROOT)


def _diff(got: dict, want: dict) -> list:
    return [f"{k}: exit {want[k]['exit']} -> {got[k]['exit']}; totals recorded {want[k]['summary']}, now "
            f"{got[k]['summary']}" for k in want if got.get(k, {}).get("sha256") != want[k]["sha256"]]


def test_golden_covers_the_zoo_and_answers():
    assert sorted(GOLDEN["models"]) == sorted(fp.zoo_names())
    assert sorted(GOLDEN["answers"]) == fp.answers_files()


@pytest.mark.parametrize("name", sorted(GOLDEN["models"]))
def test_model_outputs_unchanged(name):
    want = GOLDEN["models"][name]
    got = fp.model_fingerprints(name)
    assert not _diff(got, want), "\n".join(_diff(got, want))


@pytest.mark.parametrize("path", sorted(GOLDEN["answers"]))
def test_answers_outputs_unchanged(path):
    got, want = fp.answers_fingerprint(path), GOLDEN["answers"][path]
    assert got == want, f"{path}: recorded {want['summary']} (exit {want['exit']}), now {got['summary']} (exit {got['exit']})"


def test_a_changed_output_is_reported():
    want = GOLDEN["models"]["lenet5"]
    got = {k: dict(v) for k, v in want.items()}
    got["table -c default"]["sha256"] = "0" * 64
    assert len(_diff(got, want)) == 1 and "table -c default" in _diff(got, want)[0]
