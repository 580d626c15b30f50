"""The answers file: questions about a network's cost, each with a student's answer.

Read with archcost's located YAML loader and validated by hand (no pydantic on this path), so
every problem is one paragraph naming ``file:line``.  The format is a contract with instructors'
files: keys are only ever added.  Documented, with examples, in the README ("Homework checking").

::

    title: Inception 5×5 bottleneck
    defaults: {convention: default}
    questions:
      - id: naive
        text: MACs of a 5×5 convolution, 32 filters, on 28×28×192 (padding 2)?
        conv2d: {in: [192, 28, 28], out_channels: 32, kernel_size: 5, padding: 2}
        quantity: macs
        answer: 120M
"""

from __future__ import annotations

import difflib
import os
import re
from ..analysis import CONVENTIONS, DTYPE_BYTES
from ..capture.source import is_module_source
from ..errors import SpecError, printable, short_repr
from ..language.safefile import confine, is_regular
from ..language.yamlload import LocDict, LocList, load_yaml_file
from ..ops import OPS
from .grade import ROUNDING, parse_tolerance
from .parse import parse_answer
from .quantities import QUANTITIES
from .records import AnswersFile, Options, Question, Side, Subject
from .subjects import FAMILIES

VERSION = 1
TOP_KEYS = ("title", "version", "defaults", "questions", "notes")
SUBJECT_KEYS = ("model", "spec", "layers")  # plus any op name (an inline single layer)
MODIFIER_KEYS = ("input", "set", "layer", "ops", "include")
OPTION_KEYS = ("convention", "dtype", "batch", "layout", "include_input", "optimizer")
SIDE_KEYS = ("of", "to", "part", "whole")
COUNT_KEYS = ("op", "block", "classifier")
QUESTION_KEYS = ("id", "text", "quantity", "answer", "points", "tolerance", *SUBJECT_KEYS, *MODIFIER_KEYS,
                 *OPTION_KEYS, *SIDE_KEYS, *COUNT_KEYS, "vary", "show", "visibility")
LAYOUTS = ("chw", "hwc")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
# what a student is shown of a question: `verdict` right or wrong (and their answer as read), `expected`
# also the true value and the likely mistake, `all` also the working
SHOW = ("all", "expected", "verdict")
DEFAULT_SHOW = {"self-study": "all", "key": "verdict"}  # a key graded before the deadline shows only verdicts
VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's, per test
MAX_QUESTIONS = 500
MAX_POINTS = 1_000_000
MAX_BATCH = 1_000_000
MAX_ID_CHARS = 100


def checked_options(convention: str = "default", dtype: str = "float32", batch: int = 1) -> Options:
    """Options given on the command line (`explain`, `calc`), each checked: a one-line error naming it."""
    if convention not in CONVENTIONS:
        raise SpecError(f"unknown convention '{convention}'", fix=f"use one of {', '.join(CONVENTIONS)}.")
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype '{dtype}'", fix=f"use one of {', '.join(DTYPE_BYTES)}.")
    if not isinstance(batch, int) or batch < 1 or batch > MAX_BATCH:
        raise SpecError(f"--batch must be from 1 to {MAX_BATCH:,}, got {short_repr(batch, 30)}",
                        fix="use --batch 1 or more.")
    return Options(convention=convention, dtype=dtype, batch=batch)


class _Reader:
    """Validation helpers bound to one file; every error names file:line and a fix."""

    def __init__(self, file: str, allow_code: bool = True):
        self.file = file
        self.root = os.path.dirname(os.path.abspath(file))  # files named in it stay inside (see confine)
        self.allow_code = allow_code

    def err(self, msg, line, fix, qid=None):
        where = f"question '{qid}': " if qid is not None else ""
        return SpecError(where + msg, file=self.file, line=line, fix=fix)



