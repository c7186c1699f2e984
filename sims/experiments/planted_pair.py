"""The planted-pair experiment: does GD slow down as one pair of points gets closer?

Base set: N points uniform on the sphere S^{d-1} (h_min(base) ~ 0.8 for N = d = 16).  One pair
(point 0 and its nearest neighbour) is moved to distance exactly eps, nothing else changes, for
eps over several decades (so h_min = eps).  For each seed the base set and the initial parameters
are fixed across eps and label modes, so eps is the only thing that changes.  Three label modes
(T6, docs/statements.md): random labels, a smooth target, and random labels with the close pair given equal
labels.

Measured per run: mu = (2/N) lambda_min(G) at initialisation and at the end (T3/T4), the loss curve,
steps to reach ``loss_eps * L_0`` and the late-phase rate; predicted by T6 from the Gram matrix at
initialisation: the loss curve, the steps to eps and the late rate.  Summary: per label mode the
fitted log-log slope of mu vs h_min (T4 predicts 2), and the measured vs predicted steps.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import jax
import numpy as np

from hmin.sims import data, gd
from hmin.sims.diagnostics import gram
from hmin.sims.distributed import run_items
from hmin.sims.errors import InputError
from hmin.sims.geometry import min_pairwise_distance
from hmin.sims.models import make_model
from hmin.sims.rates import late_rate, linearise, steps_to_eps
from hmin.sims.sharding import batch_mesh
from hmin.sims.store import RunStore, atomic_write_json
from hmin.sims.verdict import fit_loglog_slope
from hmin.sims.precision import uses_float64
from hmin.sims.plotting import eps_colors, MODE_COLORS, plt, save, styled

log = logging.getLogger(__name__).info  # progress lines: the CLI shows them on stderr, -q hides them

__all__ = ["PlantedPairConfig", "PRESETS", "run", "plot"]

LABEL_MODES = ("random", "smooth", "equal")


@dataclasses.dataclass(frozen=True)
class PlantedPairConfig:
    """Configuration of the planted-pair sweep (immutable; every field is part of the run hash).

    Attributes:
        n, d: number of points and dimension of the base set (uniform on the unit sphere).
        arch, width, depth, activation: the model (depth is ignored by "shallow").
        eps_values: planted distances h_min; must be < h_min(base) / 2.
        seeds: one base set and one initialisation per seed.
        label_modes: subset of ("random", "smooth", "equal").
        steps, record_every: GD steps and diagnostics interval.
        loss_eps: the threshold of "steps to eps": L_t <= loss_eps * L_0.
        lr_scale: eta = lr_scale * N / lambda_max(G_0) (eta lambda_max / N = lr_scale < 2 is stable).
    """

    n: int = 16
    d: int = 16
    arch: str = "shallow"
    width: int = 512
    depth: int = 1
    activation: str = "tanh"
    eps_values: tuple[float, ...] = tuple(float(x) for x in np.logspace(-3, -1, 6))
    seeds: tuple[int, ...] = (0, 1, 2)
    label_modes: tuple[str, ...] = LABEL_MODES
    steps: int = 12000
    record_every: int = 400
    loss_eps: float = 1e-3
    lr_scale: float = 0.5

    def __post_init__(self):
        if len(self.eps_values) < 2:
            raise InputError("need at least 2 eps values to fit a slope")
        if any(not (e > 0) for e in self.eps_values):
            raise InputError(f"eps values must be positive: {self.eps_values}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise InputError(f"seeds must be distinct non-negative integers (at least one), got {self.seeds}")
        bad = [m for m in self.label_modes if m not in LABEL_MODES]
        if bad or not self.label_modes:
            raise InputError(f"unknown label mode(s) {bad}; choose from {list(LABEL_MODES)}" if bad
                             else f"label_modes is empty; choose from {list(LABEL_MODES)}")
        if self.steps < 1 or self.record_every < 1:
            raise InputError(f"steps and record_every must be positive, got {self.steps} and {self.record_every}")
        if not 0 < self.loss_eps < 1:
            raise InputError(f"loss_eps must be in (0, 1), got {self.loss_eps}")
        if not 0 < self.lr_scale < 2:
            raise InputError(f"lr_scale must be in (0, 2) for the linearised dynamics to be stable, got {self.lr_scale}")

    def model(self):
        kw = dict(d=self.d, width=self.width, activation=self.activation)
        if self.arch in ("mlp", "residual"):
            kw["depth"] = self.depth
        return make_model(self.arch, **kw)


#: preset name ("quick", "default", "full") -> the `PlantedPairConfig` it runs.
PRESETS = {
    "quick": PlantedPairConfig(eps_values=tuple(float(x) for x in np.logspace(-3, -1, 6)), seeds=(0, 1, 2),
                               steps=4000, record_every=200, width=256),
    "default": PlantedPairConfig(),
    "full": PlantedPairConfig(eps_values=tuple(float(x) for x in np.logspace(-4, -1, 10)), seeds=tuple(range(8)),
                              steps=100000, record_every=1000),
}


def _unit(cfg: PlantedPairConfig, mode: str, seed: int) -> dict:
    """Everything that determines one stored unit of work (one label mode x one seed, all eps)."""
    d = dataclasses.asdict(cfg)
    d.pop("seeds")
    d.pop("label_modes")
    return {"experiment": "planted-pair", "mode": mode, "seed": seed, **d}


def _run_unit(cfg: PlantedPairConfig, mode: str, seed: int, mesh=None) -> tuple[dict, dict]:
    model = cfg.model()
    key = jax.random.fold_in(jax.random.PRNGKey(20250630), seed)
    k_base, k_init, k_lab, k_run = jax.random.split(key, 4)
    base = data.uniform_sphere(cfg.n, cfg.d, key=k_base)
    sets = [data.planted_pair(base, e) for e in cfg.eps_values]
    X = np.stack([s.X for s in sets])
    pair = sets[0].info["pair"]
    Y = np.stack([data.make_targets(s.X, mode, key=k_lab, pair=pair) for s in sets])
    params0 = model.init(k_init)
    B = len(sets)
    G0 = [np.asarray(gram(model, params0, x)) for x in X]
    eig0 = [np.linalg.eigvalsh(g) for g in G0]
    lam_max0 = max(float(e[-1]) for e in eig0)
    lr = cfg.lr_scale * cfg.n / lam_max0
    gcfg = gd.GDConfig(lr=lr, steps=cfg.steps, record_every=cfg.record_every)
    batched0 = jax.tree_util.tree_map(lambda a: np.broadcast_to(a, (B,) + a.shape), params0)
    traj = gd.train_batch(model, X, Y, gcfg, key=k_run, params0=batched0, mesh=mesh)

    f0 = np.asarray(model.apply(params0, X.reshape(-1, cfg.d))).reshape(B, cfg.n, 1)
    rows = []
    pred_curves = []
    for b, s in enumerate(sets):
        h = min_pairwise_distance(s.X)
        lin = linearise(G0[b], f0[b] - Y[b], lr, cfg.n)
        loss = traj.loss[b]
        diverged = bool(traj.diverged[b])
        meas_steps = steps_to_eps(loss, cfg.loss_eps) if not diverged else float("nan")
        lr_meas = late_rate(loss)
        i, j = pair
        r0 = (f0[b] - Y[b]).ravel()
        rows.append({
            "eps": float(cfg.eps_values[b]),
            "h_min": float(h.h_min),
            "argmin_pair": [int(h.i), int(h.j)],
            "lam_min0": float(eig0[b][0]),
            "lam_max0": float(eig0[b][-1]),
            "mu0": float(2 * eig0[b][0] / cfg.n),
            "mu_end": float(traj.diag["mu"][b][-1]),
            "gram_change_end": float(traj.diag["gram_change"][b][-1]),
            "pair_weight": float(0.5 * (r0[i] - r0[j]) ** 2 / np.sum(r0**2)),
            "steps_to_eps_measured": meas_steps,
            "steps_to_eps_predicted": lin.steps_to_eps(cfg.loss_eps),
            "late_rate_measured": lr_meas["rate"],
            "late_rate_predicted": lin.late_rate(lr_meas["t0"], lr_meas["t1"]),
            "final_loss_ratio": float(loss[-1] / loss[0]),
            "diverged_step": int(traj.diverged_step[b]),
        })
        pred_curves.append(lin.loss(np.arange(0, cfg.steps + 1, max(1, cfg.steps // 400))))
    arrays = {**traj.arrays(), "X": X, "Y": Y, "pred_loss": np.stack(pred_curves),
              "pred_steps": np.arange(0, cfg.steps + 1, max(1, cfg.steps // 400))}
    metrics = {"mode": mode, "seed": seed, "lr": lr, "censor_at": gcfg.total_steps, "rows": rows}
    return arrays, metrics


@uses_float64
def run(cfg: PlantedPairConfig, outdir: str | Path, *, plot_figures: bool = True, ctx=None) -> dict | None:
    """Run the sweep (resuming finished units), write figures and ``summary.json``; return the summary.

    Args:
        cfg: the configuration.
        outdir: the output directory (``runs/``, ``figures/``, ``summary.json``).
        plot_figures: write the figures.
        ctx: a :class:`sims.distributed.Context` of several processes (``hmin run planted-pair
            --processes N``): the units that are not done yet are split across the processes
            (:func:`sims.distributed.run_items`), each on its own devices; process 0 gathers them,
            writes everything once and returns the summary; the other processes write nothing and
            return None.  The numbers are those of one process.
    """
    t_start = time.perf_counter()
    outdir = Path(outdir)
    store = RunStore(outdir / "runs")
    units = [(m, s) for m in cfg.label_modes for s in cfg.seeds]
    results = {}
    if ctx is not None and ctx.distributed:
        todo = [(u, m, s) for u, (m, s) in enumerate(units, 1) if not store.is_done(store.key(_unit(cfg, m, s)))]
        mesh = batch_mesh(jax.local_devices())  # this process's devices only: the units are split instead

        def one(item):
            t0 = time.perf_counter()
            arrays, metrics = _run_unit(cfg, item[1], item[2], mesh=mesh)
            return arrays, metrics, time.perf_counter() - t0

        outs = run_items(one, todo, ctx)
        if not ctx.is_writer:
            return None
        for (u, mode, seed), (arrays, metrics, secs) in zip(todo, outs):
            ucfg = _unit(cfg, mode, seed)
            store.save(store.key(ucfg), ucfg, arrays, metrics)
            log(f"[planted-pair] {u}/{len(units)} mode={mode} seed={seed}: {len(cfg.eps_values)} runs x "
                f"{cfg.steps} steps in {secs:.1f}s ({ctx.num_processes} processes)")
    for u, (mode, seed) in enumerate(units, 1):
        ucfg = _unit(cfg, mode, seed)
        key = store.key(ucfg)
        if store.is_done(key):
            if ctx is None or not ctx.distributed:
                log(f"[planted-pair] {u}/{len(units)} mode={mode} seed={seed}: already done, skipped")
        else:
            t0 = time.perf_counter()
            arrays, metrics = _run_unit(cfg, mode, seed)
            store.save(key, ucfg, arrays, metrics)
            log(f"[planted-pair] {u}/{len(units)} mode={mode} seed={seed}: {len(cfg.eps_values)} runs x "
                f"{cfg.steps} steps in {time.perf_counter() - t0:.1f}s")
        results[(mode, seed)] = (store.load_metrics(key), key)

    summary = summarise(cfg, results)
    summary["wall_time_s"] = time.perf_counter() - t_start
    if ctx is not None and ctx.distributed:
        summary["processes"] = ctx.num_processes
    if plot_figures:
        summary["figures"] = plot(cfg, results, store, outdir / "figures", summary)
    atomic_write_json(outdir / "summary.json", summary)
    return summary


def summarise(cfg: PlantedPairConfig, results: dict) -> dict:
    per_mode = {}
    for mode in cfg.label_modes:
        rows = [r for s in cfg.seeds for r in results[(mode, s)][0]["rows"]]
        h = np.array([r["h_min"] for r in rows])
        table = []
        for e in cfg.eps_values:
            sel = [r for r in rows if r["eps"] == e]
            meas = np.array([r["steps_to_eps_measured"] for r in sel], dtype=np.float64)
            pred = np.array([r["steps_to_eps_predicted"] for r in sel], dtype=np.float64)
            table.append({
                "eps": e,
                "h_min": float(np.median([r["h_min"] for r in sel])),
                "mu0_median": float(np.median([r["mu0"] for r in sel])),
                "steps_to_eps_measured_median": float(np.median(meas)),
                "steps_to_eps_predicted_median": float(np.median(pred)),
                "censored_runs": int(np.sum(~np.isfinite(meas))),
                "late_rate_measured_median": float(np.median([r["late_rate_measured"] for r in sel])),
                "late_rate_predicted_median": float(np.median([r["late_rate_predicted"] for r in sel])),
                "pair_weight_median": float(np.median([r["pair_weight"] for r in sel])),
                "gram_change_end_median": float(np.median([r["gram_change_end"] for r in sel])),
                "runs": len(sel),
            })
        per_mode[mode] = {
            "mu_slope": fit_loglog_slope(h, [r["mu0"] for r in rows]),
            "mu_end_slope": fit_loglog_slope(h, [r["mu_end"] for r in rows]),
            "late_rate_slope": fit_loglog_slope(h, [r["late_rate_measured"] for r in rows]),
            "steps_to_eps": table,
            "diverged_runs": int(sum(r["diverged_step"] >= 0 for r in rows)),
        }
    lrs = {f"{m}/seed{s}": results[(m, s)][0]["lr"] for (m, s) in results}
    return {
        "experiment": "planted-pair",
        "config": dataclasses.asdict(cfg),
        "conventions": "h_min = min pairwise Euclidean distance (q_X = h_min/2 is not used here); "
                       "mu = (2/N) lambda_min(G), G = J J^T at the stated time; steps_to_eps = first t with "
                       f"L_t <= {cfg.loss_eps:g} L_0 (inf = not reached: censored at the run length); "
                       "late rate = -slope of log L_t over the last half of the run; predictions: "
                       "T6 linearised from G at initialisation.",
        "learning_rates": lrs,
        "modes": per_mode,
    }


@styled
def plot(cfg: PlantedPairConfig, results: dict, store: RunStore, figdir: Path, summary: dict) -> list[str]:
    """The experiment's figures (loss curves, mu and steps to eps vs h_min) in ``figdir``; returns their paths."""
    pyplot = plt()
    figdir.mkdir(parents=True, exist_ok=True)
    cols = eps_colors(len(cfg.eps_values))
    paths = []

    # 1. loss curves per eps, one panel per label mode (seed 0; dashed: T6 prediction)
    fig, axes = pyplot.subplots(1, len(cfg.label_modes), figsize=(4.2 * len(cfg.label_modes), 3.6), sharey=True,
                                squeeze=False)
    seed = cfg.seeds[0]
    for ax, mode in zip(axes[0], cfg.label_modes):
        arr = store.load_arrays(results[(mode, seed)][1])
        for b, e in enumerate(cfg.eps_values):
            loss = arr["loss"][b]
            ok = np.isfinite(loss)
            t = np.arange(loss.size)
            ax.semilogy(t[ok], loss[ok] / loss[0], color=cols[b], lw=1.4, label=f"h_min = {e:.1e}")
            ax.semilogy(arr["pred_steps"], arr["pred_loss"][b] / arr["pred_loss"][b][0], color=cols[b], lw=1,
                        ls="--")
        ax.axhline(cfg.loss_eps, color="k", lw=0.8, ls=":")
        ax.set_title(f"labels: {mode}  (seed {seed})")
        ax.set_xlabel("GD step t")
    axes[0][0].set_ylabel("L_t / L_0  (solid: measured, dashed: T6 prediction)")
    axes[0][0].legend(loc="lower left", title="planted pair distance")
    fig.suptitle("Planted pair: loss curves per h_min; dotted line = threshold for steps-to-eps")
    paths.append(save(fig, figdir / "planted_pair_loss_curves.png"))

    # 2. mu vs h_min (log-log) with the fitted slope and the T4 reference slope 2
    fig, ax = pyplot.subplots(figsize=(5.2, 4.2))
    mode0 = cfg.label_modes[0]
    rows = [r for s in cfg.seeds for r in results[(mode0, s)][0]["rows"]]
    h = np.array([r["h_min"] for r in rows])
    mu = np.array([r["mu0"] for r in rows])
    ax.loglog(h, mu, "o", color="k", ms=4, alpha=0.7, label="measured mu at init (each seed)")
    fit = summary["modes"][mode0]["mu_slope"]
    hh = np.geomspace(h.min(), h.max(), 50)
    ax.loglog(hh, np.exp(fit["intercept"]) * hh ** fit["slope"], color="C1",
              label=f"fit: slope {fit['slope']:.3f} ± {fit['stderr']:.3f}")
    ax.loglog(hh, np.exp(fit["intercept"]) * hh ** fit["slope"] * (hh / hh[-1]) ** (2 - fit["slope"]), color="C2",
              ls="--", label="reference slope 2 (T4)")
    for mode in cfg.label_modes:
        re = [r for s in cfg.seeds for r in results[(mode, s)][0]["rows"]]
        ax.loglog([r["h_min"] for r in re], [r["mu_end"] for r in re], "x", color=MODE_COLORS[mode], ms=4,
                  label=f"mu at end of GD ({mode})")
    ax.set_xlabel("h_min (planted pair distance)")
    ax.set_ylabel("mu = (2/N) lambda_min(J J^T)")
    ax.set_title("PL constant vs h_min (T3/T4)")
    ax.legend()
    paths.append(save(fig, figdir / "planted_pair_mu_vs_hmin.png"))

    # 3. steps-to-eps and late rate vs h_min: measured (each seed) vs T6 predicted (median over seeds)
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(10.5, 4.2))
    censor = results[(mode0, cfg.seeds[0])][0]["censor_at"]
    jitter = {m: 1.0 + 0.04 * (k - 1) for k, m in enumerate(LABEL_MODES)}  # side by side, same h_min
    for mode in cfg.label_modes:
        c = MODE_COLORS[mode]
        re = [r for s in cfg.seeds for r in results[(mode, s)][0]["rows"]]
        hs = np.array([r["h_min"] for r in re]) * jitter[mode]
        meas = np.array([r["steps_to_eps_measured"] for r in re], dtype=np.float64)
        ok = np.isfinite(meas)
        ax1.loglog(hs[ok], meas[ok], "o", color=c, ms=5, alpha=0.8, label=f"{mode}: measured")
        if (~ok).any():
            ax1.loglog(hs[~ok], np.full((~ok).sum(), censor), "^", mfc="none", color=c, ms=7,
                       label=f"{mode}: not reached in {censor} steps")
        tab = summary["modes"][mode]["steps_to_eps"]
        he = [t["h_min"] for t in tab]
        ax1.loglog(he, [t["steps_to_eps_predicted_median"] for t in tab], "-", color=c, lw=1.2,
                   label=f"{mode}: T6 predicted (median)")
        lm = np.array([r["late_rate_measured"] for r in re])
        ax2.loglog(hs, lm, "o", color=c, ms=5, alpha=0.8, label=f"{mode}: measured")
        ax2.loglog(he, [t["late_rate_predicted_median"] for t in tab], "-", color=c, lw=1.2,
                   label=f"{mode}: T6 predicted (median)")
    ax1.axhline(censor, color="k", ls=":", lw=0.8)
    ax1.set_xlabel("h_min (planted pair distance)")
    ax1.set_ylabel(f"steps to L_t <= {cfg.loss_eps:g} L_0")
    ax1.set_title("Time to eps vs h_min (dotted: run length)")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("h_min (planted pair distance)")
    ax2.set_ylabel("late-phase rate rho  (L_t ~ exp(-rho t), last half of run)")
    ax2.set_title("Late-phase convergence rate vs h_min")
    ax2.legend(fontsize=7)
    paths.append(save(fig, figdir / "planted_pair_time_to_eps.png"))
    return [str(p.relative_to(figdir.parent)) for p in paths]


