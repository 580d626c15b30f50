"""`archcost plot ...`, `archcost compare`, `archcost report` through typer's CliRunner (no browser needed)."""

from __future__ import annotations

import csv
import io
import json
import pytest
from typer.testing import CliRunner

import archcost
from archcost.cli import app
from plot_util import LATENCY

runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "120", **(env or {})})


def one_paragraph_exit_2(r, text):
    assert r.exit_code == 2, r.output
    assert text in r.stderr, r.stderr
    assert "Traceback" not in r.output
    assert r.stderr.strip().count("\n") == 0, r.stderr


# --- compare (pure Python) ------------------------------------------------------------------------------

def test_compare_json_ratios_by_hand():
    r = run("compare", "resnet50", "mobilenetv2", "vgg16", "-f", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["baseline"] == "resnet50" and d["convention"] == "default"
    m = {x["model"]: x for x in d["models"]}
    assert m["resnet50"]["ratios"]["params"] == 1.0
    # ratios from the README's numbers: 3,504,872 / 25,557,032 params and 300,774,272 / 4,089,184,256 MACs
    assert m["mobilenetv2"]["ratios"]["params"] == pytest.approx(3_504_872 / 25_557_032)
    assert m["mobilenetv2"]["ratios"]["macs"] == pytest.approx(300_774_272 / 4_089_184_256)
    assert m["vgg16"]["top1_delta"] == pytest.approx(71.592 - 80.858)
    assert m["vgg16"]["accuracy_source"].startswith("torchvision VGG16_Weights")
    for k in ("params", "macs", "flops", "peak_activation_bytes", "weight_bytes", "top1", "family", "input_shape"):
        assert k in m["vgg16"]


def test_compare_options_apply_to_all():
    r = run("compare", "mobilenetv2", "mnasnet1_0", "--input", "3,160,160", "-c", "fvcore", "-f", "json")
    d = json.loads(r.stdout)
    for row in d["models"]:
        a = archcost.analyze(row["model"], input=(3, 160, 160), convention="fvcore")
        assert row["macs"] == a.totals["macs"] and row["input_shape"] == [3, 160, 160]
    assert d["input"] == [3, 160, 160]
    r = run("compare", "mobilenetv2", "mobilenetv2_035", "--set", "resolution=192", "-f", "json")
    d = json.loads(r.stdout)
    assert [row["input_shape"] for row in d["models"]] == [[3, 192, 192]] * 2


def test_compare_table_csv_markdown():
    r = run("compare", "resnet50", "mobilenetv2", "fashion_mnist_cnn")
    assert r.exit_code == 0, r.output
    assert "ratios to resnet50" in r.stdout and "0.137×" in r.stdout and "no top-1 accuracy" in r.stdout
    r = run("compare", "resnet50", "mobilenetv2", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows[1]["model"] == "mobilenetv2" and rows[1]["params"] == "3504872"
    assert float(rows[1]["macs_ratio"]) == pytest.approx(300_774_272 / 4_089_184_256, rel=1e-5)
    r = run("compare", "resnet50", "mobilenetv2", "-f", "markdown")
    assert "| mobilenetv2 | 3.50M (0.137×) |" in r.stdout


def test_compare_measured_latency_column():
    r = run("compare", "resnet50", "mobilenetv2", "vgg16", "--latency", LATENCY, "-f", "json")
    d = json.loads(r.stdout)
    m = {x["model"]: x for x in d["models"]}
    assert m["mobilenetv2"]["measured_ms"] == 9.25
    assert m["mobilenetv2"]["ratios"]["measured_ms"] == pytest.approx(9.25 / 41.5)
    assert m["vgg16"]["measured_ms"] is None and "12,345 MACs" in m["vgg16"]["notes"][0]
    assert "Test CPU 9000" in d["latency"]["measured"]


@pytest.mark.parametrize("args,text", [
    (["compare", "resnet50", "no_such_net"], "neither a spec file nor a zoo model"),
    (["compare", "resnet50", "--convention", "nope"], "unknown convention"),
    (["compare", "resnet50", "--latency", "/no/such.json"], "cannot read the latency report"),
    (["plot", "accuracy-vs-macs", "resnet50", "no_such_net"], "neither a spec file nor a zoo model"),
    (["plot", "accuracy-vs-macs", "fashion_mnist_cnn", "preact_resnet18"], "nothing to plot"),
    (["plot", "accuracy-vs-macs"], "needs models"),
    (["plot", "accuracy-vs-macs", "--family", "nope"], "no zoo models in family"),
    (["plot", "layers", "vgg16", "--metric", "colour"], "unknown metric 'colour'"),
    (["plot", "layers", "vgg16", "--metric", "predicted_ms"], "needs a device profile"),
    (["plot", "accuracy-vs-latency", "resnet50", "--latency", LATENCY, "--device-profile", "x"], "not both"),
    (["report", "no_such_net"], "neither a spec file nor a zoo model"),
])
def test_bad_input_is_one_paragraph_exit_2(args, text, tmp_path):
    one_paragraph_exit_2(run(*args, "-o", tmp_path / "x.html") if args[0] != "compare" else run(*args), text)


@pytest.mark.parametrize("cmd", [["plot", "accuracy-vs-macs", "resnet18"], ["plot", "layers", "lenet5"],
                                 ["report", "lenet5", "--no-verify"]])
def test_unwritable_output_is_exit_2(cmd, tmp_path):
    afile = tmp_path / "a_file"
    afile.write_text("")
    one_paragraph_exit_2(run(*cmd, "-o", afile / "x.html"), "is a file, not a folder")
    one_paragraph_exit_2(run(*cmd, "-o", tmp_path), "is a folder, not a file")


def test_plot_accuracy_writes_html_lists_frontier_and_left_out(tmp_path):
    out = tmp_path / "sub" / "acc.html"
    r = run("plot", "accuracy-vs-macs", "resnet50", "mobilenetv2", "squeezenet1_1", "lenet5", "-o", out)
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert len(html) > 3_000_000 and "<script src" not in html and "<link" not in html  # plotly.js embedded
    lines = r.stdout.splitlines()
    i = lines.index("Pareto frontier (most accurate for its MACs):")
    assert [ln.split()[0] for ln in lines[i + 1:i + 3]] == ["mobilenetv2", "resnet50"]
    assert "left out (1):" in lines and any(ln.strip().startswith("lenet5: top-1 is on MNIST") for ln in lines)


def test_plot_latency_default_models_are_the_reports(tmp_path):
    r = run("plot", "accuracy-vs-latency", "--latency", LATENCY, "-o", tmp_path / "lat.html")
    assert r.exit_code == 0, r.output
    assert "4 models" in r.stdout and "squeezenet1_1: no measured latency" in r.stdout


def test_plot_layers_prints_the_largest(tmp_path):
    r = run("plot", "layers", "vgg16", "--metric", "params", "-o", tmp_path / "l.html")
    assert r.exit_code == 0, r.output
    assert "linear0  102,764,544  (74.3%)" in r.stdout


def test_no_chromium_names_the_package_and_still_writes_html(tmp_path):
    html, png = tmp_path / "a.html", tmp_path / "a.png"
    r = run("plot", "accuracy-vs-macs", "resnet18", "resnet50", "-o", html, "--png", png,
            env={"BROWSER_PATH": str(tmp_path / "no-browser")})
    one_paragraph_exit_2(r, "apt-get install chromium")
    assert html.exists() and not png.exists()
    assert f"wrote {html}" in r.stdout


def test_report_without_verify(tmp_path):
    out = tmp_path / "r.html"
    r = run("report", "lenet5", "mobilenetv2", "--no-verify", "-o", out)
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert "verify not run: --no-verify" in html
    assert "<script src" not in html and html.count("Plotly.newPlot") == 2 + 2  # 2 accuracy charts + 2 models' bars
    assert html.count("plotly.js v") == 1  # the bundle embedded once
    assert 'id="layers-mobilenetv2"' in html and "sha256" in html and "archcost 0.1.0" in html


def test_report_verify_status_where_torch_is_installed(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    from archcost.plot.html_report import verify_status

    cls, text = verify_status("lenet5")
    assert cls == "ok" and f"all {archcost.analyze('lenet5').totals['layers']} layers agree" in text, text


def test_report_embeds_no_absolute_local_path(tmp_path, monkeypatch):
    """A spec given by absolute path, the page written by absolute path: neither path is in the page."""
    from pathlib import Path

    from archcost.plot.html_report import report_html

    root = str(Path(__file__).resolve().parent.parent)
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    own = elsewhere / "my_lenet.yaml"
    own.write_text((Path(root) / "specs" / "lenet5.yaml").read_text())
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # neither the checkout nor the copy is under the current directory
    out = work / "r.html"
    r = run("report", f"{root}/specs/lenet5.yaml", "--no-verify", "-o", out)
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert root not in html and str(tmp_path) not in html
    assert "<code>specs/lenet5.yaml</code>" in html  # a zoo file relative to the zoo
    page = report_html([str(own)], verify=False, date="2026-01-01",
                       command=f"archcost report {own} --output={out} -o {out}")
    assert str(tmp_path) not in page and root not in page
    assert "<code>my_lenet.yaml</code>" in page and "--output=r.html -o r.html" in page
