"""Brute-force receptive fields on the lowered torch module (used by tests/test_receptive.py).

Every conv/linear weight is set to 1/fan_in, biases to 0, batch norm to identity (eval mode,
mean 0, var 1, weight 1, bias 0), max pooling is replaced by average pooling of the same
geometry, and the input is a small positive constant: every activation stays positive (and
below ReLU6's cap), so the gradient of an output unit is non-zero exactly where the input can
influence it.  float32 unless a gradient comes near underflow (its smallest non-zero value under
1e-30, far above float32's 1.4e-45): then the whole computation is redone in float64 (the zoo's smallest
are 8e-16 on ResNet-50, 7e-14 on VGG-16, equal supports in both).  The "unit" is all
channels at one spatial position (a concat's channel 0 belongs to one branch only).
"""

from __future__ import annotations

import torch
from torch import nn

import archcost


class _MeanLinear(nn.Module):
    """``nn.Linear`` with every weight 1/in_features and no bias, without the matrix: each output is the
    mean of the inputs (VGG-16's classifier is 120M weights, 1 GB in float64, for a row of equal numbers)."""

    def __init__(self, out_features):
        super().__init__()
        self.out_features = out_features

    def forward(self, x):
        return x.mean(-1, keepdim=True).expand(*x.shape[:-1], self.out_features)


_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)
_FILLED = (*_WEIGHTED, nn.modules.batchnorm._BatchNorm)  # the modules whose every tensor _prepare sets


def _prepare(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _WEIGHTED) and m.weight.numel():  # (a _MeanLinear's matrix is emptied)
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                if m.weight is not None:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _constant_model(graph, dtype):
    """The lowered module with _prepare's constant weights, made in ``dtype`` directly: lowered on the meta
    device first when every tensor it holds is one _prepare fills (VGG-16's random float32 weights would
    be 0.55 GB, for numbers overwritten at once), and without the matrices of the layers _MeanLinear
    replaces."""
    with torch.device("meta"):
        model = archcost.lower(graph)
    filled = all(isinstance(m, _FILLED) or not (list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)))
                 for m in model.modules())
    if not filled:  # a tensor _prepare does not set: keep the lowering's own values
        model = archcost.lower(graph)
    with torch.no_grad():
        for _nid, m in model.node_modules():
            if isinstance(m, nn.Linear):
                m.weight = nn.Parameter(m.weight.new_empty(0), requires_grad=False)
                m.bias = None
    model = model.to(dtype)
    if filled:
        model = model.to_empty(device="cpu")
    return _prepare(model)


def _substitute(m):
    if isinstance(m, nn.Linear):
        return _MeanLinear(m.out_features)
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)):
        if any(d != 1 for d in (m.dilation if isinstance(m.dilation, tuple) else (m.dilation,))):
            raise NotImplementedError("dilated max pooling")
        cls = nn.AvgPool1d if isinstance(m, nn.MaxPool1d) else nn.AvgPool2d
        return cls(m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode, count_include_pad=True)
    if isinstance(m, nn.AdaptiveMaxPool2d):
        return nn.AdaptiveAvgPool2d(m.output_size)
    if isinstance(m, nn.AdaptiveMaxPool1d):
        return nn.AdaptiveAvgPool1d(m.output_size)
    return m


def _support(grad):
    """(first, last) index per spatial dimension where the gradient is non-zero."""
    nz = grad.abs().sum(0) > 0  # over channels
    if not nz.any():
        return None  # a unit that reads only padding
    out = []
    for d in range(nz.dim()):
        idx = nz.movedim(d, 0).reshape(nz.shape[d], -1).any(1).nonzero().flatten()
        out.append((int(idx[0]), int(idx[-1])))
    return tuple(out)


#: a non-zero gradient smaller than this may have neighbours that underflowed to zero in float32
UNDERFLOW_MARGIN = 1e-30


def brute_regions(graph, targets, dtype=torch.float32, random=False):
    """{node id: (support of the middle, the first and the last unit)} for each target node.

    Each support is one (first, last) input index per spatial dimension.  The first unit's
    right end and the last unit's left end pin down the whole unclipped region of a unit whose
    receptive field is larger than the image.  Non-spatial nodes use feature 0 for all three
    (a token tensor N×D: token 0).

    ``random=True`` keeps the lowered module's random weights and feeds a random input, and a unit
    is a random mix of its channels: for networks with layer norms and attention, where constant
    weights make every channel equal and a normalised sum over channels exactly zero.  The support
    is then, almost surely, exactly where the input can influence the unit (no ReLU here: GELU is
    non-zero almost everywhere).
    """
    if random:
        model = archcost.lower(graph).to(dtype).eval()
        for p in model.parameters():
            p.requires_grad_(False)
        subst = dict(model.node_modules())
        gen = torch.Generator().manual_seed(0)
        x = torch.rand((3, *graph.input_shape), generator=gen, dtype=dtype)
    else:
        model = _constant_model(graph, dtype)
        subst = {nid: _substitute(m) for nid, m in model.node_modules()}
        x = torch.full((3, *graph.input_shape), 1e-3, dtype=dtype)
    # one unit per pass, batch 1: three passes keep a third of the activations alive (VGG-16 at 224 in
    # float64: 0.9 GB for a batch of 3, 2.1 GB peak in the backward)
    last = max(i for i, n in enumerate(graph.nodes) if n.id in targets)
    spatial_rank = len(graph.input_shape)
    supports = {nid: [] for nid in targets}
    keep = set(targets)
    smallest = float("inf")
    for b in range(3):
        xb = x[b:b + 1].detach().requires_grad_(True)
        env = {"input": xb}
        for i, (nid, ins, free, _module, call) in enumerate(model._plan):
            xs = [env[k] for k in ins]
            env[nid] = call(subst[nid], *xs) if call is not None else subst[nid](*xs)
            for f in free:  # what backward needs autograd keeps; the rest goes, as in the module's forward
                if f not in keep:
                    del env[f]
            if i == last:
                break
        for nid in targets:
            out = env[nid]
            if out.dim() > 2 and out.dim() == spatial_rank + 1:
                unit = [tuple(n // 2 for n in out.shape[2:]), (0,) * (out.dim() - 2),
                        tuple(n - 1 for n in out.shape[2:])][b]
                picked = out[(0, slice(None), *unit)]
            else:
                picked = out[0, 0]
            if random:
                scalar = (picked * torch.rand(picked.shape, generator=gen, dtype=dtype)).sum()
            else:
                scalar = picked.sum()
            (grad,) = torch.autograd.grad(scalar, xb, retain_graph=True)
            supports[nid].append(_support(grad[0]))
            nonzero = grad.abs()[grad != 0]
            if nonzero.numel():
                smallest = min(smallest, float(nonzero.min()))
        del env
    if smallest < UNDERFLOW_MARGIN and dtype != torch.float64:
        return brute_regions(graph, targets, dtype=torch.float64, random=random)
    return {nid: tuple(s) for nid, s in supports.items()}


def predicted_regions(graph, targets):
    """The same, predicted by archcost.analysis.receptive.rf_region (clipped to the input)."""
    from archcost.analysis.receptive import rf_region

    nodes = graph.by_id()
    result = {}
    for nid in targets:
        shape = nodes[nid].out_shape
        spatial = len(shape) == len(graph.input_shape)
        units = [tuple(n // 2 for n in shape[1:]), None, tuple(n - 1 for n in shape[1:])] if spatial else [None] * 3
        result[nid] = tuple(rf_region(graph, nid, u, clip=True) for u in units)
    return result
