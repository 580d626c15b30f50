"""Attention: batched matrix multiply, scaled dot-product attention and multi-head attention.

Inputs are token tensors without the batch: ``N×D`` (tokens × channels) for
``multi_head_attention``; ``H×N×E`` (heads × tokens × channels per head) for
``scaled_dot_product_attention``'s query, key and value.

MACs of attention on N query and S key tokens, per head of E channels: QKᵀ is N·S·E and A·V is
N·S·E_v, so 2·N²·E per head when S = N and E_v = E (2·N²·D over all heads).  The softmax
(3 FLOPs per score: exp, sum, divide) and the 1/√E scaling of the queries are arithmetic of
the ``full`` preset only.

What the tools see (torch 2.14.1, in eval, under ``no_grad``, on CPU): ``nn.MultiheadAttention``
takes a fused kernel (``torch._native_multi_head_attention``) when its heads are even, it has
biases and query is key is value; fvcore and ``FlopCounterMode`` then count nothing of it.
Otherwise (the slow path) they count its projections (``linear``: 4·N·D²) but not the
``scaled_dot_product_attention`` in the middle, which neither has a rule for on CPU.  The cost
key ``flop_counter`` holds ``FlopCounterMode``'s count (÷ 2) where it differs from ``macs``.
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from . import saves as sv
from . import working as wk
from .base import FORM, TRAINABLE, Attr, OpDef, Params, RFRule, fmt_shape, register, torch_module

_GLOBAL = RFRule("global")  # every token sees every token: the whole input


_tm = torch_module  # lower to archcost._torch_modules.<name>


# ---- matmul -------------------------------------------------------------------------------------

def _matmul_shape(a, ins):
    x, y = ins
    if len(x) < 2 or len(y) < 2:
        raise ShapeError(f"matmul needs two inputs of at least 2 dimensions (without the batch), got "
                         f"{fmt_shape(x)} and {fmt_shape(y)}", fix="multiply ...×n×k by ...×k×m tensors.")
    if x[-1] != y[-2]:
        raise ShapeError(f"cannot multiply {fmt_shape(x)} by {fmt_shape(y)}: {x[-1]} ≠ {y[-2]}",
                         fix="the first input's last size must equal the second's next-to-last (transpose one).")
    bx, by = x[:-2], y[:-2]
    if len(bx) != len(by) or any(p != q and 1 not in (p, q) for p, q in zip(bx, by)):
        raise ShapeError(f"matmul batch dimensions {fmt_shape(bx) or '()'} and {fmt_shape(by) or '()'} do not broadcast",
                         fix="give both inputs the same leading dimensions.")
    return (*(max(p, q) for p, q in zip(bx, by)), x[-2], y[-1])


def _matmul_costs(a, ins, out):
    macs = prod(out) * ins[0][-1]
    return {"macs": macs, "fvcore": macs}


def _matmul_explain(a, ins, out):
    macs = wk.product("macs", [((ins[0][-1],), "multiplies per output"), (out, "outputs")], unit="MACs")
    return {"output_shape": wk.shape_working(out, note="…×n×k · …×k×m = …×n×m"), "macs": macs,
            "fvcore": wk.Working("fvcore", macs.value, macs.sides, unit="MACs", note="fvcore counts the MACs")}


def _matmul_saves(a, ins, out, rg):
    # the gradient of each input needs the other.  archcost tracks no strides: an operand torch cannot view
    # as batch × n × k (a transposed, batched one) is saved as the contiguous copy torch makes instead
    return ([("input 0", sv.in_(0))] if rg[1] else []) + ([("input 1", sv.in_(1))] if rg[0] else [])


register(OpDef(
    name="matmul", attrs=(FORM,), shape=_matmul_shape, costs=_matmul_costs, explain=_matmul_explain, arity=2,
    lower=_tm("MatMul"), family="linear", torch_name="torch.matmul",
    doc="batched matrix product of two inputs (`from: [a, b]`): …×n×k · …×k×m.",
    category="macs", kind="linear", saves=_matmul_saves, rf=RFRule("product"), latency_class="matmul"))


# ---- scaled_dot_product_attention ---------------------------------------------------------------

def _sdpa_prepare(a, ins):
    if len(ins) != 3:
        raise ShapeError(f"scaled_dot_product_attention takes query, key and value (`from: [q, k, v]`), got {len(ins)}",
                         fix="write `- {scaled_dot_product_attention: {}, from: [q, k, v]}`.")
    q, k, v = ins
    if not (len(q) == len(k) == len(v) >= 2):
        raise ShapeError(f"query, key and value must have the same rank ≥ 2, got {fmt_shape(q)}, {fmt_shape(k)}, "
                         f"{fmt_shape(v)}", fix="shape them heads×tokens×channels.")
    if q[:-2] != k[:-2] or k[:-2] != v[:-2] or q[-1] != k[-1] or k[-2] != v[-2]:
        raise ShapeError(f"query {fmt_shape(q)}, key {fmt_shape(k)} and value {fmt_shape(v)} do not fit: query and key "
                         "need the same channels, key and value the same tokens",
                         fix="shape them H×N×E, H×S×E and H×S×Ev.")
    if not 0 <= a["dropout_p"] <= 1:
        raise ShapeError(f"dropout_p={a['dropout_p']} is outside [0, 1]", fix="use 0 (torchvision's models do).")
    return a


def _sdpa_parts(a, ins):
    """(heads and other leading dims, N, S, E, Ev)."""
    q, k, v = ins
    return prod(q[:-2]), q[-2], k[-2], q[-1], v[-1]


def _sdpa_costs(a, ins, out):
    h, n, s, e, ev = _sdpa_parts(a, ins)
    macs = h * n * s * (e + ev)
    # FlopCounterMode counts sdpa only through the CUDA kernels' formulas; on CPU it sees nothing
    return {"macs": macs, "act_flops": 3 * h * n * s, "eltwise_flops": h * n * e, "fvcore": 0, "flop_counter": 0}


def _sdpa_explain(a, ins, out):
    h, n, s, e, ev = _sdpa_parts(a, ins)
    qk = wk.product("QKᵀ", [((e,), "multiplies per score"), ((h, n, s), "scores")], unit="MACs")
    av = wk.product("A·V", [((s,), "multiplies per output"), ((h, n, ev), "outputs")], unit="MACs")
    macs = wk.total("macs", [wk.Working(w.quantity, w.value, w.sides, unit=w.unit, label=w.quantity) for w in (qk, av)],
                    unit="MACs", note="QKᵀ + A·V" + (" = 2·N²·E per head" if n == s and e == ev else ""))
    return {"output_shape": wk.shape_working(out, note="heads × query tokens × value channels"), "macs": macs,
            "act_flops": wk.product("act_flops", [((h, n, s), "scores"), ((3,), "per score")], unit="FLOPs",
                                    note="softmax: exp, sum, divide"),
            "eltwise_flops": wk.product("eltwise_flops", [((h, n, e), "query elements")], unit="FLOPs",
                                        note="the 1/√E scaling of the queries")}


def _sdpa_saves(a, ins, out, rg):
    # CPU and CUDA's flash kernels save q, k, v, the output and a log-sum-exp per query row (fp32); a
    # non-contiguous (transposed) input is saved as the contiguous copy torch makes (no strides tracked)
    h, n, s, e, ev = _sdpa_parts(a, ins)
    return [("query", sv.in_(0)), ("key", sv.in_(1)), ("value", sv.in_(2)), ("output", sv.OUT),
            ("log-sum-exp", sv.new(h * n, sv.STAT))]


register(OpDef(
    name="scaled_dot_product_attention",
    attrs=(Attr("is_causal", "bool", False, doc="mask out keys after each query (decoder attention)"),
           Attr("dropout_p", "float", 0.0, doc="attention dropout (training only)"),
           Attr("scale", "any", None, doc="default 1/√E")),
    prepare=_sdpa_prepare, shape=lambda a, ins: (*ins[0][:-1], ins[2][-1]), costs=_sdpa_costs,
    explain=_sdpa_explain, arity=3, lower=_tm("SDPA"), family="linear",
    torch_name="F.scaled_dot_product_attention",
    doc="softmax(Q·Kᵀ/√E)·V over query, key, value (`from: [q, k, v]`), each H×N×E; "
        "MACs 2·N²·E per head (a causal mask computes them all too).",
    category="attention", kind="attention", saves=_sdpa_saves, rf=_GLOBAL, latency_class="attention",
    latency_features=lambda a, ins, out: {"scores": _sdpa_parts(a, ins)[0] * ins[0][-2] * ins[1][-2]}))


# ---- multi_head_attention -----------------------------------------------------------------------

def _mha_prepare(a, ins):
    d = ins[0][-1]
    h = a["num_heads"]
    if d % h:
        raise ShapeError(f"num_heads={h} does not divide the embedding size {d}",
                         fix=f"choose num_heads among the divisors of {d}.")
    if not 0 <= a["dropout"] <= 1:
        raise ShapeError(f"dropout={a['dropout']} is outside [0, 1]", fix="use 0 <= dropout <= 1.")
    return a


def _mha_params(a, ins):
    d = ins[0][-1]
    return Params(weight=4 * d * d, bias=4 * d if a["bias"] else 0, frozen=not a["trainable"])


def fast_path(a, ins) -> bool:
    """Whether nn.MultiheadAttention takes its fused kernel in eval under no_grad (self-attention,
    batch_first, with biases, an even number of heads)."""
    return a["bias"] and a["num_heads"] % 2 == 0


def _mha_costs(a, ins, out):
    n, d = ins[0]
    proj = 4 * n * d * d  # q, k, v in-projection 3·N·D², out-projection N·D²
    attn = 2 * n * n * d  # QKᵀ and A·V over all heads
    seen = 0 if fast_path(a, ins) else proj  # the slow path's linear calls; sdpa unseen on CPU
    return {"macs": proj + attn, "attention_macs": attn, "bias_flops": 4 * n * d if a["bias"] else 0,
            "act_flops": 3 * a["num_heads"] * n * n, "eltwise_flops": n * d, "fvcore": seen, "flop_counter": seen}


def _mha_explain(a, ins, out):
    n, d = ins[0]
    h = a["num_heads"]
    e = d // h
    p = _mha_params(a, ins)
    res = {"output_shape": wk.shape_working(out, note="same as the input (tokens × embedding)")}
    if p.bias:
        res["params"] = wk.Working("params", p.weight + p.bias,
                                   (f"(3·{wk.num(d)}·{wk.num(d)} + 3·{wk.num(d)}) + ({wk.num(d)}·{wk.num(d)} + {wk.num(d)})",
                                    f"{wk.num(3 * d * d + 3 * d)} + {wk.num(d * d + d)}", wk.num(p.weight + p.bias)),
                                   note="in-projection W_q, W_k, W_v (3·D² + 3·D) + out-projection (D² + D)")
    else:
        res["params"] = wk.Working("params", p.weight, (f"4·{wk.num(d)}·{wk.num(d)}", wk.num(p.weight)),
                                   note="in-projection 3·D² + out-projection D², no bias")
    parts = [
        wk.product("Q, K, V projections", [((d,), "multiplies per output"), ((n, 3 * d), "outputs")], unit="MACs"),
        wk.product("QKᵀ", [((e,), "multiplies per score"), ((h, n, n), "scores")], unit="MACs"),
        wk.product("A·V", [((n,), "multiplies per output"), ((h, n, e), "outputs")], unit="MACs"),
        wk.product("out projection", [((d,), "multiplies per output"), ((n, d), "outputs")], unit="MACs"),
    ]
    parts = [wk.Working(w.quantity, w.value, w.sides, unit=w.unit, label=w.quantity) for w in parts]
    res["macs"] = wk.total("macs", parts, unit="MACs",
                           note=f"4·N·D² projections + 2·N²·D attention, N = {n} tokens, D = {d}, {h} heads of {e}")
    c = _mha_costs(a, ins, out)
    res["attention_macs"] = wk.total("attention_macs", parts[1:3], unit="MACs", note="QKᵀ + A·V = 2·N²·D")
    if c["bias_flops"]:
        res["bias_flops"] = wk.product("bias_flops", [((n, 4 * d), "outputs")], unit="FLOPs",
                                       note="one bias add per projection output")
    res["act_flops"] = wk.product("act_flops", [((h, n, n), "scores"), ((3,), "per score")], unit="FLOPs",
                                  note="softmax: exp, sum, divide")
    res["eltwise_flops"] = wk.product("eltwise_flops", [((n, d), "query elements")], unit="FLOPs",
                                      note="the 1/√E scaling of the queries")
    if c["fvcore"]:
        seen = wk.product("fvcore", [((4, n, d, d), "")], unit="MACs",
                          note="slow path (odd heads or no bias): fvcore sees the 4 projections, not the sdpa")
        res["fvcore"] = seen
        res["flop_counter"] = wk.Working("flop_counter", seen.value, seen.sides, unit="MACs",
                                         note="FlopCounterMode ÷ 2: the same projections, no sdpa rule on CPU")
    return res


def _mha_saves(a, ins, out, rg):
    """Training takes the slow path (measured with saved_tensors_hooks, torch 2.14.1, CPU): the input (for
    the in-projection), q, k, v in one tensor, the attention output and sdpa's log-sum-exp per query and
    head (fp32).  With attention dropout sdpa runs its math form instead: q and kᵀ again, the softmax
    output, the dropout mask and the dropped weights (h·N² each), and the output re-laid out."""
    n, d = ins[0]
    h = a["num_heads"]
    if a["dropout"] > 0:
        return [("input", sv.in_(0)), ("q, k, v", sv.new(3 * n * d)), ("scaled q and kᵀ", sv.new(2 * n * d)),
                ("attention weights and dropped weights", sv.new(2 * h * n * n)),
                ("dropout mask", sv.new(h * n * n, sv.MASK)), ("attention output", sv.new(n * d))]
    return [("input", sv.in_(0)), ("q, k, v", sv.new(3 * n * d)), ("attention output", sv.new(n * d)),
            ("log-sum-exp", sv.new(h * n, sv.STAT))]


register(OpDef(
    name="multi_head_attention",
    attrs=(Attr("num_heads", "int", min=1), Attr("dropout", "float", 0.0, doc="attention dropout (training only)"),
           Attr("bias", "bool", True), TRAINABLE),
    prepare=_mha_prepare, shape=lambda a, ins: ins[0], params=_mha_params, costs=_mha_costs, explain=_mha_explain,
    lower=_tm("SelfAttention"), in_rank=(2,), family="linear", torch_name="nn.MultiheadAttention",
    doc="self-attention over N×D tokens as nn.MultiheadAttention(D, num_heads, batch_first=True): "
        "in-projection 3·D² + 3·D, out-projection D² + D; MACs 4·N·D² + 2·N²·D.",
    category="attention", kind="attention", saves=_mha_saves, rf=_GLOBAL, latency_class="attention",
    latency_features=lambda a, ins, out: {"scores": a["num_heads"] * ins[0][0] * ins[0][0]}))
