"""Customer attributes as features: a customers-only table with attributes and a label (the
shape of a telecom churn table) segments and trains with no hand-written SQL; attributes beside
orders are offered but off; identifiers, the label and a demo's ground truth never leak in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.datasets import (
    FeatureConfig,
    assemble_dataset,
    compute_dataset_features,
    create_demo_dataset,
    feature_engine,
    save_assembled,
    save_feature_config,
)
from core.features import FeatureEngine
from core.ingest import ingest_file
from core.workspace import Workspace


def telco_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Attributes of every kind a real customers table has, and a churn label that depends on
    contract, tenure and charges."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.25, 0.25])
    tenure = np.where(contract == "Month-to-month", rng.integers(0, 30, n), rng.integers(5, 72, n))
    monthly = np.round(rng.uniform(18, 118, n), 2)
    logit = -1 + 2.2 * (contract == "Month-to-month") - 0.05 * tenure + 0.02 * (monthly - 60)
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customerID": [f"{i:04d}-XK" for i in range(n)],
            "email": [f"user{i}@shop.example" for i in range(n)],
            "Partner": rng.choice(["Yes", "No"], n),
            "tenure": tenure,
            "Contract": contract,
            "tariff": [f"Tariff {i % 40}" for i in range(n)],  # 40 values: profile text
            "brand": "Acme",  # constant
            "MonthlyCharges": monthly,
            "Churn": np.where(churn, "Yes", "No"),
        }
    )


@pytest.fixture(scope="module")
def telco_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("telco")
    path = root / "telco.csv"
    telco_frame().to_csv(path, index=False)
    ws = Workspace(root / "ws")
    info = save_assembled(ws, "telco", assemble_dataset([ingest_file(path)]))
    return ws, info.id


def test_attribute_kinds_and_features(telco_ws):
    ws, ds = telco_ws
    with feature_engine(ws, ds) as eng:
        kinds = {a.column: a.kind for a in eng.attributes()}
        feats = {f.name: f for f in eng.catalogue()}
        text = eng.text_attributes()
    assert kinds["tenure"] == kinds["monthly_charges"] == "number"
    assert kinds["contract"] == kinds["partner"] == "category"
    assert kinds["email"] == "identifier" and kinds["brand"] == "constant"
    assert kinds["tariff"] == "text" and text == ["tariff"]
    assert "label" not in kinds and "customer_id" not in kinds
    # a yes/no column is one indicator (of "Yes"); a three-valued one, one per value
    assert [n for n in feats if n.startswith("partner")] == ["partner_yes"]
    assert {n for n in feats if n.startswith("contract")} == {
        "contract_month_to_month",
        "contract_one_year",
        "contract_two_year",
    }
    assert not any(n.startswith(("email", "brand", "tariff")) for n in feats)
    # no orders: the attributes are on by default
    assert all(feats[n].default_enabled for n in ("tenure", "partner_yes"))


def test_attribute_values_match_the_table(telco_ws):
    ws, ds = telco_ws
    table = compute_dataset_features(ws, ds)
    raw = ws.load_table(ds, "customers").set_index("customer_id")
    got = table.data.set_index("customer_id").loc[raw.index]
    np.testing.assert_allclose(got["tenure"], raw["tenure"])
    assert ((got["contract_two_year"] == 1) == (raw["contract"] == "Two year")).all()
    assert ((got["partner_yes"] == 1) == (raw["partner"] == "Yes")).all()
    assert table.text_attributes == ["tariff"]


def test_customers_only_table_segments_and_trains(telco_ws):
    from core.finetune import FinetuneParams, run_finetune
    from core.pipeline import SegmentationParams, run_segmentation

    ws, ds = telco_ws
    seg = run_segmentation(ws, ds, SegmentationParams(k=3, projection=False))
    assert seg.status == "done" and seg.summary["n_segments"] == 3
    # `Churn` is the uploaded name of the column ingest stored as `label`.
    p = FinetuneParams(label_column="Churn", use_text=False, epochs=4, batch_size=32)
    run = run_finetune(ws, ds, p)
    assert run.status == "done" and set(run.summary["classes"]) == {"Yes", "No"}
    from core.finetune import load_evaluations

    aucs = {e["model_name"]: e["macro_auc"] for e in load_evaluations(ws, run.id)}
    # the label depends on the attributes, so every model finds it
    assert min(aucs.values()) > 0.7


def test_predicting_an_attribute_never_reads_its_own_indicators(telco_ws):
    import json

    from core.finetune import FinetuneParams, run_finetune

    ws, ds = telco_ws
    p = FinetuneParams(label_column="Contract", use_text=False, epochs=1, baselines=False)
    run = run_finetune(ws, ds, p)
    cols = json.loads((run.path / "bundle" / "bundle.json").read_text())["config"]
    assert "tenure" in cols["numeric_columns"]
    assert not any(c.startswith("contract_") for c in cols["numeric_columns"])


def test_attributes_beside_orders_are_offered_but_off(tmp_path):
    ws = Workspace(tmp_path)
    create_demo_dataset(ws, n_customers=300, seed=1)
    with feature_engine(ws, "demo") as eng:
        attr = [f for f in eng.catalogue() if f.group == "Attributes"]
    assert {f.attribute for f in attr} == {"region", "age_band", "gender", "channel"}
    assert not any(f.default_enabled for f in attr)
    # the demo's planted ground truth is never a feature
    assert not any("persona" in f.name for f in attr)
    default = compute_dataset_features(ws, "demo")
    assert not any(f.attribute for f in default.features)
    save_feature_config(ws, "demo", FeatureConfig(enabled=["channel_app"]))
    on = compute_dataset_features(ws, "demo")
    assert "channel_app" in on.data.columns and "recency_days" in on.data.columns


def test_uploaded_name_clashing_with_a_catalogue_feature_is_renamed():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [1.0, 2.0, 5.0]})
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            "amount": [10.0, 20.0],
        }
    )
    with FeatureEngine({"customers": customers, "orders": orders}) as eng:
        names = [f.name for f in eng.catalogue()]
        assert names.count("frequency") == 1 and "attr_frequency" in names
        out = eng.compute([f for f in eng.catalogue() if f.name == "attr_frequency"])
    assert out.set_index("customer_id")["attr_frequency"].to_dict() == {"a": 1, "b": 2, "c": 5}


def test_distinct_categories_needs_a_category_column():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-02-03"]),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    with FeatureEngine({"orders": orders}) as eng:
        names = {f.name for f in eng.catalogue()}
    assert "distinct_categories" not in names and "frequency" in names
    with FeatureEngine({"orders": orders.assign(category=["x", "y", "x"])}) as eng:
        out = eng.compute([f for f in eng.catalogue() if f.name == "distinct_categories"])
    assert out.set_index("customer_id")["distinct_categories"].to_dict() == {"a": 2, "b": 1}


def test_profile_sentence_says_text_attributes(telco_ws):
    from core.documents import DocumentSpec, build_documents

    ws, ds = telco_ws
    table = compute_dataset_features(ws, ds)
    docs = build_documents(
        table.data,
        None,
        ws.load_table(ds, "customers"),
        DocumentSpec(include_profile=True),
        text_attributes=table.text_attributes,
    )
    first = docs.set_index("customer_id").loc["0001-XK", "document"]
    assert "tariff: Tariff 1." in first


def test_customers_only_segment_names_say_the_attribute_and_its_value():
    from core.profiles import build_profiles

    rng = np.random.default_rng(0)
    n = 200
    two_year = np.r_[np.ones(n // 2), np.zeros(n // 2)]
    seg = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "segment": np.where(two_year == 1, "S1", "S2"),
            "contract_two_year": two_year,
            "monthly_charges": rng.uniform(20, 100, n),
        }
    )
    labels = {"contract_two_year": "contract: Two year", "monthly_charges": "monthly_charges"}
    names = {p.segment: p.name for p in build_profiles(seg, None, attribute_labels=labels)}
    assert names["S1"] == "Mostly contract: Two year"
    zh = {p.segment: p.name for p in build_profiles(seg, None, attribute_labels=labels, lang="zh")}
    assert "contract: Two year" in zh["S1"]
