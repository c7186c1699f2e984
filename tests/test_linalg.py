"""hmin.sims.linalg: jnp.linalg's values and derivatives, with LAPACK given one matrix per call.

A batched LAPACK call on XLA's CPU backend blocks a pool thread while its chunks run on the same pool; two of
them at once on a 2-core machine hang the process for good (the CI hang of jaxlib 0.10.2, sims/linalg.py). The
tests check (a) the values and gradients against NumPy float64 and jnp.linalg, (b) in the lowered programs
themselves that no LAPACK custom call receives a batch, under vmap, nested vmap and grad, and (c) that no
source file of hmin calls jnp.linalg's dense decompositions directly."""

from __future__ import annotations

import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hmin.sims import linalg

ROOT = Path(__file__).resolve().parents[1]

# an MLIR custom call into jaxlib's LAPACK kernels and the type of its first operand
_LAPACK_CALL = re.compile(r"stablehlo\.custom_call @(lapack_\w+)\(.*?:\s*\((tensor<[^>]*>)")


def lapack_operand_ranks(fn, *args) -> dict[str, set[int]]:
    """{LAPACK kernel: ranks of its first operand} in the lowered program of jit(fn)(*args)."""
    text = jax.jit(fn).lower(*args).as_text()
    out: dict[str, set[int]] = {}
    for name, ty in _LAPACK_CALL.findall(text):
        dims = ty[len("tensor<"):-1].split("x")[:-1]  # the last field is the element type
        out.setdefault(name, set()).add(len(dims))
    return out


def _sym_stack(shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return a + np.swapaxes(a, -1, -2)


def test_eigvalsh_values_against_numpy():
    A = _sym_stack((3, 4, 7, 7))
    ref = np.linalg.eigvalsh(A)
    for got in (linalg.eigvalsh(A), jax.vmap(jax.vmap(linalg.eigvalsh))(A), jax.jit(jax.vmap(linalg.eigvalsh))(A),
                linalg.eigvalsh(A[0, 0])[None, None]):
        got = np.asarray(got)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, ref[: got.shape[0], : got.shape[1]], rtol=0, atol=1e-12)
    # the symmetric part is what counts, as in jnp.linalg.eigvalsh (symmetrize_input=True)
    B = np.random.default_rng(1).standard_normal((5, 5))
    np.testing.assert_allclose(linalg.eigvalsh(B), np.linalg.eigvalsh(0.5 * (B + B.T)), atol=1e-12)


def test_eigvalsh_derivatives_against_jnp_and_finite_differences():
    A = _sym_stack((4, 6, 6), seed=2)

    def f(eig):
        return lambda a: jnp.sum(jnp.sin(eig(a)) * jnp.arange(1.0, a.shape[-1] + 1.0))

    ours, theirs = f(linalg.eigvalsh), f(jnp.linalg.eigvalsh)
    np.testing.assert_allclose(jax.vmap(jax.grad(ours))(A), jax.vmap(jax.grad(theirs))(A), atol=1e-12)
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.value_and_grad(ours)))(A)[1], jax.vmap(jax.grad(theirs))(A),
                               atol=1e-12)
    np.testing.assert_allclose(jax.jacfwd(ours)(A[0]), jax.jacfwd(theirs)(A[0]), atol=1e-12)
    # second and third order (each order goes back through eigh's rule), under vmap too
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.hessian(ours)))(A), jax.jit(jax.vmap(jax.hessian(theirs)))(A),
                               atol=1e-10)
    a4 = A[0, :4, :4]
    np.testing.assert_allclose(jax.jit(jax.jacfwd(jax.hessian(ours)))(a4), jax.jit(jax.jacfwd(jax.hessian(theirs)))(a4),
                               atol=1e-9)
    # eigenvectors and their derivative (a sign-invariant function of a column)
    w, v = linalg.eigh(A)
    np.testing.assert_allclose(np.abs(np.einsum("bji,bjk,bki->bi", v, A, v) - w), 0, atol=1e-12)
    vec = lambda eigh: (lambda a: jnp.sum(jnp.abs(eigh(a)[1][:, 0]) ** 3))  # noqa: E731
    np.testing.assert_allclose(jax.vmap(jax.grad(vec(linalg.eigh)))(A), jax.vmap(jax.grad(vec(jnp.linalg.eigh)))(A),
                               atol=1e-12)
    # an independent oracle: a central difference along a random symmetric direction (distinct eigenvalues)
    D = _sym_stack((6, 6), seed=3)
    h = 1e-6
    fd = (ours(A[0] + h * D) - ours(A[0] - h * D)) / (2 * h)
    assert abs(float(jnp.vdot(jax.grad(ours)(A[0]), D)) - float(fd)) < 1e-6 * max(1.0, abs(float(fd)))