def load_answers(path: str, *, root: str | None = None, allow_code: bool = True) -> AnswersFile:
    """Read and validate an answers file (or an instructor's key); raise a located SpecError for any
    problem with it — except an answer that cannot be read, which makes only its question wrong.

    Files it names (``spec:``) stay inside ``root`` (default: the file's own folder).
    ``allow_code=False`` refuses a ``model: file.py:Name`` subject, which would run that file's code:
    pass it for any file a student wrote; an instructor's key may name one.
    """
    raw = load_yaml_file(path)
    r = _Reader(path, allow_code)
    if not isinstance(raw, LocDict):
        what = "empty" if raw is None else "a list" if isinstance(raw, list) else f"a {type(raw).__name__}"
        raise r.err(f"the answers file is {what}, not a mapping with `questions:`", 1,
                    "start the file with `questions:` and a list of questions (see the README, Homework checking).")
    for k in raw:
        if k not in TOP_KEYS:
            raise r.err(f"unknown top-level key {short_repr(k)}", raw.key_line(k),
                        f"keys allowed here: {', '.join(TOP_KEYS)}.")
    version = raw.get("version", VERSION)
    if version != VERSION:
        raise r.err(f"answers-file version {short_repr(version)} is not supported", raw.key_line("version"),
                    f"this archcost reads version {VERSION}; upgrade archcost or remove `version:`.")
    title = raw.get("title", os.path.basename(path))
    if not isinstance(title, (str, int, float)) or isinstance(title, bool):
        raise r.err("`title` must be text", raw.key_line("title"), "write `title: My homework`.")
    defaults = raw.get("defaults", LocDict(line=raw.line))
    if not isinstance(defaults, dict):
        raise r.err("`defaults` must be a mapping of question keys", raw.key_line("defaults"),
                    "write e.g. `defaults: {model: vgg16, convention: default}`.")
    for k in defaults:
        if k in ("id", "text", "answer", "vary") or (k not in QUESTION_KEYS and k not in OPS):
            raise r.err(f"`defaults` cannot set {short_repr(k)}", _key_line(defaults, k),
                        "defaults may set the subject, quantity, options, points and tolerance; "
                        "id, text and answer belong to each question.")
    qs = raw.get("questions")
    if not isinstance(qs, list) or not qs:
        raise r.err("the file needs `questions:` with a list of questions", raw.key_line("questions") or 1,
                    "add `questions:` and under it items like `- {model: vgg16, quantity: params, answer: 138M}`.")
    if len(qs) > MAX_QUESTIONS:
        raise r.err(f"the file has {len(qs):,} questions, more than {MAX_QUESTIONS}", raw.key_line("questions"),
                    "split the homework into several files.")
    questions, ids = [], {}
    base = os.path.dirname(os.path.abspath(path))
    if root:
        r.root = os.path.abspath(root)
    for i, q in enumerate(qs):
        line = qs.item_line(i) if isinstance(qs, LocList) else None
        question = _question(r, q, i, line, defaults, base)
        if question.id in ids:
            raise r.err(f"two questions have the id '{question.id}'", question.line,
                        f"the first is at line {ids[question.id]}; give each question its own `id:`.")
        ids[question.id] = question.line
        questions.append(question)
    return AnswersFile(path, printable(title, newlines=False), questions)


def _key_line(d, k):
    return d.key_line(k) if isinstance(d, LocDict) else None


