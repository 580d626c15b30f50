"""``opaque``: a call captured from a torch module that no registry op describes.

``archcost.capture`` never drops a call it does not understand: it becomes one opaque row, named
by the call and its source line, that carries what was measured on the real module — its output
shape, the FLOPs ``torch.utils.flop_counter.FlopCounterMode`` counted for it, and the parameters
and buffers it owns.  The row keeps totals honest (params equal ``sum(p.numel())``; ``default``
MACs equal FlopCounterMode's total / 2) while saying plainly that archcost did not model it.
It cannot be lowered: archcost does not know what it computes.
"""

from __future__ import annotations


from ..errors import ShapeError
from . import working as wk
from . import saves as sv
from .base import Attr, OpDef, Params, RFRule, register


def _shape(a, ins):
    shape = a["output_shape"]
    if not isinstance(shape, (list, tuple)) or not all(isinstance(x, int) and x > 0 for x in shape):
        raise ShapeError(f"opaque output_shape must be positive integers without the batch, got {shape!r}",
                         fix="write e.g. `output_shape: [64, 56, 56]`.")
    return tuple(shape)


def _costs(a, ins, out):
    # FlopCounterMode counts only matmul- and conv-like kernels, 2 FLOPs per multiply-accumulate
    macs = a["flops"] // 2
    return {"macs": macs, "fvcore": macs} if macs else {}


def _params(a, ins):
    return Params(weight=a["params"], buffers=a["buffers"])


def _explain(a, ins, out):
    res = {"output_shape": wk.shape_working(out, note=f"measured on the module ({a['call']})")}
    return res


def _lower(a, ins):
    from torch import nn

    call = a["call"]

    class Opaque(nn.Module):
        def forward(self, *xs):
            raise NotImplementedError(f"archcost cannot run the captured call {call}: it maps onto no archcost op")

    return Opaque()


register(OpDef(
    name="opaque",
    attrs=(Attr("call", "str", doc="the captured call and where it was made (e.g. `torch.roll at model.py:42`)"),
           Attr("output_shape", "any", doc="its output shape without the batch, as measured"),
           Attr("flops", "int", 0, min=0, doc="FLOPs FlopCounterMode measured for it (batch 1)"),
           Attr("params", "int", 0, min=0, doc="parameters it owns"),
           Attr("buffers", "int", 0, min=0, doc="buffers it owns")),
    shape=_shape, costs=_costs, params=_params, lower=_lower, explain=_explain, family="other",
    torch_name="(captured call)", category="other", kind="other", lowerable=False,
    # what it computes is unknown, so the cautious reading of each fact: backward keeps its input, each
    # output unit may see all of its input, and it costs what copying its bytes costs
    saves=sv.input_, rf=RFRule("dense"), latency_class="eltwise",
    doc="a captured call archcost has no op for: measured shape, FLOPs and params; not lowerable."))
