"""Customer segmentation: fused vectors, pluggable clustering methods, k choice and stability.

* :func:`fuse_vectors` — scaled numeric features ⊕ (PCA-reduced) text embedding, with a user
  weight for the text part; works with numbers only or text only.
* :data:`METHODS` — a registry of clusterers behind one interface
  (``make_segmenter(name, k=..., seed=...).fit_predict(X)``): K-means, MiniBatch K-means,
  Gaussian mixture, HDBSCAN (label -1 = noise), agglomerative (Ward), autoencoder + K-means.
* :func:`rfm_tiers` — the classic rule-based RFM segments (Champions, Loyal, At risk, ...).
* :func:`k_selection` — elbow (inertia), silhouette and Davies–Bouldin over a k range, plus
  stability (mean pairwise ARI across seeds) so an analyst can see which k is trustworthy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from core.features import FEATURE_NOTES
from core.locale import LocalText, texts_in

NOISE = -1

# Notes a segmentation run keeps (summary.json "notes", English, with "note_phrases" beside
# them), in each interface language; `run_notes` says them again on the Segments page.
RUN_NOTES = {
    "en": {
        "feature_empty": "feature '{feature}' is empty for every customer and is left out",
        "feature_constant": "feature '{feature}' is constant and is left out",
        "text_imputed": "{n} customers without review text: their text part is taken from "
        "their 10 nearest neighbours in numeric features",
        "text_only": "no numeric features: segmenting on text alone",
        "no_text": "no customer has review text: segmenting on numbers only",
        "vocab_gap": "{share} of the review text's tokens are unknown to the text encoder "
        "({encoder}): its vocabulary does not cover this language, so the text vectors say "
        "little. Choose an encoder trained on it (Advanced → another model: a local model "
        "directory)",
        "model_vectors": "vectors: the fine-tuned model of run {run}",
        "sampled": "{method}: fitted on a random sample of {n} of {total} customers; the others "
        "took the segment of their nearest sampled customer",
        "mostly_noise": "{share} of customers are Noise: these vectors have no clear density "
        "gaps for HDBSCAN. Try K-means or a Gaussian mixture, or a smaller minimum cluster size.",
        "encoder_gpu": "text encoder: {encoder} (auto: a GPU is available, so the transformer runs)",
        "encoder_small": "text encoder: {encoder} (auto: {n} customer documents, at most "
        "{threshold}, so the transformer runs on CPU; choose the static model to go faster)",
        "encoder_large_cpu": "text encoder: {encoder} (auto: {n} customer documents on CPU, more "
        "than {threshold}; choose MiniLM for the slower transformer)",
        "encoder_chosen": "text encoder: {encoder} (as chosen)",
        "static_built": "the static text encoder was built from MiniLM in {seconds} s, once: "
        "it is kept in the workspace",
        "name_minilm": "MiniLM (transformer)",
        "name_static": "static model distilled from MiniLM",
    },
    "zh": {
        "feature_empty": "特征 '{feature}' 对所有客户都为空，未使用",
        "feature_constant": "特征 '{feature}' 是常数，未使用",
        "text_imputed": "{n} 位客户没有评论文本：他们的文本部分取自数值特征上最相近的 10 位客户",
        "text_only": "没有数值特征：仅按文本分群",
        "no_text": "没有客户有评论文本：仅按数值分群",
        "vocab_gap": "评论文本中有 {share} 的词元是文本编码器（{encoder}）不认识的：它的词表不覆盖这种语言，"
        "文本向量几乎不携带信息。请选择用该语言训练的编码器（高级 → 其他模型：本地模型目录）",
        "model_vectors": "向量：运行 {run} 的微调模型",
        "sampled": "{method}：在随机抽取的 {n} 位客户（共 {total} 位）上拟合；其余客户归入与其最相近的"
        "抽样客户所在的分群",
        "mostly_noise": "{share} 的客户是 Noise：这些向量没有明显的密度间隔，HDBSCAN 难以分群。"
        "请试试 K-means 或高斯混合，或调小最小簇大小。",
        "encoder_gpu": "文本编码器：{encoder}（自动：有可用的 GPU，因此使用 Transformer 模型）",
        "encoder_small": "文本编码器：{encoder}（自动：{n} 份客户文档，不超过 {threshold} 份，"
        "因此在 CPU 上使用 Transformer 模型；如需更快，可选择静态模型）",
        "encoder_large_cpu": "文本编码器：{encoder}（自动：在 CPU 上有 {n} 份客户文档，超过 "
        "{threshold} 份；如需较慢但更精细的 Transformer 模型，可选择 MiniLM）",
        "encoder_chosen": "文本编码器：{encoder}（按所选）",
        "static_built": "静态文本编码器已由 MiniLM 构建（用时 {seconds} 秒），只需构建一次：它保存在工作区中",
        "name_minilm": "MiniLM（Transformer 模型）",
        "name_static": "由 MiniLM 蒸馏的静态模型",
    },
}


# A run's notes include the feature table's (a cutoff's); their keys do not overlap.
_ALL_NOTES = {lang: {**FEATURE_NOTES[lang], **RUN_NOTES[lang]} for lang in RUN_NOTES}


def run_notes(summary: dict, lang: str) -> list[str]:
    """The notes of a segmentation run's summary in `lang` (English for a run stored before
    notes kept their phrases, and for notes from elsewhere, e.g. the feature cutoff)."""
    return texts_in(summary.get("notes", []), summary.get("note_phrases"), _ALL_NOTES, lang)


# ----------------------------------------------------------------------------- fusion
@dataclass
class FusedVectors:
    X: np.ndarray
    customer_ids: np.ndarray
    numeric_columns: list[str]
    text_dims: int
    text_weight: float
    notes: list[str] = field(default_factory=list)


def scale_numeric(df: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str]]:
    """Impute (median), compress long tails (signed log1p where skewed) and standardise."""
    notes: list[str] = []
    cols = [c for c in df.columns if c != "customer_id" and pd.api.types.is_numeric_dtype(df[c])]
    X = df[cols].astype(float).to_numpy(copy=True)
    keep = []
    for j, c in enumerate(cols):
        col = X[:, j]
        nan = np.isnan(col)
        if nan.all():
            notes.append(LocalText(RUN_NOTES, "feature_empty", feature=c))
            continue
        if nan.any():
            col[nan] = np.nanmedian(col)
        if np.nanstd(col) == 0:
            notes.append(LocalText(RUN_NOTES, "feature_constant", feature=c))
            continue
        skew = pd.Series(col).skew()
        if abs(skew) > 2:
            col = np.sign(col) * np.log1p(np.abs(col))
        X[:, j] = col
        keep.append(j)
    X = X[:, keep]
    kept = [cols[j] for j in keep]
    if X.shape[1]:
        X = StandardScaler().fit_transform(X)
    return X.astype(np.float32), kept, notes


def fuse_vectors(
    features: pd.DataFrame | None,
    text_embeddings: np.ndarray | None = None,
    *,
    text_weight: float = 0.5,
    text_dims: int = 32,
    customer_ids: Sequence | None = None,
    seed: int = 0,
    text_mask: np.ndarray | None = None,
) -> FusedVectors:
    """Concatenate scaled numeric features and the text embedding into one matrix.

    Each block is scaled to unit total variance and then weighted: numbers by
    ``1 - text_weight``, text by ``text_weight`` (as shares of the total variance), so the
    weight means the same whatever the number of columns in each block.

    `text_mask` marks the customers who actually have text (reviews). The others would all
    share one "empty document" vector and form an artificial cluster of their own; instead
    their text part is imputed as the mean text vector of their 10 nearest neighbours in
    numeric space among customers with text.
    """
    if not 0 <= text_weight <= 1:
        raise ValueError(f"text_weight must be between 0 and 1, not {text_weight}")
    blocks, notes = [], []
    num_cols: list[str] = []
    ids = None
    if features is not None:
        ids = features["customer_id"].to_numpy()
    if features is not None and len(features.columns) > 1:
        Xn, num_cols, notes = scale_numeric(features)
        if Xn.shape[1] and text_weight < 1:
            blocks.append(_unit_variance(Xn) * np.sqrt(1 - text_weight))
    dims = 0
    if text_embeddings is not None and text_weight > 0:
        E = np.asarray(text_embeddings, dtype=np.float32)
        if ids is not None and len(E) != len(ids):
            raise ValueError(f"{len(E)} text embeddings for {len(ids)} customers")
        if text_mask is not None:
            text_mask = np.asarray(text_mask, dtype=bool)
            n_missing = int((~text_mask).sum())
            if n_missing and text_mask.any() and blocks:
                E = impute_missing_text(E, text_mask, blocks[0], seed=seed)
                notes.append(LocalText(RUN_NOTES, "text_imputed", n=f"{n_missing:,}"))
        dims = min(text_dims, E.shape[1], max(1, E.shape[0] - 1))
        if dims < E.shape[1]:
            E = PCA(n_components=dims, random_state=seed).fit_transform(E).astype(np.float32)
        blocks.append(_unit_variance(E) * np.sqrt(text_weight if blocks else 1.0))
    if not blocks:
        raise ValueError("nothing to segment on: no usable numeric features and no text")
    if ids is None:
        if customer_ids is None:
            raise ValueError("customer_ids are needed when there are no numeric features")
        ids = np.asarray(customer_ids)
    if len(blocks) == 1 and blocks[0] is not None and text_embeddings is not None and not num_cols:
        notes.append(LocalText(RUN_NOTES, "text_only"))
    X = np.hstack(blocks).astype(np.float32)
    return FusedVectors(X, ids, num_cols, dims, text_weight if dims else 0.0, notes)


def impute_missing_text(
    E: np.ndarray,
    has_text: np.ndarray,
    numeric: np.ndarray,
    *,
    k: int = 10,
    seed: int = 0,
    max_donors: int = 50_000,
) -> np.ndarray:
    """Rows without text get the mean embedding of their k nearest numeric neighbours with text."""
    from sklearn.neighbors import NearestNeighbors

    donors = np.flatnonzero(has_text)
    if len(donors) > max_donors:
        donors = np.random.default_rng(seed).choice(donors, max_donors, replace=False)
    nn = NearestNeighbors(n_neighbors=min(k, len(donors))).fit(numeric[donors])
    missing = np.flatnonzero(~has_text)
    out = E.copy()
    for i in range(0, len(missing), 50_000):
        rows = missing[i : i + 50_000]
        _, idx = nn.kneighbors(numeric[rows])
        out[rows] = E[donors][idx].mean(axis=1)
    return out


def _unit_variance(X: np.ndarray) -> np.ndarray:
    Xc = X - X.mean(axis=0, keepdims=True)
    total = float((Xc**2).sum() / max(1, len(Xc)))
    return Xc / np.sqrt(total) if total > 0 else Xc


# ---------------------------------------------------------------------------- methods
class Segmenter:
    """Base: `fit_predict(X) -> labels` with labels 0..k-1 (or -1 for noise)."""

    name = "base"
    needs_k = True

    def __init__(self, k: int = 6, seed: int = 0, **params):
        self.k, self.seed, self.params = k, seed, params
        self.inertia_: float | None = None
        self.centers_: np.ndarray | None = None
        self.confidence_: np.ndarray | None = None

    def fit_predict(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class KMeansSegmenter(Segmenter):
    name = "kmeans"

    def fit_predict(self, X):
        from sklearn.cluster import KMeans

        km = KMeans(n_clusters=self.k, n_init=self.params.get("n_init", 4), random_state=self.seed)
        labels = km.fit_predict(X)
        self.inertia_, self.centers_ = float(km.inertia_), km.cluster_centers_
        self.confidence_ = _centroid_confidence(X, km.cluster_centers_, labels)
        return labels


class MiniBatchKMeansSegmenter(Segmenter):
    name = "minibatch_kmeans"

    def fit_predict(self, X):
        from sklearn.cluster import MiniBatchKMeans

        km = MiniBatchKMeans(
            n_clusters=self.k,
            n_init=3,
            batch_size=self.params.get("batch_size", 4096),
            random_state=self.seed,
        )
        labels = km.fit_predict(X)
        self.inertia_, self.centers_ = float(km.inertia_), km.cluster_centers_
        self.confidence_ = _centroid_confidence(X, km.cluster_centers_, labels)
        return labels


class GMMSegmenter(Segmenter):
    name = "gmm"

    def fit_predict(self, X):
        from sklearn.mixture import GaussianMixture

        gm = GaussianMixture(
            n_components=self.k,
            covariance_type=self.params.get("covariance_type", "diag"),
            random_state=self.seed,
            n_init=2,
            reg_covar=self.params.get("reg_covar", 1e-4),
        )
        X64 = np.asarray(X, dtype=np.float64)
        labels = gm.fit_predict(X64)
        self.centers_ = gm.means_
        self.confidence_ = gm.predict_proba(X64).max(axis=1)
        return labels


class HDBSCANSegmenter(Segmenter):
    """HDBSCAN; above `max_rows` customers it is fitted on a random sample.

    Exact HDBSCAN is roughly quadratic in the number of rows on these dense, 60-odd-dimensional
    vectors (20 k customers take about a minute on two cores; 100 k would take the better part
    of an hour), so larger inputs are clustered as a sample of `max_rows` (a parameter too),
    with `min_cluster_size` scaled to the sample so that it means the same share of customers.
    Every other customer takes the label of its nearest sampled customer, or noise when that
    one is noise or lies further away than the largest core distance in its cluster (the
    density scale HDBSCAN built the cluster at). Its confidence is that neighbour's membership
    probability. `sample_index_` holds the sampled rows (None when
    all rows were clustered).
    """

    name = "hdbscan"
    needs_k = False
    max_rows = 20_000

    def fit_predict(self, X):
        from sklearn.cluster import HDBSCAN

        n = len(X)
        max_rows = int(self.params.get("max_rows") or self.max_rows)
        min_size = self.params.get("min_cluster_size") or max(10, n // 100)
        min_samples = self.params.get("min_samples")
        idx = None
        if n > max_rows:
            idx = np.sort(np.random.default_rng(self.seed).choice(n, max_rows, replace=False))
            min_size = max(5, round(min_size * max_rows / n))
        sample = X[idx] if idx is not None else X
        hd = HDBSCAN(min_cluster_size=int(min_size), min_samples=min_samples, copy=True)
        lab = hd.fit_predict(sample)
        prob = getattr(hd, "probabilities_", None)
        self.sample_index_ = idx
        if idx is None:
            self.confidence_ = prob
            return lab
        labels, conf = _assign_to_nearest_sampled(
            X, sample, lab, prob, min_samples=int(min_samples or min_size)
        )
        labels[idx] = lab
        conf[idx] = prob if prob is not None else np.where(lab == NOISE, 0.0, 1.0)
        self.confidence_ = conf
        return labels


def _assign_to_nearest_sampled(
    X: np.ndarray,
    sample: np.ndarray,
    sample_labels: np.ndarray,
    sample_prob: np.ndarray | None,
    *,
    min_samples: int,
    chunk: int = 50_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and confidences for all rows of X from a density clustering of `sample`.

    A row takes its nearest sampled neighbour's label, or NOISE when that neighbour is noise or
    further away than the largest core distance in the neighbour's cluster (a core distance is
    the distance to the `min_samples`-th nearest sampled neighbour, itself included, as HDBSCAN
    counts it): the row is then sparser than any customer the cluster was built from.
    """
    from sklearn.neighbors import NearestNeighbors

    k = max(1, min(min_samples, len(sample)))
    nn = NearestNeighbors(n_neighbors=k).fit(sample)
    core = nn.kneighbors(sample, n_neighbors=k, return_distance=True)[0][:, -1]
    reach = np.zeros(int(sample_labels.max()) + 2)  # per label; the last slot is NOISE's
    clustered = sample_labels != NOISE
    np.maximum.at(reach, sample_labels[clustered], core[clustered])
    prob = np.ones(len(sample)) if sample_prob is None else np.asarray(sample_prob, float)
    labels = np.empty(len(X), dtype=sample_labels.dtype)
    conf = np.empty(len(X), dtype=float)
    for i in range(0, len(X), chunk):
        d, j = nn.kneighbors(X[i : i + chunk], n_neighbors=1)
        d, j = d[:, 0], j[:, 0]
        lab = sample_labels[j].copy()
        lab[d > reach[lab]] = NOISE  # reach[NOISE] = reach[-1] = 0
        labels[i : i + chunk] = lab
        conf[i : i + chunk] = np.where(lab == NOISE, 0.0, prob[j])
    return labels, conf


