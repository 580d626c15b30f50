"""The rich terminal table."""

from __future__ import annotations

from rich.table import Table

from . import units
from .formats import header_lines


def rich_table(analysis) -> Table:
    t = analysis.totals
    head = header_lines(analysis)
    table = Table(title=head[0], caption=head[1], show_footer=True, header_style="bold", footer_style="bold",
                  caption_justify="left")
    table.add_column("layer", footer="total", overflow="fold")
    table.add_column("op", no_wrap=True)
    table.add_column("output", footer=f"{t['layers']} layers", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True, footer=units.count(t["params"]))
    table.add_column("MACs", justify="right", no_wrap=True, footer=units.count(t["macs"]))
    table.add_column("FLOPs", justify="right", no_wrap=True, footer=units.count(t["flops"]))
    table.add_column("weights", justify="right", no_wrap=True, footer=units.nbytes(t["weight_bytes"]))
    table.add_column("activations", justify="right", no_wrap=True, footer="peak " + units.nbytes(t["peak_activation_bytes"]))
    table.add_column("FLOP/B", justify="right", no_wrap=True, footer=f"{t['arithmetic_intensity']:.1f}")
    for r in analysis.rows:
        table.add_row(r.name, r.op, units.shape(r.output_shape), units.count(r.params) if r.params else "",
                      units.count(r.macs) if r.macs else "", units.count(r.flops) if r.flops else "",
                      units.nbytes(r.weight_bytes) if r.weight_bytes else "", units.nbytes(r.activation_bytes),
                      f"{r.arithmetic_intensity:.1f}" if r.arithmetic_intensity else "")
    return table
