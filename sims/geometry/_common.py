"""Constants and result types shared by the geometry modules (h_min vs q_X conventions)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np



#: |x| above this is refused: squared differences (2 |x|)^2 <= 4e200 leave float64 (max 1.8e308)
#: room for sums of up to 1e100 terms, so no distance, Gram entry or k-means++ weight can overflow.
MAX_ABS_COORD = 1e100
#: a float32 pool kept as float32 (dtype=None) only while |x| <= this: (2 |x|)^2 sums stay far below
#: float32's max 3.4e38; larger coordinates are converted to float64 instead of overflowing.
F32_MAX_ABS_COORD = 1e12

#: the largest dimension d in which h_min may use a k-d tree (exact either way).
KD_MAX_DIM = 8  # never use the tree above this d (see _use_kdtree for the rule below it)

_U64 = 2.0**-53  # unit round-off of float64

#: the conventions string stored with every geometry summary (h_min vs q_X, fill distance, mesh ratio).
CONVENTIONS = (
    "h_min = min_{i != j} ||x_i - x_j||_2 (minimum pairwise distance); "
    "q_X = h_min / 2 (separation distance, RBF convention); "
    "fill distance h_fill = sup_{x in domain} min_i ||x - x_i|| (covering radius); "
    "mesh ratio = h_fill / q_X. All distances Euclidean, computed from differences in float64."
)


class HminResult(NamedTuple):
    """The minimum pairwise distance and the pair (i < j) that attains it.

    Ties are broken by the lexicographically smallest pair (i, j).
    """

    h_min: float
    i: int
    j: int


class FillResult(NamedTuple):
    """A fill-distance estimate with an honest error bar.

    Attributes:
        estimate: a lower bound on h_fill: the largest nearest-point distance over the in-domain
            points that were evaluated (random probes, a local ascent from the best ones and, when
            ``rigorous``, the centres of a branch-and-bound grid).
        stderr_or_gap: if ``rigorous``, ``upper_bound - estimate`` (a guaranteed bracket, up to
            float64 rounding); otherwise a heuristic size of the remaining gap: the larger of the
            growth of the running maximum over the second half of the probes
            (``max(all) - max(first half)``) and the gain of the local ascent over the best probe.
        n_probe: number of random probes.
        argmax_probe: the in-domain point that attains ``estimate``.
        upper_bound: a guaranteed upper bound on h_fill (``rigorous``) or None.
        rigorous: whether [estimate, upper_bound] is a proven bracket.
        domain: a description of the domain.
    """

    estimate: float
    stderr_or_gap: float
    n_probe: int
    argmax_probe: np.ndarray
    upper_bound: float | None = None
    rigorous: bool = False
    domain: str = ""
