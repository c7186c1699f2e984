"""Shared plotting helpers: one look for every figure, atomic PNG writes, censored markers.

matplotlib is imported lazily (Agg backend) so that importing sims stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

from hmin.sims.store import atomic_write_bytes

__all__ = ["plt", "save", "record_saves", "MODE_COLORS", "eps_colors"]

#: label mode -> its colour in every figure.
MODE_COLORS = {"random": "#d62728", "smooth": "#1f77b4", "equal": "#2ca02c"}


def plt():
    """matplotlib.pyplot with the Agg backend and the house style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    pyplot.rcParams.update({
        "figure.dpi": 120, "savefig.dpi": 120, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "legend.fontsize": 8,
        "axes.titlesize": 10, "axes.labelsize": 9,
    })
    return pyplot


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
    """Save a figure as PNG atomically and close it."""
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
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(x) for x in ([0.5] if n == 1 else [i / (n - 1) * 0.9 for i in range(n)])]
