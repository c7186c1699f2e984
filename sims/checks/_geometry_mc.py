"""Monte Carlo helpers shared by the T1/T2 checks: exact h_min of many small i.i.d. draws.

``hmin_batch`` computes the minimum pairwise distance h_min (not q_X = h_min / 2) of every draw of
a (B, N, d) batch exactly, from coordinate differences:

* d = 1: sort each draw and take the smallest gap (exact: a difference of two float64 numbers);
* d >= 2: one ``scipy.spatial.cKDTree`` over all B N points, each draw lifted into its own slab by
  an extra coordinate b * L (L larger than any within-draw distance, so a nearest neighbour is
  always in the same draw).  Within a draw the extra coordinates are identical, so their difference
  is exactly 0 and the distance is that of the original d coordinates (cKDTree sums squared
  coordinate differences), whatever the size of b * L.

``draw_points`` draws B independent data sets of N points from the laws of ``sims.data``
(uniform cube / ball, Gaussian mixture) with NumPy (see its docstring for why not JAX here);
``density_bound`` gives their pi_max (the tests compare it with ``sims.data``'s).
"""

from __future__ import annotations

import numpy as np

from hmin.sims import data
from hmin.sims.errors import InputError
from hmin.sims.verdict import fit_loglog_slope

__all__ = ["DENSITIES", "MIXTURE", "hmin_batch", "hmin_batch_dense", "hmin_batch_torus", "draw_points", "mixture_params",
           "density_bound", "omega_prime", "bootstrap_slope", "round_sig", "cp_family_level", "bonferroni_z",
           "ROUND_SIG_RTOL"]

DENSITIES = ("cube", "ball", "mixture")
#: the Gaussian mixture of the T1 check: pi_max = (2 pi sigma^2)^(-d/2) (sum of the component peaks)
MIXTURE = {"n_components": 3, "sigma": 0.2, "spread": 1.0}


