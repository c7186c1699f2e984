"""T3 (EXACT identity): ||grad L||^2 = (1/N^2) r^T G r  >=  mu L,  mu = (2/N) lambda_min(G).

Measured on GD trajectories of four small analytic architectures (shallow, mlp, residual,
transformer) on planted-pair data (N = 8 points on S^7, one pair at distance eps = h_min, random
labels).  The engine ``sims.gd.train_batch`` runs each trajectory in chunks of ``record_every``
steps, each chunk starting from the previous chunk's final parameters (one compiled program), so
the parameters at every recorded step are the engine's own; the engine records grad_sq, mu and the
loss there.  At every recorded step the residual r and the Gram matrix G are recomputed at those
parameters and compared with ||grad L||^2 from autodiff and with the engine's record.

Rule (all in float64), at every recorded point of every trajectory:
  (1) identity: |g2 - c(N) r^T G r| <= 1e-9 g2 + 64 u lambda_max(G) ||r||^2 / N^2, c(N) = 1/N^2,
      g2 = ||grad L||^2 by autodiff, u = 2^-52 (the second term is the round-off scale of a quadratic
      form evaluated through a Gram matrix: it matters only when r^T G r << lambda_max ||r||^2);
  (2) PL inequality: g2 >= mu L - (same tolerance), mu = (2/N) lambda_min(G);
  (3) the engine's grad_sq, loss and mu agree with the recomputation (relative 1e-9; mu to
      64 u lambda_max (2/N)).
False variants (``CHECK.false_variants``, must be violated on a real measurement): the identity with
1/(N(N-1)) in place of 1/N^2 (relative error 1/(N-1)) and the PL constant (2/N) lambda_max (the
smoothness constant taken for the PL constant); the factor-2 slip (4/N) lambda_min is caught only once GD
has aligned r with the smallest eigenvector of G (default preset: min g2/(mu L) ~ 1 + 1e-8; quick: ~200).  ``judge`` also takes any ``identity_factor=c(N)`` / ``pl_factor=mu(lam_min, lam_max, N)``.

Power (reported by ``judge``): the identity rule catches a relative error of c(N) down to the tolerance
at the most sensitive point (~1e-9 relative); the PL rule catches any mu over-stated by a factor above
the smallest measured g2/(mu L) (close to 1 once GD aligns r with the smallest eigenvector of G).

What could make this true identity come out "violated", and the guard: round-off (float64, tolerance
at the round-off scale of a quadratic form through G); a diverged trajectory (skipped, counted); the
engine's record taken at other parameters (chunked run: both sides use the engine's parameters).
Deterministic: no sampling, no multiple testing.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np

from hmin.sims import linalg
from hmin.sims import gd
from hmin.sims.checks._trajectories import (UNIT_ROUNDOFF, as_floats, batch_params, planted_pair_family,
                                       jitted_init, point_diagnostics, small_models)
from hmin.sims.data import make_targets
from hmin.sims.registry import Check
from hmin.sims.verdict import HOLDS, INCONCLUSIVE, VIOLATED, Verdict, worst
from hmin.theory.t03_pl_identity import grad_norm_sq_from_gram, pl_constant
from hmin.sims.plotting import plt, save, styled

ID = "T3"

REL_TOL = 1e-9
ROUND_C = 64.0

FALSE_ALARMS = (
    "What could make this true identity come out 'violated', and the guard: (i) round-off of the two sides "
    "(float64 everywhere; tolerance 1e-9 g2 + 64 u lambda_max ||r||^2/N^2, the round-off scale of a quadratic form "
    "through G, which dominates when r is aligned with the small eigenvectors); (ii) a diverged trajectory "
    "(non-finite numbers: skipped and counted); (iii) the engine's record taken at other parameters than the "
    "recomputation (the trajectory is run in chunks so both use the engine's own parameters).  There is no "
    "sampling or statistics: the rule is deterministic.")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the T3 check (one instance per preset in `SETTINGS`)."""

    n: int = 8                      # points per set (on S^(d-1))
    d: int = 8
    eps_values: tuple[float, ...] = (1e-3, 1e-2, 1e-1)  # planted h_min values
    archs: tuple[str, ...] = ("shallow", "mlp", "residual", "transformer")
    steps: int = 300                # GD steps per trajectory
    record_every: int = 30          # r, G, ||grad L||^2 recomputed every record_every steps
    lr_scale: float = 1.0           # eta = lr_scale N / lambda_max(G_0)


