"""Home in 简体中文 offers the demo store with Chinese reviews, and loads it."""

from __future__ import annotations

from pagetest import app_in, make_app

from core.tokenise import chinese_share
from core.workspace import Workspace


def test_chinese_interface_loads_the_demo_with_chinese_reviews(workspace_root):
    at = app_in("zh")
    choice = at.radio(key="home_demo_review_lang_zh")
    assert choice.value == "zh"  # the interface's language by default
    assert choice.label == "评论语言"
    next(b for b in at.button if b.key == "home_load_demo").click().run()
    assert not at.exception
    ws = Workspace(workspace_root)
    assert ws.get_dataset("demo").meta["review_lang"] == "zh"
    assert chinese_share(ws.load_table("demo", "reviews")["review_text"].head(500)) == 1.0


def test_english_interface_can_choose_chinese_reviews(workspace_root):
    at = make_app().run()
    choice = at.radio(key="home_demo_review_lang_en")
    assert choice.value == "en"
    choice.set_value("zh").run()
    next(b for b in at.button if b.key == "home_load_demo").click().run()
    assert not at.exception
    assert Workspace(workspace_root).get_dataset("demo").meta["review_lang"] == "zh"
