"""Selectors (sims.select) and uniformity reports: brute-force references and the T10 certificate."""

import itertools
import math

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import qmc

from hmin.sims.errors import InputError
from hmin.sims.select import METHODS, chordal_normalize, greedy_maxmin, select
from hmin.sims.uniformity import coverage, pool_covering_radius, uniformity_report


def reference_maxmin(X, k, first):
    """Farthest-first in plain float64 NumPy, distances from differences, ties -> smallest index."""
    X = np.asarray(X, dtype=np.float64)
    mind = np.full(len(X), np.inf)
    idx, radii = [first], []
    for _ in range(1, k):
        mind = np.minimum(mind, np.sqrt(((X - X[idx[-1]]) ** 2).sum(axis=1)))
        mind[idx] = -1.0
        j = int(np.argmax(mind))
        idx.append(j)
        radii.append(mind[j])
    return np.array(idx), np.array(radii)


def brute_opt(X, k):
    """OPT_k: the largest h_min over all k-subsets (exhaustive)."""
    return max(pdist(X[list(c)]).min() for c in itertools.combinations(range(len(X)), k))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [1, 2, 5, 30])
def test_greedy_matches_reference(seed, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, d))
    k = 25
    first = int(rng.integers(200))
    idx, radii = greedy_maxmin(X, k, first=first)
    ref_idx, ref_r = reference_maxmin(X, k, first)
    assert np.array_equal(idx, ref_idx)
    assert np.allclose(radii, ref_r, rtol=1e-13, atol=0)
    assert np.all(np.diff(radii) <= 0)  # r_t is nonincreasing


def test_greedy_ties_smallest_index_on_a_lattice():
    g = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0), indexing="ij"), -1).reshape(-1, 2)
    idx, radii = greedy_maxmin(g, 10, first=12)
    ref_idx, ref_r = reference_maxmin(g, 10, 12)
    assert np.array_equal(idx, ref_idx) and np.array_equal(radii, ref_r)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_hmin_of_greedy_subset_equals_r_k(dtype, metric):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((3000, 16)).astype(dtype)
    for k in (2, 10, 100):
        s = select(X, k, metric=metric, seed=3)
        Z = chordal_normalize(X) if metric == "cosine" else X
        true = pdist(Z[s.indices].astype(np.float64)).min()
        assert s.h_min == pytest.approx(true, rel=1e-12)
        assert s.certificate["r_k"] == pytest.approx(true, rel=1e-12)
        assert s.certificate["opt_upper"] == 2 * s.certificate["r_k"]
        assert len(s.certificate["radii"]) == k - 1


def _pools(n_pools=12):
    rng = np.random.default_rng(2024)
    for t in range(n_pools):
        n = int(rng.integers(6, 12))
        d = int(rng.integers(1, 4))
        X = rng.random((n, d)) if t % 2 else rng.standard_normal((n, d)) ** 3  # also clumpy pools
        yield X


def test_certificate_opt_le_2rk_against_brute_force():
    checked = 0
    greedy_not_optimal = 0
    for X in _pools():
        for k in range(2, min(6, len(X)) + 1):
            for first in (0, len(X) - 1):
                s = select(X, k, first=first)
                opt = brute_opt(X, k)
                r_k = s.certificate["r_k"]
                assert s.h_min <= opt * (1 + 1e-12)  # S_k is one of the k-subsets
                assert opt <= 2 * r_k * (1 + 1e-12)  # T10
                greedy_not_optimal += opt > r_k * (1 + 1e-9)
                checked += 1
    assert checked > 50
    assert greedy_not_optimal > 0  # the factor 2 is not idle: greedy is sometimes suboptimal


def test_a_wrong_bound_is_caught():
    """OPT_k <= r_k / 2 is false; the brute-force check must find a pool where it fails."""
    violations = 0
    for X in _pools():
        for k in range(2, min(5, len(X)) + 1):
            s = select(X, k, first=0)
            violations += brute_opt(X, k) > s.certificate["r_k"] / 2
    assert violations > 0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_every_selector_exact_k_distinct_deterministic(method, metric):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 6))
    a = select(X, 37, method=method, metric=metric, seed=9)
    b = select(X, 37, method=method, metric=metric, seed=9)
    assert a.indices.dtype == np.int64 and len(a.indices) == 37 and len(np.unique(a.indices)) == 37
    assert np.array_equal(a.indices, b.indices)
    assert a.method == method and a.metric == metric and a.k == 37
    Z = chordal_normalize(X) if metric == "cosine" else X
    assert a.h_min == pytest.approx(pdist(Z[a.indices]).min(), rel=1e-12)
    c = select(X, 37, method=method, metric=metric, seed=9, first=123)
    assert c.indices[0] == 123 and len(np.unique(c.indices)) == 37
    if method in ("random", "grid", "kmeans++"):
        assert not np.array_equal(select(X, 37, method=method, metric=metric, seed=10).indices, a.indices)
    assert (a.certificate is not None) == (method == "maxmin")


