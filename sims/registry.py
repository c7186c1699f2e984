"""The registry of statements: one `Entry` per statement, its words (`theory.Statement`) joined by id
with its numeric check (`Check`). Everything that lists statements is derived from it: the report
order, ``hmin verify --only``, ``results.json``, the random streams, the contract tests.

Where statements come from (nothing else is edited to add one):

* built-in: every module ``theory/<name>.py`` that defines ``STATEMENT`` and every module
  ``sims/checks/<name>.py`` that defines ``CHECK`` (joined by id; a module of ``sims/checks`` may also
  define its own ``STATEMENT``, so one file copied into ``sims/checks/`` is a complete statement);
* plug-ins: a file or an importable module named on the command line
  (``hmin verify --plugin my_statement.py``) or an installed package that declares an entry point in
  the group ``hmin.statements`` (``[project.entry-points."hmin.statements"] mine = "pkg.module"``).
  A plug-in module defines ``STATEMENT`` (a `theory.Statement`) and ``CHECK`` (a `Check`).

The contract of a `Check` (the smallest complete example is ``examples/relu_ntk_slope.py``, and
``docs/plugins.md`` walks through it):

* ``settings``: ``{"quick": S(...), "default": S(...), "full": S(...)}``, instances of one frozen
  dataclass ``S`` of the check's sizes (typed; no literals scattered through the code);
* ``measure(ctx) -> dict``: runs the experiment with ``ctx.settings`` and the statement's own random
  stream (``ctx.key()`` for JAX, ``ctx.rng()`` for NumPy); returns JSON-able numbers;
* ``judge(measured, **variant) -> Verdict``: the rule of the verdict, applied to the measured
  numbers; keyword arguments replace the prediction (the variant hooks);
* ``plot(measured, verdict, ctx) -> list[str]``: figures written with ``ctx.fig(name)``, returned as
  ``ctx.rel(path)``;
* ``false_variants``: ``{name: judge kwargs}``, each a false version of the prediction that ``judge``
  must turn into "violated" on a real measurement (the contract test checks every one);
* ``hypotheses`` (optional): ``{hypothesis: "certificate: ..." | "predictor: ..."}``, the hypotheses the
  check decides per run BEFORE measuring; runs that fail them get the verdict "outside hypothesis"
  (`sims.verdict.OUTSIDE`), a row with none inside is "outside hypothesis", one with too few inside is
  "inconclusive" and says so (`sims.verdict.too_few_inside`).

Example (what a plug-in file contains, in outline)::

    from hmin.theory import Statement
    from hmin.sims.registry import Check
    STATEMENT = Statement(id="X1", title="...", kind="OURS", paper_ref="", text="...", hypotheses=())
    CHECK = Check(id="X1", settings={"quick": S(2), "default": S(8), "full": S(64)},
                  measure=measure, judge=judge, plot=plot, false_variants={"slope 2": {"slope": 2.0}})
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hmin import _compat
from hmin.sims.errors import InputError, PluginError
from hmin.sims.verdict import Verdict
from hmin.sims.precision import uses_float64

__all__ = [
    "PRESETS",
    "ENTRY_POINT_GROUP",
    "FIELD_SOURCE",
    "Check",
    "CheckContext",
    "Entry",
    "Registry",
    "stream_seed",
    "builtin_registry",
    "registry",
    "run_check",
    "measure_and_judge",
    "plot_check",
    "non_json_path",
    "json_round_trip",
    "last_frame",
]

#: the presets every check gives settings for: smoke test, the report card, paper-grade
PRESETS = ("quick", "default", "full")
#: the entry-point group through which installed packages register statements
ENTRY_POINT_GROUP = "hmin.statements"


def stream_seed(seed: int, statement_id: str) -> int:
    """The seed of a statement's random stream: a hash of (base seed, statement id), 31 bits.

    Two statements never share a stream (unlike hand-made offsets such as ``5000 + seed``), and the
    stream of one statement does not change when another statement is added.

    Example:
        >>> stream_seed(0, "T5") != stream_seed(0, "C1"), stream_seed(0, "T5") == stream_seed(0, "T5")
        (True, True)
    """
    h = hashlib.sha256(f"hmin/{statement_id}/{int(seed)}".encode()).digest()
    return int.from_bytes(h[:4], "little") & 0x7FFFFFFF


@dataclasses.dataclass(frozen=True)
class CheckContext:
    """Where and how big a check runs, and its random stream.

    Attributes:
        preset: "quick" (seconds; smoke tests), "default" (the report card) or "full" (paper-grade).
        outdir: the report directory; figures go to ``outdir / "figures"``.
        seed: the base seed (``hmin verify --seed``).
        statement_id: the statement being checked; with ``seed`` it fixes the random stream.
        settings: the check's settings for this preset (set by `Entry.context`).
    """

    preset: str = "default"
    outdir: Path = Path("figures")
    seed: int = 0
    statement_id: str = ""
    settings: Any = None

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise InputError(f"unknown preset {self.preset!r}; choose from {PRESETS}")
        object.__setattr__(self, "outdir", Path(self.outdir))

    @property
    def stream(self) -> int:
        """This statement's seed: `stream_seed(seed, statement_id)`."""
        return stream_seed(self.seed, self.statement_id)

    def key(self, *path: int):
        """A JAX key of this statement's stream (``fold_in`` of each entry of ``path``)."""
        # here, not at import: JAX starts only when this runs
        import jax

        k = jax.random.PRNGKey(self.stream)
        for p in path:
            k = jax.random.fold_in(k, int(p))
        return k

    def rng(self, *path: int):
        """A NumPy generator of this statement's stream (independent sub-streams for different ``path``)."""
        import numpy as np  # here: the registry (core) is imported by the CLI's parser; NumPy loads when a check runs

        return np.random.default_rng([self.stream, *map(int, path)])

    @property
    def figdir(self) -> Path:
        d = self.outdir / "figures"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def fig(self, name: str) -> Path:
        """Path of a figure file ``figures/<name>`` under the report directory."""
        return self.figdir / name

    def rel(self, path: Path) -> str:
        """``path`` relative to the report directory (what a figure list stores)."""
        return str(Path(path).relative_to(self.outdir))


