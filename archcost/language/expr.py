"""A small, safe arithmetic expression language for spec values.

Spec values such as ``(k - 1) // 2`` or ``make_divisible(32 * width, 8)`` are
parsed by this module's own tokenizer and Pratt parser and evaluated over a
dict of names.  There is no ``eval``/``exec`` and no attribute access, so a
spec can never run code.  ``in`` is an ordinary name here (the incoming channel
count inside a block), which is one reason Python's parser is not used.

Grammar (lowest to highest precedence)::

    expr   := cond
    cond   := or ('if' or 'else' cond)?
    or     := and ('or' and)*
    and    := not ('and' not)*
    not    := 'not' not | cmp
    cmp    := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?
    sum    := prod (('+'|'-') prod)*
    prod   := unary (('*'|'/'|'//'|'%') unary)*
    unary  := ('-'|'+') unary | power
    power  := atom ('**' unary)?
    atom   := NUMBER | STRING | NAME | NAME '(' args ')' | '(' expr ')'
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from ..errors import SpecError, short_repr

MAX_EXPR_CHARS = 500
MAX_ABS_VALUE = 10**15
MAX_NESTING = 32  # brackets; the parser is recursive


class ExprError(SpecError):
    pass


COMMA_HINT = ("close every bracket. If the value sits inside a one-line YAML mapping `{...}`, YAML cut it at "
              "the comma: quote the whole expression, e.g. `{out: \"make_divisible(32 * width, 8)\"}`.")


def make_divisible(value, divisor=8, min_value=None):
    """torchvision/TF `_make_divisible`: round to a multiple of divisor, never down by >10%."""
    if not divisor > 0:
        raise ValueError(f"the divisor must be positive, got {divisor!r}")
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * value:
        new_v += divisor
    return int(new_v)


def _round_half_up(x, ndigits=None):
    # Python's round() is banker's rounding; papers (and timm's round_channels) mean half-up.
    if ndigits is not None and not (isinstance(ndigits, int) and -20 <= ndigits <= 20):
        raise ValueError(f"ndigits must be an integer from -20 to 20, got {ndigits!r}")
    if ndigits is None:
        return int(math.floor(x + 0.5))
    q = 10**ndigits
    return math.floor(x * q + 0.5) / q


FUNCTIONS = {
    "make_divisible": make_divisible,
    "round": _round_half_up,
    "ceil": lambda x: int(math.ceil(x)),
    "floor": lambda x: int(math.floor(x)),
    "int": int,
    "float": float,
    "min": min,
    "max": max,
    "abs": abs,
    "sqrt": math.sqrt,
}
CONSTANTS = {"true": True, "false": False, "True": True, "False": False, "none": None, "None": None}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%()<>,]))"
)
_KEYWORDS = {"if", "else", "and", "or", "not"}


def _tokenize(text: str):
    pos = 0
    depth = 0
    out = []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot read expression {text!r} at character {pos + 1} ({text[pos:pos + 10]!r})",
                            fix="use numbers, names, + - * / // % **, comparisons, `a if cond else b` and functions "
                                + ", ".join(sorted(FUNCTIONS)) + ".")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "num":
            val = float(val) if any(c in val for c in ".eE") else int(val)
        elif kind == "str":
            val = val[1:-1]
        elif kind == "name" and val in _KEYWORDS:
            kind = "op"
        elif kind == "op" and val == "(":
            depth += 1
            if depth > MAX_NESTING:
                raise ExprError(f"expression {text[:40]!r}... nests brackets more than {MAX_NESTING} deep",
                                fix="split it into named parameters.")
        elif kind == "op" and val == ")":
            depth -= 1
        out.append((kind, val))
    out.append(("end", None))
    return out


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i]

    def take(self, val=None):
        tok = self.toks[self.i]
        if val is not None and tok != ("op", val):
            got = "end of expression" if tok[0] == "end" else repr(tok[1])
            fix = "check brackets and operators."
            if val == ")" and tok[0] == "end":
                fix = COMMA_HINT
            raise ExprError(f"in expression {self.text!r}: expected {val!r} but found {got}", fix=fix)
        self.i += 1
        return tok

    def is_op(self, *vals):
        k, v = self.peek()
        return k == "op" and v in vals

    def parse(self):
        node = self.cond()
        if self.peek()[0] != "end":
            raise ExprError(f"in expression {self.text!r}: unexpected {self.peek()[1]!r}",
                            fix="check for a missing operator between two values.")
        return node

    def cond(self):
        node = self.or_()
        if self.is_op("if"):
            self.take()
            test = self.or_()
            self.take("else")
            other = self.cond()
            return ("ifelse", test, node, other)
        return node

    def or_(self):
        node = self.and_()
        while self.is_op("or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.not_()
        while self.is_op("and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self):
        if self.is_op("not"):
            self.take()
            return ("not", self.not_())
        return self.cmp()

    def cmp(self):
        node = self.sum()
        if self.is_op("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            node = ("bin", op, node, self.sum())
        return node

    def sum(self):
        node = self.prod()
        while self.is_op("+", "-"):
            op = self.take()[1]
            node = ("bin", op, node, self.prod())
        return node

    def prod(self):
        node = self.unary()
        while self.is_op("*", "/", "//", "%"):
            op = self.take()[1]
            node = ("bin", op, node, self.unary())
        return node

    def unary(self):
        if self.is_op("-", "+"):
            op = self.take()[1]
            return ("neg", self.unary()) if op == "-" else self.unary()
        return self.power()

    def power(self):
        node = self.atom()
        if self.is_op("**"):
            self.take()
            node = ("bin", "**", node, self.unary())
        return node

    def atom(self):
        kind, val = self.take()
        if kind in ("num", "str"):
            return ("const", val)
        if kind == "name":
            if self.is_op("("):
                self.take()
                args = []
                if not self.is_op(")"):
                    args.append(self.cond())
                    while self.is_op(","):
                        self.take()
                        args.append(self.cond())
                self.take(")")
                if val not in FUNCTIONS:
                    raise ExprError(f"unknown function {val!r} in expression {self.text!r}",
                                    fix="available functions: " + ", ".join(sorted(FUNCTIONS)) + ".")
                return ("call", val, tuple(args))
            if val in CONSTANTS:
                return ("const", CONSTANTS[val])
            return ("name", val)
        if (kind, val) == ("op", "("):
            node = self.cond()
            self.take(")")
            return node
        got = "end of expression" if kind == "end" else repr(val)
        raise ExprError(f"in expression {self.text!r}: expected a value but found {got}",
                        fix="check for a missing number or name.")


@lru_cache(maxsize=4096)
def parse(text: str):
    """Parse an expression to a tree of tuples (cached)."""
    if len(text) > MAX_EXPR_CHARS:
        raise ExprError(f"expression longer than {MAX_EXPR_CHARS} characters",
                        fix="split it into named parameters.")
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise ExprError(f"expression {text[:40]!r}... is nested too deeply", fix="split it into named parameters.") from None


def _check(v, text):
    if isinstance(v, complex):
        raise ExprError(f"expression {text!r} gives a complex number", fix="check powers of negative numbers.")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            raise ExprError(f"expression {text!r} is not a finite number", fix="check divisions and powers.")
        if abs(v) > MAX_ABS_VALUE:
            raise ExprError(f"expression {text!r} gives {v:.3g}, larger than {MAX_ABS_VALUE:.0e}",
                            fix="check the arithmetic; sizes this large cannot be a real layer.")
    return v


def _ev(node, scope, text):
    tag = node[0]
    if tag == "const":
        return node[1]
    if tag == "name":
        try:
            return scope[node[1]]
        except KeyError:
            names = ", ".join(sorted(k for k in scope if not k.startswith("_"))) or "none"
            raise ExprError(f"unknown name {node[1]!r} in expression {text!r}",
                            fix=f"names available here: {names}.") from None
    if tag == "bin":
        op = node[1]
        a = _ev(node[2], scope, text)
        b = _ev(node[3], scope, text)
        if op in _ARITH and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            # no sequence arithmetic: `'ab' * 10**12` or `[..] * n` would exhaust memory
            raise ExprError(f"cannot apply {op!r} to {_short(a)} and {_short(b)} in expression {text!r}",
                            fix="arithmetic needs numbers on both sides.")
        try:
            if op == "+":
                r = a + b
            elif op == "-":
                r = a - b
            elif op == "*":
                r = a * b
            elif op == "/":
                r = a / b
            elif op == "//":
                r = a // b
            elif op == "%":
                r = a % b
            elif op == "**":
                if abs(b) > 64 or abs(a) > MAX_ABS_VALUE:
                    raise ExprError(f"power too large in expression {text!r}", fix="use a smaller exponent.")
                r = a**b
            elif op == "==":
                r = a == b
            elif op == "!=":
                r = a != b
            elif op == "<":
                r = a < b
            elif op == "<=":
                r = a <= b
            elif op == ">":
                r = a > b
            else:
                r = a >= b
        except ZeroDivisionError:
            raise ExprError(f"division by zero in expression {text!r}", fix="check the divisor.") from None
        except OverflowError:
            raise ExprError(f"number too large in expression {text!r}",
                            fix="check the arithmetic; sizes this large cannot be a real layer.") from None
        except TypeError:
            raise ExprError(f"cannot apply {op!r} to {_short(a)} and {_short(b)} in expression {text!r}",
                            fix="use numbers on both sides.") from None
        return _check(r, text)
    if tag == "neg":
        v = _ev(node[1], scope, text)
        if not isinstance(v, (int, float)):
            raise ExprError(f"cannot negate {_short(v)} in expression {text!r}", fix="use a number.")
        return -v
    if tag == "not":
        return not _ev(node[1], scope, text)
    if tag == "and":
        return _ev(node[1], scope, text) and _ev(node[2], scope, text)
    if tag == "or":
        return _ev(node[1], scope, text) or _ev(node[2], scope, text)
    if tag == "ifelse":
        return _ev(node[2], scope, text) if _ev(node[1], scope, text) else _ev(node[3], scope, text)
    if tag == "call":
        args = [_ev(a, scope, text) for a in node[2]]
        try:
            return _check(FUNCTIONS[node[1]](*args), text)
        except (TypeError, ValueError, ArithmeticError) as err:
            raise ExprError(f"{node[1]}() failed in expression {text!r}: {str(err)[:200]}",
                            fix="check the number and type of the arguments.") from None
    raise AssertionError(tag)


def evaluate(text: str, scope: dict):
    """Evaluate an expression string over ``scope``; raise ExprError (a SpecError)."""
    try:
        return _ev(parse(text), scope, text)
    except RecursionError:
        raise ExprError(f"expression {text[:40]!r}... is nested too deeply", fix="split it into named parameters.") from None


_ARITH = {"+", "-", "*", "/", "//", "%", "**"}


def _short(v) -> str:
    """repr() cut to a readable length, safe on huge or self-referencing YAML values."""
    return short_repr(v)


def names_in(text: str) -> set[str]:
    """The free names an expression refers to."""
    out: set[str] = set()

    def walk(n):
        if n[0] == "name":
            out.add(n[1])
        elif n[0] == "call":
            for a in n[2]:
                walk(a)
        else:
            for child in n[1:]:
                if isinstance(child, tuple):
                    walk(child)

    walk(parse(text))
    return out
