"""The Migration page: a Sankey of customers moving between segments on the demo store."""

from __future__ import annotations

import json

import pandas as pd
from pagetest import make_app, page_texts

from core.migration import NEW


def _sankey(at) -> dict:
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    sankeys = [t for c in charts for t in c["data"] if t.get("type") == "sankey"]
    assert len(sankeys) == 1
    return sankeys[0]


def test_migration_page_without_dataset_points_to_data(workspace_root):
    at = make_app().run()
    at.switch_page("../pages/migration.py").run()
    assert not at.exception
    assert any("Load a dataset first" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_migration_page_draws_sankey_sentences_and_exports_a_flow(demo_ws):
    at = make_app().run()
    at.switch_page("../pages/migration.py").run()
    assert not at.exception
    # Defaults: the last order day and 90 days before it.
    a, b = at.date_input(key="mig_date_a").value, at.date_input(key="mig_date_b").value
    assert str(b) == "2026-06-30" and (b - a).days == 90
    sankey = _sankey(at)
    values = sankey["link"]["value"]
    assert sum(values) == 1500  # every demo customer is known on the last day
    labels = sankey["node"]["label"]
    assert any(lab.startswith(f"{NEW} (") for lab in labels)
    assert all(lab.endswith(")") for lab in labels)  # sizes on the nodes
    text = page_texts(at)
    assert "Largest moves" in text and " → " in text and "% of " in text
    table = next(d.value for d in at.dataframe if "Customers" in d.value.columns)
    assert table["Customers"].sum() == 1500
    # The exported flow holds exactly the customers counted for it.
    pick = at.selectbox(key="mig_flow").value
    count = int(table[(table["From"] == pick[0]) & (table["To"] == pick[1])]["Customers"].iloc[0])
    button = at.get("download_button")[0]
    assert f"Download {count:,} customers" in button.proto.label


def test_migration_page_reapplies_a_numeric_run_and_checks_dates(demo_ws):
    from core.pipeline import SegmentationParams, run_segmentation

    # Like the segmented_ws fixture, without the UMAP map this page does not need (40 s faster).
    params = SegmentationParams(method="kmeans", k=5, use_text=False, projection=False)
    run_segmentation(demo_ws, "demo", params)
    at = make_app().run()
    at.switch_page("../pages/migration.py").run()
    at.radio(key="mig_method").set_value("A segmentation run").run()
    assert not at.exception
    sankey = _sankey(at)
    assert sum(sankey["link"]["value"]) == 1500
    segs = {lab.split(" (")[0] for lab in sankey["node"]["label"]}
    assert {"S1", "S2", "S3", "S4", "S5"} <= segs
    at.date_input(key="mig_date_a").set_value(pd.Timestamp("2026-06-30").date()).run()
    assert not at.exception
    assert any("before the To day" in w.value for w in at.warning)