@dataclasses.dataclass(frozen=True)
class Check:
    """The numeric side of one statement (see the module docstring for the contract).

    Attributes:
        id: the statement id it checks.
        settings: preset name -> frozen dataclass instance (the same class for every preset).
        measure: ``measure(ctx) -> dict`` (JSON-able).
        judge: ``judge(measured, **variant) -> Verdict``.
        plot: ``plot(measured, verdict, ctx) -> list[str]``; None for no figures.
        false_variants: name -> keyword arguments of ``judge`` that state a false prediction; each must
            make the verdict "violated" on a real measurement.
        attack: optional `sims.surface.AttackSurface`: the search space, a parameterisation inside the
            hypotheses and a float64 margin (>= 0 where the claim holds) that ``hmin attack`` minimises.
        hypotheses: hypothesis of the statement -> how the check decides it BEFORE the measurement, per
            run ("certificate: ..." for a proof-grade test, "predictor: ..." for a stated rule that is not a
            proof); runs, rows or seeds that fail it get the verdict "outside hypothesis"
            (`sims.verdict.OUTSIDE`) instead of being judged.  Empty: every measured run is judged.
        shares: names of measurements this check shares with other checks at the same seed (computed once per
            process and cached there, e.g. T6 and C3: the planted-pair width sweep). ``hmin verify --processes N``
            runs the checks that share one, at one seed, on one process one after the other, so it is computed
            once. Empty: the check shares nothing.
    """

    id: str
    settings: Mapping[str, Any]
    measure: Callable[["CheckContext"], dict]
    judge: Callable[..., Verdict]
    plot: Callable[[dict, Verdict, "CheckContext"], list] | None = None
    false_variants: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    attack: Any = None
    hypotheses: Mapping[str, str] = dataclasses.field(default_factory=dict)
    shares: tuple[str, ...] = ()

    def __post_init__(self):
        if isinstance(self.shares, str) or not all(isinstance(x, str) and x for x in self.shares):
            raise PluginError(f"check {self.id}: shares must be a tuple of measurement names (strings), "
                              f"got {self.shares!r}")
        object.__setattr__(self, "shares", tuple(self.shares))
        bad = [h for h, how in dict(self.hypotheses).items()
               if not isinstance(how, str) or not how.startswith(("certificate:", "predictor:"))]
        if bad:
            raise PluginError(f"check {self.id}: hypotheses must map each hypothesis to how it is decided before "
                              f"the measurement, starting 'certificate:' or 'predictor:'; not so for {bad[:2]}")
        missing = [p for p in PRESETS if p not in self.settings]
        extra = [p for p in self.settings if p not in PRESETS]
        if missing or extra:
            raise PluginError(f"check {self.id}: settings must give exactly the presets {PRESETS}"
                              f"{'; missing ' + ', '.join(missing) if missing else ''}"
                              f"{'; unknown ' + ', '.join(extra) if extra else ''}")
        classes = {type(s) for s in self.settings.values()}
        if len(classes) != 1 or not all(dataclasses.is_dataclass(s) and not isinstance(s, type)
                                        for s in self.settings.values()):
            raise PluginError(f"check {self.id}: settings must be instances of one dataclass for every preset")
        cls = classes.pop()
        if not cls.__dataclass_params__.frozen:
            raise PluginError(f"check {self.id}: the settings dataclass {cls.__name__} must be frozen")
        for name in ("measure", "judge"):
            if not callable(getattr(self, name)):
                raise PluginError(f"check {self.id}: {name} must be callable")
        if self.plot is not None and not callable(self.plot):
            raise PluginError(f"check {self.id}: plot must be callable or None")
        if self.attack is not None:
            from hmin.sims.surface import AttackSurface

            if not isinstance(self.attack, AttackSurface):
                raise PluginError(f"check {self.id}: attack must be a sims.surface.AttackSurface or None, "
                                  f"got a {type(self.attack).__name__}")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One registered statement: its words and its check, joined by id, and where they came from.

    Attributes:
        id: the statement id.
        statement: the `theory.Statement` (words, kind, hypotheses, symbolic checks); None only for an
            error row.
        check: the `Check`; None only for an error row.
        source: "built-in", "plugin <file or module>" or "entry point <name>".
        files: source files whose contents fix the results (for the resume key).
        error: for a plug-in that could not be registered: what went wrong (the row is an error row).
    """

    id: str
    statement: Any = None
    check: Check | None = None
    source: str = "built-in"
    files: tuple[str, ...] = ()
    error: str = ""

    @property
    def title(self) -> str:
        return self.statement.title if self.statement is not None else self.id

    def context(self, preset: str = "default", outdir: str | Path = "figures", seed: int = 0) -> CheckContext:
        """The `CheckContext` of this statement for a preset, with its typed settings."""
        if self.check is None:
            raise InputError(f"statement {self.id} has no numeric check ({self.error or 'error'})")
        if preset not in PRESETS:
            raise InputError(f"unknown preset {preset!r}; choose from {PRESETS}")
        return CheckContext(preset=preset, outdir=Path(outdir), seed=seed, statement_id=self.id,
                            settings=self.check.settings[preset])

    def symbolic_checks(self) -> list:
        return [] if self.statement is None else self.statement.symbolic_checks()


_JSON_LEAVES = (str, int, float, bool, type(None))


def non_json_path(obj: Any, *, strict: bool = True, _path: str = "") -> str | None:
    """The key path of the first value in ``obj`` that JSON cannot hold, or None when there is none.

    ``strict``: only dicts with string keys, lists, tuples, str, int, float, bool and None (what the
    contract of ``measure`` asks for; a NumPy array is reported, since a judge would see a list after a JSON
    round trip). Not strict: NumPy/JAX arrays and scalars and paths are accepted too (`sims.store.to_jsonable`
    converts them).

    Example:
        >>> import numpy as np
        >>> non_json_path({"rows": [{"lam": 1.0}, {"lam": np.ones(2)}]}), non_json_path({"a": [1, 2]})
        ('rows[1].lam', None)
        >>> non_json_path({"f": print}, strict=False)
        'f'
    """
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            sub = f"{_path}.{k}" if _path else str(k)
            if not isinstance(k, str):
                return sub
            found = non_json_path(v, strict=strict, _path=sub)
            if found is not None:
                return found
        return None
    if isinstance(obj, (list, tuple)):
        for n, v in enumerate(obj):
            found = non_json_path(v, strict=strict, _path=f"{_path}[{n}]")
            if found is not None:
                return found
        return None
    if isinstance(obj, _JSON_LEAVES):
        return None
    if not strict:
        import numpy as np

        if isinstance(obj, (np.generic, Path)) or (hasattr(obj, "__array__") and hasattr(obj, "dtype")
                                                     and np.asarray(obj).dtype.kind in "biuf"):
            return None
    return _path or "<the measurement itself>"


def json_round_trip(measured: Any, check_id: str = "") -> Any:
    """``measured`` as ``results.json`` stores it and reads it back (`sims.store.to_jsonable`, then JSON).

    ``hmin verify`` judges this, never the in-process object, so an in-process verdict and one recomputed
    from the stored measurement cannot differ. A value JSON cannot hold raises `PluginError` naming its key
    path (e.g. ``rows[3].lam``).
    """
    import json

    from hmin.sims.store import to_jsonable

    bad = non_json_path(measured, strict=False)
    if bad is not None:
        obj = measured
        raise PluginError(f"check {check_id}: measure returned a value JSON cannot hold at key path {bad!r}"
                          f"{_type_at(obj, bad)}; return lists, numbers and strings")
    return json.loads(json.dumps(to_jsonable(measured)))


def _type_at(obj: Any, path: str) -> str:
    import re

    try:
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
            obj = obj[int(part[1:-1])] if part.startswith("[") else obj[part]
        return f" (a {type(obj).__name__})"
    except Exception:  # noqa: BLE001 - only a hint
        return ""


def last_frame(exc: BaseException) -> str:
    """``file:line in function`` of where ``exc`` was raised (a SyntaxError: where the bad line is).

    Example:
        >>> try:
        ...     1 / 0
        ... except ZeroDivisionError as e:
        ...     last_frame(e).split(":")[-1].startswith("2 in ")
        True
    """
    import traceback

    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    f = frames[-1]
    return f"{f.filename}:{f.lineno} in {f.name}"


@uses_float64
def measure_and_judge(check: Check, ctx: CheckContext) -> tuple[Verdict, dict]:
    """measure -> JSON round trip -> judge (no figures); returns the verdict and the measured numbers.

    The judge sees the measurement as ``results.json`` stores it (`json_round_trip`), so the verdict in
    process is the one a reader recomputes from the stored file. The first half of `run_check`;
    ``hmin verify --processes N`` runs it on the process that owns the check and `plot_check` on
    process 0 (the only one that writes).
    """
    measured = json_round_trip(check.measure(ctx), check.id)
    verdict = check.judge(measured)
    if not isinstance(verdict, Verdict):
        raise PluginError(f"check {check.id}: judge returned a {type(verdict).__name__}, not a sims.verdict.Verdict")
    if verdict.id != check.id:
        raise PluginError(f"check {check.id}: judge returned a verdict for {verdict.id!r}")
    return verdict, measured


@uses_float64
def plot_check(check: Check, measured: dict, verdict: Verdict, ctx: CheckContext) -> Verdict:
    """plot: the verdict with the figures the check's ``plot`` wrote (the second half of `run_check`)."""
    figures = tuple(check.plot(measured, verdict, ctx)) if check.plot is not None else ()
    return dataclasses.replace(verdict, figures=figures)


