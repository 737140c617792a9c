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


def _zh_stability_with_a_sample_note(ws):
    """A saved stability check of the run, made on a sample so it carries a note (stored
    in English, as the engine writes it)."""
    from core.pipeline import load_segments, load_vectors
    from core.trust import save_stability, segment_stability

    run = _run(ws)
    seg = load_segments(ws, run.id)
    res = segment_stability(
        load_vectors(ws, run.id), seg["segment"], "kmeans", k=4, n_runs=2, seed=3, max_rows=300
    )
    save_stability(run.path, res)
    return run, res


def test_trust_table_radar_and_compare_in_chinese(small_segmented):
    run, res = _zh_stability_with_a_sample_note(small_segmented)
    assert res.notes and "random sample of 300 of 600" in res.notes[0]
    at = app_in("zh", "profiles")
    # Verdicts and the sampling note are Chinese on the page, English in trust.json.
    summary = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert set(summary["verdict"]) <= {"稳定", "一般", "不稳定"}, set(summary["verdict"])
    stored = json.loads((run.path / "trust.json").read_text())["stability"]
    assert {r["verdict"] for r in stored["per_segment"]} <= {"stable", "so-so", "unstable"}
    agreement = next(c.value for c in at.caption if "调整兰德指数" in c.value)
    assert "注：" in agreement and "300" in agreement and "600" in agreement
    assert not re.search(r"\b(checked|random|sample|customers|minute)\b", agreement), agreement
    # Radar axes and the compare table name the features in Chinese.
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    axes = {a for s in specs for tr in s["data"] for a in tr.get("theta", [])}
    assert {"距上次购买天数", "订单数", "净消费"} <= axes, axes
    assert not axes & {"recency_days", "frequency", "monetary"}
    compare = next(d.value for d in at.dataframe if "z_diff" in d.value.columns)
    assert "折扣率" in set(compare["feature"]) and "discount_rate" not in set(compare["feature"])

    # English is as before: raw feature names, English verdicts and note.
    at.selectbox(key="ui_language").set_value("en").run()
    assert not at.exception, at.exception
    summary = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert set(summary["verdict"]) <= {"stable", "so-so", "unstable"}
    assert any(" Note: checked on a random sample of 300" in c.value for c in at.caption)
    axes = {
        a
        for c in at.get("plotly_chart")
        for tr in json.loads(c.proto.spec)["data"]
        for a in tr.get("theta", [])
    }
    assert "recency_days" in axes
    compare = next(d.value for d in at.dataframe if "z_diff" in d.value.columns)
    assert "discount_rate" in set(compare["feature"])
    (run.path / "trust.json").unlink()


def test_lookalike_note_on_explore_in_chinese(small_segmented):
    """The note under the lookalikes (Explore) follows the language, even after a switch."""
    at = app_in("zh", "explore")
    at.radio(key="explore_source").set_value("Segment").run()
    at.number_input(key="explore_lookalike_n").set_value(600).run()  # more than are outside
    at.button(key="explore_find_lookalikes").click().run()
    assert not at.exception, at.exception
    note = next(c.value for c in at.caption if "相似客户" in c.value and "已全部列出" in c.value)
    assert note.endswith("。") and "600" in note and not re.search(r"[A-Za-z]{3,}", note), note
    at.selectbox(key="ui_language").set_value("en").run()
    assert not at.exception, at.exception
    assert any(
        c.value.startswith("Asked for 600 lookalikes but only ") and c.value.endswith(".")
        for c in at.caption
    ), [c.value for c in at.caption]
