"""Several processes, one result: hmin on JAX's own distributed runtime (``jax.distributed``).

One way to start N cooperating processes, on one host or several:

- **One host**: ``hmin select ... --processes N``, ``hmin run EXPERIMENT --processes N`` or
  ``hmin verify ... --processes N``.  The command becomes a launcher (:func:`launch`): it picks a free port on the loopback address
  127.0.0.1, starts N copies of itself with the environment variables below (process ids
  0..N-1), forwards process 0's output, and waits.  If a process fails to start, cannot connect,
  dies or exits with an error, the launcher stops the others and reports it in one line (exit
  status 1): nothing hangs.
- **A cluster job** (Slurm ``srun``, Open MPI ``mpirun``, or ``JAX_COORDINATOR_ADDRESS`` set): start
  the same command once per process, e.g. ``srun -n 8 hmin verify`` or ``mpirun -n 8 hmin verify``;
  :func:`initialize` calls ``jax.distributed.initialize()`` without arguments, JAX's own cluster
  detection finds the coordinator, the process count and this process's id (:func:`cluster`).
- **Several hosts by hand**: start the same command (without ``--processes``) once per process, with

  ============================  ===============================================================
  ``HMIN_COORDINATOR``          ``host:port`` of process 0 (it listens there), the same everywhere
  ``HMIN_NUM_PROCESSES``        the number of processes N, the same everywhere
  ``HMIN_PROCESS_ID``           this process's id, 0..N-1 (0 writes the results)
  ``HMIN_DIST_TIMEOUT``         seconds to wait for all processes to connect (default 120)
  ============================  ===============================================================

  e.g. ``HMIN_COORDINATOR=node0:12345 HMIN_NUM_PROCESSES=4 HMIN_PROCESS_ID=2 hmin select ...``.

Every process calls :func:`initialize` (the commands do it), which selects gloo for the CPU
collectives and calls ``jax.distributed.initialize`` with a bounded ``initialization_timeout``.
All processes must run the same command on the same inputs: the work is split deterministically (or
claimed, where a result does not depend on the process that computes it), every cross-process exchange
is a JAX collective (``jax.experimental.multihost_utils.process_allgather``) or goes through
``jax.distributed``'s key-value store, and only process 0 writes, once, atomically.  Results are
identical to one process:

- :func:`run_items` runs a function over a list of work items, process i taking items i, i + N,
  i + 2N, ...; the results (any picklable objects) are gathered and returned in item order on
  process 0.  An exception in any item is re-raised on every process, so all stop together.
- :func:`run_items_claimed` runs a function over a list of work items, each process claiming the
  next unclaimed item when it is free (an atomic counter of ``jax.distributed``'s key-value store);
  the others send each result to process 0 through the store as soon as it is done.
- ``hmin verify`` (:func:`sims.verify.run_verify` with a context): one :func:`run_items_claimed` over
  every statement's symbolic side and every seed's measure -> judge (each process :func:`alone`
  meanwhile: its own devices, no nested split); process 0 plots and writes each statement as soon as
  its items are in.
- :func:`sims.select.greedy_maxmin_processes` (in the selection module, on this runtime): greedy max-min selection with the pool's rows split into N
  contiguous blocks (one per process, :class:`sims.select.MaxMinShard`, pruning included); each
  step one all-gather of every block's best candidate (value, index and row: d + 2 numbers per
  process) and a global argmax with ties to the smallest index, exactly as in one process.

Example (one process: no environment, so nothing is distributed):

    >>> ctx = initialize()
    >>> ctx.num_processes, ctx.process_id, ctx.is_writer
    (1, 0, True)
    >>> run_items(lambda x: x * x, [1, 2, 3], ctx)
    [1, 4, 9]
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import itertools
import math
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Sequence

import numpy as np

from hmin.sims.errors import HminError, InputError

__all__ = ["cluster", "planned_writer", "wants_launcher", "SLURM_VARS", "JAX_COORDINATOR", "ENV_COORDINATOR", "ENV_NUM_PROCESSES", "ENV_PROCESS_ID", "ENV_TIMEOUT", "ENV_LAUNCHED", "EXIT_LOST",
           "DistributedError", "BadEnvironment", "LostProcess",
           "Context", "initialize", "alone", "launch", "launch_cli", "free_port", "allgather_objects", "run_items",
           "run_items_claimed",
           "allgather_array", "row_block"]

ENV_COORDINATOR = "HMIN_COORDINATOR"
ENV_NUM_PROCESSES = "HMIN_NUM_PROCESSES"
ENV_PROCESS_ID = "HMIN_PROCESS_ID"
ENV_TIMEOUT = "HMIN_DIST_TIMEOUT"
DEFAULT_TIMEOUT = 120.0

ENV_HELP = (f"In a Slurm (srun) or Open MPI (mpirun) job of several processes, or with JAX_COORDINATOR_ADDRESS set, "
            f"the processes find each other through jax.distributed's own detection. Several hosts by hand: start "
            f"the command once per process with {ENV_COORDINATOR}=host:port (of process 0), "
            f"{ENV_NUM_PROCESSES}=N, {ENV_PROCESS_ID}=0..N-1 (and optionally {ENV_TIMEOUT}=seconds to connect, "
            f"default {DEFAULT_TIMEOUT:.0f})")


class DistributedError(HminError):
    """A process failed to start, to connect, or died; or a work item failed on some process."""


class BadEnvironment(DistributedError, InputError):
    """A malformed distributed environment (a non-integer process id, a bad host:port, ...): bad input
    (exit status 2), where a process that cannot connect or dies is a runtime failure (1)."""


class LostProcess(DistributedError):
    """Another process stopped answering during an exchange (it died, or was stopped).

    Under the launcher, whose own line names the process that failed first, the survivors exit with
    `EXIT_LOST` and say nothing (``hmin`` prints this error only when started without the launcher).
    """


#: set by :func:`launch` in every process it starts
ENV_LAUNCHED = "HMIN_LAUNCHED"
#: the exit status of a process that lost another (a consequence, not the cause, of a failure)
EXIT_LOST = 4


@dataclasses.dataclass(frozen=True)
class Context:
    """Where this process stands: ``process_id`` of ``num_processes``; process 0 writes."""

    process_id: int = 0
    num_processes: int = 1

    @property
    def is_writer(self) -> bool:
        return self.process_id == 0

    @property
    def distributed(self) -> bool:
        return self.num_processes > 1


_CTX: Context | None = None
_ALONE = contextvars.ContextVar("hmin_alone", default=False)


@contextlib.contextmanager
def alone():
    """Inside this block this process works on its own: :func:`initialize` answers a one-process
    :class:`Context` and meshes default to this process's devices (:func:`sims.sharding.process_local`).

    For work already split per process (``hmin verify --processes N`` runs different checks on
    different processes): a check that would otherwise split *itself* across the processes (e.g.
    ``sims.select.select(method="maxmin")`` calls :func:`greedy_maxmin_processes` when the run is
    distributed) runs whole on this process instead of exchanging rows with processes that are busy
    with other checks.

    Example:
        >>> with alone():
        ...     initialize().num_processes
        1
    """
    from hmin.sims.sharding import process_local  # here: sharding starts JAX; the CLI's parser imports this module

    token = _ALONE.set(True)
    try:
        with process_local():
            yield
    finally:
        _ALONE.reset(token)


def _env_int(name: str, lo: int, hi: int | None = None) -> int:
    raw = os.environ.get(name, "")
    try:
        v = int(raw)
    except ValueError:
        raise BadEnvironment(f"{name} must be an integer, got {raw!r}") from None
    if v < lo or (hi is not None and v > hi):
        raise BadEnvironment(f"{name} = {v} is out of range [{lo}, {hi if hi is not None else 'inf'}]")
    return v


def _timeout() -> float:
    raw = os.environ.get(ENV_TIMEOUT)
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        t = float(raw)
    except ValueError:
        raise BadEnvironment(f"{ENV_TIMEOUT} must be a number of seconds, got {raw!r}") from None
    if not t > 0:
        raise BadEnvironment(f"{ENV_TIMEOUT} must be positive, got {raw!r}")
    return t


#: Slurm's variables that JAX's own cluster detection needs (``jax._src.clusters.SlurmCluster``)
SLURM_VARS = ("SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID")
#: Open MPI's (``mpirun``/``mpiexec``) variable that JAX's detection looks for, and its world size
OMPI_URI, OMPI_SIZE = "OMPI_MCA_orte_hnp_uri", "OMPI_COMM_WORLD_SIZE"
#: the variable with which a user hands JAX the coordinator directly
JAX_COORDINATOR = "JAX_COORDINATOR_ADDRESS"


def cluster() -> str | None:
    """The multi-process job this process was started in, as JAX's own detection sees it.

    ``"jax"`` when ``JAX_COORDINATOR_ADDRESS`` is set, ``"slurm"`` (``srun``; every one of
    `SLURM_VARS` set and more than one task) or ``"openmpi"`` (``mpirun``; more than one rank); None
    otherwise, and under hmin's own variables (``HMIN_NUM_PROCESSES``, which win). A one-task Slurm job
    (``sbatch`` running hmin directly) or a one-rank ``mpirun`` is one process: None.

    Example:
        >>> cluster() is None  # this doctest runs outside any job
        True
    """
    env = os.environ
    if env.get(ENV_NUM_PROCESSES, "") not in ("", "1"):
        return None
    if env.get(JAX_COORDINATOR):
        return "jax"
    if all(v in env for v in SLURM_VARS) and env["SLURM_NTASKS"].strip() not in ("", "1"):
        return "slurm"
    if OMPI_URI in env and env.get(OMPI_SIZE, "").strip() not in ("", "1"):
        return "openmpi"
    return None


def planned_writer() -> bool:
    """Whether this process will write the results, read from the environment before `initialize`
    (to check ``--out`` before connecting): process 0 of hmin's variables, Slurm's or Open MPI's
    rank 0; True outside a job. With ``JAX_COORDINATOR_ADDRESS`` alone the id is JAX's to find:
    True (every process checks ``--out``; only process 0 writes into it)."""
    env = os.environ
    if env.get(ENV_NUM_PROCESSES, "") not in ("", "1"):
        return env.get(ENV_PROCESS_ID) == "0"
    kind = cluster()
    if kind == "slurm":
        return env.get("SLURM_PROCID", "").strip() == "0"
    if kind == "openmpi":
        return env.get("OMPI_COMM_WORLD_RANK", "").strip() == "0"
    return True


def wants_launcher(processes: int) -> bool:
    """Whether ``--processes N`` should start N local processes: N > 1 in a process that is not itself
    one of several (hmin's variables or a cluster job).

    Raises:
        BadEnvironment: ``--processes N > 1`` inside a Slurm/Open MPI/JAX job of several processes
            (the job already is the processes; one of the two must go).
    """
    if processes <= 1 or os.environ.get(ENV_NUM_PROCESSES, "") not in ("", "1"):
        return False
    kind = cluster()
    if kind is not None:
        raise BadEnvironment(f"--processes {processes} starts local processes, but this process already is one of a "
                             f"{kind} job's; drop --processes (the job's processes split the work)")
    return True


def _initialize_from_cluster(kind: str) -> Context:
    """``jax.distributed.initialize()`` without coordinator, count or id: JAX reads them from the job
    (Slurm, Open MPI, or ``JAX_COORDINATOR_ADDRESS``); hmin takes the process id and count from JAX."""
    timeout = _timeout()
    import jax  # here, not at import: JAX starts only when a job is joined

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(initialization_timeout=max(1, int(math.ceil(timeout))),
                                   heartbeat_timeout_seconds=max(30, int(math.ceil(timeout))),
                                   shutdown_timeout_seconds=7 * 24 * 3600)
    except Exception as e:  # noqa: BLE001 - JAX raises several types; the user gets one line
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DistributedError(f"could not join the processes of this {kind} job within {timeout:g} s "
                               f"(jax.distributed.initialize): {msg[:200]}") from None
    return Context(int(jax.process_index()), int(jax.process_count()))


def initialize() -> Context:
    """Join the processes named by the environment (see the module docstring); idempotent.

    hmin's own variables (``HMIN_NUM_PROCESSES`` > 1, set by the ``--processes`` launcher or by hand)
    come first. Otherwise, in a Slurm (``srun``) or Open MPI (``mpirun``) job of several processes, or
    with ``JAX_COORDINATOR_ADDRESS`` set (`cluster`), ``jax.distributed.initialize()`` is called without
    arguments, JAX's own cluster detection finds the coordinator, and the process id and count are
    JAX's. Outside all of these nothing happens and the context is one process; inside :func:`alone`
    too.

    Returns:
        The :class:`Context` of this process.

    Raises:
        DistributedError: a malformed variable, or the processes did not all connect within
            ``HMIN_DIST_TIMEOUT`` seconds.
    """
    global _CTX
    if _ALONE.get():
        return Context()
    if _CTX is not None:
        return _CTX
    if os.environ.get(ENV_NUM_PROCESSES, "") in ("", "1"):
        kind = cluster()
        _CTX = _initialize_from_cluster(kind) if kind is not None else Context()
        return _CTX
    n = _env_int(ENV_NUM_PROCESSES, 1)
    pid = _env_int(ENV_PROCESS_ID, 0, n - 1) if ENV_PROCESS_ID in os.environ else None
    if pid is None:
        raise BadEnvironment(f"{ENV_NUM_PROCESSES} = {n} needs {ENV_PROCESS_ID} (0..{n - 1})")
    coord = os.environ.get(ENV_COORDINATOR, "")
    if ":" not in coord:
        raise BadEnvironment(f"{ENV_COORDINATOR} must be host:port of process 0, got {coord!r}")
    timeout = _timeout()
    if pid != 0:
        _wait_for_coordinator(coord, pid, n, timeout)
    # here, not at import: JAX starts only when this runs
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(coordinator_address=coord, num_processes=n, process_id=pid,
                                   initialization_timeout=max(1, int(math.ceil(timeout))),
                                   heartbeat_timeout_seconds=max(30, int(math.ceil(timeout))),
                                   # at exit every process waits for the others (process 0 may still be
                                   # writing reports); a process that died is detected by the heartbeat
                                   shutdown_timeout_seconds=7 * 24 * 3600)
    except Exception as e:  # noqa: BLE001 - JAX raises several types; the user gets one line
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DistributedError(f"process {pid} of {n} could not join the coordinator {coord} within "
                               f"{timeout:g} s: {msg[:200]}") from None
    _CTX = Context(pid, n)
    return _CTX


def _wait_for_coordinator(coord: str, pid: int, n: int, timeout: float) -> None:
    """Poll the coordinator's TCP port until it accepts a connection (JAX's own client aborts the
    process, with a stack trace, when it cannot register; this gives a one-line error instead)."""
    host, _, port = coord.rpartition(":")
    try:
        port_i = int(port)
    except ValueError:
        raise BadEnvironment(f"{ENV_COORDINATOR} must be host:port, got {coord!r}") from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), port_i), timeout=min(2.0, timeout)):
                return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise DistributedError(f"process {pid} of {n} could not reach the coordinator {coord} within "
                                       f"{timeout:g} s ({e.strerror or e}); is process 0 running?") from None
            time.sleep(0.2)


# --------------------------------------------------------------------------------------------
# The launcher (one host)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _last_line(path: str) -> str:
    """The most telling line of a process's stderr: hmin's own error, else JAX's fatal log line
    (with its status), else the last line that is not a stack frame."""
    try:
        with open(path, errors="replace") as f:
            lines = [ln.strip() for ln in f.read().splitlines() if ln.strip()]
    except OSError:
        return ""
    for ln in lines:
        if ln.startswith("hmin"):
            return ln[:300]
    for i, ln in enumerate(lines):
        if ln[:1] in "EF" and ln[1:5].isdigit() and "] " in ln:
            msg = ln.split("] ", 1)[1]
            status = next((x for x in lines[i:] if "Status" in x or "DEADLINE" in x), "")
            return (msg + (" " + status if status and status not in msg else ""))[:300]
    rest = [ln for ln in lines if not ln.startswith(("@", "***"))]
    return rest[-1][:300] if rest else ""


def launch(cmd: Sequence[str], n: int, *, timeout: float | None = None, env: dict | None = None,
           label: str = "hmin", results: Sequence[int] = ()) -> int:
    """Run ``cmd`` as N cooperating processes on this host; return 0, or 2 after a one-line error.

    Each process gets ``HMIN_COORDINATOR=127.0.0.1:<free port>``, ``HMIN_NUM_PROCESSES=N`` and
    its ``HMIN_PROCESS_ID``.  Process 0's stdout and stderr pass through; the others' stdout is
    discarded and their stderr kept in a temporary file for the error message.  As soon as one
    process exits with an error (or is killed), the others are stopped (SIGTERM, then SIGKILL
    after 2 s) and one line names the first failure.  Process 0's own error line is already on
    stderr, so it is not repeated.  An exit status of process 0 listed in ``results`` (``hmin
    verify``'s 1: a check could not run) is a result, not a failure: it is passed on once the
    others have exited 0.

    Args:
        cmd: the command of every process, e.g. ``[sys.executable, "-m", "hmin", "select", ...]``.
        n: the number of processes (>= 1).
        timeout: stop everything after this many seconds (None: no limit; the connection phase is
            bounded anyway by ``HMIN_DIST_TIMEOUT`` inside the processes).
        env: the base environment (default ``os.environ``).
        label: the prefix of the error line.
        results: exit statuses of process 0 that are results, not failures.

    Returns:
        The exit status: 0 if every process exited 0, process 0's status if it is one of
        ``results`` and the others exited 0; process 0's own 1 or 2 when it failed first (it printed its
        line); 2 when another process refused its input first; else 1 (a process died or timed out; the
        line names it); 130 if interrupted.
    """
    if n < 1:
        raise InputError(f"--processes must be >= 1, got {n}")
    base = dict(os.environ if env is None else env)
    base[ENV_COORDINATOR] = f"127.0.0.1:{free_port()}"
    base[ENV_NUM_PROCESSES] = str(n)
    base.setdefault(ENV_TIMEOUT, str(DEFAULT_TIMEOUT))
    base[ENV_LAUNCHED] = "1"
    procs, errs = [], []
    tmpdir = tempfile.mkdtemp(prefix="hmin_launch_")
    try:
        for i in range(n):
            e = dict(base, **{ENV_PROCESS_ID: str(i)})
            if i == 0:
                p = subprocess.Popen(list(cmd), env=e)
                errs.append(None)
            else:
                ep = os.path.join(tmpdir, f"stderr_{i}.txt")
                with open(ep, "w") as fh:
                    p = subprocess.Popen(list(cmd), env=e, stdout=subprocess.DEVNULL, stderr=fh)
                errs.append(ep)
            procs.append(p)
        t0 = time.monotonic()
        failure, lost_at = None, None
        while True:
            codes = [p.poll() for p in procs]
            bad = [(i, c) for i, c in enumerate(codes) if c not in (None, 0) and not (i == 0 and c in results)]
            # only processes that lost another have exited, and some still run: give the cause 2 s to exit
            waiting = bool(bad) and all(c == EXIT_LOST for _, c in bad) and None in codes
            if waiting and lost_at is None:
                lost_at = time.monotonic()
            if bad and not (waiting and time.monotonic() - lost_at <= 2.0):
                # the cause: not a process that lost another, and process 0 (own line) last
                failure = min(bad, key=lambda f: (f[1] == EXIT_LOST, f[0] == 0, f[0]))
                break
            if all(c is not None for c in codes):
                return codes[0]
            if timeout is not None and time.monotonic() - t0 > timeout:
                failure = (-1, None)
                break
            time.sleep(0.05)
        _stop(procs)
        i, code = failure
        if i < 0:
            print(f"{label}: error: the {n} processes did not finish within {timeout:g} s; stopped them",
                  file=sys.stderr)
        elif i == 0 and code in (1, 2):
            return code  # process 0 printed its own one-line error (its stderr passes through)
        else:
            why = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            detail = _last_line(errs[i]) if errs[i] else ""
            print(f"{label}: error: process {i} of {n} {why}" + (f": {detail}" if detail else "")
                  + "; stopped the others", file=sys.stderr)
            if code == 2:
                return 2  # bad input, found by another process first
        return 1  # a runtime failure: a process died or timed out
    except KeyboardInterrupt:
        _stop(procs)
        return 130
    finally:
        for ep in errs:
            if ep:
                try:
                    os.unlink(ep)
                except OSError:
                    pass
        try:
            os.rmdir(tmpdir)
        except OSError:
            pass


def _stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 2.0  # seen: a process blocked in a JAX collective outlives SIGTERM
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def launch_cli(argv: Sequence[str], n: int, *, label: str = "hmin", results: Sequence[int] = ()) -> int:
    """:func:`launch` the ``hmin`` command line ``argv`` (with ``--processes`` removed) N times."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--processes":
            skip = True
            continue
        if a.startswith("--processes="):
            continue
        out.append(a)
    return launch([sys.executable, "-m", "hmin", *out], n, label=label, results=results)


