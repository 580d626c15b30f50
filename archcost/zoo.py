"""The zoo: every spec in specs/ (and each of its variants) as a listable entry, and the listing's rows.

:func:`zoo_rows` lives here rather than in :mod:`archcost.catalog` because ``catalog`` picks models
from :func:`entries` (so it sits above this module) while :func:`to_pandas` needs the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .api import analyze
from .errors import SpecError
from .language import load_spec, specs_dir

SORT_KEYS = ("name", "family", "year", "params", "macs", "top1")
COLUMNS = ("name", "family", "year", "input", "params", "macs", "top1", "accuracy_source")


@dataclass
class ZooEntry:
    name: str
    file: str
    variant: str | None
    family: str
    year: int | None
    top1: float | None
    accuracy_source: str | None
    aliases: list


def entries() -> list:
    """All zoo models: one per spec file, plus one per variant (variants replace the base name)."""
    out = []
    for path in sorted(specs_dir().glob("*.yaml")):
        spec = load_spec(str(path))
        m = spec.model
        year = m.paper.year if m.paper else None
        if m.variants:
            for vname, v in m.variants.items():
                acc = v.accuracy
                out.append(ZooEntry(vname, str(path), vname, m.family or "other", year,
                                    acc.top1 if acc else None, acc.source if acc else None, list(v.aliases)))
        else:
            acc = m.accuracy
            out.append(ZooEntry(m.name, str(path), None, m.family or "other", year,
                                acc.top1 if acc else None, acc.source if acc else None, list(m.aliases)))
    return out


def zoo_rows(family: str | None = None, sort: str = "name") -> list:
    """One dict per zoo model (keys :data:`COLUMNS`; MACs under the default convention), optionally of one
    family, sorted by ``sort`` (:data:`SORT_KEYS`; numbers largest first, models without a value last)."""
    if sort not in SORT_KEYS:
        raise SpecError(f"cannot sort by '{sort}'", fix=f"use one of {', '.join(SORT_KEYS)}.")
    rows = []
    for e in entries():
        if family and e.family != family:
            continue
        a = analyze(e.name)
        rows.append({"name": e.name, "family": e.family, "year": e.year, "input": list(a.graph.input_shape),
                     "params": a.totals["params"], "macs": a.totals["macs"], "top1": e.top1,
                     "accuracy_source": e.accuracy_source})
    if family and not rows:
        fams = sorted({e.family for e in entries()})
        raise SpecError(f"no zoo models in family '{family}'", fix=f"families: {', '.join(fams)}.")
    rows.sort(key=lambda r: (r[sort] is None, r[sort] if r[sort] is not None else 0, r["name"]),
              reverse=sort in ("params", "macs", "top1", "year"))
    if sort in ("params", "macs", "top1", "year"):  # keep models without a value last
        rows.sort(key=lambda r: r[sort] is None)
    return rows


def to_pandas(family: str | None = None, sort: str = "name"):
    """The zoo listing (``archcost zoo``) as a pandas DataFrame: name, family, year, input, params, MACs
    (default convention), top1, accuracy_source.  pandas is imported only here."""
    from .extras import require

    require("pandas", "archcost.zoo.to_pandas()")
    import pandas as pd

    return pd.DataFrame(zoo_rows(family=family, sort=sort), columns=list(COLUMNS))
