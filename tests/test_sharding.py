"""Sharded sweeps and sharded greedy max-min agree with their single-device / NumPy references.

The multi-device checks run in a subprocess with 4 simulated CPU devices (the pytest process has
already initialised JAX with one).  Each subprocess does several checks so JAX starts once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from hmin.sims.errors import InputError
from hmin.sims.sharding import batch_mesh, pad_leading, sharded_maxmin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def maxmin_numpy(X, k, first=0):
    """Plain NumPy farthest-first: running min over chosen points, argmax with smallest index."""
    X = np.asarray(X, dtype=np.float64)
    idx, r2 = [first], [np.inf]
    mind = np.sum((X - X[first]) ** 2, axis=1)
    for _ in range(1, k):
        i = int(np.argmax(mind))
        idx.append(i)
        r2.append(mind[i])
        mind = np.minimum(mind, np.sum((X - X[i]) ** 2, axis=1))
    return np.array(idx), np.sqrt(np.array(r2))


def _point_sets():
    rng = np.random.default_rng(7)
    g = np.arange(6.0)
    lattice = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)  # exact ties everywhere
    return {
        "gauss": rng.standard_normal((203, 5)),  # N not a multiple of 4: padded rows
        "lattice": lattice,
        "dups": np.repeat(rng.uniform(size=(9, 2)), 3, axis=0),  # k > distinct points: zero radii
    }


def _run_4dev(script: str, timeout: float = 120.0) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
    env["JAX_PLATFORMS"] = "cpu"
    code = "import jax, json, numpy as np\njax.config.update(\"jax_enable_x64\", True)\nassert jax.device_count() == 4, jax.devices()\n"
    code += textwrap.dedent(script)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- one device (this process)

@pytest.mark.parametrize("name", ["gauss", "lattice", "dups"])
def test_maxmin_one_device_matches_numpy(name):
    X = _point_sets()[name]
    k = min(40, len(X))
    for first in (0, len(X) // 2):
        idx, r = sharded_maxmin(X, k, first=first, mesh=batch_mesh(jax.devices()[:1]))
        ref_idx, ref_r = maxmin_numpy(X, k, first)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(r, ref_r, rtol=1e-12)
        assert np.all(np.diff(r[1:]) <= 1e-12)  # radii non-increasing


def test_maxmin_catches_a_wrong_tie_rule():
    """The lattice has exact ties: a largest-index tie rule gives different picks (so the test can fail)."""
    X = _point_sets()["lattice"]
    idx, _ = sharded_maxmin(X, 20)
    mind = np.sum((X - X[0]) ** 2, axis=1)
    wrong = [0]
    for _ in range(19):
        i = len(mind) - 1 - int(np.argmax(mind[::-1]))  # last occurrence
        wrong.append(i)
        mind = np.minimum(mind, np.sum((X - X[i]) ** 2, axis=1))
    assert not np.array_equal(idx, wrong)


def test_maxmin_bad_input():
    X = np.random.default_rng(0).standard_normal((10, 2))
    for bad in (dict(k=0), dict(k=11), dict(k=3, first=10), dict(k=2.5)):
        with pytest.raises(InputError):
            sharded_maxmin(X, **bad)
    with pytest.raises(InputError, match="NaN"):
        sharded_maxmin(np.where(np.arange(10)[:, None] == 3, np.nan, X), 3)
    with pytest.raises(InputError, match="shape"):
        sharded_maxmin(X[0], 1)


def test_pad_leading_repeats_last_run():
    tree = {"a": np.arange(5.0), "k": jax.random.split(jax.random.key(0), 5)}
    padded, B = pad_leading(tree, 4)
    assert B == 5 and padded["a"].shape == (8,)
    np.testing.assert_array_equal(np.asarray(padded["a"]), [0, 1, 2, 3, 4, 4, 4, 4])
    assert jax.random.key_data(padded["k"]).shape[0] == 8
    same, B = pad_leading(tree, 5)
    assert same is tree and B == 5
    with pytest.raises(InputError):
        pad_leading({"a": np.zeros(3), "b": np.zeros(4)}, 2)


# ---------------------------------------------------------------- four simulated devices

def test_maxmin_four_devices_same_indices():
    sets = {k: v.tolist() for k, v in _point_sets().items()}
    out = _run_4dev(f"""
        from hmin.sims.sharding import sharded_maxmin, batch_mesh
        sets = {sets!r}
        res = {{}}
        for name, X in sets.items():
            X = np.asarray(X)
            k = min(40, len(X))
            i4, r4 = sharded_maxmin(X, k, first=len(X) // 3)           # default mesh: all 4 devices
            i1, r1 = sharded_maxmin(X, k, first=len(X) // 3, mesh=batch_mesh(jax.devices()[:1]))
            res[name] = dict(i4=i4.tolist(), i1=i1.tolist(), r4=r4[1:].tolist(), r1=r1[1:].tolist())
        print(json.dumps(res))
    """)
    for name, X in _point_sets().items():
        k = min(40, len(X))
        ref_idx, ref_r = maxmin_numpy(X, k, len(X) // 3)
        assert out[name]["i4"] == ref_idx.tolist(), name
        assert out[name]["i1"] == ref_idx.tolist(), name
        np.testing.assert_allclose(out[name]["r4"], ref_r[1:], rtol=1e-12)


def test_train_batch_four_devices_matches_one_device():
    """B = 6 runs (not a multiple of 4: padded to 8) on 4 devices vs the same call on a 1-device mesh."""
    out = _run_4dev("""
        import jax.numpy as jnp
        from hmin.sims.models import shallow
        from hmin.sims.gd import GDConfig, train_batch, _compiled
        from hmin.sims.sharding import batch_mesh
        rng = np.random.default_rng(0)
        res = {}
        for dt in ("float64",):
            model = shallow(3, 32, dtype=dt)
            X = rng.standard_normal((6, 12, 3)).astype(dt)
            Y = rng.standard_normal((6, 12, 1)).astype(dt)
            cfg = GDConfig(lr=0.3, steps=40, record_every=10, sharpness=False)  # sharpness: 7 s of compile
            lrs = np.array([0.1, 0.2, 0.3, 0.4, 50.0, 0.6])       # run 4 diverges
            t4 = train_batch(model, X, Y, cfg, key=jax.random.key(3), lrs=lrs)
            t1 = train_batch(model, X, Y, cfg, key=jax.random.key(3), lrs=lrs, mesh=batch_mesh(jax.devices()[:1]))
            def rel(a, b):
                a, b = np.asarray(a, float), np.asarray(b, float)
                ok = np.isfinite(a) & np.isfinite(b)
                assert np.array_equal(np.isfinite(a), np.isfinite(b))
                return float(np.max(np.abs(a[ok] - b[ok]) / (np.abs(b[ok]) + 1e-30)))
            res[dt] = dict(
                shape=list(t4.loss.shape),
                loss=rel(t4.loss, t1.loss),
                diag=max(rel(t4.diag[k], t1.diag[k]) for k in t4.diag),
                params=max(rel(a, b) for a, b in zip(jax.tree_util.tree_leaves(t4.params),
                                                     jax.tree_util.tree_leaves(t1.params))),
                div4=t4.diverged_step.tolist(), div1=t1.diverged_step.tolist())
        # the partitioned sweep program must be communication-free (same program as above: cache hit)
        from hmin.sims.sharding import pad_leading, place
        from hmin.sims.gd import init_params
        args = (init_params(model, key=jax.random.key(0), batch=8), jnp.zeros((8, 12, 3)), jnp.zeros((8, 12, 1)),
                jax.random.split(jax.random.key(1), 8), jnp.ones(8))
        args = place(args, batch_mesh())
        hlo = _compiled(model, cfg, True).lower(*args).compile().as_text()
        res["collectives"] = [c for c in ("all-reduce", "all-gather", "all-to-all", "collective-permute") if c in hlo]
        res["out_sharded"] = len(args[1].sharding.device_set)
        print(json.dumps(res))
    """)
    assert out["collectives"] == [], out["collectives"]
    assert out["out_sharded"] == 4
    for dt, tol in (("float64", 1e-12),):
        r = out[dt]
        assert r["shape"] == [6, 41]
        assert r["div4"] == r["div1"] and r["div4"][4] >= 0 and r["div4"][0] == -1
        assert r["loss"] <= tol and r["diag"] <= 10 * tol and r["params"] <= tol, (dt, r)
