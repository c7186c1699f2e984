"""hmin's on-disk caches: JAX's persistent compilation cache, the symbolic results of verify, and C5's step tuning.

All three live under one user cache directory (`cache_dir`):

* ``$HMIN_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/hmin``, else ``~/.cache/hmin``;
* ``jax/``: compiled XLA programs (`enable_compile_cache`). A second ``hmin verify`` loads the
  executables instead of compiling them again. JAX keys each entry by the program, the jax/jaxlib
  versions, the backend and its flags, so a stale entry is never used. The directory is bounded
  (`COMPILE_CACHE_MAX_BYTES`, least recently written entries deleted first, once when the cache is turned
  on: `prune_compile_cache`); several processes (``--processes``, parallel runs) may share it (one that
  reads an entry another is writing recompiles the program).
* ``symbolic/``: the symbolic side of each statement (`load_symbolic` / `store_symbolic`), keyed by
  the statement's code version (the key that makes ``hmin verify`` resumable) and the sympy version.
* ``results/``: deterministic intermediate results that every run of the same code recomputes otherwise
  (`load_result` / `store_result`, with `result_lock` so that several processes compute one once): C5's
  step-size tuning on its fixed tuning seeds, keyed by the code version, the configuration, the jax/jaxlib
  versions and the backend and device.

Nothing here happens at ``import hmin``: the command line turns the caches on (``hmin verify``).
``--no-cache`` or ``HMIN_CACHE=0`` turns them all off; deleting the directory is always
safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

__all__ = ["cache_dir", "caches_enabled", "enable_caches", "enable_compile_cache", "prune_compile_cache",
           "load_symbolic", "store_symbolic", "load_result", "store_result", "result_lock",
           "ENV_CACHE", "ENV_CACHE_DIR", "COMPILE_CACHE_MAX_BYTES"]

#: ``HMIN_CACHE=0`` (or off/no/false) turns the caches off
ENV_CACHE = "HMIN_CACHE"
#: where the caches live (default ``$XDG_CACHE_HOME/hmin`` or ``~/.cache/hmin``)
ENV_CACHE_DIR = "HMIN_CACHE_DIR"
#: the compilation cache's bound on disk; the least recently written programs go first beyond it (`prune_compile_cache`)
COMPILE_CACHE_MAX_BYTES = 2 * 2**30

_OFF = ("0", "off", "no", "false")

#: the symbolic and result caches are read and written only after `enable_caches` (the command line calls it):
#: a library call or a test that swaps a statement's symbolic checks never sees a stale entry
_SYMBOLIC_ON = False


def caches_enabled() -> bool:
    """False when ``HMIN_CACHE`` says off (``0``, ``off``, ``no``, ``false``)."""
    return os.environ.get(ENV_CACHE, "1").strip().lower() not in _OFF


def cache_dir() -> Path:
    """The user cache directory of hmin (``$HMIN_CACHE_DIR``, ``$XDG_CACHE_HOME/hmin`` or ``~/.cache/hmin``).

    Example:
        >>> import os; os.environ["HMIN_CACHE_DIR"] = "/tmp/hmin-doc-cache"
        >>> str(cache_dir())
        '/tmp/hmin-doc-cache'
        >>> del os.environ["HMIN_CACHE_DIR"]
    """
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "hmin"


def enable_caches(directory: str | Path | None = None) -> Path | None:
    """Turn on both caches of this process under ``directory`` (default `cache_dir`): what ``hmin verify``
    does first, unless ``--no-cache`` or ``HMIN_CACHE=0``.

    Returns:
        The compilation cache's directory, or None when the caches stay off.
    """
    global _SYMBOLIC_ON
    if not caches_enabled():
        return None
    if directory is not None:
        os.environ[ENV_CACHE_DIR] = str(directory)  # the symbolic cache and any --processes children follow
    _SYMBOLIC_ON = True
    return enable_compile_cache()


def enable_compile_cache(directory: str | Path | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache under ``directory`` (default ``cache_dir() / "jax"``).

    Every program is cached however fast it compiled (hmin's programs are many and small: JAX's default
    keeps only those that took a second). The directory is bounded by `COMPILE_CACHE_MAX_BYTES`, once per process
    (`prune_compile_cache`), not by JAX's own LRU bound. Several processes can share it: JAX writes an entry only
    where none exists and reads without a lock; a process that reads an entry while another writes or prunes it
    recompiles that program (JAX warns), so a shared cache costs at worst a compile, never a wrong program (a key
    names the exact computation, compiler options and versions). A directory that cannot be created leaves the
    cache off (returns None) rather than failing the run.

    Returns:
        The directory in use, or None when the caches are off (``HMIN_CACHE=0``) or it is not writable.
    """
    if not caches_enabled():
        return None
    path = Path(directory) if directory is not None else cache_dir() / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(path, os.W_OK):
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    # JAX's own bound (jax_compilation_cache_max_size) rescans the whole directory under a file lock on every
    # write: 25 ms per new program at 300 entries, 230 ms at 3000, 1.5 s at 20000 (BENCHMARKS.md), so a cold run
    # of a few hundred programs would slow down as the cache fills. hmin bounds the directory itself, once, here.
    jax.config.update("jax_compilation_cache_max_size", -1)
    prune_compile_cache(path, COMPILE_CACHE_MAX_BYTES)
    return path


