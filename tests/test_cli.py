"""The CLI through typer's CliRunner, plus golden outputs for a small spec."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from archcost.cli import app

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
HW = str(ROOT / "specs" / "homework" / "inception_5x5_bottleneck.yaml")
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "120"})


def test_table_default():
    r = run("table", "mobilenetv2")
    assert r.exit_code == 0, r.output
    assert "convention: default" in r.output
    assert "3.50M" in r.output and "300.77M" in r.output


@pytest.mark.parametrize("fmt", ["json", "markdown", "csv"])
def test_golden(fmt):
    r = run("table", HW, "--format", fmt)
    assert r.exit_code == 0, r.output
    out = r.output.replace(str(ROOT) + "/", "")
    golden = GOLDEN / f"inception_5x5_bottleneck.{ {'json': 'json', 'markdown': 'md', 'csv': 'csv'}[fmt] }"
    assert out == golden.read_text()


def test_golden_rich_table():
    r = run("table", HW)
    assert r.exit_code == 0, r.output
    assert r.output.replace(str(ROOT) + "/", "") == (GOLDEN / "inception_5x5_bottleneck.table.txt").read_text()


def test_json_is_parseable_and_stamped():
    r = run("table", "mobilenet_v2", "-f", "json", "-c", "fvcore", "--batch", "2", "--dtype", "float16")
    d = json.loads(r.output)
    assert d["convention"] == "fvcore" and d["dtype"] == "float16" and d["input_shape"][0] == 2
    assert d["totals"]["macs"] == 2 * 314_193_216


def test_depth_and_input_and_set():
    r = run("table", "mobilenetv2", "--depth", "1", "--input", "3,160,160", "--set", "width=0.5", "-f", "json")
    d = json.loads(r.output)
    assert d["input_shape"] == [1, 3, 160, 160]
    assert len(d["layers"]) == 23


@pytest.mark.parametrize("args,text", [
    (["table", "no_such_model"], "neither a spec file nor a zoo model"),
    (["table", "mobilenetv2", "--convention", "nope"], "unknown convention"),
    (["table", "mobilenetv2", "--input", "3,a,4"], "comma-separated integers"),
    (["table", "mobilenetv2", "--set", "nope=1"], "no parameter 'nope'"),
    (["table", "mobilenetv2", "--set", "width"], "name=value"),
    (["table", str(ROOT / "specs" / "homework" / "alexnet_conv1.yaml"), "--input", "3,8,8"], "kernel"),
    (["zoo", "--sort", "colour"], "cannot sort"),
])
def test_bad_cli_input_exit_2_one_paragraph(args, text):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert text in r.output
    assert "Traceback" not in r.output
    assert r.output.strip().count("\n") == 0


def test_zoo_lists_and_filters():
    r = run("zoo", "--format", "json", "--sort", "macs")
    rows = json.loads(r.output)
    assert any(row["name"] == "mobilenetv2" for row in rows)
    macs = [row["macs"] for row in rows]
    assert macs == sorted(macs, reverse=True)
    r = run("zoo", "--family", "efficient", "--format", "csv")
    assert r.exit_code == 0 and r.output.startswith("model,family")  # issue 21: `model`, as in the Markdown


def test_ops_lists_registry():
    r = run("ops")
    assert r.exit_code == 0 and "conv2d" in r.output and "channel_shuffle" in r.output


@pytest.mark.slow
def test_verify_passes_on_mobilenetv2():
    r = run("table", "mobilenetv2", "--verify", "--format", "json")
    assert r.exit_code == 0, r.output[-2000:]
    assert "verified: all 153 layers agree" in r.output


@pytest.mark.slow
def test_verify_reports_a_disagreement_and_exits_1(monkeypatch):
    """Break one op's parameter formula: --verify must notice, name the layer and exit 1."""
    import dataclasses

    from archcost.ops import OPS
    from archcost.ops.base import Params

    conv = OPS["conv2d"]
    wrong = dataclasses.replace(conv, params=lambda a, ins: Params(weight=conv.params(a, ins).weight + 1))
    monkeypatch.setitem(OPS, "conv2d", wrong)
    monkeypatch.setattr("archcost.api._GRAPH_CACHE", {})  # graphs cache their counts: build a fresh one
    r = runner.invoke(app, ["table", HW, "--verify", "-f", "json"], env={"COLUMNS": "200"})
    assert r.exit_code == 1, r.output[-2000:]
    assert "params archcost 3,073 vs torch 3,088" in r.output
    assert "disagreement" in r.output


