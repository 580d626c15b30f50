"""plotly figures from the chart data of :mod:`archcost.plot.data` (plotly imported inside each function).

Every figure carries ``layout.meta["archcost"]`` (what it shows: kind, convention, frontier,
left-out models) and each trace a ``meta`` role ("models", "frontier", "layers"), which is how
:func:`figure_data` reads the plotted numbers back out for the golden files and the browser tests.
"""

from __future__ import annotations

# a fixed colour per zoo family, so a family looks the same on every chart (plotly's qualitative palette)
PALETTE = ["#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF",
           "#FECB52"]
FAMILY_ORDER = ["classic", "inception", "residual", "dense", "efficient", "other"]
KIND_COLOURS = {"conv (dense)": "#636EFA", "pointwise conv (1×1)": "#EF553B", "depthwise conv": "#00CC96",
                "grouped conv": "#AB63FA", "transposed conv": "#FFA15A", "linear": "#19D3F3", "norm": "#FF6692",
                "activation": "#B6E880", "pooling": "#FF97FF", "add / multiply / concat": "#FECB52",
                "other": "#999999"}
MAX_BUBBLE_PX = 60  # diameter of the largest model's bubble
WIDTH, HEIGHT = 1200, 760  # static export size


def family_colours(families) -> dict:
    known = [f for f in FAMILY_ORDER if f in families]
    others = sorted(f for f in families if f not in FAMILY_ORDER)
    return {f: PALETTE[FAMILY_ORDER.index(f) if f in FAMILY_ORDER else (len(FAMILY_ORDER) + others.index(f))
                       % len(PALETTE)] for f in known + others}


LABEL_MODES = ("frontier", "all", "none")
FONT_PX = 12  # every text on a chart at the default size (>= 11 px in PNG/SVG)
# offsets (pixels; y down) tried, nearest first, for a name on a leader line
_OFFSETS = [(dx * r, dy * r) for r in (30, 45, 60, 80, 100, 125) for dx, dy in
            ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1))]
LABEL_PAD_PX = 4  # margin around an estimated label box: two names closer than this count as overlapping
LAYER_ROW_PX = 18  # height per bar of the layer chart: a name per row at FONT_PX, none skipped
_POSITIONS = ["top center", "bottom center", "middle right", "middle left", "top right", "top left",
              "bottom right", "bottom left"]


def labelled(chart, labels: str = "frontier", named=()) -> set:
    """The models whose names are written on the chart: ``frontier`` = the Pareto frontier, the models
    named on the command line and the highlighted ones (the rest on hover); ``all``; ``none``."""
    if labels not in LABEL_MODES:
        from ..errors import SpecError

        raise SpecError(f"--labels {labels!r} is not one of {', '.join(LABEL_MODES)}",
                        fix="use --labels frontier (default), all or none.")
    if labels == "all":
        return {p.label for p in chart.points}
    if labels == "none":
        return set()
    named = set(named or ())
    return set(chart.frontier) | set(chart.highlight) | {p.label for p in chart.points if p.label in named
                                                         or getattr(p.summary, "name", None) in named}


def place_labels(points, shown: set, sizeref: float, width=WIDTH - 260, height=HEIGHT - 230, keep=()) -> dict:
    """Where each labelled point's name goes, greedily avoiding labels already placed and every bubble:
    a text position next to its bubble (``"top center"``, ...), or, where all of those would overlap a
    name already placed, an offset ``(dx, dy)`` in pixels for a name on a leader line.

    A name of ``keep`` (the frontier, the named models) always gets a place; another with no free place
    is left to the hover text, so no two names are drawn over each other.  Works in approximate pixels
    of the plot area (log x, linear y; ~0.6 em per character, boxes padded by LABEL_PAD_PX for the
    estimate's error), which is what plotly draws at the default size; the browser test measures the
    real boxes."""
    import math

    if not points:
        return {}
    xs = [math.log10(p.x) for p in points]
    ys = [p.y for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    sx = width / ((x1 - x0) * 1.1 or 1)
    sy = height / ((y1 - y0) * 1.1 or 1)
    px = {p.label: ((math.log10(p.x) - x0) * sx, (y1 - p.y) * sy) for p in points}
    radius = {p.label: max(3.0, math.sqrt(p.size / sizeref) / 2) for p in points}
    char_w, line_h = FONT_PX * 0.6, FONT_PX * 1.3
    bubbles = [(px[p.label][0] - radius[p.label], px[p.label][1] - radius[p.label],
                px[p.label][0] + radius[p.label], px[p.label][1] + radius[p.label]) for p in points]

    def box(label, pos):
        cx, cy = px[label]
        r, w = radius[label] + 2, len(label) * char_w
        vert, horiz = pos.split()
        top = cy - r - line_h if vert == "top" else cy + r if vert == "bottom" else cy - line_h / 2
        left = cx - w / 2 if horiz == "center" else cx + r if horiz == "right" else cx - r - w
        if vert != "middle" and horiz != "center":
            left = cx if horiz == "right" else cx - w
        return left, top, left + w, top + line_h

    def overlap(a, b, pad=0.0):
        return (max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + pad)
                * max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + pad))

    placed, out = [], {}
    # biggest bubbles and the frontier first: they have the fewest good places
    for p in sorted((p for p in points if p.label in shown), key=lambda p: -p.size):
        best = min(_POSITIONS, key=lambda pos: (
            sum(overlap(box(p.label, pos), b) for b in placed) * 4
            + sum(overlap(box(p.label, pos), b) for q, b in zip(points, bubbles) if q.label != p.label),
            _POSITIONS.index(pos)))
        if any(overlap(box(p.label, best), b, LABEL_PAD_PX) for b in placed):
            if p.label not in keep:
                continue  # no free place: the name stays on hover
            cx, cy = px[p.label]
            w = len(p.label) * char_w

            def at(off):
                return cx + off[0] - w / 2, cy + off[1] - line_h / 2, cx + off[0] + w / 2, cy + off[1] + line_h / 2

            offset = min(_OFFSETS, key=lambda off: (
                sum(overlap(at(off), b, LABEL_PAD_PX) for b in placed) * 100
                + sum(overlap(at(off), b) for b in bubbles), _OFFSETS.index(off)))
            out[p.label] = offset
            placed.append(at(offset))
            continue
        out[p.label] = best
        placed.append(box(p.label, best))
    return out


