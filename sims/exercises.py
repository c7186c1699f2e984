"""Checks for the course's exercises (``notebooks/lectures/``): each one can fail.

One function per exercise that has a numerical answer. A check never trusts a typed number: it
recomputes the answer from the student's own intermediate arrays (and, where the exercise fixes the
data, from that data), compares two-sided, and only then compares the answer with what the theory
says. Its messages say *what* is inconsistent, never the expected value, so running a check does not
give the answer away. The test suite (``tests/test_course.py``) plants plausible wrong answers for
every exercise (wrong dimension, wrong metric, a typed constant, the wrong direction) and asserts that
the check rejects each one.

A notebook calls, for example, ``exercises.check_hmin_slope(Ns, h3, slope3)``: silent when the answer
is consistent and right, an ``AssertionError`` naming the inconsistency otherwise.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "check_hmin_slope", "check_interval_law", "check_cluster_count", "check_mlp_slope",
    "check_t6_ratio", "check_gauss_newton_ratio", "check_gram_movement", "check_random_ray",
    "check_rotation", "check_t10_ratio", "check_rare_cover", "check_false_variant",
]


def _fail(message: str):
    raise AssertionError(message)


def _close(a, b, *, rtol: float = 1e-9, atol: float = 0.0) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


# ------------------------------------------------------------------------------------------------
# Lecture 1
# ------------------------------------------------------------------------------------------------


def check_hmin_slope(Ns, h3, slope3, *, d: int = 3) -> None:
    """Lecture 1, exercise 1: ``h3[n, m]`` = h_min of draw m at N = Ns[n] on the d-torus; ``slope3`` its fit."""
    from hmin.theory import t01_hmin_lower as t1

    h3 = np.asarray(h3, float)
    if h3.ndim != 2 or h3.shape[0] != len(Ns) or h3.shape[1] < 100:
        _fail("h3 must have one row per N in Ns and at least 100 Monte Carlo draws per row")
    if not np.all(h3 > 0):
        _fail("h3 must hold minimum pairwise distances (all positive)")
    fitted = _slope(Ns, np.median(h3, axis=1))
    if not _close(slope3, fitted, rtol=1e-6):
        _fail("slope3 is not the least-squares slope of log median(h3) against log N")
    if abs(fitted - float(t1.scaling_exponent(d))) >= 0.1:
        _fail(f"the slope of your h3 is not within 0.1 of T1's prediction for d = {d}: "
              "check the dimension of the points and the distance (the torus wraps around)")


def check_interval_law(pts, h1, r, empirical, exact, ks, bound_ok, *, n: int = 5) -> None:
    """Lecture 1, exercise 2: h_min of uniform points on the interval [0, 1] against its exact law."""
    from hmin.theory import t01_hmin_lower as t1

    pts, h1, r = np.asarray(pts, float), np.asarray(h1, float), np.asarray(r, float)
    if pts.ndim != 2 or pts.shape[1] != n or pts.shape[0] < 200:
        _fail(f"pts must be (M, {n}): M >= 200 sets of {n} points")
    if pts.min() < 0 or pts.max() > 1:
        _fail("pts must lie in [0, 1]")
    if h1.shape != (pts.shape[0],) or not _close(h1, np.diff(np.sort(pts, axis=1), axis=1).min(axis=1), rtol=1e-12):
        _fail("h1 is not the minimum pairwise distance of each row of pts on the interval "
              "(on [0, 1] there is no wrap-around)")
    if r.ndim != 1 or r.size < 20 or r.min() > 0 or r.max() < h1.max() * (1 - 1e-12):
        _fail("r must be a grid of at least 20 radii from 0 to at least max(h1)")
    if not _close(exact, t1.prob_hmin_lt_uniform_interval(r, n), rtol=1e-9, atol=1e-12):
        _fail("exact is not the exact law P(h_min < r) on the interval at your grid r")
    if not _close(empirical, (h1[None, :] < r[:, None]).mean(axis=1), rtol=0, atol=1e-12):
        _fail("empirical is not the fraction of your h1 below each r")
    if not _close(ks, np.abs(np.asarray(empirical) - np.asarray(exact)).max(), rtol=1e-9, atol=1e-15):
        _fail("ks is not the largest gap between your empirical and exact curves")
    if float(ks) >= 1.63 / np.sqrt(pts.shape[0]):
        _fail("the gap is above the 99% Kolmogorov-Smirnov level: the draws do not follow the law")
    truth = bool(np.all(np.asarray(t1.prob_bound(r, n, 1, 1.0)) >= np.asarray(exact) - 1e-12))
    if bool(bound_ok) is not truth:
        _fail("bound_ok does not say whether T1's bound is above the exact curve at every r of your grid")


# ------------------------------------------------------------------------------------------------
# Lecture 2
# ------------------------------------------------------------------------------------------------


def _gram_eigs(model, params, X):
    from hmin.sims.diagnostics import gram

    return np.linalg.eigvalsh(np.asarray(gram(model, params, X), dtype=np.float64))


def check_cluster_count(ev, n_small, *, model, params, base) -> None:
    """Lecture 2, exercise 1: eigenvalues ``ev`` of G on the planted cluster and the count below the gap."""
    import jax

    from hmin.sims import data

    X = data.planted_cluster(base, 0, 3, 1e-2, key=jax.random.PRNGKey(3)).X
    want = _gram_eigs(model, params, X)
    ev = np.sort(np.asarray(ev, float))
    if not _close(ev, want, rtol=1e-6, atol=1e-14 * want[-1]):
        _fail("ev are not the eigenvalues of G on data.planted_cluster(base, 0, 3, 1e-2, key=PRNGKey(3))")
    if int(n_small) != int(np.argmax(np.diff(np.log(want)))) + 1:
        _fail("n_small is not the number of eigenvalues below the largest gap of the *log*-spectrum")


def check_mlp_slope(hs, lam_mlp, slope_mlp, *, base, d: int = 8) -> None:
    """Lecture 2, exercise 2: lambda_min(G) of the two-layer tanh MLP on the planted pairs, and its slope."""
    import jax

    from hmin.sims import data
    from hmin.sims.models import make_model
    from hmin.theory import t04_pair_bound as t4

    lam = np.asarray(lam_mlp, float)
    if lam.shape != (len(hs),):
        _fail("lam_mlp must have one lambda_min per h in hs")
    mlp = make_model("mlp", d=d, width=64, depth=2)
    p = mlp.init(jax.random.PRNGKey(4))
    for k in (0, len(hs) - 1):
        if not _close(lam[k], _gram_eigs(mlp, p, data.planted_pair(base, float(hs[k])).X)[0], rtol=1e-5):
            _fail("lam_mlp is not lambda_min(G) of make_model('mlp', d=d, width=64, depth=2) "
                  "(init key 4) on the planted pairs")
    fitted = _slope(hs, lam)
    if not _close(slope_mlp, fitted, rtol=1e-6):
        _fail("slope_mlp is not the fitted slope of log lam_mlp against log h")
    if abs(fitted - t4.pl_slope_in_hmin()) >= 0.2:
        _fail("the fitted slope is not within 0.2 of T4's prediction")


# ------------------------------------------------------------------------------------------------
# Lecture 3
# ------------------------------------------------------------------------------------------------


def check_t6_ratio(runs, ratio, slow) -> None:
    """Lecture 3, exercise 1: measured/predicted steps (smooth labels, h_min = 1e-3) and the slow runs."""
    r = next((r for r in runs if r["mode"] == "smooth" and r["h"] == 1e-3), None)
    if r is None:
        _fail("runs has no smooth-label run at h_min = 1e-3")
    if not _close(ratio, r["T"] / r["T_pred"], rtol=1e-9):
        _fail("ratio is not measured steps / T6-predicted steps of the smooth-label run at h_min = 1e-3")
    want = {(q["mode"], q["h"]) for q in runs if q["T"] > 1000}
    got = {(m, float(h)) for m, h in slow}
    if got != want:
        _fail("slow is not the set of (mode, h_min) runs that needed more than 1000 steps to 1e-3")
    if not (0.5 < ratio < 2):
        _fail("T6 should predict the smooth-label run within a factor 2 here")


def check_gauss_newton_ratio(beta0, gn_ratio, *, sharp, params, G0, N: int) -> None:
    """Lecture 3, exercise 2: the sharpness at initialisation over lambda_max(G_0)/N."""
    want_beta = abs(float(sharp(params)))
    if not _close(beta0, want_beta, rtol=1e-6):
        _fail("beta0 is not the sharpness |largest Hessian eigenvalue| at theta_0 (use sharp(params))")
    lam_max = float(np.linalg.eigvalsh(np.asarray(G0))[-1])
    if not _close(gn_ratio, float(beta0) / (lam_max / N), rtol=1e-9):
        _fail("gn_ratio is not beta0 / (lambda_max(G_0) / N)")
    if not (0.8 < gn_ratio < 1.25):
        _fail("the Gauss-Newton part should dominate the Hessian here (ratio within 25% of 1)")


# ------------------------------------------------------------------------------------------------
# Lecture 4
# ------------------------------------------------------------------------------------------------


def check_gram_movement(widths, move, err, slope_c3, w_ok, *, rel_err: float = 0.25) -> None:
    """Lecture 4, exercise 1: slope of the Gram movement against width; smallest width where T6 is good
    (``err`` = |log(measured / predicted steps)| below log(1 + rel_err))."""
    tol = np.log(1 + rel_err)
    widths, move, err = np.asarray(widths), np.asarray(move, float), np.asarray(err, float)
    fitted = _slope(widths, move)
    if not _close(slope_c3, fitted, rtol=1e-6):
        _fail("slope_c3 is not the fitted slope of log(Gram movement) against log(width)")
    ok = [w for k, w in enumerate(widths) if np.all(err[k:] < tol)]
    if not ok:
        _fail("no width has T6 within 25% from there on")
    if w_ok != ok[0]:
        _fail("w_ok is not the smallest width from which on every T6 error is below 25%")
    if not (-1.5 < fitted < -0.4):
        _fail("the Gram movement should fall with the width at a rate near the NTK theory's")


def check_random_ray(random_ray, H, slope_random, *, hessian_norm_on_ray, Rs, p: int) -> None:
    """Lecture 4, exercise 2: the Hessian growth of the softplus net along a random ray."""
    W, a = np.asarray(random_ray["W"], float), np.asarray(random_ray["a"], float)
    if W.shape != (2, 2) or a.shape != (2, 1):
        _fail("random_ray must have W of shape (2, 2) and a of shape (2, 1)")
    if np.any(np.abs(W) < 1e-3) or np.any(np.abs(a) < 1e-3) or abs(np.linalg.det(W)) < 1e-3:
        _fail("random_ray is not a random direction (draw every entry from N(0, 1)); "
              "the two-unit ray of section 2 is the worst case, not a random one")
    want = np.asarray(hessian_norm_on_ray("softplus", random_ray))
    if not _close(H, want, rtol=1e-6):
        _fail("H is not ||Hess L|| of the *softplus* net along random_ray at the radii Rs")
    fitted = _slope(np.asarray(Rs)[3:], want[3:])
    if not _close(slope_random, fitted, rtol=1e-6):
        _fail("slope_random is not the fitted slope of log H against log R over Rs[3:]")
    if fitted > p + 0.1:
        _fail("the slope exceeds T7's degree p: T7 would be violated on this ray")


def check_rotation(Q, rot, max_change, *, params, apply, X) -> None:
    """Lecture 4, exercise 3: the stream rotation leaves the residual net's output unchanged."""
    import jax.numpy as jnp

    Q = np.asarray(Q, float)
    if Q.shape != (4, 4) or not _close(Q.T @ Q, np.eye(4), rtol=0, atol=1e-10):
        _fail("Q must be a 4x4 orthogonal matrix")
    if np.abs(Q - np.eye(4)).max() < 0.1:
        _fail("Q must be a random orthogonal matrix, not (close to) the identity")
    want = {"W_in": np.asarray(params["W_in"]) @ Q.T, "U": np.einsum("ij,ljk->lik", Q, np.asarray(params["U"])),
            "V": np.asarray(params["V"]) @ Q.T, "w": Q @ np.asarray(params["w"])}
    for name, value in want.items():
        if not _close(rot[name], value, rtol=1e-10, atol=1e-14):
            _fail(f"rot[{name!r}] is not the rotated parameter (W_in Q^T, Q U, V Q^T, Q w)")
    change = float(jnp.abs(apply(rot, X) - apply(params, X)).max())
    if not _close(max_change, change, rtol=0, atol=1e-13):  # both are round-off: compare absolutely
        _fail("max_change is not the largest |f(x; rotated) - f(x; params)| on X")
    if change >= 1e-12:
        _fail("the rotation changed the outputs beyond round-off")


