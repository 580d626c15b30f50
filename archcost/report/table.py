"""The rich terminal table.

Columns are dropped from the right of a priority list when the terminal is
narrow, so names and the key numbers never get squeezed into ellipses.
"""

from __future__ import annotations

from rich.table import Table

from .. import units
from ..analysis.display import cell_text, header_lines

# (header, row -> cell, totals -> footer, priority: lower = kept longer)
_COLUMNS = [
    ("params", lambda r: units.count(r.params) if r.params else "", lambda t: units.count(t["params"]), 0),
    ("MACs", lambda r: units.count(r.macs) if r.macs else "", lambda t: units.count(t["macs"]), 0),
    ("activations", lambda r: units.nbytes(r.activation_bytes), lambda t: "peak " + units.nbytes(t["peak_activation_bytes"]), 1),
    ("FLOPs", lambda r: units.count(r.flops) if r.flops else "", lambda t: units.count(t["flops"]), 2),
    ("weights", lambda r: units.nbytes(r.weight_bytes) if r.weight_bytes else "", lambda t: units.nbytes(t["weight_bytes"]), 2),
    ("FLOP/B", lambda r: f"{r.arithmetic_intensity:.1f}" if r.arithmetic_intensity else "",
     lambda t: f"{t['arithmetic_intensity']:.1f}", 3),
]


def _extra_columns(analysis) -> list:
    """Optional columns (Analysis.add_column), asked for explicitly: kept ahead of FLOPs, weights and FLOP/B."""
    return [(name, lambda r, k=name: cell_text((r.extra or {}).get(k)), lambda t, k=name: cell_text(t.get(k)), 1)
            for name in analysis.columns]


def rich_table(analysis, width: int = 200) -> Table:
    t = analysis.totals
    columns = _COLUMNS[:4] + _extra_columns(analysis) + _COLUMNS[4:]
    head = header_lines(analysis)
    name_w = min(max((len(r.name) for r in analysis.rows), default=10), 48)
    op_w = max((len(r.op) for r in analysis.rows), default=6)
    out_w = max((len(units.shape(r.output_shape)) for r in analysis.rows), default=8)
    budget = width - name_w - op_w - out_w - 10
    keep_level = 3
    while keep_level > 0 and budget < sum(14 for c in columns if c[3] <= keep_level):
        keep_level -= 1
    cols = [c for c in columns if c[3] <= keep_level]
    # the layer column folds into what the fixed-width columns leave (3 = padding and border per column)
    fixed = min(op_w, 16) + out_w + sum(
        max(len(name), len(foot(t)), *(len(cell(r)) for r in analysis.rows)) for name, cell, foot, _ in cols)
    layer_w = min(name_w, 24, max(8, width - fixed - 3 * (len(cols) + 3) - 1))
    table = Table(title=head[0], caption="\n".join(head[1:]), show_footer=True, header_style="bold",
                  footer_style="bold", caption_justify="left")
    table.add_column("layer", footer="total", overflow="fold", min_width=layer_w)
    table.add_column("op", no_wrap=True, max_width=16)
    table.add_column("output", footer=f"{t['layers']} layers", no_wrap=True)
    for name, _, foot, _ in cols:
        table.add_column(name, justify="right", no_wrap=True, footer=foot(t))
    for r in analysis.rows:
        table.add_row(r.name, r.op, units.shape(r.output_shape), *[cell(r) for _, cell, _, _ in cols])
    return table
