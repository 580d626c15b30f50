"""The disk cache of parsed spec files (archcost/language/parsecache.py, issue 21): a tree read back equals
PyYAML's parse exactly (values, types, lines, numbers as written), and a cache that is stale, corrupt,
hostile or unwritable never changes what a file means."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from archcost.language import parsecache, pyyaml_parse, yamlload
from archcost.language.yamlload import load_yaml_file
from test_yamlload import same

ROOT = Path(__file__).resolve().parent.parent
SPEC_FILES = sorted((ROOT / "specs").rglob("*.yaml"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("ARCHCOST_CACHE_DIR", str(d))
    monkeypatch.delenv("ARCHCOST_NO_PARSE_CACHE", raising=False)
    monkeypatch.setattr(yamlload, "_PARSED", {})
    return d


def _entries(d: Path) -> list:
    return sorted((d / f"parsed-{parsecache.FORMAT}").glob("*.json"))


def _no_pyyaml(monkeypatch):
    def refuse(text, file):
        raise AssertionError(f"{file} was parsed again")

    monkeypatch.setattr(pyyaml_parse, "parse", refuse)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_file_reads_back_equal(path, cache, monkeypatch):
    parsed = load_yaml_file(str(path))
    assert len(_entries(cache)) == 1
    yamlload._PARSED.clear()
    _no_pyyaml(monkeypatch)
    again = load_yaml_file(str(path))
    assert again is not parsed
    same(again, parsed)
    _same_texts(again, parsed)


def _same_texts(a, b):
    """scalar_text (numbers as written) too, which test_yamlload's `same` does not compare."""
    if isinstance(a, yamlload.LocDict):
        assert a.scalar_texts == b.scalar_texts
        for k in a:
            _same_texts(a[k], b[k])
    elif isinstance(a, yamlload.LocList):
        assert a.item_lines == b.item_lines
        for x, y in zip(a, b):
            _same_texts(x, y)
    else:
        assert type(a) is type(b) and a == b


def _spec(tmp_path, text: str) -> str:
    p = tmp_path / "net.yaml"
    p.write_text(text)
    return str(p)


TEXT = "name: net\ninput: [3, 8, 8]\nparams: {lr: 1.20e-3, n: 0x10, ok: yes}\nlayers:\n  - conv2d: {out_channels: 4}\n"


def test_an_edited_file_is_parsed_again(cache, tmp_path):
    path = _spec(tmp_path, TEXT)
    assert load_yaml_file(path)["params"]["n"] == 16
    yamlload._PARSED.clear()
    Path(path).write_text(TEXT.replace("0x10", "0x11"))
    assert load_yaml_file(path)["params"]["n"] == 17
    assert len(_entries(cache)) == 2


@pytest.mark.parametrize("junk", [b"", b"not json", b"[1, 2]", b'{"text": 1}', b'{"text": null, "tree": {}}',
                                  b"\xff\xfe", b'{"tree": {"d": [1, [[[1, 2], 3]], [], null]}}'])
def test_a_corrupt_entry_is_ignored_and_rewritten(cache, tmp_path, junk):
    path = _spec(tmp_path, TEXT)
    want = load_yaml_file(path)
    (entry,) = _entries(cache)
    entry.write_bytes(junk)
    yamlload._PARSED.clear()
    same(load_yaml_file(path), want)
    assert json.loads(entry.read_text())["text"] == TEXT


def _entry_for(cache, text, tree_json):
    """Write an entry for ``text`` holding ``tree_json`` (as if another file with the same checksum had)."""
    data = text.encode()
    p = Path(parsecache._path(data))
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(tree_json))
    return p


def test_an_entry_for_another_text_is_ignored(cache, tmp_path):
    """A checksum collision (or a planted entry): the stored text must equal the file's."""
    path = _spec(tmp_path, TEXT)
    _entry_for(cache, TEXT, {"text": TEXT + "# other\n", "tree": {"d": [1, [["name", "evil"]], [], None]}})
    assert load_yaml_file(path)["name"] == "net"


@pytest.mark.parametrize("tree", [
    {"d": [1, [[["list", "key"], 1]], [], None]},  # unhashable key
    {"d": [1, [["a", {"x": 1}]], [], None]},  # an untagged mapping
    {"l": ["one", [], []]},  # a line that is not a number
    {"d": [1, [["a", [1, 2]]], [], None]},  # an untagged list
    {"q": []}, {"d": [1]}, {"d": [1, [], [], None], "l": []},
])
def test_a_malformed_tree_is_ignored(cache, tmp_path, tree):
    path = _spec(tmp_path, TEXT)
    _entry_for(cache, TEXT, {"text": TEXT, "tree": tree})
    assert load_yaml_file(path)["name"] == "net"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_place_of_an_entry_does_not_hang(cache, tmp_path):
    path = _spec(tmp_path, TEXT)
    p = Path(parsecache._path(TEXT.encode()))
    p.parent.mkdir(parents=True)
    os.mkfifo(p)
    assert load_yaml_file(path)["name"] == "net"


@pytest.mark.parametrize("text", ["name: net\nx: .inf\n", "name: net\nwhen: 2024-01-02\n", "name: net\ns: !!set {a}\n"])
def test_values_json_cannot_hold_are_not_stored(cache, tmp_path, text):
    path = _spec(tmp_path, text)
    first = load_yaml_file(path)
    assert _entries(cache) == []
    yamlload._PARSED.clear()
    assert load_yaml_file(path) == first


def test_the_cache_can_be_turned_off(cache, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHCOST_NO_PARSE_CACHE", "1")
    load_yaml_file(_spec(tmp_path, TEXT))
    assert _entries(cache) == []


def test_an_unwritable_cache_folder_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ARCHCOST_CACHE_DIR", str(blocker / "cache"))  # below a regular file: cannot be made
    monkeypatch.setattr(yamlload, "_PARSED", {})
    assert load_yaml_file(_spec(tmp_path, TEXT))["name"] == "net"
    assert not list(tmp_path.glob("**/*.tmp"))


def test_the_folder_is_pruned(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(parsecache, "MAX_ENTRIES", 4)
    for i in range(7):
        load_yaml_file(_spec(tmp_path, TEXT + f"# {i}\n"))
    assert 2 <= len(_entries(cache)) <= 4


def test_errors_are_never_cached(cache, tmp_path):
    from archcost.errors import SpecError

    path = _spec(tmp_path, "name: [unclosed\n")
    for _ in range(2):
        with pytest.raises(SpecError, match="YAML syntax error"):
            load_yaml_file(path)
    assert _entries(cache) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="computed without platformdirs on Linux only")
@pytest.mark.parametrize("xdg", [None, "", "  ", "/tmp/xdg-cache"])
def test_the_cache_root_is_platformdirs_own(monkeypatch, xdg):
    import platformdirs

    from archcost.cachedir import cache_root

    monkeypatch.delenv("ARCHCOST_CACHE_DIR", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache_root() == platformdirs.user_cache_dir("archcost")
