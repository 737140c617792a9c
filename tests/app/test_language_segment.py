"""Explore, Profiles and Migration in 简体中文: every page renders in Chinese from the catalogue."""

from __future__ import annotations

import json

import pytest
from pagetest import app_in, page_texts, small_segmented_workspace


@pytest.fixture(scope="module")
def small_segmented(tmp_path_factory):
    """A 600-customer demo store with a k=4 numeric K-means run (with its map), built once."""
    root = tmp_path_factory.mktemp("ws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGSTUDIO_HOME", str(root))
        yield small_segmented_workspace(root, seed=3, k=4)[0]


def _chinese_app():
    return app_in("zh")


def _open(at, name: str):
    at.switch_page(f"../pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def test_explore_in_chinese(small_segmented):
    at = _open(_chinese_app(), "explore")
    assert at.title[0].value == "探索"
    assert at.selectbox(key="explore_colour").label == "着色依据"
    assert "客户数" in [m.label for m in at.metric]
    assert "在地图上用套索或框选" in page_texts(at)
    source = at.radio(key="explore_source")
    assert source.label == "选择来源" and "分群" in source.options
    # The option values stay English ids; only their labels are translated.
    source.set_value("Segment").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "选中客户数" in labels and "客户占比" in labels
    assert "为什么是这些客户？" in page_texts(at)
    downloads = [b.proto.label for b in at.get("download_button")]
    assert any(lab.startswith("下载 ") and lab.endswith("位客户（CSV）") for lab in downloads)
    # The map's hover text comes from the chart catalogue too.
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "分群: " in spec["data"][0]["hovertemplate"]

    at.number_input(key="explore_lookalike_n").set_value(20).run()
    at.button(key="explore_find_lookalikes").click().run()
    assert not at.exception
    assert "找到的相似客户" in [m.label for m in at.metric]
    look = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert {tr["name"].split("（")[0] for tr in look["data"]} == {
        "其他客户",
        "选中客户",
        "相似客户",
    }


def test_profiles_in_chinese(small_segmented):
    at = _open(_chinese_app(), "profiles")
    assert at.title[0].value == "画像"
    text = page_texts(at)
    assert "对比两个分群" in text and "这些分群可信吗？" in text and "**边界客户**" in text
    labels = {m.label for m in at.metric}
    assert {"客户数", "客户占比", "收入占比"} <= labels
    assert at.selectbox(key="cmp_a").label == "分群 A"
    names = [w for w in at.text_input if w.key and w.key.startswith("name_")]
    assert len(names) == 4 and all(w.label.endswith(" 的名称") for w in names)
    assert next(b for b in at.button if b.key == "trust_check").label == "检验稳定性"
    # Data columns keep their names; only the labels shown change.
    assert any("verdict" in d.value.columns for d in at.dataframe)


def test_migration_in_chinese(small_segmented):
    at = _open(_chinese_app(), "migration")
    assert at.title[0].value == "迁移"
    assert at.date_input(key="mig_date_a").label == "起始日期（当天结束时）"
    method = at.radio(key="mig_method")
    assert method.label == "客户分群方式" and method.options == ["RFM 分层", "已有的分群运行"]
    labels = [m.label for m in at.metric]
    assert "客户数" in labels and "分群变化率" in labels
    assert any(lab.endswith("时为 尚未成为客户") for lab in labels)  # NEW, shown in Chinese
    assert "最大的迁移" in page_texts(at)
    table = next(d.value for d in at.dataframe if "客户数" in d.value.columns)
    assert table["客户数"].sum() == 600
    assert at.get("download_button")[0].proto.label.startswith("下载 ")
    # The re-applied run: the option value is unchanged, its label is Chinese.
    method.set_value("A segmentation run").run()
    assert not at.exception
    assert at.selectbox(key="mig_run").label == "运行"


def test_empty_state_in_chinese(workspace_root):
    at = _open(_chinese_app(), "explore")
    assert at.title[0].value == "探索"
    assert any(i.value == "请先运行一次分群；客户地图会显示在这里。" for i in at.info)
    at = _open(at, "migration")
    assert any("请先加载一个数据集" in i.value for i in at.info)
