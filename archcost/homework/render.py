"""A checked answers file as text, JSON, Markdown or a Gradescope ``results.json``.

The JSON is a contract (documented in the README, keys only ever added)::

    {"format": "archcost-check", "version": 1, "file", "title", "score", "max_score",
     "right", "wrong", "unanswered",
     "questions": [{"id", "text", "subject", "quantity", "convention", "dtype", "batch", "layout",
                    "points", "score", "status", "right", "expected": {"value", "text"},
                    "answer": {"raw", "kind", "value"} | null, "verdict", "tolerance",
                    "diagnoses": [{"name", "message", "value"}], "working": {...}}]}

Gradescope's autograder schema: ``{"score", "output", "tests": [{"name", "number", "score",
"max_score", "status": "passed" | "failed", "output"}]}``.
"""

from __future__ import annotations

import html
import json
from .. import __version__
from ..errors import printable
from ..ops.working import json_value
from ..ops.base import fmt_shape
from .check import Report, Result, expected_text

MARK = {"right": "✓", "wrong": "✗", "unanswered": "·"}
MAX_TEST_OUTPUT = 10_000  # characters of one question's output in a results.json


def verdict_text(r: Result) -> str:
    """The verdict as the student may see it: under ``show: verdict`` only right or wrong (the
    verdict's own text names the true value), unless the answer could not be read (then why)."""
    if r.verdict is None:
        return "not answered"
    if r.show == "verdict" and r.error is None:
        return "right" if r.right else "wrong"
    return r.verdict.message


def _cut(text: str, limit: int = MAX_TEST_OUTPUT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... (cut: {len(text) - limit:,} more characters)"


def _subject(r: Result) -> str:
    q = r.question
    if q.quantity in ("ratio", "fraction"):
        keys = ("of", "to") if q.quantity == "ratio" else ("part", "whole")
        return " ÷ ".join(f"{q.sides[k].quantity} of {_describe(q.sides[k].subject)}" for k in keys)
    return _describe(q.subject)


def _describe(s) -> str:
    import os

    if s.kind == "op":
        base = f"{s.name} on {fmt_shape(s.input)}"
    elif s.kind == "layers":
        base = f"inline layers on {fmt_shape(s.input)}"
    elif s.kind == "spec":
        base = os.path.basename(s.name)
    else:
        base = s.name + (f" at {fmt_shape(s.input)}" if s.input else "")
    if s.set:
        base += " (" + ", ".join(f"{k}={v}" for k, v in s.set.items()) + ")"
    if s.layer:
        base += " / " + ", ".join(s.layer)
    if s.ops:
        base += f" [{', '.join(s.ops)}]"
    return base


def result_dict(r: Result) -> dict:
    q, a = r.question, r.question.answer
    answer = None if a is None else {"raw": a.raw, "kind": a.kind, "value": json_value(a.value)}
    if a is None and q.answer_raw is not None:
        answer = {"raw": q.answer_raw, "kind": "unreadable", "value": None}
    d = {
        "id": q.id, "text": q.text, "subject": _subject(r), "quantity": q.quantity,
        "convention": q.options.convention, "dtype": q.options.dtype, "batch": q.options.batch,
        "layout": q.options.layout, "points": q.points, "score": r.score, "status": r.status, "right": r.right,
        "expected": {"value": json_value(r.expected.value), "text": expected_text(r)},
        "answer": answer,
        "verdict": verdict_text(r),
        "tolerance": q.tolerance.text(),
        "diagnoses": [d.to_dict() for d in r.diagnoses],
        "working": r.expected.working.to_dict(),
    }
    if r.show != "all":  # keys kept (the contract), what the student may not see emptied
        d["show"] = r.show
        d["working"] = None
        if r.show == "verdict":
            d["expected"], d["diagnoses"] = None, []
    return d


def to_dict(report: Report) -> dict:
    counts = {s: sum(r.status == s for r in report.results) for s in ("right", "wrong", "unanswered")}
    d = {"format": "archcost-check", "version": 1, "archcost": __version__, "file": report.file,
         "title": report.title, "score": report.score, "max_score": report.max_score, **counts,
         "questions": [result_dict(r) for r in report.results]}
    if report.responses is not None:
        d["responses"] = report.responses
        d["ignored"] = list(report.notices)
    return d


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False, allow_nan=False)


