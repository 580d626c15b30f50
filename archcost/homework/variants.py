"""Variants per student: a key question's ``vary:`` draws that student's own numbers.

::

    - id: conv-macs
      text: MACs of a {kernel_size}×{kernel_size} convolution with {out_channels} filters on {input}?
      conv2d: {in: [3, 32, 32], out_channels: 16, kernel_size: 3, padding: 1}
      vary: {out_channels: [16, 32, 64], kernel_size: [3, 5], input: [[3, 32, 32], [3, 64, 64]]}
      quantity: macs

``vary:`` maps a name to its choices: a list, or a range ``{from: 16, to: 64, step: 16}``.  A name is
an argument of the question's inline layer (``out_channels``), a ``set:`` parameter of its model or
spec (``width``), or ``input`` (the input shape).  ``{name}`` in the question's ``text`` is replaced by
the drawn value.  The question as written (its own numbers) is the instructor's variant.

A student's variant is drawn from the combinations in an order shuffled by a seed taken from
SHA-256 of the student id and the ``vary:`` mapping — reproducible on any machine and Python (never
``hash()``) — and the first combination that builds and computes is taken, so an invalid one (a
kernel larger than its input) is never drawn.  Questions with the same ``vary:`` (the same names and
choices) therefore draw the same numbers for a student: a sheet can ask the shape, the parameters
and the MACs of one layer.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import hashlib
import itertools
import json
import os
import random
import re

from ..errors import SpecError, short_repr
from ..language.yamlload import LocDict
from ..ops.base import fmt_shape
from .records import AnswersFile, Question, Subject

MAX_COMBINATIONS = 10_000
MAX_CHOICES = 1_000
MAX_STUDENTS = 5_000
MAX_ID = 100
MAX_METADATA_BYTES = 1_000_000
SHEET_FORMAT = "archcost-quiz-sheet"


# ---------------------------------------------------------------------------- reading vary:

def parse_vary(value) -> dict:
    """``vary:`` as {name: [choices]}; SpecError (unlocated) for anything else."""
    fix = ("write e.g. `vary: {out_channels: [16, 32, 64], kernel_size: [3, 5], input: [[3, 32, 32], [3, 64, 64]]}` "
           "or a range `{from: 16, to: 64, step: 16}`.")
    if not isinstance(value, dict) or not value:
        raise SpecError("`vary` must map argument names to their choices", fix=fix)
    out, total = {}, 1
    for name, choices in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise SpecError(f"`vary` key {short_repr(name)} is not an argument name", fix=fix)
        if isinstance(choices, dict):
            choices = _range(name, choices, fix)
        if not isinstance(choices, list) or not choices or len(choices) > MAX_CHOICES:
            raise SpecError(f"`vary: {name}` must be a list of 1 to {MAX_CHOICES} choices or a range", fix=fix)
        for c in choices:
            if isinstance(c, dict) or (isinstance(c, list) and not all(isinstance(x, int) and not isinstance(x, bool)
                                                                        for x in c)):
                raise SpecError(f"`vary: {name}` choice {short_repr(c)} is not a number, a word or a shape", fix=fix)
        if name in ("input", "in") and not all(isinstance(c, list) for c in choices):
            raise SpecError(f"`vary: {name}` choices must be shapes such as [3, 32, 32]", fix=fix)
        out[name] = [list(c) if isinstance(c, list) else c for c in choices]
        total *= len(choices)
    if total > MAX_COMBINATIONS:
        raise SpecError(f"`vary` has {total:,} combinations, more than {MAX_COMBINATIONS:,}",
                        fix="offer fewer choices (each student gets one combination; a few hundred is plenty).")
    return out


def _range(name, r, fix) -> list:
    keys = set(r)
    if not keys <= {"from", "to", "step"} or not {"from", "to"} <= keys:
        raise SpecError(f"`vary: {name}` range takes `from`, `to` and optionally `step`", fix=fix)
    lo, hi, step = r["from"], r["to"], r.get("step", 1)
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (lo, hi, step)) or step < 1 or hi < lo:
        raise SpecError(f"`vary: {name}` range needs whole numbers with from ≤ to and step ≥ 1", fix=fix)
    if (hi - lo) // step + 1 > MAX_CHOICES:
        raise SpecError(f"`vary: {name}` range has more than {MAX_CHOICES} values", fix=fix)
    return list(range(lo, hi + 1, step))


# ---------------------------------------------------------------------------- drawing a variant

def seed(student: str, vary: dict) -> int:
    """The seed of one student's draw from a ``vary:`` mapping: stable across runs, machines and Pythons."""
    text = json.dumps(vary, sort_keys=True, ensure_ascii=True)
    return int.from_bytes(hashlib.sha256(f"archcost-variant\0{student}\0{text}".encode("utf-8")).digest()[:8], "big")