def _question(r: _Reader, q, index: int, line, defaults, base) -> Question:
    if not isinstance(q, dict):
        raise r.err(f"question {index + 1} must be a mapping, got {short_repr(q, 40)}", line,
                    "write each question as `- {quantity: params, model: vgg16, answer: 138M}` or a block mapping.")
    qline = getattr(q, "line", None) or line
    qid = q.get("id", f"q{index + 1}")
    if (not isinstance(qid, (str, int)) or isinstance(qid, bool) or not printable(str(qid)).strip()
            or len(str(qid)) > MAX_ID_CHARS or printable(str(qid), newlines=False) != str(qid)):
        raise r.err(f"question {index + 1}: `id` must be a short name", _key_line(q, "id"),
                    f"write e.g. `id: 1a` (at most {MAX_ID_CHARS} characters, no control characters).")
    qid = str(qid)
    ops = OPS
    for k in q:
        if k not in QUESTION_KEYS and k not in ops:
            close = difflib.get_close_matches(str(k), list(QUESTION_KEYS) + list(ops), n=2)
            raise r.err(f"unknown key {short_repr(k)}", _key_line(q, k),
                        (f"did you mean {' or '.join(close)}? " if close else "")
                        + f"question keys: {', '.join(QUESTION_KEYS)}, or an op name for an inline layer.", qid)
    merged = _merge(defaults, q)
    text = q.get("text", "")
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        raise r.err("`text` must be the question as text", _key_line(q, "text"), "write `text: How many params?`.", qid)
    text = printable(text, newlines=False)
    quantity = _quantity(r, merged, qid, qline)
    options = _options(r, merged, qid, Options())
    subject = _subject(r, merged, qid, qline, base)
    question = Question(qid, str(text), quantity, subject, options, None, 1.0, ROUNDING, qline, r.file)
    points = merged.get("points", 1)
    if (isinstance(points, bool) or not isinstance(points, (int, float)) or points != points
            or not 0 <= points <= MAX_POINTS):
        raise r.err(f"points {short_repr(points, 40)} must be a number from 0 to {MAX_POINTS:,}",
                    _key_line(merged, "points"), "write e.g. `points: 2`.", qid)
    question.points = float(points)
    for key, allowed in (("show", SHOW), ("visibility", VISIBILITY)):
        if key in merged:
            v = merged[key]
            if not isinstance(v, str) or v not in allowed:
                raise r.err(f"`{key}` must be one of {', '.join(allowed)}, not {short_repr(v, 40)}",
                            _key_line(merged, key), f"write e.g. `{key}: {allowed[0]}`"
                            + (" (what a student sees: all = the working too, expected = the true value, "
                               "verdict = right or wrong only)." if key == "show" else "."), qid)
            setattr(question, key, v)
    if "tolerance" in merged:
        try:
            question.tolerance = parse_tolerance(merged["tolerance"])
        except SpecError as e:
            raise e.located(file=r.file, line=_key_line(merged, "tolerance")) from None
    if quantity == "count":
        question.op, question.block = _count_target(r, merged, qid, qline)
        question.classifier = _classifier(r, merged, qid)
    if quantity in ("ratio", "fraction"):
        question.sides = _sides(r, merged, q, quantity, qid, qline, base, subject, options)
    elif any(k in merged for k in SIDE_KEYS):
        k = next(k for k in SIDE_KEYS if k in merged)
        raise r.err(f"`{k}:` only belongs to a ratio or fraction question, not {quantity}", _key_line(merged, k),
                    "remove it, or write `quantity: ratio` with `of:` and `to:`.", qid)
    if quantity != "count" and any(k in merged for k in COUNT_KEYS) and quantity not in ("ratio", "fraction"):
        k = next(k for k in COUNT_KEYS if k in merged)
        raise r.err(f"`{k}:` only belongs to a count question", _key_line(merged, k),
                    "remove it (to restrict sums to some ops, use `ops: [...]`).", qid)
    if subject.kind is None and quantity not in ("ratio", "fraction"):
        raise r.err("the question names no subject", qline,
                    "add `model: NAME` (a zoo model), `spec: FILE.yaml`, an inline layer such as "
                    "`conv2d: {in: [3, 32, 32], out_channels: 8, kernel_size: 3}`, or `layers: [...]` with `input:`; "
                    "or put the subject in `defaults:`.", qid)
    if "vary" in q:
        from .variants import parse_vary

        try:
            question.vary = parse_vary(q["vary"])
        except SpecError as e:
            e.message = f"question '{qid}': {e.message}"
            raise e.located(file=r.file, line=_key_line(q, "vary")) from None
        question.vary_line = _key_line(q, "vary")
    if "answer" in q and q["answer"] is not None:
        set_answer(question, q["answer"], _key_line(q, "answer"), _scalar_text(q, "answer"), r.file)
    return question


def _scalar_text(d, key):
    return d.scalar_text(key) if isinstance(d, LocDict) else None


def set_answer(q: Question, value, line, text, file) -> None:
    """Read ``value`` as ``q``'s answer; one that cannot be read makes only this question wrong.

    ``text``: the value as written in the file, from the YAML node of the answer itself (YAML has
    made ``1.20e8`` a float and dropped its last digit's precision), never from the line around it."""
    q.answer, q.answer_error, q.answer_raw, q.answer_line, q.answer_file = None, None, None, line, file
    if isinstance(value, float) and text:
        value = text
    if isinstance(value, str):
        value = printable(value, newlines=False)  # no terminal escapes in what is echoed back
    try:
        q.answer = parse_answer(value, memory=QUANTITIES[q.quantity].memory)
    except SpecError as e:
        q.answer_error = printable(e.message + (f" Fix: {e.fix}" if e.fix else ""), newlines=False)
        q.answer_raw = printable(short_repr(value, 60) if not isinstance(value, str) else value[:60],
                                 newlines=False)


