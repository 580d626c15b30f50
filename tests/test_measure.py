"""Measurement with torch (CPU; CUDA where present): figures with spread, rows named like `table`'s.

Timings are never asserted against numbers: only that they exist, are positive and carry their spread.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

torch = pytest.importorskip("torch")

import archcost  # noqa: E402
from archcost.analysis import latency as L  # noqa: E402
from archcost.cli import app  # noqa: E402
from archcost.measure import calibrate as C  # noqa: E402
from archcost.measure import profile as P  # noqa: E402
from archcost.measure import zoo as Z  # noqa: E402
from archcost.measure.results import load_latency  # noqa: E402
from archcost.measure.timer import Block, Measurement, measure, rounds  # noqa: E402
from archcost.report.profile import write_zoo_report  # noqa: E402
from latency_util import toy_profile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HW = str(ROOT / "specs" / "homework" / "inception_5x5_bottleneck.yaml")
runner = CliRunner()
CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (torch.cuda.is_available() is False here)")


@pytest.fixture
def toy_file(tmp_path):
    p = tmp_path / "toy.json"
    p.write_text(json.dumps(toy_profile()))
    return p


def test_measurement_statistics_by_hand():
    m = Measurement([0.004, 0.001, 0.002, 0.003, 0.010])
    assert m.median == 0.003 and m.min == 0.001
    q = statistics.quantiles([0.004, 0.001, 0.002, 0.003, 0.010], n=4, method="inclusive")
    assert m.iqr == pytest.approx(q[2] - q[0])  # 0.004 - 0.002
    assert m.cv == pytest.approx(statistics.stdev(m.samples) / statistics.fmean(m.samples))
    d = m.to_dict()
    assert d["median"] == pytest.approx(3.0) and d["iqr"] == pytest.approx(2.0) and d["repeats"] == 5


def test_measure_blocks_of_calls():
    calls = []
    m = measure(lambda: calls.append(1), warmup=2, repeat=4, min_block_s=0.001)
    assert len(m.samples) == 4 and m.number >= 1 and all(s > 0 for s in m.samples)
    # warm-up, the calls that sized the block (1 to 4), then 4 blocks of `number` calls
    assert 2 + 1 + 4 * m.number <= len(calls) <= 2 + 4 + 4 * m.number


def test_rounds_interleave_blocks_with_untimed_calls_around_each():
    """The one timing loop: A B A B (never A A B B), before/after each sample, stop rules (no timing asserted)."""
    log = []
    blocks = [Block(lambda k=k: log.append(k)) for k in "AB"]
    samples = rounds(blocks, repeat=3, before=lambda i: log.append(f"<{i}"), after=lambda i: log.append(f">{i}"),
                     on_round=lambda n, spent: log.append(n))
    assert log == [x for n in (1, 2, 3) for x in ("<0", "A", ">0", "<1", "B", ">1", n)]
    assert [len(s) for s in samples] == [3, 3] and all(len(x) == 3 and x[2] is None for s in samples for x in s)
    assert len(rounds(blocks, until=lambda n, spent: n == 4)[0]) == 4
    assert len(rounds(blocks, repeat=9, max_repeat=2)[0]) == 2
    assert len(rounds(blocks, budget_s=0.0, min_repeat=3)[0]) == 3


def test_profile_returns_positive_figures_with_spread():
    r = P.profile(HW, repeat=5, per_layer=True)
    m = r["measured_ms"]
    assert m["median"] > 0 and m["min"] > 0 and m["iqr"] >= 0 and m["cv"] >= 0 and m["repeats"] == 5
    assert r["threads"] == 1 and r["device"] == "cpu" and r["clock"] == "cpu" and r["torch"] == torch.__version__
    assert m["load_factor"] > 0 and m["wall_median"] > 0
    assert all(row["hooked_ms"] > 0 and row["repeats"] == 5 and row["iqr_ms"] >= 0 for row in r["layers"])
    assert sum(row["measured_ms"] for row in r["layers"]) == pytest.approx(m["median"], rel=1e-9)


def test_per_layer_rows_match_table_rows_by_name():
    args = ["shufflenet_v2_x0_5", "--input", "3,64,64"]
    t = json.loads(runner.invoke(app, ["table", *args, "-f", "json"]).output)
    r = runner.invoke(app, ["profile", *args, "--per-layer", "--repeat", "2", "--warmup", "1", "-f", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [l["name"] for l in d["layers"]] == [l["name"] for l in t["layers"]]
    assert [l["op"] for l in d["layers"]] == [l["op"] for l in t["layers"]]
    assert [l["macs"] for l in d["layers"]] == [l["macs"] for l in t["layers"]]
    assert {l["macs_convention"] for l in d["layers"]} == {t["convention"]} == {"default"}


def test_profile_compare_json_format(toy_file):
    r = runner.invoke(app, ["profile", HW, "--compare", "--device-profile", str(toy_file), "--repeat", "3", "-f", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    for k in ("model", "device", "threads", "batch", "dtype", "torch", "measured_ms", "predicted_ms", "error_pct", "layers"):
        assert k in d
    assert set(d["measured_ms"]) >= {"median", "iqr", "min", "cv"}
    assert d["predicted_ms"] == pytest.approx(archcost.analyze(HW, device_profile=str(toy_file)).totals["predicted_ms"])
    assert d["error_pct"] == pytest.approx(100 * (d["predicted_ms"] / d["measured_ms"]["median"] - 1))
    assert d["macs"] == archcost.analyze(HW).totals["macs"] and d["macs_convention"] == "default"
    for l in d["layers"]:
        assert set(l) >= {"name", "op", "macs", "measured_ms", "predicted_ms", "error_pct"}
    for fmt in ("table", "markdown", "csv"):
        r = runner.invoke(app, ["profile", HW, "--compare", "--device-profile", str(toy_file), "--repeat", "2",
                                "-f", fmt], env={"COLUMNS": "160"})
        assert r.exit_code == 0 and "conv2d1" in r.stdout, r.output


def test_profile_several_specs_are_interleaved(toy_file):
    r = runner.invoke(app, ["profile", HW, "lenet5", "--device-profile", str(toy_file), "--repeat", "3", "-f", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [m["model"] for m in d["models"]] == ["inception_5x5_bottleneck", "lenet5"]
    assert d["summary"]["compared"] == 2


def test_bad_options_are_one_line_exit_2():
    for args, text in [(["profile"], "give a spec"), (["profile", HW, "--device", "tpu"], "not a device"),
                       (["profile", HW, "--threads", "0"], "positive integer"),
                       (["profile", HW, "--threads", "2", "--clock", "cpu"], "only with one thread"),
                       (["profile", HW, "--dtype", "int8"], "cannot be timed")]:
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and text in r.output and r.output.strip().count("\n") == 0, (args, r.output)


@pytest.mark.skipif(CUDA, reason="CUDA is available here; this checks the message for machines without it")
@pytest.mark.parametrize("cmd", [["profile", HW, "--device", "cuda"], ["profile", HW, "--device", "cuda:1"],
                                 ["calibrate", "--device", "cuda"]])
def test_cuda_without_cuda_is_one_line_exit_2(cmd):
    r = runner.invoke(app, cmd)
    assert r.exit_code == 2, r.output
    assert "CUDA is not available" in r.output and r.output.strip().count("\n") == 0 and "Traceback" not in r.output


@pytest.fixture(scope="module")
def tiny_profile():
    return C.calibrate(quick=True, seed=5)


def test_calibration_round_trips_and_uses_only_synthetic_layers(tiny_profile, tmp_path):
    p = tiny_profile
    assert p["name"].startswith("cpu-1t-") and p["threads"] == 1 and p["torch"] == torch.__version__
    assert p["device_name"] and p["date"] and p["dtype"] == "float32" and p["clock"] == "cpu"
    assert {b["class"] for b in p["benchmarks"]} >= {"conv", "conv1x1", "depthwise", "grouped", "linear", "batchnorm",
                                                     "relu", "add", "concat", "multiply", "max_pool"}
    zoo = set(archcost.language.zoo_index())
    assert all(n["name"].startswith("synthetic") and n["name"] not in zoo for n in p["networks"])
    path = C.save(p, str(tmp_path / "p.json"))
    loaded = L.load_profile(path)
    assert json.loads(Path(path).read_text()) == json.loads(json.dumps(p))
    a1 = archcost.analyze("mobilenetv2", device_profile=p)
    a2 = archcost.analyze("mobilenetv2", device_profile=loaded)
    assert a1.totals["predicted_ms"] == a2.totals["predicted_ms"] > 0
    assert [r.extra["predicted_ms"] for r in a1.rows] == [r.extra["predicted_ms"] for r in a2.rows]
    # refitting the stored raw measurements gives the same cost model (the fit is deterministic)
    raw = {k: p[k] for k in ("bandwidth_raw", "benchmarks", "networks", "chain")}
    assert C.fit_profile(raw)["classes"] == json.loads(json.dumps(p["classes"]))


def test_calibrate_cli_saves_in_the_cache_and_lists(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHCOST_CACHE_DIR", str(tmp_path))
    r = runner.invoke(app, ["calibrate", "--quick"], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    saved = list((tmp_path / "profiles").glob("cpu-1t-*.json"))
    assert len(saved) == 1 and saved[0].stem in r.output
    r = runner.invoke(app, ["calibrate", "--list"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and saved[0].stem in r.output
    r = runner.invoke(app, ["table", HW, "--device-profile", "cpu-1t", "-f", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["totals"]["predicted_ms"] > 0
    r = runner.invoke(app, ["profile", HW, "--compare", "--repeat", "2", "-f", "json"])  # the newest profile for cpu-1t
    assert r.exit_code == 0 and json.loads(r.stdout)["profile"] == saved[0].stem


def test_zoo_runner_resumes_and_reports(tmp_path, toy_file):
    jobs = [Z.Job(HW), Z.Job("lenet5"), Z.Job("lenet5", input=(1, 36, 36))]
    log = str(tmp_path / "r.partial.jsonl")
    res = Z.run_zoo(jobs, log=log, repeat=3, warmup=1, per_layer=True)
    assert [r["label"] for r in res] == [HW, "lenet5", "lenet5@1x36x36"]
    notes = []
    again = Z.run_zoo(jobs, log=log, repeat=3, warmup=1, per_layer=True, progress=lambda d, t, n: notes.append(n))
    assert not any(n.startswith("lowering") for n in notes)  # everything came from the resume log
    assert [r["measured_ms"] for r in again] == [r["measured_ms"] for r in res]
    with pytest.raises(archcost.SpecError, match="resume log was measured with"):
        Z.run_zoo(jobs, log=log, repeat=3, batch=2)
    report = Z.build_report(res, str(toy_file))
    for k in ("device", "device_name", "threads", "batch", "dtype", "torch", "date", "profile", "models", "summary"):
        assert k in report
    for m in report["models"]:
        assert set(m) >= {"model", "macs", "params", "measured_ms", "predicted_ms", "error_pct"}
    js, md = write_zoo_report(report, str(tmp_path / "latency-cpu-test"))
    assert set(load_latency(js)) == {HW, "lenet5", "lenet5@1x36x36"} and "## Models" in Path(md).read_text()


@needs_cuda
def test_cuda_profile_uses_events_and_states_cudnn_benchmark():
    r = P.profile(HW, device="cuda", repeat=5, per_layer=True)
    assert r["clock"] == "cuda" and r["cudnn_benchmark"] is True and r["device"] == "cuda:0"
    assert r["measured_ms"]["median"] > 0 and all(l["hooked_ms"] > 0 for l in r["layers"])


@needs_cuda
def test_cuda_calibration_round_trips(tmp_path):
    p = C.calibrate(device="cuda", quick=True)
    assert p["name"].startswith("cuda-") and p["clock"] == "cuda"
    path = C.save(p, str(tmp_path / "cuda.json"))
    assert archcost.analyze(HW, device_profile=path).totals["predicted_ms"] > 0
