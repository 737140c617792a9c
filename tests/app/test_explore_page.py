"""Explore page: a segment or saved selection is explained and expanded with lookalikes."""

from __future__ import annotations

from pagetest import make_app, page_texts

from core.pipeline import load_segments, save_selection


def _explore():
    at = make_app().run()
    at.switch_page("../pages/explore.py").run()
    assert not at.exception
    return at


def _map_spec(at) -> str:
    charts = at.get("plotly_chart")
    assert charts
    return charts[0].proto.spec


def test_segment_as_selection_is_explained_and_finds_lookalikes(segmented_ws):
    ws = segmented_ws
    run = ws.list_runs("demo", kind="segment")[0]
    seg = load_segments(ws, run.id)
    at = _explore()
    spec_before = _map_spec(at)
    assert "Draw a lasso" in page_texts(at)

    at.radio(key="explore_source").set_value("Segment").run()
    assert not at.exception
    chosen = at.selectbox(key=f"explore_segment_{run.id}").value
    members = set(seg.loc[seg["segment"] == chosen, "customer_id"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Selected customers"] == f"{len(members):,}"
    text = page_texts(at)
    assert "Why these customers?" in text
    assert "than the rest (avg" in text
    assert _map_spec(at) == spec_before  # the selectable map does not follow the selection

    at.number_input(key="explore_lookalike_n").set_value(40).run()
    at.button(key="explore_find_lookalikes").click().run()
    assert not at.exception
    tables = [d.value for d in at.dataframe if "similarity" in d.value.columns]
    assert tables, "the lookalikes are listed"
    look = tables[0]
    assert len(look) == 40
    assert not set(look["customer_id"]) & members
    assert look["similarity"].is_monotonic_decreasing
    labels = [b.label for b in at.get("download_button")]
    assert "Download 40 lookalikes (CSV)" in labels
    assert f"Download {len(members):,} customers (CSV)" in labels
    assert len(at.get("plotly_chart")) == 2  # the main map and the lookalike map
    assert _map_spec(at) == spec_before


def test_saved_selection_as_source(segmented_ws):
    ws = segmented_ws
    run = ws.list_runs("demo", kind="segment")[0]
    seg = load_segments(ws, run.id)
    at = _explore()
    at.radio(key="explore_source").set_value("Saved selection").run()
    assert not at.exception
    assert "No saved selections for this run yet" in page_texts(at)

    big = seg.nlargest(60, "monetary")["customer_id"].tolist()
    save_selection(ws, run.id, "Top spenders", big)
    save_selection(ws, run.id, "Three friends", big[:3])
    at.run()
    at.selectbox(key=f"explore_saved_{run.id}").set_value("Top spenders").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Selected customers"] == "60"
    assert any(s.startswith("- Spends") for m in at.markdown for s in m.value.splitlines())

    at.selectbox(key=f"explore_saved_{run.id}").set_value("Three friends").run()
    assert not at.exception
    assert any("at least 5 customers" in i.value for i in at.info)
