"""``archcost explain``: the working of a layer, a block or a whole model (the checker's own workings)."""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass

from ..api import parse_input
from ..errors import SpecError
from ..ops import OPS
from .answers import checked_options
from .quantities import QUANTITIES, evaluate
from .records import Subject
from .subjects import FAMILIES, build_subject, matches_op, select_layers

MODEL_DEFAULT = ("params", "macs", "flops", "peak_activation_bytes", "depth")
PART_DEFAULT = ("output_shape", "params", "macs", "activation_bytes")
NOT_HERE = ("ratio", "fraction", "count")


@dataclass
class Explained:
    title: str
    convention: str
    workings: list  # (quantity, Working)


def explain_spec(spec: str, *, layers=None, quantities=None, input=None, overrides=None, convention="default",
                 dtype="float32", batch=1, ops=None) -> Explained:
    """Workings of ``quantities`` for a zoo model or spec file, or for some of its layers / blocks."""
    o = checked_options(convention, dtype, batch)
    for q in quantities or ():
        if q not in QUANTITIES or q in NOT_HERE:
            known = [k for k in QUANTITIES if k not in NOT_HERE]
            close = difflib.get_close_matches(q, known, n=2)
            raise SpecError(f"unknown quantity '{q}' for explain", fix=(f"did you mean {' or '.join(close)}? " if close else "")
                            + f"quantities: {', '.join(known)}.")
    for o in ops or ():
        if o not in OPS and o not in FAMILIES:
            raise SpecError(f"--ops {o}: not an op or op family", fix=f"families: {', '.join(FAMILIES)}; ops: `archcost ops`.")
    kind = "spec" if os.path.sep in spec or spec.endswith((".yaml", ".yml")) else "model"
    subject = Subject(kind, spec, input=parse_input(input), set=dict(overrides or {}))
    sel = build_subject(subject, None)
    if layers:
        sel.nodes = select_layers(sel.graph, layers, file=None, line=None)
        sel.whole = False
        sel.label += " / " + ", ".join(layers)
    if ops:
        sel.nodes = [n for n in sel.nodes if matches_op(n, tuple(ops))]
        sel.whole = False
        sel.label += f" [{', '.join(ops)}]"
        if not sel.nodes:
            raise SpecError(f"no layer there is one of {', '.join(ops)}", fix="check --ops against `archcost table`.")
    wanted = quantities or (MODEL_DEFAULT if sel.whole else PART_DEFAULT)
    workings = [(q, evaluate(sel, q, o).working) for q in wanted]
    return Explained(sel.label, convention, workings)


def explain_text(e: Explained, depth=None) -> str:
    lines = [f"{e.title} — convention {e.convention}"]
    for q, w in e.workings:
        lines += ["", f"{q}:"] + ["  " + x for x in w.lines(depth)]
    return "\n".join(lines) + "\n"


def explain_markdown(e: Explained, depth=None) -> str:
    from .render import working_html

    lines = [f"**{e.title}** — convention `{e.convention}`"]
    for q, w in e.workings:
        lines += ["", f"### {q}", "", f"<ul>{working_html(w, depth)}</ul>"]
    return "\n".join(lines) + "\n"


def explain_json(e: Explained) -> str:
    return json.dumps({"subject": e.title, "convention": e.convention,
                       "workings": {q: w.to_dict() for q, w in e.workings}}, indent=2, ensure_ascii=False, allow_nan=False)
