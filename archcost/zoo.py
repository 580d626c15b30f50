"""The zoo: every spec in specs/ (and each of its variants) as a listable entry."""

from __future__ import annotations

from dataclasses import dataclass

from .language import load_spec, specs_dir


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


def to_pandas(family: str | None = None, sort: str = "name"):
    """The zoo listing (``archcost zoo``) as a pandas DataFrame: name, family, year, input, params, MACs
    (default convention), top1, accuracy_source.  pandas is imported only here."""
    from .extras import need

    need("pandas", "archcost.zoo.to_pandas")
    import pandas as pd

    from .report.zoo import COLUMNS, zoo_rows

    return pd.DataFrame(zoo_rows(family=family, sort=sort), columns=list(COLUMNS))
