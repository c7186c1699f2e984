"""Geometry of a point set: h_min, q_X = h_min/2, fill distance, mesh ratio, k-NN distances.

Conventions (docs/statements.md, "Notation and conventions"): ``h_min(X) = min_{i != j} ||x_i - x_j||_2`` is the minimum
pairwise distance; the RBF literature's *separation distance* is ``q_X = h_min / 2``.  The *fill
distance* (covering radius) on a domain Omega is ``h_fill = sup_{x in Omega} min_i ||x - x_i||``
and the *mesh ratio* is ``h_fill / q_X`` (1 is ideal, large is clumpy).  Every function here says
which of these it returns.

Exactness.  Small distances are what h_min is about, and the expansion
``||x||^2 + ||y||^2 - 2 x.y`` loses them to cancellation (a pair at 1e-7 among points of norm 1
has ``||x - y||^2 = 1e-14``, below the ~4e-16 round-off of that formula's terms).  So every
distance this module *returns* is computed from the difference ``x - y`` in float64.  The fast
matrix-product form is used only to *screen*: it yields, for each pair, a value that is provably
<= the true squared distance (the round-off bound is subtracted, see ``_screen_constant``), and
every pair whose screened value is within the running minimum is recomputed from differences.

Algorithms (chosen by measurement on this project's 2-core CPU machine; see ``_use_kdtree``):

* low d (d <= 5, or d <= 8 when N >= 1e5): ``scipy.spatial.cKDTree`` nearest-neighbour queries
  (exact, difference-based, O(N log N)).
* higher ``d``: blocked screening, O(N x block) memory.  A jitted JAX kernel computes, for each
  row block against each column block, the row minimum of the screened lower bound in one fused
  pass (the matrix product is fused with the reduction, so the block of squared distances is never
  written out); rows whose lower bound reaches the running exact minimum are then recomputed
  exactly.  On a lattice (many equal distances) more rows are recomputed, but the answer stays
  exact.

Layout (equinox style: one concept per private module, this module the public face; import from
``hmin.sims.geometry``, never from a private path):

* ``_common``: the conventions string, the coordinate limits, `HminResult` and `FillResult`;
* ``_points``: validation and loading (`validate_points`, `load_points`, duplicates);
* ``_distances``: exact distances from differences and h_min (`min_pairwise_distance`);
* ``_neighbours``: the exact k-NN index (`knn_distances`, `cluster_term`);
* ``_fill``: the fill distance and the mesh ratio;
* ``_summary``: `geometry_summary`.
"""

from __future__ import annotations

from hmin.sims.geometry._common import (
    CONVENTIONS,
    F32_MAX_ABS_COORD,  # noqa: F401 (a module constant of the old single file)
    KD_MAX_DIM,
    MAX_ABS_COORD,
    FillResult,
    HminResult,
)
from hmin.sims.geometry._distances import min_pairwise_distance, pairwise_distances, separation_distance
from hmin.sims.geometry._fill import fill_distance, mesh_ratio
from hmin.sims.geometry._neighbours import _knn, cluster_term, knn_distance_quantiles, knn_distances  # noqa: F401 (_knn: uniformity)
from hmin.sims.geometry._points import duplicate_groups, first_duplicate_pair, load_points, validate_points
from hmin.sims.geometry._summary import geometry_summary

__all__ = [
    "HminResult",
    "FillResult",
    "KD_MAX_DIM",
    "MAX_ABS_COORD",
    "validate_points",
    "duplicate_groups",
    "first_duplicate_pair",
    "min_pairwise_distance",
    "separation_distance",
    "fill_distance",
    "mesh_ratio",
    "knn_distances",
    "knn_distance_quantiles",
    "cluster_term",
    "pairwise_distances",
    "geometry_summary",
    "load_points",
    "CONVENTIONS",
]
