"""Ops that re-index a tensor (permute, transpose, unflatten), learned tensors that join the data
(class token, position embedding, layer scale) and stochastic depth.

Dimensions are counted without the batch, as everywhere in the spec (torch's dim 1 is dim 0 here).
``permute``, ``transpose`` and ``unflatten`` are views in torch (they change strides, never copy), so
they write nothing and free nothing; a later op that needs a contiguous input (``layer_norm`` on a
permuted map) makes the copy itself, inside its own kernel.

The learned tensors lower to modules whose one parameter is registered on the *enclosing* module
under the layer's name (``param_on_parent``), as torchvision holds them (``class_token`` on the
VisionTransformer, ``encoder.pos_embedding``, ``CNBlock.layer_scale``): state_dict names and order
then copy from torchvision's models.
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError, short_repr
from . import saves as sv
from . import working as wk
from .base import Attr, OpDef, Params, RFRule, fmt_shape, register, torch_module

_SAME = RFRule("same")


def _transpose_dims(a, ins, out):
    dims = list(range(len(ins[0])))
    dims[a["dim0"]], dims[a["dim1"]] = dims[a["dim1"]], dims[a["dim0"]]
    return tuple((d,) for d in dims)


def _unflatten_dims(a, ins, out):
    d = a["dim"]
    return (*((i,) for i in range(d)), *((d,),) * len(a["sizes"]), *((i,) for i in range(d + 1, len(ins[0]))))


# the receptive-field geometry of a view: the input dimensions each output dimension is made of
_PERMUTE_RF = RFRule("reshape", lambda a, ins, out: tuple((d,) for d in a["dims"]))
_TRANSPOSE_RF = RFRule("reshape", _transpose_dims)
_UNFLATTEN_RF = RFRule("reshape", _unflatten_dims)


_tm = torch_module  # lower to archcost._torch_modules.<name>


def _dims_ok(dims, rank, what):
    if not (isinstance(dims, (list, tuple)) and all(isinstance(d, int) and not isinstance(d, bool) for d in dims)):
        raise ShapeError(f"{what} must be a list of integers, not {short_repr(dims)}",
                         fix=f"write e.g. `{what}: {list(range(rank))[::-1]}` (dims counted without the batch).")


def _permute_prepare(a, ins):
    rank = len(ins[0])
    dims = a["dims"]
    _dims_ok(dims, rank, "dims")
    dims = tuple(d % rank if -rank <= d < rank else d for d in dims)
    if sorted(dims) != list(range(rank)):
        raise ShapeError(f"permute dims {short_repr(a['dims'])} are not a permutation of the {rank} dimensions of "
                         f"input {fmt_shape(ins[0])}",
                         fix=f"list each of 0..{rank - 1} once (dims counted without the batch: 0 = channels).")
    return {**a, "dims": dims}


def _permute_explain(a, ins, out):
    parts = [wk.same(f"dim {i}", out[i], f"input dim {d}") for i, d in enumerate(a["dims"])]
    return {"output_shape": wk.shape_working(out, parts, note="a view: strides change, nothing is copied")}


register(OpDef(
    name="permute", attrs=(Attr("dims", "any", doc="the new order of the dimensions, counted without the batch"),),
    prepare=_permute_prepare, shape=lambda a, ins: tuple(ins[0][d] for d in a["dims"]), lower=_tm("Permute"),
    explain=_permute_explain, view=True, family="other", torch_name="Tensor.permute",
    doc="reorder dimensions (torchvision's Permute; [1, 2, 0] makes a C×H×W map channels-last); a view.",
    category="other", kind="view", saves=sv.nothing, rf=_PERMUTE_RF))


def _transpose_prepare(a, ins):
    rank = len(ins[0])
    for k in ("dim0", "dim1"):
        if not -rank <= a[k] < rank:
            raise ShapeError(f"transpose {k}={a[k]} is out of range for input {fmt_shape(ins[0])}",
                             fix="dims count from 0 = the first non-batch dimension (torch's dim 1).")
    return {**a, "dim0": a["dim0"] % rank, "dim1": a["dim1"] % rank}


def _transpose_shape(a, ins):
    s = list(ins[0])
    s[a["dim0"]], s[a["dim1"]] = s[a["dim1"]], s[a["dim0"]]
    return tuple(s)


def _transpose_explain(a, ins, out):
    return {"output_shape": wk.shape_working(out, note=f"dims {a['dim0']} and {a['dim1']} swapped; a view")}


register(OpDef(
    name="transpose", attrs=(Attr("dim0", "int", doc="counted without the batch"), Attr("dim1", "int")),
    prepare=_transpose_prepare, shape=_transpose_shape, lower=_tm("Transpose"), explain=_transpose_explain,
    view=True, family="other", torch_name="Tensor.transpose",
    doc="swap two dimensions (C×N patches → N×C tokens); a view.",
    category="other", kind="view", saves=sv.nothing, rf=_TRANSPOSE_RF))


def _unflatten_prepare(a, ins):
    rank = len(ins[0])
    d = a["dim"]
    if not -rank <= d < rank:
        raise ShapeError(f"unflatten dim={d} is out of range for input {fmt_shape(ins[0])}",
                         fix="dim counts from 0 = the first non-batch dimension.")
    d %= rank
    sizes = a["sizes"]
    _dims_ok(sizes, rank, "sizes")
    n = ins[0][d]
    known = prod(s for s in sizes if s != -1)
    if not sizes or sizes.count(-1) > 1 or any(s < 1 and s != -1 for s in sizes) or known == 0 \
            or (-1 in sizes and n % known) or (-1 not in sizes and known != n):
        raise ShapeError(f"unflatten sizes {short_repr(sizes)} do not split dimension {d} of size {n}",
                         fix=f"give sizes whose product is {n} (one of them may be -1).")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return {**a, "dim": d, "sizes": sizes}


def _unflatten_explain(a, ins, out):
    d = a["dim"]
    return {"output_shape": wk.shape_working(out, [wk.Working(f"dim {d}", ins[0][d], (wk.dot(*a["sizes"]), wk.num(ins[0][d])),
                                                              label=f"dim {d}", note="split; a view")])}


register(OpDef(
    name="unflatten", attrs=(Attr("dim", "int", doc="counted without the batch"),
                             Attr("sizes", "any", doc="the sizes it splits into; one may be -1")),
    prepare=_unflatten_prepare, shape=lambda a, ins: (*ins[0][:a["dim"]], *a["sizes"], *ins[0][a["dim"] + 1:]),
    lower=_tm("Unflatten"), explain=_unflatten_explain, view=True, family="other", torch_name="nn.Unflatten",
    doc="split one dimension into several (the inverse of flatten); a view.",
    category="other", kind="view", saves=sv.nothing, rf=_UNFLATTEN_RF))


# ---- learned tensors ---------------------------------------------------------------------------

def _class_token_explain(a, ins, out):
    n, d = ins[0]
    return {"output_shape": wk.shape_working(out, [wk.Working("tokens", out[0], (f"{wk.num(n)} + 1", wk.num(out[0])),
                                                              label="tokens", note="the class token in front")]),
            "params": wk.Working("params", d, (wk.num(d),), note="one learned token of the embedding size")}


register(OpDef(
    name="class_token", attrs=(), shape=lambda a, ins: (ins[0][0] + 1, *ins[0][1:]),
    params=lambda a, ins: Params(weight=ins[0][-1]), lower=_tm("ClassToken"), explain=_class_token_explain,
    in_rank=(2,), family="other", torch_name="nn.Parameter (torch.cat)",
    doc="prepend a learned token to N×D tokens (ViT's class_token, concatenated): N+1 tokens, D params.",
    # a concatenation: torch.cat saves nothing; the token sees nothing of the input
    category="other", kind="merge", saves=sv.nothing, rf=_SAME, latency_class="concat"))


def _pos_explain(a, ins, out):
    return {"output_shape": wk.shape_working(out, note="same as the input"),
            "params": wk.product("params", [(ins[0], "")], note="one learned value per token and channel"),
            "eltwise_flops": wk.product("eltwise_flops", [(out, "elements")], unit="FLOPs", note="one add per element")}


register(OpDef(
    name="pos_embedding", attrs=(), shape=lambda a, ins: ins[0], params=lambda a, ins: Params(weight=prod(ins[0])),
    costs=lambda a, ins, out: {"eltwise_flops": prod(out)}, lower=_tm("PosEmbedding"), explain=_pos_explain,
    in_rank=(2,), family="merge", torch_name="nn.Parameter (torch.add)",
    doc="add a learned position embedding of the input's shape (ViT's encoder.pos_embedding).",
    category="eltwise", kind="merge", saves=sv.nothing, rf=_SAME, latency_class="add"))


def _ls_explain(a, ins, out):
    return {"output_shape": wk.shape_working(out, note="same as the input"),
            "params": wk.Working("params", ins[0][0], (wk.num(ins[0][0]),), note="one learned scale γ per channel"),
            "eltwise_flops": wk.product("eltwise_flops", [(out, "elements")], unit="FLOPs",
                                        note="one multiply per element")}


def _ls_saves(a, ins, out, rg):
    # x * γ: the gradient of γ needs x, the gradient of x needs γ (a parameter: no activation memory)
    return [("input", sv.in_(0))]


register(OpDef(
    name="layer_scale", attrs=(Attr("init_value", "float", 1e-6, doc="initial γ (torchvision: 1e-6)"),),
    shape=lambda a, ins: ins[0], params=lambda a, ins: Params(weight=ins[0][0]),
    costs=lambda a, ins, out: {"eltwise_flops": prod(out)}, lower=_tm("LayerScale"), explain=_ls_explain,
    in_rank=(2, 3), family="merge", torch_name="nn.Parameter (torch.mul)",
    doc="multiply by a learned per-channel vector γ of shape C×1×1 (ConvNeXt's layer_scale).",
    category="eltwise", kind="merge", saves=_ls_saves, rf=_SAME, latency_class="multiply"))


def _sd_prepare(a, ins):
    if not 0 <= a["p"] <= 1:
        raise ShapeError(f"stochastic depth probability p={a['p']} is outside [0, 1]", fix="use 0 <= p <= 1.")
    return a


def _sd_saves(a, ins, out, rg):
    """Training: input × a per-sample noise (Bernoulli / (1 − p)); the product saves the noise."""
    if a["p"] == 0:
        return []
    return [("noise", sv.new(1))]


register(OpDef(
    name="stochastic_depth", attrs=(Attr("p", "float", 0.0, doc="probability of dropping the branch (training)"),
                                    Attr("mode", "str", "row", choices=("row", "batch"))),
    prepare=_sd_prepare, shape=lambda a, ins: ins[0], lower=_tm("StochasticDepth"), view=True,
    explain=lambda a, ins, out: {"output_shape": wk.shape_working(out, note="identity at inference")},
    family="other", torch_name="torchvision.ops.StochasticDepth",
    doc="torchvision's StochasticDepth: drops a residual branch per sample in training; identity (no cost) in eval.",
    category="other", kind="view", saves=_sd_saves, rf=_SAME))


# ---- embedding ---------------------------------------------------------------------------------

def _emb_prepare(a, ins):
    pi = a["padding_idx"]
    if pi is not None and (isinstance(pi, bool) or not isinstance(pi, int) or not -a["num_embeddings"] <= pi
                           < a["num_embeddings"]):
        raise ShapeError(f"padding_idx={short_repr(pi)} is not an index into {a['num_embeddings']} embeddings",
                         fix="leave it out, or give an index below num_embeddings.")
    return a


def _emb_explain(a, ins, out):
    v, d = a["num_embeddings"], a["embedding_dim"]
    return {"output_shape": wk.shape_working(out, [wk.same("dim -1", d, "embedding_dim")],
                                             note="one row of the table per token id"),
            "params": wk.Working("params", v * d, (wk.dot(v, d), wk.num(v * d)),
                                 note="num_embeddings × embedding_dim: one learned vector per token id")}


def _emb_lower(a, ins):
    from torch import nn

    return nn.Embedding(a["num_embeddings"], a["embedding_dim"], padding_idx=a["padding_idx"])


def _emb_saves(a, ins, out, rg):
    # the ids it looked up, to scatter the gradient into the table: int64, whatever the activations' dtype
    return [("token ids", sv.new(prod(ins[0]), sv.INDEX))]


register(OpDef(
    name="embedding", attrs=(Attr("num_embeddings", "int", min=1, doc="the vocabulary: how many token ids"),
                             Attr("embedding_dim", "int", min=1, doc="the size of each token's vector"),
                             Attr("padding_idx", "any", None, doc="an id whose vector stays zero and gets no gradient")),
    prepare=_emb_prepare, shape=lambda a, ins: (*ins[0], a["embedding_dim"]),
    params=lambda a, ins: Params(weight=a["num_embeddings"] * a["embedding_dim"]),
    lower=_emb_lower, explain=_emb_explain, family="other", torch_name="nn.Embedding",
    doc="a lookup table: each integer token id of the input becomes a learned vector (…×N → …×N×D); "
        "num_embeddings·embedding_dim params, no MACs. Its input is integer ids (see the README, 'Your own model').",
    # a row copy per token: no arithmetic; backward scatters into the table by the ids it keeps
    category="other", kind="other", saves=_emb_saves, rf=RFRule("dense"), latency_class="eltwise"))
