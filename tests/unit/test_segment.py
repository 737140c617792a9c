from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from core.segment import (
    METHODS,
    NOISE,
    bootstrap_stability,
    fuse_vectors,
    k_selection,
    make_segmenter,
    rfm_scores,
    rfm_tiers,
)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, centers=4, n_features=6, cluster_std=0.6, random_state=1)
    return X.astype(np.float32), y


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"hdbscan"}))
def test_methods_recover_planted_clusters(blobs, method):
    X, y = blobs
    seg = make_segmenter(
        method, k=4, seed=0, **({"epochs": 40} if method == "autoencoder_kmeans" else {})
    )
    labels = seg.fit_predict(X)
    assert adjusted_rand_score(y, labels) > 0.9
    assert seg.confidence_ is not None and seg.confidence_.shape == (len(X),)
    assert np.all((seg.confidence_ >= 0) & (seg.confidence_ <= 1))


def test_hdbscan_finds_k_and_marks_noise(blobs):
    X, y = blobs
    outlier = np.full((1, X.shape[1]), 50.0, dtype=np.float32)
    labels = make_segmenter("hdbscan", min_cluster_size=20).fit_predict(np.vstack([X, outlier]))
    assert labels[-1] == NOISE
    assert len(set(labels) - {NOISE}) == 4
    assert adjusted_rand_score(y, labels[:-1]) > 0.8


def test_hdbscan_samples_large_inputs_and_assigns_the_rest():
    X, y = make_blobs(n_samples=3000, centers=4, n_features=6, cluster_std=0.6, random_state=3)
    X = np.vstack([X, np.full((1, 6), 50.0)]).astype(np.float32)  # one far outlier, last
    full = make_segmenter("hdbscan", min_cluster_size=60)
    full_labels = full.fit_predict(X)
    assert full.sample_index_ is None
    seg = make_segmenter("hdbscan", min_cluster_size=60, max_rows=600, seed=1)
    labels = seg.fit_predict(X)
    idx = seg.sample_index_
    assert idx is not None and len(idx) == 600 and len(np.unique(idx)) == 600
    assert labels.shape == (len(X),) and seg.confidence_.shape == (len(X),)
    assert np.all((seg.confidence_ >= 0) & (seg.confidence_ <= 1))
    assert len(set(labels) - {NOISE}) == 4
    # the far outlier is not in the sample and is not pulled into a cluster
    assert len(X) - 1 not in set(idx) and labels[-1] == NOISE
    assert seg.confidence_[-1] == 0
    # the sample-fit agrees with the full fit and recovers the planted clusters
    assert adjusted_rand_score(full_labels, labels) > 0.9
    assert adjusted_rand_score(y, labels[:-1]) > 0.9
    # the same seed draws the same sample
    again = make_segmenter("hdbscan", min_cluster_size=60, max_rows=600, seed=1)
    np.testing.assert_array_equal(again.fit_predict(X), labels)


def test_unknown_method_and_bad_k():
    with pytest.raises(ValueError, match="unknown method"):
        make_segmenter("magic")
    with pytest.raises(ValueError, match="k must be"):
        make_segmenter("kmeans", k=1)


def test_fusion_weights_and_modes():
    rng = np.random.default_rng(0)
    feats = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(200)],
            "monetary": rng.lognormal(3, 1.5, 200),  # long tail: log-compressed
            "frequency": rng.poisson(3, 200).astype(float),
            "constant": np.ones(200),
            "empty": np.full(200, np.nan),
        }
    )
    feats.loc[3, "frequency"] = np.nan
    emb = rng.normal(size=(200, 64)).astype(np.float32)
    fused = fuse_vectors(feats, emb, text_weight=0.25, text_dims=8)
    assert fused.numeric_columns == ["monetary", "frequency"]
    assert any("constant" in n for n in fused.notes) and any("empty" in n for n in fused.notes)
    assert fused.X.shape == (200, 2 + 8) and not np.isnan(fused.X).any()
    var_num = fused.X[:, :2].var(axis=0).sum()
    var_txt = fused.X[:, 2:].var(axis=0).sum()
    assert var_txt / (var_num + var_txt) == pytest.approx(0.25, abs=1e-3)
    # numbers only, text only
    assert fuse_vectors(feats, None).X.shape == (200, 2)
    only_text = fuse_vectors(feats[["customer_id"]], emb, text_dims=8)
    assert only_text.X.shape == (200, 8)
    with pytest.raises(ValueError, match="nothing to segment"):
        fuse_vectors(feats[["customer_id"]], None)
    with pytest.raises(ValueError, match="text_weight"):
        fuse_vectors(feats, emb, text_weight=1.5)


