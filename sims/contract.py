"""The contract sweep of one statement: what ``hmin check-plugin`` runs on a plug-in, item by item.

The same items the built-in statements get in ``tests/test_registry.py``: the plug-in loads; settings for
every preset (one frozen dataclass, JSON-able); the symbolic side runs and every negative control and
refuted draft comes out disproved; a quick measurement at seed 0 returns JSON types only (the key path of
the first that is not is named); ``judge`` gives a `Verdict` for this id with valid verdict and number
keys; a JSON round trip of the measurement leaves the verdict and its numbers unchanged; every false
variant is "violated"; ``plot`` writes the figures it returns. One `Item` per check, each with a one-line
message; the first failure that makes the rest meaningless (no module, no measurement) stops the sweep.

Example:
    >>> items = check_plugin("no_such_module_for_hmin")
    >>> items[0].ok, items[0].name, "ModuleNotFoundError" in items[0].message
    (False, 'loads', True)
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hmin.sims.errors import HminError

__all__ = ["Item", "contract_items", "iter_check_plugin", "check_plugin"]


@dataclasses.dataclass(frozen=True)
class Item:
    """One item of the contract sweep.

    Attributes:
        name: what was checked ("settings", "false variant 'slope 2'", ...).
        ok: whether it passed.
        message: one line: the number or the reason.
    """

    name: str
    ok: bool
    message: str = ""

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.message}"


def _err(e: BaseException) -> str:
    from hmin.sims.registry import last_frame

    where = last_frame(e)
    return f"{type(e).__name__}: {e}" + (f" (at {where})" if where else "")


def contract_items(entry, outdir: str | Path | None = None, *, preset: str = "quick") -> Iterator[Item]:
    """Run the contract on one registry `Entry`, yielding an `Item` per check as it finishes.

    Args:
        entry: a `sims.registry.Entry` (a built-in statement or a loaded plug-in).
        outdir: where the quick measurement may write figures (default: a temporary directory).
        preset: the preset measured (default "quick").
    """
    from hmin import theory
    from hmin.sims.registry import PRESETS, non_json_path
    from hmin.sims.store import to_jsonable
    from hmin.sims.verdict import INCONCLUSIVE, HOLDS, VIOLATED, Verdict

    if entry.error or entry.check is None or entry.statement is None:
        yield Item("loads", False, entry.error or "no STATEMENT/CHECK")
        return
    yield Item("loads", True, f"{entry.id} from {entry.source}")
    chk, st = entry.check, entry.statement

    try:
        classes = {type(s) for s in chk.settings.values()}
        for p in PRESETS:
            json.dumps(to_jsonable(dataclasses.asdict(chk.settings[p])))
        yield Item("settings", True, f"{', '.join(PRESETS)}: instances of {classes.pop().__name__}, JSON-able")
    except Exception as e:  # noqa: BLE001
        yield Item("settings", False, _err(e))

    if not st.paper_ref and st.kind == "EXACT":
        yield Item("paper_ref", False, "an EXACT statement is some paper's formula: paper_ref must name it")
    else:
        yield Item("paper_ref", True, st.paper_ref or "(none: the statement is the plug-in author's own)")

    try:
        sym = st.symbolic_checks()
        bad = [r.claim for r in sym if r.role is not theory.Role.CLAIM and r.status is not theory.Status.DISPROVED]
        if st.kind == "QUESTION" and sym:
            yield Item("symbolic", False, "a QUESTION has no symbolic side, but checks returned results")
        elif bad:
            yield Item("symbolic", False, f"a negative control or refuted draft is not disproved: {bad[0]!r}")
        else:
            counts = {s.value: sum(r.status is s for r in sym if r.role is theory.Role.CLAIM) for s in theory.Status}
            controls = sum(r.role is not theory.Role.CLAIM for r in sym)
            yield Item("symbolic", True, f"{len(sym)} results ({', '.join(f'{k} {v}' for k, v in counts.items() if v)}"
                       f"{'; ' if controls else ''}{controls or ''}{' controls disproved' if controls else ''})")
    except Exception as e:  # noqa: BLE001
        yield Item("symbolic", False, _err(e))

    tmp = None
    if outdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="hmin_check_plugin_")
        outdir = tmp.name
    try:
        ctx = entry.context(preset, outdir, 0)
        t0 = time.perf_counter()
        try:
            measured = chk.measure(ctx)
        except Exception as e:  # noqa: BLE001
            yield Item(f"measure ({preset})", False, _err(e))
            return
        yield Item(f"measure ({preset})", True, f"{time.perf_counter() - t0:.1f} s")

        bad = non_json_path(measured, strict=True)
        if bad is not None:
            yield Item("JSON types", False, f"key path {bad!r} is not a JSON type (lists, numbers, strings, dicts); "
                       "hmin verify stores it converted, so the judge would see another object")
        else:
            yield Item("JSON types", True, "dicts, lists, numbers and strings only")

        try:
            v = chk.judge(measured)
            if not isinstance(v, Verdict):
                raise HminError(f"judge returned a {type(v).__name__}, not a sims.verdict.Verdict")
            if v.id != entry.id:
                raise HminError(f"judge returned a verdict for {v.id!r}, not {entry.id!r}")
            if v.verdict not in (HOLDS, VIOLATED, INCONCLUSIVE):
                raise HminError(f"verdict {v.verdict!r} is not one of holds / violated / inconclusive")
            yield Item("judge", True, f"{v.verdict}; rule: {v.rule[:80]}{'...' if len(v.rule) > 80 else ''}")
        except Exception as e:  # noqa: BLE001
            yield Item("judge", False, _err(e))
            return
        yield Item("power", bool(v.power), v.power[:100] if v.power else "the verdict says no power (what error would it catch?)")

        try:
            back = json.loads(json.dumps(to_jsonable(measured)))
            v2 = chk.judge(back)
            same = v2.verdict == v.verdict and (json.dumps(to_jsonable(v2.numbers), sort_keys=True)
                                                == json.dumps(to_jsonable(v.numbers), sort_keys=True))
            yield Item("JSON round trip", same, "same verdict and numbers after a round trip" if same else
                       f"the verdict or numbers change after a JSON round trip ({v.verdict} -> {v2.verdict})")
        except Exception as e:  # noqa: BLE001
            yield Item("JSON round trip", False, _err(e))

        if not chk.false_variants:
            yield Item("false variants", False, "none declared: nothing shows that the rule can fail")
        for name, kwargs in chk.false_variants.items():
            try:
                fv = chk.judge(measured, **kwargs).verdict
                yield Item(f"false variant {name!r}", fv == VIOLATED, f"{fv} (must be violated)")
            except Exception as e:  # noqa: BLE001
                yield Item(f"false variant {name!r}", False, _err(e))

        if chk.plot is not None:
            try:
                figs = list(chk.plot(measured, v, ctx))
                missing = [f for f in figs if not (Path(outdir) / f).exists()]
                yield Item("plot", not missing, f"{len(figs)} figure(s)" if not missing else f"missing {missing[0]}")
            except Exception as e:  # noqa: BLE001
                yield Item("plot", False, _err(e))
    finally:
        if tmp is not None:
            tmp.cleanup()


def iter_check_plugin(spec: str, outdir: str | Path | None = None, *, preset: str = "quick") -> Iterator[Item]:
    """Load ``spec`` (a .py file or an importable module) as a plug-in and yield `contract_items` on it."""
    from hmin.sims.registry import builtin_registry, _load_plugin_spec

    entry = _load_plugin_spec(spec)  # a file that does not exist is a bad option (InputError), not a failed item
    if not entry.error and entry.id in builtin_registry():
        shipped = builtin_registry()[entry.id]
        if set(shipped.files) != set(entry.files):  # the shipped statement itself (a zoo module) may be checked
            yield Item("loads", False, f"statement id {entry.id!r} is already registered ({shipped.source}); "
                                       "choose another id")
            return
    yield from contract_items(entry, outdir, preset=preset)


def check_plugin(spec: str, outdir: str | Path | None = None, *, preset: str = "quick") -> list[Item]:
    """`iter_check_plugin` as a list: the items in order; all ``ok`` iff the plug-in meets the contract."""
    return list(iter_check_plugin(spec, outdir, preset=preset))