def test_selectors_on_a_pool_of_size_k_take_everything():
    X = np.random.default_rng(0).random((12, 3))
    for m in METHODS:
        assert sorted(select(X, 12, method=m).indices.tolist()) == list(range(12))


def test_maxmin_default_first_is_seeded():
    X = np.random.default_rng(0).random((500, 2))
    s = select(X, 5, seed=42)
    assert s.indices[0] == np.random.default_rng(42).integers(500)
    assert s.info["first_rule"].startswith("seeded")


def test_cosine_is_chordal_and_scale_invariant():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((300, 5))
    U = chordal_normalize(X)
    cos = (X[0] @ X[1]) / np.linalg.norm(X[0]) / np.linalg.norm(X[1])
    assert np.linalg.norm(U[0] - U[1]) == pytest.approx(math.sqrt(2 * (1 - cos)), rel=1e-12)
    scaled = X * rng.uniform(0.1, 10, size=(300, 1))
    a = select(X, 20, metric="cosine", first=0)
    b = select(scaled, 20, metric="cosine", first=0)
    assert np.array_equal(a.indices, b.indices)
    X[17] = 0.0
    with pytest.raises(InputError, match=r"zero vector.*rows 17"):
        select(X, 5, metric="cosine")


def test_duplicates_in_the_pool():
    X = np.array([[0.0, 0], [0, 0], [1, 1], [1, 1], [0, 0]])
    s = select(X, 3, first=0)
    assert len(np.unique(s.indices)) == 3 and s.certificate["r_k"] == 0.0 and s.h_min == 0.0
    with pytest.raises(InputError, match="duplicate points 0 and 1"):
        select(X, 3, allow_duplicates=False)
    for m in METHODS:
        assert len(np.unique(select(X, 4, method=m).indices)) == 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(k=11), r"k = 11 exceeds the number of points N = 10"),
        (dict(k=1), r"k must be >= 2"),
        (dict(k=2.5), r"k must be an integer"),
        (dict(k=3, first=10), r"first must be an index"),
        (dict(k=3, method="greedy"), r"unknown method"),
        (dict(k=3, metric="manhattan"), r"unknown metric"),
    ],
)
def test_select_errors(kwargs, match):
    X = np.random.default_rng(0).random((10, 2))
    k = kwargs.pop("k")
    with pytest.raises(InputError, match=match):
        select(X, k, **kwargs)


def test_select_rejects_nan():
    X = np.random.default_rng(0).random((10, 2))
    X[3, 1] = np.nan
    with pytest.raises(InputError, match=r"NaN in 1 row\(s\): 3"):
        select(X, 3)


def test_kmeanspp_samples_proportional_to_d2():
    # pool: 0 at the origin (first), points at distances 1, 2, 3: second pick ~ D^2 = 1 : 4 : 9
    X = np.array([[0.0], [1.0], [-2.0], [3.0]])
    picks = np.array([select(X, 2, method="kmeans++", first=0, seed=s).indices[1] for s in range(700)])
    freq = np.bincount(picks, minlength=4)[1:] / len(picks)
    expect = np.array([1, 4, 9]) / 14
    assert np.all(np.abs(freq - expect) < 4 * np.sqrt(expect * (1 - expect) / len(picks)))


def test_grid_takes_one_point_per_cell_first():
    rng = np.random.default_rng(3)
    X = rng.random((4000, 2))
    s = select(X, 16, method="grid", seed=1)  # 4 x 4 cells in the 2 coordinates (d <= 3: no PCA)
    lo, hi = X.min(0), X.max(0)
    cells = np.clip(np.floor((X[s.indices] - lo) / (hi - lo) * 4).astype(int), 0, 3)
    assert len({tuple(c) for c in cells}) == 16
    assert s.info["occupied_cells"] == 16 and s.info["bins_per_axis"] == 4


def test_herding_starts_at_the_mode_and_spreads():
    x = np.linspace(-1, 1, 201)[:, None]
    s = select(x, 3, method="herding")
    assert s.indices[0] == 100  # the mean embedding peaks at the centre of a symmetric pool
    assert abs(x[s.indices[1], 0]) > 0.3 and abs(x[s.indices[2], 0]) > 0.3
    assert x[s.indices[1], 0] * x[s.indices[2], 0] < 0  # one on each side


