"""Calls → registry ops: leaf modules by class, functional calls and tensor methods by target.

Each mapping returns ``(op, attrs)`` with the spec's attribute names (torch's keywords), or
``None`` when no op describes the call (it then becomes an ``opaque`` row, never dropped), or
``("alias",)`` for calls that change nothing the analysis counts (``x.contiguous()``), or a
:class:`Mapped` when one call becomes several rows (``x.mean([2, 3])`` → pool + flatten) or its row
must carry a parameter's name (``torch.cat([self.class_token.expand(n, -1, -1), x], 1)``).
Dimensions are converted from torch's (batch first) to the spec's (no batch: channels are dim 0).

Parameters used directly in ``forward`` (``self.class_token``, ``self.pos_embedding``, ``self.gamma``)
reach a mapping through ``params``: node -> the parameter's path, for a ``get_attr`` node and for any
call made on parameters only (``self.class_token.expand(n, -1, -1)``), which is no row of its own.
"""

from __future__ import annotations

import operator
import weakref
from dataclasses import dataclass
from math import prod

import torch
import torch.nn.functional as F
from torch import nn

@dataclass
class Mapped:
    """One call as several rows, or as a row named by a parameter.

    ``rows``: ``(suffix, op, attrs, out_shape)`` in order; the row with suffix ``""`` is the call's own
    (it carries the call's parameters and, for a module, the module's name); the others are named
    ``<id>_<suffix>`` and ``out_shape`` None means the call's output shape.  ``name``: the row's id when it
    must be a parameter's path, so a lowered spec's ``state_dict`` has the module's names
    (``class_token``, ``encoder.pos_embedding``, ``features.1.0.layer_scale``).  ``batch_moved``: the call
    reads or makes a tensor whose dim 0 is not the batch, and the rows account for it (timm's packed q, k, v)."""

    rows: list
    name: str | None = None
    batch_moved: bool = False


def one(op, attrs, name=None) -> Mapped:
    return Mapped([("", op, attrs, None)], name)


# -- modules ----------------------------------------------------------------------------------------

#: torchvision MaxViT's WindowPartition / WindowDepartition met inside a PartitionAttentionLayer being traced
#: → their (op, attrs): the modules take the partition as a call argument and only the layer knows its type
#: and map size (filled by trace.py's ``_partition_attention_math``; the user's modules are not touched)
PARTITIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

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
        return _linear(m.out_features, m.bias is not None, in_shapes)
    if t is nn.MultiheadAttention:
        return _mha(m)
    if t is nn.Embedding:
        if m.max_norm is not None:
            return None  # renormalises the rows it reads, in place: not a lookup alone
        a = {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim}
        if m.padding_idx is not None:
            a["padding_idx"] = m.padding_idx
        return "embedding", a
    if t is nn.Unflatten:
        if in_shapes is None:
            return "unflatten", {}
        d = _dim(m.dim, in_shapes)
        return None if d is None else ("unflatten", {"dim": d, "sizes": list(m.unflattened_size)})
    if t in (nn.BatchNorm1d, nn.BatchNorm2d):
        return f"batchnorm{'1' if t is nn.BatchNorm1d else '2'}d", _bn_attrs(m)
    if t is nn.GroupNorm:
        return "groupnorm", {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine}
    if t is nn.LayerNorm:
        a = {"normalized_shape": list(m.normalized_shape), "eps": m.eps, "elementwise_affine": m.elementwise_affine,
             "bias": getattr(m, "bias", None) is not None or not m.elementwise_affine}
        if in_shapes is not None and in_shapes[0] and a["normalized_shape"] == [in_shapes[0][-1]]:
            del a["normalized_shape"]  # the last dimension: the op's default, as a person writes it
        return "layernorm", a
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
    if t.__name__ in ("WindowPartition", "WindowDepartition") and t.__module__.startswith("torchvision"):
        return PARTITIONS.get(m)
    if t.__name__ == "RelativePositionalMultiHeadAttention" and t.__module__.startswith("torchvision"):
        # MaxViT's attention, on the N×D tokens of a partition (groups of size² consecutive tokens)
        return "relative_position_attention", {"head_dim": m.head_dim, "partition_size": m.size}
    if t.__name__ in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2") and t.__module__.startswith("torchvision"):
        return _swin_attention(m)
    if t.__name__ == "StochasticDepth" and t.__module__.startswith("torchvision"):
        return "stochastic_depth", {"p": float(m.p), "mode": m.mode}  # identity in eval
    if t.__name__ in ("Conv2dSame", "AvgPool2dSame", "MaxPool2dSame") and t.__module__.startswith("timm") \
            and isinstance(m, (nn.Conv2d, nn.AvgPool2d, nn.MaxPool2d)):
        return _same(m, in_shapes)
    if t.__name__ == "BatchNormAct2d" and t.__module__.startswith("timm") and isinstance(m, nn.BatchNorm2d):
        return _batch_norm_act(m, in_shapes)
    if t.__name__ == "LayerNorm2d" and t.__module__.startswith(("torchvision", "timm")) and isinstance(m, nn.LayerNorm) \
            and not getattr(m, "_fast_norm", False) and (m.bias is not None or not m.elementwise_affine):
        # ConvNeXt's channels norm (permute, F.layer_norm over C, permute back), in both libraries
        return "layernorm2d", {"eps": m.eps, "elementwise_affine": m.elementwise_affine}
    return None