def accuracy_figure(chart, labels: str = "frontier", named=()):
    """The Canziani-style bubble chart of an :class:`~archcost.plot.data.AccuracyChart`.

    Names are written for :func:`labelled` models (placed by :func:`place_labels`); every model's name
    and numbers are on hover.  Bubble area is params, with a size legend."""
    import plotly.graph_objects as go

    fig = go.Figure()
    families = sorted({p.summary.family for p in chart.points},
                      key=lambda f: (FAMILY_ORDER.index(f) if f in FAMILY_ORDER else len(FAMILY_ORDER), f))
    colours = family_colours(families)
    biggest = max(p.size for p in chart.points)
    sizeref = 2.0 * biggest / MAX_BUBBLE_PX ** 2  # plotly's rule for sizemode="area"
    highlight = set(chart.highlight)
    shown = labelled(chart, labels, named)
    named = set(named or ())
    keep = set(chart.frontier) | set(chart.highlight) | {
        p.label for p in chart.points if p.label in named or getattr(p.summary, "name", None) in named}
    where = place_labels(chart.points, shown, sizeref, keep=keep)
    for fam in families:
        pts = [p for p in chart.points if p.summary.family == fam]
        fig.add_trace(go.Scatter(
            x=[p.x for p in pts], y=[p.y for p in pts], mode="markers+text", name=fam,
            text=[p.label for p in pts], texttemplate=["%{text}" if isinstance(where.get(p.label), str) else "" for p in pts],
            textposition=[where[p.label] if isinstance(where.get(p.label), str) else "top center" for p in pts], textfont=dict(size=FONT_PX),
            hovertext=[p.hover for p in pts], hoverinfo="text",
            marker=dict(size=[p.size for p in pts], sizemode="area", sizeref=sizeref, sizemin=3,
                        color=colours[fam], opacity=0.55,
                        line=dict(width=[2.5 if p.label in highlight else 0.8 for p in pts], color="#222")),
            meta={"role": "models"}, legendgroup=fam))
    import math

    for p in chart.points:  # names with no free place beside their bubble: on a leader line
        off = where.get(p.label)
        if isinstance(off, tuple):
            fig.add_annotation(x=math.log10(p.x), y=p.y, text=p.label, ax=off[0], ay=off[1], showarrow=True,
                               arrowhead=0, arrowwidth=1, arrowcolor="#777", font=dict(size=FONT_PX),
                               bgcolor="rgba(255,255,255,0.6)")
    front = [next(p for p in chart.points if p.label == name) for name in chart.frontier]
    fig.add_trace(go.Scatter(
        x=[p.x for p in front], y=[p.y for p in front], mode="lines", line=dict(color="#444", dash="dash", width=1.5,
                                                                                 shape="hv"),
        name="Pareto frontier", text=[p.label for p in front], hoverinfo="skip", meta={"role": "frontier"}))
    from .. import units

    for i, v in enumerate(_size_steps(biggest)):  # the bubble-size legend: what an area means
        fig.add_trace(go.Scatter(
            x=[None], y=[None], mode="markers", name=f"{units.count(v)} params", legendgroup="size",
            legendgrouptitle=dict(text="bubble area") if i == 0 else None, showlegend=True,
            marker=dict(size=[v], sizemode="area", sizeref=sizeref, color="rgba(0,0,0,0)",
                        line=dict(width=1, color="#444")), meta={"role": "size-legend"}))
    fig.update_layout(
        title=dict(text=chart.title, subtitle=dict(text=chart.subtitle, font=dict(size=FONT_PX))),
        font=dict(size=FONT_PX),
        # plotly writes a log axis' in-between labels (2, 5) at 3/4 size: 15 px keeps them >= 11 px
        xaxis=dict(title=dict(text=chart.x_title), type="log", gridcolor="#e5e5e5", exponentformat="SI",
                   tickfont=dict(size=15)),
        yaxis=dict(title=dict(text=chart.y_title), gridcolor="#e5e5e5"),
        legend=dict(title=dict(text="family"), itemsizing="trace", groupclick="toggleitem"),
        template="plotly_white", margin=dict(t=110), height=720,
        meta={"archcost": {"kind": chart.kind, "convention": chart.convention, "dataset": chart.dataset,
                           "frontier": list(chart.frontier), "left_out": [list(x) for x in chart.left_out],
                           "labelled": sorted(shown)}})
    return fig


