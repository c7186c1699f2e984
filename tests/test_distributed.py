"""Multi-process runs with real processes: jax.distributed over 127.0.0.1 with gloo collectives.

Every test here starts real OS processes (``sims.distributed.launch``), not simulated devices.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from hmin.sims import distributed
from hmin.sims.select import greedy_maxmin

ROOT = Path(__file__).resolve().parent.parent

# a wrapper around the hmin command line that logs every file written (pid, process id, path)
WRAPPER = textwrap.dedent("""
    import os, sys
    import hmin.sims.store as st
    log = os.environ["WRITE_LOG"]
    depth = [0]
    def wrap(f):
        def g(path, *a, **k):
            if depth[0] == 0:  # the outermost call only (atomic_write_json calls atomic_write_text ...)
                with open(log, "a") as fh:
                    fh.write(f"{os.environ.get('HMIN_PROCESS_ID', '-')} {os.path.abspath(str(path))}\\n")
            depth[0] += 1
            try:
                return f(path, *a, **k)
            finally:
                depth[0] -= 1
        return g
    for name in ("atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_save_npz"):
        setattr(st, name, wrap(getattr(st, name)))
    from hmin.sims.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _env(tmp_path, **extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HMIN_QUIET="1", HMIN_DIST_TIMEOUT="20",
               WRITE_LOG=str(tmp_path / "writes.log"))
    for k in ("HMIN_NUM_PROCESSES", "HMIN_PROCESS_ID", "HMIN_COORDINATOR"):
        env.pop(k, None)
    env.update(extra)
    return env


def _launch(tmp_path, argv, n=2, timeout=300):
    """Run the wrapped CLI as n processes through the launcher; returns (rc, writes, seconds)."""
    (tmp_path / "wrap.py").write_text(WRAPPER)
    t0 = time.monotonic()
    rc = distributed.launch([sys.executable, str(tmp_path / "wrap.py"), *argv], n, timeout=timeout,
                            env=_env(tmp_path))
    log = tmp_path / "writes.log"
    writes = [ln.split(" ", 1) for ln in log.read_text().splitlines()] if log.exists() else []
    return rc, writes, time.monotonic() - t0


def _assert_written_once_by_process_0(writes):
    assert writes, "nothing was written"
    assert {w[0] for w in writes} == {"0"}, f"a process other than 0 wrote: {writes}"
    paths = [w[1] for w in writes]
    assert len(paths) == len(set(paths)), f"a file was written twice: {paths}"


def test_select_two_processes_same_indices_written_once(tmp_path):
    rng = np.random.default_rng(5)
    # clustered pool with exact ties (integer coordinates): the tie rule must agree across blocks
    X = np.round(rng.standard_normal((40, 6)) * 20)[rng.integers(40, size=3001)] + rng.integers(-2, 3, (3001, 6))
    X = np.unique(X, axis=0)[rng.permutation(len(np.unique(X, axis=0)))].astype(np.float32)
    np.save(tmp_path / "p.npy", X)
    rc, writes, secs = _launch(tmp_path, ["select", str(tmp_path / "p.npy"), "--k", "120", "--first", "7",
                                          "--out", str(tmp_path / "out")])
    assert rc == 0
    idx = np.load(tmp_path / "out" / "indices.npy")
    ref, radii = greedy_maxmin(X, 120, first=7, prune=False)
    assert np.array_equal(idx, ref)
    rep = json.loads((tmp_path / "out" / "selection.json").read_text())
    assert rep["info"]["processes"] == 2
    assert rep["certificate"]["radii"] == [float(r) for r in radii]
    _assert_written_once_by_process_0(writes)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["indices.npy", "selection.json", "selection.png"]


