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
                    in eval under ``no_grad``
``attention_macs``  the part of ``macs`` that is attention's QKᵀ and A·V (multi-head attention)
``flop_counter``    ``torch.utils.flop_counter.FlopCounterMode``'s count ÷ 2 in eval under ``no_grad`` on
                    CPU, where it differs from ``macs`` (attention it cannot see); absent = ``macs``
``per_forward_macs`` the part of ``macs`` computed once per forward pass whatever the batch, from the weights
                    alone (Swin V2's position-bias MLP); archcost counts it per sample like the rest, which is
                    exact at batch 1 (where the references are measured) and over-counts it by (batch − 1)× beyond

``explain(a, ins, out)`` returns the working behind those numbers, with the numbers substituted
(:class:`archcost.ops.working.Working`), keyed by what it explains: ``output_shape`` always,
``params`` (weight + bias), ``buffers`` and ``running_stats`` when non-zero, and every non-zero
key of ``costs``.  It sits next to the op's ``shape``/``params``/``costs`` code, and a property
test asserts, for random valid attributes, that every value it shows equals the computed one.

The facts the analyses read, so that nothing outside ``ops/`` keeps a table keyed by op name
(:func:`missing_facts` lists what an op lacks; :func:`register` refuses such an op):

``category``          required, one of :data:`OP_CATEGORIES`: where the op's count falls when the
                      peers' presets and ``archcost conventions`` break MACs down (conv / linear
                      ops split theirs into ``macs`` and ``bias``).
``kind``              required, one of :data:`KINDS`: what kind of layer it is, for latency, plots and
                      the homework diagnoses.  A convolution declares ``conv`` and :meth:`OpDef.kind_of`
                      refines it from its attributes (:func:`conv_kind`: ``depthwise`` when groups =
                      in_channels > 1, ``grouped`` when groups > 1, ``pointwise`` when every kernel size
                      is 1, else ``conv``): the one classifier every caller uses.
``saves``             required: what backward keeps, ``saves(a, ins, out, rg) -> [(what, ref)]`` with
                      ``rg[k]`` whether input k needs a gradient and ``ref`` one of ``("in", k)``,
                      ``("out",)`` or ``("new", elems, kind, per_sample)`` (helpers and the kinds of
                      storage in :mod:`archcost.ops.saves`; interpreted by
                      :mod:`archcost.analysis.training`, whose docstring states the rules op by op).
``rf``                required, an :class:`RFRule`: how the op maps receptive fields (one of
                      :data:`RF_RULES`, with the geometry the rule needs; interpreted by
                      :mod:`archcost.analysis.receptive`).
``latency_class``     the device profile's cost class of a node (:mod:`archcost.analysis.latency`):
                      a string, or a function of the attributes; derived (``view``) for a view op,
                      else required.  It is kept apart from ``kind`` because the calibrated classes
                      are finer and a few differ on purpose: a 1×1 convolution is ``conv1x1`` only
                      with stride 1 and no padding (a strided or padded one runs the general
                      kernel); a transposed convolution is timed as ``conv`` / ``depthwise`` /
                      ``grouped`` by its groups; norms and activations have a class each; a global
                      max pool has none calibrated (``eltwise``, the copy-like fallback).
