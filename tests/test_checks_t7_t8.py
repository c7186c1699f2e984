"""Checks T7 (poly-smoothness) and T8 (non-degeneracy): each judge gives the expected verdict on
measured data (preset "quick", round-tripped through JSON as `hmin verify` stores it) and
"violated" on deliberately false variants; small oracles pin the building blocks."""

from __future__ import annotations

import copy
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from sims.checks import CHECKS, CheckContext, load
from sims.checks import t07_poly_smooth as t7
from sims.checks import t08_nondegeneracy as t8
from sims.diagnostics import hessian_dense, jacobian, make_loss, sharpness
from sims.errors import InputError
from sims.models import make_model
from sims.store import to_jsonable


def _roundtrip(measured: dict) -> dict:
    return json.loads(json.dumps(to_jsonable(measured)))


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return CheckContext("quick", tmp_path_factory.mktemp("checks_t7_t8"))


@pytest.fixture(scope="module")
def m7(ctx):
    return _roundtrip(t7.measure(ctx))


@pytest.fixture(scope="module")
def m8(ctx):
    return _roundtrip(t8.measure(ctx))


def test_registered():
    assert load("T7") is t7 and load("T8") is t8
    assert CHECKS["T7"] == t7.__name__ and CHECKS["T8"] == t8.__name__
    for mod in (t7, t8):
        assert callable(mod.measure) and callable(mod.judge) and callable(mod.plot) and callable(mod.check)


# ----------------------------------------------------------------------------------------------
# T7
# ----------------------------------------------------------------------------------------------


def test_t7_quick_holds_and_plots(m7, ctx):
    v = t7.judge(m7)
    assert v.id == "T7" and v.verdict == "holds", v.numbers
    slopes = v.numbers["fitted_slope (log S vs log(1+||theta*||), large R)"]
    p = v.numbers["predicted_degree_p"]
    assert p == {"shallow-tanh": 2.0, "mlp2-tanh": 4.0}
    # the measured growth is visible and close to the degree (tight along the zero-activation rays)
    assert 1.5 < slopes["shallow-tanh"] <= 2.2 and 2.5 < slopes["mlp2-tanh"] <= 4.2
    assert v.numbers["two-unit ray slope (shallow)"]["shallow-tanh"] == pytest.approx(2.0, abs=0.05)
    lo, hi = v.numbers["power-iteration |sharpness| / ||Hess||_2 at maximisers [min, max]"]
    assert hi <= 1 + 1e-9 and lo > 0.5  # a Rayleigh quotient never exceeds ||H||_2
    assert "p = theory.t07_poly_smooth.predicted_hessian_degree" in v.rule
    paths = t7.plot(m7, v, ctx)
    assert len(paths) == 2 and all((ctx.outdir / q).stat().st_size > 10_000 for q in paths)


@pytest.mark.parametrize("degree", [0, 1, {"shallow-tanh": 2, "mlp2-tanh": 3}, lambda arch, depth, act: depth])
def test_t7_false_degrees_violated(m7, degree):
    """Lipschitz smoothness (p = 0), a too-small p, p - 1 for the MLP, p = depth: all caught."""
    v = t7.judge(m7, degree=degree)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["slope_le_p"] == "violated"
    assert "VARIANT" in v.rule


def test_t7_plateau_is_violated(m7):
    """A bounded sharpness (global Lipschitz smoothness) must fail rule (2)."""
    m = copy.deepcopy(m7)
    for a in m["archs"]:
        a["ball_sup"] = [min(s, a["ball_sup"][0] * 5) for s in a["ball_sup"]]
    assert t7.judge(m).numbers["verdict_parts"]["unbounded"] == "violated"


def test_t7_tau_bounds_measured_and_a_false_bound_caught(m7):
    v = t7.judge(m7)
    max_tau, max_jac, cf_err = v.numbers["tau_eps: max ||tau||, max eps ||D tau||_2 (bounds 1), max rel err of "
                                         "||D tau||_2 vs closed form"]
    assert max_tau <= 1 + 1e-12
    assert max_jac == pytest.approx(1.0, abs=1e-12)  # attained at z = 0
    assert cf_err < 1e-12
    m = copy.deepcopy(m7)
    c = m["tau"]["columns"]
    m["tau"]["rows"][0][c.index("jac_norm")] *= 1.5  # a Jacobian norm above 1/eps
    assert t7.judge(m).numbers["verdict_parts"]["tau_eps_bounds"] == "violated"


def test_t7_relu_control(m7):
    v = t7.judge(m7)
    relu_ratio, soft_ratio, _ = v.numbers["relu control: kink quotient ratio (smallest/largest delta), softplus "
                                          "ratio, relu a.e.-Hessian slope"]
    assert relu_ratio > 1e3  # the gradient jumps: the quotient grows like 1/delta
    assert soft_ratio == pytest.approx(1.0, abs=1e-3)
    m = copy.deepcopy(m7)
    m["kink"]["relu"] = m["kink"]["softplus"]  # a smooth "ReLU" makes the negative control fail
    assert t7.judge(m).verdict == "inconclusive"