SETTINGS = {
    "quick": Settings(eps_values=(1e-2,), archs=("shallow",), steps=40, record_every=10),
    "default": Settings(),
    "full": Settings(eps_values=(1e-4, 1e-3, 1e-2, 1e-1), steps=2000, record_every=100),
}


def measure(ctx) -> dict:
    """Run the trajectories and recompute r, G and ||grad L||^2 at every recorded step."""
    t0 = time.perf_counter()
    st = ctx.settings
    n, d = st.n, st.d
    k_data, k_lab, k_init, k_run = jax.random.split(ctx.key(), 4)
    X, pair, h_base, psets, _ = planted_pair_family(n, d, st.eps_values, key=k_data)
    Y = np.stack([make_targets(p.X, "random", key=k_lab) for p in psets])
    B = len(psets)
    models = small_models(d)
    out = {"settings": {**dataclasses.asdict(st), "h_base": h_base, "pair": list(pair)}, "runs": []}
    # One diagnostics program per architecture: the initial points are evaluated in the shape of the recorded
    # ones (each repeated n_rec times), and the data are placed once (jnp.asarray of NumPy compiles per shape).
    n_rec = st.steps // st.record_every + 1
    Xr, Yr = jax.device_put(np.repeat(X, n_rec, axis=0)), jax.device_put(np.repeat(Y, n_rec, axis=0))
    for arch in st.archs:
        model = models[arch]
        p0 = jitted_init(model)(jax.random.fold_in(k_init, len(arch)))
        pb = batch_params(p0, B)
        ev0 = point_diagnostics(model, jax.tree_util.tree_map(lambda a: np.repeat(a, n_rec, axis=0), pb),
                                Xr, Yr)["eigvals"][::n_rec]
        lr = st.lr_scale * n / float(ev0[:, -1].max())
        # The engine runs the trajectory in chunks of record_every steps, each chunk starting from the
        # previous chunk's final parameters: the parameters at every recorded step are then the
        # engine's own, and one compiled program serves every chunk.
        every = st.record_every
        cfg = gd.GDConfig(lr=lr, steps=every, record_every=every, sharpness=False)
        n_chunks = st.steps // every
        params, eng = pb, {"grad_sq": [], "loss": [], "mu": []}
        kept, losses, diverged = [pb], [], np.zeros(B, bool)
        for c in range(n_chunks):
            traj = gd.train_batch(model, X, Y, cfg, key=jax.random.fold_in(k_run, c), params0=params)
            for k in eng:
                eng[k].append(traj.diag[k][:, 0])
            losses.append(traj.loss[:, :-1] if c < n_chunks - 1 else traj.loss)
            diverged |= traj.diverged
            params = traj.params
            kept.append(params)
        for k in eng:
            eng[k].append(traj.diag[k][:, -1])
            eng[k] = np.stack(eng[k], axis=1)  # (B, n_rec)
        loss_curve = np.concatenate(losses, axis=1)
        flat_params = jax.tree_util.tree_map(lambda *a: np.stack(a, axis=1).reshape((B * n_rec,) + a[0].shape[1:]),
                                             *kept)
        pd = point_diagnostics(model, flat_params, Xr, Yr)
        rGr = np.einsum("bi,bij,bj->b", pd["r"], pd["G"], pd["r"])
        g2_gram = grad_norm_sq_from_gram(pd["G"], pd["r"], n)  # theory's (1/N^2) r^T G r
        for b in range(B):
            sl = slice(b * n_rec, (b + 1) * n_rec)
            out["runs"].append({
                "arch": arch, "eps": float(st.eps_values[b]), "h_min": float(st.eps_values[b]), "lr": lr,
                "n": n, "steps": n_chunks * every, "record_steps": (np.arange(n_rec) * every).tolist(),
                "diverged": bool(diverged[b]),
                "grad_sq": pd["grad_sq"][sl].tolist(),
                "rGr": rGr[sl].tolist(),
                "grad_sq_from_gram": g2_gram[sl].tolist(),
                "r_sq": np.sum(pd["r"][sl] ** 2, axis=1).tolist(),
                "loss": pd["loss"][sl].tolist(),
                "lam_min": pd["eigvals"][sl, 0].tolist(),
                "lam_max": pd["eigvals"][sl, -1].tolist(),
                "engine_grad_sq": eng["grad_sq"][b].tolist(),
                "engine_loss": eng["loss"][b].tolist(),
                "engine_mu": eng["mu"][b].tolist(),
                "loss_ratio_end": float(loss_curve[b, -1] / loss_curve[b, 0]),
            })
    out["wall_s"] = time.perf_counter() - t0
    return out


