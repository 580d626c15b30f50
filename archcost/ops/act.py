"""Activation functions.

``act_flops`` per element are conventional estimates used by the ``full``
preset (one per compare, add, multiply, divide; exp/tanh/erf count as one
each); no peer tool agrees on these, which is why ``default`` leaves them out.
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from . import working as wk
from .base import Attr, OpDef, register

# name -> (torch class, flops per element, extra attrs)
ACTIVATIONS = {
    "relu": ("ReLU", 1, ()),
    "relu6": ("ReLU6", 2, ()),
    "leaky_relu": ("LeakyReLU", 2, (Attr("negative_slope", "float", 0.01),)),
    "hardswish": ("Hardswish", 4, ()),
    "hardsigmoid": ("Hardsigmoid", 3, ()),
    "sigmoid": ("Sigmoid", 3, ()),  # exp, add, divide
    "silu": ("SiLU", 4, ()),  # sigmoid, multiply
    "gelu": ("GELU", 8, (Attr("approximate", "str", "none", choices=("none", "tanh")),)),
    "tanh": ("Tanh", 1, ()),
}
INPLACE = {"relu", "relu6", "leaky_relu", "hardswish", "hardsigmoid", "silu"}


def _make(name, cls_name, per_elem, extra):
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
                     if name in INPLACE else ())
    register(OpDef(name=name, attrs=attrs, shape=lambda a, ins: ins[0], costs=costs, lower=lower,
                   explain=explain, family="act", torch_name=f"nn.{cls_name}"))


for _n, (_cls, _per, _extra) in ACTIVATIONS.items():
    _make(_n, _cls, _per, _extra)


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
    name="softmax", attrs=(Attr("dim", "int", 0, doc="dimension, counted without the batch (0 = channels/features)"),),
    prepare=_softmax_prepare, shape=lambda a, ins: ins[0],
    costs=lambda a, ins, out: {"act_flops": 3 * prod(out)},  # exp, sum, divide
    lower=_softmax_lower, explain=_softmax_explain, family="act", torch_name="nn.Softmax"))
