"""The analytic path (table, zoo, memory, receptive fields) must not import torch, fvcore, pandas or plotly."""

import json
import subprocess
import sys

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
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
""" % (HEAVY,)


def test_analytic_path_imports_no_heavy_modules():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"analytic path imported {loaded}"
