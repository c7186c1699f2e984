"""Shared plotting helpers: one look for every figure, atomic PNG writes, censored markers.

Figures are built with matplotlib's object API (`matplotlib.figure.Figure`), never through pyplot's
global state: hmin neither selects a backend (``matplotlib.use``) nor writes the global
``rcParams``. The house style is applied with ``matplotlib.rc_context`` around the functions that
draw (`styled`), so a notebook's own settings are the same before and after an hmin figure.
matplotlib is imported lazily so that importing hmin stays cheap.
"""

from __future__ import annotations

import contextlib
import functools
import io
import time
from pathlib import Path
from typing import Callable, TypeVar

from hmin.sims.store import atomic_write_bytes

__all__ = ["plt", "save", "record_saves", "styled", "STYLE", "MODE_COLORS", "eps_colors"]

#: label mode -> its colour in every figure.
MODE_COLORS = {"random": "#d62728", "smooth": "#1f77b4", "equal": "#2ca02c"}

#: the house style, applied inside `styled` functions only (``matplotlib.rc_context``)
STYLE = {
    "figure.dpi": 120, "savefig.dpi": 120, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False, "legend.fontsize": 8,
    "axes.titlesize": 10, "axes.labelsize": 9,
}

F = TypeVar("F", bound=Callable)


def styled(fn: F) -> F:
    """Run a drawing function inside ``matplotlib.rc_context(STYLE)``: the house look for every
    artist it creates, the caller's rcParams untouched after it returns."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib  # here: importing a module with figures does not import matplotlib

        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class _Figures:
    """The few pyplot names hmin's figures use, on the object API (no backend, no global figure list)."""

    @staticmethod
    def figure(**kwargs):
        # here: matplotlib loads only when a figure is drawn
        from matplotlib.figure import Figure

        return Figure(**kwargs)

    def subplots(self, nrows: int = 1, ncols: int = 1, *, figsize=None, **kwargs):
        fig = self.figure(figsize=figsize)
        return fig, fig.subplots(nrows, ncols, **kwargs)

    @staticmethod
    def close(fig) -> None:  # a Figure without pyplot is freed with its last reference
        pass

    @staticmethod
    def get_cmap(name: str):
        # here: matplotlib loads only when a figure is drawn
        import matplotlib

        return matplotlib.colormaps[name]

    @property
    def Rectangle(self):
        # here: matplotlib loads only when a figure is drawn
        from matplotlib.patches import Rectangle

        return Rectangle


def plt() -> _Figures:
    """A pyplot look-alike on matplotlib's object API (``subplots``, ``figure``, ``close``,
    ``get_cmap``, ``Rectangle``): figures that never touch the global pyplot state. Draw inside a
    `styled` function to get the house style."""
    return _Figures()


#: while `record_saves` is active: (file name, seconds of savefig + write, points drawn) per saved figure
_SAVES: list | None = None


@contextlib.contextmanager
def record_saves():
    """Yields a list that receives ``(file name, seconds, points)`` for each figure `save` writes inside the
    block (``hmin verify`` records them per check: ``phases.figures``)."""
    global _SAVES
    prev, _SAVES = _SAVES, []
    try:
        yield _SAVES
    finally:
        prev_list, _SAVES = _SAVES, prev
        if prev is not None:
            prev.extend(prev_list)


def _points(fig) -> int:
    """Data points drawn in ``fig`` (lines and scatter collections): what a figure's cost grows with."""
    n = 0
    for ax in fig.axes:
        n += sum(len(line.get_xdata()) for line in ax.get_lines())
        n += sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
    return n


def save(fig, path: str | Path) -> Path:
    """Save a figure as PNG atomically (the house dpi unless the caller's rc_context says otherwise) and close it."""
    t0 = time.perf_counter()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    points = _points(fig) if _SAVES is not None else 0
    plt().close(fig)
    out = atomic_write_bytes(path, buf.getvalue())
    if _SAVES is not None:
        _SAVES.append((Path(path).name, time.perf_counter() - t0, points))
    return out


def eps_colors(n: int):
    """n colours from a sequential map (dark = small h_min)."""
    # here: matplotlib loads only when a figure is drawn
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(x) for x in ([0.5] if n == 1 else [i / (n - 1) * 0.9 for i in range(n)])]
