from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo import CATEGORIES, PERSONAS, generate_demo_store, write_demo_files
from core.schema import SCHEMAS


@pytest.fixture(scope="module")
def store():
    return generate_demo_store(n_customers=3000, seed=7)


def _per_customer(store):
    c, o = store["customers"], store["orders"]
    m = o.merge(c[["customer_id", "persona"]], on="customer_id")
    purchases = m[m["amount"] > 0]
    agg = purchases.groupby("customer_id").agg(
        orders=("order_id", "nunique"), spend=("amount", "sum"), disc=("discount", "mean")
    )
    return c.set_index("customer_id")[["persona"]].join(agg)


def test_deterministic_and_seed_dependent(store):
    again = generate_demo_store(n_customers=3000, seed=7)
    for t in store:
        pd.testing.assert_frame_equal(store[t], again[t])
    other = generate_demo_store(n_customers=3000, seed=8)
    assert not store["orders"]["amount"].equals(other["orders"]["amount"])


def test_columns_follow_the_canonical_schema(store):
    for t, df in store.items():
        expected = SCHEMAS[t].column_names + (["persona"] if t == "customers" else [])
        assert list(df.columns) == expected
    assert store["customers"]["customer_id"].is_unique
    assert store["products"]["product_id"].is_unique
    assert pd.api.types.is_datetime64_any_dtype(store["orders"]["order_date"])


def test_personas_and_categories(store):
    assert set(store["customers"]["persona"]) == set(PERSONAS) and len(PERSONAS) >= 6
    assert store["products"]["category"].nunique() >= 8
    assert set(store["orders"]["category"]) <= set(CATEGORIES)


def test_amounts_and_returns(store):
    o = store["orders"]
    buy = o[o["quantity"] > 0]
    expected = (buy["quantity"] * buy["unit_price"] * (1 - buy["discount"])).round(2)
    np.testing.assert_allclose(buy["amount"], expected, atol=0.011)
    ret = o[o["quantity"] < 0]
    assert len(ret) > 0 and (ret["amount"] < 0).all()
    # Every return refers to a product the customer bought earlier.
    first_buy = buy.groupby(["customer_id", "product_id"])["order_date"].min()
    keys = list(zip(ret["customer_id"], ret["product_id"], strict=True))
    assert all(k in first_buy.index for k in keys)
    assert (ret.set_index(["customer_id", "product_id"])["order_date"] > first_buy.reindex(keys).to_numpy()).all()
    end = pd.Timestamp("2026-06-30")
    assert o["order_date"].min() >= end - pd.DateOffset(months=24)
    assert o["order_date"].max() < end + pd.Timedelta(days=1)


def test_reviews_cover_most_customers(store):
    c, r = store["customers"], store["reviews"]
    assert r["customer_id"].nunique() / len(c) >= 0.8
    assert r["rating"].between(1, 5).all()
    assert (r["review_text"].str.len() > 20).all()
    pair = c[c["persona"].isin(["eco_conscious", "tech_enthusiast"])]
    assert pair["customer_id"].isin(r["customer_id"]).mean() >= 0.95


def test_text_only_pair_has_same_numbers_but_different_words(store):
    pc = _per_customer(store)
    eco, tech = pc[pc["persona"] == "eco_conscious"], pc[pc["persona"] == "tech_enthusiast"]
    for col in ("orders", "spend", "disc"):
        a, b = eco[col].mean(), tech[col].mean()
        assert abs(a - b) / max(a, b) < 0.15, col
    r = store["reviews"].merge(store["customers"][["customer_id", "persona"]], on="customer_id")
    eco_txt = " ".join(r.loc[r["persona"] == "eco_conscious", "review_text"]).lower()
    tech_txt = " ".join(r.loc[r["persona"] == "tech_enthusiast", "review_text"]).lower()
    assert eco_txt.count("recycl") > 20 * max(1, tech_txt.count("recycl"))
    assert tech_txt.count("specs") > 20 * max(1, eco_txt.count("specs"))


def test_planted_behaviours(store):
    c, o = store["customers"], store["orders"]
    end = pd.Timestamp("2026-06-30")
    m = o.merge(c[["customer_id", "persona"]], on="customer_id")
    lapsing = m[(m["persona"] == "lapsing_churned") & (m["amount"] > 0)]
    assert lapsing["order_date"].max() < end - pd.DateOffset(months=6)
    new = c[c["persona"] == "new_potential"]
    assert (new["signup_date"] >= end - pd.Timedelta(days=92)).all()

    def return_rate(p):
        x = m[m["persona"] == p]
        return -x.loc[x["amount"] < 0, "amount"].sum() / x.loc[x["amount"] > 0, "amount"].sum()

    assert return_rate("unhappy_returner") > 5 * return_rate("loyal_high_value")
    pc = _per_customer(store)
    spend = pc.groupby("persona")["spend"].mean()
    assert spend["loyal_high_value"] == spend.max()
    disc = pc.groupby("persona")["disc"].mean()
    assert disc["bargain_hunter"] == disc.max()
    gift = m[(m["persona"] == "gift_seasonal") & (m["amount"] > 0)]
    assert gift["order_date"].dt.month.isin([11, 12]).mean() > 0.5


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_demo_files_roundtrip(store, tmp_path, fmt):
    paths = write_demo_files(store, tmp_path, fmt=fmt)
    assert set(paths) == {"customers", "orders", "products", "reviews"}
    back = pd.read_csv(paths["orders"]) if fmt == "csv" else pd.read_parquet(paths["orders"])
    assert len(back) == len(store["orders"])
    assert back["amount"].sum() == pytest.approx(store["orders"]["amount"].sum())