def _run_stats(run: dict, identity_factor, pl_factor) -> dict:
    n = int(run["n"])
    g2 = as_floats(run["grad_sq"])
    rGr = as_floats(run["rGr"])
    r_sq = as_floats(run["r_sq"])
    L = as_floats(run["loss"])
    lmin = as_floats(run["lam_min"])
    lmax = as_floats(run["lam_max"])
    tol = REL_TOL * g2 + ROUND_C * UNIT_ROUNDOFF * lmax * r_sq / n**2
    if identity_factor is None:
        pred = as_floats(run["grad_sq_from_gram"])  # theory.t03_pl_identity.grad_norm_sq_from_gram
    else:
        pred = identity_factor(n) * rGr
    id_err = np.abs(g2 - pred)
    mu = pl_constant(lmin, n) if pl_factor is None else pl_factor(lmin, lmax, n)
    pl_margin = g2 - mu * L  # >= -tol required
    eng_g2 = as_floats(run["engine_grad_sq"])
    eng_L = as_floats(run["engine_loss"])
    eng_mu = as_floats(run["engine_mu"])
    eng_err = max(float(np.max(np.abs(eng_g2 - g2) / g2)), float(np.max(np.abs(eng_L - L) / L)))
    mu_tol = ROUND_C * UNIT_ROUNDOFF * lmax * 2 / n
    eng_mu_ok = bool(np.all(np.abs(eng_mu - pl_constant(lmin, n)) <= mu_tol + REL_TOL * np.abs(eng_mu)))
    return {
        "id_roundoff_scaled": float(np.max(id_err / (lmax * r_sq / n**2))),
        "id_ok": bool(np.all(id_err <= tol)),
        "id_rel_max": float(np.max(id_err / g2)),
        "id_excess_max": float(np.max(id_err / tol)),
        # the smallest relative error delta of the constant that the rule catches at some point:
        # |g2 - (1 + delta) pred| > tol needs delta > (tol + |g2 - pred|) / pred
        "id_power_rel": float(np.min((tol + id_err) / np.abs(pred))),
        "pl_ok": bool(np.all(pl_margin >= -tol)),
        "pl_ratio_min": float(np.min(g2 / (mu * L))) if np.all(mu * L > 0) else float("nan"),
        # slack of the PL bound: the largest t with g2 >= t mu L - tol at every point (mu could be raised by t)
        "pl_slack": float(np.min((g2 + tol) / (mu * L))) if np.all(mu * L > 0) else float("nan"),
        "pl_worst": float(np.min(pl_margin / tol)),
        "engine_ok": bool(eng_err <= REL_TOL and eng_mu_ok),
        "engine_rel_max": eng_err,
        "points": int(g2.size),
    }


