"""Run notes, job progress, training warnings, class values and core errors in 简体中文.

Stored files keep English (plus a structured form); the interface says them in the user's
language at display time.
"""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pandas as pd
import pytest

from core.locale import LocalText, error_text, text_in

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_local_text_is_english_and_says_itself_in_chinese():
    from core.segment import RUN_NOTES

    note = LocalText(RUN_NOTES, "feature_constant", feature="aov")
    assert note == "feature 'aov' is constant and is left out"
    assert text_in(note, "zh") == "特征 'aov' 是常数，未使用"
    assert text_in("plain data", "zh") == "plain data"
    again = pickle.loads(pickle.dumps(note))  # st.cache_data pickles values
    assert again == note and text_in(again, "zh") == text_in(note, "zh")


def test_clustering_notes_are_stored_english_with_phrases_and_shown_in_chinese():
    from core.pipeline import _clustering_notes
    from core.segment import make_segmenter, run_notes, scale_numeric

    rng = np.random.default_rng(0)
    X = rng.normal(size=(900, 2)).astype(np.float32)
    seg = make_segmenter("hdbscan", max_rows=300, min_cluster_size=200)
    labels = seg.fit_predict(X)
    notes = _clustering_notes(seg, labels)
    _, _, scale = scale_numeric(
        pd.DataFrame({"customer_id": ["a", "b"], "flat": [1.0, 1.0], "x": [1.0, 2.0]})
    )
    notes += scale
    from core.locale import phrase_dicts

    summary = json.loads(
        json.dumps({"notes": [str(n) for n in notes], "note_phrases": phrase_dicts(notes)})
    )
    assert any("sample of 300 of 900" in n for n in summary["notes"])  # English on disk
    zh = run_notes(summary, "zh")
    assert len(zh) == len(notes) and all(CJK.search(n) for n in zh), zh
    assert any("300" in n and "900" in n for n in zh)
    assert any("'flat'" in n and "常数" in n for n in zh)
    assert run_notes(summary, "en") == summary["notes"]
    # A run stored before notes kept phrases, and a note from elsewhere: as they are.
    assert run_notes({"notes": ["old note"]}, "zh") == ["old note"]
    mixed = {
        "notes": ["cutoff note", str(notes[0])],
        "note_phrases": [None, summary["note_phrases"][0]],
    }
    assert run_notes(mixed, "zh")[0] == "cutoff note" and CJK.search(run_notes(mixed, "zh")[1])


def test_error_text_says_ingest_messages_too():
    from core.ingest_text import MessageError, Msg

    exc = MessageError(Msg("no_data_rows", name="a.csv"))
    assert str(exc) == "'a.csv' has a header but no data rows"
    assert CJK.search(error_text(exc, "zh")) and "a.csv" in error_text(exc, "zh")
    assert error_text(ValueError("plain"), "zh") == "plain"


def test_job_status_keeps_english_and_says_progress_and_errors_in_chinese(tmp_path):
    from core.jobs import JobReporter, read_status, state_label
    from core.pipeline import _PROGRESS

    rep = JobReporter(tmp_path)
    from core.locale import Phrase

    rep(LocalText(_PROGRESS, "clustering", method=Phrase(_PROGRESS, "method_gmm"), k=5), 0.5)
    stored = json.loads((tmp_path / "status.json").read_text())
    assert stored["message"] == "Clustering (Gaussian mixture, k=5)"
    st = read_status(tmp_path)
    assert st.message_in("en") == "Clustering (Gaussian mixture, k=5)"
    assert st.message_in("zh") == "正在聚类（高斯混合，k=5）"
    rep("a plain message", 0.6)  # a message without phrase: as it is in every language
    assert read_status(tmp_path).message_in("zh") == "a plain message"

    from core.train import pick_device

    try:
        pick_device("cuda")
    except ValueError as exc:  # no GPU here: the job fails with this error
        rep.finish(
            "failed",
            "failed",
            error=f"{type(exc).__name__}: {exc}",
            error_i18n={"zh": error_text(exc, "zh")},
        )
        st = read_status(tmp_path)
        assert st.error.startswith("LocalizedError: device 'cuda'")
        assert st.error_in("zh") == "指定了设备 'cuda'，但没有可用的 CUDA GPU"
    assert read_status(tmp_path / "nothing").message_in("zh") == "等待启动"
    assert state_label("running", "zh") == "运行中" and state_label("done", "en") == "done"
    assert state_label("weird", "zh") == "weird"


def test_worker_that_died_is_said_in_chinese(tmp_path):
    from core.jobs import read_status

    (tmp_path / "status.json").write_text(
        json.dumps({"state": "running", "message": "x", "fraction": 0.1, "pid": 2**22 + 12345})
    )
    st = read_status(tmp_path)
    assert st.state == "failed"
    assert st.error == "the worker process ended unexpectedly"
    assert st.error_in("zh") == "工作进程意外结束"


def _orders(n_active=60, n_churned=2):
    rows = []
    for i in range(n_active + n_churned):
        rows.append({"customer_id": f"C{i}", "order_date": "2024-01-10", "amount": 10.0})
        if i < n_active:
            rows.append({"customer_id": f"C{i}", "order_date": "2024-03-10", "amount": 20.0})
    rows.append({"customer_id": "C0", "order_date": "2024-06-30", "amount": 1.0})
    return pd.DataFrame(rows)


