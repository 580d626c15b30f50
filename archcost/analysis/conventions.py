"""Counting conventions: which arithmetic counts as MACs and FLOPs, and what counts as a parameter.

Every output names the convention it used.  Presets:

``default``   MACs of conv / linear / matmul only, FLOPs = 2 × MACs.  This is what
              torchvision's ``_ops`` metadata and most papers' "mult-adds" count.
``torch``     what ``torch.utils.flop_counter.FlopCounterMode`` counts ÷ 2 in eval under ``no_grad``
              on CPU: ``default`` on every CNN; nothing of an ``nn.MultiheadAttention`` that takes
              its fused kernel, and no ``scaled_dot_product_attention`` (the op's ``flop_counter``).
``fvcore``    Exactly what fvcore 0.1.5's ``FlopCountAnalysis`` counts with its default
              handles (it calls them flops, but they are MACs): conv, linear, matmul,
              plus batch-norm (eval: 1 per element, 2 with affine), group/layer/instance
              norm (4 or 5 per element), adaptive_avg_pool2d (1 per *input* element).
              It skips bias, max/avg pooling, activations and element-wise ops.
              FLOPs = 2 × MACs.
``ptflops``,  what ptflops 0.7.5, thop 0.1.1 and torchinfo 1.8.0 print (MACs; FLOPs = 2 × MACs)
``thop``,     for a network built of ``nn.Module`` layers, as archcost lowers it: per-op rules in
``torchinfo`` :mod:`archcost.analysis.peers`.  ptflops' params are the trainable ones
              (``requires_grad``); thop's leave out modules it has no rule for (group norm) and the
              parameters a module holds beside children it does count (``Params.own``: MaxViT's
              relative-position bias tables).
``full``      MACs as in ``default``; FLOPs = 2 × MACs + every other op's arithmetic:
              bias adds, inference batch-norm (2 per element), other norms, activations
              (per-op estimates in archcost.ops.act), pooling and element-wise add/multiply.
              Here FLOPs ≠ 2 × MACs, on purpose.
``keras``     MACs and FLOPs as ``default``; parameters as Keras' ``model.summary()`` reports
              them: a batch-norm's moving mean and variance are (non-trainable) parameters,
              not buffers (torch calls them buffers and does not count them).

A convention decides three things per node: ``breakdown(c, node, p)`` (its MACs by category,
:data:`~archcost.analysis.peers.CATEGORIES`), ``macs``/``flops`` (their sums) and
``params(p, op) -> (params, trainable, buffers)``.  ``c`` is the op's cost dict, ``p`` its
:class:`~archcost.ops.Params`; the ``default``-like and ``fvcore`` MACs need only ``c``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ops import OPS
from .peers import PEERS, thop_params

EXTRA_FLOPS = ("bias_flops", "norm_flops", "act_flops", "pool_flops", "eltwise_flops")


def _fvcore_sees(node) -> bool:
    """fvcore sees aten ops: ``x.mean([2, 3])`` is ``aten::mean``, which it skips, where a pooling module
    is ``aten::adaptive_avg_pool2d``; but ``x @ y`` is ``aten::matmul`` in every form, which it counts."""
    return node.attrs.get("form") != "method" or OPS[node.op].category == "macs"


@dataclass(frozen=True)
class Convention:
    name: str
    doc: str
    params_rule: str = "torch"  # torch | keras | trainable (ptflops) | thop
    counter: str = "default"  # default (conv/linear MACs) | fvcore (the cost dict's "fvcore") | torch (its
    # "flop_counter", else "macs") | a key of PEERS
    peer: str | None = None  # the tool and version it reproduces, stamped in JSON as "convention_peer"
    extra_flops: bool = False  # FLOPs add every other op's arithmetic (EXTRA_FLOPS) to 2 × MACs (``full``)

    def breakdown(self, c: dict, node, p) -> dict:
        """This node's MACs by category (zeros left out): ``c`` its cost dict, ``p`` its Params."""
        if self.counter in ("default", "torch"):
            v = c.get("flop_counter", c.get("macs", 0)) if self.counter == "torch" else c.get("macs", 0)
            return {"attention" if OPS[node.op].category == "attention" else "macs": v} if v else {}
        if self.counter == "fvcore":
            v = c.get("fvcore", 0) if _fvcore_sees(node) else 0
            return {OPS[node.op].category: v} if v else {}
        return PEERS[self.counter].count(node.op, node.attrs, list(node.in_shapes), node.out_shape, c, p)

    def macs(self, c: dict, node, p) -> int:
        if self.counter == "default":
            return c.get("macs", 0)
        if self.counter == "fvcore":
            return c.get("fvcore", 0) if _fvcore_sees(node) else 0
        if self.counter == "torch":
            return c.get("flop_counter", c.get("macs", 0))
        return sum(self.breakdown(c, node, p).values())

    def flops(self, c: dict, node, p) -> int:
        m = self.macs(c, node, p)
        if self.extra_flops:
            return 2 * m + sum(c.get(k, 0) for k in EXTRA_FLOPS)
        return 2 * m

    def params(self, p, op: str, node=None) -> tuple:
        """(params, trainable params, buffers) of one op's :class:`Params` under this convention (``node``: its
        attributes and input shapes, which thop's count of a module it counts in part reads)."""
        if self.params_rule == "keras":
            return p.weight + p.bias + p.running_stats, p.trainable, p.buffers - p.running_stats
        if self.params_rule == "trainable":  # ptflops: sum of p.numel() for p with requires_grad
            return p.trainable, p.trainable, p.buffers
        if self.params_rule == "thop":
            return thop_params(op, node.attrs if node else {}, list(node.in_shapes) if node else [], p), \
                p.trainable, p.buffers
        return p.weight + p.bias, p.trainable, p.buffers