@pytest.mark.slow  # ~55 s on 2 cores (three JAX compiles of the GD program): over the default suite's budget
def test_planted_pair_two_processes_equal_numbers(tmp_path):
    from hmin.sims.experiments import planted_pair

    sets = ["--set", "n=8", "--set", "d=4", "--set", "width=16", "--set", "steps=40", "--set", "record_every=20",
            "--set", "eps_values=(0.01, 0.05)", "--set", "seeds=(0, 1)", "--set", "label_modes=('random',)"]
    rc, writes, _ = _launch(tmp_path, ["run", "planted-pair", "--out", str(tmp_path / "two"), *sets])
    assert rc == 0
    _assert_written_once_by_process_0(writes)
    cfg = planted_pair.PlantedPairConfig(n=8, d=4, width=16, steps=40, record_every=20, eps_values=(0.01, 0.05),
                                         seeds=(0, 1), label_modes=("random",))
    planted_pair.run(cfg, tmp_path / "one", plot_figures=False)
    one = json.loads((tmp_path / "one" / "summary.json").read_text())
    two = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert two["processes"] == 2
    for mode in cfg.label_modes:  # every number of every unit, exactly
        for s in cfg.seeds:
            key = planted_pair.RunStore(tmp_path / "one" / "runs").key(planted_pair._unit(cfg, mode, s))
            m1 = json.loads((tmp_path / "one" / "runs" / key / "metrics.json").read_text())
            m2 = json.loads((tmp_path / "two" / "runs" / key / "metrics.json").read_text())
            assert m1 == m2
            a1 = np.load(tmp_path / "one" / "runs" / key / "arrays.npz")
            a2 = np.load(tmp_path / "two" / "runs" / key / "arrays.npz")
            assert all(np.array_equal(a1[f], a2[f], equal_nan=True) for f in a1.files)
    assert one["modes"] == two["modes"] and one["learning_rates"] == two["learning_rates"]


DIES = textwrap.dedent("""
    import os, sys, time
    from hmin.sims import distributed
    ctx = distributed.initialize()
    if ctx.process_id == 1:
        os._exit(3)  # dies after joining
    distributed.run_items(lambda x: x, [1, 2, 3], ctx)  # would wait for process 1 forever
    print("process 0 finished", flush=True)
""")


def test_a_process_that_dies_stops_the_run_with_one_line(tmp_path, capfd):
    (tmp_path / "dies.py").write_text(DIES)
    t0 = time.monotonic()
    rc = distributed.launch([sys.executable, str(tmp_path / "dies.py")], 2, timeout=60, env=_env(tmp_path),
                            label="hmin test")
    took = time.monotonic() - t0
    err = capfd.readouterr().err
    assert rc == 1 and took < 50  # a runtime failure
    lines = [ln for ln in err.splitlines() if ln.startswith("hmin test: error")]
    assert len(lines) == 1 and "process 1 of 2 exited with status 3" in lines[0]
    assert "process 0 finished" not in capfd.readouterr().out


def test_a_process_that_cannot_connect_fails_cleanly(tmp_path):
    env = _env(tmp_path, HMIN_NUM_PROCESSES="2", HMIN_PROCESS_ID="1",
               HMIN_COORDINATOR=f"127.0.0.1:{distributed.free_port()}", HMIN_DIST_TIMEOUT="2")
    np.save(tmp_path / "p.npy", np.random.default_rng(0).random((50, 2)))
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "hmin", "select", str(tmp_path / "p.npy"), "--k", "5",
                        "--out", str(tmp_path / "o")], env=env, capture_output=True, text=True, timeout=60,
                       cwd=tmp_path)
    assert r.returncode == 1 and time.monotonic() - t0 < 40  # a runtime failure
    assert r.stderr.strip().count("\n") == 0 and "could not reach the coordinator" in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("bad, match", [({"HMIN_NUM_PROCESSES": "2"}, "HMIN_PROCESS_ID"),
                                         ({"HMIN_NUM_PROCESSES": "x"}, "integer"),
                                         ({"HMIN_NUM_PROCESSES": "2", "HMIN_PROCESS_ID": "2",
                                           "HMIN_COORDINATOR": "127.0.0.1:1"}, "out of range"),
                                         ({"HMIN_NUM_PROCESSES": "2", "HMIN_PROCESS_ID": "0"}, "host:port")])
def test_bad_environment_is_one_line(monkeypatch, bad, match):
    monkeypatch.setattr(distributed, "_CTX", None)
    for k, v in bad.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(distributed.DistributedError, match=match):
        distributed.initialize()


