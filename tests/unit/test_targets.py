"""Prediction targets: hand-checked churn / value labels, label columns, clusters, leakage."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from core.demo import generate_demo_store
from core.features import build_customer_features
from core.segment import rfm_tiers
from core.targets import (
    Target,
    churn_target,
    cluster_target,
    label_column_target,
    leakage_check,
    suggest_cutoff,
    value_tier_target,
)

T = pd.Timestamp
CUTOFF = "2024-06-01"


@pytest.fixture
def orders() -> pd.DataFrame:
    rows = [
        # a: bought before and inside the horizon -> active
        ("a", "2024-01-10", 50.0),
        ("a", "2024-07-01", 80.0),
        # b: bought before, nothing inside the horizon -> churned
        ("b", "2024-02-01", 20.0),
        ("b", "2024-12-01", 30.0),  # after the horizon: does not count
        # c: only a return inside the horizon -> churned (a return is not a purchase)
        ("c", "2024-03-01", 40.0),
        ("c", "2024-06-15", -40.0),
        # d: first purchase after the cutoff -> not in the population
        ("d", "2024-06-10", 100.0),
        # e: only a return before the cutoff -> not in the population
        ("e", "2024-05-01", -10.0),
        ("e", "2024-06-20", 10.0),
        # f: big spender inside the horizon; purchase exactly at the cutoff counts
        ("f", "2024-05-30", 10.0),
        ("f", "2024-06-01", 500.0),
        # g: small spend inside the horizon, purchase on the last day outside it
        ("g", "2024-04-01", 10.0),
        ("g", "2024-07-05", 5.0),
        ("g", "2024-08-30", 999.0),  # cutoff + 90 days = 2024-08-30: excluded
        ("z", "2025-01-31", 1.0),  # the last order in the data
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    df["order_date"] = pd.to_datetime(df["order_date"])
    return df


def _as_dict(target: Target) -> dict[str, str]:
    return dict(zip(target.labels["customer_id"], target.labels["label"], strict=True))


def test_churn_labels_hand_example(orders):
    t = churn_target(orders, CUTOFF, horizon_days=90)
    assert t.kind == "churn" and t.name == "churn_90d"
    assert t.classes == ["active", "churned"]
    assert t.cutoff == datetime(2024, 6, 1)
    assert _as_dict(t) == {
        "a": "active",
        "b": "churned",
        "c": "churned",
        "f": "active",
        "g": "active",
    }
    assert list(t.labels.columns) == ["customer_id", "label"]
    assert "2024-06-01" in t.description


def test_churn_error_when_horizon_beyond_data(orders):
    with pytest.raises(ValueError, match=r"2025-01-31") as exc:
        churn_target(orders, "2025-01-01", horizon_days=90)
    assert "2025-04-01" in str(exc.value)  # cutoff + horizon named
    with pytest.raises(ValueError, match="not enough future data"):
        value_tier_target(orders, "2024-12-01", horizon_days=90)


def test_suggest_cutoff(orders):
    c = suggest_cutoff(orders, horizon_days=90)
    assert c == datetime(2024, 11, 2)
    churn_target(orders, c, horizon_days=90)  # the suggestion is always usable


def test_value_tiers_hand_example(orders):
    t = value_tier_target(orders, CUTOFF, horizon_days=90)
    labels = _as_dict(t)
    assert t.classes == ["low", "mid", "high"]
    # future net spend: a 80, b 0, c 0 (return only, clipped), f 500, g 5
    assert labels["b"] == labels["c"] == "low"
    assert labels["f"] == "high"
    order = {"low": 0, "mid": 1, "high": 2}
    assert order[labels["g"]] <= order[labels["a"]] <= order[labels["f"]]


def test_value_tier_ties_share_a_tier():
    rows = [(f"c{i}", "2024-01-01", 10.0) for i in range(12)]
    spend = [0, 0, 5, 5, 5, 5, 20, 20, 20, 100, 100, 100]
    rows += [(f"c{i}", "2024-03-01", float(s)) for i, s in enumerate(spend) if s]
    rows += [("zz", "2024-12-31", 1.0)]
    df = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    t = value_tier_target(df, "2024-02-01", horizon_days=60)
    lab = _as_dict(t)
    for group in ([2, 3, 4, 5], [6, 7, 8], [9, 10, 11], [0, 1]):
        assert len({lab[f"c{i}"] for i in group}) == 1
    assert lab["c0"] == "low" and lab["c11"] == "high"


@pytest.fixture(scope="module")
def demo():
    tables = generate_demo_store(n_customers=1500, seed=1)
    cutoff = suggest_cutoff(tables["orders"], 90)
    ft = build_customer_features(tables, cutoff=cutoff)
    return tables, cutoff, ft


def test_value_tiers_demo_ordered_and_balanced(demo):
    tables, cutoff, _ = demo
    t = value_tier_target(tables["orders"], cutoff, horizon_days=90)
    assert t.classes == ["low", "mid", "high"]
    shares = t.class_counts() / t.n_customers
    assert (shares > 0.15).all() and (shares < 0.6).all()
    o = tables["orders"]
    win = o[(o.order_date >= cutoff) & (o.order_date < cutoff + pd.Timedelta(days=90))]
    spend = win.groupby("customer_id")["amount"].sum().clip(lower=0)
    lab = t.labels.set_index("customer_id")["label"]
    s = spend.reindex(lab.index, fill_value=0)
    means = s.groupby(lab).mean()
    assert means["low"] < means["mid"] < means["high"]
    # the tiers do not overlap in spend
    assert s[lab == "low"].max() <= s[lab == "mid"].min()
    assert s[lab == "mid"].max() <= s[lab == "high"].min()


def test_churn_demo_population_matches_features(demo):
    tables, cutoff, ft = demo
    t = churn_target(tables["orders"], cutoff)
    assert set(t.labels["customer_id"]) <= set(ft.data["customer_id"])
    assert 0.1 < (t.labels["label"] == "churned").mean() < 0.9


def test_label_column_missing_and_numeric():
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(8)],
            "label": ["vip", "vip", "basic", None, "basic", "", "vip", np.nan],
            "stars": [1, 2, 2, 1, 3, 3, np.nan, 1],
        }
    )
    t = label_column_target(customers, "label")
    assert t.kind == "label_column" and t.cutoff is None
    assert t.classes == ["basic", "vip"]
    assert len(t.labels) == 5
    assert any("3 of 8" in w and "'label'" in w for w in t.warnings)

    n = label_column_target(customers, "stars")
    assert n.classes == ["1", "2", "3"]  # numeric order, integers without ".0"
    assert any("1 of 8" in w for w in n.warnings)


def test_label_column_errors_and_tiny_classes():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "only": ["x", "x", None, "x", "x"],
            "lonely": ["x", "x", "y", "y", "z"],
            "amount": [1.5, 2.5, 3.5, 4.5, 5.5],
        }
    )
    with pytest.raises(ValueError, match="'only'.*fewer than 2 classes"):
        label_column_target(customers, "only")
    with pytest.raises(ValueError, match="'missing'"):
        label_column_target(customers, "missing")
    t = label_column_target(customers, "lonely")
    assert t.classes == ["x", "y"]
    assert any("fewer than 2 customers" in w and "'z'" in w for w in t.warnings)
    many = pd.DataFrame({"customer_id": [f"c{i}" for i in range(50)], "v": np.arange(50) * 1.1})
    with pytest.raises(ValueError, match="'v'"):
        label_column_target(many, "v")


def test_label_column_one_class_after_tiny_drop():
    customers = pd.DataFrame({"customer_id": list("abcd"), "k": ["x", "x", "x", "y"]})
    with pytest.raises(ValueError, match="'k'"):
        label_column_target(customers, "k")


def test_cluster_target_drops_noise():
    seg = pd.DataFrame(
        {
            "customer_id": list("abcdefg"),
            "segment": ["S1", "S2", "Noise", "S1", "S10", "S2", "S10"],
            "monetary": [1.0, 2, 3, 4, 5, 6, 7],
            "x": np.zeros(7),
        }
    )
    t = cluster_target(seg)
    assert t.kind == "cluster"
    assert "Noise" not in set(t.labels["label"])
    assert t.classes == ["S1", "S2", "S10"]
    assert len(t.labels) == 6
    assert t.source_features == ["monetary"]
    assert any("Noise" in w for w in t.warnings)


def test_leakage_rfm_labels(demo):
    tables, _, ft = demo
    names = [c for c in ft.data.columns if c != "customer_id"]
    tiers = rfm_tiers(ft.data)
    customers = tables["customers"].merge(
        tiers[["customer_id", "segment"]].rename(columns={"segment": "customer_group"}),
        on="customer_id",
        how="left",
    )
    t = label_column_target(customers, "customer_group")
    warns = leakage_check(t, names, ft.data)
    assert any("recency" in w and "churn" in w for w in warns)
    # column name alone (values not RFM-like) also triggers with RFM features
    c2 = customers.assign(rfm_tier=customers["customer_group"].map(lambda v: f"t{hash(v) % 3}"))
    t2 = label_column_target(c2, "rfm_tier")
    assert any("rfm_tier" in w for w in leakage_check(t2, ["recency_days", "frequency"]))
    assert not any("derived from recency" in w for w in leakage_check(t2, ["discount_rate"]))


def test_leakage_cluster_target(demo):
    _, _, ft = demo
    names = [c for c in ft.data.columns if c != "customer_id"]
    seg = ft.data.assign(segment=rfm_tiers(ft.data)["segment"].to_numpy())
    t = cluster_target(seg)
    warns = leakage_check(t, names)
    assert any("re-learn the clustering" in w for w in warns)
    # unknown source features still warn
    t2 = cluster_target(seg[["customer_id", "segment"]])
    assert any("re-learn" in w for w in leakage_check(t2, names))


def test_leakage_single_feature_predictor(demo):
    tables, _, ft = demo
    names = [c for c in ft.data.columns if c != "customer_id"]
    f = ft.data.set_index("customer_id")["frequency"]
    customers = tables["customers"].assign(
        heavy=tables["customers"]["customer_id"].map(
            lambda c: "heavy" if f.get(c, 0) > 5 else "light"
        )
    )
    t = label_column_target(customers, "heavy")
    warns = leakage_check(t, names, ft.data)
    assert any("'frequency' alone" in w for w in warns)
    persona = label_column_target(tables["customers"], "persona")
    assert leakage_check(persona, names, ft.data) == []


def test_no_leakage_for_time_split(demo):
    tables, cutoff, ft = demo
    names = [c for c in ft.data.columns if c != "customer_id"]
    churn = churn_target(tables["orders"], cutoff)
    assert leakage_check(churn, names, ft.data, feature_cutoff=ft.cutoff) == []
    assert leakage_check(churn, names) == []
    value = value_tier_target(tables["orders"], cutoff)
    assert leakage_check(value, names, ft.data, feature_cutoff=cutoff) == []
    warns = leakage_check(churn, names, feature_cutoff=None)
    assert warns and "cutoff" in warns[0]


def test_summary_is_json_friendly(orders):
    import json

    t = churn_target(orders, CUTOFF)
    d = json.loads(json.dumps(t.summary()))
    assert d["counts"] == {"active": 3, "churned": 2}


# ------------------------------------------------- files as users bring them (issue 15)
def _orders_file(tmp_path, lines: list[str]) -> pd.DataFrame:
    """An orders CSV written to tmp_path and ingested as a user's upload is."""
    from core.ingest import ingest_file

    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\n" + "\n".join(lines) + "\n")
    res = ingest_file(path, "orders")
    assert res.report.rows_rejected == 0
    return res.data