def check_student_id(student) -> str:
    if not isinstance(student, str) or not student.strip() or len(student) > MAX_ID or any(ord(c) < 32 for c in student):
        raise SpecError(f"student id {short_repr(student, 40)} must be 1 to {MAX_ID} printable characters",
                        fix="use the id from the roster (its `id` column), e.g. --student s001.")
    return student.strip()


def _with_values(s: Subject, values: dict, qid: str) -> Subject:
    s = dataclasses.replace(s, set=dict(s.set))
    for name, v in values.items():
        if name in ("input", "in"):
            s.input = tuple(v)
        elif s.kind == "op":
            args = LocDict(line=getattr(s.value, "line", None))
            for k, x in s.value.items():
                args[k] = x
                args.key_lines[k] = s.value.key_line(k) if isinstance(s.value, LocDict) else None
            args[name] = v
            s.value = args
        elif s.kind in ("model", "spec"):
            s.set[name] = v
        else:
            raise SpecError(f"question '{qid}': `vary: {name}` cannot apply to inline `layers`",
                            fix="vary `input`, or write the layer inline (`conv2d: {...}`) to vary its arguments.")
    return s


def apply(q: Question, values: dict) -> Question:
    """The question with ``values`` put into its subject (and the sides of a ratio), and its text filled in."""
    q2 = dataclasses.replace(q, vary={}, sides=dict(q.sides))
    if q.subject.kind is not None:
        q2.subject = _with_values(q.subject, values, q.id)
    for k, side in q.sides.items():
        q2.sides[k] = dataclasses.replace(side, subject=_with_values(side.subject, values, q.id))
    q2.text = fill(q.text, values)
    return q2


def fill(text: str, values: dict) -> str:
    """``{name}`` in a question's text replaced by the drawn value (no format strings, no eval)."""
    def one(m):
        v = values.get(m.group(1))
        if v is None:
            return m.group(0)
        return fmt_shape(tuple(v)) if isinstance(v, list) else str(v)
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", one, text or "")


def _computes(q: Question):
    """Build the question's subject(s) and compute its quantity; SpecError when this combination cannot be."""
    from .quantities import evaluate
    from .subjects import build_subject

    if q.sides:
        for side in q.sides.values():
            evaluate(build_subject(side.subject, q.file), side.quantity, side.options, op=side.op, block=side.block,
                     classifier=side.classifier)
    else:
        evaluate(build_subject(q.subject, q.file), q.quantity, q.options, op=q.op, block=q.block,
                 classifier=q.classifier)


def draw(q: Question, student: str) -> tuple:
    """(the student's Question, the values drawn).  Raises a located SpecError when no combination builds."""
    names = sorted(q.vary)  # the draw must not depend on how the YAML orders the keys
    combos = list(itertools.product(*(q.vary[n] for n in names)))
    random.Random(seed(student, q.vary)).shuffle(combos)
    last = None
    for combo in combos:
        values = dict(zip(names, copy.deepcopy(combo)))
        try:
            q2 = apply(q, values)
            _computes(q2)
        except SpecError as e:
            last = e
            continue
        return q2, values
    raise SpecError(f"question '{q.id}': none of the {len(combos)} combinations of `vary:` builds "
                    f"(the last: {last.message if last else 'none'})", file=q.file, line=q.vary_line or q.line,
                    fix="offer choices that fit together (a kernel no larger than the padded input, ...).")


def variant_of(af: AnswersFile, student: str) -> AnswersFile:
    """The answers file as ``student`` sees it: each question with ``vary:`` replaced by their draw."""
    student = check_student_id(student)
    qs = [draw(q, student)[0] if q.vary else q for q in af.questions]
    return dataclasses.replace(af, questions=qs)


# ---------------------------------------------------------------------------- rosters, metadata

