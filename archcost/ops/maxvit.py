"""MaxViT's multi-axis attention (torchvision.models.maxvit): window and grid partitions of a feature map
into groups of tokens, and multi-head self-attention with a relative-position bias inside each group.

torchvision's ``PartitionAttentionLayer(partition_size=s, partition_type=...)`` cuts a C×H×W map into
p×p windows (``WindowPartition``): p = s for a *window* (block) partition, whose groups are the windows;
p = H / s for a *grid* partition, which then swaps windows and positions (``SwapAxes(-2, -3)``), so that
each group takes the token at one position of every window — an s×s grid dilated by H / s.  Either way
every group holds s² tokens.  Here the groups are flattened into tokens (N = H·W tokens × C, groups of
s² consecutive tokens, the layout of ViT's tokens), so layer norms and linears apply as to any tokens;
``window_departition`` restores the map.  The partitions copy (a reshape of a permuted tensor): no
arithmetic, no parameters, nothing saved for backward.

``relative_position_attention`` is torchvision's ``RelativePositionalMultiHeadAttention(D, head_dim, s²)``
on each group of T = s² tokens, H = D / head_dim heads of E = head_dim: ``to_qkv`` (a D → 3D linear),
k scaled by D^-½ (torchvision's choice: the feature size, not the head size), QKᵀ per head plus a learned
bias per head and relative offset (``relative_position_bias_table``, (2s − 1)² × H, gathered through the
``relative_position_index`` buffer, T × T), softmax, A·V, heads merged, ``merge`` (a D → D linear).
MACs 4·N·D² (projections) + 2·N·T·D (QKᵀ and A·V, = 2·T²·D per group).

What the tools see on it (torch 2.14.1, eval, no_grad): fvcore counts both linears and both
``torch.einsum`` calls (its einsum handle): all of the MACs; so does ``FlopCounterMode`` (einsum runs
as ``bmm``).  The module-hook tools have no rule for the class and count its children: ptflops the two
linears with their biases and the softmax (it patches ``F.softmax``), not the einsums; thop the linears
without bias, and not the bias table among its params; torchinfo the linears' weights and biases once
per sample.  Their rules are in :mod:`archcost.analysis.peers` under the class name.

Receptive fields: a partition re-orders the map's units (``reshape``: the same fields, in another
order); the attention mixes its input (``dense``: a window attention's output really sees only its
window, which archcost over-states until a grid attention or a squeeze-excitation gate — in MaxViT
the MBConv before it — has made every unit see the whole input anyway).
"""

from __future__ import annotations

from ..errors import ShapeError
from . import saves as sv
from . import working as wk
from .base import TRAINABLE, Attr, OpDef, Params, RFRule, fmt_shape, register, torch_module

_RESHAPE = RFRule("reshape")

_PARTITION_ATTRS = (
    Attr("partition_size", "int", min=1, doc="s: each group holds s×s tokens (torchvision's partition_size)"),
    Attr("partition_type", "str", "window", choices=("window", "grid"),
         doc="window: s×s blocks; grid: an s×s grid dilated by H / s (one token of every H/s × W/s window)"),
)


_tm = torch_module  # lower to archcost._torch_modules.<name>


