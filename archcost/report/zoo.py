"""`archcost zoo` as text: the rows of :func:`archcost.zoo.zoo_rows` as JSON, CSV, Markdown or a rich table."""

from __future__ import annotations

import json

from .. import units
from ..zoo import COLUMNS


def zoo_text(rows, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, allow_nan=False)
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["model" if c == "name" else c for c in COLUMNS])  # `model`, as in the Markdown and compare
        for r in rows:
            r = {**r, "input": "x".join(map(str, r["input"]))}
            w.writerow(["" if r.get(c) is None else r[c] for c in COLUMNS])
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
