"""Counting conventions: which arithmetic counts as MACs and FLOPs, and what counts as a parameter.

Every output names the convention it used.  Presets:

``default``  MACs of conv / linear / matmul only, FLOPs = 2 × MACs.  This is what
             torchvision's ``_ops`` metadata, ``torch.utils.flop_counter`` (÷2) and most
             papers' "mult-adds" count.
``fvcore``   Exactly what fvcore 0.1.5's ``FlopCountAnalysis`` counts with its default
             handles (it calls them flops, but they are MACs): conv, linear, matmul,
             plus batch-norm (eval: 1 per element, 2 with affine), group/layer/instance
             norm (4 or 5 per element), adaptive_avg_pool2d (1 per *input* element).
             It skips bias, max/avg pooling, activations and element-wise ops.
             FLOPs = 2 × MACs.
``full``     MACs as in ``default``; FLOPs = 2 × MACs + every other op's arithmetic:
             bias adds, inference batch-norm (2 per element), other norms, activations
             (per-op estimates in archcost.ops.act), pooling and element-wise add/multiply.
             Here FLOPs ≠ 2 × MACs, on purpose.
``keras``    MACs and FLOPs as ``default``; parameters as Keras' ``model.summary()`` reports
             them: a batch-norm's moving mean and variance are (non-trainable) parameters,
             not buffers (torch calls them buffers and does not count them).

A convention decides three things from an op's cost dict and :class:`~archcost.ops.Params`:
``macs(costs)``, ``flops(costs)`` and ``params(p) -> (params, trainable, buffers)``.
"""

from __future__ import annotations

from dataclasses import dataclass

EXTRA_FLOPS = ("bias_flops", "norm_flops", "act_flops", "pool_flops", "eltwise_flops")


@dataclass(frozen=True)
class Convention:
    name: str
    doc: str
    params_rule: str = "torch"  # torch | keras

    def macs(self, c: dict) -> int:
        if self.name == "fvcore":
            return c.get("fvcore", 0)
        return c.get("macs", 0)

    def flops(self, c: dict) -> int:
        m = self.macs(c)
        if self.name == "full":
            return 2 * m + sum(c.get(k, 0) for k in EXTRA_FLOPS)
        return 2 * m

    def params(self, p) -> tuple:
        """(params, trainable params, buffers) of one op's :class:`Params` under this convention."""
        if self.params_rule == "keras":
            return p.weight + p.bias + p.running_stats, p.trainable, p.buffers - p.running_stats
        return p.weight + p.bias, p.trainable, p.buffers


CONVENTIONS = {
    "default": Convention("default", "conv/linear/matmul MACs only (torchvision _ops, papers' mult-adds); FLOPs = 2×MACs"),
    "fvcore": Convention("fvcore", "fvcore 0.1.5 FlopCountAnalysis: conv/linear + norms + adaptive avg pool; FLOPs = 2×MACs"),
    "full": Convention("full", "MACs as default; FLOPs = 2×MACs + bias, norm, activation, pooling and element-wise ops"),
    "keras": Convention("keras", "MACs as default; params as Keras summary(): batch-norm moving mean/variance are "
                                 "non-trainable params", params_rule="keras"),
}

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
