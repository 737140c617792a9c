"""The Evaluate and Train pages say plainly when a baseline beats the fine-tuned model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pagetest import app_in

from core.evaluate import evaluate_predictions, model_scores
from core.workspace import Workspace, atomic_write_json, atomic_write_parquet

CLASSES = ["active", "churned"]


def _proba(y: np.ndarray, skill: float, rng) -> np.ndarray:
    """P(churned): the truth blurred by noise; more `skill`, less noise."""
    p = 1 / (1 + np.exp(-(skill * (2 * (y == "churned") - 1) + rng.normal(0, 1, len(y)))))
    return np.column_stack([1 - p, p])


def _fake_run(ws: Workspace, model_skill: float):
    """A finished training run whose evaluation holds the given skill for the fine-tuned model
    and fixed ones for the baselines (the text baseline the strongest)."""
    from core.finetune import _baseline_verdict

    rng = np.random.default_rng(0)
    y = np.where(rng.random(300) < 0.4, "churned", "active")
    skills = {
        "fine-tuned text + numbers": model_skill,
        "logistic_regression": 0.6,
        "gradient_boosting": 1.0,
        "tfidf_logistic_regression": 2.0,
    }
    evals = [evaluate_predictions(y, _proba(y, k, rng), CLASSES, n) for n, k in skills.items()]
    run = ws.create_run("demo", "train", {"target": "churn"})
    atomic_write_json(run.path / "evaluation.json", [e.to_dict() for e in evals])
    cv = pd.DataFrame(
        [
            {"model": m, "fold": f, "accuracy": 0.7, "macro_f1": 0.6 + f / 100, "macro_auc": 0.8}
            for m in ["fine-tuned", *list(skills)[1:]]
            for f in range(2)
        ]
    )
    atomic_write_parquet(run.path / "cv.parquet", cv)
    summary = {
        "target": "churn_90d",
        "target_kind": "churn",
        "classes": CLASSES,
        "n_customers": 1500,
        "n_test": len(y),
        "test_macro_f1": evals[0].macro_f1,
        "test_accuracy": evals[0].accuracy,
        "baselines": {e.model_name: e.macro_f1 for e in evals[1:]},
        "models": [model_scores(e) for e in evals],
        **_baseline_verdict(evals),
        "warnings": [],
    }
    ws.update_run(run.id, status="done", summary=summary)
    return evals, summary, run.id


@pytest.fixture
def demo_root(workspace_root):
    from core.datasets import create_demo_dataset

    create_demo_dataset(Workspace(workspace_root), n_customers=150, seed=1)
    return workspace_root


def test_a_stronger_baseline_is_said_plainly_on_evaluate_and_train(demo_root):
    evals, s, _ = _fake_run(Workspace(demo_root), model_skill=0.3)
    assert s["beats_best_baseline"] is False
    best = s["best_baseline"]
    assert best["name"] == "tfidf_logistic_regression" and best["metric"] == "macro_auc"
    at = app_in("en", "evaluate")
    (warning,) = [w.value for w in at.warning if "does not beat" in w.value]
    assert "tfidf_logistic_regression" in warning and "macro ROC-AUC" in warning
    assert f"{best['score']:.3f}" in warning and f"{best['model_score']:.3f}" in warning
    side = next(d.value for d in at.dataframe if "macro_auc" in d.value.columns)
    assert set(side["model"]) == {e.model_name for e in evals}  # the text baseline included
    cv = next(d.value for d in at.dataframe if "macro_auc_mean" in d.value.columns)
    assert len(cv) == 4
    assert "tfidf_logistic_regression" in at.radio(key="ev_model").options
    at.radio(key="ev_model").set_value("tfidf_logistic_regression").run()
    assert not at.exception and len(at.get("plotly_chart")) >= 4

    at.switch_page("../pages/train.py").run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "does not beat" in w.value]
    assert "TF-IDF + logistic regression" in warning and f"{best['score']:.3f}" in warning


def test_the_warning_in_chinese_and_none_when_the_model_wins(demo_root):
    ws = Workspace(demo_root)
    _, s, _ = _fake_run(ws, model_skill=0.3)
    at = app_in("zh", "evaluate")
    (warning,) = [w.value for w in at.warning if "没有胜过" in w.value]
    assert "TF-IDF 文本 + 逻辑回归" in warning and f"{s['best_baseline']['score']:.3f}" in warning

    _, s, run_id = _fake_run(ws, model_skill=4.0)
    assert s["beats_best_baseline"] is True
    at = app_in("en", "evaluate")
    at.selectbox(key="ev_run").set_value(run_id).run()
    assert not at.exception
    assert not [w.value for w in at.warning if "does not beat" in w.value]
    assert any("beats the best baseline" in c.value for c in at.caption)
