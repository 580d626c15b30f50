"""Measurement on a real device: latency of lowered specs, and calibration of a device profile.

Everything here that times anything imports torch (inside the functions). The package
itself imports nothing heavy, so :mod:`archcost.measure.results` (reading saved reports)
works without torch.

- :mod:`.timer`      timing with spread: warm-up, blocks, medians, IQR, CV, interleaving
- :mod:`.device`     ``--device`` / ``--threads`` parsing and set-up; device descriptions
- :mod:`.profile`    whole-model and per-layer latency of a spec (rows named by node id)
- :mod:`.calibrate`  synthetic micro-benchmarks (never zoo models) → a device profile
- :mod:`.fit`        non-negative least squares (pure Python) used by calibrate
- :mod:`.zoo`        the zoo run: resumable, interleaved, reports
- :mod:`.results`    loaders for saved latency reports (pure Python)
"""
