"""Helpers for checking zoo specs against torchvision (imports torch)."""

from __future__ import annotations

import torch
from torch import nn

import archcost
from archcost.language import load_spec

# module types whose outputs are compared in execution order (functional ops such as
# torch.cat or F.relu exist in only one of the two models, so they are not compared)
COMPARED = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d,
            nn.LayerNorm, nn.GroupNorm)  # pooling is often functional in torchvision; the next layer's shape checks it


def torchvision_model(spec):
    import torchvision

    ref = spec.reference
    kwargs = dict(ref.get("torchvision_kwargs") or {})
    return torchvision.models.get_model(ref["torchvision"], weights=None, **kwargs).eval()


def torchvision_model_on_meta(spec):
    """torchvision's model built on the meta device (no data: for tools that read only shapes).

    RegNet's constructor computes its stage widths with tensors and reads them back (``tolist``),
    which the meta device cannot do; that one computation runs on the CPU (it is a few numbers),
    so even regnet_y_128gf (2.6 GB of weights) is built without allocating them.
    """
    from unittest import mock

    import torchvision.models.regnet as regnet

    widths = regnet.BlockParams.from_init_params.__func__

    def widths_on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return widths(cls, *args, **kwargs)

    with mock.patch.object(regnet.BlockParams, "from_init_params", classmethod(widths_on_cpu)), torch.device("meta"):
        return torchvision_model(spec)


_BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def torchvision_model_aliased(spec):
    """torchvision's model whose weights all alias one small random buffer: for a tool that counts from
    shapes alone but must run a real forward pass (ptflops).  The memory is the largest tensor's
    (ConvNeXt-Large: 38 MB instead of 0.8 GB), and no initialiser runs.  Every parameter is still its own
    ``nn.Parameter`` of its own shape, so ``parameters()`` and every module hook see what they see on the
    real model.  A model with buffers other than batch norm's (Swin's ``relative_position_index``: values
    an index reads) is built for real."""
    model = torchvision_model_on_meta(spec)
    tensors = [(m, n, t, n in m._parameters) for m in model.modules()
               for n, t in [*m._parameters.items(), *m._buffers.items()] if t is not None]
    if any(not is_param and n not in _BN_BUFFERS for _, n, _, is_param in tensors):
        return torchvision_model(spec)
    size = max(t.numel() for _, _, t, _ in tensors)
    shared = torch.empty(size).uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(0))  # a valid variance
    made: dict = {}  # a tensor two modules hold (tied weights) stays one tensor
    for m, n, t, is_param in tensors:
        if id(t) not in made:
            if not t.is_floating_point():
                made[id(t)] = torch.zeros(t.shape, dtype=t.dtype)
            elif is_param:
                made[id(t)] = nn.Parameter(shared[:t.numel()].view(t.shape), requires_grad=t.requires_grad)
            else:
                made[id(t)] = shared[:t.numel()].view(t.shape)
        (m._parameters if is_param else m._buffers)[n] = made[id(t)]
    return model.eval()


#: Above this many parameters a model's float32 weights pass 0.6 GB: with torch, torchvision and fvcore
#: loaded a test worker rests at ~1.2 GB, so a check holding them (ConvNeXt-Large, 198M: 0.8 GB) would take it
#: past the 2 GB each worker stays under (README; regnet_y_128gf at 384 took ~6 GB).  Such models are checked
#: on the meta device (no data: params and every compared layer's output shape, the import round trip); the
#: checks with weights run with ARCHCOST_HUGE=1.
HUGE_PARAMS = 150_000_000

#: ptflops has no meta-device mode: above this many MACs its forward pass on the CPU takes minutes
#: (vit_h_14 at 518: 1,017 G), so tests/test_peers.py runs it there only with ARCHCOST_HUGE=1.
PTFLOPS_MAX_MACS = 50_000_000_000


def is_huge(name: str) -> bool:
    return archcost.analyze(name).totals["params"] > HUGE_PARAMS


def torchvision_meta(spec):
    from torchvision.models import get_model_weights

    return get_model_weights(spec.reference["torchvision"]).DEFAULT.meta


def copy_weights_in_order(src: nn.Module, dst: nn.Module, assign: bool = False) -> None:
    """Copy src's state_dict into dst by name where the two have the same names (Swin: torchvision registers
    a module's parts in another order than it runs them), else by position, checking every tensor's shape
    (``assign``: dst takes src's tensors themselves, so a dst built on the meta device costs no memory)."""
    s, d = src.state_dict(), dst.state_dict()
    assert len(s) == len(d), f"state_dict sizes differ: {len(s)} (torchvision) vs {len(d)} (archcost)"
    pairs = [(k, s[k], k, d[k]) for k in d] if set(s) == set(d) else \
        [(ks, vs, kd, vd) for (ks, vs), (kd, vd) in zip(s.items(), d.items())]
    new = {}
    for ks, vs, kd, vd in pairs:
        assert vs.shape == vd.shape, f"{ks} {tuple(vs.shape)} (torchvision) vs {kd} {tuple(vd.shape)} (archcost)"
        new[kd] = vs
    dst.load_state_dict(new, assign=assign)


def leaf_output_shapes(model: nn.Module, x: torch.Tensor) -> list:
    """(type name, output shape) of every compared leaf module call, in execution order."""
    return leaf_outputs(model, x)[0]


def leaf_outputs(model: nn.Module, x: torch.Tensor) -> tuple:
    """:func:`leaf_output_shapes` and the model's output, from one forward pass (no_grad)."""
    seen = []
    def shape(m, o):
        # a linear or layer norm on an N×H×W×C map (ConvNeXt) works on its H·W tokens: compare as N×(H·W)×C
        flat = isinstance(m, (nn.Linear, nn.LayerNorm)) and o.dim() > 3
        return tuple(o.flatten(1, -2).shape) if flat else tuple(o.shape)

    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((type(m).__name__, shape(m, o))))
             for m in model.modules() if isinstance(m, COMPARED)]
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for h in hooks:
            h.remove()
    return seen, out


def spec_for(name: str):
    return load_spec(name)


def lowered(name: str):
    return archcost.lower(name).eval()
