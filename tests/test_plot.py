"""Plot data and figures (no browser): Pareto frontier, left-out models, latency sources, layer kinds,
the plotted numbers against torchvision, and golden figure data (tests/golden/plot_*.json).

Regenerate the golden files after an intended change with ``ARCHCOST_UPDATE_GOLDEN=1 pytest tests/test_plot.py``
and review the diff: every number in them is something a reader sees on a chart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import archcost
from archcost.catalog.latency import load_latency_report
from archcost.catalog.models import pareto_front
from archcost.errors import SpecError
from archcost.plot.data import accuracy_chart, layer_kind, layers_chart

pytest.importorskip("plotly")
import archcost.plot as ap  # noqa: E402
from plot_util import FRONTIER, LATENCY, SET  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(name: str, data: dict):
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("ARCHCOST_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with ARCHCOST_UPDATE_GOLDEN=1 once and review it"
    assert json.loads(text) == json.loads(path.read_text(encoding="utf-8"))


# --- Pareto frontier --------------------------------------------------------------------------------

@pytest.mark.parametrize("points,expected", [
    ([(1, 1), (2, 2), (3, 3)], [0, 1, 2]),            # each more accurate for more cost
    ([(1, 3), (2, 2), (3, 1)], [0]),                  # the cheapest is also the most accurate
    ([(2, 5), (1, 5)], [1]),                          # same accuracy: the cheaper wins
    ([(1, 5), (1, 4)], [0]),                          # same cost: the more accurate wins
    ([(1, 5), (1, 5), (2, 4)], [0, 1]),               # equal points both stay
    ([(3, 9), (1, 1), (2, 0.5), (2, 8)], [1, 3, 0]),  # returned in increasing cost
])
def test_pareto_front_by_hand(points, expected):
    assert pareto_front(points) == expected


def test_frontier_of_a_fixed_set_is_worked_out_by_hand():
    chart = accuracy_chart(SET, metric="macs")
    assert chart.frontier == FRONTIER
    assert len(chart.points) == len(SET) and not chart.left_out


def test_plotted_numbers_equal_torchvision():
    """x = MACs within torchvision's _ops rounding, bubble size = torchvision's num_params, y = its acc@1."""
    pytest.importorskip("torchvision")
    from torchvision.models import get_model_weights

    data = ap.figure_data(ap.accuracy_vs_macs(SET))
    by = {p["label"]: p for p in data["points"]}
    for name in SET:
        spec = archcost.load_spec(name)
        source = spec.accuracy.source  # e.g. "torchvision ResNet50_Weights.IMAGENET1K_V2"
        enum_name, member = source.split()[1].split(".")
        weights = getattr(get_model_weights(spec.reference["torchvision"]), member)
        assert type(weights).__name__ == enum_name
        meta = weights.meta
        assert by[name]["size"] == meta["num_params"], name
        assert by[name]["x"] == pytest.approx(meta["_ops"] * 1e9, rel=0.005, abs=0.0005e9), name
        assert by[name]["y"] == meta["_metrics"]["ImageNet-1K"]["acc@1"], name


# --- golden figure data --------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", ["macs", "params", "flops"])
def test_golden_accuracy_figures(metric):
    fig = ap.accuracy_vs(metric, SET + ["lenet5", "fashion_mnist_cnn"])
    check_golden(f"plot_accuracy_vs_{metric}", ap.figure_data(fig))


def test_golden_accuracy_vs_measured_latency():
    fig = ap.accuracy_vs_latency(latency=LATENCY)
    check_golden("plot_accuracy_vs_latency", ap.figure_data(fig))


@pytest.mark.parametrize("spec,metric,depth", [("mobilenetv2", "macs", 1), ("vgg16", "params", None)])
def test_golden_layer_figures(spec, metric, depth):
    check_golden(f"plot_layers_{spec}_{metric}", ap.figure_data(ap.layers(spec, metric=metric, depth=depth)))


def test_convention_is_stamped_and_changes_the_numbers():
    fv = ap.figure_data(ap.accuracy_vs_macs(["mobilenetv2"], convention="fvcore"))
    assert "convention fvcore" in fv["title"] and "convention fvcore" in fv["x_title"]
    assert fv["points"][0]["x"] == 314_193_216  # fvcore's own total on torchvision's mobilenet_v2 (README)


def test_figure_is_log_x_with_area_sized_bubbles():
    fig = ap.accuracy_vs_macs(SET)
    assert fig.layout.xaxis.type == "log"
    models = [t for t in fig.data if t.meta["role"] == "models"]
    assert {t.marker.sizemode for t in models} == {"area"}
    # one sizeref for every trace: bubble area proportional to params across families
    assert len({t.marker.sizeref for t in models}) == 1
    assert sum(len(t.x) for t in models) == len(SET)
    assert {t.name for t in models} == {"classic", "inception", "residual", "efficient"}
    hover = " ".join(h for t in models for h in t.hovertext)
    assert "torchvision ResNet50_Weights.IMAGENET1K_V2" in hover  # the accuracy's source


# --- left out, bad input -------------------------------------------------------------------------------

def test_models_without_accuracy_are_listed_not_dropped():
    chart = accuracy_chart(["resnet18", "fashion_mnist_cnn", "preact_resnet18", "lenet5"], metric="macs")
    assert [p.label for p in chart.points] == ["resnet18"]
    reasons = dict(chart.left_out)
    assert "no top-1" in reasons["fashion_mnist_cnn"] and "no top-1" in reasons["preact_resnet18"]
    assert "MNIST" in reasons["lenet5"] and "ImageNet-1k" in reasons["lenet5"]
    assert "left out (3)" in chart.subtitle


def test_dataset_is_chosen_by_the_models_or_by_the_user():
    chart = accuracy_chart(["lenet5", "fashion_mnist_cnn"], metric="macs")
    assert chart.dataset == "MNIST" and [p.label for p in chart.points] == ["lenet5"]
    chart = accuracy_chart(["nin_cifar", "resnet1202", "resnet18"], metric="macs", dataset="CIFAR-10")
    assert {p.label for p in chart.points} == {"nin_cifar", "resnet1202"}


def test_nothing_left_is_an_error_naming_why():
    with pytest.raises(SpecError, match="nothing to plot.*fashion_mnist_cnn: no top-1"):
        accuracy_chart(["fashion_mnist_cnn", "preact_resnet50"], metric="macs")


@pytest.mark.parametrize("kw,text", [
    (dict(names=["resnet18"], metric="colour"), "unknown metric 'colour'"),
    (dict(names=["no_such_net"]), "neither a spec file nor a zoo model"),
    (dict(names=None), "needs models"),
    (dict(names=["resnet18"], all=True), "only one of the three"),
    (dict(family="nope"), "no zoo models in family"),
])
def test_bad_accuracy_input(kw, text):
    names = kw.pop("names", None)
    with pytest.raises(SpecError, match=text):
        accuracy_chart(names, **kw)


def test_aliases_of_one_model_are_one_point():
    chart = accuracy_chart(["mobilenetv2", "mobilenet_v2"], metric="macs")
    assert [p.label for p in chart.points] == ["mobilenetv2"]


# --- latency ---------------------------------------------------------------------------------------------

def test_measured_latency_points_and_axis():
    chart = accuracy_chart(["resnet50", "mobilenetv2", "efficientnet_b0", "resnet18", "vgg16", "squeezenet1_1",
                            "alexnet"], metric="latency", latency=LATENCY)
    by = {p.label: p for p in chart.points}
    assert set(by) == {"resnet50", "mobilenetv2", "efficientnet_b0", "resnet18"}
    assert by["resnet50"].x == 41.5 and by["mobilenetv2"].x == 9.25
    # resnet18 (16 ms, 69.8%) is slower than efficientnet_b0 (14 ms, 77.7%): dominated
    assert chart.frontier == ["mobilenetv2", "efficientnet_b0", "resnet50"]
    assert "Test CPU 9000" in chart.x_title and "2 threads" in chart.x_title and "measured" in chart.x_title
    why = dict(chart.left_out)
    assert "not these 15,470,264,320" in why["vgg16"]           # measured at other costs: not plotted
    assert "synthetic failure" in why["squeezenet1_1"]           # the run failed
    assert "not in latency-cpu-synthetic.json" in why["alexnet"]


def test_latency_default_is_the_newest_report(tmp_path):
    import shutil
    import time

    reports = tmp_path / "reports"
    reports.mkdir()
    old = reports / "latency-cpu-2025-01-01.json"
    old.write_text(json.dumps({"device": "old", "models": [{"model": "resnet18", "measured_ms": {"median": 1.0}}]}))
    time.sleep(0.01)
    shutil.copy(LATENCY, reports / "latency-cpu-2026-01-01.json")
    chart = accuracy_chart(["resnet18"], metric="latency", latency_dir=str(reports))
    assert chart.points[0].x == 16.0
    with pytest.raises(SpecError, match="no latency results found"):
        accuracy_chart(["resnet18"], metric="latency", latency_dir=str(tmp_path / "empty"))


@pytest.mark.parametrize("content,text", [
    ("{not json", "not valid JSON"),
    ('{"device": "cpu"}', 'no "models" list'),
    ('{"models": [{"model": "resnet18", "measured_ms": {"median": "fast"}}]}', "positive number"),
    ('{"models": [{"measured_ms": {"median": 1}}]}', 'no "model" name'),
])
def test_bad_latency_report_is_a_located_error(tmp_path, content, text):
    p = tmp_path / "latency-x.json"
    p.write_text(content)
    with pytest.raises(SpecError, match=text) as e:
        load_latency_report(str(p))
    assert str(p) in str(e.value)


@pytest.fixture
def toy_profile_file(tmp_path):
    from latency_util import toy_profile

    p = tmp_path / "toy.json"
    p.write_text(json.dumps(toy_profile()))
    return str(p)


def test_predicted_latency_plots_and_compare_use_the_real_predictor(toy_profile_file):
    """accuracy-vs-latency, layers --metric predicted_ms and compare all show analyze(device_profile=)'s figures."""
    chart = accuracy_chart(["resnet50", "mobilenetv2"], metric="latency", device_profile=toy_profile_file)
    by = {p.label: p for p in chart.points}
    for name in ("resnet50", "mobilenetv2"):
        want = archcost.analyze(name, device_profile=toy_profile_file).totals["predicted_ms"]
        assert by[name].x == pytest.approx(want)
    assert "predicted" in chart.x_title
    lc = layers_chart("mobilenetv2", metric="predicted_ms", depth=1, device_profile=toy_profile_file)
    rows = archcost.analyze("mobilenetv2", device_profile=toy_profile_file).rows
    assert sum(sum(v) for v in lc.values["predicted_ms"].values()) == pytest.approx(
        sum(r.extra["predicted_ms"] for r in rows))
    from archcost.catalog.compare import compare_rows

    res = compare_rows(["resnet50", "mobilenetv2"], device_profile=toy_profile_file)
    assert res["models"][1]["predicted_ms"] == pytest.approx(by["mobilenetv2"].x)
    assert res["models"][1]["ratios"]["predicted_ms"] == pytest.approx(by["mobilenetv2"].x / by["resnet50"].x)