def test_run_items_and_row_blocks_in_one_process():
    ctx = distributed.Context()
    assert distributed.run_items(lambda x: -x, [3, 1, 2], ctx) == [-3, -1, -2]
    blocks = [distributed.row_block(10, distributed.Context(p, 3)) for p in range(3)]
    assert blocks == [(0, 4), (4, 8), (8, 10)]


CLAIMED = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    from hmin.sims import distributed
    ctx = distributed.initialize()
    me = ctx.process_id
    arrived = []

    def fn(i):
        # process 1 refuses the first item it claims from FAIL_AT on: which items it claims depends on
        # timing (under load process 0 may take the first few), so a fixed item could go to process 0
        if me == 1 and 0 <= int(os.environ.get("FAIL_AT", "-1")) <= i:
            raise ValueError("item refused")
        time.sleep(0.4 if me == 0 else 0.05)  # process 1 is faster: it must take more items
        # item 0 is 24 MB, more than one gRPC message by default (4 MB)
        return {"i": i, "by": me, "blob": np.full(3_000_000 if i == 0 else 4, i, np.float64)}

    distributed.allgather_objects(me, ctx)  # both start claiming together, however late either came up
    try:
        out = distributed.run_items_claimed(fn, list(range(int(sys.argv[2]))), ctx,
                                            on_result=lambda i, r: arrived.append(i))
    except distributed.LostProcess:  # as hmin's command line does: the launcher names the process that failed
        sys.exit(distributed.EXIT_LOST)
    if me == 0:
        json.dump({"items": [r["i"] for r in out], "by": [r["by"] for r in out], "arrived": arrived,
                   "blobs_ok": all(float(r["blob"][-1]) == r["i"] for r in out)}, open(sys.argv[1], "w"))
""")


def test_claimed_items_are_shared_by_whoever_is_free_and_gathered_in_order(tmp_path):
    (tmp_path / "claimed.py").write_text(CLAIMED)
    rc = distributed.launch([sys.executable, str(tmp_path / "claimed.py"), str(tmp_path / "out.json"), "12"], 2,
                            timeout=120, env=_env(tmp_path))
    assert rc == 0
    got = json.loads((tmp_path / "out.json").read_text())
    assert got["items"] == list(range(12)) and got["blobs_ok"]
    assert sorted(got["arrived"]) == list(range(12))  # every result handed to process 0 once, as it came
    by = got["by"]
    assert by.count(1) > by.count(0) >= 1, by  # the faster process took more: not a fixed round robin


def test_a_claimed_item_that_fails_stops_every_process_with_one_line(tmp_path, capfd):
    (tmp_path / "claimed.py").write_text(CLAIMED)
    t0 = time.monotonic()
    rc = distributed.launch([sys.executable, str(tmp_path / "claimed.py"), str(tmp_path / "out.json"), "40"], 2,
                            timeout=120, env=_env(tmp_path, FAIL_AT="3"), label="hmin test")
    err = capfd.readouterr().err
    assert rc != 0 and time.monotonic() - t0 < 60
    lines = [ln for ln in err.splitlines() if ln.startswith("hmin test: error")]
    assert len(lines) == 1 and "process 1" in lines[0], err
    assert not (tmp_path / "out.json").exists()


def test_claimed_items_in_one_process():
    seen = []
    assert distributed.run_items_claimed(lambda x: -x, [3, 1], distributed.Context(),
                                         on_result=lambda i, r: seen.append((i, r))) == [-3, -1]
    assert seen == [(0, -3), (1, -1)]


# --------------------------------------------------------------------------------------------
# hmin verify across processes


def _row_without_clock(row):
    """A results.json row's verdicts and numbers, without wall-clock fields (T1 reports its own wall_s)."""
    def seed(r):
        return {"verdict": r["verdict"], "status": r["status"], "rule": r["rule"], "figures": r["figures"],
                "numbers": {k: v for k, v in r["numbers"].items() if k != "wall_s"}}
    return {"symbolic": {k: v for k, v in row["symbolic"].items() if k != "wall_s"},
            "seeds": {s: seed(r) for s, r in row["seeds"].items()}, "combined": row["combined"], **seed(row)}


