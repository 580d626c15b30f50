"""Reading and validating a device-profile file (``--device-profile``), field by field.

A profile is JSON that ``archcost calibrate`` writes, but it may come from anywhere: before any of
it reaches the predictor it is read as a regular file without blocking (a FIFO or a directory is
refused, not waited on), at most :data:`MAX_PROFILE_BYTES`, parsed without ``NaN``/``Infinity``,
integers of more than :data:`MAX_INT_DIGITS` digits or nesting deeper than :data:`MAX_NESTING`, and
validated: each field's type, finiteness, sign, range and list length, each error located at the
line of the key (JSON gives no positions for keys, so the first line naming it).  Every number a
valid profile holds is then finite and small enough that predictions stay finite too.
"""

from __future__ import annotations

import json
import math

from ..errors import SpecError, short_repr

PROFILE_FORMAT = "archcost-device-profile"
PROFILE_VERSION = 1
MAX_PROFILE_BYTES = 32_000_000  # a saved profile with its raw calibration data is ~1.5 MB
MAX_INT_DIGITS = 30
MAX_NESTING = 32
MAX_POINTS = 10_000  # bandwidth points
MAX_CLASSES = 200
MAX_TEXT = 500
MAX_SECONDS = 1e3  # any per-unit cost or overhead in seconds (a real one is µs or less)
MAX_WS_BYTES = 1e18


def read_profile_data(path) -> tuple:
    """(data, text) of a profile file: a located SpecError for anything but a sane JSON object."""
    from ..language.safefile import read_regular

    source = str(path)
    try:
        raw = read_regular(path, MAX_PROFILE_BYTES)
    except OSError as err:
        raise SpecError(f"cannot read device profile: {err.strerror or err}", file=source,
                        fix="give the path of a profile file `archcost calibrate` wrote.") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise SpecError(f"device profile is larger than {MAX_PROFILE_BYTES:,} bytes", file=source, line=1,
                        fix="a profile archcost calibrate writes is a few MB at most; re-run it.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("device profile is not UTF-8 text", file=source, line=1,
                        fix="re-run `archcost calibrate` to write a fresh profile.") from None
    depth = _nesting(text)
    if depth > MAX_NESTING:
        raise SpecError(f"device profile nests objects and lists more than {MAX_NESTING} deep", file=source, line=1,
                        fix="re-run `archcost calibrate` to write a fresh profile.")
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_int=_bounded_int)
    except json.JSONDecodeError as err:
        raise SpecError(f"device profile is not valid JSON: {err.msg} (column {err.colno})", file=source,
                        line=err.lineno, fix="re-run `archcost calibrate` to write a fresh profile.") from None
    except (ValueError, RecursionError) as err:
        raise SpecError(f"device profile: {str(err)[:200]}", file=source, line=1,
                        fix="numbers must be finite and of sane size; re-run `archcost calibrate`.") from None
    return data, text


def _no_constant(name):
    raise ValueError(f"{name} is not a number a profile may hold (numbers must be finite)")


def _bounded_int(s: str) -> int:
    if len(s.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(s):,} digits (at most {MAX_INT_DIGITS})")
    return int(s)


def _nesting(text: str) -> int:
    """The deepest nesting of [ and { outside strings (before json's recursive parser sees it)."""
    depth = top = 0
    in_str = esc = False
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            if depth > top:
                top = depth
                if top > MAX_NESTING:
                    return top
        elif c in "]}":
            depth -= 1
    return top


