"""Building blocks of the ops' ``saves`` rules: what torch's autograd keeps for backward.

A rule is ``saves(a, ins, out, rg) -> [(what, ref)]`` (``a`` the prepared attributes, ``ins`` the
input shapes and ``out`` the output shape without the batch, ``rg[k]`` whether input k needs a
gradient); ``ref`` is :data:`OUT`, :func:`in_` ``(k)`` or :func:`new` ``(elems, kind, per_sample)``.
:mod:`archcost.analysis.training` interprets them (storage, sharing, bytes) and its docstring
states every op's rule in words; the rules themselves sit on each op's definition.
"""

from __future__ import annotations

from math import prod

# kinds of saved storage: activation dtype, int64 indices, bool masks, statistics (fp32, fp64 for fp64)
ACT, INDEX, MASK, STAT = "act", "int64", "bool", "stat"

OUT = ("out",)


def in_(k: int) -> tuple:
    return ("in", k)


def new(elems: int, kind: str = ACT, per_sample: bool = True) -> tuple:
    """A tensor of its own: ``elems`` elements per sample (or in all, if not ``per_sample``)."""
    return ("new", elems, kind, per_sample)


def input_(a, ins, out, rg):
    return [("input", in_(0))]


def output(a, ins, out, rg):
    return [("output", OUT)]


def nothing(a, ins, out, rg):
    return []


def input_or_copy(a, ins, out, rg):
    """The input; in place, a copy of it (autograd's ``original_self``)."""
    return [("input (a copy: the op works in place)", new(prod(ins[0])))
            if a.get("inplace") else ("input", in_(0))]


def norm_stats(count, per_sample: bool = True):
    """The input and ``count(a, ins)`` statistics (mean and inverse std, ...)."""
    def rule(a, ins, out, rg):
        return [("input", in_(0)), ("statistics", new(count(a, ins), STAT, per_sample))]
    return rule


def with_indices(a, ins, out, rg):
    """The input and the argmax indices (max pooling)."""
    return [("input", in_(0)), ("indices", new(prod(out), INDEX))]
