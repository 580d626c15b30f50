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


def accuracy_figure(chart):
    """The Canziani-style bubble chart of an :class:`~archcost.plot.data.AccuracyChart`."""
    import plotly.graph_objects as go

    fig = go.Figure()
    families = sorted({p.summary.family for p in chart.points},
                      key=lambda f: (FAMILY_ORDER.index(f) if f in FAMILY_ORDER else len(FAMILY_ORDER), f))
    colours = family_colours(families)
    sizeref = 2.0 * max(p.size for p in chart.points) / MAX_BUBBLE_PX ** 2  # plotly's rule for sizemode="area"
    highlight = set(chart.highlight)
    for fam in families:
        pts = [p for p in chart.points if p.summary.family == fam]
        fig.add_trace(go.Scatter(
            x=[p.x for p in pts], y=[p.y for p in pts], mode="markers+text", name=fam,
            text=[p.label for p in pts], textposition="top center", textfont=dict(size=9),
            hovertext=[p.hover for p in pts], hoverinfo="text",
            marker=dict(size=[p.size for p in pts], sizemode="area", sizeref=sizeref, sizemin=3,
                        color=colours[fam], opacity=0.7,
                        line=dict(width=[2.5 if p.label in highlight else 0.5 for p in pts], color="#222")),
            meta={"role": "models"}, legendgroup=fam))
    front = [next(p for p in chart.points if p.label == name) for name in chart.frontier]
    fig.add_trace(go.Scatter(
        x=[p.x for p in front], y=[p.y for p in front], mode="lines", line=dict(color="#444", dash="dash", width=1.5,
                                                                                 shape="hv"),
        name="Pareto frontier", text=[p.label for p in front], hoverinfo="skip", meta={"role": "frontier"}))
    fig.update_layout(
        title=dict(text=chart.title, subtitle=dict(text=chart.subtitle, font=dict(size=11))),
        xaxis=dict(title=dict(text=chart.x_title), type="log", gridcolor="#e5e5e5", exponentformat="SI"),
        yaxis=dict(title=dict(text=chart.y_title), gridcolor="#e5e5e5"),
        legend=dict(title=dict(text="family"), itemsizing="constant"),
        template="plotly_white", margin=dict(t=110), height=720,
        meta={"archcost": {"kind": chart.kind, "convention": chart.convention, "dataset": chart.dataset,
                           "frontier": list(chart.frontier), "left_out": [list(x) for x in chart.left_out]}})
    return fig


def layers_figure(chart):
    """Stacked bars of a :class:`~archcost.plot.data.LayersChart`, one trace per layer kind; with
    several metrics, a dropdown switches between them."""
    import plotly.graph_objects as go

    first = chart.metrics[0]
    kinds = [k for k in KIND_COLOURS if any(k in chart.values[m] for m in chart.metrics)]
    fig = go.Figure()

    def ys(m, k):
        return [v if v else None for v in chart.values[m].get(k, [0] * len(chart.labels))]

    def hovers(m, k):
        return chart.hover[m].get(k, [""] * len(chart.labels))

    for k in kinds:
        fig.add_trace(go.Bar(x=chart.labels, y=ys(first, k), name=k, marker_color=KIND_COLOURS[k],
                             hovertext=hovers(first, k), hoverinfo="text", meta={"role": "layers", "kind": k}))
    title, ytitle = chart.titles[first]
    layout = dict(
        title=dict(text=title), barmode="stack", template="plotly_white", bargap=0.15, height=560,
        xaxis=dict(title=dict(text="block" if chart.depth else "layer"), type="category", tickangle=-60,
                   tickfont=dict(size=8), categoryorder="array", categoryarray=chart.labels),
        yaxis=dict(title=dict(text=ytitle), gridcolor="#e5e5e5", exponentformat="SI"),
        legend=dict(title=dict(text="layer kind"), traceorder="normal"),
        meta={"archcost": {"kind": "layers", "model": chart.model, "metric": first, "depth": chart.depth,
                           "convention": chart.convention}})
    if len(chart.metrics) > 1:
        buttons = [dict(label=m, method="update",
                        args=[{"y": [ys(m, k) for k in kinds], "hovertext": [hovers(m, k) for k in kinds]},
                              {"title.text": chart.titles[m][0], "yaxis.title.text": chart.titles[m][1]}])
                   for m in chart.metrics]
        layout["updatemenus"] = [dict(buttons=buttons, direction="down", x=1.0, xanchor="right", y=1.12,
                                      yanchor="top", showactive=True)]
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
    if meta.get("kind") == "layers":
        out["labels"] = list(d["data"][0]["x"]) if d["data"] else []
        out["bars"] = {t["meta"]["kind"]: [[lab, y] for lab, y in zip(t["x"], t["y"]) if y is not None]
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