# ------------------------------------------------------------------------------------------------
# Lecture 5
# ------------------------------------------------------------------------------------------------


def check_t10_ratio(ratios, worst, *, n_pools: int = 5, n: int = 10, d: int = 3) -> None:
    """Lecture 5, exercise 1: OPT_k / r_k by brute force on pools ``default_rng(10 + s).random((n, d))``."""
    from hmin.theory import t10_greedy as t10

    ratios = np.asarray(ratios, float)
    if ratios.shape != (n_pools, n - 2):
        _fail(f"ratios must be ({n_pools}, {n - 2}): one row per pool, one column per k = 2..{n - 1}")
    want = np.empty_like(ratios)
    for s in range(n_pools):
        P = np.random.default_rng(10 + s).random((n, d))
        _, rk = t10.farthest_first(P, n - 1)
        for k in range(2, n):
            want[s, k - 2] = t10.opt_brute_force(P, k) / rk[k - 1]
    if not _close(ratios, want, rtol=1e-9):
        _fail("ratios are not OPT_k / r_k (r_k: the distance at which farthest-first added its k-th point)")
    if not _close(worst, ratios.max(), rtol=1e-12):
        _fail("worst is not the largest of your ratios")
    if not (1.0 <= worst <= 2.0 + 1e-12):
        _fail("the largest ratio is outside what T10 and h_min(S_k) = r_k allow")


