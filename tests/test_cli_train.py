"""``hmin train`` end to end on a small data set, resuming, and every bad input (one line, exit 2)."""

import json

import numpy as np
import pytest

from hmin.sims.cli import main

N, D = 12, 8
ARGS = ["--width", "32", "--steps", "60", "--record-every", "20"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("train_data")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[1] = X[0] + 1e-2 / np.sqrt(D)  # a close pair (h_min = 1e-2) with (random, so) differing labels
    y = rng.normal(size=N)
    np.save(d / "points.npy", X)
    np.savetxt(d / "points.csv", X, delimiter=",", header=",".join("abcdefgh"), comments="")
    np.save(d / "y.npy", y)
    np.save(d / "y_short.npy", y[:-1])
    yn = y.copy()
    yn[4] = np.nan
    np.save(d / "y_nan.npy", yn)
    np.savetxt(d / "classes.csv", rng.integers(0, 3, N))
    Xd = X.copy()
    Xd[5] = Xd[2]
    np.save(d / "dup.npy", Xd)
    return d


def test_end_to_end_and_resume(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(files / "points.csv"), "--labels", str(files / "y.npy"), "--out", str(out), *ARGS]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "h_min" in printed and "pairs that slow GD" in printed
    s = json.loads((out / "summary.json").read_text())
    assert s["geometry"]["argmin_pair"] == [0, 1]
    assert np.isclose(s["geometry"]["h_min"], 1e-2)
    assert s["geometry"]["q_X"] == s["geometry"]["h_min"] / 2
    assert s["slow_pairs"][0]["i"] == 0 and s["slow_pairs"][0]["j"] == 1  # the close pair with differing labels
    assert s["slow_pairs"][0]["predicted_slowdown"] > 10  # T6: its small eigenvalue holds the loss up
    assert all(p["predicted_slowdown"] < 1.5 for p in s["slow_pairs"][1:])  # pairs that are not close do not
    assert s["t6_linearised"]["applies"] and s["t5_descent"]["applies"]
    # the regime index: printed before training (stderr log), stored, compared with the run afterwards
    rg = s["regime"]
    assert rg["applies"] and rg["index"] >= 0
    if "HMIN_QUIET" not in __import__("os").environ:  # the log line comes before the training's own lines
        err = captured.err
        assert "before training: " + rg["expectation"] in err
        assert err.index("before training") < err.index("steps in")
    assert "regime index (before training)" in printed and "regime index (after training)" in printed
    assert rg["predicted_steps_to_eps"] == s["t6_linearised"]["steps_to_eps"]
    assert s["loss"]["final_over_initial"] < 1
    with np.load(out / "arrays.npz") as z:
        assert z["loss"].shape == (61,) and z["t6_loss"].shape == (61,) and z["diag_mu"].shape == (4,)
    for f in ("train_dynamics.png", "train_geometry.png"):
        assert (out / "figures" / f).stat().st_size > 10000
    runs = list((out / "runs").iterdir())
    assert len(runs) == 1
    stamp = (runs[0] / "metrics.json").stat().st_mtime_ns
    # resumed: the stored run is reused (not trained again) and the summary is the same
    assert main(["train", str(files / "points.npy"), "--labels", str(files / "y.npy"), "--out", str(out), *ARGS]) == 0
    assert (runs[0] / "metrics.json").stat().st_mtime_ns == stamp and len(list((out / "runs").iterdir())) == 1
    s2 = json.loads((out / "summary.json").read_text())
    assert s2["loss"] == s["loss"] and s2["slow_pairs"] == s["slow_pairs"]


def test_cross_entropy_adam_minibatch(files, tmp_path, capsys):
    out = tmp_path / "ce"
    assert main(["train", str(files / "points.npy"), "--labels", str(files / "classes.csv"), "--loss", "ce",
                 "--optimizer", "adam", "--batch", "4", "--lr", "0.05", "--out", str(out), "--json", *ARGS]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["model"]["k"] == 3 and s["config"]["batch"] == 4
    assert not s["t6_linearised"]["applies"] and not s["t5_descent"]["applies"]
    assert s["loss"]["final_over_initial"] < 1


BAD = [
    (["--labels", "y_short.npy"], "11 rows but the data have N = 12"),
    (["--labels", "y_nan.npy"], "NaN"),
    (["--labels", "y.npy", "--optimizer", "sgd", "--batch", "13"], "larger than the number of points"),
    (["--labels", "y.npy", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    (["--labels", "y.npy", "--optimizer", "sgd"], "needs a mini-batch"),
    (["--labels", "y.npy", "--batch", "4"], "full-batch"),
    (["--labels", "y.npy", "--arch", "cnn"], "invalid choice: 'cnn'"),
    (["--labels", "y.npy", "--activation", "swish"], "invalid choice: 'swish'"),
    (["--labels", "y.npy", "--loss", "hinge"], "invalid choice: 'hinge'"),
    (["--labels", "y.npy", "--lr", "0.1", "--lr-scale", "0.5"], "not allowed with"),
    (["--labels", "y.npy", "--lr", "nan"], "positive finite"),
    (["--labels", "y.npy", "--optimizer", "adam", "--lr-scale", "0.5"], "Adam"),
    (["--labels", "y.npy", "--loss", "ce"], "class ids"),
    (["--labels", "y.npy", "--steps", "0"], "steps"),
    (["--labels", "y.npy", "--steps", "many"], "invalid int"),
    (["--labels", "missing.npy"], "no such file"),
    ([], "required: --labels"),
    (["--labels", "y.npy", "--width", "0"], "width"),
    (["--labels", "y.npy", "--diag-budget", "1.5"], "diag_budget must be in (0, 1)"),
    (["--labels", "y.npy", "--spectrum", "eigsh"], "invalid choice"),
]


@pytest.mark.parametrize("extra,msg", BAD, ids=[b[1][:24] for b in BAD])
def test_bad_input_one_line_exit_2(files, tmp_path, capsys, monkeypatch, extra, msg):
    monkeypatch.chdir(files)
    out = tmp_path / "bad"
    try:
        rc = main(["train", "points.npy", *ARGS[:2], *extra, "--out", str(out)])
    except SystemExit as e:  # argparse's own errors (made one line by the command)
        rc = e.code
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hmin train: error:") and msg in err[0], err
    assert not (out / "summary.json").exists()


def test_bad_points_and_output(files, tmp_path, capsys):
    for points, msg in (("dup.npy", "duplicate points 2 and 5"), ("y.npy", "2-D")):
        assert main(["train", str(files / points), "--labels", str(files / "y.npy"), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and msg in err[0], err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["train", str(files / "points.npy"), "--labels", str(files / "y.npy"), "--out", str(blocker)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_diverging_learning_rate_is_refused_without_a_summary(files, tmp_path, capsys):
    out = tmp_path / "div"
    rc = main(["train", str(files / "points.npy"), "--labels", str(files / "y.npy"), "--lr", "1e4", "--out", str(out),
               *ARGS])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "diverged at step" in err[0]  # a runtime failure, not bad input
    assert not (out / "summary.json").exists() and not (out / "figures").exists()