def test_verify_two_processes_resumes_and_matches_one_process(tmp_path):
    """An interrupted report card finished by 2 processes: what is still to do (T10's symbolic side and
    seed 1) is taken by whichever process is free, seed 0 is reused; every verdict, number
    and figure equals a one-process run's, and only process 0 writes, each figure once.  T10's greedy
    would split itself across the processes (sims.select) if the check did not run alone on its process."""
    import shutil

    from hmin.sims import verify

    one, two = tmp_path / "one", tmp_path / "two"
    verify.run_verify("quick", one, only="T10", seeds="0-1")
    ref = json.loads((one / "results.json").read_text())
    shutil.copytree(one, two)
    res = json.loads((two / "results.json").read_text())
    res["meta"]["state"] = "running"  # killed after T10's seed 0
    del res["T10"]["seeds"]["1"], res["T10"]["symbolic"]
    (two / "results.json").write_text(json.dumps(res))
    shutil.rmtree(two / "seeds")
    redo = sorted(p.relative_to(one) for p in (one / "seeds").rglob("*") if p.is_file())
    assert len(redo) == 1  # seed 1's measurement (figures are drawn for the first seed only)

    rc, writes, _ = _launch(tmp_path, ["verify", "--quick", "--only", "T10", "--seeds", "0-1", "--out", str(two)])
    assert rc == 0
    got = json.loads((two / "results.json").read_text())
    assert got["meta"]["state"] == "complete" and got["meta"]["processes"] == 2 and got["meta"]["reused_checks"] == 1
    assert _row_without_clock(got["T10"]) == _row_without_clock(ref["T10"])
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for f in files:
        if f.suffix == ".png":
            assert (one / f).read_bytes() == (two / f).read_bytes(), f
    assert {w[0] for w in writes} == {"0"}, f"a process other than 0 wrote: {writes}"
    redone = sorted(Path(w[1]).relative_to(two) for w in writes if Path(w[1]).parent.name in ("figures", "measured"))
    assert redone == redo
    assert sum(Path(w[1]).name == "results.json" for w in writes) == 2  # after T10, then complete


DIES_IN_CHECK = '''
import dataclasses, os, time
from hmin.theory import Statement
from hmin.sims.registry import Check
from hmin.sims.verdict import Verdict

@dataclasses.dataclass(frozen=True)
class S:
    n: int = 1

def measure(ctx):
    if os.environ.get("HMIN_PROCESS_ID") == "1":
        os._exit(3)  # process 1 dies in the middle of its check
    # process 0 holds its item, so the other seed's item is left for process 1 however late it comes up
    # (items are claimed by whoever is free); the launcher must stop process 0 well before this ends
    time.sleep(100)
    return {"ok": 1}

def judge(m, *, force=None):
    return Verdict("DIE1", force or "holds", "always", {"ok": m["ok"]})

STATEMENT = Statement(id="DIE1", title="t", kind="QUESTION", paper_ref="", text="x", hypotheses=())
CHECK = Check(id="DIE1", settings={p: S() for p in ("quick", "default", "full")}, measure=measure, judge=judge,
              false_variants={"f": {"force": "violated"}})
'''


def test_verify_a_process_that_dies_in_a_check_stops_the_run(tmp_path):
    (tmp_path / "die1.py").write_text(DIES_IN_CHECK)
    out = tmp_path / "out"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "hmin", "verify", "--quick", "--plugin", str(tmp_path / "die1.py"),
                        "--only", "DIE1", "--seeds", "0-1", "--out", str(out), "--processes", "2"],
                       env=_env(tmp_path), capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 1 and time.monotonic() - t0 < 90
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("hmin verify: error")]
    assert len(lines) == 1 and "process 1 of 2 exited with status 3" in lines[0], r.stderr
    assert not (out / "results.json").exists()


def test_launch_passes_on_a_result_status_of_process_0(tmp_path):
    """hmin verify's exit status 1 (a check could not run) is a result: the launcher passes it on."""
    (tmp_path / "st.py").write_text("import os, sys\nsys.exit(1 if os.environ['HMIN_PROCESS_ID'] == '0' else 0)\n")
    cmd = [sys.executable, str(tmp_path / "st.py")]
    assert distributed.launch(cmd, 2, timeout=60, env=_env(tmp_path), results=(1,)) == 1
    assert distributed.launch(cmd, 2, timeout=60, env=_env(tmp_path)) == 1


