"""The analytic path (table, zoo, memory, receptive fields) must not import torch, fvcore, pandas or plotly."""

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ["torch", "fvcore", "pandas", "plotly", "torchvision", "numpy", "pydantic", "ptflops", "thop", "torchinfo"]

CODE = """
import json, sys
import archcost
from archcost.cli import app
from typer.testing import CliRunner
a = archcost.analyze("mobilenetv2", convention="fvcore")
a.collapse(1)
res = CliRunner().invoke(app, ["table", "mobilenetv2", "--format", "json"])
assert res.exit_code == 0, res.output
res = CliRunner().invoke(app, ["table", "mobilenetv2"])
assert res.exit_code == 0, res.output
res = CliRunner().invoke(app, ["zoo", "--format", "csv"])
assert res.exit_code == 0, res.output
res = CliRunner().invoke(app, ["compare", "resnet50", "mobilenetv2"])
assert res.exit_code == 0, res.output
res = CliRunner().invoke(app, ["compare", "resnet50", "mobilenetv2", "--format", "json"])
assert res.exit_code == 0, res.output
archcost.analyze("lenet5")._repr_html_()
res = CliRunner().invoke(app, ["table", "googlenet", "--receptive-field", "--format", "json"])
assert res.exit_code == 0, res.output
for fmt in ("table", "json"):
    res = CliRunner().invoke(app, ["memory", "mobilenetv2", "--batch", "8", "--layers", "--format", fmt])
    assert res.exit_code == 0, res.output
from archcost.analysis.receptive import receptive_fields, rf_region
from archcost.analysis.training import training_memory
g = archcost.build("resnet18")
receptive_fields(g), rf_region(g, "fc", clip=True), training_memory(g, batch=4, optimizer="sgd")
for c in ("ptflops", "thop", "torchinfo", "torch"):
    archcost.analyze("mobilenetv2", convention=c).to_dict()
archcost.compare_conventions("efficientnet_b0")
for args in (["table", "mobilenetv2", "--convention", "all"], ["conventions", "resnet50", "-f", "json"],
             ["conventions", "googlenet", "-f", "markdown"]):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
# the homework checker, explain and calc (a wrong answer exits 1, which is fine here)
for args in (["check", "specs/homework/inception_5x5.answers.yaml", "-f", "json"],
             ["check", "specs/homework/vgg16_memory.answers.yaml", "-f", "gradescope"],
             ["explain", "googlenet", "--layer", "inception3a"],
             ["calc", "conv2d", "--in", "3,227,227", "--out-channels", "96", "--kernel-size", "11", "--stride", "4"],
             ["calc", "conv2d", "--in", "512,14,14", "--out-channels", "512", "--kernel-size", "3",
              "--compare", "depthwise-separable"]):
    res = CliRunner().invoke(app, args)
    assert res.exit_code in (0, 1), (args, res.output)
res = CliRunner().invoke(app, ["table", "mobilenetv2", "--device-profile", sys.argv[1], "--format", "json"])
assert res.exit_code == 0 and '"predicted_ms"' in res.output, res.output
res = CliRunner().invoke(app, ["table", "mobilenetv2", "--device-profile", sys.argv[1], "--depth", "1"])
assert res.exit_code == 0, res.output
archcost.analyze("lenet5", device_profile=sys.argv[1])
import archcost.measure.results
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
""" % (HEAVY,)


def test_analytic_path_imports_no_heavy_modules(tmp_path):
    from latency_util import toy_profile

    root = Path(__file__).resolve().parent.parent  # CODE names specs/homework/... relative to the repository
    prof = tmp_path / "profile.json"  # the prediction path (table --device-profile FILE) is torch-free too
    prof.write_text(json.dumps(toy_profile()))
    out = subprocess.run([sys.executable, "-c", CODE, str(prof)], capture_output=True, text=True, check=True, cwd=root)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"analytic path imported {loaded}"
