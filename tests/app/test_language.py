"""Switching the interface to 简体中文 in the sidebar."""

from __future__ import annotations

from pagetest import make_app, page_texts


def test_sidebar_switches_the_interface_to_chinese_and_back(demo_ws):
    at = make_app().run()
    assert not at.exception
    assert at.title[0].value == "Segment Studio"
    at.selectbox(key="ui_language").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value.startswith("Segment Studio 客户分群工作室")
    texts = page_texts(at)
    assert "下一步" in texts and "客户数" in texts
    assert at.selectbox(key="sidebar_dataset").label == "当前数据集"
    at.selectbox(key="ui_language").set_value("en").run()
    assert "Next steps" in page_texts(at)


def test_language_from_the_address_bar(workspace_root):
    at = make_app()
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert "从这里开始" in page_texts(at)
