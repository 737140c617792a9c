"""2-D maps of customer vectors with UMAP.

For more than `sample_threshold` customers UMAP is fitted on a random sample and the rest are
placed with ``transform`` — minutes instead of tens of minutes, and (see the benchmark) a map
that keeps nearly the same neighbourhoods.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ProjectionSpec:
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    seed: int = 0
    sample_threshold: int = 50_000
    sample_size: int = 20_000

    def to_dict(self) -> dict:
        return asdict(self)


def cached_umap(
    X: np.ndarray, spec: ProjectionSpec | None = None, cache_dir: Path | None = None
) -> np.ndarray:
    """fit_umap, cached on disk by (the vectors' bytes, the spec): identical inputs, no re-fit."""
    spec = spec or ProjectionSpec()
    if cache_dir is None:
        return fit_umap(X, spec)
    h = hashlib.sha256(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    h.update(json.dumps(spec.to_dict(), sort_keys=True).encode())
    path = Path(cache_dir) / f"{h.hexdigest()[:24]}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    coords = fit_umap(X, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, coords, allow_pickle=False)
    os.replace(tmp, path)
    return coords


def import_umap():
    """umap-learn, its numba functions compiled with numba's on-disk cache on.

    umap-learn declares most of its functions without ``cache=True``, so every fresh process
    (each background job is one) compiled them again: about 20 s before a map's first point.
    `numba.njit` / `numba.jit` are wrapped while umap (and pynndescent) are first imported so
    their functions cache to ``$NUMBA_CACHE_DIR`` (default ``~/.cache/numba``); numba checks
    each cached entry against its source file, so upgrades recompile. A function numba cannot
    cache is compiled as before.
    """
    os.environ.setdefault(
        "NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "numba")
    )
    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba

    originals = numba.njit, numba.jit

    def cached(original):
        def decorator(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:  # bare @njit
                return original(cache=True)(args[0])
            kwargs.setdefault("cache", True)
            return original(*args, **kwargs)

        return decorator

    numba.njit, numba.jit = cached(numba.njit), cached(numba.jit)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", numba.NumbaWarning)  # "cannot cache …"
            import umap
    finally:
        numba.njit, numba.jit = originals
    return umap


def fit_umap(X: np.ndarray, spec: ProjectionSpec | None = None) -> np.ndarray:
    """(n, 2) float32 coordinates for the rows of X."""
    spec = spec or ProjectionSpec()
    n = len(X)
    if n < 4:
        # UMAP needs a handful of points; tiny inputs get a PCA layout instead.
        out = np.zeros((n, 2), np.float32)
        if n > 1:
            Xc = X - X.mean(0)
            _, _, vt = np.linalg.svd(Xc, full_matrices=False)
            proj = Xc @ vt[:2].T
            out[:, : proj.shape[1]] = proj
        return out
    umap = import_umap()

    reducer = umap.UMAP(
        n_neighbors=min(spec.n_neighbors, n - 1),
        min_dist=spec.min_dist,
        metric=spec.metric,
        random_state=spec.seed,
        n_components=2,
        low_memory=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs overridden by random_state, etc.
        if n > spec.sample_threshold:
            rng = np.random.default_rng(spec.seed)
            idx = rng.choice(n, spec.sample_size, replace=False)
            reducer.fit(X[idx])
            coords = np.empty((n, 2), np.float32)
            step = 100_000
            for i in range(0, n, step):
                coords[i : i + step] = reducer.transform(X[i : i + step])
            coords[idx] = reducer.embedding_
            return coords
        return reducer.fit_transform(X).astype(np.float32)
