"""Model evaluation: metrics, curves, splits and classical baselines.

Everything the comparison page needs for one model on one held-out set is an
:class:`Evaluation` (JSON-serialisable through ``to_dict`` / ``from_dict``; curves are
downsampled to at most :data:`MAX_CURVE_POINTS` points). Baselines — logistic regression and
tuned gradient boosting on the numeric customer features, TF-IDF + logistic regression on the
customer documents (⊕ the numbers) — are fitted on exactly the same split as the transformer
so the comparison is fair; whatever they tune, they tune on the training rows.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    log_loss,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MAX_CURVE_POINTS = 200
CALIBRATION_BINS = 10


def _f(v: Any) -> float | None:
    """float, with NaN / inf / None → None (JSON-safe)."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _downsample(*arrays: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> list[np.ndarray]:
    """Keep ≤ max_points evenly spaced points of aligned arrays (first and last always kept)."""
    n = len(arrays[0])
    if n <= max_points:
        return [np.asarray(a) for a in arrays]
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return [np.asarray(a)[idx] for a in arrays]


def _round_list(a: np.ndarray) -> list[float]:
    return [float(round(float(v), 6)) for v in np.asarray(a, dtype=float)]


@dataclass
class Evaluation:
    model_name: str
    classes: list[str]
    accuracy: float
    macro_f1: float
    macro_precision: float
    macro_recall: float
    per_class: pd.DataFrame  # class, precision, recall, f1, support
    confusion: np.ndarray  # counts; rows = true, cols = predicted, in `classes` order
    roc: dict[str, dict] = field(default_factory=dict)  # class -> {"fpr", "tpr", "auc"}
    pr: dict[str, dict] = field(default_factory=dict)  # class -> {"precision", "recall", "ap"}
    calibration: dict = field(default_factory=dict)  # {"prob_pred", "prob_true", "counts", "label"}
    macro_auc: float | None = None
    n_test: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def confusion_normalised(self) -> np.ndarray:
        return confusion_normalised(self.confusion)

    def to_dict(self) -> dict[str, Any]:
        per_class = [
            {
                "class": str(r["class"]),
                "precision": _f(r["precision"]),
                "recall": _f(r["recall"]),
                "f1": _f(r["f1"]),
                "support": int(r["support"]),
            }
            for r in self.per_class.to_dict("records")
        ]
        return {
            "model_name": self.model_name,
            "classes": [str(c) for c in self.classes],
            "accuracy": _f(self.accuracy),
            "macro_f1": _f(self.macro_f1),
            "macro_precision": _f(self.macro_precision),
            "macro_recall": _f(self.macro_recall),
            "per_class": per_class,
            "confusion": np.asarray(self.confusion, dtype=int).tolist(),
            "roc": {
                str(c): {
                    "fpr": list(map(float, d["fpr"])),
                    "tpr": list(map(float, d["tpr"])),
                    "auc": _f(d["auc"]),
                }
                for c, d in self.roc.items()
            },
            "pr": {
                str(c): {
                    "precision": list(map(float, d["precision"])),
                    "recall": list(map(float, d["recall"])),
                    "ap": _f(d["ap"]),
                }
                for c, d in self.pr.items()
            },
            "calibration": {
                "prob_pred": list(map(float, self.calibration.get("prob_pred", []))),
                "prob_true": list(map(float, self.calibration.get("prob_true", []))),
                "counts": [int(v) for v in self.calibration.get("counts", [])],
                "label": str(self.calibration.get("label", "")),
            },
            "macro_auc": _f(self.macro_auc),
            "n_test": int(self.n_test),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evaluation:
        classes = [str(c) for c in d["classes"]]
        per_class = pd.DataFrame(
            d.get("per_class") or [], columns=["class", "precision", "recall", "f1", "support"]
        )
        for col in ("precision", "recall", "f1"):
            per_class[col] = per_class[col].astype(float)
        per_class["support"] = per_class["support"].astype(int)
        conf = np.asarray(
            d.get("confusion") or np.zeros((len(classes), len(classes))), dtype=np.int64
        )
        return cls(
            model_name=str(d["model_name"]),
            classes=classes,
            accuracy=_nan(d.get("accuracy")),
            macro_f1=_nan(d.get("macro_f1")),
            macro_precision=_nan(d.get("macro_precision")),
            macro_recall=_nan(d.get("macro_recall")),
            per_class=per_class,
            confusion=conf.reshape(len(classes), len(classes)),
            roc={
                c: {"fpr": list(v["fpr"]), "tpr": list(v["tpr"]), "auc": _nan(v.get("auc"))}
                for c, v in (d.get("roc") or {}).items()
            },
            pr={
                c: {
                    "precision": list(v["precision"]),
                    "recall": list(v["recall"]),
                    "ap": _nan(v.get("ap")),
                }
                for c, v in (d.get("pr") or {}).items()
            },
            calibration=dict(d.get("calibration") or {}),
            macro_auc=d.get("macro_auc"),
            n_test=int(d.get("n_test", 0)),
            notes=list(d.get("notes", [])),
        )


# --------------------------------------------------------------------------- metrics
def confusion_normalised(conf) -> np.ndarray:
    """Row-normalised confusion matrix (each true class's row sums to 1; empty rows stay 0)."""
    c = np.asarray(conf, dtype=float)
    rows = c.sum(axis=1, keepdims=True)
    return np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)


