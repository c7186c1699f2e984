"""The fill distance (covering radius) by probes, local ascent and branch and bound; the mesh ratio."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from hmin.sims.errors import InputError
from hmin.sims.geometry._common import FillResult
from hmin.sims.geometry._distances import separation_distance
from hmin.sims.geometry._neighbours import _NNIndex
from hmin.sims.geometry._points import validate_points
from hmin.sims.precision import uses_float64


class _Domain:
    """A sampling domain: cube [lo, hi], ball (center, R) or sphere (center, R), or a sampler."""

    def __init__(self, kind, X, bounds, sampler=None):
        self.kind = kind
        self.sampler = sampler
        d = X.shape[1]
        if kind == "cube":
            if bounds is None:
                lo, hi = X.min(axis=0), X.max(axis=0)
            else:
                lo = np.broadcast_to(np.asarray(bounds[0], dtype=float), (d,)).copy()
                hi = np.broadcast_to(np.asarray(bounds[1], dtype=float), (d,)).copy()
            if np.any(hi < lo):
                raise InputError("cube bounds must satisfy lo <= hi")
            self.lo, self.hi = lo, hi
            self.desc = (
                "cube = bounding box of the points" if bounds is None else "cube [lo, hi] as given"
            )
        elif kind in ("ball", "sphere"):
            if bounds is None:
                center = np.zeros(d)
                norms = np.linalg.norm(X - center, axis=1)
                R = float(norms.max() if kind == "ball" else np.median(norms))
                self.desc = (
                    f"{kind} centred at the origin, radius {R:.6g} = "
                    + ("max ||x_i||" if kind == "ball" else "median ||x_i||")
                )
            else:
                center = np.broadcast_to(np.asarray(bounds[0], dtype=float), (d,)).copy()
                R = float(bounds[1])
                self.desc = f"{kind} with the given centre and radius {R:.6g}"
            if not R > 0:
                raise InputError(f"{kind} radius must be > 0, got {R}")
            self.center, self.R = center, R
            self.lo, self.hi = center - R, center + R
        elif kind == "callable":
            self.desc = "a user-supplied sampler"
            self.lo = self.hi = None
        else:
            raise InputError(f"unknown domain {kind!r}; expected cube, ball, sphere or a sampler")
        self.d = d

    def sample(self, n, rng):
        d = self.d
        if self.kind == "cube":
            return self.lo + (self.hi - self.lo) * rng.random((n, d))
        if self.kind in ("ball", "sphere"):
            g = rng.standard_normal((n, d))
            g /= np.linalg.norm(g, axis=1, keepdims=True)
            if self.kind == "ball":
                g *= rng.random((n, 1)) ** (1.0 / d)
            return self.center + self.R * g
        P = np.asarray(self.sampler(n, rng), dtype=np.float64)
        if P.shape != (n, d):
            raise InputError(f"sampler returned shape {P.shape}, expected {(n, d)}")
        return P

    @property
    def can_project(self):
        return self.kind != "callable"

    def project(self, P):
        if self.kind == "cube":
            return np.clip(P, self.lo, self.hi)
        v = P - self.center
        r = np.linalg.norm(v, axis=1, keepdims=True)
        r = np.where(r == 0, 1.0, r)
        if self.kind == "sphere":
            return self.center + self.R * v / r
        return self.center + v * np.minimum(1.0, self.R / r)

    def cell_may_meet(self, C, half_diag):
        """Whether cells with centres C and half-diagonal ``half_diag`` may meet the domain."""
        if self.kind == "cube":
            return np.ones(len(C), dtype=bool)
        r = np.linalg.norm(C - self.center, axis=1)
        if self.kind == "ball":
            return r <= self.R + half_diag
        return np.abs(r - self.R) <= half_diag


def _branch_and_bound(dom: _Domain, nn: _NNIndex, lb: float, lb_point, *, budget: int, rtol: float):
    """Guaranteed bracket of h_fill in low d: cells of half-diagonal r with centre value g give
    sup over the cell <= dist(g, X) + r; cells that cannot beat the lower bound are dropped, the
    rest are split in 2^d.  Lower bound: the value at each centre projected into the domain."""
    d = dom.d
    width = dom.hi - dom.lo
    width = np.maximum(width, 0.0)  # a flat axis (points on a hyperplane) has zero width
    m0 = max(2, int(round((min(budget, 20000)) ** (1.0 / d) / 2)))
    grids = [dom.lo[k] + (np.arange(m0 if width[k] > 0 else 1) + 0.5) * width[k] / m0 for k in range(d)]
    C = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, d)
    w = width / m0
    used = 0
    ub = math.inf
    for _ in range(60):
        half = 0.5 * float(np.sqrt(np.sum(w**2)))
        C = C[dom.cell_may_meet(C, half)]
        if len(C) == 0:
            ub = lb
            break
        g = nn.query(C)[0]
        Pin = dom.project(C)
        gin = nn.query(Pin)[0] if dom.kind != "cube" else g
        used += len(C) * (2 if dom.kind != "cube" else 1)
        k = int(np.argmax(gin))
        if gin[k] > lb:
            lb, lb_point = float(gin[k]), Pin[k].copy()
        cell_ub = g + half
        ub = max(lb, float(cell_ub.max()))
        if ub - lb <= rtol * max(lb, 1e-300) or half == 0.0:
            break
        keep = cell_ub > lb
        C = C[keep]
        if used + len(C) * 2 ** int(np.sum(w > 0)) > budget:
            break
        # split along the axes of positive width only (a flat axis stays one cell thick)
        offs = np.stack(
            np.meshgrid(*[[-0.25, 0.25] if wk > 0 else [0.0] for wk in w], indexing="ij"), axis=-1
        ).reshape(-1, d)
        C = (C[:, None, :] + offs[None, :, :] * w[None, None, :]).reshape(-1, d)
        w = w / 2
    return lb, lb_point, ub


@uses_float64
def fill_distance(
    X: Any,
    *,
    domain: str | Callable = "cube",
    n_probe: int = 10000,
    seed: int = 0,
    bounds=None,
    ascent_steps: int = 60,
    bnb_max_dim: int = 3,
    bnb_budget: int = 400_000,
    rtol: float = 1e-3,
) -> FillResult:
    """Fill distance h_fill = sup_{x in domain} min_i ||x - x_i|| (a lower estimate + error bar).

    Random probes give a lower bound (the largest nearest-point distance seen); a short local
    ascent (a (1+1) evolution strategy projected into the domain) from the 16 best probes
    improves it.  For d <= ``bnb_max_dim`` and cube/ball/sphere domains a branch-and-bound over
    grid cells also gives a guaranteed upper bound, so ``[estimate, upper_bound]`` brackets the
    truth (``rigorous = True``, ``stderr_or_gap = upper_bound - estimate``).  Otherwise the error
    bar is heuristic (see ``FillResult.stderr_or_gap``); in high d, random probes see little of the
    domain and the estimate can be far below the truth.

    Args:
        X: (N, d) points.
        domain: ``"cube"`` (default: the bounding box of X, or ``bounds=(lo, hi)``), ``"ball"``
            or ``"sphere"`` (``bounds=(center, radius)``; default centre 0 and radius max ||x_i||
            for the ball, median ||x_i|| for the sphere), or a callable ``sampler(n, rng)``
            returning (n, d) points of the domain.
        n_probe: number of random probes.
        seed: seed of the probes.
        bounds: see ``domain``.
        ascent_steps: iterations of the local ascent (0 turns it off).
        bnb_max_dim: the largest d for which the branch-and-bound bracket is computed.
        bnb_budget: the most nearest-neighbour queries the bracket may use.
        rtol: the bracket stops when (upper - lower) <= rtol * lower.

    Returns:
        FillResult.

    Example:
        >>> r = fill_distance([[0., 0], [1, 0], [0, 1], [1, 1]])
        >>> round(r.estimate, 6), r.rigorous, r.upper_bound - r.estimate <= 1e-3 * r.estimate
        (0.707107, True, True)
    """
    A = validate_points(X, min_n=1, allow_duplicates=True, copy=False)
    n, d = A.shape
    if n_probe < 2:
        raise InputError(f"n_probe must be >= 2, got {n_probe}")
    dom = _Domain("callable", A, bounds, domain) if callable(domain) else _Domain(domain, A, bounds)
    rng = np.random.default_rng(seed)
    P = dom.sample(int(n_probe), rng)
    nn = _NNIndex(A)
    g = nn.query(P)[0]
    half = len(g) // 2
    f_all = float(g.max())
    f_half = float(g[:half].max())
    k = int(np.argmax(g))
    est, arg = f_all, P[k].copy()
    # local ascent from the best probes
    # at most ~n_probe extra queries (16 per step), so a huge high-d set is not queried 10x over
    ascent_steps = min(int(ascent_steps), max(1, int(n_probe) // 16))
    if ascent_steps > 0 and dom.can_project:
        top = np.argsort(g)[::-1][:16]
        Y, gy = P[top].copy(), g[top].copy()
        sigma = np.full(len(Y), max(f_all, 1e-12) * 0.3)
        for _ in range(int(ascent_steps)):
            Z = dom.project(Y + sigma[:, None] * rng.standard_normal(Y.shape))
            gz = nn.query(Z)[0]
            up = gz > gy
            Y[up], gy[up] = Z[up], gz[up]
            sigma = np.where(up, sigma * 1.5, sigma * 0.8)
        kk = int(np.argmax(gy))
        if gy[kk] > est:
            est, arg = float(gy[kk]), Y[kk].copy()
    if d <= bnb_max_dim and dom.can_project:
        est, arg, ub = _branch_and_bound(dom, nn, est, arg, budget=bnb_budget, rtol=rtol)
        return FillResult(est, max(ub - est, 0.0), int(n_probe), arg, ub, True, dom.desc)
    # heuristic gap: how much the running maximum still grew over the second half of the probes,
    # or what the local ascent gained over the best probe, whichever is larger
    gap = max(f_all - f_half, est - f_all, 0.0)
    return FillResult(est, gap, int(n_probe), arg, None, False, dom.desc)


@uses_float64
def mesh_ratio(X: Any, **fill_kwargs) -> float:
    """Mesh ratio h_fill / q_X with q_X = h_min / 2 (inf when h_min = 0).

    Uses ``fill_distance(...).estimate``, a lower bound on h_fill, so this is a lower estimate.
    """
    q = separation_distance(X)
    f = fill_distance(X, **fill_kwargs).estimate
    return math.inf if q == 0 else f / q