def _linear(out_features, bias, in_shapes, name=None):
    a = {"out_features": out_features, "bias": bias}
    if in_shapes is not None and len(in_shapes[0]) >= 3:
        # archcost's linear reads vectors or tokens (on a C×H×W map it is a homework error: flatten
        # first), so a linear on an H×W×C map (ConvNeXt's channels-last MLP) is written as the spec
        # writes it: the positions flattened into tokens around it — views, the same arithmetic
        s = tuple(in_shapes[0])
        return Mapped([("tokens", "flatten", {"start_dim": 1, "end_dim": len(s) - 1}, (prod(s[:-1]), s[-1])),
                       ("", "linear", a, (prod(s[:-1]), out_features)),
                       ("map", "unflatten", {"dim": 0, "sizes": list(s[:-1])}, None)], name)
    return one("linear", a, name) if name else ("linear", a)


def _same_pads(size, k, s, d):
    """TensorFlow's "SAME" padding of one dim (timm's get_same_padding): (before, after)."""
    pad = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return pad // 2, pad - pad // 2


def _same(m, in_shapes):
    """timm's Conv2dSame / AvgPool2dSame / MaxPool2dSame: ``pad_same(x, ...)`` (TensorFlow's "SAME" padding,
    computed from the input's size, on which fx cannot branch), then the layer without padding.  A leaf:
    the padding is known here from the input's shape — a zeropad2d row ``<name>_pad`` and the layer under
    its name (a max pool pads with -inf: its padding must be symmetric, then the pool's own).  Anything
    else the module computes stays one opaque row."""
    if in_shapes is None:  # a leaf: its input's size decides the padding
        return ("conv2d" if isinstance(m, nn.Conv2d) else "avg_pool2d" if isinstance(m, nn.AvgPool2d)
                else "max_pool2d"), {}
    x = in_shapes[0]
    if len(x) != 3 or _pair(m.padding) != (0, 0):
        return None
    k, st = _pair(m.kernel_size), _pair(m.stride)
    d = _pair(getattr(m, "dilation", 1))
    (top, bottom), (left, right) = (_same_pads(x[1 + i], k[i], st[i], d[i]) for i in range(2))
    pads = [left, right, top, bottom]
    if isinstance(m, nn.Conv2d):
        a = _conv(m)
        if a is None:
            return None
        op = ("conv2d", a)
    elif isinstance(m, nn.AvgPool2d):
        # the zeros are padded explicitly: the average counts them, whatever count_include_pad says
        a = _pool(m, "avg")
        op = None if a is None else ("avg_pool2d", {**a, "count_include_pad": True})
    else:
        a = _pool(m, "max")
        if a is None or left != right or top != bottom or 2 * top > k[0] or 2 * left > k[1]:
            return None
        return "max_pool2d", {**a, "padding": [top, left]}
    if op is None:
        return None
    if not any(pads):
        return op
    return Mapped([("pad", "zeropad2d", {"padding": pads}, (x[0], x[1] + top + bottom, x[2] + left + right)),
                   ("", *op, None)])


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _bn_attrs(m) -> dict:
    """A batch norm module's attributes as the spec writes them (momentum None, a cumulative average, as 0.1)."""
    return {"eps": m.eps, "momentum": m.momentum if m.momentum is not None else 0.1, "affine": m.affine,
            "track_running_stats": m.track_running_stats}