# --------------------------------------------------------------------------------------------
# Collectives


def _ctx(ctx: Context | None) -> Context:
    return initialize() if ctx is None else ctx


_GATHER: dict = {}


def allgather_array(a: np.ndarray) -> np.ndarray:
    """(P, *a.shape): every process's ``a`` (same shape and dtype everywhere), on every process.

    One jitted resharding (process-sharded -> replicated) over a mesh of one device per process:
    an all-gather in XLA (gloo on CPU).  2.5x cheaper per call than
    ``multihost_utils.process_allgather`` (measured: 4 ms vs 10 ms, 2 processes, loaded machine).
    """
    # here, not at import: JAX starts only when this runs
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    if "mesh" not in _GATHER:
        devs = [next(d for d in jax.devices() if d.process_index == p) for p in range(jax.process_count())]
        mesh = Mesh(np.array(devs, dtype=object), ("p",))
        _GATHER["mesh"] = mesh
        _GATHER["in"] = NamedSharding(mesh, PartitionSpec("p"))
        _GATHER["fn"] = jax.jit(lambda x: x, out_shardings=NamedSharding(mesh, PartitionSpec()))
        _GATHER["dev"] = next(d for d in _GATHER["mesh"].devices.flat if d.process_index == jax.process_index())
    a = np.asarray(a)
    loc = jax.device_put(a[None], _GATHER["dev"])
    g = jax.make_array_from_single_device_arrays((jax.process_count(),) + a.shape, _GATHER["in"], [loc])
    # gloo connects on the first collective and prints "[Gloo] Rank 0 is connected to 1 peer ranks ..." on the
    # process's standard output, where it would land in a command's results (hmin verify's table)
    with contextlib.nullcontext() if _GATHER.get("connected") else _native_stdout_to_stderr():
        out = np.asarray(_GATHER["fn"](g).addressable_data(0))
    _GATHER["connected"] = True
    return out


