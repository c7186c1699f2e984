"""Data generators: controlled h_min, densities, determinism, bad input."""

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
