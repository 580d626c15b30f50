"""The shared assertion for archcost's located errors."""

from __future__ import annotations


def assert_located(err, file, *fragments, line=None, layer=None) -> str:
    """``err`` is one paragraph naming ``file:line`` (and ``line`` when given), the layer when given,
    every fragment, and a fix; returns the message."""
    msg = str(err)
    assert "\n" not in msg and "Fix:" in msg, msg
    assert err.file == file and msg.startswith(f"{file}:"), msg
    assert err.line is not None, msg
    if line is not None:
        assert err.line == line, msg
    if layer is not None:
        assert f"in layer '{layer}'" in msg, msg
    for f in fragments:
        assert f in msg, msg
    return msg
