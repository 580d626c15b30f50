"""A :class:`~archcost.analysis.breakdown.Comparison` as JSON, CSV, Markdown or a rich table.

One row per preset: MACs, FLOPs, params, the difference to ``default`` and that difference by op
category.  JSON and CSV carry every category; Markdown and the rich table only those in which some
preset differs (the others are zero for every preset).
"""

from __future__ import annotations

import csv
import io
import json

from ..analysis.peers import CATEGORIES, CATEGORY_LABELS
from .. import units


def to_json(cmp, indent: int = 2) -> str:
    return json.dumps(cmp.to_dict(), indent=indent, allow_nan=False)


def to_csv(cmp) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["convention", "peer", "macs", "flops", "params", "trainable_params", "macs_vs_default"]
               + [f"macs_vs_default_{c}" for c in CATEGORIES])
    for p in cmp.presets:
        w.writerow([p.name, p.peer or "", p.macs, p.flops, p.params, p.trainable_params, p.macs_vs_default]
                   + [p.macs_vs_default_by_category.get(c, 0) for c in CATEGORIES])
    return buf.getvalue()


def _title(cmp) -> str:
    title = cmp.meta.get("title") or cmp.model
    return f"{title} ({cmp.model}) — input {units.shape(cmp.input_shape)}: MACs by counting convention"


def _signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def _pct(p, base: int) -> str:
    return f"{p.macs_vs_default / base:+.2%}" if base and p.macs_vs_default else ""


def notes(cmp) -> list:
    """Lines under the table: what the columns mean and how `full` reaches its FLOPs."""
    cats = cmp.categories()
    lines = ["Difference to default = the sum of the category columns"
             + (f" ({', '.join(CATEGORY_LABELS[c] for c in cats)})" if cats else "")
             + "; presets count MACs, FLOPs = 2 × MACs except full."]
    full = cmp.by_name().get("full")
    if full and full.extra_flops_by_category:
        parts = " + ".join(f"{CATEGORY_LABELS[k]} {v:,}" for k, v in full.extra_flops_by_category.items())
        lines.append(f"full: FLOPs = 2 × {full.macs:,} MACs + {parts} = {full.flops:,} "
                     f"({full.flops / 2:,.0f} MAC-equivalents).")
    return lines


def to_markdown(cmp) -> str:
    cats = cmp.categories()
    base = cmp.by_name()["default"].macs if "default" in cmp.by_name() else 0
    lines = [f"**{_title(cmp)}**", "",
             "| preset | reproduces | MACs | FLOPs | params | vs default |" + "".join(f" {CATEGORY_LABELS[c]} |" for c in cats),
             "|---|---|---:|---:|---:|---:|" + "---:|" * len(cats)]
    for p in cmp.presets:
        vs = _signed(p.macs_vs_default) + (f" ({_pct(p, base)})" if _pct(p, base) else "")
        lines.append(f"| `{p.name}` | {p.peer or ''} | {p.macs:,} | {p.flops:,} | {p.params:,} | {vs} |"
                     + "".join(f" {_signed(p.macs_vs_default_by_category.get(c, 0))} |" for c in cats))
    lines += [""] + [line + "  " for line in notes(cmp)]
    return "\n".join(lines) + "\n"


# two-line headers keep the rich table inside 80-100 columns
_SHORT = {"macs": "conv/\nlinear", "bias": "bias", "batchnorm": "batch-\nnorm", "norm": "other\nnorms",
          "act": "activ-\nations", "pool": "pooling", "eltwise": "element-\nwise", "adaptive_pool": "adaptive\npooling"}


def rich_table(cmp, width: int = 200):
    """The comparison as a rich table; FLOPs, then the percentage, then params make way when ``width`` is short."""
    from rich import box
    from rich.table import Table

    cats = cmp.categories()
    base = cmp.by_name()["default"].macs if "default" in cmp.by_name() else 0
    short = lambda n: (("+" if n > 0 else "") + units.count(n)) if n else ""  # noqa: E731
    # (header, cell, priority: higher goes first when narrow)
    cols = [("MACs", lambda p: units.count(p.macs), 0), ("FLOPs", lambda p: units.count(p.flops), 3),
            ("params", lambda p: units.count(p.params), 1), ("vs\ndefault", lambda p: short(p.macs_vs_default), 0),
            ("", lambda p: _pct(p, base), 2)]
    cols += [(_SHORT[c], lambda p, c=c: short(p.macs_vs_default_by_category.get(c, 0)), 0) for c in cats]

    def need(cs):  # content + padding and separator (3) per column, the preset column
        return 10 + sum(3 + max(max(len(x) for x in h.split("\n")) if h else 0, *(len(f(p)) for p in cmp.presets))
                        for h, f, _ in cs)
    for drop in (3, 2, 1):
        if need(cols) <= width:
            break
        cols = [c for c in cols if c[2] != drop]
    peers = "; ".join(f"{p.name}: {p.peer}" for p in cmp.presets if p.peer)
    table = Table(title=_title(cmp), caption="\n".join([f"reproduces — {peers}", *notes(cmp)]), header_style="bold",
                  caption_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("preset", no_wrap=True)
    for h, _, _ in cols:
        table.add_column(h, justify="right", no_wrap=True)
    for p in cmp.presets:
        table.add_row(p.name, *(f(p) for _, f, _ in cols))
    return table