def test_slogdet_inv_and_rank_against_numpy():
    rng = np.random.default_rng(4)
    B = rng.standard_normal((5, 4, 4))
    s, l = jax.vmap(linalg.slogdet)(B)
    s0, l0 = np.linalg.slogdet(B)
    np.testing.assert_array_equal(s, s0)
    np.testing.assert_allclose(l, l0, atol=1e-12)
    # derivatives of log |det| (first and second order) and of the inverse, against jnp.linalg's
    logdet = lambda sl: (lambda a: sl(a)[1])  # noqa: E731
    np.testing.assert_allclose(jax.vmap(jax.grad(logdet(linalg.slogdet)))(B), np.linalg.inv(B).transpose(0, 2, 1),
                               atol=1e-12)
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.hessian(logdet(linalg.slogdet))))(B),
                               jax.vmap(jax.hessian(logdet(jnp.linalg.slogdet)))(B), atol=1e-12)
    np.testing.assert_allclose(linalg.inv(B), np.linalg.inv(B), atol=1e-12)
    sin_inv = lambda inv: (lambda a: jnp.sum(jnp.sin(inv(a))))  # noqa: E731
    np.testing.assert_allclose(jax.jit(jax.vmap(jax.hessian(sin_inv(linalg.inv))))(B),
                               jax.vmap(jax.hessian(sin_inv(jnp.linalg.inv)))(B), atol=1e-10)
    C = rng.standard_normal((6, 4, 2)) @ rng.standard_normal((6, 2, 5))  # rank 2
    np.testing.assert_array_equal(jax.vmap(linalg.matrix_rank)(C), np.linalg.matrix_rank(C))
    np.testing.assert_array_equal(linalg.matrix_rank(C), 2)
    with pytest.raises(ValueError, match="expected a matrix"):
        linalg.eigvalsh(jnp.ones(3))


def test_lapack_gets_one_matrix_per_call():
    """The compiled programs hand LAPACK rank-2 operands only: batches, vmaps, nested vmaps and gradients."""
    A = jnp.asarray(_sym_stack((3, 4, 8, 8)))
    B = jnp.asarray(np.random.default_rng(5).standard_normal((3, 5, 5)))
    cases = {
        "stack": (linalg.eigvalsh, A),
        "vmap(vmap)": (jax.vmap(jax.vmap(linalg.eigvalsh)), A),
        "vmap(grad)": (jax.vmap(jax.grad(lambda a: jnp.sum(linalg.eigvalsh(a) ** 3))), A[0]),
        "vmap(hessian)": (jax.vmap(jax.hessian(lambda a: jnp.sum(linalg.eigvalsh(a) ** 3))), A[0, :, :4, :4]),
        "slogdet": (jax.vmap(linalg.slogdet), B),
        "vmap(grad(slogdet))": (jax.vmap(jax.grad(lambda a: linalg.slogdet(a)[1])), B),
        "inv": (jax.vmap(linalg.inv), B),
        "matrix_rank": (jax.vmap(linalg.matrix_rank), B),
    }
    for name, (fn, x) in cases.items():
        ranks = lapack_operand_ranks(fn, x)
        assert ranks, f"{name}: no LAPACK call found in the program (has the MLIR text changed?)"
        assert all(r == {2} for r in ranks.values()), (name, ranks)
    # the planted wrong answer: jnp.linalg's own batched call is what the check must catch
    planted = lapack_operand_ranks(jax.vmap(jax.vmap(jnp.linalg.eigvalsh)), A)
    assert planted == {"lapack_dsyevd_ffi": {4}}, planted


# jnp.linalg / jax.scipy.linalg / lax.linalg calls that go to LAPACK (norm of a vector does not)
_DIRECT = re.compile(r"\b(?:jnp|xp|jax\.numpy)\.linalg\.(?!norm\b)\w+\(|\bjax\.scipy\.linalg\b|\blax\.linalg\b")


#: the marker of a reviewed exception: a program whose only LAPACK call is this one cannot deadlock
EXEMPT = "# lapack-batch-ok"


def direct_lapack_calls(text: str) -> list[str]:
    return [m.group(0) for line in text.splitlines() if EXEMPT not in line for m in _DIRECT.finditer(line)]


def test_no_direct_lapack_calls_in_hmin_sources():
    found, exempt = {}, []
    for folder in ("sims", "theory", "hmin"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            if p == ROOT / "sims" / "linalg.py":
                continue
            text, name = p.read_text(), str(p.relative_to(ROOT))
            hits = direct_lapack_calls(text)
            if hits:
                found[name] = hits
            exempt += [name for line in text.splitlines() if EXEMPT in line and _DIRECT.search(line)]
    assert not found, f"call hmin.sims.linalg instead (a batched LAPACK call can hang XLA's CPU pool): {found}"
    # the scan itself finds the planted calls and passes the harmless ones
    assert direct_lapack_calls("ev = jnp.linalg.eigvalsh(G)\ns = xp.linalg.slogdet(A)\nlax.linalg.eigh(a)") == [
        "jnp.linalg.eigvalsh(", "xp.linalg.slogdet(", "lax.linalg"]
    assert direct_lapack_calls("n = jnp.linalg.norm(x)\nev = np.linalg.eigvalsh(G)\nlinalg.eigvalsh(G)") == []
    assert direct_lapack_calls(f"ev = jnp.linalg.eigvalsh(G)  {EXEMPT}") == []
    # the exceptions are few and reviewed: the GD engine's record (its program's only LAPACK call, and it must
    # partition along the sweep's batch: a one-matrix loop would all-gather, tests/test_sharding.py)
    assert exempt == ["sims/gd.py"], exempt
