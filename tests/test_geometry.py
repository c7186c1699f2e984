"""hmin.sims.geometry against independent oracles: scipy pdist / cdist / qmc, brute force, closed forms."""

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist, squareform
from scipy.stats import qmc

import hmin.sims.geometry as G
from hmin.sims.geometry import _distances, _neighbours  # the internals under test (the screening bound, the fused k-NN)
from hmin.sims.errors import InputError
from hmin.sims.geometry import (
    cluster_term,
    fill_distance,
    geometry_summary,
    knn_distance_quantiles,
    knn_distances,
    load_points,
    mesh_ratio,
    min_pairwise_distance,
    pairwise_distances,
    separation_distance,
    validate_points,
)

METHODS = ["kdtree", "blocked", "dense"]


def _pdist_argmin(X):
    P = squareform(pdist(X))
    P[np.tril_indices(len(X))] = np.inf
    i, j = np.unravel_index(np.argmin(P), P.shape)
    return P[i, j], int(i), int(j)


def _sphere_points(rng, n, d):
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("d", [1, 2, 3, 7, 20])
def test_hmin_matches_pdist_and_qmc(method, d):
    rng = np.random.default_rng(d)
    X = rng.random((300, d))
    h, i, j = _pdist_argmin(X)
    r = min_pairwise_distance(X, method=method)
    assert r.h_min == pytest.approx(h, rel=1e-13)
    assert (r.i, r.j) == (i, j)
    assert r.h_min == pytest.approx(qmc.geometric_discrepancy(X, method="mindist"), rel=1e-13)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("d", [3, 16])
def test_planted_pair_at_1e_7_is_exact(method, d):
    rng = np.random.default_rng(7)
    X = 0.5 + 0.45 * _sphere_points(rng, 500, d)  # inside the unit cube (for qmc), norms ~1
    u = rng.standard_normal(d)
    X[123] = X[45] + 1e-7 * u / np.linalg.norm(u)
    true = float(np.linalg.norm(X[123] - X[45]))  # difference-based, float64
    r = min_pairwise_distance(X, method=method)
    assert (r.i, r.j) == (45, 123)
    assert r.h_min == pytest.approx(true, rel=1e-12)
    assert r.h_min == pytest.approx(pdist(X).min(), rel=1e-12)
    assert r.h_min == pytest.approx(qmc.geometric_discrepancy(X, method="mindist"), rel=1e-12)
    # the test has teeth: the expansion ||x||^2 + ||y||^2 - 2 x.y misses this distance badly
    a, b = X[45], X[123]
    naive = math.sqrt(max(a @ a + b @ b - 2 * a @ b, 0.0))
    assert abs(naive - true) / true > 1e-4


def test_blocked_agrees_across_block_sizes_and_with_tree():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1000, 12))
    X[900] = X[17] + 1e-9
    ref = min_pairwise_distance(X, method="dense")
    for block in (16, 64, 256, 4096):
        assert min_pairwise_distance(X, method="blocked", block=block) == ref
    assert min_pairwise_distance(X, method="kdtree") == ref


