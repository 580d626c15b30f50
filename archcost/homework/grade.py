"""Is an answer right?  The rounding-aware default tolerance, explicit tolerances, and the verdict text.

The default rule (``tolerance: rounding``): an answer is right when the true value rounds to it at
the precision the student wrote — ``12.4M`` for 12,443,648 is right (12.4M covers 12,350,000 to
12,450,000), ``12M`` is right, ``13M`` is not.  Boundaries count as right (either way of breaking a
tie).  A fraction ``p/q`` is right when it is the closest fraction with a denominator up to ``q``;
a sum of fractions (``1/5 + 1/9``) and a shape must be exact.

An approximate marker (``about``, ``~``, ``≈``, ``roughly``) makes a whole number's trailing zeros
not significant (see :mod:`.parse`): ``about 60,000`` covers 55,000 to 65,000 and is right for
60,840, where a bare ``60,000`` is an exact claim and wrong.

A direction word (``9x fewer``) is graded as the digits written against the reciprocal: ``9x fewer``
for 0.1084 compares 9 with 1 / 0.1084 = 9.22 at the precision of the 9 (right).  A comparison
(``< 1``, ``≤ 2x``, ``fewer``) is right when the true value satisfies it, exactly.

Other tolerances: ``exact`` (or ``0``), a relative one (``2%``, ``0.02``, ``{relative: 0.02}``) and an
absolute one (``{absolute: 1000}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError, short_repr
from ..ops.base import fmt_shape
from .parse import Answer, _plain, bounded_number


@dataclass(frozen=True)
class Tolerance:
    kind: str = "rounding"  # rounding | exact | relative | absolute
    amount: Fraction = Fraction(0)

    def text(self) -> str:
        if self.kind == "relative":
            return f"within {_plain(self.amount * 100)}%"
        if self.kind == "absolute":
            return f"within ±{_plain(self.amount)}"
        return {"rounding": "rounded to the precision written", "exact": "exact"}[self.kind]


ROUNDING = Tolerance()


def parse_tolerance(value) -> Tolerance:
    """``rounding`` | ``exact`` | 0 | ``2%`` | 0.02 | ``{relative: 0.02}`` | ``{absolute: 1000}``."""
    fix = "write `tolerance: rounding` (the default), `exact`, `2%`, `0.02` or `{absolute: 1000}`."
    try:  # before Fraction(): `1e99999999%` would take minutes, `.inf` and `1e400` would raise
        bounded_number(next(iter(value.values())) if isinstance(value, dict) and len(value) == 1 else value,
                       "tolerance")
    except SpecError as e:
        raise SpecError(e.message, fix=fix) from None
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("rounding", "round", "default"):
            return ROUNDING
        if v in ("exact", "0", "0%"):
            return Tolerance("exact")
        if v.endswith("%"):
            try:
                amount = Fraction(v[:-1].strip()) / 100
            except (ValueError, ZeroDivisionError):
                raise SpecError(f"tolerance {short_repr(value)} is not a percentage", fix=fix) from None
            return _relative(amount, value, fix)
        raise SpecError(f"unknown tolerance {short_repr(value)}", fix=fix)
    if isinstance(value, bool) or value is None:
        raise SpecError(f"tolerance {short_repr(value)} is not a tolerance", fix=fix)
    if isinstance(value, (int, float)):
        if value == 0:
            return Tolerance("exact")
        return _relative(Fraction(str(value)), value, fix)
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        if k in ("relative", "absolute") and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
            amount = Fraction(str(v))
            if k == "relative":
                return _relative(amount, value, fix)
            return Tolerance("absolute", amount) if amount else Tolerance("exact")
    raise SpecError(f"tolerance {short_repr(value)} is not a tolerance", fix=fix)


def _relative(amount: Fraction, raw, fix) -> Tolerance:
    if amount < 0 or amount >= 1:
        raise SpecError(f"relative tolerance {short_repr(raw)} must be at least 0 and below 100%", fix=fix)
    return Tolerance("relative", amount) if amount else Tolerance("exact")


@dataclass(frozen=True)
class Verdict:
    right: bool
    message: str


def in_unit(value, answer: Answer | None) -> str:
    """``value`` written the way the student wrote theirs: 12,443,648 as ``12.4M`` next to ``12.4M``."""
    value = Fraction(value)
    if answer is None or answer.kind != "number" or answer.inverse or _lost(value, answer):
        return _plain(value) if value.denominator == 1 else f"{float(value):.4g}"
    v = value / answer.scale
    step = answer.step / answer.scale if answer.step else None
    if step is not None and step > 0:
        rounded = round(v / step) * step
        decimals = 0
        while (step * 10 ** decimals).denominator != 1 and decimals < 12:
            decimals += 1
        body = f"{float(rounded):,.{decimals}f}" if decimals else f"{int(rounded):,}"
    else:
        body = f"{float(v):.4g}"
    unit = answer.unit
    if unit in ("B", "kB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"):
        return f"{body} {unit}"
    return body + unit


def _interval(answer: Answer) -> tuple:
    half = answer.step / 2
    return answer.value - half, answer.value + half


def _show(x: Fraction, answer: Answer) -> str:
    """An interval end in the answer's own unit (``12.35M``, ``10.5%``, ``57.5 MiB``)."""
    v = x / answer.scale
    body = _plain(v) if (v * 10 ** 6).denominator == 1 else f"{float(v):.6g}"
    unit = answer.unit
    if unit in ("B", "kB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"):
        return f"{body} {unit}"
    if body.replace(",", "").isdigit() and not unit:
        return body
    return body + unit