def _merge(defaults, q):
    """The question's keys over the file's defaults (a subject in the question replaces the default's)."""
    out = LocDict(line=getattr(q, "line", None))
    subject_given = any(k in q for k in SUBJECT_KEYS) or any(k in OPS for k in q)
    for src in (defaults, q):
        for k, v in src.items():
            if src is q or not (subject_given and (k in SUBJECT_KEYS or k in OPS
                                                   or k in ("input", "set", "layer", "include"))):
                out[k] = v
                out.key_lines[k] = _key_line(src, k)
    return out


def _quantity(r, m, qid, qline) -> str:
    quantity = m.get("quantity")
    known = QUANTITIES
    if quantity is None:
        raise r.err("the question has no `quantity`", qline, f"add `quantity:` — one of {', '.join(known)}.", qid)
    if not isinstance(quantity, str) or quantity not in known:
        close = difflib.get_close_matches(str(quantity), list(known), n=2)
        raise r.err(f"unknown quantity {short_repr(quantity)}", _key_line(m, "quantity"),
                    (f"did you mean {' or '.join(close)}? " if close else "") + f"quantities: {', '.join(known)}.", qid)
    return quantity


def _options(r, m, qid, base: Options) -> Options:
    o = Options(**base.__dict__)
    if "convention" in m:
        c = m["convention"]
        if not isinstance(c, str) or c not in CONVENTIONS:
            raise r.err(f"unknown convention {short_repr(c)}", _key_line(m, "convention"),
                        f"use one of {', '.join(CONVENTIONS)} (see the README's counting conventions).", qid)
        o.convention = c
    if "dtype" in m:
        if not isinstance(m["dtype"], str) or m["dtype"] not in DTYPE_BYTES:
            raise r.err(f"unknown dtype {short_repr(m['dtype'])}", _key_line(m, "dtype"),
                        f"use one of {', '.join(DTYPE_BYTES)}.", qid)
        o.dtype = m["dtype"]
    if "batch" in m:
        b = m["batch"]
        if isinstance(b, bool) or not isinstance(b, int) or not 1 <= b <= MAX_BATCH:
            raise r.err(f"batch {short_repr(b, 40)} must be a positive integer up to {MAX_BATCH:,}", _key_line(m, "batch"),
                        "write `batch: 8`.", qid)
        o.batch = b
    if "layout" in m:
        lay = str(m["layout"]).lower().replace("×", "").replace("x", "")
        if lay not in LAYOUTS:
            raise r.err(f"layout {short_repr(m['layout'])} must be chw or hwc", _key_line(m, "layout"),
                        "write `layout: hwc` for H×W×C answers (Keras, most courses) or `chw` (torch).", qid)
        o.layout = lay
    if "include_input" in m:
        if not isinstance(m["include_input"], bool):
            raise r.err("`include_input` must be true or false", _key_line(m, "include_input"),
                        "write `include_input: true` to count the input tensor.", qid)
        o.include_input = m["include_input"]
    if "optimizer" in m:
        if not isinstance(m["optimizer"], str) or m["optimizer"] not in OPTIMIZERS:
            raise r.err(f"unknown optimizer {short_repr(m['optimizer'])}", _key_line(m, "optimizer"),
                        f"use one of {', '.join(OPTIMIZERS)}.", qid)
        o.optimizer = m["optimizer"]
    return o


def _shape_value(r, v, line, qid, what="input"):
    if isinstance(v, str):
        body = v.strip()
        if body[:1] + body[-1:] in ("()", "[]"):  # matching brackets only: `(1, 2]` is not a shape
            body = body[1:-1]
        parts = [p for p in re.split(r"[,x×\s]+", body) if p]
        v = [int(p) for p in parts] if all(p.isascii() and p.isdecimal() and len(p) <= 12 for p in parts) else None
    if (not isinstance(v, list) or not v or len(v) > 4
            or not all(isinstance(x, int) and not isinstance(x, bool) and 0 < x < 10 ** 12 for x in v)):
        raise r.err(f"`{what}` must be a shape of positive integers (channels first, no batch)", line,
                    "write e.g. `input: [3, 224, 224]`.", qid)
    return tuple(v)


