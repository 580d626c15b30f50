"""The fast loader (libyaml compose + a direct build) equals the pure-Python loader, lines included."""

from __future__ import annotations

from pathlib import Path

import re

import pytest
import yaml

from archcost.errors import SpecError
from archcost.language import pyyaml_parse, yamlload
from archcost.language.yamlload import LocDict, LocList

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "specs").rglob("*.yaml")) + sorted((ROOT / "tests" / "malformed").glob("*.yaml"))


def slow(text):
    return yaml.load(text, Loader=pyyaml_parse._Loader)  # noqa: S506


def same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, LocDict):
        assert a.line == b.line and a.key_lines == b.key_lines and list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, LocList):
        assert a.line == b.line and a.item_lines == b.item_lines and len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b or (a != a and b != b), (a, b)  # NaN equals NaN here


def outcome(fn, text):
    try:
        return "ok", fn(text)
    except SpecError as e:
        return "SpecError", (e.line, e.message)
    except yaml.YAMLError as e:
        return "YAMLError", type(e).__name__


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_fast_loader_equals_pure_python_loader(path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8 (a decoding-error case of the corpus)")
    if pyyaml_parse._nesting_depth(text) > yamlload.MAX_DEPTH:
        pytest.skip("deep files always take the pure-Python loader")
    fast, ref = outcome(pyyaml_parse._fast_load, text), outcome(slow, text)
    assert fast[0] == ref[0], (fast, ref)
    if fast[0] == "ok":
        same(fast[1], ref[1])
    elif "alias references" in ref[1][1]:
        # libyaml hands over the anchored node for an alias, so the fast loader names the anchor's line
        assert fast[1][1] == ref[1][1]
    else:
        assert fast[1] == ref[1]


@pytest.mark.parametrize("text", [
    "a: &x [1, 2]\nb: *x\n", "base: &b {k: 1}\nd:\n  <<: *b\n  j: 2\n", "a: 0777\nb: 1_000\nc: 0x1F\nd: +5\ne: 00\n",
    "a: yes\nb: ~\nc: 4.2e6\nd: .inf\ne: 2024-01-02\n", "s: !!set {a, b}\n", "o: !!omap [{a: 1}]\n", "a: !foo 1\n",
    "- !bar [1]\n", "a: &s [*s]\n", "? [1]\n: 2\n", "a: 1\na: 2\n",
])
def test_fast_loader_edge_cases(text):
    fast, ref = outcome(pyyaml_parse._fast_load, text), outcome(slow, text)
    assert fast[0] == ref[0], (fast, ref)
    if fast[0] == "ok":
        same(fast[1], ref[1])


def test_nesting_depth_bound_is_unchanged_for_the_zoo():
    for path in FILES:
        text = path.read_bytes().decode("utf-8", "replace")
        assert pyyaml_parse._nesting_depth(text) >= _reference_depth(text) - 0, path


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\x85", "\u2028", "\u2029"])
def test_nesting_depth_bound_sees_every_yaml_line_break(brk):
    text = brk.join(["a:", "  b:", "    - - c: [{d: 2}]", ""])
    assert yaml.safe_load(text.replace(brk, "\n")) == yaml.safe_load(text)  # PyYAML breaks lines there too
    assert pyyaml_parse._nesting_depth(text) == _reference_depth(text) == 10


_INDICATORS = re.compile(r"(?:[-?:][ \t]+)*")


def _reference_depth(text):
    depth = max_depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            max_depth = max(max_depth, depth)
        elif ch in "]}":
            depth -= 1
    indent = max((len(line) - len(line.lstrip(" ")) + len(_INDICATORS.match(line.lstrip(" ")).group())
                  for line in text.splitlines() if line.strip()), default=0)
    return max_depth + indent


@pytest.mark.parametrize("text", [
    "base: &b {k: 1, j: 2}\nd:\n  <<: *b\n  k: 3\n",                       # an own key overrides a merged one
    "a: &a {k: 1}\nb: &b {k: 2}\nd:\n  <<: [*a, *b]\n  j: 0\n",           # the first merge source wins
    "base: &b {k: 1}\nd:\n  k: 3\n  <<: *b\n",                             # own key before the merge
])
def test_merge_keys_follow_yaml(text):
    expect = yaml.safe_load(text)
    for load in (pyyaml_parse._fast_load, slow):
        assert load(text) == expect


def test_an_own_key_twice_is_still_a_duplicate():
    with pytest.raises(SpecError, match="duplicate key 'k'"):
        pyyaml_parse._fast_load("base: &b {j: 1}\nd:\n  <<: *b\n  k: 3\n  k: 4\n")
    with pytest.raises(SpecError, match="duplicate key 'k'"):
        slow("base: &b {j: 1}\nd:\n  <<: *b\n  k: 3\n  k: 4\n")
