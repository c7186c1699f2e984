"""T6: the linearised loss curve against explicit matrix powers, and time-to-eps against a scan."""

import math

import numpy as np
import pytest

from hmin.theory import Status, TheoryInputError
from hmin.theory import t06_linearised as t6


def _random_psd(rng, m, scale=1.0):
    A = rng.standard_normal((m, m))
    return scale * (A @ A.T) / m


def _power_iteration_losses(G, r0, eta, n, T):
    A = np.eye(len(r0)) - eta * G / n
    r, out = r0.copy(), []
    for _ in range(T + 1):
        out.append(r @ r / (2 * n))
        r = A @ r
    return np.array(out)


def test_linearised_loss_matches_explicit_matrix_powers():
    rng = np.random.default_rng(0)
    for m, eta in ((4, 0.7), (7, 1.9), (5, 3.5)):  # the last one diverges in some directions
        G = _random_psd(rng, m, scale=2.0)
        r0 = rng.standard_normal(m)
        lam, proj = t6.eig_projections(G, r0)
        ts = np.arange(40)
        np.testing.assert_allclose(t6.linearised_loss(lam, proj, eta, m, ts), _power_iteration_losses(G, r0, eta, m, 39),
                                   rtol=1e-9, atol=1e-300)
        rt = np.linalg.matrix_power(np.eye(m) - eta * G / m, 7) @ r0
        np.testing.assert_allclose(t6.linearised_residual(G, r0, eta, m, 7), rt, rtol=1e-9, atol=1e-12)


def test_linearised_loss_keeps_signature_and_shape():
    out = t6.linearised_loss([1.0, 2.0], [1.0, -1.0], 0.5, 2, np.array([[0, 1], [2, 3]]))
    assert out.shape == (2, 2) and out.dtype == np.float64
    assert float(t6.linearised_loss([1.0, 2.0], [1.0, -1.0], 0.5, 2, 0)) == pytest.approx(0.5)


def _scan(lam, proj, eta, n, eps, max_steps):
    with np.errstate(over="ignore"):  # divergent directions overflow to inf
        L = t6.linearised_loss(lam, proj, eta, n, np.arange(max_steps + 1))
    hit = np.nonzero(L <= eps * L[0])[0]
    return float(hit[0]) if hit.size else math.inf


@pytest.mark.parametrize("eta", [0.3, 1.0, 2.2, 4.0])
def test_steps_to_eps_equals_a_brute_force_scan(eta):
    rng = np.random.default_rng(int(eta * 10))
    for _ in range(20):
        lam = rng.random(4) * 3.0
        proj = rng.standard_normal(4)
        eps = float(10 ** rng.uniform(-4, -0.2))
        assert t6.steps_to_eps_linearised(lam, proj, eta, 3, eps, 400) == _scan(lam, proj, eta, 3, eps, 400)


def test_steps_to_eps_edge_cases():
    assert t6.steps_to_eps_linearised([0.0, 1.0], [1.0, 1.0], 1.0, 1, 0.1, 1000) == math.inf  # a frozen direction
    assert t6.steps_to_eps_linearised([1.0], [1.0], 1.0, 2, 1.0, 10) == 0.0
    assert t6.steps_to_eps_linearised([1.0], [0.0], 1.0, 2, 0.1, 10) == 0.0
    assert t6.steps_to_eps_linearised([1.0], [1.0], 1.0, 1, 0.1, 10) == 1.0  # eta lambda / N = 1: gone in one step
    assert t6.steps_to_eps_linearised([10.0], [1.0], 1.0, 1, 0.1, 50) == math.inf  # |1 - 10| > 1: diverges
    with pytest.raises(TheoryInputError):
        t6.steps_to_eps_linearised([1.0, 2.0], [1.0], 1.0, 1, 0.1, 10)
    with pytest.raises(TheoryInputError):
        t6.steps_to_eps_linearised([1.0], [1.0], 1.0, 1, 0.1, -1)


def test_pair_direction_weight_and_label_modes():
    r = np.array([[0.5, 0.5, 1.0], [1.0, -1.0, 0.0]])
    np.testing.assert_allclose(t6.pair_direction_weight(r, 0, 1), [0.0, 2.0])
    with pytest.raises(TheoryInputError):
        t6.pair_direction_weight(r, 1, 1)
    with pytest.raises(TheoryInputError):
        t6.pair_direction_weight(r, 0, 3)


def test_close_pair_slows_only_when_labels_differ():
    # two nearly equal gradients (a close pair) plus two far points; r0 = -y (zero predictions)
    rng = np.random.default_rng(1)
    g = rng.standard_normal((4, 6))
    g[1] = g[0] + 1e-3 * rng.standard_normal(6)
    G = g @ g.T
    n, eta = 4, 0.5 * 4 / np.linalg.eigvalsh(G)[-1]
    times = {}
    for mode, y in {"differ": np.array([1.0, -1.0, 0.3, -0.2]), "equal": np.array([1.0, 1.0, 0.3, -0.2])}.items():
        lam, proj = t6.eig_projections(G, -y)
        times[mode] = t6.steps_to_eps_linearised(lam, proj, eta, n, 1e-3, 10**9)
        w = float(t6.pair_direction_weight(-y, 0, 1))
        lb = float(t6.steps_lower_bound_from_pair(lam[0], proj[0] ** 2, float(-y @ -y) / (2 * n), eta, n, 1e-3))
        assert lb <= times[mode]
        if mode == "equal":
            assert w == 0.0
    assert times["differ"] > 1000 * times["equal"]


def test_lower_bound_from_pair_never_exceeds_the_exact_time():
    rng = np.random.default_rng(2)
    for _ in range(30):
        G = _random_psd(rng, 5)
        r0 = rng.standard_normal(5)
        lam, proj = t6.eig_projections(G, r0)
        eta, eps = 0.9 * 5 / lam[-1], 1e-3
        exact = t6.steps_to_eps_linearised(lam, proj, eta, 5, eps, 10**7)
        lb = float(t6.steps_lower_bound_from_pair(lam[0], proj[0] ** 2, float(r0 @ r0) / 10, eta, 5, eps))
        assert lb <= exact


def test_t6_symbolic_checks():
    res = t6.symbolic_checks()
    assert res and all(r.status is Status.PROVED for r in res), [r.claim for r in res if r.status is not Status.PROVED]