def _module_source(r, v, line, qid, base) -> str:
    """``model: torchvision:NAME`` / ``timm:NAME`` as is; ``model: file.py:Name`` with its path made relative to
    the answers file's folder — and refused where the file is a student's (it would run their code)."""
    from ..capture.source import parse_source

    try:
        src = parse_source(v)
    except SpecError as e:
        raise r.err(e.message, line, e.fix or "write e.g. `model: torchvision:resnet18`.", qid) from None
    if src.kind != "file":
        return v
    if not r.allow_code:
        raise r.err(f"`model: {short_repr(v, 60)}` names Python code, which archcost does not run from a student's "
                    "answers", line, "describe the model as a spec (`spec: my_net.yaml`, written by `archcost import`), "
                    "or name a zoo model or torchvision:NAME.", qid)
    path = confine(src.path, base, root=getattr(r, "root", base), what="model", file=r.file, line=line)
    if not is_regular(path):
        raise r.err(f"no Python file {short_repr(src.path)} next to this answers file", line,
                    f"paths are relative to the answers file's folder ({base}).", qid)
    return path + v[len(src.path):]


def _subject(r, m, qid, qline, base) -> Subject:
    ops = OPS
    mains = [k for k in m if k in SUBJECT_KEYS or k in ops]
    if len(mains) > 1:
        raise r.err(f"the question names {len(mains)} subjects ({', '.join(mains)})", _key_line(m, mains[1]),
                    "give exactly one of model, spec, layers or an inline op.", qid)
    s = Subject(None)
    if mains:
        k = mains[0]
        s.line = _key_line(m, k)
        v = m[k]
        if k == "model":
            if isinstance(v, str) and v and len(v) <= 200 and is_module_source(v):  # torchvision:NAME, model.py:Net
                s.kind, s.name = "model", _module_source(r, v, s.line, qid, base)
            else:
                if (not isinstance(v, str) or not v or len(v) > 100 or any(c in v for c in "/\\\0~")
                        or v.startswith(".") or v.endswith((".yaml", ".yml"))):
                    raise r.err("`model` must be a zoo model's name", s.line,
                                "write e.g. `model: vgg16` (see `archcost zoo`); for a spec file use `spec: FILE.yaml`.",
                                qid)
                s.kind, s.name = "model", v
        elif k == "spec":
            if not isinstance(v, str) or not v:
                raise r.err("`spec` must be a path to a spec file", s.line,
                            "write e.g. `spec: my_net.yaml` (relative to this answers file).", qid)
            path = confine(v, base, root=getattr(r, "root", base), what="spec", file=r.file, line=s.line)
            if not is_regular(path):
                raise r.err(f"no spec file {short_repr(v)} next to this answers file", s.line,
                            "paths are relative to the answers file's folder; for a zoo model use `model:`.", qid)
            s.kind, s.name = "spec", path
        elif k == "layers":
            if not isinstance(v, list) or not v:
                raise r.err("`layers` must be a list of layers in the spec language", s.line,
                            "write e.g. `layers: [{conv2d: {out_channels: 16, kernel_size: 1}}, {relu: {}}]` "
                            "with `input: [C, H, W]`.", qid)
            if "input" not in m:
                raise r.err("inline `layers` need `input:` (the shape entering the first layer)", s.line,
                            "add e.g. `input: [192, 28, 28]` (channels first, no batch).", qid)
            s.kind, s.name, s.value = "layers", "inline", v
        else:
            if v is None:
                v = LocDict(line=s.line)
            if not isinstance(v, dict):
                raise r.err(f"the inline layer `{k}` takes a mapping of arguments", s.line,
                            f"write e.g. `{k}: {{in: [3, 32, 32], ...}}`.", qid)
            inp = v.get("in", v.get("input"))
            if inp is None and "input" not in m:
                raise r.err(f"the inline layer `{k}` needs its input shape", s.line,
                            f"add `in: [C, H, W]` to its arguments, e.g. `{k}: {{in: [3, 32, 32], ...}}`.", qid)
            if inp is not None:
                s.input = _shape_value(r, inp, _key_line(v, "in" if "in" in v else "input") or s.line, qid, "in")
            s.kind, s.name, s.value = "op", k, v
    if "input" in m:
        if s.kind == "op" and s.input is not None:
            raise r.err("the input shape is given twice (`input:` and `in:`)", _key_line(m, "input"),
                        "keep one of them.", qid)
        s.input = _shape_value(r, m["input"], _key_line(m, "input"), qid)
    if "set" in m:
        if not isinstance(m["set"], dict) or s.kind not in ("model", "spec"):
            raise r.err("`set` overrides a zoo model's or spec's parameters: a mapping, next to `model:` or `spec:`",
                        _key_line(m, "set"), "write e.g. `set: {width: 0.5}`.", qid)
        s.set = dict(m["set"])
        s.set_line = _key_line(m, "set")
    if "include" in m:
        inc = m["include"]
        inc = [inc] if isinstance(inc, str) else inc
        if s.kind != "layers" or not isinstance(inc, list) or not all(isinstance(x, str) for x in inc):
            raise r.err("`include` loads block libraries for inline `layers`", _key_line(m, "include"),
                        "write e.g. `include: [classic]` next to `layers:`.", qid)
        s.include = tuple(inc)
    if "layer" in m:
        lay = m["layer"]
        lay = [lay] if isinstance(lay, (str, int)) and not isinstance(lay, bool) else lay
        if not isinstance(lay, list) or not lay or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in lay):
            raise r.err("`layer` must be a node id or name prefix (or a list of them)", _key_line(m, "layer"),
                        "write e.g. `layer: inception3a` or `layer: [linear0, linear1]` (see `archcost table NAME`).", qid)
        s.layer = tuple(str(x) for x in lay)
        s.layer_line = _key_line(m, "layer")
    if "ops" in m:
        o = m["ops"]
        o = [o] if isinstance(o, str) else o
        bad = [x for x in (o if isinstance(o, list) else [o]) if not isinstance(x, str) or (x not in OPS and x not in FAMILIES)]
        if not isinstance(o, list) or not o or bad:
            raise r.err(f"`ops` must list op names or families, not {short_repr(bad[0] if bad else o)}",
                        _key_line(m, "ops"),
                        f"write e.g. `ops: [conv2d, linear]`; families: {', '.join(FAMILIES)}; ops: `archcost ops`.", qid)
        s.ops = tuple(o)
        s.ops_line = _key_line(m, "ops")
    return s


