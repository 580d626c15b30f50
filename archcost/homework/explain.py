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
from .subjects import FAMILIES, build_subject, matches_op, paper_names, select_layers

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
        sel.nodes = select_layers(sel.graph, layers, file=None, line=None, aliases=paper_names(sel.graph))
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


def layer_names(spec: str, *, input=None, overrides=None) -> str:
    """What a question's ``layer:`` accepts for a model: its top-level layer and block names (with the
    output shape) and the paper names its spec declares, each with what it selects."""
    kind = "spec" if os.path.sep in spec or spec.endswith((".yaml", ".yml")) else "model"
    sel = build_subject(Subject(kind, spec, input=parse_input(input), set=dict(overrides or {})), None)
    g = sel.graph
    last = {}
    for n in g.nodes:
        last[n.id.split(".")[0]] = n
    lines = [f"{g.name}: names a question's `layer:` accepts (a node id or any dotted prefix of one)", "",
             "layers and blocks:"]
    for top, n in last.items():
        kind = g.groups.get(top) or n.op
        lines.append(f"  {top:<28} {kind:<22} → {'×'.join(str(d) for d in n.out_shape)}")
    names = paper_names(g)
    if names:
        lines += ["", "paper names:"]
        ids = {n.id for n in g.nodes}
        for k, targets in names.items():
            have = [t for t in targets if any(i == t or i.startswith(t + ".") for i in ids)]
            shown = ", ".join(targets) if len(targets) <= 3 else f"{targets[0]} ... {targets[-1]} ({len(targets)})"
            lines.append(f"  {k:<28} = {shown}" + ("" if have else f"  (not in {g.name})"))
    return "\n".join(lines) + "\n"