def _check_batch(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise InputError(f"X must have shape (B, N, d), got {X.shape}")
    if X.shape[1] < 2:
        raise InputError(f"need at least N = 2 points per draw, got N = {X.shape[1]}")
    if X.shape[0] < 1 or X.shape[2] < 1:
        raise InputError(f"empty batch: X has shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InputError("X contains NaN or inf")
    return X


def hmin_batch(X) -> np.ndarray:
    """Exact h_min of each draw of a batch (float64, from differences).

    Args:
        X: (B, N, d) points: B independent draws of N points in R^d, N >= 2, finite.

    Returns:
        (B,) float64 array of h_min = min_{i != j} ||x_i - x_j|| (0 for a draw with a duplicate).

    Example:
        >>> X = np.array([[[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]], [[0.0, 0.0], [1e-9, 0.0], [5.0, 5.0]]])
        >>> hmin_batch(X).tolist()
        [1.0, 1e-09]
    """
    X = _check_batch(X)
    B, N, d = X.shape
    if d == 1:
        s = np.sort(X[:, :, 0], axis=1)
        return np.diff(s, axis=1).min(axis=1)
    # here: scipy loads only when this runs
    from scipy.spatial import cKDTree

    span = float(np.max(X.max(axis=1) - X.min(axis=1)))  # largest coordinate range within a draw
    L = 4.0 * (span * np.sqrt(d) + 1.0)  # > every within-draw distance
    lift = np.broadcast_to((np.arange(B, dtype=np.float64) * L)[:, None, None], (B, N, 1))
    Z = np.concatenate([X, lift], axis=2).reshape(B * N, d + 1)
    dist, _ = cKDTree(Z).query(Z, k=2, workers=-1)
    # column 0 is the point itself (distance 0) or an exact duplicate (also distance 0)
    return dist[:, 1].reshape(B, N).min(axis=1)


def hmin_batch_dense(X) -> np.ndarray:
    """The same quantity by brute force over all pairs (an independent oracle for tests)."""
    X = _check_batch(X)
    B, N, _ = X.shape
    I, J = np.triu_indices(N, 1)
    out = np.empty(B)
    step = max(1, 2_000_000 // (len(I) * X.shape[2]))
    for s in range(0, B, step):
        D = X[s:s + step, I] - X[s:s + step, J]
        out[s:s + step] = np.sqrt(np.einsum("bpk,bpk->bp", D, D).min(axis=1))
    return out


def hmin_batch_torus(X) -> np.ndarray:
    """Exact h_min of each draw on the flat torus [0, 1)^d (periodic, minimum-image distance).

    Each coordinate difference t in (-1, 1) is mapped to t - round(t), exact in float64 (Sterbenz), so
    the distance is computed from exact periodic differences.  O(B N^2 d): for the small N it is used at.

    Args:
        X: (B, N, d) points in [0, 1)^d.

    Returns:
        (B,) float64 array of the periodic h_min.

    Example:
        >>> X = np.array([[[0.05, 0.5], [0.95, 0.5], [0.5, 0.0]]])
        >>> [round(float(v), 12) for v in hmin_batch_torus(X)]
        [0.1]
    """
    X = _check_batch(X)
    if X.min() < 0.0 or X.max() >= 1.0:
        raise InputError("torus points must lie in [0, 1)^d")
    B, N, d = X.shape
    I, J = np.triu_indices(N, 1)
    out = np.empty(B)
    step = max(1, 2_000_000 // (len(I) * d))
    for s in range(0, B, step):
        D = X[s:s + step, I] - X[s:s + step, J]
        D = D - np.round(D)
        out[s:s + step] = np.sqrt(np.einsum("bpk,bpk->bp", D, D).min(axis=1))
    return out


def mixture_params(d: int, *, seed: int) -> dict:
    """Means, weights and pi_max of the ``MIXTURE`` in dimension d (means uniform in [-spread, spread]^d).

    pi_max = sum_c w_c (2 pi sigma^2)^(-d/2), the same closed form as ``sims.data.gaussian_mixture``
    (each component's density is at most its peak).
    """
    rng = np.random.default_rng(seed)
    k, sigma, spread = MIXTURE["n_components"], MIXTURE["sigma"], MIXTURE["spread"]
    w = np.full(k, 1.0 / k)
    means = spread * (2.0 * rng.random((k, d)) - 1.0)
    return {"means": means, "weights": w, "sigma": sigma,
            "pi_max": float(w.sum() * (2.0 * np.pi * sigma**2) ** (-d / 2.0))}


def density_bound(density: str, d: int) -> float:
    """pi_max of a density of ``DENSITIES`` in dimension d (exact for cube and ball)."""
    if density == "cube":
        return 1.0
    if density == "ball":
        return 1.0 / data.unit_ball_volume(d)
    if density == "mixture":
        k, sigma = MIXTURE["n_components"], MIXTURE["sigma"]
        return float(k * (1.0 / k) * (2.0 * np.pi * sigma**2) ** (-d / 2.0))
    raise InputError(f"unknown density {density!r}; choose from {DENSITIES}")


def draw_points(density: str, ns, d: int, draws: int, *, seed) -> tuple[dict[int, np.ndarray], float]:
    """B = ``draws`` independent data sets of each size N in ``ns``, i.i.d. from one density.

    The laws are those of ``sims.data`` (uniform_cube with side 1, uniform_ball with radius 1,
    gaussian_mixture with ``MIXTURE``), drawn with NumPy's Generator: JAX's PRNG compiles one
    program per array shape (about a second each on this machine), which would dominate a Monte
    Carlo over 15 (density, d) pairs.  The mixture's means are drawn once per call, so every draw
    of every N shares them: conditionally on the means all points are i.i.d. with density <= pi_max.

    Args:
        density: "cube" (uniform [0, 1]^d), "ball" (uniform unit ball) or "mixture" (``MIXTURE``).
        ns: the sizes N (each >= 2).
        d: dimension (>= 1).
        draws: number of independent draws per size.
        seed: seed of the NumPy generator (an int or a list of ints).

    Returns:
        ({N: (draws, N, d) float64 array}, pi_max).

    Example:
        >>> b, pm = draw_points("cube", [4], 2, 3, seed=0)
        >>> b[4].shape, pm
        ((3, 4, 2), 1.0)
    """
    ns = [int(n) for n in ns]
    if any(n < 2 for n in ns):
        raise InputError(f"every N must be >= 2, got {ns}")
    if int(draws) != draws or draws < 1:
        raise InputError(f"draws must be a positive integer, got {draws}")
    if int(d) != d or d < 1:
        raise InputError(f"dimension d must be a positive integer, got {d}")
    total = int(draws) * sum(ns)
    rng = np.random.default_rng(seed)
    if density == "cube":
        X = rng.random((total, d))
    elif density == "ball":
        g = rng.standard_normal((total, d))
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        X = g * rng.random((total, 1)) ** (1.0 / d)
    elif density == "mixture":
        mp = mixture_params(d, seed=int(rng.integers(2**31)))
        comp = rng.choice(len(mp["weights"]), size=total, p=mp["weights"])
        X = mp["means"][comp] + mp["sigma"] * rng.standard_normal((total, d))
    else:
        raise InputError(f"unknown density {density!r}; choose from {DENSITIES}")
    out, pos = {}, 0
    for n in ns:
        out[n] = X[pos:pos + draws * n].reshape(draws, n, d)
        pos += draws * n
    return out, density_bound(density, d)


def omega_prime(domain: str, d: int, r) -> tuple[np.ndarray, np.ndarray]:
    """(pi_bar, p') of T2 (docs/statements.md) for uniform data, Omega' = the domain shrunk by r.

    - cube [0, 1]^d: Omega' = [r, 1 - r]^d, pi_bar = 1, p' = (1 - 2r)_+^d;
    - unit ball: Omega' = B(0, 1 - r), pi_bar = 1 / V_d, p' = (1 - r)_+^d;
    - flat torus [0, 1)^d (no boundary): pi_bar = 1, p' = 1 for r <= 1/2 (the r-ball does not wrap onto
      itself, so its mass is V_d r^d), p' = 0 beyond (the bound is then vacuous: 1).

    The r-ball around every point of Omega' lies inside the domain, where the density is pi_bar.
    """
    r = np.asarray(r, dtype=np.float64)
    if domain == "torus":
        return np.ones_like(r), np.where(r <= 0.5, 1.0, 0.0)
    if domain == "cube":
        return np.ones_like(r), np.clip(1.0 - 2.0 * r, 0.0, 1.0) ** d
    if domain == "ball":
        return np.full_like(r, 1.0 / data.unit_ball_volume(d)), np.clip(1.0 - r, 0.0, 1.0) ** d
    raise InputError(f"unknown domain {domain!r}; choose 'cube', 'ball' or 'torus'")


def bootstrap_slope(ns, samples, *, reps: int = 200, seed: int = 0) -> dict:
    """Log-log slope of the median of samples[N] vs N, with a bootstrap standard error over the draws.

    Args:
        ns: sizes N (at least two distinct).
        samples: list of 1-D arrays (the h_min draws at each N).
        reps: bootstrap replicates (the draws of each N are resampled with replacement).
        seed: seed of the resampling (so a judge is deterministic).

    Returns:
        dict(slope, se, values) with values = the medians at each N.

    Example:
        >>> ns = [10, 100]
        >>> b = bootstrap_slope(ns, [np.full(5, 1.0), np.full(5, 0.01)])
        >>> round(b["slope"], 12), round(b["se"], 12)
        (-2.0, 0.0)
    """
    lx = np.log(np.asarray(ns, dtype=np.float64))
    arrs = [np.asarray(s, dtype=np.float64) for s in samples]
    vals = np.array([np.median(a) for a in arrs])
    slope = fit_loglog_slope(np.exp(lx), vals)["slope"]
    rng = np.random.default_rng(seed)
    boot = np.stack([np.median(a[rng.integers(0, a.size, (reps, a.size))], axis=1) for a in arrs])  # (n_N, reps)
    ly = np.log(boot)
    xc = lx - lx.mean()
    slopes = (xc[:, None] * (ly - ly.mean(axis=0))).sum(axis=0) / (xc**2).sum()
    return {"slope": float(slope), "se": float(np.std(slopes, ddof=1)), "values": vals.tolist()}


#: the relative change of a value stored by ``round_sig`` (9 significant digits): <= 5e-10; a count of
#: "h_min < r" that decides a violation uses r (1 -/+ ROUND_SIG_RTOL) so storage can never create one
ROUND_SIG_RTOL = 1e-9


def round_sig(a, sig: int = 9) -> list[float]:
    """Values rounded to ``sig`` significant digits (relative change <= 5e-10 at 9): compact JSON."""
    a = np.asarray(a, dtype=np.float64).ravel()
    return [float(f"{x:.{sig}g}") for x in a]


def cp_family_level(n_tests: int, family: float = 0.99) -> float:
    """Per-test level of Clopper-Pearson bounds (one- or two-sided) that hold jointly w.p. >= ``family``
    (Bonferroni over ``n_tests``).

    Example:
        >>> round(cp_family_level(10), 6)
        0.999
    """
    return 1.0 - (1.0 - family) / max(int(n_tests), 1)


def bonferroni_z(n_tests: int, family: float = 0.99) -> float:
    """The normal quantile z with two-sided |Z| <= z jointly over ``n_tests`` tests w.p. >= ``family``
    (Bonferroni): z = Phi^-1(1 - (1 - family) / (2 n_tests)).

    Example:
        >>> round(bonferroni_z(1), 3), round(bonferroni_z(15), 3)
        (2.576, 3.403)
    """
    # here: scipy loads only when this runs
    from scipy.stats import norm

    return float(norm.ppf(1.0 - (1.0 - family) / (2.0 * max(int(n_tests), 1))))