def _batch_norm_act(m, in_shapes):
    """timm's BatchNormAct2d (an nn.BatchNorm2d whose ``forward`` calls ``F.batch_norm`` with its own tensors,
    then its ``drop`` and ``act`` submodules) → its batchnorm2d row, named by the module (its state_dict is
    nn.BatchNorm2d's: weight, bias, running_mean, running_var, num_batches_tracked), then its activation
    as a row ``<name>_act``.  The activation cannot keep its path (``bn.act``): that would make ``bn`` both a
    row and a group.  None when ``drop`` or ``act`` is not one of torch's activations, dropout or identity
    (or holds parameters): the module is then traced through, and its ``F.batch_norm`` mapped alone."""
    children = dict(m.named_children())
    if set(children) != {"drop", "act"} or any(True for c in children.values() for _ in c.parameters()):
        return None
    rows = [("", "batchnorm2d", _bn_attrs(m), None)]
    for key in ("drop", "act"):
        child = children[key]
        if isinstance(child, nn.Identity):
            continue
        sub = map_module(child, in_shapes) if isinstance(child, nn.Dropout) or type(child) in _ACT else None
        if not isinstance(sub, tuple):
            return None
        rows.append((key, *sub, None))
    return Mapped(rows)


def _mha(m):
    """nn.MultiheadAttention as archcost's ``multi_head_attention`` (self-attention on batch-first N×D
    tokens, with or without biases), or None for what that op does not describe: sequence-first
    inputs (the batch is not dim 0), other key/value sizes, bias_k/bias_v, add_zero_attn."""
    if not m.batch_first or not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
        return None
    bias = m.in_proj_bias is not None
    if bias != (m.out_proj.bias is not None):
        return None
    return "multi_head_attention", {"num_heads": m.num_heads, "dropout": float(m.dropout), "bias": bias}


def _swin_attention(m):
    """torchvision's ShiftedWindowAttention(V2) as ``shifted_window_attention`` (one row: its
    ``forward`` is one ``torch.fx.wrap``-ped function of the input and the module's own parameters), or
    None where dropout is on (the op describes the module in eval without it)."""
    if m.attention_dropout or m.dropout:
        return None
    return "shifted_window_attention", {
        "num_heads": m.num_heads, "window_size": _square(m.window_size), "shift_size": _square(m.shift_size),
        "version": 2 if hasattr(m, "logit_scale") else 1, "qkv_bias": m.qkv.bias is not None,
        "proj_bias": m.proj.bias is not None}


def _square(v):
    """[7, 7] → 7, as a person writes a square window; [7, 8] stays a list."""
    v = list(v)
    return v[0] if len(set(v)) == 1 else v


def mha_call_ok(n) -> bool:
    """Is this call of an nn.MultiheadAttention self-attention without masks (``m(x, x, x, ...)``)?"""
    args = list(n.args) + [n.kwargs.get(k) for k in ("query", "key", "value") if k in n.kwargs]
    if len(args) != 3 or not (args[0] is args[1] is args[2]) or not isinstance(args[0], torch.fx.Node):
        return False
    return (n.kwargs.get("attn_mask") is None and n.kwargs.get("key_padding_mask") is None
            and not n.kwargs.get("is_causal", False) and len(n.args) <= 3)


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


