"""Where archcost keeps what it can rebuild: device profiles (``profiles/``) and parsed spec files
(``parsed-N/``, :mod:`archcost.language.parsecache`).

``$ARCHCOST_CACHE_DIR`` if set, else the user cache directory — platformdirs' ``user_cache_dir("archcost")``.
On Linux that is ``$XDG_CACHE_HOME/archcost`` or ``~/.cache/archcost``, computed here without importing
platformdirs (~10 ms, and every cold ``archcost table`` asks: issue 21); tests/test_parsecache.py checks
the two agree.  Elsewhere platformdirs answers.
"""

from __future__ import annotations

import os
import sys


def cache_root() -> str:
    base = os.environ.get("ARCHCOST_CACHE_DIR")
    if base:
        return base
    if sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        return os.path.join(xdg if xdg.strip() else os.path.expanduser("~/.cache"), "archcost")
    import platformdirs

    return platformdirs.user_cache_dir("archcost")
