"""``train_and_measure`` at scale: same steps as sims.gd, matrix-free spectra against the dense path,
slow pairs without the full eigendecomposition, the budgeted records, and each optimizer's stability edge."""

import jax
import numpy as np
import pytest

from hmin.sims import gd
from hmin.sims.models import make_model
from hmin.sims.train import TrainConfig, train_and_measure

N, D = 12, 6


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[1] = X[0] + 1e-2 / np.sqrt(D)  # a close pair with differing labels: the slow pair
    y = rng.normal(size=N)
    return X, y, rng.integers(0, 3, N)


@pytest.mark.parametrize("opt,batch,loss,lr", [("gd", None, "mse", 0.3), ("adam", 4, "ce", 0.05)])
def test_same_steps_as_the_engine(data, opt, batch, loss, lr):
    X, y, c = data
    labels = y if loss == "mse" else c
    m = make_model("shallow", d=D, width=16, k=1 if loss == "mse" else 3)
    r = train_and_measure(m, X, labels, TrainConfig(loss=loss, optimizer=opt, batch=batch, lr=lr, steps=30,
                                                    records=5, seed=3))
    p0 = m.init(jax.random.split(jax.random.PRNGKey(3))[0])
    Y = np.eye(3)[c] if loss == "ce" else y[:, None]
    ref = gd.train(m, X, Y, gd.GDConfig(lr=lr, steps=30, record_every=10, loss=loss, optimizer=opt, batch=batch,
                                        gram=False, sharpness=False), key=jax.random.PRNGKey(3), params0=p0)
    np.testing.assert_allclose(r.arrays["loss"], ref.loss, rtol=1e-10)
    rec = r.arrays["record_steps"]
    np.testing.assert_allclose(r.arrays["diag_loss"], ref.loss[rec], rtol=1e-10)


def test_lanczos_records_agree_with_dense_within_residual(data):
    X, y, _ = data
    m = make_model("shallow", d=D, width=16)
    kw = dict(steps=40, record_every=10, lr=0.5)
    dense = train_and_measure(m, X, y, TrainConfig(spectrum="dense", **kw))
    full = train_and_measure(m, X, y, TrainConfig(spectrum="lanczos", lanczos_iters=N, **kw))
    part = train_and_measure(m, X, y, TrainConfig(spectrum="lanczos", lanczos_iters=4, **kw))
    assert dense.summary["gram"]["method"] == "dense" and full.summary["gram"]["method"] == "lanczos"
    a = dense.arrays
    lam_max = a["diag_lam_max"]
    for r in (full, part):  # Ritz values lie inside [lambda_min, lambda_max] (Cauchy interlacing)
        b = r.arrays
        assert np.all(b["diag_lam_max"] <= lam_max * (1 + 1e-9))
        assert np.all(a["diag_lam_min"] <= b["diag_lam_min"] + 1e-9 * lam_max)
    b = full.arrays
    assert np.all(np.abs(b["diag_lam_max"] - lam_max) <= b["diag_res_max"] + 1e-9 * lam_max)
    assert np.all(np.abs(b["diag_mu"] - a["diag_mu"]) <= 2 * b["diag_res_min"] / N + 1e-9 * lam_max)
    # planted: the truncated run's residual is what makes it agree; without it the values differ
    assert np.any(np.abs(part.arrays["diag_lam_min"] - a["diag_lam_min"]) > 1e-6 * a["diag_lam_min"])
    np.testing.assert_allclose(full.arrays["diag_sharpness"], dense.arrays["diag_sharpness"], rtol=1e-6)


def test_slow_pairs_and_t6_without_the_full_eigendecomposition(data):
    X, y, _ = data
    m = make_model("shallow", d=D, width=16)
    kw = dict(steps=40, record_every=20)
    dense = train_and_measure(m, X, y, TrainConfig(spectrum="dense", **kw)).summary
    lz = train_and_measure(m, X, y, TrainConfig(spectrum="lanczos", lanczos_iters=N, **kw)).summary
    assert "Lanczos" in lz["t6_linearised"]["spectrum"] and "dense" in dense["t6_linearised"]["spectrum"]
    assert lz["t6_linearised"]["steps_to_eps"] == pytest.approx(dense["t6_linearised"]["steps_to_eps"], rel=1e-6)
    for p, q in zip(dense["slow_pairs"], lz["slow_pairs"]):
        assert (p["i"], p["j"]) == (q["i"], q["j"])
        assert q["pair_eigenvalue"] == pytest.approx(p["pair_eigenvalue"], rel=1e-8)
        assert q["predicted_slowdown"] == pytest.approx(p["predicted_slowdown"], rel=1e-4)
    assert (lz["slow_pairs"][0]["i"], lz["slow_pairs"][0]["j"]) == (0, 1)
    assert lz["slow_pairs"][0]["predicted_slowdown"] > 10  # the close pair with differing labels holds GD up
    # fewer Lanczos steps than N k: the pair's direction outside the Krylov space enters as one node
    few = train_and_measure(m, X, y, TrainConfig(spectrum="lanczos", lanczos_iters=6, **kw)).summary
    assert (few["slow_pairs"][0]["i"], few["slow_pairs"][0]["j"]) == (0, 1)
    assert few["slow_pairs"][0]["predicted_slowdown"] > 10


def test_adam_edge_and_budgeted_records(data, monkeypatch):
    from hmin.sims import train_run

    monkeypatch.setattr(train_run, "MIN_DIAG_SECONDS", 0.0)  # the share alone decides (a cheap test)
    X, _, c = data
    m = make_model("shallow", d=D, width=16, k=3)
    s = train_and_measure(m, X, c, TrainConfig(loss="ce", optimizer="adam", lr=0.01, steps=200)).summary
    sh, tm = s["sharpness"], s["timing"]
    assert sh["edge_quantity"] == "preconditioned_sharpness" and sh["threshold"] == pytest.approx(3800.0)
    assert sh["preconditioned_max"] is not None and sh["records_above_threshold"] is not None
    assert 2 <= tm["records"] <= 50 and "budget" in tm["record_rule"] and tm["estimate_s"] > 0
    # the plan keeps diagnostics within the budget or says it could not (at least MIN_RECORDS records)
    assert tm["records"] * tm["record0_s"] <= 0.5 / 0.5 * 200 * tm["step_s"] * 1.0001 or "exceeded" in tm["record_rule"] \
        or tm["records"] == train_run.MIN_RECORDS
    assert tm["diagnostics_s"] > 0 and tm["train_s"] > 0
    g = train_and_measure(m, X, c, TrainConfig(loss="ce", optimizer="momentum", lr=0.01, momentum=0.5, steps=20,
                                               records=3)).summary
    assert g["sharpness"]["threshold"] == pytest.approx(300.0) and g["timing"]["records"] == 3
