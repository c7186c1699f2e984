"""hmin is a library: importing it and running a check leaves the caller's JAX and matplotlib
configuration as it was (no global ``jax_enable_x64``, no ``matplotlib.use``, no rcParams writes).

The test suite itself runs with float64 on (tests/conftest.py), so the checks run in a fresh
interpreter that starts with JAX's and matplotlib's defaults, as a notebook does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax, matplotlib
    import numpy as np

    def state():
        return {"x64": bool(jax.config.jax_enable_x64), "backend": matplotlib.get_backend(),
                "rc": {k: repr(v) for k, v in matplotlib.rcParams.items() if k != "backend"}}

    before = state()
    import hmin
    from hmin.sims.plotting import plt
    out = {"after_import": state() == before}
    # a library call whose numbers need float64: h_min of two points 1e-9 apart around 1
    X = np.array([[1.0, 0.0], [1.0 + 1e-9, 0.0], [0.0, 1.0]])
    out["h_min"] = float(hmin.min_pairwise_distance(X).h_min)
    # one check end to end (measure -> judge -> figures), through the public face
    res = hmin.run_verify("quick", sys.argv[1], only="T1")
    out["verdict"] = res["T1"]["verdict"]
    out["figures"] = sorted(p.name for p in __import__("pathlib").Path(sys.argv[1]).rglob("*.png"))
    out["after_calls"] = state() == before
    out["x64_after"] = bool(jax.config.jax_enable_x64)
    out["diff"] = sorted(k for k in before["rc"] if state()["rc"].get(k) != before["rc"][k])
    print(json.dumps(out))
""")


def test_import_and_a_check_leave_jax_and_matplotlib_config_unchanged(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "MPLBACKEND")}
    env["HMIN_QUIET"] = "1"
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "report")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-4000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["after_import"], out
    assert out["after_calls"] and not out["x64_after"], out
    assert out["diff"] == [], out
    # the scoped call still computed in float64: 1e-9 survives (float32 would round it to 0 or 1.19e-7)
    assert abs(out["h_min"] - 1e-9) < 1e-15, out
    assert out["verdict"] == "holds" and out["figures"], out  # the check ran and drew, inside rc_context only