def _calibration(y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict:
    """Reliability curve: positive class for binary targets, the top-probability class otherwise."""
    if len(classes) == 2:
        p = proba[:, 1]
        hit = (y_true == classes[1]).astype(float)
        label = f"P({classes[1]})"
    else:
        top = proba.argmax(axis=1)
        p = proba[np.arange(len(proba)), top]
        hit = (np.asarray(classes, dtype=object)[top] == y_true).astype(float)
        label = "confidence of the predicted class"
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    bins = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    sum_p = np.bincount(bins, weights=p, minlength=CALIBRATION_BINS)
    sum_y = np.bincount(bins, weights=hit, minlength=CALIBRATION_BINS)
    nz = counts > 0
    return {
        "prob_pred": _round_list(sum_p[nz] / counts[nz]),
        "prob_true": _round_list(sum_y[nz] / counts[nz]),
        "counts": [int(v) for v in counts[nz]],
        "label": label,
    }


def evaluate_predictions(
    y_true: Sequence[str], proba: np.ndarray, classes: list[str], model_name: str
) -> Evaluation:
    """Metrics and curves for predicted class probabilities (columns in `classes` order)."""
    classes = [str(c) for c in classes]
    y = np.asarray([str(v) for v in y_true], dtype=object)
    P = np.asarray(proba, dtype=float)
    if P.ndim == 1 and len(classes) == 2:
        P = np.column_stack([1 - P, P])
    if P.shape != (len(y), len(classes)):
        raise ValueError(f"proba has shape {P.shape}, expected ({len(y)}, {len(classes)})")
    if len(y) == 0:
        raise ValueError("nothing to evaluate: no test customers")
    unknown = set(y) - set(classes)
    if unknown:
        raise ValueError(f"true labels not among the classes: {sorted(unknown)[:5]}")
    P = np.nan_to_num(P, nan=0.0)
    notes: list[str] = []
    cls_arr = np.asarray(classes, dtype=object)
    y_pred = cls_arr[P.argmax(axis=1)]
    prec, rec, f1, sup = precision_recall_fscore_support(y, y_pred, labels=classes, zero_division=0)
    per_class = pd.DataFrame(
        {"class": classes, "precision": prec, "recall": rec, "f1": f1, "support": sup.astype(int)}
    )
    conf = confusion_matrix(y, y_pred, labels=classes)
    roc: dict[str, dict] = {}
    pr: dict[str, dict] = {}
    aucs: list[float] = []
    missing = []
    for i, c in enumerate(classes):
        pos = y == c
        if pos.all() or not pos.any():
            missing.append(c)
            continue
        fpr, tpr, _ = roc_curve(pos, P[:, i])
        auc = float(roc_auc_score(pos, P[:, i]))
        fpr, tpr = _downsample(fpr, tpr)
        roc[c] = {"fpr": _round_list(fpr), "tpr": _round_list(tpr), "auc": auc}
        aucs.append(auc)
        precision, recall, _ = precision_recall_curve(pos, P[:, i])
        ap = float(average_precision_score(pos, P[:, i]))
        precision, recall = _downsample(precision, recall)
        pr[c] = {"precision": _round_list(precision), "recall": _round_list(recall), "ap": ap}
    if missing:
        notes.append(
            f"no ROC / PR curve for classes absent from (or alone in) the test set: {', '.join(missing)}"
        )
    return Evaluation(
        model_name=model_name,
        classes=classes,
        accuracy=float(accuracy_score(y, y_pred)),
        macro_f1=float(np.mean(f1)),
        macro_precision=float(np.mean(prec)),
        macro_recall=float(np.mean(rec)),
        per_class=per_class,
        confusion=conf.astype(np.int64),
        roc=roc,
        pr=pr,
        calibration=_calibration(y, P, classes),
        macro_auc=float(np.mean(aucs)) if aucs else None,
        n_test=len(y),
        notes=notes,
    )


# --------------------------------------------------------------------------- splits
def _label_array(labels) -> np.ndarray:
    if isinstance(labels, pd.DataFrame):
        labels = labels["label"]
    return np.asarray([str(v) for v in labels], dtype=object)


def split_holdout(
    labels, test_size: float = 0.2, seed: int = 0, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) positional index arrays. Stratified unless a class is too small (warns)."""
    y = _label_array(labels)
    n = len(y)
    if n < 2:
        raise ValueError("need at least 2 labelled customers to hold some out")
    idx = np.arange(n)
    strat = None
    if stratify:
        counts = pd.Series(y).value_counts()
        n_test = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
        if counts.min() < 2 or n_test < len(counts) or n - n_test < len(counts):
            warnings.warn(
                f"class {counts.idxmin()!r} has only {counts.min()} customer(s) (or the test set is smaller "
                "than the number of classes): using an unstratified split",
                UserWarning,
                stacklevel=2,
            )
        else:
            strat = y
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
    return np.sort(train), np.sort(test)


def kfold_indices(labels, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (train, test) index pairs; fewer folds / plain k-fold for tiny classes."""
    y = _label_array(labels)
    if len(y) < 2:
        raise ValueError("need at least 2 labelled customers for cross-validation")
    k = max(2, min(int(k), len(y)))
    smallest = int(pd.Series(y).value_counts().min())
    if smallest >= k:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]
    if smallest >= 2:
        warnings.warn(
            f"the smallest class has {smallest} customers: using {smallest} stratified folds instead of {k}",
            UserWarning,
            stacklevel=2,
        )
        splitter = StratifiedKFold(n_splits=smallest, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in splitter.split(np.zeros(len(y)), y)]
    warnings.warn(
        "a class has a single customer: using unstratified folds", UserWarning, stacklevel=2
    )
    return [
        (tr, te)
        for tr, te in KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)))
    ]


