"""The generated HTML opened in real headless Chromium (Debian's `chromium`, driven by Playwright's
Python package; no `playwright install`), and PNG/SVG export through kaleido.

Asserted per page: no console errors or page errors, no network request (only the file:// page),
the plot's points equal the models asked for, the Pareto frontier is the one worked out by hand,
the report's tables sort and fold, and a screenshot is not blank.

Skipped with a reason where chromium (or playwright) is missing, except under CI=true, where that
is a failure (.ci/run installs chromium with apt-get).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile

import pytest

CI = os.environ.get("CI") == "true"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _missing(why: str):
    if CI:
        pytest.fail(f"CI=true but {why} (.ci/run installs it: apt-get install chromium)")
    pytest.skip(f"{why}: these tests open the HTML in a real browser (apt-get install chromium)",
                allow_module_level=True)


if not CHROMIUM:
    _missing("no chromium on PATH")
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    _missing("the playwright Python package is not installed (pip install 'archcost[test]')")
pytest.importorskip("plotly")
Image = pytest.importorskip("PIL.Image")
ImageStat = pytest.importorskip("PIL.ImageStat")

import archcost.plot as ap  # noqa: E402
from plot_util import FRONTIER, SET  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, with a throwaway profile (nothing lands in the home folder)."""
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS,
                                                   viewport={"width": 1280, "height": 900})
        yield ctx
        ctx.close()


def open_page(ctx, path):
    page = ctx.new_page()
    events = {"requests": [], "errors": []}
    page.on("request", lambda r: events["requests"].append(r.url))
    page.on("console", lambda m: m.type == "error" and events["errors"].append(m.text))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    url = path.resolve().as_uri()
    page.goto(url)
    page.wait_for_function("() => { const g = document.querySelectorAll('.plotly-graph-div');"
                           " return g.length > 0 && Array.from(g).every(d => d._fullLayout); }")
    return page, events, url


def assert_offline_and_clean(events, url):
    assert events["errors"] == []
    assert [u for u in events["requests"] if u != url] == []  # nothing but the page itself


def assert_not_blank(png: bytes):
    im = Image.open(io.BytesIO(png)).convert("RGB")
    stddev = ImageStat.Stat(im).stddev
    colours = len(im.getcolors(maxcolors=1 << 20) or [])
    assert min(stddev) > 10 and colours > 50, (stddev, colours)


def test_accuracy_plot_in_chromium(browser, tmp_path):
    path = tmp_path / "acc.html"
    ap.save(ap.accuracy_vs_macs(SET + ["fashion_mnist_cnn"]), html=str(path))
    page, events, url = open_page(browser, path)
    data = page.evaluate("() => document.querySelector('.plotly-graph-div').data"
                         ".map(t => ({role: t.meta && t.meta.role, text: Array.from(t.text || [])}))")
    labels = [x for t in data if t["role"] == "models" for x in t["text"]]
    assert sorted(labels) == sorted(SET)  # one point per model with a top-1; fashion_mnist_cnn left out
    rendered = page.evaluate("() => document.querySelectorAll('.scatterlayer .trace .points path.point').length")
    assert rendered == len(SET)  # drawn in the SVG, not only in the data
    assert [t["text"] for t in data if t["role"] == "frontier"] == [FRONTIER]
    title = page.evaluate("() => document.querySelector('.plotly-graph-div').layout.xaxis.title.text")
    assert "convention default" in title
    assert_not_blank(page.screenshot())
    assert_offline_and_clean(events, url)
    page.close()


