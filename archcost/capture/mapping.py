"""Calls → registry ops: leaf modules by class, functional calls and tensor methods by target.

Each mapping returns ``(op, attrs)`` with the spec's attribute names (torch's keywords), or
``None`` when no op describes the call (it then becomes an ``opaque`` row, never dropped), or
``("alias",)`` for calls that change nothing the analysis counts (``x.contiguous()``).  Dimensions
are converted from torch's (batch first) to the spec's (no batch: channels are dim 0).
"""

from __future__ import annotations

import operator
from math import prod

import torch
import torch.nn.functional as F
from torch import nn

# -- modules ----------------------------------------------------------------------------------------

def _activations() -> dict:
    """nn class -> op name of every activation op, from the ops' own torch classes (one registry)."""
    from ..ops import OPS

    return {getattr(nn, op.torch_class): name for name, op in OPS.items()
            if op.kind == "act" and name != "softmax" and hasattr(nn, op.torch_class)}


_ACT = _activations()


def _ints(v):
    return list(v) if isinstance(v, (tuple, list)) else v


def _conv(m):
    if m.padding_mode != "zeros":
        return None
    a = {"out_channels": m.out_channels, "kernel_size": _ints(m.kernel_size), "stride": _ints(m.stride),
         "padding": _ints(m.padding), "dilation": _ints(m.dilation), "groups": m.groups, "bias": m.bias is not None}
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        a["output_padding"] = _ints(m.output_padding)
    return a


def _pool(m, kind):
    a = {"kernel_size": _ints(m.kernel_size), "stride": _ints(m.stride), "padding": _ints(m.padding),
         "ceil_mode": bool(m.ceil_mode)}
    if kind == "max":
        if getattr(m, "return_indices", False):
            return None
        a["dilation"] = _ints(m.dilation)
    else:
        if m.divisor_override is not None:
            return None
        a["count_include_pad"] = bool(m.count_include_pad)
    return a


def map_module(m, in_shapes):
    """A leaf module → (op, attrs), or None.  ``in_shapes`` None asks only whether the class is known."""
    t = type(m)
    if t in _ACT:
        a = {"negative_slope": m.negative_slope} if t is nn.LeakyReLU else {}
        if t is nn.GELU:
            a["approximate"] = m.approximate
        if getattr(m, "inplace", False):
            a["inplace"] = True
        return _ACT[t], a
    if t in (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d):
        a = _conv(m)
        if a is None:
            return None
        op = {nn.Conv1d: "conv1d", nn.Conv2d: "conv2d", nn.ConvTranspose1d: "conv_transpose1d",
              nn.ConvTranspose2d: "conv_transpose2d"}[t]
        return op, a
    if t is nn.Linear:
        if in_shapes is not None and len(in_shapes[0]) not in (1, 2):
            return None
        return "linear", {"out_features": m.out_features, "bias": m.bias is not None}
    if t in (nn.BatchNorm1d, nn.BatchNorm2d):
        return f"batchnorm{'1' if t is nn.BatchNorm1d else '2'}d", {
            "eps": m.eps, "momentum": m.momentum if m.momentum is not None else 0.1, "affine": m.affine,
            "track_running_stats": m.track_running_stats}
    if t is nn.GroupNorm:
        return "groupnorm", {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine}
    if t is nn.LayerNorm:
        return "layernorm", {"normalized_shape": list(m.normalized_shape), "eps": m.eps,
                             "elementwise_affine": m.elementwise_affine, "bias": getattr(m, "bias", None) is not None
                             or not m.elementwise_affine}
    if t in (nn.InstanceNorm1d, nn.InstanceNorm2d):
        return f"instancenorm{'1' if t is nn.InstanceNorm1d else '2'}d", {
            "eps": m.eps, "affine": m.affine, "track_running_stats": m.track_running_stats}
    if t is nn.LocalResponseNorm:
        return "local_response_norm", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": float(m.k)}
    if t in (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d):
        kind = "max" if t in (nn.MaxPool1d, nn.MaxPool2d) else "avg"
        d = "1" if t in (nn.MaxPool1d, nn.AvgPool1d) else "2"
        a = _pool(m, kind)
        return None if a is None else (f"{kind}_pool{d}d", a)
    if t in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d):
        if getattr(m, "return_indices", False):
            return None
        kind = "avg" if t in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d) else "max"
        d = "1" if t in (nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d) else "2"
        return _adaptive(kind, d, m.output_size, in_shapes)
    if t in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout):
        return "dropout", {"p": float(m.p)}
    if t is nn.Flatten:
        return "flatten", {"start_dim": m.start_dim, "end_dim": m.end_dim}
    if t is nn.Identity:
        return "identity", {}
    if t is nn.Softmax:
        return ("softmax", {"dim": _dim(m.dim, in_shapes)}) if in_shapes is None or _dim(m.dim, in_shapes) is not None \
            else None
    if t in (nn.ZeroPad1d, nn.ZeroPad2d):
        return f"zeropad{'1' if t is nn.ZeroPad1d else '2'}d", {"padding": list(m.padding)}
    if t is nn.ChannelShuffle:
        return "channel_shuffle", {"groups": m.groups}
    if t.__name__ == "StochasticDepth" and t.__module__.startswith("torchvision"):
        return "identity", {}  # identity in eval (what is traced); torchvision.ops.StochasticDepth
    return None


