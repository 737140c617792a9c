from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from core.trust import (
    BORDERLINE_MARGIN,
    StabilityResult,
    borderline,
    cell_customers,
    centroid_margins,
    load_stability,
    reviews_for,
    save_stability,
    segment_stability,
    stability_verdict,
    trust_summary,
)


def _segments(labels, confidence=None) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(len(labels))],
            "segment": [f"S{v + 1}" if v >= 0 else "Noise" for v in labels],
        }
    )
    if confidence is not None:
        df["confidence"] = confidence
    return df


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, centers=4, n_features=5, cluster_std=0.5, random_state=2)
    return X.astype(np.float32), y


def test_planted_clusters_are_stable(blobs):
    X, y = blobs
    res = segment_stability(X, [f"S{v + 1}" for v in y], "kmeans", k=4, n_runs=4, seed=0)
    assert list(res.per_segment["segment"]) == ["S1", "S2", "S3", "S4"]
    assert (res.per_segment["stability"] > 0.95).all()
    assert set(res.per_segment["verdict"]) == {"stable"}
    assert res.ari_mean > 0.95 and len(res.ari) == 4


def test_random_split_of_one_blob_is_unstable():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6)).astype(np.float32)  # one round blob: any split is arbitrary
    labels = np.where(rng.random(600) < 0.5, "S1", "S2")  # and this one is random
    res = segment_stability(X, labels, "kmeans", k=2, n_runs=4, seed=0)
    assert (res.per_segment["stability"] < 0.6).all()
    assert set(res.per_segment["verdict"]) == {"unstable"}
    assert abs(res.ari_mean) < 0.1


def test_stability_is_deterministic_reports_progress_and_samples_big_data(blobs):
    X, y = blobs
    calls = []
    a = segment_stability(
        X,
        y,
        "kmeans",
        k=4,
        n_runs=3,
        seed=7,
        max_rows=200,
        progress=lambda i, n: calls.append((i, n)),
    )
    b = segment_stability(X, y, "kmeans", k=4, n_runs=3, seed=7, max_rows=200)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    pd.testing.assert_frame_equal(a.per_segment, b.per_segment)
    assert a.ari == b.ari
    assert a.sample_size == 200 and a.n_customers == 600
    assert any("sample of 200 of 600" in n for n in a.notes)


def test_stability_rejects_bad_input(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="600 labels"):
        segment_stability(X[:10], y, "kmeans", k=4)
    with pytest.raises(ValueError, match="at least two segments"):
        segment_stability(X, ["S1"] * len(X), "kmeans", k=2)
    with pytest.raises(ValueError, match="unknown method"):
        segment_stability(X, y, "nope", k=4, n_runs=1)


def test_stability_saves_and_loads(tmp_path, blobs):
    X, y = blobs
    res = segment_stability(X, y, "kmeans", k=4, n_runs=2, seed=1)
    assert load_stability(tmp_path) is None
    save_stability(tmp_path, res)
    back = load_stability(tmp_path)
    assert isinstance(back, StabilityResult)
    pd.testing.assert_frame_equal(back.per_segment, res.per_segment, check_dtype=False)
    assert back.ari == res.ari and back.n_runs == 2 and back.method == "kmeans"
    (tmp_path / "trust.json").write_text("{not json")
    assert load_stability(tmp_path) is None  # unreadable → "not checked", not a crash


def test_borderline_customers_are_those_midway_between_centres():
    rng = np.random.default_rng(0)
    a = rng.normal([-5, 0], 0.3, size=(100, 2))
    b = rng.normal([5, 0], 0.3, size=(100, 2))
    mid = np.array([[0.2, 0.0], [-0.3, 0.1], [0.0, -0.2]])  # on the border between them
    X = np.vstack([a, b, mid]).astype(np.float32)
    labels = np.r_[np.zeros(100), np.ones(100), [1, 0, 1]].astype(int)
    seg = _segments(labels)
    out = borderline(seg, X, n=3)
    assert set(out["customer_id"]) == {"C0200", "C0201", "C0202"}
    assert (out["margin"] < BORDERLINE_MARGIN).all()
    assert set(zip(out["segment"], out["alternative"], strict=True)) <= {("S1", "S2"), ("S2", "S1")}
    m = centroid_margins(seg, X)
    assert (m["margin"].iloc[:200] > 0.8).all()  # deep inside their own blob
    summary = trust_summary(seg, m)
    assert list(summary["segment"]) == ["S1", "S2"]
    assert summary["borderline_share"].between(0.005, 0.03).all()
    assert set(summary["verdict"]) == {"not checked"}


def test_borderline_skips_noise_and_falls_back_to_confidence():
    X = np.array([[0, 0], [0.1, 0], [4, 0], [4.1, 0], [2, 0], [50, 50]], dtype=np.float32)
    seg = _segments([0, 0, 1, 1, 0, -1], confidence=[0.9, 0.8, 0.9, 0.7, 0.1, 0.0])
    out = borderline(seg, X, n=10)
    assert "C0005" not in set(out["customer_id"])  # noise belongs to no segment
    assert out["customer_id"].iloc[0] == "C0004"
    m = centroid_margins(seg, X)
    assert np.isnan(m.loc[5, "margin"])
    no_vec = borderline(seg, None, n=2)
    assert list(no_vec["customer_id"]) == ["C0004", "C0003"]
    with pytest.raises(ValueError, match="vectors.npy has shape"):
        centroid_margins(seg, X[:3])


def test_verdict_thresholds():
    assert stability_verdict(0.75) == "stable"
    assert stability_verdict(0.7) == "so-so"
    assert stability_verdict(0.6) == "so-so"
    assert stability_verdict(0.59) == "unstable"
    assert stability_verdict(float("nan")) == "not checked"


def test_cell_customers_counts_the_holdout_cell():
    pred = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "split": ["test", "test", "train", "test", "test"],
            "true": ["x", "x", "x", "y", "x"],
            "predicted": ["y", "y", "y", "y", "x"],
            "p_y": [0.6, 0.9, 0.8, 0.7, 0.2],
        }
    )
    out = cell_customers(pred, "x", "y")
    assert list(out["customer_id"]) == ["b", "a"]  # holdout only, most confident first
    assert len(cell_customers(pred, "y", "x")) == 0
    with pytest.raises(ValueError, match="split"):
        cell_customers(pred.drop(columns=["split"]), "x", "y")


def test_reviews_for_reads_only_those_customers(tmp_path):
    from core.datasets import create_demo_dataset
    from core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    create_demo_dataset(ws, n_customers=80, seed=1)
    reviews = ws.load_table("demo", "reviews")
    ids = reviews["customer_id"].drop_duplicates().head(3).tolist()
    df, total = reviews_for(ws, "demo", ids, limit=2)
    assert total == int(reviews["customer_id"].isin(ids).sum())
    assert len(df) == min(2, total) and set(df["customer_id"]) <= set(ids)
    assert reviews_for(ws, "demo", [], limit=5)[1] == 0
