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
from ..ops.working import json_value
from ..ops.base import fmt_shape
from .check import Report, Result, expected_text

MARK = {"right": "✓", "wrong": "✗", "unanswered": "·"}


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
    return {
        "id": q.id, "text": q.text, "subject": _subject(r), "quantity": q.quantity,
        "convention": q.options.convention, "dtype": q.options.dtype, "batch": q.options.batch,
        "layout": q.options.layout, "points": q.points, "score": r.score, "status": r.status, "right": r.right,
        "expected": {"value": json_value(r.expected.value), "text": expected_text(r)},
        "answer": None if a is None else {"raw": a.raw, "kind": a.kind, "value": json_value(a.value)},
        "verdict": r.verdict.message if r.verdict else "not answered",
        "tolerance": q.tolerance.text(),
        "diagnoses": [d.to_dict() for d in r.diagnoses],
        "working": r.expected.working.to_dict(),
    }


def to_dict(report: Report) -> dict:
    counts = {s: sum(r.status == s for r in report.results) for s in ("right", "wrong", "unanswered")}
    return {"format": "archcost-check", "version": 1, "archcost": __version__, "file": report.file,
            "title": report.title, "score": report.score, "max_score": report.max_score, **counts,
            "questions": [result_dict(r) for r in report.results]}


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False)


def question_lines(r: Result, depth: int | None = 3) -> list:
    q, a = r.question, r.question.answer
    head = f"{MARK[r.status]} {q.id}" + (f"  {q.text}" if q.text else "")
    lines = [head, f"    {_subject(r)} · {q.quantity} · convention {q.options.convention}"
             + (f" · {q.options.dtype}" if q.quantity.endswith("bytes") else "")
             + (f" · batch {q.options.batch}" if q.options.batch != 1 else "")]
    if a is None:
        lines.append(f"    expected {expected_text(r)} — not answered")
    else:
        lines.append(f"    expected {expected_text(r)}; answer {a.raw}: {r.verdict.message}")
    for d in r.diagnoses:
        lines.append(f"    likely mistake: {d.message}")
    if not r.right and a is not None and not r.diagnoses:
        lines.append("    likely mistake: none of the known ones reproduces this answer")
    lines.append("    working:")
    lines += ["      " + x for x in r.expected.working.lines(depth)]
    return lines


def summary(report: Report) -> str:
    n = len(report.results)
    right = sum(r.right for r in report.results)
    return f"{right}/{n} right; score {report.score:g}/{report.max_score:g}"


def to_text(report: Report, depth: int | None = 3) -> str:
    lines = [f"{report.title} ({report.file})", ""]
    for r in report.results:
        lines += question_lines(r, depth) + [""]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


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
        a = r.question.answer
        out.append(f"| {MARK[r.status]} | {r.question.id} | {r.question.quantity} | {expected_text(r)} | "
                   f"{'' if a is None else '`' + a.raw + '`'} |")
    for r in report.results:
        q, a = r.question, r.question.answer
        out += ["", f"## {MARK[r.status]} {q.id}" + (f" — {q.text}" if q.text else ""), "",
                f"- subject: {_subject(r)}; quantity: `{q.quantity}`; convention: `{q.options.convention}`",
                f"- expected: **{expected_text(r)}**"]
        if a is not None:
            out.append(f"- answer: `{a.raw}` — {r.verdict.message}")
        for d in r.diagnoses:
            out.append(f"- likely mistake: {d.message}")
        out += ["", "<details><summary>working</summary>", "", f"<ul>{working_html(r.expected.working)}</ul>", "",
                "</details>"]
    return "\n".join(out) + "\n"


def to_gradescope(report: Report) -> str:
    tests = []
    for r in report.results:
        q = r.question
        tests.append({"name": f"{q.id}: {q.text}" if q.text else q.id, "number": q.id, "score": r.score,
                      "max_score": q.points, "status": "passed" if r.right else "failed",
                      "output": "\n".join(question_lines(r, depth=2))})
    return json.dumps({"score": report.score, "output": f"{report.title}: {summary(report)}", "tests": tests},
                      indent=2, ensure_ascii=False)


def error_gradescope(message: str) -> str:
    """A results.json for a file that could not be checked (the autograder still shows why)."""
    return json.dumps({"score": 0, "output": message, "tests": []}, indent=2, ensure_ascii=False)