def test_coverage_and_uniformity_report():
    labels = np.array([0] * 50 + [1] * 45 + [2] * 5)
    c = coverage(labels, np.arange(0, 100, 10))
    assert c["per_label"]["0"] == {"pool": 50, "selected": 5, "fraction_selected": 0.1}
    assert c["labels_hit"] == 2 and c["fraction_labels_hit"] == pytest.approx(2 / 3)
    assert c["rarest_label"] == "2" and not c["rarest_label_hit"]
    with pytest.raises(InputError, match="out of range"):
        coverage(labels, [100])

    rng = np.random.default_rng(0)
    X = rng.random((300, 2))
    rep = uniformity_report(X, labels=labels[np.arange(300) % 100], n_probe=500)
    assert rep["discrepancy"]["value"] == pytest.approx(qmc.discrepancy(X, method="CD"), rel=1e-12)
    assert rep["labels"]["counts"]["2"] == 15 and rep["h_min"] == pytest.approx(pdist(X).min(), rel=1e-13)
    out = uniformity_report(X * 3 - 1, n_probe=500)
    assert out["discrepancy"]["value"] is None and "unit cube" in out["discrepancy"]["reason"]


def test_pool_covering_radius_is_greedy_next_radius():
    rng = np.random.default_rng(1)
    X = rng.random((500, 3))
    idx, radii = greedy_maxmin(X, 21, first=0)
    rep = pool_covering_radius(X, X[idx[:20]])
    assert rep["value"] == pytest.approx(radii[-1], rel=1e-12)  # r_21 = covering radius of S_20
    assert rep["argmax_pool_index"] == idx[20]


def test_greedy_kernel_does_not_recompile():
    from hmin.sims.select import _sqdist_kernel

    X = np.random.default_rng(0).random((300, 4))
    select(X, 10, first=0)
    kern = _sqdist_kernel()
    n = kern._cache_size()
    select(X, 20, first=5)
    select(X + 1.0, 10, method="kmeans++")
    assert kern._cache_size() == n


# ---------------------------------------------------------------------------------------------
# Triangle-inequality pruning (MaxMinShard): identical to the unpruned greedy, ties included


