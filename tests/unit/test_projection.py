from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.manifold import trustworthiness

from core.projection import ProjectionSpec, cached_umap, fit_umap


def test_umap_keeps_neighbourhoods_and_is_cached(tmp_path):
    X, _ = make_blobs(n_samples=400, centers=4, n_features=10, random_state=0)
    X = X.astype(np.float32)
    coords = cached_umap(X, ProjectionSpec(seed=1), tmp_path)
    assert coords.shape == (400, 2) and np.isfinite(coords).all()
    assert trustworthiness(X, coords, n_neighbors=10) > 0.9
    assert len(list(tmp_path.glob("*.npy"))) == 1
    again = cached_umap(X, ProjectionSpec(seed=1), tmp_path)
    np.testing.assert_array_equal(coords, again)


def test_sample_fit_then_transform_path():
    X, _ = make_blobs(n_samples=600, centers=3, n_features=8, random_state=2)
    coords = fit_umap(X.astype(np.float32), ProjectionSpec(sample_threshold=300, sample_size=200))
    assert coords.shape == (600, 2) and np.isfinite(coords).all()
    assert trustworthiness(X, coords, n_neighbors=10) > 0.85


def test_tiny_inputs_do_not_crash():
    assert fit_umap(np.zeros((1, 3), np.float32)).shape == (1, 2)
    assert fit_umap(np.eye(3, dtype=np.float32)).shape == (3, 2)


def test_umap_functions_are_compiled_into_numba_disk_cache(tmp_path):
    """A fresh process (each background job) loads umap's compiled code from disk instead of
    compiling it again: its functions are cached in $NUMBA_CACHE_DIR."""
    import os
    import subprocess
    import sys

    cache = tmp_path / "numba"
    code = (
        "import numpy as np\n"
        "from core.projection import fit_umap\n"
        "X = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)\n"
        "assert fit_umap(X).shape == (300, 2)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=600)
    cached = {p.name.split("-")[0] for p in cache.rglob("*.nbi")}
    # umap-learn declares these without cache=True; import_umap turns the cache on for them
    assert {"umap_.smooth_knn_dist", "umap_.compute_membership_strengths"} <= cached, cached
