"""Regression fingerprints of archcost's outputs (issue 16: refactors change no behaviour).

For every zoo model: ``table -f json`` under every convention preset and with ``--receptive-field``,
``conventions -f json``, ``memory -f json`` (with ``--layers``) and ``explain -f json``; for every answers
file in ``specs/homework/``: ``check -f json``.  Each output is stored as a SHA-256 of its full text (with
the checkout's own path replaced by ``<root>``) beside its exit code and, in clear, its totals, so a failing
comparison says what moved.

The golden file ``tests/golden/fingerprints.json`` is regenerated only deliberately, after review::

    python tests/fingerprints.py --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "fingerprints.json"
CONVENTIONS = ("default", "torch", "fvcore", "ptflops", "thop", "torchinfo", "full", "keras")


def model_commands(name: str) -> dict:
    cmds = {f"table -c {c}": ["table", name, "-f", "json", "-c", c] for c in CONVENTIONS}
    cmds["table --receptive-field"] = ["table", name, "-f", "json", "--receptive-field"]
    cmds["conventions"] = ["conventions", name, "-f", "json"]
    cmds["memory --layers"] = ["memory", name, "-f", "json", "--layers"]
    cmds["explain"] = ["explain", name, "-f", "json"]
    return cmds


def answers_files() -> list:
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "specs" / "homework").glob("*.answers.yaml"))


def zoo_names() -> list:
    from archcost.zoo import entries

    return [e.name for e in entries()]


def _summary(text: str):
    """The totals in clear (what a failure prints), or None where the output has none."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "totals" in data:
        return data["totals"]
    if "score" in data:
        return {k: data.get(k) for k in ("score", "max_score", "right", "wrong", "unanswered")}
    if "conventions" in data:
        return {c.get("name"): c.get("macs") for c in data["conventions"] if isinstance(c, dict)}
    return None


def fingerprint(args: list) -> dict:
    from typer.testing import CliRunner

    from archcost.cli import app

    res = CliRunner().invoke(app, args, catch_exceptions=False, env={"COLUMNS": "200"})
    text = res.stdout.replace(str(ROOT), "<root>")
    return {"exit": res.exit_code, "sha256": hashlib.sha256(text.encode()).hexdigest(), "summary": _summary(text)}


def model_fingerprints(name: str) -> dict:
    return {k: fingerprint(v) for k, v in model_commands(name).items()}


def answers_fingerprint(path: str) -> dict:
    return fingerprint(["check", path, "-f", "json"])


def compute() -> dict:
    import os

    os.chdir(ROOT)
    return {"models": {n: model_fingerprints(n) for n in zoo_names()},
            "answers": {p: answers_fingerprint(p) for p in answers_files()}}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/fingerprints.py --write   (regenerates tests/golden/fingerprints.json)")
    sys.path.insert(0, str(ROOT))
    data = compute()
    GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}: {len(data['models'])} models, {len(data['answers'])} answers files")
