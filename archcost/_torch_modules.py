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


class MeanOver(nn.Module):
    """``x.mean(<last d dims>, keepdim=True)``: a global average pool written as a tensor method."""

    def __init__(self, d):
        super().__init__()
        self.dims = tuple(range(-d, 0))

    def forward(self, x):
        return x.mean(self.dims, keepdim=True)


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


# ---- Swin (ops/window.py): torchvision.models.swin_transformer's computation under its parameter names

def _patch_merging_pad(x):
    h, w, _ = x.shape[-3:]
    x = nn.functional.pad(x, (0, 0, 0, w % 2, 0, h % 2))
    return torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]], -1)


class PatchMergePad(nn.Module):
    """torchvision's ``_patch_merging_pad`` (a function there: no peer counts anything for it)."""

    def __init__(self, a=None, ins=None):
        super().__init__()

    def forward(self, x):
        return _patch_merging_pad(x)


def _relative_position_index(wh, ww):
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    return rel.sum(-1).flatten()


def _shifted_window_attention(x, qkv_weight, proj_weight, bias, window, num_heads, shift, qkv_bias=None,
                              proj_bias=None, logit_scale=None):
    """torchvision's ``shifted_window_attention`` in eval (no dropout): the same calls, so the same counts."""
    import math

    F = nn.functional
    B, H, W, C = x.shape
    pad_r = (window[1] - W % window[1]) % window[1]
    pad_b = (window[0] - H % window[0]) % window[0]
    x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
    _, pH, pW, _ = x.shape
    shift = [0 if window[0] >= pH else shift[0], 0 if window[1] >= pW else shift[1]]
    if sum(shift) > 0:
        x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    nw = (pH // window[0]) * (pW // window[1])
    x = x.view(B, pH // window[0], window[0], pW // window[1], window[1], C)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(B * nw, window[0] * window[1], C)
    if logit_scale is not None and qkv_bias is not None:
        qkv_bias = qkv_bias.clone()
        n = qkv_bias.numel() // 3
        qkv_bias[n:2 * n].zero_()
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.size(0), x.size(1), 3, num_heads, C // num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if logit_scale is not None:
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        attn = attn * torch.clamp(logit_scale, max=math.log(100.0)).exp()
    else:
        q = q * (C // num_heads) ** -0.5
        attn = q.matmul(k.transpose(-2, -1))
    attn = attn + bias
    if sum(shift) > 0:
        mask = x.new_zeros((pH, pW))
        hs = ((0, -window[0]), (-window[0], -shift[0]), (-shift[0], None))
        ws = ((0, -window[1]), (-window[1], -shift[1]), (-shift[1], None))
        count = 0
        for h in hs:
            for w in ws:
                mask[h[0]:h[1], w[0]:w[1]] = count
                count += 1
        mask = mask.view(pH // window[0], window[0], pW // window[1], window[1])
        mask = mask.permute(0, 2, 1, 3).reshape(nw, window[0] * window[1])
        mask = mask.unsqueeze(1) - mask.unsqueeze(2)
        mask = mask.masked_fill(mask != 0, float(-100.0)).masked_fill(mask == 0, float(0.0))
        attn = attn.view(x.size(0) // nw, nw, num_heads, x.size(1), x.size(1))
        attn = (attn + mask.unsqueeze(1).unsqueeze(0)).view(-1, num_heads, x.size(1), x.size(1))
    attn = F.softmax(attn, dim=-1)
    x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), C)
    x = F.linear(x, proj_weight, proj_bias)
    x = x.view(B, pH // window[0], pW // window[1], window[0], window[1], C)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(B, pH, pW, C)
    if sum(shift) > 0:
        x = torch.roll(x, shifts=(shift[0], shift[1]), dims=(1, 2))
    return x[:, :H, :W, :].contiguous()


class ShiftedWindowAttention(nn.Module):
    """torchvision's ShiftedWindowAttention: its parameters and buffers in its order (the state_dict copies),
    qkv and proj applied with ``F.linear`` as there (module-hook peers see neither)."""

    def __init__(self, a, ins):
        super().__init__()
        c = ins[0][-1]
        self.window_size, self.shift_size, self.num_heads = list(a["window_size"]), list(a["shift_size"]), a["num_heads"]
        self.qkv = nn.Linear(c, 3 * c, bias=a["qkv_bias"])
        self.proj = nn.Linear(c, c, bias=a["proj_bias"])
        self.define_relative_position_bias_table()
        self.register_buffer("relative_position_index", _relative_position_index(*self.window_size))

    def define_relative_position_bias_table(self):
        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def _bias(self, table):
        n = self.window_size[0] * self.window_size[1]
        return table[self.relative_position_index].view(n, n, -1).permute(2, 0, 1).contiguous().unsqueeze(0)

    def get_relative_position_bias(self):
        return self._bias(self.relative_position_bias_table)

    def forward(self, x):
        return _shifted_window_attention(x, self.qkv.weight, self.proj.weight, self.get_relative_position_bias(),
                                         self.window_size, self.num_heads, self.shift_size, self.qkv.bias,
                                         self.proj.bias, getattr(self, "logit_scale", None))


class ShiftedWindowAttentionV2(ShiftedWindowAttention):
    """torchvision's ShiftedWindowAttentionV2: cosine attention with a learned logit scale per head and the
    relative-position bias from a small MLP (``cpb_mlp``, called as a module) on log-spaced offsets."""

    def __init__(self, a, ins):
        super().__init__(a, ins)
        self.logit_scale = nn.Parameter(torch.log(10 * torch.ones((self.num_heads, 1, 1))))
        self.cpb_mlp = nn.Sequential(nn.Linear(2, 512, bias=True), nn.ReLU(inplace=True),
                                     nn.Linear(512, self.num_heads, bias=False))
        if self.qkv.bias is not None:
            n = self.qkv.bias.numel() // 3
            self.qkv.bias[n:2 * n].data.zero_()

    def define_relative_position_bias_table(self):
        wh, ww = self.window_size
        h = torch.arange(-(wh - 1), wh, dtype=torch.float32)
        w = torch.arange(-(ww - 1), ww, dtype=torch.float32)
        table = torch.stack(torch.meshgrid([h, w], indexing="ij")).permute(1, 2, 0).contiguous().unsqueeze(0)
        table[:, :, :, 0] /= wh - 1
        table[:, :, :, 1] /= ww - 1
        table *= 8
        table = torch.sign(table) * torch.log2(torch.abs(table) + 1.0) / 3.0
        self.register_buffer("relative_coords_table", table)

    def get_relative_position_bias(self):
        return 16 * torch.sigmoid(self._bias(self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)))