class AgglomerativeSegmenter(Segmenter):
    name = "agglomerative"
    max_rows = 20_000  # Ward linkage needs O(n²) memory: fit on a sample, assign the rest

    def fit_predict(self, X):
        from sklearn.cluster import AgglomerativeClustering
        from sklearn.neighbors import NearestCentroid

        rng = np.random.default_rng(self.seed)
        idx = rng.choice(len(X), self.max_rows, replace=False) if len(X) > self.max_rows else None
        sample = X[idx] if idx is not None else X
        ag = AgglomerativeClustering(n_clusters=self.k, linkage=self.params.get("linkage", "ward"))
        lab = ag.fit_predict(sample)
        nc = NearestCentroid().fit(sample, lab)
        self.centers_ = nc.centroids_
        labels = nc.predict(X) if idx is not None else lab
        self.confidence_ = _centroid_confidence(X, self.centers_, labels)
        return labels


class AutoencoderKMeansSegmenter(Segmenter):
    """Seed method 002: a small torch autoencoder compresses the vectors, K-means on the code."""

    name = "autoencoder_kmeans"

    def fit_predict(self, X):
        import torch
        from sklearn.cluster import KMeans

        torch.manual_seed(self.seed)
        code_dim = int(self.params.get("code_dim", 8))
        epochs = int(self.params.get("epochs", 30))
        d = X.shape[1]
        hidden = max(16, min(128, 2 * d))
        enc = torch.nn.Sequential(
            torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, code_dim)
        )
        dec = torch.nn.Sequential(
            torch.nn.Linear(code_dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, d)
        )
        params = list(enc.parameters()) + list(dec.parameters())
        opt = torch.optim.Adam(params, lr=self.params.get("lr", 1e-3))
        data = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        gen = torch.Generator().manual_seed(self.seed)
        bs = 256
        self.loss_history_ = []
        for _ in range(epochs):
            perm = torch.randperm(len(data), generator=gen)
            total = 0.0
            for i in range(0, len(data), bs):
                batch = data[perm[i : i + bs]]
                loss = torch.nn.functional.mse_loss(dec(enc(batch)), batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(batch)
            self.loss_history_.append(total / len(data))
        with torch.no_grad():
            code = enc(data).numpy()
        km = KMeans(n_clusters=self.k, n_init=4, random_state=self.seed)
        labels = km.fit_predict(code)
        self.inertia_, self.code_ = float(km.inertia_), code
        self.centers_ = np.vstack([X[labels == c].mean(axis=0) for c in range(self.k)])
        self.confidence_ = _centroid_confidence(code, km.cluster_centers_, labels)
        return labels


METHODS: dict[str, type[Segmenter]] = {
    cls.name: cls
    for cls in (
        KMeansSegmenter,
        MiniBatchKMeansSegmenter,
        GMMSegmenter,
        HDBSCANSegmenter,
        AgglomerativeSegmenter,
        AutoencoderKMeansSegmenter,
    )
}

METHOD_LABELS = {
    "kmeans": "K-means",
    "minibatch_kmeans": "MiniBatch K-means (large data)",
    "gmm": "Gaussian mixture",
    "hdbscan": "HDBSCAN (density; finds k, marks noise)",
    "agglomerative": "Agglomerative (Ward)",
    "autoencoder_kmeans": "Autoencoder + K-means",
}
# The same methods in the other interface languages (method ids stay English in stored params).
_METHOD_LABELS_ZH = {
    "kmeans": "K-means",
    "minibatch_kmeans": "MiniBatch K-means（大数据）",
    "gmm": "高斯混合（GMM）",
    "hdbscan": "HDBSCAN（基于密度；自动确定分群数，标出噪声点）",
    "agglomerative": "层次聚类（Ward）",
    "autoencoder_kmeans": "自编码器 + K-means",
    "rfm": "RFM 规则分层",
}


def method_label(method: str, lang: str = "en") -> str:
    """A clustering method's display name in `lang`; unknown ids as they are."""
    if lang == "zh":
        return _METHOD_LABELS_ZH.get(method, method)
    return METHOD_LABELS.get(method, "RFM tiers" if method == "rfm" else method)


def make_segmenter(method: str, k: int = 6, seed: int = 0, **params) -> Segmenter:
    try:
        cls = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r} (choose from {', '.join(METHODS)})") from None
    if cls.needs_k and not 2 <= k <= 50:
        raise ValueError(f"k must be between 2 and 50, not {k}")
    return cls(k=k, seed=seed, **params)


