"""The embeddings and fine-tuning benchmarks at their tiny scale: real runs, real checks."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.suite import ResultsDiffer


def test_embeddings_benchmark_tiny(tmp_path):
    pytest.importorskip("sentence_transformers")
    from benchmarks import bench_embeddings as B

    res = B.run("tiny", tmp_path)
    st_all, st_distinct, cold, warm = res.rows
    n, n_distinct = st_all["texts in"], st_distinct["texts in"]
    assert n == B.SIZES["tiny"] and 0 < n_distinct <= n
    for r in res.rows:
        assert r["seconds"] > 0 and r["texts/s"] > 0
    # the cold run encodes each distinct text once; the warm re-run is served by the cache alone
    assert cold["texts in"] == n and cold["encoded by the model"] == n_distinct
    assert cold["cache hits (distinct)"] == 0
    assert warm["texts in"] == n and warm["encoded by the model"] == 0
    assert warm["cache hits (distinct)"] == n_distinct
    assert warm["texts/s"] > cold["texts/s"]
    assert st_all["encoded by the model"] == n
    assert len(res.checks) >= 3 and "texts/s" in res.summary
    assert any("get_num_threads" in note for note in res.notes)
    assert list(tmp_path.glob("embeddings-*.sqlite")), "the cold run writes its cache in workdir"


def test_embedding_comparison_rejects_different_vectors():
    from benchmarks.bench_embeddings import _agree, compare_vectors

    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 8)).astype(np.float32)
    assert compare_vectors(a, a.copy()) == (0.0, pytest.approx(1.0))
    b = a.copy()
    b[2, 3] += 1e-3
    with pytest.raises(ResultsDiffer):
        _agree(a, b, "perturbed")
    with pytest.raises(ResultsDiffer):
        compare_vectors(a, a[:4])


def test_finetune_benchmark_tiny(tmp_path):
    pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate")
    import torch

    from benchmarks import bench_finetune as B

    res = B.run("tiny", tmp_path)
    ours, hf = res.rows
    size = B.CPU_SIZES["tiny"]
    assert ours["samples"] == hf["samples"] == size.n_train * size.epochs
    assert ours["steps"] == hf["steps"] == -(-size.n_train // size.batch_size)
    assert ours["samples/s"] > 0 and hf["samples/s"] > 0
    assert ours["× Trainer"] == pytest.approx(ours["samples/s"] / hf["samples/s"])
    # length bucketing is what our loop does differently: far less padding
    assert ours["padding share"] < hf["padding share"]
    assert abs(ours["holdout accuracy"] - hf["holdout accuracy"]) <= 0.25
    assert res.goal == B.GOAL
    if torch.cuda.is_available():
        assert res.goal_met == (ours["× Trainer"] >= B.GOAL_RATIO)
    else:
        assert res.goal_met is None
        assert any("not measurable" in note for note in res.notes)
    assert any("gradients" in c for c in res.checks)


def test_finetune_check_catches_a_collator_that_differs(tmp_path, monkeypatch):
    pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate")
    from benchmarks import bench_finetune as B

    size = B.Size("tiny", 64, 24, 8, 32)
    prep = B.prepare_data(size.n_train + size.n_holdout)
    base, tok = B.load_model("tiny", prep, size.max_length)
    loss, grad_diff = B.equal_before_training(base, tok, prep, size, "cpu", tmp_path)
    assert loss > 0 and grad_diff <= 1e-5

    class Shifted(B.CountingCollator):
        def __call__(self, features):
            batch = super().__call__(features)
            batch["numeric"] = batch["numeric"] + 0.5
            return batch

    monkeypatch.setattr(B, "CountingCollator", Shifted)
    with pytest.raises(ResultsDiffer, match="numeric"):
        B.equal_before_training(base, tok, prep, size, "cpu", tmp_path)