def test_screening_bound_is_needed_and_sufficient():
    """The screened value must never exceed the true squared distance; without the round-off
    margin (c = 0) it does for many pairs, so the margin is what makes the screening safe."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 32)) * 3 + 5
    mu = X.mean(axis=0)
    I, J = np.triu_indices(len(X), 1)
    D = _distances._sqdist_pairs(X, I, J)
    for c, expect_violations in ((_distances._screen_constant(32), False), (0.0, True)):
        A, _ = _distances._augmented(X, mu, c, len(X), "A")
        B, _ = _distances._augmented(X, mu, c, len(X), "B")
        L = (A @ B.T)[I, J]
        assert bool(np.any(L > D)) is expect_violations


def test_ties_go_to_smallest_pair():
    g = np.stack(np.meshgrid(np.arange(4.0), np.arange(4.0), indexing="ij"), -1).reshape(-1, 2)
    perm = np.random.default_rng(0).permutation(len(g))
    X = g[perm]
    P = squareform(pdist(X))
    P[np.tril_indices(len(X))] = np.inf
    pairs = np.argwhere(P == P.min())
    expect = tuple(int(v) for v in pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))[0]])
    for m in METHODS:
        r = min_pairwise_distance(X, method=m)
        assert r.h_min == 1.0 and (r.i, r.j) == expect, m


def test_lattice_in_higher_d_exact_with_many_ties():
    g = np.stack(np.meshgrid(*[np.arange(4.0)] * 6, indexing="ij"), -1).reshape(-1, 6)  # 4096 points
    assert min_pairwise_distance(g, method="blocked") == (1.0, 0, 1)
    D, I = _neighbours._nn_fused(g[:700], g, self_mode=False)
    assert np.all(D == 0) and np.all(I == np.arange(700))
    D, I = _neighbours._nn_fused(g, g, self_mode=True)
    C = cdist(g[:200], g)
    C[np.arange(200), np.arange(200)] = np.inf
    assert np.all(D == 1.0) and np.array_equal(I[:200], np.argmin(C, axis=1))


def test_duplicates_give_zero_and_validate_rejects_them():
    X = np.array([[0.0, 1], [2, 3], [4, 5], [2, 3], [-0.0, 1]])
    for m in METHODS:
        r = min_pairwise_distance(X, method=m)
        assert r == (0.0, 0, 4), m
    assert [g.tolist() for g in G.duplicate_groups(X)] == [[0, 4], [1, 3]]
    with pytest.raises(InputError, match=r"duplicate points 0 and 4 \(h_min = 0\)"):
        validate_points(X)
    assert validate_points(X, allow_duplicates=True).shape == (5, 2)


def test_duplicate_groups_large_and_float32():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5000, 8)).astype(np.float32)
    X[4000] = X[10]
    X[4500] = X[10]
    X[2] = X[1]
    assert [g.tolist() for g in G.duplicate_groups(X)] == [[1, 2], [10, 4000, 4500]]
    assert G.first_duplicate_pair(rng.standard_normal((100, 3))) is None


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[0.0, 1], [np.nan, 2], [3, 4], [5, np.nan]]), r"NaN in 2 row\(s\): 1, 3"),
        (np.array([[0.0, 1], [np.inf, 2]]), r"inf in 1 row\(s\): 1"),
        (np.arange(5.0), r"2-D array"),
        (np.zeros((0, 3)), r"empty"),
        (np.zeros((1, 3)), r"at least 2 points, got N = 1"),
        ([[1.0, 2.0], [3.0]], r"ragged"),
        (np.array([["a", "b"], ["c", "d"]]), r"not numeric"),
        (np.ones((3, 2), dtype=complex), r"complex"),
    ],
)
def test_validate_points_errors(bad, match):
    with pytest.raises(InputError, match=match):
        validate_points(bad)


def test_separation_is_half_hmin_and_pairwise_matches_cdist():
    rng = np.random.default_rng(5)
    X = rng.random((50, 4))
    assert separation_distance(X) == pytest.approx(pdist(X).min() / 2, rel=1e-14)
    assert np.allclose(pairwise_distances(X), cdist(X, X), rtol=1e-14, atol=0)


@pytest.mark.parametrize("d, k", [(3, 1), (3, 3), (12, 1), (12, 2)])
def test_knn_distances_match_brute_force(d, k):
    rng = np.random.default_rng(d + k)
    X = rng.standard_normal((400, d))
    C = cdist(X, X)
    np.fill_diagonal(C, np.inf)
    expect = np.sort(C, axis=1)[:, k - 1]
    assert np.allclose(knn_distances(X, k=k), expect, rtol=1e-12, atol=0)
    q = knn_distance_quantiles(X, k=k)
    assert q["quantiles"]["0.5"] == pytest.approx(np.quantile(expect, 0.5), rel=1e-12)
    if k == 1:
        assert q["quantiles"]["0"] == pytest.approx(pdist(X).min(), rel=1e-12)


def test_cluster_term_matches_brute_force():
    rng = np.random.default_rng(2)
    X = rng.random((200, 3))
    H = 0.2
    idx, s = cluster_term(X, 7, H)
    d = np.linalg.norm(X - X[7], axis=1)
    expect = np.flatnonzero((d <= H) & (np.arange(200) != 7))
    assert np.array_equal(idx, expect)
    assert s == pytest.approx(float(np.sum(d[expect] ** 2)), rel=1e-13)
    with pytest.raises(InputError, match="out of range"):
        cluster_term(X, 200, H)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_fill_distance_on_a_lattice_within_its_error_bar(d):
    m = 6
    h = 1.0 / m
    g = np.stack(np.meshgrid(*[np.arange(m + 1) * h] * d, indexing="ij"), -1).reshape(-1, d)
    exact = h * math.sqrt(d) / 2  # the centres of the lattice cells
    r = fill_distance(g, seed=1)
    assert r.rigorous
    assert r.estimate <= exact * (1 + 1e-12)
    assert exact - r.estimate <= r.stderr_or_gap + 1e-12
    assert r.upper_bound >= exact * (1 - 1e-12)
    assert r.stderr_or_gap <= 2e-3 * exact
    # the lower bound is attained by an in-domain point
    assert np.all(r.argmax_probe >= -1e-12) and np.all(r.argmax_probe <= 1 + 1e-12)
    assert np.linalg.norm(g - r.argmax_probe, axis=1).min() == pytest.approx(r.estimate, rel=1e-12)


def test_fill_distance_bracket_catches_a_wrong_value():
    """A value outside the bracket (e.g. the fill distance of the cube's corners only) is caught."""
    g = np.stack(np.meshgrid(*[np.arange(5) / 4] * 2, indexing="ij"), -1).reshape(-1, 2)
    r = fill_distance(g)
    wrong = 0.25  # the lattice spacing, not the covering radius h sqrt(2)/2
    assert not (r.estimate <= wrong <= r.upper_bound)


def test_fill_distance_on_the_sphere_octahedron():
    X = np.vstack([np.eye(3), -np.eye(3)])
    exact = math.sqrt(2 - 2 / math.sqrt(3))  # face centre (1,1,1)/sqrt(3) to a vertex
    r = fill_distance(X, domain="sphere", bounds=(np.zeros(3), 1.0))
    assert r.rigorous and r.estimate <= exact + 1e-12 <= r.upper_bound + 2e-12
    assert exact - r.estimate <= r.stderr_or_gap + 1e-12
    assert np.linalg.norm(r.argmax_probe) == pytest.approx(1.0, rel=1e-12)


def test_fill_distance_high_d_is_a_lower_bound_with_a_probe():
    rng = np.random.default_rng(0)
    X = rng.random((300, 8))
    r = fill_distance(X, n_probe=2000, seed=3, domain="ball", bounds=(np.full(8, 0.5), 1.0))
    assert not r.rigorous and r.upper_bound is None and r.stderr_or_gap >= 0
    assert np.linalg.norm(r.argmax_probe - 0.5) <= 1 + 1e-12
    assert np.linalg.norm(X - r.argmax_probe, axis=1).min() == pytest.approx(r.estimate, rel=1e-12)
    # the same seed gives the same result
    assert fill_distance(X, n_probe=2000, seed=3, domain="ball", bounds=(np.full(8, 0.5), 1.0)).estimate == r.estimate


def test_fill_distance_callable_sampler_and_mesh_ratio():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])

    def sampler(n, rng):
        return rng.random((n, 2))

    r = fill_distance(X, domain=sampler, n_probe=4000)
    assert r.estimate <= math.sqrt(0.5) + 1e-12 and r.estimate > 0.6
    mr = mesh_ratio(X)
    assert mr == pytest.approx(math.sqrt(0.5) / 0.5, rel=1e-3)
    with pytest.raises(InputError, match="unknown domain"):
        fill_distance(X, domain="torus")


