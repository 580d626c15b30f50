"""Modules written as timm's layers are: F.batch_norm / F.linear with their own tensors, BatchNormAct2d,
GhostNet's channel slice, ConvNeXt's vector layer scale, ViT's packed q, k, v, TensorFlow "SAME" padding (for
tests/test_capture_timm_layers.py; CI does not install timm)."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class OwnBatchNorm2d(nn.BatchNorm2d):
    """A batch norm whose forward is F.batch_norm on its own weights and running statistics (eval)."""

    def forward(self, x):
        stats = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if stats else None, self.running_var if stats else None,
                            self.weight, self.bias, self.training or self.running_mean is None,
                            0.0 if self.momentum is None else self.momentum, self.eps)


class OwnLinear(nn.Linear):
    """timm's Linear: an nn.Linear whose forward is F.linear(x, self.weight, self.bias)."""

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class BatchNormAct2d(OwnBatchNorm2d):
    """timm 1.0's BatchNormAct2d, reduced: F.batch_norm, then its ``drop`` and ``act`` submodules.
    Declared as timm's class (``__module__``) so the capture maps it as it maps timm's."""

    __module__ = "timm.layers.norm_act"

    def __init__(self, c, act=nn.ReLU, eps=1e-5):
        super().__init__(c, eps=eps)
        self.drop = nn.Identity()
        self.act = act(inplace=True) if act is not nn.Identity else nn.Identity()

    def forward(self, x):
        return self.act(self.drop(super().forward(x)))


class UserNormAct(OwnBatchNorm2d):
    """The same pattern in the user's own class: F.batch_norm, then an activation submodule."""

    def __init__(self, c):
        super().__init__(c)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(super().forward(x))


class OwnWeightsNet(nn.Module):
    """conv → F.batch_norm module → relu; conv → BatchNormAct2d (SiLU, then none); pool; OwnLinear head."""

    input_shape = (3, 16, 16)

    def __init__(self, batch_stats=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = OwnBatchNorm2d(8, eps=1e-3, track_running_stats=not batch_stats)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn2 = BatchNormAct2d(16, act=nn.SiLU)
        self.conv3 = nn.Conv2d(16, 16, 1, bias=False)
        self.bn3 = BatchNormAct2d(16, act=nn.Identity)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.head = OwnLinear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        x = x + self.bn3(self.conv3(x))
        return self.head(self.flat(self.pool(x)))


class TokenLinearNet(nn.Module):
    """OwnLinear on tokens (N×D) and on an H×W×C map (channels last)."""

    input_shape = (4, 4, 8)

    def __init__(self):
        super().__init__()
        self.fc1 = OwnLinear(8, 16)
        self.fc2 = OwnLinear(16, 8, bias=False)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x))).flatten(1, 2)


