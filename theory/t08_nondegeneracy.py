"""T8 (OURS): non-degeneracy of the Gram matrix for analytic residual networks.

Statement: theta -> det(J J^T) is real-analytic, so if G is non-singular at one theta it is
non-singular for almost every theta (the zero set of a real-analytic function that is not
identically zero has Lebesgue measure zero). A residual block z + phi(z; W) has
det(I + D_z phi) = 1 at W = 0, so it is non-zero for almost every W.
Counterexamples the hypotheses must allow: plain stacks that are degenerate everywhere (rank J < N k
even with P >= N k, e.g. a linear scalar bottleneck), and ReLU nets whose Gram matrix is singular
on an open set (dead units) without being singular everywhere: impossible for an analytic function.

The revised T8: the residual stream of `sims.models.residual`
(z_0 = W_in x/sqrt(d); z_l = z_{l-1} + (1/L) V_l sigma(U_l^T tau_eps(z_{l-1}))/sqrt(h); f = w^T tau_eps(z_L),
column convention, stream width m) has a continuous O(m) symmetry. tau_eps(Q z) = Q tau_eps(z) for
orthogonal Q, and the stream meets only linear maps, so (W_in, U_l, V_l, w) -> (Q W_in, Q U_l, Q V_l, Q w)
(sims' row storage: (W_in Q^T, Q U_l, V_l Q^T, Q w)) leaves f(x) unchanged for every x. The m(m-1)/2
generators v_A = (A W_in, A U_l, A V_l, A w), A = -A^T, lie in the kernel of J at every theta, so
rank J <= min(N k, P - m(m-1)/2) everywhere (when the parameter columns can span R^m, i.e. P >= m^2;
otherwise the orbit is smaller), and the first draft's "rank J = min(N k, P) with probability 1"
is false when N k > P - m(m-1)/2. The paper's non-degeneracy argument holds modulo this symmetry:
G = J J^T can be non-singular only when N k <= P - m(m-1)/2.

Predictors: `expected_rank(nk, p)` = min(N k, P) (the first draft's generic rank of J, refuted);
`effective_param_count(P, m)` = P - m(m-1)/2 and `symmetry_rank_bound(n, k, P, m)` = min(N k, P - m(m-1)/2)
(derived here).
Symbolic side: det(I + D_z phi) = 1 at W = 0 for z + V tanh(U z) in dimensions 2 and 3; det(J J^T) of
tiny analytic nets non-zero at an exact point; an analytic plain stack with det(J J^T) == 0
identically; a ReLU net with det(J J^T) = 0 on an open set and != 0 elsewhere; tau_eps(Q z) = Q tau_eps(z)
in R^2; f invariant under the stream rotation for a tiny residual net (m = 2, d = 1, one block, hidden 1,
any sigma) and J v = 0 along the generator; the first draft's literal rank claim refuted for that net on
N = P = 8 points.
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from collections.abc import Callable

from hmin.theory._core import (
    refuted_draft,
    Statement,
    Status,
    SymbolicResult,
    TheoryInputError,
    as_int,
    by_argument,
    check_identity,
    disproved,
    proved,
    search_min_margin,
    sympy_fallback,
)
from hmin.theory.common import SYM

__all__ = [
    "STATEMENT",
    "expected_rank",
    "effective_param_count",
    "symmetry_rank_bound",
    "residual_block_jacobian",
    "gram_det",
    "rotation",
    "tiny_residual",
    "residual_output",
    "stream_rotation",
    "stream_generator",
    "check_tau_equivariance",
    "check_stream_invariance",
    "symbolic_checks",
]


def expected_rank(nk: int, p: int) -> int:
    """min(N k, P): the rank of J for almost every theta when det(J J^T) (or a maximal minor) is not identically 0.

    The first draft's prediction (kept so that the checks can show the refuted draft). For residual nets
    with stream width m it is too large when N k > P - m(m-1)/2: see `symmetry_rank_bound`.

    Example:
        >>> expected_rank(10, 4)
        4
    """
    return min(as_int("nk", nk, minimum=1), as_int("p", p, minimum=1))


def effective_param_count(P: int, m: int) -> int:
    """P - m(m-1)/2: the parameter count left after the O(m) symmetry of the residual stream (derived here).

    `sims.models.residual` has f invariant under (W_in, U_l, V_l, w) -> (Q W_in, Q U_l, Q V_l, Q w)
    (column convention, `stream_rotation`) for every orthogonal m x m Q, so J has the m(m-1)/2
    generator directions in its kernel wherever they are independent, which they are as soon as the
    columns of W_in, U_l, V_l, w span R^m; that needs P >= m^2.

    Args:
        P: number of parameters (>= m^2).
        m: width of the residual stream (>= 1).

    Returns:
        P - m(m-1)/2.

    Raises:
        TheoryInputError: non-integer input, P < 1, m < 1, or P < m^2 (the parameter columns cannot
            span R^m, so the m(m-1)/2 directions need not be independent and the count does not apply).

    Example:
        >>> effective_param_count(8, 2), effective_param_count(100, 4)
        (7, 94)
    """
    P, m = as_int("P", P, minimum=1), as_int("m", m, minimum=1)
    if P < m * m:
        raise TheoryInputError(f"P = {P} < m^2 = {m * m}: the parameter columns cannot span R^m, the O(m) count "
                               "m(m-1)/2 does not apply")
    return P - m * (m - 1) // 2


def symmetry_rank_bound(n: int, k: int, P: int, m: int) -> int:
    """min(N k, P - m(m-1)/2): the rank of J for a residual net with stream width m (derived here).

    An upper bound at every theta (J has the O(m) generators in its kernel; rank is lower
    semicontinuous), the generic rank when the paper's non-degeneracy argument holds modulo the
    symmetry; the revised T8's claim. The first draft's min(N k, P) (`expected_rank`) is too large when N k > P - m(m-1)/2.

    Args:
        n: number of data points N (>= 1).
        k: number of outputs (>= 1).
        P: number of parameters (>= m^2).
        m: width of the residual stream.

    Returns:
        min(N k, `effective_param_count`(P, m)).

    Example:
        >>> symmetry_rank_bound(8, 1, 8, 2), expected_rank(8, 8)
        (7, 8)
    """
    n, k = as_int("n", n, minimum=1), as_int("k", k, minimum=1)
    return min(n * k, effective_param_count(P, m))


def residual_block_jacobian(dim: int, sigma=sp.tanh) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, sp.Matrix]:
    """(I + D_z phi, z, U, V) for the residual block z + V sigma(U z) in R^dim with symbolic U, V, z."""
    dim = as_int("dim", dim, minimum=1)
    z = sp.Matrix(sp.symbols(f"z1:{dim + 1}", real=True))
    U = sp.Matrix(dim, dim, lambda i, k: sp.Symbol(f"U{i + 1}{k + 1}", real=True))
    V = sp.Matrix(dim, dim, lambda i, k: sp.Symbol(f"V{i + 1}{k + 1}", real=True))
    out = z + V * (U * z).applyfunc(sigma)
    return out.jacobian(z), z, U, V


def _check_residual_det(dim: int) -> SymbolicResult:
    Jz, z, U, V = residual_block_jacobian(dim)
    det_v0 = sp.simplify(Jz.subs({v: 0 for v in V}).det())
    det_u0 = sp.simplify(Jz.subs({u: 0 for u in U}).det())
    # and the closed form I + V diag(sigma'(U z)) U
    s1 = (U * z).applyfunc(lambda e: 1 - sp.tanh(e) ** 2)
    form_ok = all(sp.expand(e) == 0 for e in (Jz - (sp.eye(dim) + V * sp.diag(*s1) * U)))
    claim = (f"residual block z + V tanh(U z) in R^{dim}: D_z = I + V diag(tanh'(U z)) U, and det(I + D_z phi) = 1 "
             "at W = 0 (already when V = 0 or U = 0, for every z)")
    if form_ok and det_v0 == 1 and det_u0 == 1:
        return proved(claim, f"sympy: Jacobian matches the closed form; det at V = 0: {det_v0}, at U = 0: {det_u0}")
    residue = sp.Matrix([det_v0 - 1, det_u0 - 1, *(Jz - (sp.eye(dim) + V * sp.diag(*s1) * U))])
    return sympy_fallback(claim, f"form {form_ok}, dets {det_v0}, {det_u0}", residue, kind="zero")


def _analytic_argument() -> SymbolicResult:
    return by_argument(
        "an analytic function of the parameters that is non-zero at one point is non-zero almost everywhere; so "
        "det(I + D_z phi) != 0 for a.e. W and det(J J^T) != 0 for a.e. theta once it is != 0 at one theta",
        "det(I + D_z phi) and det(J J^T) are polynomials in derivatives of compositions of analytic functions, hence "
        "real-analytic in (W, z) resp. theta; the zero set of a real-analytic function on a connected open set is "
        "either everything or of Lebesgue measure zero (e.g. Mityagin 2015, 'The zero set of a real analytic function').",
    )


def gram_det(f, params: tuple[sp.Symbol, ...], xs, at: dict | None = None) -> sp.Expr:
    """det(J J^T) for a scalar model f(x) (sympy expression builder) with parameters `params` on inputs xs.

    With `at`, J is evaluated at that parameter point (to 50 significant digits, mpmath) before the
    determinant is taken.
    """
    J = sp.Matrix([[sp.diff(f(x), p) for p in params] for x in xs])
    if at is not None:
        J = J.subs(at).evalf(50)
    return (J * J.T).det()


def _search_nonzero(claim: str, detail: str, f, params, seed: int) -> SymbolicResult:
    """Fallback: search for a parameter point with det(J J^T) != 0 (numeric; never a proof)."""
    xs = (sp.Integer(1), sp.Integer(2))
    J = sp.Matrix([[sp.diff(f(x), p) for p in params] for x in xs])
    fn = sp.lambdify(params, (J * J.T).det(), "numpy")
    search = search_min_margin(lambda v: -abs(float(fn(*v))), {str(p): (-2.0, 2.0) for p in params}, seed=seed,
                               n_random=300, n_local=2)
    return SymbolicResult(claim, Status.UNPROVEN, f"{detail}; numeric search for det != 0: {search.describe()}",
                          -search.min_margin, "numeric-search", search.witness)


def _check_tiny_nets() -> list[SymbolicResult]:
    out = []
    xs = (sp.Integer(1), sp.Integer(2))
    a1, a2, w1, w2 = sp.symbols("a1 a2 w1 w2", real=True)
    shallow = lambda x: (a1 * sp.tanh(w1 * x) + a2 * sp.tanh(w2 * x)) / sp.sqrt(2)  # noqa: E731
    pt = {a1: 1, a2: -1, w1: sp.Rational(1, 2), w2: 1}
    val = sp.N(gram_det(shallow, (a1, a2, w1, w2), xs, at=pt), 30)
    claim = ("shallow tanh net m = 2 on x = (1, 2): det(J J^T) is analytic in theta and non-zero at "
             "(a, w) = ((1, -1), (1/2, 1)), hence non-zero for a.e. theta")
    out.append(proved(claim, f"sympy: det(J J^T) at that point = {val} (J evaluated to 50 digits, then the 2x2 determinant)")
               if abs(val) > 1e-20 else _search_nonzero(claim, f"value {val}", shallow, (a1, a2, w1, w2), 41))

    win, v, u, wout = sp.symbols("w_in v u w_out", real=True)
    e = sp.Rational(1, 2)
    tau = lambda z: z / sp.sqrt(z**2 + e**2)  # noqa: E731
    resid = lambda x: wout * tau(win * x + v * sp.tanh(u * tau(win * x))) # noqa: E731
    pt = {win: sp.Rational(1, 3), v: 1, u: 1, wout: 1}
    val = sp.N(gram_det(resid, (win, v, u, wout), xs, at=pt), 30)
    claim = ("scalar residual net with tau_eps (eps = 1/2) on x = (1, 2): det(J J^T) non-zero at "
             "(w_in, v, u, w_out) = (1/3, 1, 1, 1), hence non-zero for a.e. theta")
    out.append(proved(claim, f"sympy: det(J J^T) there = {val}") if abs(val) > 1e-20
               else _search_nonzero(claim, f"value {val}", resid, (win, v, u, wout), 43))

    w3 = sp.Symbol("w3", real=True)
    linear = lambda x: w3 * w2 * w1 * x  # noqa: E731
    det_l = sp.simplify(gram_det(linear, (w1, w2, w3), xs))
    claim = ("a plain (non-residual) analytic stack can be degenerate everywhere: the scalar linear bottleneck "
             "f = w3 w2 w1 x has P = 3 >= N = 2 but det(J J^T) == 0 identically (rank J = 1)")
    out.append(proved(claim, f"sympy: det(J J^T) simplifies to {det_l}") if det_l == 0
               else sympy_fallback(claim, f"det = {det_l}", det_l, kind="zero"))

    a, w, b = sp.symbols("a w b", real=True)
    relu = lambda x: a * sp.Max(0, w * x + b)  # noqa: E731
    J = sp.Matrix([[sp.diff(relu(x), p) for p in (a, w, b)] for x in xs])
    dead = {a: 1, w: -1, b: sp.Rational(1, 2)}  # w x + b < 0 at x = 1, 2, and on a neighbourhood of this point
    live = {a: 1, w: 1, b: sp.Rational(1, 2)}
    det_dead = sp.simplify((J * J.T).det().subs(dead))
    det_live = sp.simplify((J * J.T).det().subs(live))
    lin = [sp.simplify((w * x + b).subs(dead)) for x in xs]
    claim = ("ReLU: f = a relu(w x + b) on x = (1, 2) has det(J J^T) = 0 on the open set {w + b < 0, 2w + b < 0} "
             "(dead unit) but != 0 elsewhere, which no analytic function can do")
    ok = det_dead == 0 and det_live != 0 and all(v_ < 0 for v_ in lin)
    out.append(proved(claim, f"sympy: pre-activations {lin} < 0 at {dead} (an open condition), det there = {det_dead}; "
                             f"det at {live} = {det_live}") if ok
               else sympy_fallback(claim, f"dets {det_dead}, {det_live}; searching the dead region for det != 0",
                                   (J * J.T).det(), kind="zero", bounds={a: (-2.0, 2.0), w: (-2.0, -1.0), b: (0.0, 0.9)}))
    return out


# ----------------------------------------------------------------------------------------------
# The O(m) symmetry of the residual stream (the revised T8)
# ----------------------------------------------------------------------------------------------

#: the first draft of T8, which this project refuted; its result carries `Role.REFUTED_DRAFT`
DRAFT_T8 = "first draft of T8:"
PHI = sp.Symbol("phi", real=True)
_SIGMA = sp.Function("sigma")
_X = sp.Symbol("x", real=True)
_NAMES = ("W_in", "U", "V", "w")


def rotation(phi: sp.Expr = PHI) -> sp.Matrix:
    """The rotation of R^2 by the angle phi, [[cos phi, -sin phi], [sin phi, cos phi]]."""
    return sp.Matrix([[sp.cos(phi), -sp.sin(phi)], [sp.sin(phi), sp.cos(phi)]])


def tiny_residual() -> dict[str, sp.Matrix]:
    """Symbolic parameters of the smallest residual net with a stream symmetry: m = 2, d = 1, one block, hidden 1.

    Column convention: W_in (m x d), U (m x hidden), V (m x hidden), w (m x k), all 2 x 1 here
    (P = 8). See `residual_output` for the model.
    """
    return {name: sp.Matrix(sp.symbols(f"{name}_1:3", real=True)) for name in _NAMES}


def _tau(z: sp.Matrix, eps_: sp.Expr) -> sp.Matrix:
    return z / sp.sqrt((z.T * z)[0, 0] + eps_**2)


def residual_output(params: dict[str, sp.Matrix], x: sp.Matrix | sp.Expr = _X, *, sigma=_SIGMA,
                    eps_: sp.Expr = SYM.eps) -> sp.Expr:
    """f(x) of `sims.models.residual` with one block and k = 1, in column convention (symbolic).

    z_0 = W_in x / sqrt(d); z_1 = z_0 + V sigma(U^T tau_eps(z_0)) / sqrt(hidden); f = w^T tau_eps(z_1)
    (sims stores the transposes: W_in d x m, U m x hidden, V hidden x m, w m x k; one block, 1/L = 1).
    `sigma` is any sympy function (default: an undefined Function, i.e. every sigma).
    """
    W_in, U, V, w = (params[n] for n in _NAMES)
    x = sp.Matrix([x]) if not isinstance(x, sp.MatrixBase) else x
    z0 = W_in * x / sp.sqrt(x.rows)
    z1 = z0 + V * (U.T * _tau(z0, eps_)).applyfunc(sigma) / sp.sqrt(U.cols)
    return (w.T * _tau(z1, eps_))[0, 0]


def stream_rotation(params: dict[str, sp.Matrix], Q: sp.Matrix) -> dict[str, sp.Matrix]:
    """The exact action of an orthogonal Q on the parameters: z -> Q z along the whole stream.

    Column convention: (W_in, U, V, w) -> (Q W_in, Q U, Q V, Q w): then z_0 -> Q z_0,
    U^T tau(Q z) = U^T Q^T Q tau(z) = U^T tau(z) (tau_eps is rotation-equivariant), V sigma(.) -> Q V sigma(.),
    w^T tau(Q z) = w^T tau(z). In sims' row storage (W_in d x m, U m x h, V h x m, w m x k) this is
    (W_in Q^T, Q U, V Q^T, Q w); sims.checks.t08 writes it with Q^T in place of Q (the same group).
    """
    return {n: Q * params[n] for n in _NAMES}


def stream_generator(params: dict[str, sp.Matrix], A: sp.Matrix | None = None) -> dict[str, sp.Matrix]:
    """The tangent direction d/dphi of `stream_rotation` at phi = 0: (A W_in, A U, A V, A w), A = -A^T.

    Default A = [[0, -1], [1, 0]] = d rotation(phi)/dphi at 0, the generator of so(2).
    """
    A = sp.Matrix([[0, -1], [1, 0]]) if A is None else A
    return {n: A * params[n] for n in _NAMES}


def _rot_canon(e: sp.Expr, phi: sp.Symbol = PHI) -> sp.Expr:
    """Rewrite cos(phi)^2 = 1 - sin(phi)^2 inside every square root, every function argument and outside (exact)."""
    def canon(a: sp.Expr) -> sp.Expr:
        return sp.expand(sp.expand(a).subs(sp.cos(phi) ** 2, 1 - sp.sin(phi) ** 2))

    e = e.replace(lambda a: a.is_Pow and a.exp.is_Rational and a.exp.q == 2, lambda a: sp.Pow(canon(a.base), a.exp))
    e = e.replace(lambda a: isinstance(a, sp.Function) and len(a.args) == 1 and not isinstance(a, (sp.sin, sp.cos)),
                  lambda a: a.func(sp.simplify(canon(a.args[0]))))
    return canon(e)


def _rational_witness(diff: sp.Expr, seed: int = 0) -> tuple[float, dict[str, float]] | None:
    """|diff| at an exact rational point (undefined sigma replaced by tanh), to 30 digits; None if ~0."""
    import numpy as np  # here: the symbolic side needs NumPy only for this witness

    rng = np.random.default_rng(seed)
    e = diff.replace(lambda a: isinstance(a, sp.core.function.AppliedUndef), lambda a: sp.tanh(a.args[0]))
    for _ in range(4):
        pt = {s: sp.Rational(int(rng.integers(1, 9)), int(rng.integers(1, 5)))
              for s in sorted(e.free_symbols, key=lambda s: s.name)}
        val = complex(sp.N(e.subs(pt), 30))
        if abs(val) > 1e-15:
            return abs(val), {s.name: float(v) for s, v in pt.items()}
    return None


def check_tau_equivariance(image: Callable[[sp.Matrix, sp.Matrix], sp.Matrix] | None = None, *,
                           what: str = "Q tau_eps(z)") -> SymbolicResult:
    """Check tau_eps(Q z) = image(Q, z) in R^2, Q = `rotation`(phi); default image Q tau_eps(z) (true).

    `image` and `what` let a test feed a false variant (e.g. ``lambda Q, z: Q * z``, "Q z").

    Example:
        >>> check_tau_equivariance().status.value
        'proved'
    """
    z = sp.Matrix(sp.symbols("z1:3", real=True))
    Q = rotation()
    rhs = Q * _tau(z, SYM.eps) if image is None else image(Q, z)
    return check_identity(f"tau_eps(Q z) = {what} for every rotation Q of R^2 (angle phi), z in R^2, eps > 0",
                          _tau(Q * z, SYM.eps), rhs)


def check_stream_invariance(action: Callable[[dict, sp.Matrix], dict] = stream_rotation, *, sigma=_SIGMA,
                            what: str = "(W_in, U, V, w) -> (Q W_in, Q U, Q V, Q w)") -> SymbolicResult:
    """Check f(action(theta, Q); x) = f(theta; x) for the tiny residual net (`tiny_residual`), all theta, x, phi.

    Proof: both sides are put in a canonical form (cos^2 -> 1 - sin^2 inside radicals and sigma's
    argument), then their difference expands to 0. Refutation: the difference is non-zero at an exact
    rational point (sigma -> tanh there), evaluated to 30 digits.

    Example:
        >>> check_stream_invariance().status.value
        'proved'
    """
    th = tiny_residual()
    f0 = residual_output(th, sigma=sigma)
    f1 = residual_output(action(th, rotation()), sigma=sigma)
    label = "any sigma (an undefined sympy Function)" if sigma is _SIGMA else f"sigma = {sigma}"
    claim = (f"the residual net of sims.models.residual with stream width m = 2, d = 1, one block, hidden 1, "
             f"{label}: f is invariant under {what} for every rotation Q (angle phi), every theta and x")
    diff = sp.expand(_rot_canon(f1) - f0)
    if diff == 0:
        return proved(claim, "sympy: after cos^2 -> 1 - sin^2 inside the radicals and sigma's argument (exact), "
                             "f(Q . theta) - f(theta) expands to 0")
    wit = _rational_witness(diff)
    if wit is not None:
        return disproved(claim, f"sympy: f(Q . theta) - f(theta) = {wit[0]:.6g} != 0 at an exact rational point "
                                "(undefined sigma evaluated as tanh)", margin=-wit[0], witness=wit[1])
    return sympy_fallback(claim, "difference not reduced to 0", diff.replace(
        lambda a: isinstance(a, sp.core.function.AppliedUndef), lambda a: sp.tanh(a.args[0])), kind="zero")


def _check_generator() -> SymbolicResult:
    """J v = 0 along the generator v of the stream rotation, computed as sum_p (df/dp) v_p (not via invariance)."""
    th = tiny_residual()
    f0 = residual_output(th)
    gen = stream_generator(th)
    params = [p for n in _NAMES for p in th[n]]
    v = [c for n in _NAMES for c in gen[n]]
    Jv = sum(sp.diff(f0, p) * c for p, c in zip(params, v))
    # sigma and sigma' appear only at the one pre-activation: name them, the rest is algebraic in sqrt's
    rep = {a: sp.Dummy("dsigma") for a in Jv.atoms(sp.Subs)}
    rep.update({a: sp.Dummy("sigma0") for a in Jv.atoms(sp.core.function.AppliedUndef)})
    red = sp.expand(Jv.xreplace(rep))
    v_sq = sp.expand(sum(c**2 for c in v))
    theta_sq = sum(p**2 for p in params)
    claim = ("tiny residual net (m = 2, d = 1, one block, hidden 1, any sigma): the generator v = (A W_in, A U, A V, A w), "
             "A = [[0, -1], [1, 0]], of the stream rotation is in the kernel of J at every theta (grad_theta f(x) . v = 0 "
             "for every x), and v != 0 for theta != 0 (||v||^2 = ||theta||^2)")
    if red == 0 and sp.expand(v_sq - theta_sq) == 0:
        return proved(claim, "sympy: sum_p (df/dp) v_p with sigma(.), sigma'(.) named expands to 0 (computed from the "
                             "partial derivatives, not from the invariance); ||v||^2 - ||theta||^2 expands to 0")
    return sympy_fallback(claim, "J v not reduced to 0", Jv.replace(
        lambda a: isinstance(a, sp.core.function.AppliedUndef), lambda a: sp.tanh(a.args[0])).doit(), kind="zero")


def _check_rank_bound_argument() -> SymbolicResult:
    return by_argument(
        "hmin.sims.models.residual, any d, stream width m, hidden h, L blocks, k outputs: rank J <= min(N k, P - m(m-1)/2) "
        "at every theta whenever the columns of W_in, U_l, V_l, w can span R^m (symmetry_rank_bound; derived here)",
        "tau_eps(Q z) = Q tau_eps(z) for orthogonal Q (||Q z|| = ||z||), and the stream meets only the linear maps "
        "W_in, U_l^T, V_l, w^T, so (W_in, U_l, V_l, w) -> (Q W_in, Q U_l, Q V_l, Q w) leaves f(x) unchanged for every x "
        "(checked by sympy for m = 2). Differentiating at Q = I: J v_A = 0 for every A in so(m), v_A = (A W_in, A U_l, "
        "A V_l, A w). A -> v_A is linear and injective wherever the columns span R^m (A c = 0 for a spanning set "
        "forces A = 0), an open dense set when it is non-empty; there dim ker J >= m(m-1)/2. The rank of J is lower "
        "semicontinuous, so every theta has rank J <= the rank at nearby points of that set <= P - m(m-1)/2.",
    )


def _check_literal_rank(gen: SymbolicResult) -> SymbolicResult:
    th = tiny_residual()
    P = sum(len(v) for v in th.values())
    m, N, k = 2, P, 1
    claim = (f"{DRAFT_T8} rank J = min(N k, P) for almost every theta "
             f"for residual nets; here the tiny residual net (m = {m}, d = 1, one block, hidden 1, P = {P}) on N = {N} "
             f"points, k = {k}: min(N k, P) = {expected_rank(N * k, P)}")
    bound = symmetry_rank_bound(N, k, P, m)
    if gen.status is Status.PROVED and bound < expected_rank(N * k, P):
        return disproved(claim, (f"sympy (previous result): J v = 0 with v != 0 at every theta != 0, so rank J <= P - "
                                 f"m(m-1)/2 = {effective_param_count(P, m)} < {expected_rank(N * k, P)} = min(N k, P) on "
                                 "all of R^P minus {0}. (With d = 1 < m, U's component orthogonal to W_in is invisible "
                                 "too, so the rank is lower still; the symmetry alone suffices.) G = J J^T is "
                                 f"singular everywhere although N k = {N * k} <= P."),
                         margin=float(bound - expected_rank(N * k, P)),
                         witness={"N_k": float(N * k), "P": float(P), "so_m_dim": float(m * (m - 1) // 2),
                                  "rank_bound": float(bound), "literal_min": float(expected_rank(N * k, P))})
    return dataclasses.replace(gen, claim=claim, detail=f"rests on the generator result, not proved: {gen.detail}")


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    gen = _check_generator()
    return (_check_residual_det(2), _check_residual_det(3), _analytic_argument(), *_check_tiny_nets(),
            check_tau_equivariance(), check_stream_invariance(), gen, _check_rank_bound_argument(),
            refuted_draft(_check_literal_rank(gen)))


def symbolic_checks() -> list[SymbolicResult]:
    """All symbolic results of T8 (cached within the process)."""
    return list(_symbolic_checks())


_Jz2 = residual_block_jacobian(2)
STATEMENT = Statement(
    id="T8",
    title="non-degeneracy of G for analytic residual nets",
    kind="OURS",
    paper_ref="",
    text=("theta -> det(J J^T) is real-analytic, so if G is non-singular at one theta it is non-singular for almost "
          "every theta. A residual block z + phi(z; W) has det(I + D_z phi) = 1 at W = 0, so it is non-zero for a.e. W. "
          "Parameter symmetries cap the rank: the tau_eps residual net with a stream of width m is invariant under "
          "rotating the stream, (W_in, U_l, V_l, w) -> (Q W_in, Q U_l, Q V_l, Q w) for every orthogonal Q "
          "(tau_eps(Q z) = Q tau_eps(z)), so the m(m-1)/2 generator directions lie in the kernel of J (once P >= m^2). "
          "The claim: rank J = min(N k, P_eff) for almost every theta, P_eff = P - m(m-1)/2; G is non-singular a.e. iff "
          "N k <= P_eff. Plain (non-residual) stacks can be degenerate on a positive-measure set (e.g. a bottleneck "
          "narrower than needed), and ReLU nets can have a Gram matrix singular on open sets. Refuted draft: "
          "'rank J = min(N k, P) for a.e. theta' (the stream symmetry gives rank P - m(m-1)/2 < min(N k, P) on tall "
          "residual nets)."),
    hypotheses=("real-analytic activations (not ReLU)", "residual blocks z + phi(z; W) with phi(., 0) = 0",
                "G non-singular at one theta (for the a.e. conclusion)",
                "for a residual net with stream width m: N k <= P - m(m-1)/2 for G to be non-singular"),
    exprs={"residual_block_jacobian_2d": _Jz2[0], "expected_rank": sp.Min(sp.Symbol("N_k"), sp.Symbol("P")),
           "symmetry_rank_bound": sp.Min(sp.Symbol("N_k"), sp.Symbol("P") - sp.Symbol("m") * (sp.Symbol("m") - 1) / 2)},
    predictors=("expected_rank", "effective_param_count", "symmetry_rank_bound"),
    checks=symbolic_checks,
)
