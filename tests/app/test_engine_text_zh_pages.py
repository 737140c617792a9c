"""Explore, Migration and Campaigns in 简体中文 show the engine's own sentences in Chinese."""

from __future__ import annotations

import json
import re

import pytest
from pagetest import app_in, page_texts, small_segmented_workspace

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def segmented_root(tmp_path_factory):
    """A 600-customer demo store with a k=4 numeric K-means run (with its map), built once."""
    root = tmp_path_factory.mktemp("engine_zh") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGSTUDIO_HOME", str(root))
        small_segmented_workspace(root, seed=3, k=4)
        yield root


@pytest.fixture
def segmented(segmented_root, monkeypatch):
    monkeypatch.setenv("SEGSTUDIO_HOME", str(segmented_root))
    return segmented_root


def _bullets(at) -> list[str]:
    """The '- sentence' lines of the page's markdown blocks."""
    return [line[2:] for m in at.markdown for line in m.value.splitlines() if line.startswith("- ")]


def test_explore_explains_a_segment_in_chinese_and_back_in_english(segmented):
    at = app_in("zh", "explore")
    at.radio(key="explore_source").set_value("Segment").run()
    assert not at.exception, at.exception
    sentences = [s for s in _bullets(at) if "（平均 " in s or "其他客户为" in s]
    assert sentences, _bullets(at)
    assert all("其他客户" in s and CJK.search(s) for s in sentences)
    assert not any("than the rest" in s for s in _bullets(at))
    ranked = next(d.value for d in at.dataframe if "effect_size" in d.value.columns)
    assert ranked["label"].map(lambda x: bool(CJK.search(x))).all()

    # The explanation is cached per language: English comes back in English.
    at.selectbox(key="ui_language").set_value("en").run()
    assert not at.exception, at.exception
    assert any("than the rest (avg " in s for s in _bullets(at))
    assert not any("（平均 " in s for s in _bullets(at))


def test_migration_sentences_tiers_and_new_customers_in_chinese(segmented):
    at = app_in("zh", "migration")
    labels = [m.label for m in at.metric]
    assert any(lab.endswith("时为 尚未成为客户") for lab in labels)
    moves = [s for s in _bullets(at) if " → " in s]
    assert moves and all(
        re.match(r"[\d,]+ 位客户：.+ → .+（占 .+ 的 (<1|\d+)%）$", s) for s in moves
    )
    assert not any(" of " in s for s in moves)
    sankey = next(
        tr
        for c in at.get("plotly_chart")
        for tr in json.loads(c.proto.spec)["data"]
        if tr.get("type") == "sankey"
    )
    nodes = sankey["node"]["label"]
    assert any(n.startswith("尚未成为客户 (") for n in nodes)
    assert all(CJK.search(n) for n in nodes)  # RFM tiers are shown in Chinese
    assert any("从“尚未成为客户”开始" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "起始分群" in d.value.columns)
    assert "冠军客户" in set(table["起始分群"]) | set(table["目标分群"])

    at.radio(key="mig_by").set_value("revenue").run()
    assert not at.exception, at.exception
    assert any("；第一个日期前共消费 " in s for s in _bullets(at))


def test_campaign_highlights_and_verdicts_in_chinese(segmented):
    at = app_in("zh", "campaigns")
    at.button(key="camp_demo").click().run()
    assert not at.exception, at.exception
    text = page_texts(at)
    assert "整体而言，实验组客户的响应率为 " in text and "pp = 百分点" in text
    assert "Overall, treated customers" not in text
    assert "最佳分群：**" in text and "最差分群：**" in text
    table = next(d.value for d in at.dataframe if "结论" in d.value.columns)
    assert table["结论"].map(lambda v: bool(CJK.search(v))).all()
    assert "客户太少，无法判断" in text  # the table note names the verdict as the table says it
