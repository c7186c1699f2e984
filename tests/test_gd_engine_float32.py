"""The float32 engine: the math the benchmarks compare, no silent float64, verdict dots at HIGHEST.

- the engine's float32 trajectory equals a hand-written NumPy float64 GD on the same loss
  (1/(2N)) sum r^2 and plain SGD, to float32 round-off (the "same math" every benchmark arm does);
- a float32 run without Gram/sharpness contains no float64 array (a silent promotion would halve
  CPU throughput and quarter GPU throughput);
- the Gram/eigen/sharpness dots are traced at HIGHEST matmul precision (no TF32 on a GPU) while
  the GD-step dots keep DEFAULT (speed).
"""

from __future__ import annotations

import collections
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hmin.sims.gd import GDConfig, _compiled, train
from hmin.sims.models import shallow

N, D, M, STEPS, LR = 16, 4, 32, 60, 0.5


def numpy_gd(W, a, X, Y, *, lr, steps, half=True):
    """Full-batch GD on f(x) = a^T tanh(W^T x / sqrt(d)) / sqrt(m), L = (1/(2N)) sum r^2, in float64."""
    W, a, X, Y = (np.asarray(v, np.float64) for v in (W, a, X, Y))
    n, d = X.shape
    m = W.shape[1]
    c = 0.5 if half else 1.0
    losses = []
    for t in range(steps + 1):
        H = np.tanh(X @ W / np.sqrt(d))
        r = H @ a / np.sqrt(m) - Y
        losses.append(c * np.sum(r * r) / n)
        if t == steps:
            break
        dF = 2 * c * r / n
        ga = H.T @ dF / np.sqrt(m)
        dZ = (dF @ a.T / np.sqrt(m)) * (1 - H * H) / np.sqrt(d)
        gW = X.T @ dZ
        W, a = W - lr * gW, a - lr * ga
    return np.array(losses), W, a


def _setup(dtype=np.float32):
    model = shallow(D, M, dtype=dtype)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D)).astype(dtype)
    Y = np.sin(X[:, :1]).astype(dtype)
    p0 = model.init(jax.random.key(0))
    return model, X, Y, p0


def test_float32_engine_matches_numpy_float64_gd():
    model, X, Y, p0 = _setup()
    cfg = GDConfig(lr=LR, steps=STEPS, record_every=10, gram=False, sharpness=False)
    t = train(model, X, Y, cfg, key=jax.random.key(1), params0=p0)
    assert t.loss.dtype == np.float32 and t.params["W"].dtype == np.float32
    ref, W, a = numpy_gd(p0["W"], p0["a"], X, Y, lr=LR, steps=STEPS)
    assert ref[-1] < 0.5 * ref[0]  # it trains
    np.testing.assert_allclose(t.loss, ref, rtol=2e-5)
    np.testing.assert_allclose(t.params["W"], W, atol=2e-5)
    np.testing.assert_allclose(t.params["a"], a, atol=2e-5)
    wrong, _, _ = numpy_gd(p0["W"], p0["a"], X, Y, lr=LR, steps=STEPS, half=False)  # L = (1/N) sum r^2
    assert not np.allclose(t.loss, wrong, rtol=1e-2)


def _lowered(gram_on: bool, sharp_on: bool) -> str:
    model, X, Y, p0 = _setup()
    cfg = GDConfig(lr=0.1, steps=20, record_every=10, gram=gram_on, sharpness=sharp_on)
    return _compiled(model, cfg, False).lower(p0, X, Y, jax.random.key(1), jnp.float32(0.1)).as_text()


def _dot_precisions(txt: str) -> collections.Counter:
    dots = re.findall(r"stablehlo\.dot_general.*?precision = \[(\w+), \w+\]", txt)
    return collections.Counter(dots)


def test_no_float64_arrays_in_float32_gd_program():
    txt = _lowered(False, False)
    assert not re.search(r"tensor<[0-9x]+xf64>", txt), "a float64 array in the float32 GD program"
    assert re.search(r"tensor<[0-9x]+xf64>", _lowered(True, False))  # Gram in float64: the check can fail


@pytest.mark.parametrize("gram_on,sharp_on", [(True, False), (False, True)])
def test_verdict_dots_at_highest_precision_gd_dots_default(gram_on, sharp_on):
    plain = _dot_precisions(_lowered(False, False))
    assert set(plain) == {"DEFAULT"}  # the GD steps are not slowed down
    prec = _dot_precisions(_lowered(gram_on, sharp_on))
    assert prec["HIGHEST"] > 0
    assert prec["DEFAULT"] == plain["DEFAULT"]  # every extra dot (the diagnostics) is HIGHEST