def test_horizon_may_end_on_the_day_after_the_last_order(tmp_path):
    # The last order is on 2024-03-31 (late in the day): a 30-day horizon from 2024-03-02
    # covers 2024-03-02 .. 2024-03-31, the data's last day included.
    orders = _orders_file(
        tmp_path,
        [
            "1,a,2024-01-05 10:00,20.0",
            "2,b,2024-01-20 11:00,35.0",
            "3,c,2024-02-10 12:00,15.0",
            "4,a,2024-03-10 09:00,40.0",
            "5,b,2024-03-31 22:15,25.0",  # the last order: on the horizon's last day
        ],
    )
    t = churn_target(orders, "2024-03-02", horizon_days=30)
    assert t.meta["horizon_end"] == "2024-04-01T00:00:00"
    assert _as_dict(t) == {"a": "active", "b": "active", "c": "churned"}
    assert "to 2024-03-31 (30 days)" in t.description
    value_tier_target(orders, "2024-03-02", horizon_days=30)
    # One day later, the horizon would run past the data.
    with pytest.raises(ValueError, match="not enough future data") as exc:
        churn_target(orders, "2024-03-03", horizon_days=30)
    assert "2024-04-02" in str(exc.value) and "2024-03-31" in str(exc.value)
    with pytest.raises(ValueError, match="not enough future data"):
        value_tier_target(orders, "2024-03-03", horizon_days=30)


