"""The analytic path must not import torch, fvcore, pandas or plotly (startup speed)."""

import json
import subprocess
import sys

HEAVY = ["torch", "fvcore", "pandas", "plotly", "torchvision", "numpy"]

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

    prof = tmp_path / "profile.json"  # the prediction path (table --device-profile FILE) is torch-free too
    prof.write_text(json.dumps(toy_profile()))
    out = subprocess.run([sys.executable, "-c", CODE, str(prof)], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"analytic path imported {loaded}"
