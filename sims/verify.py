"""``hmin verify`` as a library function: every statement's symbolic and numeric check, one report.

``run_verify(preset, outdir)`` runs, for each id in ``sims.checks.CHECKS`` (T1..T10, C1, C3):
the symbolic checks of ``theory.STATEMENTS[id]`` (sympy; three-valued) and the numeric check
(``sims.checks.<module>``: measure -> judge -> plot).  A check that crashes is recorded as an
error with its message and the others still run.  After every check ``results.json`` and the
reports are rewritten atomically, so an interrupted run keeps what it finished; ``--only`` merges
into an existing ``results.json`` instead of discarding the other rows.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import time
import traceback
from pathlib import Path

from sims.checks import CHECKS, CheckContext, load, run_check
from sims.errors import InputError
from sims.progress import log
from sims.store import atomic_write_json, to_jsonable

__all__ = ["run_verify", "parse_only", "exit_status"]

RESULTS = "results.json"


def parse_only(only: str | None) -> list[str]:
    """Parse ``--only T4,T6`` into ids (case-insensitive); unknown ids are an InputError."""
    if not only:
        return list(CHECKS)
    ids = [s.strip().upper() for s in only.split(",") if s.strip()]
    unknown = [s for s in ids if s not in CHECKS]
    if unknown or not ids:
        raise InputError(f"unknown statement id(s) {unknown or only!r} in --only; choose from {', '.join(CHECKS)}")
    return [i for i in CHECKS if i in ids]


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("jax", "jaxlib", "optax", "numpy", "scipy", "sympy", "matplotlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _statement_info(sid: str) -> dict:
    try:
        import theory

        st = theory.STATEMENTS.get(sid)
    except Exception:  # theory incomplete: the report says so rather than crashing
        st = None
    if st is None:
        return {}
    return {"title": st.title, "kind": st.kind, "paper_ref": st.paper_ref, "text": st.text,
            "hypotheses": list(st.hypotheses)}


CONTROL_PREFIX = "[false variant"


def _symbolic(sid: str) -> dict:
    """Run the statement's symbolic checks and summarise them.

    Results whose claim starts with "[false variant" are negative controls (a deliberately false
    version of the statement that the checker must refute): they are counted apart and do not make
    the statement "disproved"; a control that is *not* refuted makes the status "error" (the
    checker cannot tell true from false).
    """
    import theory

    st = theory.STATEMENTS.get(sid)
    if st is None:
        return {"status": "none", "results": []}
    t0 = time.perf_counter()
    results = [r.to_dict() for r in st.symbolic_checks()]
    for r in results:
        r["control"] = r["claim"].startswith(CONTROL_PREFIX)
    own = [r for r in results if not r["control"]]
    controls = [r for r in results if r["control"]]
    counts = {s: sum(r["status"] == s for r in own) for s in ("proved", "disproved", "unproven")}
    counts["controls_refuted"] = sum(r["status"] == "disproved" for r in controls)
    counts["controls"] = len(controls)
    if counts["controls_refuted"] < len(controls):
        status = "error"
    elif counts["disproved"]:
        status = "disproved"
    elif counts["unproven"]:
        status = "unproven"
    elif own:
        status = "proved"
    else:
        status = "none"
    out = {"status": status, "counts": counts, "results": results, "wall_s": time.perf_counter() - t0}
    if status == "error":
        out["error"] = "a false-variant control was not refuted: the symbolic checker cannot tell true from false"
    return out


def _one(sid: str, ctx: CheckContext) -> dict:
    try:
        mod = load(sid)
    except Exception as e:  # noqa: BLE001 - a check that cannot even be imported is an error row, not a crash
        mod = None
        load_error = e
    entry = {"id": sid, "title": getattr(mod, "TITLE", sid), **_statement_info(sid), "preset": ctx.preset,
             "seed": ctx.seed}
    try:
        entry["symbolic"] = _symbolic(sid)
    except Exception as e:  # noqa: BLE001 - recorded, reported, never hidden
        entry["symbolic"] = {"status": "error", "error": f"{type(e).__name__}: {e}",
                             "traceback": traceback.format_exc(limit=4), "results": []}
    t0 = time.perf_counter()
    try:
        if mod is None:
            raise load_error
        verdict, measured = run_check(mod, ctx)
        entry.update(verdict.to_dict())
        entry["status"] = "ran"
        atomic_write_json(ctx.outdir / "measured" / f"{sid}.json", measured)
    except Exception as e:  # noqa: BLE001
        entry.update(verdict="error", status="error", error=f"{type(e).__name__}: {e}",
                     traceback=traceback.format_exc(limit=6), numbers={}, figures=[], rule="", notes="")
    entry["wall_s"] = time.perf_counter() - t0
    entry["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return entry


def exit_status(results: dict, ids: list[str], strict: bool) -> int:
    """0 when every requested check ran; 1 when one could not run; with ``strict`` also 1 on violated."""
    rows = [results[i] for i in ids if i in results]
    if any(r.get("status") == "error" or r.get("symbolic", {}).get("status") == "error" for r in rows):
        return 1
    if strict and any(r.get("verdict") == "violated" or r.get("symbolic", {}).get("status") == "disproved"
                      for r in rows):
        return 1
    return 0


def run_verify(preset: str = "default", outdir: str | Path = "figures", *, only: str | None = None,
               seed: int = 0) -> dict:
    """Run the checks, write ``results.json``, ``report.md``, ``report.html``; return the results.

    Args:
        preset: "quick", "default" or "full".
        outdir: the report directory (figures under ``outdir/figures``).
        only: comma-separated statement ids (e.g. "T4,T6"); default all.
        seed: base seed of every check.
    """
    from sims.report import write_reports

    ids = parse_only(only)
    ctx = CheckContext(preset=preset, outdir=Path(outdir), seed=seed)
    ctx.outdir.mkdir(parents=True, exist_ok=True)
    path = ctx.outdir / RESULTS
    results: dict = {}
    if path.exists():
        try:
            results = json.loads(path.read_text())
        except json.JSONDecodeError:
            results = {}
    t_start = time.perf_counter()
    for n, sid in enumerate(ids, 1):
        log(f"[verify] {sid} ({n}/{len(ids)}) running, preset {preset} ...")
        entry = _one(sid, ctx)
        results[sid] = to_jsonable(entry)
        sym = entry["symbolic"].get("status")
        log(f"[verify] {sid}: numeric {entry['verdict']}, symbolic {sym} ({entry['wall_s']:.1f}s"
            f"{'; ' + entry['error'] if entry.get('error') else ''})")
        results["meta"] = {
            "preset": preset, "seed": seed, "ids_last_run": ids,
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_s_last_run": time.perf_counter() - t_start, "machine": platform.platform(),
            "versions": _versions(),
        }
        atomic_write_json(path, results)
        write_reports(results, ctx.outdir)
    return results