CMP_TEXT = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def judge_comparison(answer: Answer, true) -> Verdict:
    """``< 1``, ``≤ 2x``, ``fewer``: right when the true value satisfies the comparison (exactly)."""
    true, bound, op = Fraction(true), answer.value, answer.compare
    ok = {"<": true < bound, "<=": true <= bound, ">": true > bound, ">=": true >= bound}[op]
    shown = human(true, ratio=answer.unit == "x" or bound == 1 and answer.bound is None)
    claim = f"{CMP_TEXT[op]} {answer.bound.raw if answer.bound is not None else '1'}"
    if ok:
        return Verdict(True, f"right: the true value {shown} is {claim}")
    return Verdict(False, f"the true value {shown} is not {claim}")


def human(value, *, ratio: bool = False) -> str:
    """A value for a reader, its scale picked from the value itself: ``10,080 (10.1K)``, ``0.108 (≈ 1/9.2)``;
    never ``0.0M`` or ``0x``."""
    v = Fraction(value)
    if v.denominator == 1:
        text = f"{v.numerator:,}"
        scaled = _scaled(v)
        return f"{text} ({scaled})" if scaled else text
    text = f"{float(v):.3g}" if abs(v) < 1000 else f"{float(v):,.0f}"
    if 0 < v < 1 and ratio:
        return f"{text} (≈ 1/{float(1 / v):.3g})"
    return text


def _scaled(v: Fraction) -> str:
    for power, name in ((12, "T"), (9, "G"), (6, "M"), (3, "K")):
        if abs(v) >= 10 ** power:
            return f"{float(v) / 10 ** power:.3g}{name}"
    return ""


