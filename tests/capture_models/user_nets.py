"""Modules written the way users write them (for tests/test_capture.py)."""

import torch
import torch.nn.functional as F
from torch import nn


class FunctionalNet(nn.Module):
    """LeNet-style: functional activations and pooling, x.view(x.size(0), -1)."""

    input_shape = (1, 28, 28)

    def __init__(self, width=6):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 5, padding=2)
        self.conv2 = nn.Conv2d(width, 16, 5)
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.relu(self.conv2(x)), kernel_size=2, stride=2)
        x = x.view(x.size(0), -1)
        return self.fc(x)


def make_net(width=6):
    return FunctionalNet(width=width)


class LoopNet(nn.Module):
    """A loop over a ModuleList with residual adds, then x.mean([2, 3])."""

    def __init__(self, depth=3):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16))
                                    for _ in range(depth))
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = F.relu(x + block(x))
        return self.head(x.mean([2, 3]))


class GateNet(nn.Module):
    """torch.chunk and torch.cat, a sigmoid gate, flatten."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3, padding=1)
        self.left = nn.Conv2d(16, 16, 1)
        self.gate = nn.Conv2d(16, 16, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv(x)
        a, b = torch.chunk(x, 2, dim=1)
        a = self.left(a) * torch.sigmoid(self.gate(b))
        x = torch.cat([a, b], dim=1)
        return self.fc(torch.flatten(self.pool(x), 1))


class BranchyNet(nn.Module):
    """Data-dependent control flow: cannot be traced once for all inputs."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        x = self.conv(x)
        if x.sum() > 0:  # the line the error must name
            x = x * 2
        return x


class RollNet(nn.Module):
    """A call no registry op describes (torch.roll), and one matmul archcost has no op for yet."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.proj = nn.Parameter(torch.randn(8, 8))

    def forward(self, x):
        x = torch.roll(self.conv(x), 1, dims=3)
        return torch.einsum("nchw,cd->ndhw", x, self.proj)


class WidthBlock(nn.Module):
    """conv 3×3 (width) → BN → ReLU → conv 1×1 (2 × width) → ReLU: one class used at two widths."""

    def __init__(self, cin, width):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, 2 * width, 1)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.bn1(self.conv1(x)))))


class TwoStageNet(nn.Module):
    """Two stages of the same block at widths 8 and 16: one block with a width argument when written."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.stage1 = nn.Sequential(WidthBlock(8, 8), WidthBlock(16, 8))
        self.pool = nn.MaxPool2d(2)
        self.stage2 = nn.Sequential(WidthBlock(16, 16), WidthBlock(32, 16))
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stage2(self.pool(self.stage1(self.stem(x))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ResidualUnit(nn.Module):
    """conv 3×3 → BN → ReLU, plus its input."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x))) + x


class SharedNet(nn.Module):
    """Modules called more than once (weights shared across calls): the stem conv applied twice, one unit
    looped over twice, a second unit called once, a third twice, one head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(8, 8, 3, padding=1)
        self.u1, self.u2, self.u3 = ResidualUnit(8), ResidualUnit(8), ResidualUnit(8)
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        x = self.stem(F.relu(self.stem(x)))
        for _ in range(2):
            x = self.u1(x)
        x = self.u3(self.u3(self.u2(x)))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class TiedNet(nn.Module):
    """Two linears holding one weight tensor (`fc2.weight = fc1.weight`), each with its own bias."""

    input_shape = (16,)

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 16), nn.Linear(16, 16)
        self.fc2.weight = self.fc1.weight

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
