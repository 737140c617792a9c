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
    TunedGradientBoosting,
    baseline_models,
    compare_table,
    compare_with_best_baseline,
    confusion_normalised,
    cross_validate_baselines,
    cv_summary,
    evaluate_predictions,
    kfold_indices,
    model_label,
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
    assert set(models) == {"logistic_regression", "gradient_boosting", "tfidf_logistic_regression"}
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


# --------------------------------------------------------------------------- text baseline
_GOOD = ["love it", "great quality", "excellent service", "works perfectly", "very happy"]
_BAD = ["terrible", "broke quickly", "awful support", "waste of money", "very disappointed"]
_GOOD_ZH = ["非常喜欢", "质量很好", "服务周到", "物超所值", "很满意"]
_BAD_ZH = ["太差了", "很快就坏", "客服糟糕", "浪费钱", "非常失望"]


def _sentiment_data(n: int, seed: int, good=_GOOD, bad=_BAD, filler=("ordered", "shipped")):
    """A target the documents decide (sentiment words) and numbers that are pure noise."""
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.5, "happy", "unhappy")
    texts = []
    for label in y:
        bank = good if label == "happy" else bad
        words = [str(rng.choice(bank)) for _ in range(2)] + [str(rng.choice(filler))]
        if rng.random() < 0.15:  # some customers also say the opposite once
            words.append(str(rng.choice(bad if label == "happy" else good)))
        rng.shuffle(words)
        texts.append(" ".join(words))
    X = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "noise_a": rng.normal(size=n),
            "noise_b": rng.exponential(size=n),
        }
    )
    return X, y, texts


def test_text_baseline_wins_when_the_documents_decide():
    X, y, texts = _sentiment_data(400, seed=0)
    tr, te = split_holdout(y, test_size=0.25, seed=0)
    evals = {
        e.model_name: e for e in run_baselines(X, y, tr, te, ["happy", "unhappy"], texts=texts)
    }
    assert set(evals) == {"logistic_regression", "gradient_boosting", "tfidf_logistic_regression"}
    text = evals["tfidf_logistic_regression"]
    assert text.macro_auc > 0.9 and text.n_test == len(te)
    for name in ("logistic_regression", "gradient_boosting"):  # the numbers are noise
        assert evals[name].macro_auc < 0.7, (name, evals[name].macro_auc)
        assert text.macro_auc > evals[name].macro_auc + 0.2
    verdict = compare_with_best_baseline(evals["logistic_regression"], list(evals.values())[1:])
    assert verdict["best_baseline"] == "tfidf_logistic_regression"
    assert verdict["metric"] == "macro_auc" and not verdict["model_beats_best_baseline"]


def test_text_baseline_reads_chinese_and_needs_no_numbers():
    X, y, texts = _sentiment_data(300, seed=1, good=_GOOD_ZH, bad=_BAD_ZH, filler=("下单", "发货"))
    texts = ["".join(t.split()) for t in texts]  # Chinese is written without spaces
    tr, te = split_holdout(y, test_size=0.25, seed=0)
    (ev,) = run_baselines(None, y, tr, te, ["happy", "unhappy"], texts=texts)
    assert ev.model_name == "tfidf_logistic_regression"
    assert ev.macro_auc > 0.9
    # numbers only: the text baseline is left out; asking for it is a clear error
    names = [e.model_name for e in run_baselines(X, y, tr, te, ["happy", "unhappy"])]
    assert names == ["logistic_regression", "gradient_boosting"]
    with pytest.raises(ValueError, match="needs documents"):
        run_baselines(X, y, tr, te, ["happy", "unhappy"], models=["tfidf_logistic_regression"])
    with pytest.raises(ValueError, match="no numeric feature columns or documents"):
        run_baselines(None, y, tr, te, ["happy", "unhappy"], texts=[" "] * len(y))


def test_text_baseline_also_reads_the_numbers():
    """A target partly in the words, partly in a number: text ⊕ numbers beats text alone."""
    rng = np.random.default_rng(3)
    n = 500
    word = rng.random(n) < 0.5
    number = rng.normal(size=n)
    # each input says part of it: the word moves the odds, the number moves them as much
    y = np.where(2.0 * (word - 0.5) + number + rng.normal(0, 0.3, n) > 0, "a", "b")
    texts = [("shiny " if w else "dull ") + "item" for w in word]
    X = pd.DataFrame({"customer_id": range(n), "signal": number})
    tr, te = split_holdout(y, test_size=0.3, seed=0)
    both = run_baselines(X, y, tr, te, ["a", "b"], ["tfidf_logistic_regression"], texts=texts)
    alone = run_baselines(None, y, tr, te, ["a", "b"], texts=texts)
    assert both[0].macro_auc > alone[0].macro_auc + 0.1