#: tensor calls ptflops patches (its TENSOR_OPS_MAPPING: torch.matmul, Tensor.matmul, torch.bmm, ...);
#: ``x @ y`` goes through ``Tensor.__matmul__``, a C method it does not patch
_PATCHED_FN = {torch.matmul, torch.bmm, torch.mm}
_PATCHED_METHODS = {"matmul", "bmm", "mm"}


def call_form(n) -> str:
    """The ``form`` attribute of a mapped call that is not a module's: ``functional`` or ``method``."""
    if "archcost_form" in n.meta:  # set where the tracer knows better (a function held since construction)
        return n.meta["archcost_form"]
    if n.op == "call_function" and (n.target in _FUNCTIONAL or n.target in _PATCHED_FN):
        return "functional"
    if n.op == "call_method" and n.target in _PATCHED_METHODS:
        return "functional"
    return "method"


def _arg(n, k, name, default=None):
    if len(n.args) > k:
        return n.args[k]
    return n.kwargs.get(name, default)


def map_function(n, values, in_shapes, out_shape, ins, params=None):
    """A functional call or tensor method → (op, attrs), :class:`Mapped`, ``("alias",)`` or None.
    ``params``: node -> (path, shape) of the parameter it is (or is made from, by calls on parameters only)."""
    if not ins:  # a call on parameters or constants only (self.gamma.reshape(...)): no op describes it
        return None
    params = params or {}
    t = n.target
    fn = t if n.op == "call_function" else None
    meth = t if n.op == "call_method" else None
    learned = _learned(n, fn, meth, values, in_shapes, out_shape, ins, params)
    if learned is not None:
        return learned
    attn = _attention(n, fn, meth, values, in_shapes, out_shape, ins, params)
    if attn is not None:
        return attn
    if fn is F.batch_norm:
        return _batch_norm(n, in_shapes, ins, params)
    if fn is F.linear:
        # the module's own weight and bias (timm's Linear, an nn.Linear calling F.linear): named by the module
        w, b = _arg(n, 1, "weight"), _arg(n, 2, "bias")
        owner = _owner(params, w, "weight")
        if len(ins) != 1 or n.args[0] is not ins[0] or owner is None or not in_shapes[0] or (
                b is not None and _owner(params, b, "bias") != owner):
            return None
        shape = params[w][1]
        if len(shape) != 2 or shape[1] != in_shapes[0][-1]:
            return None
        return _linear(shape[0], b is not None, in_shapes, owner)
    moved = _reindex(n, fn, meth, values, in_shapes, out_shape, ins)
    if moved is not None:
        return moved
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
            other = [values.get(a) if isinstance(a, torch.fx.Node) else a for a in n.args if a is not ins[0]]
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
        if values[n].shape[0] != values[ins[0]].shape[0]:
            return None  # the batch merged with other dims (heads folded into it): no spec op says that
        return _reshape(tuple(in_shapes[0]), tuple(out_shape))
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
            return Mapped([("", *pool, (in_shapes[0][0],) + (1,) * d),
                           ("flat", "flatten", {"start_dim": 1, "end_dim": -1}, None)])
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
    if getattr(fn, "__name__", "") == "_patch_merging_pad" and getattr(fn, "__module__", "").startswith(
            "torchvision") and len(ins) == 1 and len(in_shapes[0]) == 3:
        return "patch_merge", {}  # Swin's PatchMerging(V2) gather (a torch.fx.wrap-ped function there)
    if getattr(fn, "__name__", "") == "channel_shuffle" and len(n.args) == 2 and isinstance(n.args[1], int):
        return "channel_shuffle", {"groups": n.args[1]}
    if fn is operator.getitem:
        src = n.args[0]
        parent = src if isinstance(src, torch.fx.Node) else None
        k = n.args[1]
        moved = parent.args[0] if parent is not None and parent.target in (torch.unbind, "unbind") else parent
        if isinstance(k, int) and not isinstance(k, bool) and _batch_second(moved):
            # one of the packed q, k, v (see _reindex): a slice of the spec's 3×H×N×hd, then its first dim merged
            size = values[moved].shape[0]
            if -size <= k < size:
                return Mapped([("", "slice", {"start": k % size, "length": 1}, (1, *values[moved].shape[2:])),
                               ("flat", "flatten", {"start_dim": 1, "end_dim": 2}, None)], batch_moved=True)
        if parent is not None and parent.op in ("call_function", "call_method") and _target_name(parent) in (
                "chunk", "split") and isinstance(n.args[1], int):
            return _split_slice(parent, n.args[1], values)
        return None
    if meth == "size" or meth == "dim":
        return None
    return None