# --------------------------------------------------------------------------- baselines
DOCUMENT_COLUMN = "__document__"  # the customer document beside the numbers (text baseline)

# (learning_rate, max_leaf_nodes, min_samples_leaf): a small search from shallow, smooth trees
# to deeper ones; early stopping picks the number of trees of each.
GB_SEARCH = (
    (0.1, 7, 40),
    (0.1, 15, 20),
    (0.1, 31, 10),
    (0.2, 7, 40),
    (0.2, 15, 20),
    (0.2, 31, 10),
)


SMALL_DATA_ROWS = 10_000  # below this, boosting runs on one thread (see TunedGradientBoosting.fit)


def _balanced_weights(y: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return (len(y) / (len(counts) * counts))[inverse]


class TunedGradientBoosting(ClassifierMixin, BaseEstimator):
    """Histogram gradient boosting with early stopping and a small configuration search.

    ``fit`` carves a stratified validation slice out of the rows it is given (the training rows:
    it never sees the test rows), fits each configuration of `search` with early stopping on
    that slice, keeps the one with the lowest class-balanced log-loss and refits it on all the
    given rows for as many iterations as early stopping chose (scaled to the larger data). The
    search looks at a stratified sample of at most `max_search_rows` of those rows, which keeps
    it to seconds on big stores. ``best_params_`` and ``search_results_`` say what was tried.
    """

    def __init__(
        self,
        search=GB_SEARCH,
        validation_fraction: float = 0.15,
        max_iter: int = 300,
        n_iter_no_change: int = 10,
        max_search_rows: int = 5000,
        random_state: int = 0,
    ):
        self.search = search
        self.validation_fraction = validation_fraction
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.max_search_rows = max_search_rows
        self.random_state = random_state

    def _model(self, lr, leaves, min_leaf, **kw) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            learning_rate=lr,
            max_leaf_nodes=leaves,
            min_samples_leaf=min_leaf,
            l2_regularization=1.0,
            class_weight="balanced",
            random_state=self.random_state,
            **kw,
        )

    def _validation_split(self, y: np.ndarray):
        """(fit, validation) positions, stratified; None when the data is too small to search."""
        counts = pd.Series(y).value_counts()
        n = min(len(y), self.max_search_rows)
        n_val = math.ceil(self.validation_fraction * n)
        if n < 60 or counts.min() < 3 or n_val < len(counts) or n - n_val < len(counts):
            return None
        rows = np.arange(len(y))
        if n < len(y):
            rows, _ = train_test_split(
                rows, train_size=n, random_state=self.random_state, stratify=y
            )
        return train_test_split(
            rows, test_size=n_val, random_state=self.random_state, stratify=y[rows]
        )

    def _early_stopped(self, config, X, y, fit, val):
        """A configuration fitted on `fit` rows, stopped early on the `val` rows."""
        stop = dict(
            max_iter=self.max_iter,
            early_stopping=True,
            n_iter_no_change=self.n_iter_no_change,
            scoring="loss",
        )
        try:  # scikit-learn >= 1.6: stop on our own validation slice
            return self._model(*config, validation_fraction=None, **stop).fit(
                X.iloc[fit], y[fit], X_val=X.iloc[val], y_val=y[val]
            )
        except TypeError:  # older: its own slice of the same fit rows (still training rows)
            return self._model(*config, validation_fraction=0.15, **stop).fit(X.iloc[fit], y[fit])

    def fit(self, X, y):
        X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))
        y = np.asarray([str(v) for v in y], dtype=object)
        # On small data the trees are tiny and OpenMP's start-up per split costs more than it
        # saves (about 15x slower on two busy cores); big data keeps all threads.
        threads = 1 if len(y) < SMALL_DATA_ROWS else None
        with threadpool_limits(limits=threads, user_api="openmp"):
            return self._fit(X, y)

    def _fit(self, X: pd.DataFrame, y: np.ndarray):
        split = self._validation_split(y)
        self.search_results_: list[dict] = []
        searched = len(y) if split is None else len(split[0])  # rows the chosen trees were fit on
        if split is None:
            self.best_params_ = {  # too few rows to hold some out: a small, safe model
                "learning_rate": 0.1,
                "max_leaf_nodes": 15,
                "min_samples_leaf": 5,
                "max_iter": 100,
            }
        else:
            fit, val = split
            weights = _balanced_weights(y[val])
            best = None
            for config in self.search:
                m = self._early_stopped(config, X, y, fit, val)
                loss = float(
                    log_loss(
                        y[val],
                        m.predict_proba(X.iloc[val]),
                        labels=m.classes_,
                        sample_weight=weights,
                    )
                )
                row = {
                    "learning_rate": config[0],
                    "max_leaf_nodes": config[1],
                    "min_samples_leaf": config[2],
                    "max_iter": int(m.n_iter_),
                    "validation_log_loss": loss,
                }
                self.search_results_.append(row)
                if best is None or loss < best["validation_log_loss"]:
                    best = row
            self.best_params_ = {k: v for k, v in best.items() if k != "validation_log_loss"}
        bp = self.best_params_
        self.model_ = self._model(
            bp["learning_rate"],
            bp["max_leaf_nodes"],
            min(bp["min_samples_leaf"], max(1, len(y) // 10)),
            # more rows than the search saw support a few more trees (as in a final refit)
            max_iter=max(1, round(bp["max_iter"] * (len(y) / searched) ** 0.5)),
            early_stopping=False,
        ).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _logreg() -> Pipeline:
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=1000, class_weight="balanced")),
        ]
    )


