"""``hmin attack``: search a statement's attack surface for a counterexample.

The search minimises the surface's margin (`sims.surface`; >= 0 where the claim holds). First 8 K random
starts z ~ N(0, init_scale^2 I) are screened with the forward margin alone (one vmapped compilation, far
cheaper than the gradient's; a counterexample among them ends the search), and the best K go on:

* differentiable margins: K restarts of Adam (optax), vmapped and jitted together; a restart that has
  not improved its best margin for ``patience`` iterations starts again from a fresh random point (when
  the budget left is under `GRADIENT_COMPILE_FACTOR` x the screening's time, the gradient is not compiled
  and the evolution strategy below goes on with the forward margin);
* non-differentiable margins (ranks, argmax choices): K restarts of a (1+lambda) evolution strategy
  (Gaussian mutations, step size adapted by the 1/5 success rule; CMA-style without the covariance),
  restarted the same way.

Everything runs in float64 (``jax.enable_x64`` around the search). The budget is wall-clock seconds,
compilation included. On stop (budget spent, a confirmed counterexample, or Ctrl-C) the worst
candidate found is shrunk (a counterexample only: coordinates of z set to 0 and z halved while the margin
stays negative, as Hypothesis shrinks a failing example), saved as a replayable JSON file (atomic
write), read back from that file and re-judged by the surface's ``rejudge`` (the judge's rule, float64)
before it is called a counterexample; the margin of every restart against iterations goes to a figure.

`replay` re-judges a saved file (``hmin verify --replay FILE``), in a fresh process if wanted.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hmin.sims.errors import InputError
from hmin.sims.precision import uses_float64
from hmin.sims.progress import log
from hmin.sims.store import atomic_write_json
from hmin.sims.report import attack_line  # the report card's reading of an attack, re-exported

__all__ = ["AttackResult", "FORMAT", "attack", "surface_of", "replay", "load_candidate", "result_line", "margin_summary",
           "attack_line", "run_attacks"]

#: the format tag of a saved candidate file
FORMAT = "hmin-attack/1"
#: the gradient phase starts only with at least this many times the screening's time left (compiling the
#: gradient of a margin costs about 4x compiling the margin: 14.7 s vs 3.8 s CPU for T7's, measured)
GRADIENT_COMPILE_FACTOR = 3.0


@dataclasses.dataclass(frozen=True)
class AttackResult:
    """What one attack found.

    Attributes:
        statement: the statement id; claim: the claim attacked (a key of ``AttackSurface.claims``).
        margin: the attack's margin of the worst candidate (float64; the smallest found).
        judged_margin: the surface's ``rejudge`` of that candidate, read back from the saved file.
        counterexample: True iff ``judged_margin < 0``.
        candidate: the decoded worst candidate (JSON-able).
        description: a short "at ..." of the candidate.
        elapsed_s, iterations, evaluations, restarts, budget_s, seed, method: the attack's strength.
        interrupted: stopped by Ctrl-C (the best candidate so far was still saved).
        shrunk: coordinates of z set to 0 by the shrinker (a counterexample only).
        history: per restart slot, the best margin so far after each iteration.
        path: the saved candidate file; figure: the margin-vs-iteration figure (or None).
    """

    statement: str
    claim: str
    margin: float
    judged_margin: float
    counterexample: bool
    candidate: dict
    description: str
    elapsed_s: float
    iterations: int
    evaluations: int
    restarts: int
    budget_s: float
    seed: int
    method: str
    interrupted: bool
    shrunk: int
    history: list
    path: str | None
    figure: str | None

    def line(self) -> str:
        """The one-line result."""
        return result_line(self)


def result_line(r: AttackResult) -> str:
    """"no counterexample in 60 s, ..." or "COUNTEREXAMPLE: margin -0.02, saved to ..."."""
    where = f" {r.description}" if r.description else ""
    stop = " (interrupted)" if r.interrupted else ""
    strength = f"{r.elapsed_s:.0f} s, {r.restarts} restarts, {r.evaluations} evaluations, {r.method}{stop}"
    if r.counterexample:
        return (f"COUNTEREXAMPLE to {r.statement} ({r.claim}): margin {r.judged_margin:.4g} (re-judged from the "
                f"saved file){where}; saved to {r.path} [{strength}]")
    note = ""
    if r.margin < 0:
        note = f"; a candidate with attack margin {r.margin:.4g} was NOT confirmed by the judge"
    return (f"no counterexample to {r.statement} ({r.claim}) in {r.elapsed_s:.0f} s, smallest margin "
            f"{r.judged_margin:.4g}{where}{note} [{strength}]" + (f"; saved to {r.path}" if r.path else ""))


def surface_of(reg, statement_id: str):
    """(entry, surface) of ``statement_id`` in registry ``reg``; InputError when it has no attack surface."""
    by_upper = {sid.upper(): sid for sid in reg}
    sid = by_upper.get(str(statement_id).upper())
    if sid is None:
        raise InputError(f"unknown statement id {statement_id!r}; choose from {', '.join(reg)}")
    entry = reg[sid]
    surf = getattr(entry.check, "attack", None) if entry.check is not None else None
    if surf is None:
        with_surface = [i for i in reg if reg[i].check is not None and getattr(reg[i].check, "attack", None)]
        raise InputError(f"statement {sid} has no attack surface; statements with one: {', '.join(with_surface)}")
    return entry, surf


def _claim(surf, claim: str | None) -> str:
    if claim is None:
        return surf.default_claim
    if claim not in surf.claims:
        raise InputError(f"unknown claim {claim!r}; this surface attacks: {', '.join(surf.claims)}")
    return claim


def _finite(m) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(np.isfinite(m), m, np.inf)  # a NaN margin is never a candidate


def _batch_evaluator(prob, size: int):
    """``evaluate(Z) -> margins`` for any number of rows: jit(vmap(margin)) on fixed batches of ``size`` (one
    compilation, padded) for a differentiable (JAX) margin; a loop otherwise. NaN -> +inf."""
    if not (prob.differentiable or prob.batched):
        def one(z):
            try:
                return float(_finite(prob.margin(np.asarray(z, dtype=np.float64))))
            except (FloatingPointError, np.linalg.LinAlgError, ValueError):
                return float("inf")
        return lambda Z: np.array([one(z) for z in np.atleast_2d(Z)])
    import jax
    import jax.numpy as jnp

    fwd = jax.jit(jax.vmap(lambda z: jnp.asarray(prob.margin(z), dtype=jnp.float64)))

    def evaluate(Z):
        Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
        out = []
        for i in range(0, len(Z), size):
            blk = Z[i:i + size]
            pad = np.concatenate([blk, np.repeat(blk[-1:], size - len(blk), axis=0)])
            out.append(_finite(fwd(jnp.asarray(pad)))[: len(blk)])
        return np.concatenate(out)

    return evaluate


def _search_gradient(prob, K, rng, deadline, patience, tick, stop_negative, evaluate, screen, prior, info):
    """Screen ``screen`` random starts with the forward margin (cheap to compile), keep the best K, then Adam."""
    import jax
    import jax.numpy as jnp
    import optax

    hist: list[list[float]] = [[] for _ in range(K)]
    t_screen = time.perf_counter()
    try:
        Z0 = rng.standard_normal((screen, prob.dim)) * prob.init_scale
        Z0[:len(prior)] = prior[:screen]  # the saved candidate of an earlier run is tried first
        m0 = evaluate(Z0)
        order = np.argsort(m0)[:K]
        z, best = Z0[order].copy(), m0[order].copy()
        best_z = z.copy()
        for k in range(K):
            hist[k].append(float(best[k]))
        it, evals = 1, screen
        tick(it, evals, float(best.min()))
        if (stop_negative and best.min() < 0) or time.perf_counter() >= deadline:
            return best_z, best, hist, it, evals, False
    except KeyboardInterrupt:
        raise _Interrupted() from None
    screened = time.perf_counter() - t_screen
    if time.perf_counter() + GRADIENT_COMPILE_FACTOR * screened > deadline:
        # the gradient's compilation (about 4x the forward one's) would not fit the budget left: continue
        # gradient-free on the compiled forward margin
        info["fallback"] = True
        return _es_loop(prob, K, rng, deadline, patience, tick, stop_negative, evaluate, z, best, hist, it, evals)
    opt = optax.adam(prob.learning_rate)
    vg = jax.jit(jax.vmap(jax.value_and_grad(lambda v: jnp.asarray(prob.margin(v), dtype=jnp.float64))))
    step = jax.jit(jax.vmap(opt.update))  # per-restart Adam state (its own step count)
    state = jax.vmap(opt.init)(jnp.asarray(z))
    since = np.zeros(K, dtype=int)
    try:
        while time.perf_counter() < deadline:
            m, g = vg(jnp.asarray(z))
            m = _finite(m)
            g = np.nan_to_num(np.asarray(g, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
            evals += K
            better = m < best
            best = np.where(better, m, best)
            best_z[better] = z[better]
            since = np.where(better, 0, since + 1)
            for k in range(K):
                hist[k].append(float(best[k]))
            it += 1
            tick(it, evals, float(best.min()))
            if stop_negative and best.min() < 0:
                break
            upd, state = step(jnp.asarray(g), state, jnp.asarray(z))
            z = np.array(optax.apply_updates(jnp.asarray(z), upd), dtype=np.float64)  # writable copy
            stale = since >= patience
            if stale.any():  # fresh random starts for the restarts that stopped improving
                z[stale] = rng.standard_normal((int(stale.sum()), prob.dim)) * prob.init_scale
                fresh = jax.vmap(opt.init)(jnp.asarray(z))
                mask = jnp.asarray(stale)
                state = jax.tree_util.tree_map(
                    lambda new, old: jnp.where(mask.reshape((-1,) + (1,) * (new.ndim - 1)), new, old)
                    if new.ndim >= 1 and new.shape[0] == K else old, fresh, state)
                since[stale] = 0
    except KeyboardInterrupt:
        return best_z, best, hist, it, evals, True
    return best_z, best, hist, it, evals, False


def _search_es(prob, K, rng, deadline, patience, tick, stop_negative, evaluate, screen, prior, info, lam: int = 4):
    """Screen ``screen`` random starts, keep the best K, then a (1+lam) evolution strategy per restart."""
    hist: list[list[float]] = [[] for _ in range(K)]
    Z0 = rng.standard_normal((screen, prob.dim)) * prob.init_scale
    Z0[:len(prior)] = prior[:screen]  # the saved candidate of an earlier run is tried first
    m0: list[float] = []
    interrupted = False
    try:
        chunk = screen if prob.batched else K  # one compiled batch; else chunks of K (budget and Ctrl-C honoured)
        for i in range(0, screen, chunk):
            m0.extend(evaluate(Z0[i:i + chunk]))
            if time.perf_counter() >= deadline or (stop_negative and min(m0) < 0):
                break
    except KeyboardInterrupt:
        interrupted = True
    if not m0:
        raise _Interrupted()
    Z0, m0 = Z0[:len(m0)], np.asarray(m0)
    order = np.argsort(m0)[:K]
    if len(order) < K:  # the budget ended inside the first chunk: the missing slots repeat the best start
        order = np.concatenate([order, np.repeat(order[:1], K - len(order))])
    z, cur = Z0[order].copy(), m0[order].copy()
    for k in range(K):
        hist[k].append(float(cur[k]))
    it, evals = 1, len(m0)
    tick(it, evals, float(cur.min()))
    if interrupted:
        return z, cur, hist, it, evals, True
    return _es_loop(prob, K, rng, deadline, patience, tick, stop_negative, evaluate, z, cur, hist, it, evals, lam)


def _es_loop(prob, K, rng, deadline, patience, tick, stop_negative, evaluate, z, cur, hist, it, evals, lam: int = 4):
    """(1+lam) evolution strategy of the K restarts from ``z`` (margins ``cur``), all restarts' offspring in one
    evaluation per iteration; step sizes by the 1/5 rule; a stale restart starts again from a fresh point."""
    z, cur = z.copy(), cur.copy()
    sigma = np.full(K, prob.init_scale)
    best, best_z = cur.copy(), z.copy()
    since = np.zeros(K, dtype=int)
    try:
        while time.perf_counter() < deadline and not (stop_negative and best.min() < 0):
            kids = z[:, None, :] + sigma[:, None, None] * rng.standard_normal((K, lam, prob.dim))
            m = evaluate(kids.reshape(K * lam, prob.dim)).reshape(K, lam)
            evals += K * lam
            j = np.argmin(m, axis=1)
            mj = m[np.arange(K), j]
            win = mj < cur
            z[win], cur[win] = kids[np.arange(K), j][win], mj[win]
            sigma = np.where(win, sigma * 1.5, sigma * 0.9)
            better = cur < best
            best[better], best_z[better] = cur[better], z[better]
            since = np.where(better, 0, since + 1)
            stale = (since >= patience) | (sigma < 1e-6 * prob.init_scale)
            if stale.any():  # fresh random starts for the restarts that stopped improving
                z[stale] = rng.standard_normal((int(stale.sum()), prob.dim)) * prob.init_scale
                cur[stale] = evaluate(z[stale])
                evals += int(stale.sum())
                sigma[stale], since[stale] = prob.init_scale, 0
                better = cur < best
                best[better], best_z[better] = cur[better], z[better]
            for k in range(K):
                hist[k].append(float(best[k]))
            it += 1
            tick(it, evals, float(best.min()))
    except KeyboardInterrupt:
        return best_z, best, hist, it, evals, True
    return best_z, best, hist, it, evals, False


class _Interrupted(Exception):
    """Ctrl-C before any candidate was evaluated: nothing to save."""


def _shrink(z: np.ndarray, evaluate: Callable, deadline: float, batch: int, max_rounds: int = 50) -> tuple[np.ndarray, int]:
    """Hypothesis-style shrinking of a counterexample: set coordinates of z to 0 (smallest |z_i| first; ``batch``
    single-coordinate trials per evaluation) and halve z, keeping each change that leaves the margin negative.
    Returns (z, coordinates zeroed)."""
    z = z.copy()
    zeroed = 0
    tried: set[int] = set()
    try:
        for _ in range(max_rounds):
            if time.perf_counter() > deadline:
                break
            idx = [int(i) for i in np.argsort(np.abs(z)) if z[i] != 0 and int(i) not in tried][:batch]
            if not idx:
                break
            trials = np.repeat(z[None, :], len(idx), axis=0)
            trials[np.arange(len(idx)), idx] = 0.0
            m = evaluate(trials)
            tried.update(idx)
            ok = np.flatnonzero(m < 0)
            if ok.size:
                z = trials[ok[0]]
                zeroed += 1
                tried = set()  # a coordinate that could not go before may go now
        while time.perf_counter() < deadline:
            if evaluate(0.5 * z)[0] < 0:
                z = 0.5 * z
            else:
                break
    except KeyboardInterrupt:
        pass
    return z, zeroed


@uses_float64
def attack(entry, surf, *, claim: str | None = None, budget: float = 60.0, restarts: int = 8, seed: int = 0,
           out: str | Path | None = None, patience: int = 60, stop_on_counterexample: bool = True,
           figure: bool = True, callback: Callable[[int, int, float], None] | None = None) -> AttackResult:
    """Search ``surf`` (an `sims.surface.AttackSurface` of statement ``entry``) for a counterexample.

    Args:
        entry: the registry `Entry` (its id names the files) or a statement id string.
        surf: the attack surface.
        claim: which claim to attack (default: the statement's own, ``surf.default_claim``).
        budget: wall-clock seconds of search (compilation included); the shrinker and the re-judge come after.
        restarts: K, the restarts run side by side.
        seed: seed of the random starts (NumPy generator).
        out: directory of the saved candidate and the figure; None writes nothing (then no re-judge from a file:
            the candidate is re-judged after a JSON round trip in memory).
        patience: iterations without improvement after which a restart starts from a fresh random point.
        stop_on_counterexample: stop at the first negative margin (then shrink it).
        figure: write the margin-vs-iteration figure.
        callback: ``callback(iteration, evaluations, best_margin)`` after every iteration (progress, tests;
            raising KeyboardInterrupt there behaves like Ctrl-C).

    Returns:
        `AttackResult`.
    """
    import jax

    sid = entry if isinstance(entry, str) else entry.id
    claim = _claim(surf, claim)
    if not budget > 0:
        raise InputError(f"--budget must be > 0 seconds, got {budget}")
    if int(restarts) != restarts or restarts < 1:
        raise InputError(f"--restarts must be a positive integer, got {restarts}")
    rng = np.random.default_rng([int(seed), 20])
    t0 = time.perf_counter()
    last = [t0]

    def tick(it, evals, best):
        now = time.perf_counter()
        if callback is not None:
            callback(it, evals, best)
        if now - last[0] >= 2.0:
            last[0] = now
            log(f"[attack {sid} {claim}] {now - t0:.0f}/{budget:g} s, iteration {it}, {evals} evaluations, "
                f"smallest margin {best:.4g}")

    with jax.enable_x64(True):
        prob = surf.build(claim)
        search = _search_gradient if prob.differentiable else _search_es
        screen = 8 * int(restarts)
        method = (f"{screen} screened random starts, then Adam (optax, lr {prob.learning_rate:g}) x {restarts} vmapped "
                  "restarts" if prob.differentiable else
                  f"{screen} screened random starts, then a (1+4) evolution strategy x {restarts} restarts")
        evaluate = _batch_evaluator(prob, screen)
        prior = _prior(out, sid, claim, prob.dim)
        info: dict = {}
        try:
            best_z, best, hist, it, evals, interrupted = search(prob, int(restarts), rng, t0 + budget, patience, tick,
                                                                stop_on_counterexample, evaluate, screen, prior, info)
        except _Interrupted:
            raise KeyboardInterrupt from None
        if info.get("fallback"):
            method = (f"{screen} screened random starts, then (the gradient's compilation would not fit the budget "
                      f"left) a (1+4) evolution strategy x {restarts} restarts on the forward margin")
        elapsed = time.perf_counter() - t0
        k = int(np.argmin(best))
        z, margin = best_z[k], float(best[k])
        shrunk = 0
        if margin < 0 and not interrupted:
            z, shrunk = _shrink(z, evaluate, time.perf_counter() + max(5.0, 0.25 * budget), screen)
            margin = float(evaluate(z)[0])
        candidate = json.loads(json.dumps(_jsonable(prob.decode(np.asarray(z, dtype=np.float64)))))
        record = {
            "format": FORMAT, "statement": sid, "claim": claim, "claim_text": surf.claims[claim],
            "space": surf.space, "tolerance": surf.tolerance, "margin": margin, "candidate": candidate,
            "z": np.asarray(z, dtype=np.float64).tolist(),
            "attack": {"budget_s": float(budget), "elapsed_s": elapsed, "restarts": int(restarts), "seed": int(seed),
                       "iterations": it, "evaluations": evals, "method": method, "interrupted": interrupted,
                       "shrunk_coordinates": shrunk},
            "source": getattr(entry, "source", ""),
        }
        path = fig = None
        if out is not None:
            outdir = Path(out)
            path = outdir / f"{sid}-{_slug(claim)}-attack.json"
            atomic_write_json(path, record, sort_keys=False)
            candidate = load_candidate(path)["candidate"]  # re-judged from the saved file
        judged = float(prob.rejudge(candidate))
        record["judged_margin"] = judged
        record["verdict"] = "counterexample" if judged < 0 else "no counterexample"
        if path is not None:
            atomic_write_json(path, record, sort_keys=False)
            if figure:
                fig = str(_plot(hist, sid, claim, record, outdir / f"{sid}-{_slug(claim)}-attack.png"))
    return AttackResult(sid, claim, margin, judged, judged < 0, candidate, prob.describe(candidate), elapsed, it, evals,
                        int(restarts), float(budget), int(seed), method, interrupted, shrunk,
                        hist, str(path) if path else None, fig)


def _prior(out, sid: str, claim: str, dim: int) -> np.ndarray:
    """The search vector of the candidate an earlier run saved in ``out`` (as Hypothesis replays its example
    database first), when it fits this problem; else an empty (0, dim) array."""
    if out is None:
        return np.zeros((0, dim))
    path = Path(out) / f"{sid}-{_slug(claim)}-attack.json"
    try:
        z = np.asarray(load_candidate(path).get("z", []), dtype=np.float64)
    except (InputError, ValueError, TypeError):
        return np.zeros((0, dim))
    return z[None, :] if z.shape == (dim,) and np.all(np.isfinite(z)) else np.zeros((0, dim))


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s).strip("-").lower() or "claim"


def _jsonable(obj: Any) -> Any:
    from hmin.sims.store import to_jsonable

    return to_jsonable(obj)


def load_candidate(path: str | Path) -> dict:
    """Read a saved candidate file; InputError naming the problem when it is not one."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--replay {p}: no such file")
    try:
        rec = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"--replay {p}: not JSON ({e})") from None
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        raise InputError(f"--replay {p}: not a saved hmin attack candidate (format {FORMAT!r} expected)")
    for key in ("statement", "claim", "candidate"):
        if key not in rec:
            raise InputError(f"--replay {p}: the field {key!r} is missing")
    return rec


