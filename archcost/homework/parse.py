"""Reading answers as people write them: ``120M``, ``1.2e8``, ``120,422,400``, ``12.4 million``,
``55x55x96``, ``(96, 55, 55)``, ``[1, 96, 55, 55]``, ``61 MB``, ``58 MiB``, ``10x``, ``1/9``, ``11%``.

:func:`parse_answer` returns an :class:`Answer`: the exact value (a ``Fraction``, or a tuple for a
shape) and the *precision the student wrote* — ``step``, the value of one unit in the last digit
written — which the grader uses for its rounding-aware tolerance.  Anything it cannot read raises
:class:`~archcost.errors.SpecError` (never another exception; a fuzz test holds it to that).

Rules (part of the answers-file contract, see the README):

* thousands separators are ``,`` ``_`` ``'`` (``34'944``), a space or a thin space, in groups of
  three; the decimal mark is ``.``, or a comma where it cannot be a thousands separator (one comma
  followed by other than three digits: ``1,2 M`` is 1.2 M; ``1,234`` stays 1234).
* scales: ``K``/``thousand`` 10³, ``M``/``million`` 10⁶, ``G``/``billion``/``bn`` 10⁹, ``T``/``trillion``
  10¹²; ``B`` is *billion* except for memory quantities, where it is bytes.
* memory: ``kB``/``KB``, ``MB``, ``GB``, ``TB`` are powers of 1000 (SI); ``KiB``, ``MiB``, ``GiB``,
  ``TiB`` powers of 1024; case does not matter, ``b`` never means bits.
* the precision is the last digit written, trailing zeros included: ``120M`` is 120 ± 0.5 million,
  ``120,000,000`` is exact, ``1.2e8`` is 1.2 ± 0.05 × 10⁸.
* ``10x``, ``x10``, ``10 times`` are ratios; ``11%`` is 0.11 ± 0.005; ``1/9`` is a fraction (right when
  it is the closest fraction with a denominator up to 9); ``1/5 + 1/9`` is an exact expression.
* direction words mean what they say: ``9x fewer``, ``9 times less``, ``10x cheaper``, ``x smaller``
  are the reciprocal (1/9, graded as 9 against 1 ÷ the true value, at the precision of the 9);
  ``3 times more``, ``3x larger`` are 3; ``half``, ``a third``, ``a quarter``, ``a tenth`` are the
  fractions 1/2, 1/3, 1/4, 1/10 (graded as those fractions); ``twice``/``double`` is 2x.
* comparisons (kind ``comparison``): ``< 1``, ``> 0.5``, ``≤ 2x``, ``>= 1/2``, ``less than half``,
  ``more than 10x``, ``at most 5%``, ``at least 2`` compare the true value with the bound, exactly;
  a bare ``fewer``, ``less``, ``smaller``, ``cheaper``, ``lower`` means ``< 1`` and ``more``,
  ``greater``, ``larger``, ``bigger``, ``higher``, ``more expensive`` means ``> 1`` — the ``of``
  side against the ``to`` side of a ratio (or part against whole of a fraction); a bare word
  answers only a ratio or fraction question.  (In YAML quote an answer that starts with ``>``.)
* a shape is ``55x55x96``, ``55×55×96`` or a bracketed list; ``None`` or ``?`` stands for the batch
  (Keras prints ``(None, 55, 55, 96)``); a trailing ``HWC``/``CHW`` (or ``(H, W, C)``) says its order.
* a leading ``~``, ``≈``, ``about``, ``approx.``, ``around`` or ``roughly`` marks an approximate
  answer: trailing zeros of a whole number are then not significant (``about 60,000`` is 6 × 10⁴,
  60,000 ± 5,000, so right for 60,840; ``about 120M`` is 120M ± 5M); without it ``60,000`` is exact.
  Digits after a decimal point always count (``~1.20M`` is 1.20M ± 5,000).  A unit word after the
  number (``MACs``, ``FLOPs``, ``params``, ``elements``, ``bytes``, ...) is kept for the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError, short_repr

MAX_TEXT = 200
MAX_EXPONENT = 30

SCALES = {"k": 3, "thousand": 3, "m": 6, "mil": 6, "mn": 6, "million": 6, "millions": 6, "g": 9, "bn": 9,
          "billion": 9, "billions": 9, "t": 12, "trillion": 12, "b": 9}
MEMORY = {"b": 0, "byte": 0, "bytes": 0, "kb": 1, "mb": 2, "gb": 3, "tb": 4, "kib": 1, "mib": 2, "gib": 3, "tib": 4,
          "kilobyte": 1, "kilobytes": 1, "megabyte": 2, "megabytes": 2, "gigabyte": 3, "gigabytes": 3,
          "terabyte": 4, "terabytes": 4, "kibibyte": 1, "kibibytes": 1, "mebibyte": 2, "mebibytes": 2,
          "gibibyte": 3, "gibibytes": 3, "tebibyte": 4, "tebibytes": 4}
MEMORY_NAMES = {(0, False): "B", (1, False): "kB", (2, False): "MB", (3, False): "GB", (4, False): "TB",
                (1, True): "KiB", (2, True): "MiB", (3, True): "GiB", (4, True): "TiB"}
WORDS = {"mac": "MACs", "macs": "MACs", "madds": "MACs", "mult-adds": "MACs", "multiply-adds": "MACs",
         "multiply-accumulates": "MACs", "mult-add": "MACs", "flop": "FLOPs", "flops": "FLOPs",
         "param": "params", "params": "params", "parameter": "params", "parameters": "params",
         "weights": "params", "element": "elements", "elements": "elements", "activations": "elements",
         "values": "elements", "numbers": "elements", "floats": "elements", "layers": "layers",
         "blocks": "blocks", "modules": "blocks", "pixels": "pixels", "px": "pixels"}
APPROX = re.compile(r"^(?:~|≈|about|approx\.?|approximately|around|roughly|circa|ca\.)\s*")
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPER_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_SEP = "[,_\u2009\u202f'’]"
NUMBER = re.compile(
    rf"(?P<sign>[+-])?(?P<int>\d{{1,3}}(?:{_SEP}\d{{3}})+|\d+)?(?:\.(?P<frac>\d+))?"
    r"(?:\s*(?:e|[x×*·]\s*10\s*(?:\^|\*\*))\s*(?P<exp>[+-]?\d+))?")
LAYOUT = re.compile(r"\(?\s*(?P<l>hwc|chw|h\s*[x×,]\s*w\s*[x×,]\s*c|c\s*[x×,]\s*h\s*[x×,]\s*w)\s*\)?$")


@dataclass(frozen=True)
class Answer:
    """A student's answer, read.

    ``kind``     ``number``, ``fraction`` (p/q), ``expression`` (fractions added), or ``shape``
    ``value``    the exact value: a Fraction (bytes for memory answers, 0.11 for ``11%``), or a
                 tuple of ints for a shape (``None`` where a batch placeholder was written)
    ``step``     the value of one unit in the last digit written (``12.4M`` → 100,000); None = exact
    ``digits``   significant figures written (numbers only)
    ``unit``     the scale or unit as normalised (``M``, ``MiB``, ``%``, ``x``, ``GMACs``) or ``""``
    ``word``     a quantity word written after the number (``MACs``, ``FLOPs``, ``params``, ``bytes``...)
    ``memory``   for byte units: (power, binary) — ``MB`` is (2, False), ``MiB`` (2, True)
    ``layout``   for shapes: ``hwc``/``chw`` when the student wrote it
    """

    raw: str
    kind: str
    value: object
    step: Fraction | None = None
    digits: int = 0
    unit: str = ""
    word: str = ""
    memory: tuple | None = None
    layout: str | None = None
    approx: bool = False
    scale: Fraction = Fraction(1)  # what one unit written is worth: 10**6 for M, 2**20 for MiB, 1/100 for %
    inverse: bool = False  # a direction word (``9x fewer``): ``value`` is 1/9, the digits written are the 9
    compare: str | None = None  # comparisons: ``<``, ``<=``, ``>``, ``>=`` against ``value`` (the bound)
    bound: "Answer | None" = None  # comparisons: the bound as written (``2x`` in ``≤ 2x``); None for a bare word

    def written(self) -> "Answer":
        """A direction-word answer as its digits were written (``9x fewer`` → ``9x``), to judge against
        the reciprocal of the true value."""
        if not self.inverse:
            return self
        return Answer(self.raw, self.kind, 1 / self.value, None if self.step is None else self.step, self.digits,
                      self.unit, self.word, self.memory, self.layout, self.approx, self.scale)

    def reinterpreted(self, binary: bool) -> "Answer":
        """The same digits read with the other kind of memory unit (``58 MB`` read as ``58 MiB``)."""
        power, was_binary = self.memory
        old = Fraction((1024 if was_binary else 1000) ** power)
        new = Fraction((1024 if binary else 1000) ** power)
        step = None if self.step is None else self.step / old * new
        return Answer(self.raw, self.kind, self.value / old * new, step, self.digits, MEMORY_NAMES[(power, binary)],
                      self.word, (power, binary), self.layout, self.approx, new)

    def precision_text(self) -> str:
        """``3 significant figures``, ``the nearest 1%``, ... (for verdicts)."""
        if self.kind == "fraction":
            return f"a fraction with denominator up to {self.value.denominator}"
        if self.kind == "comparison":
            return "exactly (a comparison)"
        if self.kind in ("expression", "shape") or self.step is None:
            return "exactly"
        if self.unit == "%":
            return f"the nearest {_plain(self.step * 100)}%"
        return f"the {self.digits} significant figure{'s' if self.digits != 1 else ''} given"


def _plain(x: Fraction) -> str:
    if x.denominator == 1:
        return f"{x.numerator:,}"
    text = f"{float(x):.12f}".rstrip("0").rstrip(".")
    return text


MAX_DIGITS = 100  # digits of a number written in a key (tolerance, points, ...), before any int/Fraction/float
MAX_EXP = 400  # and its decimal exponent: Fraction("1e99999999") would take minutes
_DIGIT_RUN = re.compile(r"[0-9_]+")
_EXP = re.compile(r"[eE]\s*([+-]?)\s*([0-9_]+)")


def bounded_number(value, what: str = "number"):
    """``value`` unchanged if it is a number of sane size, else a SpecError naming ``what``.

    Call before handing text or an int to ``Fraction``, ``int`` or ``float``: a finite float; an int
    of at most :data:`MAX_DIGITS` digits; text of ASCII digits only (no ①, ₂ or ٣), at most
    :data:`MAX_DIGITS` digits in all and a decimal exponent of at most :data:`MAX_EXP`.
    """
    fix = f"write a plain number of at most {MAX_DIGITS} digits, with an exponent of at most ±{MAX_EXP}."
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SpecError(f"{what} {short_repr(value)} is not a finite number", fix=fix)
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_DIGITS * 3.33:
            raise SpecError(f"{what} has more than {MAX_DIGITS} digits", fix=fix)
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 2 * MAX_DIGITS + 20:
            raise SpecError(f"{what} {short_repr(value, 40)} is too long", fix=fix)
        if any(c.isdigit() and not ("0" <= c <= "9") for c in text):
            raise SpecError(f"{what} {short_repr(value, 40)} has digits that are not 0-9", fix=fix)
        if any(c in text.lower() for c in ("nan", "inf")):
            raise SpecError(f"{what} {short_repr(value, 40)} is not a finite number", fix=fix)
        m = _EXP.search(text)
        if m:
            exp = m.group(2).replace("_", "").lstrip("0")
            if len(exp) > 4 or int(exp or "0") > MAX_EXP:
                raise SpecError(f"{what} {short_repr(value, 40)} has an exponent beyond ±{MAX_EXP}", fix=fix)
            text = text[:m.start()]
        if sum(len(r.replace("_", "")) for r in _DIGIT_RUN.findall(text)) > MAX_DIGITS:
            raise SpecError(f"{what} {short_repr(value, 40)} has more than {MAX_DIGITS} digits", fix=fix)
    return value


def _bad(raw, why: str = "") -> SpecError:
    return SpecError(f"cannot read the answer {short_repr(raw, 60)}" + (f": {why}" if why else ""),
                     fix="write a number (120M, 1.2e8, 120,422,400, 12.4 million, 61 MB, 58 MiB, 10x, 1/9, 11%) "
                         "or a shape (55x55x96, (96, 55, 55), [1, 96, 55, 55]).")


def parse_answer(value, *, memory: bool = False) -> Answer:
    """Read one answer (a YAML string, int, float or list).  ``memory``: the question asks for bytes
    (then a bare ``B`` means bytes, not billion).  Raises SpecError for anything it cannot read."""
    if isinstance(value, bool) or value is None:
        raise _bad(value, "expected a number or a shape")
    if isinstance(value, int):
        if abs(value) > 10 ** MAX_EXPONENT:
            raise _bad(value, "too large")
        return Answer(str(value), "number", Fraction(value), Fraction(1), _digits(str(abs(value)), ""))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _bad(value, "not a finite number")
        return parse_answer(repr(value), memory=memory)
    if isinstance(value, (list, tuple)):
        return _shape_from_list(value, value)
    if not isinstance(value, str):
        raise _bad(value, f"a {type(value).__name__} is not an answer")
    if len(value) > MAX_TEXT:
        raise _bad(value[:60] + "...", f"longer than {MAX_TEXT} characters")
    text = _SUPER_RUN.sub(lambda m: "^" + m.group().translate(SUPERSCRIPT), value)  # 10⁸ -> 10^8
    # a thin or no-break space between digit groups separates thousands (split() would eat it)
    text = re.sub(r"(?<=\d)[\u2009\u202f\u00a0](?=\d{3}(?!\d))", "_", text)
    text = " ".join(text.replace("−", "-").replace("\u00a0", " ").split())
    low = text.lower()
    approx = False
    m = APPROX.match(low)
    if m and m.end():
        approx = True
        low = low[m.end():]
    if not low:
        raise _bad(value, "it is empty")
    cmp = _comparison(value, low, memory)
    if cmp is not None:
        return cmp
    words = _words(value, low)
    if words is not None:
        return words
    low = _decimal_comma(low)
    shape = _shape(value, low)
    if shape is not None:
        return shape
    frac = _fraction(value, low)
    if frac is not None:
        return frac
    return _number(value, low, memory, approx)


# ---------------------------------------------------------------------------- comparisons and words

_CMP = re.compile(r"(<=|>=|≤|≥|⩽|⩾|<|>|(?:no|not)\s+more\s+than|(?:no|not)\s+less\s+than|at\s+most|at\s+least|"
                  r"(?:less|fewer|smaller|lower|cheaper)\s+than|(?:more|greater|larger|bigger|higher)\s+than|"
                  r"below|under|above|over)\s*")
_CMP_OP = {"<=": "<=", "≤": "<=", "⩽": "<=", ">=": ">=", "≥": ">=", "⩾": ">=", "<": "<", ">": ">",
           "at most": "<=", "at least": ">=", "no more than": "<=", "not more than": "<=", "no less than": ">=",
           "not less than": ">=", "below": "<", "under": "<", "above": ">", "over": ">"}
LESS_WORDS = ("fewer", "less", "smaller", "lower", "cheaper")
MORE_WORDS = ("more", "greater", "larger", "bigger", "higher", "more expensive", "costlier", "dearer")
# ``a tenth``: the fraction words people write for 1/n
FRACTION_WORDS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9, "tenth": 10, "hundredth": 100, "thousandth": 1000}
_FRACTION_WORD = re.compile(r"(?:(?:a|an|one)\s+)?(" + "|".join(FRACTION_WORDS) + r")(?:\s+(?:of\s+it|as\s+many|as\s+much))?")
_INVERSE_TAIL = re.compile(r"(?:x|×|times|-?fold)\s*(" + "|".join(LESS_WORDS) + r"|smaller)(?:\s+than)?")
_MORE_TAIL = re.compile(r"(?:x|×|times|-?fold)(?:\s*(?:more|larger|bigger|greater|higher|as\s+many|as\s+much|"
                        r"more\s+expensive|costlier)(?:\s+than)?)?")


def _comparison(raw, low: str, memory: bool):
    """``< 1``, ``≤ 2x``, ``more than half``; a bare ``fewer`` (< 1) or ``more`` (> 1)."""
    bare = re.fullmatch(r"(" + "|".join(MORE_WORDS + LESS_WORDS) + r")(?:\s+([a-z\-]+))?", low)
    if bare and (bare.group(2) is None or bare.group(2) in WORDS):
        op = "<" if bare.group(1) in LESS_WORDS else ">"
        return Answer(raw, "comparison", Fraction(1), compare=op, word=WORDS.get(bare.group(2) or "", ""))
    m = _CMP.match(low)
    if not m:
        return None
    op = m.group(1)
    op = _CMP_OP.get(re.sub(r"\s+", " ", op)) or ("<" if op.split()[0] in LESS_WORDS else ">")
    rest = low[m.end():].strip()
    if not rest:
        raise _bad(raw, "a comparison needs a bound, e.g. < 1 or more than 2x")
    inner = parse_answer(rest, memory=memory)
    if inner.kind not in ("number", "fraction"):
        raise _bad(raw, "compare with a number, e.g. < 1, ≤ 2x, > 0.5, less than half")
    return Answer(raw, "comparison", inner.value, unit=inner.unit, word=inner.word, memory=inner.memory,
                  scale=inner.scale, compare=op, bound=inner)


def _words(raw, low: str):
    """``half``, ``a tenth``, ``twice``: numbers written as words."""
    m = _FRACTION_WORD.fullmatch(low)
    if m:
        return Answer(raw, "fraction", Fraction(1, FRACTION_WORDS[m.group(1)]))
    if low in ("twice", "double", "twice as many", "twice as much", "two times"):
        return Answer(raw, "number", Fraction(2), Fraction(1), 1, "x")
    return None


def _decimal_comma(low: str) -> str:
    """``1,2 M`` → ``1.2 M``: one comma followed by other than three digits cannot separate thousands."""
    m = re.match(r"([+-]?\d+),(\d{1,2}|\d{4,})(?![\d,.])", low)
    if m and "," not in low[m.end():] and not re.match(r"\s*[x×*]\s*\d", low[m.end():]):
        return f"{m.group(1)}.{m.group(2)}{low[m.end():]}"
    return low


# ---------------------------------------------------------------------------- shapes

def _dim(raw, item: str):
    item = item.strip()
    if item in ("none", "?", "n", "b", "batch"):
        return None
    if not (item.isascii() and item.isdecimal()) or len(item) > 12:  # isdigit() is true for ①, ₂, ❶
        raise _bad(raw, f"{short_repr(item, 20)} is not a dimension")
    v = int(item)
    if v < 1:
        raise _bad(raw, "a dimension must be at least 1")
    return v


def _shape_from_list(raw, items) -> Answer:
    if not 1 <= len(items) <= 8:
        raise _bad(raw, "a shape has 1 to 8 dimensions")
    dims = []
    for x in items:
        if x is None or (isinstance(x, str) and x.strip().lower() in ("none", "?", "batch")):
            dims.append(None)
        elif isinstance(x, int) and not isinstance(x, bool) and 0 < x < 10 ** 12:
            dims.append(x)
        elif isinstance(x, float) and x.is_integer() and 0 < x < 10 ** 12:
            dims.append(int(x))
        else:
            raise _bad(raw, f"{short_repr(x, 20)} is not a dimension")
    if None in dims[1:]:
        raise _bad(raw, "only the first dimension (the batch) may be None")
    return Answer(short_repr(list(items), 80), "shape", tuple(dims))


def _shape(raw, low: str):
    layout = None
    m = LAYOUT.search(low)
    if m and m.start() > 0 and re.search(r"[\d\])]\s*$", low[:m.start()]):
        layout = "hwc" if m.group("l").startswith("h") else "chw"
        low = low[:m.start()].rstrip()
    body = low
    bracketed = len(body) >= 2 and body[0] + body[-1] in ("()", "[]")  # `(1, 2]` is not a shape
    if bracketed:
        body = body[1:-1].strip()
        if not body:
            raise _bad(raw, "the shape is empty")
        items = re.split(r"\s*[,x×*]\s*", body)
    elif re.fullmatch(r"(?:\d+|none|\?)(?:\s*[x×*]\s*\d+)+", body):
        items = re.split(r"\s*[x×*]\s*", body)
    elif (re.fullmatch(r"\d+(?:\s*,\s*\d+)+", body) and not re.fullmatch(r"\d{1,3}(?:,\d{3})+", body)
          and (", " in body or body.count(",") >= 2)):
        items = re.split(r"\s*,\s*", body)  # "96, 55, 55" (not a thousands-separated number, nor "1,2")
    else:
        if layout is not None:
            raise _bad(raw, "a layout (HWC/CHW) follows a shape such as 55x55x96")
        return None
    if not 1 <= len(items) <= 8:
        raise _bad(raw, "a shape has 1 to 8 dimensions")
    dims = tuple(_dim(raw, x) for x in items)
    if None in dims[1:]:
        raise _bad(raw, "only the first dimension (the batch) may be None")
    return Answer(raw if isinstance(raw, str) else str(raw), "shape", dims, layout=layout)


# ---------------------------------------------------------------------------- fractions

_FRAC = re.compile(r"(\d{1,12})\s*/\s*(\d{1,12})")
_TERM = re.compile(r"\s*([+-])?\s*(\d{1,12})(?:\s*/\s*(\d{1,12}))?\s*")


def _fraction(raw, low: str):
    m = _FRAC.fullmatch(low)
    if m:
        p, q = int(m.group(1)), int(m.group(2))
        if q == 0:
            raise _bad(raw, "division by zero")
        return Answer(raw, "fraction", Fraction(p, q))
    if "/" not in low or not re.fullmatch(r"[\d\s/+-]+", low):
        return None
    pos, total, n = 0, Fraction(0), 0
    while pos < len(low):
        t = _TERM.match(low, pos)
        if not t or t.end() == pos or (n and not t.group(1)):
            raise _bad(raw, "write a sum of fractions such as 1/5 + 1/9")
        num, den = int(t.group(2)), int(t.group(3) or 1)
        if den == 0:
            raise _bad(raw, "division by zero")
        total += (-1 if t.group(1) == "-" else 1) * Fraction(num, den)
        pos, n = t.end(), n + 1
        if n > 20:
            raise _bad(raw, "too many terms")
    return Answer(raw, "expression", total)


# ---------------------------------------------------------------------------- numbers

def _digits(int_part: str, frac_part: str) -> int:
    digits = (int_part + frac_part).lstrip("0")
    return max(1, len(digits))


def _number(raw, low: str, memory: bool, approx: bool) -> Answer:
    ratio_prefix = False
    if re.match(r"^[x×]\s*\d", low):  # "x10"
        ratio_prefix, low = True, low[1:].lstrip()
    m = NUMBER.match(low)
    if not m or (m.group("int") is None and m.group("frac") is None):
        raise _bad(raw, "it does not start with a number")
    int_part = re.sub(_SEP, "", m.group("int") or "")
    frac_part = m.group("frac") or ""
    exp = int(m.group("exp") or 0)
    if abs(exp) > MAX_EXPONENT or len(int_part) + len(frac_part) > 40:
        raise _bad(raw, "the number is out of range")
    mantissa = Fraction(int(int_part or "0") * 10 ** len(frac_part) + int(frac_part or "0"), 10 ** len(frac_part))
    if m.group("sign") == "-":
        mantissa = -mantissa
    step = Fraction(1, 10 ** len(frac_part))
    ten = Fraction(10) ** exp
    mantissa, step = mantissa * ten, step * ten
    digits = _digits(int_part, frac_part)
    if approx and not frac_part and int_part.strip("0"):
        zeros = len(int_part) - len(int_part.rstrip("0"))  # "about 60,000": the zeros only fill the places
        step, digits = step * 10 ** zeros, max(1, digits - zeros)
    rest = low[m.end():].strip()
    unit, word, mem = "", "", None
    scale = Fraction(1)
    if ratio_prefix:
        if rest:
            raise _bad(raw, f"unexpected {short_repr(rest, 20)} after the ratio")
        return Answer(raw, "number", mantissa, step, digits, "x", approx=approx)
    if rest in ("%", "percent", "per cent", "pct"):
        return Answer(raw, "number", mantissa / 100, step / 100, digits, "%", approx=approx, scale=Fraction(1, 100))
    if _INVERSE_TAIL.fullmatch(rest):  # "9x fewer": a ninth
        if mantissa <= 0:
            raise _bad(raw, "a number of times fewer must be above 0")
        return Answer(raw, "number", 1 / mantissa, step, digits, "x", approx=approx, inverse=True)
    if _MORE_TAIL.fullmatch(rest):
        return Answer(raw, "number", mantissa, step, digits, "x", approx=approx)
    if re.match(r",\d", rest):
        raise _bad(raw, "a comma separates thousands (groups of three digits); write a decimal with a point, e.g. 1.2")
    if rest:
        key = rest.replace(" ", "")
        if key in MEMORY and not (key == "b" and not memory):
            power = MEMORY[key]
            binary = "ib" in key or key.startswith(("kibi", "mebi", "gibi", "tebi"))
            mem = (power, binary)
            scale = Fraction((1024 if binary else 1000) ** power)
            unit = MEMORY_NAMES[(power, binary)]
            word = "bytes"
        elif rest in WORDS:
            word = WORDS[rest]
        else:
            sm = re.fullmatch(r"(?P<s>thousand|millions?|mil|mn|billions?|bn|trillion|[kmgtb])\s*(?P<w>[a-z][a-z\-]*)?",
                              rest)
            if not sm or (sm.group("w") and sm.group("w") not in WORDS):
                raise _bad(raw, f"unknown unit {short_repr(rest, 30)}")
            scale = Fraction(10) ** SCALES[sm.group("s")]
            unit = {3: "K", 6: "M", 9: "G", 12: "T"}[SCALES[sm.group("s")]]
            if sm.group("w"):
                word = WORDS[sm.group("w")]
    return Answer(raw, "number", mantissa * scale, step * scale, digits, unit, word, mem, approx=approx, scale=scale)
