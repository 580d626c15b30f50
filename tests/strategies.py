"""Hypothesis strategies that generate whole, valid archcost networks.

:func:`networks` draws a random network in the spec language and returns a
:class:`GeneratedNet`: the spec as a dict, its YAML text and the output shape
the generator itself computed with torch's size formulas (independently of
archcost).  Networks are small (channels <= 32, spatial size <= 32) so that
lowering them to torch and tracing them with fvcore stays fast.

What is generated
    1-D (``conv1d``/``max_pool1d``/``batchnorm1d``...) and 2-D networks; convolutions
    with random kernel sizes (per dimension), strides, dilations, groups (depthwise
    included) and paddings (int, per-dimension list, asymmetric ``[[a, b], [c, d]]``,
    ``same``, ``valid``); transposed convolutions; batch/group/layer/instance norms and
    local response norm; every activation (also through ``activation: {fn: ...}``),
    softmax; max/avg pools (``ceil_mode``, dilation, ``count_include_pad``), adaptive and
    global pools; dropout, identity, zero padding, channel shuffle, channel slices;
    ``sequential``; ``residual`` with identity and projection shortcuts; ``parallel``
    with ``concat``/``add``/``multiply`` joins (squeeze-excitation gates), ``split`` by
    count and by sizes; named tensors with standalone ``add``/``concat``/``multiply``
    and ``from:``; ``if:``; repeated blocks with arguments, expressions
    (``make_divisible``, ``in * t``, ``(k - 1) // 2``), ``first:`` overrides and
    ``residual: auto``; ``flatten`` (also partial, turning 2-D maps into 1-D
    sequences) and linear heads.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import yaml
from hypothesis import strategies as st

MAX_C = 32
MAX_S = 32
ACTS = ["relu", "relu6", "leaky_relu", "hardswish", "hardsigmoid", "sigmoid", "silu", "gelu", "tanh"]
INPLACE = {"relu", "relu6", "leaky_relu", "hardswish", "hardsigmoid", "silu"}


@dataclass
class GeneratedNet:
    spec: dict
    text: str
    output_shape: tuple
    layers: int  # top-level layer items (for statistics)


def make_divisible(value, divisor=8, min_value=None):
    """torchvision's _make_divisible, re-written here (not imported from archcost)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * value:
        new_v += divisor
    return new_v


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def conv_size(n, k, s, lo, hi, d):
    """torch's convolution output size, or None if the kernel does not fit."""
    eff = d * (k - 1) + 1
    if n + lo + hi < eff:
        return None
    return (n + lo + hi - eff) // s + 1


def pool_size(n, k, s, p, d, ceil):
    """torch's pooling_output_shape."""
    span = n + 2 * p - d * (k - 1) - 1
    if span < 0:
        return None
    o = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _pack(vals):
    """A per-dimension list, or one int when all dimensions agree (both spellings get exercised)."""
    return vals[0] if len(set(vals)) == 1 else list(vals)