def _tfidf_logreg() -> Pipeline:
    """TF-IDF of the customer document ⊕ the scaled numbers (if any) → logistic regression.

    Word unigrams and bigrams for languages written with spaces, character 1–3-grams within
    word boundaries for Chinese (and for misspellings); both sparse, hstacked with the numbers.
    """
    tfidf = dict(sublinear_tf=True, max_features=100_000, dtype=np.float32)
    text = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", **tfidf
                ),
            ),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), **tfidf)),
        ]
    )
    numbers = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    return Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("text", text, DOCUMENT_COLUMN),
                        ("numbers", numbers, make_column_selector(dtype_include="number")),
                    ],
                    sparse_threshold=1.0,
                ),
            ),
            ("model", LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")),
        ]
    )


@dataclass(frozen=True)
class BaselineSpec:
    """A baseline: a factory of an unfitted classifier and what it reads."""

    factory: Callable[[], Any]
    reads_text: bool = False  # True: the documents (⊕ the numbers when there are any)


BASELINES: dict[str, BaselineSpec] = {
    "logistic_regression": BaselineSpec(_logreg),
    "gradient_boosting": BaselineSpec(TunedGradientBoosting),
    "tfidf_logistic_regression": BaselineSpec(_tfidf_logreg, reads_text=True),
}