def check_rare_cover(rare_maxmin, rare_random, cover_m, rk_m, *, mixed, is_rare, sel_m, sel_r) -> None:
    """Lecture 5, exercise 2: rare points kept, and T10's covering property per seed."""
    mixed, is_rare = np.asarray(mixed, float), np.asarray(is_rare, bool)
    if not _close(rare_maxmin, np.mean([is_rare[s.indices].sum() for s in sel_m]), rtol=1e-12):
        _fail("rare_maxmin is not the mean number of rare-mode points in the max-min subsets")
    if not _close(rare_random, np.mean([is_rare[s.indices].sum() for s in sel_r]), rtol=1e-12):
        _fail("rare_random is not the mean number of rare-mode points in the random subsets")
    cover = [np.linalg.norm(mixed[is_rare][:, None] - mixed[s.indices][None], axis=-1).min(1).max() for s in sel_m]
    if not _close(cover_m, cover, rtol=1e-12):
        _fail("cover_m[s] is not the largest distance from a rare-mode point to max-min subset s")
    if not _close(rk_m, [s.certificate["r_k"] for s in sel_m], rtol=1e-12):
        _fail("rk_m[s] is not the certificate radius r_k of max-min subset s")
    if not np.all(np.asarray(cover) <= np.asarray(rk_m) * (1 + 1e-12)):
        _fail("a max-min subset leaves a rare-mode point farther than its own r_k: T10's covering fails")


