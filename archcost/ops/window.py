"""Swin Transformer's ops: shifted-window attention (v1 and v2) and patch merging's 2×2 gather.

Both take a channels-last map ``H×W×C`` (no batch), as torchvision's Swin runs: after its patch
embedding it permutes to ``N×H×W×C`` and stays there.

``shifted_window_attention`` is torchvision's ``ShiftedWindowAttention`` (``version: 1``) or
``ShiftedWindowAttentionV2`` (``version: 2``) as one op: pad H and W up to multiples of the window,
roll the map by −shift (when shifted), partition it into windows of T = wh·ww tokens, run multi-head
self-attention inside each window with a learned relative-position bias, undo the partition and the
roll and crop the padding.  Its lowering computes exactly what torchvision's ``shifted_window_attention``
function does (``F.linear`` for the qkv and output projections, ``matmul`` for QKᵀ and A·V) under
torchvision's parameter names (``qkv.weight``, ``relative_position_bias_table``, ``cpb_mlp.0.weight``,
``logit_scale``...), so a state_dict copies by name and each peer sees what it sees on torchvision's.

Arithmetic, with the map padded to Hp×Wp = Np positions, nW = Np/T windows, h heads of e = C/h:

* MACs (what torchvision's ``_ops`` and ``FlopCounterMode`` count): the projections 4·Np·C² (qkv 3·Np·C²,
  proj Np·C²) and the attention 2·Np·T·C (QKᵀ and A·V: 2·T²·e per head and window).  Version 2 adds its
  continuous position-bias MLP (``cpb_mlp``: Linear(2, 512) → ReLU → Linear(512, h) on the P =
  (2wh−1)(2ww−1) relative offsets): P·2·512 + P·512·h.
* ``full`` adds: biases (3·Np·C + Np·C, and cpb's P·512), the softmax (3 per score: nW·h·T² scores),
  the query scaling (v1: Np·C), the bias add and, when shifted, the mask add (nW·h·T² each);
  version 2 instead of the query scaling: cosine attention — ``F.normalize`` of q and k (3 FLOPs per
  element: square, add, divide) and the multiply by the clamped exp of ``logit_scale`` (nW·h·T²) — and
  16·sigmoid of the bias (sigmoid 3 per element, multiply 1, on h·T²), cpb's ReLU (P·512).

Version 2's position bias depends on the weights only: torch computes it once per forward pass, not
per sample.  archcost counts it per sample like every other cost, which is exact at batch 1 (where
torchvision's ``_ops`` and every peer are measured) and over-counts it by (batch − 1)·cpb beyond.
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from . import saves as sv
from . import working as wk
from .base import TRAINABLE, Attr, OpDef, Params, RFRule, as_tuple, fmt_shape, register, torch_module

#: the hidden width of version 2's position-bias MLP (torchvision's ``cpb_mlp``: Linear(2, 512), ReLU, Linear)
CPB_HIDDEN = 512
# attention reads the whole (shifted) window, and stacked shifted windows reach everything: taken as the
# whole input (an over-estimate for one layer, as for a linear layer); on a channels-last map there is no
# channels-first grid for the window rule to slide over anyway
_DENSE = RFRule("dense")


_tm = torch_module  # lower to archcost._torch_modules.<name>


# ---- shifted_window_attention -------------------------------------------------------------------

def _swa_prepare(a, ins):
    h, w, c = ins[0]
    win = as_tuple(a["window_size"], 2, "window_size")
    shift = as_tuple(a["shift_size"], 2, "shift_size")
    if any(x < 1 for x in win):
        raise ShapeError(f"window_size {list(win)} must be positive", fix="use e.g. `window_size: 7`.")
    if any(not 0 <= s < x for s, x in zip(shift, win)):
        raise ShapeError(f"shift_size {list(shift)} must be from 0 to window_size − 1 ({list(win)})",
                         fix="Swin shifts every other block by half a window: `shift_size: window_size // 2`.")
    if c % a["num_heads"]:
        raise ShapeError(f"num_heads={a['num_heads']} does not divide the {c} channels of input {fmt_shape(ins[0])} "
                         "(the map is H×W×C, channels last)", fix=f"choose num_heads among the divisors of {c}.")
    if a["version"] not in (1, 2):
        raise ShapeError(f"version={a['version']} must be 1 (Swin) or 2 (Swin V2)", fix="use `version: 1` or `version: 2`.")
    if a["version"] == 2 and min(win) < 2:
        raise ShapeError(f"version 2 needs a window of at least 2 per dimension, not {list(win)}: its relative "
                         "coordinates are divided by window_size − 1", fix="use `window_size: 8` as Swin V2 does.")
    return {**a, "window_size": win, "shift_size": shift}


def geometry(a, ins) -> dict:
    """The padded map and its windows: Hp, Wp, T (tokens per window), nW, Np, e, P (relative offsets), and
    whether the map is shifted (torchvision drops the shift along a dimension the window covers whole)."""
    h, w, c = ins[0]
    wh, ww = a["window_size"]
    hp, wp = -(-h // wh) * wh, -(-w // ww) * ww
    sh = 0 if wh >= hp else a["shift_size"][0]
    sw = 0 if ww >= wp else a["shift_size"][1]
    t = wh * ww
    return {"H": h, "W": w, "C": c, "wh": wh, "ww": ww, "Hp": hp, "Wp": wp, "T": t, "nW": hp * wp // t,
            "Np": hp * wp, "h": a["num_heads"], "e": c // a["num_heads"], "P": (2 * wh - 1) * (2 * ww - 1),
            "shifted": sh + sw > 0}


def _swa_params(a, ins):
    g = geometry(a, ins)
    c, nh, p = g["C"], g["h"], g["P"]
    proj = 4 * c * c
    bias = (3 * c if a["qkv_bias"] else 0) + (c if a["proj_bias"] else 0)
    index = g["T"] * g["T"]  # relative_position_index: which bias each (query, key) pair of a window takes
    if a["version"] == 1:  # relative_position_bias_table: one bias per relative offset and head
        return Params(weight=proj + p * nh, bias=bias, buffers=index, frozen=not a["trainable"])
    # logit_scale (h), cpb_mlp: Linear(2, 512) with bias, Linear(512, h) without; relative_coords_table buffer
    return Params(weight=proj + nh + 2 * CPB_HIDDEN + CPB_HIDDEN * nh, bias=bias + CPB_HIDDEN,
                  buffers=index + 2 * p, frozen=not a["trainable"])


def cpb_parts(a, ins) -> dict:
    """Version 2's position-bias MLP on the P relative offsets: its MACs by layer, bias adds and ReLU outputs."""
    g = geometry(a, ins)
    p, nh = g["P"], g["h"]
    return {"fc1": p * 2 * CPB_HIDDEN, "fc2": p * CPB_HIDDEN * nh, "bias": p * CPB_HIDDEN, "relu": p * CPB_HIDDEN}


