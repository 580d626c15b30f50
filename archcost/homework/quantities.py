"""The quantities a question can ask for, each computed with its working.

Every quantity is computed by the same analysis the tables use (the op registry's shapes, params
and costs, summed per convention) and comes with the working that explains it
(:mod:`archcost.analysis.explain`), so the number graded and the number explained are one.

``receptive_field`` / ``effective_stride`` and ``training_bytes`` call
``archcost.analysis.receptive`` and ``archcost.analysis.training``, imported when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from ..analysis import explain as ex
from ..errors import SpecError, short_repr
from ..ops import OPS
from ..ops.base import fmt_shape
from ..ops import working as wk
from ..ops.working import Working
from .records import Options
from .subjects import Selection, matches_op


@dataclass(frozen=True)
class Quantity:
    name: str
    kind: str  # number | shape | spatial (one value per spatial dimension) | list (per stage, in order)
    doc: str
    fn: Callable
    memory: bool = False  # measured in bytes (an answer's bare "B" means bytes)
    additive: bool = False  # sums over layers (``ops`` and "only the last layer" apply)


@dataclass
class Value:
    """A computed quantity: the exact value and its working."""

    value: object  # int | Fraction | tuple
    working: Working
    kind: str


def _sum(quantity):
    def fn(sel: Selection, o: Options, **_):
        w = ex.sum_working(sel.graph, sel.nodes, quantity, o.convention, dtype=o.dtype, batch=o.batch, label=sel.label)
        return Value(w.value, w, "number")
    return fn


def activation_nodes(sel: Selection) -> list:
    """The layers whose outputs an activation sum counts: all but views (their output is their input's
    storage), unless a single layer is selected."""
    if len(sel.nodes) == 1:
        return list(sel.nodes)
    return [n for n in sel.nodes if not OPS[n.op].view]


def _activations(quantity):
    def fn(sel: Selection, o: Options, include_input: bool | None = None, **_):
        inc = o.include_input if include_input is None else include_input
        nodes = activation_nodes(sel)
        w = ex.sum_working(sel.graph, nodes, quantity, o.convention, dtype=o.dtype, batch=o.batch, label=sel.label,
                           include_input=sel.region if inc else None)
        views = len(sel.nodes) - len(nodes)
        note = "; ".join(x for x in (w.note, "input included" if inc else "input not included",
                                     f"{views} view{'s' if views != 1 else ''} (flatten, dropout, ...) share storage, "
                                     "not counted" if views else "") if x)
        w = Working(w.quantity, w.value, w.sides, w.unit, note, w.parts, w.label)
        return Value(w.value, w, "number")
    return fn


def output_shape(sel: Selection, o: Options, **_):
    node = sel.nodes[-1]
    w = ex.node_working(sel.graph, node, "output_shape", o.convention)
    if len(sel.nodes) > 1:
        w = Working(w.quantity, w.value, w.sides, w.unit, f"the output of {node.id}, the last layer of {sel.label}",
                    w.parts, w.label)
    return Value(tuple(node.out_shape), w, "shape")


def peak_activation_bytes(sel: Selection, o: Options, **_):
    w = ex.peak_working(sel.graph, None if sel.whole else sel.nodes, dtype=o.dtype, batch=o.batch, label=sel.label)
    return Value(w.value, w, "number")


def depth(sel: Selection, o: Options, **_):
    w = ex.depth_working(sel.graph, sel.nodes, label=sel.label)
    return Value(w.value, w, "number")


def count(sel: Selection, o: Options, op=None, block=None, classifier=True, **_):
    left_out = ""
    if op:
        hits = [n.id for n in sel.nodes if matches_op(n, op)]
        what = f"layers of op {', '.join(op)}"
        if classifier is False:
            head = classifier_node(sel.graph)
            if head is not None and head.id in hits:
                hits.remove(head.id)
                left_out = f"; the classifier ({head.id}) left out"
    else:
        ids = {n.id for n in sel.nodes}
        hits = [p for p, kind in sel.graph.groups.items()
                if kind == block and any(i == p or i.startswith(p + ".") for i in ids)]
        if not hits:  # blocks named after their kind (inception3a, ...), when the spec names its calls
            hits = sorted({n.id.split(".")[0] for n in sel.nodes if n.id.split(".")[0].startswith(block)},
                          key=[n.id.split(".")[0] for n in sel.nodes].index)
        if not hits and block not in set(sel.graph.groups.values()) | _library_blocks():
            kinds = sorted(set(sel.graph.groups.values()))
            raise SpecError(f"{short_repr(block, 40)} is not a kind of block (so it cannot be counted)",
                            fix=(f"the blocks of {sel.label} are {', '.join(kinds)}" if kinds else
                                 f"{sel.label} has no blocks; count layers with `op:` instead")
                                + "; the block libraries define " + ", ".join(sorted(_library_blocks())) + ".")
        what = f"blocks of kind {block}"
    shown = ", ".join(hits[:12]) + (", ..." if len(hits) > 12 else "")
    w = Working("count", len(hits), (wk.num(len(hits)),),
                note=(f"{what}: {shown}" if hits else f"no {what}") + left_out, label=sel.label)
    return Value(len(hits), w, "number")


def classifier_node(graph):
    """The classifier: the network's last weight layer (linear or convolution), which "hidden layers" leave out."""
    for n in reversed(graph.nodes):
        if OPS[n.op].family in ("linear", "conv"):
            return n
    return None