@uses_float64
def run_check(check: Check, ctx: CheckContext) -> tuple[Verdict, dict]:
    """measure -> judge -> plot; returns the verdict (with its figures) and the measured numbers."""
    verdict, measured = measure_and_judge(check, ctx)
    return plot_check(check, measured, verdict, ctx), measured


class Registry(Mapping):
    """id -> `Entry`, in report order (T1..Tn, C1..Cn, then other ids). A read-only mapping.

    Built by `builtin_registry` / `registry`; `with_plugins` returns a new registry with plug-ins added.
    """

    def __init__(self, entries: Iterable[Entry]):
        # here: the statements (sympy) load only when needed
        from hmin.theory import statement_sort_key

        entries = list(entries)
        self._entries = {e.id: e for e in sorted(entries, key=lambda e: statement_sort_key(e.id))}

    def __getitem__(self, sid: str) -> Entry:
        return self._entries[sid]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({', '.join(self._entries)})"

    def parse_only(self, only: str | Iterable[str] | None) -> list[str]:
        """Parse ``--only T4,T6`` (case-insensitive) into ids in report order; unknown ids are an InputError."""
        if not only:
            return list(self)
        items = only.split(",") if isinstance(only, str) else list(only)
        by_upper = {sid.upper(): sid for sid in self}
        wanted = [s.strip() for s in items if s.strip()]
        unknown = [s for s in wanted if s.upper() not in by_upper]
        if unknown or not wanted:
            broken = [f"{e.source}: {e.error}" for e in self._entries.values() if e.error and e.source != "built-in"]
            raise InputError(f"unknown statement id(s) {unknown or only!r} in --only; choose from {', '.join(self)}"
                             + (f". A plug-in failed to load, which may be why: {'; '.join(broken)}" if broken else ""))
        chosen = {by_upper[s.upper()] for s in wanted}
        return [sid for sid in self if sid in chosen]

    def with_plugins(self, specs: Iterable[str] = (), *, entry_points: bool = True) -> "Registry":
        """This registry plus the plug-ins named in ``specs`` (files or modules) and, with ``entry_points``,
        those declared by installed packages in the group ``hmin.statements``.

        A plug-in that cannot be loaded becomes an error row (``Entry.error``) named after it; a plug-in whose
        id collides with a registered one raises `PluginError` (a clear refusal, exit status 2).
        """
        entries = dict(self._entries)
        found: list[Entry] = []
        for spec in specs:
            found.append(_load_plugin_spec(spec))
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                found.append(_load_entry_point(ep))
        for e in found:
            if e.id in entries:
                prev = entries[e.id]
                if e.error:
                    raise PluginError(f"{e.source}: {e.error}")
                raise PluginError(f"{e.source} registers statement id {e.id!r}, which is already registered "
                                  f"({prev.source}); choose another id")
            entries[e.id] = e
        return Registry(entries.values())


