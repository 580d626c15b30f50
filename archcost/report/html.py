"""HTML pieces of the report page (pure Python): the table script and style, and the compare table.

An Analysis' own HTML table (``Analysis._repr_html_`` and the report's per-layer tables) is
:func:`archcost.analysis.display.analysis_table_html`; it lives below the analysis so that
``_repr_html_`` imports nothing from here.
"""

from __future__ import annotations

from html import escape

from .compare import cells, title_lines

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
