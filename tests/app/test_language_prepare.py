"""Data, Features, Segments and Export in 简体中文 (switched in the sidebar on Home)."""

from __future__ import annotations

import pytest
from pagetest import app_in, page_texts, small_segmented_workspace

from core.datasets import create_demo_dataset
from core.workspace import Workspace


@pytest.fixture(scope="module")
def segmented_root(tmp_path_factory):
    """A small demo store with one K-means run, built once for the whole file (~10 s)."""
    root = tmp_path_factory.mktemp("ws_prepare")
    small_segmented_workspace(root, seed=5, k=5)
    return root


@pytest.fixture
def zh_app(segmented_root, monkeypatch):
    monkeypatch.setenv("SEGSTUDIO_HOME", str(segmented_root))
    return _in_chinese()


def _in_chinese():
    return app_in("zh")


def _open(at, name: str):
    at.switch_page(f"../pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_data_page_in_chinese(zh_app):
    at = _open(zh_app, "data")
    assert at.title[0].value == "数据"
    texts = page_texts(at)
    assert "添加数据集" in texts and "全部数据集" in texts
    assert any(s.value.startswith("校验报告 — ") for s in at.subheader)
    # Ingest reports: expander summary and metrics, tabs named by translated table names.
    assert any("行中保留" in e.label for e in at.expander)
    assert {"读取行数", "保留行数", "剔除行数"} <= {m.label for m in at.metric}
    assert any(tab.label.startswith("订单表（") for tab in at.tabs)
    assert at.button(key="data_load_demo").label == "改为加载演示商店"
    # The dataset list keeps its data columns; only the labels are translated.
    assert any("source" in d.value.columns for d in at.dataframe)


def test_features_page_in_chinese(zh_app):
    at = _open(zh_app, "features")
    assert at.title[0].value == "特征"
    texts = page_texts(at)
    assert "特征目录" in texts and "客户特征" in texts and "参考日期 **" in texts
    assert "600 位客户 × " in texts
    assert at.toggle(key="feat_use_cutoff").label == "使用截止日期"
    assert "订单（orders）" in at.selectbox(key="cf_source").options
    # A duplicate custom feature is refused in Chinese (the check is in the page, not core).
    for _ in range(2):
        at.text_input(key="cf_name").input("big_orders")
        at.text_area(key="cf_sql").input("count(*) FILTER (WHERE amount >= 100)")
        next(b for b in at.button if b.label == "检查并添加").click().run()
        assert not at.exception
    assert any("已经有名为 'big_orders' 的自定义特征" in e.value for e in at.error)


def test_segments_page_in_chinese_and_k_scoring(zh_app):
    at = _open(zh_app, "segments")
    assert at.title[0].value == "分群"
    assert at.selectbox(key="seg_method").label == "方法"
    assert at.selectbox(key="seg_method").options[0].startswith("RFM 规则分层")
    assert at.selectbox(key="seg_device").options == ["自动", "cpu", "cuda"]
    assert at.selectbox(key="seg_device").value == "auto"  # the option value stays
    assert at.slider(key="seg_k").label == "分群数（k）"
    texts = page_texts(at)
    assert "选择 k" in texts and "用时 " in texts
    sizes = [d.value for d in at.dataframe if {"customers", "share"} <= set(d.value.columns)]
    assert sizes and len(sizes[0]) == 5
    at.slider(key="k_range").set_value((2, 3)).run()
    at.slider(key="k_seeds").set_value(2).run()
    next(b for b in at.button if b.key == "k_go").click().run()
    assert not at.exception
    assert any(i.value.startswith("K-means 的建议 k = **") for i in at.info)


def test_export_page_in_chinese(zh_app):
    at = _open(zh_app, "export")
    assert at.title[0].value == "导出"
    rows = {m.label: m.value for m in at.metric}["行数"]
    assert at.radio(key="exp_source").options == ["分群", "已保存的选区"]
    assert at.radio(key="exp_source").value == "Segments"  # the option value stays
    (download,) = at.get("download_button")
    assert download.proto.label == f"下载 {rows} 行（CSV）"


def test_export_empty_state_in_chinese(workspace_root):
    create_demo_dataset(Workspace(workspace_root), n_customers=200, seed=1)
    at = _open(_in_chinese(), "export")
    assert at.title[0].value == "导出"
    assert [i.value for i in at.info] == ["请先运行一次分群；之后可在这里导出各分群的客户名单。"]
