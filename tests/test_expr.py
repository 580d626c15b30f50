"""The spec expression language: arithmetic, precedence, names, functions — and no eval."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcost.errors import SpecError
from archcost.language.expr import evaluate, make_divisible, names_in


@pytest.mark.parametrize("text,value", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ** 3 ** 2", 512), ("-2 ** 2", -4), ("7 // 2", 3),
    ("7 / 2", 3.5), ("7 % 4", 3), ("1 < 2 and 2 < 3", True), ("not 1 == 1", False),
    ("3 if 1 > 2 else 4", 4), ("in * t", 96), ("(k - 1) // 2", 2), ("max(1.0, width) * 8", 8.0),
    ("round(2.5)", 3), ("round(3.5)", 4), ("ceil(1.1)", 2), ("floor(-1.1)", -2), ("'relu6'", "relu6"),
])
def test_values(text, value):
    assert evaluate(text, {"in": 16, "t": 6, "k": 5, "width": 0.5}) == value


def test_names_in():
    assert names_in("make_divisible(in * t, 8) if s == 1 else ch") == {"in", "t", "s", "ch"}


@pytest.mark.parametrize("text", ["__import__('os')", "x.__class__", "open('f')", "[1, 2]", "lambda: 1",
                                  "a; b", "exec('1')"])
def test_no_code_runs(text):
    with pytest.raises(SpecError):
        evaluate(text, {"x": 1, "a": 1, "b": 2})


@settings(deadline=None)
@given(st.floats(min_value=1, max_value=4096, allow_nan=False), st.sampled_from([1, 2, 4, 8, 16]))
def test_make_divisible_matches_torchvision(value, divisor):
    tv_utils = pytest.importorskip("torchvision.models._utils")
    assert make_divisible(value, divisor) == tv_utils._make_divisible(value, divisor)
