"""The UMAP and segmentation benchmarks at the tiny scale: real runs, real checks."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import bench_segmentation, bench_umap
from benchmarks.bench_segmentation import build_vectors, vector_paths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One suite-like base folder, so both benchmarks share the cached vectors."""
    return tmp_path_factory.mktemp("bench")


def test_vector_generator_is_deterministic_and_persona_clustered(tmp_path):
    info = build_vectors(600, str(tmp_path / "a"))
    build_vectors(600, str(tmp_path / "b"))
    xa, pa = (np.load(p) for p in vector_paths(tmp_path / "a", 600))
    xb, _ = (np.load(p) for p in vector_paths(tmp_path / "b", 600))
    np.testing.assert_array_equal(xa, xb)
    assert xa.shape == (600, info["dims"]) and xa.dtype == np.float32
    assert info["text_dims"] == 32 and info["numeric_dims"] > 10
    assert np.isfinite(xa).all() and set(np.unique(pa)) == set(range(8))
    # the text block separates personas: customers sit nearer their own persona's mean
    text = xa[:, -info["text_dims"] :]
    means = np.stack([text[pa == p].mean(0) for p in range(8)])
    nearest = ((text[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (nearest == pa).mean() > 0.6


def test_umap_benchmark_tiny(base):
    res = bench_umap.run("tiny", base / "umap")
    (row,) = res.rows
    assert row["customers"] == 2_000
    assert row["ours path"] == "fit 1,000 + transform"  # the sample path ran
    for col in ("ours trust.", "full fit trust."):
        assert 0 < row[col] <= 1
        assert row[col] > row["PCA trust."]  # both maps beat a 2-D PCA
    assert row["trust. gap"] == pytest.approx(row["full fit trust."] - row["ours trust."])
    assert row["ours s"] > 0 and row["full fit s"] > 0 and row["JIT warm-up s"] > 0
    assert isinstance(res.goal_met, bool) and "0.02" in res.goal
    assert any("trustworthiness" in c for c in res.checks)
    assert any("JIT" in n for n in res.notes)
    coords = np.load(base / "umap" / "ours_2000.npy")
    assert coords.shape == (2_000, 2) and np.isfinite(coords).all()


def test_segmentation_benchmark_tiny(base):
    res = bench_segmentation.run("tiny", base / "segmentation")
    rows = {r["method"]: r for r in res.rows}
    assert set(rows) == {"kmeans", "minibatch_kmeans", "hdbscan"}
    km, mb, hd = rows["kmeans"], rows["minibatch_kmeans"], rows["hdbscan"]
    assert km["ARI ours vs sklearn"] == pytest.approx(1.0)
    assert km["ARI ours vs personas"] == pytest.approx(km["ARI sklearn vs personas"])
    # fused vectors carry the personas: K-means recovers most of them
    assert km["ARI ours vs personas"] > 0.6
    for r in (km, mb, hd):
        assert -0.1 <= r["ARI ours vs personas"] <= 1 and -0.1 <= r["ARI ours vs sklearn"] <= 1
        assert r["ours s"] > 0 and r["sklearn s"] > 0
    assert km["segments ours"] == mb["segments ours"] == "8"
    assert hd["ours does"].startswith("fit on 1,000-row sample")
    assert any("HDBSCAN's sample path" in c for c in res.checks)
    assert any("K-means: ours' labels equal" in c for c in res.checks)
    # the vectors built for the UMAP benchmark's run are reused when it ran first
    assert (base / "fused-vectors" / "fused_n3000_s0.npy").exists()
