"""``hmin geometry`` and ``hmin select`` in-process: outputs against independent computations,
and bad input ending with one error line and exit status 2 (nothing written)."""

import json
import re

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from hmin.sims.cli import main


def _argmin_pair(X):
    P = squareform(pdist(X))
    P[np.tril_indices(len(X))] = np.inf
    i, j = np.unravel_index(np.argmin(P), P.shape)
    return float(P[i, j]), [int(i), int(j)]


@pytest.fixture
def points(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((120, 3))
    X[77] = X[5] + 1e-7
    np.save(tmp_path / "p.npy", X)
    np.savetxt(tmp_path / "p.csv", X, delimiter=",", header="a,b,c", comments="")
    return X


def test_geometry_json_npy_and_csv(tmp_path, points, capsys):
    h, pair = _argmin_pair(points)
    for name in ("p.npy", "p.csv"):
        assert main(["geometry", str(tmp_path / name), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        tol = 1e-12 if name.endswith("npy") else 1e-6  # csv stores ~18 significant digits
        assert out["n"] == 120 and out["d"] == 3
        assert out["h_min"] == pytest.approx(h, rel=tol) and out["argmin_pair"] == pair
        assert out["q_X"] == out["h_min"] / 2
        assert out["fill_distance"] > 0 and out["fill_distance_err"] >= 0
        assert out["mesh_ratio"] == pytest.approx(out["fill_distance"] / out["q_X"])


def test_geometry_table(tmp_path, points, capsys):
    assert main(["geometry", str(tmp_path / "p.npy"), "--domain", "ball", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "h_min (min pairwise distance)" in out and "q_X = h_min / 2" in out and "pair (5, 77)" in out


def _write(tmp_path, name, content):
    p = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(p, content)
    else:
        p.write_text(content)
    return str(p)


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("nan.npy", np.array([[0.0, 1], [np.nan, 2], [3, 4]]), r"NaN in 1 row\(s\): 1"),
        ("inf.csv", "0,1\n2,inf\n3,4\n", r"inf in 1 row\(s\): 1"),
        ("ragged.csv", "0,1\n2,3,4\n", r"ragged rows: line 2"),
        ("one.npy", np.array([[0.0, 1.0]]), r"at least 2 points, got N = 1"),
        ("dup.csv", "0,0\n1,1\n2,2\n1,1\n", r"duplicate points 1 and 3 \(h_min = 0\)"),
        ("empty.csv", "", r"empty"),
        ("text.csv", "1,2\nx,y\n", r"line 2, column 1"),
    ],
)
def test_geometry_bad_input_exit_2(tmp_path, capsys, name, content, match):
    path = _write(tmp_path, name, content)
    assert main(["geometry", path, "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hmin geometry: error: ")
    assert re.search(match, err[0])


def test_geometry_missing_file_and_allow_duplicates(tmp_path, capsys):
    assert main(["geometry", str(tmp_path / "nope.npy")]) == 2
    assert "no such file" in capsys.readouterr().err
    path = _write(tmp_path, "dup.csv", "0,0\n1,1\n2,2\n1,1\n")
    assert main(["geometry", path, "--json", "--allow-duplicates"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["h_min"] == 0.0 and out["argmin_pair"] == [1, 3] and out["mesh_ratio"] == "inf"


def test_select_writes_outputs(tmp_path, points, capsys):
    out = tmp_path / "sel"
    labels = (np.arange(120) % 4).astype(np.int64)
    np.save(tmp_path / "lab.npy", labels)
    rc = main(["select", str(tmp_path / "p.npy"), "--k", "15", "--out", str(out), "--seed", "2",
               "--labels", str(tmp_path / "lab.npy")])
    assert rc == 0
    assert "T10 certificate" in capsys.readouterr().out
    idx = np.load(out / "indices.npy")
    assert idx.dtype == np.int64 and len(idx) == 15 and len(set(idx.tolist())) == 15
    rep = json.loads((out / "selection.json").read_text())
    true = pdist(points[idx]).min()
    assert rep["h_min"] == pytest.approx(true, rel=1e-12)
    assert rep["certificate"]["r_k"] == pytest.approx(true, rel=1e-12)
    assert rep["certificate"]["opt_upper"] == pytest.approx(2 * true, rel=1e-12)
    assert rep["method"] == "maxmin" and rep["k"] == 15 and rep["metric"] == "euclidean"
    assert rep["pool"]["h_min"] == pytest.approx(pdist(points).min(), rel=1e-12)
    assert rep["subset"]["h_min"] == pytest.approx(true, rel=1e-12)
    assert rep["coverage"]["n_labels"] == 4
    assert idx[0] == np.random.default_rng(2).integers(120)
    png = (out / "selection.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000


def test_select_other_methods_and_cosine(tmp_path, points, capsys):
    for method in ("random", "grid", "kmeans++", "herding"):
        out = tmp_path / method
        assert main(["select", str(tmp_path / "p.csv"), "--k", "10", "--method", method, "--metric", "cosine",
                     "--out", str(out)]) == 0
        rep = json.loads((out / "selection.json").read_text())
        idx = np.load(out / "indices.npy")
        U = points / np.linalg.norm(points, axis=1, keepdims=True)
        assert rep["certificate"] is None and rep["h_min"] == pytest.approx(pdist(U[idx]).min(), rel=1e-6)
    capsys.readouterr()


@pytest.mark.parametrize(
    "content, args, match",
    [
        (np.array([[0.0, 1], [2, np.nan], [3, 4]]), ["--k", "2"], r"NaN"),
        (np.random.default_rng(0).random((5, 2)), ["--k", "6"], r"k = 6 exceeds the number of points N = 5"),
        (np.random.default_rng(0).random((5, 2)), ["--k", "1"], r"k must be >= 2"),
        ("0,1\n2,3,4\n", ["--k", "2"], r"ragged"),
        ("", ["--k", "2"], r"empty"),
        ("0,0\n1,1\n0,0\n2,2\n", ["--k", "2"], r"duplicate rows 0 and 2 \(h_min = 0\).*--dedupe"),
        (np.random.default_rng(0).random((5, 2)), ["--k", "2", "--first", "7"], r"--first"),
    ],
)
def test_select_bad_input_exit_2_nothing_written(tmp_path, capsys, content, args, match):
    path = _write(tmp_path, "bad.npy" if isinstance(content, np.ndarray) else "bad.csv", content)
    out = tmp_path / "never"
    assert main(["select", path, *args, "--out", str(out)]) == 2
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hmin select: error: ")
    assert re.search(match, err[0])
    assert not out.exists()


def test_select_dedupe_maps_to_original_rows(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.random((30, 2))
    X = np.vstack([X[:10], X[3:5], X[10:]])  # rows 10, 11 duplicate rows 3, 4
    path = _write(tmp_path, "d.npy", X)
    out = tmp_path / "dd"
    assert main(["select", path, "--k", "29", "--dedupe", "--out", str(out)]) == 0
    assert "dropped 2 duplicate row(s)" in capsys.readouterr().out
    idx = np.load(out / "indices.npy")
    assert not ({10, 11} & set(idx.tolist()))  # the dropped copies are never referenced
    assert len(set(idx.tolist())) == 29 and idx.min() >= 0 and idx.max() < 32
    rep = json.loads((out / "selection.json").read_text())
    assert rep["duplicates_dropped"] == 2 and rep["n_rows"] == 32 and rep["n_pool"] == 30
    assert rep["h_min"] == pytest.approx(pdist(X[idx]).min(), rel=1e-12)
