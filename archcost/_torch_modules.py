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