def _pruning_pools():
    rng = np.random.default_rng(7)
    lat3 = np.stack(np.meshgrid(*[np.arange(9.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    yield "3-D lattice (ties everywhere)", lat3, 300
    lat2 = np.stack(np.meshgrid(np.arange(40.0), np.arange(25.0), indexing="ij"), -1).reshape(-1, 2)
    yield "2-D grid, float32", lat2.astype(np.float32), 400
    cent = rng.standard_normal((30, 20)) * 10
    yield "tight clusters", cent[rng.integers(30, size=3000)] + 0.05 * rng.standard_normal((3000, 20)), 300
    yield "integer clusters (ties)", np.round(cent[rng.integers(30, size=2000)]) + rng.integers(-1, 2, (2000, 20)), 400
    yield "N(0, I) d = 8", rng.standard_normal((2000, 8)), 200
    yield "N(0, I) d = 64 float32", rng.standard_normal((1500, 64)).astype(np.float32), 100
    dup = rng.integers(0, 4, (600, 3)).astype(float)  # many exact duplicates: h_min = 0 after 64 points
    yield "duplicates", dup, 100


@pytest.mark.parametrize("force_bound", [False, True], ids=["default", "bound-everywhere"])
@pytest.mark.parametrize("case", list(range(7)))
def test_pruned_greedy_identical_to_unpruned(case, force_bound, monkeypatch):
    import hmin.sims.select as S

    if force_bound:  # the bound pass on every block (by default only on large blocks or d <= 8)
        monkeypatch.setattr(S, "_SMALL_BLOCK", 0)
    name, X, k = list(_pruning_pools())[case]
    first = 5
    plain_idx, plain_r = greedy_maxmin(X, k, first=first, prune=False)
    stats = {}
    idx, r = greedy_maxmin(X, k, first=first, prune=True, stats=stats)
    assert np.array_equal(idx, plain_idx), name
    assert np.array_equal(r, plain_r), name  # bit for bit
    ref_idx, ref_r = reference_maxmin(X, k, first)  # and the plain float64 NumPy reference
    assert np.array_equal(idx, ref_idx), name
    assert stats["steps_groups"] + stats["steps_flat"] + stats["steps_plain"] == k - 1
    assert stats["rows_exact"] <= stats["rows_total"]
    if name.startswith(("3-D", "2-D", "tight")):  # where pruning must actually skip work
        assert stats["rows_exact"] < 0.5 * stats["rows_total"], (name, stats)
    if name.startswith(("3-D", "tight", "duplicates")):  # every path ran: group walks, flat steps
        assert stats["steps_groups"] and stats["steps_flat"], stats
        if force_bound or X.shape[1] <= 8:  # bound passes over compact copies
            assert stats["rows_streamed"] and stats["rows_copied"], stats


def test_pruned_greedy_identical_on_tiny_pools_against_brute_force():
    rng = np.random.default_rng(3)
    n, d, k = 8, 2, 8  # one shape (few compiles); k = n: every prefix of the greedy order is checked
    for t in range(40):
        X = rng.integers(0, 3, (n, d)).astype(float) if t % 2 else rng.standard_normal((n, d))
        first = int(rng.integers(n))
        idx, r = greedy_maxmin(X, k, first=first, prune=True)
        # brute force: at each step, every unchosen point's min distance to the chosen ones
        chosen = [first]
        for _ in range(1, k):
            dist = [(-1.0 if i in chosen else min(float(np.sqrt(((X[i] - X[c]) ** 2).sum())) for c in chosen), i)
                    for i in range(n)]
            best = max(v for v, _ in dist)
            chosen.append(min(i for v, i in dist if v == best))
        assert idx.tolist() == chosen


def test_a_wrong_pruning_margin_is_caught(monkeypatch):
    """Skipping points that can change (margin too large) must change the result: the identity
    tests above can fail."""
    import hmin.sims.select as S

    rng = np.random.default_rng(1)
    X = rng.standard_normal((3000, 3))
    good, _ = greedy_maxmin(X, 200, first=0, prune=False)
    monkeypatch.setattr(S, "_prune_margin", lambda d: -3.0)  # thr = dcc^2: skips far too much
    bad, _ = greedy_maxmin(X, 200, first=0, prune=True)
    assert not np.array_equal(good, bad)


def test_a_wrong_dot_product_bound_is_caught(monkeypatch):
    """The flat steps skip the rows whose lower bound excludes a change; a "bound" above the
    true distance (K < 0) must change the result: the identity tests above can fail through this
    path too."""
    import hmin.sims.select as S

    monkeypatch.setattr(S, "_SMALL_BLOCK", 0)  # the bound pass on this small block too
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3000, 64)).astype(np.float32)
    good, _ = greedy_maxmin(X, 150, first=0, prune=False)
    stats = {}
    same, _ = greedy_maxmin(X, 150, first=0, prune=True, stats=stats)
    assert np.array_equal(good, same) and stats["steps_flat"] > 100 and stats["rows_exact"] < 0.2 * stats["rows_total"]
    monkeypatch.setattr(S, "_bound_constants", lambda d, dtype: (-0.05, 0.0))  # "bound" above the distance
    bad, _ = greedy_maxmin(X, 150, first=0, prune=True)
    assert not np.array_equal(good, bad)


def test_auto_pruning_matches_and_reports_work():
    rng = np.random.default_rng(2)
    cent = rng.standard_normal((20, 16)) * 5
    X = (cent[rng.integers(20, size=6000)] + 0.01 * rng.standard_normal((6000, 16))).astype(np.float32)
    plain, _ = greedy_maxmin(X, 300, first=1, prune=False)
    stats = {}
    auto, _ = greedy_maxmin(X, 300, first=1, stats=stats)
    assert np.array_equal(plain, auto)
    assert {"rows_exact", "rows_streamed", "steps_groups", "steps_flat", "steps_plain", "mode_at_end"} <= set(stats)


def test_auto_turns_plain_where_nothing_can_be_pruned():
    """N(0, I) in d = 16: no group walk and nothing settled by step 64, so "auto" turns to plain
    passes (same result); a clustered pool of the same size keeps pruning."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6000, 16)).astype(np.float32)
    stats = {}
    auto, _ = greedy_maxmin(X, 200, first=0, stats=stats)
    assert stats.get("plain_from_step") == 64 and stats["mode_at_end"] == "plain"
    assert np.array_equal(auto, greedy_maxmin(X, 200, first=0, prune=False)[0])
    cent = rng.standard_normal((20, 16)) * 5
    Xc = (cent[rng.integers(20, size=6000)] + 0.01 * rng.standard_normal((6000, 16))).astype(np.float32)
    stats = {}
    greedy_maxmin(Xc, 200, first=0, stats=stats)
    assert "plain_from_step" not in stats and stats["steps_groups"] > 100, stats