def _batch_second(node) -> bool:
    """Is ``node`` a permute that moves the batch to dim 1, read only by taking one of its first dim?"""
    if not isinstance(node, torch.fx.Node) or not (node.target is torch.permute or node.target == "permute"):
        return False
    dims = _permute_dims(node, node.op == "call_method")
    if not isinstance(dims, (list, tuple)) or len(dims) < 3 or not all(isinstance(d, int) for d in dims):
        return False
    dims = _norm_dims(list(dims), len(dims))
    return dims[0] != 0 and dims[1] == 0 and _selected_along_first(node)


def _selected_along_first(node) -> bool:
    """Is every use of ``node`` ``node[k]`` or ``node.unbind(0)`` (itself read only as ``[k]``), k an int?"""
    def index(u, src):
        return (u.op == "call_function" and u.target is operator.getitem and u.args[0] is src
                and isinstance(u.args[1], int) and not isinstance(u.args[1], bool))

    def unbind0(u):
        return (u.target is torch.unbind or u.target == "unbind") and u.args[0] is node and _arg(u, 1, "dim", 0) == 0 \
            and u.users and all(index(g, u) for g in u.users)

    return bool(node.users) and all(index(u, node) or unbind0(u) for u in node.users)


def _permute_dims(n, meth):
    """permute's dims: ``x.permute(0, 2, 1)``, ``x.permute([0, 2, 1])``, ``torch.permute(x, dims)``."""
    if meth and not isinstance(n.args[1] if len(n.args) > 1 else None, (list, tuple)):
        return n.args[1:]
    return _arg(n, 1, "dims")


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


# -- attention-era calls --------------------------------------------------------------------------------

_SUB = {operator.sub, operator.isub, torch.sub}


def _other(n, ins):
    """The argument of a two-operand call that is not its tensor input."""
    rest = [a for a in n.args if a is not ins[0]]
    return rest[0] if len(rest) == 1 else None


def _learned(n, fn, meth, values, in_shapes, out_shape, ins, params):
    """A learned tensor joined with the data, written as the spec's class_token / pos_embedding /
    layer_scale and named by the parameter's path (torchvision's ``class_token``,
    ``encoder.pos_embedding``, ``CNBlock.layer_scale``), so a lowered spec's state_dict has its names."""
    if len(ins) != 1:
        return None
    x = tuple(in_shapes[0])
    if fn is torch.cat or fn is torch.concat:
        seq = n.args[0] if n.args else n.kwargs.get("tensors")
        if isinstance(seq, (list, tuple)) and len(seq) == 2 and seq[1] is ins[0] and seq[0] in params:
            path, shape = params[seq[0]]
            if _arg(n, 1, "dim", 0) in (1, -2) and len(x) == 2 and tuple(shape) == (1, 1, x[1]):
                return one("class_token", {}, path)
        return None
    other = _other(n, ins) if (fn in _ADD or fn in _MUL or meth in ("add", "mul")) else None
    if other is None or other not in params or n.kwargs:
        return None
    path, shape = params[other]
    if other.op != "get_attr":
        if (fn in _MUL or meth == "mul") and _reshaped_vector(other, values, x):
            # timm's ConvNeXt: x.mul(self.gamma.reshape(1, -1, 1, 1)), γ a C vector.  Written as layer_scale,
            # whose γ is C×1×1 (torchvision's): the same count, the same name; its lowered γ has that shape
            return one("layer_scale", {}, path)
        return None
    if (fn in _ADD or meth == "add") and len(x) == 2 and tuple(shape) == (1, *x) and tuple(out_shape) == x:
        return one("pos_embedding", {}, path)
    if (fn in _MUL or meth == "mul") and len(x) in (2, 3) and tuple(shape) == (x[0], *[1] * (len(x) - 1)):
        return one("layer_scale", {}, path)
    return None


