"""Check an answers file: compute each question's quantity, grade the answer, name the mistake."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import SpecError
from ..ops import working as wk
from ..ops.base import fmt_shape
from .answers import DEFAULT_SHOW, load_answers, load_responses
from .diagnose import Context, diagnose
from .grade import Verdict, judge_answer
from .quantities import QUANTITIES, Value, evaluate, ratio
from .records import Question
from .subjects import build_subject


@dataclass
class Result:
    question: Question
    expected: Value
    verdict: Verdict | None  # None: not answered
    diagnoses: list = field(default_factory=list)
    show: str = "all"  # what the student may see (see answers.SHOW)
    error: str | None = None  # the answer could not be read or is of the wrong kind (then verdict says why)

    @property
    def status(self) -> str:
        return "unanswered" if self.verdict is None else "right" if self.verdict.right else "wrong"

    @property
    def right(self) -> bool:
        return self.status == "right"

    @property
    def score(self) -> float:
        return self.question.points if self.right else 0.0


@dataclass
class Report:
    file: str
    title: str
    results: list
    responses: str | None = None  # the two-file form: the student's file
    notices: list = field(default_factory=list)  # what the responses file tried and was not obeyed

    @property
    def score(self) -> float:
        # clamped to the key's maximum, never negative: points are validated finite and at least 0
        return min(max(sum(r.score for r in self.results), 0.0), self.max_score)

    @property
    def max_score(self) -> float:
        return sum(r.question.points for r in self.results)

    @property
    def all_right(self) -> bool:
        return all(r.right for r in self.results)


def _located(e: SpecError, q: Question, line=None) -> SpecError:
    if e.file is None:
        if not e.message.startswith("question "):
            e.message = f"question '{q.id}': {e.message}"
        return e.located(file=q.file, line=line or q.line)
    return e


class Budget:
    """Layers a file's questions may build in all: bounds the work per file (questions × layers),
    which aliases could otherwise multiply (four questions on one 50,000-layer network)."""

    def __init__(self, layers: int):
        self.left = layers

    def spend(self, sel, q: Question):
        self.left -= len(sel.graph.nodes)
        if self.left < 0:
            raise SpecError(f"the questions up to this one build more than {MAX_WORK_NODES:,} layers in all",
                            fix="ask about smaller networks, or split the homework into several files.")


MAX_WORK_NODES = 10_000  # about 1 ms a layer with the working and the diagnoses (two questions on resnet1202)


def evaluate_question(q: Question, budget: Budget | None = None, *, full_working: bool = False):
    """(the question's Value, its Selection or None for ratio/fraction).  A ratio's or fraction's sides are
    summarised (totals and the largest contributors) unless ``full_working``."""
    spend = budget.spend if budget is not None else (lambda sel, q: None)
    try:
        if q.quantity in ("ratio", "fraction"):
            keys = ("of", "to") if q.quantity == "ratio" else ("part", "whole")
            vals = []
            for k in keys:
                side = q.sides[k]
                try:
                    sel = build_subject(side.subject, q.file)
                    spend(sel, q)
                    vals.append(evaluate(sel, side.quantity, side.options, op=side.op, block=side.block,
                                         classifier=side.classifier))
                except SpecError as e:
                    raise _located(e, q, side.line) from None
            return ratio(vals[0], vals[1], q.quantity, keys, full=full_working), None
        sel = build_subject(q.subject, q.file)
        spend(sel, q)
        return evaluate(sel, q.quantity, q.options, op=q.op, block=q.block, classifier=q.classifier), sel
    except SpecError as e:
        raise _located(e, q) from None


# what a question asks for → why an answer of another kind cannot be graded, and how to write it
WRONG_KIND = {
    "shape": ("the answer {raw!r} is a number, but {quantity} is a shape",
              "write the shape, e.g. 55x55x96 or (96, 55, 55)."),
    "spatial": ("the answer {raw!r} is not a size",
                "write one number (the same in every dimension) or one per dimension, e.g. 11x11."),
    "list": ("the answer {raw!r} is not a list of whole numbers",
             "write the values in order, e.g. [64, 128, 256, 512, 512]."),
    "number": ("the answer {raw!r} is a shape, but {quantity} is a number",
               "write a number such as 120M, 1.2e8 or 61 MB."),
}


def judge(q: Question, expected: Value) -> Verdict:
    """Grade the question's answer against the expected value (located SpecError if it is the wrong kind)."""
    a = q.answer
    verdict = judge_answer(expected.kind, a, expected.value, tolerance=q.tolerance, layout=q.options.layout,
                           batch=q.options.batch)
    if verdict is None:
        message, fix = WRONG_KIND.get(expected.kind, WRONG_KIND["number"])
        raise SpecError(f"question '{q.id}': " + message.format(raw=a.raw, quantity=q.quantity),
                        file=q.file, line=q.answer_line or q.line, fix=fix)
    return verdict


def check_question(q: Question, show: str = "all", budget: Budget | None = None, *,
                   full_working: bool = False) -> Result:
    """Grade one question.  The subject is the key's (a problem there raises a located SpecError);
    an answer that cannot be read, or is of the wrong kind, makes only this question wrong."""
    expected, sel = evaluate_question(q, budget, full_working=full_working)
    show = q.show or show
    if q.answer_error is not None:
        return Result(q, expected, Verdict(False, q.answer_error), show=show, error=q.answer_error)
    if q.answer is None:
        return Result(q, expected, None, show=show)
    try:
        verdict = judge(q, expected)
    except SpecError as e:
        why = e.message.split(": ", 1)[-1] + (f" Fix: {e.fix}" if e.fix else "")
        return Result(q, expected, Verdict(False, why), show=show, error=why)
    found = []
    if not verdict.right:
        found = diagnose(Context(q, sel, expected, q.answer, {"op": q.op, "block": q.block,
                                                              "classifier": q.classifier}))
    return Result(q, expected, verdict, found, show=show)


def check_file(path: str, responses: str | None = None, *, root: str | None = None, full_working: bool = False,
               student: str | None = None) -> Report:
    """Check every question of an answers file — or, with ``responses``, of an instructor's key
    against a student's responses file.  Raises a located SpecError for a bad file (key); a bad
    answer only makes its question wrong.  Files the key names stay inside ``root`` (default:
    the key's folder).  ``student``: grade against that student's variant of the questions that
    declare ``vary:`` (see :mod:`.variants`; drawn from the key, which the student cannot edit)."""
    # a single answers file may be a student's: it names no Python code (model: file.py:Name runs it);
    # an instructor's key, graded against --responses, may
    af = load_answers(path, root=root, allow_code=responses is not None)
    if student is not None:
        from .variants import variant_of

        af = variant_of(af, student)
    if responses is not None:
        af = load_responses(responses, af)
    show = DEFAULT_SHOW["key" if responses is not None else "self-study"]
    budget = Budget(MAX_WORK_NODES)
    results = [check_question(q, show, budget, full_working=full_working) for q in af.questions]
    return Report(af.file, af.title, results, af.responses, af.notices)


# ---------------------------------------------------------------------------- the expected value as text

def expected_text(r: Result) -> str:
    """The true value, plainly and, when the student answered, in the student's unit."""
    from .grade import _lost, _scaled, in_unit

    v, q, a = r.expected.value, r.question, r.question.answer
    if r.expected.kind == "shape":
        if len(v) == 3 and q.options.layout == "hwc":
            c, h, w = v
            return f"{h}×{w}×{c} (H×W×C)"
        return fmt_shape(v) + (" (C×H×W)" if len(v) == 3 else "")
    if r.expected.kind == "spatial":
        return fmt_shape(v)
    if r.expected.kind == "list":
        return "[" + ", ".join(str(x) for x in v) + "]"
    v = Fraction(v)
    plain = wk.num(v.numerator) if v.denominator == 1 else wk.dec(v)
    extra = []
    if QUANTITIES[q.quantity].memory:
        plain += " bytes"
        binary = a.memory[1] if a is not None and a.memory else None
        extra += [_sig(v, 1000, ("kB", "MB", "GB", "TB")) if binary is not False else "",
                  _sig(v, 1024, ("KiB", "MiB", "GiB", "TiB")) if binary is not True else ""]
    elif q.quantity == "fraction":
        extra.append(f"{float(v):.2%}")
    elif q.quantity == "ratio" and 0 < v < 1:
        extra.append(f"≈ 1/{float(1 / v):.3g}")
    if a is not None and a.kind == "number" and a.unit and a.unit != "B" and not a.inverse and not _lost(v, a):
        extra.insert(0, in_unit(v, a))
    elif a is not None and a.kind in ("number", "comparison") and a.unit and not QUANTITIES[q.quantity].memory:
        extra.insert(0, _scaled(v))  # never "0.0M" or "0x": the scale follows the value
    extra = [x for x in dict.fromkeys(extra) if x and x != plain]
    return plain + (f" ({', '.join(extra)})" if extra else "")


def _sig(v: Fraction, base: int, units) -> str:
    """Bytes in the largest unit of ``base`` that fits, to 3 significant figures (``1.16 MB``)."""
    x, unit = float(v), ""
    for u in units:
        if x >= base:
            x, unit = x / base, u
    return f"{x:.3g} {unit}" if unit else ""