def test_measured_latency_from_the_committed_reference_report():
    """The zoo report that `archcost profile --zoo` wrote is plotted as measured, model by model."""
    from archcost.measure.results import load_latency

    ref = Path(__file__).resolve().parent.parent / "reports" / "latency-cpu-reference.json"
    chart = accuracy_chart(["resnet50", "mobilenetv2", "vgg16"], metric="latency", latency=str(ref))
    measured = load_latency(str(ref))
    assert {p.label: p.x for p in chart.points} == pytest.approx({n: measured[n] for n in ("resnet50", "mobilenetv2", "vgg16")})
    assert "measured" in chart.x_title


def test_predicted_ms_metric_needs_a_profile():
    with pytest.raises(SpecError, match="needs a device profile"):
        layers_chart("lenet5", metric="predicted_ms")


# --- layers ---------------------------------------------------------------------------------------------

def test_layer_kinds_match_torchvision_mobilenet_v2():
    """Depthwise and pointwise convs counted by kind equal torchvision's model (random weights)."""
    torchvision = pytest.importorskip("torchvision")
    from torch import nn

    tv = torchvision.models.mobilenet_v2(weights=None)
    convs = [m for m in tv.modules() if isinstance(m, nn.Conv2d)]
    tv_dw = sum(1 for m in convs if m.groups == m.in_channels > 1)
    tv_pw = sum(1 for m in convs if m.kernel_size == (1, 1) and m.groups == 1)
    kinds = [layer_kind(n) for n in archcost.analyze("mobilenetv2").graph.nodes]
    assert kinds.count("depthwise conv") == tv_dw == 17
    assert kinds.count("pointwise conv (1×1)") == tv_pw
    assert kinds.count("conv (dense)") == 1 and kinds.count("linear") == 1


