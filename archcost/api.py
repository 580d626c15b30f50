"""The Python API: ``analyze``, ``build``, ``lower``. No torch here (``lower`` imports it when called).

``archcost.compare`` (many models at once) is :func:`archcost.catalog.compare.compare`: the catalog
calls :func:`analyze`, so it sits above this module.
"""

from __future__ import annotations

import os
from typing import Union

from .analysis import Analysis, analyze_graph
from .errors import SpecError
from .ir import Graph
from .capture.source import Tokens, parse_input  # noqa: F401 - parse_input is part of this API
from .capture.source import is_module_source as _is_module_source
from .language import Spec, build_graph, load_resolved, resolve

# (path, variant, mtime, size, input, overrides) -> Graph.  Every caller gets the same object, which is
# safe because a Graph cannot be changed (archcost/ir.py); what analysis derives from it is in graph.cache.
_GRAPH_CACHE: dict = {}
_CACHE_MAX = 256  # above the zoo size, so passes over the whole zoo reuse every graph


def build(spec: Union[str, Spec, Graph], *, input=None, overrides: dict | None = None) -> Graph:
    """Load (zoo name, path or Spec) and expand to the graph IR, cached per file version and arguments.

    The graph is immutable and shared with every other caller that builds the same file version with
    the same arguments (see :mod:`archcost.ir`); to edit one, build a new :class:`Graph`.
    """
    if isinstance(spec, Graph):
        return spec
    shape = parse_input(input)
    if not isinstance(spec, (str, Spec)) or _is_module_source(spec):  # an nn.Module, or torchvision:NAME ...
        from .capture import build_module_graph

        if overrides:
            raise SpecError("--set applies to specs; a torch module has no spec parameters",
                            fix="pass the module's own arguments: model.py:make_net(width=0.5).")
        return build_module_graph(spec, input=shape)
    if isinstance(spec, Spec):
        return build_graph(spec, input_shape=shape, overrides=overrides)
    path, variant = resolve(spec)
    try:
        st = os.stat(path)
        key = (path, variant, st.st_mtime_ns, st.st_size, shape, tuple(sorted((overrides or {}).items())))
        hash(key)
    except (OSError, TypeError):  # unreadable file (reported by the loader) or unhashable --set value
        key = None
    if key is not None and key in _GRAPH_CACHE:
        return _GRAPH_CACHE[key]
    graph = build_graph(load_resolved(path, variant), input_shape=shape, overrides=overrides)
    if key is not None:
        if len(_GRAPH_CACHE) >= _CACHE_MAX:
            _GRAPH_CACHE.pop(next(iter(_GRAPH_CACHE)))
        _GRAPH_CACHE[key] = graph
    return graph


def analyze(spec: Union[str, Spec, Graph], *, input=None, convention: str = "default", dtype: str = "float32",
            batch: int = 1, overrides: dict | None = None, device_profile=None) -> Analysis:
    """Analyse a spec analytically (no torch): per-layer rows and totals.

    ``spec`` is a zoo name (``"mobilenetv2"``), an alias (``"mobilenet_v2"``), a
    path to a YAML file, a loaded :class:`Spec` or a :class:`Graph` — or a torch
    module (an ``nn.Module`` instance, ``"torchvision:resnet50"``, ``"timm:NAME"``,
    ``"model.py:Net"``), captured as a spec first (needs the ``torch`` extra).  ``input``
    overrides the spec's input shape (without batch), e.g. ``(3, 160, 160)``.
    ``device_profile`` (a saved profile's name, a path, or a loaded profile; see
    ``archcost calibrate``) adds a ``predicted_ms`` column and ``totals["predicted_ms"]``.
    """
    graph = build(spec, input=input, overrides=overrides)
    meta = dict(graph.meta)
    a = analyze_graph(graph, convention=convention, dtype=dtype, batch=batch, meta=meta)
    if device_profile is not None:
        from .analysis.latency import add_predictions

        add_predictions(a, device_profile)
    return a


def compare_conventions(spec: Union[str, Spec, Graph], *, input=None, batch: int = 1, overrides: dict | None = None,
                        conventions=None):
    """Every counting convention on one network (no torch): MACs, FLOPs, params and, per preset, its
    difference to ``default`` broken down by op category (bias, batch-norm, activations, pooling, ...).

    Returns a :class:`~archcost.analysis.breakdown.Comparison`; ``.by_name()["thop"].macs`` is what thop
    prints for the network built of ``nn.Module`` layers.
    """
    from .analysis.breakdown import compare_conventions as compare

    graph = build(spec, input=input, overrides=overrides)
    return compare(graph, batch=batch, conventions=conventions, meta=dict(graph.meta))


def lower(spec: Union[str, Spec, Graph], *, input=None, overrides: dict | None = None):
    """Lower a spec to a ``torch.nn.Module`` whose submodules are named by the spec's node ids."""
    from .extras import require

    require("torch", "archcost.lower()", ("torch",))  # an ImportError naming the pip command, as the CLI does
    from .lowering import lower_graph

    return lower_graph(build(spec, input=input, overrides=overrides))