_PT, _THOP, _TI = PEERS["ptflops"], PEERS["thop"], PEERS["torchinfo"]

CONVENTIONS = {
    "default": Convention("default", "conv/linear/matmul MACs only (torchvision _ops, papers' mult-adds); FLOPs = 2×MACs"),
    "torch": Convention("torch", "torch.utils.flop_counter's FLOPs / 2 in eval under no_grad on CPU: as default, "
                                 "less the attention it cannot see (nn.MultiheadAttention's fused kernel, sdpa)",
                        counter="torch", peer="torch 2.14.1 (torch.utils.flop_counter)"),
    "fvcore": Convention("fvcore", "fvcore 0.1.5 FlopCountAnalysis: conv/linear + norms + adaptive avg pool; FLOPs = 2×MACs",
                         counter="fvcore", peer="fvcore 0.1.5"),
    "ptflops": Convention("ptflops", f"{_PT.stamp} get_model_complexity_info (pytorch backend): conv/linear with bias, "
                                     "norms, ReLU-family, pooling (most counted twice); params = trainable",
                          params_rule="trainable", counter="ptflops", peer=_PT.stamp),
    "thop": Convention("thop", f"{_THOP.stamp} profile: conv/linear without bias, batch-norm 4/element, avg and "
                               "adaptive avg pool, softmax; no ReLU, max pool or group norm",
                       params_rule="thop", counter="thop", peer=_THOP.stamp),
    "torchinfo": Convention("torchinfo", f"{_TI.stamp} summary mult-adds: each layer's weight and bias counts × "
                                         "output positions (conv) or × batch (others)",
                            counter="torchinfo", peer=_TI.stamp),
    "full": Convention("full", "MACs as default; FLOPs = 2×MACs + bias, norm, activation, pooling and element-wise ops",
                       extra_flops=True),
    "keras": Convention("keras", "MACs as default; params as Keras summary(): batch-norm moving mean/variance are "
                                 "non-trainable params", params_rule="keras", peer="Keras model.summary() (params)"),
}

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
