"""Helpers shared by the field's statements (not part of the public API)."""

from __future__ import annotations

import numpy as np


def lam_min(M) -> float:
    """The smallest eigenvalue of a symmetric matrix, in float64 (dense eigh)."""
    return float(np.linalg.eigvalsh(np.asarray(M, dtype=np.float64))[0])


def roundoff(M) -> float:
    """A bound on the round-off of the eigenvalues of M in float64: 64 N eps ||M||_2 (an eigenvalue below it
    cannot be told from 0)."""
    M = np.asarray(M, dtype=np.float64)
    return 64 * M.shape[0] * np.finfo(np.float64).eps * float(np.linalg.norm(M, 2))


def separation(X) -> float:
    """Oymak & Soltanolkotabi's delta: min over i != j of min(||x_i - x_j||, ||x_i + x_j||) (parallel or
    antiparallel pairs both count as close)."""
    X = np.asarray(X, dtype=np.float64)
    D = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1)
    S = np.linalg.norm(X[:, None, :] + X[None, :, :], axis=-1)
    M = np.minimum(D, S)
    np.fill_diagonal(M, np.inf)
    return float(M.min())


def separated_base(n: int, d: int, min_hmin: float, key_of, *, tries: int = 200):
    """A uniform draw of n points on S^(d-1) conditioned on h_min > ``min_hmin`` (rejection sampling).

    The planted-pair arms plant a pair at distance eps into this set, which `sims.data.planted_pair` allows
    only for eps < h_min(base)/2 (the pair must be the unique closest pair); an unconditioned draw of 16
    points on S^3 falls below that for the largest eps on some seeds. ``key_of(t)``: the JAX key of try t
    (a sub-stream of the caller's), so the draw stays deterministic per seed.
    """
    from hmin.sims.data import uniform_sphere
    from hmin.sims.geometry import min_pairwise_distance

    for t in range(tries):
        base = uniform_sphere(n, d, key=key_of(t))
        if min_pairwise_distance(base.X).h_min > min_hmin:
            return base
    raise RuntimeError(f"no draw of {n} points on S^{d - 1} with h_min > {min_hmin:g} in {tries} tries")