BASELINE_LABELS = {
    "logistic_regression": "Logistic regression",
    "gradient_boosting": "Gradient boosting (tuned)",
    "tfidf_logistic_regression": "TF-IDF + logistic regression",
}


# Model names are stored in English (evaluation.json, cv.parquet); said in Chinese on screen.
_MODEL_LABELS_ZH = {
    "fine-tuned text + numbers": "微调模型（文本 + 数值）",
    "fine-tuned text": "微调模型（文本）",
    "fine-tuned numbers": "微调模型（数值）",
    "fine-tuned": "微调模型",
    "logistic_regression": "逻辑回归",
    "gradient_boosting": "梯度提升（已调参）",
    "tfidf_logistic_regression": "TF-IDF 文本 + 逻辑回归",
}


def model_label(name: str, lang: str = "en") -> str:
    """A stored model name (the fine-tuned model or a baseline) as shown in `lang`."""
    return _MODEL_LABELS_ZH.get(name, name) if lang == "zh" else name


def baseline_models() -> dict[str, Callable[[], Any]]:
    """Name → factory of an unfitted scikit-learn classifier (fresh on every call)."""
    return {name: spec.factory for name, spec in BASELINES.items()}


def _numeric_columns(X: pd.DataFrame) -> list[str]:
    return [
        c
        for c in X.columns
        if c not in ("customer_id", DOCUMENT_COLUMN)
        and (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))
    ]


