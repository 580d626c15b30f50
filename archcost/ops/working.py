"""The working behind a number: the formula with the numbers substituted.

Each op's ``explain`` hook (next to its ``shape``, ``params`` and ``costs`` code) returns
:class:`Working` values; blocks and models sum their parts.  A working is a chain of equal
expressions ("sides") ending in the value, for example::

    5·5·192 multiplies per output × 28·28·32 outputs = 4,800 × 25,088 = 120,422,400 MACs

Sides may carry words (labels) and parenthesised remarks that start with a letter
(``(float32)``); :func:`verify` strips them and evaluates every side with
exact rational arithmetic, so a test can assert that each side equals the value the op's
cost code computed — the explanation and the number cannot drift apart.

Notation: ``·`` and ``×`` multiply, ``/`` divides exactly, ``⌊x⌋`` / ``⌈x⌉`` round down / up,
``−`` subtracts, numbers may have thousands separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any

from .base import fmt_shape


def num(x) -> str:
    """An integer with thousands separators; a Fraction as an integer or a short decimal."""
    if isinstance(x, Fraction):
        if x.denominator == 1:
            x = x.numerator
        else:
            return dec(x)
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if isinstance(x, int):
        return f"{x:,}"
    return dec(x)


def dec(x, digits: int = 4) -> str:
    """A non-integer as a decimal with ``digits`` significant figures (never scientific)."""
    v = float(x)
    if v == 0:
        return "0"
    text = f"{v:.{digits}g}"
    if "e" in text:
        text = f"{v:.{max(digits, 12)}f}".rstrip("0").rstrip(".")
    return text


def dot(*factors) -> str:
    """Factors joined by a middle dot: ``dot(5, 5, 192) == '5·5·192'``."""
    return "·".join(num(f) if not isinstance(f, str) else f for f in factors)


def json_value(v):
    """A value for JSON: an exact integer as int, other Fractions as float, tuples as lists."""
    if isinstance(v, Fraction):
        return v.numerator if v.denominator == 1 else float(v)
    if isinstance(v, tuple):
        return [json_value(x) for x in v]
    return v


@dataclass(frozen=True)
class Working:
    """How one value was obtained.

    ``quantity``  what it is (``macs``, ``params``, ``output_shape``, ``H``, ...)
    ``value``     the number (int or Fraction) or, for a shape, a tuple
    ``sides``     equal expressions from the formula to the value (may carry words); a side that
                  starts with ``≈`` is the value rounded to the digits shown
    ``unit``      written after the last side (``MACs``, ``bytes``, ...)
    ``note``      one clause of explanation (the formula in words, a convention)
    ``parts``     sub-workings: one per dimension of a shape, per layer of a block
    ``label``     what this working is about (a layer id, ``H``)
    """

    quantity: str
    value: Any
    sides: tuple = ()
    unit: str = ""
    note: str = ""
    parts: tuple = ()
    label: str = ""

    def line(self) -> str:
        """One line: ``label: side = side = value unit  — note``."""
        if self.sides:
            eq = self.sides[0]
            for side in self.sides[1:]:  # a side starting with ≈ is a rounded value
                eq += f" ≈ {side[1:].lstrip()}" if side.startswith("≈") else f" = {side}"
        elif isinstance(self.value, tuple):
            eq = fmt_shape(self.value)
        else:
            eq = num(self.value)
        text = f"{self.label}: {eq}" if self.label else eq
        if self.unit:
            text += f" {self.unit}"
        if self.note:
            text += f"  — {self.note}"
        return text

    def lines(self, depth: int | None = None, indent: str = "  ", _level: int = 0) -> list:
        """This working and its parts, indented one step per level, down to ``depth`` levels below."""
        out = [indent * _level + self.line()]
        if self.parts and (depth is None or depth > 0):
            for p in self.parts:
                out += p.lines(None if depth is None else depth - 1, indent, _level + 1)
        elif self.parts:
            out[-1] += f"  [+{len(self.parts)} parts]"
        return out

    def text(self, depth: int | None = None) -> str:
        return "\n".join(self.lines(depth))

    def to_dict(self) -> dict:
        d = {"quantity": self.quantity, "label": self.label, "value": json_value(self.value), "text": self.line()}
        if self.parts:
            d["parts"] = [p.to_dict() for p in self.parts]
        return d


# ---------------------------------------------------------------------------- builders

def _dedupe(sides) -> tuple:
    out = []
    for s in sides:
        if not out or out[-1] != s:
            out.append(s)
    return tuple(out)


def product(quantity: str, groups, *, unit: str = "", note: str = "") -> Working:
    """The product of groups of factors, each group with a label::

        product("macs", [((5, 5, 192), "multiplies per output"), ((28, 28, 32), "outputs")], unit="MACs")
        → 5·5·192 multiplies per output × 28·28·32 outputs = 4,800 × 25,088 = 120,422,400 MACs
    """
    groups = [(tuple(fs), label) for fs, label in groups]
    value = prod(prod(fs) for fs, _ in groups)
    first = " × ".join(f"{dot(*fs)} {label}".rstrip() for fs, label in groups)
    middle = " × ".join(num(prod(fs)) for fs, _ in groups) if len(groups) > 1 else ""
    return Working(quantity, value, _dedupe([first, middle, num(value)] if middle else [first, num(value)]),
                   unit=unit, note=note)


def weights_and_bias(per_output: str, outputs: int, weight: int, bias: int, *, note_bias: str, note_plain: str,
                     extra: str = "") -> Working:
    """Params of a layer with a weight vector per output and an optional bias each:
    ``(11·11·3 + 1)·96 = 34,944`` or, without bias, ``11·11·3·96 = 34,848``."""
    if bias:
        sides, note = (f"({per_output} + 1)·{num(outputs)}", num(weight + bias)), note_bias
    else:
        sides, note = (f"{per_output}·{num(outputs)}", num(weight)), note_plain
    return Working("params", weight + bias, sides, note="; ".join(x for x in (note, extra) if x))


def elementwise(quantity: str, shape, per: int, what: str, *, unit: str = "", note: str = "") -> Working:
    """``elements × per``: e.g. ``64·112·112 elements × 2 per element = 1,605,632``."""
    if per == 1:
        return product(quantity, [(shape, "elements")], unit=unit, note=note or what)
    return product(quantity, [(shape, "elements"), ((per,), what)], unit=unit, note=note)


def total(quantity: str, parts, *, unit: str = "", note: str = "", label: str = "") -> Working:
    """The sum of sub-workings (a block's or model's working is the sum of its parts)."""
    parts = tuple(parts)
    value = sum(p.value for p in parts)
    terms = [num(p.value) for p in parts]
    sides = (" + ".join(terms), num(value)) if len(terms) > 1 else (num(value),)
    return Working(quantity, value, _dedupe(sides), unit=unit, note=note, parts=parts, label=label)


def scaled(w: Working, factor: int, what: str, *, quantity: str | None = None, unit: str | None = None,
           note: str = "") -> Working:
    """``w × factor`` (e.g. × 4 bytes, × 8 images), keeping ``w`` as the part."""
    value = w.value * factor
    sides = _dedupe([f"{num(w.value)} × {num(factor)} {what}".rstrip(), num(value)])
    return Working(quantity or w.quantity, value, sides, unit=w.unit if unit is None else unit, note=note,
                   parts=(w,), label=w.label)


# ---------------------------------------------------------------------------- verification

_ASIDE = re.compile(r"\([A-Za-z][^()]*\)")  # a parenthesised remark: "(float32)", "(batch)"
_WORDS = re.compile(r"[A-Za-z_'\"%:;?!]+[A-Za-z_'\"%:;?!\-]*")
_TOKEN = re.compile(r"\s*(?:(\d[\d,]*(?:\.\d+)?)|(.))")


class _Eval:
    """Exact evaluation of a side with words removed: + − · × / ⌊⌋ ⌈⌉ ( ) and numbers."""

    def __init__(self, text: str):
        text = _WORDS.sub(" ", _ASIDE.sub(" ", text)).replace("−", "-").replace("*", "·")
        self.toks = []
        for m in _TOKEN.finditer(text):
            if m.group(1):
                self.toks.append(Fraction(m.group(1).replace(",", "")))
            elif m.group(2) and not m.group(2).isspace():
                self.toks.append(m.group(2))
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def run(self) -> Fraction:
        v = self.expr()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return v

    def expr(self):
        v = self.term()
        while self.peek() in ("+", "-"):
            v = v + self.term() if self.take() == "+" else v - self.term()
        return v

    def term(self):
        v = self.atom()
        while self.peek() in ("·", "×", "/"):
            op = self.take()
            rhs = self.atom()
            v = v / rhs if op == "/" else v * rhs
        return v

    def atom(self):
        t = self.take()
        if isinstance(t, Fraction):
            return t
        if t == "-":
            return -self.atom()
        closing = {"(": ")", "⌊": "⌋", "⌈": "⌉"}.get(t)
        if closing is None:
            raise ValueError(f"unexpected {t!r}")
        v = self.expr()
        if self.take() != closing:
            raise ValueError(f"missing {closing}")
        if t == "⌊":
            return Fraction(v.numerator // v.denominator)
        if t == "⌈":
            return Fraction(-(-v.numerator // v.denominator))
        return v


def evaluate_side(text: str) -> Fraction:
    """The value of one side of a working (words ignored); ValueError if it is not arithmetic."""
    return _Eval(text).run()


def verify(w: Working) -> list:
    """Problems in a working tree: a side that does not evaluate to the value, or a sum whose
    parts do not add up.  Empty when every number shown is consistent."""
    problems = []
    if not isinstance(w.value, tuple):
        for side in w.sides:
            rounded = side.startswith("≈")
            try:
                v = evaluate_side(side[1:] if rounded else side)
            except (ValueError, ZeroDivisionError) as err:
                problems.append(f"{w.label or w.quantity}: side {side!r} is not arithmetic ({err})")
                continue
            if rounded:
                digits = side.split(".")[1] if "." in side else ""
                half = Fraction(1, 2 * 10 ** len(digits.strip()))
                if abs(v - Fraction(w.value)) > half:
                    problems.append(f"{w.label or w.quantity}: rounded side {side!r} is not {w.value}")
            elif v != w.value:
                problems.append(f"{w.label or w.quantity}: side {side!r} = {v}, not {w.value}")
    for p in w.parts:
        problems += verify(p)
    return problems


# ---------------------------------------------------------------------------- output sizes

def window_size(label: str, n: int, k: int, s: int, lo: int, hi: int, d: int, value: int, *,
                ceil: bool = False, last_in_padding: bool = False) -> Working:
    """One spatial output size of a sliding window (convolution, pooling), the course formula
    ``(n − k + 2p)/s + 1`` with the numbers substituted, rounded down (or up with ``ceil``).

    ``d`` > 1 uses the effective kernel ``d·(k − 1) + 1``; asymmetric padding shows ``lo + hi``;
    ``last_in_padding`` subtracts torch's ceil-mode correction (a last window starting in the padding).
    """
    eff = k if d == 1 else d * (k - 1) + 1
    eff_text = num(k) if d == 1 else f"({d}·({k} − 1) + 1)"
    pad_text = f"2·{lo}" if lo == hi else f"{lo} + {hi}"
    span = n - eff + lo + hi
    tail = " + 1 − 1" if last_in_padding else " + 1"
    inner = f"{num(n)} − {eff_text} + {pad_text}"
    if s == 1:
        sides = [f"{inner}{tail}", f"{num(span)}{tail}"]
    else:
        q = -(-span // s) if ceil else span // s
        if span % s == 0:
            sides = [f"({inner})/{s}{tail}", f"{num(span // s)}{tail}"]
        else:
            l, r = ("⌈", "⌉") if ceil else ("⌊", "⌋")
            sides = [f"{l}({inner})/{s}{r}{tail}", f"{l}{num(span)}/{s}{r}{tail}", f"{num(q)}{tail}"]
    note = ""
    if s > 1 and span % s:
        note = "rounded up (ceil_mode)" if ceil else "rounded down, as torch does"
    if last_in_padding:
        note = (note + "; " if note else "") + "minus one: the last window would start in the padding"
    return Working(label, value, _dedupe([*sides, num(value)]), note=note, label=label)


def shape_working(out, parts=(), note: str = "") -> Working:
    """An output shape: the shape itself, with one part per computed dimension."""
    return Working("output_shape", tuple(out), (fmt_shape(out),), note=note, parts=tuple(parts))


def same(label: str, value: int, note: str) -> Working:
    """A dimension taken over unchanged (or set directly), with the reason."""
    return Working(label, value, (num(value),), note=note, label=label)