def _last(sel: Selection):
    node = sel.nodes[-1]
    return node, tuple(node.out_shape)


def channels(sel: Selection, o: Options, **_):
    node, out = _last(sel)
    if len(out) < 2:
        raise SpecError(f"the output of {node.id} ({fmt_shape(out)}) has no channel dimension: it is a vector",
                        fix="ask for `output_shape`, or choose a convolution or pooling layer (`layer:`).")
    w = Working("channels", out[0], (wk.num(out[0]),), note=f"C of {node.id}'s output {fmt_shape(out)} (C×H×W)",
                label=node.id)
    return Value(out[0], w, "number")


def tokens(sel: Selection, o: Options, **_):
    """N of a layer's N×D token output; of a C×H×W map, its H·W positions (the tokens a patch embedding makes)."""
    node, out = _last(sel)
    if len(out) == 2:
        w = Working("tokens", out[0], (wk.num(out[0]),), note=f"N of {node.id}'s output {fmt_shape(out)} (N tokens × D)",
                    label=node.id)
        return Value(out[0], w, "number")
    if len(out) >= 3:
        n = 1
        for d in out[1:]:
            n *= d
        w = Working("tokens", n, (wk.dot(*out[1:]), wk.num(n)),
                    note=f"one token per position of {node.id}'s {fmt_shape(out)} map (flattened, as ViT's patches)",
                    label=node.id)
        return Value(n, w, "number")
    raise SpecError(f"the output of {node.id} ({fmt_shape(out)}) is a vector: it has no tokens",
                    fix="choose a layer whose output is N×D tokens (`layer:`), e.g. ViT's class_token or an encoder block.")


def spatial_size(sel: Selection, o: Options, **_):
    node, out = _last(sel)
    if len(out) < 2:
        raise SpecError(f"the output of {node.id} ({fmt_shape(out)}) has no spatial size: it is a vector",
                        fix="choose a convolution or pooling layer (`layer:`).")
    sp = out[1:]
    w = Working("spatial_size", sp, (fmt_shape(sp),), note=f"H×W of {node.id}'s output {fmt_shape(out)} (C×H×W)",
                label=node.id)
    return Value(sp, w, "spatial")


def downsampling(sel: Selection, o: Options, **_):
    """How many times the resolution shrinks from the selection's input to its output (``downsamples by 4``)."""
    first, (last, out) = sel.nodes[0], _last(sel)
    inp = tuple(first.in_shapes[0]) if first.in_shapes else tuple(sel.graph.input_shape)
    if len(inp) < 2 or len(out) < 2:
        raise SpecError(f"{sel.label} does not keep a spatial size from {fmt_shape(inp)} to {fmt_shape(out)}",
                        fix="ask about layers before the global pooling / flatten (`layer: [conv1, layer1]`).")
    factors = [Fraction(a, b) for a, b in zip(inp[1:], out[1:])]
    parts = tuple(Working("downsampling", f, (f"{a} / {b}", wk.num(f)), label=d)
                  for d, f, a, b in zip("HW" if len(factors) == 2 else "HWD", factors, inp[1:], out[1:]))
    note = f"from {fmt_shape(inp)} (the input of {first.id}) to {fmt_shape(out)} (the output of {last.id})"
    if len(set(factors)) == 1:
        f = factors[0]
        return Value(f, Working("downsampling", f, parts[0].sides, note=note, parts=parts, label=sel.label), "number")
    return Value(tuple(factors), Working("downsampling", tuple(factors), (fmt_shape(tuple(factors)),), note=note,
                                         parts=parts, label=sel.label), "spatial")


