"""How an Analysis shows itself: its header lines and its HTML table (pure Python, stdlib only).

``Analysis._repr_html_`` (Jupyter) must find its formatter without importing upward, so the
formatting an Analysis needs to show *itself* lives here, next to the analysis, and
:mod:`archcost.report` (text, rich, the HTML report) imports it from here.  The alternative,
the analysis exposing data and ``report/`` formatting it, would leave ``_repr_html_`` either
importing ``report/`` (an upward edge and a cycle) or duplicating the table; one formatter at this
level keeps the imports one way and the notebook, Markdown, rich and report headers identical.

The table: ``interactive=True`` (the HTML report) groups the rows by top-level block: each block
is a ``<tbody class="blk">`` whose first row holds the block's sums (the same numbers as
``--depth 1``) and whose layer rows fold away; every numeric cell carries its exact value in
``data-v`` so the report's script (:data:`archcost.report.html.TABLE_JS`) can sort blocks, and
layers within them, by any column.  Every name from a spec is escaped.
"""

from __future__ import annotations

from .. import units
from .conventions import CONVENTIONS


def escape(text: str) -> str:
    """:func:`html.escape`, imported on first use: ``table -f json`` loads this module (for the header) and
    needs no HTML, and ``html`` costs it 2-3 ms of start-up."""
    from html import escape as html_escape

    return html_escape(text)


