"""pyproject.toml lists every package (a non-editable install would silently drop one that it misses)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is new in Python 3.11")
def test_every_package_is_listed():
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "archcost").rglob("__init__.py")}
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    spec_dirs = {"archcost._specs" + "".join("." + part for part in d.relative_to(ROOT / "specs").parts)
                 for d in [ROOT / "specs", *[p for p in (ROOT / "specs").rglob("*") if p.is_dir()]]
                 if any(d.glob("*.yaml"))}
    assert spec_dirs - listed == set(), f"zoo folders not packaged: {sorted(spec_dirs - listed)}"
    assert all(k in cfg["package-data"] for k in spec_dirs)
