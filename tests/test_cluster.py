"""Multi-host through JAX's own cluster detection: a process started by Slurm (``srun``), Open MPI
(``mpirun``) or with ``JAX_COORDINATOR_ADDRESS`` joins its job by ``jax.distributed.initialize()``
without arguments, and takes its id and the count from JAX. Simulated here with two local processes
that see only the job's variables (no ``--processes``, no ``HMIN_*``)."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hmin.sims import distributed

ROOT = Path(__file__).resolve().parent.parent
JOB_VARS = (*distributed.SLURM_VARS, "SLURM_STEP_NUM_NODES", distributed.OMPI_URI, distributed.OMPI_SIZE,
            "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", distributed.JAX_COORDINATOR,
            "HMIN_NUM_PROCESSES", "HMIN_PROCESS_ID", "HMIN_COORDINATOR", "HMIN_LAUNCHED")


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in JOB_VARS}
    env.update(PYTHONPATH=str(ROOT), HMIN_QUIET="1", HMIN_DIST_TIMEOUT="60", JAX_PLATFORMS="cpu")
    env.update(extra)
    return env


def _free_slurm_job_id() -> str:
    """A job id whose coordinator port (JAX: job_id % 4096 + 61440) is free on this machine."""
    for _ in range(200):
        port = random.randint(61440, 65535)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return str(port - 61440 + 4096 * random.randint(1, 1000))
    raise RuntimeError("no free port in JAX's Slurm range")


def _run_job(argv, envs, cwd, timeout=600):
    procs = [subprocess.Popen([sys.executable, "-m", "hmin", *argv], env=e, cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for e in envs]
    t0 = time.monotonic()
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=max(1, timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        outs.append((p.returncode, out, err))
    return outs


@pytest.mark.parametrize("env,kind", [
    ({}, None),
    ({"SLURM_JOB_ID": "7", "SLURM_STEP_NODELIST": "n1", "SLURM_NTASKS": "2", "SLURM_PROCID": "1",
      "SLURM_LOCALID": "1"}, "slurm"),
    ({"SLURM_JOB_ID": "7", "SLURM_STEP_NODELIST": "n1", "SLURM_NTASKS": "1", "SLURM_PROCID": "0",
      "SLURM_LOCALID": "0"}, None),  # sbatch running hmin directly: one task, one process
    ({"SLURM_JOB_ID": "7", "SLURM_NTASKS": "2"}, None),  # an allocation without a step: not a job of processes
    ({"OMPI_MCA_orte_hnp_uri": "1.0;tcp://10.0.0.1:4", "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "2"}, "openmpi"),
    ({"OMPI_MCA_orte_hnp_uri": "1.0;tcp://10.0.0.1:4", "OMPI_COMM_WORLD_SIZE": "1"}, None),
    ({"JAX_COORDINATOR_ADDRESS": "10.0.0.1:1234"}, "jax"),
    ({"HMIN_NUM_PROCESSES": "2", "SLURM_JOB_ID": "7", "SLURM_STEP_NODELIST": "n1", "SLURM_NTASKS": "2",
      "SLURM_PROCID": "1", "SLURM_LOCALID": "1"}, None),  # hmin's own variables win
])
def test_cluster_detection(monkeypatch, env, kind):
    for k in JOB_VARS:
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert distributed.cluster() == kind
    writer = env.get("SLURM_PROCID", env.get("OMPI_COMM_WORLD_RANK", "0")) == "0" if kind else True
    if "HMIN_NUM_PROCESSES" in env:
        writer = False  # no HMIN_PROCESS_ID = 0
    assert distributed.planned_writer() is writer
    if kind is None:
        assert distributed.wants_launcher(2) is ("HMIN_NUM_PROCESSES" not in env)
    else:
        with pytest.raises(distributed.BadEnvironment, match="--processes 2 starts local processes"):
            distributed.wants_launcher(2)
    assert distributed.wants_launcher(1) is False


def _row_without_clock(row):
    def seed(r):
        return {"verdict": r["verdict"], "status": r["status"], "rule": r["rule"], "figures": r["figures"],
                "numbers": {k: v for k, v in r["numbers"].items() if k != "wall_s"}}
    return {"symbolic": {k: v for k, v in row["symbolic"].items() if k != "wall_s"},
            "seeds": {s: seed(r) for s, r in row["seeds"].items()}, "combined": row["combined"], **seed(row)}


def test_a_slurm_job_of_two_processes_writes_one_report_identical_to_one_process(tmp_path):
    """``srun -n 2 hmin verify --quick --only T10 --seeds 0-1`` simulated: the two seeds run on the two
    processes, process 0 writes the one report; every verdict, number and figure equals one process's."""
    from hmin.sims.verify import run_verify

    one, two = tmp_path / "one", tmp_path / "two"
    argv = ["verify", "--quick", "--only", "T10", "--seeds", "0-1"]
    job = {"SLURM_JOB_ID": _free_slurm_job_id(), "SLURM_STEP_NODELIST": "127.0.0.1", "SLURM_NTASKS": "2",
           "SLURM_STEP_NUM_NODES": "1"}
    outs = _run_job([*argv, "--out", str(two)],
                    [_clean_env(**job, SLURM_PROCID=str(i), SLURM_LOCALID=str(i)) for i in range(2)], tmp_path)
    assert [o[0] for o in outs] == [0, 0], [o[2][-2000:] for o in outs]
    got = json.loads((two / "results.json").read_text())
    assert got["meta"]["processes"] == 2 and got["meta"]["state"] == "complete"
    run_verify("quick", one, only="T10", seeds="0-1")
    ref = json.loads((one / "results.json").read_text())
    assert _row_without_clock(got["T10"]) == _row_without_clock(ref["T10"])
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for f in files:
        if f.suffix == ".png":
            assert (one / f).read_bytes() == (two / f).read_bytes(), f


@pytest.mark.slow  # two more JAX processes; the Slurm test above covers the default suite's contract
def test_an_mpirun_job_with_jax_coordinator_address_selects_like_one_process(tmp_path):
    """``mpirun -n 2 hmin select`` with ``JAX_COORDINATOR_ADDRESS`` simulated: the rows split across the two
    ranks (greedy max-min), the same indices as one process, written once."""
    X = np.random.default_rng(3).normal(size=(400, 5))
    np.save(tmp_path / "p.npy", X)
    coord = f"127.0.0.1:{distributed.free_port()}"
    envs = [_clean_env(OMPI_MCA_orte_hnp_uri="1.0;tcp://127.0.0.1:9", OMPI_COMM_WORLD_SIZE="2",
                       OMPI_COMM_WORLD_RANK=str(i), OMPI_COMM_WORLD_LOCAL_RANK=str(i), JAX_COORDINATOR_ADDRESS=coord)
            for i in range(2)]
    outs = _run_job(["select", str(tmp_path / "p.npy"), "--k", "20", "--out", str(tmp_path / "two")], envs, tmp_path)
    assert [o[0] for o in outs] == [0, 0], [o[2][-2000:] for o in outs]
    rep = json.loads((tmp_path / "two" / "selection.json").read_text())
    assert rep["info"]["processes"] == 2
    from hmin.sims.select import greedy_maxmin

    ref_idx, _ = greedy_maxmin(X, 20, first=rep["info"]["first"])
    assert np.load(tmp_path / "two" / "indices.npy").tolist() == ref_idx.tolist()
