"""The terminal report of ``hmin train``: ``report(summary)`` renders a summary as a few lines of text."""

from __future__ import annotations

import math

from hmin.sims import regime

__all__ = ["report"]


def _steps(v) -> str:
    v = float(v)
    return "not reached" if math.isinf(v) else ("-" if math.isnan(v) else f"{v:.0f}")


def report(summary: dict) -> str:
    """A short terminal report of a :func:`train_and_measure` summary."""
    g, L, e = summary["geometry"], summary["loss"], summary["eta"]
    lines = [f"hmin train: {summary['model']['name']}, N = {g['n']}, d = {g['d']}, {summary['config']['optimizer']}"
             f"{' batch ' + str(summary['config']['batch']) if summary['config']['batch'] else ''}, "
             f"{summary['config']['loss']}, {summary['config']['steps']} steps, eta = {e['value']:.4g} ({e['rule']})",
             f"  geometry: h_min = {g['h_min']:.4g} (pair {g['argmin_pair'][0]}, {g['argmin_pair'][1]}), "
             f"q_X = h_min/2 = {g['q_X']:.4g}; nearest-neighbour distance median "
             f"{g['knn_quantiles']['quantiles']['0.5']:.4g}",
             f"  loss: L_0 = {L['initial']:.4g} -> L_T = {L['final']:.4g} (ratio {L['final_over_initial']:.3g}); "
             f"steps to {L['eps']:g} L_0: {_steps(L['steps_to_eps'])}"
             + (f"; DIVERGED at step {L['diverged_step']}" if L["diverged_step"] is not None else "")]
    t6 = summary["t6_linearised"]
    lines.append(f"  T6 linearised (from G_0): steps to {L['eps']:g} L_0 predicted {_steps(t6['steps_to_eps'])}"
                 if t6["applies"]
                 else f"  T6 linearised: not applicable ({t6['why_not']})")
    lines += regime.report_lines(summary.get("regime"))
    t5 = summary["t5_descent"]
    if t5["applies"]:
        b = t5["final_bound_over_L0"]
        lines.append(f"  T5: one-step inequality {t5['one_step_inequality_holds']}; product bound "
                     + (f"L_T/L_0 <= {b:.3g}" if b is not None else
                        f"no guarantee from step {t5['bound_valid_until_step']} on (eta >= 2/beta there)"))
    else:
        lines.append(f"  T5: not applicable ({t5['why_not']})")
    gr, sh = summary["gram"], summary["sharpness"]
    fmt = lambda v: "-" if v is None else f"{v:.4g}"  # noqa: E731
    res = lambda v: "" if v is None else f" (residual {v:.2g})"  # noqa: E731
    n = summary["geometry"]["n"]
    lines.append(f"  Gram ({gr['method']}): mu_0 = (2/N) lambda_min(G_0) = {fmt(gr['mu0'])}"
                 f"{res(None if gr['residual_min0'] is None else 2 * gr['residual_min0'] / n)} -> mu_T = "
                 f"{fmt(gr['mu_end'])}{res(gr['mu_residual_end'])}; lambda_max(G_0) = {fmt(gr['lambda_max0'])}"
                 f"{res(gr['residual_max0'])} -> lambda_max(G_T) = {fmt(gr['lambda_max_end'])}{res(gr['residual_max_end'])}")
    lines.append(f"  movement: max ||G_t - G_0||_F/||G_0||_F = {fmt(gr['gram_change_max'])}; "
                 f"||theta_T - theta_0|| = {fmt(summary['weights']['param_dist_end'])}")
    if sh["edge_quantity"] == "preconditioned_sharpness":
        lines.append(f"  sharpness: max {fmt(sh['max'])}; preconditioned sharpness (Adam) max {fmt(sh['preconditioned_max'])} "
                     f"vs {sh['edge']} = {sh['threshold']:.4g} ({sh['records_above_threshold']} records above)")
    elif sh["threshold"] is not None:
        lines.append(f"  sharpness: max {fmt(sh['max'])} vs {sh['edge']} = {sh['threshold']:.4g} "
                     f"({sh['records_above_threshold']} records above)")
    else:
        lines.append(f"  sharpness: max {fmt(sh['max'])} ({sh['note']})")
    tm = summary.get("timing", {})
    if "train_s" in tm:
        lines.append(f"  time: steps {tm['train_s']:.1f} s, diagnostics {tm['diagnostics_s']:.1f} s "
                     f"({tm['records']} records; {tm['record_rule']}), compile {tm['compile_s']:.1f} s; "
                     f"wall {summary['wall_seconds']:.0f} s (estimated before the run: {tm['estimate_s']:.0f} s "
                     "plus slow pairs and figures)")
    pairs = summary["slow_pairs"]
    if pairs:
        lines.append("  pairs that slow GD (T6; distance, label gap, predicted slowdown):")
        for p in pairs[:5]:
            s = p["predicted_slowdown"]
            lines.append(f"    ({p['i']}, {p['j']}): {p['distance']:.4g}, {p['label_gap']:.4g}, "
                         + ("n/a" if s is None else f"x{s:.3g}"))
    return "\n".join(lines)
