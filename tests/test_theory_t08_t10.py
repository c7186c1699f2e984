"""T8 (non-degeneracy), T9 (approximation vs fill distance), T10 (greedy certificate)."""

import itertools
import math

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import qmc

from theory import Status, TheoryInputError
from theory import t08_nondegeneracy as t8
from theory import t09_approximation as t9
from theory import t10_greedy as t10

# ---------------------------------------------------------------------------------------------- T8


def test_expected_rank():
    assert t8.expected_rank(10, 4) == 4 and t8.expected_rank(3, 40) == 3
    with pytest.raises(TheoryInputError):
        t8.expected_rank(0, 3)


def test_residual_block_det_numerically():
    # numpy: det(I + V diag(tanh'(U z)) U) is 1 at W = 0 and non-zero for random W
    rng = np.random.default_rng(0)
    for d in (2, 3, 8):
        z = rng.standard_normal(d)
        for scale in (0.0, 0.1, 1.0):
            U, V = scale * rng.standard_normal((d, d)), scale * rng.standard_normal((d, d))
            J = np.eye(d) + V @ np.diag(1 - np.tanh(U @ z) ** 2) @ U
            det = np.linalg.det(J)
            assert det == pytest.approx(1.0) if scale == 0.0 else abs(det) > 1e-8


def test_t8_symbolic_checks():
    res = t8.symbolic_checks()
    assert res and all(r.status is Status.PROVED for r in res), [r.claim for r in res if r.status is not Status.PROVED]


# ---------------------------------------------------------------------------------------------- T9


def test_monotone_violations():
    out = t9.monotone_violations([0.1, 0.2, 0.3], [1.0, 2.0, 1.5])
    assert out == {"n_pairs": 3.0, "n_violations": 1.0, "fraction": pytest.approx(1 / 3)}
    assert t9.monotone_violations([0.1, 0.2, 0.3], [1.0, 2.0, 1.9], rtol=0.1)["n_violations"] == 0.0
    assert t9.monotone_violations([0.1, 0.1], [1.0, 2.0])["fraction"] == 0.0  # ties are not comparable
    with pytest.raises(TheoryInputError):
        t9.monotone_violations([0.1, 0.2], [1.0])
    assert t9.predicted_error_trend() == 1


def test_interpolation_bounds_hold_on_random_node_sets():
    rng = np.random.default_rng(1)
    grid = np.linspace(0, 1, 4001)
    f = lambda t: np.sin(4 * t)  # noqa: E731  M = sup |f''| = 16
    for _ in range(50):
        n = int(rng.integers(3, 12))
        nodes = np.concatenate([[0.0], np.sort(rng.random(n - 2)), [1.0]])
        err = np.max(np.abs(f(grid) - np.interp(grid, nodes, f(nodes))))
        gaps = np.diff(nodes)
        h_fill = gaps.max() / 2  # farthest grid point from the nodes
        assert h_fill == pytest.approx(np.max(np.min(np.abs(grid[:, None] - nodes[None, :]), axis=1)), abs=2e-4)
        assert err <= float(t9.linear_interp_error_bound(h_fill, 16.0)) * (1 + 1e-9)
        assert err <= float(t9.error_bound_from_hmin_1d(gaps.min(), n, 16.0)) * (1 + 1e-9)
    lattice = np.linspace(0, 1, 9)
    assert float(t9.mesh_ratio(np.diff(lattice).max() / 2, np.diff(lattice).min())) == pytest.approx(1.0)
    with pytest.raises(TheoryInputError, match="h_min must be"):
        t9.error_bound_from_hmin_1d(0.5, 5, 1.0)


def test_t9_symbolic_checks():
    res = t9.symbolic_checks()
    assert res and all(r.status is Status.PROVED for r in res)


# ---------------------------------------------------------------------------------------------- T10


def _opt_independent(X, k):
    return max(pdist(X[list(s)]).min() for s in itertools.combinations(range(len(X)), k))


def test_greedy_certificate_on_random_pools():
    rng = np.random.default_rng(2)
    for _ in range(25):
        X = rng.random((9, 2))
        k = int(rng.integers(2, 6))
        idx, radii = t10.farthest_first(X, k, start=int(rng.integers(0, 9)))
        assert len(set(idx.tolist())) == k and np.all(np.diff(radii[1:]) <= 1e-15)
        hmin = qmc.geometric_discrepancy(X[idx], method="mindist")  # independent h_min oracle
        assert hmin == pytest.approx(radii[-1], rel=1e-12)
        opt = t10.opt_brute_force(X, k)
        assert opt == pytest.approx(_opt_independent(X, k), rel=1e-12)
        cert = t10.certificate(radii[-1])
        assert opt <= float(cert["opt_upper"]) * (1 + 1e-12)
        assert hmin / opt >= float(cert["ratio_lower"]) - 1e-12


def test_certificate_is_tight_and_exponents():
    X = np.array([[0.0], [1.0], [2.0]])
    _, radii = t10.farthest_first(X, 2, start=1)
    assert radii[-1] == 1.0 and t10.opt_brute_force(X, 2) == 2.0 == float(t10.certificate(radii[-1])["opt_upper"])
    assert t10.greedy_scaling_exponent(2) == -0.5 and t10.random_scaling_exponent(2) == -1.0


def test_greedy_h_min_scales_as_k_to_minus_1_over_d():
    rng = np.random.default_rng(3)
    pool = rng.random((4000, 2))
    ks = np.array([16, 32, 64, 128, 256])
    _, radii = t10.farthest_first(pool, int(ks.max()))
    slope = np.polyfit(np.log(ks), np.log(radii[ks - 1]), 1)[0]
    assert slope == pytest.approx(t10.greedy_scaling_exponent(2), abs=0.1)


def test_t10_bad_input_and_checks():
    with pytest.raises(TheoryInputError):
        t10.farthest_first(np.zeros((3, 2)), 4)
    with pytest.raises(TheoryInputError):
        t10.farthest_first(np.zeros(3), 2)
    with pytest.raises(TheoryInputError, match="brute force"):
        t10.opt_brute_force(np.zeros((60, 1)), 10)
    assert t10.check_t10_factor(2).status is Status.PROVED
    assert t10.check_t10_factor(2.5).status is Status.PROVED
    wrong = t10.check_t10_factor(1.5)
    assert wrong.status is Status.DISPROVED and wrong.margin == pytest.approx(-0.5)
    res = t10.symbolic_checks()
    assert all(r.status is (Status.DISPROVED if r.claim.startswith("[false") else Status.PROVED) for r in res)
    assert math.isfinite(res[1].margin) and res[1].margin >= 0  # the brute-force cross-check of OPT_k <= 2 r_k