def _centroid_confidence(X: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """1 − d(own centre) / d(second nearest centre): 0 on a border, near 1 deep inside."""
    # |x − c|² = |x|² − 2 x·c + |c|²: an n × k matrix, never an n × k × d temporary.
    X64 = np.asarray(X, dtype=np.float64)
    C64 = np.asarray(centers, dtype=np.float64)
    d = (X64**2).sum(1)[:, None] - 2 * (X64 @ C64.T) + (C64**2).sum(1)[None, :]
    d = np.sqrt(np.maximum(d, 0))
    own = d[np.arange(len(X)), labels]
    d2 = d.copy()
    d2[np.arange(len(X)), labels] = np.inf
    second = d2.min(axis=1)
    return np.clip(1 - own / np.maximum(second, 1e-12), 0, 1)


# ------------------------------------------------------------------------------- RFM
RFM_SEGMENTS = (
    "Champions",
    "Loyal",
    "Potential loyalists",
    "New customers",
    "Promising",
    "Need attention",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
)


# How equal values are ranked before they are cut into quintiles (pandas rank methods). Equal
# values always get equal scores — ranking by row order ("first") split the customers with
# one order between F 1 and 4 by their id. F and M rank ties at the bottom of their group
# ("min"): a customer scores the quintile of the share of customers they beat outright, so
# every one-order customer scores F = 1 however many there are (with mid-ranks a shop where
# 85 % order once would score them all F = 3 and call one-order big spenders Champions).
# R ranks ties in the middle ("average"): ties are days, and a shop whose customers all
# bought on one day should score them 3, not 1. Values that are all different score exactly
# as the plain rank quintiles. :class:`core.migration.RFMThresholds` uses the same rules.
RFM_TIES = {"r": "average", "f": "min", "m": "min"}


def rfm_quintile(values: pd.Series, ties: str) -> pd.Series:
    """Score 1–5: the quintile of each value's rank among `values` (higher = better)."""
    r = values.rank(method=ties, ascending=True, na_option="bottom")
    return np.ceil(r / len(values) * 5).clip(1, 5).astype(int)


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """R, F, M quintile scores 1–5 (5 = best: recent, frequent, high spend); ties share a
    score (see :data:`RFM_TIES`)."""
    for c in ("recency_days", "frequency", "monetary"):
        if c not in features:
            raise ValueError(f"RFM tiers need the feature '{c}' (needs an orders table)")

    rec = features["recency_days"].fillna(features["recency_days"].max() + 1)
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "r": rfm_quintile(-rec, RFM_TIES["r"]).to_numpy(),
            "f": rfm_quintile(features["frequency"].fillna(0), RFM_TIES["f"]).to_numpy(),
            "m": rfm_quintile(features["monetary"].fillna(0), RFM_TIES["m"]).to_numpy(),
        }
    )