class UserNormActNet(nn.Module):
    input_shape = (3, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = UserNormAct(8)

    def forward(self, x):
        return self.bn(self.conv(x))


class ForeignStatsNet(nn.Module):
    """F.batch_norm with one module's statistics and another's weights: no op says that (opaque)."""

    input_shape = (8, 4, 4)

    def __init__(self):
        super().__init__()
        self.a = nn.BatchNorm2d(8)
        self.b = nn.BatchNorm2d(8)

    def forward(self, x):
        return F.batch_norm(x, self.a.running_mean, self.a.running_var, self.b.weight, self.b.bias, False)


class GhostSliceNet(nn.Module):
    """GhostNet's channel slice with trailing whole dims: ``out[:, :c, :, :]``, and ``x[:, 2:, ...]``."""

    input_shape = (3, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 3, padding=1)
        self.cheap = nn.Conv2d(12, 12, 3, padding=1, groups=12)

    def forward(self, x):
        x = self.conv(x)
        out = torch.cat([x, self.cheap(x)], dim=1)[:, :20, :, :]
        return out[:, 2:, ...]


class VectorScaleNet(nn.Module):
    """timm's ConvNeXt layer scale: ``x.mul(self.gamma.reshape(1, -1, 1, 1))``, γ a C vector."""

    input_shape = (3, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gamma = nn.Parameter(torch.randn(8))

    def forward(self, x):
        x = self.conv(x)
        return x + x.mul(self.gamma.reshape(1, -1, 1, 1))


class PackedQKVAttention(nn.Module):
    """timm's ViT Attention (1.0): one qkv linear, ``reshape(B, N, 3, H, hd).permute(2, 0, 3, 1, 4)`` (the batch
    moves to dim 1), ``unbind(0)`` or ``qkv[0], qkv[1], qkv[2]``, F.scaled_dot_product_attention."""

    input_shape = (6, 16)  # 6 tokens of 16

    def __init__(self, dim=16, heads=2, unbind=True):
        super().__init__()
        self.heads, self.unbind = heads, unbind
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0) if self.unbind else (qkv[0], qkv[1], qkv[2])
        out = F.scaled_dot_product_attention(q, k, v)
        return x + self.proj(out.transpose(1, 2).reshape(B, N, C))


class BatchMovedNet(nn.Module):
    """A permute that moves the batch and is read otherwise than one of its first dim: no spec op (opaque)."""

    input_shape = (4, 8)

    def forward(self, x):
        return x.permute(1, 0, 2).sum(1)


class ComputedSliceNet(nn.Module):
    """PiT's token split, ``x[:, :n]`` and ``x[:, n:]`` with ``n`` read from a shape (a traced value)."""

    input_shape = (8, 4)

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 4)

    def forward(self, x):
        n = x[:, :3].shape[1]
        return torch.cat([self.head(x[:, :n]), x[:, n:]], dim=1)


def _pad_same(x, k, s, d=(1, 1), value=0.0):
    """timm's pad_same: TensorFlow's "SAME" padding from the input's size (math on shapes fx cannot follow)."""
    ih, iw = x.size()[-2:]
    ph = max((math.ceil(ih / s[0]) - 1) * s[0] + (k[0] - 1) * d[0] + 1 - ih, 0)
    pw = max((math.ceil(iw / s[1]) - 1) * s[1] + (k[1] - 1) * d[1] + 1 - iw, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=value)


class Conv2dSame(nn.Conv2d):
    __module__ = "timm.layers.conv2d_same"

    def forward(self, x):
        return F.conv2d(_pad_same(x, self.kernel_size, self.stride, self.dilation), self.weight, self.bias,
                        self.stride, (0, 0), self.dilation, self.groups)


class AvgPool2dSame(nn.AvgPool2d):
    __module__ = "timm.layers.pool2d_same"

    def forward(self, x):
        return F.avg_pool2d(_pad_same(x, self.kernel_size, self.stride), self.kernel_size, self.stride)


class MaxPool2dSame(nn.MaxPool2d):
    __module__ = "timm.layers.pool2d_same"

    def forward(self, x):
        k, s = (self.kernel_size,) * 2, (self.stride,) * 2
        return F.max_pool2d(_pad_same(x, k, s, value=-float("inf")), k, s)


class SamePadNet(nn.Module):
    """timm's TensorFlow-"SAME" layers (tf_efficientnet, nasnet): a strided conv (asymmetric padding), a
    depthwise conv, an avg pool, a max pool with symmetric padding and one with asymmetric padding."""

    input_shape = (3, 16, 16)

    def __init__(self, asymmetric_max=False):
        super().__init__()
        self.conv = Conv2dSame(3, 8, 3, stride=2)
        self.dw = Conv2dSame(8, 8, 5, groups=8, bias=False)
        self.avg = AvgPool2dSame((3, 3), (2, 2))
        self.max = MaxPool2dSame(3, stride=2 if asymmetric_max else 1)

    def forward(self, x):
        return self.max(self.avg(self.dw(self.conv(x))))


class FoldedBatchNet(nn.Module):
    """Swin's windows as the batch: 16 tokens regrouped as 4 windows of 4 (``reshape(-1, 4, D)``), a linear on
    them, the tokens put back."""

    input_shape = (16, 8)

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.out = nn.Linear(8, 4)

    def forward(self, x):
        B, N, D = x.shape
        w = self.fc(x.reshape(-1, 4, D))
        return self.out(w.reshape(B, N, D))
