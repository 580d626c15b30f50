"""Every malformed spec in tests/malformed/ fails with one located, actionable paragraph.

Each corpus file starts with an expectation comment::

    # expect: line=7 layer=conv2d1 text="groups=3|divide"

``line``   the line the message must name as ``file:LINE`` (``?`` = any line)
``layer``  the layer path the message must name as ``in layer '...'`` (``-`` = no layer involved,
           ``*`` = some layer)
``text``   ``|``-separated fragments that must all appear in the message (case-insensitive)

The CLI must exit with code 2 and print exactly one paragraph (no traceback) that
names the file, the line, the layer and says how to fix it ("Fix:"); the Python API
must raise :class:`archcost.SpecError` and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import archcost
from archcost.cli import app
from archcost.errors import SpecError
from archcost.language.yamlload import MAX_FILE_BYTES

CORPUS = Path(__file__).parent / "malformed"
FILES = sorted(CORPUS.glob("*.yaml"))
HEADER = re.compile(r'^# expect: line=(?P<line>\d+|\?) layer=(?P<layer>\S*) text="(?P<text>[^"]*)"')


def expectation(path: Path) -> dict:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    m = HEADER.match(first)
    assert m, f"{path.name}: first line must be an `# expect:` comment"
    return {"line": None if m["line"] == "?" else int(m["line"]), "layer": m["layer"],
            "text": [t for t in m["text"].split("|") if t]}


def check_message(msg: str, path: str, exp: dict) -> None:
    assert "Traceback" not in msg, msg
    assert "\n" not in msg.strip(), f"message is not one paragraph:\n{msg}"
    line = r"\d+" if exp["line"] is None else str(exp["line"])
    assert re.search(re.escape(path) + ":" + line + r"\b", msg), f"expected {path}:{exp['line'] or 'LINE'} in: {msg}"
    if exp["layer"] in ("-", ""):
        assert "in layer '" not in msg, f"no layer expected in: {msg}"
    elif exp["layer"] == "*":
        assert "in layer '" in msg, f"a layer expected in: {msg}"
    else:
        assert f"in layer '{exp['layer']}'" in msg, f"expected layer {exp['layer']!r} in: {msg}"
    assert "Fix:" in msg, msg
    for fragment in exp["text"]:
        assert fragment.lower() in msg.lower(), f"expected {fragment!r} in: {msg}"


def test_corpus_is_large_enough():
    assert len(FILES) >= 110


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_cli_reports_one_located_paragraph(path):
    exp = expectation(path)
    result = CliRunner().invoke(app, ["table", str(path)])
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    check_message(result.output.strip(), str(path), exp)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_api_raises_spec_error(path):
    exp = expectation(path)
    with pytest.raises(SpecError) as info:
        archcost.analyze(str(path))
    check_message(str(info.value), str(path), exp)
    # the same message through load_spec(text=...) (no file on disk): same type, same line
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return
    with pytest.raises(SpecError) as info:
        archcost.build(archcost.load_spec("inline.yaml", text=text))
    if exp["line"] is not None:
        assert info.value.line == exp["line"], str(info.value)


def test_huge_file(tmp_path):
    """A file over the size limit is refused before parsing (generated here, not committed)."""
    path = tmp_path / "huge.yaml"
    filler = "# " + "x" * 98 + "\n"
    path.write_text("name: huge\ninput: [3, 32, 32]\nlayers:\n  - relu: {}\n" + filler * (MAX_FILE_BYTES // 100 + 10))
    result = CliRunner().invoke(app, ["table", str(path)])
    assert result.exit_code == 2
    check_message(result.output.strip(), str(path), {"line": 1, "layer": "-", "text": ["limit", "bytes"]})
    with pytest.raises(SpecError):
        archcost.analyze(str(path))


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    result = CliRunner().invoke(app, ["table", str(path)])
    assert result.exit_code == 2
    assert "no such spec file" in result.output and "Fix:" in result.output and "\n" not in result.output.strip()