# ------------------------------------------------------------------------------------------------
# Lecture 6
# ------------------------------------------------------------------------------------------------


def check_false_variant(hs, lam, slope, verdict_true, verdict_false, *, band: float = 0.2) -> None:
    """Lecture 6, exercise 1: the slope of log lambda_min against log h and the verdicts of two claims.

    The data and the net are the exercise's: 8 points on the sphere in R^8 (key 0), a shallow tanh net
    of width 128 (init key 1), planted pairs at the distances ``hs``.
    """
    import jax

    from hmin.sims import data
    from hmin.sims.models import make_model
    from hmin.theory import t04_pair_bound as t4

    base = data.uniform_sphere(8, 8, key=jax.random.PRNGKey(0))
    model = make_model("shallow", d=8, width=128)
    params = model.init(jax.random.PRNGKey(1))
    lam = np.asarray(lam, float)
    if lam.shape != (len(hs),):
        _fail("lam must have one lambda_min per h in hs")
    for k in (0, len(hs) - 1):
        if not _close(lam[k], _gram_eigs(model, params, data.planted_pair(base, float(hs[k])).X)[0], rtol=1e-5):
            _fail("lam is not lambda_min(G) of the width-128 shallow net on the planted pairs")
    fitted = _slope(hs, lam)
    if not _close(slope, fitted, rtol=1e-6):
        _fail("slope is not the fitted slope of log lam against log h")

    def rule(claimed):
        return "holds" if abs(fitted - claimed) < band else "violated"

    if verdict_true != rule(t4.pl_slope_in_hmin()):
        _fail("verdict_true is not what the band rule says for the claimed slope of T4")
    if verdict_false != rule(1.0):
        _fail("verdict_false is not what the band rule says for the claimed slope 1")
