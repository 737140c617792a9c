"""Engine errors and notes a page shows: said in 简体中文 on request, English for str() and files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.campaign import CampaignReport, read_campaign_file, record_campaign
from core.evaluate import model_label
from core.locale import LocalizedError, Phrase, error_text
from core.recommend import Recommender, build_interactions, time_split
from core.segment import method_label
from core.targets import churn_target, label_column_target


def _zh(exc: BaseException) -> str:
    return error_text(exc, "zh")


def test_bad_campaign_rows_are_listed_in_chinese_and_english_str_is_unchanged():
    src = b"customer_id,group,responded\nA,treated,yes\nB,maybe,no\nC,control,perhaps\n"
    with pytest.raises(LocalizedError) as info:
        read_campaign_file(src, "camp.csv")
    exc = info.value
    assert str(exc) == (
        "camp.csv row 3, column 'group': 'maybe' is not treated or control (expected treated / "
        "treatment / test / 1 or control / holdout / 0); camp.csv row 4, column 'responded': "
        "'perhaps' is not yes or no (expected yes / no, true / false or 1 / 0). Fix camp.csv and "
        "upload it again."
    )
    zh = _zh(exc)
    assert zh.startswith("camp.csv 第 3 行，列 'group'：'maybe' 既不是实验组也不是对照组")
    assert "；camp.csv 第 4 行，列 'responded'：'perhaps' 不是“是”或“否”" in zh
    assert zh.endswith("。请修改 camp.csv 后重新上传。")
    assert "expected" not in zh and "row" not in zh


def test_more_than_five_bad_rows_are_counted_in_chinese():
    rows = "".join(f"C{i},maybe,yes\n" for i in range(8))
    with pytest.raises(LocalizedError) as info:
        read_campaign_file(("customer_id,group,responded\n" + rows).encode(), "c.csv")
    assert "(and 3 more). Fix c.csv" in str(info.value)
    assert "（另有 3 处）。请修改 c.csv" in _zh(info.value)


def test_missing_columns_and_unknown_ids_in_chinese():
    with pytest.raises(ValueError) as info:
        read_campaign_file(b"customer_id,responded\nA,yes\n", "x.csv")
    assert "x.csv: no 'group' column" in str(info.value)
    assert _zh(info.value).startswith("x.csv：缺少 'group' 列。")
    src = b"customer_id,group,responded\nA,treated,yes\nB,control,no\n"
    with pytest.raises(ValueError) as info:
        read_campaign_file(src, "x.csv", known_ids=["Q"])
    assert "2 of 2 customer ids (column 'customer_id') are not in the dataset" in str(info.value)
    zh = _zh(info.value)
    assert "2 个客户 ID 中有 2 个（列 'customer_id'）不在该数据集中" in zh
    assert "第 2 行：'A'；第 3 行：'B'" in zh and "数据集选对了吗" in zh


def test_report_notes_are_stored_in_english_and_said_again_in_chinese(tmp_path):
    from core.datasets import create_demo_dataset
    from core.pipeline import SegmentationParams, run_segmentation
    from core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    create_demo_dataset(ws, n_customers=200, seed=1)
    run = run_segmentation(ws, "demo", SegmentationParams(method="rfm", projection=False))
    ids = ws.load_table("demo", "customers")["customer_id"].astype(str).tolist()
    lines = [
        f"{c},{'treated' if i % 2 else 'control'},{'yes' if i % 3 else 'no'},"
        for i, c in enumerate(ids[:120])
    ]
    src = ("customer_id,group,responded,revenue\n" + "\n".join(lines) + "\n").encode()
    cf = read_campaign_file(src, "c.csv", known_ids=ids)
    camp = record_campaign(ws, run.id, cf, name="Mail")
    stored = json.loads((camp.path / "summary.json").read_text())["report"]
    assert any("responders have no revenue" in w for w in stored["warnings"])
    assert any("non-responders have no revenue: counted as 0" in n for n in stored["notes"])
    assert camp.report.notes_in("en") == stored["notes"]
    zh_notes, zh_warnings = camp.report.notes_in("zh"), camp.report.warnings_in("zh")
    assert any(n.endswith("位未响应客户没有收入：按 0 计") for n in zh_notes)
    assert any("位响应客户没有收入：按 0 计，因此收入提升被低估" in w for w in zh_warnings)


def test_notes_of_reports_stored_before_phrases_are_read_back():
    old = CampaignReport.from_dict(
        {
            "file": "c.csv",
            "notes": ["12 non-responders have no revenue: counted as 0", "a note of its own"],
            "warnings": [
                "only 7 control customers: uplift will be very uncertain (aim for "
                "at least a few hundred)"
            ],
        }
    )
    assert old.notes_in("zh") == ["12 位未响应客户没有收入：按 0 计", "a note of its own"]
    assert old.warnings_in("zh") == ["对照组只有 7 位客户：提升的不确定性会很大（建议至少几百人）"]
    assert old.notes_in("en") == old.notes


def test_target_errors_in_chinese():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "tier": ["x", "x", "x"]})
    with pytest.raises(ValueError) as info:
        label_column_target(customers, "tier")
    assert (
        str(info.value)
        == "column 'tier' has fewer than 2 classes (only 'x'): there is nothing to predict"
    )
    assert _zh(info.value) == "列 'tier' 的类别少于 2 个（只有 'x'）：没有可预测的内容"
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            "amount": [10.0, 20.0],
        }
    )
    with pytest.raises(ValueError) as info:
        churn_target(orders, "2025-01-15", horizon_days=90)
    assert str(info.value).startswith("not enough future data: cutoff 2025-01-15 + 90 days")
    assert _zh(info.value).startswith("未来数据不足：截止日 2025-01-15 + 90 天 = 2025-04-15")


def test_recommender_errors_and_progress_in_chinese():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c"],
            "product_id": ["p1", "p2", "p1", "p3", "p2"],
            "order_date": pd.to_datetime(
                ["2025-01-01", "2025-03-01", "2025-01-05", "2025-03-05", "2025-02-01"]
            ),
            "quantity": [1, 1, 1, 1, 1],
        }
    )
    model = Recommender(factors=2, epochs=1).fit(build_interactions(orders))
    with pytest.raises(ValueError) as info:
        model.recommend(["zz"], n=2)
    assert str(info.value) == "1 customer id(s) have no purchases in the training data: 'zz'"
    assert _zh(info.value) == "1 个客户 ID 在训练数据中没有购买记录：'zz'"
    with pytest.raises(ValueError) as info:
        time_split(orders, "2024-01-01")
    assert "leaves no order lines before it" in str(info.value)
    assert _zh(info.value).startswith("截止日 2024-01-01 之前没有任何订单明细")


def test_method_and_model_names_in_chinese_ids_unchanged_in_english():
    assert method_label("gmm", "zh") == "高斯混合（GMM）"
    assert method_label("gmm") == "Gaussian mixture"
    assert method_label("rfm", "zh") == "RFM 规则分层"
    assert model_label("logistic_regression", "zh") == "逻辑回归"
    assert model_label("logistic_regression") == "logistic_regression"
    assert model_label("fine-tuned text + numbers", "zh") == "微调模型（文本 + 数值）"


def test_phrases_round_trip_through_json_with_nested_phrases():
    table = {"en": {"a": "see {b}", "b": "row {n}"}, "zh": {"a": "见{b}", "b": "第 {n} 行"}}
    p = Phrase(table, "a", b=[Phrase(table, "b", n=1), Phrase(table, "b", n=2)])
    back = Phrase.from_dict(table, json.loads(json.dumps(p.to_dict())))
    assert back.text("en") == "see row 1; row 2" and back.text("zh") == "见第 1 行; 第 2 行"
    with pytest.raises(KeyError):
        Phrase(table, "nope")
    assert error_text(ValueError("plain"), "zh") == "plain"
