"""`archcost zoo`: one row per zoo model."""

from __future__ import annotations

import json

from ..errors import SpecError
from . import units

SORT_KEYS = ("name", "family", "year", "params", "macs", "top1")
COLUMNS = ("name", "family", "year", "input", "params", "macs", "top1", "accuracy_source")


def zoo_rows(family: str | None = None, sort: str = "name") -> list:
    from ..api import analyze
    from ..zoo import entries

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


def zoo_text(rows, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({**r, "input": "x".join(map(str, r["input"]))})
        return buf.getvalue()
    lines = ["| model | family | year | input | params | MACs | top-1 |", "|---|---|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['family']} | {r['year'] or ''} | {units.shape(r['input'])} | "
                     f"{units.count(r['params'])} | {units.count(r['macs'])} | {r['top1'] if r['top1'] is not None else ''} |")
    return "\n".join(lines) + "\n"


def zoo_table(rows):
    from rich.table import Table

    t = Table(title=f"archcost zoo ({len(rows)} models; MACs under the default convention)")
    for col, just in (("model", "left"), ("family", "left"), ("year", "right"), ("input", "left"),
                      ("params", "right"), ("MACs", "right"), ("top-1 %", "right"), ("accuracy source", "left")):
        t.add_column(col, justify=just)
    for r in rows:
        t.add_row(r["name"], r["family"], str(r["year"] or ""), units.shape(r["input"]), units.count(r["params"]),
                  units.count(r["macs"]), f"{r['top1']:.2f}" if r["top1"] is not None else "", r["accuracy_source"] or "")
    return t
