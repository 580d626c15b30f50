"""Latency prediction from a device profile, in pure Python (no torch, no numpy).

A *device profile* (written by ``archcost calibrate``, see :mod:`archcost.measure.calibrate`)
holds, for one device, thread count, dtype and torch version:

- ``bandwidth``: a copy benchmark's seconds per byte moved, at working sets from a few KiB
  (in cache) to hundreds of MiB (main memory);
- ``classes``: per op class, a fitted cost model ``time = Σ coefficient × feature`` over a
  few counts of the layer (MACs, elements in, out, weights, im2col volume, window work,
  or the time a copy of its bytes would take) — fitted by non-negative least squares on
  synthetic micro-benchmarks only;
- ``overhead``: the framework's cost per node inside a lowered model and per forward call.

Prediction per node (a roofline with a per-op overhead)::

    t = one + max(compute, memory) + node   compute = Σ coef × feature (the class's fitted model)
                                            memory  = weight bytes × read s/B at the model's working set
                                                    + activation bytes × s/B at the layer's working set
                                            node    = the model's own cost per node (its loop)
                                                    + output bytes × the cost of freeing a byte

``memory`` is the part the micro-benchmarks cannot see: inside a model, a layer's weights
were last touched a whole forward pass ago, so they come from wherever the model's working
set (all weights + all activations) fits — cache for a tiny model, main memory for VGG.
Element-wise classes (norms, activations, adds, pooling, concat) are fitted against the
copy curve itself, so their time already is their memory time.

Rows get ``predicted_ms``; totals get their sum plus the per-call overhead (``forward_s``, µs).
"""

from __future__ import annotations

import math
import os
from math import prod
from pathlib import Path

from ..errors import SpecError
from ..ops import OPS
from .conventions import DTYPE_BYTES

from .profile_file import PROFILE_FORMAT, PROFILE_VERSION  # noqa: E402 - the file format lives with its reader

# feature names of each fitted class (the order is the order of the fitted coefficients)
CONV_TERMS = ("one", "macs", "in", "out", "weights", "im2col")
GEMM_TERMS = ("one", "macs", "in", "out", "weights")
ATTENTION_TERMS = ("one", "macs", "in", "out", "weights", "scores")  # scores: h·N·S (the softmax's work)
ELTWISE_TERMS = ("one", "in", "out", "io")
POOL_TERMS = ("one", "in", "out", "window", "io")

POOL_CLASSES = {"max_pool", "avg_pool", "local_response_norm"}
COMPUTE_CLASSES = {"conv", "conv1x1", "depthwise", "grouped", "linear", "attention", "matmul"}
#: the classes of the MACs-only baseline (Σ time / Σ MACs): convolutions and linear layers, as before attention
BASELINE_CLASSES = ("conv", "conv1x1", "depthwise", "grouped", "linear")
#: a class an older profile may lack, and the class to use instead (before their own benchmarks, attention and
#: matmul were timed as linear layers, layer norm 2d as layer norm)
SUBSTITUTE = {"attention": "linear", "matmul": "linear", "layernorm2d": "layernorm"}
FALLBACK = "eltwise"  # an op the profile has no class for costs what copying its bytes costs


def terms_of(cls: str) -> tuple:
    if cls in ("conv", "grouped"):
        return CONV_TERMS
    if cls == "attention":
        return ATTENTION_TERMS
    if cls in COMPUTE_CLASSES:
        return GEMM_TERMS
    if cls in POOL_CLASSES:
        return POOL_TERMS
    if cls == "view":
        return ("one",)
    return ELTWISE_TERMS


def node_class(node) -> str:
    """The cost class of a graph node: conv, conv1x1, depthwise, grouped, linear, or per op (relu, batchnorm, ...);
    the op's ``latency_class`` (see :mod:`archcost.ops.base` for why it is not simply its kind)."""
    return OPS[node.op].latency_class_of(node.attrs)


def classes() -> set:
    """Every class a node of a registered op can have (a convolution's depend on its attributes)."""
    out = set(COMPUTE_CLASSES) | {FALLBACK}
    for op in OPS.values():
        if not callable(op.latency_class):
            out.add(op.latency_class_of({}))
    return out


def node_counts(node, batch: int) -> dict:
    """Counts of one node at ``batch`` that the cost models use (elements, not bytes): from the op's
    ``costs`` (``macs``, the default convention's), ``params`` (``weights``: weight + bias + running
    statistics, what the kernel reads) and ``latency_features`` (``im2col``, ``window``)."""
    op, a, ins = OPS[node.op], node.attrs, list(node.in_shapes)
    p = op.params(a, ins)
    extra = op.latency_features(a, ins, node.out_shape)
    return {"in": batch * sum(prod(s) for s in ins), "out": batch * prod(node.out_shape),
            "weights": p.weight + p.bias + p.running_stats, "macs": batch * op.costs(a, ins, node.out_shape).get("macs", 0),
            "im2col": batch * extra.get("im2col", 0), "window": batch * extra.get("window", 0),
            "scores": batch * extra.get("scores", 0)}


