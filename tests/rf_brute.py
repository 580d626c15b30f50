"""Brute-force receptive fields on the lowered torch module (used by tests/test_receptive.py).

Every conv/linear weight is set to 1/fan_in, biases to 0, batch norm to identity (eval mode,
mean 0, var 1, weight 1, bias 0), max pooling is replaced by average pooling of the same
geometry, and the input is a small positive constant: every activation stays positive (and
below ReLU6's cap), so the gradient of an output unit is non-zero exactly where the input can
influence it.  float64 keeps the fringe of the support from underflowing.  The "unit" is all
channels at one spatial position (a concat's channel 0 belongs to one branch only).
"""

from __future__ import annotations

import torch
from torch import nn

import archcost


def _prepare(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)):
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


def _substitute(m):
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


def brute_regions(graph, targets, dtype=torch.float64):
    """{node id: (support of the middle, the first and the last unit)} for each target node.

    Each support is one (first, last) input index per spatial dimension.  The first unit's
    right end and the last unit's left end pin down the whole unclipped region of a unit whose
    receptive field is larger than the image.  Non-spatial nodes use feature 0 for all three.
    """
    model = _prepare(archcost.lower(graph).to(dtype))
    subst = {nid: _substitute(m) for nid, m in model.node_modules()}
    x = torch.full((3, *graph.input_shape), 1e-3, dtype=dtype, requires_grad=True)
    env = {"input": x}
    last = max(i for i, n in enumerate(graph.nodes) if n.id in targets)
    for i, (nid, ins, *_) in enumerate(model._plan):
        env[nid] = subst[nid](*[env[k] for k in ins])
        if i == last:
            break
    result = {}
    for nid in targets:
        out = env[nid]
        if out.dim() > 2:
            units = [tuple(n // 2 for n in out.shape[2:]), (0,) * (out.dim() - 2), tuple(n - 1 for n in out.shape[2:])]
            scalar = sum(out[(b, slice(None), *u)].sum() for b, u in enumerate(units))
        else:
            scalar = out[:, 0].sum()
        (grad,) = torch.autograd.grad(scalar, x, retain_graph=True)
        result[nid] = tuple(_support(grad[b]) for b in range(3))
    return result


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