def validate_profile(d, source: str = "<profile>", text: str | None = None, terms_of=None) -> None:
    """Raise a located SpecError unless ``d`` is a valid device profile (see the module docstring).

    ``terms_of(cls)``: the feature names a class may have (the predictor's; None skips the check)."""
    def line_of(key):
        if key is None or text is None:
            return 1 if key is None else None
        needle = f'"{key}"'
        at = text.find(needle)
        return text.count("\n", 0, at) + 1 if at >= 0 else None

    def bad(msg, key=None, fix="re-run `archcost calibrate`, or give the path of a profile it wrote."):
        raise SpecError(f"device profile: {msg}", file=source, line=line_of(key) or 1, fix=fix)

    def number(x, where, key, *, low=0.0, high=MAX_SECONDS, positive=False):
        if not _num(x):
            bad(f"{where} must be a finite number, not {short_repr(x, 40)}", key)
        if (x <= low if positive else x < low) or x > high:
            bad(f"{where} = {short_repr(x, 40)} must be {'above' if positive else 'at least'} {low:g} and at most "
                f"{high:g}", key)

    if not isinstance(d, dict):
        bad("the file must hold a JSON object")
    if d.get("format") != PROFILE_FORMAT:
        bad(f"'format' must be {PROFILE_FORMAT!r} (this is not a device profile)", "format")
    v = d.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v != PROFILE_VERSION:
        bad(f"'version' {short_repr(v, 40)} is not supported (this archcost reads version {PROFILE_VERSION})", "version")
    for key, kind in (("name", str), ("device", str), ("device_name", str), ("dtype", str), ("threads", int),
                      ("bandwidth", dict), ("classes", dict), ("overhead", dict)):
        x = d.get(key)
        if not isinstance(x, kind) or isinstance(x, bool):
            bad(f"'{key}' is missing or not a {kind.__name__}", key if key in d else None)
        if kind is str and (len(x) > MAX_TEXT or not x.isprintable()):
            bad(f"'{key}' must be printable text of at most {MAX_TEXT} characters", key)
    if not 1 <= d["threads"] <= 100_000:
        bad(f"'threads' {d['threads']} must be from 1 to 100,000", "threads")
    if "memory_roof" in d and not isinstance(d["memory_roof"], bool):
        bad("'memory_roof' must be true or false", "memory_roof")
    bw = d["bandwidth"]
    for xs, ys in (("ws_bytes", "s_per_byte"), ("read_ws_bytes", "read_s_per_byte")):
        if xs not in bw and ys not in bw and xs.startswith("read_"):
            continue
        ws, spb = bw.get(xs), bw.get(ys)
        if not (isinstance(ws, list) and isinstance(spb, list) and 1 <= len(ws) == len(spb) <= MAX_POINTS):
            bad(f"'bandwidth' needs equal-length lists '{xs}' and '{ys}' of 1 to {MAX_POINTS:,} positive numbers",
                "bandwidth")
        for i, x in enumerate(ws):
            number(x, f"'bandwidth.{xs}[{i}]'", xs, high=MAX_WS_BYTES, positive=True)
        for i, x in enumerate(spb):
            number(x, f"'bandwidth.{ys}[{i}]'", ys, positive=True)
    if len(d["classes"]) > MAX_CLASSES:
        bad(f"'classes' has {len(d['classes']):,} classes, more than {MAX_CLASSES}", "classes")
    for cls, v in d["classes"].items():
        terms = v.get("terms") if isinstance(v, dict) else None
        if not isinstance(terms, dict):
            bad(f"class {short_repr(cls, 40)} needs 'terms': an object of non-negative numbers", cls)
        for t, x in terms.items():
            number(x, f"class {short_repr(cls, 40)} needs 'terms': an object of non-negative numbers; "
                      f"term {short_repr(t, 30)}", cls)
        if terms_of is not None:
            unknown = set(terms) - set(terms_of(cls))
            if unknown:
                bad(f"class {short_repr(cls, 40)} has unknown terms {short_repr(sorted(unknown), 80)} "
                    f"(expected {list(terms_of(cls))})", cls)
    ov = d["overhead"]
    for key in ("node_s", "forward_s", "free_s_per_byte"):
        if key == "free_s_per_byte" and key not in ov:
            continue
        if not _num(ov.get(key)):
            bad(f"'overhead.{key}' must be a finite number, not {short_repr(ov.get(key), 40)}",
                key if key in ov else "overhead")
        number(ov[key], f"'overhead.{key}'", key)


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
