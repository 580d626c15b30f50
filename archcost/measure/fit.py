"""Non-negative least squares in pure Python, for the few-term cost models of a device profile.

Every cost term (a per-call overhead, seconds per MAC, per element, per byte) is a
physical cost and cannot be negative, so coefficients are constrained to be >= 0.
With at most ~7 terms the exact solution is found by trying every subset of terms as the
free set (the NNLS optimum is the unconstrained least-squares fit on its free set), which
is simple to verify and deterministic.  Rows are weighted by ``1 / y`` so that the fit
minimises *relative* error: a 10 µs op off by 5 µs counts as much as a 10 ms conv off by 5 ms.
"""

from __future__ import annotations

import itertools
import math
import statistics


def _solve(a: list, b: list) -> list | None:
    """Solve the square system a x = b by Gaussian elimination with partial pivoting (None if singular)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[piv][col]) < 1e-12:
            return None
        m[col], m[piv] = m[piv], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def _lstsq(cols: list, y: list, ridge: float) -> list | None:
    """Least squares on the given (already scaled) columns via normal equations, with a tiny ridge."""
    k = len(cols)
    ata = [[sum(ci * cj for ci, cj in zip(cols[i], cols[j])) + (ridge if i == j else 0.0) for j in range(k)]
           for i in range(k)]
    aty = [sum(ci * yi for ci, yi in zip(cols[i], y)) for i in range(k)]
    return _solve(ata, aty)


def nnls(rows: list, y: list, *, relative: bool = True, ridge: float = 1e-9, scale_by: list | None = None) -> list:
    """Coefficients c >= 0 minimising Σ ((rows_i · c − y_i) / w_i)², w_i = y_i if ``relative`` else 1.

    ``rows`` is a list of feature vectors (all the same length, at most ~8).  ``scale_by``
    gives the w_i explicitly (to fit a correction ``y`` relative to a total time).
    """
    if not rows:
        raise ValueError("nnls needs at least one row")
    k = len(rows[0])
    if k > 10:
        raise ValueError("nnls by subset enumeration is meant for at most 10 terms")
    if scale_by is not None:
        w = [1.0 / v if v > 0 else 1.0 for v in scale_by]
    else:
        w = [1.0 / yi if relative and yi > 0 else 1.0 for yi in y]
    # weighted columns, each scaled to unit RMS so that seconds-per-MAC and seconds-per-call are comparable
    cols = []
    scale = []
    for j in range(k):
        col = [r[j] * wi for r, wi in zip(rows, w)]
        s = math.sqrt(sum(v * v for v in col) / len(col)) or 1.0
        cols.append([v / s for v in col])
        scale.append(s)
    yw = [yi * wi for yi, wi in zip(y, w)]
    best, best_err = [0.0] * k, sum(v * v for v in yw)
    for size in range(1, k + 1):
        for free in itertools.combinations(range(k), size):
            x = _lstsq([cols[j] for j in free], yw, ridge)
            if x is None or any(v < 0 for v in x):
                continue
            err = sum((sum(cols[j][i] * xj for j, xj in zip(free, x)) - yw[i]) ** 2 for i in range(len(yw)))
            if err < best_err - 1e-15:
                best_err = err
                best = [0.0] * k
                for j, xj in zip(free, x):
                    best[j] = xj
    return [b / s for b, s in zip(best, scale)]


def robust_nnls(rows: list, y: list, *, cut: float = 4.0) -> tuple:
    """NNLS, then once more without samples whose relative residual exceeds ``cut`` × the median one.

    A shared machine produces the odd sample that a burst of load slowed down; it should not
    pull the fit.  Returns (coefficients, median |relative error| of the kept samples, kept count).
    """
    c = nnls(rows, y)
    rel = [abs(predict(c, r) - yi) / yi for r, yi in zip(rows, y)]
    med = statistics.median(rel) if rel else 0.0
    keep = [i for i, e in enumerate(rel) if e <= max(cut * med, 0.05)]
    if len(keep) < len(rows) and len(keep) >= len(rows[0]):
        c = nnls([rows[i] for i in keep], [y[i] for i in keep])
        rel = [abs(predict(c, rows[i]) - y[i]) / y[i] for i in keep]
    return c, (statistics.median(rel) if rel else 0.0), len(keep)


def ols(rows: list, y: list, weights: list | None = None) -> list:
    """Ordinary (optionally weighted) least squares, coefficients of any sign (few terms)."""
    w = weights or [1.0] * len(y)
    k = len(rows[0])
    cols = [[r[j] * wi for r, wi in zip(rows, w)] for j in range(k)]
    scale = [math.sqrt(sum(v * v for v in c) / len(c)) or 1.0 for c in cols]
    cols = [[v / s for v in c] for c, s in zip(cols, scale)]
    x = _lstsq(cols, [yi * wi for yi, wi in zip(y, w)], 1e-12)
    if x is None:
        return [0.0] * k
    return [xi / s for xi, s in zip(x, scale)]


def predict(coefs: list, row: list) -> float:
    return sum(c * x for c, x in zip(coefs, row))