def test_vgg16_fc6_dominates_params():
    lc = layers_chart("vgg16", metric="params")
    fc6 = dict(zip(lc.labels, lc.values["params"]["linear"]))["linear0"]
    assert fc6 == 512 * 7 * 7 * 4096 + 4096  # by hand: 25088 inputs × 4096 outputs + bias
    assert fc6 / lc.totals["params"] > 0.74


def test_layers_depth_sums_blocks():
    flat = layers_chart("resnet50", metric="macs")
    blocks = layers_chart("resnet50", metric="macs", depth=1)
    assert flat.totals["macs"] == blocks.totals["macs"] == archcost.analyze("resnet50").totals["macs"]
    assert "layer3" in blocks.labels and len(blocks.labels) < len(flat.labels)
    with pytest.raises(SpecError, match="at least 1"):
        layers_chart("resnet50", depth=0)


def test_layers_figure_dropdown_switches_metrics():
    fig = ap.layers("mobilenetv2", depth=1, metrics=["macs", "params"])
    (menu,) = fig.layout.updatemenus
    assert [b.label for b in menu.buttons] == ["macs", "params"]
    params = menu.buttons[1].args[0]["x"]  # horizontal bars: the values are on x (issue 21)
    total = sum(v or 0 for ys in params for v in ys)
    assert total == archcost.analyze("mobilenetv2").totals["params"]


# --- Python API -------------------------------------------------------------------------------------------

def test_analysis_repr_html_is_an_escaped_table():
    spec = archcost.load_spec("x.yaml", text="name: tiny\ntitle: 'A <script>alert(1)</script> net'\n"
                                              "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n")
    html = archcost.analyze(spec)._repr_html_()
    assert html.count("<tr>") == 1 + 1 + 1  # header, one layer, totals
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "data-v=\"112\"" in html  # 4 × 3 × 3 × 3 weights + 4 biases, by hand


def test_compare_and_zoo_dataframes():
    pd = pytest.importorskip("pandas")
    df = archcost.compare(["resnet50", "mobilenetv2"])
    assert isinstance(df, pd.DataFrame) and list(df.index) == ["resnet50", "mobilenetv2"]
    assert df.loc["mobilenetv2", "params_ratio"] == pytest.approx(3_504_872 / 25_557_032)
    assert df.attrs["convention"] == "default"
    from archcost.zoo import to_pandas

    z = to_pandas(family="dense")
    assert set(z["name"]) == {"densenet121", "densenet161", "densenet169", "densenet201"}
