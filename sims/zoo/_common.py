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
