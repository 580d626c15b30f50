"""Course numbers everybody checks by hand, as tests."""

from pathlib import Path

import archcost

HW = Path(__file__).resolve().parent.parent / "specs" / "homework"


def test_inception_5x5_naive():
    a = archcost.analyze(str(HW / "inception_5x5_naive.yaml"))
    assert a.rows[0].output_shape == [1, 32, 28, 28]
    assert a.totals["macs"] == 120_422_400


def test_inception_5x5_bottleneck():
    a = archcost.analyze(str(HW / "inception_5x5_bottleneck.yaml"))
    assert [r.macs for r in a.rows] == [2_408_448, 10_035_200]
    assert a.totals["macs"] == 12_443_648  # about 10× fewer than without the bottleneck


def test_alexnet_conv1():
    a = archcost.analyze(str(HW / "alexnet_conv1.yaml"))
    assert a.rows[0].output_shape == [1, 96, 55, 55]
    assert a.totals["params"] == 34_944


def test_mobilenetv2_matches_torchvision_and_fvcore_figures():
    # torchvision meta num_params; fvcore 0.1.5 FlopCountAnalysis total on torchvision's mobilenet_v2 (measured)
    assert archcost.analyze("mobilenetv2").totals["params"] == 3_504_872
    assert archcost.analyze("mobilenet_v2", convention="fvcore").totals["macs"] == 314_193_216
    assert archcost.analyze("mobilenetv2").totals["macs"] == 300_774_272  # torchvision _ops 0.301 G