# ----------------------------------------------------------------------------------------------
# building entries
# ----------------------------------------------------------------------------------------------


def _module_files(mod) -> tuple[str, ...]:
    f = getattr(mod, "__file__", None)
    return (str(Path(f).resolve()),) if f else ()


def _entry_from_module(mod, source: str, statement=None) -> Entry:
    """An `Entry` from a module that defines CHECK (and STATEMENT unless ``statement`` is given)."""
    # here: the statements (sympy) load only when needed
    from hmin.theory import Statement

    name = getattr(mod, "__name__", "?")
    st = getattr(mod, "STATEMENT", None) if statement is None else statement
    chk = getattr(mod, "CHECK", None)
    if st is None:
        raise PluginError(f"{name} defines no STATEMENT (a theory.Statement)")
    if not isinstance(st, Statement):
        raise PluginError(f"{name}.STATEMENT is a {type(st).__name__}, not a theory.Statement")
    if chk is None:
        raise PluginError(f"{name} defines no CHECK (a sims.registry.Check)")
    if not isinstance(chk, Check):
        raise PluginError(f"{name}.CHECK is a {type(chk).__name__}, not a sims.registry.Check")
    if chk.id != st.id:
        raise PluginError(f"{name}: CHECK.id {chk.id!r} differs from STATEMENT.id {st.id!r}")
    return Entry(st.id, st, chk, source, _module_files(mod))


