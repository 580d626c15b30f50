"""The registry of primitive ops (see :mod:`archcost.ops.base` for the interface)."""

from . import act, attention, conv, maxvit, norm, opaque, pool, structural, tensor, window  # noqa: F401  (registration side effects)
from .base import OPS, Attr, OpDef, Params, register

__all__ = ["OPS", "Attr", "OpDef", "Params", "register"]