class Bandwidth:
    """Seconds per byte moved as a function of working-set bytes (log-log interpolation of the copy benchmark)."""

    def __init__(self, ws_bytes: list, s_per_byte: list):
        pts = sorted(zip(ws_bytes, s_per_byte))
        self.x = [math.log(max(w, 1.0)) for w, _ in pts]
        self.y = [math.log(max(s, 1e-18)) for _, s in pts]

    def __call__(self, ws: float) -> float:
        x, y = self.x, self.y
        lw = math.log(max(ws, 1.0))
        if lw <= x[0]:
            return math.exp(y[0])
        if lw >= x[-1]:
            return math.exp(y[-1])
        lo, hi = 0, len(x) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if x[mid] <= lw:
                lo = mid
            else:
                hi = mid
        f = (lw - x[lo]) / (x[hi] - x[lo]) if x[hi] > x[lo] else 0.0
        return math.exp(y[lo] + f * (y[hi] - y[lo]))


def features(cls: str, counts: dict, elem_bytes: int, bw: Bandwidth) -> dict:
    """The feature values of a node for its class's cost model (``one`` = 1, counts, ``io`` in seconds)."""
    io_bytes = (counts["in"] + counts["out"]) * elem_bytes
    f = {"one": 1.0, "macs": counts["macs"], "in": counts["in"], "out": counts["out"], "weights": counts["weights"],
         "im2col": counts["im2col"], "window": counts["window"], "scores": counts.get("scores", 0),
         "io": io_bytes * bw(io_bytes)}
    return {t: float(f[t]) for t in terms_of(cls)}


class DeviceProfile:
    """A loaded, validated device profile (see the module docstring and the README's "Latency")."""

    def __init__(self, data: dict, source: str = "<profile>", text: str | None = None):
        self.data = data
        self.source = source
        _validate(data, source, text)
        self.name = data["name"]
        self.dtype = data["dtype"]
        bw = data["bandwidth"]
        self.bandwidth = Bandwidth(bw["ws_bytes"], bw["s_per_byte"])
        self.read_bandwidth = Bandwidth(bw.get("read_ws_bytes", bw["ws_bytes"]),
                                        bw.get("read_s_per_byte", bw["s_per_byte"]))
        self.classes = {k: dict(v["terms"]) for k, v in data["classes"].items()}
        ov = data["overhead"]
        self.node_s = float(ov["node_s"])
        self.free_s_per_byte = float(ov.get("free_s_per_byte", 0.0))
        self.forward_s = float(ov["forward_s"])
        self.memory_roof = data.get("memory_roof", True)

    def __repr__(self) -> str:
        return f"DeviceProfile({self.name!r}, {self.data['device_name']!r}, {self.data['threads']} threads)"

    def class_terms(self, cls: str) -> tuple:
        """(class actually used, its coefficients): unknown classes fall back to the copy-like ``eltwise``."""
        if cls in self.classes:
            return cls, self.classes[cls]
        if SUBSTITUTE.get(cls) in self.classes:
            return SUBSTITUTE[cls], self.classes[SUBSTITUTE[cls]]
        if cls in COMPUTE_CLASSES and "conv" in self.classes:
            return "conv", self.classes["conv"]
        return FALLBACK, self.classes.get(FALLBACK, {"one": 0.0, "io": 1.0})

    def node_seconds(self, node, batch: int, elem_bytes: int, model_ws: float) -> tuple:
        """(seconds, class used) of one node as a per-layer profiler sees it, inside a model whose
        working set is ``model_ws`` bytes (the model's own per-node cost, ``node_s``, comes on top)."""
        return self.seconds(node_class(node), node_counts(node, batch), elem_bytes, model_ws)

    def seconds(self, cls: str, counts: dict, elem_bytes: int, model_ws: float) -> tuple:
        """(seconds, class used) for a node of class ``cls`` with ``counts`` (see :func:`node_counts`)."""
        cls, coefs = self.class_terms(cls)
        f = features(cls, counts, elem_bytes, self.bandwidth)
        one = coefs.get("one", 0.0)
        compute = sum(coefs.get(t, 0.0) * v for t, v in f.items() if t != "one")
        if self.memory_roof and cls in COMPUTE_CLASSES:
            act = (counts["in"] + counts["out"]) * elem_bytes
            memory = counts["weights"] * elem_bytes * self.read_bandwidth(model_ws) + act * self.bandwidth(act)
            compute = max(compute, memory)
        return one + compute, cls


