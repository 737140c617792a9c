"""Fine-tuning end to end on a small demo store with a tiny BERT (seconds on CPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.datasets import create_demo_dataset
from core.finetune import FinetuneParams, load_evaluations, load_predictions, run_finetune, score
from core.workspace import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("ft"))
    create_demo_dataset(ws, n_customers=600, seed=2)
    return ws


@pytest.fixture(scope="module")
def tiny(demo_tiny_bert):
    import copy

    enc, tok, _ = demo_tiny_bert
    return copy.deepcopy(enc), tok  # training changes the weights; keep the shared one pristine


def test_persona_finetune_writes_bundle_evaluation_and_predictions(ws, tiny):
    stages = []
    p = FinetuneParams(
        target="label_column",
        label_column="persona",
        epochs=2,
        batch_size=32,
        lr=2e-3,
        head_lr=3e-3,
        max_length=64,
    )
    run = run_finetune(ws, "demo", p, progress=lambda m, f: stages.append(f), encoder_override=tiny)
    assert run.status == "done"
    s = run.summary
    assert s["n_train"] + s["n_validation"] + s["n_test"] == s["n_customers"] == 600
    assert len(s["classes"]) == 8 and 0 <= s["test_macro_f1"] <= 1
    baselines = {"logistic_regression", "gradient_boosting", "tfidf_logistic_regression"}
    assert set(s["baselines"]) == baselines
    # every model carries the three scores, the fine-tuned one first, as in evaluation.json
    models = {m["name"]: m for m in s["models"]}
    assert list(models)[0].startswith("fine-tuned") and set(list(models)[1:]) == baselines
    for m in s["models"]:
        assert all(0 <= m[k] <= 1 for k in ("accuracy", "macro_f1", "macro_auc")), m
    assert s["test_macro_auc"] == models[list(models)[0]]["macro_auc"]
    _check_verdict(s)
    assert stages == sorted(stages) and stages[-1] == 1.0
    evals = load_evaluations(ws, run.id)
    assert [e["model_name"] for e in evals][0].startswith("fine-tuned")
    json.dumps(evals)
    pred = load_predictions(ws, run.id)
    assert len(pred) == 600 and set(pred["split"]) == {"train", "validation", "test"}
    probs = pred[[c for c in pred.columns if c.startswith("p_")]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)
    assert (run.path / "bundle" / "model.safetensors").exists()


def test_churn_target_numbers_only_and_scoring(ws):
    p = FinetuneParams(
        target="churn", horizon_days=90, use_text=False, epochs=3, batch_size=64, head_lr=5e-3
    )
    run = run_finetune(ws, "demo", p)
    assert run.summary["classes"] == ["active", "churned"] or set(run.summary["classes"]) == {
        "active",
        "churned",
    }
    from core.datasets import compute_dataset_features

    feats = compute_dataset_features(ws, "demo").data
    out = score(run.path / "bundle", feats)
    assert len(out) == len(feats) and set(out["predicted"]) <= {"active", "churned"}
    bad = feats.drop(columns=["monetary"])
    with pytest.raises(ValueError, match="missing feature columns: .*monetary"):
        score(run.path / "bundle", bad)


def test_bad_target_choices_are_clear(ws):
    with pytest.raises(ValueError, match="label column"):
        run_finetune(ws, "demo", FinetuneParams(target="label_column", label_column=None))
    with pytest.raises(ValueError, match="unknown target"):
        run_finetune(ws, "demo", FinetuneParams(target="magic"))


def test_fine_tuned_embeddings_feed_a_segmentation_map(ws):
    from core.pipeline import SegmentationParams, load_segments, run_segmentation

    train_run = [r for r in ws.list_runs("demo", kind="train") if r.status == "done"][0]
    E = np.load(train_run.path / "embeddings.npy", allow_pickle=False)
    n = train_run.summary["n_customers"]
    assert E.shape[0] == n and E.shape[1] > 8
    seg_run = run_segmentation(
        ws, "demo", SegmentationParams(method="kmeans", k=4, vectors_from=train_run.id)
    )
    seg = load_segments(ws, seg_run.id)
    assert len(seg) == n and {"x", "y", "model_target", "model_predicted"} <= set(seg.columns)
    assert seg["model_target"].nunique() >= 2


def test_cross_validation_of_model_and_baselines(ws):
    from core.finetune import load_cv

    p = FinetuneParams(
        target="label_column",
        label_column="persona",
        use_text=False,
        epochs=2,
        batch_size=64,
        head_lr=5e-3,
        cv_folds=3,
    )
    run = run_finetune(ws, "demo", p)
    cv = load_cv(ws, run.id)
    assert set(cv["model"]) == {"fine-tuned", "logistic_regression", "gradient_boosting"}
    assert (cv.groupby("model")["fold"].nunique() == 3).all()
    assert cv["macro_f1"].between(0, 1).all()
    assert cv["macro_auc"].notna().all() and cv["macro_auc"].between(0, 1).all()
    assert "tfidf_logistic_regression" not in run.summary["baselines"]  # no text, no text baseline


def _check_verdict(s):
    """The summary's best baseline and 'beats' flag agree with the per-model scores."""
    models = {m["name"]: m for m in s["models"]}
    model, *baselines = s["models"]
    best = s["best_baseline"]
    metric = best["metric"]
    assert metric == "macro_auc"  # every model has an AUC here
    top = max(baselines, key=lambda m: m[metric])
    assert best["name"] == top["name"] and best["score"] == models[best["name"]][metric]
    assert best["model_score"] == model[metric]
    assert s["beats_best_baseline"] == (model[metric] > top[metric])


def test_text_only_model_gets_the_text_baseline_and_cv_auc(ws, tiny):
    """No numeric features: the baselines used to be skipped; now TF-IDF reads the same
    documents, in the holdout and in every fold, and the fine-tuned folds keep their AUC."""
    from core.finetune import load_cv

    p = FinetuneParams(
        target="label_column",
        label_column="persona",
        use_numeric=False,
        epochs=1,
        batch_size=32,
        lr=2e-3,
        head_lr=3e-3,
        max_length=48,
        max_customers=300,
        cv_folds=2,
    )
    run = run_finetune(ws, "demo", p, encoder_override=tiny)
    s = run.summary
    assert [m["name"] for m in s["models"]] == ["fine-tuned text", "tfidf_logistic_regression"]
    assert s["best_baseline"]["name"] == "tfidf_logistic_regression"
    _check_verdict(s)
    # the demo's personas write different reviews: the text baseline is far above chance
    assert s["models"][1]["macro_auc"] > 0.7
    evals = load_evaluations(ws, run.id)
    assert [e["model_name"] for e in evals] == ["fine-tuned text", "tfidf_logistic_regression"]
    cv = load_cv(ws, run.id)
    assert set(cv["model"]) == {"fine-tuned", "tfidf_logistic_regression"}
    assert (cv.groupby("model")["fold"].nunique() == 2).all()
    assert cv["macro_auc"].notna().all() and cv["macro_auc"].between(0, 1).all()
