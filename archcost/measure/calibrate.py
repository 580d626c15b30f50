"""``archcost calibrate``: synthetic micro-benchmarks of this device → a device profile.

Only synthetic layers are timed — random shapes drawn from the ranges CNNs use, never a
zoo model's layers — so the zoo stays an honest out-of-sample test of the prediction.
Each benchmark is a one-layer spec built with archcost's own loader and lowered with its
own lowering, so its module is exactly what a model's node lowers to and its features
are computed by the same function the predictor uses (:mod:`archcost.analysis.latency`).

What is timed:

- **bandwidth**: ``dst.copy_(src)`` at working sets from 4 KiB to 256 MiB (cache → main memory);
- **compute classes**: dense k×k convolutions, 1×1 convolutions, depthwise and grouped
  convolutions, linear layers (GEMM/GEMV), over a spread of channels, sizes, kernels, strides;
- **element-wise and small ops**: batch-norm, every activation, add, multiply (broadcast
  gates), scale, concat, channel shuffle, zero padding, max / average / adaptive pooling,
  local response norm, and views (their cost is the call itself);
- **overhead**: a synthetic chain of identity nodes run as a lowered model (the framework's
  cost per node and per forward call).

All benchmarks are timed in interleaved rounds (one block of each per round, repeated until
the time budget), so a burst of load on a shared machine is spread over all of them; the
median of each is fitted per class by non-negative least squares (:mod:`.fit`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import random
import statistics
import time
from dataclasses import dataclass

from ..analysis import latency as L
from ..analysis.conventions import DTYPE_BYTES
from ..errors import SpecError
from ..ops import OPS
from . import fit
from .device import cpu_count, load_average, setup, slug
from .timer import Block, pick, quartiles
from .timer import rounds as timed_rounds

BANDWIDTH_SIZES = [2 ** k for k in range(12, 29)]  # bytes per buffer: 4 KiB … 256 MiB
# The plan (not per-op facts: each op's class comes from its definition): the op that stands for each
# element-wise and pooling class, in the order that fixes the seeded draws — reordering it would change
# every benchmark drawn after the change.
ELEMENTWISE_OPS = ["batchnorm2d", "relu", "relu6", "hardswish", "hardsigmoid", "sigmoid", "silu", "gelu", "tanh",
                   "leaky_relu", "add", "scale", "channel_shuffle", "zeropad2d"]
POOL_OPS = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "local_response_norm"]
VIEW_OPS = ["identity", "flatten", "dropout", "slice"]
# attention-era views: their cost is the call (appended after the classic plan, whose draws stay as they were)
TOKEN_VIEW_OPS = ["permute", "transpose", "unflatten"]


@dataclass
class Bench:
    """One synthetic benchmark: a node of a one-layer graph, its module and inputs, and its samples."""

    cls: str
    node: object
    layer: dict
    module: object = None
    inputs: tuple = ()
    block: Block = None
    samples: list = None

    def describe(self) -> dict:
        n = self.node
        return {"class": self.cls, "op": n.op, "layer": self.layer, "in_shapes": [list(s) for s in n.in_shapes],
                "out_shape": list(n.out_shape)}


def _logu(rng, lo, hi) -> int:
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def _nice(rng, lo, hi) -> int:
    """A channel count: mostly a multiple of 8 (as networks use), sometimes any integer."""
    c = _logu(rng, lo, hi)
    if rng.random() < 0.6 and c >= 8:
        c = max(8, int(round(c / 8)) * 8)
    return max(lo, min(hi, c))


def _graph(layers: list, input_shape: list):
    from ..language import build_graph, spec_from_data

    spec = {"name": "calibration", "input": list(input_shape), "layers": layers}
    return build_graph(spec_from_data(_as_loaded(spec), "<calibration>"))


def _as_loaded(data, line: int = 1):
    """Plain data as the loader returns a one-line document: dicts and lists that know their line."""
    from ..language.yamlload import LocDict, LocList

    if isinstance(data, dict):
        out = LocDict(line=line)
        for k, v in data.items():
            out[k] = _as_loaded(v, line)
        return out
    if isinstance(data, list):
        out = LocList([_as_loaded(v, line) for v in data], line=line)
        out.item_lines = [line] * len(out)
        return out
    return data


def _conv_layer(cin, cout, k, s, pad, h, w, groups=1):
    return {"conv2d": {"out_channels": cout, "kernel_size": k, "stride": s, "padding": pad, "groups": groups,
                       "bias": False}}, [cin, h, w]


def _dense_conv(rng, max_macs):
    while True:
        r = rng.random()
        if r < 0.1:  # a network's first layer: few input channels, a large image
            cin, cout, h = rng.choice([1, 3]), _nice(rng, 16, 96), _logu(rng, 56, 320)
        else:
            cin, cout, h = _nice(rng, 3, 1024), _nice(rng, 8, 1024), _logu(rng, 3, 160)
        kr = rng.random()
        if kr < 0.6:
            k = 3
        elif kr < 0.7:
            k = 5
        elif kr < 0.8:
            k = 7 if h >= 7 else 3
        elif kr < 0.9:
            k = [1, rng.choice([3, 7])] if rng.random() < 0.5 else [rng.choice([3, 7]), 1]
        else:
            k = 1  # strided 1×1 (a projection shortcut)
        s = 2 if (k == 1 or rng.random() < 0.3) else 1
        if k == 1:
            pad = 0
        elif isinstance(k, list):
            pad = [k[0] // 2, k[1] // 2]
        else:
            pad = k // 2 if rng.random() < 0.8 else 0
        kk = k if isinstance(k, list) else [k, k]
        ho = (h + 2 * (pad[0] if isinstance(pad, list) else pad) - kk[0]) // s + 1
        if ho < 1:
            continue
        macs = cout * ho * ho * cin * kk[0] * kk[1]
        if 2e5 <= macs <= max_macs:
            return _conv_layer(cin, cout, k, s, pad, h, h)


def _pointwise(rng, max_macs):
    while True:
        cin, cout = _nice(rng, 8, 2048), _nice(rng, 8, 2048)
        h = 1 if rng.random() < 0.12 else _logu(rng, 2, 112)
        if 1e4 <= cin * cout * h * h <= max_macs:
            return _conv_layer(cin, cout, 1, 1, 0, h, h)


def _depthwise(rng, max_macs):
    while True:
        c = _nice(rng, 8, 2048)
        k = rng.choice([3, 3, 3, 5, 5, 7])
        s = 2 if rng.random() < 0.3 else 1
        h = _logu(rng, max(4, k), 300)
        ho = (h + 2 * (k // 2) - k) // s + 1
        if 1e4 <= c * ho * ho * k * k <= max_macs / 4 and c * h * h <= 8e6:
            return _conv_layer(c, c, k, s, k // 2, h, h, groups=c)


def _grouped(rng, max_macs):
    while True:
        g = rng.choice([2, 3, 4, 8, 16, 32, 64])
        cin_g, cout_g = _logu(rng, 2, 64), _logu(rng, 2, 64)
        k = 1 if rng.random() < 0.4 else 3
        s = 2 if rng.random() < 0.25 else 1
        h = _logu(rng, 4, 112)
        ho = (h + 2 * (k // 2) - k) // s + 1
        macs = g * cout_g * ho * ho * cin_g * k * k
        if cin_g == 1 and cout_g == 1:
            continue
        if 1e5 <= macs <= max_macs:
            return _conv_layer(g * cin_g, g * cout_g, k, s, k // 2, h, h, groups=g)


def _linear(rng, max_weights):
    while True:
        fin, fout = _logu(rng, 16, 25088), _logu(rng, 10, 4096)
        if fin * fout <= max_weights:
            return {"linear": {"out_features": fout}}, [fin]


def _eltwise_shape(rng, lo=2e3, hi=6e6):
    while True:
        c = _nice(rng, 8, 1024)
        h = 1 if rng.random() < 0.05 else _logu(rng, 1, 224)
        if lo <= c * h * h <= hi:
            return c, h


def _eltwise(rng, op):
    c, h = _eltwise_shape(rng)
    if op == "batchnorm2d":
        layer = {"batchnorm2d": {}}
    elif op == "add":
        layer = {"parallel": {"branches": [[], []], "join": "add"}}
    elif op == "scale":
        layer = {"scale": {"value": 0.2}}
    elif op == "channel_shuffle":
        g = rng.choice([2, 3, 4, 8])
        c = max(g, c // g * g)
        layer = {"channel_shuffle": {"groups": g}}
    elif op == "zeropad2d":
        layer = {"zeropad2d": {"padding": [0, 1, 0, 1]}}
    else:
        layer = {op: {}}
    return layer, [c, h, h]


def _multiply(rng):
    c, h = _eltwise_shape(rng)
    return {"parallel": {"branches": [[{"global_avg_pool2d": {}}], []], "join": "multiply"}}, [c, h, h]


def _concat(rng):
    c, h = _eltwise_shape(rng)
    n = rng.choice([2, 2, 3, 4])
    return {"parallel": {"branches": [[] for _ in range(n)], "join": "concat"}}, [max(1, c // n), h, h]


def _pool(rng, op):
    c, h = _eltwise_shape(rng, lo=4e3, hi=6e6)
    h = max(h, 4)
    if op == "max_pool2d":
        k, s, p = rng.choice([(3, 2, 1), (3, 2, 0), (2, 2, 0), (3, 1, 1)])
        return {"max_pool2d": {"kernel_size": k, "stride": s, "padding": p}}, [c, h, h]
    if op == "avg_pool2d":
        k, s, p = rng.choice([(3, 1, 1), (2, 2, 0), (3, 2, 1)])
        return {"avg_pool2d": {"kernel_size": k, "stride": s, "padding": p}}, [c, h, h]
    if op == "adaptive_avg_pool2d":
        return {"adaptive_avg_pool2d": {"output_size": 1}}, [c, h, h]
    if op == "adaptive_max_pool2d":
        return {"adaptive_max_pool2d": {"output_size": 1}}, [c, h, h]
    if op == "local_response_norm":
        return {"local_response_norm": {"size": 5}}, [c, h, h]
    raise ValueError(op)


def _view(rng, op):
    c, h = _eltwise_shape(rng, lo=1e3, hi=1e6)
    if op == "flatten":
        return {"flatten": {}}, [c, h, h]
    if op == "slice":
        return {"parallel": {"branches": [[], []], "split": 2, "join": "concat"}}, [2 * c, h, h]
    return {op: {}}, [c, h, h]


def _heads_dim(rng):
    """(heads, embedding) as transformers use: 64 channels per head mostly, 32–128 otherwise."""
    h = rng.choice([1, 2, 3, 4, 6, 8, 12, 16])
    e = rng.choice([32, 64, 64, 64, 80, 96, 128])
    return h, h * e


def _attention(rng, max_macs):
    """nn.MultiheadAttention on N tokens of D channels (ViT: 50–1370 tokens, D 384–1280)."""
    while True:
        h, d = _heads_dim(rng)
        n = _logu(rng, 8, 1024)
        if 1e5 <= 4 * n * d * d + 2 * n * n * d <= max_macs:
            return {"multi_head_attention": {"num_heads": h}}, [n, d]


def _sdpa(rng, max_macs):
    while True:
        h, e = rng.choice([1, 2, 4, 8, 12, 16]), rng.choice([32, 64, 64, 128])
        n = _logu(rng, 8, 2048)
        if 1e5 <= 2 * h * n * n * e <= max_macs:
            return {"scaled_dot_product_attention": {}, "from": ["input", "input", "input"]}, [h, n, e]


def _matmul(rng, max_macs):
    """A batched product of two activations, as QKᵀ (…×n×k · …×k×m)."""
    while True:
        b, n, k = rng.choice([1, 2, 4, 8, 12, 16]), _logu(rng, 8, 1024), rng.choice([32, 64, 64, 128, 256])
        if 1e5 <= b * n * n * k <= max_macs:
            return [{"transpose": {"dim0": 1, "dim1": 2}, "name": "kt"}, {"matmul": {}, "from": ["input", "kt"]}], [b, n, k]


def _tokens(rng, lo=2e3, hi=6e6):
    while True:
        n, d = _logu(rng, 4, 4096), _nice(rng, 32, 2048)
        if lo <= n * d <= hi:
            return n, d


def _layernorm(rng, op):
    if op == "layernorm":
        n, d = _tokens(rng)
        return {"layernorm": {"eps": 1e-6}}, [n, d]
    c, h = _eltwise_shape(rng)
    return {"layernorm2d": {"eps": 1e-6}}, [c, h, h]


def _token_view(rng, op):
    n, d = _tokens(rng, lo=1e3, hi=1e6)
    if op == "permute":
        return {"permute": {"dims": [1, 0]}}, [n, d]
    if op == "transpose":
        return {"transpose": {"dim0": 0, "dim1": 1}}, [n, d]
    s = rng.choice([2, 4, 8]) if d % 8 == 0 else 1
    return {"unflatten": {"dim": 1, "sizes": [s, d // s]}}, [n, d]


def plan(seed: int = 0, scale: float = 1.0, max_macs: float = 4e8) -> list:
    """The synthetic benchmarks: [(class, layer dict, input shape)], deterministic for a seed.

    ``scale`` multiplies the number of samples (tests use a small one).
    """
    rng = random.Random(seed)
    n = lambda k: max(2, int(round(k * scale)))  # noqa: E731
    items = []
    items += [("conv",) + _dense_conv(rng, max_macs) for _ in range(n(120))]
    items += [("conv",) + _dense_conv(rng, 2.5 * max_macs) for _ in range(n(6))]  # a few large ones, as VGG has
    items += [("conv1x1",) + _pointwise(rng, max_macs) for _ in range(n(90))]
    items += [("depthwise",) + _depthwise(rng, max_macs) for _ in range(n(60))]
    items += [("grouped",) + _grouped(rng, max_macs) for _ in range(n(50))]
    items += [("linear",) + _linear(rng, 1.6e7) for _ in range(n(40))]
    for op in ELEMENTWISE_OPS:
        items += [(_op_class(op),) + _eltwise(rng, op) for _ in range(n(14))]
    items += [("multiply",) + _multiply(rng) for _ in range(n(14))]
    items += [("concat",) + _concat(rng) for _ in range(n(14))]
    for op in POOL_OPS:
        items += [(_op_class(op),) + _pool(rng, op) for _ in range(n(12 if op != "adaptive_max_pool2d" else 6))]
    items += [("view",) + _view(rng, op) for op in VIEW_OPS for _ in range(n(3))]
    # attention-era kinds, drawn after the classic plan so that its draws stay the same: attention (the whole
    # nn.MultiheadAttention, and scaled_dot_product_attention alone), batched matmuls, layer norms over tokens
    # and over a map's channels, GELU on tokens, and the token views (permute, transpose, unflatten)
    items += [("attention",) + _attention(rng, 2.5 * max_macs) for _ in range(n(40))]
    items += [("attention",) + _sdpa(rng, max_macs) for _ in range(n(20))]
    items += [("matmul",) + _matmul(rng, max_macs) for _ in range(n(24))]
    for op in ("layernorm", "layernorm2d"):
        items += [(_op_class(op),) + _layernorm(rng, op) for _ in range(n(14))]
    items += [("gelu", {"gelu": {}}, list(_tokens(rng))) for _ in range(n(8))]
    items += [("view",) + _token_view(rng, op) for op in TOKEN_VIEW_OPS for _ in range(n(3))]
    return items


def _op_class(op: str) -> str:
    """The latency class of an op whose class does not depend on its attributes (its definition's)."""
    return OPS[op].latency_class_of({})


def _pick_node(graph, cls):
    """The node a benchmark is about (one-layer specs may add a pooling branch or views around it)."""
    for node in reversed(graph.nodes):
        if L.node_class(node) == cls:
            return node
    return graph.nodes[-1]


def build(items: list, *, batch: int, torch_device, torch_dtype, cuda: bool) -> list:
    """Lower each planned benchmark to (module, random inputs) on the device."""
    import torch

    from ..lowering import LoweredNet

    benches = []
    for cls, layer, shape in items:
        g = _graph(layer if isinstance(layer, list) else [layer], shape)  # a list: a few layers (matmul's operands)
        node = _pick_node(g, cls)
        net = LoweredNet(g).eval().to(device=torch_device, dtype=torch_dtype)
        module = net.get_submodule(node.id)
        # uniform in [-1, 1): as good as normal values for timing (no denormals), and far quicker to make
        inputs = tuple(torch.empty(batch, *s, device=torch_device, dtype=torch_dtype).uniform_(-1, 1)
                       for s in node.in_shapes)
        b = Bench(cls=cls, node=node, layer=layer, module=module, inputs=inputs)
        call = getattr(module, "archcost_call", None)  # nn.MultiheadAttention: m(x, x, x, ...)[0]
        b.block = Block((lambda m=module, x=inputs, c=call: c(m, *x)) if call is not None else
                        (lambda m=module, x=inputs: m(*x)), cuda=cuda)
        b.samples = []
        benches.append(b)
    return benches


def _bandwidth_benches(torch_device, torch_dtype, cuda, sizes, kind: str):
    """(bytes moved, Block) per buffer size: ``copy`` (read + write: ``dst.copy_(src)``) or ``read`` (``src.sum()``)."""
    import torch

    out = []
    elem = torch.empty((), dtype=torch_dtype).element_size()
    for size in [64] + sizes:
        src = torch.empty(max(1, size // elem), device=torch_device, dtype=torch_dtype).uniform_(-1, 1)
        if kind == "copy":
            dst = torch.empty_like(src)
            out.append((2 * size, Block(lambda d=dst, s=src: d.copy_(s), cuda=cuda)))
        else:
            out.append((size, Block(lambda s=src: s.sum(), cuda=cuda)))
    return out


def _chain_seconds(n_nodes, torch_device, torch_dtype, cuda, clock, rounds=15):
    """Per forward pass of a lowered synthetic chain of ``n_nodes`` identity nodes."""
    import torch

    from ..lowering import LoweredNet

    g = _graph([{"identity": {}, "repeat": n_nodes}], [8])
    net = LoweredNet(g).eval().to(device=torch_device, dtype=torch_dtype)
    x = torch.randn(1, 8, device=torch_device, dtype=torch_dtype)
    b = Block(lambda: net(x), cuda=cuda)
    b.warm_up(3)
    b.size_to(0.002)
    return statistics.median(pick(s, clock, cuda) for s in timed_rounds([b], repeat=rounds)[0])


def calibrate(*, device: str = "cpu", threads: int | None = None, dtype: str = "float32", batch: int = 1,
              budget_s: float = 45.0, networks: int = 24, network_budget_s: float = 30.0, min_rounds: int = 4,
              token_networks: int = 8,
              seed: int = 0, scale: float = 1.0, max_macs: float = 4e8, clock: str | None = None,
              progress=None, quick: bool = False) -> dict:
    """Run the micro-benchmarks and synthetic networks, and fit a device profile (a JSON-ready dict).

    ``progress(phase, done, total)`` is called as work advances (the CLI draws a bar from it).
    ``scale`` and ``max_macs`` shrink the benchmark set; ``quick`` makes everything small (a smoke
    test in seconds, not an accurate profile: tests and ``calibrate --quick`` use it).
    ``budget_s`` bounds the micro-benchmarks' timed rounds and ``network_budget_s`` the synthetic
    networks' (at least ``min_rounds`` rounds each).  ``clock`` defaults to
    :func:`archcost.measure.profile.default_clock` (CPU time on one CPU thread).
    """
    import torch

    from . import synthetic
    from .profile import resolve_clock, prepare, run

    if dtype not in DTYPE_BYTES or dtype in ("int8", "float64"):
        raise SpecError(f"cannot calibrate for dtype {dtype!r}", fix="use --dtype float32, float16 or bfloat16.")
    t_start = time.perf_counter()
    info = setup(device, threads)
    cuda = info["kind"] == "cuda"
    clock = resolve_clock(info, clock)
    tdev = info["torch_device"]
    tdtype = getattr(torch, dtype)
    report = progress or (lambda *a: None)
    load_before = load_average()
    if quick:
        scale, max_macs, budget_s, network_budget_s, min_rounds = min(scale, 0.04), min(max_macs, 2e7), 0.3, 0.3, 2
        networks = min(networks, 2)
    sizes = BANDWIDTH_SIZES[:11] if quick else BANDWIDTH_SIZES
    items = plan(seed=seed, scale=scale, max_macs=max_macs)
    with torch.inference_mode():
        report("building benchmarks", 0, len(items))
        benches = build(items, batch=batch, torch_device=tdev, torch_dtype=tdtype, cuda=cuda)
        report("building benchmarks", len(items), len(items))

        # 1. bandwidth: copies (read + write) and sums (read only), from 64 B (the call alone) to 256 MiB
        copies = _bandwidth_benches(tdev, tdtype, cuda, sizes, "copy")
        reads = _bandwidth_benches(tdev, tdtype, cuda, sizes, "read")
        bw_blocks = [b for _, b in copies + reads]
        for b in bw_blocks:
            b.warm_up(1)
            b.size_to(0.002)
        bw_samples = [[pick(x, clock, cuda) for x in s] for s in timed_rounds(
            bw_blocks, repeat=7, on_round=lambda r, _spent: report("bandwidth", r, 7))]
        n = len(copies)
        bandwidth_raw = {"ws_bytes": [w for w, _ in copies[1:]],
                         "median_s": [statistics.median(s) for s in bw_samples[1:n]],
                         "call_s": statistics.median(bw_samples[0]),
                         "read": {"ws_bytes": [w for w, _ in reads[1:]],
                                  "median_s": [statistics.median(s) for s in bw_samples[n + 1:]]},
                         "read_call_s": statistics.median(bw_samples[n])}
        del copies, reads

        # 2. every micro-benchmark: warm up, size its block, then interleaved rounds until the budget
        blocks = [b.block for b in benches]
        for i, b in enumerate(blocks):
            b.warm_up(1)  # the first call of a shape builds its kernel (oneDNN generates code per shape)
            b.size_to(0.002)
            if i % 20 == 0:
                report("warm-up", i, len(benches))
        report("warm-up", len(benches), len(benches))

        def before(i):  # one untimed call first: timed calls then find the layer's data in cache
            if blocks[i].number == 1:
                blocks[i].fn()

        def progress(done, spent):
            report("micro-benchmarks", done, max(min_rounds, done + int((budget_s - spent) / max(spent / done, 1e-9))))

        # stop when another round would overrun the budget
        samples = timed_rounds(blocks, before=before, on_round=progress,
                               until=lambda done, spent: done >= min_rounds and spent + spent / done > budget_s)
        rounds = len(samples[0]) if samples else 0
        for b, s in zip(benches, samples):
            b.samples = [pick(x, clock, cuda) for x in s]
        report("micro-benchmarks", rounds, rounds)
        bench_raw = []
        for b in benches:
            q1, med, q3 = quartiles(b.samples)
            bench_raw.append({**b.describe(), "counts": L.node_counts(b.node, batch), "median_s": med, "q1_s": q1,
                              "iqr_s": q3 - q1, "repeats": len(b.samples), "number": b.block.number,
                              "samples_s": b.samples})
        del benches

        # 3. synthetic networks: per-layer times inside a network, and whole forward passes
        net_raw = []
        if networks:
            report("synthetic networks", 0, 1)
            preps = [prepare(synthetic.graph(10_000 * seed + k, max_resolution=64 if quick else None), batch=batch,
                             dtype=dtype, info=info) for k in range(networks)]
            # attention-era networks (ViT-like, ConvNeXt-like), seeded apart from the CNNs
            preps += [prepare(synthetic.graph(10_000 * seed + 5_000 + k, max_resolution=64 if quick else None,
                                              tokens=True), batch=batch, dtype=dtype, info=info)
                      for k in range(min(token_networks, 1) if quick else token_networks)]
            results = run(preps, warmup=2, budget_s=network_budget_s, per_layer=True, clock=clock, min_repeat=min_rounds,
                          on_round=lambda r, n: report("synthetic networks", r, max(r, n or min_rounds)))
            for p, res in zip(preps, results):
                layers = [{"name": n.id, "class": L.node_class(n), "op": n.op, "counts": L.node_counts(n, batch),
                           "median_s": row["hooked_ms"] / 1e3, "q1_s": row["q1_ms"] / 1e3, "iqr_s": row["iqr_ms"] / 1e3}
                          for n, row in zip(p.graph.nodes, res["layers"])]
                net_raw.append({"name": p.name, "nodes": len(p.graph.nodes),
                                "working_set_bytes": L.model_working_set(p.graph, batch, DTYPE_BYTES[dtype]),
                                "whole_s": res["measured_ms"]["median"] / 1e3, "whole_iqr_s": res["measured_ms"]["iqr"] / 1e3,
                                "whole_samples_s": [x / 1e3 for x in res["samples_ms"]],
                                "layers": layers})
            del preps

        # 4. the framework's cost per node and per forward, from synthetic chains of identity nodes
        chain = {"n_small": 4, "n_large": 260,
                 "small_s": _chain_seconds(4, tdev, tdtype, cuda, clock),
                 "large_s": _chain_seconds(260, tdev, tdtype, cuda, clock)}

    raw = {"bandwidth_raw": bandwidth_raw, "benchmarks": bench_raw, "networks": net_raw, "chain": chain}
    profile = fit_profile(raw, dtype=dtype, batch=batch)
    now = _dt.datetime.now().replace(microsecond=0)
    profile.update({
        "name": profile_name(info, dtype, batch, torch.__version__, now),
        "device": info["device"], "device_name": info["device_name"], "threads": info["threads"],
        "torch": torch.__version__, "date": now.isoformat(), "seed": seed,
        "clock": clock, "cudnn_benchmark": info.get("cudnn_benchmark"),
        "duration_s": round(time.perf_counter() - t_start, 1), "rounds": rounds,
        "host": {"cpu_count": cpu_count(), "load_average_before": load_before, "load_average_after": load_average()},
    })
    profile.update(raw)
    return profile


def profile_name(info: dict, dtype: str, batch: int, torch_version: str, when) -> str:
    """``cpu-1t-amd-epyc-torch2.14.1-20261201T201500``; CUDA: ``cuda-nvidia-h200-torch…-…``."""
    cuda = info["kind"] == "cuda"
    parts = [f"cuda-{slug(info['device_name'])}" if cuda else f"cpu-{info['threads']}t"]
    if dtype != "float32":
        parts.append(dtype)
    if batch != 1:
        parts.append(f"b{batch}")
    if not cuda:
        parts.append(slug(info["device_name"]))
    parts += [f"torch{torch_version.split('+')[0]}", when.strftime("%Y%m%dT%H%M%S")]
    return "-".join(parts)


NET_MIN_SAMPLES = {"compute": 40, "memory": 20}  # in-network samples a class needs for its own correction


def _group(cls: str) -> str:
    return "compute" if cls in L.COMPUTE_CLASSES else "memory"


def _curve(raw_curve, call_s):
    ws = raw_curve["ws_bytes"]
    return ws, _monotone([max((t - call_s) / w, 1e-13) for w, t in zip(ws, raw_curve["median_s"])])


def fit_profile(raw: dict, *, dtype: str = "float32", batch: int = 1) -> dict:
    """Fit the cost models of a profile from raw calibration measurements (pure Python).

    1. Per class, a model on the isolated micro-benchmarks (NNLS, relative error).
    2. Inside a network layers cost more (fresh output memory, cold code and data).  From the
       synthetic networks' per-layer samples: an element-wise class with enough samples is fitted
       on them directly (per call, per element in and out); a compute class with enough samples
       gets a correction (a factor on its isolated model, plus per call and per output element);
       every other class gets its group's shared correction (per call, per byte out and in).
       Every correction is folded into the class's terms, so the predictor stays one sum.
    3. ``overhead``: what the networks' whole forward passes took beyond their layers' times (the
       model's loop, and freeing tensors, outside any layer): per node (``node_s``, 0 when the per-layer
       hooks cost more than the loop) and per byte of output freed
       (``free_s_per_byte``); ``forward_s`` per call, from a chain of identity nodes.
    """
    eb = DTYPE_BYTES[dtype]

    def t_of(rec):  # every fit is to medians (profile["statistic"])
        return rec["median_s"]

    bwr = raw["bandwidth_raw"]
    ws, spb = _curve(bwr, bwr["call_s"])
    bandwidth = L.Bandwidth(ws, spb)
    rws, rspb = _curve(bwr["read"], bwr["read_call_s"]) if "read" in bwr else (ws, spb)

    iso = {}
    classes = {}
    for cls in sorted({b["class"] for b in raw["benchmarks"]}):
        rows = [s for s in raw["benchmarks"] if s["class"] == cls]
        terms = L.terms_of(cls)
        X = [[L.features(cls, s["counts"], eb, bandwidth)[t] for t in terms] for s in rows]
        coefs, err, kept = fit.robust_nnls(X, [t_of(s) for s in rows])
        iso[cls] = dict(zip(terms, coefs))
        classes[cls] = {"terms": dict(iso[cls]), "isolated_terms": dict(iso[cls]), "samples": len(rows),
                        "kept": kept, "fit_median_rel_error": err}
    fallback = {"one": iso.get("add", {}).get("one", 0.0), "io": 1.0}
    iso[L.FALLBACK] = fallback
    classes[L.FALLBACK] = {"terms": dict(fallback), "isolated_terms": dict(fallback), "samples": 0,
                           "note": "ops without a class of their own: one copy of their bytes"}

    def iso_seconds(cls, counts):
        c = cls if cls in iso else L.FALLBACK
        f = L.features(c, counts, eb, bandwidth)
        return sum(iso[c].get(t, 0.0) * v for t, v in f.items())

    samples = [(l["class"], l["counts"], t_of(l)) for net in raw.get("networks", []) for l in net["layers"]
               if t_of(l) > 0]
    # shared corrections per group: Σ p × [1, out bytes, in bytes] on top of the isolated model
    shared = {}
    for g in ("compute", "memory"):
        gs = [s for s in samples if _group(s[0]) == g]
        if len(gs) >= 10:
            X = [[1.0, c["out"] * eb, c["in"] * eb] for _, c, _ in gs]
            y = [t - iso_seconds(cls, c) for cls, c, t in gs]
            shared[g] = fit.nnls(X, y, scale_by=[(t * 1e-3) ** 0.5 for _, _, t in gs])  # between absolute and relative
        else:
            shared[g] = [0.0, 0.0, 0.0]
    for cls, entry in classes.items():
        terms = entry["terms"]
        cs = [s for s in samples if s[0] == cls]
        g = _group(cls)
        entry["network_samples"] = len(cs)
        if g == "memory" and len(cs) >= NET_MIN_SAMPLES[g] and "in" in terms:
            direct = list(terms)  # raw counts, and "io": the time a copy of its bytes takes (cache or memory)
            co, err, _ = fit.robust_nnls([[L.features(cls, c, eb, bandwidth)[t] for t in direct] for _, c, _ in cs],
                                         [t for _, _, t in cs])
            entry["terms"] = {t: 0.0 for t in terms} | dict(zip(direct, co))
            entry["network_fit"] = {"kind": "direct", "median_rel_error": err}
        elif g == "compute" and len(cs) >= NET_MIN_SAMPLES[g]:
            co, err, _ = fit.robust_nnls([[iso_seconds(cls, c), 1.0, c["out"]] for _, c, _ in cs],
                                         [t for _, _, t in cs])
            entry["terms"] = {t: v * co[0] for t, v in terms.items()}
            entry["terms"]["one"] = entry["terms"].get("one", 0.0) + co[1]
            entry["terms"]["out"] = entry["terms"].get("out", 0.0) + co[2]
            entry["network_fit"] = {"kind": "factor", "factor": co[0], "median_rel_error": err}
        else:
            p = shared[g]
            terms["one"] = terms.get("one", 0.0) + p[0]
            if "out" in terms:
                terms["out"] = terms["out"] + p[1] * eb
                terms["in"] = terms.get("in", 0.0) + p[2] * eb
            entry["network_fit"] = {"kind": "shared"}
        _keep_in_range(entry)

    profile = {
        "format": L.PROFILE_FORMAT, "version": L.PROFILE_VERSION, "dtype": dtype, "batch": batch,
        "memory_roof": True,
        "bandwidth": {"ws_bytes": ws, "s_per_byte": spb, "read_ws_bytes": rws, "read_s_per_byte": rspb},
        "overhead": {"node_s": 0.0, "forward_s": 0.0},
        "classes": classes,
        "shared_network_correction": {g: dict(zip(("one_s", "s_per_out_byte", "s_per_in_byte"), v))
                                      for g, v in shared.items()},
    }
    # the model's own time outside its layers (its loop; freeing tensors, which costs more the larger they
    # are), from whole passes of the synthetic networks: whole − Σ layers ≈ nodes × node_s + bytes × free_s_per_byte
    X, y, w = [], [], []
    for net in raw.get("networks", []):
        hooked = sum(t_of(l) for l in net["layers"])
        out_bytes = sum(l["counts"]["out"] * eb for l in net["layers"] if l["class"] != "view")
        X.append([float(net["nodes"]), float(out_bytes)])
        y.append(net["whole_s"] - hooked)
        w.append(1.0 / net["whole_s"])
    ch = raw["chain"]
    per_node = (ch["large_s"] - ch["small_s"]) / (ch["n_large"] - ch["n_small"])
    node_s, free_s = fit.ols(X, y, w) if len(X) >= 3 else (max(0.0, per_node), 0.0)
    if free_s < 0:  # freeing cannot give time back: refit with the per-node term alone
        node_s, free_s = fit.ols([[x[0]] for x in X], y, w)[0], 0.0
    if node_s < 0:  # a profile's node_s is at least 0 (the hooks cost more than the loop): keep the freeing term
        node_s, free_s = 0.0, max(0.0, fit.ols([[x[1]] for x in X], y, w)[0]) if len(X) >= 3 else 0.0
    profile["overhead"] = {"node_s": node_s, "free_s_per_byte": free_s,
                           "forward_s": max(0.0, ch["small_s"] - ch["n_small"] * per_node),
                           "chain_node_s": per_node}
    mac_rows = [s for s in raw["benchmarks"] if s["class"] in L.BASELINE_CLASSES]
    profile["statistic"] = "median"
    profile["macs_baseline"] = {"s_per_mac": sum(t_of(s) for s in mac_rows)
                                / max(1, sum(s["counts"]["macs"] for s in mac_rows)),
                                "samples": len(mac_rows),
                                "note": "Σ time / Σ MACs over the conv and linear micro-benchmarks"}
    return profile


def _keep_in_range(entry: dict) -> None:
    """A class's terms as the profile format allows them (finite, 0 ≤ x ≤ MAX_SECONDS: load_profile refuses
    others).  A network correction fitted on a few noisy samples can blow a term up (seen once on a loaded
    machine: a calibrate --quick whose profile could not be read back); the class then keeps its isolated
    micro-benchmark model, which is said in ``network_fit``, and that model is clipped into range."""
    from ..analysis.profile_file import MAX_SECONDS

    def ok(x):
        return isinstance(x, float | int) and math.isfinite(x) and 0.0 <= x <= MAX_SECONDS

    if all(ok(x) for x in entry["terms"].values()):
        return
    bad = sorted(t for t, x in entry["terms"].items() if not ok(x))
    entry["network_fit"] = {"kind": "refused", "why": f"terms {bad} out of range; isolated model kept",
                            "was": entry.get("network_fit", {}).get("kind")}
    entry["terms"] = {t: min(max(x, 0.0), MAX_SECONDS) if isinstance(x, float | int) and math.isfinite(x) else 0.0
                      for t, x in entry["isolated_terms"].items()}


def _monotone(spb: list) -> list:
    """Seconds per byte can only grow with the working set (bigger never fits a faster cache):
    from the largest size down, each value is at most the next larger one's (a small copy that
    looks slow per byte is call overhead left over, not a slower cache)."""
    out, cur = [], math.inf
    for v in reversed(spb):
        cur = min(cur, v)
        out.append(cur)
    return out[::-1]


def save(profile: dict, out: str | None = None) -> str:
    """Write a profile to ``out`` or to the user cache directory under its name; returns the path."""
    from pathlib import Path

    path = Path(out) if out else L.profiles_dir() / f"{profile['name']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(profile, indent=1) + "\n", encoding="utf-8")
    return str(path)
