"""Convolution and linear layers: the ops that hold most MACs and parameters."""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, short_repr
from . import saves as sv
from . import working as wk
from .base import (TRAINABLE, Attr, OpDef, Params, RFRule, as_tuple, channels_last, conv_kind, fmt_shape, register,
                   spatial_names)


def _padding_pairs(pad, d, kernel, dilation, stride):
    """Normalise a padding attribute to d (before, after) pairs."""
    if pad == "valid":
        return tuple((0, 0) for _ in range(d))
    if pad == "same":
        if any(s != 1 for s in stride):
            raise ShapeError("padding 'same' needs stride 1 (as in torch)",
                             fix="give explicit padding, e.g. (kernel_size - 1) // 2, for strided convolutions.")
        pairs = []
        for k, dil in zip(kernel, dilation):
            total = dil * (k - 1)
            pairs.append((total // 2, total - total // 2))  # torch puts the extra pixel after
        return tuple(pairs)
    if isinstance(pad, bool):
        raise ShapeError(f"padding must be an integer, a list, 'same' or 'valid', not {short_repr(pad)}")
    if isinstance(pad, int):
        return tuple((pad, pad) for _ in range(d))
    if isinstance(pad, (list, tuple)) and len(pad) == d:
        pairs = []
        for p in pad:
            if isinstance(p, int) and not isinstance(p, bool):
                pairs.append((p, p))
            elif isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(x, int) for x in p):
                pairs.append((p[0], p[1]))
            else:
                break
        else:
            return tuple(pairs)
    raise ShapeError(
        f"padding must be an integer, 'same', 'valid', a list of {d} integers or a list of {d} [before, after] pairs, not {short_repr(pad)}",
        fix="write e.g. `padding: 1`, `padding: same` or, asymmetric, `padding: [[0, 1], [0, 1]]`.")


def _conv_prepare(d, transposed=False):
    def prepare(a, ins):
        c_in = ins[0][0]
        k = as_tuple(a["kernel_size"], d, "kernel_size")
        s = as_tuple(a["stride"], d, "stride")
        dil = as_tuple(a["dilation"], d, "dilation")
        for name, vals in (("kernel_size", k), ("stride", s), ("dilation", dil)):
            if any(v < 1 for v in vals):
                raise ShapeError(f"{name} must be at least 1, got {short_repr(a[name])}", fix=f"use a positive {name}.")
        g = a["groups"]
        if g < 1 or c_in % g or a["out_channels"] % g:
            raise ShapeError(
                f"groups={g} must divide both in_channels={c_in} and out_channels={a['out_channels']}",
                fix=f"choose groups among the common divisors of {c_in} and {a['out_channels']} "
                    f"(depthwise: groups = in_channels = out_channels).")
        if transposed:
            p = as_tuple(a["padding"], d, "padding")
            op = as_tuple(a["output_padding"], d, "output_padding")
            if any(o < 0 for o in op):
                raise ShapeError(f"output_padding must not be negative, got {short_repr(a['output_padding'])}",
                                 fix="use output_padding >= 0 (it adds rows/columns on one side).")
            if any(o >= max(si, di) for o, si, di in zip(op, s, dil)):
                raise ShapeError("output_padding must be smaller than stride or dilation",
                                 fix="lower output_padding.")
            pads = tuple((x, x) for x in p)
        else:
            pads = _padding_pairs(a["padding"], d, k, dil, s)
            op = (0,) * d
        if any(x < 0 for pr in pads for x in pr):
            raise ShapeError(f"padding must not be negative, got {short_repr(a['padding'])}",
                             fix="use padding >= 0; to crop, use a smaller input.")
        return {**a, "in_channels": c_in, "kernel_size": k, "stride": s, "dilation": dil,
                "pads": pads, "output_padding": op}
    return prepare


def _conv_shape(d):
    def shape(a, ins):
        spatial = ins[0][1:]
        out = []
        for i, n in enumerate(spatial):
            lo, hi = a["pads"][i]
            eff = a["dilation"][i] * (a["kernel_size"][i] - 1) + 1
            if n + lo + hi < eff:
                raise ShapeError(
                    f"kernel (effective size {eff}) is larger than the padded input ({n} + {lo + hi}) "
                    f"in dimension {i + 1} of input {fmt_shape(ins[0])}",
                    fix="use a smaller kernel_size or dilation, more padding, or a larger input.")
            out.append((n + lo + hi - eff) // a["stride"][i] + 1)
        return (a["out_channels"], *out)
    return shape


def _conv_params(a, ins):
    w = a["out_channels"] * (a["in_channels"] // a["groups"]) * prod(a["kernel_size"])
    return Params(weight=w, bias=a["out_channels"] if a["bias"] else 0, frozen=not a["trainable"])


def _conv_costs(a, ins, out):
    macs = prod(out) * (a["in_channels"] // a["groups"]) * prod(a["kernel_size"])
    return {"macs": macs, "bias_flops": prod(out) if a["bias"] else 0, "fvcore": macs}


def _conv_explain(a, ins, out):
    """Working of a convolution: each output size, (k·k·C_in/groups + 1)·C_out params, MACs per output × outputs."""
    k, g, c_in, c_out = a["kernel_size"], a["groups"], a["in_channels"], a["out_channels"]
    cpg = c_in // g
    dims = [wk.window_size(nm, n, k[i], a["stride"][i], *a["pads"][i], a["dilation"][i], out[i + 1])
            for i, (nm, n) in enumerate(zip(spatial_names(len(k)), ins[0][1:]))]
    seen = (f"groups={g}: each filter sees {c_in}/{g} = {cpg} input channel{'s' if cpg > 1 else ''}"
            + (" (depthwise)" if cpg == 1 and c_out == c_in else "") if g > 1 else "")
    res = {"output_shape": wk.shape_working(out, [wk.same("C", c_out, "out_channels"), *dims])}
    p = _conv_params(a, ins)
    res["params"] = wk.weights_and_bias(wk.dot(*k, cpg), c_out, p.weight, p.bias,
                                        note_bias="(k·k·C_in/groups + 1 bias)·C_out",
                                        note_plain="k·k·C_in/groups·C_out, no bias",
                                        extra="; ".join(x for x in (seen, "frozen: not trainable" if p.frozen else "") if x))
    c = _conv_costs(a, ins, out)
    macs = wk.product("macs", [((*k, cpg), "multiplies per output"), (channels_last(out), "outputs")],
                      unit="MACs", note=seen)
    res["macs"] = macs
    res["fvcore"] = wk.Working("fvcore", macs.value, macs.sides, unit="MACs", note="fvcore counts the MACs")
    if c["bias_flops"]:
        res["bias_flops"] = wk.product("bias_flops", [(channels_last(out), "outputs")], unit="FLOPs",
                                       note="one bias add per output")
    return res


def _conv_lower(d):
    def lower(a, ins):
        from torch import nn

        cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[d]
        pads = a["pads"]
        symmetric = all(lo == hi for lo, hi in pads)
        conv = cls(a["in_channels"], a["out_channels"], a["kernel_size"], stride=a["stride"],
                   padding=tuple(lo for lo, _ in pads) if symmetric else 0,
                   dilation=a["dilation"], groups=a["groups"], bias=a["bias"])
        if symmetric:
            return conv
        from .._torch_modules import PaddedConv

        flat = []
        for lo, hi in reversed(pads):  # F.pad order: last dimension first
            flat += [lo, hi]
        return PaddedConv(flat, conv)
    return lower


def _window(a, ins, out):
    """Receptive-field geometry: kernel, stride, dilation and the padding before the first element."""
    return a["kernel_size"], a["stride"], a["dilation"], [lo for lo, _ in a["pads"]]


def _conv_saves(a, ins, out, rg):
    """The input; with asymmetric padding, the padded copy the convolution reads."""
    pads = a["pads"]
    if all(lo == hi for lo, hi in pads):
        return [("input", sv.in_(0))]
    c, *sp = ins[0]
    return [("padded input", sv.new(c * prod(s + lo + hi for s, (lo, hi) in zip(sp, pads))))]


def _conv_latency_class(a):
    # only a 1×1 convolution with stride 1 and no padding runs as a plain GEMM (the `conv1x1` class)
    kind = conv_kind(a)
    if kind == "pointwise":
        return "conv1x1" if all(s == 1 for s in a["stride"]) and all(lo == hi == 0 for lo, hi in a["pads"]) \
            else "conv"
    return kind


def _conv_features(a, ins, out):
    # the unfolded input a GEMM-based convolution builds: output positions × C_in × kernel positions
    return {"im2col": prod(out[1:]) * a["in_channels"] * prod(a["kernel_size"])}


_CONV_ATTRS = (
    Attr("out_channels", "int", min=1, doc="number of output channels"),
    Attr("kernel_size", "ints", doc="kernel size, an int or one per spatial dimension"),
    Attr("stride", "ints", 1),
    Attr("padding", "padding", 0, doc="int, list, 'same', 'valid' or [before, after] pairs (asymmetric)"),
    Attr("dilation", "ints", 1),
    Attr("groups", "int", 1, min=1, doc="groups = in_channels makes a depthwise convolution"),
    Attr("bias", "bool", True),
    TRAINABLE,
)

for _d in (1, 2):
    register(OpDef(
        name=f"conv{_d}d", attrs=_CONV_ATTRS, prepare=_conv_prepare(_d), shape=_conv_shape(_d),
        params=_conv_params, costs=_conv_costs, lower=_conv_lower(_d), in_rank=(_d + 1,),
        explain=_conv_explain, family="conv", torch_name=f"nn.Conv{_d}d",
        category="macs", kind="conv", saves=_conv_saves, rf=RFRule("window", _window),
        latency_class=_conv_latency_class, latency_features=_conv_features,
        doc=f"{_d}-D convolution (torch.nn.Conv{_d}d); groups for grouped / depthwise."))


def _convt_shape(d):
    def shape(a, ins):
        out = []
        for i, n in enumerate(ins[0][1:]):
            o = ((n - 1) * a["stride"][i] - 2 * a["pads"][i][0]
                 + a["dilation"][i] * (a["kernel_size"][i] - 1) + a["output_padding"][i] + 1)
            if o < 1:
                raise ShapeError(f"transposed convolution output would be {o} in dimension {i + 1}",
                                 fix="reduce padding.")
            out.append(o)
        return (a["out_channels"], *out)
    return shape


def _convt_params(a, ins):
    w = a["in_channels"] * (a["out_channels"] // a["groups"]) * prod(a["kernel_size"])
    return Params(weight=w, bias=a["out_channels"] if a["bias"] else 0, frozen=not a["trainable"])


def _convt_costs(a, ins, out):
    # each input element is multiplied by every weight of its group's filters
    macs = prod(ins[0]) * (a["out_channels"] // a["groups"]) * prod(a["kernel_size"])
    return {"macs": macs, "bias_flops": prod(out) if a["bias"] else 0, "fvcore": macs}


def _convt_explain(a, ins, out):
    """Working of a transposed convolution: (n − 1)·s − 2·p + d·(k − 1) + output_padding + 1 per size."""
    k, g, c_in, c_out = a["kernel_size"], a["groups"], a["in_channels"], a["out_channels"]
    opg = c_out // g
    dims = []
    for i, (nm, n) in enumerate(zip(spatial_names(len(k)), ins[0][1:])):
        s, p, d, op = a["stride"][i], a["pads"][i][0], a["dilation"][i], a["output_padding"][i]
        dims.append(wk.Working(nm, out[i + 1], (f"({n} − 1)·{s} − 2·{p} + {d}·({k[i]} − 1) + {op} + 1",
                                                wk.num(out[i + 1])), label=nm,
                               note="(n − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1"))
    res = {"output_shape": wk.shape_working(out, [wk.same("C", c_out, "out_channels"), *dims])}
    p = _convt_params(a, ins)
    first = f"{wk.dot(*k, opg, c_in)}" + (f" + {wk.num(c_out)}" if p.bias else "")
    res["params"] = wk.Working("params", p.weight + p.bias, (first, wk.num(p.weight + p.bias)),
                               note="k·k·(C_out/groups) weights per input channel × C_in" + (" + C_out biases" if p.bias else ""))
    macs = wk.product("macs", [((*k, opg), "multiplies per input"), (channels_last(ins[0]), "inputs")], unit="MACs",
                      note="each input element is multiplied by every weight of its group's filters")
    res["macs"] = macs
    res["fvcore"] = wk.Working("fvcore", macs.value, macs.sides, unit="MACs", note="fvcore counts the MACs")
    if p.bias:
        res["bias_flops"] = wk.product("bias_flops", [(channels_last(out), "outputs")], unit="FLOPs",
                                       note="one bias add per output")
    return res


def _convt_lower(d):
    def lower(a, ins):
        from torch import nn

        cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}[d]
        return cls(a["in_channels"], a["out_channels"], a["kernel_size"], stride=a["stride"],
                   padding=tuple(lo for lo, _ in a["pads"]), output_padding=a["output_padding"],
                   groups=a["groups"], bias=a["bias"], dilation=a["dilation"])
    return lower


def _convt_latency_class(a):
    # timed with the forward convolutions' classes by groups (a 1×1 one is no plain GEMM)
    kind = conv_kind(a)
    return "conv" if kind == "pointwise" else kind


def _convt_features(a, ins, out):
    # every input element meets every kernel position: input elements × kernel positions
    return {"im2col": prod(ins[0]) * prod(a["kernel_size"])}


for _d in (1, 2):
    register(OpDef(
        name=f"conv_transpose{_d}d",
        attrs=(*[x for x in _CONV_ATTRS if x.name != "padding"], Attr("padding", "ints", 0),
               Attr("output_padding", "ints", 0)),
        prepare=_conv_prepare(_d, transposed=True), shape=_convt_shape(_d), params=_convt_params,
        costs=_convt_costs, lower=_convt_lower(_d), in_rank=(_d + 1,), explain=_convt_explain, family="conv",
        torch_name=f"nn.ConvTranspose{_d}d", doc=f"{_d}-D transposed convolution.",
        category="macs", kind="transposed", saves=_conv_saves, rf=RFRule("transposed", _window),
        latency_class=_convt_latency_class, latency_features=_convt_features))


def _linear_shape(a, ins):
    return (*ins[0][:-1], a["out_features"])


def _linear_params(a, ins):
    return Params(weight=a["out_features"] * ins[0][-1], bias=a["out_features"] if a["bias"] else 0,
                  frozen=not a["trainable"])


def _linear_costs(a, ins, out):
    macs = prod(ins[0]) * a["out_features"]
    return {"macs": macs, "bias_flops": prod(out) if a["bias"] else 0, "fvcore": macs}


def _linear_explain(a, ins, out):
    """Working of a fully connected layer: (F_in + 1)·F_out params, F_in multiplies per output × outputs."""
    f_in, f_out = ins[0][-1], a["out_features"]
    res = {"output_shape": wk.shape_working(out, [wk.same("features", f_out, "out_features")])}
    p = _linear_params(a, ins)
    res["params"] = wk.weights_and_bias(wk.num(f_in), f_out, p.weight, p.bias, note_bias="(F_in + 1 bias)·F_out",
                                        note_plain="F_in·F_out, no bias",
                                        extra="frozen: not trainable" if p.frozen else "")
    macs = wk.product("macs", [((f_in,), "multiplies per output"), ((*ins[0][:-1], f_out), "outputs")], unit="MACs")
    res["macs"] = macs
    res["fvcore"] = wk.Working("fvcore", macs.value, macs.sides, unit="MACs", note="fvcore counts the MACs")
    if p.bias:
        res["bias_flops"] = wk.product("bias_flops", [(out, "outputs")], unit="FLOPs", note="one bias add per output")
    return res


def _linear_lower(a, ins):
    from torch import nn

    return nn.Linear(ins[0][-1], a["out_features"], bias=a["bias"])


register(OpDef(
    name="linear", attrs=(Attr("out_features", "int", min=1), Attr("bias", "bool", True), TRAINABLE),
    shape=_linear_shape, params=_linear_params, costs=_linear_costs, lower=_linear_lower, explain=_linear_explain,
    in_rank=(1, 2),  # features, or (tokens, features); a feature map must be flattened first
    family="linear", torch_name="nn.Linear",
    category="macs", kind="linear", saves=sv.input_, latency_class="linear",
    rf=RFRule("dense", lambda a, ins, out: (len(ins[0]) - 1,)),  # it mixes the last dimension only
    doc="fully connected layer over the last dimension (flatten first for images)."))
