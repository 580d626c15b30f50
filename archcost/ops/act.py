"""Activation functions.

``act_flops`` per element are conventional estimates used by the ``full``
preset (one per compare, add, multiply, divide; exp/tanh/erf count as one
each); no peer tool agrees on these, which is why ``default`` leaves them out.
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from . import saves as sv
from . import working as wk
from .base import FORM, Attr, OpDef, RFRule, register


def _leaky_saves(a, ins, out, rg):
    # in place, its backward needs only the output's sign: it saves the output (the overwritten tensor)
    return [("output", sv.OUT)] if a.get("inplace") else [("input", sv.in_(0))]


# name -> (torch class, flops per element, extra attrs, what backward saves); relu6, hardswish,
# hardsigmoid and silu in place keep a copy of their input, an in-place relu saves the overwritten tensor
ACTIVATIONS = {
    "relu": ("ReLU", 1, (), sv.output),
    "relu6": ("ReLU6", 2, (), sv.input_or_copy),
    "leaky_relu": ("LeakyReLU", 2, (Attr("negative_slope", "float", 0.01),), _leaky_saves),
    "hardswish": ("Hardswish", 4, (), sv.input_or_copy),
    "hardsigmoid": ("Hardsigmoid", 3, (), sv.input_or_copy),
    "sigmoid": ("Sigmoid", 3, (), sv.output),  # exp, add, divide
    "silu": ("SiLU", 4, (), sv.input_or_copy),  # sigmoid, multiply
    "gelu": ("GELU", 8, (Attr("approximate", "str", "none", choices=("none", "tanh")),), sv.input_),
    "tanh": ("Tanh", 1, (), sv.output),
}
INPLACE = {"relu", "relu6", "leaky_relu", "hardswish", "hardsigmoid", "silu"}


def _make(name, cls_name, per_elem, extra, saves):
    def costs(a, ins, out):
        return {"act_flops": per_elem * prod(out)}

    def lower(a, ins):
        from torch import nn

        kw = {x.name: a[x.name] for x in extra}
        if name in INPLACE and a.get("inplace"):
            kw["inplace"] = True
        return getattr(nn, cls_name)(**kw)

    def explain(a, ins, out):
        return {"output_shape": wk.shape_working(out, note="same as the input"),
                "act_flops": wk.elementwise("act_flops", out, per_elem, "per element", unit="FLOPs",
                                            note=f"{name}: {per_elem} per element (archcost's estimate)")}

    attrs = extra + ((Attr("inplace", "bool", False, doc="overwrite the input (saves memory)"),)
                     if name in INPLACE else ()) + (FORM,)
    register(OpDef(name=name, attrs=attrs, shape=lambda a, ins: ins[0], costs=costs, lower=lower,
                   explain=explain, family="act", torch_name=f"nn.{cls_name}",
                   category="act", kind="act", saves=saves, rf=RFRule("same"), latency_class=name))


for _n, (_cls, _per, _extra, _saves) in ACTIVATIONS.items():
    _make(_n, _cls, _per, _extra, _saves)


def _softmax_prepare(a, ins):
    rank = len(ins[0])
    if not -rank <= a["dim"] < rank:
        raise ShapeError(f"softmax dim={a['dim']} is out of range for input of rank {rank} (batch excluded)",
                         fix="dim counts from 0 = the first non-batch dimension (torch's dim 1).")
    return a


def _softmax_explain(a, ins, out):
    return {"output_shape": wk.shape_working(out, note="same as the input"),
            "act_flops": wk.elementwise("act_flops", out, 3, "per element", unit="FLOPs", note="exp, sum, divide")}


def _softmax_lower(a, ins):
    from torch import nn

    d = a["dim"]
    return nn.Softmax(dim=d + 1 if d >= 0 else d)


register(OpDef(
    name="softmax", attrs=(Attr("dim", "int", 0, doc="dimension, counted without the batch (0 = channels/features)"), FORM),
    prepare=_softmax_prepare, shape=lambda a, ins: ins[0],
    costs=lambda a, ins, out: {"act_flops": 3 * prod(out)},  # exp, sum, divide
    lower=_softmax_lower, explain=_softmax_explain, family="act", torch_name="nn.Softmax",
    category="act", kind="act", saves=sv.output, latency_class="softmax",
    rf=RFRule("along", lambda a, ins, out: a["dim"] % len(ins[0]))))
