"""Small torch modules for ops torch has no nn.Module for. Imported only when lowering."""

from __future__ import annotations

import torch
from torch import nn


class Add(nn.Module):
    def __init__(self, a=None, ins=None):
        super().__init__()

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Multiply(nn.Module):
    def __init__(self, a=None, ins=None):
        super().__init__()

    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def __init__(self, a, ins=None):
        super().__init__()
        self.dim = a["dim"] + 1

    def forward(self, *xs):
        return torch.cat(xs, self.dim)


class ChannelShuffle(nn.Module):
    def __init__(self, a, ins=None):
        super().__init__()
        self.groups = a["groups"]

    def forward(self, x):
        n, c = x.shape[:2]
        rest = x.shape[2:]
        x = x.reshape(n, self.groups, c // self.groups, *rest).transpose(1, 2)
        return x.reshape(n, c, *rest)


class Slice(nn.Module):
    def __init__(self, a, ins=None):
        super().__init__()
        self.start, self.length = a["start"], a["length"]

    def forward(self, x):
        return x.narrow(1, self.start, self.length)


class PaddedConv(nn.Module):
    """Asymmetric zero padding followed by a convolution (torch convs pad symmetrically)."""

    def __init__(self, pad, conv):
        super().__init__()
        self.pad = pad
        self.conv = conv

    def forward(self, x):
        return self.conv(nn.functional.pad(x, self.pad))


class Scale(nn.Module):
    def __init__(self, a, ins=None):
        super().__init__()
        self.value = a["value"]

    def forward(self, x):
        return x * self.value


class Permute(nn.Module):
    def __init__(self, a, ins=None):
        super().__init__()
        self.dims = [0] + [d + 1 for d in a["dims"]]

    def forward(self, x):
        return x.permute(*self.dims)


class Transpose(nn.Module):
    def __init__(self, a, ins=None):
        super().__init__()
        self.dim0, self.dim1 = a["dim0"] + 1, a["dim1"] + 1

    def forward(self, x):
        return x.transpose(self.dim0, self.dim1)


def Unflatten(a, ins=None):
    return nn.Unflatten(a["dim"] + 1, a["sizes"])


class _Learned(nn.Module):
    """A learned tensor joined with the data.  Its parameter is registered on the enclosing module under
    the layer's name (``param_on_parent``), where torchvision keeps it; this module only uses it."""

    param_on_parent = "param"

    def __init__(self, shape, init):
        super().__init__()
        self.param = nn.Parameter(init(torch.empty(shape)))


class ClassToken(_Learned):
    def __init__(self, a, ins):
        super().__init__((1, 1, ins[0][-1]), nn.init.zeros_)

    def forward(self, x):
        return torch.cat([self.param.expand(x.shape[0], -1, -1), x], dim=1)


class PosEmbedding(_Learned):
    def __init__(self, a, ins):
        super().__init__((1, *ins[0]), lambda t: nn.init.normal_(t, std=0.02))

    def forward(self, x):
        return x + self.param


class LayerScale(_Learned):
    def __init__(self, a, ins):
        super().__init__((ins[0][0], *[1] * (len(ins[0]) - 1)), lambda t: nn.init.constant_(t, a["init_value"]))

    def forward(self, x):
        return self.param * x


class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth (the same name, so the peers see the same class)."""

    def __init__(self, a, ins=None):
        super().__init__()
        self.p, self.mode = a["p"], a["mode"]

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(1 - self.p)
        if self.p < 1.0:
            noise.div_(1 - self.p)
        return x * noise


class LayerNorm2d(nn.LayerNorm):
    """torchvision.models.convnext.LayerNorm2d: layer norm over the channels of each position."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class MatMul(nn.Module):
    def __init__(self, a=None, ins=None):
        super().__init__()

    def forward(self, x, y):
        return torch.matmul(x, y)


class SDPA(nn.Module):
    def __init__(self, a, ins=None):
        super().__init__()
        self.is_causal, self.dropout_p, self.scale = a["is_causal"], a["dropout_p"], a["scale"]

    def forward(self, q, k, v):
        return nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout_p if self.training else 0.0,
                                                          is_causal=self.is_causal, scale=self.scale)


def _self_attention_call(m, x):
    return m(x, x, x, need_weights=False)[0]


def SelfAttention(a, ins):
    """A plain nn.MultiheadAttention (the class the peers look up), called as torchvision's EncoderBlock
    calls it: ``m(x, x, x, need_weights=False)[0]`` (``archcost_call``, read by the lowered network)."""
    m = nn.MultiheadAttention(ins[0][-1], a["num_heads"], dropout=a["dropout"], bias=a["bias"], batch_first=True)
    m.archcost_call = _self_attention_call
    return m