def judge_number(answer: Answer, true, tol: Tolerance = ROUNDING) -> Verdict:
    """Compare a read answer (number, fraction or expression) with the exact true value."""
    true = Fraction(true)
    if answer.kind == "comparison":
        return judge_comparison(answer, true)
    if answer.inverse:  # "9x fewer": the 9 written against 1 / the true value
        if true <= 0:
            return Verdict(False, f"{answer.raw} means 1/{_plain(1 / answer.value)} of it, but the true value is "
                                  f"{human(true)}")
        v = judge_number(answer.written(), 1 / true, tol)
        return Verdict(v.right, f"{answer.raw} means 1/{_plain(1 / answer.value)} = {float(answer.value):.3g}; the true "
                                f"value {human(true, ratio=True)} is 1/{float(1 / true):.3g}: {v.message}")
    a = answer.value
    if tol.kind == "exact" or answer.kind == "expression" or (tol.kind == "rounding" and answer.step is None
                                                                and answer.kind == "number"):
        ok = a == true
        return Verdict(ok, "exactly right" if ok else f"{answer.raw} is not exactly {_exact(true)}")
    if tol.kind == "relative":
        off = abs(a - true) / abs(true) if true else abs(a)
        ok = off <= tol.amount
        return Verdict(ok, f"{'within' if ok else 'outside'} the {_plain(tol.amount * 100)}% tolerance "
                           f"(off by {float(off * 100):.3g}%)")
    if tol.kind == "absolute":
        off = abs(a - true)
        ok = off <= tol.amount
        return Verdict(ok, f"{'within' if ok else 'outside'} the ±{_plain(tol.amount)} tolerance (off by {_plain(off)})")
    if answer.kind == "fraction":
        q = answer.value.denominator
        best = true.limit_denominator(q)
        ok = abs(true - a) <= abs(true - best)
        if ok:
            return Verdict(True, f"right: {answer.raw} is the closest fraction with a denominator up to {q} "
                                 f"to {float(true):.4g}")
        return Verdict(False, f"the closest fraction with a denominator up to {q} to {float(true):.4g} is "
                              f"{best.numerator}/{best.denominator}, not {answer.raw}")
    if answer.step == 1 and answer.scale == 1 and a.denominator == 1 and not answer.unit:
        ok = a == true  # a whole number written out: exact
        return Verdict(ok, "exactly right" if ok else f"{answer.raw} is not {_exact(true)}")
    lo, hi = _interval(answer)
    ok = lo <= true <= hi
    covers = f"{answer.raw} covers {_show(lo, answer)} to {_show(hi, answer)}"
    if ok:
        exact = " (exactly)" if a == true else ""
        return Verdict(True, f"right to {answer.precision_text()}{exact}: {covers}")
    shown = in_unit(true, answer)
    if _lost(true, answer):
        shown = human(true, ratio=answer.unit == "x")
    return Verdict(False, f"{covers}; at that precision the true value is {shown}")


def _lost(value, answer: Answer) -> bool:
    """Would ``value`` written in the answer's unit and precision lose all its digits (``0M``, ``0x``)?"""
    value = Fraction(value)
    if value == 0 or answer.kind != "number":
        return False
    step = answer.step / answer.scale if answer.step else None
    v = value / answer.scale
    return step is not None and round(v / step) == 0


def _exact(x: Fraction) -> str:
    return f"{x.numerator:,}" if x.denominator == 1 else f"{x.numerator}/{x.denominator} = {float(x):.6g}"


def judge_shape(answer: Answer, expected: tuple, *, layout: str = "chw", batch: int = 1) -> Verdict:
    """Compare a shape answer with the true shape (channels first, no batch).

    A leading batch dimension (``None``, or equal to the batch) may be written; ``layout: hwc``
    (or the student's own ``HWC``) reads a 3-D answer as H×W×C.
    """
    dims, note = normalise_shape(answer, expected, layout=layout, batch=batch)
    if dims is None:
        return Verdict(False, note)
    ok = tuple(dims) == tuple(expected)
    lay = answer.layout or layout
    name = " (H×W×C)" if lay == "hwc" and len(expected) == 3 else " (C×H×W)" if len(expected) == 3 else ""
    text = "exactly right" + name if ok else f"{shape_in(dims, lay)} is not {shape_in(expected, lay)}{name}"
    return Verdict(ok, text + (f"; {note}" if note else ""))


def judge_answer(kind: str, answer: Answer, value, *, tolerance: Tolerance = ROUNDING, layout: str = "chw",
                 batch: int = 1) -> Verdict | None:
    """The verdict on ``answer`` if the true value of a quantity of ``kind`` (``shape``, ``spatial``,
    else a number) were ``value``; None when the answer is the wrong kind for it (a number for a
    shape, a shape for a number).  The checker grades with it and the diagnoses try alternatives with it."""
    return _JUDGES.get(kind, _judge_as_number)(answer, value, tolerance, layout, batch)


