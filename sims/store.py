"""Results that survive: atomic writes, run directories keyed by a config hash, resume.

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so a reader never sees a half-written file and an interrupted run leaves either
the old file or the new one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from hmin.sims.errors import InputError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_save_npz",
    "config_hash",
    "to_jsonable",
    "as_float",
    "ensure_writable_dir",
    "RunStore",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def ensure_writable_dir(path: str | os.PathLike, what: str = "output directory") -> Path:
    """Check, without creating anything, that ``path`` is or can become a writable directory.

    A missing directory is fine when its nearest existing ancestor is a writable directory: the
    writers create it (``mkdir -p``) when they write the first file, so bad input found later
    leaves nothing behind.  Call it before any work starts.

    Args:
        path: the directory results will be written to.
        what: how to name it in the error message (e.g. ``"--out"``).

    Returns:
        ``Path(path)``.

    Raises:
        InputError: ``path`` (or an ancestor) exists and is not a directory, or the directory that
            would hold it is not writable.

    Examples:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> ensure_writable_dir(os.path.join(d, "new", "sub")).name
        'sub'
        >>> open(os.path.join(d, "f"), "w").close()
        >>> try:
        ...     ensure_writable_dir(os.path.join(d, "f", "sub"))
        ... except InputError as e:
        ...     print(str(e).endswith("f is a file, not a directory"))
        True
    """
    p = Path(path)
    probe = p
    while not probe.exists():
        if probe.is_symlink():
            raise InputError(f"{what} {p}: {probe} is a dangling symbolic link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(f"{what} {p}: {probe} is a file, not a directory" if probe != p
                         else f"{what} {p} exists and is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{what} {p}: {probe} is not writable")
    return p


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + ``os.replace``).

    Raises:
        InputError: the location cannot be written (a parent is a file, no permission, disk full).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results are for sharing
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise InputError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (`atomic_write_bytes`); returns the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/JAX scalars and arrays, tuples and paths into plain JSON types.

    Non-finite floats become ``None`` (JSON has no NaN) unless they are +-inf, which become the
    strings ``"inf"`` / ``"-inf"`` so that a reader can tell "diverged" from "missing".
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "__array__") and not isinstance(obj, (str, bytes)):
        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return [to_jsonable(v) for v in arr.tolist()]
    if isinstance(obj, (np.generic,)):
        return to_jsonable(obj.item())
    if isinstance(obj, float):
        if np.isnan(obj):
            return None
        if np.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        return obj
    return obj


def as_float(x) -> float:
    """A number read back from JSON written by :func:`to_jsonable`: None -> NaN, "inf"/"-inf" -> +-inf.

    Examples:
        >>> as_float(None), as_float("inf"), as_float(2)
        (nan, inf, 2.0)
    """
    return float("nan") if x is None else float(x)


def atomic_write_json(path: str | os.PathLike, obj: Any, *, sort_keys: bool = True) -> Path:
    """Write ``obj`` as JSON atomically (NaN/inf encoded by `to_jsonable`); ``sort_keys=False`` keeps the
    order of the dicts (the report card's "most telling number first")."""
    return atomic_write_text(path, json.dumps(to_jsonable(obj), indent=2, sort_keys=sort_keys) + "\n")


def atomic_save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """Save ``arrays`` (name -> array) as an ``.npz`` file at ``path`` atomically; returns the path."""
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write_bytes(path, buf.getvalue())


def config_hash(config: Mapping[str, Any], length: int = 12) -> str:
    """A stable short hash of a JSON-able config (key order does not matter)."""
    blob = json.dumps(to_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


class RunStore:
    """A directory of runs, one sub-directory per config hash.

    Each finished run holds ``config.json``, ``arrays.npz`` and ``metrics.json``; ``metrics.json``
    is written last, so its presence marks the run as finished and a restarted sweep skips it.

    Examples:
        >>> import tempfile
        >>> store = RunStore(tempfile.mkdtemp())
        >>> key = store.key({"eps": 1e-3, "seed": 0})
        >>> store.is_done(key)
        False
        >>> _ = store.save(key, {"eps": 1e-3, "seed": 0}, {"loss": [1.0, 0.5]}, {"steps": 2})
        >>> store.is_done(key), store.load_metrics(key)["steps"]
        (True, 2)
    """

    def __init__(self, root: str | os.PathLike):
        # nothing is created until the first unit is saved: bad input found later leaves no directory
        self.root = ensure_writable_dir(root)

    def key(self, config: Mapping[str, Any]) -> str:
        return config_hash(config)

    def path(self, key: str) -> Path:
        return self.root / key

    def is_done(self, key: str) -> bool:
        """True when the run finished: ``metrics.json`` parses and ``arrays.npz`` is a readable archive.

        A unit left half-written by an interrupted or damaged run (a missing, truncated or corrupt
        file) counts as not done, so the sweep computes it again and overwrites it atomically.
        """
        d = self.path(key)
        try:
            json.loads((d / "metrics.json").read_text())
            with zipfile.ZipFile(d / "arrays.npz") as z:
                z.namelist()
        except (OSError, ValueError, zipfile.BadZipFile):
            return False
        return True

    def save(self, key: str, config: Mapping[str, Any], arrays: Mapping[str, Any], metrics: Mapping[str, Any]) -> Path:
        d = self.path(key)
        atomic_write_json(d / "config.json", config)
        atomic_save_npz(d / "arrays.npz", **arrays)
        atomic_write_json(d / "metrics.json", metrics)  # last: marks the run finished
        return d

    def load_metrics(self, key: str) -> dict:
        return json.loads((self.path(key) / "metrics.json").read_text())

    def load_arrays(self, key: str) -> dict[str, np.ndarray]:
        with np.load(self.path(key) / "arrays.npz") as z:
            return {k: z[k] for k in z.files}
