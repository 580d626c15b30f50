"""The op registry's interface.

An :class:`OpDef` is everything archcost knows about one primitive, in one
place: its attribute schema, how it infers its output shape, its parameters
(weights, bias and buffers separately), its arithmetic broken down by category,
what fvcore counts for it, whether its output is a view of its input (for
memory liveness) and how it lowers to a ``torch.nn.Module``.

Adding an op is one function per concern and one ``register(OpDef(...))`` call,
in the style of fvcore's ``jit_handles``.  Ops never import torch at module
level: ``lower`` imports it when called, so the analytic path stays torch-free.

Shapes here never include the batch dimension: a 2-D feature map is
``(C, H, W)``, a vector ``(F,)``.  The analysis multiplies by the batch size.

Cost categories returned by ``costs`` (each an int count for batch 1):

``macs``            multiply-accumulates of conv / linear / matmul (the "default" convention)
``bias_flops``      bias additions
``norm_flops``      normalisation arithmetic (inference form)
``act_flops``       activation function arithmetic
``pool_flops``      pooling arithmetic (compares or adds + divide)
``eltwise_flops``   element-wise add / multiply
``fvcore``          what fvcore 0.1.5's default handles count for this op (its "flops", which are MACs)

``explain(a, ins, out)`` returns the working behind those numbers, with the numbers substituted
(:class:`archcost.ops.working.Working`), keyed by what it explains: ``output_shape`` always,
``params`` (weight + bias), ``buffers`` and ``running_stats`` when non-zero, and every non-zero
key of ``costs``.  It sits next to the op's ``shape``/``params``/``costs`` code, and a property
test asserts, for random valid attributes, that every value it shows equals the computed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any, Callable

from ..errors import ShapeError, short_repr

REQUIRED = object()

Shape = tuple


@dataclass(frozen=True)
class Attr:
    """One attribute of an op: name, kind, default, and a sentence of help."""

    name: str
    kind: str  # int | float | bool | str | ints | padding | size | any
    default: Any = REQUIRED
    doc: str = ""
    min: float | None = None
    choices: tuple | None = None


@dataclass(frozen=True)
class Params:
    weight: int = 0
    bias: int = 0
    buffers: int = 0
    frozen: bool = False  # `trainable: false`: counted as params, not as trainable params
    running_stats: int = 0  # buffers that are a norm's running mean and variance (Keras counts them as params)

    @property
    def trainable(self) -> int:
        return 0 if self.frozen else self.weight + self.bias


@dataclass(frozen=True)
class OpDef:
    name: str
    attrs: tuple[Attr, ...]
    shape: Callable[[dict, list], Shape]
    lower: Callable[[dict, list], Any]
    params: Callable[[dict, list], Params] = lambda a, ins: Params()
    costs: Callable[[dict, list, Shape], dict] = lambda a, ins, out: {}
    prepare: Callable[[dict, list], dict] | None = None  # op-specific checks / normalisation
    explain: Callable[[dict, list, Shape], dict] | None = None  # quantity -> Working (see module doc)
    arity: int | None = 1  # None = two or more inputs
    view: bool = False  # output aliases the input's memory (flatten, identity, dropout in eval)
    in_rank: tuple[int, ...] | None = None  # allowed ranks of the (batch-less) input
    family: str = "other"
    doc: str = ""
    torch_name: str = ""
    attr_index: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "attr_index", {a.name: a for a in self.attrs})


OPS: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name} registered twice")
    OPS[op.name] = op
    return op


TRAINABLE = Attr("trainable", "bool", True,
                 doc="false freezes the layer (requires_grad=False): still params, not trainable_params")


def numel(shape) -> int:
    return prod(shape)


def as_tuple(value, d: int, what: str):
    """int -> (int,)*d; list of d ints -> tuple; else ShapeError."""
    if isinstance(value, bool):
        raise ShapeError(f"{what} must be an integer or a list of {d}, not {short_repr(value)}")
    if isinstance(value, int):
        return (value,) * d
    if isinstance(value, (list, tuple)) and len(value) == d and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], int):
        return (value[0],) * d
    raise ShapeError(f"{what} must be an integer or a list of {d} integers, not {short_repr(value)}",
                     fix=f"write e.g. `{what}: 3` or `{what}: {[3] * d}`.")


def spatial_names(d: int) -> tuple:
    """Names of the spatial dimensions of a d-dimensional map (for workings): H, W or L."""
    return ("H", "W") if d == 2 else ("D", "H", "W")[-d:] if d == 3 else ("L",) if d == 1 else ()


def channels_last(shape) -> tuple:
    """(C, H, W) as (H, W, C), the order courses count outputs in; a vector stays as it is."""
    return (*shape[1:], shape[0]) if len(shape) > 1 else tuple(shape)


def fmt_shape(shape) -> str:
    return "×".join(str(s) for s in shape)
