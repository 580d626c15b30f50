"""Counting conventions: which arithmetic counts as MACs and FLOPs.

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
"""

from __future__ import annotations

from dataclasses import dataclass

EXTRA_FLOPS = ("bias_flops", "norm_flops", "act_flops", "pool_flops", "eltwise_flops")


@dataclass(frozen=True)
class Convention:
    name: str
    doc: str

    def macs(self, c: dict) -> int:
        if self.name == "fvcore":
            return c.get("fvcore", 0)
        return c.get("macs", 0)

    def flops(self, c: dict) -> int:
        m = self.macs(c)
        if self.name == "full":
            return 2 * m + sum(c.get(k, 0) for k in EXTRA_FLOPS)
        return 2 * m


CONVENTIONS = {
    "default": Convention("default", "conv/linear/matmul MACs only (torchvision _ops, papers' mult-adds); FLOPs = 2×MACs"),
    "fvcore": Convention("fvcore", "fvcore 0.1.5 FlopCountAnalysis: conv/linear + norms + adaptive avg pool; FLOPs = 2×MACs"),
    "full": Convention("full", "MACs as default; FLOPs = 2×MACs + bias, norm, activation, pooling and element-wise ops"),
}

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
