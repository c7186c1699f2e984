"""T8 (OURS): non-degeneracy of the Gram matrix for analytic residual networks.

Statement: theta -> det(J J^T) is real-analytic, so if G is non-singular at one theta it is
non-singular for almost every theta (the zero set of a real-analytic function that is not
identically zero has Lebesgue measure zero). A residual block z + phi(z; W) has
det(I + D_z phi) = 1 at W = 0, so it is non-zero for almost every W.
Counterexamples the hypotheses must allow: plain stacks that are degenerate everywhere (rank J < N k
even with P >= N k, e.g. a linear scalar bottleneck), and ReLU nets whose Gram matrix is singular
on an open set (dead units) without being singular everywhere: impossible for an analytic function.

Predictor: `expected_rank(nk, p)` = min(N k, P) (the generic rank of J).
Symbolic side: det(I + D_z phi) = 1 at W = 0 for z + V tanh(U z) in dimensions 2 and 3; det(J J^T) of
tiny analytic nets non-zero at an exact point; an analytic plain stack with det(J J^T) == 0
identically; a ReLU net with det(J J^T) = 0 on an open set and != 0 elsewhere.
"""

from __future__ import annotations

import functools

import sympy as sp

from theory._core import Statement, Status, SymbolicResult, as_int, by_argument, proved, search_min_margin, sympy_fallback

__all__ = ["STATEMENT", "expected_rank", "residual_block_jacobian", "gram_det", "symbolic_checks"]


def expected_rank(nk: int, p: int) -> int:
    """min(N k, P): the rank of J for almost every theta when det(J J^T) (or a maximal minor) is not identically 0.

    Example:
        >>> expected_rank(10, 4)
        4
    """
    return min(as_int("nk", nk, minimum=1), as_int("p", p, minimum=1))


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


@functools.lru_cache(maxsize=1)
def _symbolic_checks() -> tuple[SymbolicResult, ...]:
    return (_check_residual_det(2), _check_residual_det(3), _analytic_argument(), *_check_tiny_nets())


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
          "Plain (non-residual) stacks can be degenerate on a positive-measure set (e.g. a bottleneck narrower than "
          "needed), and ReLU nets can have a Gram matrix singular on open sets."),
    hypotheses=("real-analytic activations (not ReLU)", "residual blocks z + phi(z; W) with phi(., 0) = 0",
                "G non-singular at one theta (for the a.e. conclusion)"),
    exprs={"residual_block_jacobian_2d": _Jz2[0], "expected_rank": sp.Min(sp.Symbol("N_k"), sp.Symbol("P"))},
    predictors=("expected_rank",),
    checks=symbolic_checks,
)