def numeric_matrix(X: pd.DataFrame) -> pd.DataFrame:
    """The numeric feature columns of X as float (bools → 0/1, ±inf → NaN); ids / text dropped."""
    cols = _numeric_columns(X)
    if not cols:
        raise ValueError("no numeric feature columns to train the baselines on")
    out = X[cols].astype(float)
    return out.replace([np.inf, -np.inf], np.nan)


def _baseline_inputs(
    X: pd.DataFrame | None, texts: Sequence[str] | None, n: int
) -> dict[bool, pd.DataFrame]:
    """reads_text → the frame those baselines fit on (absent when that input is missing)."""
    if X is not None and len(X) != n:
        raise ValueError(f"X has {len(X)} rows but there are {n} labels")
    numbers = numeric_matrix(X) if X is not None and _numeric_columns(X) else None
    out: dict[bool, pd.DataFrame] = {}
    if numbers is not None:
        out[False] = numbers.reset_index(drop=True)
    if texts is not None:
        if len(texts) != n:
            raise ValueError(f"{len(texts)} documents but there are {n} labels")
        docs = ["" if t is None else str(t) for t in texts]
        if any(_WORD.search(d) for d in docs):  # all-blank documents: nothing to learn from
            base = out.get(False, pd.DataFrame(index=range(n)))
            out[True] = base.assign(**{DOCUMENT_COLUMN: docs})
    if not out:
        raise ValueError("no numeric feature columns or documents to train the baselines on")
    return out


_WORD = re.compile(r"\w")


def _baselines_for(
    inputs: dict[bool, pd.DataFrame], models: Sequence[str] | None
) -> list[tuple[str, BaselineSpec, pd.DataFrame]]:
    names = list(models) if models is not None else list(BASELINES)
    out = []
    for name in names:
        if name not in BASELINES:
            raise ValueError(f"unknown baseline {name!r} (choose from {', '.join(BASELINES)})")
        spec = BASELINES[name]
        if spec.reads_text in inputs:
            out.append((name, spec, inputs[spec.reads_text]))
        elif models is not None:
            needs = "documents" if spec.reads_text else "numeric feature columns"
            raise ValueError(f"baseline {name!r} needs {needs}")
    return out


def _fit_predict(
    factory: Callable[[], Any], X: pd.DataFrame, y: np.ndarray, tr, te, classes: list[str]
) -> np.ndarray:
    model = factory()
    Xtr, Xte = X.iloc[tr], X.iloc[te]
    model.fit(Xtr, y[tr])
    raw = model.predict_proba(Xte)
    proba = np.zeros((len(te), len(classes)))
    pos = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        if str(c) in pos:
            proba[:, pos[str(c)]] = raw[:, j]
    return proba


def run_baselines(
    X: pd.DataFrame | None,
    y: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    classes: list[str],
    models: Sequence[str] | None = None,
    texts: Sequence[str] | None = None,
) -> list[Evaluation]:
    """Fit each baseline on train rows and evaluate on test rows (same split as the transformer).

    The numeric baselines run when X has numeric columns, the text baseline when `texts` (one
    document per row of X / y) are given; with both, the text baseline reads both.
    """
    y = np.asarray([str(v) for v in y], dtype=object)
    classes = [str(c) for c in classes]
    inputs = _baseline_inputs(X, texts, len(y))
    out: list[Evaluation] = []
    for name, spec, frame in _baselines_for(inputs, models):
        proba = _fit_predict(
            spec.factory, frame, y, np.asarray(train_idx), np.asarray(test_idx), classes
        )
        out.append(evaluate_predictions(y[test_idx], proba, classes, name))
    return out