def test_verify_work_units_keep_shared_measurements_together_longest_first():
    """hmin verify --processes: T6 and C3 share the width sweep (Check.shares), so at each seed they are one
    unit; units whose earlier times are known come longest first, unknown ones in statement order, and the
    symbolic sides after the measurements."""
    from hmin.sims import verify
    from hmin.sims.registry import builtin_registry

    reg = builtin_registry()
    ids = ["T4", "T6", "C3"]
    plan = {"T4": (True, [0, 1]), "T6": (False, [0, 1]), "C3": (True, [1])}
    units = verify._units(reg, ids, plan, {"T4": {"seeds": {"1": {"wall_s": 50.0}}}})
    assert units == [(("numeric", "T4", 1),), (("numeric", "T4", 0),), (("numeric", "T6", 0),),
                     (("numeric", "T6", 1), ("numeric", "C3", 1)),
                     (("symbolic", "T4", None),), (("symbolic", "C3", None),)]
    assert reg["T6"].check.shares == reg["C3"].check.shares != ()


GATHER = textwrap.dedent("""
    from hmin.sims import distributed
    ctx = distributed.initialize()
    got = distributed.allgather_objects(ctx.process_id, ctx)
    print(f"process {ctx.process_id} gathered {got}", flush=True)
""")


def test_the_first_exchange_prints_nothing_on_standard_output(tmp_path, capfd):
    """gloo announces its connection on the process's standard output ("[Gloo] Rank 0 is connected to 1 peer
    ranks ..."), where it would land in a command's results: it goes to standard error."""
    (tmp_path / "gather.py").write_text(GATHER)
    assert distributed.launch([sys.executable, str(tmp_path / "gather.py")], 2, timeout=120, env=_env(tmp_path)) == 0
    out = capfd.readouterr().out
    assert out.splitlines() == ["process 0 gathered [0, 1]"], out  # the launcher shows process 0's output


def test_verify_work_units_fall_back_on_this_machines_last_times(tmp_path, monkeypatch):
    """A fresh report directory has no times: the units are ordered by the user cache's hints from this
    machine's last run (the report directory's own times win), and a run keeps its times as the next hints."""
    from hmin.sims import caches, verify
    from hmin.sims.registry import builtin_registry

    reg = builtin_registry()
    ids, plan = ["T1", "T4", "C5"], {"T1": (False, [0]), "T4": (False, [0]), "C5": (False, [0])}
    hints = {"C5": {"symbolic": 0.0, "seed": 80.0}, "T4": {"symbolic": 1.0, "seed": 5.0}}
    assert [u[0][1] for u in verify._units(reg, ids, plan, {}, hints)] == ["C5", "T4", "T1"]
    assert [u[0][1] for u in verify._units(reg, ids, plan, {})] == ["T1", "T4", "C5"]  # no hints: statement order
    own = {"T1": {"seeds": {"0": {"wall_s": 99.0}}}}
    assert [u[0][1] for u in verify._units(reg, ids, plan, own, hints)] == ["T1", "C5", "T4"]

    monkeypatch.setenv(caches.ENV_CACHE, "1")
    monkeypatch.setenv(caches.ENV_CACHE_DIR, str(tmp_path / "cache"))
    monkeypatch.setattr(caches, "_SYMBOLIC_ON", True)
    assert verify._time_hints("quick") == {}
    results = {"T1": {"symbolic": {"wall_s": 2.0}, "seeds": {"0": {"wall_s": 3.0}, "1": {"wall_s": 7.5}}},
               "T4": {"seeds": {"0": {"status": "error"}}}, "T2": {"seeds": ["malformed"], "symbolic": None}}
    verify._keep_time_hints("quick", results, ["T1", "T4", "T2"])
    assert verify._time_hints("quick") == {"T1": {"symbolic": 2.0, "seed": 7.5}}
    assert verify._time_hints("default") == {}  # per preset
    monkeypatch.setattr(caches, "_SYMBOLIC_ON", False)  # the caches off (the test suite's own setting): no hints
    assert verify._time_hints("quick") == {}