def _validate(d, source, text=None):
    from .profile_file import validate_profile  # field by field, located (see that module)

    validate_profile(d, source, text, terms_of)


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# --- where profiles live ---------------------------------------------------------------------

def profiles_dir() -> Path:
    """``profiles`` under archcost's cache folder (``$ARCHCOST_CACHE_DIR``, else the user cache directory)."""
    from ..cachedir import cache_root

    return Path(cache_root()) / "profiles"


def list_profiles() -> list:
    """Saved profiles, newest first: [(stem, path)]."""
    d = profiles_dir()
    if not d.is_dir():
        return []
    files = sorted(d.glob("*.json"), key=lambda p: p.name, reverse=True)  # names end in a sortable timestamp
    return [(p.stem, p) for p in files]


def resolve_profile(name_or_path: str) -> Path:
    """A profile file: an existing path, else the newest saved profile whose name is or starts with NAME."""
    p = Path(name_or_path).expanduser()
    try:
        special = p.exists() and not p.is_file()
    except (OSError, ValueError):
        special = False
    if special:  # a directory or FIFO given as the profile: say so (never wait on it)
        raise SpecError(f"device profile '{name_or_path}' is not a regular file (a directory, FIFO or device)",
                        fix="give the path of the .json file `archcost calibrate` wrote, or a saved profile's name.")
    if p.suffix == ".json" or os.sep in name_or_path or p.is_file():
        if not p.is_file():
            raise SpecError(f"device profile file '{name_or_path}' does not exist",
                            fix="give the path `archcost calibrate --out` wrote, or a saved profile's name "
                                "(`archcost calibrate --list`).")
        return p
    saved = list_profiles()
    for stem, path in saved:
        if stem == name_or_path or stem.startswith(name_or_path + "-"):
            return path
    if not saved:
        raise SpecError(f"no saved device profile named '{name_or_path}': {profiles_dir()} holds none yet",
                        fix="run `archcost calibrate` first (about 2 minutes; it saves one there), or pass the "
                            "path of a profile file.")
    names = ", ".join(stem for stem, _ in saved[:5])
    raise SpecError(f"no saved device profile named '{name_or_path}' in {profiles_dir()}",
                    fix=f"use a saved one ({names}; `archcost calibrate --list` lists all) or run "
                        "`archcost calibrate` for this device.")


def load_profile(name_or_path) -> DeviceProfile:
    """Load and validate a device profile: a :class:`DeviceProfile`, a dict, a path, or a saved name."""
    if isinstance(name_or_path, DeviceProfile):
        return name_or_path
    if isinstance(name_or_path, dict):
        return DeviceProfile(name_or_path)
    path = resolve_profile(str(name_or_path))
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None  # reported by the read below
    if key is not None and key in _PROFILE_CACHE:
        return _PROFILE_CACHE[key]
    prof = _read_profile(path)
    if key is not None:
        _PROFILE_CACHE.clear()  # one profile in use at a time; keep the newest
        _PROFILE_CACHE[key] = prof
    return prof


# A saved profile carries its raw calibration data (~1.5 MB): parsing and validating it takes far longer
# than a prediction, and plots, compare and reports predict one model after another with the same file.
# Keyed by the file's version, like the graph cache in archcost.api; a DeviceProfile is never mutated.
_PROFILE_CACHE: dict = {}


def _read_profile(path) -> DeviceProfile:
    from .profile_file import read_profile_data  # regular file, size, nesting, finite numbers

    data, text = read_profile_data(path)
    return DeviceProfile(data, str(path), text)


# --- prediction ----------------------------------------------------------------------------------


def model_working_set(graph, batch: int, elem_bytes: int) -> float:
    """Bytes one forward pass touches: every weight and buffer, and every non-view output."""
    total = 0
    for n in graph.nodes:
        op = OPS[n.op]
        p = op.params(n.attrs, list(n.in_shapes))
        total += (p.weight + p.bias + p.buffers) * elem_bytes
        if not op.view:
            total += batch * prod(n.out_shape) * elem_bytes
    return float(total)


