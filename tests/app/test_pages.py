"""Each page rendered by Streamlit's AppTest against a real workspace."""

from __future__ import annotations

from pagetest import make_app as _app
from pagetest import page_texts as _texts

from core.workspace import Workspace


def test_home_empty_workspace_offers_demo_and_loads_it(workspace_root):
    at = _app().run()
    assert not at.exception
    buttons = [b for b in at.button if b.key == "home_load_demo"]
    assert buttons, "a new user must be offered the demo store"
    buttons[0].click().run()
    assert not at.exception
    ws = Workspace(workspace_root)
    assert ws.has_dataset("demo")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "20,000"
    assert "Next steps" in _texts(at)


def test_home_with_demo_shows_numbers_and_next_step(demo_ws):
    at = _app().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "1,500"
    assert metrics["Net revenue"].startswith("$")
    # Features not computed yet: the next step says so and offers to do it.
    compute = [b for b in at.button if b.key == "home_compute_features"]
    assert compute
    compute[0].click().run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "home_compute_features"]


def test_data_page_shows_report_preview_and_dataset_list(demo_ws):
    at = _app().run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception
    text = _texts(at)
    assert "Validation report" in text
    assert "Preview" in text and "All datasets" in text
    assert len(at.tabs) >= 4  # customers, orders, products, reviews
    assert any(d.value.shape[0] == 1 for d in at.dataframe if "source" in d.value.columns)


def test_data_page_report_lists_rejected_rows(workspace_root, tmp_path):
    from core.datasets import assemble_dataset, save_assembled
    from core.ingest import ingest_file

    csv = tmp_path / "orders.csv"
    csv.write_text(
        "customer_id,order_date,amount\n"
        "a,2024-01-05,10.5\n"
        ",2024-01-06,3\n"
        "b,2024-02-31,7\n"
        "c,2024-03-01,abc\n"
        "d,2024-03-02,12\n"
    )
    result = ingest_file(csv, "orders")
    ws = Workspace(workspace_root)
    save_assembled(ws, "messy orders", assemble_dataset([result]))
    at = _app().run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception
    exp_labels = " ".join(e.label for e in at.expander)
    assert "orders.csv" in exp_labels and "3 rejected" in exp_labels
    rejected = [d.value for d in at.dataframe if "_reason" in d.value.columns]
    assert rejected and len(rejected[0]) == 3
    assert set(rejected[0]["_row"].astype(int)) == {3, 4, 5}


def test_features_page_computes_catalogue_and_custom_feature(demo_ws):
    at = _app().run()
    at.switch_page("../pages/features.py").run()
    assert not at.exception
    summary = [d.value for d in at.dataframe if "median" in d.value.columns]
    assert summary
    names = set(summary[0]["feature"])
    assert {"recency_days", "frequency", "monetary", "return_rate", "review_count"} <= names

    # A bad custom feature is refused with the SQL quoted.
    at.text_input(key="cf_name").input("bad_one")
    at.text_area(key="cf_sql").input("amount")
    at.button[[b.label for b in at.button].index("Check and add")].click().run()
    assert not at.exception
    assert any("must aggregate per customer" in e.value for e in at.error)

    # A good one is added and shows up in the feature table.
    at.text_input(key="cf_name").input("big_orders")
    at.text_area(key="cf_sql").input("count(*) FILTER (WHERE amount >= 100)")
    at.button[[b.label for b in at.button].index("Check and add")].click().run()
    assert not at.exception
    summary = [d.value for d in at.dataframe if "median" in d.value.columns]
    assert "big_orders" in set(summary[0]["feature"])
    from core.datasets import load_feature_config

    assert [f.name for f in load_feature_config(demo_ws, "demo").custom] == ["big_orders"]


def test_features_page_cutoff_changes_reference_date(demo_ws):
    at = _app().run()
    at.switch_page("../pages/features.py").run()
    at.toggle(key="feat_use_cutoff").set_value(True).run()
    at.date_input(key="feat_cutoff").set_value("2025-12-31").run()
    assert not at.exception
    assert "Reference date **2025-12-31**" in _texts(at)


def test_segments_page_empty_state(demo_ws):
    at = _app().run()
    at.switch_page("../pages/segments.py").run()
    assert not at.exception
    assert any("No segmentation yet" in i.value for i in at.info)