def stage_channels(sel: Selection, o: Options, **_):
    """The output channels of each top-level block (a VGG or ResNet stage), in order: ``[64, 128, 256, 512, 512]``."""
    groups = sel.graph.groups
    stages, last = [], {}
    for n in sel.nodes:
        top = n.id.split(".")[0]
        if top in groups and "." in n.id:
            if top not in last:
                stages.append(top)
            last[top] = n
    if not stages:
        raise SpecError(f"{sel.label} has no blocks (stages) to list",
                        fix="ask about a model built from blocks (vgg16, resnet50), or ask for `channels` of one layer.")
    vals = tuple(int(last[t].out_shape[0]) for t in stages)
    parts = tuple(Working("channels", v, (wk.num(v),), note=f"{groups[t]}, output {fmt_shape(last[t].out_shape)}",
                          label=t) for t, v in zip(stages, vals))
    w = Working("stage_channels", vals, ("[" + ", ".join(str(v) for v in vals) + "]",),
                note=f"output channels of each of the {len(vals)} blocks, in order", parts=parts, label=sel.label)
    return Value(vals, w, "list")


def _dilated(sel: Selection):
    for n in reversed(sel.nodes):
        if "kernel_size" in n.attrs and "dilation" in n.attrs:
            return n
    raise SpecError(f"{sel.label} has no convolution or pooling layer with a kernel",
                    fix="ask about a convolution, e.g. `conv2d: {in: [3, 32, 32], out_channels: 8, kernel_size: 3, "
                        "dilation: 2}`.")


def _pair(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def effective_kernel_size(sel: Selection, o: Options, **_):
    """A dilated kernel's extent: d·(k − 1) + 1 per dimension."""
    node = _dilated(sel)
    ks = _pair(node.attrs["kernel_size"], len(node.out_shape) - 1)
    ds = _pair(node.attrs["dilation"], len(ks))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ks, ds))
    parts = tuple(Working("effective_kernel_size", e, (f"{d}·({k} − 1) + 1", wk.num(e)), label=lab)
                  for lab, e, k, d in zip("HWD", eff, ks, ds))
    w = Working("effective_kernel_size", eff, (fmt_shape(eff),),
                note=f"kernel {fmt_shape(ks)} with dilation {fmt_shape(ds)}: d·(k − 1) + 1", parts=parts, label=node.id)
    return Value(eff, w, "spatial")


def zero_taps(sel: Selection, o: Options, **_):
    """The positions of a dilated kernel's extent that hold no weight: ∏(d·(k − 1) + 1) − ∏k."""
    node = _dilated(sel)
    eff = effective_kernel_size(sel, o).value
    ks = _pair(node.attrs["kernel_size"], len(eff))
    v = 1
    for e in eff:
        v *= e
    taps = 1
    for k in ks:
        taps *= k
    w = Working("zero_taps", v - taps, (f"{wk.dot(*eff)} − {wk.dot(*ks)}", wk.num(v - taps)),
                note=f"the {fmt_shape(eff)} extent of {node.id}'s dilated kernel less its {taps} weights, per "
                     "input channel and filter", label=node.id)
    return Value(v - taps, w, "number")


def _library_blocks() -> set:
    """The names of the blocks the zoo's block libraries (specs/blocks/) define."""
    global _LIBRARY_BLOCKS
    if _LIBRARY_BLOCKS is None:
        from ..language import specs_dir
        from ..language.yamlload import load_yaml_file

        names = set()
        for p in sorted((specs_dir() / "blocks").glob("*.yaml")):
            try:
                data = load_yaml_file(str(p))
            except SpecError:
                continue
            if isinstance(data, dict) and isinstance(data.get("blocks"), dict):
                names.update(k for k in data["blocks"] if isinstance(k, str))
        _LIBRARY_BLOCKS = names
    return _LIBRARY_BLOCKS


_LIBRARY_BLOCKS = None


