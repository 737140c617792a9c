"""The Act pages (Campaigns, Recommendations) in 简体中文."""

from __future__ import annotations

import pytest
from pagetest import app_in, page_texts, small_segmented_workspace


@pytest.fixture(scope="module")
def segmented_root(tmp_path_factory):
    """A small demo store with a finished k-means run, built once for this file."""
    root = tmp_path_factory.mktemp("act_zh") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGSTUDIO_HOME", str(root))
        small_segmented_workspace(root, seed=5, k=4)
        yield root


@pytest.fixture
def segmented_zh(segmented_root, monkeypatch):
    monkeypatch.setenv("SEGSTUDIO_HOME", str(segmented_root))
    return segmented_root


def _open_in_chinese(page: str):
    return app_in("zh", page)


def test_campaigns_page_in_chinese(segmented_zh):
    at = _open_in_chinese("campaigns")
    assert at.title[0].value == "营销活动"
    assert any("这次分群还没有衡量过任何营销活动" in i.value for i in at.info)
    assert "添加营销活动结果" in [e.label for e in at.expander]
    at.button(key="camp_demo").click().run()
    assert not at.exception, at.exception

    metrics = {m.label: m.value for m in at.metric}
    assert {"实验组 / 对照组", "响应率", "提升", "增量收入"} <= set(metrics)
    assert metrics["提升"].endswith(" pp")
    assert " / " in metrics["响应率"]  # treated / control, as the groups metric
    table = next(d.value for d in at.dataframe if "提升" in d.value.columns)
    assert {"分群", "实验组", "对照组", "95% 置信区间", "结论"} <= set(table.columns)
    assert table["分群"].iloc[-1] == "全部客户"
    assert table["95% 置信区间"].str.contains(" 至 ").any()
    text = page_texts(at)
    assert "各分群的提升" in text and "了解谁会响应" in text
    assert any(e.label == "从 demo_campaign.csv 读取的内容" for e in at.expander)
    # The campaign's default name is the translated demo name; core sentences are Chinese too.
    assert "演示折扣邮件" in at.selectbox(key="camp_pick").options[0]
    assert "整体而言，实验组客户的响应率为" in text
    # A rerun keeps the (Chinese) campaign picker valid.
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="camp_pick").options[0].startswith("演示折扣邮件 — demo_campaign.csv，")


def test_recommend_page_in_chinese(segmented_zh):
    at = _open_in_chinese("recommend")
    assert at.title[0].value == "商品推荐"
    assert any("训练推荐模型后" in i.value for i in at.info)
    assert at.slider(key="rec_n").label == "展示商品数（N）"
    at.button(key="rec_train").click().run()
    assert not at.exception, at.exception

    metrics = {m.label: m for m in at.metric}
    assert {"命中率@10", "命中率@10，热门基线", "召回率@10", "测试客户数"} <= set(metrics)
    assert metrics["命中率@10"].delta.startswith("较热门 ")
    assert metrics["命中率@10"].delta.endswith(" 个百分点")
    text = page_texts(at)
    assert "它能预测客户接下来买了什么吗？" in text and "各分群前 10 个商品" in text
    overview = next(d.value for d in at.dataframe if "热门商品" in d.value.columns)
    assert list(overview.columns) == ["分群", "有购买记录的客户数", "热门商品"]
    assert len(overview) == 4
    assert at.selectbox(key="rec_segment").label == "分群"
    download = at.get("download_button")[0]
    assert download.proto.label.startswith("下载该分群的 ")


def test_empty_state_in_chinese(workspace_root):
    at = _open_in_chinese("campaigns")
    assert at.title[0].value == "营销活动"
    infos = [i.value for i in at.info]
    assert "请先运行一次分群；营销活动结果按分群运行中的各个分群来衡量。" in infos
    assert not at.file_uploader
