"""Data generators: controlled h_min, densities, determinism, bad input."""

import dataclasses

import jax
import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.special import gamma

from hmin.sims import data
from hmin.sims.errors import InputError


def test_planted_pair_sets_hmin_exactly_and_moves_one_point():
    base = data.uniform_cube(30, 3, key=jax.random.PRNGKey(0))
    for eps in [1e-7, 1e-4, 1e-2]:
        pp = data.planted_pair(base, eps)
        i, j = pp.info["pair"]
        assert np.linalg.norm(pp.X[i] - pp.X[j]) == pytest.approx(eps, rel=1e-8)
        assert pdist(pp.X).min() == pytest.approx(eps, rel=1e-8)
        moved = np.nonzero(np.any(pp.X != base.X, axis=1))[0]
        assert moved.tolist() == [j]


def test_planted_pair_refuses_ambiguous_eps():
    base = data.lattice(3, 2)
    with pytest.raises(InputError, match="unique closest pair"):
        data.planted_pair(base, 0.3)


def test_planted_cluster_radius():
    base = data.uniform_cube(40, 2, key=jax.random.PRNGKey(1))
    pc = data.planted_cluster(base, 5, 6, 1e-3, key=jax.random.PRNGKey(2))
    members = pc.info["cluster"]
    assert len(members) == 6 and 5 not in members
    assert np.all(np.linalg.norm(pc.X[members] - pc.X[5], axis=1) <= 1e-3)


def test_generators_deterministic_and_in_domain():
    k = jax.random.PRNGKey(3)
    a, b = data.uniform_ball(200, 3, key=k), data.uniform_ball(200, 3, key=k)
    np.testing.assert_array_equal(a.X, b.X)
    assert np.all(np.linalg.norm(a.X, axis=1) <= 1)
    assert a.pi_max == pytest.approx(1 / (np.pi ** 1.5 / gamma(2.5)))
    s = data.uniform_sphere(50, 4, key=k)
    np.testing.assert_allclose(np.linalg.norm(s.X, axis=1), 1.0)
    c = data.uniform_cube(50, 2, key=k, side=2.0)
    assert np.all((c.X >= 0) & (c.X <= 2)) and c.pi_max == 0.25


def test_ball_radius_distribution():
    """Uniform in the d-ball: P(|x| <= r) = r^d (KS test against the exact CDF)."""
    from scipy import stats

    X = data.uniform_ball(4000, 3, key=jax.random.PRNGKey(4)).X
    assert stats.kstest(np.linalg.norm(X, axis=1) ** 3, "uniform").pvalue > 1e-3


def test_mixture_pi_max_bounds_density():
    pm = data.gaussian_mixture(10, 2, key=jax.random.PRNGKey(5), n_components=3, sigma=0.2)
    m, w = pm.info["means"], pm.info["weights"]
    grid = np.stack(np.meshgrid(np.linspace(-1.5, 1.5, 121), np.linspace(-1.5, 1.5, 121)), -1).reshape(-1, 2)
    dens = sum(wc * np.exp(-np.sum((grid - mc) ** 2, 1) / (2 * 0.04)) / (2 * np.pi * 0.04) for wc, mc in zip(w, m))
    assert dens.max() <= pm.pi_max * (1 + 1e-12)


def test_lattice_hmin_and_poisson_disk_radius():
    L = data.lattice(5, 2)
    assert pdist(L.X).min() == pytest.approx(0.25)
    P = data.poisson_disk(20, 2, radius=0.1, seed=0)
    assert pdist(P.X).min() >= 0.1 - 1e-12
    with pytest.raises(InputError, match="fit"):
        data.poisson_disk(10000, 2, radius=0.2, seed=0)


def test_targets_modes():
    X = data.uniform_cube(10, 2, key=jax.random.PRNGKey(6)).X
    Ye = data.make_targets(X, "equal", key=jax.random.PRNGKey(7), pair=(2, 5))
    assert Ye[2, 0] == Ye[5, 0]
    Ys = data.make_targets(X, "smooth", key=jax.random.PRNGKey(7))
    np.testing.assert_array_equal(Ys, data.make_targets(X, "smooth", key=jax.random.PRNGKey(8)))
    with pytest.raises(InputError, match="label mode"):
        data.make_targets(X, "noisy", key=jax.random.PRNGKey(0))
    with pytest.raises(InputError, match="pair"):
        data.make_targets(X, "equal", key=jax.random.PRNGKey(0))


