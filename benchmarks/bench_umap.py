"""UMAP maps: Segment Studio's sample-fit + transform versus a full fit, time and faithfulness.

``core.projection.fit_umap`` fits UMAP on a random sample once there are more than
``sample_threshold`` customers and places the rest with ``transform``. The alternative is what
a user would write: ``umap.UMAP(...).fit_transform(X)`` on every row, with the same parameters.
Both run in their own child process on the same cached fused vectors (see
``benchmarks.bench_segmentation.build_vectors``), after a warm-up fit that compiles numba's
JIT code, so the timed call is the fit itself.

Faithfulness is ``sklearn.manifold.trustworthiness`` (n_neighbors=10) of each map, computed on
the same random subsample of customers for both (exact trustworthiness needs an n × n distance
matrix); a 2-D PCA of the subsample is given as a floor for scale. A full fit that would take
longer than the scale's time budget is not run: its time is projected from the measured full
fits along an n·log n trend and marked as a projection.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.bench_segmentation import ensure_vectors, load_note, vectors_note
from benchmarks.suite import BenchResult, ResultsDiffer, measure_in_child

GOAL_GAP = 0.02  # sample-fit trustworthiness within this of the full fit's
TRUST_NEIGHBORS = 10

# sizes; ProjectionSpec overrides (full = the app's defaults: fit on 20 k once above 50 k);
# customers in the trustworthiness subsample; the longest full fit that is run, in seconds
# (SEGSTUDIO_BENCH_UMAP_BUDGET_S overrides it, e.g. to measure the 1 M full fit for real).
SCALES = {
    "tiny": {
        "sizes": [2_000],
        "spec": {"sample_threshold": 1_000, "sample_size": 1_000},
        "trust_rows": 2_000,
        "budget_s": 300,
        "one_child": True,  # one JIT warm-up for both sides keeps the test suite quick
    },
    "small": {
        "sizes": [10_000, 50_000],
        "spec": {"sample_threshold": 5_000, "sample_size": 5_000},
        "trust_rows": 5_000,
        "budget_s": 240,
    },
    "full": {
        "sizes": [10_000, 100_000, 1_000_000],
        "spec": {},
        "trust_rows": 5_000,
        "budget_s": 600,
    },
}


# ----------------------------------------------------------------------------- child side
def _warm_up(X: np.ndarray, rows: int, spec) -> float:
    """Fit + transform a small UMAP with the same settings, so numba compiles before timing.

    UMAP uses exact neighbours below 4,096 rows and NN-descent above; the warm-up takes the
    same branch as the timed fit (``rows``).
    """
    import umap

    t0 = time.perf_counter()
    sub = X[: min(rows, len(X))]
    r = umap.UMAP(
        n_neighbors=min(spec.n_neighbors, len(sub) - 1),
        min_dist=spec.min_dist,
        metric=spec.metric,
        random_state=spec.seed,
        low_memory=True,
    ).fit(sub)
    r.transform(sub[:100])
    return time.perf_counter() - t0


def umap_child(vectors: str, outs: dict, spec: dict) -> dict:
    """Sides of the comparison (``outs``: mode -> .npy path) in this process: load the vectors,
    warm up once, then time each mode in turn and save its coordinates.

    ``ours`` is ``core.projection.fit_umap``; ``full`` is ``umap.UMAP(...).fit_transform`` on
    every row with the same parameters. ``peak_rss_mb`` after each mode is this process's peak
    so far, so with two modes the second one's is an upper bound.
    """
    os.environ.setdefault(
        "NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "numba")
    )
    warnings.simplefilter("ignore")
    from benchmarks.suite import peak_rss_mb
    from core.projection import ProjectionSpec, fit_umap

    spec_ = ProjectionSpec(**spec)
    X = np.load(vectors, allow_pickle=False)
    n = len(X)
    sampled = n > spec_.sample_threshold
    fit_rows = {m: spec_.sample_size if m == "ours" and sampled else n for m in outs}
    warm_s = _warm_up(X, 4_500 if max(fit_rows.values()) >= 4_096 else 300, spec_)
    res = {
        "warmup_s": warm_s,
        "sampled": sampled,
        "fit_rows": fit_rows["ours" if "ours" in outs else "full"],
    }
    for mode, out in outs.items():
        t0 = time.perf_counter()
        if mode == "ours":
            coords = fit_umap(X, spec_)
        elif mode == "full":
            import umap

            coords = umap.UMAP(
                n_neighbors=spec_.n_neighbors,
                min_dist=spec_.min_dist,
                metric=spec_.metric,
                random_state=spec_.seed,
                n_components=2,
                low_memory=True,
            ).fit_transform(X)
        else:
            raise ValueError(f"unknown mode {mode!r}")
        seconds = time.perf_counter() - t0
        np.save(out, np.asarray(coords, dtype=np.float32), allow_pickle=False)
        res[mode] = {"seconds": seconds, "peak_rss_mb": peak_rss_mb()}
    return res


# ---------------------------------------------------------------------------- parent side
def _nlogn(n: int) -> float:
    return n * math.log(n)


def _trust(X: np.ndarray, coords: np.ndarray, idx: np.ndarray) -> float:
    from sklearn.manifold import trustworthiness

    return float(trustworthiness(X[idx], coords[idx], n_neighbors=TRUST_NEIGHBORS))


def _check_coords(coords: np.ndarray, n: int, what: str) -> None:
    if coords.shape != (n, 2) or not np.isfinite(coords).all():
        raise ResultsDiffer(f"{what}: expected {n} finite 2-D points, got {coords.shape}")


def _side(xp: Path, outs: dict, spec: dict, timeout: float | None = None) -> dict:
    return measure_in_child(
        "benchmarks.bench_umap:umap_child",
        timeout=timeout,
        vectors=str(xp),
        outs={m: str(p) for m, p in outs.items()},
        spec=spec,
    )


def run(scale: str, workdir: Path) -> BenchResult:
    from sklearn.decomposition import PCA

    from core.projection import ProjectionSpec

    load0 = os.getloadavg()
    cfg = SCALES[scale]
    spec = ProjectionSpec(**cfg["spec"])
    budget = float(os.environ.get("SEGSTUDIO_BENCH_UMAP_BUDGET_S") or cfg["budget_s"])
    together = cfg.get("one_child", False)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    checks: list[str] = []
    full_measured: list[tuple[int, float]] = []  # (n, seconds) of the full fits that finished
    build_info = None
    for n in cfg["sizes"]:
        xp, _, info = ensure_vectors(workdir, n)
        build_info = info or build_info
        X = np.load(xp, allow_pickle=False)
        idx = np.sort(
            np.random.default_rng(1234).choice(n, min(cfg["trust_rows"], n), replace=False)
        )
        pca_trust = _trust(X, PCA(2, random_state=0).fit_transform(X[idx]), np.arange(len(idx)))
        paths = {"ours": workdir / f"ours_{n}.npy", "full": workdir / f"full_{n}.npy"}

        # the full fit is run when the n·log n trend of the measured ones says it fits the budget
        projected = None
        if full_measured:
            m, sec = full_measured[-1]
            projected = sec * _nlogn(n) / _nlogn(m)
        run_full = projected is None or projected <= budget
        full, full_status = None, ""
        if together and run_full:
            both = _side(xp, paths, spec.to_dict())
            ours = {**both, **both["ours"]}
            full = {**both, **both["full"], "peak_rss_mb": None}
        else:
            one = _side(xp, {"ours": paths["ours"]}, spec.to_dict())
            ours = {**one, **one["ours"]}
            if run_full:
                timeout = max(2.5 * budget, 1.5 * (projected or 0))
                try:
                    one = _side(xp, {"full": paths["full"]}, spec.to_dict(), timeout=timeout)
                    full = {**one, **one["full"]}
                except subprocess.TimeoutExpired:
                    full_status = f"did not finish in {timeout:,.0f} s"
            else:
                m = full_measured[-1][0]
                full_status = (
                    f"not run: projected ≈ {projected / 60:,.0f} min from the n·log n trend of "
                    f"the {m:,}-customer fit (a projection, not a measurement)"
                )
        c_ours = np.load(paths["ours"], allow_pickle=False)
        _check_coords(c_ours, n, f"fit_umap at {n:,}")
        t_ours = _trust(X, c_ours, idx)
        row = {
            "customers": n,
            "ours path": f"fit {ours['fit_rows']:,} + transform" if ours["sampled"] else "full fit",
            "ours s": ours["seconds"],
            "full fit s": full_status or None,
            "speed-up": (
                f"≈ {projected / ours['seconds']:.0f}× (projected)"
                if full_status and projected
                else None
            ),
            "ours trust.": t_ours,
            "full fit trust.": None,
            "trust. gap": None,
            "PCA trust.": pca_trust,
            "ours peak MB": ours["peak_rss_mb"],
            "full fit peak MB": None,
            "JIT warm-up s": ours["warmup_s"],
        }
        if full is not None:
            c_full = np.load(paths["full"], allow_pickle=False)
            _check_coords(c_full, n, f"umap.UMAP at {n:,}")
            t_full = _trust(X, c_full, idx)
            full_measured.append((n, full["seconds"]))
            if not ours["sampled"]:
                if not np.allclose(c_ours, c_full, atol=1e-4):
                    raise ResultsDiffer(
                        f"at {n:,} customers fit_umap does a plain fit, but its map differs "
                        "from umap.UMAP's with the same parameters"
                    )
                checks.append(
                    f"at {n:,} customers (≤ sample_threshold) fit_umap's map is identical to "
                    "umap.UMAP's"
                )
            row.update(
                {
                    "full fit s": full["seconds"],
                    "speed-up": full["seconds"] / ours["seconds"],
                    "full fit trust.": t_full,
                    "trust. gap": t_full - t_ours,
                    "full fit peak MB": full["peak_rss_mb"],
                }
            )
        for what, t in (("fit_umap", t_ours), ("umap.UMAP", row["full fit trust."])):
            if t is not None and t < pca_trust:
                raise ResultsDiffer(
                    f"the {what} map of {n:,} customers is less trustworthy ({t:.3f}) than a "
                    f"2-D PCA ({pca_trust:.3f}): the map is broken"
                )
        rows.append(row)
        del X

    checks += [
        "every map has one finite 2-D point per customer",
        f"trustworthiness (n_neighbors={TRUST_NEIGHBORS}) of both maps on the same random "
        "customers, each above a 2-D PCA's",
    ]
    compared = [
        r for r in rows if r["ours path"] != "full fit" and r["full fit trust."] is not None
    ]
    goal_met = all(r["trust. gap"] <= GOAL_GAP for r in compared) if compared else None
    if compared:
        c = compared[-1]
        summary = (
            f"At {c['customers']:,} customers sample-fit + transform took {c['ours s']:.0f} s "
            f"versus {c['full fit s']:.0f} s for a full fit ({c['speed-up']:.1f}×); "
            f"trustworthiness {c['ours trust.']:.3f} versus {c['full fit trust.']:.3f}."
        )
    else:
        summary = "No sample-fit size had a full fit to compare with."
    big = rows[-1]
    if not compared or big is not compared[-1]:
        summary += (
            f" At {big['customers']:,}: {big['ours s']:.0f} s, trustworthiness "
            f"{big['ours trust.']:.3f}; full fit {big['full fit s']}."
        )
    notes = [
        "fit_umap settings: "
        + ", ".join(f"{k}={v}" for k, v in spec.to_dict().items())
        + (
            " (the app's defaults)."
            if not cfg["spec"]
            else " (sample_threshold/sample_size lowered from the app's 50,000/20,000 so that "
            "this scale exercises the sample path)."
        ),
        "Both sides set random_state, as the app does, so UMAP runs single-threaded (umap-learn "
        "turns parallelism off for reproducibility); the full fit uses the same n_neighbors, "
        "min_dist, metric, seed and low_memory=True.",
        "Each child process first fits and transforms a small UMAP (300 rows, or 4,500 when the "
        "timed fit uses NN-descent) so numba's JIT compilation is not in the timed call; "
        "'JIT warm-up s' is that one-off cost, which the app pays once per server process.",
        f"Trustworthiness is computed on the same {min(cfg['trust_rows'], cfg['sizes'][-1]):,} "
        "randomly chosen customers for both maps (neighbourhoods among that subsample); "
        "'PCA trust.' is a 2-D PCA of the subsample, the floor a useful map must beat.",
        "Peak MB is each side's child process peak RSS (Python, imports, numba/LLVM and the "
        "loaded vectors included: about 0.6-0.8 GB before any fit, so differences show only "
        "at large sizes)."
        + (
            " At this scale both sides run in one child (one JIT warm-up), so the full fit's "
            "peak is not separable and is left out."
            if together
            else ""
        ),
        "A full fit is run only where the n·log n trend from the largest measured one projects "
        f"it within {budget:,.0f} s; otherwise its time is that projection, marked as such. "
        "UMAP runs 500 optimisation epochs up to 10,000 rows and 200 above, so a projection "
        "from a 10,000-row fit overestimates larger fits; one from a larger fit does not have "
        "that kink.",
        load_note(load0),
        vectors_note(build_info),
    ]
    return BenchResult(
        name="umap",
        title="UMAP: sample-fit + transform versus full fit",
        scale=scale,
        summary=summary,
        rows=rows,
        goal=f"sample-fit trustworthiness within {GOAL_GAP} of the full fit's",
        goal_met=goal_met,
        checks=checks,
        notes=notes,
    )