@contextlib.contextmanager
def _native_stdout_to_stderr():
    """Send what native code writes to file descriptor 1 to descriptor 2 inside the block (Python's own
    ``sys.stdout`` is flushed before and after, so nothing of it moves)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(2, 1)
    except (OSError, ValueError, AttributeError):  # no descriptors 1 and 2 (an embedding host): leave them be
        yield
        return
    try:
        yield
    finally:
        try:
            import ctypes

            ctypes.CDLL(None).fflush(None)  # C stdio's buffer, written while 1 still points at 2
        except (OSError, AttributeError, TypeError):  # TypeError: no CDLL(None) on Windows
            pass
        os.dup2(saved, 1)
        os.close(saved)


def allgather_objects(obj: Any, ctx: Context | None = None) -> list:
    """Every process's ``obj`` (pickled), in process order, on every process.

    Two all-gathers: the byte lengths, then the bytes padded to the longest.
    """
    ctx = _ctx(ctx)
    if not ctx.distributed:
        return [obj]
    b = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)
    try:
        lens = allgather_array(np.array([len(b)], np.int64))[:, 0]
        buf = np.zeros(int(lens.max()), np.uint8)
        buf[: len(b)] = b
        allb = allgather_array(buf)
    except Exception as e:  # noqa: BLE001 - JAX's runtime error of a collective whose peer is gone
        msg = _first_line(e)
        raise LostProcess(f"process {ctx.process_id} of {ctx.num_processes} lost contact with the others during "
                          f"an exchange: {msg[:200]}") from None
    return [pickle.loads(allb[i, : int(lens[i])].tobytes()) for i in range(ctx.num_processes)]


def run_items(fn: Callable[[Any], Any], items: Sequence, ctx: Context | None = None) -> list | None:
    """Run ``fn`` over ``items`` split across the processes; gather the results on process 0.

    Process i runs items i, i + N, i + 2N, ... (N processes) in that order.  Every process must
    call this with the same items.  An exception raised by ``fn`` on any process is re-raised on
    every process after the gather (as :class:`DistributedError` naming the item, or the
    original exception when there is one process), so no process waits for a result that will
    never come.

    Args:
        fn: a function of one item; its result must be picklable.
        items: the work items, the same list on every process.
        ctx: the :class:`Context` (default: :func:`initialize`).

    Returns:
        On process 0 the list ``[fn(item) for item in items]`` in item order; None elsewhere.

    Example:
        >>> run_items(str, [1, 2], Context())
        ['1', '2']
    """
    ctx = _ctx(ctx)
    if not ctx.distributed:
        return [fn(x) for x in items]
    P, me = ctx.num_processes, ctx.process_id
    mine = {}
    err = None
    for i in range(me, len(items), P):
        try:
            mine[i] = fn(items[i])
        except HminError as e:
            err = (i, f"{e}")
            break
        except Exception as e:  # noqa: BLE001 - reported on every process, then raised
            err = (i, f"{type(e).__name__}: {e}")
            break
    gathered = allgather_objects((mine, err), ctx)
    errors = [(p, g[1]) for p, g in enumerate(gathered) if g[1] is not None]
    if errors:
        p, (i, msg) = errors[0]
        raise DistributedError(f"work item {i} failed on process {p} of {P}: {msg}")
    if not ctx.is_writer:
        return None
    out: dict = {}
    for g in gathered:
        out.update(g[0])
    return [out[i] for i in range(len(items))]


def _first_line(e: BaseException) -> str:
    """An exception's first line (its type's name when it has no message): JAX's runtime errors run to pages."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