@uses_float64
def replay(path: str | Path, reg) -> dict:
    """Re-judge a saved candidate with its statement's surface (float64).

    Returns:
        dict(statement, claim, judged_margin, verdict, saved_verdict, agrees, description).
    """
    import jax

    rec = load_candidate(path)
    _, surf = surface_of(reg, rec["statement"])
    claim = _claim(surf, rec["claim"])
    with jax.enable_x64(True):
        prob = surf.build(claim)
        m = float(prob.rejudge(rec["candidate"]))
    verdict = "counterexample" if m < 0 else "no counterexample"
    saved = rec.get("verdict")
    return {"statement": rec["statement"], "claim": claim, "judged_margin": m, "verdict": verdict,
            "saved_verdict": saved, "saved_margin": rec.get("judged_margin"), "agrees": saved in (None, verdict),
            "description": prob.describe(rec["candidate"])}


def _plot(hist: list, sid: str, claim: str, record: dict, path: Path) -> Path:
    from hmin.sims.plotting import plt, save, styled  # matplotlib only when a figure is drawn

    return styled(_draw)(hist, sid, claim, record, path, plt, save)


def _draw(hist, sid, claim, record, path, plt, save):

    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(7.5, 4.2))
    vals = [np.asarray(h, dtype=np.float64) for h in hist]
    finite = np.concatenate([v[np.isfinite(v)] for v in vals]) if vals else np.array([])
    lo = float(finite.min()) if finite.size else 0.0
    shift = 0.0 if lo > 0 else -lo + 1e-3 * max(1.0, float(np.abs(finite).max()) if finite.size else 1.0)
    for k, v in enumerate(vals):
        ax.plot(np.arange(1, v.size + 1), v + shift, lw=1, label=f"restart {k}" if k < 10 else None)
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("best margin so far" + (f" + {shift:.3g} (shifted: a margin < 0 was found)" if shift else ""))
    a = record["attack"]
    ax.set_title(f"hmin attack {sid} ({claim}): smallest margin {record['margin']:.4g}, {a['elapsed_s']:.0f} s, "
                 f"{a['restarts']} restarts\n{a['method']}", fontsize=8)
    if len(vals) <= 10:
        ax.legend(fontsize=6)
    return save(fig, path)


