"""The segmentation pipeline as one call, saved as a workspace run.

features → documents → text embeddings (cached) → fused vectors → segments → UMAP map,
with progress reported through a callback. The run directory holds:

    params.json        what produced it (dataset, feature config, encoder, method, k, ...)
    segments.parquet   customer_id, segment, confidence, x, y, plus the features
    vectors.npy        the fused vectors (float32; read with allow_pickle=False)
    summary.json       sizes, quality scores, notes
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.datasets import compute_dataset_features, load_feature_config
from core.documents import DocumentSpec, build_documents
from core.encoders import (
    EmbeddingCache,
    EncoderChoice,
    EncoderSpec,
    StaticTextEncoder,
    TextEncoder,
    choose_encoder,
    make_encoder,
)
from core.locale import LocalText, Phrase, phrase_dicts
from core.projection import ProjectionSpec, cached_umap
from core.segment import NOISE, RUN_NOTES, fuse_vectors, make_segmenter, rfm_tiers
from core.workspace import RunInfo, Workspace, atomic_write_json, atomic_write_parquet

Progress = Callable[[str, float], None]  # (stage message, fraction 0..1)

# Progress of a segmentation (a `LocalText`: English, and said in the user's language on the
# page; a job stores it with its other languages in status.json).
_PROGRESS = {
    "en": {
        "embedding": "Embedding customer documents ({done}/{total})",
        "static_build": "Building the static text encoder, once for this workspace "
        "({done}/{total} tokens)",
        "features": "Computing customer features",
        "documents": "Writing customer documents",
        "fusing": "Fusing numeric features and text",
        "clustering": "Clustering ({method}, k={k})",
        "map": "Drawing the UMAP map",
        "saving": "Saving",
        "done": "Done",
    },
    "zh": {
        "embedding": "正在编码客户文档（{done}/{total}）",
        "static_build": "正在构建静态文本编码器（每个工作区只需一次）（{done}/{total} 个词元）",
        "features": "正在计算客户特征",
        "documents": "正在生成客户文档",
        "fusing": "正在融合数值特征与文本",
        "clustering": "正在聚类（{method}，k={k}）",
        "map": "正在绘制 UMAP 地图",
        "saving": "正在保存",
        "done": "完成",
    },
}
# Short method names, as phrases a progress message can quote.
_PROGRESS["en"] |= {
    "method_kmeans": "K-means",
    "method_minibatch_kmeans": "MiniBatch K-means",
    "method_gmm": "Gaussian mixture",
    "method_hdbscan": "HDBSCAN",
    "method_agglomerative": "hierarchical",
    "method_autoencoder_kmeans": "autoencoder + K-means",
    "method_rfm": "RFM tiers",
}
_PROGRESS["zh"] |= {
    "method_kmeans": "K-means",
    "method_minibatch_kmeans": "MiniBatch K-means",
    "method_gmm": "高斯混合",
    "method_hdbscan": "HDBSCAN",
    "method_agglomerative": "层次聚类",
    "method_autoencoder_kmeans": "自编码器 + K-means",
    "method_rfm": "RFM 分层",
}


@dataclass
class SegmentationParams:
    method: str = "kmeans"  # a core.segment.METHODS key, or "rfm"
    k: int = 8
    seed: int = 0
    use_text: bool = True
    text_weight: float = 0.5
    text_dims: int = 32
    encoder: str = "auto"  # auto | minilm (= default) | static | a model directory or HF id
    pooling: str = "mean"
    batch_size: int = 64
    device: str = "auto"
    include_profile_text: bool = False
    max_reviews: int = 5
    projection: bool = True
    vectors_from: str | None = None  # a training run id: cluster its fine-tuned embeddings instead
    method_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def segmentation_encoder(
    ws: Workspace,
    choice: EncoderChoice,
    params: SegmentationParams,
    progress: Progress | None = None,
) -> TextEncoder:
    """The encoder `choice` names, with the workspace's embedding cache; a static model not
    built yet reports its one-time build through `progress`."""

    def _built(stage: str, done: int, total: int) -> None:
        if progress and stage == "tokens":
            progress(
                LocalText(_PROGRESS, "static_build", done=f"{done:,}", total=f"{total:,}"),
                0.1 * done / max(1, total),
            )

    spec = EncoderSpec(pooling=params.pooling, batch_size=params.batch_size, device=params.device)
    return make_encoder(
        choice.encoder,
        models_dir=ws.root / "models",
        spec=spec,
        cache=EmbeddingCache(ws.root / "cache" / "embeddings.sqlite"),
        on_build=_built,
    )


def embed_documents(
    ws: Workspace,
    docs: list[str],
    params: SegmentationParams,
    progress: Progress | None = None,
    encoder: TextEncoder | None = None,
) -> np.ndarray:
    """Vectors for `docs` with `encoder`, else with the one ``params.encoder`` names (``auto``
    resolved for these documents); cached in the workspace."""
    if encoder is None:
        choice = choose_encoder(params.encoder, sum(1 for d in docs if d), device=params.device)
        encoder = segmentation_encoder(ws, choice, params, progress)
    elif encoder.cache is None:
        encoder.cache = EmbeddingCache(ws.root / "cache" / "embeddings.sqlite")

    def _p(done: int, total: int) -> None:
        if progress:
            progress(
                LocalText(_PROGRESS, "embedding", done=f"{done:,}", total=f"{total:,}"),
                0.1 + 0.6 * done / max(1, total),
            )

    return encoder.encode(docs, progress=_p)


# Above this share of unknown tokens the text vectors mostly encode "[UNK]": warn.
VOCAB_GAP_SHARE = 0.2


def _encoder_name(choice: EncoderChoice) -> Phrase | str:
    """The encoder as a note names it: a phrase for the built-in ones, else its id."""
    if choice.encoder in ("minilm", "static"):
        return Phrase(RUN_NOTES, f"name_{choice.encoder}")
    return choice.encoder


def vocabulary_notes(encoder: TextEncoder, docs: list[str], choice: EncoderChoice) -> list:
    """A warning when the encoder's vocabulary does not cover the documents' language."""
    try:
        share = encoder.unknown_token_share(docs)
    except Exception:  # noqa: BLE001 - a check that cannot run must not fail the segmentation
        return []
    if share is None or share < VOCAB_GAP_SHARE:
        return []
    name = _encoder_name(choice)
    return [LocalText(RUN_NOTES, "vocab_gap", share=f"{share:.0%}", encoder=name)]


def encoder_notes(choice: EncoderChoice, encoder: TextEncoder | None) -> list[LocalText]:
    """Which encoder ran and why (and that the static model was built, when this run built it)."""
    name = _encoder_name(choice)
    values = {"encoder": name, "n": f"{choice.n_texts:,}", "threshold": f"{choice.threshold:,}"}
    notes = [LocalText(RUN_NOTES, f"encoder_{choice.reason}", **values)]
    built = encoder.built_seconds if isinstance(encoder, StaticTextEncoder) else None
    if built is not None:
        notes.append(LocalText(RUN_NOTES, "static_built", seconds=f"{built:,.0f}"))
    return notes


def run_segmentation(
    ws: Workspace,
    dataset_id: str,
    params: SegmentationParams | None = None,
    *,
    progress: Progress | None = None,
    encoder: TextEncoder | None = None,
    run_id: str | None = None,
) -> RunInfo:
    """Run the pipeline into a new run (or the existing `run_id`, as a background job does)."""
    params = params or SegmentationParams()
    t0 = time.perf_counter()

    def say(key: str, frac: float, **values) -> None:
        if progress:
            progress(LocalText(_PROGRESS, key, **values), frac)

    config = load_feature_config(ws, dataset_id)
    if run_id is None:
        run = ws.create_run(dataset_id, "segment", params.to_dict())
    else:
        run = ws.get_run(run_id)
    atomic_write_json(run.path / "params.json", {**params.to_dict(), "features": config.to_dict()})
    ws.update_run(run.id, status="running")
    try:
        say("features", 0.02)
        ft = compute_dataset_features(ws, dataset_id, config)
        features = ft.data
        notes = list(ft.notes)
        encoder_used = None
        out = features.copy()
        if params.method == "rfm":
            tiers = rfm_tiers(features)
            out["segment"] = tiers["segment"].to_numpy()
            out["confidence"] = np.nan
            X = None
        else:
            embeddings, text_mask = None, None
            if params.vectors_from:
                X, out = _model_vectors(ws, params.vectors_from, out)
                notes.append(LocalText(RUN_NOTES, "model_vectors", run=params.vectors_from))
            elif params.use_text and params.text_weight > 0:
                say("documents", 0.05)
                docs = build_documents(
                    features,
                    ws.load_table(dataset_id, "reviews"),
                    ws.load_table(dataset_id, "customers"),
                    DocumentSpec(
                        include_profile=params.include_profile_text, max_reviews=params.max_reviews
                    ),
                    text_attributes=ft.text_attributes,
                )
                n_text = (
                    int(docs["has_reviews"].sum()) if not params.include_profile_text else len(docs)
                )
                if n_text == 0:
                    notes.append(LocalText(RUN_NOTES, "no_text"))
                else:
                    if encoder is None:
                        choice = choose_encoder(params.encoder, n_text, device=params.device)
                        used = segmentation_encoder(ws, choice, params, progress)
                    else:  # handed in (tests, the benchmarks)
                        choice = EncoderChoice(encoder.model_key or "custom", "chosen", n_text)
                        used = encoder
                    embeddings = embed_documents(
                        ws, docs["document"].tolist(), params, progress, used
                    )
                    notes += encoder_notes(choice, used)
                    notes += vocabulary_notes(used, docs["document"].tolist(), choice)
                    encoder_used = {**choice.to_dict(), "key": used.model_key}
                    text_mask = (
                        docs["has_reviews"].to_numpy() if not params.include_profile_text else None
                    )
            if not params.vectors_from:
                say("fusing", 0.72)
                fused = fuse_vectors(
                    features,
                    embeddings,
                    text_weight=params.text_weight if embeddings is not None else 0.0,
                    text_dims=params.text_dims,
                    seed=params.seed,
                    text_mask=text_mask,
                )
                notes += fused.notes
                X = fused.X
            key = f"method_{params.method}"  # an unknown method is quoted as it is
            method = Phrase(_PROGRESS, key) if key in _PROGRESS["en"] else params.method
            say("clustering", 0.78, method=method, k=params.k)
            seg = make_segmenter(
                params.method, k=params.k, seed=params.seed, **params.method_params
            )
            labels = seg.fit_predict(X)
            notes += _clustering_notes(seg, labels)
            out["segment"] = np.where(
                labels == NOISE, "Noise", pd.Series(labels).map(lambda v: f"S{v + 1}")
            )
            out["confidence"] = seg.confidence_ if seg.confidence_ is not None else np.nan
            np.save(run.path / "vectors.npy", X, allow_pickle=False)
        if params.projection and X is not None:
            say("map", 0.85)
            coords = cached_umap(X, ProjectionSpec(seed=params.seed), ws.root / "cache" / "umap")
            out["x"], out["y"] = coords[:, 0], coords[:, 1]
        say("saving", 0.97)
        atomic_write_parquet(run.path / "segments.parquet", out)
        sizes = out["segment"].value_counts().to_dict()
        summary = {
            "n_customers": len(out),
            "n_segments": int(len(sizes)),
            "sizes": {str(k): int(v) for k, v in sizes.items()},
            "notes": [str(n) for n in notes],
            "note_phrases": phrase_dicts(notes),
            "seconds": round(time.perf_counter() - t0, 2),
            "ref_date": ft.ref_date.isoformat(),
        }
        if encoder_used is not None:
            summary["encoder"] = encoder_used
        atomic_write_json(run.path / "summary.json", summary)
        say("done", 1.0)
        return ws.update_run(run.id, status="done", summary=summary)
    except BaseException as exc:
        if run_id is None:  # a job runner records its own failure state
            ws.update_run(run.id, status="failed", summary={"error": str(exc)})
        raise


def _clustering_notes(seg, labels: np.ndarray) -> list[LocalText]:
    """What the user should know about how the clustering went (sampling, mostly noise)."""
    notes = []
    sample = getattr(seg, "sample_index_", None)
    if sample is not None:
        notes.append(
            LocalText(
                RUN_NOTES,
                "sampled",
                method=seg.name,
                n=f"{len(sample):,}",
                total=f"{len(labels):,}",
            )
        )
    noise = float(np.mean(labels == NOISE)) if len(labels) else 0.0
    if noise >= 0.5:
        notes.append(LocalText(RUN_NOTES, "mostly_noise", share=f"{noise:.0%}"))
    return notes


def _model_vectors(
    ws: Workspace, train_run_id: str, features: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """A training run's fine-tuned embeddings, aligned to the customers it saw."""
    run = ws.get_run(train_run_id)
    path = run.path / "embeddings.npy"
    if run.kind != "train" or not path.exists():
        raise ValueError(f"run {train_run_id} is not a finished training run with saved embeddings")
    E = np.load(path, allow_pickle=False)
    pred = pd.read_parquet(
        run.path / "predictions.parquet", columns=["customer_id", "true", "predicted"]
    )
    keep = features.set_index("customer_id").reindex(pred["customer_id"].to_numpy()).reset_index()
    # Colour the map by what the model was taught and what it says.
    keep["model_target"] = pred["true"].astype(str).to_numpy()
    keep["model_predicted"] = pred["predicted"].astype(str).to_numpy()
    X = (E - E.mean(0)) / (E.std(0) + 1e-6)
    return X.astype(np.float32), keep


