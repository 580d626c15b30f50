"""What archcost knows about many models at once, in pure Python (no torch, pandas or plotly).

The layer between the analysis (:func:`archcost.analyze`, one model) and the outputs
(:mod:`archcost.report`, :mod:`archcost.plot`, the CLI): those only format what this computes.

* :mod:`.models` — which models a command means (names, ``--all``, ``--family``), one summary
  per model (totals, family, accuracy), the Pareto frontier
* :mod:`.compare` — models side by side with ratios to the first (``archcost compare``)
* :mod:`.latency` — measured latency reports (``archcost profile --zoo``) and which source a command uses

The zoo listing's rows (``archcost zoo``) are :func:`archcost.zoo.zoo_rows`, next to the zoo's entries.
"""

from .compare import compare_rows
from .latency import LatencyReport, load_latency_report, newest_latency_report, profile_label, resolve_latency
from .models import ModelSummary, pareto_front, select, spec_family, summarize

__all__ = ["LatencyReport", "ModelSummary", "compare_rows", "load_latency_report", "newest_latency_report",
           "pareto_front", "profile_label", "resolve_latency", "select", "spec_family", "summarize"]
