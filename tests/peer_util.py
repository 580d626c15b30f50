"""Run the peer tools (ptflops, thop, torchinfo, torch's flop counter) on a module, silenced. Imports torch."""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

PEER_NAMES = ("ptflops", "thop", "torchinfo")
# thop's and torchinfo's hooks read only shapes and parameter counts, so they may run on a model built on
# torch's meta device (no data, no arithmetic: seconds instead of minutes for the zoo). ptflops may not: on
# meta, some ops run Python decompositions that call the torch functions ptflops patches and counts.
META_OK = ("thop", "torchinfo")


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def run_ptflops(model, x):
    """(MACs, params) as ptflops.get_model_complexity_info prints them (defaults: pytorch backend, batch 1)."""
    from ptflops import get_model_complexity_info

    # ptflops builds a float input from the shape; token ids (an embedding's input) come through input_constructor
    ids = {} if x.is_floating_point() else {"input_constructor": lambda _: x}
    # under no_grad: ptflops counts by hooks and patched functions, which autograd does not change, and
    # without it the forward keeps every activation for backward (efficientnet_b7 at 600 px: ~5 GB RSS)
    with _quiet(), torch.no_grad():
        macs, params = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                                 print_per_layer_stat=False, verbose=False, **ids)
    assert macs is not None, "ptflops failed on this model"
    return int(macs), int(params)


def run_thop(model, x):
    with _quiet():
        from thop import profile

        macs, params = profile(model, inputs=(x,), verbose=False)
    return int(macs), int(params)


def run_torchinfo(model, x):
    from torchinfo import summary

    with _quiet():
        s = summary(model, input_data=x, verbose=0)
    return int(s.total_mult_adds), int(s.total_params)


RUNNERS = {"ptflops": run_ptflops, "thop": run_thop, "torchinfo": run_torchinfo}


def run_peers(model, x, meta_model=None) -> dict:
    """{peer: (MACs, params)} for each of ptflops, thop and torchinfo, on one model instance
    (thop and torchinfo on ``meta_model``, the same model built on the meta device, when given;
    with no ``model``, only those)."""
    res = {}
    for name in PEER_NAMES:
        if model is None and name not in META_OK:
            continue
        if meta_model is not None and name in META_OK:
            res[name] = RUNNERS[name](meta_model.eval(), torch.empty(x.shape, dtype=x.dtype, device="meta"))
        else:
            res[name] = RUNNERS[name](model.eval(), x)
    return res


def torch_flop_counter(model, x) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()
