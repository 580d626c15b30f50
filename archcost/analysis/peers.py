"""What each peer tool counts for each archcost op: ptflops, thop and torchinfo, in pure Python.

The module-hook tools count per ``nn.Module`` class, with one handler per class (thop's
``register_hooks``, ptflops' ``MODULES_MAPPING``, torchinfo's ``LayerInfo.calculate_macs``).
Here each peer has one table keyed by archcost op name that mirrors the peer's own table,
read from its source (ptflops 0.7.5 ``pytorch_ops.py``/``pytorch_engine.py``, thop 0.1.1
``profile.py``/``vision/basic_hooks.py``/``vision/calc_func.py``, torchinfo 1.8.0
``layer_info.py``/``model_statistics.py``) and checked by running the peer.

A rule sees one node as the module archcost lowers it to (``a`` attrs, ``ins`` input shapes and
``out`` output shape without the batch, ``c`` the op's cost dict, ``p`` its
:class:`~archcost.ops.Params`) and returns the peer's count split by category
(:data:`CATEGORIES`), so any two presets' difference breaks down exactly.

The *form* says how a model computes an op, which decides what a module-hook tool sees:

``module``      an ``nn.Module`` call (``nn.ReLU()(x)``): what archcost's lowering does,
                what most models do, and what the presets count.
``functional``  a ``torch.nn.functional`` call (``F.relu(x)``): thop and torchinfo see nothing;
                ptflops sees what its patched functions count (``F.relu``, pools, ``F.softmax``...).
``method``      a tensor method or operator (``x.mean([2, 3])``, ``x + y``): no peer sees it.

ptflops counts most ``nn.Module`` ops twice: once in its module hook and once more in the
``torch.nn.functional`` function it patches, which the module's ``forward`` calls (``nn.ReLU``,
``nn.GELU``, every pooling module); its rules below are ``(hook, patched functional)`` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

#: Op categories of a count, in display order.  ``macs`` is conv / linear multiply-accumulates.
CATEGORIES = ("macs", "bias", "batchnorm", "norm", "act", "pool", "eltwise", "adaptive_pool")
CATEGORY_LABELS = {"macs": "conv/linear", "bias": "bias", "batchnorm": "batch-norm", "norm": "other norms",
                   "act": "activations", "pool": "pooling", "eltwise": "element-wise",
                   "adaptive_pool": "adaptive pooling"}
FORMS = ("module", "functional", "method")

_CONV = ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "linear")
_ACT = ("relu", "relu6", "leaky_relu", "hardswish", "hardsigmoid", "sigmoid", "silu", "gelu", "tanh", "softmax")
_OTHER = ("dropout", "flatten", "identity", "concat", "channel_shuffle", "slice", "zeropad1d", "zeropad2d",
          "opaque")  # a captured call no op describes: the peers have no hook for it either (issue 18)

#: The category of an op's count (conv / linear ops split theirs into ``macs`` and ``bias``).
OP_CATEGORY = {
    **{op: "macs" for op in _CONV},
    "batchnorm1d": "batchnorm", "batchnorm2d": "batchnorm",
    **{op: "norm" for op in ("layernorm", "groupnorm", "instancenorm1d", "instancenorm2d", "local_response_norm")},
    **{op: "act" for op in _ACT},
    **{op: "pool" for op in ("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d")},
    **{f"{kind}_{pool}_pool{d}d": "adaptive_pool" for kind in ("adaptive", "global") for pool in ("avg", "max")
       for d in (1, 2)},
    **{op: "eltwise" for op in ("add", "multiply", "scale")},
    **{op: "other" for op in _OTHER},
}


def _zero(a, ins, out, c, p):
    return 0


def _n_in(a, ins, out, c, p):
    return prod(ins[0])


def _n_out(a, ins, out, c, p):
    return prod(out)


def _macs_and_bias(a, ins, out, c, p):
    return {"macs": c["macs"], "bias": c["bias_flops"]}


def _spatial(shape):
    return prod(shape[1:])


# ---- ptflops 0.7.5, pytorch backend (the default), count_functional=True (the default) ----------
def _pt_norm(a, ins, out, c, p):
    # bn_flops_counter_hook: input numel, ×2 `if hasattr(module, "affine") and module.affine`
    # (nn.LayerNorm has `elementwise_affine`, not `affine`: always ×1)
    return prod(ins[0]) * (2 if a.get("affine") else 1)


def _pt_lrn(a, ins, out, c, p):
    # nn.LocalResponseNorm → F.local_response_norm: input.mul(input), avg_pool over the channel-padded
    # squares (patched F.avg_pool2d/3d: its input numel), .mul(alpha), .add(k) (patched Tensor.mul/add)
    n = prod(ins[0])
    return 3 * n + (ins[0][0] + a["size"] - 1) * _spatial(ins[0])


_PT_RULES = {  # op -> (module hook, patched functional the module's forward calls)
    **{op: (_macs_and_bias, _zero) for op in _CONV},  # conv_flops_counter_hook (bias = output numel),
    # transpose=True counts input positions (= archcost's MACs); linear_flops_counter_hook per token
    "batchnorm1d": (_pt_norm, _zero), "batchnorm2d": (_pt_norm, _zero),
    **{op: (_pt_norm, _zero) for op in ("layernorm", "groupnorm", "instancenorm1d", "instancenorm2d")},
    "local_response_norm": (_zero, _pt_lrn),  # not in MODULES_MAPPING
    "relu": (_n_out, _n_in),  # relu_flops_counter_hook, then patched F.relu
    "gelu": (_n_out, _n_in),  # hook, then patched F.gelu
    "relu6": (_n_out, _zero),  # nn.ReLU6 calls F.hardtanh, which is not patched
    "leaky_relu": (_n_out, _zero),  # F.leaky_relu is not patched
    "silu": (_zero, _n_in),  # no hook for nn.SiLU; patched F.silu
    "softmax": (_zero, _n_in),  # no hook for nn.Softmax; patched F.softmax
    **{op: (_zero, _zero) for op in ("hardswish", "hardsigmoid", "sigmoid", "tanh")},
    # pool_flops_counter_hook (input numel), then patched F.max_pool2d / F.avg_pool2d / F.adaptive_*
    **{op: (_n_in, _n_in) for op, cat in OP_CATEGORY.items() if cat in ("pool", "adaptive_pool")},
    **{op: (_zero, _zero) for op in ("add", "multiply", "scale")},  # `x + y`, `x * y`: operators, not patched
    **{op: (_zero, _zero) for op in _OTHER},
}


# ---- thop 0.1.1 profile() --------------------------------------------------------------------
def _thop_conv(a, ins, out, c, p):
    # calculate_conv2d_flops: output numel × (input channels // groups) × kernel positions, no bias
    # (for a transposed convolution that is not its MAC count)
    return {"macs": prod(out) * (ins[0][0] // a["groups"]) * prod(a["kernel_size"])}


def _thop_linear(a, ins, out, c, p):
    return {"macs": c["macs"]}  # count_linear: in_features × output numel, no bias


def _thop_norm(affine_key):
    def rule(a, ins, out, c, p):
        # count_normalization: 2 × input numel, ×2 again with affine ("bn is by default fused in inference")
        return 2 * prod(ins[0]) * (2 if a[affine_key] else 1)
    return rule


def _thop_softmax(a, ins, out, c, p):
    # count_softmax: per row of nfeatures, exp + (nfeatures - 1) adds + divide
    nf = ins[0][a["dim"]]
    return prod(ins[0]) // nf * (3 * nf - 1)


def _thop_adaptive_avg(a, ins, out, c, p):
    # count_adap_avgpool: kernel = Π(input size / output size) in float64, then int((kernel + 1) × output numel)
    # (thop truncates the batch's product; archcost truncates one sample's and multiplies: the same when
    # the sizes divide, as in every zoo model)
    kernel = 1.0
    for i, o in zip(ins[0][1:], out[1:]):
        kernel *= i / o
    return int((kernel + 1) * prod(out))


_THOP_RULES = {
    "conv1d": _thop_conv, "conv2d": _thop_conv, "conv_transpose1d": _thop_conv, "conv_transpose2d": _thop_conv,
    "linear": _thop_linear,
    "batchnorm1d": _thop_norm("affine"), "batchnorm2d": _thop_norm("affine"),
    "layernorm": _thop_norm("elementwise_affine"),
    "instancenorm1d": _thop_norm("affine"), "instancenorm2d": _thop_norm("affine"),
    "groupnorm": _zero, "local_response_norm": _zero,  # no rule: zero
    "softmax": _thop_softmax,
    **{op: _zero for op in _ACT if op != "softmax"},  # ReLU/ReLU6/LeakyReLU zero_ops or 0; others have no rule
    "max_pool1d": _zero, "max_pool2d": _zero,
    "avg_pool1d": _n_out, "avg_pool2d": _n_out,  # count_avgpool: output numel
    "adaptive_avg_pool1d": _thop_adaptive_avg, "adaptive_avg_pool2d": _thop_adaptive_avg,
    "global_avg_pool1d": _thop_adaptive_avg, "global_avg_pool2d": _thop_adaptive_avg,
    "adaptive_max_pool1d": _zero, "adaptive_max_pool2d": _zero, "global_max_pool1d": _zero, "global_max_pool2d": _zero,
    **{op: _zero for op in ("add", "multiply", "scale")},
    **{op: _zero for op in _OTHER},
}
#: ops whose module has no thop rule but has parameters, which thop then leaves out of its params
_THOP_NO_PARAMS = frozenset({"groupnorm"})


# ---- torchinfo 1.8.0 summary() -------------------------------------------------------------------
def _ti_conv(a, ins, out, c, p):
    # calculate_macs, "Conv" in the class name: (weight + bias) numel × output positions
    # (for a transposed convolution that is not its MAC count)
    return {"macs": p.weight * _spatial(out), "bias": p.bias * _spatial(out)}


def _ti_params(a, ins, out, c, p):
    # calculate_macs, any other class: weight + bias numel, once per sample (not per token)
    return p.weight + p.bias


def _ti_linear(a, ins, out, c, p):
    return {"macs": p.weight, "bias": p.bias}


_TI_RULES = {
    "conv1d": _ti_conv, "conv2d": _ti_conv, "conv_transpose1d": _ti_conv, "conv_transpose2d": _ti_conv,
    "linear": _ti_linear,
    **{op: _ti_params for op in ("batchnorm1d", "batchnorm2d", "layernorm", "groupnorm", "instancenorm1d",
                                 "instancenorm2d")},
    **{op: _zero for op in OP_CATEGORY if OP_CATEGORY[op] not in ("macs", "batchnorm", "norm")},
    "local_response_norm": _zero,  # no parameters
}


@dataclass(frozen=True)
class Peer:
    """A peer tool's rules: ``hooks[op]`` (what its module hook counts) and, for ptflops, ``patched[op]``
    (what the ``torch.nn.functional`` function the module's ``forward`` calls adds)."""

    name: str
    package: str
    version: str
    hooks: dict
    patched: dict | None = None

    @property
    def stamp(self) -> str:
        return f"{self.package} {self.version}"

    def count(self, op: str, a, ins, out, c, p, form: str = "module") -> dict:
        """The peer's count for one node (batch 1) computed in ``form``, by category; zeros left out."""
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, not {form!r}")
        rules = [self.hooks[op]] if form == "module" else []
        if self.patched is not None and form != "method":
            rules.append(self.patched[op])
        total: dict = {}
        for rule in rules:
            v = rule(a, ins, out, c, p)
            for k, n in (v if isinstance(v, dict) else {OP_CATEGORY[op]: v}).items():
                if n:
                    total[k] = total.get(k, 0) + n
        return total


PEERS = {
    "ptflops": Peer("ptflops", "ptflops", "0.7.5", hooks={op: h for op, (h, _) in _PT_RULES.items()},
                    patched={op: f for op, (_, f) in _PT_RULES.items()}),
    "thop": Peer("thop", "thop", "0.1.1", hooks=_THOP_RULES),
    "torchinfo": Peer("torchinfo", "torchinfo", "1.8.0", hooks=_TI_RULES),
}


def thop_counts_params(op: str) -> bool:
    """thop counts a module's parameters only when it has a rule for the module's class."""
    return op not in _THOP_NO_PARAMS
