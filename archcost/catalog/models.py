"""Models side by side: which models a command means, their totals, family and accuracy (pure Python).

Shared by ``archcost compare``, the accuracy plots and the HTML report, so the three agree on
every number: each model is one :func:`summarize` call (one ``analyze``), and the Pareto frontier
is one function.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..api import analyze
from ..errors import SpecError
from ..language.yamlload import load_yaml_file
from ..zoo import entries


@dataclass
class ModelSummary:
    """One analysed model with what a comparison needs. ``input_shape`` is without batch."""

    name: str               # the spec's own name (zoo name, or a file's `name:`)
    requested: str          # as the user wrote it (an alias, a path)
    family: str
    title: str
    file: str
    input_shape: list
    totals: dict
    accuracy: dict | None   # the spec's `accuracy:` (top1, top5, dataset, source)
    analysis: object = field(repr=False, default=None)

    @property
    def top1(self) -> float | None:
        return (self.accuracy or {}).get("top1")

    @property
    def dataset(self) -> str | None:
        return (self.accuracy or {}).get("dataset")

    @property
    def accuracy_source(self) -> str | None:
        return (self.accuracy or {}).get("source")


_FAMILY: dict = {}


def spec_family(file: str) -> str:
    """The ``family:`` of a spec file ("other" when it has none), parsed once per file version."""
    try:
        key = (file, os.stat(file).st_mtime_ns)
    except OSError:
        return "other"
    if key not in _FAMILY:
        raw = load_yaml_file(file)
        fam = raw.get("family") if isinstance(raw, dict) else None
        _FAMILY[key] = str(fam) if fam else "other"
    return _FAMILY[key]


def summarize(name: str, *, input=None, overrides: dict | None = None, convention: str = "default",
              dtype: str = "float32", batch: int = 1, device_profile=None) -> ModelSummary:
    """Analyse one model (zoo name, alias or path) and describe it for a comparison.

    With ``device_profile`` the analysis carries ``predicted_ms`` (see :mod:`archcost.catalog.latency`).
    """
    a = analyze(name, input=input, overrides=overrides, convention=convention, dtype=dtype, batch=batch,
                device_profile=device_profile)
    acc = a.meta.get("accuracy")
    return ModelSummary(name=a.model, requested=name, family=spec_family(a.graph.file),
                        title=a.meta.get("title") or a.model, file=a.graph.file, input_shape=list(a.graph.input_shape),
                        totals=a.totals, accuracy=dict(acc) if acc else None, analysis=a)


def select(names=None, *, all: bool = False, family: str | None = None, what: str = "this command") -> list:
    """The model names a command means: NAMES, or every zoo model (``--all``), or one family.

    Exactly one of the three must be given; an unknown family names the known ones.
    """
    names = list(names or [])
    given = sum([bool(names), bool(all), family is not None])
    if given != 1:
        raise SpecError(f"{what} needs models: name them, or give --all or --family F"
                        + (" (only one of the three)" if given > 1 else ""),
                        fix="e.g. `resnet50 mobilenetv2`, `--all` or `--family efficient` (see `archcost zoo`).")
    if names:
        return names
    zoo = entries()
    if all:
        return [e.name for e in zoo]
    picked = [e.name for e in zoo if e.family == family]
    if not picked:
        fams = sorted({e.family for e in zoo})
        raise SpecError(f"no zoo models in family '{family}'", fix=f"families: {', '.join(fams)}.")
    return picked


def pareto_front(points) -> list:
    """Indices of the points no other point beats: ``points`` are (cost, value) pairs, lower cost and
    higher value better; a point is dominated when another has cost <= and value >=, one of them strictly.

    Returned in increasing cost.  Equal points are all kept (neither beats the other).
    """
    pts = list(points)
    keep = []
    for i, (x, y) in enumerate(pts):
        if not any((x2 <= x and y2 >= y and (x2 < x or y2 > y)) for j, (x2, y2) in enumerate(pts) if j != i):
            keep.append(i)
    return sorted(keep, key=lambda i: (pts[i][0], -pts[i][1], i))
