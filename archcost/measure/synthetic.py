"""Random synthetic networks for calibration (pure Python: spec dicts, no torch).

Layers run slower inside a network than alone: their outputs land in freshly allocated
memory (page faults, cache misses on write), their inputs were written by another op,
and the allocator's state depends on every tensor alive around them.  An element-wise
op timed alone, repeatedly on the same buffers, sees none of that.  So calibration also
times *synthetic networks*: random compositions of the building blocks CNNs are made of
(conv-norm-activation, inverted residuals with depthwise convolutions and gates,
bottlenecks with shortcuts, multi-branch concatenations, split-and-shuffle units,
dense concatenation, pooling between stages, a classifier head), with random widths,
resolutions, kernels and activations — and, for the attention era, ViT-like and ConvNeXt-like
compositions (:func:`token_network`).  They follow no zoo model; each is built fresh
from a seed.  Their per-layer times are the in-network samples of the small op classes.
"""

from __future__ import annotations

import math
import random

ACTS = ["relu", "relu", "relu6", "hardswish", "silu", "leaky_relu", "gelu", "tanh"]


def _logu(rng, lo, hi) -> int:
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def _ch(rng, lo, hi) -> int:
    c = _logu(rng, lo, hi)
    return max(8, int(round(c / 8)) * 8) if rng.random() < 0.7 else max(4, c)