def _window(a, h, w):
    """p, the side of torchvision's WindowPartition windows on an h×w map, checked: each group holds s² tokens."""
    s, grid = a["partition_size"], a["partition_type"] == "grid"
    p = h // s if grid else s
    bad = (p < 1 or h % p or w % p or (h // p) * (w // p) != s * s) if grid else (h % s or w % s)
    if bad:
        what = (f"a grid of {s}×{s} needs an H×W map with H = W a multiple of {s}" if grid
                else f"{s}×{s} windows need H and W multiples of {s}")
        raise ShapeError(f"{a['partition_type']} partition_size={s} does not fit a {h}×{w} map: {what}",
                         fix=f"use a partition_size that divides the map (torchvision's MaxViT: 7 on 56, 28, 14, 7).")
    return p


def _groups_working(a, h, w, tokens):
    s = a["partition_size"]
    p = _window(a, h, w)
    how = (f"{p}×{p} windows, each one s×s group" if a["partition_type"] == "window"
           else f"{p}×{p} windows of {h // p}×{w // p}, swapped: {p * p} groups of one token per window")
    return wk.Working("tokens", tokens, (f"{wk.num(h)}·{wk.num(w)}", wk.num(tokens)), label="tokens",
                      note=f"H·W tokens in {wk.num(tokens // (s * s))} groups of {s}·{s} ({how})")


# ---- window_partition ---------------------------------------------------------------------------

def _partition_prepare(a, ins):
    _window(a, ins[0][1], ins[0][2])
    return a


def _partition_explain(a, ins, out):
    c, h, w = ins[0]
    return {"output_shape": wk.shape_working(out, [_groups_working(a, h, w, out[0]),
                                                   wk.same("C", c, "channels, now last")],
                                             note="a copy in another order: no arithmetic")}


register(OpDef(
    name="window_partition", attrs=_PARTITION_ATTRS, prepare=_partition_prepare,
    shape=lambda a, ins: (ins[0][1] * ins[0][2], ins[0][0]), explain=_partition_explain,
    lower=_tm("WindowPartition"), in_rank=(3,), family="other", torch_name="maxvit.WindowPartition",
    doc="C×H×W → (H·W)×C tokens in groups of s² (MaxViT's window or grid partition; a copy).",
    category="other", kind="other", saves=sv.nothing, rf=_RESHAPE, latency_class="channel_shuffle"))


# ---- window_departition -------------------------------------------------------------------------

def _departition_prepare(a, ins):
    size = a["output_size"]
    size = [size, size] if isinstance(size, int) else size
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(x, int) and x >= 1 for x in size)):
        raise ShapeError(f"output_size must be the map's [H, W], got {size!r}", fix="write e.g. `output_size: [h, w]`.")
    n = ins[0][0]
    if size[0] * size[1] != n:
        raise ShapeError(f"output_size {size[0]}×{size[1]} does not hold the {n} tokens of input {fmt_shape(ins[0])}",
                         fix="give the H and W of the map the tokens were partitioned from.")
    _window(a, *size)
    return {**a, "output_size": size}


def _departition_explain(a, ins, out):
    n, c = ins[0]
    h, w = a["output_size"]
    return {"output_shape": wk.shape_working(out, [wk.same("C", c, "channels, first again"),
                                                   wk.same("H", h, "output_size"), wk.same("W", w, "output_size")],
                                             note=f"{wk.num(n)} tokens back in map order: a copy, no arithmetic")}


register(OpDef(
    name="window_departition", attrs=(*_PARTITION_ATTRS, Attr("output_size", "ints", doc="[H, W] of the map")),
    prepare=_departition_prepare, shape=lambda a, ins: (ins[0][1], *a["output_size"]), explain=_departition_explain,
    lower=_tm("WindowDepartition"), in_rank=(2,), family="other",
    torch_name="maxvit.WindowDepartition",
    doc="(H·W)×C tokens in groups of s² → C×H×W, the inverse of window_partition (a copy).",
    category="other", kind="other", saves=sv.nothing, rf=_RESHAPE, latency_class="channel_shuffle"))


# ---- relative_position_attention ----------------------------------------------------------------

def _rpa_prepare(a, ins):
    n, d = ins[0]
    e, s = a["head_dim"], a["partition_size"]
    if d % e:
        raise ShapeError(f"head_dim={e} does not divide the embedding size {d}",
                         fix=f"choose head_dim among the divisors of {d}.")
    if n % (s * s):
        raise ShapeError(f"{n} tokens do not split into groups of partition_size² = {s * s}",
                         fix="partition the map first (window_partition) with the same partition_size.")
    return a


def _rpa_parts(a, ins):
    """(N tokens, D, H heads, E per head, s, T tokens per group)."""
    n, d = ins[0]
    e, s = a["head_dim"], a["partition_size"]
    return n, d, d // e, e, s, s * s


def _rpa_params(a, ins):
    n, d, h, e, s, t = _rpa_parts(a, ins)
    table = (2 * s - 1) ** 2 * h
    return Params(weight=4 * d * d + table, bias=4 * d, buffers=t * t, frozen=not a["trainable"], own=table)


def _rpa_costs(a, ins, out):
    n, d, h, e, s, t = _rpa_parts(a, ins)
    macs = 4 * n * d * d + 2 * n * t * d
    return {"macs": macs, "attention_macs": 2 * n * t * d, "bias_flops": 4 * n * d, "act_flops": 3 * n * h * t,
            "eltwise_flops": n * d + n * h * t, "fvcore": macs}