def margin_summary(result: AttackResult) -> dict:
    """The report-card numbers of an attack (``hmin verify --attack``): JSON-able."""
    return {"claim": result.claim, "smallest_margin": result.judged_margin, "counterexample": result.counterexample,
            "budget_s": result.budget_s, "elapsed_s": round(result.elapsed_s, 1), "restarts": result.restarts,
            "evaluations": result.evaluations, "method": result.method, "at": result.description,
            "saved": result.path, "figure": result.figure, "line": result.line(),
            "best_by_iteration": [min(h[i] if i < len(h) else h[-1] for h in result.history)
                                  for i in range(0, max(len(h) for h in result.history),
                                                 max(1, max(len(h) for h in result.history) // 20))]}


@uses_float64
def run_attacks(results: dict, reg, ids: list[str], budget: float, outdir: str | Path, *, restarts: int = 4,
                seed: int = 0) -> dict:
    """``hmin verify --attack SECONDS``: attack every statement in ``ids`` that has a surface, ``budget`` seconds
    each, and add ``results[id]["attack"]`` (`margin_summary`); rewrites results.json and the reports.

    Returns:
        id -> summary, for the statements attacked.
    """
    from hmin.sims.report import write_reports  # app -> app; report renders the attack line itself

    outdir = Path(outdir)
    done = {}
    for sid in ids:
        entry = reg.get(sid)
        if entry is None or entry.check is None or getattr(entry.check, "attack", None) is None:
            continue
        log(f"[verify --attack] {sid}: {budget:g} s")
        res = attack(entry, entry.check.attack, budget=budget, restarts=restarts, seed=seed, out=outdir / "attack")
        s = margin_summary(res)
        s["saved"] = str(Path(s["saved"]).relative_to(outdir)) if s["saved"] else None
        s["figure"] = str(Path(s["figure"]).relative_to(outdir)) if s["figure"] else None
        done[sid] = s
        if sid in results:
            results[sid]["attack"] = s
    if done:
        atomic_write_json(outdir / "results.json", results, sort_keys=False)
        write_reports(results, outdir)
    return done