def test_cross_validation_includes_the_text_baseline():
    X, y, texts = _sentiment_data(240, seed=2)
    cv = cross_validate_baselines(X, y, ["happy", "unhappy"], k=3, seed=0, texts=texts)
    assert set(cv["model"]) == {
        "logistic_regression",
        "gradient_boosting",
        "tfidf_logistic_regression",
    }
    assert (cv.groupby("model")["fold"].nunique() == 3).all()
    assert cv["macro_auc"].notna().all()
    summary = cv_summary(cv).set_index("model")
    assert summary.loc["tfidf_logistic_regression", "macro_auc_mean"] > 0.9
    assert summary["macro_auc_mean"].idxmax() == "tfidf_logistic_regression"


def test_text_baseline_label_in_both_languages():
    assert model_label("tfidf_logistic_regression") == "tfidf_logistic_regression"
    zh = model_label("tfidf_logistic_regression", "zh")
    assert zh != "tfidf_logistic_regression" and "逻辑回归" in zh


# --------------------------------------------------------------------------- tuned boosting
def _numeric_task(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    X.loc[rng.random(n) < 0.05, "c"] = np.nan  # missing values are fine
    score = X["a"].to_numpy() * 1.5 + np.sin(3 * X["b"].to_numpy()) + rng.normal(0, 0.5, n)
    y = np.where(score > np.quantile(score, 0.6), "high", np.where(score > 0, "mid", "low"))
    return X, y


def test_tuned_boosting_searches_and_never_sees_the_test_rows():
    X, y = _numeric_task(600, seed=0)
    classes = sorted(set(y))
    tr, te = split_holdout(y, test_size=0.25, seed=0)
    (ev,) = run_baselines(X, y, tr, te, classes, models=["gradient_boosting"])
    assert ev.model_name == "gradient_boosting" and ev.macro_auc > 0.8

    # What run_baselines reports is what a model fitted on the training rows alone predicts ...
    alone = TunedGradientBoosting().fit(X.iloc[tr], y[tr])
    proba = alone.predict_proba(X.iloc[te])[:, [list(alone.classes_).index(c) for c in classes]]
    ref = evaluate_predictions(y[te], proba, classes, "alone")
    assert (ev.accuracy, ev.macro_auc) == pytest.approx((ref.accuracy, ref.macro_auc))
    assert np.array_equal(ev.confusion, ref.confusion)
    # ... and other labels on the test rows change none of its predictions, only their scoring.
    y2 = y.copy()
    y2[te] = np.random.default_rng(9).permutation(y2[te])
    (ev2,) = run_baselines(X, y2, tr, te, classes, models=["gradient_boosting"])
    ref2 = evaluate_predictions(y2[te], proba, classes, "alone")
    assert np.array_equal(ev2.confusion, ref2.confusion)
    assert ev2.macro_auc == pytest.approx(ref2.macro_auc) and ev2.macro_auc < ev.macro_auc - 0.2
    assert ev2.confusion.sum(axis=0).tolist() == ev.confusion.sum(axis=0).tolist()

    # The search tried ≤ 6 configurations, each stopped early, and kept the best on validation.
    results = alone.search_results_
    assert 2 <= len(results) <= 6
    assert all(r["max_iter"] < alone.max_iter for r in results)
    best = min(results, key=lambda r: r["validation_log_loss"])
    keys = ("learning_rate", "max_leaf_nodes", "min_samples_leaf")
    assert {k: best[k] for k in keys} == {k: alone.best_params_[k] for k in keys}
    assert TunedGradientBoosting().fit(X.iloc[tr], y[tr]).best_params_ == alone.best_params_


def test_tuned_boosting_copes_with_tiny_data():
    X, y = _numeric_task(30, seed=1)
    m = TunedGradientBoosting().fit(X, y)  # too few rows to hold a validation slice out
    assert m.search_results_ == [] and m.predict_proba(X).shape == (30, len(set(y)))
    assert set(m.predict(X)) <= set(y)


def test_compare_with_best_baseline_falls_back_to_f1_without_auc():
    def ev(name, f1, auc):
        e = evaluate_predictions(["a", "b"], np.eye(2), ["a", "b"], name)
        e.macro_f1, e.macro_auc = f1, auc
        return e

    v = compare_with_best_baseline(ev("m", 0.7, 0.8), [ev("x", 0.6, 0.85), ev("y", 0.75, 0.7)])
    assert (v["best_baseline"], v["metric"], v["model_beats_best_baseline"]) == (
        "x",
        "macro_auc",
        False,
    )
    v = compare_with_best_baseline(ev("m", 0.7, 0.9), [ev("x", 0.6, None), ev("y", 0.65, 0.7)])
    assert (v["best_baseline"], v["metric"], v["model_beats_best_baseline"]) == (
        "y",
        "macro_f1",
        True,
    )
    assert v["model_score"] == 0.7 and v["baseline_score"] == 0.65
    assert compare_with_best_baseline(ev("m", 0.7, 0.9), []) is None
