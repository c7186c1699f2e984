"""One summary of a point set's geometry: h_min, q_X, fill distance, mesh ratio, k-NN quantiles."""

from __future__ import annotations

import math
import time
from typing import Any, Callable


from hmin.sims.geometry._common import CONVENTIONS
from hmin.sims.geometry._distances import _use_kdtree, min_pairwise_distance
from hmin.sims.geometry._fill import fill_distance
from hmin.sims.geometry._neighbours import knn_distance_quantiles
from hmin.sims.geometry._points import validate_points
from hmin.sims.precision import uses_float64


@uses_float64
def geometry_summary(
    X: Any,
    *,
    domain: str | Callable | None = None,
    seed: int = 0,
    n_probe: int = 10000,
    bounds=None,
    max_pair_work: float | None = None,
) -> dict:
    """Everything this module measures about a point set, as a JSON-able dict.

    Keys: ``n, d, h_min, q_X, argmin_pair, hmin_method, fill_distance, fill_distance_err,
    fill_distance_upper, fill_rigorous, fill_domain, fill_n_probe, mesh_ratio, knn_quantiles,
    conventions, seconds`` (and ``skipped`` with reasons, if any).

    Args:
        X: (N, d) points (duplicates allowed: h_min = 0, mesh ratio inf).
        domain: fill-distance domain (default ``"cube"``, the bounding box).
        seed: seed of the fill-distance probes.
        n_probe: fill-distance probes.
        bounds: fill-distance domain bounds (see ``fill_distance``).
        max_pair_work: if given and the blocked (O(N^2 d)) path would be used, skip the O(N^2 d) parts (h_min, k-NN) when
            N^2 d / 2 exceeds it, saying so in ``skipped``.
    """
    t0 = time.perf_counter()
    A = validate_points(X, allow_duplicates=True, copy=False)
    n, d = A.shape
    out: dict[str, Any] = {"n": int(n), "d": int(d), "conventions": CONVENTIONS}
    skipped: dict[str, str] = {}
    work = n * n * d / 2.0
    heavy = not _use_kdtree(n, d) and max_pair_work is not None and work > max_pair_work
    if heavy:
        reason = (
            f"skipped: exact h_min needs ~{work:.2g} pair-coordinate operations (N^2 d / 2) > "
            f"budget {max_pair_work:.2g}; run `hmin geometry` on the file for the exact value"
        )
        out.update(h_min=None, q_X=None, argmin_pair=None, hmin_method=None, knn_quantiles=None)
        skipped["h_min"] = reason
        skipped["knn_quantiles"] = reason
    else:
        r = min_pairwise_distance(A)
        out.update(
            h_min=r.h_min,
            q_X=r.h_min / 2.0,
            argmin_pair=[r.i, r.j],
            hmin_method="kdtree" if _use_kdtree(n, d) else "blocked",
        )
        out["knn_quantiles"] = knn_distance_quantiles(A, k=1)
    fr = fill_distance(A, domain=domain or "cube", seed=seed, n_probe=n_probe, bounds=bounds)
    out.update(
        fill_distance=fr.estimate,
        fill_distance_err=fr.stderr_or_gap,
        fill_distance_upper=fr.upper_bound,
        fill_rigorous=fr.rigorous,
        fill_domain=fr.domain,
        fill_n_probe=fr.n_probe,
    )
    if out["h_min"] is None:
        out["mesh_ratio"] = None
    else:
        out["mesh_ratio"] = math.inf if out["q_X"] == 0 else fr.estimate / out["q_X"]
    if skipped:
        out["skipped"] = skipped
    out["seconds"] = time.perf_counter() - t0
    return out