def _adaptive(kind, d, output_size, in_shapes):
    size = list(output_size) if isinstance(output_size, (tuple, list)) else [output_size] * int(d)
    if any(s is None for s in size):
        if in_shapes is None:
            return f"adaptive_{kind}_pool{d}d", {}
        size = [s if s is not None else in_shapes[0][1 + k] for k, s in enumerate(size)]
    if all(s == 1 for s in size):
        return f"global_{kind}_pool{d}d", {}
    return f"adaptive_{kind}_pool{d}d", {"output_size": size if len(set(size)) > 1 else size[0]}


def _dim(dim, in_shapes):
    """torch's dim (batch = 0, negatives from the end) → the spec's (no batch), or None for the batch."""
    if in_shapes is None:
        return 0
    rank = len(in_shapes[0]) + 1
    d = dim + rank if dim < 0 else dim
    return d - 1 if d >= 1 else None


# -- functions and methods --------------------------------------------------------------------------

# the functional and method forms of each activation op, by torch's names for them (F.relu, torch.relu,
# F.relu_, x.relu(), x.relu_()): derived from the op names, which are torch's own
_F_ACT = {f: op for op in _ACT.values() for mod in (F, torch) for f in (getattr(mod, op, None), getattr(mod, op + "_", None))
          if callable(f)}
_M_ACT = {m: op for op in _ACT.values() for m in (op, op + "_") if hasattr(torch.Tensor, m)}
_ADD = {operator.add, operator.iadd, torch.add}
_MUL = {operator.mul, operator.imul, torch.mul}


#: the torch.nn.functional calls a peer may see as such (ptflops patches some of them; see
#: analysis/peers.py); every other call of a mapped op (a tensor method or operator, a torch.* function,
#: F.relu_, F.hardtanh for relu6) is one no peer hooks
_FUNCTIONAL = {F.relu, F.relu6, F.gelu, F.silu, F.sigmoid, F.tanh, F.hardswish, F.hardsigmoid, F.leaky_relu,
               F.softmax, F.max_pool1d, F.max_pool2d, F.avg_pool1d, F.avg_pool2d, F.adaptive_avg_pool1d,
               F.adaptive_avg_pool2d, F.adaptive_max_pool1d, F.adaptive_max_pool2d}


def call_form(n) -> str:
    """The ``form`` attribute of a mapped call that is not a module's: ``functional`` or ``method``."""
    return "functional" if n.op == "call_function" and n.target in _FUNCTIONAL else "method"


def _arg(n, k, name, default=None):
    if len(n.args) > k:
        return n.args[k]
    return n.kwargs.get(name, default)


