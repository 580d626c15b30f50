"""Run the peer tools (ptflops, thop, torchinfo, torch's flop counter) on a module, silenced. Imports torch."""

from __future__ import annotations

import contextlib
import io
import warnings

import torch

PEER_NAMES = ("ptflops", "thop", "torchinfo")


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def run_ptflops(model, x):
    """(MACs, params) as ptflops.get_model_complexity_info prints them (defaults: pytorch backend, batch 1)."""
    from ptflops import get_model_complexity_info

    with _quiet():
        macs, params = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                                 print_per_layer_stat=False, verbose=False)
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


def run_peers(model, x) -> dict:
    """{peer: (MACs, params)} for each of ptflops, thop and torchinfo, on one model instance."""
    model.eval()
    return {name: RUNNERS[name](model, x) for name in PEER_NAMES}


def torch_flop_counter(model, x) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()
