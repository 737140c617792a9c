"""The Data page's validation report in 简体中文: notes, warnings and rejection reasons of a
stored ingest report are shown in the session's language (stored English stays English)."""

from __future__ import annotations

import json

from pagetest import app_in

from core.datasets import assemble_dataset, save_assembled
from core.ingest import ingest_file
from core.workspace import Workspace

MESSY = (
    "customer_id;order_date;amount;quantity\n"
    "a;2024-01-05;10,5;1\n"
    ";2024-01-06;3,0;1\n"
    "b;2024-13-01;7,0;1\n"
    "c;2024-03-01;abc;0\n"
    "d;2024-03-02; 12,0 ;1;extra\n"
)


def _save_messy(root, tmp_path) -> Workspace:
    path = tmp_path / "orders.csv"
    path.write_text(MESSY, encoding="utf-8")
    ws = Workspace(root)
    save_assembled(ws, "messy orders", assemble_dataset([ingest_file(path, "orders")]))
    return ws


def _shown(at) -> tuple[list[str], list[str], list[str]]:
    infos = [i.value for i in at.info]
    warnings = [w.value for w in at.warning]
    rejected = [d.value for d in at.dataframe if "_reason" in d.value.columns]
    assert rejected, "the rejected rows are listed"
    return infos, warnings, rejected[0]["_reason"].tolist()


def test_data_page_report_in_chinese(workspace_root, tmp_path):
    _save_messy(workspace_root, tmp_path)
    at = app_in("zh", "data")
    infos, warnings, reasons = _shown(at)
    assert "**orders.csv** → 订单表：5 行中保留 1 行，剔除 4 行" in [e.label for e in at.expander]
    assert "以分号分隔的文件" in infos
    assert "'amount' 使用小数逗号（3 个值，例如 '10,5' 读作 10.5）" in infos
    assert "已剔除 1 行：字段数与表头（4 个）不一致" in warnings
    assert "已剔除 1 行：缺少 customer_id" in warnings
    assert "已剔除 1 行：'order_date' 不是有效日期" in warnings
    assert reasons == [
        "第 3 行：缺少 customer_id（列 'customer_id' 为空）",
        "列 'order_date' 第 4 行：'2024-13-01' 不是有效日期（应为 YYYY-MM-DD，例如 2024-12-25）",
        "列 'amount' 第 5 行：'abc' 不是数字（应类似 12.50）",
        "第 6 行有 5 个字段，表头有 4 个",
    ]
    assert not any("rejected" in w or "separated" in n for w in warnings for n in infos)


def test_data_page_report_in_english_is_the_stored_text(workspace_root, tmp_path):
    ws = _save_messy(workspace_root, tmp_path)
    at = app_in("en", "data")
    infos, warnings, reasons = _shown(at)
    stored = ws.load_reports(ws.list_datasets()[0].id)[0]
    assert infos == stored["notes"] and warnings == stored["warnings"]
    assert reasons[0] == "row 3: missing customer id (column 'customer_id' is empty)"


def test_report_stored_without_translations_shows_its_english(workspace_root, tmp_path):
    """Reports saved by an earlier version (no `*_i18n` fields) still display, as written."""
    ws = _save_messy(workspace_root, tmp_path)
    ds = ws.list_datasets()[0]
    path = ws.dataset_dir(ds.id) / "report.json"
    reports = json.loads(path.read_text())
    for rep in reports:
        rep.pop("notes_i18n"), rep.pop("warnings_i18n")
        for r in rep["rejections"]:
            r.pop("reason_i18n")
    path.write_text(json.dumps(reports))
    at = app_in("zh", "data")
    infos, warnings, reasons = _shown(at)
    assert "semicolon-separated file" in infos
    assert reasons[0] == "row 3: missing customer id (column 'customer_id' is empty)"


def test_demo_store_report_in_chinese(demo_ws):
    at = app_in("zh", "data")
    assert "由内置演示商店生成；persona 列是真实标签（预设的客户画像）" in [
        i.value for i in at.info
    ]