def judge(measured: dict, *, identity_factor=None, pl_factor=None, past_slack: bool = False) -> Verdict:
    """Apply the T3 rule (see the module docstring).

    Args:
        measured: the output of :func:`measure`.
        identity_factor: a false variant c(N) replacing 1/N^2 in the identity (test hook).
        pl_factor: a false variant mu(lam_min, lam_max, N) replacing (2/N) lam_min (test hook).
        past_slack: if True, the PL constant raised just past its measured slack: mu = t (1 + 1e-6) (2/N) lambda_min
            with t = the measured slack (`pl_slack`).
    """
    runs = [r for r in measured["runs"] if not r["diverged"]]
    if past_slack:
        t = min((_run_stats(r, None, None)["pl_slack"] for r in runs), default=float("nan"))

        def pl_factor(lam_min, lam_max, n, t=t):
            return t * (1.0 + 1e-6) * pl_constant(lam_min, n)
    stats = [_run_stats(r, identity_factor, pl_factor) for r in runs]
    n_pts = sum(s["points"] for s in stats)
    sub = {
        "identity": HOLDS if stats and all(s["id_ok"] for s in stats) else VIOLATED,
        "pl_inequality": HOLDS if stats and all(s["pl_ok"] for s in stats) else VIOLATED,
        "engine_agrees": HOLDS if stats and all(s["engine_ok"] for s in stats) else VIOLATED,
    }
    verdict = worst(list(sub.values())) if stats else INCONCLUSIVE
    archs = sorted({r["arch"] for r in runs})
    factor = "1/N^2" if identity_factor is None else "VARIANT c(N)"
    rule = (f"at every recorded GD step of every trajectory ({len(runs)} runs: {', '.join(archs)}; "
            f"planted pair, random labels): |g2 - ({factor}) r^T G r| <= {REL_TOL:g} g2 + {ROUND_C:g} u "
            f"lambda_max ||r||^2/N^2 (u = 2^-52, float64; g2 = ||grad L||^2 by autodiff), and g2 >= mu L - "
            f"the same tolerance with mu = {'(2/N) lambda_min(G)' if pl_factor is None else 'VARIANT'}; the "
            f"engine's recorded grad_sq/loss/mu agree to {REL_TOL:g} relative")
    id_power = min((s["id_power_rel"] for s in stats), default=float("nan"))
    pl_min = min((s["pl_ratio_min"] for s in stats), default=float("nan"))
    numbers = {
        "verdict_parts": sub,
        "identity_max_error_over_tolerance": max((s["id_excess_max"] for s in stats), default=float("nan")),
        "pl_ratio_min": pl_min,
        "slack_pl": min((s["pl_slack"] for s in stats), default=float("nan")),
        "identity_max_rel_error": max((s["id_rel_max"] for s in stats), default=float("nan")),
        "identity_max_error_roundoff_scaled": max((s["id_roundoff_scaled"] for s in stats), default=float("nan")),
        "engine_max_rel_error": max((s["engine_rel_max"] for s in stats), default=float("nan")),
        "identity_detectable_rel_error": id_power,
        "points_checked": n_pts,
        "runs": len(runs),
        "diverged_runs_skipped": len(measured["runs"]) - len(runs),
        "h_min_values": sorted({r["h_min"] for r in runs}),
        "wall_s": measured.get("wall_s"),
    }
    labels = {
        "verdict_parts": "verdict of each part",
        "identity_max_error_over_tolerance": "max |g2 - r^T G r/N^2| / tolerance (<= 1)",
        "pl_ratio_min": "min g2 / (mu L) (>= 1 by T3; 1 = the PL bound is tight)",
        "slack_pl": ("slack of the PL bound: the factor by which mu = (2/N) lambda_min could be raised before these "
                     "points refute g2 >= mu L - tol (min over points of (g2 + tol) / (mu L))"),
        "identity_max_rel_error": "max |g2 - r^T G r/N^2| / g2",
        "identity_max_error_roundoff_scaled": "max |g2 - r^T G r/N^2| / (lambda_max ||r||^2/N^2) (round-off scale)",
        "engine_max_rel_error": "max relative difference engine record vs recomputation (grad_sq, loss)",
        "identity_detectable_rel_error": "smallest relative error of the constant 1/N^2 the identity rule catches",
        "points_checked": "recorded GD points checked",
        "runs": "trajectories (not diverged)",
        "diverged_runs_skipped": "diverged trajectories skipped",
        "h_min_values": "h_min of the planted pair",
        "wall_s": "wall time (s)",
    }
    notes = ("EXACT identity; the check measures round-off only.  r and G are recomputed at the engine's own "
             "parameters (the trajectory is run in chunks of record_every steps); eigenvalues in float64 NumPy.  The PL ratio "
             "g2/(mu L) close to 1 means the residual is aligned with the smallest eigenvector of G (the bound is "
             "tight there); there r^T G r << lambda_max ||r||^2 and the plain relative error of the identity grows "
             "to ~eps_mach lambda_max/lambda_min, which is why the tolerance has a round-off term (see the scaled error).  "
             + FALSE_ALARMS)
    power = (f"identity: a constant c(N) off by a relative {id_power:.1e} or more is caught at the most sensitive "
             f"point (e.g. 1/(N(N-1)) for 1/N^2 is {1 / (runs[0]['n'] - 1) if runs else float('nan'):.2f} off); "
             f"PL: a constant mu over-stated by a factor above {pl_min:.10g} (the smallest measured g2/(mu L)) is "
             "caught (so the factor-2 slip (4/N) lambda_min is caught only if that is below 2); the identity is an "
             "equality: a constant 25% off is caught wherever the relative power above is below 0.25; engine: a "
             "recording error above 1e-9 relative"
             if stats else "no trajectory: nothing can be caught")
    return Verdict(ID, verdict, rule, numbers, labels, notes=notes, power=power)


