"""User models: pure functions, flax linen, flax nnx and equinox, against hmin's own shallow net."""

import equinox as eqx
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hmin.sims import TrainConfig, train_and_measure
from hmin.sims.adapters import from_equinox, from_flax_linen, from_flax_nnx, from_functions
from hmin.sims.diagnostics import gram
from hmin.sims.errors import InputError
from hmin.sims.models import shallow

D, M = 4, 32


class LinenNet(nn.Module):
    """hmin's shallow net f(x) = a^T tanh(W x / sqrt(d)) / sqrt(m) in flax linen."""

    width: int

    @nn.compact
    def __call__(self, x):
        h = jnp.tanh(nn.Dense(self.width, use_bias=False, param_dtype=jnp.float64)(x / jnp.sqrt(x.shape[-1])))
        return nn.Dense(1, use_bias=False, param_dtype=jnp.float64)(h) / jnp.sqrt(self.width)


class NnxNet(nnx.Module):
    def __init__(self, d, width, rngs):
        self.l1 = nnx.Linear(d, width, use_bias=False, param_dtype=jnp.float64, rngs=rngs)
        self.l2 = nnx.Linear(width, 1, use_bias=False, param_dtype=jnp.float64, rngs=rngs)
        self.width = width

    def __call__(self, x):
        return self.l2(jnp.tanh(self.l1(x / jnp.sqrt(x.shape[-1])))) / jnp.sqrt(self.width)


class EqxNet(eqx.Module):
    l1: eqx.nn.Linear
    l2: eqx.nn.Linear

    def __init__(self, key):
        k1, k2 = jax.random.split(key)
        self.l1 = eqx.nn.Linear(D, M, use_bias=False, key=k1, dtype=jnp.float64)
        self.l2 = eqx.nn.Linear(M, 1, use_bias=False, key=k2, dtype=jnp.float64)

    def __call__(self, x):  # one point (d,) -> (1,)
        return self.l2(jnp.tanh(self.l1(x / jnp.sqrt(D)))) / jnp.sqrt(M)


@pytest.fixture(scope="module")
def ref():
    hm = shallow(D, M)
    p = hm.init(jax.random.PRNGKey(1))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, D))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1]
    return hm, p, X, y


def _adapted(kind, p):
    """(model, params) of the adapted net carrying exactly hmin's weights W (d, m) and a (m, 1)."""
    if kind == "linen":
        m = from_flax_linen(LinenNet(M), d=D)
        return m, {"Dense_0": {"kernel": p["W"]}, "Dense_1": {"kernel": p["a"]}}
    if kind == "nnx":
        net = NnxNet(D, M, nnx.Rngs(0))
        net.l1.kernel[...] = p["W"]
        net.l2.kernel[...] = p["a"]
        m = from_flax_nnx(net, d=D)
        return m, m.init(jax.random.PRNGKey(0))
    if kind == "equinox":
        e = eqx.tree_at(lambda t: (t.l1.weight, t.l2.weight), EqxNet(jax.random.PRNGKey(0)), (p["W"].T, p["a"].T))
        m = from_equinox(e, d=D)
        return m, m.init(jax.random.PRNGKey(0))
    m = from_functions(shallow(D, M).init, shallow(D, M).apply, d=D)
    return m, p


KINDS = ["functions", "linen", "nnx", "equinox"]
CFG = TrainConfig(steps=30, record_every=10, lr=0.5, n_pairs=3)  # one config: the hmin model compiles once


@pytest.mark.parametrize("kind", KINDS)
def test_same_weights_same_gram_matrix(ref, kind):
    hm, p, X, _ = ref
    m, pm = _adapted(kind, p)
    assert (m.d, m.k) == (D, 1)
    G_ref = np.asarray(gram(hm, p, X))
    G = np.asarray(gram(m, pm, X))
    np.testing.assert_allclose(G, G_ref, rtol=1e-12, atol=1e-14 * np.abs(G_ref).max())
    np.testing.assert_allclose(np.asarray(m.apply(pm, X)), np.asarray(hm.apply(p, X)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["linen", "equinox"])
def test_trains_through_the_api_like_the_hmin_model(ref, kind):
    hm, p, X, y = ref
    m, pm = _adapted(kind, p)
    a = train_and_measure(m, X, y, CFG, params0=pm)
    b = train_and_measure(hm, X, y, CFG, params0=p)
    np.testing.assert_allclose(a.arrays["loss"], b.arrays["loss"], rtol=1e-10)
    np.testing.assert_allclose(a.arrays["diag_mu"], b.arrays["diag_mu"], rtol=1e-8)
    assert a.summary["model"]["name"] == {"linen": "flax-linen", "equinox": "equinox"}[kind]
    assert a.summary["loss"]["final_over_initial"] < 1


def test_factories_give_a_fresh_init_per_key():
    for m in (from_flax_linen(LinenNet(M), d=D), from_flax_nnx(lambda rngs: NnxNet(D, M, rngs), d=D),
              from_equinox(EqxNet, d=D)):
        p0, p1 = m.init(jax.random.PRNGKey(0)), m.init(jax.random.PRNGKey(1))
        l0, l1 = jax.tree_util.tree_leaves(p0), jax.tree_util.tree_leaves(p1)
        assert len(l0) == 2 and not np.allclose(l0[0], l1[0])
        batched = jax.vmap(m.init)(jax.random.split(jax.random.PRNGKey(2), 3))  # vmappable, as sims.gd needs
        assert jax.tree_util.tree_leaves(batched)[0].shape[0] == 3


def test_pair_of_functions_through_the_api(ref):
    hm, p, X, y = ref
    r = train_and_measure((hm.init, hm.apply), X, y, CFG, params0=p)
    b = train_and_measure(hm, X, y, CFG, params0=p)
    np.testing.assert_allclose(r.arrays["loss"], b.arrays["loss"], rtol=1e-12)


def test_bad_user_models():
    with pytest.raises(InputError, match="pair"):
        from_functions(None, None, d=2)
    with pytest.raises(InputError, match=r"\(N, k\)"):
        from_functions(lambda k: {"w": jnp.ones(3)}, lambda p, X: X @ p["w"], d=3)  # returns (N,), not (N, k)
    with pytest.raises(InputError, match="Model"):
        train_and_measure("not a model", np.eye(3), np.zeros(3))
