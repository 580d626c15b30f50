"""Training memory: weights, gradients, optimizer state, buffers and what autograd saves.

Pure Python (no torch).  :func:`training_memory` models one training step of the lowered
module in train mode (batch norm on batch statistics, dropout active) as torch 2.x runs it:

``weight_bytes``            every parameter (frozen ones included), in ``param_dtype``.
``gradient_bytes``          one gradient per trainable parameter (``p.grad`` has ``p``'s dtype).
``optimizer_bytes``         torch.optim's per-parameter state for the trainable parameters:
                            ``sgd`` none, ``momentum`` one ``momentum_buffer``, ``adam`` and
                            ``adamw`` two (``exp_avg``, ``exp_avg_sq``; AdamW only changes how
                            weight decay is applied, not the state).  torch creates the state
                            with ``zeros_like(param)``, so it has the parameters' dtype: fp32
                            under mixed precision (``param_dtype="float32"``), fp16 after
                            ``model.half()``.  Adam's per-tensor ``step`` counters (4-byte
                            scalars) are left out.
``buffer_bytes``            running means and variances (``param_dtype``) and batch norm's int64
                            ``num_batches_tracked``.
``saved_activation_bytes``  the tensors autograd keeps for the backward pass — not every layer's
                            output.  Per op (torch's ``derivatives.yaml``, checked op by op and
                            model by model with ``torch.autograd.graph.saved_tensors_hooks``):

    conv, transposed conv, linear   the input (the weight is a parameter, not counted again);
                                    a conv with asymmetric padding saves its padded copy
    batch norm                      the input + per-channel mean and inverse std (2·C, fp32)
    group / layer / instance norm   the input + mean and inverse std per group / row / channel
    local response norm             the input, its padded square, and two full-size temporaries
    relu, sigmoid, tanh, softmax    the output
    relu6, leaky_relu, hardswish,   the input.  ``inplace: true``: leaky_relu saves its output
    hardsigmoid, silu, gelu         instead (one tensor less when the next op saves it anyway);
                                    relu6, hardswish, hardsigmoid and silu keep a copy of the
                                    input (autograd's ``original_self``) — no saving; an in-place
                                    relu saves the overwritten tensor — no saving either
    max pool (and adaptive max)     the input + the argmax indices, int64 (8 bytes per output)
    avg pool, adaptive avg pool     the input; to 1×1 (global) nothing: torch computes a mean
    dropout (0 < p < 1)             the mask, 1 byte per element (CUDA's fused kernel saves a bool
                                    mask; on CPU torch saves a mask in the activation dtype);
                                    p = 0 is the identity, p = 1 a product with a zero scalar
    multiply                        both inputs (each one's gradient needs the other)
    add, concat, flatten, slice,    nothing
    channel shuffle, zero pad,
    scale, identity

    A tensor saved by several ops (a ReLU's output that the next conv saves as its input, an
    in-place ReLU's output and the tensor it overwrote, a channel slice of a saved tensor — a
    slice keeps its whole parent alive) is counted once, by storage, and attributed to the first node
    that saves it (``per_node``).  Nothing is saved by a node whose inputs need no gradient and
    that has no trainable parameter.  The network input is saved by the first conv.  The loss
    is not modelled.

``total_bytes``             the sum of the five: what is held at the end of the forward pass of
                            a step (weights, gradients and optimizer state persist across steps).
                            Not modelled: allocator caching and fragmentation, cuDNN workspaces,
                            gradients of activations during backward, the CUDA context.

``dtype`` is the activations' dtype; ``param_dtype`` (default: ``dtype``) that of weights,
gradients, optimizer state and buffers — ``dtype="float16", param_dtype="float32"`` models
automatic mixed precision (approximately: autocast keeps some ops in fp32).

Where the per-op rules live: on each op's definition (``OpDef.saves``, built from the helpers in
:mod:`archcost.ops.saves`), next to how the op lowers to torch, whose autograd they describe;
``register`` refuses an op without one (``tests/test_registry.py``).  This module interprets them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from ..errors import SpecError, short_repr
from ..ir import INPUT, Graph
from ..ops import OPS
from ..ops.saves import ACT, INDEX, MASK, STAT
from .conventions import DTYPE_BYTES
from .costs import node_costs

#: optimizer -> state tensors per trainable parameter (torch.optim defaults)
OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


@dataclass(frozen=True)
class SavedTensor:
    """One tensor a node's backward keeps: ``what`` it is, the storage it lives in (a node id,
    ``input``, or ``node:what`` for a private one), its elements per sample (or in all, if
    ``per_sample`` is false), its kind and whether this node is the first to save that storage."""

    what: str
    storage: str
    elems: int
    kind: str = ACT
    per_sample: bool = True
    first: bool = True

    def nbytes(self, batch: int, act_bytes: int) -> int:
        return self.elems * (batch if self.per_sample else 1) * _kind_bytes(self.kind, act_bytes)


def _kind_bytes(kind: str, act_bytes: int) -> int:
    if kind == ACT:
        return act_bytes
    return {INDEX: 8, MASK: 1, STAT: 8 if act_bytes == 8 else 4}[kind]


@dataclass(frozen=True)
class TrainingMemory:
    """The result of :func:`training_memory` (bytes throughout)."""

    model: str
    batch: int
    dtype: str
    param_dtype: str
    optimizer: str
    weight_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    buffer_bytes: int
    saved_activation_bytes: int
    total_bytes: int
    params: int
    trainable_params: int
    per_node: dict = field(default_factory=dict)  # node id -> saved bytes first saved by its backward
    saved: dict = field(default_factory=dict)  # node id -> tuple of SavedTensor

    def to_dict(self) -> dict:
        """JSON-ready: the components, then per layer what it saves."""
        act = DTYPE_BYTES[self.dtype]
        return {
            "model": self.model, "batch": self.batch, "dtype": self.dtype, "param_dtype": self.param_dtype,
            "optimizer": self.optimizer, "params": self.params, "trainable_params": self.trainable_params,
            "weight_bytes": self.weight_bytes, "gradient_bytes": self.gradient_bytes,
            "optimizer_bytes": self.optimizer_bytes, "buffer_bytes": self.buffer_bytes,
            "saved_activation_bytes": self.saved_activation_bytes, "total_bytes": self.total_bytes,
            "layers": [{"name": nid, "saved_bytes": self.per_node.get(nid, 0),
                        "saved": [{"tensor": t.what, "storage": t.storage, "kind": t.kind,
                                   "bytes": t.nbytes(self.batch, act), "counted_here": t.first} for t in ts]}
                       for nid, ts in self.saved.items()],
        }


class _Model:
    """What a graph saves, independent of batch and dtype (cached on the graph).

    ``analyze`` needs only the totals (``sums`` and the parameter counts), so the pass keeps each
    saved tensor as a plain tuple; :attr:`saved` turns them into :class:`SavedTensor` records
    when a caller asks for the breakdown (``training_memory``).
    """

    __slots__ = ("params", "trainable", "running", "counters", "sums", "_raw", "_saved")

    def __init__(self, graph: Graph):
        base = {INPUT: INPUT}
        elems = {INPUT: prod(graph.input_shape)}
        rg = {INPUT: False}
        seen: set = set()
        raw: dict = {}
        sums: dict = {}
        rules: dict = {}  # (entry, inputs needing grad) -> the op's saves rule's answer (replayed nodes share it)
        params = trainable = running = counters = 0
        for n, entry in zip(graph.nodes, node_costs(graph)):
            p = entry.params
            w = p.weight + p.bias
            t = 0 if p.frozen else w
            if not entry.shared:  # a layer that `shares:` another's weights: their gradient and state are counted once
                params += w
                trainable += t
                running += p.running_stats
                counters += p.buffers - p.running_stats
            nid, inputs = n.id, n.inputs
            # does the output share its input's storage in train mode? views (OpDef.view), except a training
            # dropout, which makes a new tensor unless p = 0 (torch returns the input itself); in-place ops
            if (n.attrs["p"] == 0 if n.op == "dropout" else entry.view or n.attrs.get("inplace")):
                base[nid] = base[inputs[0]]
            else:
                base[nid] = nid
                elems[nid] = entry.out_elems
            in_rg = (rg[inputs[0]],) if len(inputs) == 1 else tuple([rg[i] for i in inputs])
            if not (t > 0 or True in in_rg):
                rg[nid] = False
                continue
            rg[nid] = True
            key = (id(entry), in_rg)
            saves = rules.get(key)
            if saves is None:
                saves = rules[key] = OPS[n.op].saves(n.attrs, list(n.in_shapes), n.out_shape, list(in_rg))
            if not saves:
                continue
            tensors = []
            for what, ref in saves:
                if ref[0] == "new":
                    storage, count, kind, per_sample = f"{nid}:{what}", ref[1], ref[2], ref[3]
                else:
                    storage = base[n.inputs[ref[1]]] if ref[0] == "in" else base[nid]
                    count, kind, per_sample = elems[storage], ACT, True
                first = storage not in seen
                if first:
                    seen.add(storage)
                    sums[(kind, per_sample)] = sums.get((kind, per_sample), 0) + count
                tensors.append((what, storage, count, kind, per_sample, first))
            raw[nid] = tensors
        self.params, self.trainable, self.running, self.counters = params, trainable, running, counters
        self.sums = sums  # totals by (kind, per_sample): saved bytes = Σ elems × size(kind) × (batch if per_sample)
        self._raw = raw
        self._saved = None

    @property
    def saved(self) -> dict:
        """node id -> tuple of :class:`SavedTensor`, in graph order (built on first use)."""
        if self._saved is None:
            self._saved = {nid: tuple(SavedTensor(*t) for t in ts) for nid, ts in self._raw.items()}
        return self._saved


def _model(graph: Graph) -> _Model:
    cache = graph.cache
    if cache.training_model is None:
        cache.training_model = _Model(graph)
    return cache.training_model


def _check(batch, dtype, param_dtype, optimizer):
    if optimizer not in OPTIMIZERS:
        raise SpecError(f"unknown optimizer '{optimizer}'",
                        fix=f"use one of {', '.join(OPTIMIZERS)} (sgd: no state; momentum: 1× the trainable "
                            "parameters; adam/adamw: 2×).")
    for what, d in (("dtype", dtype), ("param dtype", param_dtype)):
        if d not in DTYPE_BYTES:
            raise SpecError(f"unknown {what} '{d}'", fix=f"use one of {', '.join(DTYPE_BYTES)}.")
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 10**9:  # 10**400 overflows float
        raise SpecError(f"batch must be a positive integer up to 10^9, got {short_repr(batch, 30)}",
                        fix="use --batch 1 or more.")


def _saved_bytes(m: _Model, batch: int, act: int) -> int:
    return sum(elems * (batch if per_sample else 1) * _kind_bytes(kind, act) for (kind, per_sample), elems in m.sums.items())


def _components(m: _Model, batch: int, dtype: str, param_dtype: str, optimizer: str) -> tuple:
    pb, act = DTYPE_BYTES[param_dtype], DTYPE_BYTES[dtype]
    weights, grads = m.params * pb, m.trainable * pb
    opt = OPTIMIZERS[optimizer] * m.trainable * pb
    buffers = m.running * pb + m.counters * 8
    saved = _saved_bytes(m, batch, act)
    return weights, grads, opt, buffers, saved


def training_total_bytes(graph: Graph, *, batch: int = 1, dtype: str = "float32", optimizer: str = "adam",
                         param_dtype: str | None = None) -> int:
    """``training_memory(...).total_bytes`` without the per-node breakdown (fast; used by the engine)."""
    param_dtype = param_dtype or dtype
    _check(batch, dtype, param_dtype, optimizer)
    return checked_total_bytes(graph, batch, dtype, param_dtype, optimizer)


def checked_total_bytes(graph: Graph, batch: int, dtype: str, param_dtype: str, optimizer: str) -> int:
    """:func:`training_total_bytes` for arguments the caller has checked (``analyze_graph`` checks once)."""
    return sum(_components(_model(graph), batch, dtype, param_dtype, optimizer))


def training_memory(graph: Graph, *, batch: int = 1, dtype: str = "float32", optimizer: str = "adam",
                    param_dtype: str | None = None) -> TrainingMemory:
    """Memory of one training step of ``graph`` (see the module docstring for the model).

    ``dtype`` is the activations' dtype, ``param_dtype`` (default ``dtype``) the parameters',
    gradients' and optimizer state's; ``optimizer`` is sgd, momentum, adam or adamw.
    """
    param_dtype = param_dtype or dtype
    _check(batch, dtype, param_dtype, optimizer)
    m = _model(graph)
    weights, grads, opt, buffers, saved = _components(m, batch, dtype, param_dtype, optimizer)
    act = DTYPE_BYTES[dtype]
    per_node = {nid: sum(t.nbytes(batch, act) for t in ts if t.first) for nid, ts in m.saved.items()}
    return TrainingMemory(graph.name, batch, dtype, param_dtype, optimizer, weights, grads, opt, buffers, saved,
                          weights + grads + opt + buffers + saved, m.params, m.trainable, per_node, dict(m.saved))
