"""Latency for comparisons and plots: measured (``archcost profile`` reports) or predicted (a device profile).

Pure Python.  Two sources, each named wherever a latency is shown:

* measured: ``reports/latency-<device>-<date>.json`` as ``archcost profile --zoo`` writes it::

      {"device", "device_name", "threads", "batch", "dtype", "torch", "date",
       "models": [{"model", "macs", "measured_ms": {"median", "iqr", "min", "cv"}, "predicted_ms", ...}]}

  A model's time is its ``measured_ms.median``.  Entries without ``measured_ms`` (a model that failed
  to run) count as not measured.  A measurement is used only if the report's ``macs`` equal the
  model's ``default``-convention MACs at the input and ``--set`` values asked for, so a time measured
  at another resolution or width is never plotted against this one's costs.
* predicted: ``archcost.analyze(spec, ..., device_profile=NAME_OR_PATH)``, which adds
  ``totals["predicted_ms"]`` and a ``predicted_ms`` row column (the latency feature).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field

from ..api import analyze
from ..errors import SpecError

REPORT_GLOB = "latency-*.json"


def profile_label(device_profile) -> str:
    """How a device profile is named on an axis: its file name, or its name."""
    text = str(device_profile)
    return os.path.basename(text) if os.path.sep in text or text.endswith(".json") else text


@dataclass
class LatencyReport:
    """Measured latencies of one ``archcost profile --zoo`` run."""

    path: str
    device: str
    device_name: str | None = None
    threads: int | None = None
    batch: int | None = None
    dtype: str | None = None
    torch: str | None = None
    date: str | None = None
    models: dict = field(default_factory=dict)        # model -> {"median", "iqr", "min", "cv", "macs"}
    not_measured: dict = field(default_factory=dict)  # model -> why (the entry's "error", if any)

    def label(self) -> str:
        """E.g. ``measured on cpu (AMD EPYC 7B13), 2 threads, batch 1, float32, torch 2.14.1, 2026-12-01``."""
        dev = self.device + (f" ({self.device_name})" if self.device_name and self.device_name != self.device else "")
        parts = [f"measured on {dev}"]
        if self.threads is not None and str(self.device).startswith("cpu"):
            parts.append(f"{self.threads} thread{'s' if self.threads != 1 else ''}")
        if self.batch is not None:
            parts.append(f"batch {self.batch}")
        parts += [p for p in (self.dtype, self.torch and f"torch {self.torch}", self.date) if p]
        return ", ".join(parts)

    def lookup(self, summary, *, input=None, overrides=None):
        """(entry, None) for a model measured at the same costs, else (None, why not)."""
        names = [summary.name, summary.requested]
        entry = next((self.models[n] for n in names if n in self.models), None)
        base = os.path.basename(self.path)
        if entry is None:
            why = next((self.not_measured[n] for n in names if n in self.not_measured), None)
            if why is None:
                return None, f"not in {base}"
            return None, f"not measured in {base}" + (f": {why}" if why else "")
        if entry.get("macs") is not None:
            macs = analyze(summary.requested, input=input, overrides=overrides).totals["macs"]
            if entry["macs"] not in (macs, macs * (self.batch or 1)):
                return None, (f"{base} measured it at {entry['macs']:,} MACs, "
                              f"not these {macs:,} (another input or --set)")
        return entry, None


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def load_latency_report(path: str) -> LatencyReport:
    """Read and check a latency report; any problem is a SpecError naming the file and the entry."""
    fix = "give a file written by `archcost profile --zoo` (reports/latency-DEVICE-DATE.json)."
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise SpecError(f"cannot read the latency report: {err.strerror or err}", file=path, fix=fix) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SpecError(f"the latency report is not valid JSON ({err.msg})", file=path, line=err.lineno,
                        fix=fix) from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise SpecError("the latency report has no \"models\" list", file=path, line=1, fix=fix)
    rep = LatencyReport(path=path, device=str(data.get("device") or "unknown device"),
                        device_name=data.get("device_name"), threads=data.get("threads"), batch=data.get("batch"),
                        dtype=data.get("dtype"), torch=data.get("torch"), date=data.get("date"))
    for i, m in enumerate(data["models"]):
        if not isinstance(m, dict) or not isinstance(m.get("model"), str):
            raise SpecError(f"models[{i}] has no \"model\" name", file=path, fix=fix)
        ms = m.get("measured_ms")
        if ms is None:
            rep.not_measured[m["model"]] = str(m.get("error") or "")
            continue
        med = ms.get("median") if isinstance(ms, dict) else None
        if not _num(med) or med <= 0:
            raise SpecError(f"models[{i}] ({m['model']}): measured_ms.median must be a positive number, "
                            f"got {med!r}", file=path, fix=fix)
        rep.models[m["model"]] = {"median": float(med), "macs": m.get("macs") if _num(m.get("macs")) else None,
                                  **{k: ms[k] for k in ("iqr", "min", "cv") if _num(ms.get(k))}}
    return rep


def newest_latency_report(directory: str = "reports") -> str | None:
    """The most recently written ``latency-*.json`` in ``directory`` (None if there is none)."""
    files = glob.glob(os.path.join(directory, REPORT_GLOB))
    return max(files, key=lambda p: (os.path.getmtime(p), p)) if files else None


def resolve_latency(latency=None, device_profile=None, *, default_dir: str | None = "reports"):
    """The latency source a command uses: ("measured", LatencyReport) or ("predicted", profile) or None.

    ``latency`` (a path or a LatencyReport) and ``device_profile`` exclude each other; with neither,
    the newest report in ``default_dir`` is used (``default_dir=None``: no latency).
    """
    if latency is not None and device_profile is not None:
        raise SpecError("give either --latency (measured) or --device-profile (predicted), not both",
                        fix="drop one of them.")
    if device_profile is not None:
        return "predicted", device_profile
    if latency is None and default_dir is not None:
        latency = newest_latency_report(default_dir)
        if latency is None:
            raise SpecError(f"no latency results found ({os.path.join(default_dir, REPORT_GLOB)})",
                            fix="run `archcost profile --zoo` (it writes reports/latency-DEVICE-DATE.json), "
                                "or give --latency FILE.json or --device-profile NAME.")
    if latency is None:
        return None
    return "measured", latency if isinstance(latency, LatencyReport) else load_latency_report(str(latency))