def test_geometry_summary_keys_and_values():
    rng = np.random.default_rng(4)
    X = rng.random((200, 2))
    s = geometry_summary(X, seed=1)
    for key in ("n", "d", "h_min", "q_X", "argmin_pair", "fill_distance", "fill_distance_err", "mesh_ratio",
                "knn_quantiles", "conventions"):
        assert key in s
    h, i, j = _pdist_argmin(X)
    assert s["h_min"] == pytest.approx(h, rel=1e-13) and s["argmin_pair"] == [i, j]
    assert s["q_X"] == s["h_min"] / 2 and "q_X = h_min / 2" in s["conventions"]
    assert s["mesh_ratio"] == pytest.approx(s["fill_distance"] / s["q_X"])
    big = geometry_summary(rng.random((300, 20)), max_pair_work=10.0, n_probe=100)
    assert big["h_min"] is None and "skipped" in big["skipped"]["h_min"]


def test_load_points_formats_and_errors(tmp_path):
    X = np.array([[0.5, 1.0], [2.0, -3.0], [1e-7, 4.0]])
    np.save(tmp_path / "a.npy", X)
    assert np.array_equal(load_points(tmp_path / "a.npy"), X)
    (tmp_path / "b.csv").write_text("x,y\n0.5,1\n2,-3\n1e-7,4\n")
    assert np.array_equal(load_points(tmp_path / "b.csv"), X)
    (tmp_path / "c.csv").write_text("# comment\n0.5 1\n\n2   -3\n1e-7\t4\n")
    assert np.array_equal(load_points(tmp_path / "c.csv"), X)
    (tmp_path / "r.csv").write_text("1,2\n3,4,5\n")
    with pytest.raises(InputError, match=r"ragged rows: line 2 has 3 values, expected 2"):
        load_points(tmp_path / "r.csv")
    (tmp_path / "n.csv").write_text("1,2\n3,abc\n")
    with pytest.raises(InputError, match=r"line 2, column 2: 'abc' is not a number"):
        load_points(tmp_path / "n.csv")
    (tmp_path / "e.csv").write_text("\n\n")
    with pytest.raises(InputError, match="empty"):
        load_points(tmp_path / "e.csv")
    (tmp_path / "h.csv").write_text("x,y\n")
    with pytest.raises(InputError, match="only a header"):
        load_points(tmp_path / "h.csv")
    with pytest.raises(InputError, match="no such file"):
        load_points(tmp_path / "missing.npy")
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(InputError, match="unknown extension"):
        load_points(tmp_path / "x.json")
    np.save(tmp_path / "empty.npy", np.zeros((0, 2)))
    with pytest.raises(InputError, match="empty"):
        load_points(tmp_path / "empty.npy")
    (tmp_path / "bad.npy").write_bytes(b"not an npy file")
    with pytest.raises(InputError, match="not a valid .npy"):
        load_points(tmp_path / "bad.npy")


def test_screening_kernels_do_not_recompile():
    rng = np.random.default_rng(0)
    X = rng.random((3000, 12))
    min_pairwise_distance(X, method="blocked")
    rowmin = _distances._kernels()["rowmin"]
    n = rowmin._cache_size()
    min_pairwise_distance(rng.random((3000, 12)), method="blocked")
    assert rowmin._cache_size() == n
