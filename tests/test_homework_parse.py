"""The human answer parser and the rounding-aware grading (archcost.homework.parse / grade)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcost.errors import SpecError
from archcost.homework.grade import Tolerance, judge_number, judge_shape, parse_tolerance
from archcost.homework.parse import Answer, parse_answer

F = Fraction


@pytest.mark.parametrize("text,value,step", [
    ("120M", 120_000_000, 1_000_000),
    ("1.2e8", 120_000_000, 10_000_000),
    ("1.2E+8", 120_000_000, 10_000_000),
    ("120,422,400", 120_422_400, 1),
    ("120_422_400", 120_422_400, 1),
    ("12.4 million", 12_400_000, 100_000),
    ("12.4M", 12_400_000, 100_000),
    ("1.2 × 10^8", 120_000_000, 10_000_000),
    ("1.2·10⁸", 120_000_000, 10_000_000),
    ("15.5 GMACs", 15_500_000_000, 100_000_000),
    ("31 GFLOPs", 31_000_000_000, 1_000_000_000),
    ("2.1 billion", 2_100_000_000, 100_000_000),
    ("35K", 35_000, 1_000),
    ("138M params", 138_000_000, 1_000_000),
    ("~24M", 24_000_000, 1_000_000),
    ("about 61 MB", 61_000_000, 1_000_000),
    ("61 MB", 61_000_000, 1_000_000),
    ("58 MiB", 58 * 2**20, 2**20),
    ("880.54 KiB", F(88054, 100) * 1024, F(1024, 100)),
    ("902 kB", 902_000, 1_000),
    ("1.5 GB", 1_500_000_000, 100_000_000),
    ("512 bytes", 512, 1),
    ("10x", 10, 1),
    ("x10", 10, 1),
    ("9.68 times", F(968, 100), F(1, 100)),
    ("11%", F(11, 100), F(1, 100)),
    ("10.8 %", F(108, 1000), F(1, 1000)),
    ("0.89", F(89, 100), F(1, 100)),
    (".5", F(1, 2), F(1, 10)),
    (4096, 4096, 1),
])
def test_numbers(text, value, step):
    a = parse_answer(text)
    assert a.kind == "number"
    assert a.value == value and a.step == step


def test_b_is_billion_unless_the_question_is_in_bytes():
    assert parse_answer("2B").value == 2_000_000_000
    assert parse_answer("2B", memory=True).value == 2


@pytest.mark.parametrize("text,dims,layout", [
    ("55x55x96", (55, 55, 96), None),
    ("55×55×96", (55, 55, 96), None),
    ("55 * 55 * 96", (55, 55, 96), None),
    ("(96, 55, 55)", (96, 55, 55), None),
    ("[1, 96, 55, 55]", (1, 96, 55, 55), None),
    ([1, 96, 55, 55], (1, 96, 55, 55), None),
    ("(None, 55, 55, 96)", (None, 55, 55, 96), None),
    ("96, 55, 55", (96, 55, 55), None),
    ("55x55x96 (H×W×C)", (55, 55, 96), "hwc"),
    ("96x55x55 chw", (96, 55, 55), "chw"),
])
def test_shapes(text, dims, layout):
    a = parse_answer(text)
    assert a.kind == "shape" and a.value == dims and a.layout == layout


def test_fractions_and_expressions():
    a = parse_answer("1/9")
    assert a.kind == "fraction" and a.value == F(1, 9)
    a = parse_answer("1/5 + 1/9")
    assert a.kind == "expression" and a.value == F(14, 45)
    assert parse_answer("1/2 - 1/3").value == F(1, 6)


@pytest.mark.parametrize("text", ["", "   ", "macs", "1,2.5", "12,4,5.1", "1/0", "twelve", "12 parsecs", "55x55x", "(55, 55, None)",
                                  "(0, 3)", "1e999", "--5", "1.2.3", "12M12", "[]", "x", "%", "1/5 +", True, None,
                                  {"a": 1}, [], [1, "a"], float("nan")])
def test_unreadable_answers_are_spec_errors(text):
    with pytest.raises(SpecError) as e:
        parse_answer(text)
    assert "Fix:" in str(e.value)


NEAR = ["120M", "1.2e8", "120,422,400", "12.4 million", "55x55x96", "(96, 55, 55)", "[1, 96, 55, 55]", "61 MB",
        "58 MiB", "10x", "1/9", "11%", "1/5 + 1/9", "15.5 GMACs", "(None, 26, 26, 32)", "x10", "~24M"]
ALPHABET = "0123456789.,_ xX×*·/+-−%()[]eEkKmMgGbBiI~≈⁰¹²³⁸ \u2009abcdefNnoe?"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(max_size=40),
    st.text(alphabet=ALPHABET, max_size=30),
    st.tuples(st.sampled_from(NEAR), st.integers(0, 30), st.text(alphabet=ALPHABET, max_size=3)).map(
        lambda t: t[0][:t[1]] + t[2] + t[0][t[1]:]),  # a near miss: a few characters inserted
    st.tuples(st.sampled_from(NEAR), st.integers(0, 30)).map(lambda t: t[0][:t[1]] + t[0][t[1] + 1:]),  # one deleted
    st.integers(), st.floats(), st.lists(st.one_of(st.integers(), st.none(), st.text(max_size=3)), max_size=6),
    st.booleans(), st.none()))
def test_parser_fuzz_raises_only_spec_error(value):
    try:
        a = parse_answer(value)
    except SpecError:
        return
    assert isinstance(a, Answer)
    assert a.kind in ("number", "fraction", "expression", "shape", "comparison")
    if a.kind == "shape":
        assert all(d is None or (isinstance(d, int) and d > 0) for d in a.value)
    else:
        assert isinstance(a.value, Fraction)
        if a.kind == "number":
            assert a.step is not None and a.step > 0


# ---------------------------------------------------------------------------- grading

def judged(text, true, tol=None):
    return judge_number(parse_answer(text), true, tol or Tolerance())


def test_the_issue_rounding_examples():
    """12,443,648: 12.4M right, 12M right, 13M wrong, and the verdict names the precision."""
    v = judged("12.4M", 12_443_648)
    assert v.right and "3 significant figures" in v.message and "12.35M to 12.45M" in v.message
    v = judged("12M", 12_443_648)
    assert v.right and "2 significant figures" in v.message
    v = judged("13M", 12_443_648)
    assert not v.right and "the true value is 12M" in v.message


@pytest.mark.parametrize("text,true,right", [
    ("120M", 120_422_400, True), ("1.2e8", 120_422_400, True), ("120,422,400", 120_422_400, True),
    ("120,422,401", 120_422_400, False), ("120,000,000", 120_422_400, False),  # trailing zeros are digits
    ("121M", 120_422_400, False), ("35K", 34_944, True), ("34.9K", 34_944, True), ("34.8K", 34_944, False),
    ("11%", F(1064, 10000), True), ("10%", F(1064, 10000), False), ("10x", F(9677, 1000), True),
    ("9x", F(9677, 1000), False), ("61 MB", 60_950_432, True), ("58 MiB", 60_950_432, True),
    ("58 MB", 60_950_432, False), ("12.45M", 12_443_648, False), ("12.44M", 12_443_648, True),
])
def test_rounding_rule(text, true, right):
    assert judged(text, true).right is right


def test_boundaries_count_as_right():
    assert judged("12M", 12_500_000).right and judged("13M", 12_500_000).right


def test_fraction_is_right_when_it_is_the_closest_with_that_denominator():
    assert judged("1/9", F(52_283_392, 462_422_016)).right       # 0.1131
    assert judged("1/8", F(52_283_392, 462_422_016)).right       # closest with denominator up to 8
    assert not judged("1/10", F(52_283_392, 462_422_016)).right
    assert judged("1/3", F(672, 2160)).right
    assert not judged("1/4", F(672, 2160)).right


def test_expressions_are_exact():
    assert judged("1/5 + 1/9", F(672, 2160)).right
    assert not judged("1/5 + 1/10", F(672, 2160)).right


@pytest.mark.parametrize("raw,kind,amount", [
    ("rounding", "rounding", 0), ("exact", "exact", 0), (0, "exact", 0), ("2%", "relative", F(1, 50)),
    (0.02, "relative", F(1, 50)), ({"relative": 0.05}, "relative", F(1, 20)),
    ({"absolute": 1000}, "absolute", 1000)])
def test_tolerances(raw, kind, amount):
    t = parse_tolerance(raw)
    assert t.kind == kind and t.amount == amount


@pytest.mark.parametrize("raw", ["loose", "120%", -0.1, 1.5, {"relative": -1}, {"within": 3}, True, None, [1]])
def test_bad_tolerances(raw):
    with pytest.raises(SpecError):
        parse_tolerance(raw)


def test_explicit_tolerances():
    assert judged("12M", 12_443_648, parse_tolerance("5%")).right
    assert not judged("12M", 12_443_648, parse_tolerance("3%")).right
    assert judged("12,443,000", 12_443_648, parse_tolerance({"absolute": 1000})).right
    assert not judged("12.4M", 12_443_648, parse_tolerance("exact")).right


def test_shapes_layout_and_batch():
    chw = (96, 55, 55)
    assert judge_shape(parse_answer("(96, 55, 55)"), chw).right
    assert judge_shape(parse_answer("[1, 96, 55, 55]"), chw).right
    assert judge_shape(parse_answer("[8, 96, 55, 55]"), chw, batch=8).right
    assert not judge_shape(parse_answer("[8, 96, 55, 55]"), chw).right
    assert not judge_shape(parse_answer("55x55x96"), chw).right
    assert judge_shape(parse_answer("55x55x96"), chw, layout="hwc").right
    assert judge_shape(parse_answer("(None, 55, 55, 96)"), chw, layout="hwc").right
    assert judge_shape(parse_answer("55x55x96 HWC"), chw).right  # the student's own layout wins
    v = judge_shape(parse_answer("96x55"), chw)
    assert not v.right and "2 dimensions" in v.message


def test_yaml_numbers_keep_the_precision_written(tmp_path):
    """YAML reads 1.2e8 and 1.20e8 as the same float; the checker reads the digits from the file."""
    from archcost.homework import check_file

    conv = "conv2d: {in: [192, 28, 28], out_channels: 32, kernel_size: 5, padding: 2}"
    p = tmp_path / "a.yaml"
    p.write_text("questions:\n"
                 f"  - {{{conv}, quantity: macs, answer: 1.2e8}}\n"
                 f"  - {conv}\n    quantity: macs\n    answer: 1.20e8   # three figures\n"
                 f"  - {{{conv}, quantity: macs, answer: 1.2042e8}}\n"
                 f"  - {{{conv}, quantity: macs, answer: 120422400}}\n")
    rs = check_file(str(p)).results
    assert [r.status for r in rs] == ["right", "right", "right", "right"]
    assert "2 significant figures" in rs[0].verdict.message and "3 significant figures" in rs[1].verdict.message
    assert "5 significant figures" in rs[2].verdict.message and rs[3].verdict.message == "exactly right"
