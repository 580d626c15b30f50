"""`archcost table` without typer (archcost/cli/fast.py, issue 21): its flags are the typer command's, its
defaults are the command's, and it hands everything it does not plainly understand to typer.  That both
paths print the same bytes is tests/test_cli.py::test_entry_point_builds_one_command_with_the_same_result."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archcost.cli.fast import TABLE_FLAGS, parse_table_args
from archcost.cli.plain import Format

ROOT = Path(__file__).resolve().parent.parent


def _click_table():
    import typer

    from archcost.cli import app

    return typer.main.get_command(app).commands["table"]


def _kind(param):
    if getattr(param, "is_flag", False):
        return bool
    if getattr(param, "multiple", False):
        return list
    name = getattr(param.type, "name", "")
    return {"int": int, "integer": int, "str": str, "text": str, "choice": Format}[name]


def test_fast_flags_are_the_typer_commands_flags():
    """Every fast flag is a flag of the typer command with the same parameter and kind; every option of the
    command is on the fast path except --verify (torch) and the help."""
    options = {flag: p for p in _click_table().params if p.param_type_name == "option"
               for flag in p.opts + p.secondary_opts}
    for flag, (param, kind) in TABLE_FLAGS.items():
        assert flag in options, flag
        assert options[flag].name == param, flag
        assert _kind(options[flag]) is kind, flag
    choices = options["--format"].type.choices
    assert [getattr(c, "value", c) for c in choices] == [f.value for f in Format]
    assert set(options) - set(TABLE_FLAGS) == {"--verify"}  # (the help option is added by click later)


def test_run_table_defaults_are_the_commands():
    from archcost.cli.core import table
    from archcost.cli.table_run import run_table

    typer_defaults = {n: p.default for n, p in inspect.signature(table).parameters.items()}
    fast_defaults = {n: p.default for n, p in inspect.signature(run_table).parameters.items()}
    assert fast_defaults == typer_defaults


@pytest.mark.parametrize("args, expected", [
    (["mobilenetv2"], {"spec": "mobilenetv2"}),
    (["mobilenetv2", "-f", "json"], {"spec": "mobilenetv2", "format": Format.json}),
    (["-f", "csv", "x.yaml", "--batch=8", "--set", "a=1", "--set=b=2", "--wide"],
     {"spec": "x.yaml", "format": Format.csv, "batch": 8, "set_": ["a=1", "b=2"], "wide": True}),
    (["m", "--depth", "2", "--depth", "3"], {"spec": "m", "depth": 3}),  # the last one wins, as in click
])
def test_plain_command_lines_are_parsed(args, expected):
    assert parse_table_args(args) == expected


@pytest.mark.parametrize("args", [
    [], ["a", "b"], ["-"], ["m", "--verify"], ["m", "-h"], ["m", "--help"], ["m", "--bogus"], ["m", "-f"],
    ["m", "-f", "yaml"], ["m", "-b", "x"], ["m", "-b", "-1"], ["m", "--wide=1"], ["m", "-c", "all"],
    ["m", "-fjson"], ["m", "--", "x"], ["m", "--form", "json"],
])
def test_anything_else_is_left_to_typer(args):
    assert parse_table_args(args) is None


def test_a_warm_start_imports_neither_typer_nor_pyyaml(tmp_path):
    """The second cold `archcost table mobilenetv2 -f json` (its spec in the parse cache) runs without typer,
    click, PyYAML or platformdirs, and prints what the first printed."""
    code = ("import json, sys\nsys.argv = ['archcost', 'table', 'mobilenetv2', '-f', 'json']\n"
            "from archcost.cli import main\nmain()\nsys.stdout.flush()\n"
            "sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('typer', 'click', 'yaml', 'platformdirs', 'rich'))))")
    env = {**os.environ, "ARCHCOST_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                           timeout=120, check=True) for _ in range(2)]
    first, second = (json.loads(r.stderr.strip().splitlines()[-1]) for r in runs)
    assert "yaml" in first  # the cache was empty: parsed with PyYAML, then stored
    assert second == []
    assert runs[0].stdout == runs[1].stdout and json.loads(runs[1].stdout)["model"] == "mobilenetv2"
