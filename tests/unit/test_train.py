"""Fusion model and training loop with a tiny BERT built in code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core.encoders import tiny_bert
from core.model import FusionClassifier, ModelBundle, ModelConfig, NumericPreprocessor
from core.train import (
    TrainCallbacks,
    TrainConfig,
    TrainData,
    TrainingCancelled,
    predict_proba,
    train,
)

WORDS = [
    "coupon",
    "deal",
    "cheap",
    "broken",
    "refund",
    "awful",
    "gift",
    "wrapping",
    "lovely",
    "and",
    "the",
    "was",
]
BANKS = {
    0: ["coupon deal cheap", "cheap deal coupon", "the deal was cheap"],
    1: ["broken refund awful", "awful and broken", "the refund was awful"],
    2: ["gift wrapping lovely", "lovely gift", "the wrapping was lovely"],
}


def _data(n: int, seed: int, numeric_signal: bool = False) -> tuple[TrainData, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    texts = [BANKS[int(c)][rng.integers(0, 3)] for c in y]
    df = pd.DataFrame({"noise": rng.normal(size=n), "spend": rng.lognormal(3, 1, n)})
    if numeric_signal:
        df["signal"] = y + rng.normal(0, 0.1, n)
    return TrainData(texts=texts, numeric=None, labels=y.astype(np.int64)), df


@pytest.fixture(scope="module")
def tiny():
    return tiny_bert(seed=0, vocab_words=WORDS)


def _model(tiny, numeric_cols=()):
    enc, tok, _ = tiny
    import copy

    cfg = ModelConfig(
        classes=["deal", "unhappy", "gift"], numeric_columns=list(numeric_cols), max_length=32
    )
    return FusionClassifier(cfg, copy.deepcopy(enc)), tok


def test_text_model_learns_and_reports_progress(tiny):
    model, tok = _model(tiny)
    tr, _ = _data(240, 1)
    va, _ = _data(60, 2)
    steps, evals = [], []
    res = train(
        model,
        tok,
        tr,
        va,
        TrainConfig(epochs=4, batch_size=16, lr=3e-3, head_lr=3e-3, patience=4),
        TrainCallbacks(on_step=steps.append, on_eval=evals.append),
    )
    assert res.status == "done" and res.device == "cpu"
    assert len(evals) == 4 and steps[-1]["step"] == res.steps == steps[-1]["total_steps"]
    assert res.best_macro_f1 > 0.9
    proba = predict_proba(model, va, tok, max_length=32)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-5)
    assert (proba.argmax(1) == va.labels).mean() > 0.9


def test_numbers_only_model(tiny):
    _, df = _data(300, 3, numeric_signal=True)
    y = _data(300, 3)[0].labels
    pre = NumericPreprocessor().fit(df, ["noise", "spend", "signal"])
    X = pre.transform(df)
    assert pre.log[1]  # lognormal spend is log-compressed
    cfg = ModelConfig(classes=["a", "b", "c"], numeric_columns=pre.columns, use_text=False)
    model = FusionClassifier(cfg, None)
    data = TrainData(texts=None, numeric=X, labels=y)
    res = train(
        model, None, data, data, TrainConfig(epochs=15, batch_size=32, head_lr=1e-2, patience=15)
    )
    assert res.best_macro_f1 > 0.9


def test_bundle_roundtrip_without_pickle(tiny, tmp_path):
    model, tok = _model(tiny, numeric_cols=["noise", "spend"])
    tr, df = _data(64, 4)
    pre = NumericPreprocessor().fit(df, ["noise", "spend"])
    tr.numeric = pre.transform(df)
    train(model, tok, tr, tr, TrainConfig(epochs=1, batch_size=16))
    before = predict_proba(model, tr, tok, max_length=32)
    ModelBundle(model, tok, pre, model.config, {"note": "test"}).save(tmp_path / "bundle")
    files = {p.name for p in (tmp_path / "bundle").rglob("*") if p.is_file()}
    assert "model.safetensors" in files and "bundle.json" in files
    assert not any(f.endswith((".bin", ".pkl", ".pt")) for f in files)
    loaded = ModelBundle.load(tmp_path / "bundle")
    after = predict_proba(
        loaded.model,
        TrainData(tr.texts, loaded.preprocessor.transform(df), tr.labels),
        loaded.tokenizer,
        max_length=32,
    )
    np.testing.assert_allclose(before, after, atol=1e-5)
    assert loaded.meta == {"note": "test"} and loaded.config.classes == ["deal", "unhappy", "gift"]


def test_cancel_then_resume_finishes(tiny, tmp_path):
    model, tok = _model(tiny)
    tr, _ = _data(160, 5)
    va, _ = _data(40, 6)
    cfg = TrainConfig(
        epochs=3, batch_size=16, lr=3e-3, head_lr=3e-3, checkpoint_every=3, patience=5
    )
    calls = {"n": 0}

    def stop_after_7() -> bool:
        calls["n"] += 1
        return calls["n"] > 7

    with pytest.raises(TrainingCancelled):
        train(
            model,
            tok,
            tr,
            va,
            cfg,
            TrainCallbacks(should_stop=stop_after_7),
            checkpoint_dir=tmp_path,
        )
    assert (tmp_path / "checkpoint.pt").exists()
    model2, _ = _model(tiny)
    steps = []
    res = train(
        model2,
        tok,
        tr,
        va,
        cfg,
        TrainCallbacks(on_step=steps.append),
        checkpoint_dir=tmp_path,
        resume=True,
    )
    assert res.status == "done"
    assert steps[0]["step"] == 8  # picks up after the 7 steps already taken
    assert res.steps == 30 and len(res.history) == 3


def test_class_weights_and_bad_device(tiny):
    model, tok = _model(tiny)
    tr, _ = _data(32, 7)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            train(model, tok, tr, tr, TrainConfig(device="cuda"))


def test_preprocessor_errors_name_the_column():
    pre = NumericPreprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}), ["a"])
    with pytest.raises(ValueError, match="missing feature columns: a"):
        pre.transform(pd.DataFrame({"b": [1]}))
    with pytest.raises(ValueError, match="'a' is not numeric"):
        pre.transform(pd.DataFrame({"a": ["x", "y"]}))


def test_progress_is_reported_at_most_every_report_seconds_with_the_mean_loss(tiny):
    """Reading the loss waits for the GPU: between reports it is summed on the device, and a
    report gives the mean over the steps since the previous one (last step of an epoch always)."""
    tr, _ = _data(64, 11)
    va, _ = _data(16, 12)
    runs = {}
    for every in (0.0, 3600.0):
        torch.manual_seed(0)  # the same head for both runs
        model, tok = _model(tiny)
        steps = []
        cfg = TrainConfig(epochs=2, batch_size=8, lr=3e-3, head_lr=3e-3, report_seconds=every)
        train(model, tok, tr, va, cfg, TrainCallbacks(on_step=steps.append))
        runs[every] = steps
    each, rare = runs[0.0], runs[3600.0]
    assert [s["step"] for s in each] == list(range(1, 17))  # 8 steps per epoch, every one
    assert [s["step"] for s in rare] == [1, 8, 16]  # the first, then each epoch's last
    losses = [s["loss"] for s in each]
    assert rare[0]["loss"] == pytest.approx(losses[0], rel=1e-5)
    assert rare[1]["loss"] == pytest.approx(np.mean(losses[1:8]), rel=1e-5)
    assert rare[2]["loss"] == pytest.approx(np.mean(losses[8:16]), rel=1e-5)


def _frozen_run(tiny, tmp_path, epochs: int, patience: int):
    """A run whose validation score never improves after the first epoch (learning rates 0:
    the model does not change), on texts and labels read from a small CSV."""
    tr, _ = _data(48, 11)
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"text": tr.texts, "label": tr.labels}).to_csv(path, index=False)
    df = pd.read_csv(path)
    data = TrainData(texts=df["text"].tolist(), numeric=None, labels=df["label"].to_numpy(np.int64))
    model, tok = _model(tiny)
    evals = []
    res = train(
        model,
        tok,
        data,
        data,
        TrainConfig(epochs=epochs, batch_size=16, lr=0.0, head_lr=0.0, patience=patience),
        TrainCallbacks(on_eval=evals.append),
    )
    assert len({round(e["val_macro_f1"], 9) for e in evals}) == 1  # no epoch improves
    return res


def test_run_that_completes_every_epoch_is_done_not_early_stopped(tiny, tmp_path):
    # Patience (2) runs out exactly at the last of 3 epochs: every epoch ran.
    res = _frozen_run(tiny, tmp_path, epochs=3, patience=2)
    assert res.status == "done"
    assert len(res.history) == 3 and res.best_epoch == 0


def test_patience_that_ends_training_before_the_last_epoch_is_early_stopped(tiny, tmp_path):
    res = _frozen_run(tiny, tmp_path, epochs=6, patience=2)
    assert res.status == "early_stopped"
    assert len(res.history) == 3 and res.best_epoch == 0  # epochs 1 and 2 did not improve
