"""Timing that carries its spread, in the manner of ``torch.utils.benchmark``'s ``blocked_autorange``.

A :class:`Measurement` holds one sample per *block* (``number`` back-to-back calls, timed
together so that the clock's own cost and resolution do not matter for microsecond ops)
and reports the median, the inter-quartile range, the minimum and the coefficient of
variation.  :func:`rounds` is the one timing loop: blocks in rounds (A B C A B C ...), so
that a burst of load on a shared machine hits all of them alike instead of all of A's
samples; profiling and calibration use it, and :func:`measure` / :func:`interleave` wrap it
with warm-up and block sizing for one or several plain callables.

Clocks: ``wall`` (``time.perf_counter_ns``: the latency a user waits), ``cpu`` (this
thread's CPU time, ``time.thread_time_ns``: immune to being descheduled when other
processes compete for the cores; meaningful only with one thread) and, on CUDA,
``cuda`` (CUDA events around the block, then a synchronize; GPU time).  Every block
records wall and CPU time, so a result can say how much the machine's load inflated it.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

CLOCKS = ("wall", "cpu")
NOISY_REL_IQR = 0.10  # a model whose IQR exceeds 10% of its median is flagged
NOISY_REL_IQR_LAYER = 0.25  # per-layer samples are shorter and noisier


def quartiles(xs: list) -> tuple:
    """(q1, median, q3) of a non-empty list (inclusive method; a single value gives it three times)."""
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


@dataclass
class Measurement:
    """Per-call times in seconds, one per block of ``number`` calls, with their spread.

    ``samples`` are in the chosen ``clock``; ``wall`` and ``cpu`` keep both clocks (CPU
    runs) so ``load_factor`` can show how much waiting for the CPU added.
    """

    samples: list
    number: int = 1
    warmup: int = 0
    clock: str = "wall"
    wall: list = field(default_factory=list)
    cpu: list = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def iqr(self) -> float:
        q1, _, q3 = quartiles(self.samples)
        return q3 - q1

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    @property
    def cv(self) -> float:
        """Coefficient of variation (standard deviation / mean); 0 for a single sample."""
        if len(self.samples) < 2 or self.mean == 0:
            return 0.0
        return statistics.stdev(self.samples) / self.mean

    @property
    def rel_iqr(self) -> float:
        return self.iqr / self.median if self.median > 0 else math.inf

    def noisy(self, threshold: float = NOISY_REL_IQR) -> bool:
        """True when the spread is too large for the median to be compared at face value."""
        return len(self.samples) < 3 or self.rel_iqr > threshold

    @property
    def load_factor(self) -> float | None:
        """Median wall time / median CPU time (1.0 on an idle core, one thread); None if unknown."""
        if not self.wall or not self.cpu:
            return None
        c = statistics.median(self.cpu)
        return statistics.median(self.wall) / c if c > 0 else None

    def to_dict(self) -> dict:
        """Milliseconds: ``{"median", "iqr", "min", "cv", "repeats", "number", "clock"}`` in the chosen clock,
        plus ``wall_median``, ``cpu_median`` and ``load_factor`` (wall / CPU) when both clocks were read."""
        d = {"median": self.median * 1e3, "iqr": self.iqr * 1e3, "min": self.min * 1e3, "cv": self.cv,
             "repeats": len(self.samples), "number": self.number, "clock": self.clock}
        lf = self.load_factor
        if lf is not None:
            d["load_factor"] = lf
        if self.wall:
            d["wall_median"] = statistics.median(self.wall) * 1e3
        if self.cpu and self.clock in ("wall", "cpu"):
            d["cpu_median"] = statistics.median(self.cpu) * 1e3
        return d


class Block:
    """Times ``number`` calls of ``fn`` as one sample; CUDA work is bracketed by events and synchronised."""

    def __init__(self, fn, *, cuda: bool = False):
        self.fn = fn
        self.cuda = cuda
        self.number = 1
        if cuda:
            import torch

            self._sync = torch.cuda.synchronize
            self._start = torch.cuda.Event(enable_timing=True)
            self._end = torch.cuda.Event(enable_timing=True)

    def run(self) -> tuple:
        """One block: (wall s, cpu s, cuda s or None) per call."""
        fn, n = self.fn, self.number
        if self.cuda:
            self._sync()  # nothing queued before the block is counted in it
            w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            self._start.record()
            for _ in range(n):
                fn()
            self._end.record()
            self._end.synchronize()
            w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
            g = self._start.elapsed_time(self._end) / 1e3
            return (w1 - w0) / 1e9 / n, (c1 - c0) / 1e9 / n, g / n
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(n):
            fn()
        w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
        return (w1 - w0) / 1e9 / n, (c1 - c0) / 1e9 / n, None

    def warm_up(self, calls: int) -> None:
        """``calls`` untimed calls (the first builds kernels and fills caches)."""
        for _ in range(calls):
            self.fn()

    def size_to(self, min_block_s: float) -> None:
        """Choose ``number`` so one block lasts at least ``min_block_s`` (from one timed call)."""
        if min_block_s <= 0:
            self.number = 1
            return
        self.number = 1
        w, _, g = self.run()
        per_call = g if g is not None else w
        if per_call < min_block_s:  # cheap calls: the quickest of a few (one may be slowed by load)
            for _ in range(3):
                w, _, g = self.run()
                per_call = min(per_call, g if g is not None else w)
        self.number = max(1, min(100_000, math.ceil(min_block_s / max(per_call, 1e-9))))


def pick(sample: tuple, clock: str, cuda: bool) -> float:
    """The time of one sample (wall s, cpu s, cuda s or None) in the clock used: CUDA events on CUDA."""
    wall, cpu, gpu = sample
    if cuda:
        return gpu
    return cpu if clock == "cpu" else wall


def rounds(blocks: list, *, repeat: int | None = None, budget_s: float | None = None, min_repeat: int = 5,
           max_repeat: int | None = None, until=None, before=None, after=None, on_round=None) -> list:
    """Time warmed-up blocks in rounds, one sample of each per round (A B A B, never A A B B).

    The one timing loop of archcost (profile, calibrate, :func:`interleave`).  Stops after ``repeat``
    rounds or, without ``repeat``, once ``budget_s`` seconds are spent and at least ``min_repeat``
    rounds are done; never after more than ``max_repeat``.  ``until(rounds, spent_s)``, if given,
    decides instead.  ``before(i)`` and ``after(i)`` run untimed around block ``i``'s sample (an extra
    call, a hooked pass); ``on_round(rounds, spent_s)`` after each round.  Returns each block's
    samples, (wall s, cpu s, cuda s or None) per call.
    """
    samples = [[] for _ in blocks]
    t0 = time.perf_counter()
    n = 0
    while True:
        for i, (b, s) in enumerate(zip(blocks, samples)):
            if before is not None:
                before(i)
            s.append(b.run())
            if after is not None:
                after(i)
        n += 1
        spent = time.perf_counter() - t0
        if on_round is not None:
            on_round(n, spent)
        if until is not None:
            if until(n, spent):
                break
        elif repeat is not None:
            if n >= repeat:
                break
        elif n >= min_repeat and spent >= budget_s:
            break
        if max_repeat is not None and n >= max_repeat:
            break
    return samples


def measurements(blocks: list, samples: list, *, warmup: int, clock: str, cuda: bool) -> list:
    """One :class:`Measurement` per block from its :func:`rounds` samples, in ``clock`` (CUDA events on CUDA)."""
    used = "cuda" if cuda else clock
    return [Measurement([pick(x, clock, cuda) for x in s], number=b.number, warmup=warmup, clock=used,
                        wall=[x[0] for x in s], cpu=[x[1] for x in s]) for b, s in zip(blocks, samples)]


def measure(fn, *, warmup: int = 3, repeat: int | None = None, budget_s: float | None = None,
            min_repeat: int = 5, max_repeat: int = 10_000, min_block_s: float = 0.0, clock: str = "wall",
            cuda: bool = False) -> Measurement:
    """Time ``fn()``: ``warmup`` calls, then blocks until ``repeat`` samples, or until ``budget_s``
    seconds have passed and at least ``min_repeat`` samples exist (whichever is asked; default 10 samples)."""
    return interleave([fn], warmup=warmup, repeat=repeat, budget_s=budget_s, min_repeat=min_repeat,
                      max_repeat=max_repeat, min_block_s=min_block_s, clock=clock, cuda=cuda)[0]


def interleave(fns: list, *, warmup: int = 3, repeat: int | None = None, budget_s: float | None = None,
               min_repeat: int = 5, max_repeat: int = 10_000, min_block_s: float = 0.0, clock: str = "wall",
               cuda: bool = False, on_round=None) -> list:
    """Time several callables in rounds, one block of each per round (A B A B, never A A B B).

    Each is warmed up and its block sized first; then :func:`rounds`.  The budget (if any) covers
    all of them together; ``on_round(i)`` is called after each round.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}")
    if repeat is None and budget_s is None:
        repeat = 10
    blocks = [Block(f, cuda=cuda) for f in fns]
    for b in blocks:
        b.warm_up(warmup)
        b.size_to(min_block_s)
    samples = rounds(blocks, repeat=repeat, budget_s=budget_s, min_repeat=min_repeat, max_repeat=max_repeat,
                     on_round=None if on_round is None else (lambda n, _spent: on_round(n)))
    return measurements(blocks, samples, warmup=warmup, clock=clock, cuda=cuda)
