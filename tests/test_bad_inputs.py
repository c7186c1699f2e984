"""Bad input to every CLI verb ends in one error line and exit status 2, with nothing written.

One table, ``CASES``: each row is (verb, case id, argv, regex the error line must match).  Adding
a verb's cases is adding rows; a verb that reads a point file also gets every row of ``DATA_CASES``
by adding its argv template to ``POINT_VERBS``.  Placeholders in argv: ``{d}`` the test's
directory, ``{ok}`` a valid 20 x 2 point file, ``{f}`` the data case's file, ``{afile}`` a regular
file, ``{out}`` a fresh output directory (it must still not exist afterwards).

Every case asserts: exit status 2; exactly one line on stderr, ``hmin[ VERB]: error: ...``,
matching the regex; no "Traceback"; nothing on stdout; no file or directory created or changed.
Checks are never run: ``run_verify`` and ``run_confirmation`` are replaced by a guard that fails
the test if reached.
Interrupted earlier runs (a half-written unit, a truncated results file) are tested at the end:
the rerun recovers.
"""

import json
import os
import re

import numpy as np
import pytest

from hmin.sims.cli import main

# a tiny planted-pair configuration: a case whose check were missing would run in seconds, not minutes
TINY_PP = ["--set", "steps=20", "--set", "record_every=10", "--set", "width=8", "--set", "seeds=(0,)",
           "--set", "label_modes=('random',)", "--set", "eps_values=(0.01,0.02)"]
RUN_PP = ["run", "planted-pair", "--quick", "--out", "{out}", *TINY_PP]


def _npy(a, **kw):
    return ("npy", np.asarray(a, **kw))


# (file name, content, regex of the error): each is fed to every verb in POINT_VERBS
DATA_CASES = [
    ("nan.npy", _npy([[0.0, 1], [np.nan, 2], [3, 4]]), r"NaN in 1 row\(s\): 1"),
    ("inf.csv", "0,1\n2,inf\n3,4\n", r"inf in 1 row\(s\): 1"),
    ("huge.npy", _npy([[1e308, -1e308], [-1e308, 1e308], [0, 0], [1, 1]]),
     r"\|x\| > 1e\+100 .*overflow.* in 2 row\(s\): 0, 1"),
    ("huge.csv", "0,0\n1,1\n2,-1.5e200\n", r"\|x\| > 1e\+100 .* in 1 row\(s\): 2"),
    ("dup.csv", "0,0\n1,1\n2,2\n1,1\n", r"duplicate (points|rows) 1 and 3 \(h_min = 0\)"),
    ("one.npy", _npy([[0.0, 1.0]]), r"at least 2 points, got N = 1"),
    ("cube.npy", _npy(np.zeros((2, 3, 4))), r"2-D array \(N, d\); got shape \(2, 3, 4\)"),
    ("line.npy", _npy(np.arange(5.0)), r"got shape \(5,\); for N points in 1-D"),
    ("str.npy", _npy([["a", "b"], ["c", "d"]]), r"not numeric \(dtype <U1\)"),
    ("complex.npy", _npy([[1 + 1j, 2], [3, 4]]), r"not numeric \(dtype complex128\)"),
    ("object.npy", ("npy-pickle", np.array([[1, "a"], [2, 3]], dtype=object)), r"cannot read as a numeric \.npy"),
    ("empty.npy", _npy(np.zeros((0, 2))), r"array is empty \(shape \(0, 2\)\)"),
    ("nocols.npy", _npy(np.zeros((3, 0))), r"array is empty \(shape \(3, 0\)\)"),
    ("truncated.npy", ("truncated-npy", None), r"cannot read as a numeric \.npy|not a valid \.npy"),
    ("header.npy", "not numpy at all\n", r"not a valid \.npy file \(no NumPy header\)"),
    ("empty.csv", "", r"empty file \(no data rows\)"),
    ("headeronly.csv", "a,b\n", r"only a header row"),
    ("ragged.csv", "0,1\n2,3,4\n", r"ragged rows: line 2 has 3 values, expected 2"),
    ("text.csv", "1,2\nx,y\n", r"line 2, column 1: 'x' is not a number"),
    ("binary.csv", ("bytes", bytes(range(256)) * 2), r"is not a number"),
    ("points.dat", "1,2\n3,4\n", r"unknown extension '\.dat'"),
    ("missing.npy", None, r"no such file"),
    ("adir.npy", ("dir", None), r"is a directory"),
]