def test_hand_example_horizon_edges(orders):
    # Last order 2025-01-31: the latest cutoff for 90 days is 2024-11-03 (horizon ends
    # 2025-02-01, exclusive); 2024-11-04 is one day too late.
    churn_target(orders, "2024-11-03", horizon_days=90)
    with pytest.raises(ValueError, match="not enough future data"):
        churn_target(orders, "2024-11-04", horizon_days=90)


def test_customers_with_only_free_orders_before_the_cutoff_stay_in_the_population(tmp_path):
    orders = _orders_file(
        tmp_path,
        [
            "1,paid,2024-01-05,20.0",
            "2,paid,2024-02-20,30.0",
            "3,free,2024-01-10,0",  # only free orders before the cutoff
            "4,free,2024-01-25,0.00",
            "5,free,2024-02-15,12.0",  # ... and a purchase in the horizon: active
            "6,free_gone,2024-01-12,0",  # free order, nothing after: churned
            "7,lapsed,2024-01-02,9.0",
            "8,refund,2024-01-08,-5.0",  # only a return: not an order, not in the population
            "9,refund,2024-02-08,5.0",
            "10,zz,2024-04-30,1.0",
        ],
    )
    t = churn_target(orders, "2024-02-01", horizon_days=30)
    assert _as_dict(t) == {
        "free": "active",
        "free_gone": "churned",
        "lapsed": "churned",
        "paid": "active",
    }
    (w,) = [
        w for w in t.warnings if getattr(w, "phrase", None) and w.phrase.key == "free_orders_only"
    ]
    assert w.phrase.values == {"n": "2", "total": "4"}
    v = value_tier_target(orders, "2024-02-01", horizon_days=30)
    assert set(v.labels["customer_id"]) == {"free", "free_gone", "lapsed", "paid"}
    assert _as_dict(v)["free_gone"] == "low"
    assert any(
        getattr(w, "phrase", None) and w.phrase.key == "free_orders_only" for w in v.warnings
    )


def test_a_free_order_in_the_horizon_is_an_order(tmp_path):
    orders = _orders_file(
        tmp_path,
        [
            "1,a,2024-01-05,20.0",
            "2,a,2024-02-10,0",  # a free order in the horizon: a came back
            "3,b,2024-01-06,20.0",
            "4,c,2024-01-07,20.0",
            "5,c,2024-02-11,8.0",
            "6,zz,2024-04-30,1.0",
        ],
    )
    t = churn_target(orders, "2024-02-01", horizon_days=30)
    assert _as_dict(t) == {"a": "active", "b": "churned", "c": "active"}
    assert not [w for w in t.warnings if getattr(w, "phrase", None)
                and w.phrase.key == "free_orders_only"]  # fmt: skip
