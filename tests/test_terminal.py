"""Terminal tables at 80, 120 and 200 columns: snapshots, and the policy they follow (issue 21).

Asked-for columns are never hidden, nothing is cropped mid-cell, the table fits the terminal, and
one line says what made way.  Snapshots live in tests/golden/terminal/; after a deliberate change,
regenerate them with ``ARCHCOST_UPDATE_SNAPSHOTS=1 pytest tests/test_terminal.py`` and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcost.cli import app
from archcost.report import terminal as T
from latency_util import toy_profile

ROOT = Path(__file__).resolve().parent.parent
SNAP = ROOT / "tests" / "golden" / "terminal"
FIX = ROOT / "tests" / "fixtures"
WIDTHS = (80, 120, 200)
runner = CliRunner()


def _check_snapshot(name: str, text: str):
    path = SNAP / f"{name}.txt"
    if os.environ.get("ARCHCOST_UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with ARCHCOST_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs (ARCHCOST_UPDATE_SNAPSHOTS=1 to accept)"


def _table_lines(text: str) -> list:
    return [ln.rstrip() for ln in text.splitlines() if ln[:1] in "│┃┏┗┡├└"]


def _fits(text: str, width: int):
    lines = text.splitlines()
    assert all(len(ln.rstrip()) <= width for ln in lines), max(lines, key=len)
    for ln in _table_lines(text):  # every bordered row is closed: nothing cropped by rich
        assert ln[-1] in "│┃┓┩┤┘┛", ln


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    p = tmp_path_factory.mktemp("profile") / "toy.json"
    p.write_text(json.dumps(toy_profile(), indent=1))
    return str(p)


CASES = {
    "table-mobilenetv2": ["table", "mobilenetv2"],
    "table-vgg16-rf": ["table", "vgg16", "--receptive-field"],
    "table-mobilenetv2-depth3-predicted": ["table", "mobilenetv2", "--depth", "3", "--device-profile", "{toy}"],
    "conventions-resnet50": ["conventions", "resnet50"],
    "compare": ["compare", "resnet50", "mobilenetv2", "efficientnet_b0", "vgg16"],
    "compare-latency": ["compare", "mobilenetv2", "resnet18", "resnet50", "--latency",
                        "tests/fixtures/latency-cpu-synthetic.json", "--device-profile", "{toy}"],
    "memory-resnet18-layers": ["memory", "resnet18", "--layers"],
    "ops": ["ops"],
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_table_snapshot(case, width, toy, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = [a.replace("{toy}", toy) for a in CASES[case]]
    r = runner.invoke(app, args, env={"COLUMNS": str(width)})
    assert r.exit_code == 0, r.output
    _fits(r.output, width)
    _check_snapshot(f"{case}-{width}", r.output.replace(toy, "toy.json"))


@pytest.mark.parametrize("width", (80, 120))
def test_asked_for_columns_are_never_hidden(width, toy):
    rf = runner.invoke(app, ["table", "vgg16", "--receptive-field"], env={"COLUMNS": str(width)}).output
    head = next(ln for ln in rf.splitlines() if ln.startswith("┃"))
    assert all(f" {c} " in head for c in ("rf", "rf_stride", "rf_offset")), head
    assert "hidden:" in rf and "--wide" in rf and "COLUMNS=" in rf  # and it says what made way
    pred = runner.invoke(app, ["table", "mobilenetv2", "--device-profile", toy], env={"COLUMNS": str(width)}).output
    assert "predicted_ms" in next(ln for ln in pred.splitlines() if ln.startswith("┃"))


def test_big_models_default_to_blocks_and_wide_shows_everything():
    r = runner.invoke(app, ["table", "mobilenetv2"], env={"COLUMNS": "80"}).output
    assert "153 layers shown as 23 rows by block (--depth 1" in r
    wide = runner.invoke(app, ["table", "mobilenetv2", "--wide"], env={"COLUMNS": "80"}).output
    assert "inverted_residual16.conv_bn_act0.batchnorm2d0" in wide and "hidden:" not in wide
    assert "FLOP/B" in wide and "shown as" not in wide
    explicit = runner.invoke(app, ["table", "mobilenetv2", "--depth", "2"], env={"COLUMNS": "200"}).output
    assert "shown as" not in explicit  # --depth given: no automatic collapse


def _profile_fixture(name):
    return json.loads((FIX / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("width", WIDTHS)
def test_profile_compare_snapshot(width):
    """``profile --compare`` from a recorded measurement (no timing in tests)."""
    from io import StringIO

    from rich.console import Console

    from archcost.report.profile import models_table, profile_table

    one = _profile_fixture("profile-compare-mobilenetv2.json")
    many = _profile_fixture("profile-compare-three.json")
    texts = []
    for table in (profile_table(one, width=width),
                  models_table(many["models"], many["summary"], "latency (recorded)", width=width)):
        buf = StringIO()
        T.print_table(table, Console(file=buf, width=width, color_system=None))
        texts.append(buf.getvalue())
    for t in texts:
        _fits(t, width)
    assert "predicted ms" in texts[0] and "measured ms" in texts[0] and "error" in texts[0]
    _check_snapshot(f"profile-compare-{width}", "\n".join(texts))


@pytest.mark.parametrize("width", (80, 120))
def test_memory_and_ops_keep_every_column_and_every_word(width):
    """Prose columns wrap (nothing lost, nothing said); layer names go to a tree; torch names make way in ``ops``."""
    r = runner.invoke(app, ["memory", "resnet18", "--layers"], env={"COLUMNS": str(width)}).output
    heads = [ln for ln in r.splitlines() if ln.startswith("┃")]
    assert all(f" {c} " in heads[0] for c in ("component", "bytes", "how")), heads[0]
    assert all(f" {c} " in heads[1] for c in ("layer", "op", "counted here", "saves")), heads[1]
    words = " ".join(ln.strip("│ ") for ln in r.splitlines())
    for w in ("autograd", "keeps", "backward", "forward"):
        assert w in words
    wide = runner.invoke(app, ["memory", "resnet18", "--layers", "--wide"], env={"COLUMNS": "80"}).output
    assert "layer1.basic_block0.residual0.conv1" in wide and "hidden:" not in wide
    ops = runner.invoke(app, ["ops"], env={"COLUMNS": str(width)}).output
    head = next(ln for ln in ops.splitlines() if ln.startswith("┃"))
    assert " op " in head and " arguments " in head
    assert ("torch" in head) == ("hidden: torch" not in ops)
    assert "count_include_pad=True" in ops  # an argument is never cut, only wrapped


def test_wrap_text():
    assert T.wrap_text("a bb ccc dddd", 6) == "a bb\nccc\ndddd"
    cols = [T.Column("op", ["x" * 10]), T.Column("args", ["one two three four five six"], shorten="wrap", min_width=8)]
    f = T.fit(cols, 30)
    assert f.note() is None and not f.hidden and "\n" in f.columns[1].cells[0]


def test_profile_models_headers_are_distinct():
    """Several models: the predictor's error and the MACs-only baseline's error are named apart (issue 21)."""
    from archcost.report.profile import MODEL_HEAD, models_markdown

    assert len(set(MODEL_HEAD)) == len(MODEL_HEAD)
    assert "error %" in MODEL_HEAD and "MACs-only error %" in MODEL_HEAD
    many = _profile_fixture("profile-compare-three.json")
    head = models_markdown(many["models"])[0]
    assert "| error % |" in head and "| MACs-only error % |" in head


def test_shorten_middle_and_tree():
    assert T.shorten_middle("inverted_residual1.conv_bn_act0.batchnorm2d0", 20) == "inverted_…tchnorm2d0"
    assert T.shorten_middle("short", 20) == "short"
    assert [lbl for lbl, _ in T.tree_rows(["a.b.c", "a.b.d", "a.e", "f"])] == ["a", "  b", "    c", "    d", "  e", "f"]


def test_fit_hides_by_priority_and_says_so():
    cols = [T.Column("layer", ["x" * 30], shorten="tree"), T.Column("asked", ["1" * 20]),
            T.Column("low", ["2" * 20], priority=2), T.Column("mid", ["3" * 20], priority=1)]
    f = T.fit(cols, 60)
    assert [c.header for c in f.columns] == ["layer", "asked"] and f.hidden == ["mid", "low"] or f.hidden == ["low"]
    assert "asked" in [c.header for c in T.fit(cols, 10).columns]  # even when nothing fits
    assert "--wide" in f.note()