# verb -> argv with {f} for the point file (every DATA_CASES row runs for each)
POINT_VERBS = {
    "geometry": ["geometry", "{f}", "--json"],
    "select": ["select", "{f}", "--k", "2", "--out", "{out}"],
}

# (verb, case id, argv, regex of the error line)
CASES = [
    # geometry: options
    ("geometry", "unknown-option", ["geometry", "{ok}", "--bogus"], r"unrecognized arguments: --bogus"),
    ("geometry", "no-points", ["geometry"], r"required: POINTS"),
    ("geometry", "negative-seed", ["geometry", "{ok}", "--seed", "-1"], r"--seed must be >= 0, got -1"),
    ("geometry", "n-probe-1", ["geometry", "{ok}", "--n-probe", "1"], r"--n-probe must be >= 2, got 1"),
    ("geometry", "bad-domain", ["geometry", "{ok}", "--domain", "torus"], r"argument --domain: invalid choice"),
    # select: out-of-range numbers, options, output locations
    ("select", "k-zero", ["select", "{ok}", "--k", "0", "--out", "{out}"], r"k must be >= 2.*got k = 0"),
    ("select", "k-negative", ["select", "{ok}", "--k", "-3", "--out", "{out}"], r"k must be >= 2.*got k = -3"),
    ("select", "k-above-N", ["select", "{ok}", "--k", "21", "--out", "{out}"], r"k = 21 exceeds .* N = 20"),
    ("select", "k-not-int", ["select", "{ok}", "--k", "2.5"], r"argument --k: invalid int value: '2.5'"),
    ("select", "k-missing", ["select", "{ok}"], r"required: --k"),
    ("select", "negative-seed", ["select", "{ok}", "--k", "3", "--seed", "-1", "--out", "{out}"],
     r"--seed must be >= 0, got -1"),
    ("select", "first-out-of-range", ["select", "{ok}", "--k", "3", "--first", "20", "--out", "{out}"],
     r"--first must be a row index in \[0, 20\), got 20"),
    ("select", "unknown-method", ["select", "{ok}", "--k", "3", "--method", "kmedoids"],
     r"argument --method: invalid choice: 'kmedoids'"),
    ("select", "unknown-option", ["select", "{ok}", "--k", "3", "--bogus"], r"unrecognized arguments: --bogus"),
    ("select", "out-is-a-file", ["select", "{ok}", "--k", "3", "--out", "{afile}"],
     r"--out .*afile exists and is not a directory"),
    ("select", "out-under-a-file", ["select", "{ok}", "--k", "3", "--out", "{afile}/sub/dir"],
     r"--out .*afile/sub/dir: .*afile is a file, not a directory"),
    ("select", "labels-wrong-length", ["select", "{ok}", "--k", "3", "--labels", "{d}/labels3.npy", "--out", "{out}"],
     r"--labels: expected 20 labels .* got shape \(3,\)"),
    ("select", "labels-missing", ["select", "{ok}", "--k", "3", "--labels", "{d}/nolabels.npy", "--out", "{out}"],
     r"no such file: .*nolabels\.npy"),
    ("select", "cosine-zero-vector", ["select", "{d}/zero.npy", "--k", "2", "--metric", "cosine", "--out", "{out}"],
     r"zero vector\(s\) have no direction: rows 0"),
    # run: options, --set FIELD=bad, output locations
    ("run", "unknown-experiment", ["run", "planted-pear"], r"argument EXPERIMENT: invalid choice: 'planted-pear'"),
    ("run", "unknown-option", [*RUN_PP, "--bogus"], r"unrecognized arguments: --bogus"),
    ("run", "quick-and-full", [*RUN_PP, "--full"], r"--full: not allowed with argument --quick"),
    ("run", "set-no-equals", [*RUN_PP, "--set", "width"], r"--set expects FIELD=VALUE, got 'width'"),
    ("run", "set-unknown-field", [*RUN_PP, "--set", "widht=8"], r"unknown config field 'widht'"),
    ("run", "set-wrong-type", [*RUN_PP, "--set", "width=wide"], r"--set width: expected int, got 'wide'"),
    ("run", "set-bool-for-int", [*RUN_PP, "--set", "width=True"], r"--set width: expected int, got True"),
    ("run", "set-float-seed", [*RUN_PP, "--set", "seeds=(0.5,)"], r"--set seeds: expected a tuple of int"),
    ("run", "set-negative-seed", [*RUN_PP, "--set", "seeds=(-1,)"], r"seeds must be distinct non-negative"),
    ("run", "set-no-seeds", [*RUN_PP, "--set", "seeds=()"], r"seeds must be distinct non-negative"),
    ("run", "set-no-label-modes", [*RUN_PP, "--set", "label_modes=()"], r"label_modes is empty"),
    ("run", "set-unknown-label-mode", [*RUN_PP, "--set", "label_modes=purple"], r"unknown label mode\(s\) \['purple'\]"),
    ("run", "set-lr-unstable", [*RUN_PP, "--set", "lr_scale=5"], r"lr_scale must be in \(0, 2\)"),
    ("run", "set-loss-eps-inf", [*RUN_PP, "--set", "loss_eps=1e400"], r"loss_eps must be in \(0, 1\), got inf"),
    ("run", "set-width-negative", [*RUN_PP, "--set", "width=-5"], r"width must be a positive integer, got -5"),
    ("run", "set-steps-zero", [*RUN_PP, "--set", "steps=0"], r"steps and record_every must be positive, got 0 and 10"),
    ("run", "set-n-one", [*RUN_PP, "--set", "n=1"], r"need at least N = 2 points, got N = 1"),
    ("run", "set-activation", [*RUN_PP, "--set", "activation=foo"], r"unknown activation 'foo'"),
    ("run", "out-is-a-file", ["run", "planted-pair", "--quick", "--out", "{afile}", *TINY_PP],
     r"--out .*afile exists and is not a directory"),
    ("run", "out-under-a-file", ["run", "planted-pair", "--quick", "--out", "{afile}/sub", *TINY_PP],
     r"--out .*afile/sub: .*afile is a file, not a directory"),
    ("run", "real-data-negative-seed", ["run", "real-data", "--quick", "--out", "{out}", "--set", "seeds=(-1,0)"],
     r"seeds must be distinct and non-negative"),
    ("run", "real-data-split-seed", ["run", "real-data", "--quick", "--out", "{out}", "--set", "split_seed=-1"],
     r"split_seed must be >= 0, got -1"),
    ("run", "real-data-test-fraction", ["run", "real-data", "--quick", "--out", "{out}", "--set", "test_fraction=0.999"],
     r"test_fraction = 0.999: no stratified split"),
    ("run", "real-data-k-too-small", ["run", "real-data", "--quick", "--out", "{out}", "--set", "fractions=(0.001,)"],
     r"fraction 0.001 of N_train = \d+ gives k = 1; need 10 <= k"),
    ("run", "selection-negative-seed", ["run", "selection", "--quick", "--out", "{out}", "--set", "seeds=(-1,0)"],
     r"seeds must be non-negative"),
    # verify: argument and output errors only (run_verify is guarded)
    ("verify", "unknown-id", ["verify", "--only", "T99", "--out", "{out}"], r"unknown statement id"),
    ("verify", "negative-seed", ["verify", "--seed", "-1", "--out", "{out}"], r"--seed (must be >= 0, got )?-1"),
    ("verify", "seeds-empty-range", ["verify", "--seeds", "3-1", "--out", "{out}"], r"--seeds '3-1': the range 3-1 is empty"),
    ("verify", "seeds-not-a-list", ["verify", "--seeds", "a,b", "--out", "{out}"], r"--seeds 'a,b': use non-negative"),
    ("verify", "seed-and-seeds", ["verify", "--seed", "1", "--seeds", "2"], r"--seeds: not allowed with argument --seed"),
    ("verify", "plugin-missing", ["verify", "--plugin", "{d}/no_such_plugin.py", "--out", "{out}"], r"no_such_plugin"),
    ("verify", "seed-not-int", ["verify", "--seed", "zero"], r"argument --seed: invalid int value: 'zero'"),
    ("verify", "unknown-option", ["verify", "--bogus"], r"unrecognized arguments: --bogus"),
    ("verify", "quick-and-full", ["verify", "--quick", "--full"], r"--full: not allowed with argument --quick"),
    ("verify", "out-is-a-file", ["verify", "--only", "T1", "--out", "{afile}"], r"--out .*afile exists and is not a directory"),
    ("verify", "out-under-a-file", ["verify", "--only", "T1", "--out", "{afile}/figs"],
     r"--out .*afile/figs: .*afile is a file, not a directory"),
    # train (its full table of label/optimizer errors is in tests/test_cli_train.py)
    ("train", "labels-missing", ["train", "{ok}", "--labels", "{d}/no_labels.npy", "--out", "{out}"], r"no such file"),
    ("train", "no-labels", ["train", "{ok}", "--out", "{out}"], r"required: --labels"),
    ("train", "unknown-option", ["train", "{ok}", "--labels", "{ok}", "--bogus"], r"unrecognized arguments: --bogus"),
    # statements
    ("statements", "unknown-id", ["statements", "T99"], r"unknown statement id"),
    ("statements", "plugin-missing", ["statements", "--plugin", "{d}/no_such_plugin.py"], r"no_such_plugin"),
    ("statements", "unknown-option", ["statements", "--bogus"], r"unrecognized arguments: --bogus"),
    # attack, and verify's --replay / --attack
    ("attack", "no-id", ["attack", "--out", "{out}"], r"name a statement id"),
    ("attack", "unknown-id", ["attack", "T99", "--out", "{out}"], r"unknown statement id"),
    ("attack", "no-surface", ["attack", "T1", "--out", "{out}"], r"T1 has no attack surface"),
    ("attack", "unknown-claim", ["attack", "T10", "--claim", "bogus", "--out", "{out}"], r"unknown claim 'bogus'"),
    ("attack", "budget-zero", ["attack", "T10", "--budget", "0", "--out", "{out}"], r"--budget must be > 0"),
    ("attack", "restarts-zero", ["attack", "T10", "--restarts", "0", "--out", "{out}"], r"--restarts must be a positive"),
    ("attack", "out-is-a-file", ["attack", "T10", "--out", "{afile}"], r"--out .*afile exists and is not a directory"),
    ("verify", "replay-missing", ["verify", "--replay", "{d}/no_such.json"], r"--replay .*no_such.json: no such file"),
    ("verify", "replay-not-a-candidate", ["verify", "--replay", "{afile}"], r"--replay .*afile: not"),
    ("verify", "attack-negative", ["verify", "--attack", "-5", "--out", "{out}"], r"--attack must be > 0 seconds"),
    ("check-plugin", "missing-file", ["check-plugin", "{d}/no_such_plugin.py"], r"no_such_plugin.py: no such file"),
    ("check-plugin", "bad-preset", ["check-plugin", "{afile}", "--preset", "huge"], r"invalid choice: 'huge'"),
    ("check-plugin", "unknown-option", ["check-plugin", "x.py", "--bogus"], r"unrecognized arguments: --bogus"),
]

