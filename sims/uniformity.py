"""How uniform is a point set (or a selected subset)?  The reviewers' questions C2 and C4.

``uniformity_report`` gathers the geometry summary (h_min, q_X = h_min/2, fill distance, mesh
ratio, nearest-neighbour quantiles), the centred L2 discrepancy when it is defined (all points in
the unit cube), the label counts when labels are given, and, when the pool the set was chosen
from is given, the exact *pool covering radius* max_{x in pool} min_{s in set} ||x - s||: the fill
distance relative to the pool (a discrete domain), the quantity greedy max-min minimises to within
a factor 2 and meaningful in any dimension, unlike a Monte Carlo fill distance in high d.

``coverage(pool_labels, subset_indices)`` says which clusters / rare modes a subset hit (C4).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from hmin.sims.errors import InputError
from hmin.sims.geometry import _knn, geometry_summary, validate_points
from hmin.sims.precision import uses_float64

__all__ = ["uniformity_report", "coverage", "pool_covering_radius", "DISCREPANCY_MAX_N"]

#: scipy's discrepancy is O(N^2 d); above this N it is not computed (reported with the reason).
DISCREPANCY_MAX_N = 20000


@uses_float64
def pool_covering_radius(pool: Any, subset: Any) -> dict:
    """max over pool points of the distance to the nearest subset point (exact, float64).

    Returns:
        ``{"value": r, "argmax_pool_index": i}``.

    Example:
        >>> pool_covering_radius([[0.], [1.], [3.]], [[0.], [3.]])["value"]
        1.0
    """
    P = validate_points(pool, name="pool", min_n=1, allow_duplicates=True, copy=False)
    S = validate_points(subset, name="subset", min_n=1, allow_duplicates=True, copy=False)
    if P.shape[1] != S.shape[1]:
        raise InputError(f"pool has d = {P.shape[1]} but the subset has d = {S.shape[1]}")
    D, _ = _knn(P, S, 1, self_mode=False)
    i = int(np.argmax(D[:, 0]))
    return {"value": float(D[i, 0]), "argmax_pool_index": i}


def _discrepancy(X: np.ndarray) -> dict:
    # here: scipy loads only when this runs
    from scipy.stats import qmc

    if not (np.all(X >= 0.0) and np.all(X <= 1.0)):
        return {"value": None, "method": "CD", "reason": "not computed: points are not all in the unit cube [0, 1]^d"}
    if len(X) > DISCREPANCY_MAX_N:
        return {"value": None, "method": "CD",
                "reason": f"not computed: N = {len(X)} > {DISCREPANCY_MAX_N} (O(N^2 d) cost)"}
    return {"value": float(qmc.discrepancy(X, method="CD")), "method": "CD",
            "reason": "centred L2 discrepancy (scipy.stats.qmc.discrepancy); lower is more uniform"}


def _label_counts(labels: np.ndarray) -> dict:
    vals, counts = np.unique(labels, return_counts=True)
    return {str(v): int(c) for v, c in zip(vals.tolist(), counts.tolist())}


def coverage(pool_labels: Any, subset_indices: Any) -> dict:
    """Per-label coverage of a subset of a labelled pool (C4: are rare modes kept?).

    Args:
        pool_labels: (N,) label / cluster id of every pool point.
        subset_indices: indices into the pool.

    Returns:
        ``{"per_label": {label: {"pool": n_pool, "selected": n_sel, "fraction_selected": f}},
        "labels_hit": h, "n_labels": L, "fraction_labels_hit": h / L, "rarest_label": ...,
        "rarest_label_hit": bool}``.

    Example:
        >>> c = coverage([0, 0, 0, 1], [0, 1])
        >>> c["fraction_labels_hit"], c["per_label"]["1"]["selected"]
        (0.5, 0)
    """
    lab = np.asarray(pool_labels)
    if lab.ndim != 1:
        raise InputError(f"labels must be 1-D (one per point), got shape {lab.shape}")
    idx = np.asarray(subset_indices)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise InputError("subset_indices must be a 1-D integer array")
    if idx.size and (idx.min() < 0 or idx.max() >= len(lab)):
        raise InputError(f"subset_indices out of range for {len(lab)} labels")
    vals, pool_counts = np.unique(lab, return_counts=True)
    sel_vals, sel_counts = np.unique(lab[idx], return_counts=True)
    sel = dict(zip(sel_vals.tolist(), sel_counts.tolist()))
    per = {}
    for v, c in zip(vals.tolist(), pool_counts.tolist()):
        s = int(sel.get(v, 0))
        per[str(v)] = {"pool": int(c), "selected": s, "fraction_selected": s / c}
    hit = sum(1 for v in per.values() if v["selected"] > 0)
    rare = str(vals[int(np.argmin(pool_counts))].tolist())
    return {
        "per_label": per,
        "labels_hit": hit,
        "n_labels": len(per),
        "fraction_labels_hit": hit / len(per),
        "rarest_label": rare,
        "rarest_label_hit": per[rare]["selected"] > 0,
    }


@uses_float64
def uniformity_report(
    X: Any,
    *,
    labels: Any = None,
    domain: str | Callable | None = None,
    seed: int = 0,
    bounds=None,
    pool: Any = None,
    n_probe: int = 10000,
    max_pair_work: float | None = None,
) -> dict:
    """Geometry summary + discrepancy + label counts (+ pool covering radius) of a point set.

    Args:
        X: (N, d) points.
        labels: optional (N,) labels of X's rows (counts and proportions per label).
        domain: fill-distance domain (see ``sims.geometry.fill_distance``); default the cube.
        seed: fill-distance probe seed.
        bounds: fill-distance domain bounds; pass the pool's bounding box when X is a subset, so
            that a subset huddled in one corner is not measured in its own small box.
        pool: the pool X was chosen from; adds ``pool_covering_radius``.
        n_probe: fill-distance probes.
        max_pair_work: skip O(N^2 d) parts above this budget (see ``geometry_summary``).

    Returns:
        A JSON-able dict: ``geometry_summary`` keys plus ``discrepancy`` (``value`` or None and
        ``reason``), ``labels`` (if given) and ``pool_covering_radius`` (if ``pool`` given).
    """
    A = validate_points(X, allow_duplicates=True, copy=False)
    rep = geometry_summary(A, domain=domain, seed=seed, bounds=bounds, n_probe=n_probe,
                           max_pair_work=max_pair_work)
    rep["discrepancy"] = _discrepancy(A)
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape != (len(A),):
            raise InputError(f"labels must have shape ({len(A)},), got {lab.shape}")
        counts = _label_counts(lab)
        rep["labels"] = {"counts": counts, "n_labels": len(counts),
                         "fractions": {k: v / len(A) for k, v in counts.items()}}
    if pool is not None:
        rep["pool_covering_radius"] = pool_covering_radius(pool, A)
        rep["pool_covering_radius"]["convention"] = (
            "max over pool points of the distance to the nearest selected point (h_fill relative "
            "to the pool); greedy max-min's next radius r_{k+1}"
        )
    if rep.get("mesh_ratio") is not None and not math.isfinite(rep["mesh_ratio"]):
        rep["mesh_ratio_note"] = "q_X = 0 (duplicate points): mesh ratio is infinite"
    return rep
