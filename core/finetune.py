"""Fine-tuning as one call, saved as a workspace run (what a background "train" job executes).

target → features (at the target's cutoff) → documents → holdout split → fine-tune the
fusion model → evaluate on the holdout next to baselines trained on the same split → save:

    params.json, bundle/ (safetensors + JSON), evaluation.json (model + baselines),
    predictions.parquet (customer_id, split, true, predicted, p_<class>), history.json
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.datasets import FeatureConfig, compute_dataset_features, load_feature_config
from core.documents import DocumentSpec, build_documents
from core.locale import LocalizedError, LocalText, phrase_dicts
from core.workspace import RunInfo, Workspace, atomic_write_json, atomic_write_parquet

Progress = Callable[[str, float], None]


# Errors a user meets on the Train and Evaluate pages, in each interface language.
_ERRORS = {
    "en": {
        "needs_customers": "a label-column target needs a customers table",
        "choose_label": "choose the label column to predict",
        "churn_needs_orders": "a churn target needs an orders table",
        "value_tier_needs_orders": "a value_tier target needs an orders table",
        "choose_run": "choose the segmentation run whose segments to predict",
        "choose_campaign": "choose the campaign whose responses to learn",
        "too_few": "only {n} customers have both features and a label; need at least 20",
        "no_inputs": "choose review text, numeric features, or both",
        "needs_reviews": "this model reads customer documents; provide reviews to score with it",
        "score_needs_cutoff": "this model predicts '{target}' in the {days} days after a cutoff "
        "(trained with {cutoff}); to score another dataset, say as of which date: a date "
        "(features from the data before it) or 'latest' (as of the end of its data)",
        "bad_as_of": "score as of {value}: expected a date such as 2025-06-30 or 'latest'",
    },
    "zh": {
        "needs_customers": "以标签列为目标需要客户表",
        "choose_label": "请选择要预测的标签列",
        "churn_needs_orders": "流失目标需要订单表",
        "value_tier_needs_orders": "价值层级目标需要订单表",
        "choose_run": "请选择要预测其分群的分群运行",
        "choose_campaign": "请选择要学习其响应的营销活动",
        "too_few": "只有 {n} 位客户同时有特征和标签；至少需要 20 位",
        "no_inputs": "请选择评论文本、数值特征，或两者都选",
        "needs_reviews": "该模型需要读取客户文档；请提供评论数据后再用它打分",
        "score_needs_cutoff": "该模型预测截止日期之后 {days} 天内的“{target}”（训练时截止日期为 "
        "{cutoff}）；为其他数据集打分时，请指定以哪一天为准：一个日期（使用该日期之前的数据计算特征），"
        "或 'latest'（以其数据的最后一天为准）",
        "bad_as_of": "打分日期 {value}：应为 2025-06-30 这样的日期或 'latest'",
    },
}


# What a user should know about a set of scores (the CLI prints them; the page shows them).
SCORE_NOTES = {
    "en": {
        "as_of": "scored as of {date}: features from the data before it",
        "as_of_latest": "scored as of the end of the data ({date})",
        "training_cutoff": "as in training and evaluation (cutoff {date})",
        "predicts": "the scores predict '{target}' in the {days} days after {date}",
        "leak": "the features use data up to {date}, inside the period the model's labels came "
        "from ({start} to {end}): do not compare these scores with those labels",
        "old_bundle": "this bundle does not record its feature definitions; features were "
        "computed with the dataset's current catalogue",
    },
    "zh": {
        "as_of": "打分日期 {date}：使用该日期之前的数据计算特征",
        "as_of_latest": "以数据的最后一天（{date}）为准打分",
        "training_cutoff": "与训练和评估相同（截止日期 {date}）",
        "predicts": "分数预测 {date} 之后 {days} 天内的“{target}”",
        "leak": "特征用到了截至 {date} 的数据，落在模型标签所取的时间段（{start} 至 {end}）之内："
        "请勿将这些分数与那些标签比较",
        "old_bundle": "该模型包未记录特征定义；特征按数据集当前的特征目录计算",
    },
}


# Progress of a training job (status.json keeps English and the other languages beside it).
_PROGRESS = {
    "en": {
        "target": "Building the target",
        "features": "Computing features",
        "features_before": "Computing features before {cutoff}",
        "documents": "Writing customer documents",
        "encoder": "Loading the encoder",
        "step": "Training: step {step}/{total}, loss {loss}, {speed} samples/s",
        "holdout": "Evaluating on the holdout",
        "baselines": "Training baselines on the same split",
        "fold": "Cross-validation: fold {fold} of {folds}",
        "saving": "Saving the model bundle",
        "done": "Done",
    },
    "zh": {
        "target": "正在构建目标",
        "features": "正在计算特征",
        "features_before": "正在计算 {cutoff} 之前的特征",
        "documents": "正在生成客户文档",
        "encoder": "正在加载编码器",
        "step": "训练中：第 {step}/{total} 步，损失 {loss}，每秒 {speed} 个样本",
        "holdout": "正在留出集上评估",
        "baselines": "正在同一划分上训练基线模型",
        "fold": "交叉验证：第 {fold} 折，共 {folds} 折",
        "saving": "正在保存模型包",
        "done": "完成",
    },
}


@dataclass
class FinetuneParams:
    target: str = "label_column"  # label_column | churn | value_tier | cluster | campaign
    label_column: str | None = None  # for label_column (a customers column, e.g. 'persona')
    segment_run: str | None = None  # for cluster (for campaign: where to look first)
    campaign: str | None = None  # for campaign: a campaign id (core.campaign)
    cutoff: str | None = None  # for churn / value_tier (default: last order − horizon)
    horizon_days: int = 90
    use_text: bool = True
    use_numeric: bool = True
    include_profile_text: bool = False
    features: list[str] | None = None  # numeric feature names (default: all computed)
    encoder: str = "default"
    pooling: str = "mean"
    max_length: int = 128
    epochs: int = 3
    batch_size: int = 16
    lr: float = 5e-5
    head_lr: float = 1e-3
    grad_accum: int = 1
    patience: int = 2
    device: str = "auto"
    seed: int = 0
    test_size: float = 0.2
    max_customers: int | None = None  # subsample for speed (stratified)
    baselines: bool = True
    cv_folds: int = 0  # > 1: also k-fold cross-validate the fine-tuned model and the baselines

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_target(ws: Workspace, dataset_id: str, p: FinetuneParams):
    from core import targets as T

    if p.target == "label_column":
        customers = ws.load_table(dataset_id, "customers")
        if customers is None:
            raise LocalizedError(_ERRORS, "needs_customers")
        if not p.label_column:
            raise LocalizedError(_ERRORS, "choose_label")
        from core.datasets import resolve_column

        # `--label-column Churn` means the uploaded column, wherever ingest stored it.
        p.label_column = resolve_column(ws, dataset_id, "customers", p.label_column)
        return T.label_column_target(customers, p.label_column)
    if p.target in ("churn", "value_tier"):
        orders = ws.load_table(dataset_id, "orders")
        if orders is None:
            raise LocalizedError(_ERRORS, f"{p.target}_needs_orders")
        cutoff = p.cutoff or T.suggest_cutoff(orders, p.horizon_days)
        fn = T.churn_target if p.target == "churn" else T.value_tier_target
        return fn(orders, cutoff, horizon_days=p.horizon_days)
    if p.target == "cluster":
        if not p.segment_run:
            raise LocalizedError(_ERRORS, "choose_run")
        from core.pipeline import load_segments

        run = ws.get_run(p.segment_run)
        feats = run.params.get("features") or []
        return T.cluster_target(
            load_segments(ws, p.segment_run),
            features=feats or None,
            method=run.params.get("method"),
        )
    if p.target == "campaign":
        if not p.campaign:
            raise LocalizedError(_ERRORS, "choose_campaign")
        from core.campaign import load_campaign

        c = load_campaign(ws, p.campaign, run_id=p.segment_run, dataset_id=dataset_id)
        return T.campaign_target(c.results(), name=f"responds to {c.name}", campaign_id=c.id)
    raise ValueError(f"unknown target kind {p.target!r}")


def run_finetune(
    ws: Workspace,
    dataset_id: str,
    params: FinetuneParams | None = None,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_id: str | None = None,
    encoder_override=None,  # (encoder module, tokenizer) — tests pass a tiny BERT
) -> RunInfo:
    p = params or FinetuneParams()
    say = progress or (lambda m, f: None)
    run = ws.get_run(run_id) if run_id else ws.create_run(dataset_id, "train", p.to_dict())
    atomic_write_json(run.path / "params.json", p.to_dict())
    ws.update_run(run.id, status="running")
    try:
        return _finetune(ws, dataset_id, p, run, say, should_stop, encoder_override)
    except BaseException as exc:
        if run_id is None:  # a job runner records its own failure state
            ws.update_run(run.id, status="failed", summary={"error": str(exc)})
        raise


def _finetune(ws, dataset_id, p, run, say, should_stop, encoder_override) -> RunInfo:
    from core.evaluate import evaluate_predictions, model_scores, run_baselines, split_holdout
    from core.model import (
        FusionClassifier,
        ModelBundle,
        ModelConfig,
        NumericPreprocessor,
        load_encoder,
    )
    from core.targets import TRAIN_WARNINGS, leakage_check
    from core.train import TrainCallbacks, TrainConfig, TrainData, infer, train

    t0 = time.perf_counter()

    say(LocalText(_PROGRESS, "target"), 0.01)
    target = build_target(ws, dataset_id, p)
    saved = load_feature_config(ws, dataset_id)
    cutoff = target.cutoff.isoformat() if target.cutoff else saved.cutoff
    config = saved.with_cutoff(cutoff)
    say(
        LocalText(_PROGRESS, "features_before", cutoff=cutoff[:10])
        if cutoff
        else LocalText(_PROGRESS, "features"),
        0.03,
    )
    ft = compute_dataset_features(ws, dataset_id, config)
    data = ft.data.merge(target.labels, on="customer_id", how="inner")
    if p.target == "label_column" and p.label_column in data.columns and p.label_column != "label":
        data = data.drop(columns=[p.label_column])
    if len(data) < 20:
        raise LocalizedError(_ERRORS, "too_few", n=len(data))
    if p.max_customers and len(data) > p.max_customers:
        from sklearn.model_selection import train_test_split

        data, _ = train_test_split(
            data,
            train_size=p.max_customers,
            random_state=p.seed,
            stratify=data["label"] if data["label"].value_counts().min() > 1 else None,
        )
        data = data.reset_index(drop=True)
    classes = list(target.classes)
    y = data["label"].map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    # Features made from the column being predicted (its 0/1 indicators) would be the answer.
    leaky = {
        f.name for f in ft.features if p.target == "label_column" and f.attribute == p.label_column
    }
    wanted = [
        n
        for n in (p.features if p.features is not None else [f.name for f in ft.features])
        if n not in leaky
    ]
    numeric_cols = [c for c in wanted if c in data.columns] if p.use_numeric else []
    if not numeric_cols and not p.use_text:
        raise LocalizedError(_ERRORS, "no_inputs")
    warnings = list(target.warnings) + leakage_check(target, numeric_cols if p.use_numeric else [])

    say(LocalText(_PROGRESS, "documents"), 0.05)
    texts = None
    if p.use_text:
        docs = build_documents(
            data[["customer_id", *[c for c in ft.data.columns if c != "customer_id"]]],
            _before(ws.load_table(dataset_id, "reviews"), "review_date", cutoff),
            ws.load_table(dataset_id, "customers"),
            DocumentSpec(include_profile=p.include_profile_text),
            text_attributes=ft.text_attributes,
        )
        texts = docs["document"].tolist()
        if not any(t.strip() for t in texts):
            warnings.append(LocalText(TRAIN_WARNINGS, "no_text"))
            texts = None

    tr_idx, te_idx = split_holdout(
        data[["customer_id", "label"]], test_size=p.test_size, seed=p.seed
    )
    pre = (
        NumericPreprocessor().fit(data.iloc[tr_idx], numeric_cols)
        if p.use_numeric and numeric_cols
        else None
    )
    X = pre.transform(data) if pre else None

    say(LocalText(_PROGRESS, "encoder"), 0.07)
    encoder = tokenizer = None
    if texts is not None:
        encoder, tokenizer = encoder_override if encoder_override else load_encoder(p.encoder)
    mcfg = ModelConfig(
        classes=classes,
        numeric_columns=pre.columns if pre else [],
        encoder=p.encoder,
        use_text=texts is not None,
        pooling=p.pooling,
        max_length=p.max_length,
    )
    model = FusionClassifier(mcfg, encoder)
    initial = copy.deepcopy(model) if p.cv_folds and p.cv_folds > 1 else None

    def subset(idx):
        return TrainData(
            [texts[i] for i in idx] if texts is not None else None,
            X[idx] if X is not None else None,
            y[idx],
        )

    # Early stopping looks at a validation slice carved from the training part, never the holdout.
    rng = np.random.default_rng(p.seed)
    perm = rng.permutation(tr_idx)
    n_val = max(1, int(0.1 * len(perm)))
    val_idx, fit_idx = perm[:n_val], perm[n_val:]
    history: list[dict] = []

    def on_step(s: dict) -> None:
        history.append({"kind": "step", **s})
        say(
            LocalText(
                _PROGRESS,
                "step",
                step=f"{s['step']:,}",
                total=f"{s['total_steps']:,}",
                loss=f"{s['loss']:.3f}",
                speed=f"{s['samples_per_s']:.0f}",
            ),
            0.1 + 0.75 * s["step"] / s["total_steps"],
        )

    def on_eval(m: dict) -> None:
        history.append({"kind": "eval", **m})
        atomic_write_json(run.path / "history.json", history)

    tcfg = TrainConfig(
        epochs=p.epochs,
        batch_size=p.batch_size,
        lr=p.lr,
        head_lr=p.head_lr,
        grad_accum=p.grad_accum,
        max_length=p.max_length,
        patience=p.patience,
        device=p.device,
        seed=p.seed,
    )
    result = train(
        model,
        tokenizer,
        subset(fit_idx),
        subset(val_idx),
        tcfg,
        TrainCallbacks(on_step=on_step, on_eval=on_eval, should_stop=should_stop),
        checkpoint_dir=run.path / "checkpoints",
        resume=True,
    )
    atomic_write_json(run.path / "history.json", history)

    say(LocalText(_PROGRESS, "holdout"), 0.88)
    # One pass over everyone gives the holdout's probabilities, every customer's prediction and
    # the fine-tuned representation (for maps and segmentation: "vectors from a model").
    all_proba, embeddings = infer(
        model,
        subset(np.arange(len(data))),
        tokenizer,
        max_length=p.max_length,
        device=result.device,
    )
    proba = all_proba[te_idx]
    name = "fine-tuned " + (
        "text + numbers"
        if texts is not None and pre
        else "text"
        if texts is not None
        else "numbers"
    )
    evals = [evaluate_predictions(data["label"].to_numpy()[te_idx], proba, classes, name)]
    if p.baselines and (numeric_cols or texts is not None):
        say(LocalText(_PROGRESS, "baselines"), 0.93)
        # The same inputs as the fine-tuned model: its numbers, and its documents for the text one.
        evals += run_baselines(
            data[numeric_cols] if numeric_cols else None,
            data["label"].to_numpy(),
            tr_idx,
            te_idx,
            classes,
            texts=texts,
        )
    atomic_write_json(run.path / "evaluation.json", [e.to_dict() for e in evals])

    if initial is not None:
        cv = _cross_validate(
            initial, tokenizer, data, texts, numeric_cols, classes, p, tcfg, say, should_stop
        )
        atomic_write_parquet(run.path / "cv.parquet", cv)

    np.save(run.path / "embeddings.npy", embeddings, allow_pickle=False)
    pred = pd.DataFrame(
        {
            "customer_id": data["customer_id"],
            "split": "train",
            "true": data["label"],
            "predicted": [classes[i] for i in all_proba.argmax(1)],
        }
    )
    pred.loc[te_idx, "split"] = "test"
    pred.loc[val_idx, "split"] = "validation"
    for j, c in enumerate(classes):
        pred[f"p_{c}"] = all_proba[:, j]
    atomic_write_parquet(run.path / "predictions.parquet", pred)

    say(LocalText(_PROGRESS, "saving"), 0.98)
    ModelBundle(
        model.cpu(),
        tokenizer,
        pre or NumericPreprocessor(),
        mcfg,
        {
            "dataset_id": dataset_id,
            "target": target.name,
            "target_kind": target.kind,
            "cutoff": cutoff,
            "time_split": target.is_time_split,
            "horizon_days": target.horizon_days,
            # The definitions of the numbers the model reads, so scoring computes the same ones.
            "features": [f.to_dict() for f in ft.features if f.name in set(numeric_cols)],
            "text_attributes": ft.text_attributes,
            "include_profile_text": p.include_profile_text,
            "train": result.__dict__ | {"history": result.history},
        },
    ).save(run.path / "bundle")
    summary = {
        "target": target.name,
        "target_kind": target.kind,
        "classes": classes,
        "n_customers": len(data),
        "n_train": len(fit_idx),
        "n_validation": len(val_idx),
        "n_test": len(te_idx),
        "status": result.status,
        "best_epoch": result.best_epoch,
        "test_macro_f1": evals[0].macro_f1,
        "test_accuracy": evals[0].accuracy,
        "test_macro_auc": evals[0].macro_auc,
        "baselines": {e.model_name: e.macro_f1 for e in evals[1:]},  # macro-F1, as pages read it
        "models": [model_scores(e) for e in evals],  # the fine-tuned model first
        **_baseline_verdict(evals),
        "samples_per_s": round(result.samples_per_s, 1),
        "device": result.device,
        "seconds": round(time.perf_counter() - t0, 1),
        "warnings": [str(w) for w in warnings],
        "warning_phrases": phrase_dicts(warnings),
    }
    atomic_write_json(run.path / "summary.json", summary)
    say(LocalText(_PROGRESS, "done"), 1.0)
    return ws.update_run(run.id, status="done", summary=summary)


def _baseline_verdict(evals) -> dict[str, Any]:
    """Summary keys saying whether the fine-tuned model (evals[0]) beats the best baseline."""
    from core.evaluate import compare_with_best_baseline

    verdict = compare_with_best_baseline(evals[0], evals[1:])
    if verdict is None:
        return {"best_baseline": None, "beats_best_baseline": None}
    return {
        "best_baseline": {
            "name": verdict["best_baseline"],
            "metric": verdict["metric"],
            "score": verdict["baseline_score"],
            "model_score": verdict["model_score"],
        },
        "beats_best_baseline": verdict["model_beats_best_baseline"],
    }


def _cross_validate(
    initial, tokenizer, data, texts, numeric_cols, classes, p, tcfg, say, should_stop
) -> pd.DataFrame:
    """k-fold accuracy / macro-F1 / macro-AUC of a freshly fine-tuned model per fold, and of the
    baselines on the same folds."""
    from core.evaluate import (
        CV_COLUMNS,
        cross_validate_baselines,
        cv_row,
        evaluate_predictions,
        kfold_indices,
    )
    from core.model import NumericPreprocessor
    from core.train import TrainCallbacks, TrainData, predict_proba, train

    y_text = data["label"].astype(str).to_numpy()
    y = data["label"].map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    rows = []
    folds = kfold_indices(y_text, k=p.cv_folds, seed=p.seed)
    for fold, (tr, te) in enumerate(folds):
        say(
            LocalText(_PROGRESS, "fold", fold=fold + 1, folds=len(folds)),
            0.93 + 0.04 * fold / len(folds),
        )
        pre = (
            NumericPreprocessor().fit(data.iloc[tr], numeric_cols)
            if initial.numeric is not None
            else None
        )
        X = pre.transform(data) if pre else None

        def subset(idx, X=X):
            return TrainData(
                [texts[i] for i in idx] if texts is not None else None,
                X[idx] if X is not None else None,
                y[idx],
            )

        rng = np.random.default_rng(p.seed + fold)
        perm = rng.permutation(tr)
        n_val = max(1, int(0.1 * len(perm)))
        model = copy.deepcopy(initial)
        res = train(
            model,
            tokenizer,
            subset(perm[n_val:]),
            subset(perm[:n_val]),
            tcfg,
            TrainCallbacks(should_stop=should_stop),
        )
        proba = predict_proba(
            model, subset(te), tokenizer, max_length=p.max_length, device=res.device
        )
        ev = evaluate_predictions(y_text[te], proba, classes, "fine-tuned")
        rows.append(cv_row(ev, fold))
    out = pd.DataFrame(rows, columns=CV_COLUMNS)
    if p.baselines and (numeric_cols or texts is not None):
        say(LocalText(_PROGRESS, "baselines"), 0.97)
        base = cross_validate_baselines(
            data[numeric_cols] if numeric_cols else None,
            y_text,
            classes,
            k=p.cv_folds,
            seed=p.seed,
            texts=texts,
        )
        out = pd.concat([out, base[CV_COLUMNS]], ignore_index=True)
    return out


def load_cv(ws: Workspace, run_id: str) -> pd.DataFrame | None:
    path = ws.get_run(run_id).path / "cv.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _before(df: pd.DataFrame | None, col: str, cutoff: str | None) -> pd.DataFrame | None:
    if df is None or cutoff is None or col not in df.columns:
        return df
    return df[df[col].isna() | (df[col] < pd.Timestamp(cutoff))]


def load_evaluations(ws: Workspace, run_id: str) -> list[dict]:
    path = ws.get_run(run_id).path / "evaluation.json"
    return json.loads(path.read_text()) if path.exists() else []


def load_predictions(ws: Workspace, run_id: str) -> pd.DataFrame:
    return pd.read_parquet(ws.get_run(run_id).path / "predictions.parquet")


def score(
    bundle,
    customers_features: pd.DataFrame,
    documents: list[str] | None = None,
    device: str = "cpu",
) -> pd.DataFrame:
    """Apply a bundle (a directory or a loaded ModelBundle): customer_id, predicted, p_<class>."""
    from core.model import ModelBundle
    from core.train import TrainData, predict_proba

    b = bundle if isinstance(bundle, ModelBundle) else ModelBundle.load(bundle, device=device)
    X = b.preprocessor.transform(customers_features) if b.config.numeric_columns else None
    if b.config.use_text and documents is None:
        raise LocalizedError(_ERRORS, "needs_reviews")
    data = TrainData(
        documents if b.config.use_text else None, X, np.zeros(len(customers_features), np.int64)
    )
    proba = predict_proba(b.model, data, b.tokenizer, max_length=b.config.max_length, device=device)
    out = pd.DataFrame(
        {
            "customer_id": customers_features["customer_id"].to_numpy(),
            "predicted": [b.config.classes[i] for i in proba.argmax(1)],
        }
    )
    for j, c in enumerate(b.config.classes):
        out[f"p_{c}"] = proba[:, j]
    return out


@dataclass
class ScoringPlan:
    """As of which date a bundle scores a dataset, and what the user should know about it."""

    cutoff: str | None  # features from data before this date; None: all the data
    notes: list = field(default_factory=list)  # LocalTexts (SCORE_NOTES)


def scoring_plan(meta: dict[str, Any], dataset_id: str, as_of: str | None = None) -> ScoringPlan:
    """Reproduce the training set-up when scoring.

    `as_of`: a date (features from the data before it), "latest" (all the data: a forecast
    from its end), or None: the training cutoff on the training dataset; for a time-split
    model on another dataset the date must be given (its cutoff means nothing there).
    """
    from core.targets import TIME_SPLIT_KINDS

    trained_cutoff = meta.get("cutoff")
    time_split = meta.get("time_split", meta.get("target_kind") in TIME_SPLIT_KINDS)
    same = meta.get("dataset_id") == dataset_id
    notes: list = []
    if as_of is None:
        if time_split and not same:
            raise LocalizedError(
                _ERRORS,
                "score_needs_cutoff",
                target=meta.get("target", "?"),
                days=meta.get("horizon_days") or "?",
                cutoff=(trained_cutoff or "?")[:10],
            )
        cutoff = trained_cutoff if same else None
        if cutoff:
            notes.append(LocalText(SCORE_NOTES, "training_cutoff", date=cutoff[:10]))
    elif str(as_of).strip().lower() == "latest":
        cutoff = None
    else:
        try:
            cutoff = pd.Timestamp(str(as_of)).isoformat()
        except (ValueError, TypeError):
            raise LocalizedError(_ERRORS, "bad_as_of", value=repr(as_of)) from None
    return ScoringPlan(cutoff, notes)


def _leak_note(meta: dict[str, Any], dataset_id: str, ref_date) -> LocalText | None:
    """A time-split model scored on its own dataset with data past its training cutoff: the
    features overlap the period its labels came from, so the scores cannot be checked
    against those labels."""
    cutoff, days = meta.get("cutoff"), meta.get("horizon_days")
    if not (meta.get("time_split") and cutoff and days and meta.get("dataset_id") == dataset_id):
        return None
    start = pd.Timestamp(cutoff)
    if pd.Timestamp(ref_date) <= start:
        return None
    end = start + pd.Timedelta(days=int(days) - 1)
    return LocalText(
        SCORE_NOTES,
        "leak",
        date=f"{pd.Timestamp(ref_date):%Y-%m-%d}",
        start=f"{start:%Y-%m-%d}",
        end=f"{end:%Y-%m-%d}",
    )


def score_dataset(
    ws: Workspace,
    bundle_dir,
    dataset_id: str,
    device: str = "cpu",
    *,
    as_of: str | None = None,
) -> pd.DataFrame:
    """Score every customer of a workspace dataset with a saved bundle (loaded once).

    Features are the bundle's own definitions computed as of the date `scoring_plan` picks
    (the training cutoff by default on the training dataset). The frame's ``attrs`` hold
    ``as_of`` (the reference date used) and ``notes`` (LocalTexts, `SCORE_NOTES`).
    """
    from core.datasets import excluded_attributes
    from core.features import Feature, build_customer_features
    from core.model import ModelBundle

    b = ModelBundle.load(bundle_dir, device=device)
    plan = scoring_plan(b.meta, dataset_id, as_of)
    notes = list(plan.notes)
    saved = load_feature_config(ws, dataset_id)
    if "features" in b.meta:
        defs = [Feature.from_dict(f) for f in b.meta["features"]]
        ft = build_customer_features(
            ws.table_paths(dataset_id),
            [f for f in defs if f.group != "Custom"],
            custom=[f for f in defs if f.group == "Custom"],
            cutoff=plan.cutoff,
            include=[f.name for f in defs],
            exclude_attributes=excluded_attributes(ws, dataset_id),
        )
    else:
        ft = compute_dataset_features(
            ws,
            dataset_id,
            FeatureConfig(disabled=[], custom=saved.custom, cutoff=plan.cutoff),
        )
        notes.append(LocalText(SCORE_NOTES, "old_bundle"))
    feats = ft.data
    ref = f"{ft.ref_date:%Y-%m-%d}"
    notes.insert(
        0,
        LocalText(SCORE_NOTES, "as_of", date=ref)
        if plan.cutoff
        else LocalText(SCORE_NOTES, "as_of_latest", date=ref),
    )
    leak = _leak_note(b.meta, dataset_id, ft.ref_date)
    if leak is not None:
        notes.append(leak)
    if b.meta.get("time_split") and b.meta.get("horizon_days"):
        notes.append(
            LocalText(
                SCORE_NOTES,
                "predicts",
                target=b.meta.get("target", "?"),
                days=b.meta["horizon_days"],
                date=ref,
            )
        )
    docs = None
    if b.config.use_text:
        docs = build_documents(
            feats,
            _before(ws.load_table(dataset_id, "reviews"), "review_date", plan.cutoff),
            ws.load_table(dataset_id, "customers"),
            DocumentSpec(include_profile=bool(b.meta.get("include_profile_text"))),
            text_attributes=b.meta.get("text_attributes", []),
        )["document"].tolist()
    out = score(b, feats, docs, device=device)
    out.attrs["as_of"] = ref
    out.attrs["notes"] = notes
    return out