@styled
def plot(measured: dict, verdict: Verdict, ctx) -> list[str]:
    pyplot = plt()
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(10.5, 4.0))
    colors = {"shallow": "C0", "mlp": "C1", "residual": "C2", "transformer": "C3"}
    styles = ["-", "--", ":", "-."]
    eps_list = sorted({r["eps"] for r in measured["runs"]})
    for r in measured["runs"]:
        t = np.asarray(r["record_steps"])
        g2 = as_floats(r["grad_sq"])
        n = r["n"]
        tol = REL_TOL * g2 + ROUND_C * UNIT_ROUNDOFF * as_floats(r["lam_max"]) * as_floats(r["r_sq"]) / n**2
        err = np.abs(g2 - as_floats(r["grad_sq_from_gram"])) / tol
        mu = 2 * as_floats(r["lam_min"]) / n
        ls = styles[eps_list.index(r["eps"]) % 4]
        lab = f"{r['arch']}, h_min={r['eps']:.0e}"
        ax1.semilogy(t, np.maximum(err, 1e-12), ls, color=colors[r["arch"]], lw=1.2, label=lab)
        ax2.semilogy(t, g2 / (mu * as_floats(r["loss"])), ls, color=colors[r["arch"]], lw=1.2, label=lab)
    ax1.axhline(1.0, color="k", ls=":", lw=1, label="tolerance (rule: <= 1)")
    ax1.set_xlabel("GD step t")
    ax1.set_ylabel("|g2 - r^T G r / N^2| / tolerance  (EXACT identity: 0)")
    ax1.set_title(f"identity error / ({REL_TOL:g} g2 + {ROUND_C:g} u lam_max ||r||^2/N^2); floor 1e-12")
    ax1.legend(fontsize=6, ncol=2)
    ax2.axhline(1.0, color="k", ls=":", lw=1, label="T3 bound: ratio >= 1")
    ax2.set_xlabel("GD step t")
    ax2.set_ylabel("||grad L||^2 / (mu L),  mu = (2/N) lambda_min(G)")
    ax2.set_title("PL ratio along GD (predicted >= 1)")
    ax2.legend(fontsize=6)
    fig.suptitle(f"T3: {verdict.verdict} (identity max rel err "
                 f"{verdict.numbers['identity_max_rel_error']:.1e}; min PL ratio "
                 f"{verdict.numbers['pl_ratio_min']:.4f})")
    return [ctx.rel(save(fig, ctx.fig("t03_identity_pl_ratio.png")))]


