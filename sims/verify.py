"""``hmin verify`` as a library function: every registered statement's symbolic and numeric check.

`run_verify` runs, for each statement of the registry (`sims.registry`: the built-in T1..T10, C1,
C3, ..., plus plug-ins) and each requested seed, the symbolic checks of the statement (sympy;
three-valued; once per statement) and the numeric check (measure -> judge -> plot). A check that
crashes, or a plug-in that cannot be loaded, is an error row with its message; the others still run.
After every check ``results.json`` and the reports are rewritten atomically, so an interrupted run
keeps what it finished, and the same command started again reuses those checks (each is keyed by
statement, preset, seed and the code's version); ``--only`` merges into an existing
``results.json`` instead of discarding the other rows.

With several seeds (``--seeds 0-4``) each check runs once per seed and its row carries every seed's
verdict and one combined verdict under `COMBINED_RULE`.

With several processes (``hmin verify --processes N``, `run_verify`'s ``ctx``) the checks not done yet
are work items (a symbolic side; a check at a seed, with the checks that share its measurement) that each
process takes as soon as it is free, longest first (`sims.distributed.run_items_claimed`); process 0 plots
and writes, and ``results.json`` is rewritten after each statement whose items are all in, in statement
order. Verdicts and numbers are those of one process.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata as md
import json
import pickle
import platform
import re
import tempfile
import time
import traceback
from collections.abc import Iterable
import logging
from pathlib import Path

from hmin.sims.distributed import allgather_objects, alone, run_items_claimed
from hmin.sims.errors import InputError
from hmin.sims.registry import (PRESETS, CheckContext, Entry, Registry, last_frame, measure_and_judge, plot_check,
                                 registry)
from hmin.sims.report import write_reports
from hmin.sims.store import atomic_write_json, to_jsonable
from hmin.sims.precision import uses_float64
from hmin.sims.progress import progress

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = ["FRESH_SEEDS", "run_confirmation", "run_verify", "parse_only", "parse_seeds", "exit_status", "combine_verdicts", "summarise_symbolic",
           "code_version", "COMBINED_RULE"]

#: the file name of the results under the report directory
RESULTS = "results.json"

#: the fresh seeds of the confirmation run (docs/preregistration.md): committed before any rule that was
#: rewritten after looking at data was run on them; used only by ``hmin verify --confirm``.
FRESH_SEEDS = "7316-7325"
CONFIRMATION_DIR = "confirmation"

#: the rule that combines the verdicts of several seeds into one (``hmin verify --seeds``)
COMBINED_RULE = ("combined over seeds: seeds outside the statement's hypotheses (decided before measuring) are left "
                 "out (all outside: outside hypothesis); holds if the check holds on every other seed; violated if it "
                 "ran on every seed and is violated on at least half of the others (each 'violated' is certain by the "
                 "check's own rule, and it must recur); otherwise inconclusive (the verdict depends on the seed)")


def parse_only(only: str | None, reg: Registry | None = None) -> list[str]:
    """Parse ``--only T4,T6`` into ids (case-insensitive), in report order; unknown ids are an InputError."""
    return (reg if reg is not None else registry()).parse_only(only)


def parse_seeds(text: str | Iterable[int] | None) -> list[int]:
    """Parse ``--seeds`` ("0-4", "0,2,5", "1-3,7") into a list of distinct non-negative seeds, in order.

    Examples:
        >>> parse_seeds("0-2,7"), parse_seeds("5")
        ([0, 1, 2, 7], [5])
    """
    if text is None:
        return [0]
    if not isinstance(text, str):
        seeds = [int(s) for s in text]
    else:
        seeds = []
        for part in (p.strip() for p in text.split(",")):
            m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
            if not m:
                raise InputError(f"--seeds {text!r}: use non-negative integers and ranges such as 0-4 or 0,2,5")
            a, b = int(m.group(1)), int(m.group(2) or m.group(1))
            if b < a:
                raise InputError(f"--seeds {text!r}: the range {part} is empty")
            if b - a > 1000:
                raise InputError(f"--seeds {text!r}: more than 1000 seeds in {part}")
            seeds.extend(range(a, b + 1))
    if not seeds or any(s < 0 for s in seeds):
        raise InputError(f"--seeds {text!r}: seeds must be non-negative integers")
    return list(dict.fromkeys(seeds))


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("jax", "jaxlib", "optax", "numpy", "scipy", "sympy", "matplotlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


_CODE_VERSION: str | None = None


def code_version() -> str:
    """A hash of every source file of the ``sims`` and ``theory`` packages (the resume key's code part)."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        from hmin import sims, theory  # here: the statements (sympy) load only when a code version is needed

        h = hashlib.sha256()
        for pkg in (sims, theory):
            root = Path(pkg.__file__).parent
            for f in sorted(root.rglob("*.py")):
                h.update(str(f.relative_to(root.parent)).encode())
                h.update(f.read_bytes())
        _CODE_VERSION = h.hexdigest()[:16]
    return _CODE_VERSION


def _entry_key(entry: Entry, head: str) -> str:
    """sha256 of ``head`` and the bytes of the entry's source files (an unreadable file is skipped), 16 hex."""
    h = hashlib.sha256(head.encode())
    for f in entry.files:
        try:
            h.update(Path(f).read_bytes())
        except OSError:
            pass
    return h.hexdigest()[:16]


def _cache_key(entry: Entry, preset: str, seed: int) -> str:
    return _entry_key(entry, f"{code_version()}|{entry.id}|{preset}|{seed}|{entry.source}")


def summarise_symbolic(results: list[dict]) -> dict:
    """Status of a statement's symbolic side from its results (dicts with ``status`` and ``role``).

    Claims decide the status (any disproved -> "disproved"; else any unproven -> "unproven"; else
    "proved"; no claims -> "none"). Negative controls and refuted drafts are counted apart and must
    come out disproved; one that does not makes the status "error" (the checker cannot tell true from
    false, or a refuted draft is no longer refuted).

    Example:
        >>> summarise_symbolic([{"status": "proved", "role": "claim"},
        ...                     {"status": "disproved", "role": "control"}])["status"]
        'proved'
    """
    by_role = {"claim": [], "control": [], "refuted draft": []}
    for r in results:
        by_role.setdefault(r.get("role", "claim"), []).append(r)
    own, controls, drafts = by_role["claim"], by_role["control"], by_role["refuted draft"]
    counts = {s: sum(r["status"] == s for r in own) for s in ("proved", "disproved", "unproven")}
    counts.update(controls=len(controls), controls_refuted=sum(r["status"] == "disproved" for r in controls),
                  drafts=len(drafts), drafts_refuted=sum(r["status"] == "disproved" for r in drafts))
    error = ""
    if counts["controls_refuted"] < counts["controls"]:
        error = "a negative control (a deliberately false variant) was not refuted: the checker cannot tell true from false"
    elif counts["drafts_refuted"] < counts["drafts"]:
        error = "a refuted draft was not refuted by its counterexample"
    if error:
        status = "error"
    elif counts["disproved"]:
        status = "disproved"
    elif counts["unproven"]:
        status = "unproven"
    elif own:
        status = "proved"
    else:
        status = "none"
    out = {"status": status, "counts": counts}
    if error:
        out["error"] = error
    return out


def _symbolic(entry: Entry) -> dict:
    t0 = time.perf_counter()
    results = [r.to_dict() for r in entry.symbolic_checks()]
    out = summarise_symbolic(results)
    out.update(results=results, wall_s=time.perf_counter() - t0)
    return out


def _statement_info(entry: Entry) -> dict:
    st = entry.statement
    info = {"id": entry.id, "title": entry.title, "source": entry.source}
    if st is not None:
        info.update(kind=st.kind, paper_ref=st.paper_ref, text=st.text, hypotheses=list(st.hypotheses))
    if entry.check is not None and entry.check.hypotheses:
        info["hypotheses_checked_before"] = dict(entry.check.hypotheses)
    return info


def _measure(entry: Entry, preset: str, outdir: Path, seed: int, ctx: CheckContext | None = None) -> dict:
    """measure -> judge of one check at one seed: the verdict and measurement, or the error's fields;
    ``phases``: where the time went (`sims.phases.jax_phases`: compile, trace, run seconds, programs).
    ``ctx``: the check's context if the caller built it (it is then shared with `_finish`)."""
    from hmin.sims.phases import jax_phases

    t0 = time.perf_counter()
    part: dict = {"seed": seed}
    with jax_phases() as ph:
        try:
            if entry.check is None:
                raise RuntimeError(entry.error or f"statement {entry.id} has no check")
            ctx = ctx if ctx is not None else entry.context(preset, outdir, seed)
            part["verdict"], part["measured"] = measure_and_judge(entry.check, ctx)
        except Exception as e:  # noqa: BLE001 - recorded and reported, never hidden
            where = "" if entry.check is None else last_frame(e)
            part["error"] = (str(e) if entry.check is None
                             else f"{type(e).__name__}: {e}" + (f" (at {where})" if where else ""))
            part["traceback"] = "" if entry.check is None else traceback.format_exc(limit=12)
    part["wall_s"] = time.perf_counter() - t0
    part["phases"] = ph.to_dict()
    return part


def _finish(entry: Entry, preset: str, outdir: Path, part: dict, plot: bool = True,
            ctx: CheckContext | None = None) -> dict:
    """plot (when ``plot``: the report shows the first seed's figures only) and write the measurement of
    a `_measure` result: the row's fields (an error row on failure).
    ``ctx``: the context the measurement used, when it ran in this process with this ``outdir``."""
    t0 = time.perf_counter()
    out: dict = {"seed": part["seed"]}
    try:
        if "error" in part:
            raise _Failed(part["error"], part["traceback"])
        verdict, measured = part["verdict"], part["measured"]
        if plot:
            from hmin.sims.plotting import record_saves

            ctx = ctx if ctx is not None else entry.context(preset, outdir, part["seed"])
            with record_saves() as saves:
                verdict = plot_check(entry.check, measured, verdict, ctx)
            out["figure_s"] = {name: round(sec, 3) for name, sec, _ in saves}
        out.update(verdict.to_dict())
        out["id"] = entry.id
        out["status"] = "ran"
        atomic_write_json(outdir / "measured" / f"{entry.id}.json", measured)
    except Exception as e:  # noqa: BLE001 - recorded and reported, never hidden
        msg, tb = (e.msg, e.tb) if isinstance(e, _Failed) else (f"{type(e).__name__}: {e}", traceback.format_exc(limit=6))
        out.update(verdict="error", status="error", error=msg, traceback=tb,
                   numbers={}, labels={}, figures=[], rule="", notes="", power="")
    out["phases"] = {**part.get("phases", {}), "plot_s": round(time.perf_counter() - t0, 3),
                     "figures": out.pop("figure_s", {})}
    out["wall_s"] = part["wall_s"] + time.perf_counter() - t0
    out["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return out


class _Failed(Exception):
    def __init__(self, msg: str, tb: str):
        super().__init__(msg)
        self.msg, self.tb = msg, tb


def _numeric(entry: Entry, preset: str, outdir: Path, seed: int, plot: bool = True) -> dict:
    """One numeric check at one seed: the verdict's fields, status, wall time; an error row on failure.

    The check's context is built once and shared by measure -> judge and plot."""
    try:
        ctx = entry.context(preset, outdir, seed) if entry.check is not None else None
    except Exception:  # noqa: BLE001 - `_measure` builds it again and records the error in the row
        ctx = None
    return _finish(entry, preset, outdir, _measure(entry, preset, outdir, seed, ctx), plot, ctx)


def combine_verdicts(verdicts: list[str]) -> str:
    """The combined verdict over seeds under `COMBINED_RULE`.

    Seeds outside the statement's hypotheses (decided before measuring) are left out; all outside ->
    "outside hypothesis".

    Examples:
        >>> combine_verdicts(["holds"] * 5), combine_verdicts(["holds", "violated", "holds"])
        ('holds', 'inconclusive')
        >>> combine_verdicts(["violated", "violated", "holds"]), combine_verdicts(["holds", "error"])
        ('violated', 'error')
        >>> combine_verdicts(["holds", "outside hypothesis", "holds"]), combine_verdicts(["outside hypothesis"])
        ('holds', 'outside hypothesis')
    """
    from hmin.sims.verdict import HOLDS, INCONCLUSIVE, OUTSIDE, VIOLATED

    if not verdicts:
        return INCONCLUSIVE.value
    if any(v == "error" for v in verdicts):
        return "error"
    inside = [v for v in verdicts if v != OUTSIDE]
    if not inside:
        return OUTSIDE.value
    if all(v == HOLDS for v in inside):
        return HOLDS.value
    if 2 * sum(v == VIOLATED for v in inside) >= len(inside):
        return VIOLATED.value
    return INCONCLUSIVE.value


def _seed_outdir(outdir: Path, seed: int, primary: bool) -> Path:
    return outdir if primary else outdir / "seeds" / f"seed{seed}"


def exit_status(results: dict, ids: list[str], strict: bool) -> int:
    """0 when every requested check ran; 1 when one could not run; with ``strict`` also 1 on violated."""
    rows = [results[i] for i in ids if i in results]
    if any(r.get("status") == "error" or r.get("symbolic", {}).get("status") == "error"
           or r.get("combined", {}).get("verdict") == "error" for r in rows):
        return 1
    if strict and any(r.get("verdict") == "violated" or r.get("combined", {}).get("verdict") == "violated"
                      or r.get("symbolic", {}).get("status") == "disproved" for r in rows):
        return 1
    return 0


def _as_dict(x) -> dict:
    """``x`` if it is a mapping, else empty: a results.json or time hint of any age may lack an entry."""
    return x if isinstance(x, dict) else {}


def _seconds(t) -> float | None:
    """``t`` as seconds (a number >= 0), None where it is missing or malformed."""
    return float(t) if isinstance(t, (int, float)) and t >= 0 else None


def _wall_s(part) -> float | None:
    """A results.json part's ``wall_s`` (`_seconds`)."""
    return _seconds(_as_dict(part).get("wall_s"))


def _load_results(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        res = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        log(f"[verify] {path} is not readable JSON (an interrupted write?); starting a new one")
        return {}
    return _as_dict(res)


@uses_float64
def run_verify(preset: str = "default", outdir: str | Path = "figures", *, only: str | None = None,
               seed: int = 0, seeds: Iterable[int] | str | None = None, plugins: Iterable[str] = (),
               reg: Registry | None = None, ctx=None, all_figures: bool = False) -> dict | None:
    """Run the checks, write ``results.json``, ``report.md``, ``report.html``; return the results.

    Args:
        preset: "quick", "default" or "full".
        outdir: the report directory (figures under ``outdir/figures``).
        only: comma-separated statement ids (e.g. "T4,T6"); default all. Error rows of plug-ins that
            could not be loaded are always included.
        seed: the base seed when ``seeds`` is not given.
        seeds: several base seeds ("0-4", or a list): every check runs on each, and each row gets the
            per-seed verdicts and a combined verdict (`COMBINED_RULE`). The first seed's figures and
            numbers are the row's own; the figures are drawn for it alone unless ``all_figures``.
        plugins: plug-in specs (``.py`` files or module names) added to the registry.
        reg: the registry to use (default: built-in statements, ``plugins`` and installed entry points).
        ctx: a :class:`sims.distributed.Context` of several processes (``hmin verify --processes N``;
            every process calls this with the same arguments). The work not done yet (each symbolic side,
            and each seed's measure -> judge) is taken by whichever process is free, longest first
            (:func:`sims.distributed.run_items_claimed`; checks that share a measurement at a seed together),
            each check whole on one process (:func:`sims.distributed.alone`); process 0 receives it, plots,
            writes each statement once its work is in and returns the results;
            the other processes write nothing and return None (a check whose measure keeps its own
            cache under the report directory, such as C5, keeps it in a temporary directory there,
            removed afterwards). Verdicts and numbers are those of one process.

    Returns:
        The results dict (as written to ``results.json``): id -> row, and "meta"; None on a process
        other than 0.
    """
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    seed_list = parse_seeds(seeds) if seeds is not None else parse_seeds([seed])
    reg = reg if reg is not None else registry(plugins)
    ids = reg.parse_only(only)
    ids += [sid for sid in reg if reg[sid].error and reg[sid].source != "built-in" and sid not in ids]
    dist = ctx is not None and ctx.distributed
    writer = not dist or ctx.is_writer
    outdir = Path(outdir)
    path = outdir / RESULTS
    if writer:
        outdir.mkdir(parents=True, exist_ok=True)
    results = _load_results(path) if writer else {}
    prev_meta = results.get("meta", {})
    run_args = {"preset": preset, "seeds": seed_list, "ids": ids}
    resumable = prev_meta.get("state") == "running" and prev_meta.get("args") == run_args
    meta = {
        "preset": preset, "seed": seed_list[0], "seeds": seed_list, "ids_last_run": ids, "args": run_args,
        "state": "running", "combined_rule": COMBINED_RULE if len(seed_list) > 1 else "",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_s_last_run": 0.0, "machine": platform.platform(), "versions": _versions(),
        "code_version": code_version(), "processes": ctx.num_processes if dist else 1,
    }
    t_start = time.perf_counter()
    reused_total = 0

    def flush():
        meta["wall_s_last_run"] = time.perf_counter() - t_start
        results["meta"] = dict(meta)
        atomic_write_json(path, to_jsonable(results), sort_keys=False)
        write_reports(results, outdir)

    # what an interrupted run of the same command finished (process 0 reads it; the others are told the plan)
    prior: dict[str, tuple] = {}
    for sid in ids if writer else ():
        entry = reg[sid]
        old = results.get(sid, {}) if resumable else {}
        sym = old["symbolic"] if old.get("symbolic") and old.get("code_version") == code_version() else None
        old_seeds = _as_dict(old.get("seeds"))
        done = {}
        for s in seed_list:
            prev = old_seeds.get(str(s))
            if prev and prev.get("cache_key") == _cache_key(entry, preset, s) and prev.get("status") == "ran":
                done[str(s)] = prev
        prior[sid] = (sym, done)
    plan = {sid: (prior[sid][0] is None, [s for s in seed_list if str(s) not in prior[sid][1]]) for sid in prior}
    units: list = []
    if dist:  # the work items of every statement, longest first (process 0's estimate), the same on every process
        plan, units = allgather_objects((plan, _units(reg, ids, plan, results, _time_hints(preset)))
                                        if writer else None, ctx)[0]

    # the built-in statements' symbolic sides (sympy: pure Python, one core) run in a second process while
    # this one measures (XLA compiles on one core): both cores busy; plug-ins and one-core machines inline
    ahead = _SymbolicAhead(reg, [sid for sid in ids if plan[sid][0]]) if writer and not dist else None

    def finish(n: int, sid: str, got: dict) -> None:
        """Process 0: the statement's row from what is reused, ``got`` (several processes: its symbolic side and
        measured seeds) or measured here now; written at once."""
        nonlocal reused_total
        entry = reg[sid]
        sym, done = prior[sid]
        row = {**_statement_info(entry), "preset": preset}
        row["symbolic"] = sym if sym is not None else got["symbolic"] if dist else ahead.result(entry)
        per_seed: dict[str, dict] = {}
        for k, s in enumerate(seed_list):
            key = _cache_key(entry, preset, s)
            if str(s) in done:
                per_seed[str(s)] = done[str(s)]
                reused_total += 1
                log(f"[verify] {sid} seed {s}: reusing the result of the interrupted run ({done[str(s)].get('verdict')})")
                continue
            sod = _seed_outdir(outdir, s, k == 0)
            plot = k == 0 or all_figures  # the report card shows the first seed's figures
            if dist:
                res = _finish(entry, preset, sod, got[s], plot)
            else:
                log(f"[verify] {sid} ({n}/{len(ids)}) seed {s} ({k + 1}/{len(seed_list)}) running, preset {preset} ...")
                res = _numeric(entry, preset, sod, s, plot)
            if k > 0 and res.get("figures"):
                sub = _seed_outdir(outdir, s, False).relative_to(outdir)
                res["figures"] = [str(sub / f) for f in res["figures"]]
            res["cache_key"] = key
            per_seed[str(s)] = res
            log(f"[verify] {sid} seed {s}: numeric {res['verdict']}, symbolic {row['symbolic'].get('status')} "
                f"({res['wall_s']:.1f}s{'; ' + res['error'] if res.get('error') else ''})")
            row["seeds"] = per_seed
            results[sid] = to_jsonable({**row, **per_seed[str(seed_list[0])]} if str(seed_list[0]) in per_seed
                                       else {**row, "verdict": "error", "status": "running"})
            results[sid]["code_version"] = code_version()
            if not dist:  # several processes: the statement's seeds arrived together, one write below
                flush()
        first = per_seed[str(seed_list[0])]
        row.update({k: v for k, v in first.items() if k not in ("seed",)})
        row["seed"] = seed_list[0]
        row["seeds"] = per_seed
        row["code_version"] = code_version()
        if len(seed_list) > 1:
            verdicts = [per_seed[str(s)]["verdict"] for s in seed_list]
            combined = combine_verdicts(verdicts)
            row["combined"] = {
                "verdict": combined, "per_seed": dict(zip(map(str, seed_list), verdicts)),
                "stability": f"{sum(v == first['verdict'] for v in verdicts)}/{len(verdicts)} seeds agree with seed "
                             f"{seed_list[0]}",
                "rule": COMBINED_RULE,
            }
        results[sid] = to_jsonable(row)
        flush()

    if dist:
        if writer:
            log(f"[verify] {len(ids)} statements: {len(units)} work items across {ctx.num_processes} processes "
                f"(each process takes the next when it is free), preset {preset} ...")
        _claimed(reg, ids, plan, units, preset, outdir, seed_list, ctx, finish if writer else None)
    else:
        # a tqdm bar over the statements in a notebook (when tqdm is installed); the CLI has its log lines
        for n, sid in enumerate(progress(ids, "verify", lines=False, enabled=writer), 1):
            finish(n, sid, {})
    if ahead is not None:
        ahead.close()
    if not writer:
        return None
    meta["state"] = "complete"
    meta["reused_checks"] = reused_total
    flush()
    _keep_time_hints(preset, results, ids)
    return results


#: the user cache's entry (`sims.caches.store_result`) of each check's last times on this machine, per preset
TIME_HINTS = "verify-times"


def _time_hints(preset: str) -> dict:
    """{sid: {"symbolic": s, "seed": s}}: the seconds each statement's symbolic side and one seed's measurement
    took in this machine's last run at ``preset`` (empty when the caches are off or nothing was kept). Only an
    order for `_units` where the report directory has no times of its own, never a number in a report."""
    from hmin.sims.caches import load_result

    return _as_dict(load_result(TIME_HINTS, preset))


def _keep_time_hints(preset: str, results: dict, ids: list[str]) -> None:
    """Keep this run's times for the next run's `_time_hints` (the slowest seed of each statement)."""
    from hmin.sims.caches import store_result

    hints = _time_hints(preset)
    for sid in ids:
        row = _as_dict(results.get(sid))
        seeds = [t for t in map(_wall_s, _as_dict(row.get("seeds")).values()) if t is not None]
        sym = _wall_s(row.get("symbolic"))
        if seeds or sym is not None:
            hints[sid] = {"symbolic": sym or 0.0, "seed": max(seeds, default=0.0)}
    store_result(TIME_HINTS, preset, hints)


def _symbolic_key(entry: Entry) -> str:
    """The code key of a statement's symbolic side: the code version, the statement, its source files."""
    return _entry_key(entry, f"{code_version()}|{entry.id}|{entry.source}")


def _symbolic_row(entry: Entry) -> dict:
    """`_symbolic`, with a crash recorded as an error status; reused from the user cache
    (`sims.caches.load_symbolic`) when the same code computed it before (``cached``: True; ``wall_s`` this
    run's time, ``computed_wall_s`` that of the run that computed it)."""
    from hmin.sims.caches import load_symbolic, store_symbolic

    t0 = time.perf_counter()
    key = _symbolic_key(entry)
    hit = load_symbolic(key)
    if hit is not None:
        return {**hit, "cached": True, "computed_wall_s": hit.get("wall_s"), "wall_s": time.perf_counter() - t0}
    try:
        out = _symbolic(entry)
    except Exception as e:  # noqa: BLE001 - recorded, reported, never hidden
        return {"status": "error", "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(limit=4), "results": []}
    store_symbolic(key, to_jsonable(out))
    return out


def _symbolic_worker(sids: list[str], out) -> None:
    """`_SymbolicAhead`'s worker process: the symbolic side of each built-in statement, in order, onto ``out``."""
    from hmin.sims.registry import builtin_registry

    reg = builtin_registry()
    for sid in sids:
        out.put((sid, _symbolic_row(reg[sid])))


def _cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _SymbolicAhead:
    """The symbolic sides of the built-in statements in ``sids``, computed in one worker process in report
    order while the caller measures; `result` returns one (waiting if needed) and keeps it in the symbolic
    cache. Only entries that are the built-in registry's own objects go to the worker (it rebuilds them by
    id); the others, cached ones, a one-core machine, or a worker that dies are computed inline
    (`_symbolic_row`). The worker is a daemon: an interrupted run does not wait for it.
    ``HMIN_SYMBOLIC_PROCESS=0`` computes everything inline (benchmarks/bench_verify.py's "before" arm)."""

    def __init__(self, reg: Registry, sids: list[str]):
        from hmin.sims.caches import load_symbolic
        from hmin.sims.registry import builtin_registry

        self.proc = None
        self.got: dict[str, dict] = {}
        builtin = builtin_registry()
        self.todo = [sid for sid in sids if sid in builtin and reg[sid] is builtin[sid]
                     and load_symbolic(_symbolic_key(reg[sid])) is None]
        import os

        if len(self.todo) < 2 or _cores() < 2 or os.environ.get("HMIN_SYMBOLIC_PROCESS", "1") == "0":
            self.todo = []
            return
        import multiprocessing

        mp = multiprocessing.get_context("spawn")
        try:
            self.queue = mp.Queue()
            self.proc = mp.Process(target=_symbolic_worker, args=(self.todo, self.queue), daemon=True,
                                   name="hmin-symbolic")
            self.proc.start()
        except (OSError, RuntimeError):
            self.proc, self.todo = None, []

    def result(self, entry: Entry) -> dict:
        import queue

        if self.proc is not None and entry.id in self.todo:
            while entry.id not in self.got:
                try:
                    sid, out = self.queue.get(timeout=1.0)
                    self.got[sid] = out
                except queue.Empty:
                    if not self.proc.is_alive() and self.queue.empty():
                        break
        out = self.got.pop(entry.id, None)
        if out is None:
            return _symbolic_row(entry)
        from hmin.sims.caches import store_symbolic

        store_symbolic(_symbolic_key(entry), to_jsonable(out))
        return out

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.join()
            self.queue.close()
            self.proc = None


def _units(reg: Registry, ids: list[str], plan: dict, results: dict, hints: dict | None = None) -> list[tuple]:
    """The work of a run on several processes: one unit per symbolic side still to do, and per seed the
    measurements still to do, those of checks that share a measurement (`Check.shares`) at that seed in one
    unit (so it is computed once). Longest first, by the times of the report directory's earlier run where it
    has them, else by ``hints`` (`_time_hints`: this machine's last run at the preset; unknown: in statement
    order, before the symbolic sides). A unit is a tuple of ("symbolic", sid, None) / ("numeric", sid, seed)
    items."""
    def cost(sid: str, s) -> float:
        row = _as_dict(results.get(sid))
        part = row.get("symbolic") if s is None else _as_dict(row.get("seeds")).get(str(s))
        hint = _as_dict(_as_dict(hints).get(sid)).get("symbolic" if s is None else "seed")
        return _wall_s(part) or _seconds(hint) or 0.0

    groups: dict = {}
    for s in sorted({s for sid in ids for s in plan[sid][1]}):
        for sid in ids:
            if s in plan[sid][1]:
                check = reg[sid].check
                shared = check.shares[0] if check is not None and check.shares else None
                groups.setdefault((s, shared) if shared else (s, "check", sid), []).append(("numeric", sid, s))
    numeric = list(groups.values())
    symbolic = [(("symbolic", sid, None),) for sid in ids if plan[sid][0]]
    order = {sid: k for k, sid in enumerate(ids)}
    units = [tuple(u) for u in numeric] + symbolic
    return sorted(units, key=lambda u: (-sum(cost(sid, s) for _, sid, s in u), u[0][0] == "symbolic",
                                        order[u[0][1]]))


def _claimed(reg: Registry, ids: list[str], plan: dict, units: list, preset: str, outdir: Path, seed_list: list[int],
             ctx, finish) -> None:
    """Every process runs units of `_units` as it is free (`sims.distributed.run_items_claimed`); process 0
    (``finish`` given) receives their parts as they arrive and finishes each statement, in order, as soon as
    its symbolic side and seeds are in."""
    def one(unit):
        out = []
        for kind, sid, s in unit:
            entry = reg[sid]
            with alone():  # the other processes run other checks meanwhile: no nested split, own devices
                if kind == "symbolic":
                    out.append((kind, sid, s, _symbolic_row(entry)))
                    continue
                if ctx.is_writer:
                    part = _measure(entry, preset, _seed_outdir(outdir, s, s == seed_list[0]), s)
                else:  # writes nothing under the report directory: a check's own cache goes to scratch
                    with tempfile.TemporaryDirectory(prefix="hmin_verify_") as scratch:
                        part = _measure(entry, preset, Path(scratch), s)
            part["process"] = ctx.process_id
            try:
                pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # noqa: BLE001 - an error row, on this seed only
                part = {"seed": s, "error": f"the measurement cannot be sent to process 0 ({type(e).__name__}: {e})",
                        "traceback": "", "wall_s": part["wall_s"], "process": ctx.process_id}
            out.append((kind, sid, s, part))
        return out

    got: dict[str, dict] = {sid: {} for sid in ids}
    nxt = [0]

    def complete(sid: str) -> bool:
        need_sym, todo = plan[sid]
        return (not need_sym or "symbolic" in got[sid]) and all(s in got[sid] for s in todo)

    def arrived(_i: int, parts) -> None:
        for kind, sid, s, part in parts:
            got[sid]["symbolic" if kind == "symbolic" else s] = part
            if kind == "numeric":
                log(f"[verify] {sid} seed {s}: measured on process {part.get('process', '?')} "
                    f"({part.get('wall_s', 0.0):.1f}s)")
        while nxt[0] < len(ids) and complete(ids[nxt[0]]):
            finish(nxt[0] + 1, ids[nxt[0]], got[ids[nxt[0]]])
            nxt[0] += 1

    if finish is not None:
        arrived(-1, [])  # statements with nothing to do (all reused) are written first
    run_items_claimed(one, units, ctx, on_result=arrived if finish is not None else None)


@uses_float64
def run_confirmation(preset: str = "default", outdir: str | Path = "figures", *, only: str | None = None,
                     reg: Registry | None = None, ctx=None) -> dict | None:
    """Run the checks on the pre-registered fresh seeds (`FRESH_SEEDS`) into ``outdir/confirmation`` and
    rewrite ``outdir``'s report card with the confirmation table.

    ``ctx``: several processes, as in `run_verify`.

    Returns:
        The confirmation results (as in `run_verify`; None on a process other than 0).
    """
    conf = run_verify(preset, Path(outdir) / CONFIRMATION_DIR, only=only, seeds=FRESH_SEEDS, reg=reg, ctx=ctx)
    main_path = Path(outdir) / RESULTS
    if conf is not None and main_path.exists():
        write_reports(_load_results(main_path), outdir)
    return conf