def cell_text(value) -> str:
    """An extra column's value as text (numbers with thousands separators, floats to 4 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "×".join(cell_text(v) for v in value)
    return str(value)


def header_lines(analysis) -> list:
    """The lines above every rendering of an Analysis: what, counted how, the totals, latency, paper, accuracy."""
    t = analysis.totals
    conv = CONVENTIONS[analysis.convention]
    title = analysis.meta.get("title") or analysis.model
    lines = [
        f"{title} ({analysis.model}) — input {units.shape(analysis.input_shape)}, dtype {analysis.dtype}",
        f"convention: {analysis.convention} ({conv.doc})",
        f"total: {t['params']:,} params, {t['macs']:,} MACs, {t['flops']:,} FLOPs, "
        f"weights {units.nbytes(t['weight_bytes'])}, peak activations {units.nbytes(t['peak_activation_bytes'])}",
    ]
    shared = [(n.id, n.shares) for n in analysis.graph.nodes if n.shares]
    if shared:
        named = ", ".join(f"{a} uses {b}'s" for a, b in shared[:3]) + (f" and {len(shared) - 3} more" if len(shared) > 3 else "")
        lines.append(f"shared weights: {named} (params counted once, at the first call; MACs at every call)")
    lines += captured_lines(analysis.meta.get("captured"))
    if t.get("predicted_ms") is not None:
        lines.append(f"predicted latency: {t['predicted_ms']:.4g} ms per forward pass (device profile "
                     f"{analysis.meta.get('device_profile', '?')})")
    paper, acc = analysis.meta.get("paper"), analysis.meta.get("accuracy")
    if paper:
        where = paper.get("arxiv") and f"arXiv {paper['arxiv']}" or paper.get("venue") or ""
        lines.append(f"paper: {paper['title']} ({', '.join(str(x) for x in (paper.get('year'), where) if x)})")
    if acc and acc.get("top1") is not None:
        lines.append(f"top-1 {acc['top1']}% on {acc.get('dataset', 'ImageNet-1k')} ({acc['source']})")
    elif acc and acc.get("top5") is not None:  # e.g. googlenet_paper: the paper gives top-5 only
        lines.append(f"top-5 {acc['top5']}% on {acc.get('dataset', 'ImageNet-1k')} ({acc['source']})")
    return lines


def captured_lines(cap) -> list:
    """What a captured module's rows leave out or count apart (``meta["captured"]``): opaque calls, modules
    never called, tied parameters counted twice."""
    if not cap:
        return []
    lines = []
    calls = cap.get("not_understood") or []
    if calls:
        lines.append(f"{len(calls)} call{'s' if len(calls) != 1 else ''} not understood (opaque rows, shapes, params "
                     f"and FLOPs measured on the module): {', '.join(calls[:4])}{', ...' if len(calls) > 4 else ''}")
    unused = cap.get("unused_params") or []
    if unused:
        lines.append(f"{sum(p for _, p in unused):,} params in modules forward never calls, not counted: "
                     + ", ".join(f"{n} ({p:,})" for n, p in unused[:4]) + (", ..." if len(unused) > 4 else ""))
    tied = cap.get("tied_params") or []
    if tied:
        lines.append(tied_line(tied))
    return lines


def tied_line(tied) -> str:
    """The one sentence on tensors two modules hold, ``[(path, path where first counted, numel), ...]``
    (above the table, and in ``archcost import``'s summary)."""
    tot = sum(n for _, _, n in tied)
    return (f"tied params counted at both modules' rows ({tot:,} more than sum(p.numel())): "
            + ", ".join(f"{a} is {b}" for a, b, _ in tied[:4]) + (", ..." if len(tied) > 4 else ""))


# (header, row attribute, how it prints, sort type)
_COLUMNS = [
    ("params", "params", lambda v: f"{v:,}", "num"),
    ("MACs", "macs", lambda v: f"{v:,}", "num"),
    ("FLOPs", "flops", lambda v: f"{v:,}", "num"),
    ("activations", "activation_bytes", units.nbytes, "num"),
    ("weights", "weight_bytes", units.nbytes, "num"),
]


def _num_cell(v, fmt) -> str:
    if v is None:
        return '<td class="n" data-v=""></td>'
    text = fmt(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else cell_text(v)
    data = v if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
    return f'<td class="n" data-v="{data}">{escape(text)}</td>'


def _row_cells(r, extra_cols, name_html: str) -> str:
    ex = r.extra or {}
    cells = [f'<td class="name" data-v="{escape(r.name)}">{name_html}</td>',
             f'<td data-v="{escape(r.op)}">{escape(r.op)}</td>',
             f'<td data-v="{escape(units.shape(r.output_shape))}">{escape(units.shape(r.output_shape))}</td>']
    cells += [_num_cell(getattr(r, attr), fmt) for _, attr, fmt, _ in _COLUMNS]
    cells += [_num_cell(ex.get(k), cell_text) for k in extra_cols]
    return "".join(cells)


def analysis_table_html(analysis, *, interactive: bool = False, table_id: str | None = None) -> str:
    """A ``<table>`` of the analysis' rows and totals (see the module doc for ``interactive``)."""
    extra = list(analysis.columns)
    head = ['<th data-type="text">layer</th>', '<th data-type="text">op</th>', '<th data-type="text">output</th>']
    head += [f'<th class="n" data-type="{t}">{escape(h)}</th>' for h, _, _, t in _COLUMNS]
    head += [f'<th class="n" data-type="num">{escape(k)}</th>' for k in extra]
    t = analysis.totals
    foot = ["<td>total</td>", "<td></td>", f"<td>{t['layers']} layers</td>",
            *(_num_cell(t.get(attr), fmt) for _, attr, fmt, _ in _COLUMNS[:3]),
            _num_cell(t["peak_activation_bytes"], lambda v: "peak " + units.nbytes(v)),
            _num_cell(t["weight_bytes"], units.nbytes), *(_num_cell(t.get(k), cell_text) for k in extra)]
    ident = f' id="{escape(table_id)}"' if table_id else ""
    out = [f'<table class="archcost-layers{" sortable" if interactive else ""}"{ident}>',
           f"<thead><tr>{''.join(head)}</tr></thead>"]
    if interactive:
        out += _grouped_bodies(analysis, extra)
    else:
        out.append("<tbody>")
        out += [f"<tr>{_row_cells(r, extra, escape(r.name))}</tr>" for r in analysis.rows]
        out.append("</tbody>")
    out += [f"<tfoot><tr>{''.join(foot)}</tr></tfoot>", "</table>"]
    return "\n".join(out)


def _grouped_bodies(analysis, extra) -> list:
    groups: dict = {}
    for r in analysis.rows:
        groups.setdefault(r.name.split(".")[0], []).append(r)
    out = []
    for i, (sums, (key, rows)) in enumerate(zip(analysis.collapse(1).rows, groups.items())):
        if len(rows) == 1 and rows[0].name == key:  # a top-level layer, not a block
            out.append(f'<tbody class="blk" data-i="{i}"><tr class="sum">'
                       f"{_row_cells(rows[0], extra, escape(key))}</tr></tbody>")
            continue
        toggle = (f'<button class="tog" type="button" aria-expanded="false" title="show the block\'s layers">'
                  f"▸</button> {escape(key)} <span class=\"cnt\">({len(rows)})</span>")
        body = [f'<tbody class="blk closed" data-i="{i}"><tr class="sum">{_row_cells(sums, extra, toggle)}</tr>']
        body += [f'<tr class="sub" data-i="{j}">{_row_cells(r, extra, escape(r.name))}</tr>'
                 for j, r in enumerate(rows)]
        body.append("</tbody>")
        out.append("".join(body))
    return out


# scoped to the notebook output: numbers right-aligned in tabular figures, inside Jupyter or not
NOTEBOOK_CSS = (".archcost table{border-collapse:collapse;font-size:12px}"
                ".archcost th,.archcost td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;"
                "white-space:nowrap}"
                ".archcost td.n,.archcost th.n{text-align:right;font-variant-numeric:tabular-nums}"
                ".archcost tfoot td{font-weight:bold;border-top:2px solid #888}"
                ".archcost details{margin-top:6px}.archcost summary{cursor:pointer}")
FOLD_ROWS = 40  # above this many rows, the notebook shows blocks and folds the layers away


def analysis_html(analysis) -> str:
    """The header lines and the table: what Jupyter shows for an Analysis.

    A big model shows one row per top-level block, with every layer folded under ``<details>``
    (no script: notebooks that are not trusted still fold)."""
    head = header_lines(analysis)
    lines = [f"<style>{NOTEBOOK_CSS}</style>",
             f"<p><b>{escape(head[0])}</b><br>" + "<br>".join(escape(x) for x in head[1:]) + "</p>"]
    if len(analysis.rows) > FOLD_ROWS:
        blocks = analysis.collapse(1)
        lines.append(f"<p>{len(blocks.rows)} blocks (depth 1); every layer below</p>")
        lines.append(analysis_table_html(blocks))
        lines.append(f"<details><summary>all {len(analysis.rows)} layers</summary>"
                     + analysis_table_html(analysis) + "</details>")
    else:
        lines.append(analysis_table_html(analysis))
    return "<div class=\"archcost\">" + "\n".join(lines) + "</div>"