def _conv(out, k=1, s=1, groups=1, pad=None):
    kk = k if isinstance(k, list) else [k, k]
    p = pad if pad is not None else [kk[0] // 2, kk[1] // 2]
    return {"conv2d": {"out_channels": out, "kernel_size": k, "stride": s, "padding": p, "groups": groups,
                       "bias": False}}


def _act(name):
    return {name: {}}


def _cba(out, act, k=1, s=1, groups=1):
    return [_conv(out, k, s, groups), {"batchnorm2d": {}}, _act(act)]


class _Net:
    def __init__(self, rng):
        self.rng = rng
        self.layers = []

    def add(self, *layers):
        self.layers.extend(layers)


def network(seed: int, max_resolution: int | None = None) -> tuple:
    """(layers, input shape) of one random synthetic CNN."""
    rng = random.Random(seed)
    res = rng.choice([64, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448])
    if max_resolution:
        res = min(res, max_resolution)
    c = _ch(rng, 16, 64) if res <= 256 else _ch(rng, 8, 32)  # large images (activations beyond the cache), thin
    act = rng.choice(ACTS)
    net = _Net(rng)
    net.add(*_cba(c, act, k=rng.choice([3, 3, 5, 7]), s=2))
    if rng.random() < 0.15:
        net.add({"local_response_norm": {"size": 5}})
    if rng.random() < 0.5:
        net.add({"max_pool2d": {"kernel_size": 3, "stride": 2, "padding": 1}})
    h = res // (4 if net.layers[-1].get("max_pool2d") else 2)
    stages = rng.randint(3, 5)
    for st in range(stages):
        cout = min(1024 if res <= 256 else 192, int(c * rng.uniform(1.3, 2.2)))
        blocks = rng.randint(1, 3)
        for b in range(blocks):
            s = 2 if (b == 0 and st > 0 and h > 4) else 1
            kind = rng.choice(["cba", "inverted", "bottleneck", "branches", "shuffle", "dense"])
            c_new = _block(net, rng, kind, c, cout, s, act if rng.random() < 0.7 else rng.choice(ACTS))
            c = c_new
            if s == 2:
                h = (h + 1) // 2
        if rng.random() < 0.25 and h >= 8:
            net.add(rng.choice([{"max_pool2d": {"kernel_size": 2, "stride": 2}},
                                {"avg_pool2d": {"kernel_size": 2, "stride": 2}}]))
            h //= 2
    if rng.random() < 0.5:
        net.add(*_cba(_ch(rng, 256, 1280), act))
    net.add({"global_avg_pool2d": {}} if rng.random() < 0.7 else {"adaptive_avg_pool2d": {"output_size": 1}},
            {"flatten": {}})
    if rng.random() < 0.5:
        net.add({"dropout": {"p": 0.2}})
    net.add({"linear": {"out_features": rng.choice([10, 100, 1000])}})
    return net.layers, [3, res, res]


def _block(net, rng, kind, cin, cout, s, act) -> int:
    """Append one block; returns its output channels."""
    if kind == "cba":
        net.add(*_cba(cout, act, k=rng.choice([3, 3, 5, [1, 7]]) if s == 1 else 3, s=s))
        return cout
    if kind == "inverted":
        t = rng.choice([1, 3, 4, 6])
        mid = max(8, cin * t)
        k = rng.choice([3, 3, 5])
        layers = []
        if t != 1:
            layers += _cba(mid, act)
        layers += _cba(mid, act, k=k, s=s, groups=mid)
        if rng.random() < 0.6:
            sq = max(4, mid // rng.choice([4, 16]))
            gate = rng.choice(["sigmoid", "hardsigmoid"])
            layers.append({"parallel": {"join": "multiply", "branches": [
                [{"global_avg_pool2d": {}}, _conv(sq), _act("relu" if gate == "hardsigmoid" else "silu"),
                 _conv(mid), _act(gate)], []]}})
        layers += [_conv(cout), {"batchnorm2d": {}}]
        if s == 1 and cin == cout:
            net.add({"residual": {"layers": layers}})
        else:
            net.add(*layers)
        return cout
    if kind == "bottleneck":
        mid = max(32, cout // rng.choice([2, 4]) // 32 * 32)
        g = rng.choice([1, 1, 8, 32, 32, 16])
        layers = _cba(mid, "relu") + _cba(mid, "relu", k=3, s=s, groups=g) + [_conv(cout), {"batchnorm2d": {}}]
        if rng.random() < 0.15:
            layers.append({"scale": {"value": 0.2}})
        shortcut = [] if (s == 1 and cin == cout) else [_conv(cout, 1, s), {"batchnorm2d": {}}]
        net.add({"residual": {"layers": layers, "shortcut": shortcut}} if shortcut else {"residual": {"layers": layers}},
                _act("relu"))
        return cout
    if kind == "branches":
        n = rng.choice([2, 3, 4])
        each = max(8, cout // n)
        branches = [_cba(each, act, s=s)]
        if n > 1:
            branches.append(_cba(max(8, each // 2), act) + _cba(each, act, k=rng.choice([3, 5, [1, 7]]), s=s))
        if n > 2:
            branches.append(_cba(max(8, each // 2), act) + _cba(each, act, k=3) + _cba(each, act, k=3, s=s))
        if n > 3:
            pool = {"avg_pool2d": {"kernel_size": 3, "stride": s, "padding": 1}} if rng.random() < 0.5 else \
                {"max_pool2d": {"kernel_size": 3, "stride": s, "padding": 1}}
            branches.append([pool] + _cba(each, act))
        net.add({"parallel": {"join": "concat", "branches": branches}})
        return each * len(branches)
    if kind == "shuffle":
        half = max(8, cout // 2)
        if s == 1 and cin % 2 == 0 and cin // 2 == half:
            net.add({"parallel": {"split": 2, "join": "concat", "branches": [
                [], _cba(half, "relu") + [_conv(half, 3, 1, groups=half), {"batchnorm2d": {}}] + _cba(half, "relu")]}})
        else:
            net.add({"parallel": {"join": "concat", "branches": [
                [_conv(cin, 3, s, groups=cin), {"batchnorm2d": {}}] + _cba(half, "relu"),
                _cba(half, "relu") + [_conv(half, 3, s, groups=half), {"batchnorm2d": {}}] + _cba(half, "relu")]}})
        net.add({"channel_shuffle": {"groups": 2}})
        return 2 * half
    # dense: concatenate the input with a bn-relu-conv1x1-bn-relu-conv3x3 branch, a few times
    growth = rng.choice([12, 24, 32, 48])
    c = cin
    for _ in range(rng.randint(2, 4)):
        net.add({"parallel": {"join": "concat", "branches": [
            [], [{"batchnorm2d": {}}, _act("relu"), _conv(4 * growth), {"batchnorm2d": {}}, _act("relu"),
                 _conv(growth, 3)]]}})
        c += growth
    if s == 2:
        net.add({"batchnorm2d": {}}, _act("relu"), _conv(cout), {"avg_pool2d": {"kernel_size": 2, "stride": 2}})
        return cout
    return c


def token_network(seed: int, max_resolution: int | None = None) -> tuple:
    """(layers, input shape) of one random synthetic network of the attention era: a ViT-like one (patch
    embedding, class token, position embedding, pre-norm blocks of layer norm, multi-head attention, GELU MLP,
    residual adds, a head on the class token) or a ConvNeXt-like one (depthwise 7×7, channels-last layer norm
    and MLP between permutes, layer scale, residual adds, layer-norm-2d downsampling).  Random widths, depths,
    patch sizes and resolutions; no zoo model's."""
    rng = random.Random(seed)
    res = rng.choice([64, 96, 112, 128, 160, 192, 224, 256])
    if max_resolution:
        res = min(res, max_resolution)
    if rng.random() < 0.6:
        patch = rng.choice([8, 14, 16, 16, 32]) if res >= 64 else 8
        patch = min(patch, res // 4)
        heads = rng.choice([2, 3, 4, 6, 8, 12])
        d = heads * rng.choice([32, 64, 64])
        mlp = d * rng.choice([2, 4, 4])
        layers = [{"conv2d": {"out_channels": d, "kernel_size": patch, "stride": patch}}, {"flatten": {"start_dim": 2}},
                  {"transpose": {"dim0": 0, "dim1": 1}}, {"class_token": {}}, {"pos_embedding": {}}]
        block = [{"residual": {"layers": [{"layernorm": {"eps": 1e-6}}, {"multi_head_attention": {"num_heads": heads}}]}},
                 {"residual": {"layers": [{"layernorm": {"eps": 1e-6}}, {"linear": {"out_features": mlp}}, {"gelu": {}},
                                          {"linear": {"out_features": d}}]}}]
        for _ in range(rng.randint(2, 6)):
            layers += block
        layers += [{"layernorm": {"eps": 1e-6}}, {"slice": {"start": 0, "length": 1}}, {"flatten": {}},
                   {"linear": {"out_features": rng.choice([10, 100, 1000])}}]
        return layers, [3, res, res]
    c = _ch(rng, 24, 128)
    layers = [{"conv2d": {"out_channels": c, "kernel_size": 4, "stride": 4}}, {"layernorm2d": {"eps": 1e-6}}]
    h = res // 4
    for st in range(rng.randint(2, 4)):
        if st:
            c = min(1024, 2 * c)
            layers += [{"layernorm2d": {"eps": 1e-6}}, {"conv2d": {"out_channels": c, "kernel_size": 2, "stride": 2}}]
            h //= 2
        for _ in range(rng.randint(1, 3)):
            layers.append({"residual": {"layers": [
                {"conv2d": {"out_channels": c, "kernel_size": 7, "padding": 3, "groups": c}},
                {"permute": {"dims": [1, 2, 0]}}, {"flatten": {"start_dim": 1, "end_dim": 2}},
                {"layernorm": {"eps": 1e-6}}, {"linear": {"out_features": 4 * c}}, {"gelu": {}},
                {"linear": {"out_features": c}}, {"unflatten": {"dim": 0, "sizes": [h, h]}},
                {"permute": {"dims": [2, 0, 1]}}, {"layer_scale": {}}]}})
        if h < 4:
            break
    layers += [{"adaptive_avg_pool2d": {"output_size": 1}}, {"layernorm2d": {"eps": 1e-6}}, {"flatten": {}},
               {"linear": {"out_features": rng.choice([10, 100, 1000])}}]
    return layers, [3, res, res]


MAX_MACS = 2.5e9  # keep each network's forward pass short (a second of calibration at most)


def graph(seed: int, max_resolution: int | None = None, tokens: bool = False):
    """The graph IR of synthetic network ``seed`` (redrawn, deterministically, while it is too heavy);
    ``tokens``: an attention-era one (:func:`token_network`)."""
    import json

    from ..analysis.engine import analyze_graph
    from ..language import build_graph, load_spec

    for attempt in range(20):
        layers, shape = (token_network if tokens else network)(seed + 1_000_003 * attempt, max_resolution)
        spec = {"name": f"synthetic{seed}", "input": shape, "layers": layers}
        g = build_graph(load_spec(f"<synthetic network {seed}>", text=json.dumps(spec)))
        if analyze_graph(g).totals["macs"] <= MAX_MACS:
            break
    return g