def _size_steps(biggest: float) -> list:
    """Three round params counts for the size legend: the biggest model's order of magnitude and below."""
    import math

    top = 10 ** math.floor(math.log10(biggest)) if biggest > 0 else 1
    steps = [s for s in (top, top / 10, top / 100) if s >= 1]
    return steps or [biggest]


def layers_figure(chart):
    """Horizontal stacked bars of a :class:`~archcost.plot.data.LayersChart`, one trace per layer kind,
    the layers (or blocks) down the y axis in network order with their names horizontal at
    ``FONT_PX`` (issue 21: names, not ~7 px rotated ticks); with several metrics, a dropdown switches
    between them."""
    import plotly.graph_objects as go

    first = chart.metrics[0]
    kinds = [k for k in KIND_COLOURS if any(k in chart.values[m] for m in chart.metrics)]
    fig = go.Figure()

    def xs(m, k):
        return [v if v else None for v in chart.values[m].get(k, [0] * len(chart.labels))]

    def hovers(m, k):
        return chart.hover[m].get(k, [""] * len(chart.labels))

    for k in kinds:
        fig.add_trace(go.Bar(y=chart.labels, x=xs(first, k), orientation="h", name=k, marker_color=KIND_COLOURS[k],
                             hovertext=hovers(first, k), hoverinfo="text", meta={"role": "layers", "kind": k}))
    title, vtitle = chart.titles[first]
    layout = dict(
        title=dict(text=title), barmode="stack", template="plotly_white", bargap=0.15, font=dict(size=FONT_PX),
        height=max(420, 150 + LAYER_ROW_PX * len(chart.labels)),
        yaxis=dict(title=dict(text="block" if chart.depth else "layer"), type="category", tickfont=dict(size=FONT_PX),
                   categoryorder="array", categoryarray=chart.labels, autorange="reversed", automargin=True),
        xaxis=dict(title=dict(text=vtitle), gridcolor="#e5e5e5", exponentformat="SI", side="top",
                   tickfont=dict(size=FONT_PX)),
        legend=dict(title=dict(text="layer kind"), traceorder="normal"),
        meta={"archcost": {"kind": "layers", "model": chart.model, "metric": first, "depth": chart.depth,
                           "convention": chart.convention}})
    if len(chart.metrics) > 1:
        buttons = [dict(label=m, method="update",
                        args=[{"x": [xs(m, k) for k in kinds], "hovertext": [hovers(m, k) for k in kinds]},
                              {"title.text": chart.titles[m][0], "xaxis.title.text": chart.titles[m][1]}])
                   for m in chart.metrics]
        layout["updatemenus"] = [dict(buttons=buttons, direction="down", x=1.0, xanchor="right", y=1.0,
                                      yanchor="bottom", showactive=True)]
    fig.update_layout(**layout)
    return fig


def figure_data(fig) -> dict:
    """The numbers a figure plots, per model (or per bar): what the golden files pin.

    Accuracy charts: ``{"kind", "title", "x_title", "y_title", "points": [{"label", "x", "y", "size",
    "family"}] (sorted by label), "frontier": [labels], "left_out": [[model, why]]}``.  Layer charts:
    ``{"kind": "layers", "title", "y_title", "labels", "bars": {kind: [[label, value], ...]}}``.
    """
    d = fig.to_plotly_json()
    layout = d["layout"]
    meta = (layout.get("meta") or {}).get("archcost", {})
    out = {"kind": meta.get("kind"), "title": layout["title"]["text"],
           "y_title": layout["yaxis"]["title"]["text"]}
    if meta.get("kind") == "layers":  # horizontal bars: the value axis is x (kept under "y_title")
        out["y_title"] = layout["xaxis"]["title"]["text"]
        out["labels"] = list(d["data"][0]["y"]) if d["data"] else []
        out["bars"] = {t["meta"]["kind"]: [[lab, v] for lab, v in zip(t["y"], t["x"]) if v is not None]
                       for t in d["data"] if (t.get("meta") or {}).get("role") == "layers"}
        return out
    out["x_title"] = layout["xaxis"]["title"]["text"]
    points = []
    for t in d["data"]:
        role = (t.get("meta") or {}).get("role")
        if role == "models":
            points += [{"label": lab, "x": x, "y": y, "size": s, "family": t["name"]}
                       for lab, x, y, s in zip(t["text"], t["x"], t["y"], t["marker"]["size"])]
        elif role == "frontier":
            out["frontier"] = list(t["text"])
    out["points"] = sorted(points, key=lambda p: p["label"])
    out["left_out"] = meta.get("left_out", [])
    return out
