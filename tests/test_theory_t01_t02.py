"""T1 (union-bound lower bound on h_min) and T2 (upper bound): predictors against independent oracles."""

import itertools

import numpy as np
import pytest

from hmin.theory import Status, TheoryInputError
from hmin.theory import Role
from hmin.theory import t01_hmin_lower as t1
from hmin.theory import t02_hmin_upper as t2
from hmin.theory.common import unit_ball_volume


def _hmin_1d(x):
    s = np.sort(x, axis=-1)
    return np.min(np.diff(s, axis=-1), axis=-1)


def test_prob_bound_equals_direct_union_bound_sum():
    r, d, pm = 0.03, 3, 1.7
    for n in (2, 3, 7):
        ball = pm * unit_ball_volume(d) * r**d  # P(|x_i - x_j| < r) <= this for each pair
        direct = sum(ball for _ in itertools.combinations(range(n), 2))
        assert float(t1.prob_bound(r, n, d, pm)) == pytest.approx(float(direct), rel=1e-14)


def test_prob_bound_broadcasts_and_clips():
    out = t1.prob_bound(np.array([[0.01], [0.1]]), np.array([10, 100]), 2, 1.0)
    assert out.shape == (2, 2)
    assert t1.prob_bound_clipped(1.0, 100, 2, 1.0) == 1.0
    assert t1.prob_bound(1.0, 100, 2, 1.0) > 1.0  # not clipped


def test_exact_interval_oracle_against_monte_carlo():
    rng = np.random.default_rng(0)
    n, r = 5, 0.05
    x = rng.random((40000, n))
    p_mc = float(np.mean(_hmin_1d(x) < r))
    p_exact = float(t1.prob_hmin_lt_uniform_interval(r, n))
    se = np.sqrt(p_exact * (1 - p_exact) / len(x))
    assert abs(p_mc - p_exact) < 5 * se


def test_bound_dominates_exact_law_on_interval():
    r = np.linspace(0.0, 0.2, 41)
    for n in (2, 3, 5, 10):
        assert np.all(t1.prob_bound(r, n, 1, 1.0) >= t1.prob_hmin_lt_uniform_interval(r, n) - 1e-15)


def test_r_delta_inverts_the_bound_and_scales_as_n_to_minus_2_over_d():
    for d in (1, 2, 3, 5, 8):
        for n in (10, 1000):
            r = t1.r_delta(n, d, 2.0, 0.05)
            assert float(t1.prob_bound(r, n, d, 2.0)) == pytest.approx(0.05, rel=1e-12)
        ns = np.array([100, 1000, 10000, 100000])
        slope = np.polyfit(np.log(ns), np.log(t1.r_delta(ns, d, 1.0, 0.1)), 1)[0]
        assert slope == pytest.approx(t1.scaling_exponent(d), abs=2e-3)


@pytest.mark.parametrize("bad", [dict(r=-0.1), dict(n=1), dict(n=2.5), dict(d=0), dict(pi_max=0.0),
                                 dict(r=float("nan")), dict(r=float("inf"))])
def test_t1_bad_input(bad):
    kw = dict(r=0.1, n=10, d=2, pi_max=1.0) | bad
    with pytest.raises(TheoryInputError):
        t1.prob_bound(**kw)


def test_t1_delta_out_of_range():
    with pytest.raises(TheoryInputError, match="delta"):
        t1.r_delta(10, 2, 1.0, 1.5)


def test_t1_radius_checker_proves_true_and_refutes_10x():
    assert t1.check_t1_radius(t1.radius_expr).status is Status.PROVED
    assert t1.check_t1_radius(t1.radius_expr / 2).status is Status.PROVED  # weaker, still implied
    wrong = t1.check_t1_radius(10 * t1.radius_expr)
    assert wrong.status is Status.DISPROVED
    assert wrong.margin < 0 and wrong.witness["N"] >= 2
    # the witness is a genuine counterexample: exact P(h_min < radius) > delta on [0, 1]
    n, delta = int(wrong.witness["N"]), wrong.witness["delta"]
    radius = 10 * float(t1.r_delta(n, 1, 1.0, delta))
    assert float(t1.prob_hmin_lt_uniform_interval(radius, n)) > delta