def test_table_fits_an_80_column_terminal():
    r = runner.invoke(app, ["table", "mobilenetv2"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    rows = [line.rstrip() for line in r.output.splitlines() if line.startswith(("│", "┃"))]
    assert rows and all(len(line) <= 80 and line.endswith(("│", "┃")) for line in rows)  # nothing cropped
    assert "300.77M" in r.output and "3.50M" in r.output


@pytest.mark.parametrize("typo", ["mobilenet", "resnet_50", "vgg_16", "efficientnetb0", "mobilenetv3", "inception"])
def test_suggestions_are_names_table_accepts(typo):
    import re

    r = run("table", typo, "-f", "json")
    assert r.exit_code == 2 and "did you mean" in r.output, r.output
    names = re.search(r"did you mean (.*?)\?", r.output).group(1).split(", ")
    for name in names:
        ok = run("table", name, "-f", "json")
        assert ok.exit_code == 0, (name, ok.output)


def test_a_family_name_lists_its_models():
    r = run("table", "mobilenet_v3")
    assert r.exit_code == 2
    assert "family" in r.output and "mobilenet_v3_large" in r.output and "mobilenet_v3_small" in r.output
    assert r.output.strip().count("\n") == 0


def test_every_model_name_builds():
    from archcost.language import model_names

    names = model_names()
    assert "mobilenet_v3" not in names and "resnet" not in names and "mobilenet_v2" in names
    for name in names:
        archcost_analyze(name)


def archcost_analyze(name):
    import archcost

    assert archcost.analyze(name).totals["params"] > 0


def test_shell_completion_offers_zoo_names_and_spec_files():
    env = {"_ARCHCOST_COMPLETE": "complete_bash", "COMP_WORDS": "archcost table mobilenet_v3", "COMP_CWORD": "2"}
    r = runner.invoke(app, [], prog_name="archcost", env=env)
    assert r.output.split() == ["mobilenet_v3_large", "mobilenet_v3_small"], r.output
    env["COMP_WORDS"] = f"archcost memory {ROOT}/specs/homework/alexnet_c"
    r = runner.invoke(app, [], prog_name="archcost", env=env)
    assert r.output.split() == [f"{ROOT}/specs/homework/alexnet_conv.answers.yaml",
                                f"{ROOT}/specs/homework/alexnet_conv1.yaml"], r.output
    assert "--install-completion" in run("--help").output


@pytest.mark.parametrize("args", [
    ["table", "lenet5", "-f", "json"], ["table", "lenet5", "--depth", "1", "-f", "markdown"],
    ["table", "nope"], ["table", "lenet5", "--bogus"], ["zoo", "--family", "classic", "-f", "csv"],
    # `archcost table` with plain options runs without typer (cli/fast.py): the same bytes and exit code
    ["table", "lenet5"], ["table", "lenet5", "--wide"], ["table", "resnet18", "-c", "fvcore", "--depth=1"],
    ["table", "lenet5", "--format=csv", "--batch", "4", "--dtype", "float16", "-i", "1,32,32"],
    ["table", "vgg11", "--receptive-field", "-f", "markdown"], ["table", "lenet5", "-b", "0"],
    ["table", "lenet5", "--set", "width=2", "-f", "json"], ["table", "lenet5", "--device-profile", "nope"],
    ["table", "lenet5", "-c", "nope"], ["table", "lenet5", "-f", "yaml"], ["table", "lenet5", "-b", "x"],
    ["table", "lenet5", "lenet5"], ["table", "specs/lenet5.yaml", "-c", "all", "-f", "json"],
    ["conventions", "lenet5", "-f", "json"], ["memory", "lenet5", "-f", "json"],
])
def test_entry_point_builds_one_command_with_the_same_result(args):
    """`archcost CMD` (main(): typer builds only CMD) prints exactly what the full app prints."""
    import subprocess
    import sys

    full = runner.invoke(app, args, env={"COLUMNS": "120"}, prog_name="archcost")
    p = subprocess.run([sys.executable, "-m", "archcost", *args], capture_output=True, text=True, cwd=ROOT,
                       env={**__import__("os").environ, "COLUMNS": "120"}, timeout=120)
    assert p.returncode == full.exit_code, (p.stdout[-500:], p.stderr[-500:], full.output[-500:])
    assert (p.stdout + p.stderr).strip() == full.output.strip()



def test_command_modules_name_the_module_of_every_command():
    """main() imports only COMMAND_MODULES[CMD]: the map must name each command's module, and every command."""
    from archcost.cli import COMMAND_MODULES
    from archcost.cli._app import command_name

    found = {command_name(i): i.callback.__module__.rsplit(".", 1)[1] for i in app.registered_commands}
    assert found == COMMAND_MODULES
    assert [command_name(i) for i in app.registered_commands] == list(COMMAND_MODULES)  # help's order


def test_table_json_start_up_imports_only_what_table_needs():
    """`archcost table SPEC -f json` loads no other command's module, no typer and no rich (start-up time, issue 21)."""
    import subprocess
    import sys

    code = ("import json, sys\nsys.argv = ['archcost', 'table', 'lenet5', '-f', 'json']\nfrom archcost.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.startswith(('archcost.cli.', 'rich')))))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.stdout.startswith("{"), p.stderr[-2000:]
    loaded = __import__("json").loads(p.stderr.strip().splitlines()[-1])
    assert loaded == ["archcost.cli.fast", "archcost.cli.plain", "archcost.cli.table_run"], loaded

SHARED_FLAGS = {"--input", "--batch", "--set", "--format", "--convention", "--dtype", "--depth", "--device",
                "--threads", "--clock", "--device-profile", "--output", "--family"}


def _inline_shared_flags(source: str) -> list:
    """(line, flag) of every typer.Option in ``source`` that spells a shared flag itself."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for a in node.args.args + node.args.kwonlyargs:
                for call in ast.walk(a.annotation) if a.annotation is not None else ():
                    if isinstance(call, ast.Call) and ast.unparse(call.func) == "typer.Option":
                        flags = [c.value for c in call.args if isinstance(c, ast.Constant) and isinstance(c.value, str)]
                        flags = flags or ["--" + a.arg.rstrip("_").replace("_", "-")]
                        found += [(call.lineno, f) for f in flags if f in SHARED_FLAGS]
        elif isinstance(node, ast.Assign):  # module-level aliases
            for call in ast.walk(node.value):
                if isinstance(call, ast.Call) and ast.unparse(call.func) == "typer.Option":
                    found += [(call.lineno, c.value) for c in call.args
                              if isinstance(c, ast.Constant) and c.value in SHARED_FLAGS]
    return found


def test_shared_options_are_defined_once_in_cli_options():
    """--input, --batch, --dtype, ... come from archcost/cli/options.py; no command module re-spells them."""
    cli = ROOT / "archcost" / "cli"
    spelled = {p.name: _inline_shared_flags(p.read_text(encoding="utf-8"))
               for p in sorted(cli.glob("*.py")) if p.name != "options.py"}
    assert {k: v for k, v in spelled.items() if v} == {}
    # the check itself sees an inline option, named or derived from the parameter's name
    bad = ('def f(x: Annotated[int, typer.Option("--batch", "-b")] = 1, '
           'dtype: Annotated[str, typer.Option(help="h")] = "float32"): pass\n'
           'Out = Annotated[str, typer.Option("--output", "-o")]\n')
    assert [f for _, f in _inline_shared_flags(bad)] == ["--batch", "--dtype", "--output"]