def _reshaped_vector(node, values, x):
    """Is ``node`` a C vector parameter reshaped to scale the channels of a C×H×W map (``(1, C, 1, 1)``)?"""
    if node.target not in ("reshape", "view", torch.reshape) or not node.args or not isinstance(
            node.args[0], torch.fx.Node) or node.args[0].op != "get_attr" or len(x) != 3:
        return None
    src, out = values.get(node.args[0]), values.get(node)
    return (isinstance(src, torch.Tensor) and tuple(src.shape) == (x[0],) and isinstance(out, torch.Tensor)
            and tuple(out.shape) == (1, x[0], 1, 1))


def _attention(n, fn, meth, values, in_shapes, out_shape, ins, params):
    """matmul (``@``, torch.matmul, bmm), scaled_dot_product_attention, F.layer_norm, ``x / number``."""
    if fn in (operator.matmul, torch.matmul, torch.bmm, torch.mm) or meth in ("matmul", "bmm", "mm", "__matmul__"):
        if len(ins) != 2 or any(a in params for a in n.args[:2]):
            return None  # x @ self.weight: a parameter is no row of the spec (opaque, params counted)
        x, y = in_shapes
        if len(x) < 2 or len(x) != len(y) or x[-1] != y[-2]:
            return None
        if any(p != q and 1 not in (p, q) for p, q in zip(x[:-2], y[:-2])):
            return None
        return "matmul", {}
    if fn is F.scaled_dot_product_attention:
        if len(ins) != 3 or _arg(n, 3, "attn_mask") is not None or _arg(n, 7, "enable_gqa", False):
            return None
        q, k, v = (n.args[i] if len(n.args) > i else n.kwargs.get(name) for i, name in
                   enumerate(("query", "key", "value")))
        if [q, k, v] != ins[:3] and not (q is k is v):
            return None
        a = {"is_causal": bool(_arg(n, 5, "is_causal", False)), "dropout_p": float(_arg(n, 4, "dropout_p", 0.0))}
        if _arg(n, 6, "scale") is not None:
            a["scale"] = float(_arg(n, 6, "scale"))
        return "scaled_dot_product_attention", a
    if fn is F.layer_norm:
        ns, w, b = _arg(n, 1, "normalized_shape"), _arg(n, 2, "weight"), _arg(n, 3, "bias")
        eps = float(_arg(n, 4, "eps", 1e-5))
        ns = [ns] if isinstance(ns, int) else list(ns) if isinstance(ns, (list, tuple)) else None
        if ns is None or not all(isinstance(d, int) for d in ns):
            return None
        if w is None and b is None:
            return "layernorm", {"normalized_shape": ns, "eps": eps, "elementwise_affine": False}
        # the module's own parameters (timm's LayerNorm subclasses call F.layer_norm with self.weight):
        # the row takes the module's name, so its lowered nn.LayerNorm has the same state_dict keys
        owner = params.get(w, ("",))[0].rpartition(".")
        if w not in params or owner[2] != "weight" or (b is not None and params.get(b, ("",))[0] != owner[0] + ".bias"):
            return None
        return one("layernorm", {"normalized_shape": ns, "eps": eps, "elementwise_affine": True,
                                 "bias": b is not None}, owner[0] or None)
    if fn in (operator.truediv, operator.itruediv, torch.div) or meth in ("div", "div_"):
        other = _other(n, ins)
        if isinstance(other, torch.fx.Node):  # a number computed from shapes (math.sqrt(x.shape[-1])): known here
            other = values.get(other)
        if len(ins) == 1 and isinstance(other, (int, float)) and not isinstance(other, bool) and other \
                and n.args[0] is ins[0] and not n.kwargs:
            return "scale", {"value": 1.0 / float(other)}
    return None