def _classifier(r, m, qid) -> bool:
    c = m.get("classifier", True)
    if not isinstance(c, bool):
        raise r.err("`classifier` must be true or false", _key_line(m, "classifier"),
                    "write `classifier: false` to leave the classifier out (\"two hidden fully-connected layers\").", qid)
    if c is False and m.get("op") is None:
        raise r.err("`classifier: false` needs `op:` (it leaves the last weight layer out of a layer count)",
                    _key_line(m, "classifier"), "write e.g. `op: linear` with `classifier: false`.", qid)
    return c


def _count_target(r, m, qid, qline):
    op, block = m.get("op"), m.get("block")
    if (op is None) == (block is None):
        raise r.err("a count question needs `op:` (layers of an op) or `block:` (blocks of a kind)", qline,
                    "write e.g. `op: conv2d` or `block: inception`.", qid)
    if op is not None:
        ops = [op] if isinstance(op, str) else op
        if not isinstance(ops, list) or not ops or not all(isinstance(x, str) and (x in OPS or x in FAMILIES) for x in ops):
            raise r.err(f"`op` must name ops or op families, not {short_repr(op)}", _key_line(m, "op"),
                        f"write e.g. `op: conv2d`; families: {', '.join(FAMILIES)}.", qid)
        return tuple(ops), None
    if not isinstance(block, str) or not block:
        raise r.err("`block` must name a block kind", _key_line(m, "block"), "write e.g. `block: inception`.", qid)
    return None, block