def test_report_in_chromium_sorts_and_folds(browser, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(ap.report(["mobilenetv2", "resnet18"], verify=False), encoding="utf-8")
    page, events, url = open_page(browser, path)
    assert page.evaluate("() => document.querySelectorAll('.plotly-graph-div').length") == 4
    table = "#layers-mobilenetv2"
    first_block = f"() => document.querySelector('{table} tbody').rows[0].cells[0].getAttribute('data-v')"
    block_params = (f"() => Array.from(document.querySelectorAll('{table} tbody')).map(b => "
                    "parseFloat(b.rows[0].cells[3].getAttribute('data-v')))")
    assert page.evaluate(first_block) == "conv_bn_act0"  # network order
    params = page.locator(f"{table} thead th", has_text="params")
    params.click()
    assert params.get_attribute("aria-sort") == "ascending"
    vals = page.evaluate(block_params)
    assert vals == sorted(vals)
    params.click()
    vals = page.evaluate(block_params)
    assert vals == sorted(vals, reverse=True) and page.evaluate(first_block) == "linear0"  # 1,281,000 params
    params.click()  # third click: back to network order
    assert page.evaluate(first_block) == "conv_bn_act0"
    # a block folds: its layers are hidden until its ▸ is pressed
    sub = page.locator(f"{table} tbody").nth(1).locator("tr.sub").first
    assert not sub.is_visible()
    page.locator(f"{table} tbody").nth(1).locator("button.tog").click()
    assert sub.is_visible()
    page.locator("button.fold-all[data-table='layers-mobilenetv2'][data-open='0']").click()
    assert not sub.is_visible()
    assert_not_blank(page.screenshot())
    assert_offline_and_clean(events, url)
    page.close()


def test_png_and_svg_export_through_kaleido(tmp_path):
    fig = ap.accuracy_vs_macs(SET)
    png, svg = tmp_path / "a.png", tmp_path / "a.svg"
    ap.save(fig, png=str(png), svg=str(svg))
    data = png.read_bytes()
    assert Image.open(io.BytesIO(data)).size == (1200, 760)
    assert_not_blank(data)
    text = svg.read_text()
    assert text.startswith("<svg") and all(name in text for name in SET)


def _label_boxes(page):
    """Bounding boxes of the model names plotly drew (text of the scatter traces, empty ones skipped, and
    names on a leader line, which are annotations)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.scatterlayer .textpoint text, .annotation-text'))
        .filter(t => t.textContent.trim()).map(t => { const b = t.getBoundingClientRect();
            return [t.textContent, b.left, b.top, b.right, b.bottom]; })""")


def test_all_chart_labels_do_not_overlap(browser, tmp_path):
    """`plot accuracy-vs-macs --all`: the frontier is named, no two names overlap (issue 21); every model
    is still on hover, and the size legend is there."""
    from archcost.plot.data import accuracy_chart
    from archcost.plot.export import write_html
    from archcost.plot.figures import accuracy_figure

    chart = accuracy_chart(None, all=True, metric="macs")
    fig = accuracy_figure(chart)
    path = tmp_path / "all.html"
    write_html(fig, str(path))
    page, events, url = open_page(browser, path)
    assert_offline_and_clean(events, url)
    boxes = _label_boxes(page)
    names = {b[0] for b in boxes}
    assert set(chart.frontier) <= names and len(names) < len(chart.points)
    clashes = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 1]
    assert clashes == []
    legend = page.evaluate("() => Array.from(document.querySelectorAll('.legendtext')).map(t => t.textContent)")
    assert any(x.endswith("params") for x in legend), legend
    fonts = page.evaluate("() => Array.from(document.querySelectorAll('.textpoint text, .xtick text, .ytick text'))"
                          ".map(t => parseFloat(getComputedStyle(t).fontSize))")
    assert fonts and min(fonts) >= 11, min(fonts)
    page.close()


def test_layer_chart_names_are_readable(browser, tmp_path):
    """`plot layers`: every layer's name on the y axis, horizontal, >= 11 px, none overlapping (issue 21)."""
    from archcost.plot.data import layers_chart

    chart = layers_chart("vgg16", metric="params")
    path = tmp_path / "layers.html"
    ap.save(ap.layers("vgg16", metric="params"), html=str(path))
    page, events, url = open_page(browser, path)
    assert_offline_and_clean(events, url)
    ticks = page.evaluate("""() => Array.from(document.querySelectorAll('.ytick text')).map(t => {
        const b = t.getBoundingClientRect();
        return [t.textContent, parseFloat(getComputedStyle(t).fontSize), t.getAttribute('transform') || '',
                b.left, b.top, b.right, b.bottom]; })""")
    assert sorted(t[0] for t in ticks) == sorted(chart.labels)  # every name, none skipped
    assert min(t[1] for t in ticks) >= 11
    assert not any("rotate" in t[2] for t in ticks)
    clashes = [(a[0], b[0]) for i, a in enumerate(ticks) for b in ticks[i + 1:]
               if min(a[5], b[5]) - max(a[3], b[3]) > 1 and min(a[6], b[6]) - max(a[4], b[4]) > 1]
    assert clashes == []
    fonts = page.evaluate("() => Array.from(document.querySelectorAll('.xtick text')).map(t => parseFloat(getComputedStyle(t).fontSize))")
    assert fonts and min(fonts) >= 11
    page.close()