def read_roster(path: str) -> list:
    """[(id, name)] from a CSV with a header row holding ``id`` (and optionally ``name``)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(itertools.islice(csv.DictReader(fh), MAX_STUDENTS + 1))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SpecError(f"cannot read the roster {path}: {e}", fix="give a UTF-8 CSV file with a header row `id,name`.")
    if not rows or "id" not in rows[0]:
        raise SpecError(f"the roster {path} has no `id` column", file=path, line=1,
                        fix="start it with a header row `id,name` and one student per line.")
    if len(rows) > MAX_STUDENTS:
        raise SpecError(f"the roster {path} has more than {MAX_STUDENTS:,} students", file=path,
                        fix="split it into several rosters.")
    out, seen = [], {}
    for i, row in enumerate(rows, start=2):
        sid = (row.get("id") or "").strip()
        try:
            sid = check_student_id(sid)
        except SpecError as e:
            raise e.located(file=path, line=i) from None
        if sid in seen:
            raise SpecError(f"student id {short_repr(sid)} appears twice (lines {seen[sid]} and {i})", file=path,
                            line=i, fix="give each student one row.")
        seen[sid] = i
        out.append((sid, (row.get("name") or "").strip()[:200]))
    return out


def student_from_metadata(path: str) -> str:
    """The submitting student's id from Gradescope's ``/autograder/submission_metadata.json``: the first
    user's ``email`` (so the roster's ``id`` column holds the students' Gradescope emails)."""
    fix = "pass Gradescope's /autograder/submission_metadata.json (users: [{email, id, name}])."
    try:
        if os.path.getsize(path) > MAX_METADATA_BYTES:
            raise SpecError(f"{path} is larger than {MAX_METADATA_BYTES:,} bytes", fix=fix)
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SpecError(f"cannot read the submission metadata {path}: {e}", fix=fix) from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        raise SpecError(f"{path} has no `users` list", fix=fix)
    email = users[0].get("email")
    if not isinstance(email, str):
        raise SpecError(f"{path}: the first user has no email", fix=fix)
    return check_student_id(email)


# ---------------------------------------------------------------------------- sheets

def _file_name(student: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._@-]", "_", student).strip(".") or "student"
    return name[:MAX_ID]


def _describe(s: Subject) -> str:
    if s.kind == "op":
        args = ", ".join(f"{k}={v}" for k, v in s.value.items() if k not in ("in", "input"))
        return f"{s.name}({args}) on an input of {fmt_shape(s.input)} (C×H×W)"
    if s.kind == "layers":
        return f"the layers given, on an input of {fmt_shape(s.input)}"
    base = s.name if s.kind == "model" else os.path.basename(s.name)
    extra = [f"input {fmt_shape(s.input)}"] if s.input else []
    extra += [f"{k}={v}" for k, v in s.set.items()]
    text = base + (f" ({', '.join(extra)})" if extra else "")
    if s.layer:
        text += f", layer {', '.join(s.layer)}"
    return text


def sheet(af: AnswersFile, student: str, name: str = "") -> dict:
    """One student's question sheet as data (the JSON for an LMS import; the Markdown renders it)."""
    from .quantities import QUANTITIES

    v = variant_of(af, student)
    qs = []
    for orig, q in zip(af.questions, v.questions):
        subject = (" ÷ ".join(f"{q.sides[k].quantity} of {_describe(q.sides[k].subject)}" for k in q.sides)
                   if q.sides else _describe(q.subject))
        values = draw(orig, student)[1] if orig.vary else {}
        qs.append({"id": q.id, "text": q.text, "quantity": q.quantity, "about": QUANTITIES[q.quantity].doc,
                   "subject": subject, "values": values, "points": q.points, "convention": q.options.convention})
    return {"format": SHEET_FORMAT, "version": 1, "title": af.title, "key": os.path.basename(af.file),
            "student": {"id": student, "name": name}, "questions": qs}


def sheet_markdown(d: dict) -> str:
    who = d["student"]["id"] + (f" ({d['student']['name']})" if d["student"]["name"] else "")
    out = [f"# {d['title']}", "", f"Student: **{who}**", "",
           "Answer each question in your answers file under its id (e.g. `answer: 12.4M`).", ""]
    for q in d["questions"]:
        out += [f"## {q['id']} ({q['points']:g} point{'s' if q['points'] != 1 else ''})", ""]
        if q["text"]:
            out += [q["text"], ""]
        out += [f"- about: {q['subject']}", f"- asked: `{q['quantity']}` — {q['about']}",
                f"- counting convention: `{q['convention']}`", ""]
    return "\n".join(out).rstrip() + "\n"
