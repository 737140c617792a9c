"""The Recommendations page: empty states, training, evaluation vs popularity, tables."""

from __future__ import annotations

import pandas as pd
import pytest
from pagetest import make_app, page_texts

from core.workspace import Workspace

PAGE = "../pages/recommend.py"


@pytest.fixture
def persona_run_ws(demo_ws):
    """The demo store with a finished "segmentation" whose segments are the planted personas:
    the page only needs segments.parquet, and this skips the (slow) real pipeline."""
    from core.pipeline import save_segment_names
    from core.workspace import atomic_write_parquet

    customers = demo_ws.load_table("demo", "customers")
    codes = {p: f"S{i}" for i, p in enumerate(sorted(customers["persona"].unique()))}
    run = demo_ws.create_run("demo", "segment", {"method": "personas"})
    atomic_write_parquet(
        run.path / "segments.parquet",
        pd.DataFrame(
            {
                "customer_id": customers["customer_id"],
                "segment": customers["persona"].map(codes),
            }
        ),
    )
    save_segment_names(demo_ws, run.id, {c: p.replace("_", " ") for p, c in codes.items()})
    demo_ws.update_run(run.id, status="done")
    return demo_ws


def test_recommend_page_empty_states(workspace_root, demo_ws):
    customers_only = Workspace(workspace_root).save_dataset(
        "No orders", {"customers": pd.DataFrame({"customer_id": ["a", "b"]})}
    )
    at = make_app().run()
    at.sidebar.selectbox(key="sidebar_dataset").set_value(customers_only.id).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("no order lines" in i.value for i in at.info)

    at.sidebar.selectbox(key="sidebar_dataset").set_value("demo").run()
    assert not at.exception
    assert any("Run a segmentation first" in i.value for i in at.info)


def test_recommend_page_trains_and_shows_metrics_and_tables(persona_run_ws):
    at = make_app().run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("Train the recommender" in i.value for i in at.info)
    assert not at.metric

    next(b for b in at.button if b.key == "rec_train").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert {"Hit-rate@10", "Hit-rate@10, popularity", "Recall@10", "Test customers"} <= set(metrics)
    model_hr = float(metrics["Hit-rate@10"].rstrip("%"))
    pop_hr = float(metrics["Hit-rate@10, popularity"].rstrip("%"))
    assert model_hr > pop_hr  # the demo store's personas are learnable
    run = persona_run_ws.list_runs("demo", kind="segment")[0]
    assert (run.path / "recommend" / "factors.safetensors").exists()

    frames = [d.value for d in at.dataframe]
    overview = next(f for f in frames if "top products" in f.columns)
    assert len(overview) == 8  # one row per persona segment, by its saved name
    assert "tech enthusiast" in set(overview["segment"])
    top = next(f for f in frames if "lift" in f.columns)
    assert len(top) == 10 and {"product_name", "category", "score"} <= set(top.columns)
    assert top["score"].between(0, 1).all()
    recs = next(f for f in frames if "rank" in f.columns and "lift" not in f.columns)
    assert len(recs) == 10
    bought = next(
        f for f in frames if list(f.columns)[:1] == ["product_id"] and "rank" not in f.columns
    )
    assert not set(bought["product_id"]) & set(recs["product_id"])  # bought items excluded
    assert at.get("download_button")
    assert "Top 10 products per segment" in page_texts(at)

    at.slider(key="rec_n").set_value(5).run()
    assert not at.exception
    assert "Hit-rate@5" in {m.label for m in at.metric}
    assert len(next(d.value for d in at.dataframe if "lift" in d.value.columns)) == 5

    customer = next(t for t in at.text_input if t.key.startswith("rec_customer_"))
    customer.set_value("nobody").run()
    assert not at.exception
    assert any("'nobody'" in w.value for w in at.warning)