def _owner(params, node, attr):
    """The module path of ``node`` when it is that module's own ``attr`` (``bn1.weight`` → ``bn1``), else None."""
    if not isinstance(node, torch.fx.Node) or node not in params or node.op != "get_attr":
        return None
    owner, _, name = params[node][0].rpartition(".")
    return owner if name == attr else None


def _batch_norm(n, in_shapes, ins, params):
    """``F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, training, momentum, eps)``
    made by a module with its own tensors (timm's BatchNormAct2d, a BatchNorm2d subclass whose ``forward``
    calls it before its ``drop`` and ``act`` submodules) → batchnorm1d/2d named by that module, so its
    lowered nn.BatchNorm has the same state_dict keys (weight, bias, running_mean, running_var,
    num_batches_tracked).  In eval with running statistics, or with batch statistics (no running
    tensors, ``training=True``); None for anything else (tensors of another module, other statistics)."""
    if len(ins) != 1 or n.args[0] is not ins[0] or len(in_shapes[0]) not in (1, 2, 3):
        return None
    names = ("running_mean", "running_var", "weight", "bias")
    tensors = [_arg(n, k + 1, name) for k, name in enumerate(names)]
    training, momentum, eps = _arg(n, 5, "training", False), _arg(n, 6, "momentum", 0.1), _arg(n, 7, "eps", 1e-5)
    if not all(isinstance(v, (int, float)) for v in (training, momentum, eps)):
        return None
    owners = {_owner(params, t, name) for t, name in zip(tensors, names) if t is not None}
    if len(owners) != 1 or None in owners:
        return None  # no tensor of a module's own, tensors of several modules, or computed ones
    stats = [t is not None for t in tensors[:2]]
    affine = [t is not None for t in tensors[2:]]
    if stats[0] != stats[1] or affine[0] != affine[1] or bool(training) == stats[0]:
        return None  # one running tensor without the other, γ without β, or running statistics in training
    d = "2" if len(in_shapes[0]) == 3 else "1"
    return one(f"batchnorm{d}d", {"eps": float(eps), "momentum": float(momentum) if momentum else 0.1,
                                  "affine": affine[0], "track_running_stats": stats[0]}, owners.pop())


def _norm_dims(dims, rank):
    return [d + rank if d < 0 else d for d in dims]