def _identity_n_n_minus_1(n):
    """False variant: 1/(N(N-1)) in place of 1/N^2 (an 'unbiased' normalisation slip)."""
    return 1.0 / (n * (n - 1))


def _pl_factor_two_slip(lam_min, lam_max, n):
    """False variant: mu = (4/N) lambda_min (a factor-2 slip, e.g. L = ||r||^2/N instead of /(2N)); caught
    only where GD has aligned r with the smallest eigenvector (min g2/(mu L) < 2: default preset, not quick)."""
    return 4.0 * lam_min / n


def _identity_25_large(n):
    """False variant: the identity's constant 1.25 / N^2 (25% off)."""
    return 1.25 / n**2


def _identity_25_small(n):
    """False variant: the identity's constant 0.75 / N^2 (25% off)."""
    return 0.75 / n**2


def _pl_factor_lam_max(lam_min, lam_max, n):
    """False variant: mu = (2/N) lambda_max (the smoothness constant taken for the PL constant)."""
    return 2.0 * lam_max / n


# ----------------------------------------------------------------------------------------------
# Attack surface (hmin attack T3): the identity and the PL inequality over data, labels and parameters
# ----------------------------------------------------------------------------------------------

ATTACK_N, ATTACK_D, ATTACK_WIDTH, ATTACK_BOX = 4, 2, 4, 3.0


