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


# ---- MaxViT (torchvision.models.maxvit): the class names are torchvision's, so the peers see the same classes

def _partition(a, ins):
    """(p, groups of tokens) of a window or grid partition of a C×H×W map: torchvision's PartitionAttentionLayer
    cuts p×p windows, p = partition_size ("window") or H // partition_size ("grid", whose windows it then swaps
    with their positions, so that each group takes one token of every window)."""
    s = a["partition_size"]
    return (s if a["partition_type"] == "window" else ins[0] // s), a["partition_type"] == "grid"


class WindowPartition(nn.Module):
    """torchvision's WindowPartition, then (grid) its SwapAxes(-2, -3), with the groups flattened into tokens:
    C×H×W → (H·W)×C, in groups of partition_size² consecutive tokens."""

    def __init__(self, a, ins):
        super().__init__()
        self.p, self.grid = _partition(a, ins[0][1:])

    def forward(self, x):
        b, c, h, w = x.shape
        p = self.p
        x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1).reshape(b, (h // p) * (w // p), p * p, c)
        if self.grid:
            x = torch.swapaxes(x, -2, -3)
        return x.reshape(b, h * w, c)


class WindowDepartition(nn.Module):
    """The inverse of :class:`WindowPartition`: (H·W)×C tokens → C×H×W (torchvision's SwapAxes for a grid, then
    its WindowDepartition)."""

    def __init__(self, a, ins):
        super().__init__()
        self.h, self.w = a["output_size"]
        self.p, self.grid = _partition(a, (self.h, self.w))

    def forward(self, x):
        b, n, c = x.shape
        p, hp, wp = self.p, self.h // self.p, self.w // self.p
        x = x.reshape(b, p * p, hp * wp, c).swapaxes(-2, -3) if self.grid else x.reshape(b, hp * wp, p * p, c)
        x = x.reshape(b, hp, wp, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, c, hp * p, wp * p)


def relative_position_index(size: int):
    """torchvision.models.maxvit._get_relative_position_index(size, size)."""
    coords = torch.stack(torch.meshgrid([torch.arange(size), torch.arange(size)], indexing="ij"))
    coords_flat = torch.flatten(coords, 1)
    rel = (coords_flat[:, :, None] - coords_flat[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += size - 1
    rel[:, :, 1] += size - 1
    rel[:, :, 0] *= 2 * size - 1
    return rel.sum(-1)


class RelativePositionalMultiHeadAttention(nn.Module):
    """torchvision.models.maxvit.RelativePositionalMultiHeadAttention (the same parameters, buffer, children and
    arithmetic, so its state_dict copies by name) on N×D tokens taken in groups of partition_size² consecutive
    tokens (torchvision's module takes the groups as a dimension of their own: B×G×P×D)."""

    def __init__(self, a, ins):
        super().__init__()
        d = ins[0][-1]
        self.n_heads, self.head_dim = d // a["head_dim"], a["head_dim"]
        self.size = a["partition_size"]
        self.max_seq_len = self.size ** 2
        self.to_qkv = nn.Linear(d, self.n_heads * self.head_dim * 3)
        self.scale_factor = d ** -0.5  # torchvision scales by the feature size, not the head size
        self.merge = nn.Linear(self.head_dim * self.n_heads, d)
        self.relative_position_bias_table = nn.Parameter(torch.empty(((2 * self.size - 1) ** 2, self.n_heads)))
        self.register_buffer("relative_position_index", relative_position_index(self.size))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def get_relative_positional_bias(self):
        bias_index = self.relative_position_index.view(-1)
        relative_bias = self.relative_position_bias_table[bias_index].view(self.max_seq_len, self.max_seq_len, -1)
        return relative_bias.permute(2, 0, 1).contiguous().unsqueeze(0)

    def forward(self, x):
        b, n, d = x.shape
        x = x.reshape(b, n // self.max_seq_len, self.max_seq_len, d)
        B, G, P, D = x.shape
        H, DH = self.n_heads, self.head_dim
        q, k, v = torch.chunk(self.to_qkv(x), 3, dim=-1)
        q = q.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4)
        k = k.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4)
        v = v.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4)
        k = k * self.scale_factor
        # torchvision writes the two products as torch.einsum; `@` is the same arithmetic, which fvcore counts
        # exactly (its einsum handle reads numpy's einsum_path printout, rounded to 4 digits) and which ptflops,
        # like einsum, does not patch
        dot_prod = q @ k.transpose(-2, -1)
        # nn.functional.softmax looked up at each call: ptflops patches it, as it does for torchvision's model
        dot_prod = nn.functional.softmax(dot_prod + self.get_relative_positional_bias(), dim=-1)
        out = dot_prod @ v
        out = out.permute(0, 1, 3, 2, 4).reshape(B, G, P, D)
        return self.merge(out).reshape(b, n, d)
