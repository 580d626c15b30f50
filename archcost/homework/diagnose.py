"""Naming the mistake behind a wrong answer.

Each diagnosis recomputes the question's quantity under one alternative assumption — the network
transformed (bias toggled, padding or rounding or stride changed, groups ignored, a depthwise +
pointwise pair made one standard convolution), another convention, dtype, quantity, layout or
selection of layers — and reports it when the student's answer matches that value with the
question's own (rounding-aware) tolerance, and the value differs from the true one.  Only the
unit confusion (MB vs MiB) re-reads the answer instead, because there the student's number is
right and the unit is not.

``DIAGNOSES`` lists them in the order they are reported; each returns Findings (name, message,
value).  The names are stable (they appear in the JSON output).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..analysis import CONVENTIONS, DTYPE_BYTES
from ..errors import ArchcostError
from ..ops import working as wk
from ..ops.base import fmt_shape
from . import transforms as tf
from .grade import judge_answer, judge_number, shape_in
from .parse import Answer
from .quantities import QUANTITIES, Value, evaluate
from .records import Options, Question


@dataclass(frozen=True)
class Finding:
    name: str
    message: str
    value: object = None

    def to_dict(self) -> dict:
        return {"name": self.name, "message": self.message, "value": wk.json_value(self.value)}


def fits(answer: Answer, value, q: Question, kind: str, *, layout: str | None = None) -> bool:
    """Would the answer be right if the true value were ``value``?  (The question's own tolerance.)"""
    if value is None:
        return False
    verdict = judge_answer(kind, answer, value, tolerance=q.tolerance, layout=layout or q.options.layout,
                           batch=q.options.batch)
    return verdict is not None and verdict.right


def explains_better(answer: Answer, value, true, q: Question) -> bool:
    """Does the mistake's ``value`` explain the answer better than rounding does?  The answer must be
    closer to the mistake's value than to the true one by a clear margin: half the tolerance's width
    (the relative tolerance, or the answer's own half-step relative to it; a tenth for an exact
    claim).  Under ``tolerance: 10%`` an answer 2% from a mistake and 3% from the truth is only a
    loose answer, not that mistake.  Shapes and exact claims are either equal or not: always true."""
    if answer.kind not in ("number", "fraction") or isinstance(value, tuple) or isinstance(true, tuple):
        return True
    a, value, true = Fraction(answer.written().value if answer.inverse else answer.value), Fraction(value), Fraction(true)
    if answer.inverse and value and true:
        value, true = 1 / value, 1 / true
    if not a:
        return True
    d_alt, d_true = abs(a - value) / abs(a), abs(a - true) / abs(a)
    if q.tolerance.kind == "relative":
        width = q.tolerance.amount
    elif q.tolerance.kind == "rounding" and answer.step:
        width = answer.step / 2 / abs(a)
    else:
        width = Fraction(0)
    return d_alt < d_true and d_true - d_alt >= width / 2


@dataclass
class Context:
    q: Question
    sel: object  # Selection, or None for ratio/fraction
    expected: Value
    answer: Answer
    kw: dict

    def value(self, sel=None, quantity=None, options=None, **kw):
        """The quantity recomputed with something changed; None if it cannot be computed then."""
        sel = sel or self.sel
        if sel is None:
            return None
        try:
            return evaluate(sel, quantity or self.q.quantity, options or self.q.options, **{**self.kw, **kw}).value
        except (ArchcostError, ValueError, KeyError, ZeroDivisionError):
            return None

    def fits(self, value, **kw) -> bool:
        return (value is not None and value != self.expected.value
                and fits(self.answer, value, self.q, self.expected.kind, **kw)
                and explains_better(self.answer, value, self.expected.value, self.q))

    def options(self, **changes) -> Options:
        return Options(**{**self.q.options.__dict__, **changes})

    @property
    def quantity(self) -> str:
        return self.q.quantity


def show(v) -> str:
    if isinstance(v, tuple):
        return fmt_shape(v)
    if isinstance(v, Fraction) and v.denominator != 1:
        return wk.dec(v)
    return wk.num(v)


def _finding(ctx, name, message, value):
    if not ctx.fits(value):
        return []
    text = shape_in(value, ctx.answer.layout or ctx.q.options.layout) if isinstance(value, tuple) else show(value)
    return [Finding(name, f"{message} ({text})", value)]


ADDITIVE = {n for n, q in QUANTITIES.items() if q.additive}
SHAPED = {"output_shape", "macs", "flops", "activation_elems", "activation_bytes", "peak_activation_bytes", "params",
          "trainable_params", "weight_bytes", "training_bytes"}  # quantities that follow from the shapes


# ---------------------------------------------------------------------------- each diagnosis

def flops_vs_macs(ctx):
    if ctx.quantity == "macs":
        out = _finding(ctx, "flops_not_macs", "you counted FLOPs (a multiply and an add per MAC), not "
                       "multiply-accumulates", ctx.value(quantity="flops"))
        if not out and ctx.q.options.convention == "full":
            out = _finding(ctx, "flops_not_macs", "you counted FLOPs (2 per MAC), not MACs",
                           ctx.value(quantity="flops", options=ctx.options(convention="default")))
        return out
    if ctx.quantity == "flops":
        return _finding(ctx, "macs_not_flops", "you gave MACs; FLOPs count a multiply and an add for each",
                        ctx.value(quantity="macs"))
    return []


def bias(ctx):
    if ctx.quantity not in ("params", "trainable_params", "weight_bytes", "flops", "non_trainable_params"):
        return []
    out = []
    sel = tf.without_bias(ctx.sel) if ctx.sel else None
    if sel:
        out += _finding(ctx, "forgot_bias", "you left out the biases (one per output channel)", ctx.value(sel=sel))
    sel = tf.with_bias(ctx.sel) if ctx.sel else None
    if sel:
        out += _finding(ctx, "added_bias", "you added a bias to layers that have none (bias: false, usually "
                        "because batch norm follows)", ctx.value(sel=sel))
    return out


def bn_running_stats(ctx):
    if ctx.quantity not in ("params", "non_trainable_params", "weight_bytes", "trainable_params") or ctx.sel is None:
        return []
    keras = CONVENTIONS[ctx.q.options.convention].params_rule == "keras"
    if keras:
        return _finding(ctx, "bn_stats_left_out", "you left out batch norm's moving mean and variance, which "
                        "Keras' summary() counts as non-trainable parameters (torch calls them buffers)",
                        ctx.value(options=ctx.options(convention="default")))
    return _finding(ctx, "bn_stats_counted", "you counted batch norm's moving mean and variance as parameters, "
                    "as Keras' summary() does; torch calls them buffers, not parameters",
                    ctx.value(options=ctx.options(convention="keras")))


def layout(ctx):
    if ctx.expected.kind != "shape" or ctx.answer.kind != "shape" or len(ctx.expected.value) != 3:
        return []
    lay = ctx.answer.layout or ctx.q.options.layout
    other = "chw" if lay == "hwc" else "hwc"
    if ctx.answer.layout is None and fits(ctx.answer, ctx.expected.value, ctx.q, "shape", layout=other):
        if other == "hwc":
            return [Finding("hwc_order", "you wrote H×W×C; this question asks for C×H×W (layout: chw, as torch "
                            f"writes it): {show(ctx.expected.value)}", ctx.expected.value)]
        c, h, w = ctx.expected.value
        return [Finding("chw_order", f"you wrote C×H×W; this question asks for H×W×C (layout: hwc): {h}×{w}×{c}",
                        ctx.expected.value)]
    return []


def padding_stride(ctx):
    if ctx.quantity not in SHAPED or ctx.sel is None:
        return []
    out = []
    for name, fn, msg in (
            ("ceil_not_floor", tf.ceil_everywhere, "you rounded the output size up (⌈⌉) where it rounds down"),
            ("floor_not_ceil", tf.floor_everywhere, "you rounded the output size down where ceil_mode rounds it up"),
            ("ignored_padding", tf.valid_padding, "you ignored the padding (as if 'valid')"),
            ("same_padding", tf.same_padding, "you assumed 'same' padding (output size ⌈n / stride⌉)"),
            ("ignored_stride", tf.no_stride, "you left out the stride")):
        sel = fn(ctx.sel)
        if sel is not None:
            out += _finding(ctx, name, msg, ctx.value(sel=sel))
    return out


def off_by_one(ctx):
    if ctx.quantity != "output_shape" or len(ctx.expected.value) < 2:
        return []
    c, *sp = ctx.expected.value
    out = []
    for delta, name, msg in ((-1, "off_by_one_low", "off by one: you left out the + 1 in (n − k + 2p)/s + 1"),
                             (1, "off_by_one_high", "off by one: one more than (n − k + 2p)/s + 1")):
        alt = (c, *(d + delta for d in sp))
        if all(d >= 1 for d in alt):
            out += _finding(ctx, name, msg, alt)
    return out


def depthwise_split(ctx):
    if ctx.quantity not in ("params", "macs", "flops", "weight_bytes", "trainable_params") or ctx.sel is None:
        return []
    if not any(tf.is_depthwise(n) or (n.op in tf.CONVS and n.attrs["groups"] > 1) for n in ctx.sel.nodes):
        return []
    out = []
    sel = tf.separable_as_standard(ctx.sel)
    if sel:
        out += _finding(ctx, "separable_as_standard", "you computed one standard k×k convolution instead of the "
                        "depthwise + pointwise pair", ctx.value(sel=sel))
    sel = tf.groups_ignored(ctx.sel)
    if sel:
        grouped = [n for n in ctx.sel.nodes if n.op in tf.CONVS and n.attrs["groups"] > 1]
        kind = "depthwise" if all(tf.is_depthwise(n) for n in grouped) else \
            f"grouped (groups={', '.join(sorted({str(n.attrs['groups']) for n in grouped}))})"
        out += _finding(ctx, "groups_ignored", f"you treated the {kind} convolution as a standard one, each filter "
                        "seeing every input channel", ctx.value(sel=sel))
    for name, pick, msg in (("only_depthwise", tf.is_depthwise, "you counted only the depthwise part"),
                            ("only_pointwise", tf.is_pointwise, "you counted only the pointwise (1×1) part")):
        sel = tf.only(ctx.sel, pick)
        if sel:
            out += _finding(ctx, name, msg, ctx.value(sel=sel))
    return out


def bytes_vs_elements(ctx):
    b = DTYPE_BYTES[ctx.q.options.dtype]
    pairs = {"activation_bytes": ("activation_elems", "elements_not_bytes", "you gave elements; the question asks "
                                  f"for bytes ({b} per {ctx.q.options.dtype} value)"),
             "activation_elems": ("activation_bytes", "bytes_not_elements", "you gave bytes; the question asks for "
                                  "elements (values)"),
             "weight_bytes": ("params", "params_not_bytes", f"you gave the parameter count; the question asks for "
                              f"bytes ({b} per {ctx.q.options.dtype} value)"),
             "params": ("weight_bytes", "bytes_not_params", "you gave bytes; the question asks for the parameter count")}
    if ctx.quantity in pairs:
        other, name, msg = pairs[ctx.quantity]
        return _finding(ctx, name, msg, ctx.value(quantity=other))
    if ctx.quantity == "peak_activation_bytes" and ctx.expected.value % b == 0:
        return _finding(ctx, "elements_not_bytes", f"you gave the peak in elements; × {b} bytes per value",
                        ctx.expected.value // b)
    return []


def mb_vs_mib(ctx):
    a = ctx.answer
    if a.memory is None or a.memory[0] == 0 or not QUANTITIES[ctx.quantity].memory:
        return []
    power, binary = a.memory
    alt = a.reinterpreted(not binary)
    if not judge_number(alt, ctx.expected.value, ctx.q.tolerance).right:
        return []

    def size(b):
        return f"2^{10 * power}" if b else f"10^{3 * power}"
    name = "mb_written_as_mib" if binary else "mib_written_as_mb"
    return [Finding(name, f"your number is right in {alt.unit} ({size(not binary)} bytes), but you wrote {a.unit} "
                    f"({size(binary)} bytes)", ctx.expected.value)]


def dtype(ctx):
    if not QUANTITIES[ctx.quantity].memory or ctx.sel is None:
        return []
    have = DTYPE_BYTES[ctx.q.options.dtype]
    out, seen = [], {have}
    for name in ("float16", "float32", "float64"):  # int8's 1 byte would read as "elements, not bytes"
        b = DTYPE_BYTES[name]
        if b in seen:
            continue
        seen.add(b)
        out += _finding(ctx, f"dtype_{name}", f"you used {b} byte{'s' if b > 1 else ''} per value ({name}); the "
                        f"question is {ctx.q.options.dtype} ({have} bytes)",
                        ctx.value(options=ctx.options(dtype=name)))
    return out


def sum_not_peak(ctx):
    if ctx.quantity != "peak_activation_bytes" or ctx.sel is None:
        return []
    out = []
    for inc in (False, True):
        v = ctx.value(quantity="activation_bytes", options=ctx.options(include_input=inc))
        out += _finding(ctx, "sum_not_peak", "you summed every layer's output" + (" and the input" if inc else "")
                        + " instead of taking the peak of what is alive at one time", v)
    return out[:1]


def only_last_layer(ctx):
    if ctx.quantity not in ADDITIVE or ctx.sel is None or len(ctx.sel.nodes) < 2:
        return []
    from .subjects import Selection

    for n in reversed(ctx.sel.nodes):
        sel = Selection(ctx.sel.graph, [n], n.id, False, [], ctx.sel.region)
        v = ctx.value(sel=sel, include_input=False)
        if v:
            return _finding(ctx, "only_last_layer", f"you counted only the last layer ({n.id})", v)
    return []


def input_included(ctx):
    if ctx.quantity not in ("activation_elems", "activation_bytes") or ctx.sel is None:
        return []
    inc = ctx.q.options.include_input
    name, msg = ("input_left_out", "you left out the input tensor") if inc else \
        ("input_included", "you counted the input tensor too")
    return _finding(ctx, name, msg, ctx.value(options=ctx.options(include_input=not inc)))


def batch(ctx):
    if ctx.q.options.batch == 1 or ctx.sel is None or ctx.quantity in ("params", "trainable_params",
                                                                         "non_trainable_params", "weight_bytes"):
        return []
    return _finding(ctx, "batch_left_out", f"you computed one image; the batch is {ctx.q.options.batch}",
                    ctx.value(options=ctx.options(batch=1)))


def trainable_vs_all(ctx):
    if ctx.quantity == "trainable_params":
        return _finding(ctx, "all_not_trainable", "you counted every parameter; the question asks for trainable ones",
                        ctx.value(quantity="params"))
    if ctx.quantity == "params":
        return _finding(ctx, "trainable_not_all", "you counted only trainable parameters",
                        ctx.value(quantity="trainable_params"))
    return []


def inverted(ctx):
    if ctx.quantity not in ("ratio", "fraction") or not ctx.expected.value:
        return []
    out = _finding(ctx, "inverted", "you inverted it (the second over the first)", 1 / ctx.expected.value)
    if ctx.quantity == "fraction":
        out += _finding(ctx, "complement", "you gave the rest (1 − the fraction)", 1 - ctx.expected.value)
    return out


def _attention_nodes(ctx):
    from ..ops import OPS

    return [n for n in ctx.sel.nodes if OPS[n.op].kind_of(n.attrs) == "attention"] if ctx.sel else []


def attention(ctx):
    """Attention's usual mistakes: the QKᵀ and A·V matmuls left out (only the projections counted), the MACs a
    peer prints under ``no_grad`` (nn.MultiheadAttention's fused kernel unseen), a D×D projection per head."""
    from ..ops import OPS

    nodes = _attention_nodes(ctx)
    if not nodes:
        return []
    out = []
    if ctx.quantity in ("macs", "flops") and CONVENTIONS[ctx.q.options.convention].name in ("default", "full"):
        attn = 0
        for n in nodes:
            c = OPS[n.op].costs(n.attrs, list(n.in_shapes), n.out_shape)
            attn += c.get("attention_macs", c.get("macs", 0))
        per = 2 if ctx.quantity == "flops" else 1
        if attn and isinstance(ctx.expected.value, int):
            out += _finding(ctx, "attention_matmuls_left_out", "you counted the projections but not attention's "
                            "QKᵀ and A·V matmuls (2·N²·D per layer)", ctx.expected.value - per * attn * ctx.q.options.batch)
        out += _finding(ctx, "fused_attention_unseen", "that is what FlopCounterMode (and fvcore) print on the model "
                        "in eval under no_grad: nn.MultiheadAttention runs a fused kernel they cannot see",
                        ctx.value(options=ctx.options(convention="torch")))
    if ctx.quantity in ("params", "trainable_params", "weight_bytes"):
        extra = 0
        for n in nodes:
            if n.op == "multi_head_attention":
                p = OPS[n.op].params(n.attrs, list(n.in_shapes))
                extra += (n.attrs["num_heads"] - 1) * (p.weight + p.bias)
        if extra and isinstance(ctx.expected.value, int):
            per = 4 if ctx.quantity == "weight_bytes" else 1  # float32 only: a rough match is enough here
            out += _finding(ctx, "projections_per_head", "you gave every head its own D×D projections; the heads "
                            "split D, so the projections are D×D in all, whatever the number of heads",
                            ctx.expected.value + per * extra)
    return out


def class_token(ctx):
    if ctx.quantity != "tokens" or ctx.sel is None:
        return []
    last = ctx.sel.nodes[-1]
    order = {n.id: i for i, n in enumerate(ctx.sel.graph.nodes)}
    if not any(n.op == "class_token" and order[n.id] <= order[last.id] for n in ctx.sel.graph.nodes):
        return []
    return _finding(ctx, "class_token_left_out", "you left out the class token (one learned token in front of "
                    "the patches)", ctx.expected.value - 1)


DIAGNOSES = [flops_vs_macs, attention, class_token, bias, bn_running_stats, layout, padding_stride, off_by_one, depthwise_split,
             bytes_vs_elements, mb_vs_mib, dtype, sum_not_peak, only_last_layer, input_included, batch,
             trainable_vs_all, inverted]


def diagnose(ctx: Context) -> list:
    """Every diagnosis that explains the answer, in DIAGNOSES order, without repeating a value's name."""
    out, names = [], set()
    for fn in DIAGNOSES:
        for f in fn(ctx):
            if f.name not in names:
                names.add(f.name)
                out.append(f)
    return out
