"""The rich terminal table of an Analysis, fitted to the terminal by :mod:`archcost.report.terminal`.

Asked-for columns (``--receptive-field``, ``--device-profile``'s ``predicted_ms``, any
Analysis.add_column) are never hidden; on a narrow terminal FLOP/B, then weights and FLOPs, then
activations make way, and long layer names are shortened from the middle.  Big models are shown by
block (:func:`readable_depth`) unless ``--depth`` or ``--wide`` says otherwise; the footer says so.
"""

from __future__ import annotations

from .. import units
from ..analysis.display import cell_text, header_lines
from .terminal import Column, build

# (header, row -> cell, totals -> footer, priority: 0 = never hidden (asked for), higher = hidden first;
# params and MACs go last, and only when asked-for columns need the room; op before them, as a tree's
# leaf names mostly say the op)
_COLUMNS = [
    ("params", lambda r: units.count(r.params) if r.params else "", lambda t: units.count(t["params"]), 1),
    ("MACs", lambda r: units.count(r.macs) if r.macs else "", lambda t: units.count(t["macs"]), 1),
    ("activations", lambda r: units.nbytes(r.activation_bytes), lambda t: "peak " + units.nbytes(t["peak_activation_bytes"]), 3),
    ("FLOPs", lambda r: units.count(r.flops) if r.flops else "", lambda t: units.count(t["flops"]), 4),
    ("weights", lambda r: units.nbytes(r.weight_bytes) if r.weight_bytes else "", lambda t: units.nbytes(t["weight_bytes"]), 4),
    ("FLOP/B", lambda r: f"{r.arithmetic_intensity:.1f}" if r.arithmetic_intensity else "",
     lambda t: f"{t['arithmetic_intensity']:.1f}", 5),
]

READABLE_ROWS = 60  # above this many rows, the default terminal view shows blocks


def readable_depth(analysis, max_rows: int = READABLE_ROWS):
    """The deepest ``--depth`` that shows at most ``max_rows`` rows (at least 1), or None if all rows fit."""
    if len(analysis.rows) <= max_rows:
        return None
    names = [r.name.split(".") for r in analysis.rows]
    best = 1
    for d in range(1, max(len(n) for n in names)):
        if len({".".join(n[:d]) for n in names}) > max_rows:
            break
        best = d
    return best


def _extra_columns(analysis) -> list:
    """Optional columns (Analysis.add_column): asked for explicitly, so never hidden."""
    return [(name, lambda r, k=name: cell_text((r.extra or {}).get(k)), lambda t, k=name: cell_text(t.get(k)), 0)
            for name in analysis.columns]


def table_columns(analysis) -> list:
    t = analysis.totals
    rows = analysis.rows
    spec = _COLUMNS[:2] + _extra_columns(analysis) + _COLUMNS[2:]
    cols = [Column("layer", [r.name for r in rows], "total", 0, "left", shorten="tree", min_width=16),
            Column("op", [r.op for r in rows], "", 2, "left", shorten="middle", min_width=11),
            Column("output", [units.shape(r.output_shape) for r in rows], f"{t['layers']} layers", 0, "left")]
    cols += [Column(h, [cell(r) for r in rows], foot(t), p) for h, cell, foot, p in spec]
    return cols


def rich_table(analysis, width=200, collapsed=None):
    """``(table, print_width)`` for :func:`archcost.report.terminal.print_table`; ``width=None``: no limit.

    ``collapsed`` = (layers, depth) says the rows were collapsed to ``--depth depth`` for readability.
    """
    head = header_lines(analysis)
    notes = head[1:]
    if collapsed is not None:
        layers, depth = collapsed
        notes.append(f"{layers} layers shown as {len(analysis.rows)} rows by block (--depth {depth}, as more than "
                     f"{READABLE_ROWS} rows); every layer: --wide, or --depth {depth + 1} and deeper")
    return build(table_columns(analysis), width, title=head[0], caption_lines=notes, show_footer=True,
                 header_style="bold", footer_style="bold")