def prune_compile_cache(path: str | Path, max_bytes: int) -> int:
    """Delete the compilation cache's least recently written entries until ``path`` holds at most ``max_bytes``
    of them (with the access-time file JAX's own bound kept beside each); returns how many were deleted. One pass
    over the directory (`enable_compile_cache` calls it once per process). A process that reads an entry deleted
    under it recompiles the program (JAX warns).

    Example:
        >>> import os, tempfile
        >>> d = tempfile.mkdtemp()
        >>> for i in range(3):
        ...     with open(os.path.join(d, f"p{i}-cache"), "wb") as f:
        ...         _ = f.write(b"x" * 100)
        ...     os.utime(os.path.join(d, f"p{i}-cache"), (i, i))
        >>> open(os.path.join(d, "p0-atime"), "wb").close()  # as JAX's own LRU bound left them
        >>> prune_compile_cache(d, 250), sorted(os.listdir(d))
        (1, ['p1-cache', 'p2-cache'])
    """
    entries, total = [], 0
    for f in Path(path).glob("*-cache"):
        try:
            st = f.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, f.name, st.st_size, f))
        total += st.st_size
    removed = 0
    for _, _, size, f in sorted(entries):
        if total <= max_bytes:
            break
        try:
            f.unlink()
        except OSError:
            continue
        f.with_name(f.name[:-len("-cache")] + "-atime").unlink(missing_ok=True)  # left by JAX's own LRU bound
        total -= size
        removed += 1
    return removed


def _on() -> bool:
    """Whether the symbolic and result caches are read and written (`_SYMBOLIC_ON`, and not ``HMIN_CACHE=0``)."""
    return _SYMBOLIC_ON and caches_enabled()


def _write_json(path: Path, obj) -> None:
    """Write a cache entry atomically; a cache that cannot be written is no cache, not a failed run."""
    from hmin.sims.errors import InputError
    from hmin.sims.store import atomic_write_json

    try:
        atomic_write_json(path, obj)
    except (OSError, InputError):
        pass


def _symbolic_path(key: str) -> Path:
    return cache_dir() / "symbolic" / f"{key}.json"


def symbolic_key(code_key: str) -> str:
    """The cache key of a statement's symbolic side: its code key and the sympy version."""
    import sympy

    return hashlib.sha256(f"{code_key}|sympy {sympy.__version__}".encode()).hexdigest()[:24]


def load_symbolic(code_key: str) -> dict | None:
    """The cached symbolic side for ``code_key`` (see `store_symbolic`), or None (absent, unreadable, off)."""
    if not _on():
        return None
    try:
        out = json.loads(_symbolic_path(symbolic_key(code_key)).read_text())
    except (OSError, ValueError):
        return None
    return out if isinstance(out, dict) and "status" in out else None


def store_symbolic(code_key: str, result: dict) -> None:
    """Keep a statement's symbolic side for the next run (atomically; an error result is not kept)."""
    if not _on() or result.get("status") == "error":
        return
    _write_json(_symbolic_path(symbolic_key(code_key)), result)


def _result_path(kind: str, key: str) -> Path:
    digest = hashlib.sha256(f"{kind}|{key}".encode()).hexdigest()[:24]
    return cache_dir() / "results" / f"{kind}-{digest}.json"


def load_result(kind: str, key: str) -> dict | None:
    """A cached intermediate result (`store_result`), or None (absent, unreadable, or the caches off: like the
    symbolic cache, it is read only after `enable_caches`, i.e. from the command line)."""
    if not _on():
        return None
    try:
        out = json.loads(_result_path(kind, key).read_text())
    except (OSError, ValueError):
        return None
    return out.get("value") if isinstance(out, dict) and out.get("key") == key else None


def store_result(kind: str, key: str, value: dict) -> None:
    """Keep a deterministic intermediate result for the next run (atomically; the full key is stored with it and
    checked on reading). ``key`` must name everything the result depends on: the code version among them."""
    if _on():
        _write_json(_result_path(kind, key), {"kind": kind, "key": key, "value": value})


@contextlib.contextmanager
def result_lock(kind: str, key: str):
    """A lock on one result's entry, across processes (``filelock``), so that processes that need the same result
    at once compute it once: the first computes and stores it, the others wait and load it. A no-op when the
    caches are off or the lock cannot be created."""
    if not _on():
        yield
        return
    try:
        import filelock

        path = _result_path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path) + ".lock")
        lock.acquire()
    except (ImportError, OSError):
        yield
        return
    try:
        yield
    finally:
        lock.release()
