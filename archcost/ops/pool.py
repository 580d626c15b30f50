"""Pooling: max / average (fixed window), adaptive and global."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, short_repr
from . import saves as sv
from . import working as wk
from .base import FORM, Attr, OpDef, RFRule, as_tuple, fmt_shape, register, spatial_names


def _pool_prepare(d, kind):
    def prepare(a, ins):
        k = as_tuple(a["kernel_size"], d, "kernel_size")
        s = as_tuple(a["stride"] if a["stride"] is not None else k, d, "stride")
        p = as_tuple(a["padding"], d, "padding")
        dil = as_tuple(a.get("dilation", 1), d, "dilation")
        if any(v < 1 for v in k + s + dil):
            raise ShapeError("kernel_size, stride and dilation must be at least 1",
                             fix="use positive sizes.")
        if any(x < 0 for x in p):
            raise ShapeError(f"padding must not be negative, got {short_repr(a['padding'])}", fix="use padding >= 0.")
        if any(2 * pi > ki for pi, ki in zip(p, k)):
            raise ShapeError(f"padding {short_repr(a['padding'])} must be at most half of kernel_size {short_repr(a['kernel_size'])} (torch's rule)",
                             fix="reduce padding or enlarge the kernel.")
        return {**a, "kernel_size": k, "stride": s, "padding": p, "dilation": dil}
    return prepare


def _pool_shape(a, ins):
    out = []
    for i, n in enumerate(ins[0][1:]):
        k, s, p, dil = a["kernel_size"][i], a["stride"][i], a["padding"][i], a["dilation"][i]
        span = n + 2 * p - dil * (k - 1) - 1
        if span < 0:
            raise ShapeError(f"pooling window {k} is larger than the padded input {n + 2 * p} in dimension {i + 1} "
                             f"of input {fmt_shape(ins[0])}",
                             fix="use a smaller kernel_size or a larger input.")
        o = (-(-span // s) if a["ceil_mode"] else span // s) + 1
        if a["ceil_mode"] and (o - 1) * s >= n + p:  # torch: last window must start inside the input
            o -= 1
        out.append(o)
    return (ins[0][0], *out)


def _max_costs(a, ins, out):
    return {"pool_flops": prod(out) * (prod(a["kernel_size"]) - 1)}


def _avg_costs(a, ins, out):
    return {"pool_flops": prod(out) * prod(a["kernel_size"])}


def _pool_explain(kind):
    """Working of max / average pooling: each output size (floor or ceil_mode), compares or adds per output."""
    def explain(a, ins, out):
        dims = []
        for i, (nm, n) in enumerate(zip(spatial_names(len(ins[0]) - 1), ins[0][1:])):
            k, s, p, dil = a["kernel_size"][i], a["stride"][i], a["padding"][i], a["dilation"][i]
            span = n + 2 * p - dil * (k - 1) - 1
            raw = (-(-span // s) if a["ceil_mode"] else span // s) + 1
            dims.append(wk.window_size(nm, n, k, s, p, p, dil, out[i + 1], ceil=a["ceil_mode"],
                                       last_in_padding=raw != out[i + 1]))
        res = {"output_shape": wk.shape_working(out, [wk.same("C", out[0], "channels unchanged"), *dims])}
        window = prod(a["kernel_size"])
        if kind == "max" and window > 1:
            res["pool_flops"] = wk.Working("pool_flops", prod(out) * (window - 1),
                                           (f"{wk.dot(*out)} outputs × ({wk.dot(*a['kernel_size'])} − 1) compares",
                                            wk.num(prod(out) * (window - 1))), unit="FLOPs",
                                           note="window − 1 compares per output")
        elif kind == "avg":
            res["pool_flops"] = wk.product("pool_flops", [(out, "outputs"), (a["kernel_size"], "adds")], unit="FLOPs",
                                           note="window adds (the last one a divide) per output")
        return res
    return explain


def _pool_lower(cls_name, d):
    def lower(a, ins):
        from torch import nn

        cls = getattr(nn, f"{cls_name}{d}d")
        kw = dict(kernel_size=a["kernel_size"], stride=a["stride"], padding=a["padding"], ceil_mode=a["ceil_mode"])
        if cls_name == "MaxPool":
            kw["dilation"] = a["dilation"]
        else:
            kw["count_include_pad"] = a["count_include_pad"]
        return cls(**kw)
    return lower


def _pool_window(a, ins, out):
    """Receptive-field geometry: kernel, stride, dilation, padding before the first element."""
    return a["kernel_size"], a["stride"], a["dilation"], a["padding"]


def _adaptive_window(a, ins, out):
    """A pool with kernel = stride = n / o when o divides n (global pooling: o = 1); else None."""
    n_in, o = ins[0][1:], out[1:]
    if any(n % m for n, m in zip(n_in, o)):
        return None
    k = [n // m for n, m in zip(n_in, o)]
    return k, k, [1] * len(k), [0] * len(k)


def _adaptive_avg_saves(a, ins, out, rg):
    # to 1×1 (global) torch computes a mean, whose backward needs no tensor
    return [] if all(o == 1 for o in out[1:]) else [("input", sv.in_(0))]


def _window_work(a, ins, out):
    return {"window": prod(out) * prod(a["kernel_size"])}  # output elements × window positions


_POOL = (Attr("kernel_size", "ints"), Attr("stride", "ints", None, doc="defaults to kernel_size"),
         Attr("padding", "ints", 0), Attr("ceil_mode", "bool", False))

for _d in (1, 2):
    register(OpDef(
        name=f"max_pool{_d}d", attrs=(*_POOL, Attr("dilation", "ints", 1), FORM), prepare=_pool_prepare(_d, "max"),
        shape=_pool_shape, costs=_max_costs, lower=_pool_lower("MaxPool", _d), in_rank=(_d + 1,),
        explain=_pool_explain("max"),
        family="pool", torch_name=f"nn.MaxPool{_d}d", doc="max pooling (fvcore counts nothing for it).",
        category="pool", kind="pool", saves=sv.with_indices, rf=RFRule("window", _pool_window),
        latency_class="max_pool", latency_features=_window_work))
    register(OpDef(
        name=f"avg_pool{_d}d", attrs=(*_POOL, Attr("count_include_pad", "bool", True), FORM),
        prepare=_pool_prepare(_d, "avg"), shape=_pool_shape, costs=_avg_costs, explain=_pool_explain("avg"),
        lower=_pool_lower("AvgPool", _d), in_rank=(_d + 1,), family="pool", torch_name=f"nn.AvgPool{_d}d",
        doc="average pooling (fvcore counts nothing for it).",
        category="pool", kind="pool", saves=sv.input_, rf=RFRule("window", _pool_window),
        latency_class="avg_pool", latency_features=_window_work))


def _adaptive_prepare(d):
    def prepare(a, ins):
        o = as_tuple(a["output_size"], d, "output_size")
        if any(v < 1 for v in o):
            raise ShapeError(f"output_size must be at least 1, got {short_repr(a['output_size'])}", fix="use a positive size.")
        return {**a, "output_size": o}
    return prepare


def _adaptive_shape(a, ins):
    return (ins[0][0], *a["output_size"])


def _adaptive_avg_costs(d):
    def costs(a, ins, out):
        # fvcore's handle for aten::adaptive_avg_pool2d counts one per *input* element
        return {"pool_flops": prod(ins[0]) + prod(out), "fvcore": prod(ins[0]) if d == 2 else 0}
    return costs


def _adaptive_max_costs(a, ins, out):
    return {"pool_flops": prod(ins[0])}


def _adaptive_explain(kind, d, glob=False):
    """Working of adaptive and global pooling: the output size is given; adds (avg) or compares (max)
    over every input element."""
    def explain(a, ins, out):
        names = spatial_names(len(ins[0]) - 1)
        why = "global pooling: 1" if glob else "output_size"
        res = {"output_shape": wk.shape_working(out, [wk.same("C", out[0], "channels unchanged"),
                                                      *(wk.same(nm, o, why) for nm, o in zip(names, out[1:]))])}
        if kind == "avg":
            res["pool_flops"] = wk.Working("pool_flops", prod(ins[0]) + prod(out),
                                           (f"{wk.dot(*ins[0])} adds + {wk.dot(*out)} divides",
                                            wk.num(prod(ins[0]) + prod(out))), unit="FLOPs",
                                           note="one add per input element, one divide per output")
            if d == 2:
                res["fvcore"] = wk.product("fvcore", [(ins[0], "input elements")], unit="MACs",
                                           note="fvcore counts one per input element")
        else:
            res["pool_flops"] = wk.product("pool_flops", [(ins[0], "input elements")], unit="FLOPs",
                                           note="one compare per input element")
        return res
    return explain


def _adaptive_lower(kind, d):
    def lower(a, ins):
        from torch import nn

        return getattr(nn, f"Adaptive{kind}Pool{d}d")(a["output_size"])
    return lower


def _global_lower(kind, d):
    def lower(a, ins):
        from torch import nn

        if kind == "Avg" and a.get("form") == "method":
            # `x.mean([2, 3])` as captured: aten::mean, which fvcore skips (the fvcore preset's rule), where
            # the module is aten::adaptive_avg_pool2d, which it counts; --verify compares the two
            from .. import _torch_modules as tm

            return tm.MeanOver(d)
        return getattr(nn, f"Adaptive{kind}Pool{d}d")(1)
    return lower


for _d in (1, 2):
    register(OpDef(
        name=f"adaptive_avg_pool{_d}d", attrs=(Attr("output_size", "ints"), FORM), prepare=_adaptive_prepare(_d),
        shape=_adaptive_shape, costs=_adaptive_avg_costs(_d), lower=_adaptive_lower("Avg", _d),
        explain=_adaptive_explain("avg", _d),
        in_rank=(_d + 1,), family="pool", torch_name=f"nn.AdaptiveAvgPool{_d}d",
        category="adaptive_pool", kind="pool", saves=_adaptive_avg_saves, rf=RFRule("window", _adaptive_window),
        latency_class="adaptive_avg_pool"))
    register(OpDef(
        name=f"adaptive_max_pool{_d}d", attrs=(Attr("output_size", "ints"), FORM), prepare=_adaptive_prepare(_d),
        shape=_adaptive_shape, costs=_adaptive_max_costs, lower=_adaptive_lower("Max", _d),
        explain=_adaptive_explain("max", _d),
        in_rank=(_d + 1,), family="pool", torch_name=f"nn.AdaptiveMaxPool{_d}d",
        category="adaptive_pool", kind="pool", saves=sv.with_indices, rf=RFRule("window", _adaptive_window),
        latency_class="adaptive_max_pool"))
    register(OpDef(
        name=f"global_avg_pool{_d}d", attrs=(FORM,), shape=lambda a, ins: (ins[0][0],) + (1,) * (len(ins[0]) - 1),
        costs=_adaptive_avg_costs(_d), lower=_global_lower("Avg", _d), in_rank=(_d + 1,), family="pool",
        explain=_adaptive_explain("avg", _d, glob=True),
        torch_name=f"nn.AdaptiveAvgPool{_d}d(1)", doc="average over all positions; keeps 1×1 spatial dims.",
        category="adaptive_pool", kind="pool", saves=sv.nothing, rf=RFRule("window", _adaptive_window),
        latency_class="adaptive_avg_pool"))
    register(OpDef(
        name=f"global_max_pool{_d}d", attrs=(FORM,), shape=lambda a, ins: (ins[0][0],) + (1,) * (len(ins[0]) - 1),
        costs=_adaptive_max_costs, lower=_global_lower("Max", _d), in_rank=(_d + 1,), family="pool",
        explain=_adaptive_explain("max", _d, glob=True),
        torch_name=f"nn.AdaptiveMaxPool{_d}d(1)",
        category="adaptive_pool", kind="pool", saves=sv.with_indices, rf=RFRule("window", _adaptive_window),
        # no class of its own in a device profile: costs what copying its bytes costs (the fallback)
        latency_class="eltwise"))
