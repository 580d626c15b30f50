"""Human-readable units: counts in K/M/G (powers of 1000), bytes in KiB/MiB/GiB (powers of 1024)."""

from __future__ import annotations


def count(n: float, digits: int = 2) -> str:
    n = float(n)
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f}{unit}"
    return f"{n:.0f}"


def nbytes(n: float, digits: int = 1) -> str:
    n = float(n)
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f} {unit}"
    return f"{n:.0f} B"


def shape(s) -> str:
    return "×".join(str(x) for x in s)