def _reindex(n, fn, meth, values, in_shapes, out_shape, ins):
    """permute / transpose / unflatten / x[:, k] / x[:, a:b] on 2-D and larger tensors (dims that keep the batch)."""
    if len(ins) != 1:
        return None
    x = tuple(in_shapes[0])
    rank = len(x) + 1
    if fn is torch.permute or meth == "permute":
        dims = _permute_dims(n, meth)
        if not isinstance(dims, (list, tuple)) or len(dims) != rank or not all(isinstance(d, int) for d in dims):
            return None
        dims = _norm_dims(dims, rank)
        if dims[0] != 0:
            if dims[1] == 0 and _selected_along_first(n):
                # timm's packed q, k, v: qkv.reshape(B, N, 3, H, hd).permute(2, 0, 3, 1, 4).unbind(0): the batch
                # moves to dim 1 only until one of the first dim is taken, so the spec permutes the other dims
                # (N×3×H×hd → 3×H×N×hd) and takes q, k, v as a slice and a flatten each (below)
                spec = [d - 1 for d in dims if d != 0]
                return Mapped([("", "permute", {"dims": spec}, tuple(x[d] for d in spec))], batch_moved=True)
            return None  # the batch moves: the spec counts dims without it
        if dims == list(range(rank)):
            return ("alias",)
        return "permute", {"dims": [d - 1 for d in dims[1:]]}
    if fn is torch.transpose or meth == "transpose":
        d0, d1 = _arg(n, 1, "dim0"), _arg(n, 2, "dim1")
        if not isinstance(d0, int) or not isinstance(d1, int):
            return None
        d0, d1 = _norm_dims([d0, d1], rank)
        if 0 in (d0, d1):
            return None
        if d0 == d1:
            return ("alias",)
        return "transpose", {"dim0": d0 - 1, "dim1": d1 - 1}
    if fn is torch.unflatten or meth == "unflatten":
        d = _dim(_arg(n, 1, "dim"), in_shapes)
        return None if d is None else ("unflatten", {"dim": d, "sizes": list(out_shape[d:d + len(out_shape) - len(x) + 1])})
    if fn is operator.getitem and isinstance(n.args[1], tuple) and 2 <= len(n.args[1]) <= rank and isinstance(
            n.args[0], torch.fx.Node) and n.args[0] is ins[0]:
        whole, idx, *rest = n.args[1]
        if whole != slice(None) or not x or any(r != slice(None) and r is not Ellipsis for r in rest):
            return None  # x[:, :c, :, :] (GhostNet) is x[:, :c]: trailing whole dims select nothing
        c = x[0]
        if isinstance(idx, int) and not isinstance(idx, bool) and -c <= idx < c and len(x) >= 2:
            k = idx % c
            # x[:, k] (ViT's class token): one token, then the token dim merged away
            return Mapped([("", "slice", {"start": k, "length": 1}, (1, *x[1:])),
                           ("flat", "flatten", {"start_dim": 1, "end_dim": 2}, None)])
        if isinstance(idx, slice):
            # bounds computed from shapes (PiT's x[:, :token_length], token_length = t.shape[1]): known here
            bounds = [values.get(b) if isinstance(b, torch.fx.Node) else b for b in (idx.start, idx.stop, idx.step)]
            if not all(b is None or isinstance(b, int) and not isinstance(b, bool) for b in bounds) \
                    or bounds[2] not in (None, 1):
                return None
            start, stop, _ = slice(*bounds).indices(c)
            if stop > start:
                return "slice", {"start": start, "length": stop - start}
    return None


def _reshape(x, y):
    """A reshape that keeps the batch → flatten (dims merged), unflatten (a dim split), or both (one
    run of dims regrouped); None when several runs change."""
    groups, i, j = [], 0, 0
    while i < len(x) or j < len(y):
        i0, j0 = i, j
        px = x[i] if i < len(x) else 1
        py = y[j] if j < len(y) else 1
        i, j = i + 1, j + 1
        while px != py:
            if px < py and i < len(x):
                px *= x[i]
                i += 1
            elif py < px and j < len(y):
                py *= y[j]
                j += 1
            else:
                return None
        groups.append((i0, min(i, len(x)), j0, min(j, len(y))))
    changed = [(a, b, c, d) for a, b, c, d in groups if x[a:b] != y[c:d]]
    if len(changed) != 1:
        return None
    a, b, c, d = changed[0]
    if b - a == 0 or d - c == 0:
        return None
    if d - c == 1:  # dims a..b-1 merged (torch's dims: + 1 for the batch)
        return "flatten", {"start_dim": a + 1, "end_dim": b}
    if b - a == 1:
        return "unflatten", {"dim": a, "sizes": list(y[c:d])}
    merged = (*x[:a], prod(x[a:b]), *x[b:])
    return Mapped([("", "flatten", {"start_dim": a + 1, "end_dim": b}, merged),
                   ("split", "unflatten", {"dim": a, "sizes": list(y[c:d])}, None)])