def _swa_costs(a, ins, out):
    g = geometry(a, ins)
    n, c, t, nw, nh = g["Np"], g["C"], g["T"], g["nW"], g["h"]
    scores = nw * nh * t * t
    attn = 2 * n * t * c  # QKᵀ and A·V
    macs = 4 * n * c * c + attn
    bias = (3 * n * c if a["qkv_bias"] else 0) + (n * c if a["proj_bias"] else 0)
    act = 3 * scores  # softmax
    elt = scores * (2 if g["shifted"] else 1)  # the position bias add, and the shift mask's
    res = {}
    if a["version"] == 1:
        elt += n * c  # q × e^-½
    else:
        cpb = cpb_parts(a, ins)
        macs += cpb["fc1"] + cpb["fc2"]
        bias += cpb["bias"]
        act += cpb["relu"] + 3 * nh * t * t  # cpb's ReLU, the sigmoid of the bias
        elt += scores + nh * t * t  # × exp(logit_scale), 16 × sigmoid
        res["norm_flops"] = 3 * 2 * n * c  # F.normalize of q and k
        res["per_forward_macs"] = cpb["fc1"] + cpb["fc2"]
    # FlopCounterMode sees every F.linear and matmul (its key equals macs); fvcore too (aten::linear, aten::matmul)
    return {**res, "macs": macs, "attention_macs": attn, "bias_flops": bias, "act_flops": act, "eltwise_flops": elt,
            "fvcore": macs}


def _labelled(w, label):
    return wk.Working(w.quantity, w.value, w.sides, unit=w.unit, note=w.note, label=label)


def _terms(quantity, items, *, unit, note=""):
    """The sum of labelled products ``[(label, groups)]`` (zero terms dropped)."""
    parts = [_labelled(wk.product(label, groups, unit=unit), label) for label, groups in items]
    parts = [p for p in parts if p.value]
    if len(parts) == 1:
        return wk.Working(quantity, parts[0].value, parts[0].sides, unit=unit, note=f"{parts[0].label}; {note}".rstrip("; "))
    return wk.total(quantity, parts, unit=unit, note=note)


