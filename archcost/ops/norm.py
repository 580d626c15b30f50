"""Normalisation layers and dropout."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, short_repr
from . import saves as sv
from . import working as wk
from .base import Attr, OpDef, Params, RFRule, register

# norms are per-element affine maps at inference: their statistics are no spatial dependence
_SAME = RFRule("same")


def _bn_params(a, ins):
    c = ins[0][0]
    return Params(weight=c if a["affine"] else 0, bias=c if a["affine"] else 0,
                  buffers=2 * c + 1 if a["track_running_stats"] else 0,  # mean, var, num_batches_tracked
                  running_stats=2 * c if a["track_running_stats"] else 0)


def _bn_costs(a, ins, out):
    n = prod(ins[0])
    if a["track_running_stats"]:
        fv = n * (2 if a["affine"] else 1)  # fvcore batchnorm_flop_jit, eval mode
    else:
        fv = n * (5 if a["affine"] else 4)  # batch statistics: fvcore's norm_flop_counter
    return {"norm_flops": 2 * n, "fvcore": fv}  # inference BN folds to one scale and one shift


def _stats_explain(p, c, res):
    """params (γ, β per channel), buffers and running statistics of a norm with per-channel statistics."""
    if p.weight + p.bias:
        res["params"] = wk.Working("params", p.weight + p.bias, (f"2·{wk.num(c)}", wk.num(p.weight + p.bias)),
                                   note="a scale γ and a shift β per channel")
    if p.buffers:
        res["buffers"] = wk.Working("buffers", p.buffers, (f"2·{wk.num(c)} + 1", wk.num(p.buffers)),
                                    note="running mean and variance per channel, plus num_batches_tracked")
    if p.running_stats:
        res["running_stats"] = wk.Working("running_stats", p.running_stats, (f"2·{wk.num(c)}", wk.num(p.running_stats)),
                                          note="running (moving) mean and variance per channel")
    return res


def _bn_explain(a, ins, out):
    """Working of batch norm: 2·C params, 2·C + 1 buffers, 2 FLOPs per element at inference."""
    res = {"output_shape": wk.shape_working(out, note="same as the input")}
    _stats_explain(_bn_params(a, ins), ins[0][0], res)
    c = _bn_costs(a, ins, out)
    res["norm_flops"] = wk.elementwise("norm_flops", ins[0], 2, "per element", unit="FLOPs",
                                       note="inference: one scale and one shift per element")
    per = c["fvcore"] // max(1, prod(ins[0]))
    why = {1: "eval batch norm, no affine", 2: "eval batch norm with affine",
           4: "batch statistics, no affine", 5: "batch statistics with affine"}[per]
    res["fvcore"] = wk.elementwise("fvcore", ins[0], per, "per element", unit="MACs", note=f"fvcore: {why}")
    return res


def _bn_lower(d):
    def lower(a, ins):
        from torch import nn

        return getattr(nn, f"BatchNorm{d}d")(ins[0][0], eps=a["eps"], momentum=a["momentum"], affine=a["affine"],
                                            track_running_stats=a["track_running_stats"])
    return lower


_BN = (Attr("eps", "float", 1e-5, min=0), Attr("momentum", "float", 0.1), Attr("affine", "bool", True),
       Attr("track_running_stats", "bool", True))

def _bn_prepare(a, ins):
    if not a["track_running_stats"] and a["eps"] <= 0:
        raise ShapeError(f"eps={a['eps']} must be positive when batch norm uses batch statistics "
                         "(track_running_stats: false); torch refuses it", fix="use e.g. `eps: 1e-5`.")
    return a


# backward keeps the input and a mean and inverse std per channel (fp32, not per sample)
_BN_SAVES = sv.norm_stats(lambda a, ins: 2 * ins[0][0], per_sample=False)
_BN_FACTS = dict(category="batchnorm", kind="norm", saves=_BN_SAVES, rf=_SAME, latency_class="batchnorm")

register(OpDef(name="batchnorm1d", attrs=_BN, prepare=_bn_prepare, shape=lambda a, ins: ins[0], params=_bn_params, costs=_bn_costs,
               explain=_bn_explain, lower=_bn_lower(1), in_rank=(1, 2), family="norm", torch_name="nn.BatchNorm1d",
               **_BN_FACTS))
register(OpDef(name="batchnorm2d", attrs=_BN, prepare=_bn_prepare, shape=lambda a, ins: ins[0], params=_bn_params, costs=_bn_costs,
               explain=_bn_explain, lower=_bn_lower(2), in_rank=(3,), family="norm", torch_name="nn.BatchNorm2d",
               **_BN_FACTS))


def _ln_prepare(a, ins):
    ns = a["normalized_shape"]
    if ns is None:
        ns = (ins[0][-1],)
    elif isinstance(ns, int) and not isinstance(ns, bool):
        ns = (ns,)
    elif isinstance(ns, float) and ns.is_integer():
        ns = (int(ns),)
    elif isinstance(ns, list):
        ns = [int(x) if isinstance(x, float) and x.is_integer() else x for x in ns]
    if not (isinstance(ns, (list, tuple)) and ns and all(isinstance(x, int) and not isinstance(x, bool) for x in ns)):
        raise ShapeError(f"normalized_shape must be an integer or a list of integers, got {short_repr(a['normalized_shape'])}",
                         fix="leave normalized_shape out to normalise the last dimension.")
    ns = tuple(ns)
    if tuple(ins[0][-len(ns):]) != ns or len(ns) > len(ins[0]):
        raise ShapeError(f"normalized_shape {list(ns)} does not match the trailing dimensions of input {list(ins[0])}",
                         fix="leave normalized_shape out to normalise the last dimension, or give the input's trailing sizes.")
    return {**a, "normalized_shape": ns}


def _ln_params(a, ins):
    n = prod(a["normalized_shape"])
    return Params(weight=n if a["elementwise_affine"] else 0,
                  bias=n if a["elementwise_affine"] and a["bias"] else 0)


def _norm_costs(affine_key):
    def costs(a, ins, out):
        n = prod(ins[0])
        return {"norm_flops": 5 * n, "fvcore": n * (5 if a[affine_key] else 4)}  # fvcore norm_flop_counter
    return costs


def _norm_explain(name, affine_key):
    """Working of layer / group / instance norm: params as the registered op ``name`` computes them,
    5 FLOPs per element (mean, variance, normalise, scale, shift), fvcore's 4 or 5."""
    def explain(a, ins, out):
        from .base import OPS

        res = {"output_shape": wk.shape_working(out, note="same as the input")}
        p = OPS[name].params(a, ins)
        if "normalized_shape" in a:
            n = prod(a["normalized_shape"])
            if p.weight + p.bias:
                res["params"] = wk.Working("params", p.weight + p.bias,
                                           ((f"2·{wk.num(n)}" if p.bias else wk.num(n)), wk.num(p.weight + p.bias)),
                                           note="a scale" + (" and a shift" if p.bias else "") + " per normalised element")
        else:
            _stats_explain(p, ins[0][0], res)
        res["norm_flops"] = wk.elementwise("norm_flops", ins[0], 5, "per element", unit="FLOPs",
                                           note="mean, variance, normalise, scale, shift")
        per = 5 if a[affine_key] else 4
        res["fvcore"] = wk.elementwise("fvcore", ins[0], per, "per element", unit="MACs",
                                       note="fvcore's norm count, " + ("with" if per == 5 else "without") + " affine")
        return res
    return explain


