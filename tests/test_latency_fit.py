"""The pure-Python pieces behind calibration and reports: NNLS, Spearman, loaders, summaries."""

from __future__ import annotations

import json
import random

import pytest

from archcost.errors import SpecError
from archcost.measure import fit
from archcost.measure.results import error_stats, load_latency, ranks, spearman, split_half_pct, summarize


def test_nnls_recovers_known_nonnegative_coefficients():
    rng = random.Random(1)
    true = [3e-6, 2e-11, 0.0, 5e-10]  # per call, per MAC, (unused), per element
    rows = [[1.0, rng.uniform(1e5, 1e9), rng.uniform(1e3, 1e6), rng.uniform(1e3, 1e6)] for _ in range(60)]
    y = [sum(c * x for c, x in zip(true, r)) for r in rows]
    got = fit.nnls(rows, y)
    for g, t in zip(got, true):
        assert g >= 0
        assert g == pytest.approx(t, rel=1e-6, abs=1e-18)


def test_nnls_clamps_what_would_be_negative():
    # y = 2x - 1 on x in [1, 3]: the unconstrained intercept is -1; NNLS must keep it at 0
    rows = [[1.0, x] for x in (1.0, 2.0, 3.0)]
    y = [1.0, 3.0, 5.0]
    c = fit.nnls(rows, y, relative=False)
    assert c[0] == 0.0 and c[1] > 0
    # the best slope through the origin (least squares by hand): Σxy / Σx² = (1 + 6 + 15) / 14
    assert c[1] == pytest.approx(22 / 14)


def test_robust_nnls_ignores_a_sample_slowed_by_load():
    rows = [[1.0, float(x)] for x in range(1, 21)]
    y = [1e-5 + 1e-6 * x for x in range(1, 21)]
    y[7] *= 3  # a burst of load on one sample
    c, err, kept = fit.robust_nnls(rows, y)
    assert kept == 19 and c[0] == pytest.approx(1e-5, rel=1e-6) and c[1] == pytest.approx(1e-6, rel=1e-6)


def test_spearman_against_pandas():
    pd = pytest.importorskip("pandas")
    rng = random.Random(3)
    a = [rng.randint(0, 20) for _ in range(40)]  # ties included
    b = [x + rng.randint(-5, 5) for x in a]
    # Spearman = Pearson correlation of average ranks (pandas' own ranking; its "spearman" needs scipy)
    expected = pd.Series(a).rank().corr(pd.Series(b).rank())
    assert spearman(a, b) == pytest.approx(expected, rel=1e-12)
    assert ranks([10, 20, 20, 5]) == [2.0, 3.5, 3.5, 1.0]


def test_error_stats_by_hand():
    s = error_stats([110, 95, 150, 100], [100, 100, 100, 100])
    assert s["median_abs_error_pct"] == 7.5 and s["within_10_pct"] == 0.75 and s["within_20_pct"] == 0.75
    assert s["median_error_pct"] == 5.0
    assert split_half_pct([1, 2, 1, 2, 1, 2]) == pytest.approx(100 * 1 / 1.5)


def test_load_latency_reads_every_format(tmp_path):
    rec = {"model": "a", "measured_ms": {"median": 1.5, "iqr": 0.1, "min": 1.4, "cv": 0.02}}
    (tmp_path / "one.json").write_text(json.dumps(rec))
    (tmp_path / "zoo.json").write_text(json.dumps({"device": "cpu", "models": [rec, {**rec, "model": "b"}]}))
    (tmp_path / "log.partial.jsonl").write_text(json.dumps(rec) + "\n" + '{"model": "b", "meas')  # killed mid-line
    assert load_latency(tmp_path / "one.json") == {"a": 1.5}
    assert load_latency(tmp_path / "zoo.json") == {"a": 1.5, "b": 1.5}
    assert load_latency(tmp_path / "log.partial.jsonl") == {"a": 1.5}
    (tmp_path / "x.json").write_text("{\n1\n}")
    with pytest.raises(SpecError) as e:
        load_latency(tmp_path / "x.json")
    assert e.value.line == 2


def test_summarize_compares_predictor_and_baseline():
    models = [{"model": m, "macs": macs, "measured_ms": {"median": meas}, "predicted_ms": p, "macs_baseline_ms": b}
              for m, macs, meas, p, b in [("a", 1, 10, 11, 5), ("b", 2, 20, 19, 10), ("c", 4, 40, 44, 20)]]
    s = summarize(models)
    assert s["predictor"]["within_10_pct"] == 1.0 and s["macs_baseline"]["median_abs_error_pct"] == 50.0
    assert s["spearman_macs_measured"] == pytest.approx(1.0)


def test_results_module_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, archcost.measure.results, archcost.measure.fit; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_a_term_out_of_range_keeps_the_isolated_model():
    """A network correction that blows a term up (or makes it NaN) must not make a profile load_profile refuses:
    the class keeps its micro-benchmark model, clipped into range, and says so."""
    from archcost.analysis.profile_file import MAX_SECONDS
    from archcost.measure.calibrate import _keep_in_range

    good = {"terms": {"one": 1e-6, "out": 2e-9}, "isolated_terms": {"one": 1e-6}, "network_fit": {"kind": "factor"}}
    _keep_in_range(good)
    assert good["terms"] == {"one": 1e-6, "out": 2e-9} and good["network_fit"] == {"kind": "factor"}
    for blown in (5e3, float("nan"), -1e-3, float("inf")):
        e = {"terms": {"one": 1e-6, "out": blown}, "isolated_terms": {"one": 2e-6, "out": 2e4},
             "network_fit": {"kind": "factor"}}
        _keep_in_range(e)
        assert e["terms"] == {"one": 2e-6, "out": MAX_SECONDS}
        assert e["network_fit"]["kind"] == "refused" and e["network_fit"]["was"] == "factor"
