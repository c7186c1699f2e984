"""Models, Gram matrices and sharpness against independent oracles (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from hmin.sims import data
from hmin.sims.diagnostics import gram, hessian_dense, jacobian, make_loss, sharpness, check_psd
from hmin.sims.errors import InputError
from hmin.sims.models import ACTIVATIONS, ANALYTIC, make_model, num_params, tau_eps

ARCHS = [
    ("shallow", dict(width=24)),
    ("mlp", dict(width=12, depth=3)),
    ("residual", dict(width=8, depth=3)),
    ("transformer", dict(tokens=2, d_model=4, heads=2)),
]


@pytest.mark.parametrize("arch,kw", ARCHS)
def test_shapes_and_float64(arch, kw):
    m = make_model(arch, d=4, **kw)
    p = m.init(jax.random.PRNGKey(0))
    X = jnp.asarray(np.random.default_rng(0).normal(size=(5, 4)))
    out = m.apply(p, X)
    assert out.shape == (5, 1) and out.dtype == jnp.float64
    np.testing.assert_allclose(m.apply_one(p, X[2]), out[2], rtol=1e-12)


@pytest.mark.parametrize("arch,kw", ARCHS)
def test_gram_equals_per_point_gradient_products(arch, kw):
    """G_ij = <grad_theta f(x_i), grad_theta f(x_j)>, computed point by point with jax.grad."""
    m = make_model(arch, d=4, **kw)
    p = m.init(jax.random.PRNGKey(1))
    X = jnp.asarray(np.random.default_rng(1).normal(size=(6, 4)))
    flat, unravel = ravel_pytree(p)
    grads = np.asarray(jax.jit(jax.vmap(jax.grad(lambda th, x: m.apply_one(unravel(th), x)[0]), in_axes=(None, 0)))(flat, X))
    np.testing.assert_allclose(np.asarray(gram(m, p, X)), grads @ grads.T, rtol=1e-10, atol=1e-12)
    # chunked Jacobian rows agree with the one-shot ones
    np.testing.assert_allclose(np.asarray(jacobian(m, p, X, chunk=2)), grads, rtol=1e-10, atol=1e-12)
    assert check_psd(np.linalg.eigvalsh(np.asarray(gram(m, p, X)))) is None


def test_check_psd_flags_indefinite():
    assert check_psd(np.array([-1e-3, 1.0])) is not None


def test_gram_matches_finite_difference_jacobian():
    m = make_model("shallow", d=3, width=5)
    p = m.init(jax.random.PRNGKey(2))
    X = jnp.asarray(np.random.default_rng(2).normal(size=(4, 3)))
    flat, unravel = ravel_pytree(p)
    h = 1e-6
    J = np.zeros((4, flat.size))
    for a in range(flat.size):
        e = jnp.zeros_like(flat).at[a].set(h)
        J[:, a] = (np.asarray(m.apply(unravel(flat + e), X)) - np.asarray(m.apply(unravel(flat - e), X)))[:, 0] / (2 * h)
    np.testing.assert_allclose(np.asarray(gram(m, p, X)), J @ J.T, rtol=1e-6)


@pytest.mark.parametrize("arch,kw", [ARCHS[0], ARCHS[2]])
def test_power_iteration_sharpness_matches_dense_eigh(arch, kw):
    m = make_model(arch, d=3, **kw)
    p = m.init(jax.random.PRNGKey(3))
    rng = np.random.default_rng(3)
    X = jnp.asarray(rng.normal(size=(8, 3)))
    Y = jnp.asarray(rng.normal(size=(8, 1)))
    loss = make_loss(m)
    ev = np.linalg.eigvalsh(hessian_dense(loss, p, X, Y))
    top = ev[np.argmax(np.abs(ev))]
    est = float(sharpness(loss, p, X, Y, key=jax.random.PRNGKey(0), iters=300))
    assert est == pytest.approx(top, rel=1e-3)


def test_tau_eps_bounded_and_smooth_at_zero():
    z = jnp.asarray(np.random.default_rng(4).normal(size=(100, 7)) * 10.0 ** np.arange(-3, 4)[:, None].repeat(100 // 7 + 1, 0)[:100, :1])
    t = tau_eps(z, 0.5)
    assert np.all(np.linalg.norm(np.asarray(t), axis=-1) < 1.0)
    g = jax.grad(lambda v: jnp.sum(tau_eps(v, 0.5)))(jnp.zeros(3))
    np.testing.assert_allclose(np.asarray(g), np.full(3, 1 / 0.5))


def test_relu_flagged_non_analytic():
    assert ANALYTIC["relu"] is False
    assert all(ANALYTIC[a] for a in ACTIVATIONS if a != "relu")
    assert make_model("shallow", d=2, width=3, activation="relu").analytic is False
    assert make_model("shallow", d=2, width=3, activation="gelu").analytic is True


def test_gelu_is_erf_form():
    x = jnp.linspace(-3, 3, 13)
    from scipy.special import erf

    np.testing.assert_allclose(np.asarray(ACTIVATIONS["gelu"](x)), 0.5 * np.asarray(x) * (1 + erf(np.asarray(x) / np.sqrt(2))),
                               rtol=1e-12)


@pytest.mark.parametrize("bad", [
    dict(arch="nope"),
    dict(arch="shallow", activation="swish2"),
    dict(arch="shallow", width=0),
    dict(arch="transformer", tokens=3),
    dict(arch="residual", eps=0.0),
    dict(arch="shallow", colour="red"),
])
def test_bad_model_options_raise_input_error(bad):
    kw = dict(d=4, width=4)
    arch = bad.pop("arch")
    if arch in ("mlp", "residual"):
        kw["depth"] = 2
    if arch == "transformer":
        kw = dict(d=4)
    kw.update(bad)
    with pytest.raises(InputError):
        make_model(arch, **kw)


def test_num_params_shallow():
    m = make_model("shallow", d=5, width=7)
    assert num_params(m.init(jax.random.PRNGKey(0))) == 5 * 7 + 7


def test_mu_vs_hmin_slope_is_two_for_a_planted_pair():
    """T4 in the diffrax test_ode_order style: fit log mu vs log h_min, slope in [1.8, 2.2]."""
    from hmin.sims.verdict import fit_loglog_slope

    m = make_model("shallow", d=8, width=128)
    p = m.init(jax.random.PRNGKey(5))
    base = data.uniform_sphere(12, 8, key=jax.random.PRNGKey(6))
    eps = np.logspace(-4, -1.5, 6)
    mu = [2 * np.linalg.eigvalsh(np.asarray(gram(m, p, data.planted_pair(base, e).X)))[0] / 12 for e in eps]
    fit = fit_loglog_slope(eps, mu)
    assert 1.8 <= fit["slope"] <= 2.2, fit
    # and the band has teeth: mu ~ h_min^1 or ^3 would fail it
    assert not 1.8 <= fit_loglog_slope(eps, np.asarray(mu) / eps)["slope"] <= 2.2
