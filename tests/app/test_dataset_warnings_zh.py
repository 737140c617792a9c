"""Cross-table warnings of a dataset (orders of customers missing from the customers table)
on the Data and Home pages in 简体中文; in English the stored text; datasets saved before the
structured form was kept still show their English."""

from __future__ import annotations

import json

from pagetest import app_in

from core.datasets import assemble_dataset, save_assembled
from core.ingest import ingest_file
from core.workspace import Workspace

CUSTOMERS = b"customer_id,region\na,north\nb,south\n"
ORDERS = (
    b"customer_id,order_date,amount\na,2024-01-01,1\nx,2024-01-02,2\nx,2024-01-03,3\n"
    b"y,2024-01-04,4\n"
)
ENGLISH = (
    "3 orders rows belong to 2 customers that are not in the customers table; they are kept, "
    "but features are computed for the customers table's customers only"
)
CHINESE = "订单表中有 3 行属于 2 位不在客户表中的客户；这些行已保留，但只为客户表中的客户计算特征"


def _assembled():
    return assemble_dataset(
        [
            ingest_file(CUSTOMERS, "customers", filename="customers.csv"),
            ingest_file(ORDERS, "orders", filename="orders.csv"),
        ]
    )


def _warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def test_data_page_shows_the_warning_in_chinese(workspace_root):
    save_assembled(Workspace(workspace_root), "shop", _assembled())
    at = app_in("zh", "data")
    assert CHINESE in _warnings(at)
    assert not any("customers table" in w for w in _warnings(at))


def test_data_page_in_english_shows_the_stored_text(workspace_root):
    ws = Workspace(workspace_root)
    save_assembled(ws, "shop", _assembled())
    assert ws.list_datasets()[0].meta["warnings"] == [ENGLISH]
    at = app_in("en", "data")
    assert ENGLISH in _warnings(at)


def test_home_page_shows_the_warning_in_chinese(workspace_root):
    save_assembled(Workspace(workspace_root), "shop", _assembled())
    at = app_in("zh")  # Home
    assert any(CHINESE in w for w in _warnings(at))


def test_dataset_saved_without_structured_warnings_shows_its_english(workspace_root):
    """What an earlier version saved: `warnings` (English) and no `warnings_i18n`."""
    assembled = _assembled()
    ws = Workspace(workspace_root)
    ws.save_dataset(
        "old shop",
        assembled.tables,
        source="upload",
        reports=assembled.reports,
        meta={"warnings": [str(w) for w in assembled.warnings]},
    )
    assert "warnings_i18n" not in ws.list_datasets()[0].meta
    at = app_in("zh", "data")
    assert ENGLISH in _warnings(at)


def test_demo_store_report_label_in_chinese(demo_ws):
    at = app_in("zh", "data")
    labels = [e.label for e in at.expander]
    assert any(label.startswith("**演示商店（随机种子 3）**") for label in labels), labels
    assert not any("demo store" in label for label in labels)


def test_demo_report_saved_without_structured_label_in_chinese(demo_ws):
    """Demo stores generated before the label was stored structured (no ``file_i18n``)."""
    path = demo_ws.dataset_dir("demo") / "report.json"
    reports = json.loads(path.read_text())
    for rep in reports:
        del rep["file_i18n"]
    path.write_text(json.dumps(reports))
    at = app_in("zh", "data")
    labels = [e.label for e in at.expander]
    assert any(label.startswith("**演示商店（随机种子 3）**") for label in labels), labels