def _sides(r, merged, q, quantity, qid, qline, base, subject, options) -> dict:
    keys = ("of", "to") if quantity == "ratio" else ("part", "whole")
    wrong = [k for k in SIDE_KEYS if k in merged and k not in keys]
    if wrong:
        raise r.err(f"a {quantity} takes `{keys[0]}:` and `{keys[1]}:`, not `{wrong[0]}:`", _key_line(merged, wrong[0]),
                    f"write `{keys[0]}: {{...}}` and `{keys[1]}: {{...}}`, each with a subject and a `quantity:`.", qid)
    missing = [k for k in keys if k not in merged]
    if missing:
        raise r.err(f"a {quantity} needs two subjects or quantities: `{keys[0]}:` and `{keys[1]}:` "
                    f"(`{missing[0]}:` is missing)", qline,
                    f"write e.g. `{keys[0]}: {{spec: a.yaml, quantity: macs}}` and `{keys[1]}: {{spec: b.yaml, quantity: macs}}`; "
                    "a side without a subject uses the question's.", qid)
    out = {}
    for k in keys:
        v = merged[k]
        line = _key_line(merged, k)
        if not isinstance(v, dict):
            raise r.err(f"`{k}` must be a mapping with a subject and a quantity", line,
                        f"write `{k}: {{model: vgg16, quantity: params}}`.", qid)
        allowed = (*SUBJECT_KEYS, *MODIFIER_KEYS, *OPTION_KEYS, "quantity", *COUNT_KEYS)
        for kk in v:
            if kk not in allowed and kk not in OPS:
                raise r.err(f"unknown key {short_repr(kk)} in `{k}`", _key_line(v, kk) or line,
                            f"keys allowed in a side: {', '.join(allowed)}, or an op name.", qid)
        # a side with its own subject replaces the question's; otherwise it narrows it (layer, ops)
        own = any(kk in SUBJECT_KEYS or kk in OPS for kk in v)
        sm = LocDict(line=getattr(v, "line", line))
        if not own:
            for kk, vv in merged.items():
                if kk in SUBJECT_KEYS or kk in OPS or kk in ("input", "set", "include"):
                    sm[kk] = vv
                    sm.key_lines[kk] = _key_line(merged, kk)
        for kk, vv in v.items():
            sm[kk] = vv
            sm.key_lines[kk] = _key_line(v, kk) or line
        if "quantity" not in v:
            raise r.err(f"`{k}` needs `quantity:`", line, f"write e.g. `{k}: {{..., quantity: macs}}`.", qid)
        q2 = _quantity(r, sm, qid, line)
        if q2 in ("ratio", "fraction"):
            raise r.err(f"`{k}` cannot itself be a {q2}", _key_line(sm, "quantity"), "give a plain quantity such as macs.", qid)
        opts = _options(r, sm, qid, options)
        subj = _subject(r, sm, qid, line, base)
        if subj.kind is None:
            raise r.err(f"`{k}` names no subject, and neither does the question", line,
                        f"add a subject to `{k}` (e.g. `model: vgg16`) or to the question.", qid)
        side = Side(k, subj, q2, opts, line)
        if q2 == "count":
            side.op, side.block = _count_target(r, sm, qid, line)
            side.classifier = _classifier(r, sm, qid)
        out[k] = side
    return out


# ---------------------------------------------------------------------------- a student's responses

def load_responses(path: str, key: AnswersFile) -> AnswersFile:
    """The key's questions with the answers of a student's responses file (``id: answer`` lines).

    A responses file is untrusted: it can give answers and nothing else.  It names no path, sets no
    tolerance, points or defaults; a key it has that is not a question's id is reported in
    ``notices`` and otherwise ignored.  An answer that cannot be read makes its question wrong.
    The key's own ``answer:`` values (an instructor's worked answers) are not used."""
    raw = load_yaml_file(path)
    r = _Reader(path)
    if raw is None:
        raw = LocDict(line=1)
    if not isinstance(raw, LocDict):
        raise r.err("the responses file must be a mapping of question ids to answers", 1,
                    "write one line per question, e.g. `1a: 120M`.")
    by_id = {q.id: q for q in key.questions}
    for q in key.questions:
        q.answer = q.answer_error = q.answer_raw = None
        q.answer_line, q.answer_file = None, path
    notices = []
    for k, v in raw.items():
        qid = str(k) if isinstance(k, (str, int)) and not isinstance(k, bool) else None
        line = raw.key_line(k)
        if qid is None or qid not in by_id:
            notices.append(f"{os.path.basename(path)}:{line}: {short_repr(printable(str(k), newlines=False), 40)} "
                           "is not a question of this homework (ignored)")
            continue
        if v is None:
            continue
        if isinstance(v, dict):
            v = f"a mapping ({len(v)} keys)"  # not an answer: read (and refused) as text
        set_answer(by_id[qid], v, line, raw.scalar_text(k), path)
    if len(notices) > 20:
        notices = notices[:20] + [f"... and {len(notices) - 20} more keys that are not question ids (ignored)"]
    return AnswersFile(key.file, key.title, key.questions, notices, path)
