"""``archcost calc``: one layer's shape, params, MACs and memory with the working, from the command line,
and the course's standard vs depthwise-separable comparison.

    archcost calc conv2d --in 3,227,227 --out-channels 96 --kernel-size 11 --stride 4
    archcost calc conv2d --in 512,14,14 --out-channels 512 --kernel-size 3 --padding 1 --compare depthwise-separable

Options are the op's arguments with torch's names, dashes for underscores; ``--no-bias`` is
``--bias false``.  A ``linear`` on a feature map is a flatten then a linear layer.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError, short_repr
from ..ops import OPS
from ..ops.base import fmt_shape
from ..ops import working as wk
from ..ops.working import Working
from .quantities import evaluate
from .records import Options, Subject
from .subjects import build_subject

CALC_QUANTITIES = ("output_shape", "params", "macs", "flops", "activation_bytes", "weight_bytes")
COMPARISONS = ("depthwise-separable",)


def parse_op_args(opname: str, args: list) -> dict:
    """``["--out-channels", "96", "--no-bias"]`` → ``{"out_channels": 96, "bias": False}`` for op ``opname``."""
    if opname not in OPS:
        close = difflib.get_close_matches(opname, list(OPS), n=3)
        raise SpecError(f"unknown op '{opname}'", fix=(f"did you mean {', '.join(close)}? " if close else "")
                        + "run `archcost ops` for the list.")
    op = OPS[opname]
    out, i = {}, 0
    while i < len(args):
        tok = args[i]
        if not tok.startswith("--") or len(tok) < 3:
            raise SpecError(f"unexpected argument {short_repr(tok)}", fix="give op arguments as --name value, e.g. --kernel-size 3.")
        name, value = tok[2:], None
        if "=" in name:
            name, value = name.split("=", 1)
        key = name.replace("-", "_")
        if key.startswith("no_") and key[3:] in op.attr_index and op.attr_index[key[3:]].kind == "bool" and value is None:
            out[key[3:]] = False
            i += 1
            continue
        attr = op.attr_index.get(key)
        if attr is None:
            names = [a.name.replace("_", "-") for a in op.attrs]
            close = difflib.get_close_matches(name, names, n=1)
            raise SpecError(f"{opname} has no option --{name}",
                            fix=(f"did you mean --{close[0]}? " if close else "")
                                + f"its options: {', '.join('--' + n for n in names) or 'none'}, and --in for the input shape.")
        if value is None:
            if attr.kind == "bool" and (i + 1 == len(args) or args[i + 1].startswith("--")):
                value = "true"
            elif i + 1 < len(args):
                i += 1
                value = args[i]
            else:
                raise SpecError(f"--{name} needs a value", fix=f"write e.g. --{name} 3.")
        out[key] = _value(value)
        i += 1
    return out


def _value(text: str):
    t = text.strip()
    low = t.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    if re.fullmatch(r"-?\d+(,\s*-?\d+)+", t) or re.fullmatch(r"\d+(x\d+)+", low):
        return [int(x) for x in re.split(r"[,x]\s*", low)]
    try:
        return float(t)
    except ValueError:
        return t


def parse_shape(text: str) -> tuple:
    parts = [p for p in re.split(r"[,x×\s]+", text.strip("()[] ")) if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(d < 1 for d in shape) or len(shape) > 4:
        raise SpecError(f"--in {short_repr(text)} must be the input shape, channels first, no batch",
                        fix="write e.g. --in 3,227,227.")
    return shape


@dataclass
class Calc:
    title: str
    workings: dict  # quantity -> Working
    notes: list


def _subject(opname, shape, args) -> Subject:
    from ..language.yamlload import LocDict

    value = LocDict(line=None)
    value.update(args)
    return Subject("op", opname, value, input=shape)


def calc(opname: str, shape: tuple, args: dict, options: Options | None = None, quantities=CALC_QUANTITIES) -> Calc:
    """Shape, params, MACs, FLOPs and memory of one layer, each with its working."""
    o = options or Options()
    try:
        sel = build_subject(_subject(opname, shape, args), "archcost calc")
    except SpecError as e:  # the layer was written from options: say which option, not which YAML key
        if e.fix and e.fix.startswith("add `") and e.fix.endswith(": ...` to the layer."):
            name = e.fix[len("add `"):-len(": ...` to the layer.")]
            e.fix = f"give --{name.replace('_', '-')} N, e.g. --{name.replace('_', '-')} 3."
            e.args = (str(e),)
        raise
    notes, sel.notes = sel.notes, []  # printed once, not under every quantity
    out = {q: evaluate(sel, q, o).working for q in quantities}
    title = f"{opname} on {fmt_shape(shape)}" + (
        " (" + ", ".join(f"{k}={v}" for k, v in args.items()) + ")" if args else "")
    return Calc(title, out, notes)


@dataclass
class Separable:
    standard: dict  # quantity -> Working (macs, params)
    depthwise: dict
    pointwise: dict
    ratios: dict  # quantity -> Fraction (separable / standard)
    formula: Working  # 1/N + 1/Dk², the MobileNet paper's reduction in computation


def depthwise_separable(shape: tuple, args: dict, options: Options | None = None) -> Separable:
    """A standard k×k convolution vs its depthwise-separable factorisation: a k×k depthwise convolution
    (groups = C_in, same stride and padding) then a 1×1 pointwise convolution to C_out channels.

    The MobileNet paper (Howard et al. 2017, §3.1) gives the reduction in computation as
    ``1/N + 1/D_K²`` (N = output channels, D_K = kernel size); it is exact for the MACs of any
    input, stride and padding, because both factors produce the same output grid.
    """
    o = options or Options()
    for k in ("out_channels", "kernel_size"):
        if k not in args:
            raise SpecError(f"--compare depthwise-separable needs --{k.replace('_', '-')}",
                            fix="write e.g. --out-channels 512 --kernel-size 3 --padding 1.")
    if args.get("groups", 1) != 1:
        raise SpecError("--compare depthwise-separable starts from a standard convolution (groups 1)",
                        fix="leave out --groups.")
    c_in = shape[0]
    dw_args = {**args, "out_channels": c_in, "groups": c_in}
    pw_args = {"out_channels": args["out_channels"], "kernel_size": 1, "bias": args.get("bias", True)}
    std = calc("conv2d", shape, args, o, ("macs", "params", "output_shape"))
    dw = calc("conv2d", shape, dw_args, o, ("macs", "params", "output_shape"))
    mid = dw.workings["output_shape"].value
    pw = calc("conv2d", mid, pw_args, o, ("macs", "params", "output_shape"))
    ratios = {q: Fraction(dw.workings[q].value + pw.workings[q].value, std.workings[q].value)
              for q in ("macs", "params")}
    k = args["kernel_size"]
    ks = k if isinstance(k, (list, tuple)) else (k, k)
    n = args["out_channels"]
    value = Fraction(1, n) + Fraction(1, ks[0] * ks[1])
    formula = Working("ratio", value, (f"1/{n} + 1/({wk.dot(*ks)})", "≈" + wk.dec(value)),
                      note="1/N + 1/D_K², the MobileNet paper's reduction in computation (Howard et al. 2017, §3.1)")
    return Separable(std.workings, dw.workings, pw.workings, ratios, formula)


def calc_text(c: Calc) -> str:
    lines = [c.title]
    lines += [f"  note: {n}" for n in c.notes]
    for q, w in c.workings.items():
        lines.append(f"  {q}:")
        lines += ["    " + x for x in w.lines()]
    return "\n".join(lines) + "\n"


def separable_text(s: Separable) -> str:
    def row(name, d):
        return f"  {name:<22} MACs {d['macs'].value:>14,}   params {d['params'].value:>12,}   output {fmt_shape(d['output_shape'].value)}"
    total = {q: s.depthwise[q].value + s.pointwise[q].value for q in ("macs", "params")}
    lines = ["standard vs depthwise-separable convolution", row("standard", s.standard),
             row("depthwise k×k", s.depthwise), row("pointwise 1×1", s.pointwise),
             f"  {'separable total':<22} MACs {total['macs']:>14,}   params {total['params']:>12,}",
             f"  separable / standard   MACs {wk.dec(s.ratios['macs'])} (1/{wk.dec(1 / s.ratios['macs'])})   "
             f"params {wk.dec(s.ratios['params'])}",
             f"  MobileNet formula      {s.formula.line()}",
             "", "working:"]
    for name, d in (("standard", s.standard), ("depthwise", s.depthwise), ("pointwise", s.pointwise)):
        for q in ("macs", "params"):
            lines.append(f"  {name} {q}: {d[q].line()}")
    return "\n".join(lines) + "\n"


def separable_dict(s: Separable) -> dict:
    def part(d):
        return {q: d[q].to_dict() for q in ("macs", "params", "output_shape")}
    return {"standard": part(s.standard), "depthwise": part(s.depthwise), "pointwise": part(s.pointwise),
            "ratio": {q: float(v) for q, v in s.ratios.items()},
            "formula": {"text": s.formula.line(), "value": float(s.formula.value)}}