@pytest.mark.parametrize("n,d", [(1, 2), (0, 2), (5, 0)])
def test_bad_sizes(n, d):
    with pytest.raises(InputError):
        data.uniform_cube(n, d, key=jax.random.PRNGKey(0))


# every generator of sims.data, called on small sizes; the modifiers (planted_pair, planted_cluster) are
# applied to every base generator below. A generator added to sims.data must be added here (checked).
_K = jax.random.PRNGKey(11)
_BASES = {
    "uniform_cube": lambda: data.uniform_cube(30, 3, key=_K, side=2.0),
    "uniform_ball": lambda: data.uniform_ball(30, 3, key=_K, radius=0.5),
    "uniform_sphere": lambda: data.uniform_sphere(30, 3, key=_K),
    "gaussian_mixture": lambda: data.gaussian_mixture(30, 3, key=_K),
    "lattice": lambda: data.lattice(4, 2),
    "poisson_disk": lambda: data.poisson_disk(20, 2, radius=0.1),
}
_MODIFIERS = {
    "planted_pair": lambda ps: data.planted_pair(ps, min(1e-3, 0.1 * pdist(ps.X).min())),
    "planted_cluster": lambda ps: data.planted_cluster(ps, 0, 3, 0.05, key=jax.random.PRNGKey(5)),
}


def test_every_generator_is_covered_by_the_domain_test():
    gens = {n for n in data.__all__ if callable(getattr(data, n))
            and getattr(getattr(data, n), "__annotations__", {}).get("return") in ("PointSet", data.PointSet)}
    assert gens == set(_BASES) | set(_MODIFIERS)


@pytest.mark.parametrize("base", list(_BASES))
@pytest.mark.parametrize("modifier", [None, *_MODIFIERS])
def test_every_generator_keeps_its_domain_claim(base, modifier):
    """What a PointSet's ``domain`` claims is true (`data.in_domain`), after planting a pair or a cluster too;
    a modifier that breaks the claim drops it and says why."""
    ps = _BASES[base]()
    assert ps.domain and data.in_domain(ps)
    if modifier is None:
        return
    out = _MODIFIERS[modifier](ps)
    assert data.in_domain(out), (base, modifier, out.domain)
    if out.domain != ps.domain:
        assert out.domain == "" and "domain_dropped" in out.info and out.pi_max is None


def test_planted_pair_on_the_sphere_is_geodesic():
    base = data.uniform_sphere(20, 5, key=jax.random.PRNGKey(4))
    for eps in (1e-9, 1e-4, 1e-2):
        pp = data.planted_pair(base, eps)
        i, j = pp.info["pair"]
        assert pp.domain == "sphere"
        np.testing.assert_allclose(np.linalg.norm(pp.X, axis=1), 1.0, rtol=0, atol=1e-15)
        assert np.linalg.norm(pp.X[i] - pp.X[j]) == pytest.approx(eps, rel=1e-7)
        # x_j moved within the plane of x_i and the old x_j (along the great circle)
        P = np.linalg.qr(np.stack([base.X[i], base.X[j]], axis=1))[0]
        assert np.linalg.norm(pp.X[j] - P @ (P.T @ pp.X[j])) < 1e-14
    # unit-norm points given as a bare array are planted on the sphere too
    arr = data.planted_pair(base.X, 1e-3)
    assert arr.domain == "sphere" and np.allclose(np.linalg.norm(arr.X, axis=1), 1.0, atol=1e-15)
    # the planted wrong answer: the old straight-line move leaves the sphere by O(eps h), and in_domain sees it
    bad = dataclasses.replace(pp, X=pp.X.copy())
    bad.X[j] = pp.X[i] + 1e-2 * (base.X[j] - base.X[i]) / np.linalg.norm(base.X[j] - base.X[i])
    assert not data.in_domain(bad)