def _ln_lower(a, ins):
    from torch import nn

    return nn.LayerNorm(a["normalized_shape"], eps=a["eps"], elementwise_affine=a["elementwise_affine"], bias=a["bias"])


register(OpDef(
    name="layernorm", attrs=(Attr("normalized_shape", "any", None, doc="defaults to the last dimension"),
                             Attr("eps", "float", 1e-5, min=0), Attr("elementwise_affine", "bool", True),
                             Attr("bias", "bool", True)),
    prepare=_ln_prepare, shape=lambda a, ins: ins[0], params=_ln_params, costs=_norm_costs("elementwise_affine"),
    explain=_norm_explain("layernorm", "elementwise_affine"), lower=_ln_lower, family="norm", torch_name="nn.LayerNorm",
    category="norm", kind="norm", rf=_SAME, latency_class="layernorm",
    saves=sv.norm_stats(lambda a, ins: 2 * prod(ins[0]) // prod(a["normalized_shape"]))))  # per row


def _gn_prepare(a, ins):
    c = ins[0][0]
    if c % a["num_groups"]:
        raise ShapeError(f"num_groups={a['num_groups']} does not divide the {c} input channels",
                         fix=f"choose num_groups among the divisors of {c}.")
    if c // a["num_groups"] * prod(ins[0][1:]) == 1:
        raise ShapeError(f"group norm with num_groups={a['num_groups']} on input {list(ins[0])} normalises single "
                         "values (torch refuses it for a batch of 1)",
                         fix="use fewer groups, or apply it where the spatial size is larger than 1.")
    return a


def _gn_lower(a, ins):
    from torch import nn

    return nn.GroupNorm(a["num_groups"], ins[0][0], eps=a["eps"], affine=a["affine"])


register(OpDef(
    name="groupnorm", attrs=(Attr("num_groups", "int", min=1), Attr("eps", "float", 1e-5, min=0),
                             Attr("affine", "bool", True)),
    prepare=_gn_prepare, shape=lambda a, ins: ins[0],
    params=lambda a, ins: Params(weight=ins[0][0] if a["affine"] else 0, bias=ins[0][0] if a["affine"] else 0),
    explain=_norm_explain("groupnorm", "affine"), costs=_norm_costs("affine"), lower=_gn_lower, in_rank=(2, 3), family="norm", torch_name="nn.GroupNorm",
    category="norm", kind="norm", rf=_SAME, latency_class="groupnorm",
    saves=sv.norm_stats(lambda a, ins: 2 * a["num_groups"])))


def _in_prepare(a, ins):
    if prod(ins[0][1:]) == 1 and not a["track_running_stats"]:
        raise ShapeError(f"instance norm of input {list(ins[0])} has one element per channel, so its variance is "
                         "undefined (torch refuses it)", fix="apply it before the spatial size shrinks to 1, or drop it.")
    return a


def _in_lower(d):
    def lower(a, ins):
        from torch import nn

        return getattr(nn, f"InstanceNorm{d}d")(ins[0][0], eps=a["eps"], affine=a["affine"],
                                               track_running_stats=a["track_running_stats"])
    return lower


_IN = (Attr("eps", "float", 1e-5, min=0), Attr("affine", "bool", False), Attr("track_running_stats", "bool", False))


def _instance_stats(a, ins):
    # batch norm on a (1, N·C, ...) view: mean, invstd, and the repeated weight / running stats
    return ins[0][0] * (2 + bool(a["affine"]) + 2 * bool(a["track_running_stats"]))


for _d in (1, 2):
    register(OpDef(
        name=f"instancenorm{_d}d", attrs=_IN, prepare=_in_prepare, shape=lambda a, ins: ins[0],
        params=lambda a, ins: Params(weight=ins[0][0] if a["affine"] else 0, bias=ins[0][0] if a["affine"] else 0,
                                     buffers=2 * ins[0][0] + 1 if a["track_running_stats"] else 0,
                                     running_stats=2 * ins[0][0] if a["track_running_stats"] else 0),
        explain=_norm_explain(f"instancenorm{_d}d", "affine"), costs=_norm_costs("affine"), lower=_in_lower(_d), in_rank=(_d + 1,), family="norm",
        torch_name=f"nn.InstanceNorm{_d}d", category="norm", kind="norm", saves=sv.norm_stats(_instance_stats),
        rf=_SAME, latency_class="instancenorm"))


def _lrn_costs(a, ins, out):
    n = prod(ins[0])
    return {"norm_flops": n * (a["size"] + 4)}  # square, window sum, scale, power, divide


def _lrn_explain(a, ins, out):
    """Working of local response norm: (size + 4) FLOPs per element."""
    n = prod(ins[0])
    flops = wk.Working("norm_flops", _lrn_costs(a, ins, out)["norm_flops"],
                       (f"{wk.dot(*ins[0])} elements × ({a['size']} + 4) per element", wk.num(n * (a["size"] + 4))),
                       unit="FLOPs", note="square, window sum, scale, power, divide")
    return {"output_shape": wk.shape_working(out, note="same as the input"), "norm_flops": flops}


def _lrn_saves(a, ins, out, rg):
    c, *sp = ins[0]
    rest = prod(sp)
    return [("input", sv.in_(0)), ("padded square", sv.new((c + a["size"] - 1) * rest)),
            ("denominator base", sv.new(c * rest)), ("denominator", sv.new(c * rest))]


def _lrn_lower(a, ins):
    from torch import nn

    return nn.LocalResponseNorm(a["size"], alpha=a["alpha"], beta=a["beta"], k=a["k"])


register(OpDef(
    name="local_response_norm", attrs=(Attr("size", "int", min=1), Attr("alpha", "float", 1e-4),
                                       Attr("beta", "float", 0.75), Attr("k", "float", 1.0)),
    shape=lambda a, ins: ins[0], costs=_lrn_costs, lower=_lrn_lower, explain=_lrn_explain, in_rank=(2, 3), family="norm",
    torch_name="nn.LocalResponseNorm", doc="AlexNet's LRN across channels.",
    category="norm", kind="norm", saves=_lrn_saves, rf=_SAME, latency_class="local_response_norm",
    latency_features=lambda a, ins, out: {"window": prod(ins[0]) * a["size"]}))  # a window of `size` channels


def _dropout_lower(a, ins):
    from torch import nn

    return nn.Dropout(a["p"])


def _dropout_explain(a, ins, out):
    return {"output_shape": wk.shape_working(out, note="same as the input; identity at inference")}


def _dropout_saves(a, ins, out, rg):
    """Training dropout keeps its mask, 1 byte per element; p = 1 is a product with a zero scalar."""
    p = a["p"]
    if p == 1:  # torch multiplies by a zero scalar
        return [("zero", sv.new(1, per_sample=False))]
    return [("mask", sv.new(prod(out), sv.MASK))] if p > 0 else []


def _dropout_prepare(a, ins):
    if not 0 <= a["p"] <= 1:
        raise ShapeError(f"dropout probability p={a['p']} is outside [0, 1]", fix="use 0 <= p <= 1.")
    return a


register(OpDef(name="dropout", attrs=(Attr("p", "float", 0.5),), prepare=_dropout_prepare,
               shape=lambda a, ins: ins[0], lower=_dropout_lower, explain=_dropout_explain, view=True, family="other",
               torch_name="nn.Dropout", doc="identity at inference; no cost.",
               category="other", kind="view", saves=_dropout_saves, rf=_SAME))


def _ln2d_explain(a, ins, out):
    c = ins[0][0]
    res = {"output_shape": wk.shape_working(out, note="same as the input")}
    if a["elementwise_affine"]:
        res["params"] = wk.Working("params", 2 * c, (f"2·{wk.num(c)}", wk.num(2 * c)),
                                   note="a scale and a shift per channel")
    res["norm_flops"] = wk.elementwise("norm_flops", ins[0], 5, "per element", unit="FLOPs",
                                       note="mean, variance over the channels of each position; normalise, scale, shift")
    res["fvcore"] = wk.elementwise("fvcore", ins[0], 5 if a["elementwise_affine"] else 4, "per element", unit="MACs",
                                   note="fvcore's layer_norm count")
    return res


def _ln2d_lower(a, ins):
    from .._torch_modules import LayerNorm2d

    return LayerNorm2d(ins[0][0], eps=a["eps"], elementwise_affine=a["elementwise_affine"])


register(OpDef(
    name="layernorm2d", attrs=(Attr("eps", "float", 1e-6, min=0), Attr("elementwise_affine", "bool", True)),
    shape=lambda a, ins: ins[0],
    params=lambda a, ins: Params(weight=ins[0][0] if a["elementwise_affine"] else 0,
                                 bias=ins[0][0] if a["elementwise_affine"] else 0),
    costs=_norm_costs("elementwise_affine"), explain=_ln2d_explain, lower=_ln2d_lower, in_rank=(3,), family="norm",
    torch_name="torchvision.models.convnext.LayerNorm2d",
    doc="layer norm over the channels of each position of a C×H×W map (ConvNeXt's LayerNorm2d: permute, "
        "layer_norm over C, permute back); `layernorm` normalises trailing dimensions instead.",
    # its own latency class: it permutes, copies to channels-last, normalises and permutes back
    category="norm", kind="norm", rf=_SAME, latency_class="layernorm2d",
    # F.layer_norm on the permuted (channels-last) view saves the contiguous copy it normalises (measured
    # with saved_tensors_hooks), and a mean and an inverse std per position
    saves=lambda a, ins, out, rg: [("input (a contiguous channels-last copy)", sv.new(prod(ins[0]))),
                                   ("statistics", sv.new(2 * prod(ins[0][1:]), sv.STAT))]))
