"""archcost: what does this network cost?

Write a network once as a YAML spec; archcost computes each layer's shape,
parameters, MACs/FLOPs and memory analytically (no torch import), lowers the
same spec to a torch module, and cross-checks the two.

>>> import archcost
>>> a = archcost.analyze("mobilenetv2")
>>> a.totals["params"]
3504872
"""

from .api import analyze, build, compare_conventions, lower
from .errors import SpecError
from .language import load_spec

__version__ = "0.1.0"


def __getattr__(name):
    """archcost.plot, archcost.zoo and archcost.compare on first use: `import archcost` (every command's
    start-up) loads none of them, and nothing heavy is imported by any of them."""
    import importlib

    if name in ("plot", "zoo"):
        return importlib.import_module(f".{name}", __name__)
    if name == "compare":
        return importlib.import_module(".catalog.compare", __name__).compare
    raise AttributeError(f"module 'archcost' has no attribute {name!r}")


__all__ = ["analyze", "build", "compare", "compare_conventions", "lower", "load_spec", "SpecError", "__version__"]
