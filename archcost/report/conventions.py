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
_SHORT = {"macs": "conv/\nlinear", "attention": "atten-\ntion", "bias": "bias", "batchnorm": "batch-\nnorm", "norm": "other\nnorms",
          "act": "activ-\nations", "pool": "pooling", "eltwise": "element-\nwise", "adaptive_pool": "adaptive\npooling"}


def rich_table(cmp, width=200):
    """``(table, print_width)``: FLOPs, then the percentage, then params make way when ``width`` is short
    (the one line under the table says so); ``width=None``: no limit."""
    from rich import box

    from .terminal import Column, build

    cats = cmp.categories()
    base = cmp.by_name()["default"].macs if "default" in cmp.by_name() else 0
    short = lambda n: (("+" if n > 0 else "") + units.count(n)) if n else ""  # noqa: E731
    ps = cmp.presets
    # priority: higher goes first when narrow
    cols = [Column("preset", [p.name for p in ps], justify="left"),
            Column("MACs", [units.count(p.macs) for p in ps]), Column("FLOPs", [units.count(p.flops) for p in ps], priority=3),
            Column("params", [units.count(p.params) for p in ps], priority=1),
            Column("vs\ndefault", [short(p.macs_vs_default) for p in ps]),
            Column("%", [_pct(p, base) for p in ps], priority=2)]
    cols += [Column(_SHORT[c], [short(p.macs_vs_default_by_category.get(c, 0)) for p in ps]) for c in cats]
    peers = "; ".join(f"{p.name}: {p.peer}" for p in ps if p.peer)
    return build(cols, width, title=_title(cmp), caption_lines=[f"reproduces — {peers}", *notes(cmp)],
                 header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