def training_bytes(sel: Selection, o: Options, **_):
    _whole(sel, "training_bytes")
    try:
        from ..analysis.training import training_memory
    except ImportError:
        raise SpecError("training_bytes needs archcost.analysis.training, which this archcost does not have",
                        fix="install an archcost with the training-memory estimate (`archcost memory`).") from None
    t = training_memory(sel.graph, batch=o.batch, dtype=o.dtype, optimizer=o.optimizer)
    parts = [Working(k, getattr(t, f"{k}_bytes"), (wk.num(getattr(t, f"{k}_bytes")),), "bytes", label=k.replace("_", " "))
             for k in ("weight", "gradient", "optimizer", "saved_activation")]
    w = Working("training_bytes", t.total_bytes, (" + ".join(p.sides[0] for p in parts), wk.num(t.total_bytes))
                if sum(p.value for p in parts) == t.total_bytes else (wk.num(t.total_bytes),), "bytes",
                f"weights, gradients, {o.optimizer} state and activations saved for backward; batch {o.batch}, {o.dtype}",
                tuple(parts), sel.label)
    return Value(t.total_bytes, w, "number")


def _rf(attr):
    def fn(sel: Selection, o: Options, **_):
        try:
            from ..analysis.receptive import receptive_fields
        except ImportError:
            raise SpecError(f"{attr.replace('size', 'receptive_field')} needs archcost.analysis.receptive, which this "
                            "archcost does not have", fix="install an archcost with receptive fields.") from None
        node = sel.nodes[-1]
        rf = receptive_fields(sel.graph).get(node.id)
        name = "receptive_field" if attr == "size" else "effective_stride"
        if rf is None:
            raise SpecError(f"the output of {node.id} has no finite receptive field (a global pool or a fully "
                            "connected layer sees the whole input)",
                            fix="ask about a convolution or pooling layer (`layer:`) before the global pooling.")
        if getattr(rf, "is_global", False):
            raise SpecError(f"the output of {node.id} sees the whole input: it is, or comes after, an attention "
                            "layer, where every token sees every token, so its receptive field is global, not a size",
                            fix="ask about a layer before the first attention (the patch embedding's field is its "
                                "patch), or ask whether it is global in the question's text.")
        value = tuple(getattr(rf, attr))
        text = fmt_shape(value)
        note = (f"of one output unit of {node.id}, in input pixels; effective stride {fmt_shape(rf.stride)}, "
                f"offset {', '.join(f'{x:g}' for x in rf.offset)}") if attr == "size" else \
            f"input pixels between neighbouring outputs of {node.id}; receptive field {fmt_shape(rf.size)}"
        return Value(value, Working(name, value, (text,), note=note, label=node.id), "spatial")
    return fn


def _whole(sel: Selection, what: str):
    if not sel.whole:
        raise SpecError(f"{what} is a whole-network quantity; it cannot be asked of a layer or a subset of layers",
                        fix="remove `layer:`/`ops:` from the question.")


SUMMARY_TOP = 5
SUMMARY_FROM = 30  # a side with more layers than this is summarised (GoogLeNet's 60-odd, not AlexNet's 8)


def summarised(w: Working, top: int = SUMMARY_TOP) -> Working:
    """A big side of a ratio as its total and its ``top`` largest contributors (the layers or blocks that
    make most of it), instead of every layer: ``--full-working`` keeps the whole tree."""
    leaves = []

    def walk(x):
        if x.parts and len(leaves) < 100_000:
            for p in x.parts:
                walk(p)
        else:
            leaves.append(x)
    walk(w)
    numeric = [x for x in leaves if isinstance(x.value, (int, Fraction)) and not isinstance(x.value, bool)]
    if len(numeric) <= max(top + 1, SUMMARY_FROM) or len(numeric) != len(leaves):
        return w
    ranked = sorted(numeric, key=lambda x: -abs(x.value))
    shown = tuple(Working(x.quantity, x.value, (wk.num(x.value),), x.unit,
                          f"{float(Fraction(x.value) / w.value):.1%} of the total" if w.value else "", (), x.label)
                  for x in ranked[:top])
    rest = sum(Fraction(x.value) for x in ranked[top:])
    others = Working(w.quantity, rest, (wk.num(rest),), w.unit, f"{len(ranked) - top} other layers", (),
                     "the rest")
    note = "; ".join(x for x in (w.note, f"the {top} largest of {len(ranked)} layers shown (--full-working for all)") if x)
    return Working(w.quantity, w.value, (wk.num(w.value),), w.unit, note, (*shown, others), w.label)


