"""Survey: timm models captured from ``timm:NAME``, as the README's "### timm" table reports them.

    python benchmarks/timm_survey.py [--models resnet50d,efficientnet_b0,...] [--extra]

Each model is built on the meta device (``archcost.capture.source.load(parse_source("timm:NAME"),
meta=True)``, its default input size) and captured (``archcost.capture.capture``); then compared with
``sum(p.numel())`` and FlopCounterMode's total / 2 of the same meta model in eval (on meta, where
``scaled_dot_product_attention`` has a formula, unlike on CPU).  Per model: params equal, MACs equal,
the opaque calls (by call and line, with how many rows each), or the error.  No weights are loaded.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from collections import Counter

README = ["resnet50d", "resnext50_32x4d", "dla34", "efficientnet_b0", "mixnet_s", "regnetx_002", "densenet121",
          "cspresnet50", "inception_v3", "mobilenetv3_large_100", "ghostnet_100", "rexnet_100", "hrnet_w18_small",
          "convnext_tiny", "vgg11", "vit_tiny_patch16_224"]
EXTRA = ["resnet18", "mobilenetv2_100", "regnety_002", "convnext_atto", "deit_tiny_patch16_224",
         "swin_tiny_patch4_window7_224", "maxvit_tiny_tf_224", "levit_128s", "mobilevit_xxs", "efficientformer_l1",
         "pit_ti_224", "tf_efficientnetv2_b0", "resnest14d", "res2net50_14w_8s", "dpn68", "xception41", "nasnetalarge"]


def survey(name):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from archcost.capture import capture
    from archcost.capture.source import load, parse_source

    t0 = time.perf_counter()
    model, shape = load(parse_source(f"timm:{name}"), meta=True)
    try:
        cap = capture(model, input=shape)
    except Exception as err:  # noqa: BLE001 - reported, the survey goes on
        return {"name": name, "error": f"{type(err).__name__}: {str(err).splitlines()[0][:300]}",
                "s": time.perf_counter() - t0}
    a = cap.graph()
    from archcost.analysis import analyze_graph

    res = analyze_graph(a)
    model.eval().requires_grad_(False)  # rather than no_grad, under which PiT's tuple of tensors trips torch's
    with FlopCounterMode(display=False) as fc:  # module tracker ("Expected gradient function to be set")
        model(torch.empty(1, *shape, device="meta"))
    params = sum(p.numel() for p in model.parameters())
    calls = Counter(call.split(" at ")[0] + " (" + call.split(" at ")[-1] + ")" if " at " in call else call
                    for _, call in cap.not_understood)
    return {"name": name, "shape": tuple(shape), "rows": len(cap.trace.rows),
            "params": (res.totals["params"], params), "macs": (res.totals["macs"], fc.get_total_flops() // 2),
            "opaque": calls, "s": time.perf_counter() - t0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=None, help="comma-separated timm names (default: the README's 16)")
    ap.add_argument("--extra", action="store_true", help="also the further families (EXTRA)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    names = args.models.split(",") if args.models else README + (EXTRA if args.extra else [])
    imported = clean = 0
    for name in names:
        r = survey(name)
        if "error" in r:
            print(f"{name}: ERROR {r['error']} ({r['s']:.1f} s)", flush=True)
            continue
        eq = r["params"][0] == r["params"][1] and r["macs"][0] == r["macs"][1]
        imported += eq
        clean += eq and not r["opaque"]
        params = "equal" if r["params"][0] == r["params"][1] else r["params"]
        macs = "equal" if r["macs"][0] == r["macs"][1] else r["macs"]
        print(f"{name} {r['shape']}: {r['rows']} rows, params {params}, MACs {macs}, "
              f"{sum(r['opaque'].values())} opaque ({r['s']:.1f} s)", flush=True)
        for call, k in r["opaque"].most_common():
            print(f"    {k} × {call}", flush=True)
    print(f"{imported} of {len(names)} import with params and MACs equal to FlopCounterMode; {clean} of those "
          f"{imported} are clean (no opaque row)")


if __name__ == "__main__":
    main()