def cross_validate_baselines(
    X: pd.DataFrame | None,
    y: np.ndarray,
    classes: list[str],
    k: int = 5,
    seed: int = 0,
    texts: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per (model, fold): accuracy, macro_f1, macro_auc. See :func:`cv_summary` for mean ± std."""
    y = np.asarray([str(v) for v in y], dtype=object)
    classes = [str(c) for c in classes]
    inputs = _baseline_inputs(X, texts, len(y))
    folds = kfold_indices(y, k=k, seed=seed)
    rows = []
    for name, spec, frame in _baselines_for(inputs, None):
        for fold, (tr, te) in enumerate(folds):
            ev = evaluate_predictions(
                y[te], _fit_predict(spec.factory, frame, y, tr, te, classes), classes, name
            )
            rows.append(cv_row(ev, fold))
    return pd.DataFrame(rows, columns=CV_COLUMNS)


CV_COLUMNS = ["model", "fold", "accuracy", "macro_f1", "macro_auc"]


def cv_row(ev: Evaluation, fold: int, model: str | None = None) -> dict[str, Any]:
    """One cross-validation row (see :data:`CV_COLUMNS`) from a fold's evaluation."""
    return {
        "model": model or ev.model_name,
        "fold": fold,
        "accuracy": ev.accuracy,
        "macro_f1": ev.macro_f1,
        "macro_auc": np.nan if ev.macro_auc is None else ev.macro_auc,
    }


def cv_summary(cv: pd.DataFrame) -> pd.DataFrame:
    """Per model: mean and std of each metric over folds, plus "0.812 ± 0.014" text columns."""
    metrics = [m for m in ("accuracy", "macro_f1", "macro_auc") if m in cv.columns]
    g = cv.groupby("model", sort=False)[metrics]
    mean, std = g.mean(), g.std(ddof=1).fillna(0.0)
    out = pd.DataFrame(index=mean.index)
    for m in metrics:
        out[f"{m}_mean"] = mean[m]
        out[f"{m}_std"] = std[m]
        out[m] = [
            "n/a" if pd.isna(a) else f"{a:.3f} ± {s:.3f}"
            for a, s in zip(mean[m], std[m], strict=True)
        ]
    out["folds"] = g.size()
    return out.reset_index().sort_values("macro_f1_mean", ascending=False, ignore_index=True)


def compare_table(evals: Sequence[Evaluation]) -> pd.DataFrame:
    """model, accuracy, macro_f1, macro_auc — best macro-F1 first."""
    df = pd.DataFrame(
        [
            {
                "model": e.model_name,
                "accuracy": e.accuracy,
                "macro_f1": e.macro_f1,
                "macro_auc": np.nan if e.macro_auc is None else e.macro_auc,
            }
            for e in evals
        ],
        columns=["model", "accuracy", "macro_f1", "macro_auc"],
    )
    return df.sort_values("macro_f1", ascending=False, ignore_index=True, kind="stable")


def model_scores(ev: Evaluation) -> dict[str, Any]:
    """{name, accuracy, macro_f1, macro_auc} of one evaluation (JSON-safe; no AUC → None)."""
    return {
        "name": ev.model_name,
        "accuracy": _f(ev.accuracy),
        "macro_f1": _f(ev.macro_f1),
        "macro_auc": _f(ev.macro_auc),
    }


def compare_with_best_baseline(model: Evaluation, baselines: Sequence[Evaluation]) -> dict | None:
    """Does `model` beat the best of `baselines`? None when there are no baselines.

    Compared on macro ROC-AUC when the model and every baseline have one, else on macro-F1;
    the best baseline is the one with the highest score on that metric, and the model beats it
    only when strictly higher. Returns {best_baseline, metric, model_score, baseline_score,
    model_beats_best_baseline}.
    """
    if not baselines:
        return None
    metric = (
        "macro_auc" if all(_f(e.macro_auc) is not None for e in [model, *baselines]) else "macro_f1"
    )

    def score(e: Evaluation) -> float:
        v = _f(getattr(e, metric))
        return -math.inf if v is None else v

    best = max(baselines, key=score)
    return {
        "best_baseline": best.model_name,
        "metric": metric,
        "model_score": _f(getattr(model, metric)),
        "baseline_score": _f(getattr(best, metric)),
        "model_beats_best_baseline": bool(score(model) > score(best)),
    }