def test_t7_two_unit_ray_degree_three_for_unbounded_activations():
    """The cross-unit term: with softplus and width >= 2, ||Hess L|| ~ t^3 along the two-unit ray (width 1: t^2)."""
    st = {"batch": 4}
    X = jax.random.uniform(jax.random.PRNGKey(0), (5, 2), dtype=jnp.float64)
    Y = jax.random.normal(jax.random.PRNGKey(1), (5, 1), dtype=jnp.float64)
    model = make_model("shallow", d=2, width=3, activation="softplus")
    p0 = model.init(jax.random.PRNGKey(2))
    ray = t7._two_unit_ray(t7._HessTools(model, X, Y, p0), p0, st)
    slope = np.polyfit(np.log1p(ray["theta_norm"]), np.log(ray["hess_norm"]), 1)[0]
    assert slope == pytest.approx(3.0, abs=0.05)
    # oracle: the dense Hessian of sims.diagnostics at the last ray point
    W = np.zeros((2, 3))
    W[:, 1] = ray["t"][-1] / np.sqrt(2)
    a = np.zeros((3, 1))
    a[0, 0] = a[1, 0] = ray["t"][-1]
    H = hessian_dense(make_loss(model), {"W": jnp.asarray(W), "a": jnp.asarray(a)}, X, Y)
    assert np.max(np.abs(np.linalg.eigvalsh(H))) == pytest.approx(ray["hess_norm"][-1], rel=1e-10)


def test_t7_hessian_tools_against_oracles():
    """Batched dense ||H||_2 vs hessian_dense + eigvalsh and vs power iteration; the finite-difference
    ascent direction vs the exact third derivative."""
    X = jax.random.uniform(jax.random.PRNGKey(3), (6, 2), dtype=jnp.float64)
    Y = jax.random.normal(jax.random.PRNGKey(4), (6, 1), dtype=jnp.float64)
    model = make_model("shallow", d=2, width=3, activation="gelu")
    p0 = model.init(jax.random.PRNGKey(5))
    tools = t7._HessTools(model, X, Y, p0)
    rng = np.random.default_rng(0)
    thetas = tools.flat0 + rng.standard_normal((3, tools.flat0.size))
    norms, vecs, sgn = tools.norms(thetas)
    loss = tools.loss_fn
    H = hessian_dense(loss, tools.unravel(jnp.asarray(thetas[0])), X, Y)
    assert norms[0] == pytest.approx(np.max(np.abs(np.linalg.eigvalsh(H))), rel=1e-12)
    s = float(sharpness(loss, tools.unravel(jnp.asarray(thetas[0])), X, Y, key=jax.random.PRNGKey(0), iters=60))
    assert abs(s) <= norms[0] * (1 + 1e-9)
    flat_loss = lambda th: loss(tools.unravel(th), X, Y)  # noqa: E731
    exact = jax.jit(jax.vmap(jax.grad(lambda th, v: jnp.vdot(v, jax.jvp(jax.grad(flat_loss), (th,), (v,))[1]))))(
        jnp.asarray(thetas), jnp.asarray(vecs))
    approx = tools.rq_grad(thetas, vecs)
    assert np.allclose(approx, np.asarray(exact), rtol=1e-4, atol=1e-6 * np.abs(exact).max())


def test_t7_candidates_on_the_sphere():
    model = make_model("residual", d=2, width=3, depth=2, hidden=3)
    p0 = model.init(jax.random.PRNGKey(0))
    theta0 = np.asarray(ravel_pytree(p0)[0])
    blocks, first = t7._blocks(p0)
    assert sum(b.stop - b.start for b in blocks) == theta0.size
    # ravel order: U[0], U[1], V[0], V[1] (9 each), W_in (2x3), w (3x1): the input layer is W_in
    assert len(blocks) == 6 and blocks[first] == slice(36, 42)
    rng = np.random.default_rng(1)
    for R in (0.5, 3.0, 50.0):
        c, fams = t7._candidates(rng, theta0, blocks, first, R, 24, [theta0 * 2.0])
        assert np.allclose(np.linalg.norm(c - theta0, axis=1), R, rtol=1e-12)
        ray0 = [x for x, f in zip(c, fams) if f == "ray0"]
        assert all(np.all(x[blocks[first]] == 0) for x in ray0)


def test_t7_bad_input():
    with pytest.raises(InputError):
        t7.judge({"archs": []})


# ----------------------------------------------------------------------------------------------
# T8
# ----------------------------------------------------------------------------------------------


def test_t8_quick_literal_claim_violated_by_the_stream_symmetry(m8, ctx):
    """min(Nk, P) fails for res-between (Nk = 38 <= P = 40, but O(4) removes 6 directions); the rest holds."""
    v = t8.judge(m8)
    parts = v.numbers["verdict_parts"]
    assert v.verdict == "violated" and parts["residual_rank"] == "violated"
    assert parts["plain_degenerate"] == "holds" and parts["relu_open_set"] == "holds"
    assert parts["det_residual_block"] == "holds"
    c = {c["name"]: c for c in m8["configs"]}["res-between"]
    assert set(c["ranks"]) == {c["P_minus_so_m"]} == {34} and c["P_eff_measured"] == 34
    assert v.numbers["O(m) symmetry: max ||J dtheta_A|| / (||J|| ||dtheta_A||)"] < 1e-12
    paths = t8.plot(m8, v, ctx)
    assert len(paths) == 1 and (ctx.outdir / paths[0]).stat().st_size > 10_000