``latency_features``  derived: the counts the class's cost model reads beyond what ``costs`` and
                      ``params`` give (``macs``; ``weights`` = weight + bias + running statistics),
                      per sample: ``im2col`` (the unfolded input a GEMM-based convolution builds),
                      ``window`` (pooling window work) and ``scores`` (attention's h·N·S scores, the
                      softmax's work); empty for most ops.
``torch_class``       derived from ``torch_name``: the ``torch.nn`` class a module-hook tool sees
                      (the key of the peers' per-tool tables in :mod:`archcost.analysis.peers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any, Callable

from ..errors import ShapeError, short_repr

REQUIRED = object()

Shape = tuple

#: cost categories of an op's count (``OpDef.category``), as the peers and the breakdown use them
OP_CATEGORIES = ("macs", "attention", "batchnorm", "norm", "act", "pool", "adaptive_pool", "eltwise", "other")
#: kinds of layer (``OpDef.kind`` / :meth:`OpDef.kind_of`).  ``conv`` is refined by attributes into
#: ``pointwise`` / ``depthwise`` / ``grouped``; ``merge`` is element-wise arithmetic on whole tensors
#: (add, multiply, concat, and scale, a multiply by a constant); ``view`` an op whose output aliases
#: its input
KINDS = ("conv", "pointwise", "depthwise", "grouped", "transposed", "linear", "attention", "norm", "act", "pool", "merge",
         "view", "other")
#: receptive-field rules (``RFRule.rule``) and the geometry each reads, ``geometry(a, ins, out)``:
#: ``same`` (each unit sees what the unit at its position saw: element-wise ops, norms), ``window``
#: (kernel, stride, dilation, padding before, per spatial dim; None for unequal adaptive windows),
#: ``transposed`` (the same four, of a transposed convolution), ``union`` (element-wise joins),
#: ``join`` (concat: the dimension, 0 = channels), ``reshape`` (flatten), ``dense`` (every unit
#: sees all of its input), ``shift`` (zero padding: the padding before, per spatial dim), ``along``
#: (softmax: the dimension it normalises, 0 = channels), ``global`` (attention: every unit sees every
#: position of its input, so the whole input image), ``product`` (matmul: a product of two activations: global
#: when it sums over positions, as A·V does; undefined when each output pairs two positions, as QKᵀ does).
#: ``reshape`` and ``dense`` take an optional geometry: for ``reshape`` (permute, transpose, flatten,
#: unflatten) the input dimensions each output dimension is made of, one tuple per output dimension
#: (a split repeats one input dimension), so channels-last tokens stay mapped to the image; for
#: ``dense`` the dimensions it mixes (a linear layer: the last), so a per-token linear on channels
#: keeps each token's field.  Without one, ``reshape`` loses track of the layout and ``dense`` mixes all.
RF_RULES = ("same", "window", "transposed", "union", "join", "reshape", "dense", "shift", "along", "global", "product")
_RF_GEOMETRY = {"window", "transposed", "join", "shift", "along"}
_RF_OPTIONAL_GEOMETRY = {"reshape", "dense"}


@dataclass(frozen=True)
class RFRule:
    """An op's receptive-field rule: which of :data:`RF_RULES`, and its geometry where the rule needs one."""

    rule: str
    geometry: Callable[[dict, list, Shape], Any] | None = None


def conv_kind(a: dict) -> str:
    """The kind of a convolution with prepared attributes ``a``: depthwise, grouped, pointwise or conv."""
    g = a["groups"]
    if g > 1:
        return "depthwise" if g == a["in_channels"] else "grouped"
    return "pointwise" if all(k == 1 for k in a["kernel_size"]) else "conv"


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
    # of weight + bias, those the lowered module holds itself beside child modules that hold the rest (MaxViT's
    # relative-position bias table beside its two Linear children): thop counts only modules it has a rule for
    own: int = 0

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
    # False only for an op that stands for something archcost did not model (``opaque``, a captured call):
    # it is analysed from what was measured, never lowered, and the per-op torch property tests skip it
    lowerable: bool = True
    # the facts the analyses read (see the module docstring); register() refuses an op missing one
    category: str | None = None
    kind: str | None = None
    saves: Callable[[dict, list, Shape, list], list] | None = None
    rf: RFRule | None = None
    latency_class: str | Callable[[dict], str] | None = None
    latency_features: Callable[[dict, list, Shape], dict] = lambda a, ins, out: {}
    attr_index: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "attr_index", {a.name: a for a in self.attrs})

    def kind_of(self, a: dict) -> str:
        """This op's kind for prepared attributes ``a`` (a convolution's depends on them)."""
        return conv_kind(a) if self.kind == "conv" else self.kind

    def latency_class_of(self, a: dict) -> str:
        """The device profile's cost class of a node of this op with prepared attributes ``a``."""
        cls = self.latency_class
        if cls is None:
            return "view" if self.view else ""
        return cls(a) if callable(cls) else cls

    @property
    def torch_class(self) -> str:
        """The ``torch.nn`` class the op lowers to (``torch_name`` without ``nn.`` and arguments; the last part
        of a dotted class path such as ``torchvision.ops.StochasticDepth``), or the function it calls
        (``torch.matmul``), or ""."""
        name = self.torch_name.split("(")[0].strip()
        if name.startswith("nn."):
            return name[3:]
        last = name.rpartition(".")[2]
        if "." in name and last[:1].isupper() and not name.startswith(("Tensor.", "F.")):
            return last
        return name  # a function (torch.matmul): what ptflops patches


def missing_facts(op: OpDef) -> list:
    """What ``op`` lacks or gets wrong of the facts the analyses read (see the module docstring); [] if none."""
    out = []
    if op.category not in OP_CATEGORIES:
        out.append(f"category (one of {', '.join(OP_CATEGORIES)}), not {op.category!r}")
    if op.kind not in KINDS:
        out.append(f"kind (one of {', '.join(KINDS)}), not {op.kind!r}")
    if not callable(op.saves):
        out.append("saves (what backward keeps: a function of a, ins, out, rg)")
    if not isinstance(op.rf, RFRule) or op.rf.rule not in RF_RULES:
        out.append(f"rf (an RFRule, one of {', '.join(RF_RULES)}), not {op.rf!r}")
    elif op.rf.rule not in _RF_OPTIONAL_GEOMETRY and (op.rf.geometry is not None) != (op.rf.rule in _RF_GEOMETRY):
        out.append(f"rf geometry: rule {op.rf.rule!r} " + ("needs" if op.rf.rule in _RF_GEOMETRY else "takes no")
                   + " geometry")
    if not (isinstance(op.latency_class, str) and op.latency_class or callable(op.latency_class)
            or op.latency_class is None and op.view):
        out.append("latency_class (a device-profile class name, or a function of the attributes)")
    if not callable(op.latency_features):
        out.append("latency_features (a function of a, ins, out)")
    return out


OPS: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name} registered twice")
    missing = missing_facts(op)
    if missing:
        raise ValueError(f"op {op.name} is registered without: {'; '.join(missing)}")
    OPS[op.name] = op
    return op


TRAINABLE = Attr("trainable", "bool", True,
                 doc="false freezes the layer (requires_grad=False): still params, not trainable_params")
#: how a model computes the op, which decides what a module-hook peer sees (see analysis/peers.py):
#: an ``nn.Module`` call, a ``torch.nn.functional`` call (``F.relu``), or a call no peer hooks (a tensor
#: method or operator, a ``torch.*`` function: ``x.mean([2, 3])``, ``torch.relu``).  It changes no
#: shape or cost, only the peers' presets; ``archcost import`` writes it for the calls it captures.
FORM = Attr("form", "str", "module", choices=("module", "functional", "method"),
            doc="module | functional (F.relu) | method (x.mean, torch.relu): what the peers' presets see")


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


def torch_module(name):
    """A ``lower`` that builds archcost's own small torch module ``name`` (``archcost._torch_modules``,
    imported on first lowering: the analytic path never imports torch)."""
    def lower(a, ins):
        from .. import _torch_modules as tm

        return getattr(tm, name)(a, ins)
    return lower