def load_segments(ws: Workspace, run_id: str) -> pd.DataFrame:
    return pd.read_parquet(ws.get_run(run_id).path / "segments.parquet")


def load_vectors(ws: Workspace, run_id: str) -> np.ndarray | None:
    path = ws.get_run(run_id).path / "vectors.npy"
    return np.load(path, allow_pickle=False) if path.exists() else None


def segment_names(ws: Workspace, run_id: str) -> dict[str, str]:
    """Segment id -> name: the names the user saved, else the automatic names of the run's
    profiles (once the Profiles page has built them), else nothing (pages show the id)."""
    run_dir = ws.get_run(run_id).path
    names: dict[str, str] = {}
    try:
        saved = json.loads((run_dir / "profiles.json").read_text())
        names = {str(p["segment"]): str(p["name"]) for p in saved["profiles"] if p.get("name")}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not profiled yet, or unreadable: ids stand in
    path = run_dir / "names.json"
    if path.exists():
        names.update(json.loads(path.read_text()))
    return names


def save_segment_names(ws: Workspace, run_id: str, names: dict[str, str]) -> None:
    atomic_write_json(ws.get_run(run_id).path / "names.json", names)


def load_selections(ws: Workspace, run_id: str) -> dict[str, list[str]]:
    """Named customer selections saved from the Explore map (name → customer ids)."""
    path = ws.get_run(run_id).path / "selections.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_selection(ws: Workspace, run_id: str, name: str, customer_ids: list[str]) -> None:
    sels = load_selections(ws, run_id)
    sels[name] = [str(c) for c in customer_ids]
    atomic_write_json(ws.get_run(run_id).path / "selections.json", sels)