def _judge_as_shape(answer: Answer, value, tolerance, layout, batch) -> Verdict | None:
    """A shape.  A single number or a 1-D shape (``1024``, ``(1024)``) against a C×1×1 output (after a
    global pooling) is accepted with a note: the tensor holds the same C values, the 1×1 spatial
    dimensions carry nothing, and Keras' ``GlobalAveragePooling2D`` and torch's ``flatten`` print it
    as ``(None, 1024)`` / ``(1024,)`` — a student who writes 1024 means the channel count, not another
    tensor.  A 1-D answer against an output with a spatial size above 1 is still wrong."""
    dims = None
    if answer.kind == "number" and answer.value.denominator == 1 and not answer.unit and not answer.inverse:
        dims = (answer.value.numerator,)
    elif answer.kind == "shape" and len(answer.value) == 1 and answer.value[0] is not None:
        dims = answer.value
    if dims is not None and len(value) == 1:
        ok = dims[0] == value[0]
        return Verdict(ok, "exactly right" if ok else f"{answer.raw} is not {value[0]}")
    if dims is not None and len(value) > 1 and all(d == 1 for d in value[1:]):
        ok = dims[0] == value[0]
        singles = "×".join("1" for _ in value[1:])
        if ok:
            return Verdict(True, f"right: read as {fmt_shape(value)} (the {singles} spatial dimensions left out)")
        return Verdict(False, f"{answer.raw} is not {value[0]} channels (the output is {fmt_shape(value)})")
    if answer.kind != "shape":
        return None
    return judge_shape(answer, value, layout=layout, batch=batch)


def _judge_as_spatial(answer: Answer, value, tolerance, layout, batch) -> Verdict | None:
    """One size per spatial dimension: a shape, or one whole number meaning the same in every dimension."""
    if answer.kind == "shape":
        dims = answer.value
    elif answer.kind == "number" and answer.value.denominator == 1:
        dims = (answer.value,) * len(value)
    else:
        return None
    ok = tuple(dims) == tuple(value)
    return Verdict(ok, "exactly right" if ok else f"{'×'.join(str(int(d)) for d in dims)} is not {fmt_shape(value)}")


def _judge_as_number(answer: Answer, value, tolerance, layout, batch) -> Verdict | None:
    return None if answer.kind == "shape" else judge_number(answer, value, tolerance)


def _judge_as_list(answer: Answer, value, tolerance, layout, batch) -> Verdict | None:
    """A list of whole numbers (per-stage filters ``[64, 128, 256, 512, 512]``), compared exactly, in order."""
    if answer.kind != "shape" or None in answer.value:
        return None
    got, want = tuple(answer.value), tuple(value)
    if got == want:
        return Verdict(True, "exactly right")
    if len(got) != len(want):
        return Verdict(False, f"{len(got)} values given; there are {len(want)}: {list(want)}")
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    return Verdict(False, f"{list(got)} is not {list(want)} (item {', '.join(str(i + 1) for i in bad)} differs)")


_JUDGES = {"shape": _judge_as_shape, "spatial": _judge_as_spatial, "list": _judge_as_list}


def shape_in(shape, layout: str) -> str:
    """A channels-first shape written in ``layout`` (3-D shapes only are reordered)."""
    shape = tuple(shape)
    if layout == "hwc" and len(shape) == 3:
        shape = (shape[1], shape[2], shape[0])
    return fmt_shape(shape)


def normalise_shape(answer: Answer, expected: tuple, *, layout: str = "chw", batch: int = 1):
    """(dims channels-first without batch, note) or (None, why it cannot be compared)."""
    dims = list(answer.value)
    note = []
    if len(dims) == len(expected) + 1 and (dims[0] is None or dims[0] == batch):
        dims = dims[1:]
        note.append("leading batch dimension dropped")
    if None in dims:
        return None, f"{answer.raw} has a batch placeholder but {len(dims)} dimensions"
    lay = answer.layout or layout
    if len(dims) == len(expected) == 3 and lay == "hwc":
        dims = [dims[2], dims[0], dims[1]]
        if answer.layout:
            note.append("read as H×W×C, as you wrote")
    if len(dims) != len(expected):
        return None, f"{answer.raw} has {len(dims)} dimensions; the output has {len(expected)} ({fmt_shape(expected)})"
    return tuple(dims), ", ".join(note)


