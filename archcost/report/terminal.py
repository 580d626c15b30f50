"""One terminal policy for every rich table archcost prints.

What was asked is never dropped: columns carry a priority, 0 for what the user asked for or what
the table is about, and only higher ones make way on a narrow terminal (highest first).  The name
column is shortened from the middle (``inverted_res…batchnorm2d0``: the block and the layer stay
readable) instead of being folded over several lines.  Whatever was hidden is said in one line
under the table, with how to see it.  ``width=None`` means "as wide as it takes" (``--wide``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

ELLIPSIS = "…"
NAME_MIN = 12  # a shortened column never gets narrower than this (or its header)
LOW = 3  # columns of this priority and above make way before any name is shortened
SEE_HIDDEN = "--wide, -f markdown, or COLUMNS={need}"


@dataclass
class Column:
    """One column of text: ``priority`` 0 is never hidden; higher numbers are hidden first.

    ``shorten``: ``"tree"`` for dotted layer names (shown as an indented tree, then shortened from
    the middle), ``"middle"`` for other text that may be shortened (op names), ``"wrap"`` for prose
    (wrapped over lines at word boundaries, nothing lost); ``min_width`` bounds it.
    """

    header: str
    cells: list
    footer: str = ""
    priority: int = 0
    justify: str = "right"
    shorten: Optional[str] = None
    min_width: int = NAME_MIN
    kw: dict = field(default_factory=dict)  # extra rich add_column arguments (style, ...)

    def width(self) -> int:
        texts = [self.header, self.footer, *self.cells]
        return max((len(line) for t in texts for line in str(t).split("\n")), default=0)

    def floor(self) -> int:
        """The narrowest this column gets."""
        head = max(len(x) for x in self.header.split("\n")) if self.header else 0
        return min(self.width(), max(self.min_width, head, len(self.footer))) if self.shorten else self.width()


def shorten_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut from the middle (the end, usually the layer, kept longer)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    tail = (width - 1) // 2 + (width - 1) % 2
    head = width - 1 - tail
    lead = len(text) - len(text.lstrip(" "))  # a tree label keeps its indent
    if lead and lead < head:
        return text[:head] + ELLIPSIS + text[len(text) - tail:]
    return text[:head] + ELLIPSIS + text[len(text) - tail:]


def wrap_text(text: str, width: int) -> str:
    """``text`` wrapped at word boundaries into lines of at most ``width`` characters."""
    import textwrap

    return "\n".join(ln for part in str(text).split("\n")
                     for ln in (textwrap.wrap(part, width, break_on_hyphens=False) or [""]))


def tree_rows(names: list) -> list:
    """Dotted names as an indented tree: ``(label, index of the row or None for a block heading)``."""
    out, prev = [], []
    for i, name in enumerate(names):
        parts = str(name).split(".")
        same = 0
        while same < min(len(prev), len(parts) - 1) and prev[same] == parts[same]:
            same += 1
        for d in range(same, len(parts) - 1):
            out.append(("  " * d + parts[d], None))
        out.append(("  " * (len(parts) - 1) + parts[-1], i))
        prev = parts[:-1]
    return out


@dataclass
class Fit:
    columns: list
    hidden: list  # headers of the columns that made way
    shortened: bool  # whether names were shortened
    need: int  # the width that shows everything unshortened
    tree: bool = False  # names shown as an indented tree
    order: Optional[list] = None  # with tree: the original row of each printed row (None = a block heading)

    def note(self) -> Optional[str]:
        """The one line saying what was hidden and how to see it (None when nothing was)."""
        if not self.hidden and not self.shortened:
            return None
        what = []
        if self.hidden:
            what.append("hidden: " + ", ".join(h.replace("\n", " ") for h in self.hidden))
        if self.shortened:
            what.append("names shortened")
        return f"{'; '.join(what)} (terminal too narrow); see all with " + SEE_HIDDEN.format(need=self.need)


def table_width(columns: list, edge: bool = True) -> int:
    """The printed width of a rich table with these columns (1 of padding each side, 1 per border)."""
    return sum(c.width() for c in columns) + 3 * len(columns) + (1 if edge else -3)


def _floor_width(columns: list, edge: bool) -> int:
    return sum(c.floor() for c in columns) + 3 * len(columns) + (1 if edge else -3)


def _as_tree(columns: list):
    """The columns with dotted names as an indented tree (block headings get empty cells)."""
    name = next(c for c in columns if c.shorten == "tree")
    rows = tree_rows(name.cells)
    out = []
    for c in columns:
        cells = [label for label, _ in rows] if c is name else [
            "" if i is None else c.cells[i] for _, i in rows]
        out.append(Column(c.header, cells, c.footer, c.priority, c.justify, c.shorten, c.min_width, c.kw))
    return out, [i for _, i in rows]


def fit(columns: list, width: Optional[int], edge: bool = True) -> Fit:
    """Which columns to show at ``width``: an indented tree of names, then hide columns by priority, then shorten."""
    need = table_width(columns, edge)
    if width is None or need <= width:
        return Fit(list(columns), [], False, need)
    cols, order, tree = list(columns), None, False
    if any(c.shorten == "tree" and any("." in str(x) for x in c.cells) for c in cols):
        tcols, torder = _as_tree(cols)
        if table_width(tcols, edge) < table_width(cols, edge):
            cols, order, tree = tcols, torder, True
    hidden = []
    for level in sorted({c.priority for c in cols if c.priority > 0}, reverse=True):
        if table_width(cols, edge) <= width:
            break
        # hide this level's columns from the right, one at a time: low-priority ones rather than shorten
        # names, key ones (params, MACs, op) only where shortening names could not make room
        for c in reversed([c for c in cols if c.priority == level]):
            if (table_width(cols, edge) if level >= LOW else _floor_width(cols, edge)) <= width:
                break
            cols.remove(c)
            hidden.insert(0, c.header)
    shortened = False
    for c in [c for kind in ("wrap", "middle", "tree") for c in cols if c.shorten == kind]:
        excess = table_width(cols, edge) - width
        if excess <= 0:
            break
        target = max(c.floor(), c.width() - excess)
        if target < c.width():
            if c.shorten == "wrap":  # nothing lost: not said in the note
                c.cells = [wrap_text(x, target) for x in c.cells]
            else:
                c.cells = [shorten_middle(str(x), target) for x in c.cells]
                shortened = True
    return Fit(cols, hidden, shortened, need, tree, order)


def build(columns: list, width: Optional[int], *, title=None, caption_lines=(), row_styles=None, **table_kw):
    """A rich Table of ``columns`` fitted to ``width``; the hidden-columns line ends the caption.

    Returns ``(table, width_to_print_at)``: print it with a console at least that wide so rich
    never squeezes what is left (a table of asked-for columns wider than the terminal wraps in
    the terminal instead of losing cells).
    """
    from rich.table import Table

    edge = table_kw.get("show_edge", True)
    f = fit(columns, width, edge)
    lines = [x for x in caption_lines if x]
    note = f.note()
    if note:
        lines.append(note)
    t = Table(title=title, caption="\n".join(lines) or None, caption_justify="left", **table_kw)
    has_footer = table_kw.get("show_footer", False)
    for c in f.columns:
        t.add_column(c.header, justify=c.justify, no_wrap=True, **({"footer": c.footer} if has_footer else {}), **c.kw)
    n = max((len(c.cells) for c in f.columns), default=0)
    for i in range(n):
        src = i if f.order is None else f.order[i]
        style = "dim" if src is None else (row_styles[src] if row_styles else None)
        t.add_row(*(str(c.cells[i]) if i < len(c.cells) else "" for c in f.columns), style=style)
    return t, max(width or 0, table_width(f.columns, edge))


def print_table(table_and_width, console=None):
    """Print a table from :func:`build` at least as wide as it needs (stdout)."""
    from rich.console import Console

    table, need = table_and_width
    console = console or Console()
    if console.width < need:
        console = Console(width=need, file=console.file, force_terminal=console.is_terminal,
                          color_system=console.color_system and "auto" or None)
    console.print(table)


def terminal_width(wide: bool = False) -> Optional[int]:
    """The width to fit tables to: None (no limit) with ``--wide``, else the console's."""
    if wide:
        return None
    from rich.console import Console

    return Console().width