def report(summary: dict) -> str:
    """A terminal table: per label mode, the mu slope and steps-to-eps measured vs predicted."""
    lines = [f"planted-pair ({summary['wall_time_s']:.1f}s)  {summary['conventions']}", ""]
    for mode, m in summary["modes"].items():
        s = m["mu_slope"]
        lines.append(f"labels = {mode}: slope of log mu(init) vs log h_min = {s['slope']:.3f} ± {s['stderr']:.3f} "
                     f"(T4: 2); diverged runs: {m['diverged_runs']}")
        lines.append(f"  {'h_min':>9} {'mu0':>10} {'steps meas':>11} {'steps pred':>11} {'censored':>8} "
                     f"{'rate meas':>10} {'rate pred':>10} {'pair wt':>8}")
        for r in m["steps_to_eps"]:
            lines.append(f"  {r['h_min']:9.2e} {r['mu0_median']:10.3e} {r['steps_to_eps_measured_median']:11.0f} "
                         f"{r['steps_to_eps_predicted_median']:11.0f} {r['censored_runs']:>4}/{r['runs']:<3} "
                         f"{r['late_rate_measured_median']:10.3e} {r['late_rate_predicted_median']:10.3e} "
                         f"{r['pair_weight_median']:8.2e}")
        lines.append("")
    return "\n".join(lines)
