"""T6 (OURS): linearised prediction of the GD loss curve from a fixed Gram matrix.

(Skeleton: the numeric predictor used by sims; the statement object and symbolic side are
added alongside.)
"""

from __future__ import annotations

import numpy as np


def linearised_loss(eigvals, proj, eta: float, n: int, t):
    """L_t = (1/(2N)) sum_i (1 - eta lambda_i / N)^{2t} (u_i^T r_0)^2.

    Args:
        eigvals: eigenvalues lambda_i of the Gram matrix G = J J^T, shape (M,).
        proj: projections u_i^T r_0 of the initial residual on the eigenvectors, shape (M,).
        eta: learning rate.
        n: number of data points N (the loss is (1/(2N)) ||r||^2).
        t: step or array of steps.

    Returns:
        The predicted loss at each t (float64 array of t's shape).
    """
    lam = np.asarray(eigvals, dtype=np.float64)
    p2 = np.asarray(proj, dtype=np.float64) ** 2
    t = np.asarray(t, dtype=np.float64)
    factor = np.abs(1.0 - eta * lam / n)  # |.|: the sign cancels in the even power 2t
    with np.errstate(divide="ignore", under="ignore"):
        logf = np.log(np.maximum(factor, 1e-300))
    terms = p2[None, :] * np.exp(2.0 * t.reshape(-1, 1) * logf[None, :])
    return (terms.sum(axis=1) / (2.0 * n)).reshape(t.shape)
