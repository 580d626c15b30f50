"""Make chosen packages unimportable, as on a machine without the optional extras.

Put this folder on PYTHONPATH and list the top-level packages in ARCHCOST_BLOCK
(comma-separated); importing any of them then raises ModuleNotFoundError, exactly
as when the package is not installed.
"""

import os
import sys

_BLOCKED = {m for m in os.environ.get("ARCHCOST_BLOCK", "").split(",") if m}


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named '{name}' (blocked by tests/blocker)", name=name)
        return None


if _BLOCKED:
    sys.meta_path.insert(0, _Blocker())