def test_t1_symbolic_checks():
    res = t1.symbolic_checks()
    false = [r for r in res if r.role is Role.CONTROL]
    true = [r for r in res if r.role is not Role.CONTROL]
    assert len(false) == 1 and false[0].status is Status.DISPROVED
    assert all(r.status is Status.PROVED for r in true), [r.claim for r in true if r.status is not Status.PROVED]


# ---------------------------------------------------------------------------------------------- T2


def test_prob_upper_limits_and_monotonicity():
    r = np.linspace(0, 0.5, 50)
    p = t2.prob_upper(r, 20, 2, 1.0)
    assert p[0] == 1.0 and np.all(np.diff(p) < 0)
    assert float(t2.prob_upper(10.0, 20, 2, 1.0, p_prime=0.3)) == pytest.approx(0.7)


def test_circle_oracle_against_monte_carlo_and_bound():
    rng = np.random.default_rng(1)
    n, r = 6, 0.08
    x = np.sort(rng.random((40000, n)), axis=1)
    gaps = np.concatenate([np.diff(x, axis=1), (1 - x[:, -1] + x[:, 0])[:, None]], axis=1)
    p_mc = float(np.mean(gaps.min(axis=1) > r))
    p_exact = float(t2.prob_hmin_gt_uniform_circle(r, n))
    assert abs(p_mc - p_exact) < 5 * np.sqrt(p_exact * (1 - p_exact) / len(x))
    rr = np.linspace(0, 0.3, 31)
    for n in (2, 5, 20):  # circle: pi = 1 on every ball, V_1 = 2, p' = 1
        assert np.all(t2.prob_upper(rr, n, 1, 1.0) >= t2.prob_hmin_gt_uniform_circle(rr, n) - 1e-15)


def test_bound_on_interval_with_omega_prime():
    # Omega' = [r, 1-r]: the r-balls lie in [0, 1], pi = 1 there, p' = 1 - 2r
    for n in (2, 4, 30):
        rr = np.linspace(0.0, 0.45, 46)
        assert np.all(t2.prob_upper(rr, n, 1, 1.0, p_prime=1 - 2 * rr) >= t2.prob_hmin_gt_uniform_interval(rr, n) - 1e-15)


def test_r_upper_inverts_and_is_looser_than_t1_by_n_to_1_over_d():
    for d in (1, 2, 5):
        r = t2.r_upper(50, d, 1.5, 0.1)
        assert float(t2.prob_upper(r, 50, d, 1.5)) == pytest.approx(0.1, rel=1e-12)
        ns = np.array([1e2, 1e3, 1e4, 1e5])
        assert np.polyfit(np.log(ns), np.log(t2.r_upper(ns, d, 1.0, 0.1)), 1)[0] == pytest.approx(-1 / d, abs=2e-3)
        ratio = t2.r_upper(ns, d, 1.0, 0.1) / t1.r_delta(ns, d, 1.0, 0.1)
        assert np.all(ratio > 1)
        assert np.polyfit(np.log(ns), np.log(ratio), 1)[0] == pytest.approx(t2.looseness_exponent(d), abs=2e-3)


def test_t2_bad_input():
    with pytest.raises(TheoryInputError, match="p_prime"):
        t2.prob_upper(0.1, 10, 2, 1.0, p_prime=1.5)
    with pytest.raises(TheoryInputError, match="delta"):
        t2.r_upper(10, 2, 1.0, 1.0)
    with pytest.raises(TheoryInputError):
        t2.prob_upper(0.1, 10, 2, -1.0)


def test_t2_radius_checker_and_symbolic_checks():
    assert t2.check_t2_radius(t2.radius_expr).status is Status.PROVED
    wrong = t2.check_t2_radius(t2.radius_expr / 10)
    assert wrong.status is Status.DISPROVED and wrong.margin < 0
    n, delta = int(wrong.witness["N"]), wrong.witness["delta"]
    assert float(t2.prob_hmin_gt_uniform_circle(float(t2.r_upper(n, 1, 1.0, delta)) / 10, n)) > delta
    res = t2.symbolic_checks()
    assert all(r.status is Status.PROVED for r in res if not r.role is Role.CONTROL)
    assert all(r.status is Status.DISPROVED for r in res if r.role is Role.CONTROL)