def map_function(n, values, in_shapes, out_shape, ins):
    if not ins:  # a call on parameters or constants only (self.gamma.reshape(...)): no op describes it
        return None
    t = n.target
    fn = t if n.op == "call_function" else None
    meth = t if n.op == "call_method" else None
    if fn in _F_ACT or meth in _M_ACT:
        op = _F_ACT.get(fn) or _M_ACT[meth]
        if op == "gelu":
            return "gelu", {"approximate": n.kwargs.get("approximate", "none")}
        if op == "leaky_relu":
            return "leaky_relu", {"negative_slope": float(_arg(n, 1, "negative_slope", 0.01))}
        return op, {}
    if fn is F.hardtanh and _arg(n, 1, "min_val", -1.0) == 0 and _arg(n, 2, "max_val", 1.0) == 6:
        return "relu6", {}
    if fn in _ADD or meth in ("add", "add_"):
        if len(ins) == 2 and in_shapes[0] == in_shapes[1] == out_shape and _arg(n, 2, "alpha", 1) == 1:
            return "add", {}
        return None
    if fn in _MUL or meth in ("mul", "mul_"):
        if len(ins) == 2 and all(len(s) == len(out_shape) for s in in_shapes):
            return "multiply", {}
        if len(ins) == 1:
            other = [a for a in n.args if not isinstance(a, torch.fx.Node)]
            if len(other) == 1 and isinstance(other[0], (int, float)) and not isinstance(other[0], bool):
                return "scale", {"value": float(other[0])}
        return None
    if fn is torch.cat or fn is torch.concat:
        if len(ins) == 1:
            return "identity", {}  # torch.cat([x], 1): DenseNet's first layer
        d = _dim(_arg(n, 1, "dim", 0), in_shapes)
        return None if d is None else ("concat", {"dim": d})
    if fn is torch.flatten or meth == "flatten":
        s, e = _arg(n, 1, "start_dim", 0), _arg(n, 2, "end_dim", -1)
        return ("flatten", {"start_dim": s, "end_dim": e}) if s != 0 else None
    if meth in ("view", "reshape") or fn is torch.reshape:
        # x.view(x.size(0), -1): the batch kept, everything else merged — a flatten
        if len(out_shape) == 1 and len(in_shapes[0]) >= 1 and out_shape[0] == prod(in_shapes[0]):
            return ("flatten", {"start_dim": 1, "end_dim": -1}) if len(in_shapes[0]) > 1 else ("identity", {})
        if tuple(out_shape) == tuple(in_shapes[0]):
            return "identity", {}
        return None
    if meth == "contiguous":
        return ("alias",)
    if meth == "mean" or fn is torch.mean:
        dims = _arg(n, 1, "dim")
        keep = _arg(n, 2, "keepdim", False)
        rank = len(in_shapes[0]) + 1
        if isinstance(dims, int):
            dims = [dims]
        if dims is not None and rank in (3, 4) and sorted(d % rank for d in dims) == list(range(2, rank)):
            d = rank - 2
            pool = (f"global_avg_pool{d}d", {})
            if keep:
                return pool
            return (*pool, ("flatten", {"start_dim": 1, "end_dim": -1}), (in_shapes[0][0],) + (1,) * d)
        return None
    if fn in (F.adaptive_avg_pool2d, F.adaptive_avg_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool1d):
        kind = "avg" if "avg" in fn.__name__ else "max"
        d = "2" if "2d" in fn.__name__ else "1"
        if _arg(n, 2, "return_indices", False):
            return None
        return _adaptive(kind, d, _arg(n, 1, "output_size"), in_shapes)
    if fn in (F.max_pool2d, F.max_pool1d, F.avg_pool2d, F.avg_pool1d):
        kind = "max" if "max" in fn.__name__ else "avg"
        d = "2" if "2d" in fn.__name__ else "1"
        k = _arg(n, 1, "kernel_size")
        stride = _arg(n, 2, "stride")
        a = {"kernel_size": _ints(k), "stride": _ints(stride) if stride not in (None, [], ()) else None,
             "padding": _ints(_arg(n, 3, "padding", 0))}
        if kind == "max":
            a["dilation"] = _ints(_arg(n, 4, "dilation", 1))
            a["ceil_mode"] = bool(_arg(n, 5, "ceil_mode", False))
            if _arg(n, 6, "return_indices", False):
                return None
        else:
            a["ceil_mode"] = bool(_arg(n, 4, "ceil_mode", False))
            a["count_include_pad"] = bool(_arg(n, 5, "count_include_pad", True))
            if _arg(n, 6, "divisor_override") is not None:
                return None
        if a["stride"] is None:
            del a["stride"]
        return f"{kind}_pool{d}d", a
    if fn is F.dropout or fn is torch.dropout:
        return "dropout", {"p": float(_arg(n, 1, "p", 0.5))}
    if fn is F.softmax or fn is torch.softmax or meth == "softmax":
        d = _dim(_arg(n, 1, "dim"), in_shapes) if _arg(n, 1, "dim") is not None else None
        return None if d is None else ("softmax", {"dim": d})
    if getattr(fn, "__name__", "") == "channel_shuffle" and len(n.args) == 2 and isinstance(n.args[1], int):
        return "channel_shuffle", {"groups": n.args[1]}
    if fn is operator.getitem:
        src = n.args[0]
        parent = src if isinstance(src, torch.fx.Node) else None
        if parent is not None and parent.op in ("call_function", "call_method") and _target_name(parent) in (
                "chunk", "split") and isinstance(n.args[1], int):
            return _split_slice(parent, n.args[1], values)
        return None
    if meth == "size" or meth == "dim":
        return None
    return None


def _target_name(n):
    return n.target if isinstance(n.target, str) else getattr(n.target, "__name__", "")


def _split_slice(parent, k, values):
    """``x.chunk(2, dim=1)[k]`` / ``torch.split(x, sizes, 1)[k]`` on channels → a slice row."""
    dim = parent.kwargs.get("dim", parent.args[2] if len(parent.args) > 2 else 0)
    parts = values[parent]
    src = parent.args[0]
    rank = values[src].dim()
    if (dim + rank if dim < 0 else dim) != 1:
        return None
    start = sum(p.shape[1] for p in parts[:k])
    return "slice", {"start": start, "length": parts[k].shape[1]}
