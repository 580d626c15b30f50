"""Lowering: graph IR → ``torch.nn.Module``. Importing this module imports torch."""

from __future__ import annotations

from math import prod

import torch
from torch import nn

from ..errors import SpecError
from ..ir import INPUT, Graph
from ..ops import OPS

MAX_LOWER_BYTES = 8 * 2**30  # refuse to allocate more than 8 GiB of weights


class Container(nn.Module):
    """A named group (block, stage, branch); holds submodules only."""


class SharedWeights(nn.Module):
    """The module of a node that ``shares:`` an earlier node's weights (its ``owner``'s).

    ``state_dict()`` and ``parameters()`` hold the weights once, under the owner's name, as in the module that
    was captured: this module registers no tensor and no submodule.  It runs ``twin``, the op's module built
    again, whose every (sub)module reads the owner's parameter and buffer dicts themselves (so ``.to()``,
    ``load_state_dict`` and a batch norm's running statistics stay one).  The twin is a plain attribute: it
    has no hooks and no module path, so hooks, fvcore's scopes and the profiler give this call to this node
    and the owner's call to the owner (running the owner itself would give the owner's submodules, e.g. an
    asymmetric padding's conv, both calls)."""

    def __init__(self, owner: nn.Module, owner_id: str, twin: nn.Module):
        super().__init__()
        for mine, theirs in zip(twin.modules(), owner.modules(), strict=True):
            mine._parameters = theirs._parameters
            mine._buffers = theirs._buffers
        self.__dict__["owner"] = owner  # plain attributes: not submodules
        self.__dict__["twin"] = twin
        self.owner_id = owner_id

    def train(self, mode: bool = True):  # the twin is no submodule: eval() and train() reach it here
        self.twin.train(mode)
        return super().train(mode)

    def forward(self, *xs):
        call = getattr(self.twin, "archcost_call", None)
        return call(self.twin, *xs) if call is not None else self.twin(*xs)

    def extra_repr(self) -> str:
        return f"shares {self.owner_id}"


class LoweredNet(nn.Module):
    """A torch module that runs the graph's nodes in order.

    Submodules sit at the dotted node ids (``model.get_submodule("stage1.conv2d0")``),
    so analytic rows, torch modules and profiler entries share names.
    """

    def __init__(self, graph: Graph):
        super().__init__()
        self.spec_name = graph.name
        self.input_shape = tuple(graph.input_shape)
        self.input_vocab = input_vocab(graph)
        last_use = {}
        for i, n in enumerate(graph.nodes):
            for src in n.inputs:
                last_use[src] = i
        last_use[graph.output] = len(graph.nodes)
        self._plan = []
        made = {}
        for i, n in enumerate(graph.nodes):
            if n.shares:
                module = SharedWeights(made[n.shares], n.shares, OPS[n.op].lower(n.attrs, list(n.in_shapes)))
            else:
                module = made[n.id] = OPS[n.op].lower(n.attrs, list(n.in_shapes))
                if n.attrs.get("trainable") is False:
                    module.requires_grad_(False)
            _place(self, n.id, module, graph, n)
            free = tuple(src for src in set(n.inputs) if last_use.get(src) == i)
            # a module called otherwise than module(*inputs) (nn.MultiheadAttention: m(x, x, x, ...)[0])
            call = getattr(module, "archcost_call", None)
            self._plan.append((n.id, n.inputs, free, module, call))
        self._output = graph.output
        # a learned tensor's op module uses the parameter its enclosing module holds (_place);
        # load_state_dict(assign=True) replaces that parameter object, so point the op module at the new one
        self._learned = [(nid, module) for nid, _, _, module, _ in self._plan
                         if getattr(module, "param_on_parent", None)]
        if self._learned:
            self.register_load_state_dict_post_hook(_relink_learned)

    def forward(self, x):
        env = {INPUT: x}
        for nid, ins, free, module, call in self._plan:
            xs = [env[i] for i in ins]
            env[nid] = call(module, *xs) if call is not None else module(*xs)
            for f in free:  # drop tensors after their last use, as the analytic liveness does
                del env[f]
        return env[self._output]

    def node_modules(self):
        """(node id, module) in execution order."""
        return [(nid, m) for nid, _, _, m, _ in self._plan]


def _relink_learned(net: "LoweredNet", incompatible_keys) -> None:
    for nid, module in net._learned:
        setattr(module, module.param_on_parent, net.get_parameter(nid))


def _place(root: nn.Module, dotted: str, module: nn.Module, graph: Graph, node) -> None:
    parts = dotted.split(".")
    parent = root
    for seg in parts[:-1]:
        child = parent._modules.get(seg)
        if child is None:
            _check_name(parent, seg, graph, node)
            child = Container()
            parent.add_module(seg, child)
        parent = child
    _check_name(parent, parts[-1], graph, node)
    holder = getattr(module, "param_on_parent", None)
    if holder:
        # a learned tensor (class token, position embedding, layer scale): its parameter belongs to the
        # enclosing module under the layer's name, as in torchvision; the op's module only uses it
        parent.register_parameter(parts[-1], getattr(module, holder))
    else:
        parent.add_module(parts[-1], module)


def _check_name(parent, seg, graph, node):
    if seg in parent._modules or (hasattr(parent, seg) and seg not in parent._modules):
        raise SpecError(f"the layer name '{seg}' clashes with a torch.nn.Module attribute or another layer",
                        file=node.file or graph.file, line=node.line, path=node.id,
                        fix="rename the layer with `name:` (e.g. add a suffix).")


def lower_graph(graph: Graph) -> LoweredNet:
    weights = 0
    for n in graph.nodes:
        if n.shares:
            continue
        p = OPS[n.op].params(n.attrs, list(n.in_shapes))
        weights += p.weight + p.bias + p.buffers
    if weights * 4 > MAX_LOWER_BYTES:
        raise SpecError(f"lowering would allocate {weights * 4 / 2**30:.1f} GiB of float32 weights",
                        file=graph.file, fix="analyse it with `archcost table` instead; lowering is for models "
                                            "that fit in memory (limit 8 GiB).")
    return LoweredNet(graph)


def input_vocab(graph: Graph):
    """How many token ids the input may hold when ``embedding`` layers read it (the smallest of their
    num_embeddings), else None: a spec's input is integer ids exactly when an embedding reads it."""
    sizes = [n.attrs["num_embeddings"] for n in graph.nodes if n.op == "embedding" and INPUT in n.inputs]
    return min(sizes) if sizes else None


def example_input(graph_or_model, batch: int = 1, device="cpu"):
    """A random input batch: floats, or token ids below the vocabulary when embeddings read the input."""
    shape = graph_or_model.input_shape
    if batch * prod(shape) * 4 > MAX_LOWER_BYTES:
        raise SpecError("the example input would not fit in memory", fix="use a smaller --batch or --input.")
    vocab = graph_or_model.input_vocab if isinstance(graph_or_model, LoweredNet) else (
        input_vocab(graph_or_model) if isinstance(graph_or_model, Graph) else None)
    if vocab:
        return torch.randint(0, vocab, (batch, *shape), device=device)
    return torch.randn(batch, *shape, device=device)
