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


def _rss_bytes() -> int:
    """This process's resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _trim():
    """Give freed memory back to the OS: a zoo-wide torch test frees each model, but glibc keeps the
    pages, so a worker's RSS would grow to the sum of its biggest models' leftovers (issue 21)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


# a file: one line per test, "nodeid rss_after_bytes max_rss_bytes worker" (summary: benchmarks/rss_summary.py)
_RSS_LOG = os.environ.get("ARCHCOST_RSS_LOG")


@pytest.fixture(autouse=True)
def _free_memory_after_torch_tests(request):
    yield
    if "torch" in sys.modules and not os.environ.get("ARCHCOST_NO_TRIM"):  # only tests that built torch models leave much behind
        _trim()
    if _RSS_LOG:
        import resource

        with open(_RSS_LOG, "a") as fh:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            fh.write(f"{request.node.nodeid} {_rss_bytes()} {peak} {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\n")
