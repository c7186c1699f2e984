"""Shared plotting helpers: one look for every figure, atomic PNG writes, censored markers.

matplotlib is imported lazily (Agg backend) so that importing sims stays cheap.
"""

from __future__ import annotations

import io
from pathlib import Path

from hmin.sims.store import atomic_write_bytes

__all__ = ["plt", "save", "MODE_COLORS", "eps_colors"]

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


def save(fig, path: str | Path) -> Path:
    """Save a figure as PNG atomically and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def eps_colors(n: int):
    """n colours from a sequential map (dark = small h_min)."""
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(x) for x in ([0.5] if n == 1 else [i / (n - 1) * 0.9 for i in range(n)])]
