"""The planted-pair experiment end to end on a tiny config: outputs, resume, CLI, bad options."""

import json

import numpy as np
import pytest

from hmin.sims.cli import main
from hmin.sims.commands.run import apply_overrides
from hmin.sims.errors import InputError
from hmin.sims.experiments import planted_pair as pp

TINY = pp.PlantedPairConfig(n=8, d=8, width=32, eps_values=(1e-3, 1e-2, 1e-1), seeds=(0, 1), steps=300,
                            record_every=100)


def test_run_writes_summary_figures_and_resumes(tmp_path, monkeypatch):
    s = pp.run(TINY, tmp_path)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert set(on_disk["modes"]) == {"random", "smooth", "equal"}
    for mode, m in s["modes"].items():
        assert np.isfinite(m["mu_slope"]["slope"])
        assert len(m["steps_to_eps"]) == 3
        assert m["diverged_runs"] == 0
        # h_min of each data set was measured, and equals the planted distance
        for row in m["steps_to_eps"]:
            assert row["h_min"] == pytest.approx(row["eps"], rel=1e-9)
    for f in s["figures"]:
        assert (tmp_path / f).stat().st_size > 10_000
    units = list((tmp_path / "runs").iterdir())
    assert len(units) == 6 and all((u / "metrics.json").exists() for u in units)

    # a second run computes nothing: every unit is already stored
    def boom(*a, **k):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr(pp, "_run_unit", boom)
    s2 = pp.run(TINY, tmp_path, plot_figures=False)
    assert s2["modes"]["random"]["mu_slope"] == s["modes"]["random"]["mu_slope"]


def test_mu_slope_band_on_tiny_run(tmp_path):
    s = pp.run(TINY, tmp_path, plot_figures=False)
    assert 1.7 <= s["modes"]["random"]["mu_slope"]["slope"] <= 2.3


@pytest.mark.parametrize("kw,msg", [
    (dict(eps_values=(1e-3,)), "at least 2"),
    (dict(label_modes=("random", "noisy")), "label mode"),
    (dict(lr_scale=2.5), "lr_scale"),
    (dict(loss_eps=0.0), "loss_eps"),
])
def test_bad_config(kw, msg):
    with pytest.raises(InputError, match=msg):
        pp.PlantedPairConfig(**kw)


def test_overrides():
    cfg = apply_overrides(TINY, ["width=16", "seeds=(3,)", "lr_scale=1"])
    assert cfg.width == 16 and cfg.seeds == (3,) and cfg.lr_scale == 1.0
    with pytest.raises(InputError, match="unknown config field"):
        apply_overrides(TINY, ["colour=red"])
    with pytest.raises(InputError, match="expected int"):
        apply_overrides(TINY, ["width=wide"])


def test_cli_bad_override_exits_2(tmp_path, capsys):
    assert main(["run", "planted-pair", "--quick", "--set", "nope=1", "--out", str(tmp_path)]) == 2
    assert "unknown config field" in capsys.readouterr().err
    assert not (tmp_path / "summary.json").exists()


def test_eps_too_large_is_an_input_error(tmp_path):
    cfg = pp.PlantedPairConfig(n=8, d=8, width=16, eps_values=(1e-2, 2.0), seeds=(0,), steps=10, record_every=10,
                               label_modes=("random",))
    with pytest.raises(InputError, match="unique closest pair"):
        pp.run(cfg, tmp_path)
