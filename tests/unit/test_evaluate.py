"""Evaluation metrics on hand examples, splits, and the classical baselines on the demo store."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from core.demo import generate_demo_store
from core.evaluate import (
    MAX_CURVE_POINTS,
    Evaluation,
    baseline_models,
    compare_table,
    confusion_normalised,
    cross_validate_baselines,
    cv_summary,
    evaluate_predictions,
    kfold_indices,
    run_baselines,
    split_holdout,
)
from core.features import build_customer_features
from core.targets import label_column_target, suggest_cutoff

CLASSES = ["a", "b", "c"]


def _onehot(y, classes):
    return np.array([[1.0 if c == v else 0.0 for c in classes] for v in y])


def test_perfect_predictions():
    y = ["a", "b", "c", "a", "b", "c", "a"]
    ev = evaluate_predictions(y, _onehot(y, CLASSES), CLASSES, "oracle")
    assert ev.accuracy == 1.0 and ev.macro_f1 == 1.0
    assert ev.macro_precision == 1.0 and ev.macro_recall == 1.0
    assert ev.macro_auc == pytest.approx(1.0)
    for c in CLASSES:
        assert ev.roc[c]["auc"] == pytest.approx(1.0)
        assert ev.pr[c]["ap"] == pytest.approx(1.0)
    assert np.array_equal(ev.confusion, np.diag([3, 2, 2]))
    assert ev.per_class["support"].tolist() == [3, 2, 2]
    assert ev.calibration["prob_pred"] == [1.0] and ev.calibration["prob_true"] == [1.0]
    assert ev.calibration["counts"] == [7]


def test_confusion_counts_exact():
    y_true = ["a", "a", "a", "b", "b", "c"]
    y_pred = ["a", "b", "b", "b", "c", "a"]
    proba = _onehot(y_pred, CLASSES) * 0.8 + 0.2 / 3
    ev = evaluate_predictions(y_true, proba, CLASSES, "m")
    expected = np.array([[1, 2, 0], [0, 1, 1], [1, 0, 0]])
    assert np.array_equal(ev.confusion, expected)
    assert ev.accuracy == pytest.approx(2 / 6)
    pc = ev.per_class.set_index("class")
    assert pc.loc["a", "precision"] == pytest.approx(0.5)
    assert pc.loc["a", "recall"] == pytest.approx(1 / 3)
    assert pc.loc["c", "f1"] == 0.0
    norm = confusion_normalised(ev.confusion)
    assert np.allclose(norm.sum(axis=1), 1.0)
    assert norm[0].tolist() == pytest.approx([1 / 3, 2 / 3, 0])
    assert confusion_normalised(np.array([[0, 0], [1, 3]])).tolist() == [[0, 0], [0.25, 0.75]]


def test_binary_and_calibration():
    rng = np.random.default_rng(0)
    p = rng.random(2000)
    y = np.where(rng.random(2000) < p, "yes", "no")
    ev = evaluate_predictions(y, np.column_stack([1 - p, p]), ["no", "yes"], "calibrated")
    assert 0.75 < ev.macro_auc < 0.9
    cal = ev.calibration
    assert len(cal["prob_pred"]) == 10 and sum(cal["counts"]) == 2000
    assert np.allclose(cal["prob_pred"], cal["prob_true"], atol=0.08)


def test_curves_downsampled():
    rng = np.random.default_rng(1)
    n = 5000
    y = rng.choice(CLASSES, n)
    proba = rng.dirichlet(np.ones(3), n)
    ev = evaluate_predictions(y, proba, CLASSES, "random")
    for c in CLASSES:
        assert 2 <= len(ev.roc[c]["fpr"]) <= MAX_CURVE_POINTS
        assert len(ev.roc[c]["fpr"]) == len(ev.roc[c]["tpr"])
        assert ev.roc[c]["fpr"][0] == 0.0 and ev.roc[c]["tpr"][-1] == 1.0
        assert 2 <= len(ev.pr[c]["precision"]) <= MAX_CURVE_POINTS
    assert 0.4 < ev.macro_auc < 0.6


def test_missing_class_in_test_set():
    y = ["a", "a", "b", "b"]
    proba = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    ev = evaluate_predictions(y, proba, CLASSES, "m")
    assert "c" not in ev.roc and ev.notes
    assert ev.macro_auc == pytest.approx(1.0)
    with pytest.raises(ValueError):
        evaluate_predictions(y, proba[:, :2], CLASSES, "bad shape")


def test_to_dict_round_trip():
    rng = np.random.default_rng(2)
    y = rng.choice(CLASSES, 300)
    proba = rng.dirichlet(np.ones(3), 300)
    ev = evaluate_predictions(y, proba, CLASSES, "random")
    text = json.dumps(ev.to_dict(), allow_nan=False)
    back = Evaluation.from_dict(json.loads(text))
    assert back.model_name == "random" and back.classes == CLASSES
    assert back.accuracy == pytest.approx(ev.accuracy)
    assert back.macro_auc == pytest.approx(ev.macro_auc)
    assert np.array_equal(back.confusion, ev.confusion)
    pd.testing.assert_frame_equal(back.per_class, ev.per_class, check_dtype=False)
    assert back.roc["a"]["fpr"] == ev.roc["a"]["fpr"]
    assert back.to_dict() == ev.to_dict()


def test_split_holdout_disjoint_and_stratified():
    labels = pd.DataFrame(
        {"customer_id": range(1000), "label": ["x"] * 700 + ["y"] * 200 + ["z"] * 100}
    )
    tr, te = split_holdout(labels, test_size=0.2, seed=0)
    assert len(set(tr) & set(te)) == 0 and len(tr) + len(te) == 1000
    assert len(te) == 200
    counts = labels["label"].iloc[te].value_counts()
    assert counts.to_dict() == {"x": 140, "y": 40, "z": 20}
    tr2, te2 = split_holdout(labels, seed=0)
    assert np.array_equal(te, te2)


def test_split_holdout_falls_back_when_class_tiny():
    labels = pd.Series(["x"] * 50 + ["y"])
    with pytest.warns(UserWarning, match="unstratified"):
        tr, te = split_holdout(labels, test_size=0.2, seed=0)
    assert len(set(tr) & set(te)) == 0 and len(tr) + len(te) == 51


def test_kfold_indices_stratified():
    y = np.array(["x"] * 50 + ["y"] * 25)
    folds = kfold_indices(y, k=5, seed=0)
    assert len(folds) == 5
    all_test = np.concatenate([te for _, te in folds])
    assert sorted(all_test) == list(range(75))
    for tr, te in folds:
        assert len(set(tr) & set(te)) == 0
        assert (y[te] == "y").sum() == 5
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert len(kfold_indices(np.array(["x"] * 10 + ["y"] * 3), k=5)) == 3


def test_baseline_models_factories():
    models = baseline_models()
    assert set(models) == {"logistic_regression", "gradient_boosting"}
    assert models["logistic_regression"]() is not models["logistic_regression"]()


@pytest.fixture(scope="module")
def persona_data():
    tables = generate_demo_store(n_customers=1500, seed=1)
    ft = build_customer_features(tables, cutoff=suggest_cutoff(tables["orders"]))
    target = label_column_target(tables["customers"], "persona")
    df = target.labels.merge(ft.data, on="customer_id", how="inner")
    X = df.drop(columns=["label"])
    return X, df["label"].to_numpy(), target.classes


def test_baselines_beat_chance_on_personas(persona_data):
    X, y, classes = persona_data
    X = X.copy()
    X.loc[X.index[:20], "avg_rating"] = np.inf  # infinities and NaN must not break the fit
    tr, te = split_holdout(y, test_size=0.25, seed=0)
    evals = run_baselines(X, y, tr, te, classes)
    assert [e.model_name for e in evals] == ["logistic_regression", "gradient_boosting"]
    for ev in evals:
        assert ev.n_test == len(te)
        assert ev.macro_f1 > 1 / len(classes) + 0.1, (ev.model_name, ev.macro_f1)
        assert ev.confusion.sum() == len(te)
    table = compare_table(evals)
    assert list(table.columns) == ["model", "accuracy", "macro_f1", "macro_auc"]
    assert table["macro_f1"].is_monotonic_decreasing


def test_cross_validation(persona_data):
    X, y, classes = persona_data
    sub = np.arange(0, len(y), 2)
    cv = cross_validate_baselines(X.iloc[sub], y[sub], classes, k=3, seed=0)
    assert len(cv) == 6
    assert set(cv["model"]) == {"logistic_regression", "gradient_boosting"}
    assert (cv["macro_f1"] > 1 / len(classes)).all()
    summary = cv_summary(cv)
    assert list(summary["folds"]) == [3, 3]
    assert "±" in summary["macro_f1"].iloc[0]
    assert summary["macro_f1_mean"].is_monotonic_decreasing
