"""What torch's autograd saves for backward, measured with saved_tensors_hooks (tests only).

The lowered module runs one forward pass in train mode; every tensor autograd packs is
recorded by storage (so a tensor saved by two ops, or a view of a saved tensor, counts once,
with its whole storage), and parameters and buffers are left out.
"""

from __future__ import annotations

import torch

import archcost
from archcost.lowering import example_input


def torch_saved(graph, batch=2, dtype=torch.float32, model=None):
    """(saved bytes, {storage data_ptr: (nbytes, dtype, shape, first node to save it)}) of one
    forward pass in train mode."""
    model = (model or archcost.lower(graph)).to(dtype).train()
    exclude = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    seen = {}
    current = ["?"]
    for nid, m in model.node_modules():
        m.register_forward_pre_hook(lambda mod, args, nid=nid: current.__setitem__(0, nid))

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in exclude:
            seen.setdefault(s.data_ptr(), (s.nbytes(), t.dtype, tuple(t.shape), current[0]))
        # a detached alias: it keeps the storage alive through the pass (so no address is reused and
        # counted twice), but a saved output returned as itself would make a cycle through its own grad_fn
        # that Python's gc cannot see, and the pass's tensors (weights included) would never be freed
        return t.detach()

    torch.manual_seed(0)
    x = example_input(graph, batch)  # token ids where an embedding reads the input
    if x.is_floating_point():
        x = x.to(dtype)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    del out
    return sum(v[0] for v in seen.values()), seen
