"""Under ``-f json|csv|markdown`` stdout holds exactly that format, for every command (issue 21).

Progress, notes and verdicts go to stderr; ``table --verify -f json`` puts the verify results
inside the JSON (a ``verify`` key).  Each case parses stdout alone (click keeps stderr apart).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcost.cli import app

ROOT = Path(__file__).resolve().parent.parent
HW = str(ROOT / "specs" / "homework" / "inception_5x5_bottleneck.yaml")
ANSWERS = str(ROOT / "specs" / "homework" / "inception_5x5.answers.yaml")
runner = CliRunner()

COMMANDS = {
    "table": ["table", HW],
    "table-depth": ["table", "resnet18", "--depth", "1"],
    "table-all-conventions": ["table", HW, "--convention", "all"],
    "zoo": ["zoo", "--family", "classic"],
    "conventions": ["conventions", HW],
    "compare": ["compare", "resnet18", "mobilenetv2"],
    "memory": ["memory", HW, "--layers"],
    "explain": ["explain", HW, "--layer", "conv2d0"],
    "calc": ["calc", "conv2d", "--in", "3,32,32", "--out-channels", "8", "--kernel-size", "3"],
    "check": ["check", ANSWERS],
}
# the formats each command offers (text is their terminal format)
FORMATS = {"explain": ("json", "markdown"), "calc": ("json", "markdown"), "check": ("json", "markdown")}


def parse(fmt: str, text: str):
    assert text.strip(), "empty stdout"
    if fmt == "json":
        return json.loads(text)  # raises on anything after the document ("Extra data")
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) >= 2 and len(rows[0]) >= 2, rows[:2]
        blocks = [r for r in rows if r]
        assert len({len(r) for r in blocks}) == 1 or text.count("\n\n") >= 1, "ragged CSV"
        assert not any(ch in text for ch in "┃│━╇"), "a rich table in CSV"
        return rows
    assert not any(ch in text for ch in "┃│━╇┏"), "a rich table in Markdown"
    assert "\x1b[" not in text, "terminal colour codes in Markdown"
    assert "\n|---" in text or "```" in text or text.lstrip().startswith(("#", "**")), "no Markdown structure"
    return text


CASES = [(name, fmt) for name in COMMANDS for fmt in FORMATS.get(name, ("json", "csv", "markdown"))]


@pytest.mark.parametrize("name,fmt", CASES)
def test_stdout_is_exactly_the_format(name, fmt):
    r = runner.invoke(app, COMMANDS[name] + ["-f", fmt], env={"COLUMNS": "80"})
    assert r.exit_code in (0, 1), r.output  # check exits 1 when an answer is wrong
    parse(fmt, r.stdout)


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown"])
def test_table_verify_keeps_stdout_pure(fmt):
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    r = runner.invoke(app, ["table", HW, "--verify", "-f", fmt], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    data = parse(fmt, r.stdout)
    assert "verified: all" in r.stderr
    if fmt == "json":
        v = data["verify"]
        assert v["ok"] is True and v["disagreements"] == 0 and len(v["layers"]) == len(data["layers"])
        assert set(v["layers"][0]) == {"name", "op", "ok", "shape", "params", "macs", "problems"}
        assert list(data)[-1] == "verify"  # after the totals: the rest of the contract is unchanged
    if fmt == "markdown":
        assert "verify" in data and "| layer | op | shape | params | MACs | difference |" in data


def test_profile_formats_keep_progress_on_stderr():
    pytest.importorskip("torch")
    for fmt in ("json", "csv", "markdown"):
        r = runner.invoke(app, ["profile", HW, "--repeat", "1", "--warmup", "0", "-f", fmt], env={"COLUMNS": "80"})
        assert r.exit_code == 0, r.output
        parse(fmt, r.stdout)
        assert "timing" in r.stderr
