"""Profiles page in 简体中文: the engine's names, trait tags and playbook are Chinese too."""

from __future__ import annotations

import json
import re

import pytest
from pagetest import app_in, make_app, page_texts, small_segmented_workspace

from core.pipeline import segment_names

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def small_segmented(tmp_path_factory):
    """A 600-customer demo store with a k=4 numeric K-means run, built once."""
    root = tmp_path_factory.mktemp("ws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGSTUDIO_HOME", str(root))
        yield small_segmented_workspace(root, seed=3, k=4)[0]


def _run(ws):
    return ws.list_runs("demo", kind="segment")[0]


def _names(at) -> list[str]:
    return [w.value for w in at.text_input if w.key and w.key.startswith("name_")]


def _playbook(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("- **")]


def test_profiles_engine_text_in_chinese(small_segmented):
    at = app_in("zh", "profiles")
    names = _names(at)
    assert len(names) == 4 and len(set(names)) == 4
    assert all(CJK.search(n) for n in names), names
    playbook = _playbook(at)
    assert playbook and all("原因：" in a for a in playbook)
    for action in playbook:  # title, detail and why are all Chinese
        title, rest = action.removeprefix("- **").split("** — ", 1)
        detail, why = rest.split("原因：", 1)
        assert CJK.search(title) and CJK.search(detail) and CJK.search(why), action
        assert not re.search(r"\b(the|and|with|customers?|why)\b", action), action
    chips = [m.value for m in at.markdown if m.value.startswith("`")]
    assert chips and all(CJK.search(c) for c in chips), chips
    assert not any("high spend" in c or "lapsing" in c for c in chips)
    # Category names are data: they stay as they are, quoted inside the Chinese sentence.
    assert re.search(r"“[A-Z][^”]*”品类", "\n".join(playbook)) or "最常买的品类" in page_texts(at)
    # Other pages fall back to the saved automatic names: they are the Chinese ones now.
    saved = json.loads((_run(small_segmented).path / "profiles.json").read_text())
    assert saved["key"].endswith("|zh")
    assert sorted(segment_names(small_segmented, _run(small_segmented).id).values()) == sorted(
        names
    )


def test_switching_language_regenerates_the_text(small_segmented):
    run = _run(small_segmented)
    at = make_app().run()
    at.switch_page("../pages/profiles.py").run()
    assert not at.exception, at.exception
    english = _names(at)
    assert english and not any(CJK.search(n) for n in english)
    assert all("why:" in a for a in _playbook(at))

    at.selectbox(key="ui_language").set_value("zh").run()
    assert not at.exception, at.exception
    chinese = _names(at)
    assert len(chinese) == len(english) and all(CJK.search(n) for n in chinese), chinese
    assert all("原因：" in a for a in _playbook(at))
    # Switching language is not renaming: nothing is saved as a user's own name.
    assert not (run.path / "names.json").exists()
    assert json.loads((run.path / "profiles.json").read_text())["key"].endswith("|zh")

    at.selectbox(key="ui_language").set_value("en").run()
    assert not at.exception, at.exception
    assert _names(at) == english
    assert not (run.path / "names.json").exists()
