"""Any ``nn.Module`` in: capture a torch module as a spec in archcost's own language.

    torchvision:resnet50     timm:resnet50d     path/to/model.py:Net     model.py:make_net(width=0.5)

A module is traced (:mod:`.trace`), each call mapped onto a registry op (:mod:`.mapping`), and the
result written as spec data — layers with torch's keyword names, node ids = module paths, repeated
submodules folded into blocks (with arguments where they differ only in numbers) and ``repeat``
(:mod:`.write`).  That data is then built
through the language's normal path, so ``archcost table torchvision:resnet50`` and the spec
``archcost import`` writes for it are one truth.

This package's ``__init__`` and :mod:`.source` are pure Python (the CLI asks them whether a
string names a module); everything else imports torch.
"""

from __future__ import annotations

from .source import is_module_source, parse_source  # noqa: F401


def capture(module_or_source, *, input=None):
    """Trace a module (or a source string) → :class:`~archcost.capture.write.Captured` (spec data + notes)."""
    from ..extras import need

    need("torch", "analysing a torch module")
    from .write import capture as _capture

    return _capture(module_or_source, input=input)


def build_module_graph(module_or_source, *, input=None):
    """The graph IR of a module (or source string), built from its captured spec."""
    cap = capture(module_or_source, input=input)
    return cap.graph()