def ratio(a: Value, b: Value, kind: str, labels=("of", "to"), *, full: bool = True) -> Value:
    if not isinstance(a.value, (int, Fraction)) or not isinstance(b.value, (int, Fraction)):
        raise SpecError(f"a {kind} needs two numbers, not shapes", fix="compare numeric quantities such as macs or params.")
    if b.value == 0:
        raise SpecError(f"the {kind}'s `{labels[1]}` side is 0", fix="choose a quantity that is not zero there.")
    v = Fraction(a.value) / Fraction(b.value)
    sides = (f"{wk.num(a.value)} / {wk.num(b.value)}", wk.num(v) if v.denominator == 1 else "≈" + wk.dec(v))
    note = f"{float(v):.2%} of the whole" if kind == "fraction" else f"{labels[0]} ÷ {labels[1]}"
    parts = (a.working, b.working) if full else (summarised(a.working), summarised(b.working))
    return Value(v, Working(kind, v, sides, note=note, parts=parts), "number")


QUANTITIES = {q.name: q for q in [
    Quantity("output_shape", "shape", "the output shape (of a layer, or of the last layer of a block/model)",
             output_shape),
    Quantity("params", "number", "parameters (weights + biases; under `keras`, batch-norm moving statistics too)",
             _sum("params"), additive=True),
    Quantity("trainable_params", "number", "parameters that are trained", _sum("trainable_params"), additive=True),
    Quantity("non_trainable_params", "number", "parameters that are not trained (frozen layers; under `keras`, "
             "batch-norm moving mean and variance)", _sum("non_trainable_params"), additive=True),
    Quantity("macs", "number", "multiply-accumulates, as the convention counts them", _sum("macs"), additive=True),
    Quantity("flops", "number", "floating-point operations (2 × MACs, or every op's under `full`)", _sum("flops"),
             additive=True),
    Quantity("activation_elems", "number", "output elements (a layer's; summed over a block or model's layers)",
             _activations("activation_elems"), additive=True),
    Quantity("activation_bytes", "number", "output bytes (a layer's; summed over a block or model's layers)",
             _activations("activation_bytes"), memory=True, additive=True),
    Quantity("weight_bytes", "number", "parameter bytes", _sum("weight_bytes"), memory=True, additive=True),
    Quantity("peak_activation_bytes", "number", "the most activation bytes alive at one time (liveness)",
             peak_activation_bytes, memory=True),
    Quantity("training_bytes", "number", "training memory: weights, gradients, optimizer state, saved activations",
             training_bytes, memory=True),
    Quantity("receptive_field", "spatial", "receptive field size of one output unit, in input pixels", _rf("size")),
    Quantity("effective_stride", "spatial", "input pixels between neighbouring output units", _rf("stride")),
    Quantity("depth", "number", "weight layers (convolutions, fully connected) on the longest path", depth),
    Quantity("count", "number", "how many layers of an op (`op:`) or blocks of a kind (`block:`); "
             "`classifier: false` leaves the classifier out (\"hidden\" layers)", count),
    Quantity("channels", "number", "the channels of a layer's output (C of C×H×W)", channels),
    Quantity("tokens", "number", "the tokens of a layer's N×D output (N), or of a C×H×W map (H·W patches)", tokens),
    Quantity("spatial_size", "spatial", "the spatial size of a layer's output (H×W)", spatial_size),
    Quantity("downsampling", "number", "how many times the resolution shrinks from the selection's input to its "
             "output (`layer: [conv1, layer1]`; 224 → 56 is 4)", downsampling),
    Quantity("stage_channels", "list", "output channels of each top-level block (stage), in order: "
             "[64, 128, 256, 512, 512]", stage_channels),
    Quantity("effective_kernel_size", "spatial", "a dilated kernel's extent, d·(k − 1) + 1 per dimension",
             effective_kernel_size),
    Quantity("zero_taps", "number", "positions of a dilated kernel's extent holding no weight, "
             "∏(d·(k − 1) + 1) − ∏k", zero_taps),
    Quantity("ratio", "number", "`of` ÷ `to`: two subjects or quantities", None),
    Quantity("fraction", "number", "`part` ÷ `whole` (answer as 0.89 or 89%)", None),
]}


def evaluate(sel: Selection, quantity: str, o: Options, **kw) -> Value:
    """Compute ``quantity`` of the selection with its working."""
    q = QUANTITIES[quantity]
    if q.fn is None:
        raise SpecError(f"{quantity} is computed from two sides", fix="use evaluate_question for ratio and fraction.")
    v = q.fn(sel, o, **kw)
    if sel.notes and v.working is not None:
        w = v.working
        v.working = Working(w.quantity, w.value, w.sides, w.unit, "; ".join(x for x in (w.note, *sel.notes) if x),
                            w.parts, w.label)
    return v