def _error_entry(label: str, source: str, exc: BaseException) -> Entry:
    msg = str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
    where = "" if isinstance(exc, PluginError) else last_frame(exc)
    return Entry(label, None, None, source, (), msg + (f" (at {where})" if where else ""))


def _load_plugin_spec(spec: str) -> Entry:
    """Load ``spec`` (a .py file or an importable module name) as a plug-in; an error row if it fails.

    A plug-in written against hmin 0.1 imports ``sims``/``theory``: those names resolve to ``hmin.sims``/
    ``hmin.theory`` (with a DeprecationWarning) for the plug-ins this loader runs (`hmin._compat`).
    """
    _compat.install()
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        if not path.is_file():
            raise InputError(f"--plugin {spec}: no such file")
        label = f"plugin:{path.stem}"
        source = f"plugin {path}"
        # a module name that does not depend on where the file lies (docs quote it); another file of the
        # same name loaded in this process gets a numbered name
        modname, n = f"hmin_plugin_{path.stem}", 1
        while modname in sys.modules and getattr(sys.modules[modname], "__file__", None) != str(path.resolve()):
            n += 1
            modname = f"hmin_plugin_{path.stem}_{n}"
        try:
            mspec = importlib.util.spec_from_file_location(modname, path.resolve())
            mod = importlib.util.module_from_spec(mspec)
            sys.modules[modname] = mod
            mspec.loader.exec_module(mod)
            return _entry_from_module(mod, source)
        except Exception as e:  # noqa: BLE001 - a broken plug-in is an error row, not a crash
            sys.modules.pop(modname, None)
            return _error_entry(label, source, e)
    label, source = f"plugin:{spec}", f"plugin {spec}"
    try:
        return _entry_from_module(importlib.import_module(spec), source)
    except Exception as e:  # noqa: BLE001
        return _error_entry(label, source, e)


def _load_entry_point(ep) -> Entry:
    label, source = f"plugin:{ep.name}", f"entry point {ep.name} = {ep.value}"
    _compat.install()
    try:
        obj = ep.load()
        return _entry_from_module(obj, source)
    except Exception as e:  # noqa: BLE001
        return _error_entry(label, source, e)