def _rpa_explain(a, ins, out):
    n, d, h, e, s, t = _rpa_parts(a, ins)
    g = n // t
    p = _rpa_params(a, ins)
    res = {"output_shape": wk.shape_working(out, note="same as the input (tokens × embedding)")}
    res["params"] = wk.Working(
        "params", p.weight + p.bias,
        (f"(3·{wk.num(d)}·{wk.num(d)} + 3·{wk.num(d)}) + ({wk.num(d)}·{wk.num(d)} + {wk.num(d)}) + (2·{s} − 1)·(2·{s} − 1)·{h}",
         f"{wk.num(3 * d * d + 3 * d)} + {wk.num(d * d + d)} + {wk.num(p.own)}", wk.num(p.weight + p.bias)),
        note="to_qkv (3·D² + 3·D) + merge (D² + D) + relative_position_bias_table ((2s − 1)² offsets × H heads)")
    res["buffers"] = wk.product("buffers", [((t, t), "")],
                                note="relative_position_index: a table row per query and key token (int64)")
    parts = [
        wk.product("to_qkv", [((d,), "multiplies per output"), ((n, 3 * d), "outputs")], unit="MACs"),
        wk.product("QKᵀ", [((e,), "multiplies per score"), ((g, h, t, t), "scores")], unit="MACs"),
        wk.product("A·V", [((t,), "multiplies per output"), ((g, h, t, e), "outputs")], unit="MACs"),
        wk.product("merge", [((d,), "multiplies per output"), ((n, d), "outputs")], unit="MACs"),
    ]
    parts = [wk.Working(w.quantity, w.value, w.sides, unit=w.unit, label=w.quantity) for w in parts]
    res["macs"] = wk.total("macs", parts, unit="MACs",
                           note=f"4·N·D² projections + 2·N·T·D attention: N = {n} tokens in {g} groups of T = {s}·{s}, "
                                f"D = {d}, {h} heads of {e}")
    res["attention_macs"] = wk.total("attention_macs", parts[1:3], unit="MACs", note="QKᵀ + A·V = 2·N·T·D")
    res["fvcore"] = wk.Working("fvcore", res["macs"].value, res["macs"].sides, unit="MACs",
                               note="fvcore counts the two linears and the two einsums")
    res["bias_flops"] = wk.product("bias_flops", [((n, 4 * d), "outputs")], unit="FLOPs",
                                   note="one bias add per to_qkv and merge output")
    res["act_flops"] = wk.product("act_flops", [((g, h, t, t), "scores"), ((3,), "per score")], unit="FLOPs",
                                  note="softmax: exp, sum, divide")
    res["eltwise_flops"] = wk.total("eltwise_flops", [
        wk.product("k scaling", [((n, d), "key elements")], unit="FLOPs"),
        wk.product("bias add", [((g, h, t, t), "scores")], unit="FLOPs")], unit="FLOPs",
        note="k × D^-½, then the relative-position bias added to every score")
    return res


def _rpa_saves(a, ins, out, rg):
    """Measured with saved_tensors_hooks (torch 2.14.1, CPU): the input (for to_qkv), q, the scaled k and v as
    the contiguous copies the batched products take, the softmax output (once, for its own backward and
    A·V's) and the merged heads (for merge).  With one head q and v need no copy: they are saved as views of
    the to_qkv output, whose whole storage (3·N·D) stays.  The index into the bias table is a view of the buffer."""
    n, d, h, e, s, t = _rpa_parts(a, ins)
    qkv = [("q, scaled k, v", sv.new(3 * n * d))] if h > 1 else [("to_qkv output (q and v are views of it)",
                                                                   sv.new(3 * n * d)), ("scaled k", sv.new(n * d))]
    return [("input", sv.in_(0)), *qkv, ("attention weights", sv.new(n * h * t)), ("merged heads", sv.new(n * d))]


register(OpDef(
    name="relative_position_attention",
    attrs=(Attr("head_dim", "int", min=1, doc="channels per head (heads = D / head_dim)"),
           Attr("partition_size", "int", min=1, doc="s: attention within groups of s² consecutive tokens"),
           TRAINABLE),
    prepare=_rpa_prepare, shape=lambda a, ins: ins[0], params=_rpa_params, costs=_rpa_costs, explain=_rpa_explain,
    lower=_tm("RelativePositionalMultiHeadAttention"), in_rank=(2,), family="linear",
    torch_name="maxvit.RelativePositionalMultiHeadAttention",
    doc="MaxViT's self-attention within groups of s² tokens with a learned relative-position bias: "
        "to_qkv 3·D² + 3·D, merge D² + D, bias table (2s − 1)²·H; MACs 4·N·D² + 2·N·s²·D.",
    category="attention", kind="attention", saves=_rpa_saves, rf=RFRule("dense"), latency_class="linear"))
