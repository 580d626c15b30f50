"""``table --verify`` results as data: inside the JSON (a ``verify`` key) or as Markdown after the table.

The ``verify`` object: ``ok`` (bool), ``against`` (what each number was checked with),
``disagreements`` (count), ``layers`` (one per layer: ``name``, ``op``, ``ok``, and ``shape``,
``params``, ``macs`` each as ``[archcost, reference]``, ``problems``: text) and ``totals``
(``params``, ``macs``: ``[archcost, reference]``).
"""

from __future__ import annotations

AGAINST = "torch (output shape, params) and fvcore (MACs, fvcore convention)"


def _pair(p):
    return [list(x) if isinstance(x, (tuple, list)) else x for x in p]


def verify_dict(report) -> dict:
    return {
        "ok": report.ok,
        "against": AGAINST,
        "disagreements": len(report.problems()),
        "layers": [{"name": c.name, "op": c.op, "ok": c.ok, "shape": _pair(c.shape), "params": _pair(c.params),
                    "macs": _pair(c.macs), "problems": list(c.problems)} for c in report.checks],
        "totals": {k: [a, b] for k, (a, b) in report.totals.items()},
    }


def verify_markdown(report) -> str:
    lines = [f"**verify {report.model}: analytic vs {AGAINST}**  ", "",
             "| layer | op | shape | params | MACs | difference |", "|---|---|---|---|---|---|"]
    mark = lambda ok: "ok" if ok else "differs"  # noqa: E731
    for c in report.checks:
        lines.append(f"| {c.name} | {c.op} | {mark(c.shape[0] == c.shape[1])} | {mark(c.params[0] == c.params[1])} | "
                     f"{mark(c.macs[0] == c.macs[1])} | {'; '.join(c.problems)} |")
    lines.append("")
    for k, (a, b) in report.totals.items():
        lines.append(f"- total {k}: archcost {a:,}, torch/fvcore {b:,} ({'equal' if a == b else 'differ'})")
    lines.append(f"- {'verified: all %d layers agree' % len(report.checks) if report.ok else '%d disagreement(s)' % len(report.problems())}")
    return "\n".join(lines) + "\n"
