"""Transformer modules written the way users write them (for tests/test_capture_attention.py)."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class MatmulAttention(nn.Module):
    """Self-attention by hand: q, k, v projections, heads by view + transpose, ``q @ kᵀ / √E``, softmax,
    ``@ v``, heads merged back by transpose + reshape, an output projection; pre-norm residual."""

    input_shape = (16, 32)  # 16 tokens of 32

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, D = x.shape
        h = self.norm(x)
        q = self.q(h).view(B, N, self.heads, D // self.heads).transpose(1, 2)
        k = self.k(h).view(B, N, self.heads, D // self.heads).transpose(1, 2)
        v = self.v(h).view(B, N, self.heads, D // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D // self.heads)
        att = F.softmax(att, dim=-1)
        out = torch.matmul(att, v).transpose(1, 2).reshape(B, N, D)
        return x + self.proj(out)


class SDPAAttention(nn.Module):
    """The same attention through ``F.scaled_dot_product_attention``, heads split with ``unflatten`` and
    ``permute``, merged with ``flatten``; then an MLP with ``F.gelu``."""

    input_shape = (16, 32)

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x):
        def heads(t):
            return t.unflatten(-1, (self.heads, -1)).permute(0, 2, 1, 3)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        out = F.scaled_dot_product_attention(q, k, v).permute(0, 2, 1, 3).flatten(2)
        x = x + self.proj(out)
        return x + self.fc2(F.gelu(self.fc1(x)))


class EncoderStack(nn.Module):
    """``nn.TransformerEncoder`` of ``nn.TransformerEncoderLayer`` (batch_first), a mean over the tokens
    would be opaque: the class token is read instead, then a linear head."""

    input_shape = (20, 64)

    def __init__(self, dim=64, heads=4, depth=2, classes=10, norm_first=False):
        super().__init__()
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=2 * dim, dropout=0.0, batch_first=True,
                                           norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.encoder(x)[:, 0])


class TinyViT(nn.Module):
    """A ViT as users write it: patches by a strided conv, ``flatten(2).transpose(1, 2)``, a class token
    concatenated and a position embedding added (parameters used in forward), ``nn.MultiheadAttention``
    blocks with a layer scale, the class token to a linear head."""

    input_shape = (3, 32, 32)

    def __init__(self, dim=48, heads=4, depth=2, patch=8, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        n = (32 // patch) ** 2
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class TokenClassifier(nn.Module):
    """Integer token ids in: ``nn.Embedding`` plus a learned position embedding, an encoder layer,
    the first token to a linear head."""

    input_shape = ("tokens", 24)  # 24 token ids per sample

    def __init__(self, vocab=100, dim=32, heads=2, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.pos = nn.Parameter(torch.zeros(1, 24, dim))
        self.layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.head = nn.Linear(dim, classes)

    def forward(self, ids):
        x = self.embed(ids) + self.pos
        return self.head(self.layer(x)[:, 0])


class MaskedEncoder(nn.Module):
    """An encoder called with a causal mask: refused with a paragraph, not mis-counted."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(8)
        return self.layer(x, src_mask=mask)