_BUILTIN: Registry | None = None
#: the package whose modules ``<id>_<name>.py`` define the built-in checks
BUILTIN_CHECKS = "hmin.sims.checks"


def builtin_registry() -> Registry:
    """The statements shipped with hmin: ``theory`` statements joined with ``sims.checks`` checks, and the field's
    published theorems of ``hmin.sims.zoo`` (source "field ...", the report card's field section).

    A statement without a check, a check without a statement, or a check module that fails to import
    becomes an error row (``Entry.error``): ``verify`` still runs the others and reports it, and the
    registry contract test fails on it.
    """
    global _BUILTIN
    if _BUILTIN is not None:
        return _BUILTIN
    from hmin import theory  # here: the statements (sympy) load when a registry is first built, not at import

    # the built-in checks are found by package name, like plug-ins by entry point: the registry (core)
    # never imports a check statically, and each check imports the registry (no circle)
    checks_pkg = importlib.import_module(BUILTIN_CHECKS)

    statements = dict(theory.STATEMENTS)
    entries: dict[str, Entry] = {}
    broken: list[Entry] = []
    for info in pkgutil.iter_modules(checks_pkg.__path__):
        if info.name.startswith("_"):
            continue
        modname = f"{checks_pkg.__name__}.{info.name}"
        try:
            mod = importlib.import_module(modname)
        except Exception as e:  # noqa: BLE001 - reported as an error row, never hidden
            broken.append((info.name, e))
            continue
        chk = getattr(mod, "CHECK", None)
        if chk is None:
            continue
        own = getattr(mod, "STATEMENT", None)
        cid = getattr(chk, "id", info.name)
        st = own if own is not None else statements.get(cid)
        if st is None:
            entries[cid] = Entry(cid, None, None, "built-in", _module_files(mod),
                                 f"{modname}: check {cid!r} has no statement (no theory module defines it and the "
                                 "check module defines no STATEMENT)")
            continue
        try:
            entry = _entry_from_module(mod, "built-in", statement=st)
        except PluginError as e:
            entry = Entry(cid, st, None, "built-in", _module_files(mod), str(e))
        if entry.id in entries:
            entry = dataclasses.replace(entry, check=None, error=f"statement id {entry.id!r} is checked by two modules")
        entries[entry.id] = entry
    for name, e in broken:
        # the id is not known when the module does not import: guess it from the file name (t04_... -> T4)
        guess = name.split("_", 1)[0].upper()
        guess = guess[0] + str(int(guess[1:])) if guess[1:].isdigit() else name
        entries.setdefault(guess, Entry(guess, statements.get(guess), None, "built-in", (),
                                        f"hmin.sims.checks.{name} failed to import: {type(e).__name__}: {e}"))
    for entry in _field_entries():
        if entry.id in entries:
            entry = dataclasses.replace(entry, check=None, error=f"statement id {entry.id!r} of the field is already taken")
        entries[entry.id] = entry
    for sid, st in statements.items():
        if sid not in entries:
            entries[sid] = Entry(sid, st, None, "built-in", (), f"statement {sid} has no check in sims/checks "
                                 "(no module there defines CHECK with this id)")
    _BUILTIN = Registry(entries.values())
    return _BUILTIN


#: the ``source`` of the field's statements (published theorems shipped in ``hmin.sims.zoo``)
FIELD_SOURCE = "field"
#: the package whose modules are the field's statements
FIELD_PACKAGE = "hmin.sims.zoo"


def _field_entries() -> list[Entry]:
    """The published theorems of ``hmin.sims.zoo`` (each module a complete plug-in), source "field <module>";
    a module that fails to load is an error row, never hidden."""
    # found by package name, like the built-in checks: the registry (core) never imports a statement statically
    zoo_pkg = importlib.import_module(FIELD_PACKAGE)

    out = []
    for info in pkgutil.iter_modules(zoo_pkg.__path__):
        if info.name.startswith("_"):
            continue
        modname = f"{zoo_pkg.__name__}.{info.name}"
        source = f"{FIELD_SOURCE} {modname}"
        try:
            out.append(_entry_from_module(importlib.import_module(modname), source))
        except Exception as e:  # noqa: BLE001 - an error row
            out.append(_error_entry(f"field:{info.name}", source, e))
    return out


def registry(plugins: Iterable[str] = (), *, entry_points: bool = True) -> Registry:
    """The built-in statements plus plug-ins (``--plugin`` specs and, by default, installed entry points)."""
    return builtin_registry().with_plugins(plugins, entry_points=entry_points)