class Gen:
    """Generation state for one network: the draw function, fresh names and block definitions."""

    def __init__(self, draw, dim):
        self.draw = draw
        self.dim = dim  # spatial dims of the input (1 or 2)
        self.n = 0
        self.blocks: dict = {}
        self.budget = 24  # primitive layers still allowed (keeps networks small and fast)

    def fresh(self, prefix="t"):
        self.n += 1
        return f"{prefix}{self.n}"

    def d(self, strategy):
        return self.draw(strategy)

    def b(self, p_true=0.5):
        """True with probability about p_true (uniform draw; shrinks towards False, the simpler network)."""
        return self.draw(st.sampled_from(range(100))) >= 100 - p_true * 100

    # ------------------------------------------------------------------ primitives
    def conv(self, shape, *, out=None, keep=False):
        c, sp = shape[0], list(shape[1:])
        d = len(sp)
        if out is None:
            g = self.d(st.sampled_from(divisors(c))) if self.b(0.35) else 1
            out = g * self.d(st.integers(1, max(1, MAX_C // g)))
        else:
            common = [x for x in divisors(c) if out % x == 0]
            g = self.d(st.sampled_from(common)) if self.b(0.35) else 1
        ks = [self.d(st.integers(1, 5)) for _ in range(d)] if self.b(0.3) else [self.d(st.integers(1, 5))] * d
        dil = [self.d(st.integers(1, 2)) if k > 1 else 1 for k in ks] if self.b(0.25) else [1] * d
        attrs = {"out_channels": out, "kernel_size": _pack(ks)}
        if keep:
            stride = [1] * d
            if self.b(0.5) or any(k % 2 == 0 for k in ks):
                attrs["padding"] = "same"
                pads = [(x * (k - 1) // 2, x * (k - 1) - x * (k - 1) // 2) for k, x in zip(ks, dil)]
            else:
                pads = [(x * (k - 1) // 2,) * 2 for k, x in zip(ks, dil)]
                attrs["padding"] = _pack([p for p, _ in pads])
        else:
            stride = [self.d(st.integers(1, 3)) for _ in range(d)] if self.b(0.3) else [self.d(st.integers(1, 3))] * d
            mode = self.d(st.sampled_from(["none", "int", "list", "pairs", "same", "valid"]))
            if mode == "same" and all(s == 1 for s in stride):
                attrs["padding"] = "same"
                pads = [(x * (k - 1) // 2, x * (k - 1) - x * (k - 1) // 2) for k, x in zip(ks, dil)]
            elif mode == "int":
                p = self.d(st.integers(0, 3))
                attrs["padding"] = p
                pads = [(p, p)] * d
            elif mode == "list":
                ps = [self.d(st.integers(0, 3)) for _ in range(d)]
                attrs["padding"] = ps
                pads = [(p, p) for p in ps]
            elif mode == "pairs":
                pads = [(self.d(st.integers(0, 2)), self.d(st.integers(0, 2))) for _ in range(d)]
                attrs["padding"] = [list(p) for p in pads]
            else:
                if mode == "valid":
                    attrs["padding"] = "valid"
                pads = [(0, 0)] * d
            if any(s != 1 for s in stride):
                attrs["stride"] = _pack(stride)
        if any(x != 1 for x in dil):
            attrs["dilation"] = _pack(dil)
        new = [conv_size(n, k, s, lo, hi, x) for n, k, s, (lo, hi), x in zip(sp, ks, stride, pads, dil)]
        if any(o is None or o > MAX_S for o in new):  # does not fit: a 1x1 convolution always does
            attrs = {"out_channels": out, "kernel_size": 1}
            if any(s != 1 for s in stride) and not keep:
                attrs["stride"] = _pack(stride)
            new = [(n - 1) // s + 1 for n, s in zip(sp, stride)]
        if g > 1:
            attrs["groups"] = g
        if self.b(0.3):
            attrs["bias"] = False
        return {f"conv{d}d": attrs}, (out, *new)

    def conv_transpose(self, shape):
        c, sp = shape[0], list(shape[1:])
        d = len(sp)
        g = self.d(st.sampled_from(divisors(c))) if self.b(0.3) else 1
        out = g * self.d(st.integers(1, max(1, MAX_C // g)))
        k, s, x = self.d(st.integers(1, 4)), self.d(st.integers(1, 3)), self.d(st.integers(1, 2))
        p = self.d(st.integers(0, x * (k - 1)))
        op = self.d(st.integers(0, max(s, x) - 1))
        new = [(n - 1) * s - 2 * p + x * (k - 1) + op + 1 for n in sp]
        attrs = {"out_channels": out, "kernel_size": k, "stride": s, "padding": p, "output_padding": op, "dilation": x}
        if any(o < 1 or o > MAX_S for o in new):
            attrs, new = {"out_channels": out, "kernel_size": 1}, list(sp)
        if g > 1:
            attrs["groups"] = g
        return {f"conv_transpose{d}d": attrs}, (out, *new)

    def pool(self, shape):
        c, sp = shape[0], list(shape[1:])
        d = len(sp)
        kind = self.d(st.sampled_from(["max", "avg", "adaptive_avg", "adaptive_max", "global_avg", "global_max"]))
        if kind.startswith("global"):
            return {f"{kind}_pool{d}d": {}}, (c, *[1] * d)
        if kind.startswith("adaptive"):
            o = [self.d(st.integers(1, n)) for n in sp]
            return {f"{kind}_pool{d}d": {"output_size": _pack(o)}}, (c, *o)
        k = self.d(st.integers(1, 4))
        s = self.d(st.integers(1, 3)) if self.b(0.6) else None
        p = self.d(st.integers(0, k // 2))
        x = self.d(st.integers(1, 2)) if kind == "max" and self.b(0.3) else 1
        ceil = self.b(0.5)
        new = [pool_size(n, k, s or k, p, x, ceil) for n in sp]
        if any(o is None or o < 1 for o in new):
            k, s, p, x, ceil = 1, 1, 0, 1, False
            new = list(sp)
        attrs = {"kernel_size": k}
        if s is not None:
            attrs["stride"] = s
        if p:
            attrs["padding"] = p
        if ceil:
            attrs["ceil_mode"] = True
        if x != 1:
            attrs["dilation"] = x
        if kind == "avg" and self.b(0.3):
            attrs["count_include_pad"] = False
        return {f"{kind}_pool{d}d": attrs}, (c, *new)

    def norm(self, shape):
        c, sp = shape[0], list(shape[1:])
        rank = len(shape)
        kinds = ["batchnorm", "layernorm"]
        if rank >= 2:
            kinds += ["groupnorm", "lrn", "instancenorm"]
        kind = self.d(st.sampled_from(kinds))
        if kind == "batchnorm":
            name = "batchnorm2d" if rank == 3 else "batchnorm1d"
            attrs = {}
            if self.b(0.3):
                attrs["eps"] = 0.001
            if self.b(0.2):
                attrs["momentum"] = 0.01
            if self.b(0.2):
                attrs["affine"] = False
            if rank >= 2 and prod(sp) > 1 and self.b(0.2):  # batch statistics need > 1 value per channel
                attrs["track_running_stats"] = False
            return {name: attrs}, shape
        if kind == "layernorm":
            attrs = {}
            choice = self.d(st.integers(0, 2))
            if choice == 1:
                attrs["normalized_shape"] = shape[-1]
            elif choice == 2:
                attrs["normalized_shape"] = list(shape[-self.d(st.integers(1, rank)):])
            if self.b(0.2):
                attrs["elementwise_affine"] = False
            elif self.b(0.2):
                attrs["bias"] = False
            return {"layernorm": attrs}, shape
        if kind == "groupnorm":
            # one value per group is refused (torch: "Expected more than 1 value per channel")
            groups = [g for g in divisors(c) if c // g * prod(sp) > 1]
            if not groups:
                return {"identity": {}}, shape
            attrs = {"num_groups": self.d(st.sampled_from(groups))}
            if self.b(0.2):
                attrs["affine"] = False
            return {"groupnorm": attrs}, shape
        if kind == "lrn":
            return {"local_response_norm": {"size": self.d(st.integers(1, 5))}}, shape
        attrs = {}
        if self.b(0.4):
            attrs["affine"] = True
        if prod(sp) == 1 or self.b(0.2):
            attrs["track_running_stats"] = True
        return {f"instancenorm{rank - 1}d": attrs}, shape

    def act(self, shape):
        fn = self.d(st.sampled_from(ACTS + ["softmax", "via_activation"]))
        if fn == "softmax":
            return {"softmax": {"dim": self.d(st.integers(-len(shape), len(shape) - 1))}}, shape
        if fn == "via_activation":
            return {"activation": {"fn": self.d(st.sampled_from(ACTS + ["none"]))}}, shape
        attrs = {}
        if fn == "leaky_relu" and self.b(0.5):
            attrs["negative_slope"] = 0.2
        if fn == "gelu" and self.b(0.5):
            attrs["approximate"] = "tanh"
        if fn in INPLACE and self.b(0.2):
            attrs["inplace"] = True
        return {fn: attrs}, shape

    def misc(self, shape):
        c, sp = shape[0], list(shape[1:])
        kinds = ["dropout", "identity", "slice"]
        if sp:
            kinds += ["zeropad", "shuffle"]
        kind = self.d(st.sampled_from(kinds))
        if kind == "dropout":
            return {"dropout": {"p": self.d(st.sampled_from([0.0, 0.2, 0.5, 1.0]))}}, shape
        if kind == "identity":
            return {"identity": {}}, shape
        if kind == "slice":
            start = self.d(st.integers(0, c - 1))
            length = self.d(st.integers(1, c - start))
            return {"slice": {"start": start, "length": length}}, (length, *sp)
        if kind == "shuffle":
            return {"channel_shuffle": {"groups": self.d(st.sampled_from(divisors(c)))}}, shape
        d = len(sp)
        pads = [self.d(st.integers(0, 2)) for _ in range(2 * d)]
        new = list(sp)
        for i in range(d):  # torch order: last dimension first
            new[-1 - i] += pads[2 * i] + pads[2 * i + 1]
        if any(o > MAX_S for o in new):
            return {"identity": {}}, shape
        return {f"zeropad{d}d": {"padding": _pack(pads) if d == 1 or len(set(pads)) > 1 else pads[0]}}, (c, *new)

    def primitive(self, shape, *, keep=False):
        """One primitive layer; with keep=True the shape is preserved except for channels of convs."""
        self.budget -= 1
        rank = len(shape)
        kinds = ["act", "norm", "misc"] if keep else ["act", "norm", "misc", "conv", "conv", "pool", "pool", "convt"]
        if rank == 1:
            kinds = ["act", "norm", "linear", "dropout"]
        kind = self.d(st.sampled_from(kinds))
        if kind == "linear" or (keep and rank == 1 and kind == "dropout"):
            if kind == "linear":
                out = self.d(st.integers(1, MAX_C))
                attrs = {"out_features": out}
                if self.b(0.2):
                    attrs["bias"] = False
                return {"linear": attrs}, (*shape[:-1], out)
        if kind == "dropout":
            return {"dropout": {"p": 0.1}}, shape
        if kind == "act":
            return self.act(shape)
        if kind == "norm":
            return self.norm(shape)
        if kind == "misc":
            layer, new = self.misc(shape)
            if keep and new[1:] != shape[1:]:  # keep: spatial size preserved (channels may change)
                return {"identity": {}}, shape
            return layer, new
        if kind == "conv":
            return self.conv(shape)
        if kind == "pool":
            return self.pool(shape)
        return self.conv_transpose(shape)

    # ------------------------------------------------------------------ chains
    def chain(self, shape, *, depth, keep=False, n=None, out=None):
        """A list of layers. keep: spatial size preserved; out: end with this many channels."""
        layers = []
        n = self.d(st.integers(0 if out is None else 0, 3)) if n is None else n
        for _ in range(n):
            if self.budget <= 0:
                break
            if keep:
                if len(shape) > 1 and self.b(0.4):
                    layer, shape = self.conv(shape, keep=True)
                    self.budget -= 1
                else:
                    layer, shape = self.primitive(shape, keep=True)
            else:
                layer, shape = self.layer(shape, depth=depth)
            layers.append(layer)
        if out is not None and shape[0] != out:
            if len(shape) > 1:
                layer, shape = self.conv(shape, out=out, keep=True)
            else:
                layer, shape = {"linear": {"out_features": out}}, (out,)
            layers.append(layer)
        return layers, shape

    def layer(self, shape, *, depth):
        """One layer item: a primitive, or (while depth allows) a composite."""
        rank = len(shape)
        kinds = ["prim"] * 6
        if depth > 0 and rank >= 2:
            kinds += ["sequential", "residual", "projection", "concat", "add", "se", "split", "named", "block",
                      "dag", "pair", "block", "shared"]
        kind = self.d(st.sampled_from(kinds))
        return getattr(self, f"_{kind}")(shape, depth - 1)

    def _prim(self, shape, depth):
        item, shape = self.primitive(shape)
        if self.b(0.3):
            cond = self.d(st.integers(1, 16))
            applies = shape[0] >= cond
            # the condition is evaluated before the layer, with ch = channels entering it
            return self._if(item, cond, shape, applies)
        if self.b(0.15):
            item = {**item, "name": self.fresh("p")}
        return item, shape

    def _if(self, item, cond, shape, applies):
        # only shape-preserving layers get an `if`, so the shape is right either way
        key = next(iter(item))
        if key in ("relu", "relu6", "sigmoid", "hardswish", "identity", "tanh", "silu", "gelu", "dropout",
                   "batchnorm1d", "batchnorm2d", "layernorm", "leaky_relu", "hardsigmoid", "softmax"):
            return {**item, "if": f"ch >= {cond}"}, shape
        return item, shape

    def _sequential(self, shape, depth):
        layers, shape = self.chain(shape, depth=depth, n=self.d(st.integers(1, 3)))
        return {"sequential": layers, "name": self.fresh("seq")}, shape

    def _residual(self, shape, depth):
        body, new = self.chain(shape, depth=depth, keep=True, n=self.d(st.integers(1, 3)), out=shape[0])
        return {"residual": {"layers": body}}, new

    def _projection(self, shape, depth):
        sp = shape[1:]
        d = len(sp)
        out = self.d(st.integers(1, MAX_C))
        s = self.d(st.integers(1, 2))
        new = tuple((n - 1) // s + 1 for n in sp)
        body = [{f"conv{d}d": {"out_channels": out, "kernel_size": 3, "stride": s, "padding": 1, "bias": False}},
                {f"batchnorm{d}d": {}}, {"relu": {}}]
        more, _ = self.chain((out, *new), depth=0, keep=True, n=self.d(st.integers(0, 2)), out=out)
        shortcut = [{f"conv{d}d": {"out_channels": out, "kernel_size": 1, "stride": s, "bias": False}}]
        if self.b(0.5):
            shortcut.append({f"batchnorm{d}d": {}})
        self.budget -= 4
        return {"residual": {"layers": body + more, "shortcut": shortcut}}, (out, *new)

    def _concat(self, shape, depth):
        n = self.d(st.integers(2, 3))
        branches, total = [], 0
        for k in range(n):
            if k == 0 and self.b(0.3):
                branches.append([])
                total += shape[0]
                continue
            out = self.d(st.integers(1, max(1, (MAX_C - total) // (n - k))))
            layers, new = self.chain(shape, depth=depth, keep=True, n=self.d(st.integers(0, 2)), out=out)
            branches.append(layers)
            total += new[0]
        return {"parallel": {"join": "concat", "branches": branches}}, (total, *shape[1:])

    def _add(self, shape, depth):
        out = shape[0] if self.b(0.5) else self.d(st.integers(1, MAX_C))
        branches = []
        for _ in range(self.d(st.integers(2, 3))):
            layers, _ = self.chain(shape, depth=depth, keep=True, n=self.d(st.integers(0, 2)), out=out)
            branches.append(layers)
        return {"parallel": {"join": "add", "branches": branches}}, (out, *shape[1:])

    def _se(self, shape, depth):
        c, sp = shape[0], shape[1:]
        d = len(sp)
        r = self.d(st.integers(1, max(1, c // 2)))
        gate = [{f"global_avg_pool{d}d" if self.b(0.8) else f"global_max_pool{d}d": {}},
                {f"conv{d}d": {"out_channels": r, "kernel_size": 1}}, {"relu": {}},
                {f"conv{d}d": {"out_channels": c, "kernel_size": 1}},
                {self.d(st.sampled_from(["sigmoid", "hardsigmoid"])): {}}]
        self.budget -= 3
        return {"parallel": {"join": "multiply", "branches": [[], gate]}}, shape

    def _split(self, shape, depth):
        c = shape[0]
        if c < 2:
            return self._prim(shape, depth)
        n = self.d(st.integers(2, min(3, c)))
        if c % n == 0 and self.b(0.4):
            split, sizes = n, [c // n] * n
        else:
            cuts = sorted(self.d(st.lists(st.integers(1, c - 1), min_size=n - 1, max_size=n - 1, unique=True)))
            sizes = [b - a for a, b in zip([0, *cuts], [*cuts, c])]
            split = sizes
        branches, total = [], 0
        for size in sizes:
            layers, new = self.chain((size, *shape[1:]), depth=0, keep=True, n=self.d(st.integers(0, 2)))
            branches.append(layers)
            total += new[0]
        return {"parallel": {"split": split, "join": "concat", "branches": branches}}, (total, *shape[1:])

    def _shared(self, shape, depth):
        """One layer called twice (`shares:`): a shape-keeping convolution, an activation or a chain, the same
        convolution again with the first one's weights."""
        name = self.fresh("w")
        conv, _ = self.conv(shape, out=shape[0], keep=True)
        between, new = self.chain(shape, depth=0, keep=True, n=self.d(st.integers(0, 2)), out=shape[0])
        self.budget -= 2
        again = {**conv, "name": self.fresh("w"), "shares": name}
        return {"sequential": [{**conv, "name": name}, *between, again]}, shape

    def _named(self, shape, depth):
        """Name a tensor, transform it, and join the two with a standalone add / multiply / concat."""
        name = self.fresh("x")
        op = self.d(st.sampled_from(["add", "multiply", "concat"]))
        first = {"identity": {}, "name": name}
        out = shape[0] if op != "concat" else None
        layers, new = self.chain(shape, depth=0, keep=True, n=self.d(st.integers(1, 2)), out=out)
        self.budget -= 1
        if op == "concat" and new[0] + shape[0] > 2 * MAX_C:
            op = "add" if new == shape else "multiply" if new[0] == shape[0] else None
            if op is None:
                return {"sequential": [first, *layers]}, new
        srcs = [name, "_"] if self.b(0.5) else ["_", name]
        join = {op: {}, "from": srcs}
        if op == "concat":
            return {"sequential": [first, *layers, join]}, (new[0] + shape[0], *shape[1:])
        return {"sequential": [first, *layers, join]}, new

    def _dag(self, shape, depth):
        """Two branches wired by names: y = f(x); z = g(x) via `from: x`; concat [y, z] (DenseNet/Inception style)."""
        x, y = self.fresh("x"), self.fresh("y")
        first = {"identity": {}, "name": x}
        a, sa = self.chain(shape, depth=0, keep=True, n=self.d(st.integers(1, 2)))
        a, sa = (a, sa) if a else ([{"identity": {}}], shape)  # the layer budget may be spent
        a[-1] = {**a[-1], "name": y}
        b, sb = self.chain(shape, depth=0, keep=True, n=self.d(st.integers(1, 2)))
        b, sb = (b, sb) if b else ([{"identity": {}}], shape)
        b[0] = {**b[0], "from": x}
        self.budget -= 1
        return {"sequential": [first, *a, *b, {"concat": {}, "from": [y, "_"]}]}, (sa[0] + sb[0], *shape[1:])

    def _pair(self, shape, depth):
        """A block with two inputs (`from: [a, b]`, `in0`/`in1` inside)."""
        d = len(shape) - 1
        self.blocks.setdefault(f"pair{d}", {
            "args": {"out": "in0"},
            "layers": [{"add": {}, "from": ["in0", "in1"]},
                       {f"conv{d}d": {"out_channels": "out", "kernel_size": 1}}]})
        x = self.fresh("x")
        body, new = self.chain(shape, depth=0, keep=True, n=self.d(st.integers(1, 2)), out=shape[0])
        out = self.d(st.integers(1, MAX_C))
        self.budget -= 2
        return {"sequential": [{"identity": {}, "name": x}, *body,
                               {f"pair{d}": {"out": out}, "from": [x, "_"]}]}, (out, *shape[1:])

    def _block(self, shape, depth):
        c, sp = shape[0], shape[1:]
        d = len(sp)
        kind = self.d(st.sampled_from(["cba", "res"]))
        n = self.d(st.integers(1, 3))
        self.budget -= 2 * n
        if kind == "cba":
            self.blocks.setdefault(f"cba{d}", {
                "args": {"out": "int", "k": 3, "s": 1, "act": "relu"},
                "layers": [{f"conv{d}d": {"out_channels": "out", "kernel_size": "k", "stride": "s",
                                          "padding": "(k - 1) // 2", "bias": False}},
                           {f"batchnorm{d}d": {}}, {"activation": {"fn": "act"}}]})
            mult = self.d(st.sampled_from([0.5, 1.0, 1.5, 2.0]))
            div = self.d(st.sampled_from([1, 2, 4, 8]))
            out = min(MAX_C, make_divisible(c * mult, div))
            args = {"out": f"min({MAX_C}, make_divisible(ch * {mult}, {div}))"}
            k = self.d(st.sampled_from([1, 3, 5]))
            if k != 3:
                args["k"] = k
            act = self.d(st.sampled_from(["relu", "relu6", "silu", "none"]))
            if act != "relu":
                args["act"] = act
            item = {f"cba{d}": args, "repeat": n}
            s0 = self.d(st.integers(1, 2))
            if s0 != 1:
                item["first"] = {"s": s0}
            new = list(sp)
            for i in range(n):  # ch in `out` is the channel count entering the repeated item
                s = s0 if i == 0 else 1
                new = [(x + 2 * ((k - 1) // 2) - k) // s + 1 for x in new]
            return item, (out, *new)
        self.blocks.setdefault(f"res{d}", {
            "args": {"t": 2, "k": 3},
            "residual": "auto",
            "layers": [{f"conv{d}d": {"out_channels": "in * t", "kernel_size": 1, "bias": False}},
                       {f"batchnorm{d}d": {}}, {"relu6": {}},
                       {f"conv{d}d": {"out_channels": "in * t", "kernel_size": "k", "padding": "(k - 1) // 2",
                                      "groups": "in * t"}},
                       {f"conv{d}d": {"out_channels": "in", "kernel_size": 1}}]})
        t = self.d(st.integers(1, max(1, min(3, MAX_C // c))))
        return {f"res{d}": {"t": t, "k": self.d(st.sampled_from([1, 3, 5]))}, "repeat": n}, shape

    # ------------------------------------------------------------------ heads
    def head(self, shape):
        layers = []
        rank = len(shape)
        if rank >= 2 and self.b(0.3):  # partial flatten: (C, H, W) -> (C, H*W), then 1-D layers
            if rank == 3:
                layers.append({"flatten": {"start_dim": 2}})
                shape = (shape[0], shape[1] * shape[2])
                if shape[1] <= 64 and self.b(0.5):
                    layer, shape = self.conv(shape) if shape[1] <= MAX_S else ({"identity": {}}, shape)
                    layers.append(layer)
                layers.append({"batchnorm1d": {}})
                return layers, shape
        if rank >= 2 and self.b(0.7):
            if self.b(0.5):
                layers.append({f"global_avg_pool{rank - 1}d": {}})
                shape = (shape[0], *[1] * (rank - 1))
            layers.append({"flatten": {}})
            shape = (prod(shape),)
        if len(shape) <= 2 and self.b(0.8):
            if self.b(0.3):
                layers.append({"dropout": {"p": 0.2}})
            if self.b(0.3):
                hidden = self.d(st.integers(1, MAX_C))
                layers += [{"linear": {"out_features": hidden}}, {"relu": {}}]
                shape = (*shape[:-1], hidden)
            layers.append({"linear": {"out_features": "classes"}})
            shape = (*shape[:-1], self.classes)
        return layers, shape


@st.composite
def networks(draw, max_layers: int = 8):
    """A random valid network: GeneratedNet(spec dict, YAML text, expected output shape)."""
    dim = draw(st.sampled_from([1, 2, 2]))
    g = Gen(draw, dim)
    c = draw(st.integers(1, 8))
    res = draw(st.integers(4, MAX_S))
    spec = {"name": "fuzz", "params": {"res": res, "classes": draw(st.integers(1, 10))}}
    g.classes = spec["params"]["classes"]
    if dim == 2:
        h = res if draw(st.booleans()) else draw(st.integers(4, MAX_S))
        spec["input"] = [c, h if h != res else "res", "res"]
        shape = (c, h, res)
    else:
        spec["input"] = [c, "res"]
        shape = (c, res)
    layers = []
    for _ in range(draw(st.integers(1, max_layers))):
        if g.budget <= 0:
            break
        layer, shape = g.layer(shape, depth=3)
        layers.append(layer)
    head, shape = g.head(shape)
    layers += head or [{"identity": {}}]  # at least one layer that no `if:` can skip
    if g.blocks:
        spec["blocks"] = g.blocks
    spec["layers"] = layers
    text = yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=120)
    return GeneratedNet(spec=spec, text=text, output_shape=tuple(shape), layers=len(layers))


# ---------------------------------------------------------------------------- one op, random attributes
# (used by test_ops_property.py against torch, and by test_ops_explain.py for the workings)

def _op_registry():
    from archcost.ops import OPS
    from archcost.ops.base import REQUIRED

    return OPS, REQUIRED


def small_ints(lo=-1, hi=6):
    return st.one_of(st.integers(1, hi), st.integers(lo, hi))  # mostly valid, sometimes not


JUNK = [2.0, 2.5, "2", "ch", "ch // 2", "h - 1", "w", True, None, [], {}, "same", "x", [2.0, 1], -0.0, 1e30]


def draw_attr(data, op, attr, shape, earlier=None):
    """A value for one attribute: targeted for attributes with known meaning, else by schema kind.
    One draw in ten is junk (wrong type, expression, empty) to exercise validation.  ``earlier``
    holds the attributes drawn before this one (unflatten's sizes split the ``dim`` drawn first)."""
    name, kind = attr.name, attr.kind
    c, d = shape[0], len(shape) - 1
    draw = data.draw
    if draw(st.sampled_from(range(10))) == 9:
        return draw(st.sampled_from(JUNK))
    if name == "dims":  # permute: mostly a permutation of the dims (negative ones too), sometimes not one
        perm = draw(st.permutations(range(len(shape))))
        perm = [p - len(shape) if draw(st.booleans()) else p for p in perm] if draw(st.booleans()) else perm
        return draw(st.one_of(st.just(list(perm)), st.just(list(perm)), st.lists(st.integers(-1, 3), max_size=4)))
    if name == "sizes":  # unflatten: a factorisation of the size of the dim it splits, sometimes with -1
        dim = (earlier or {}).get("dim", 0)
        n = shape[dim] if isinstance(dim, int) and -len(shape) <= dim < len(shape) else c
        first = draw(st.sampled_from(divisors(n)))
        sizes = [first, n // first]
        if draw(st.booleans()):
            sizes[draw(st.integers(0, 1))] = -1
        return draw(st.one_of(st.just(sizes), st.just(sizes), st.lists(st.integers(-1, 6), max_size=3)))
    if name == "partition_size":  # MaxViT: windows that divide the map, groups of s² that divide the tokens
        if op.name == "window_partition" and len(shape) == 3:
            fits = [s for s in divisors(shape[1]) if shape[2] % s == 0]
        else:
            fits = [s for s in range(1, 5) if shape[0] % (s * s) == 0]
        return draw(st.one_of(st.sampled_from(fits), st.sampled_from(fits), st.integers(0, 5)))
    if name == "head_dim":
        return draw(st.one_of(st.sampled_from(divisors(shape[-1])), st.integers(0, 8)))
    if name == "output_size":  # window_departition: the H×W map the N tokens came from
        n, s = shape[0], (earlier or {}).get("partition_size", 1)
        s = s if isinstance(s, int) and s >= 1 and n % (s * s) == 0 else 1
        root = int(round(n ** 0.5))
        if (earlier or {}).get("partition_type") == "grid" and root * root == n:
            size = [root, root]
        else:
            k = draw(st.sampled_from(divisors(n // (s * s))))
            size = [s * k, n // (s * k)]
        return draw(st.one_of(st.just(size), st.just(size), st.lists(st.integers(1, 8), min_size=1, max_size=3)))
    if op.name == "shifted_window_attention":  # on an H×W×C map: heads divide C, shifts stay inside the window
        if name == "num_heads":
            return draw(st.one_of(st.sampled_from(divisors(shape[-1])), st.integers(0, 4)))
        if name == "window_size":
            return draw(st.one_of(st.integers(1, 5), st.lists(st.integers(1, 5), min_size=2, max_size=2),
                                  st.integers(-1, 0)))
        if name == "shift_size":
            win = (earlier or {}).get("window_size", 7)
            win = win if isinstance(win, list) and len(win) == 2 else [win, win] if isinstance(win, int) else [1, 1]
            shifts = [draw(st.integers(0, max(0, x - 1))) for x in win if isinstance(x, int)]
            return draw(st.one_of(st.just(shifts), st.just(shifts[0] if shifts else 0), st.integers(-1, 6)))
        if name == "version":
            return draw(st.one_of(st.sampled_from([1, 2]), st.integers(0, 3)))
    if name in ("groups", "num_groups"):
        return draw(st.one_of(st.sampled_from([x for x in range(1, c + 1) if c % x == 0]), st.integers(0, 8)))
    if name in ("dim", "start_dim", "end_dim", "dim0", "dim1"):
        return draw(st.integers(-len(shape) - 2, len(shape) + 1))
    if name == "start":
        return draw(st.integers(-1, c))
    if name == "length":
        return draw(st.integers(0, c + 1))
    if name == "normalized_shape":
        trailing = list(shape[-draw(st.integers(1, len(shape))):])
        return draw(st.one_of(st.just(trailing), st.just(shape[-1]), st.lists(st.integers(0, 8), min_size=1, max_size=3)))
    if op.name.startswith("zeropad") and name == "padding":
        return draw(st.one_of(st.integers(-1, 3), st.lists(st.integers(-1, 3), min_size=2 * d, max_size=2 * d),
                              st.lists(st.integers(0, 3), min_size=1, max_size=5)))
    if name in ("p",):
        return draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, -0.1, 1.5]))
    if kind == "int":
        return draw(small_ints(-1, 2 * max(c, 8)))
    if kind == "float":
        return draw(st.sampled_from([attr.default if isinstance(attr.default, float) else 1.0, 0.0, 1e-5, 0.1, 0.5,
                                     1.0, 2.0, -0.5]))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "str":
        return draw(st.sampled_from([*(attr.choices or ()), "bogus"]))
    if kind == "ints" or kind == "padding":
        one = small_ints(-1 if kind == "ints" else -1, 6)
        options = [one, st.lists(one, min_size=max(d, 1), max_size=max(d, 1)), st.lists(one, min_size=1, max_size=3)]
        if attr.default is None:
            options.append(st.none())
        if kind == "padding":
            pairs = st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=max(d, 1), max_size=max(d, 1))
            options += [st.sampled_from(["same", "valid"]), pairs]
        return draw(st.one_of(*options))
    return draw(st.one_of(st.integers(-1, 6), st.lists(st.integers(0, 6), max_size=3), st.none()))


def draw_case(data, opname):
    """(input shape, attributes) for one layer of op ``opname``, drawn from its schema."""
    OPS, REQUIRED = _op_registry()
    op = OPS[opname]
    rank = data.draw(st.sampled_from(sorted(op.in_rank or (1, 2, 3))), label="rank")
    shape = [data.draw(st.integers(1, 16), label="channels")]
    shape += [data.draw(st.one_of(st.integers(1, 16), st.just(1)), label="size") for _ in range(rank - 1)]
    attrs = {}
    for attr in op.attrs:
        if attr.name == "form":  # how a captured model called it: changes only the peers' presets, and
            continue  # these tests lower to (and compare with) the module form
        if attr.default is REQUIRED or data.draw(st.booleans(), label=f"set {attr.name}"):
            attrs[attr.name] = draw_attr(data, op, attr, shape, attrs)
    return shape, attrs
