"""One option grammar for every command (issue 21): walk every command's options and compare.

Shared options are spelt alike (same long and short names), documented (help text, the same one
unless the command says why), list their choices from the registries, and the retired spellings
(``--out``, ``--png``, ``--svg``) stay hidden.  Errors start with ``error:``; usage lines read SPEC.
"""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from archcost.analysis.conventions import CONVENTIONS, DTYPE_BYTES
from archcost.cli import app

runner = CliRunner()
# long flag -> the short one it always has (None: none anywhere)
SHARED = {"--input": "-i", "--batch": "-b", "--set": None, "--format": "-f", "--convention": "-c", "--dtype": None,
          "--depth": None, "--device": None, "--threads": None, "--clock": None, "--device-profile": None,
          "--output": "-o", "--family": None, "--wide": None, "--image": None}
RETIRED = {"--out", "--png", "--svg"}


def commands():
    """(path, click command) of every command, plot's subcommands included."""
    root = typer.main.get_command(app)
    out = []

    def walk(group, path):
        for name, cmd in sorted(group.commands.items()):
            if hasattr(cmd, "commands"):
                walk(cmd, path + [name])
            else:
                out.append((" ".join(path + [name]), cmd))
    walk(root, [])
    return out


def options(cmd):
    return [p for p in cmd.params if p.param_type_name == "option"]


def test_every_command_is_walked():
    names = [n for n, _ in commands()]
    assert {"table", "compare", "profile", "plot layers", "plot accuracy-vs-macs", "check", "memory"} <= set(names)


def test_shared_options_are_spelt_and_documented_alike():
    problems = []
    for name, cmd in commands():
        for p in options(cmd):
            longs = [o for o in p.opts if o.startswith("--")]
            shorts = [o for o in p.opts if not o.startswith("--")]
            for flag in longs:
                if flag in RETIRED:
                    if not p.hidden:
                        problems.append(f"{name}: {flag} is retired but shown")
                    continue
                if flag in SHARED:
                    want = SHARED[flag]
                    if shorts != ([want] if want else []):
                        problems.append(f"{name}: {flag} has short names {shorts}, expected {want}")
                if not p.hidden and not (p.help or "").strip():
                    problems.append(f"{name}: {flag} has no help")
            if "--convention" in p.opts and not all(c in p.help for c in CONVENTIONS):
                problems.append(f"{name}: --convention help does not list every convention")
            if "--format" in p.opts:
                choices = list(getattr(p.type, "choices", []) or [])
                missing = [c for c in choices if str(getattr(c, "value", c)) not in p.help]
                if missing:
                    problems.append(f"{name}: --format help does not name {missing}")
            if "--dtype" in p.opts and name not in ("profile", "calibrate"):  # those: what torch can time
                if not all(d in p.help for d in DTYPE_BYTES):
                    problems.append(f"{name}: --dtype help does not list every dtype")
    assert problems == []


def test_same_flag_same_help_unless_a_factory_says_why():
    """An alias (Annotated) gives one help text; only factories (batch_option, output_option, ...) differ."""
    helps: dict = {}
    for name, cmd in commands():
        for p in options(cmd):
            if p.opts[-1] in ("--set", "--wide") or p.opts[0] in ("--set", "--wide"):
                helps.setdefault(p.opts[0], set()).add(p.help.replace(" for every model", ""))
    assert all(len(v) == 1 for v in helps.values()), helps


def test_help_version_and_usage():
    for name, _ in commands():
        r = runner.invoke(app, name.split() + ["-h"], env={"COLUMNS": "120"})
        assert r.exit_code == 0, (name, r.output)
        usage = next(ln for ln in r.output.splitlines() if "Usage:" in ln)
        assert "{" not in usage, usage
    v = runner.invoke(app, ["--version"])
    assert v.exit_code == 0 and v.stdout.startswith("archcost ")


def test_one_error_prefix():
    for args in (["table", "--nope"], ["table"], ["table", "alexnet", "-f", "nope"], ["plot", "nope"],
                 ["table", "no_such_model"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error:" in ln.lower()]
        assert len(errors) == 1 and "Error:" not in r.stderr and "╭" not in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.output


def test_zoo_csv_and_markdown_headers_agree():
    csv_head = runner.invoke(app, ["zoo", "-f", "csv"]).stdout.splitlines()[0].split(",")
    md_head = [c.strip() for c in runner.invoke(app, ["zoo", "-f", "markdown"]).stdout.splitlines()[0].strip("|").split("|")]
    assert csv_head[0] == md_head[0] == "model"


def test_plot_output_extension_picks_the_format(tmp_path):
    from archcost.cli.plots import _targets, default_output

    assert _targets("a/b.html", ["svg"], None, False) == ("a/b.html", [("a/b.svg", "svg")])
    assert _targets("a/b.png", None, None, False) == (None, [("a/b.png", "png")])
    assert _targets("b.html", None, "x.png", True) == ("b.html", [("x.png", "png"), ("b.svg", "svg")])  # old flags
    assert default_output("accuracy-vs-macs", ["resnet18", "specs/my.yaml"], False, None) == \
        "reports/accuracy-vs-macs-resnet18_my.html"
    assert default_output("accuracy-vs-macs", None, True, None) == "reports/accuracy-vs-macs-all.html"
    r = runner.invoke(app, ["plot", "accuracy-vs-macs", "resnet18", "--image", "gif"])
    assert r.exit_code == 2 and "error: --image 'gif'" in r.stderr
