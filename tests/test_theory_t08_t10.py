"""T8 (non-degeneracy), T9 (approximation vs fill distance), T10 (greedy certificate)."""

import itertools
import math

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import qmc

from hmin.theory import Role, Status, TheoryInputError
from hmin.theory import t08_nondegeneracy as t8
from hmin.theory import t09_approximation as t9
from hmin.theory import t10_greedy as t10

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
    refuted = (Role.CONTROL, Role.REFUTED_DRAFT)  # negative controls, and T8's refuted first draft
    bad = [r.claim for r in res if r.status is not (Status.DISPROVED if r.role in refuted else Status.PROVED)]
    assert res and not bad, bad
    literal = [r for r in res if r.role is Role.REFUTED_DRAFT]
    assert len(literal) == 1 and literal[0].claim.startswith(t8.DRAFT_T8) and "rank J = min(N k, P)" in literal[0].claim
    w = literal[0].witness
    assert (w["N_k"], w["P"], w["so_m_dim"], w["rank_bound"], w["literal_min"]) == (8.0, 8.0, 1.0, 7.0, 8.0)
    assert literal[0].margin == -1.0
    assert "P_eff = P - m(m-1)/2" in t8.STATEMENT.text and "Refuted draft" in t8.STATEMENT.text


def test_symmetry_predictors():
    assert t8.effective_param_count(8, 2) == 7 and t8.effective_param_count(100, 4) == 94
    assert t8.symmetry_rank_bound(8, 1, 8, 2) == 7 < t8.expected_rank(8, 8)
    assert t8.symmetry_rank_bound(3, 2, 100, 4) == 6 == t8.expected_rank(6, 100)  # N k small: no change
    assert t8.expected_rank(8, 8) == 8  # the first draft's prediction, unchanged
    for bad in ((3, 2), (0, 1), (8.5, 2), (8, 0)):
        with pytest.raises(TheoryInputError):
            t8.effective_param_count(*bad)
    with pytest.raises(TheoryInputError):
        t8.symmetry_rank_bound(0, 1, 8, 2)


def test_stream_symmetry_symbolic_and_false_variants():
    import sympy as sp

    res = {r.claim: r for r in t8.symbolic_checks()}  # cached: the true claims, as run by run_symbolic
    assert next(r for c, r in res.items() if c.startswith("tau_eps(Q z) = Q tau_eps(z)")).status is Status.PROVED
    assert next(r for c, r in res.items() if "f is invariant under" in c).status is Status.PROVED
    assert next(r for c, r in res.items() if "in the kernel of J" in c).status is Status.PROVED
    wrong = t8.check_tau_equivariance(lambda Q, z: Q * z, what="Q z")
    assert wrong.status is Status.DISPROVED and wrong.margin < 0
    # a wrong action (U rotated the other way) is refuted at an exact rational point
    bad_action = lambda th, Q: {"W_in": Q * th["W_in"], "U": Q.T * th["U"], "V": Q * th["V"], "w": Q * th["w"]}  # noqa: E731
    r = t8.check_stream_invariance(bad_action, sigma=sp.tanh, what="U -> Q^T U")
    assert r.status is Status.DISPROVED and r.margin < 0 and set(r.witness) >= {"phi", "x"}


def _residual_np(p, X, eps=1.0):
    """numpy twin of sims.models.residual (row storage), independent of sympy."""
    tau = lambda z: z / np.sqrt(np.sum(z * z, axis=-1, keepdims=True) + eps**2)  # noqa: E731
    z = X @ p["W_in"] / np.sqrt(X.shape[1])
    L, h = p["U"].shape[0], p["U"].shape[2]
    for U, V in zip(p["U"], p["V"]):
        z = z + (np.tanh(tau(z) @ U) @ V / np.sqrt(h)) / L
    return tau(z) @ p["w"]


def test_stream_symmetry_numerically():
    # numpy: f(W_in Q^T, Q U_l, V_l Q^T, Q w) = f for a random orthogonal Q (row storage), the generators are in
    # the kernel of J (central differences), and a non-generator direction is not
    rng = np.random.default_rng(5)
    d, m, h, L, k, N = 3, 4, 5, 2, 2, 7
    p = {"W_in": rng.standard_normal((d, m)), "U": rng.standard_normal((L, m, h)), "V": rng.standard_normal((L, h, m)),
         "w": rng.standard_normal((m, k))}
    X = rng.random((N, d))
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    pq = {"W_in": p["W_in"] @ Q.T, "U": np.einsum("ab,lbc->lac", Q, p["U"]), "V": p["V"] @ Q.T, "w": Q @ p["w"]}
    f0 = _residual_np(p, X)
    np.testing.assert_allclose(_residual_np(pq, X), f0, rtol=0, atol=1e-12)
    s = 1e-5
    for i, j in ((0, 1), (1, 3)):
        A = np.zeros((m, m))
        A[i, j], A[j, i] = -1.0, 1.0
        v = {"W_in": p["W_in"] @ A.T, "U": np.einsum("ab,lbc->lac", A, p["U"]), "V": p["V"] @ A.T, "w": A @ p["w"]}
        dd = (_residual_np({n: p[n] + s * v[n] for n in p}, X) - _residual_np({n: p[n] - s * v[n] for n in p}, X)) / (2 * s)
        assert np.max(np.abs(dd)) < 1e-8
    S = A + np.eye(m)  # not skew: a generic direction moves f
    v = {"W_in": p["W_in"] @ S.T, "U": np.einsum("ab,lbc->lac", S, p["U"]), "V": p["V"] @ S.T, "w": S @ p["w"]}
    dd = (_residual_np({n: p[n] + s * v[n] for n in p}, X) - _residual_np({n: p[n] - s * v[n] for n in p}, X)) / (2 * s)
    assert np.max(np.abs(dd)) > 1e-3


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
    assert all(r.status is (Status.DISPROVED if r.role is Role.CONTROL else Status.PROVED) for r in res)
    assert math.isfinite(res[1].margin) and res[1].margin >= 0  # the brute-force cross-check of OPT_k <= 2 r_k
