import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

# pytest-xdist runs one worker per core, and torch would start one thread per core in each worker: on this
# 2-core machine 2 workers x 2 threads oversubscribe the cores and slow every torch test. One thread per
# worker (set before any test imports torch; latency measurements pin their own threads).
if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
    os.environ["OMP_NUM_THREADS"] = "1"

# archcost's cache folder (device profiles, parsed spec files) in a temporary folder, not the user's: the tests
# and the CLI processes they start write there (inherited through the environment)
if "ARCHCOST_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["ARCHCOST_CACHE_DIR"] = tempfile.mkdtemp(prefix="archcost-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ARCHCOST_CACHE_DIR"], True)

import gc  # noqa: E402

import pytest  # noqa: E402


def _rss_bytes(file_part=False):
    """This process's resident memory now (Linux /proc; 0 elsewhere); with ``file_part``, (resident, the
    part of it mapped from files: shared libraries, which the workers share)."""
    try:
        with open("/proc/self/statm") as fh:
            fields = fh.read().split()
        page = os.sysconf("SC_PAGE_SIZE")
        rss = int(fields[1]) * page
        return (rss, int(fields[2]) * page) if file_part else rss
    except (OSError, ValueError, IndexError):
        return (0, 0) if file_part else 0


def _trim():
    """Give freed memory back to the OS: a zoo-wide torch test frees each model, but glibc keeps the
    pages, so a worker's RSS would grow to the sum of its biggest models' leftovers (issue 21)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


# a file: one line per test, "nodeid rss_after_bytes max_rss_bytes test_peak_bytes test_peak_file_bytes worker"
# (summary: benchmarks/rss_summary.py); test_peak is this test's own peak, sampled every 20 ms by a thread, and
# test_peak_file the part of it mapped from files (torch's libraries: pages the workers share)
_RSS_LOG = os.environ.get("ARCHCOST_RSS_LOG")


class _Sampler:
    """The highest RSS seen since the last reset, read from /proc every 20 ms (a peak shorter than that can
    be missed; the process-wide peak, ru_maxrss, is exact)."""

    def __init__(self):
        import threading

        self.peak = self.file = 0
        threading.Thread(target=self._run, daemon=True, name="rss-sampler").start()

    def _run(self):
        import time

        while True:
            rss, file = _rss_bytes(file_part=True)
            if rss > self.peak:
                self.peak, self.file = rss, file
            time.sleep(0.02)

    def reset(self):
        self.peak, self.file = _rss_bytes(file_part=True)


_SAMPLER = _Sampler() if _RSS_LOG else None


# the models whose slow tests add the most to a worker's RSS (0.6-0.8 GB each: real weights, big inputs; from
# benchmarks/rss_summary.py on CI runs): run before every other test, while the worker rests at ~1.0 GB
HEAVY_MODELS = {"efficientnet_b6", "efficientnet_b7", "efficientnet_v2_m", "efficientnet_v2_l", "regnet_y_32gf",
                "regnet_x_32gf", "regnet_y_16gf", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
                "vgg19", "vgg19_bn", "swin_v2_b", "swin_b", "wide_resnet101_2"}


def pytest_collection_modifyitems(config, items):
    """The slow tests (zoo-wide torch checks) first, in their order, those on the heaviest models before the
    rest: they run while a worker's resting RSS is still low (it creeps from ~1.0 to ~1.3 GB over a run), and
    the longest tests first leave no long one to finish alone at the end. Every worker collects alike, so
    xdist hands them out in this order."""
    def key(item):
        spec = getattr(item, "callspec", None)
        heavy = spec is not None and spec.params.get("name") in HEAVY_MODELS
        return item.get_closest_marker("slow") is None, not heavy

    items[:] = sorted(items, key=key)


@pytest.fixture(autouse=True)
def _free_memory_after_torch_tests(request):
    if _SAMPLER:
        _SAMPLER.reset()
    yield
    # only tests that built torch models leave much behind
    if "torch" in sys.modules and not os.environ.get("ARCHCOST_NO_TRIM"):
        _trim()
    if _RSS_LOG:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        with open(_RSS_LOG, "a") as fh:
            fh.write(f"{request.node.nodeid} {_rss_bytes()} {peak} {_SAMPLER.peak} {_SAMPLER.file} "
                     f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}\n")
