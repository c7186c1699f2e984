"""Convergence rates: measured on a loss curve, and predicted by T6 (docs/statements.md) from G at init.

Conventions (used by every report):
- ``steps_to_eps(loss, eps)``: the first step t with L_t <= eps * L_0 (``inf`` if never within the
  run: the run is *censored* at its length).
- ``late_rate(loss)``: the per-step exponential rate rho in L_t ~ C exp(-rho t), fitted by least
  squares on log L over the last half of the run (the late phase).  rho is what the slowest
  eigen-direction with residual weight sets: rho ~ -2 log|1 - eta lambda / N|.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hmin.theory.t06_linearised import linearised_loss
from hmin.sims.diagnostics import gram_eigh

__all__ = ["steps_to_eps", "late_rate", "Linearised", "linearise"]


def steps_to_eps(loss, eps: float) -> float:
    """First step t with loss[t] <= eps * loss[0]; ``inf`` if none (NaN losses never count).

    Examples:
        >>> steps_to_eps([1.0, 0.5, 0.2, 0.05], 0.1)
        3
        >>> steps_to_eps([1.0, 0.5], 0.1)
        inf
    """
    loss = np.asarray(loss, dtype=np.float64)
    hit = np.nonzero(loss <= eps * loss[0])[0]
    return int(hit[0]) if hit.size else float("inf")


def late_rate(loss, *, start_frac: float = 0.5, stop=None) -> dict:
    """Fit log L_t = a - rho t on t in [start_frac * T, T]; returns rho and the fit quality.

    Args:
        loss: losses L_0..L_T (NaN after a divergence: then the result is NaN).
        start_frac: where the late phase starts, as a fraction of the run.
        stop: optional last step to use.

    Returns:
        dict(rate=rho, r2=..., t0=..., t1=...).
    """
    loss = np.asarray(loss, dtype=np.float64)
    T = loss.size - 1 if stop is None else int(stop)
    t0 = int(start_frac * T)
    t = np.arange(t0, T + 1)
    y = loss[t0:T + 1]
    if t.size < 3 or not np.all(np.isfinite(y)) or np.any(y <= 0):
        return {"rate": float("nan"), "r2": float("nan"), "t0": t0, "t1": T}
    ly = np.log(y)
    A = np.vstack([np.ones_like(t, dtype=np.float64), t.astype(np.float64)]).T
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    ss = float(np.sum((ly - ly.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else 1.0
    return {"rate": float(-coef[1]), "r2": r2, "t0": t0, "t1": T}


@dataclasses.dataclass(frozen=True)
class Linearised:
    """The T6 prediction from a fixed Gram matrix G = U diag(lambda) U^T and residual r_0.

    Attributes:
        eigvals: lambda_i (ascending, float64); proj: u_i^T r_0; eta: learning rate; n: N.
    """

    eigvals: np.ndarray
    proj: np.ndarray
    eta: float
    n: int

    def loss(self, t) -> np.ndarray:
        """The predicted loss L_t (theory.t06_linearised.linearised_loss)."""
        return linearised_loss(self.eigvals, self.proj, self.eta, self.n, t)

    def steps_to_eps(self, eps: float, max_steps: int = 10**12) -> float:
        """First t with L_t <= eps L_0 under the linearised dynamics (``inf`` beyond ``max_steps``).

        The predicted curve is non-increasing when eta lambda_max / N <= 2, so bisection is exact.
        """
        target = eps * float(self.loss(0))
        if float(self.loss(max_steps)) > target:
            return float("inf")
        lo, hi = 0, int(max_steps)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if float(self.loss(mid)) <= target:
                hi = mid
            else:
                lo = mid
        return hi

    def late_rate(self, t0: int, t1: int, n_points: int = 64) -> float:
        """The predicted late-phase rate over [t0, t1], fitted exactly as ``late_rate`` fits data."""
        t = np.linspace(t0, t1, n_points)
        ly = np.log(self.loss(t))
        return float(-np.polyfit(t, ly, 1)[0])

    def slowest_rate(self) -> float:
        """-2 log|1 - eta lambda_min / N|: the asymptotic rate of the slowest direction."""
        return float(-2.0 * np.log(abs(1.0 - self.eta * self.eigvals[0] / self.n)))


def linearise(G0, r0, eta: float, n: int) -> Linearised:
    """Build the T6 prediction from the Gram matrix at initialisation and the initial residual."""
    ev, U = gram_eigh(G0)
    proj = U.T @ np.asarray(r0, dtype=np.float64).reshape(-1)
    return Linearised(eigvals=ev, proj=proj, eta=float(eta), n=int(n))
