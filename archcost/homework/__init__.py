"""Homework checking (pure Python: no torch, numpy, pandas or plotly).

>>> from archcost.homework import check_file
>>> report = check_file("specs/homework/inception_5x5.answers.yaml")
>>> [r.status for r in report.results]            # doctest: +SKIP
['right', 'wrong', ...]

* :mod:`.records` — a question and what it asks about (plain dataclasses)
* :mod:`.answers` — the answers-file format (validated by hand into those records, errors located file:line)
* :mod:`.parse` — human answers (``120M``, ``55x55x96``, ``61 MB``, ``1/9``, ``11%``)
* :mod:`.grade` — the rounding-aware tolerance and verdicts
* :mod:`.subjects`, :mod:`.quantities` — what a question is about, computed with its working
* :mod:`.transforms`, :mod:`.diagnose` — the usual mistakes, each recomputed
* :mod:`.render` — text, JSON, Markdown, Gradescope
* :mod:`.calc` — ``archcost calc`` one-liners
"""

from .answers import load_answers
from .check import Report, Result, check_file, check_question
from .parse import Answer, parse_answer

__all__ = ["Answer", "Report", "Result", "check_file", "check_question", "load_answers", "parse_answer"]