def _swa_explain(a, ins, out):
    g = geometry(a, ins)
    n, c, t, nw, nh, e, pp = g["Np"], g["C"], g["T"], g["nW"], g["h"], g["e"], g["P"]
    v2 = a["version"] == 2
    pad = "" if (g["Hp"], g["Wp"]) == (g["H"], g["W"]) else f", padded to {g['Hp']}×{g['Wp']}"
    where = (f"{g['Hp']}×{g['Wp']} = {wk.num(n)} positions{pad} in {wk.num(nw)} windows of {g['wh']}×{g['ww']} = "
             f"{t} tokens, {nh} heads of {e}")
    res = {"output_shape": wk.shape_working(out, note="same as the input (H × W × C)")}
    p = _swa_params(a, ins)
    weights = [("qkv weight", [((c, 3 * c), "")]), ("proj weight", [((c, c), "")])]
    if v2:
        weights += [("logit_scale", [((nh,), "")]), ("cpb_mlp.0 weight", [((2, CPB_HIDDEN), "")]),
                    ("cpb_mlp.2 weight", [((CPB_HIDDEN, nh), "")])]
    else:
        weights.append(("relative_position_bias_table", [((2 * g["wh"] - 1, 2 * g["ww"] - 1, nh), "")]))
    biases = [("qkv bias", [((3 * c,), "")] if a["qkv_bias"] else [((0,), "")]),
              ("proj bias", [((c,), "")] if a["proj_bias"] else [((0,), "")])]
    if v2:
        biases.append(("cpb_mlp.0 bias", [((CPB_HIDDEN,), "")]))
    res["params"] = _terms("params", weights + biases, unit="",
                           note="one bias per relative offset (2·wh − 1)(2·ww − 1) and head" if not v2 else
                           "cosine attention's logit scale per head; the position bias from a 2 → 512 → h MLP")
    res["buffers"] = _terms("buffers", [("relative_position_index", [((t, t), "")])] +
                            ([("relative_coords_table", [((pp, 2), "")])] if v2 else []), unit="",
                            note="which bias each (query, key) pair of a window takes")
    attn = [("QKᵀ", [((e,), "multiplies per score"), ((nw, nh, t, t), "scores")]),
            ("A·V", [((t,), "multiplies per output"), ((nw, nh, t, e), "outputs")])]
    cpb = [("cpb_mlp", [((pp,), "offsets"), ((2 * CPB_HIDDEN + CPB_HIDDEN * nh,), "MACs each")])] if v2 else []
    res["macs"] = _terms("macs", [("qkv", [((c,), "multiplies per output"), ((n, 3 * c), "outputs")]), *attn,
                                  ("proj", [((c,), "multiplies per output"), ((n, c), "outputs")]), *cpb], unit="MACs",
                         note=f"4·Np·C² projections + 2·Np·T·C attention{' + the position-bias MLP' if v2 else ''}; "
                              + where)
    res["attention_macs"] = _terms("attention_macs", attn, unit="MACs", note="QKᵀ + A·V = 2·Np·T·C")
    res["bias_flops"] = _terms("bias_flops", [("qkv bias", [((n, 3 * c if a["qkv_bias"] else 0), "outputs")]),
                                              ("proj bias", [((n, c if a["proj_bias"] else 0), "outputs")])] +
                               ([("cpb_mlp.0 bias", [((pp, CPB_HIDDEN), "outputs")])] if v2 else []),
                               unit="FLOPs", note="one bias add per projection output")
    act = [("softmax", [((nw, nh, t, t), "scores"), ((3,), "per score")])]
    if v2:
        act += [("cpb_mlp ReLU", [((pp, CPB_HIDDEN), "outputs")]),
                ("sigmoid of the bias", [((nh, t, t), "biases"), ((3,), "per element")])]
    res["act_flops"] = _terms("act_flops", act, unit="FLOPs", note="softmax: exp, sum, divide")
    elt = [("position bias add", [((nw, nh, t, t), "scores")])]
    if g["shifted"]:
        elt.append(("shift mask add", [((nw, nh, t, t), "scores")]))
    if v2:
        elt += [("× exp(logit_scale)", [((nw, nh, t, t), "scores")]), ("16 × sigmoid", [((nh, t, t), "biases")])]
    else:
        elt.append(("query scaling", [((n, c), "query elements")]))
    res["eltwise_flops"] = _terms("eltwise_flops", elt, unit="FLOPs")
    if v2:
        res["norm_flops"] = wk.product("norm_flops", [((2, n, c), "q and k elements"), ((3,), "per element")],
                                       unit="FLOPs", note="F.normalize: square, add, divide")
    if v2:
        res["per_forward_macs"] = _terms("per_forward_macs", cpb, unit="MACs",
                                         note="computed once per forward pass (from the weights alone), counted per "
                                              "sample: exact at batch 1")
    res["fvcore"] = wk.Working("fvcore", res["macs"].value, res["macs"].sides, unit="MACs",
                               note="fvcore counts aten::linear and aten::matmul: all of the MACs")
    return res


