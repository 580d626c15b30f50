"""A hand-made device profile (pure Python) for prediction tests: round numbers, every class."""

from __future__ import annotations

from archcost.analysis import latency as L


def toy_profile(name: str = "cpu-1t-toy-torch0-20260101T000000") -> dict:
    """Every class: 10 µs per call; compute classes 1 ns per MAC; the rest 1 ns per element in and out."""
    classes = {}
    for cls in sorted(L.classes()):
        terms = {t: 0.0 for t in L.terms_of(cls)}
        terms["one"] = 10e-6
        if cls in L.COMPUTE_CLASSES:
            terms["macs"] = 1e-9
        elif "in" in terms:
            terms["in"] = terms["out"] = 1e-9
        classes[cls] = {"terms": terms}
    return {
        "format": L.PROFILE_FORMAT, "version": L.PROFILE_VERSION, "name": name, "device": "cpu",
        "device_name": "Toy CPU", "threads": 1, "torch": "0", "dtype": "float32", "batch": 1,
        "date": "2026-01-01T00:00:00", "memory_roof": True,
        "bandwidth": {"ws_bytes": [1e3, 1e9], "s_per_byte": [1e-11, 1e-10]},
        "overhead": {"node_s": 2e-6, "forward_s": 5e-6},
        "classes": classes,
        "macs_baseline": {"s_per_mac": 1e-10},
    }
