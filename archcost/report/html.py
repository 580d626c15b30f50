"""HTML tables of an Analysis (pure Python): ``Analysis._repr_html_`` in Jupyter and the report's tables.

One function builds both.  ``interactive=True`` (the HTML report) groups the rows by top-level
block: each block is a ``<tbody class="blk">`` whose first row holds the block's sums (the same
numbers as ``--depth 1``) and whose layer rows fold away; every numeric cell carries its exact
value in ``data-v`` so the report's script (:data:`TABLE_JS`) can sort blocks, and layers within
them, by any column.  Every name from a spec is escaped.
"""

from __future__ import annotations

from html import escape

from . import units
from .formats import cell_text, header_lines

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
    head += [f'<th data-type="{t}">{escape(h)}</th>' for h, _, _, t in _COLUMNS]
    head += [f'<th data-type="num">{escape(k)}</th>' for k in extra]
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


def analysis_html(analysis) -> str:
    """The header lines and the table: what Jupyter shows for an Analysis."""
    head = header_lines(analysis)
    lines = [f"<p><b>{escape(head[0])}</b><br>" + "<br>".join(escape(x) for x in head[1:]) + "</p>"]
    return "<div class=\"archcost\">" + "\n".join(lines) + analysis_table_html(analysis) + "</div>"


# The report's table script: sort (click a header: ascending, descending, network order) and fold
# blocks.  Blocks sort by their sums; layers sort within their block.
TABLE_JS = r"""
(function () {
  function val(row, col, type) {
    var c = row.cells[col]; var v = c ? c.getAttribute('data-v') : '';
    if (type === 'num') { return v === '' || v === null ? -Infinity : parseFloat(v); }
    return (v || '').toLowerCase();
  }
  function cmp(type, dir) {
    return function (a, b) {
      var x = a[0], y = b[0];
      if (x < y) { return -dir; } if (x > y) { return dir; } return a[1] - b[1];
    };
  }
  function sortTable(table, col, type, dir) {
    var bodies = Array.prototype.slice.call(table.tBodies);
    bodies.forEach(function (tb) {
      var subs = Array.prototype.slice.call(tb.querySelectorAll('tr.sub'));
      subs.map(function (r) { return [dir ? val(r, col, type) : 0, +r.getAttribute('data-i'), r]; })
          .sort(cmp(type, dir || 1)).forEach(function (e) { tb.appendChild(e[2]); });
    });
    bodies.map(function (tb) { return [dir ? val(tb.rows[0], col, type) : 0, +tb.getAttribute('data-i'), tb]; })
          .sort(cmp(type, dir || 1)).forEach(function (e) { table.insertBefore(e[2], table.tFoot); });
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.setAttribute('tabindex', '0'); th.setAttribute('aria-sort', 'none');
      function go() {
        var next = {none: 'ascending', ascending: 'descending', descending: 'none'}[th.getAttribute('aria-sort')];
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) { o.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', next);
        sortTable(table, col, th.getAttribute('data-type'), {ascending: 1, descending: -1, none: 0}[next]);
      }
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
    });
    table.addEventListener('click', function (e) {
      var b = e.target.closest('button.tog'); if (!b) { return; }
      var tb = b.closest('tbody'); var open = tb.classList.toggle('closed') === false;
      b.setAttribute('aria-expanded', open ? 'true' : 'false'); b.textContent = open ? '▾' : '▸';
    });
  });
  document.querySelectorAll('button.fold-all').forEach(function (b) {
    b.addEventListener('click', function () {
      var table = document.getElementById(b.getAttribute('data-table')); var open = b.getAttribute('data-open') === '1';
      table.querySelectorAll('tbody.blk').forEach(function (tb) {
        var t = tb.querySelector('button.tog'); if (!t) { return; }
        tb.classList.toggle('closed', !open); t.setAttribute('aria-expanded', open ? 'true' : 'false');
        t.textContent = open ? '▾' : '▸';
      });
    });
  });
})();
"""

TABLE_CSS = """
table.archcost-layers { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 1.5em; }
table.archcost-layers th, table.archcost-layers td { padding: 2px 8px; border-bottom: 1px solid #e3e3e3; }
table.archcost-layers th { background: #f3f4f6; text-align: left; position: sticky; top: 0; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " ▴"; }
table.sortable th[aria-sort=descending]::after { content: " ▾"; }
table.archcost-layers td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.archcost-layers tfoot td { font-weight: bold; border-top: 2px solid #999; }
table.archcost-layers tr.sum td { background: #fafafa; }
table.archcost-layers tr.sub td.name { padding-left: 2em; color: #333; }
table.archcost-layers tbody.closed tr.sub { display: none; }
table.archcost-layers button.tog { border: none; background: none; cursor: pointer; font-size: 12px; padding: 0 2px; }
table.archcost-layers span.cnt { color: #888; }
"""


def compare_html(result) -> str:
    """The ``archcost compare`` result as an HTML table (value and ratio to the first model per cell)."""
    from .compare import cells, title_lines

    headers, rows, notes = cells(result)
    out = [f"<p>{'<br>'.join(escape(x) for x in title_lines(result))}</p>", '<table class="archcost-compare">',
           "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join((f'<td class="n">{escape(c)}</td>' if i else f"<td>{escape(c)}</td>")
                                    for i, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    if notes:
        out.append("<ul class=\"notes\">" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)
