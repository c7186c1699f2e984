"""Synthetic data sets whose geometry (h_min, clusters, density) is controlled exactly.

All generators take an explicit ``key`` (a ``jax.random`` key) and return float64 NumPy arrays,
so the same key gives the same points on every machine.  Densities that T1/T2 need
(pi_max, pi_bar) are returned in closed form next to the points.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import jax
import numpy as np
from scipy.stats import qmc

from hmin.sims.errors import InputError
from hmin.sims.geometry import min_pairwise_distance
from hmin.theory.common import unit_ball_volume as _theory_vd
from hmin.sims.precision import uses_float64

__all__ = [
    "PointSet",
    "uniform_cube",
    "uniform_ball",
    "uniform_sphere",
    "gaussian_mixture",
    "lattice",
    "poisson_disk",
    "planted_pair",
    "planted_cluster",
    "DOMAINS",
    "in_domain",
    "make_targets",
    "unit_ball_volume",
]

LabelMode = Literal["random", "smooth", "equal"]


def unit_ball_volume(d: int) -> float:
    """V_d = pi^{d/2} / Gamma(d/2 + 1) (theory.common.unit_ball_volume, as a Python float)."""
    return float(_theory_vd(d))


@dataclasses.dataclass(frozen=True)
class PointSet:
    """Points with what is known about their density.

    Attributes:
        X: (N, d) float64 points.
        pi_max: an upper bound on the density (exact where the docstring says so); None if none.
        pi_bar: a lower bound on the density on the region where it applies; None if none.
        domain: the region the points lie in, one of `DOMAINS` ("cube", "ball", "sphere", "mixture", "lattice",
            "poisson", or "" for no claim); `in_domain` tests the claim, and every generator keeps it true.
        info: anything else (the planted pair, cluster indices, the mixture's parameters).
    """

    X: np.ndarray
    pi_max: float | None = None
    pi_bar: float | None = None
    domain: str = ""
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])


def _check_nd(n: int, d: int) -> None:
    if int(n) != n or n < 2:
        raise InputError(f"need at least N = 2 points, got N = {n}")
    if int(d) != d or d < 1:
        raise InputError(f"dimension d must be a positive integer, got d = {d}")


def _np(a) -> np.ndarray:
    return np.array(a, dtype=np.float64)  # a writable copy (JAX arrays convert read-only)


@uses_float64
def uniform_cube(n: int, d: int, *, key, side: float = 1.0) -> PointSet:
    """N i.i.d. points uniform on [0, side]^d; density exactly 1/side^d."""
    _check_nd(n, d)
    X = side * _np(jax.random.uniform(key, (n, d), dtype=np.float64))
    dens = side ** (-d)
    return PointSet(X, pi_max=dens, pi_bar=dens, domain="cube", info={"side": side})


@uses_float64
def uniform_ball(n: int, d: int, *, key, radius: float = 1.0) -> PointSet:
    """N i.i.d. points uniform in the ball of the given radius; density 1 / (V_d radius^d)."""
    _check_nd(n, d)
    k1, k2 = jax.random.split(key)
    g = _np(jax.random.normal(k1, (n, d), dtype=np.float64))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    u = _np(jax.random.uniform(k2, (n, 1), dtype=np.float64))
    X = radius * g * u ** (1.0 / d)
    dens = 1.0 / (unit_ball_volume(d) * radius**d)
    return PointSet(X, pi_max=dens, pi_bar=dens, domain="ball", info={"radius": radius})


@uses_float64
def uniform_sphere(n: int, d: int, *, key) -> PointSet:
    """N i.i.d. points uniform on the unit sphere S^{d-1} in R^d (no Lebesgue density in R^d)."""
    _check_nd(n, d)
    g = _np(jax.random.normal(key, (n, d), dtype=np.float64))
    X = g / np.linalg.norm(g, axis=1, keepdims=True)
    return PointSet(X, domain="sphere")


@uses_float64
def gaussian_mixture(n: int, d: int, *, key, n_components: int = 3, sigma: float = 0.1, spread: float = 1.0,
                     weights=None) -> PointSet:
    """Isotropic Gaussian mixture sum_c w_c N(m_c, sigma^2 I), means uniform in [-spread, spread]^d.

    ``pi_max`` = sum_c w_c (2 pi sigma^2)^{-d/2}: a closed-form upper bound on the density (each
    component's density is at most its peak), exact for one component.
    """
    _check_nd(n, d)
    if sigma <= 0:
        raise InputError(f"sigma must be positive, got {sigma}")
    kc, km, kz = jax.random.split(key, 3)
    w = np.full(n_components, 1.0 / n_components) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (n_components,) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise InputError("weights must be n_components non-negative numbers summing to 1")
    means = spread * (2 * _np(jax.random.uniform(km, (n_components, d), dtype=np.float64)) - 1)
    comp = np.asarray(jax.random.choice(kc, n_components, (n,), p=w))
    X = means[comp] + sigma * _np(jax.random.normal(kz, (n, d), dtype=np.float64))
    pi_max = float(w.sum() * (2 * math.pi * sigma**2) ** (-d / 2))
    return PointSet(X, pi_max=pi_max, domain="mixture",
                    info={"means": means, "sigma": sigma, "weights": w, "component": comp})


def lattice(n_per_axis: int, d: int, *, side: float = 1.0) -> PointSet:
    """The regular grid with n_per_axis points per axis on [0, side]^d: h_min = side/(n_per_axis-1)."""
    if n_per_axis < 2:
        raise InputError(f"a lattice needs at least 2 points per axis, got {n_per_axis}")
    _check_nd(n_per_axis**d, d)
    g = np.linspace(0.0, side, n_per_axis)
    X = np.stack(np.meshgrid(*([g] * d), indexing="ij"), axis=-1).reshape(-1, d)
    return PointSet(X, domain="lattice", info={"spacing": side / (n_per_axis - 1)})


def poisson_disk(n: int, d: int, *, radius: float, seed: int = 0) -> PointSet:
    """Up to N points in [0,1]^d with pairwise distance >= radius (scipy.stats.qmc.PoissonDisk).

    Raises InputError if fewer than N points fit at that radius.
    """
    _check_nd(n, d)
    engine = qmc.PoissonDisk(d=d, radius=radius, rng=np.random.default_rng(seed))
    X = engine.random(n)
    if X.shape[0] < n:
        raise InputError(f"only {X.shape[0]} Poisson-disk points of radius {radius} fit in [0,1]^{d}; asked for {n}")
    return PointSet(np.asarray(X, np.float64), domain="poisson", info={"radius": radius})


def _nearest_other(X: np.ndarray, i: int) -> int:
    dist = np.linalg.norm(X - X[i], axis=1)
    dist[i] = np.inf
    return int(np.argmin(dist))


def _on_sphere(X: np.ndarray) -> bool:
    return bool(np.all(np.abs(np.linalg.norm(X, axis=1) - 1.0) <= 1e-12))


def _in_cube(ps: "PointSet") -> bool:
    side = float(ps.info.get("side", 1.0))
    return bool(np.all((ps.X >= 0.0) & (ps.X <= side)))


def _in_ball(ps: "PointSet") -> bool:
    return bool(np.all(np.linalg.norm(ps.X, axis=1) <= float(ps.info.get("radius", 1.0)) * (1 + 1e-12)))


def _on_lattice(ps: "PointSet") -> bool:
    h = float(ps.info.get("spacing", 1.0))
    q = ps.X / h
    return bool(np.all(np.abs(q - np.round(q)) <= 1e-9) and np.all(ps.X >= -1e-12))


def _poisson(ps: "PointSet") -> bool:
    from hmin.sims.geometry import min_pairwise_distance

    r = float(ps.info.get("radius", 0.0))
    return bool(np.all((ps.X >= 0.0) & (ps.X <= 1.0)) and float(min_pairwise_distance(ps.X).h_min) >= r * (1 - 1e-12))


#: domain name -> the test that a `PointSet` lies in it (what a generator's ``domain`` claims); "" and
#: "mixture" (all of R^d) claim nothing
DOMAINS = {
    "": lambda ps: True,
    "mixture": lambda ps: True,
    "cube": _in_cube,
    "ball": _in_ball,
    "sphere": lambda ps: _on_sphere(ps.X),
    "lattice": _on_lattice,
    "poisson": _poisson,
}


def in_domain(points: PointSet) -> bool:
    """Whether the points lie in the domain their ``domain`` field claims (`DOMAINS`).

    Example:
        >>> import jax
        >>> ps = uniform_sphere(5, 3, key=jax.random.PRNGKey(0))
        >>> in_domain(ps), in_domain(planted_pair(ps, 1e-3))
        (True, True)
    """
    if points.domain not in DOMAINS:
        raise InputError(f"unknown domain {points.domain!r}; known: {sorted(DOMAINS)}")
    return DOMAINS[points.domain](points)


def _keep_claim(base: PointSet, moved: PointSet, how: str) -> PointSet:
    """``moved`` with the base's domain claim when it still holds, else with no claim (and why in info)."""
    if in_domain(moved):
        return moved
    info = dict(moved.info)
    info["domain_dropped"] = f"{base.domain!r}: {how}"
    return dataclasses.replace(moved, domain="", pi_max=None, pi_bar=None, info=info)


def planted_pair(points: PointSet | np.ndarray, eps: float, *, i: int = 0, j: int | None = None) -> PointSet:
    """Move one point so that the pair (i, j) is at distance exactly ``eps``; nothing else changes.

    Point j (default: i's nearest neighbour) moves towards x_i until ||x_i - x_j|| = eps (Euclidean).
    On the unit sphere (``domain="sphere"``, or unit-norm points given as an array) it moves along the
    great circle through x_i and x_j, to x_i cos(phi) + t sin(phi) with t the unit tangent at x_i towards
    x_j and phi = 2 arcsin(eps/2), so the moved point stays on the sphere (norm 1 up to round-off) and the
    chord is eps. Elsewhere it moves along the segment, to x_i + eps (x_j - x_i)/||x_j - x_i|| (inside a
    convex domain: cube, ball). The pair is then the unique closest pair provided eps < h_min(base) / 2
    (every other distance from the moved point is >= h_base - eps > eps); otherwise an InputError says so.
    The result claims the base's ``domain`` only where it still holds (`in_domain`; a lattice or a
    Poisson-disk set does not stay one); otherwise ``domain`` is "" and ``info["domain_dropped"]`` says why.
    """
    X0 = points.X if isinstance(points, PointSet) else _np(points)
    X = X0.copy()
    n = X.shape[0]
    if not (0 <= i < n):
        raise InputError(f"pair index i = {i} out of range for N = {n}")
    if not (eps > 0 and np.isfinite(eps)):
        raise InputError(f"planted distance eps must be positive and finite, got {eps}")
    if j is None:
        j = _nearest_other(X, i)
    if j == i or not (0 <= j < n):
        raise InputError(f"pair index j = {j} invalid for i = {i}, N = {n}")

    h_base = float(min_pairwise_distance(X0).h_min)
    if eps >= h_base / 2:
        raise InputError(f"planted distance eps = {eps:g} must be < h_min(base)/2 = {h_base / 2:g} "
                         "for the pair to be the unique closest pair")
    sphere = (points.domain == "sphere") if isinstance(points, PointSet) else _on_sphere(X0)
    if sphere:
        xi = X[i] / np.linalg.norm(X[i])
        t = X[j] - (X[j] @ xi) * xi      # the tangent at x_i towards x_j
        t /= np.linalg.norm(t)
        phi = 2.0 * np.arcsin(eps / 2.0)
        X[j] = np.cos(phi) * xi + np.sin(phi) * t
    else:
        u = X[j] - X[i]
        u /= np.linalg.norm(u)
        X[j] = X[i] + eps * u
    info = dict(getattr(points, "info", {}) or {})
    info.update({"pair": (int(i), int(j)), "eps": float(eps), "h_min_base": h_base})
    base = points if isinstance(points, PointSet) else PointSet(X0, domain="sphere" if sphere else "")
    return _keep_claim(base, dataclasses.replace(base, X=X, info=info), "a planted pair moves a point off it")


@uses_float64
def planted_cluster(points: PointSet | np.ndarray, i: int, size: int, H: float, *, key) -> PointSet:
    """Move ``size`` points (i's nearest neighbours) uniformly into the ball of radius H around x_i.

    The moved indices form the cluster D_{i,H} of T4 (all within distance H of x_i). The result claims
    the base's ``domain`` only where the moved points still lie in it (`in_domain`); otherwise ``domain``
    is "" and ``info["domain_dropped"]`` says why (the ball around x_i leaves a sphere, and may leave a cube).
    """
    X = (points.X if isinstance(points, PointSet) else _np(points)).copy()
    n, d = X.shape
    if not (1 <= size < n):
        raise InputError(f"cluster size must be in [1, N-1] = [1, {n - 1}], got {size}")
    if not (H > 0 and np.isfinite(H)):
        raise InputError(f"cluster radius H must be positive and finite, got {H}")
    dist = np.linalg.norm(X - X[i], axis=1)
    dist[i] = np.inf
    members = np.argsort(dist, kind="stable")[:size]
    ball = uniform_ball(max(size, 2), d, key=key, radius=H).X[:size]
    X[members] = X[i] + ball
    info = dict(getattr(points, "info", {}) or {})
    info.update({"cluster_center": int(i), "cluster": members.astype(int).tolist(), "H": float(H)})
    base = points if isinstance(points, PointSet) else PointSet(X)
    return _keep_claim(base, dataclasses.replace(base, X=X, info=info), "the cluster's ball around x_i leaves it")


def smooth_function(X: np.ndarray) -> np.ndarray:
    """A fixed smooth target: sin(pi <a, x>) + 0.5 cos(2 pi <b, x>) with fixed unit a, b."""
    d = X.shape[1]
    a = np.ones(d) / np.sqrt(d)
    b = np.cos(np.arange(1, d + 1))
    b /= np.linalg.norm(b)
    return np.sin(np.pi * X @ a) + 0.5 * np.cos(2 * np.pi * X @ b)


@uses_float64
def make_targets(X: np.ndarray, mode: LabelMode, *, key, k: int = 1, pair: tuple[int, int] | None = None) -> np.ndarray:
    """Targets Y of shape (N, k) for the three label modes of T6 (docs/statements.md).

    - ``"random"``: i.i.d. N(0, 1) labels, independent of X (a close pair gets unrelated labels);
    - ``"smooth"``: a fixed smooth function of x (close points get close labels);
    - ``"equal"``: random labels, except that the planted pair (i, j) gets equal labels y_j = y_i.
    """
    X = _np(X)
    n = X.shape[0]
    if mode == "random":
        Y = _np(jax.random.normal(key, (n, k), dtype=np.float64))
    elif mode == "smooth":
        Y = np.repeat(smooth_function(X)[:, None], k, axis=1)
    elif mode == "equal":
        if pair is None:
            raise InputError("label mode 'equal' needs the planted pair (i, j)")
        Y = _np(jax.random.normal(key, (n, k), dtype=np.float64))
        i, j = pair
        Y[j] = Y[i]
    else:
        raise InputError(f"unknown label mode {mode!r}; choose from 'random', 'smooth', 'equal'")
    return Y