def _attack_problem(claim: str):
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from hmin.sims.diagnostics import jacobian, make_loss
    from hmin.sims.models import make_model
    from hmin.sims.surface import Problem

    lam_max_pl = claim == "pl-lambda-max"
    model = make_model("shallow", d=ATTACK_D, width=ATTACK_WIDTH, activation="tanh")
    flat0, unravel = ravel_pytree(model.init(jax.random.PRNGKey(0)))
    P, n, d = flat0.size, ATTACK_N, ATTACK_D
    loss = make_loss(model)

    def split(z, xp):
        X = 1 / (1 + xp.exp(-z[: n * d].reshape(n, d)))            # data in [0, 1]^d
        Y = xp.tanh(z[n * d: n * d + n]).reshape(n, 1)              # labels in (-1, 1)
        theta = ATTACK_BOX * xp.tanh(z[n * d + n:] / ATTACK_BOX)    # parameters in a box
        return X, Y, theta

    def parts(theta, X, Y, xp, grad, jac):
        g = grad(theta)
        g2 = xp.sum(g * g)
        J = jac(theta)
        r = (model.apply(unravel(theta), X) - Y).ravel()
        G = J @ J.T
        ev = linalg.eigvalsh(0.5 * (G + G.T))
        return g2, G, r, ev

    def combine(g2, rGr, r_sq, ev, L):
        tol = REL_TOL * g2 + ROUND_C * UNIT_ROUNDOFF * ev[-1] * r_sq / n**2
        mu = 2.0 / n * (ev[-1] if lam_max_pl else ev[0])
        m_id = 1.0 - abs(g2 - rGr / n**2) / tol
        m_pl = 1.0 - mu * L / (g2 + tol)
        return m_id, m_pl

    def margin(z):
        X, Y, theta = split(z, jnp)
        g2, G, r, ev = parts(theta, X, Y, jnp, lambda th: jax.grad(lambda t: loss(unravel(t), X, Y))(th),
                             lambda th: jax.vmap(lambda x: jax.grad(lambda t: model.apply(unravel(t), x[None, :])[0, 0])(th))(X))
        m_id, m_pl = combine(g2, r @ G @ r, jnp.sum(r * r), ev, 0.5 * jnp.sum(r * r) / n)
        return jnp.minimum(m_id, m_pl)

    def decode(z):
        X, Y, theta = split(np.asarray(z, dtype=np.float64), np)
        return {"X": X.tolist(), "Y": Y.tolist(), "theta": theta.tolist(), "claim": claim}

    def numbers(c):
        X, Y = jnp.asarray(c["X"]), jnp.asarray(c["Y"])
        th = jnp.asarray(c["theta"])
        g = np.asarray(jax.grad(lambda t: loss(unravel(t), X, Y))(th), dtype=np.float64)
        J = np.asarray(jacobian(model, unravel(th), X), dtype=np.float64)  # sims.diagnostics, as the check
        r = (np.asarray(model.apply(unravel(th), X)) - np.asarray(Y)).ravel()
        G = J @ J.T
        ev = np.linalg.eigvalsh(0.5 * (G + G.T))
        g2 = float(g @ g)
        pred = float(grad_norm_sq_from_gram(G, r, n))  # theory's identity
        L = float(0.5 * r @ r / n)
        mu = float(pl_constant(ev[-1] if lam_max_pl else ev[0], n))  # theory's PL constant (2/N) lambda
        return g2, pred, float(r @ r), ev, L, mu

    def rejudge(c):
        g2, pred, r_sq, ev, L, mu = numbers(c)
        tol = REL_TOL * g2 + ROUND_C * UNIT_ROUNDOFF * ev[-1] * r_sq / n**2
        return float(min(1.0 - abs(g2 - pred) / tol, 1.0 - mu * L / (g2 + tol)))

    def describe(c):
        g2, pred, r_sq, ev, L, mu = numbers(c)
        return (f"at |g2 - r^T G r / N^2| / g2 = {abs(g2 - pred) / g2:.3g} (tolerance {REL_TOL:g} g2 + round-off), "
                f"||grad L||^2 / (mu L) = {g2 / (mu * L):.6g} (claimed >= 1), N = {n} points in [0, 1]^{d}")

    return Problem(dim=n * d + n + P, margin=margin, decode=decode, rejudge=rejudge, describe=describe,
                   differentiable=True, learning_rate=0.05)


def _attack_surface():
    from hmin.sims.surface import AttackSurface

    return AttackSurface(
        space=(f"shallow tanh nets of width {ATTACK_WIDTH} (sims.models.shallow), N = {ATTACK_N} points in [0, 1]^{ATTACK_D}, "
               f"labels in (-1, 1), parameters in [-{ATTACK_BOX:g}, {ATTACK_BOX:g}]^P: every point of the space, not only "
               "points on GD trajectories"),
        claims={"claim": "T3: ||grad L||^2 = r^T G r / N^2 >= (2/N) lambda_min(G) L",
                "pl-lambda-max": "false variant: PL constant (2/N) lambda_max"},
        build=_attack_problem,
        tolerance=(f"the judge's: |g2 - r^T G r / N^2| <= {REL_TOL:g} g2 + {ROUND_C:g} u lambda_max ||r||^2 / N^2, and "
                   "g2 - mu L >= -(that); margin = min(1 - identity error / tolerance, 1 - mu L / (g2 + tolerance))"))


ATTACK = _attack_surface()


CHECK = Check(id=ID, settings=SETTINGS, measure=measure, judge=judge, plot=plot,
              false_variants={"identity constant 1/(N(N-1))": {"identity_factor": _identity_n_n_minus_1},
                              "PL constant (2/N) lambda_max": {"pl_factor": _pl_factor_lam_max},
                              "identity constant 25% too large": {"identity_factor": _identity_25_large},
                              "identity constant 25% too small": {"identity_factor": _identity_25_small},
                              "PL constant raised just past its slack": {"past_slack": True}},
              attack=ATTACK)