def question_lines(r: Result, depth: int | None = 3) -> list:
    q, a = r.question, r.question.answer
    head = f"{MARK[r.status]} {q.id}" + (f"  {q.text}" if q.text else "")
    lines = [head, f"    {_subject(r)} · {q.quantity} · convention {q.options.convention}"
             + (f" · {q.options.dtype}" if q.quantity.endswith("bytes") else "")
             + (f" · batch {q.options.batch}" if q.options.batch != 1 else "")]
    raw = a.raw if a is not None else q.answer_raw
    shown = "" if r.show == "verdict" else f"expected {expected_text(r)}"
    if raw is None:
        lines.append(f"    {shown + ' — ' if shown else ''}not answered")
    else:
        lines.append(f"    {shown + '; ' if shown else ''}answer {raw}: {verdict_text(r)}")
    if r.show == "verdict":
        return lines
    for d in r.diagnoses:
        lines.append(f"    likely mistake: {d.message}")
    if not r.right and a is not None and not r.diagnoses:
        lines.append("    likely mistake: none of the known ones reproduces this answer")
    if r.show == "all":
        lines.append("    working:")
        lines += ["      " + x for x in r.expected.working.lines(depth)]
    return lines


def summary(report: Report) -> str:
    n = len(report.results)
    right = sum(r.right for r in report.results)
    return f"{right}/{n} right; score {report.score:g}/{report.max_score:g}"


def to_text(report: Report, depth: int | None = 3) -> str:
    head = f"{report.title} ({report.file}" + (f", responses {report.responses}" if report.responses else "") + ")"
    lines = [head, ""]
    for r in report.results:
        lines += question_lines(r, depth) + [""]
    lines += [f"ignored: {n}" for n in report.notices]
    lines.append(summary(report))
    return printable("\n".join(lines) + "\n")


def working_html(w, depth: int | None = None) -> str:
    """A working tree as nested, collapsible HTML (GitHub renders it inside Markdown)."""
    line = html.escape(w.line())
    if not w.parts or depth == 0:
        return f"<li>{line}</li>"
    inner = "".join(working_html(p, None if depth is None else depth - 1) for p in w.parts)
    return f"<li><details><summary>{line}</summary><ul>{inner}</ul></details></li>"


def to_markdown(report: Report) -> str:
    out = [f"# {report.title}", "", f"`{report.file}` — {summary(report)}", "",
           "| | question | quantity | expected | answer |", "|---|---|---|---|---|"]
    for r in report.results:
        raw = r.question.answer.raw if r.question.answer is not None else r.question.answer_raw
        out.append(f"| {MARK[r.status]} | {r.question.id} | {r.question.quantity} | "
                   f"{'' if r.show == 'verdict' else expected_text(r)} | {'' if raw is None else '`' + raw + '`'} |")
    for r in report.results:
        q, a = r.question, r.question.answer
        raw = a.raw if a is not None else q.answer_raw
        out += ["", f"## {MARK[r.status]} {q.id}" + (f" — {q.text}" if q.text else ""), "",
                f"- subject: {_subject(r)}; quantity: `{q.quantity}`; convention: `{q.options.convention}`"]
        if r.show != "verdict":
            out.append(f"- expected: **{expected_text(r)}**")
        if raw is not None:
            out.append(f"- answer: `{raw}` — {verdict_text(r)}")
        if r.show == "verdict":
            continue
        for d in r.diagnoses:
            out.append(f"- likely mistake: {d.message}")
        if r.show == "all":
            out += ["", "<details><summary>working</summary>", "", f"<ul>{working_html(r.expected.working)}</ul>",
                    "", "</details>"]
    out += [f"- ignored: {n}" for n in report.notices]
    return printable("\n".join(out) + "\n")


def to_gradescope(report: Report) -> str:
    """Gradescope's results.json: one test per question (name, number, score, max_score, status,
    output, visibility), showing what each question's ``show:`` allows; every number finite."""
    tests = []
    for r in report.results:
        q = r.question
        tests.append({"name": f"{q.id}: {q.text}" if q.text else q.id, "number": q.id, "score": r.score,
                      "max_score": q.points, "status": "passed" if r.right else "failed",
                      "output": _cut(printable("\n".join(question_lines(r, depth=2)))), "visibility": q.visibility})
    output = f"{report.title}: {summary(report)}"
    if report.notices:
        output += "\n" + "\n".join(f"ignored: {n}" for n in report.notices)
    return json.dumps({"score": report.score, "output": printable(output), "tests": tests},
                      indent=2, ensure_ascii=False, allow_nan=False)


def error_gradescope(message: str) -> str:
    """A results.json for a file that could not be checked (the autograder still shows why)."""
    return json.dumps({"score": 0, "output": _cut(printable(message)), "tests": []}, indent=2, ensure_ascii=False,
                      allow_nan=False)
