"""Can you trust these segments — and who is behind a number?

Segment trust, per customer and per segment:

* :func:`centroid_margins` — for every customer, the distance to its own segment's centre
  against the nearest *other* centre, in the run's fused vectors: ``margin = 1 − d_own / d_alt``
  (0 on the border between two segments, near 1 deep inside its own). For K-means this is the
  same measure as the run's stored ``confidence``; for a Gaussian mixture or HDBSCAN (whose
  ``confidence`` is a posterior / membership probability) it adds the geometric view and, above
  all, names the *second* candidate segment.
* :func:`borderline` — the least certain customers with their two candidate segments.
* :func:`segment_stability` — Hennig's cluster-wise stability: re-cluster subsamples with other
  seeds and, per segment, average the best Jaccard match among the new clusters (Hennig 2007,
  "Cluster-wise assessment of cluster stability", Comput. Stat. Data Anal. 52:258–271; the
  thresholds below are those of fpc::clusterboot). Also the overall adjusted Rand index.
  Saved as ``runs/<id>/trust.json`` (:func:`save_stability` / :func:`load_stability`).
* :func:`trust_summary` — one row per segment: size, median confidence, share of borderline
  customers, stability and a plain verdict.

Linked views (the Evaluate page): :func:`cell_customers` (the holdout customers behind one cell
of a confusion matrix, with their class probabilities) and :func:`reviews_for` (their reviews,
read with DuckDB so a large reviews table is never loaded whole).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from core.locale import LocalizedError, Phrase, phrase
from core.segment import NOISE, make_segmenter
from core.workspace import Workspace, atomic_write_json

NOISE_LABEL = "Noise"
# A customer is borderline when its own centre is less than 10 % nearer than the runner-up's.
BORDERLINE_MARGIN = 0.10
# Hennig's reading of cluster-wise stability (mean best Jaccard): ≥ 0.75 a valid, stable cluster;
# 0.6–0.75 a pattern, but which points belong to it is doubtful; < 0.6 not to be trusted.
STABLE, SO_SO = 0.75, 0.60
# Rows re-clustered per stability run: a fixed-seed sample above this, so the check takes
# seconds to a minute whatever the data size. Quadratic methods get a smaller sample.
MAX_ROWS = 20_000
METHOD_MAX_ROWS = {"hdbscan": 5_000, "agglomerative": 10_000, "autoencoder_kmeans": 10_000}
TRUST_FILE = "trust.json"

# What the user reads. Verdicts and notes are stored in English (trust.json, the summary
# table's values) and translated when shown: see :func:`verdict_label` and :func:`stability_notes`.
_TEXT = {
    "en": {
        "stable": "stable",
        "so-so": "so-so",
        "unstable": "unstable",
        "not checked": "not checked",
        "sampled": "checked on a random sample of {cap} of {n} customers (seed {seed}) to keep "
        "the check to about a minute",
    },
    "zh": {
        "stable": "稳定",
        "so-so": "一般",
        "unstable": "不稳定",
        "not checked": "未检验",
        "sampled": "为把检验控制在约一分钟内，从 {n} 位客户中随机抽取 {cap} 位进行检验（随机种子 {seed}）",
    },
}
VERDICTS = ("stable", "so-so", "unstable", "not checked")

# Why a stability check cannot run (the Profiles page shows it), in each interface language.
_ERRORS = {
    "en": {
        "too_few": "stability needs at least two segments, found {n}",
        "not_segmentation": "run {run} is a {kind} run, not a segmentation",
        "kind_train": "training",
        "rfm": "RFM tiers are fixed rules on quintiles, not a clustering: there is nothing to "
        "re-run",
        "no_vectors": "run {run} has no vectors.npy to re-cluster",
    },
    "zh": {
        "too_few": "稳定性检验至少需要两个分群，这里只有 {n} 个",
        "not_segmentation": "运行 {run} 是{kind}运行，不是分群运行",
        "kind_train": "训练",
        "rfm": "RFM 分层是按五分位数的固定规则，不是聚类：没有可以重新运行的内容",
        "no_vectors": "运行 {run} 没有可重新聚类的 vectors.npy",
    },
}


def stability_verdict(value: float | None) -> str:
    """'stable' (≥ 0.75), 'so-so' (0.6–0.75), 'unstable' (< 0.6), or 'not checked'."""
    if value is None or not np.isfinite(value):
        return "not checked"
    return "stable" if value >= STABLE else "so-so" if value >= SO_SO else "unstable"


def verdict_label(verdict: str, lang: str = "en") -> str:
    """A stored verdict ('stable', 'so-so', ...) as the user reads it in `lang`.

    Anything that is not one of :data:`VERDICTS` (a page's own wording) comes back unchanged.
    """
    return phrase(_TEXT, lang, verdict) if verdict in VERDICTS else verdict


def _sample_note(cap: int, n: int, seed: int, lang: str = "en") -> str:
    return phrase(_TEXT, lang, "sampled", cap=f"{cap:,}", n=f"{n:,}", seed=seed)


def stability_notes(result: StabilityResult, lang: str = "en") -> list[str]:
    """The notes of a stability check in `lang` (stored in English; English returns them as is).

    A note this module did not write (an older or hand-edited trust.json) stays as it is.
    """
    if lang == "en":
        return list(result.notes)
    english = _sample_note(result.sample_size, result.n_customers, result.seed)
    translated = _sample_note(result.sample_size, result.n_customers, result.seed, lang)
    return [translated if note == english else note for note in result.notes]


# ------------------------------------------------------------------------- per customer
def _check_aligned(segments: pd.DataFrame, vectors: np.ndarray) -> np.ndarray:
    for col in ("customer_id", "segment"):
        if col not in segments.columns:
            raise ValueError(f"segments table has no column '{col}' (expected a run's segments)")
    X = np.asarray(vectors, dtype=np.float64)
    if X.ndim != 2 or len(X) != len(segments):
        raise ValueError(
            f"vectors.npy has shape {X.shape}, expected one row per customer of the segments "
            f"table ({len(segments):,} rows)"
        )
    return X


def centroid_margins(segments: pd.DataFrame, vectors: np.ndarray) -> pd.DataFrame:
    """Per customer: own segment, the nearest other segment ("alternative") and the margin.

    Columns: customer_id, segment, alternative, d_own, d_alt, margin. Centres are the mean
    vectors of each segment's customers. Noise customers (HDBSCAN) belong to no segment: their
    `segment` stays "Noise", `alternative` is the nearest centre and `margin` is NaN.
    """
    X = _check_aligned(segments, vectors)
    seg = segments["segment"].astype(str).to_numpy()
    names = sorted(set(seg) - {NOISE_LABEL}, key=_segment_sort_key)
    if len(names) < 2:
        raise ValueError(f"margins need at least two segments, found {len(names)}")
    code = pd.Categorical(seg, categories=names).codes  # -1 for Noise
    C = np.vstack([X[code == j].mean(axis=0) for j in range(len(names))])
    d = (X**2).sum(1)[:, None] - 2 * (X @ C.T) + (C**2).sum(1)[None, :]
    d = np.sqrt(np.maximum(d, 0))
    rows = np.arange(len(X))
    member = code >= 0
    own = np.where(member, d[rows, np.maximum(code, 0)], np.nan)
    other = d.copy()
    other[rows[member], code[member]] = np.inf
    alt = other.argmin(axis=1)
    d_alt = other[rows, alt]
    margin = np.where(member, np.clip(1 - own / np.maximum(d_alt, 1e-12), 0, 1), np.nan)
    return pd.DataFrame(
        {
            "customer_id": segments["customer_id"].to_numpy(),
            "segment": seg,
            "alternative": np.asarray(names, dtype=object)[alt],
            "d_own": own,
            "d_alt": d_alt,
            "margin": margin,
        }
    )


def borderline(segments: pd.DataFrame, vectors: np.ndarray | None, n: int = 100) -> pd.DataFrame:
    """The `n` least certain customers, least certain first, with their two candidate segments.

    With vectors: ordered by centroid margin (see :func:`centroid_margins`); columns
    customer_id, segment, alternative, margin (and the run's `confidence` when it has one).
    Without vectors (RFM tiers are rules, not distances) the run's `confidence` orders them
    and `alternative` is empty; with neither, the result is empty. Noise customers are left
    out: they belong to no segment to be unsure about.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, not {n}")
    conf = segments["confidence"] if "confidence" in segments.columns else None
    if vectors is not None:
        m = centroid_margins(segments, vectors)
        out = m[["customer_id", "segment", "alternative", "margin"]]
        if conf is not None:
            out = out.assign(confidence=conf.to_numpy())
        out = out[out["segment"] != NOISE_LABEL]
        return (
            out.sort_values(["margin", "customer_id"], kind="stable").head(n).reset_index(drop=True)
        )
    if conf is None or conf.isna().all():
        return pd.DataFrame(columns=["customer_id", "segment", "alternative", "confidence"])
    out = pd.DataFrame(
        {
            "customer_id": segments["customer_id"].to_numpy(),
            "segment": segments["segment"].astype(str).to_numpy(),
            "alternative": pd.Series([pd.NA] * len(segments), dtype="string").to_numpy(),
            "confidence": conf.to_numpy(),
        }
    )
    out = out[(out["segment"] != NOISE_LABEL) & out["confidence"].notna()]
    return (
        out.sort_values(["confidence", "customer_id"], kind="stable").head(n).reset_index(drop=True)
    )


# -------------------------------------------------------------------------- stability
@dataclass
class StabilityResult:
    """Cluster-wise stability of one segmentation run (see :func:`segment_stability`)."""

    per_segment: pd.DataFrame  # segment, customers, stability, lowest, verdict
    ari: list[float]  # overall agreement of each re-run with the run's segments
    method: str
    k: int
    n_runs: int
    frac: float
    seed: int
    n_customers: int
    sample_size: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ari_mean(self) -> float:
        return float(np.mean(self.ari)) if self.ari else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "per_segment": self.per_segment.to_dict(orient="records"),
            "ari": [float(a) for a in self.ari],
            "method": self.method,
            "k": int(self.k),
            "n_runs": int(self.n_runs),
            "frac": float(self.frac),
            "seed": int(self.seed),
            "n_customers": int(self.n_customers),
            "sample_size": int(self.sample_size),
            "seconds": float(self.seconds),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StabilityResult:
        table = pd.DataFrame(
            d["per_segment"], columns=["segment", "customers", "stability", "lowest", "verdict"]
        )
        return cls(
            per_segment=table,
            ari=[float(a) for a in d["ari"]],
            method=str(d["method"]),
            k=int(d["k"]),
            n_runs=int(d["n_runs"]),
            frac=float(d["frac"]),
            seed=int(d["seed"]),
            n_customers=int(d["n_customers"]),
            sample_size=int(d["sample_size"]),
            seconds=float(d.get("seconds", 0.0)),
            notes=list(d.get("notes", [])),
        )


def _best_jaccard(base: np.ndarray, new: np.ndarray, n_base: int) -> np.ndarray:
    """Per base cluster 0..n_base-1: the highest Jaccard similarity with any new cluster.

    `base` uses -1 for rows outside every base cluster, `new` uses NOISE for rows the re-run
    left unclustered (they count against every base cluster they came from). NaN for a base
    cluster with no row in this sample.
    """
    new_ids, new_code = np.unique(new, return_inverse=True)
    M = np.zeros((n_base, len(new_ids)))
    keep = base >= 0
    np.add.at(M, (base[keep], new_code[keep]), 1)
    size_base = np.bincount(base[keep], minlength=n_base).astype(float)
    size_new = np.bincount(new_code, minlength=len(new_ids)).astype(float)
    J = M / np.maximum(size_base[:, None] + size_new[None, :] - M, 1)
    J[:, new_ids == NOISE] = 0.0
    best = J.max(axis=1) if J.shape[1] else np.zeros(n_base)
    return np.where(size_base > 0, best, np.nan)


def segment_stability(
    vectors: np.ndarray,
    labels: Sequence,
    method: str,
    k: int = 6,
    *,
    method_params: dict[str, Any] | None = None,
    n_runs: int = 5,
    frac: float = 0.8,
    seed: int = 0,
    max_rows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StabilityResult:
    """Re-cluster `n_runs` random subsamples (a share `frac`, a new seed each) and compare.

    Per segment of `labels` (the run's own segments; "Noise" is not a segment): the mean over
    runs of the best Jaccard similarity between the segment's sampled customers and any new
    cluster — Hennig's cluster-wise stability, with his subsetting scheme rather than the
    bootstrap with replacement. Overall: the adjusted Rand index of each re-run with `labels`
    on the same customers. Deterministic for a given `seed`.

    Above `max_rows` customers (default 20,000; less for quadratic methods) the check runs on
    a fixed-seed random sample of that many, and says so in `notes`.

    `core.segment.bootstrap_stability` answers a related question (one ARI number for a
    *method* and k, refitting the base clustering too); here the base is the run the user
    actually looks at, and the answer is per segment.
    """
    X = np.asarray(vectors)
    lab = np.asarray([str(v) for v in labels], dtype=object)
    if X.ndim != 2 or len(X) != len(lab):
        raise ValueError(f"vectors have shape {X.shape} but there are {len(lab):,} labels")
    if not 0.1 <= frac <= 1:
        raise ValueError(f"frac must be between 0.1 and 1, not {frac}")
    if n_runs < 1:
        raise ValueError(f"n_runs must be at least 1, not {n_runs}")
    names = sorted(set(lab) - {NOISE_LABEL}, key=_segment_sort_key)
    if len(names) < 2:
        raise LocalizedError(_ERRORS, "too_few", n=len(names))
    t0 = time.perf_counter()
    params = dict(method_params or {})
    notes: list[str] = []
    cap = int(max_rows or METHOD_MAX_ROWS.get(method, MAX_ROWS))
    rng = np.random.default_rng(seed)
    universe = np.arange(len(X))
    if len(X) > cap:
        universe = np.sort(rng.choice(len(X), cap, replace=False))
        notes.append(_sample_note(cap, len(X), seed))
    m = max(2, int(round(frac * len(universe))))
    if params.get("min_cluster_size"):  # an absolute count: keep it the same share of customers
        params["min_cluster_size"] = max(5, round(params["min_cluster_size"] * m / len(X)))
    base_code = pd.Categorical(lab, categories=names).codes.astype(np.int64)
    scores = np.full((n_runs, len(names)), np.nan)
    aris: list[float] = []
    for b in range(n_runs):
        idx = np.sort(rng.choice(universe, m, replace=False))
        seg = make_segmenter(method, k=k, seed=seed + b + 1, **params)
        new = np.asarray(seg.fit_predict(X[idx]))
        scores[b] = _best_jaccard(base_code[idx], new, len(names))
        aris.append(float(adjusted_rand_score(base_code[idx], new)))
        if progress:
            progress(b + 1, n_runs)
    with np.errstate(all="ignore"):
        mean = np.nanmean(scores, axis=0)
        low = np.nanmin(scores, axis=0)
    sizes = pd.Series(lab).value_counts()
    table = pd.DataFrame(
        {
            "segment": names,
            "customers": [int(sizes.get(s, 0)) for s in names],
            "stability": mean,
            "lowest": low,
            "verdict": [stability_verdict(v) for v in mean],
        }
    )
    return StabilityResult(
        per_segment=table,
        ari=aris,
        method=method,
        k=int(k),
        n_runs=n_runs,
        frac=frac,
        seed=seed,
        n_customers=len(X),
        sample_size=len(universe),
        seconds=round(time.perf_counter() - t0, 2),
        notes=notes,
    )


def _segment_sort_key(s: str) -> tuple:
    """S2 before S10; other names alphabetically after."""
    return (0, int(s[1:]), "") if s[:1] == "S" and s[1:].isdigit() else (1, 0, s)


def save_stability(run_path: Path, result: StabilityResult) -> Path:
    path = Path(run_path) / TRUST_FILE
    atomic_write_json(path, {"stability": result.to_dict()})
    return path


def load_stability(run_path: Path) -> StabilityResult | None:
    """The saved stability check of a run, or None when it has not been run (or is unreadable)."""
    import json

    path = Path(run_path) / TRUST_FILE
    try:
        return StabilityResult.from_dict(json.loads(path.read_text())["stability"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_stability_check(
    ws: Workspace,
    run_id: str,
    *,
    n_runs: int = 5,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> StabilityResult:
    """Check a finished segmentation run with its own method, k and parameters, and save it."""
    from core.pipeline import load_segments, load_vectors

    run = ws.get_run(run_id)
    if run.kind != "segment":
        kind = (
            Phrase(_ERRORS, f"kind_{run.kind}") if f"kind_{run.kind}" in _ERRORS["en"] else run.kind
        )
        raise LocalizedError(_ERRORS, "not_segmentation", run=run_id, kind=kind)
    p = run.params
    method = p.get("method", "kmeans")
    if method == "rfm":
        raise LocalizedError(_ERRORS, "rfm")
    X = load_vectors(ws, run_id)
    if X is None:
        raise LocalizedError(_ERRORS, "no_vectors", run=run_id)
    seg = load_segments(ws, run_id)
    result = segment_stability(
        X,
        seg["segment"],
        method,
        k=int(p.get("k", 6)),
        method_params=p.get("method_params") or {},
        n_runs=n_runs,
        seed=seed,
        progress=progress,
    )
    save_stability(run.path, result)
    return result


# ---------------------------------------------------------------------------- summary
def trust_summary(
    segments: pd.DataFrame,
    margins: pd.DataFrame | None = None,
    stability: StabilityResult | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """One row per segment: customers, median confidence, borderline share, stability, verdict.

    `borderline_share` is the share of the segment's customers whose centroid margin is below
    :data:`BORDERLINE_MARGIN` (NaN without margins). `verdict` is in `lang` (see
    :func:`verdict_label`).
    """
    seg = segments["segment"].astype(str)
    names = sorted(set(seg) - {NOISE_LABEL}, key=_segment_sort_key)
    conf = segments["confidence"] if "confidence" in segments.columns else None
    rows = []
    stab = (
        stability.per_segment.set_index("segment")["stability"] if stability is not None else None
    )
    for s in names:
        mask = (seg == s).to_numpy()
        row: dict[str, Any] = {"segment": s, "customers": int(mask.sum())}
        row["median_confidence"] = (
            float(conf[mask].median()) if conf is not None and conf[mask].notna().any() else np.nan
        )
        if margins is not None:
            row["borderline_share"] = float(
                (margins["margin"].to_numpy()[mask] < BORDERLINE_MARGIN).mean()
            )
        else:
            row["borderline_share"] = np.nan
        value = float(stab[s]) if stab is not None and s in stab.index else np.nan
        row["stability"] = value
        row["verdict"] = verdict_label(stability_verdict(value), lang)
        rows.append(row)
    cols = ["segment", "customers", "median_confidence", "borderline_share", "stability", "verdict"]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------------ linked views
def cell_customers(
    predictions: pd.DataFrame, true_class: str, predicted_class: str, split: str = "test"
) -> pd.DataFrame:
    """The customers of one confusion-matrix cell: true `true_class`, predicted `predicted_class`.

    `predictions` is a training run's predictions.parquet (customer_id, split, true, predicted,
    p_<class>); only the `split` customers count (the Evaluate page's matrix is the holdout).
    Sorted by the probability of the predicted class, most confident first.
    """
    missing = [c for c in ("customer_id", "split", "true", "predicted") if c not in predictions]
    if missing:
        raise ValueError(f"predictions.parquet lacks column(s) {', '.join(missing)}")
    true = predictions["true"].astype(str)
    pred = predictions["predicted"].astype(str)
    mask = (predictions["split"].astype(str) == split) & (true == str(true_class))
    out = predictions[mask & (pred == str(predicted_class))]
    p_col = f"p_{predicted_class}"
    if p_col in out.columns:
        out = out.sort_values([p_col, "customer_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def reviews_for(
    ws: Workspace, dataset_id: str, customer_ids: Sequence, limit: int = 200
) -> tuple[pd.DataFrame, int]:
    """(up to `limit` reviews of these customers, newest first; how many they wrote in all).

    Empty when the dataset has no reviews table.
    """
    import duckdb

    path = ws.dataset_dir(dataset_id) / "reviews.parquet"
    if not path.exists() or not len(customer_ids):
        return pd.DataFrame(columns=["customer_id", "rating", "review_text"]), 0
    ids = pd.DataFrame({"customer_id": pd.Series([str(c) for c in customer_ids], dtype=str)})
    with duckdb.connect(":memory:") as con:
        con.register("ids", ids)
        con.register("r", con.read_parquet(str(path)))
        cols = [c[0] for c in con.execute("DESCRIBE r").fetchall()]
        join = "FROM r JOIN ids ON CAST(r.customer_id AS VARCHAR) = ids.customer_id"
        total = con.execute(f"SELECT count(*) {join}").fetchone()[0]
        order = "r.review_date DESC NULLS LAST, " if "review_date" in cols else ""
        keep = [c for c in ("customer_id", "review_date", "rating", "review_text") if c in cols]
        sel = ", ".join(f"r.{c}" for c in keep)
        df = con.execute(
            f"SELECT {sel} {join} ORDER BY {order}r.customer_id LIMIT ?", [int(limit)]
        ).df()
    return df, int(total)
