"""What each peer tool counts for each archcost op: ptflops, thop and torchinfo, in pure Python.

The module-hook tools count per ``nn.Module`` class, with one handler per class (thop's
``register_hooks``, ptflops' ``MODULES_MAPPING``, torchinfo's ``LayerInfo.calculate_macs``).
Here each peer has one table keyed by that ``torch.nn`` class name (``OpDef.torch_class``, the
class the op lowers to) that mirrors the peer's own table — a class it has no rule for counts
nothing, as in the tool — read from its source (ptflops 0.7.5 ``pytorch_ops.py``/``pytorch_engine.py``, thop 0.1.1
``profile.py``/``vision/basic_hooks.py``/``vision/calc_func.py``, torchinfo 1.8.0
``layer_info.py``/``model_statistics.py``) and checked by running the peer.

A rule sees one node as the module archcost lowers it to (``a`` attrs, ``ins`` input shapes and
``out`` output shape without the batch, ``c`` the op's cost dict, ``p`` its
:class:`~archcost.ops.Params`) and returns the peer's count split by category
(:data:`CATEGORIES`; a plain number falls in the op's own ``OpDef.category``), so any two
presets' difference breaks down exactly.

The *form* says how a model computes an op, which decides what a module-hook tool sees:

``module``      an ``nn.Module`` call (``nn.ReLU()(x)``): what archcost's lowering does,
                what most models do, and what the presets count.
``functional``  a ``torch.nn.functional`` call (``F.relu(x)``): thop and torchinfo see nothing;
                ptflops sees what its patched functions count (``F.relu``, pools, ``F.softmax``...).
``method``      a tensor method or operator (``x.mean([2, 3])``, ``x + y``), or a ``torch.*`` function
                (``torch.relu``): no peer sees it.

A node's form is its ``form`` attribute (:data:`archcost.ops.base.FORM`, ``module`` by default), which
the ops whose count depends on it take: the activations, softmax and the pools.  A spec written by
hand rarely says it; ``archcost import`` writes it for every call it captures, so the presets applied
to a captured module equal each tool on that same module.

ptflops counts most ``nn.Module`` ops twice: once in its module hook and once more in the
``torch.nn.functional`` function it patches, which the module's ``forward`` calls (``nn.ReLU``,
``nn.GELU``, every pooling module); its rules below are ``(hook, patched functional)`` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from ..ops import OPS
from ..ops.window import CPB_HIDDEN, cpb_parts, geometry

#: Op categories of a count, in display order.  ``macs`` is conv / linear multiply-accumulates.
CATEGORIES = ("macs", "attention", "bias", "batchnorm", "norm", "act", "pool", "eltwise", "adaptive_pool")
CATEGORY_LABELS = {"macs": "conv/linear", "attention": "attention", "bias": "bias", "batchnorm": "batch-norm", "norm": "other norms",
                   "act": "activations", "pool": "pooling", "eltwise": "element-wise",
                   "adaptive_pool": "adaptive pooling"}
FORMS = ("module", "functional", "method")

_CONVS = ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d")
_NORMS = ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d")
_POOLS = ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
          "AdaptiveMaxPool1d", "AdaptiveMaxPool2d")


def _zero(a, ins, out, c, p):
    return 0


def _n_in(a, ins, out, c, p):
    return prod(ins[0])


def _n_out(a, ins, out, c, p):
    return prod(out)


def _macs(a, ins, out, c, p):
    return {"macs": c["macs"]}


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


def _pt_mha(a, ins, out, c, p):
    # multihead_attention_counter_hook: q scaling N·D, projections 3·N·D² (+ 3·N·D bias), per head
    # N²·E (QKᵀ) + N² (softmax) + N²·E (A·V), out-projection N·D·(D + 1) ("bias is always enabled")
    n, d = ins[0]
    h = a["num_heads"]
    bias = 3 * n * d if a["bias"] else 0
    return {"attention": n * d + 4 * n * d * d + h * n * n + 2 * n * n * d, "bias": bias + n * d}


def _pt_relpos(a, ins, out, c, p):
    # MaxViT's RelativePositionalMultiHeadAttention: no hook for the class; its children to_qkv and merge
    # (linear_flops_counter_hook: per token D·3D + 3D and D·D + D) and the patched F.softmax over the scores
    # (G·H·T² = N·H·T); the einsums, the k scaling and the bias add (`*`, `+`) are not patched
    n, d = ins[0]
    t = a["partition_size"] ** 2
    return {"attention": 4 * n * d * d + n * (d // a["head_dim"]) * t, "bias": 4 * n * d}


def _swa_geometry(a, ins):
    """The window attention's geometry, score count and v2 position-bias MLP parts (the op's own arithmetic)."""
    g = geometry(a, ins)
    return g, g["nW"] * g["h"] * g["T"] * g["T"], cpb_parts(a, ins) if a["version"] == 2 else None


def _pt_swa_hook(a, ins, out, c, p):
    # no hook for the class; F.linear (qkv, proj) is not patched; v2's cpb_mlp runs its modules:
    # Linear(2, 512) with bias per output, ReLU's hook, Linear(512, h)
    g, _, cpb = _swa_geometry(a, ins)
    return {} if cpb is None else {"attention": cpb["fc1"] + cpb["fc2"], "bias": cpb["bias"], "act": cpb["relu"]}


def _pt_swa_patched(a, ins, out, c, p):
    # patched Tensor.matmul: q.matmul(kᵀ) (v1 only: v2 multiplies with the unpatched `@`) and attn.matmul(v),
    # input numel × other's last size = Np·T·C each; patched F.softmax: the scores; v2: patched F.relu in cpb_mlp
    g, scores, cpb = _swa_geometry(a, ins)
    qk_av = g["Np"] * g["T"] * g["C"]
    return {"attention": qk_av * (2 if cpb is None else 1), "act": scores + (cpb["relu"] if cpb else 0)}


_PT_RULES = {  # torch.nn class -> (module hook, patched functional the module's forward calls)
    "RelativePositionalMultiHeadAttention": (_pt_relpos, _zero),
    # its hook only (on the slow path too: the F.linear calls inside a hooked module are not counted again)
    "MultiheadAttention": (_pt_mha, _zero),
    "ShiftedWindowAttention": (_pt_swa_hook, _pt_swa_patched),
    "torch.matmul": (_zero, _macs),  # TENSOR_OPS_MAPPING: input numel × other's last size
    **{cls: (_macs_and_bias, _zero) for cls in (*_CONVS, "Linear")},  # conv_flops_counter_hook (bias =
    # output numel), transpose=True counts input positions (= archcost's MACs); linear_flops_counter_hook per token
    **{cls: (_pt_norm, _zero) for cls in _NORMS},  # bn_flops_counter_hook
    "LocalResponseNorm": (_zero, _pt_lrn),  # not in MODULES_MAPPING
    "ReLU": (_n_out, _n_in),  # relu_flops_counter_hook, then patched F.relu
    "GELU": (_n_out, _n_in),  # hook, then patched F.gelu
    "ReLU6": (_n_out, _zero),  # nn.ReLU6 calls F.hardtanh, which is not patched (F.relu6 is: see _PT_DIRECT)
    "LeakyReLU": (_n_out, _zero),  # F.leaky_relu is not patched
    "SiLU": (_zero, _n_in),  # no hook for nn.SiLU; patched F.silu
    "Softmax": (_zero, _n_in),  # no hook for nn.Softmax; patched F.softmax
    # pool_flops_counter_hook (input numel), then patched F.max_pool2d / F.avg_pool2d / F.adaptive_*
    **{cls: (_n_in, _n_in) for cls in _POOLS},
    # nothing for Hardswish, Hardsigmoid, Sigmoid, Tanh, Dropout, Flatten, Identity, ZeroPad*, ChannelShuffle;
    # `x + y`, `x * y`, torch.cat, narrow: not modules, not patched
}


#: a ``torch.nn.functional`` call whose patched count differs from what the module's forward reaches
_PT_DIRECT = {"ReLU6": _n_in}  # F.relu6 is patched; nn.ReLU6's forward calls F.hardtanh instead


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


def _thop_relpos(a, ins, out, c, p):
    # no rule for MaxViT's RelativePositionalMultiHeadAttention: thop descends into its children, to_qkv and
    # merge (count_linear: in_features × output numel, no bias); its own bias table is not among thop's params
    n, d = ins[0]
    return {"attention": 4 * n * d * d}


def _thop_swa(a, ins, out, c, p):
    # no rule for the class; its qkv and proj never run as modules; v2's cpb_mlp does: count_linear
    # (in_features × output numel) for its two linears, zero_ops for its ReLU
    _, _, cpb = _swa_geometry(a, ins)
    return {} if cpb is None else {"attention": cpb["fc1"] + cpb["fc2"]}


_THOP_RULES = {  # torch.nn class -> count (register_hooks)
    "RelativePositionalMultiHeadAttention": _thop_relpos,
    **{cls: _thop_conv for cls in _CONVS},
    "Linear": _thop_linear,
    "BatchNorm1d": _thop_norm("affine"), "BatchNorm2d": _thop_norm("affine"),
    "LayerNorm": _thop_norm("elementwise_affine"),
    "InstanceNorm1d": _thop_norm("affine"), "InstanceNorm2d": _thop_norm("affine"),
    "Softmax": _thop_softmax,
    "ShiftedWindowAttention": _thop_swa,
    "AvgPool1d": _n_out, "AvgPool2d": _n_out,  # count_avgpool: output numel
    "AdaptiveAvgPool1d": _thop_adaptive_avg, "AdaptiveAvgPool2d": _thop_adaptive_avg,
    # zero: ReLU/ReLU6/LeakyReLU (zero_ops), MaxPool*, AdaptiveMaxPool*, Dropout (zero_ops); no rule at all:
    # GroupNorm, LocalResponseNorm, the other activations, Flatten, Identity, ZeroPad*, ChannelShuffle
}
#: classes thop has no rule for but which have parameters, which thop then leaves out of its params
#: (``Parameter``: a learned tensor held by a container, as torchvision's class token and layer scale are)
_THOP_NO_PARAMS = frozenset({"GroupNorm", "MultiheadAttention", "LayerNorm2d", "Parameter", "Embedding"})


def _thop_swa_params(a, ins, p):
    # thop counts a module's parameters in a forward hook of a class it has a rule for: of the window
    # attention only v2's cpb_mlp linears run (qkv and proj are F.linear calls on their weights)
    _, _, cpb = _swa_geometry(a, ins)
    return 0 if cpb is None else 2 * CPB_HIDDEN + CPB_HIDDEN + CPB_HIDDEN * a["num_heads"]


#: classes thop has no rule for some of whose submodules it counts (the parameters thop reports of a node)
_THOP_PARAMS = {"ShiftedWindowAttention": _thop_swa_params}


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


def _ti_relpos(a, ins, out, c, p):
    # MaxViT's RelativePositionalMultiHeadAttention has children, so no mult-adds of its own; its leaves to_qkv
    # and merge count (weight + bias) once per sample (not per token)
    d = ins[0][-1]
    return {"attention": 4 * d * d, "bias": 4 * d}


def _ti_swa(a, ins, out, c, p):
    # the class has children: no mult-adds of its own; v2's cpb_mlp linears are leaves run on the one
    # 1×(2wh−1)×(2ww−1)×2 coordinate table: weight + bias once (its leading size is 1, whatever the batch)
    if a["version"] != 2:
        return {}
    return {"attention": 2 * CPB_HIDDEN + CPB_HIDDEN * a["num_heads"], "bias": CPB_HIDDEN}


def _ti_embedding(a, ins, out, c, p):
    return {"macs": p.weight}  # its weight, once per sample, as for any class with a weight (a table, no MACs)


_TI_RULES = {  # torch.nn class -> count (calculate_macs); a module without parameters: zero
    "RelativePositionalMultiHeadAttention": _ti_relpos,
    **{cls: _ti_conv for cls in _CONVS},
    "Linear": _ti_linear,
    **{cls: _ti_params for cls in (*_NORMS, "LayerNorm2d")},
    "ShiftedWindowAttention": _ti_swa,
    "Embedding": _ti_embedding,
    # nn.MultiheadAttention has a child (out_proj), so torchinfo computes no mult-adds for it, and the
    # fused kernel never calls out_proj; a learned tensor's container is no leaf either
}


@dataclass(frozen=True)
class Peer:
    """A peer tool's rules by ``torch.nn`` class: ``hooks[cls]`` (what its module hook counts) and, for
    ptflops, ``patched[cls]`` (what the ``torch.nn.functional`` function the module's ``forward`` calls
    adds).  A class missing from a table counts nothing there."""

    name: str
    package: str
    version: str
    hooks: dict
    patched: dict | None = None
    direct: dict | None = None  # a functional call's count where it is not the module's ``patched`` one

    @property
    def stamp(self) -> str:
        return f"{self.package} {self.version}"

    def count(self, op: str, a, ins, out, c, p, form: str | None = None) -> dict:
        """The peer's count for one node (batch 1) computed in ``form`` (default: the node's ``form``
        attribute, else ``module``), by category; zeros left out."""
        if form is None:
            form = a.get("form", "module")
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, not {form!r}")
        opdef = OPS[op]
        cls = opdef.torch_class
        rules = [self.hooks.get(cls, _zero)] if form == "module" else []
        if self.patched is not None and form != "method":
            direct = self.direct.get(cls) if form == "functional" and self.direct else None
            rules.append(direct or self.patched.get(cls, _zero))
        total: dict = {}
        for rule in rules:
            v = rule(a, ins, out, c, p)
            for k, n in (v if isinstance(v, dict) else {opdef.category: v}).items():
                if n:
                    total[k] = total.get(k, 0) + n
        return total


PEERS = {
    "ptflops": Peer("ptflops", "ptflops", "0.7.5", hooks={op: h for op, (h, _) in _PT_RULES.items()},
                    patched={op: f for op, (_, f) in _PT_RULES.items()}, direct=_PT_DIRECT),
    "thop": Peer("thop", "thop", "0.1.1", hooks=_THOP_RULES),
    "torchinfo": Peer("torchinfo", "torchinfo", "1.8.0", hooks=_TI_RULES),
}


def thop_counts_params(op: str) -> bool:
    """thop counts a module's parameters only when it has a rule for the module's class."""
    return OPS[op].torch_class not in _THOP_NO_PARAMS


def thop_params(op: str, a, ins, p) -> int:
    """The parameters thop reports of one node (``p`` its :class:`~archcost.ops.Params`): all of them when it
    has a rule for the class, none when it has none, those of the submodules it counts otherwise (a rule in
    ``_THOP_PARAMS``, or all but the module's own: ``Params.own``, e.g. MaxViT's bias table beside its linears)."""
    rule = _THOP_PARAMS.get(OPS[op].torch_class)
    if rule is not None:
        return rule(a, ins, p)
    return p.weight + p.bias - p.own if thop_counts_params(op) else 0