def test_segments_page_shows_run_and_scores_k(segmented_ws):
    at = _app().run()
    at.switch_page("../pages/segments.py").run()
    assert not at.exception
    sizes = [
        d.value
        for d in at.dataframe
        if "customers" in d.value.columns and "share" in d.value.columns
    ]
    assert sizes and len(sizes[0]) == 5
    at.slider(key="k_range").set_value((2, 5)).run()
    next(b for b in at.button if b.key == "k_go").click().run()
    assert not at.exception
    assert any("Suggested k" in i.value for i in at.info)


def test_explore_profiles_export_pages_render(segmented_ws):
    at = _app().run()
    at.switch_page("../pages/explore.py").run()
    assert not at.exception
    assert any(m.label == "Customers" and m.value == "1,500" for m in at.metric)
    at.selectbox(key="explore_colour").set_value("monetary").run()
    assert not at.exception

    at.switch_page("../pages/profiles.py").run()
    assert not at.exception
    names = [t for t in at.text_input if t.key and t.key.startswith("name_")]
    assert len(names) == 5 and all(t.value for t in names)
    assert len({t.value for t in names}) == 5  # automatic names are unique
    playbook = [m.value for m in at.markdown if "why:" in m.value]
    assert playbook and not any("<small>" in m for m in playbook)  # markdown, not raw HTML
    # Other pages use the automatic names once profiled, without the user saving them.
    from core.pipeline import segment_names

    run = segmented_ws.list_runs("demo", kind="segment")[0]
    assert sorted(segment_names(segmented_ws, run.id).values()) == sorted(t.value for t in names)

    at.switch_page("../pages/export.py").run()
    assert not at.exception
    rows = {m.label: m.value for m in at.metric}["Rows"]
    seg = __import__("core.pipeline", fromlist=["x"]).load_segments(
        segmented_ws, segmented_ws.list_runs("demo", kind="segment")[0].id
    )
    biggest = seg["segment"].value_counts().iloc[0]
    assert rows == f"{biggest:,}"


def test_sidebar_switches_dataset(demo_ws):
    import pandas as pd

    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "amount": [5.0, 7.0],
        }
    )
    other = demo_ws.save_dataset("Tiny shop", {"orders": orders})
    at = _app().run()
    at.sidebar.selectbox(key="sidebar_dataset").set_value(other.id).run()
    assert not at.exception
    assert "Tiny shop" in _texts(at)
    assert {m.label: m.value for m in at.metric}["Customers"] == "2"


def test_train_and_evaluate_pages(segmented_ws):
    at = _app().run()
    at.switch_page("../pages/evaluate.py").run()
    assert not at.exception
    assert any("Train a model first" in i.value for i in at.info)

    from core.finetune import FinetuneParams, run_finetune

    run_finetune(
        segmented_ws,
        "demo",
        FinetuneParams(target="churn", use_text=False, epochs=2, batch_size=64),
    )
    at.switch_page("../pages/train.py").run()
    assert not at.exception
    runs = [d.value for d in at.dataframe if "test macro-F1" in d.value.columns]
    assert runs and len(runs[0]) == 1
    at.switch_page("../pages/evaluate.py").run()
    assert not at.exception
    side = [d.value for d in at.dataframe if "macro_f1" in d.value.columns]
    assert side and len(side[0]) == 3  # the model and two baselines
    assert len(at.get("plotly_chart")) >= 4  # confusion, ROC, PR, calibration
    next(b for b in at.button if b.key == "sc_go").click().run()
    assert not at.exception
    scored = [d.value for d in at.dataframe if "predicted" in d.value.columns]
    assert scored and set(scored[0]["predicted"]) <= {"active", "churned"}


def test_train_page_launches_a_background_job(demo_ws):
    import time

    from core.jobs import read_status

    at = _app().run()
    at.switch_page("../pages/train.py").run()
    assert not at.exception
    at.selectbox(key="tr_target").set_value("churn")
    at.toggle(key="tr_text").set_value(False)
    at.slider(key="tr_epochs").set_value(1)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    (run,) = demo_ws.list_runs("demo", kind="train")
    assert (run.path / "job.json").exists()
    for _ in range(600):  # generous: the job shares two cores with the test run
        if read_status(run.path).finished:
            break
        time.sleep(0.5)
    assert read_status(run.path).state == "done", read_status(run.path).error
    at.run()
    assert not at.exception
    table = [d.value for d in at.dataframe if "test macro-F1" in d.value.columns]
    assert table and table[0]["state"].iloc[0] == "done"
