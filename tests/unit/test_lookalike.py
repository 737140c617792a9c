"""Lookalike expansion: the customers outside a seed set that look most like it."""

from __future__ import annotations

import numpy as np
import pytest

from core.lookalike import find_lookalikes


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize("method", ["knn", "centroid"])
def test_lookalikes_never_include_the_seed(method):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    seed = rng.random(400) < 0.3
    ids = np.array([f"c{i}" for i in range(400)], dtype=object)
    res = find_lookalikes(X, seed, 150, method=method, ids=ids)
    assert len(res.table) == 150
    assert not seed[res.table["row"]].any()
    assert not set(res.table["customer_id"]) & set(ids[seed])
    assert res.table["row"].is_unique
    assert (np.diff(res.table["similarity"]) <= 0).all()  # best first
    assert res.table["rank"].tolist() == list(range(1, 151))
    assert res.n_seed == int(seed.sum()) and res.n_candidates == int((~seed).sum())


@pytest.mark.parametrize("method", ["knn", "centroid"])
def test_planted_neighbours_come_first(method):
    """Five customers planted next to a tight seed group outrank everyone else."""
    rng = np.random.default_rng(1)
    d = 12
    direction = _unit(rng.normal(size=(1, d)))[0] * 3
    seed_vecs = direction + rng.normal(scale=0.15, size=(20, d))
    planted = direction + rng.normal(scale=0.15, size=(5, d))
    others = rng.normal(size=(300, d))
    X = np.vstack([seed_vecs, others[:150], planted, others[150:]]).astype(np.float32)
    seed = np.zeros(len(X), bool)
    seed[:20] = True
    planted_rows = set(range(170, 175))
    res = find_lookalikes(X, seed, 5, method=method)
    assert set(res.table["row"]) == planted_rows


def test_knn_scores_are_the_mean_similarity_to_the_nearest_seed_members():
    """Checked against scikit-learn's exact brute-force cosine neighbours."""
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    seed = np.zeros(300, bool)
    seed[rng.choice(300, 40, replace=False)] = True
    res = find_lookalikes(X, seed, 260, method="knn", k=7)
    nn = NearestNeighbors(n_neighbors=7, metric="cosine", algorithm="brute").fit(X[seed])
    dist, _ = nn.kneighbors(X[~seed])
    expected = 1 - dist.mean(axis=1)
    rows_out = np.flatnonzero(~seed)
    got = dict(zip(res.table["row"], res.table["similarity"], strict=True))
    assert set(got) == set(rows_out)
    np.testing.assert_allclose([got[r] for r in rows_out], expected, atol=1e-3)


def test_knn_finds_lookalikes_of_every_group_in_a_two_group_seed():
    """A lasso across two clusters: each cluster's close neighbours are found."""
    rng = np.random.default_rng(3)
    d = 10
    a, b = np.eye(d)[0] * 4, np.eye(d)[1] * 4
    X = np.vstack(
        [
            a + rng.normal(scale=0.2, size=(15, d)),  # seed group A
            b + rng.normal(scale=0.2, size=(15, d)),  # seed group B
            a + rng.normal(scale=0.2, size=(3, d)),  # near A
            b + rng.normal(scale=0.2, size=(3, d)),  # near B
            rng.normal(size=(200, d)),
        ]
    ).astype(np.float32)
    seed = np.zeros(len(X), bool)
    seed[:30] = True
    res = find_lookalikes(X, seed, 6, method="knn")
    assert set(res.table["row"]) == set(range(30, 36))


def test_more_lookalikes_asked_than_customers_outside_the_seed():
    X = np.random.default_rng(4).normal(size=(30, 4))
    seed = np.arange(30) < 22
    res = find_lookalikes(X, seed, 100)
    assert sorted(res.table["row"]) == list(range(22, 30))
    assert any("only 8 customers are outside the seed" in n for n in res.notes)


def test_whole_population_as_seed_gives_nobody_and_says_so():
    X = np.random.default_rng(5).normal(size=(10, 3))
    res = find_lookalikes(X, np.ones(10, bool), 5)
    assert res.table.empty and res.notes


def test_a_huge_seed_is_sampled_and_the_result_says_so():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(3000, 5)).astype(np.float32)
    seed = np.arange(3000) < 2500
    res = find_lookalikes(X, seed, 20, max_seeds=300)
    assert len(res.table) == 20 and not seed[res.table["row"]].any()
    assert any("sample of 300" in n for n in res.notes)


@pytest.mark.parametrize(
    ("vectors", "mask", "n", "message"),
    [
        (np.zeros((5, 2)), np.ones(4, bool), 1, "4 values for 5 customer vectors"),
        (np.ones((5, 2)), np.zeros(5, bool), 1, "seed is empty"),
        (np.ones((5, 2)), np.array([1, 0, 0, 0, 0]), 1, "booleans"),
        (np.ones((5, 2)), np.arange(5) < 2, 0, "at least 1"),
        (np.array([[1.0, 2], [np.nan, 1], [1, 1]]), np.array([True, False, False]), 1, "row 1"),
        (np.ones(5), np.arange(5) < 2, 1, "2-D"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(vectors, mask, n, message):
    with pytest.raises(ValueError, match=message):
        find_lookalikes(vectors, mask, n)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="knn, centroid"):
        find_lookalikes(np.ones((4, 2)), np.arange(4) < 1, 1, method="magic")