ALL_CASES = [
    *[(verb, f"data-{name}", argv, match, name) for verb, argv in POINT_VERBS.items()
      for name, _, match in DATA_CASES],
    *[(verb, cid, argv, match, None) for verb, cid, argv, match in CASES],
]


def _write(path, content):
    if content is None:
        return
    kind, value = content if isinstance(content, tuple) else ("text", content)
    if kind == "npy":
        np.save(path, value)
    elif kind == "npy-pickle":
        np.save(path, value, allow_pickle=True)
    elif kind == "truncated-npy":
        np.save(path, np.random.default_rng(0).random((50, 3)))
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "bytes":
        path.write_bytes(value)
    elif kind == "dir":
        path.mkdir()
    else:
        path.write_text(value)


def _tree(root):
    """Every path under root with its size and mtime: any creation or change shows."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[p] = (st.st_size, st.st_mtime_ns)
    return out


def _call(argv):
    try:
        return main(argv)
    except SystemExit as e:  # argparse errors (exit 2) raise SystemExit, like any argparse program
        return e.code


@pytest.fixture
def guard_checks(monkeypatch):
    """No case may reach the (slow) checks: run_verify is replaced by a failing guard."""
    import hmin.sims.verify

    def guard(*a, **k):
        raise AssertionError("run_verify reached: the bad input was not caught before the checks")

    for name in ("run_verify", "run_confirmation"):
        monkeypatch.setattr(hmin.sims.verify, name, guard, raising=False)


@pytest.mark.parametrize("verb, case, argv, match, data", ALL_CASES, ids=[f"{c[0]}-{c[1]}" for c in ALL_CASES])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, guard_checks, verb, case, argv, match, data):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "ok.npy", rng.normal(size=(20, 2)))
    np.save(tmp_path / "labels3.npy", np.arange(3))
    np.save(tmp_path / "zero.npy", np.array([[0.0, 0], [1, 1], [2, 3]]))
    (tmp_path / "afile").write_text("a regular file\n")
    if data is not None:
        _write(tmp_path / data, dict((n, c) for n, c, _ in DATA_CASES)[data])
    subs = {"d": str(tmp_path), "ok": str(tmp_path / "ok.npy"), "afile": str(tmp_path / "afile"),
            "out": str(tmp_path / "out"), "f": str(tmp_path / (data or "none"))}
    before = _tree(tmp_path)

    rc = _call([a.format(**subs) for a in argv])

    cap = capsys.readouterr()
    assert rc == 2, (rc, cap.err)
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    assert re.match(rf"hmin( {verb})?: error: ", lines[0]), lines[0]
    assert re.search(match, lines[0]), lines[0]
    assert cap.out == ""
    assert _tree(tmp_path) == before, "a file or directory was created or changed"


def test_large_but_valid_coordinates_work_without_overflow(tmp_path, capsys):
    """Just inside the limit (|x| <= 1e100) everything is finite (warnings are errors in the tests);
    a float32 pool too large for float32 arithmetic is converted to float64, not overflowed."""
    from hmin.sims.geometry import MAX_ABS_COORD, validate_points

    X = np.array([[MAX_ABS_COORD, 0.0], [0.0, -MAX_ABS_COORD], [0.0, 0.0]])
    np.save(tmp_path / "big.npy", X)
    assert main(["geometry", str(tmp_path / "big.npy"), "--json", "--n-probe", "100"]) == 0
    assert json.loads(capsys.readouterr().out)["h_min"] == pytest.approx(MAX_ABS_COORD, rel=1e-12)
    assert validate_points(np.float32([[3e38, 0], [0, 0]]), dtype=None).dtype == np.float64
    assert validate_points(np.float32([[3.0, 0], [0, 0]]), dtype=None).dtype == np.float32


def test_every_verb_has_cases():
    """A new verb in sims.cli.COMMANDS must come with rows in CASES."""
    from hmin.sims.cli import COMMANDS

    assert set(COMMANDS) <= {c[0] for c in ALL_CASES}, set(COMMANDS) - {c[0] for c in ALL_CASES}


# ------------------------------------------------------------------------------------------
# interrupted earlier runs: the rerun recovers
# ------------------------------------------------------------------------------------------


def test_ensure_writable_dir_and_atomic_writes(tmp_path):
    from hmin.sims.errors import InputError
    from hmin.sims.store import atomic_write_json, ensure_writable_dir

    (tmp_path / "afile").write_text("x")
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    assert ensure_writable_dir(tmp_path) == tmp_path
    assert ensure_writable_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # checked, not created: the writers create it (mkdir -p)
    for bad, msg in [(tmp_path / "afile", "exists and is not a directory"),
                     (tmp_path / "afile" / "x" / "y", "afile is a file, not a directory"),
                     (tmp_path / "dangling" / "x", "dangling symbolic link")]:
        with pytest.raises(InputError, match=msg):
            ensure_writable_dir(bad, "--out")
    with pytest.raises(InputError, match="cannot write .*afile/r.json"):  # the writers say it in one line too
        atomic_write_json(tmp_path / "afile" / "r.json", {"a": 1})
    atomic_write_json(tmp_path / "new" / "deep" / "r.json", {"a": 1})  # missing parents are created
    assert json.loads((tmp_path / "new" / "deep" / "r.json").read_text()) == {"a": 1}


def test_select_recovers_from_an_interrupted_run(tmp_path, capsys):
    np.save(tmp_path / "ok.npy", np.random.default_rng(1).normal(size=(30, 2)))
    out = tmp_path / "missing" / "parents" / "out"
    assert main(["select", str(tmp_path / "ok.npy"), "--k", "3", "--out", str(out)]) == 0  # mkdir -p
    assert json.loads((out / "selection.json").read_text())["k"] == 3
    (out / "indices.npy").write_bytes(b"\x93NUMPY garbage")  # left by a run killed mid-way
    (out / "selection.json").write_text('{"k": 3, "h_m')  # truncated by hand or a full disk
    assert main(["select", str(tmp_path / "ok.npy"), "--k", "4", "--out", str(out)]) == 0
    capsys.readouterr()
    rep = json.loads((out / "selection.json").read_text())
    idx = np.load(out / "indices.npy")
    assert rep["k"] == 4 and idx.shape == (4,) and len(set(idx.tolist())) == 4
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["config-only", "truncated-metrics", "corrupt-arrays", "metrics-not-json"])
def test_runstore_half_written_unit_is_not_done(tmp_path, damage):
    from hmin.sims.store import RunStore

    store = RunStore(tmp_path / "runs")
    assert not (tmp_path / "runs").exists()  # nothing is created before the first save
    cfg = {"seed": 0, "eps": 1e-3}
    key = store.key(cfg)
    store.save(key, cfg, {"loss": np.ones(3)}, {"steps": 3})
    d = store.path(key)
    if damage == "config-only":
        (d / "metrics.json").unlink()
        (d / "arrays.npz").unlink()
    elif damage == "truncated-metrics":
        (d / "metrics.json").write_text('{"ste')
    elif damage == "corrupt-arrays":
        (d / "arrays.npz").write_bytes(b"PK\x03\x04 not a zip")
    else:
        (d / "metrics.json").write_bytes(b"\xff\xfe\x00binary")
    assert not store.is_done(key)
    store.save(key, cfg, {"loss": np.ones(3)}, {"steps": 3})  # the rerun overwrites it atomically
    assert store.is_done(key) and store.load_metrics(key) == {"steps": 3}


def test_run_recomputes_a_half_written_unit(tmp_path, capsys, monkeypatch):
    """``hmin run`` on an OUT with a truncated unit recomputes that unit instead of crashing on it.

    The GD itself is replaced by a stub that records which unit is recomputed and then interrupts
    (Ctrl-C): the end-to-end rerun is ``test_run_recovers_end_to_end`` (slow).
    """
    from hmin.sims.experiments import planted_pair as pp
    from hmin.sims.store import RunStore, atomic_write_json

    cfg = pp.PRESETS["quick"]
    ucfg = pp._unit(cfg, "random", 0)
    store = RunStore(tmp_path / "out" / "runs")
    d = store.path(store.key(ucfg))
    atomic_write_json(d / "config.json", ucfg)
    (d / "metrics.json").write_text('{"mode": "random", "rows": [{"eps"')
    calls = []

    def stub(cfg, mode, seed):
        calls.append((mode, seed))
        raise KeyboardInterrupt

    monkeypatch.setattr(pp, "_run_unit", stub)
    rc = main(["run", "planted-pair", "--quick", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 130 and calls == [("random", 0)], (rc, calls, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_run_recovers_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "planted-pair", "--quick", "--out", str(out), *TINY_PP]
    assert main(argv) == 0
    units = sorted((out / "runs").iterdir())
    good = json.loads((units[0] / "metrics.json").read_text())
    (units[0] / "metrics.json").write_text((units[0] / "metrics.json").read_text()[:40])
    assert main(argv) == 0
    capsys.readouterr()
    assert json.loads((units[0] / "metrics.json").read_text())["rows"][0]["eps"] == good["rows"][0]["eps"]
