"""Writing figures: self-contained HTML (plotly.js embedded, no CDN), PNG/SVG through kaleido + Chromium.

The HTML needs nothing but a browser: ``include_plotlyjs=True`` puts plotly.js (~4.8 MB) in the
file and nothing is fetched.  Static images need kaleido (the ``plot`` extra) and a Chromium-family
browser on the system; kaleido starts it headless.  All images of one call are rendered in one
browser session (starting Chromium is the slow part: seconds, then ~0.2-0.5 s per image).
"""

from __future__ import annotations

import os

from ..errors import SpecError

# plotly's config for every figure we write: no plotly logo or cloud links; the camera button saves a PNG
CONFIG = {"displaylogo": False, "responsive": True,
          "toImageButtonOptions": {"format": "png", "scale": 2}}
CHROMIUM_FIX = ("install a Chromium: `apt-get install chromium` (Debian/Ubuntu; the package is chromium), or "
                "set BROWSER_PATH to a Chrome/Chromium binary")


def check_writable(path: str, option: str = "-o") -> str:
    """Fail early (SpecError, exit 2) if ``path`` cannot be written; make its folder if missing."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fix = f"choose a file in a folder you can write, e.g. {option} reports/name{os.path.splitext(path)[1] or '.html'}."
    if os.path.isdir(path):
        raise SpecError(f"{option} {path} is a folder, not a file", fix=fix)
    parent = folder
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if parent and not os.path.isdir(parent):
        raise SpecError(f"cannot write {option} {path}: {parent} is a file, not a folder", fix=fix)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise SpecError(f"cannot write {option} {path}: cannot make {folder} ({err.strerror or err})", fix=fix) from None
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise SpecError(f"cannot write {option} {path}: permission denied", fix=fix)
    return path


def write_text(path: str, text: str, option: str = "-o") -> None:
    check_writable(path, option)
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise SpecError(f"cannot write {option} {path}: {err.strerror or err}",
                        fix=f"choose a writable path with {option}.") from None


def figure_html(fig, *, full_html: bool = True, include_plotlyjs: bool = True, div_id: str | None = None) -> str:
    """The figure as HTML with plotly.js embedded (``include_plotlyjs=True``; never a CDN)."""
    return fig.to_html(full_html=full_html, include_plotlyjs=bool(include_plotlyjs), config=CONFIG, div_id=div_id)


def write_html(fig, path: str) -> None:
    """Write a self-contained HTML page of ``fig`` (opens offline; requests nothing)."""
    write_text(path, figure_html(fig))


def find_chromium() -> str | None:
    """The browser kaleido would use (``BROWSER_PATH``, kaleido's own download, or chromium/chrome on
    PATH), or None."""
    path = None
    try:
        from choreographer.browsers.chromium import Chromium

        path = Chromium.find_browser(skip_local=False)  # what kaleido does (choreographer 1.x)
    except Exception:  # noqa: BLE001 - another choreographer: look the simple way
        import shutil

        path = os.environ.get("BROWSER_PATH") or next(
            (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome", "chrome")) if p), None)
    return path if path and os.path.isfile(path) else None


def write_images(fig, targets, *, width: int | None = None, height: int | None = None, scale: float = 1) -> None:
    """Write ``fig`` to each ``(path, format)`` in ``targets`` (png, svg), in one Chromium session."""
    from .figures import HEIGHT, WIDTH

    targets = [(os.fspath(p), fmt) for p, fmt in targets]
    for p, fmt in targets:
        check_writable(p, f"--{fmt}")
    if not targets:
        return
    if find_chromium() is None:
        raise SpecError(f"cannot write {', '.join(p for p, _ in targets)}: PNG/SVG export renders with kaleido, "
                        "which needs a Chromium-family browser, and none was found (looked at BROWSER_PATH and "
                        "for chromium/google-chrome on PATH)", fix=CHROMIUM_FIX + ".")
    if height is None and ((fig.layout.meta or {}).get("archcost") or {}).get("kind") == "layers":
        height = max(HEIGHT, fig.layout.height or 0)  # the layer chart grows with its rows: none squeezed
    opts = {"width": width or WIDTH, "height": height or HEIGHT, "scale": scale}
    try:
        images = _render(fig, [dict(opts, format=fmt) for _, fmt in targets])
    except SpecError:
        raise
    except Exception as err:  # noqa: BLE001 - kaleido/Chromium failures become one user-facing line
        raise SpecError(f"kaleido could not render {', '.join(p for p, _ in targets)} "
                        f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no message'})",
                        fix=f"check that the browser at {find_chromium()} starts headless; or {CHROMIUM_FIX}.") from None
    for (p, fmt), data in zip(targets, images):
        try:
            with open(p, "wb") as f:
                f.write(data)
        except OSError as err:
            raise SpecError(f"cannot write --{fmt} {p}: {err.strerror or err}",
                            fix=f"choose a writable path with --{fmt}.") from None


def _render(fig, opts_list) -> list:
    """Render one figure several times in one kaleido session (its own thread: safe inside Jupyter's loop)."""
    import asyncio
    import threading

    import kaleido

    result: dict = {}

    async def run():
        async with kaleido.Kaleido(n=1, mathjax=False) as k:  # mathjax=False: no CDN request, no wait
            return [await k.calc_fig(fig, opts=o) for o in opts_list]

    def target():
        try:
            result["images"] = asyncio.run(run())
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = err

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["images"]
