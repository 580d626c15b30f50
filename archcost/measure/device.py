"""``--device`` and ``--threads``: parsing, set-up and a description of the machine.

``parse_device`` is pure Python (it runs before torch is imported, so a typo is reported
at once); ``setup`` imports torch, fixes the thread count and checks that CUDA exists.
"""

from __future__ import annotations

import os
import platform
import re

from ..errors import SpecError

DEFAULT_THREADS = 1  # one thread is far steadier than two on a shared machine; always printed


def parse_device(text: str) -> tuple:
    """``cpu`` → ("cpu", None); ``cuda`` → ("cuda", 0); ``cuda:N`` → ("cuda", N)."""
    t = (text or "").strip().lower()
    if t == "cpu":
        return "cpu", None
    m = re.fullmatch(r"cuda(?::(\d+))?", t)
    if m:
        return "cuda", int(m.group(1) or 0)
    raise SpecError(f"--device {text!r} is not a device archcost can time", fix="use --device cpu, cuda or cuda:N.")


def check_threads(threads: int | None) -> int:
    if threads is None:
        return DEFAULT_THREADS
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise SpecError(f"--threads {threads!r} must be a positive integer", fix="use e.g. --threads 1.")
    return threads


def setup(device: str, threads: int | None = None, *, cudnn_benchmark: bool = True) -> dict:
    """Fix the thread count, check the device exists, and describe it.

    Returns ``{"device": "cpu" | "cuda:N", "device_name", "threads", "torch", "torch_device", ...}``.
    CUDA runs set ``torch.backends.cudnn.benchmark`` (stated in the result): with fixed shapes
    it lets cuDNN pick its fastest algorithm during warm-up, which is what a deployed model gets.
    """
    import torch

    kind, index = parse_device(device)
    threads = check_threads(threads)
    torch.set_num_threads(threads)
    info = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    if kind == "cuda":
        if not torch.cuda.is_available():
            why = "this torch was built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise SpecError(f"--device {device}: CUDA is not available ({why})", fix="use --device cpu.")
        if index >= torch.cuda.device_count():
            raise SpecError(f"--device {device}: there are only {torch.cuda.device_count()} CUDA device(s)",
                            fix=f"use cuda:0 … cuda:{torch.cuda.device_count() - 1}.")
        torch.backends.cudnn.benchmark = cudnn_benchmark
        info.update(device=f"cuda:{index}", kind="cuda", device_name=torch.cuda.get_device_name(index),
                    torch_device=torch.device("cuda", index), cudnn_benchmark=cudnn_benchmark,
                    cuda=torch.version.cuda)
    else:
        info.update(device="cpu", kind="cpu", device_name=cpu_name(), torch_device=torch.device("cpu"))
    return info


def cpu_name() -> str:
    """The CPU model ("AMD EPYC", "Intel(R) Xeon(R) ...") from /proc/cpuinfo, else platform."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_count() -> int:
    return os.cpu_count() or 1


def slug(text: str) -> str:
    """A file-name-safe lower-case form: "AMD EPYC 7B13" → "amd-epyc-7b13"."""
    s = re.sub(r"\((r|tm)\)", "", text.lower())
    s = re.sub(r"[^a-z0-9.]+", "-", s).strip("-")
    return s[:40] or "unknown"


def load_average() -> list | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