def test_t8_symmetry_corrected_claim_holds(m8):
    v = t8.judge(m8, rank_claim="effective")
    assert v.verdict == "holds", v.numbers
    assert "VARIANT" in v.rule


def test_t8_false_variants_violated(m8):
    # "full rank for the bottleneck stack"
    v = t8.judge(m8, rank_claim="effective", plain_full_rank=True)
    assert v.verdict == "violated" and v.numbers["verdict_parts"]["plain_degenerate"] == "violated"
    # a claimed rank above what is measured
    v = t8.judge(m8, rank_claim="effective", expected_rank=lambda nk, p: min(nk, p) + 1)
    assert v.numbers["verdict_parts"]["residual_rank"] == "violated"
    # a "ReLU" that stays full rank around the dead-unit point
    m = copy.deepcopy(m8)
    m["relu"]["ranks_relu"] = [m["relu"]["full_rank"]] * len(m["relu"]["ranks_relu"])
    assert t8.judge(m, rank_claim="effective").numbers["verdict_parts"]["relu_open_set"] == "violated"
    # a residual block whose det vanishes somewhere
    m = copy.deepcopy(m8)
    m["det"]["scales"][0]["min_abs_det"] = 0.0
    assert t8.judge(m, rank_claim="effective").numbers["verdict_parts"]["det_residual_block"] == "violated"
    with pytest.raises(InputError):
        t8.judge(m8, rank_claim="nonsense")


def test_t8_relu_construction_numbers(m8):
    r = m8["relu"]
    assert all(r["dead_units_still_dead"])
    assert max(r["ranks_relu"]) <= r["alive_cap_with_dead"] < r["full_rank"]
    assert set(r["ranks_alive"]) == {r["full_rank"]} == set(r["ranks_softplus"])
    assert r["homogeneity_residual"] < 1e-12  # J (w_j, -a_j e_j) = 0: one kernel direction per ReLU unit
    assert m8["det"]["det_at_W0"] == [1.0] * m8["det"]["draws"]
    assert m8["det"]["plain_narrow_max_rank"] <= m8["det"]["plain_narrow_hidden"]


def test_t8_residual_twin_reproduces_sims_residual():
    kw = dict(d=3, width=4, depth=2, hidden=2, k=2)
    ref = make_model("residual", **kw)
    twin = t8.residual_twin(skip=True, **kw)
    plain = t8.residual_twin(skip=False, **kw)
    p = ref.init(jax.random.PRNGKey(0))
    X = jax.random.normal(jax.random.PRNGKey(1), (5, 3), dtype=jnp.float64)
    # same maths; lax.scan vs a Python loop may differ in the last bit
    np.testing.assert_allclose(np.asarray(twin.apply(p, X)), np.asarray(ref.apply(p, X)), rtol=1e-14, atol=1e-15)
    assert not np.allclose(np.asarray(plain.apply(p, X)), np.asarray(ref.apply(p, X)))
    assert twin != ref and plain != twin  # distinct jit cache keys


def test_t8_flat_matches_ravel_pytree_and_rank_oracle():
    p = make_model("residual", d=2, width=3, depth=2).init(jax.random.PRNGKey(0))
    flat = t8._flat(p)
    assert np.array_equal(flat, np.asarray(ravel_pytree(p)[0]))
    back = t8._unflat(flat, p)
    assert all(np.array_equal(np.asarray(a), np.asarray(b))
               for a, b in zip(jax.tree_util.tree_leaves(back), jax.tree_util.tree_leaves(p)))
    rng = np.random.default_rng(0)
    for r in (1, 3, 5):
        A = rng.standard_normal((7, r)) @ rng.standard_normal((r, 6))
        assert t8.rank_of(A)[0] == np.linalg.matrix_rank(A) == r
    assert t8.rank_of(np.zeros((3, 4)))[0] == 0
    with pytest.raises(InputError):
        t8.rank_of(np.full((2, 2), np.nan))


def test_t8_stream_symmetry_is_in_the_kernel_of_J():
    """Independent of any SVD tolerance: the O(m) generators are exact null vectors of J, so
    rank J <= P - m(m-1)/2 for the residual net (and J on many points attains that)."""
    model = make_model("residual", d=4, width=3, depth=1, hidden=3)
    p = model.init(jax.random.PRNGKey(7))
    X = jax.random.uniform(jax.random.PRNGKey(8), (40, 4), dtype=jnp.float64)
    J = jacobian(model, p, X)
    assert t8._symmetry_residual(p, J) < 1e-13
    assert t8.rank_of(J)[0] == 33 - 3
