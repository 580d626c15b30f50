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


def torchvision_meta(spec):
    from torchvision.models import get_model_weights

    return get_model_weights(spec.reference["torchvision"]).DEFAULT.meta


def copy_weights_in_order(src: nn.Module, dst: nn.Module, assign: bool = False) -> None:
    """Copy src's state_dict into dst by position, checking every tensor's shape (``assign``: dst
    takes src's tensors themselves, so a dst built on the meta device costs no memory)."""
    s, d = src.state_dict(), dst.state_dict()
    assert len(s) == len(d), f"state_dict sizes differ: {len(s)} (torchvision) vs {len(d)} (archcost)"
    new = {}
    for (ks, vs), (kd, vd) in zip(s.items(), d.items()):
        assert vs.shape == vd.shape, f"{ks} {tuple(vs.shape)} (torchvision) vs {kd} {tuple(vd.shape)} (archcost)"
        new[kd] = vs
    dst.load_state_dict(new, assign=assign)


def leaf_output_shapes(model: nn.Module, x: torch.Tensor) -> list:
    """(type name, output shape) of every compared leaf module call, in execution order."""
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((type(m).__name__, tuple(o.shape))))
             for m in model.modules() if isinstance(m, COMPARED)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return seen


def spec_for(name: str):
    return load_spec(name)


def lowered(name: str):
    return archcost.lower(name).eval()