def _swa_saves(a, ins, out, rg):
    """Measured with saved_tensors_hooks (torch 2.14.1, CPU, torchvision's module, training): the windowed
    input of the qkv projection, q scaled and kᵀ and v as the contiguous copies the batched matmuls take, the
    softmax output and the attention output the out-projection reads; version 2 keeps the whole qkv output,
    the norms of q and k with their clamped denominators, the normalised q and kᵀ and the cosine scores
    before the logit scale, and once per forward pass (not per sample) the position-bias MLP's hidden layer,
    the sigmoid of the bias and the exp of the logit scale."""
    g = geometry(a, ins)
    n, c, nh, scores = g["Np"], g["C"], g["h"], g["nW"] * g["h"] * g["T"] * g["T"]
    if a["version"] == 1:
        return [("windowed input", sv.new(n * c)), ("scaled q, kᵀ, v (contiguous copies)", sv.new(3 * n * c)),
                ("softmax output", sv.new(scores)), ("attention output", sv.new(n * c))]
    return [("windowed input", sv.new(n * c)), ("q, k, v", sv.new(3 * n * c)),
            ("norms of q and k and their clamped denominators", sv.new(4 * n * nh)),
            ("normalised q, kᵀ (contiguous copies)", sv.new(2 * n * c)),
            ("cosine scores, softmax output", sv.new(2 * scores)), ("v (a contiguous copy), attention output",
                                                                    sv.new(2 * n * c)),
            ("position-bias MLP hidden layer, sigmoid of the bias, exp of logit_scale",
             sv.new(g["P"] * CPB_HIDDEN + nh * g["T"] * g["T"] + nh, per_sample=False))]


def _swa_lower(a, ins):
    from .. import _torch_modules as tm

    return (tm.ShiftedWindowAttentionV2 if a["version"] == 2 else tm.ShiftedWindowAttention)(a, ins)


register(OpDef(
    name="shifted_window_attention",
    attrs=(Attr("num_heads", "int", min=1),
           Attr("window_size", "ints", 7, doc="window height and width (Swin: 7, Swin V2: 8)"),
           Attr("shift_size", "ints", 0, doc="cyclic shift (torchvision: 0, or window_size // 2 every other block)"),
           Attr("version", "int", 1, doc="1: Swin (scaled dot product, bias table); 2: Swin V2 (cosine attention, "
                                         "logit scale, position-bias MLP; q and v biases only)"),
           Attr("qkv_bias", "bool", True), Attr("proj_bias", "bool", True), TRAINABLE),
    prepare=_swa_prepare, shape=lambda a, ins: ins[0], params=_swa_params, costs=_swa_costs, explain=_swa_explain,
    lower=_swa_lower, in_rank=(3,), family="linear",
    torch_name="swin_transformer.ShiftedWindowAttention",
    doc="Swin's window multi-head self-attention on an H×W×C map (torchvision's ShiftedWindowAttention, V2 with "
        "`version: 2`): pad, roll by the shift, attend within each window with a relative-position bias; "
        "params 4·C² + 4·C + table; MACs 4·Np·C² + 2·Np·T·C.",
    category="attention", kind="attention", saves=_swa_saves, rf=_DENSE, latency_class="linear"))


# ---- patch_merge --------------------------------------------------------------------------------

def _pm_shape(a, ins):
    h, w, c = ins[0]
    return (-(-h // 2), -(-w // 2), 4 * c)


def _pm_explain(a, ins, out):
    h, w, c = ins[0]
    parts = [wk.Working("rows", out[0], (f"⌈{h}/2⌉", wk.num(out[0])), label="rows", note="odd sizes padded by one"),
             wk.Working("cols", out[1], (f"⌈{w}/2⌉", wk.num(out[1])), label="cols"),
             wk.Working("channels", out[2], (f"4·{c}", wk.num(out[2])), label="channels",
                        note="the 2×2 neighbours (0,0), (1,0), (0,1), (1,1) side by side")]
    return {"output_shape": wk.shape_working(out, parts, note="a copy (torch.cat), no arithmetic")}


register(OpDef(
    name="patch_merge", attrs=(), shape=_pm_shape, explain=_pm_explain, lower=_tm("PatchMergePad"), in_rank=(3,),
    family="other", torch_name="swin_transformer._patch_merging_pad",
    doc="Swin's patch merging gather on an H×W×C map: pad H and W to even, concatenate each 2×2 neighbourhood "
        "along channels: ⌈H/2⌉×⌈W/2⌉×4C (then layer norm and a 4C → 2C linear, in either order).",
    # slicing and torch.cat save nothing for backward (measured); each output position reads a 2×2 patch, taken
    # as the whole input on a channels-last map (see _DENSE)
    category="other", kind="other", saves=sv.nothing, rf=_DENSE, latency_class="concat"))