def predict_graph(graph, profile, *, batch: int = 1, dtype: str = "float32") -> tuple:
    """Predicted seconds per node (graph order), the per-node classes, and the whole forward pass.

    Each node's time is what it costs inside the model: its own work as a per-layer profiler
    sees it, plus the model's cost around it (the forward loop: ``overhead.node_s``; freeing its
    output later: ``overhead.free_s_per_byte`` × output bytes).
    The whole pass adds the per-call cost ``overhead.forward_s``.
    """
    prof = load_profile(profile)
    if dtype != prof.dtype:
        raise SpecError(f"device profile '{prof.name}' was calibrated for {prof.dtype}, not {dtype}",
                        file=prof.source, fix=f"run `archcost calibrate --dtype {dtype}`, or predict for --dtype {prof.dtype}.")
    eb = DTYPE_BYTES[dtype]
    ws = model_working_set(graph, batch, eb)
    per_node, classes = [], []
    for n in graph.nodes:
        s, cls = prof.node_seconds(n, batch, eb, ws)
        freed = 0.0 if cls == "view" else batch * prod(n.out_shape) * eb * prof.free_s_per_byte
        per_node.append(max(0.0, s + prof.node_s + freed))
        classes.append(cls)
    return per_node, classes, sum(per_node) + prof.forward_s


def add_predictions(analysis, profile) -> "object":
    """Add ``predicted_ms`` to every row of an (uncollapsed) Analysis and to its totals; returns it."""
    prof = load_profile(profile)
    per_node, _, total = predict_graph(analysis.graph, prof, batch=analysis.batch, dtype=analysis.dtype)
    analysis.meta["device_profile"] = prof.name
    rows = analysis.rows
    if len(rows) != len(per_node) or any(r.name != n.id for r, n in zip(rows, analysis.graph.nodes)):
        raise ValueError("add_predictions needs the analysis' own rows (predict before collapse)")
    return analysis.add_column("predicted_ms", [s * 1e3 for s in per_node], total=total * 1e3, collapse="sum")


def macs_baseline_ms(macs: int, profile) -> float:
    """The MACs-only baseline: one ms-per-MAC constant from the same synthetic benchmarks."""
    prof = load_profile(profile)
    return macs * prof.data["macs_baseline"]["s_per_mac"] * 1e3


# reference layers for a profile's summary: (what, layer, input shape, rate unit)
REFERENCE_LAYERS = [
    ("dense 3×3 conv 64→64 at 56×56", {"conv2d": {"out_channels": 64, "kernel_size": 3, "padding": 1}}, [64, 56, 56], "flops"),
    ("dense 3×3 conv 256→256 at 14×14", {"conv2d": {"out_channels": 256, "kernel_size": 3, "padding": 1}}, [256, 14, 14], "flops"),
    ("1×1 conv 256→64 at 56×56", {"conv2d": {"out_channels": 64, "kernel_size": 1}}, [256, 56, 56], "flops"),
    ("depthwise 3×3 conv 144 at 56×56", {"conv2d": {"out_channels": 144, "kernel_size": 3, "padding": 1, "groups": 144}},
     [144, 56, 56], "flops"),
    ("grouped 3×3 conv 128→128, 32 groups, at 56×56",
     {"conv2d": {"out_channels": 128, "kernel_size": 3, "padding": 1, "groups": 32}}, [128, 56, 56], "flops"),
    ("linear 4096→4096 (batch 1)", {"linear": {"out_features": 4096}}, [4096], "bytes"),
    ("batch-norm 64×112×112", {"batchnorm2d": {}}, [64, 112, 112], "bytes"),
    ("relu 64×112×112", {"relu": {}}, [64, 112, 112], "bytes"),
    ("max-pool 3×3/2 64×112×112", {"max_pool2d": {"kernel_size": 3, "stride": 2, "padding": 1}}, [64, 112, 112], "bytes"),
    ("relu 16×8×8 (a tiny op: its cost is the call)", {"relu": {}}, [16, 8, 8], "bytes"),
]


def reference_rates(profile) -> list:
    """What a profile predicts for a few reference layers (inside a model): time and achieved rate."""
    import json as _json

    from ..language import build_graph, load_spec

    prof = load_profile(profile)
    eb = DTYPE_BYTES[prof.dtype]
    out = []
    for what, layer, shape, unit in REFERENCE_LAYERS:
        spec = {"name": "reference", "input": shape, "layers": [layer]}
        g = build_graph(load_spec("<reference>", text=_json.dumps(spec)))
        n = g.nodes[-1]
        secs, cls = prof.node_seconds(n, 1, eb, model_working_set(g, 1, eb) * 50)  # as if in a mid-sized model
        secs = max(secs + prof.node_s, 1e-9)
        c = node_counts(n, 1)
        if unit == "flops":
            rate = f"{2 * c['macs'] / secs / 1e9:.1f} GFLOP/s"
        else:
            moved = (c["in"] + c["out"] + c["weights"]) * eb
            rate = f"{moved / secs / 1e9:.1f} GB/s"
        out.append({"what": what, "class": cls, "predicted_ms": secs * 1e3, "rate": rate})
    return out