_CLAIM_CALLS = itertools.count()  # one key prefix per call: every process calls in the same order


def _kv():
    """jax.distributed's key-value store client (the coordination service of `initialize`)."""
    from jax._src import distributed as jd

    return jd.global_state.client


def run_items_claimed(fn: Callable[[Any], Any], items: Sequence, ctx: Context | None = None, *,
                      on_result: Callable[[int, Any], None] | None = None, poll_s: float = 0.2) -> list | None:
    """Run ``fn`` over ``items`` across the processes, each process taking the next unclaimed item whenever it
    is free; process 0 receives every result as soon as it is done.

    Unlike :func:`run_items` (item i on process i mod N, one exchange at the end), no process waits for
    another before the last item: a process claims items from an atomic counter of ``jax.distributed``'s
    key-value store (lowest index first, so put long items first), and the others send each result to process
    0 through the store (pickled) right away. Which process runs an item depends on timing, so ``fn`` must
    not depend on the process it runs on (hmin's checks do not: their random streams come from the seed).
    An exception in an item stops every process: no new item is claimed anywhere; the process where it happened
    raises it, the others raise :class:`LostProcess` (process 0's names the item and the process).

    Args:
        fn: a function of one item; its result must be picklable.
        items: the work items, the same list on every process.
        ctx: the :class:`Context` (default: :func:`initialize`).
        on_result: called on process 0 as ``on_result(index, result)`` for every item, in the order the results
            arrive (process 0's own items right after they finish), e.g. to write what is complete.
        poll_s: seconds between process 0's looks at the store while it waits for the others.

    Returns:
        On process 0 the list ``[fn(item) for item in items]`` in item order; None elsewhere.

    Example:
        >>> seen = []
        >>> run_items_claimed(lambda x: x * x, [1, 2, 3], Context(), on_result=lambda i, r: seen.append(i))
        [1, 4, 9]
        >>> seen
        [0, 1, 2]
    """
    ctx = _ctx(ctx)
    n = len(items)
    if not ctx.distributed:
        out = []
        for i, x in enumerate(items):
            out.append(fn(x))
            if on_result is not None:
                on_result(i, out[-1])
        return out
    client, me = _kv(), ctx.process_id
    tag = f"hmin/claimed/{next(_CLAIM_CALLS)}"
    got: dict[int, Any] = {}

    def receive(i: int, res) -> None:
        got[i] = res
        if on_result is not None:
            on_result(i, res)

    def failed(i: int, p: int, msg: str) -> LostProcess:  # under the launcher, its line names process p
        return LostProcess(f"work item {i} failed on process {p} of {ctx.num_processes}: {msg}")

    def collect() -> None:  # process 0: the results the others have sent so far
        try:
            entries = client.key_value_dir_get_bytes(f"{tag}/r/")
        except Exception as e:  # noqa: BLE001 - the store is gone: a peer or the coordinator died
            raise LostProcess(f"process 0 of {ctx.num_processes} lost the coordination service: "
                              f"{_first_line(e)[:200]}") from None
        for key, blob in entries:
            client.key_value_delete(key)
            i = int(key.rsplit("/", 1)[1])
            status, p, res = pickle.loads(blob)
            if status == "err":
                raise failed(i, p, res)
            receive(i, res)

    def stopped() -> bool:
        try:
            client.key_value_try_get(f"{tag}/stop")
            return True
        except Exception:  # noqa: BLE001 - NOT_FOUND: nobody failed
            return False

    while not stopped():
        i = int(client.key_value_increment(f"{tag}/next", 1)) - 1
        if i >= n:
            break
        try:
            res = fn(items[i])
        except Exception as e:  # noqa: BLE001 - every process stops; this one raises its own exception
            if not ctx.is_writer:  # the message first, so that process 0 finds it when it sees the stop
                msg = f"{e}" if isinstance(e, HminError) else f"{type(e).__name__}: {e}"
                client.key_value_set_bytes(f"{tag}/r/{i}", pickle.dumps(("err", me, msg)))
            client.key_value_set(f"{tag}/stop", str(me))
            raise
        if ctx.is_writer:
            receive(i, res)
            collect()
        else:
            client.key_value_set_bytes(f"{tag}/r/{i}", pickle.dumps(("ok", me, res), protocol=pickle.HIGHEST_PROTOCOL))
    if not ctx.is_writer:
        if stopped():
            raise LostProcess(f"process {me} of {ctx.num_processes} stopped: a work item failed on another process")
        return None
    while len(got) < n:
        collect()
        if len(got) < n:
            if stopped():
                collect()  # the failing process's message
                raise LostProcess("a work item failed on another process")
            time.sleep(poll_s)
    return [got[i] for i in range(n)]


def row_block(n: int, ctx: Context | None = None) -> tuple[int, int]:
    """The contiguous rows [lo, hi) of an n-row pool that this process holds (ceil(n/P) each)."""
    ctx = _ctx(ctx)
    per = -(-n // ctx.num_processes)
    lo = min(n, ctx.process_id * per)
    return lo, min(n, lo + per)