def test_training_warnings_and_classes_in_chinese():
    from core.targets import (
        churn_target,
        class_label,
        leakage_check,
        target_kind,
        warnings_in,
    )

    target = churn_target(_orders(), "2024-02-01", horizon_days=90)
    warnings = target.warnings + leakage_check(target, ["recency_days"], feature_cutoff=None)
    assert any("is rare" in w for w in warnings) and any("without a cutoff" in w for w in warnings)
    summary = json.loads(json.dumps(target.summary() | {"warnings": [str(w) for w in warnings]}))
    from core.locale import phrase_dicts

    summary["warning_phrases"] = phrase_dicts(warnings)
    zh = warnings_in(summary, "zh")
    assert all(CJK.search(w) for w in zh), zh
    assert any("'churned'" in w and "很少" in w for w in zh)
    assert any("没有设置截止日" in w and "2024-02-01" in w for w in zh)
    assert warnings_in(summary, "en") == summary["warnings"]
    # Class values: the app's own classes are translated, the data's own are not.
    assert class_label("churned", "churn", "zh") == "流失"
    assert class_label("high", "value_tier", "zh") == "高"
    assert class_label("churned", "churn", "en") == "churned"
    assert class_label("high", "label_column", "zh") == "high"
    assert target_kind("churn_90d") == "churn" and target_kind("value_tier_30d") == "value_tier"
    assert target_kind("persona") is None


def test_feature_sql_errors_in_chinese_keep_the_sql_and_duckdb_text():
    from core.features import FeatureEngine, FeatureSQLError, validate_custom_feature

    with pytest.raises(FeatureSQLError) as err:
        validate_custom_feature("x", "1; DROP TABLE orders", "orders")
    assert str(err.value).startswith("feature 'x' must be a single expression")
    zh = error_text(err.value, "zh")
    assert "不能含 ';'" in zh and "SQL：1; DROP TABLE orders" in zh
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "amount": [1.0, 2.0],
        }
    )
    with FeatureEngine({"orders": orders}) as eng, pytest.raises(FeatureSQLError) as err:
        validate_custom_feature("y", "sum(no_such_column)", "orders", engine=eng)
    zh = error_text(err.value, "zh")
    assert zh.startswith("特征 'y' 计算失败：") and "no_such_column" in zh  # DuckDB's own text


def test_migration_and_stability_errors_in_chinese(tmp_path):
    from core.migration import compute_migration, reapplicable_run
    from core.trust import segment_stability
    from core.workspace import RunInfo, Workspace

    ws = Workspace(tmp_path)
    with pytest.raises(ValueError) as err:
        compute_migration(ws, "nope", "2024-05-01", "2024-01-01")
    assert "must be before" in str(err.value)
    assert error_text(err.value, "zh") == "第一个日期（2024-05-01）必须早于第二个日期（2024-01-01）"
    with pytest.raises(ValueError) as err:
        compute_migration(ws, "nope", "soon", "2024-01-01")
    assert CJK.search(error_text(err.value, "zh")) and "'soon'" in error_text(err.value, "zh")
    run = RunInfo.__new__(RunInfo)
    run.kind, run.status, run.params, run.summary = "segment", "done", {"method": "rfm"}, {}
    why = reapplicable_run(run)
    assert why == "this run is RFM tiers: choose RFM tiers instead"
    assert text_in(why, "zh") == "该运行是 RFM 分层：请改选 RFM 分层"
    with pytest.raises(ValueError) as err:
        segment_stability(np.zeros((4, 2)), ["S1"] * 4, "kmeans", k=2)
    assert error_text(err.value, "zh") == "稳定性检验至少需要两个分群，这里只有 1 个"
    from core.datasets import create_demo_dataset
    from core.trust import run_stability_check

    create_demo_dataset(ws, n_customers=50, seed=1)
    train = ws.create_run("demo", "train", {})
    with pytest.raises(ValueError) as err:
        run_stability_check(ws, train.id)
    assert str(err.value) == f"run {train.id} is a training run, not a segmentation"
    assert error_text(err.value, "zh") == f"运行 {train.id} 是训练运行，不是分群运行"


def test_demo_dataset_name_in_chinese(tmp_path):
    from core.datasets import create_demo_dataset, dataset_name
    from core.workspace import Workspace

    ds = create_demo_dataset(Workspace(tmp_path), n_customers=120, seed=4)
    assert ds.name == "Demo store (120 customers, seed 4)"  # stored English
    assert dataset_name(ds, "zh") == "演示商店（120 位客户，随机种子 4）"
    assert dataset_name(ds, "en") == ds.name
    ds.name = "My renamed demo"
    assert dataset_name(ds, "zh") == "My renamed demo"


def test_feature_cutoff_notes_in_chinese_also_from_the_cache(tmp_path):
    """The notes a cutoff leaves are said in zh, fresh and when read back from the cache; a
    segmentation run that copies them says them too."""
    from core.datasets import FeatureConfig, compute_dataset_features, create_demo_dataset
    from core.segment import run_notes
    from core.workspace import Workspace

    ws = Workspace(tmp_path)
    ds = create_demo_dataset(ws, n_customers=200, seed=1)
    config = FeatureConfig(cutoff="2025-06-01")
    fresh = compute_dataset_features(ws, ds.id, config)
    cached = compute_dataset_features(ws, ds.id, config)
    assert fresh.notes and cached.notes == [str(n) for n in fresh.notes]
    i = next(i for i, n in enumerate(fresh.notes) if " orders rows " in n)
    assert fresh.notes[i].startswith("cutoff 2025-06-01: ")
    for table in (fresh, cached):
        zh = table.notes_in("zh")
        assert zh[i].startswith("截止日期 2025-06-01：订单表的 ") and zh[i].endswith("未使用")
        assert all(CJK.search(z) for z in zh)
        assert table.notes_in("en") == [str(n) for n in fresh.notes]
    from core.locale import phrase_dicts

    summary = {"notes": [str(n) for n in fresh.notes], "note_phrases": phrase_dicts(fresh.notes)}
    assert run_notes(summary, "zh") == fresh.notes_in("zh")