def test_rfm_tiers_on_clear_cases():
    feats = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(10)],
            "recency_days": [1, 2, 3, 4, 0, 300, 310, 320, 330, 340],
            "frequency": [20, 18, 16, 2, 1, 19, 17, 1, 1, 0],
            "monetary": [2000, 1800, 1600, 50, 1, 1900, 1700, 10, 15, 5],
        }
    )
    t = rfm_tiers(feats).set_index("customer_id")
    assert t.loc["c0", "segment"] == "Champions"
    assert t.loc["c4", "segment"] == "New customers"
    assert t.loc["c6", "segment"] in {"Can't lose them", "At risk"}
    assert t.loc["c9", "segment"] == "Lost"
    assert set(t["r"]) <= set(range(1, 6))
    with pytest.raises(ValueError, match="recency_days"):
        rfm_tiers(feats.drop(columns=["recency_days"]))


def _many_one_order_customers(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A log where 70 % ordered once and 70 % bought in the last 150 days (ids shuffled)."""
    rng = np.random.default_rng(seed)
    once = rng.random(n) < 0.7
    active = rng.random(n) < 0.7
    frequency = np.where(once, 1, 2 + rng.poisson(3, n)).astype(float)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in rng.permutation(n)],
            "recency_days": np.where(
                active, rng.integers(0, 150, n), rng.integers(180, 700, n)
            ).astype(float),
            "frequency": frequency,
            "monetary": np.round(frequency * rng.lognormal(3.5, 0.5, n), 2),
        }
    )


def test_rfm_ties_get_equal_scores_whatever_the_row_order():
    feats = _many_one_order_customers()
    s = rfm_scores(feats)
    for col, score in (("frequency", "f"), ("recency_days", "r"), ("monetary", "m")):
        per_value = s.groupby(feats[col].to_numpy())[score].nunique()
        assert (per_value == 1).all(), col  # equal values, equal scores
    once = feats["frequency"].to_numpy() == 1
    assert set(s.loc[once, "f"]) == {1}  # one order beats no one, however many share it
    assert s.loc[~once, "f"].min() >= 4  # ordering twice beats the 70 % who ordered once
    shuffled = rfm_scores(feats.sample(frac=1, random_state=1))
    pd.testing.assert_frame_equal(
        s.set_index("customer_id").sort_index(), shuffled.set_index("customer_id").sort_index()
    )
    # values that are all different still score as plain rank quintiles
    distinct = pd.DataFrame(
        {
            "customer_id": list("abcdefghij"),
            "recency_days": np.arange(10.0),
            "frequency": np.arange(10.0) + 1,
            "monetary": np.arange(10.0) * 10,
        }
    )
    d = rfm_scores(distinct)
    assert d["f"].tolist() == d["m"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert d["r"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # everyone bought the same day: a middle R for all, not the worst
    assert set(rfm_scores(distinct.assign(recency_days=5.0))["r"]) == {3}


def test_rfm_champions_are_recent_repeat_buyers_when_most_customers_are_active():
    # Champions need R >= 4: the top 40 % by recency. With 70 % active in the last 150 days,
    # nobody away 180+ days can reach it; and F = 1 for one order keeps (F + M) / 2 below 4.
    feats = _many_one_order_customers()
    t = rfm_tiers(feats)
    champions = t["segment"].to_numpy() == "Champions"
    assert 0.05 < champions.mean() < 0.3
    assert not (champions & (feats["recency_days"].to_numpy() >= 180)).any()
    assert (feats.loc[champions, "frequency"] >= 2).all()
    # recent one-order customers land in the tiers made for them
    once_recent = (feats["frequency"] == 1) & (feats["recency_days"] < 30)
    assert set(t.loc[once_recent, "segment"]) <= {"New customers", "Potential loyalists", "Loyal"}
    assert (t.loc[once_recent, "segment"] == "New customers").mean() > 0.15  # M = 1 too


def test_k_selection_prefers_true_k(blobs):
    X, _ = blobs
    calls = []
    sel = k_selection(X, ks=range(2, 8), seed=0, progress=lambda d, t: calls.append(d))
    assert list(sel.table["k"]) == list(range(2, 8))
    assert sel.suggested_k == 4
    assert sel.table.set_index("k").loc[4, "stability"] > 0.95
    assert calls == list(range(1, 7))
    assert bootstrap_stability(X, "kmeans", 4, n_boot=3) > 0.9
