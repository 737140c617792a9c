"""Scoring reproduces the training set-up: a time-split model scores as of its cutoff on its own
dataset (the same numbers the evaluation saw), says so, warns when the features overlap the
period its labels came from, and needs an explicit date on another dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.datasets import create_demo_dataset
from core.finetune import (
    FinetuneParams,
    load_predictions,
    run_finetune,
    score_dataset,
    scoring_plan,
)
from core.locale import LocalizedError
from core.workspace import Workspace


def _codes(notes) -> list[str]:
    return [n.phrase.key for n in notes]


META = {"dataset_id": "shop", "target": "churn_90d", "target_kind": "churn", "time_split": True,
        "horizon_days": 90, "cutoff": "2025-06-01T00:00:00"}  # fmt: skip


def test_plan_defaults_to_the_training_cutoff_on_the_training_dataset():
    plan = scoring_plan(META, "shop")
    assert plan.cutoff == META["cutoff"] and _codes(plan.notes) == ["training_cutoff"]


def test_plan_needs_a_date_on_another_dataset():
    with pytest.raises(LocalizedError) as exc:
        scoring_plan(META, "other")
    assert exc.value.key == "score_needs_cutoff"
    assert scoring_plan(META, "other", "latest").cutoff is None
    assert scoring_plan(META, "other", "2025-09-01").cutoff.startswith("2025-09-01")
    with pytest.raises(LocalizedError):
        scoring_plan(META, "other", "next tuesday")


def test_plan_for_a_label_model_keeps_its_feature_cutoff_only_on_its_dataset():
    meta = {"dataset_id": "shop", "target": "persona", "target_kind": "label_column",
            "cutoff": None}  # fmt: skip
    assert scoring_plan(meta, "shop").cutoff is None
    assert scoring_plan(meta, "other").cutoff is None


@pytest.fixture(scope="module")
def churn_run(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("score"))
    create_demo_dataset(ws, n_customers=500, seed=3)
    p = FinetuneParams(target="churn", use_text=False, epochs=2, batch_size=64, baselines=False)
    return ws, run_finetune(ws, "demo", p)


def test_default_scores_reproduce_the_evaluation(churn_run):
    ws, run = churn_run
    scored = score_dataset(ws, run.path / "bundle", "demo")
    assert _codes(scored.attrs["notes"]) == ["as_of", "training_cutoff", "predicts"]
    pred = load_predictions(ws, run.id).set_index("customer_id")
    got = scored.set_index("customer_id").loc[pred.index]
    # the same customers get the probabilities the evaluation was computed from
    np.testing.assert_allclose(got["p_churned"], pred["p_churned"], atol=1e-5)


def test_scores_as_of_the_end_of_the_data_warn_about_the_label_period(churn_run):
    ws, run = churn_run
    scored = score_dataset(ws, run.path / "bundle", "demo", as_of="latest")
    codes = _codes(scored.attrs["notes"])
    assert codes[0] == "as_of_latest" and "leak" in codes
    cutoff = pd.Timestamp(run.summary.get("cutoff") or load_bundle_cutoff(run))
    assert pd.Timestamp(scored.attrs["as_of"]) > cutoff
    before = score_dataset(ws, run.path / "bundle", "demo", as_of=f"{cutoff:%Y-%m-%d}")
    assert "leak" not in _codes(before.attrs["notes"])


def load_bundle_cutoff(run) -> str:
    import json

    return json.loads((run.path / "bundle" / "bundle.json").read_text())["meta"]["cutoff"]
