"""Ops that route tensors: flatten, add, concat, multiply, shuffle, slice, padding, identity."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, short_repr
from . import saves as sv
from . import working as wk
from .base import Attr, OpDef, RFRule, fmt_shape, register, spatial_names, torch_module

_SAME = RFRule("same")


_tm = torch_module  # lower to archcost._torch_modules.<name>


def _flatten_shape(a, ins):
    shape = ins[0]
    # torch's dims count the batch as dim 0; negative dims count from the end, as in torch
    rank = len(shape) + 1
    s = a["start_dim"] + rank if a["start_dim"] < 0 else a["start_dim"]
    e = a["end_dim"] + rank if a["end_dim"] < 0 else a["end_dim"]
    if not 1 <= s <= e < rank:
        raise ShapeError(f"flatten start_dim={a['start_dim']}, end_dim={a['end_dim']} do not fit input {fmt_shape(shape)}",
                         fix="use start_dim >= 1 (dim 0 is the batch) and end_dim after it.")
    s, e = s - 1, e - 1
    return (*shape[:s], prod(shape[s:e + 1]), *shape[e + 1:])


def _flatten_dims(a, ins, out):
    """The input dimensions each output dimension is made of (the receptive-field geometry)."""
    rank = len(ins[0]) + 1
    s = (a["start_dim"] + rank if a["start_dim"] < 0 else a["start_dim"]) - 1
    e = (a["end_dim"] + rank if a["end_dim"] < 0 else a["end_dim"]) - 1
    return (*((i,) for i in range(s)), tuple(range(s, e + 1)), *((i,) for i in range(e + 1, len(ins[0]))))


def _flatten_explain(a, ins, out):
    """Working of flatten: the merged dimensions multiplied out (256·6·6 = 9,216)."""
    rank = len(ins[0]) + 1
    s = (a["start_dim"] + rank if a["start_dim"] < 0 else a["start_dim"]) - 1
    e = (a["end_dim"] + rank if a["end_dim"] < 0 else a["end_dim"]) - 1
    merged = ins[0][s:e + 1]
    part = wk.Working("features", out[s], (wk.dot(*merged), wk.num(out[s])) if len(merged) > 1 else (wk.num(out[s]),),
                      label=f"dims {s + 1}..{e + 1}", note="merged into one (a view: no copy)")
    return {"output_shape": wk.shape_working(out, [part])}


def _unchanged(a, ins, out):
    return {"output_shape": wk.shape_working(out, note="same as the input")}


def _flatten_lower(a, ins):
    from torch import nn

    return nn.Flatten(a["start_dim"], a["end_dim"])


register(OpDef(name="flatten", attrs=(Attr("start_dim", "int", 1), Attr("end_dim", "int", -1)),
               shape=_flatten_shape, lower=_flatten_lower, explain=_flatten_explain, view=True, family="other", torch_name="nn.Flatten",
               doc="torch's dims: start_dim 1 is the first non-batch dimension.",
               category="other", kind="view", saves=sv.nothing, rf=RFRule("reshape", _flatten_dims)))


def _identity_lower(a, ins):
    from torch import nn

    return nn.Identity()


register(OpDef(name="identity", attrs=(), shape=lambda a, ins: ins[0], lower=_identity_lower, explain=_unchanged, view=True,
               family="other", torch_name="nn.Identity", category="other", kind="view", saves=sv.nothing, rf=_SAME))


def _add_shape(a, ins):
    first = ins[0]
    for other in ins[1:]:
        if other != first:
            raise ShapeError(f"cannot add tensors of shapes {' and '.join(fmt_shape(s) for s in ins)}",
                             fix="make the branches end with the same channels and resolution "
                                 "(add a 1×1 projection shortcut with the right stride).")
    return first


def _eltwise_explain(what):
    """Working of an element-wise join of n tensors: (n − 1) operations per output element."""
    def explain(a, ins, out):
        note = "same as the inputs" if what == "adds" else "broadcast: the largest size of each dimension"
        res = {"output_shape": wk.shape_working(out, note=note)}
        groups = [(out, "elements")] + ([((len(ins) - 1,), f"{what} per element")] if len(ins) > 2 else [])
        res["eltwise_flops"] = wk.product("eltwise_flops", groups, unit="FLOPs",
                                          note=f"{len(ins)} inputs: {len(ins) - 1} {what[:-1] if len(ins) == 2 else what} per element")
        return res
    return explain


register(OpDef(name="add", attrs=(), shape=_add_shape, arity=None, explain=_eltwise_explain("adds"),
               costs=lambda a, ins, out: {"eltwise_flops": (len(ins) - 1) * prod(out)},
               lower=_tm("Add"), family="merge", torch_name="torch.add",
               category="eltwise", kind="merge", saves=sv.nothing, rf=RFRule("union"), latency_class="add"))


def _multiply_saves(a, ins, out, rg):
    """x0 * x1 * x2 ...: each product saves each factor whose partner needs a gradient."""
    saved, acc, what, acc_rg = [], sv.in_(0), "input 0", rg[0]
    for k in range(1, len(ins)):
        if rg[k]:
            saved.append((what, acc))
        if acc_rg:
            saved.append((f"input {k}", sv.in_(k)))
        acc, what, acc_rg = sv.new(prod(out)), f"product of inputs 0..{k}", acc_rg or rg[k]
    return saved


def _broadcast(ins):
    if len({len(s) for s in ins}) > 1:
        # with the batch in front, torch would align a lower-rank tensor's dims with the wrong ones
        raise ShapeError(f"cannot multiply tensors of different ranks: {' and '.join(fmt_shape(s) for s in ins)}",
                         fix="keep the gate's dimensions: a squeeze-excitation gate is C×1×1, not C.")
    rank = max(len(s) for s in ins)
    out = []
    for i in range(rank):
        dims = {s[i - rank + len(s)] for s in ins if i - rank + len(s) >= 0} - {1}
        if len(dims) > 1:
            raise ShapeError(f"cannot multiply tensors of shapes {' and '.join(fmt_shape(s) for s in ins)}",
                             fix="the gate must have the same channels, with 1×1 spatial size (squeeze-excitation).")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


register(OpDef(name="multiply", attrs=(), shape=lambda a, ins: _broadcast(ins), arity=None,
               explain=_eltwise_explain("multiplies"),
               costs=lambda a, ins, out: {"eltwise_flops": (len(ins) - 1) * prod(out)},
               lower=_tm("Multiply"), family="merge", torch_name="torch.mul",
               doc="element-wise product with broadcasting (squeeze-excitation gate).",
               category="eltwise", kind="merge", saves=_multiply_saves, rf=RFRule("union"),
               latency_class="multiply"))


def _concat_shape(a, ins):
    d = a["dim"]
    rank = len(ins[0])
    if not 0 <= d < rank:
        raise ShapeError(f"concat dim={d} is out of range for inputs of rank {rank}",
                         fix="dim 0 is the channel dimension (torch's dim 1).")
    for s in ins[1:]:
        if len(s) != rank or any(x != y for i, (x, y) in enumerate(zip(s, ins[0])) if i != d):
            raise ShapeError(f"cannot concatenate shapes {' and '.join(fmt_shape(x) for x in ins)} along dim {d}",
                             fix="all branches must keep the same spatial size: check strides and padding.")
    return tuple(sum(s[d] for s in ins) if i == d else ins[0][i] for i in range(rank))


def _concat_explain(a, ins, out):
    """Working of concat: the sizes along ``dim`` added up (64 + 128 + 32 + 32 = 256 channels)."""
    d = a["dim"]
    label = "C" if d == 0 and len(out) > 1 else f"dim {d}"
    part = wk.Working(label, out[d], (" + ".join(wk.num(s[d]) for s in ins), wk.num(out[d])), label=label,
                      note=f"{len(ins)} inputs joined along {label}")
    return {"output_shape": wk.shape_working(out, [part])}


register(OpDef(name="concat", attrs=(Attr("dim", "int", 0, doc="counted without the batch: 0 = channels"),),
               explain=_concat_explain,
               shape=_concat_shape, arity=None, lower=_tm("Concat"), family="merge", torch_name="torch.cat",
               category="other", kind="merge", saves=sv.nothing, rf=RFRule("join", lambda a, ins, out: a["dim"]),
               latency_class="concat"))


def _shuffle_prepare(a, ins):
    if ins[0][0] % a["groups"]:
        raise ShapeError(f"channel_shuffle groups={a['groups']} does not divide {ins[0][0]} channels",
                         fix=f"choose groups among the divisors of {ins[0][0]}.")
    return a


register(OpDef(name="channel_shuffle", attrs=(Attr("groups", "int", min=1),), prepare=_shuffle_prepare,
               explain=_unchanged,
               shape=lambda a, ins: ins[0], lower=_tm("ChannelShuffle"), in_rank=(2, 3), family="other",
               torch_name="nn.ChannelShuffle", category="other", kind="other", saves=sv.nothing, rf=_SAME,
               latency_class="channel_shuffle"))


def _slice_prepare(a, ins):
    c = ins[0][0]
    if a["start"] < 0 or a["length"] < 1 or a["start"] + a["length"] > c:
        raise ShapeError(f"cannot take channels {a['start']}..{a['start'] + a['length'] - 1} of {c}",
                         fix="split sizes must add up to the input channels.")
    return a


def _slice_explain(a, ins, out):
    part = wk.same("C", out[0], f"channels {a['start']}..{a['start'] + a['length'] - 1} of {ins[0][0]} (a view)")
    return {"output_shape": wk.shape_working(out, [part])}


register(OpDef(name="slice", attrs=(Attr("start", "int", min=0), Attr("length", "int", min=1)),
               explain=_slice_explain,
               prepare=_slice_prepare, shape=lambda a, ins: (a["length"], *ins[0][1:]), lower=_tm("Slice"),
               view=True, family="other", torch_name="Tensor.narrow",
               doc="a channel range; produced by `split` in the spec.",
               category="other", kind="view", saves=sv.nothing, rf=_SAME))


def _pad_prepare(d):
    def prepare(a, ins):
        p = a["padding"]
        if isinstance(p, int) and not isinstance(p, bool):
            p = (p,) * (2 * d)
        if not (isinstance(p, (list, tuple)) and len(p) == 2 * d and all(isinstance(x, int) for x in p)):
            raise ShapeError(f"padding must be an integer or a list of {2 * d} integers (torch order: left, right"
                             + (", top, bottom" if d == 2 else "") + f"), not {short_repr(a['padding'])}",
                             fix="write e.g. `padding: [0, 1, 0, 1]`.")
        # negative padding crops, as in torch's ZeroPad2d (NASNet's factorized reduction shifts by one pixel)
        return {**a, "padding": tuple(p)}
    return prepare


def _pad_shape(a, ins):
    shape = list(ins[0])
    p = a["padding"]
    for i in range(len(p) // 2):  # torch order: last dim first
        shape[-1 - i] += p[2 * i] + p[2 * i + 1]
    return tuple(shape)


def _pad_explain(a, ins, out):
    """Working of zero padding: each size plus the padding before and after."""
    p = a["padding"]
    names = spatial_names(len(ins[0]) - 1)
    parts = []
    for i in range(len(p) // 2):  # torch order: last dim first
        dim = len(ins[0]) - 1 - i
        lo, hi = p[2 * i], p[2 * i + 1]
        parts.append(wk.Working(names[dim - 1], out[dim], (f"{ins[0][dim]} + {lo} + {hi}", wk.num(out[dim])),
                                label=names[dim - 1]))
    return {"output_shape": wk.shape_working(out, parts[::-1])}


def _pad_before(a, ins, out):
    """Receptive-field geometry: the padding before the first element, per spatial dim (H, then W)."""
    p = a["padding"]  # torch order: last dimension first, (before, after) each
    nd = len(p) // 2
    return [p[2 * (nd - 1 - i)] for i in range(nd)]


def _pad_lower(d):
    def lower(a, ins):
        from torch import nn

        return getattr(nn, f"ZeroPad{d}d")(a["padding"])
    return lower


for _d in (1, 2):
    register(OpDef(name=f"zeropad{_d}d", attrs=(Attr("padding", "any"),), prepare=_pad_prepare(_d),
                   shape=_pad_shape, lower=_pad_lower(_d), explain=_pad_explain, in_rank=(_d + 1,), family="other",
                   torch_name=f"nn.ZeroPad{_d}d", category="other", kind="other", saves=sv.nothing,
                   rf=RFRule("shift", _pad_before), latency_class="zeropad"))


def _scale_lower(a, ins):
    from .. import _torch_modules as tm

    return tm.Scale(a)


def _scale_explain(a, ins, out):
    return {"output_shape": wk.shape_working(out, note="same as the input"),
            "eltwise_flops": wk.product("eltwise_flops", [(out, "elements")], unit="FLOPs",
                                        note=f"one multiply by {a['value']:g} per element")}


register(OpDef(name="scale", attrs=(Attr("value", "float", doc="constant factor"),), explain=_scale_explain,
               shape=lambda a, ins: ins[0], costs=lambda a, ins, out: {"eltwise_flops": prod(out)},
               lower=_scale_lower, family="other", torch_name="x * value",
               doc="multiply by a constant (Inception-ResNet's residual scaling); no params, no MACs.",
               category="eltwise", kind="merge", saves=sv.nothing, rf=_SAME, latency_class="scale"))