def rfm_tiers(features: pd.DataFrame) -> pd.DataFrame:
    """Rule-based RFM segments (the widely used R × FM grid). Returns scores and segment."""
    s = rfm_scores(features)
    s["segment"] = rfm_grid(s["r"].to_numpy(), s["f"].to_numpy(), s["m"].to_numpy())
    return s


def rfm_grid(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The R × FM grid: tier names from R, F, M scores 1–5 (FM = their mean, rounded up)."""
    fm = np.ceil((f + m) / 2)
    conds = [
        (r >= 4) & (fm >= 4),
        (r >= 3) & (fm >= 3),
        (r >= 4) & (fm >= 2),
        (r >= 4) & (fm < 2),
        (r == 3) & (fm < 2),
        (r == 3) & (fm >= 2),
        (r == 2) & (fm >= 3),
        (r == 1) & (fm >= 4),
        (r <= 2) & (fm >= 2),
    ]
    return np.select(conds, list(RFM_SEGMENTS[:-1]), default="Lost")


# ------------------------------------------------------------------------- k choice
@dataclass
class KSelection:
    table: pd.DataFrame  # k, inertia, silhouette, davies_bouldin, stability
    suggested_k: int


def k_selection(
    X: np.ndarray,
    ks: Sequence[int] = range(2, 11),
    method: str = "kmeans",
    *,
    seed: int = 0,
    n_seeds: int = 3,
    sample: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> KSelection:
    """Scores per k; silhouette and DB on a sample; stability = mean ARI across seeds."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X), min(sample, len(X)), replace=False)
    Xs = X[idx]
    rows = []
    ks = list(ks)
    for i, k in enumerate(ks):
        runs = []
        for s in range(n_seeds):
            seg = make_segmenter(method, k=k, seed=seed + s)
            runs.append((seg.fit_predict(Xs), seg))
        labels, seg = runs[0]
        n_lab = len(set(labels) - {NOISE})
        ok = n_lab >= 2
        aris = [
            adjusted_rand_score(runs[a][0], runs[b][0])
            for a in range(len(runs))
            for b in range(a + 1, len(runs))
        ]
        rows.append(
            {
                "k": k,
                "inertia": seg.inertia_,
                "silhouette": float(silhouette_score(Xs, labels)) if ok else np.nan,
                "davies_bouldin": float(davies_bouldin_score(Xs, labels)) if ok else np.nan,
                "stability": float(np.mean(aris)) if aris else np.nan,
            }
        )
        if progress:
            progress(i + 1, len(ks))
    table = pd.DataFrame(rows)
    # Suggest: best silhouette among ks whose stability is within 0.1 of the most stable.
    cand = table
    if table["stability"].notna().any():
        cand = table[table["stability"] >= table["stability"].max() - 0.1]
    best = (
        cand.loc[cand["silhouette"].idxmax()] if cand["silhouette"].notna().any() else cand.iloc[0]
    )
    return KSelection(table=table, suggested_k=int(best["k"]))


def bootstrap_stability(
    X: np.ndarray, method: str, k: int, *, n_boot: int = 5, frac: float = 0.8, seed: int = 0
) -> float:
    """Mean ARI between the full-data labels and labels re-fitted on bootstrap subsamples."""
    rng = np.random.default_rng(seed)
    base = make_segmenter(method, k=k, seed=seed).fit_predict(X)
    scores = []
    for b in range(n_boot):
        idx = rng.choice(len(X), int(frac * len(X)), replace=False)
        lab = make_segmenter(method, k=k, seed=seed + b + 1).fit_predict(X[idx])
        scores.append(adjusted_rand_score(base[idx], lab))
    return float(np.mean(scores))
