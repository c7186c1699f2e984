"""The figures of ``hmin train``: the training dynamics against the theory, and the data's geometry.

``plot(summary, arrays, figdir)`` draws them from a :func:`hmin.sims.train.train_and_measure`
summary and arrays (nothing is recomputed here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hmin.sims import regime
from hmin.sims.plotting import plt, save, styled

__all__ = ["plot"]


@styled
def plot(summary: dict, arrays: dict, figdir: Path) -> list[str]:
    """Two figures: the training dynamics against the theory, and the data's geometry with the slow pairs."""
    pyplot = plt()
    figdir = Path(figdir)
    figdir.mkdir(parents=True, exist_ok=True)
    cfg = summary["config"]
    eta = summary["eta"]["value"]
    loss = arrays["loss"]
    t = arrays["steps"]
    rec = arrays["record_steps"]
    L0 = loss[0]
    opt = cfg["optimizer"] + (f" (batch {cfg['batch']})" if cfg["batch"] else "")
    fig, axes = pyplot.subplots(2, 2, figsize=(11, 7.6))
    ax = axes[0][0]
    ok = np.isfinite(loss)
    ax.semilogy(t[ok], loss[ok] / L0, color="k", lw=1.6, label=f"measured ({opt}, full-set loss)")
    if "t6_loss" in arrays:
        ax.semilogy(t, np.maximum(arrays["t6_loss"] / L0, 1e-300), "--", color="C0", lw=1.2,
                    label="T6: linearised GD from G at init")
    if "t5_bound" in arrays:
        b = arrays["t5_bound"] / L0
        fin = np.isfinite(b)
        ax.semilogy(t[fin], b[fin], ":", color="C3", lw=1.4, label="T5: product bound (while eta < 2/beta)")
    ax.axhline(cfg["loss_eps"], color="gray", lw=0.8, ls="-.", label=f"eps = {cfg['loss_eps']:g}")
    regime.mark_loss_axes(ax, summary.get("regime"))
    lo = np.nanmin(loss[ok] / L0) if ok.any() else 1e-6
    ax.set_ylim(max(min(lo, cfg["loss_eps"]) * 0.3, 1e-12), 3)
    ax.set_xlabel("step t")
    ax.set_ylabel("L_t / L_0")
    ax.set_title(f"loss ({cfg['loss']}), eta = {eta:.3g}")
    ax.legend(fontsize=7)

    ax = axes[0][1]
    n = summary["geometry"]["n"]
    if "diag_mu" in arrays:
        mu = arrays["diag_mu"]
        ax.semilogy(rec, mu, "o-", ms=3, color="C2", label="mu_t = (2/N) lambda_min(G_t)")
        if "diag_res_min" in arrays and np.any(2 * arrays["diag_res_min"] / n > 1e-3 * np.abs(mu)):
            # a Lanczos value is an upper bound on mu_t; some eigenvalue lies within its residual below it
            err = 2 * arrays["diag_res_min"] / n
            floor = 0.1 * np.nanmin(np.abs(mu[mu != 0])) if np.any(mu != 0) else 1e-12
            low = mu - err
            open_ = low <= floor
            ax.fill_between(rec, np.where(open_, floor, low), mu, color="C2", alpha=0.2,
                            label="mu_t - (2/N) residual .. mu_t (Ritz value: an upper bound)")
            if open_.any():
                ax.plot(rec[open_], np.full(open_.sum(), floor), "v", color="C2", ms=5,
                        label="residual > mu_t: mu_t not resolved below")
        ax.semilogy(rec, arrays["diag_lam_max"] / n, "s-", ms=3, color="C1", label="lambda_max(G_t) / N")
    ax.set_xlabel("step t")
    ax.set_title(f"Gram matrix spectrum along training ({summary['gram']['method']})")
    ax.legend(fontsize=7)

    ax = axes[1][0]
    sh = summary["sharpness"]
    if sh["edge_quantity"] == "preconditioned_sharpness":
        if "diag_preconditioned_sharpness" in arrays:
            ax.plot(rec, arrays["diag_preconditioned_sharpness"], "o-", ms=3, color="C4",
                    label="preconditioned sharpness lambda_max(P^-1 H) (Adam)")
        if "diag_sharpness" in arrays:
            ax.plot(rec, arrays["diag_sharpness"], "s-", ms=3, color="gray", lw=0.8,
                    label="sharpness lambda_max(H) (no edge under Adam)")
        ax.set_yscale("log")
    elif "diag_sharpness" in arrays:
        ax.plot(rec, arrays["diag_sharpness"], "o-", ms=3, color="C4", label="sharpness lambda_max(Hess L)")
    if sh["threshold"] is not None:
        ax.axhline(sh["threshold"], color="k", ls="--", lw=1, label=f"{sh['edge']} = {sh['threshold']:.4g}")
    ax.set_xlabel("step t")
    ax.set_title(f"{sh['edge_quantity'].replace('_', ' ')} vs its stability edge"
                 if sh["threshold"] is not None else "sharpness (no stability edge for this optimizer)")
    ax.legend(fontsize=7)

    ax = axes[1][1]
    if "diag_param_dist" in arrays:
        ax.plot(rec, arrays["diag_param_dist"], "o-", ms=3, color="C5", label="||theta_t - theta_0||")
        ax2 = ax.twinx()
        ax2.plot(rec, arrays["diag_gram_change"], "s-", ms=3, color="C6", label="||G_t - G_0||_F / ||G_0||_F")
        ax2.set_ylabel("relative Gram change", color="C6")
        ax.legend(loc="upper left", fontsize=7)
        ax2.legend(loc="lower right", fontsize=7)
    ax.set_xlabel("step t")
    ax.set_title("weight and Gram movement")
    g = summary["geometry"]
    fig.suptitle(f"hmin train: {summary['model']['name']}, N = {g['n']}, d = {g['d']}, h_min = {g['h_min']:.3g}; "
                 f"L_T/L_0 = {summary['loss']['final_over_initial']:.2e}", fontsize=10)
    fig.tight_layout()
    paths = [save(fig, figdir / "train_dynamics.png")]

    fig, (a1, a2) = pyplot.subplots(1, 2, figsize=(11, 4.2))
    nn = np.asarray(arrays["nn_distance"], np.float64)
    pos = nn[nn > 0]
    if pos.size:
        bins = np.geomspace(pos.min() * 0.9, pos.max() * 1.1, max(10, min(40, pos.size // 2)))
        a1.hist(pos, bins=bins, color="C0", alpha=0.8, label="distance of each point to its nearest other point")
        a1.set_xscale("log")
    a1.axvline(g["h_min"], color="C3", ls="--", lw=1.2,
               label=f"h_min = {g['h_min']:.3g}  pair {tuple(g['argmin_pair'])}")
    a1.axvline(g["q_X"], color="C1", ls=":", lw=1.2, label=f"q_X = h_min/2 = {g['q_X']:.3g}")
    kq = g["knn_quantiles"]["quantiles"]
    a1.axvline(kq["0.5"], color="gray", ls="-.", lw=1, label=f"median nearest-neighbour distance {kq['0.5']:.3g}")
    a1.set_xlabel("nearest-neighbour distance (log scale)")
    a1.set_ylabel("points")
    a1.set_title("geometry of the data")
    a1.legend(fontsize=7)
    pairs = [p for p in summary["slow_pairs"] if p.get("predicted_slowdown") is not None]
    if pairs:
        dist = np.array([p["distance"] for p in pairs])
        gap = np.array([p["label_gap"] for p in pairs])
        slow = np.array([p["predicted_slowdown"] for p in pairs], dtype=np.float64)
        sc = a2.scatter(dist, gap, c=np.log10(np.clip(np.nan_to_num(slow, nan=1.0, posinf=1e6), 1.0, 1e6)),
                        cmap="magma_r", s=40, vmin=0)
        fig.colorbar(sc, ax=a2, label="log10 predicted slowdown (T6)")
        for p in [p for p in pairs if np.nan_to_num(p["predicted_slowdown"], nan=1.0) > 1.05][:5]:
            a2.annotate(f"({p['i']},{p['j']}) x{p['predicted_slowdown']:.3g}", (p["distance"], p["label_gap"]),
                        fontsize=7, xytext=(3, 3), textcoords="offset points")
        a2.set_title("pairs that slow GD (T6): close pairs whose labels differ")
    else:
        rows = summary["slow_pairs"]
        if rows:
            a2.scatter([p["distance"] for p in rows], [p["label_gap"] for p in rows], color="C0", s=30)
        a2.set_title("closest pairs with differing labels (no T6 prediction for this loss)")
    a2.set_xscale("log")
    a2.set_xlabel("pair distance ||x_i - x_j|| (log scale)")
    a2.set_ylabel("label gap ||y_i - y_j||")
    fig.tight_layout()
    paths.append(save(fig, figdir / "train_geometry.png"))
    return [str(p.relative_to(figdir.parent)) for p in paths]
