"""The synthetic demo store: shape, determinism, planted personas, and file output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.demo import CATEGORIES, PERSONAS, generate_demo_store, write_demo_files
from core.schema import SCHEMAS

N = 2000
END = pd.Timestamp("2026-06-30")
START = END - pd.DateOffset(months=24)
PAIR = ("eco_conscious", "tech_enthusiast")


@pytest.fixture(scope="module")
def store():
    return generate_demo_store(n_customers=N, seed=7)


@pytest.fixture(scope="module")
def lines(store):
    """Order lines with the customer's persona."""
    c = store["customers"][["customer_id", "persona"]]
    return store["orders"].merge(c, on="customer_id", how="left", validate="many_to_one")


@pytest.fixture(scope="module")
def per_customer(store, lines):
    buy = lines[lines["quantity"] > 0]
    ret = lines[lines["quantity"] < 0]
    g = buy.groupby("customer_id")
    out = pd.DataFrame(
        {
            "orders": g["order_id"].nunique(),
            "lines": g.size(),
            "spend": g["amount"].sum(),
            "gross": (buy["quantity"] * buy["unit_price"]).groupby(buy["customer_id"]).sum(),
            "disc_value": (buy["quantity"] * buy["unit_price"] * buy["discount"])
            .groupby(buy["customer_id"])
            .sum(),
            "first_order": g["order_date"].min(),
        }
    )
    out["discount_rate"] = out["disc_value"] / out["gross"]
    out["returned_lines"] = ret.groupby("customer_id").size().reindex(out.index).fillna(0)
    out["return_share"] = out["returned_lines"] / out["lines"]
    out["reviews"] = store["reviews"].groupby("customer_id").size().reindex(out.index).fillna(0)
    c = store["customers"].set_index("customer_id")[["persona", "signup_date"]]
    return c.join(out)


def test_same_seed_same_tables_other_seed_other_tables(store):
    again = generate_demo_store(n_customers=N, seed=7)
    for t in store:
        pd.testing.assert_frame_equal(store[t], again[t])
    other = generate_demo_store(n_customers=N, seed=8)
    assert not store["orders"]["amount"].equals(other["orders"]["amount"])
    assert not store["customers"]["persona"].equals(other["customers"]["persona"])
    assert not store["reviews"]["review_text"].equals(other["reviews"]["review_text"])


def test_columns_and_dtypes_follow_the_canonical_schema(store):
    assert set(store) == {"customers", "orders", "products", "reviews"}
    for t, df in store.items():
        expected = SCHEMAS[t].column_names + (["persona"] if t == "customers" else [])
        assert list(df.columns) == expected, t
        for col in SCHEMAS[t].columns:
            s = df[col.name]
            if col.name == "label":
                continue
            if col.dtype == "string":
                assert pd.api.types.is_string_dtype(s) or s.dtype == object, (t, col.name)
                assert s.notna().all(), (t, col.name)
                assert isinstance(s.iloc[0], str)
            elif col.dtype == "date":
                assert s.dtype == "datetime64[ns]", (t, col.name, s.dtype)
            elif col.dtype == "float":
                assert s.dtype == np.float64, (t, col.name)
    c = store["customers"]
    assert len(c) == N and c["customer_id"].is_unique
    assert c["label"].isna().all()
    assert c["customer_id"].iloc[0] == "C0000001"
    assert store["orders"]["order_id"].str.fullmatch(r"O\d{8}").all()
    assert store["products"]["product_id"].str.fullmatch(r"P\d{4}").all()
    assert store["reviews"]["review_id"].str.fullmatch(r"R\d{7}").all()
    assert store["reviews"]["review_id"].is_unique
    assert set(c["age_band"]) <= {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert set(c["channel"]) == {"app", "web", "store", "social"}
    assert c["region"].nunique() >= 4 and c["gender"].nunique() >= 2


def test_personas_and_catalogue(store):
    c, p, o = store["customers"], store["products"], store["orders"]
    assert len(PERSONAS) >= 8 and all(isinstance(v, str) and v for v in PERSONAS.values())
    assert set(c["persona"]) == set(PERSONAS)
    shares = c["persona"].value_counts(normalize=True)
    assert shares.min() > 0.05 and shares.max() < 0.25  # mild imbalance
    assert p["category"].nunique() >= 8 and set(p["category"]) <= set(CATEGORIES)
    assert 150 <= len(p) <= 250 and p["product_id"].is_unique and p["product_name"].is_unique
    assert (p["price"] > 0).all() and (p["description"].str.len() > 10).all()
    # Category-appropriate prices: jewellery and electronics cost more than groceries.
    med = p.groupby("category")["price"].median()
    assert med["Jewelry"] > 5 * med["Grocery"] and med["Electronics"] > 5 * med["Grocery"]
    # Order lines agree with the product table.
    m = o.merge(p, on="product_id", how="left", suffixes=("", "_p"))
    assert (m["product_name"] == m["product_name_p"]).all()
    assert (m["category"] == m["category_p"]).all()
    assert np.allclose(m["unit_price"], m["price"])


def test_amounts_discounts_and_lines_per_order(store, per_customer):
    o = store["orders"]
    assert o["discount"].between(0, 1).all()
    expected = (o["quantity"] * o["unit_price"] * (1 - o["discount"])).round(2)
    np.testing.assert_allclose(o["amount"], expected, atol=0.0051)
    buy = o[o["quantity"] > 0]
    assert (buy["quantity"] == buy["quantity"].round()).all()
    assert buy.groupby("order_id").size().between(1, 3).all()
    assert 5 <= per_customer["lines"].mean() <= 15
    # Order ids are numbered in time order.
    first_seen = o.drop_duplicates("order_id")
    assert first_seen["order_date"].is_monotonic_increasing
    assert first_seen["order_id"].is_monotonic_increasing


def test_returns_reference_an_earlier_purchase_of_the_customer(store):
    o = store["orders"]
    buy, ret = o[o["quantity"] > 0], o[o["quantity"] < 0]
    assert len(ret) > 0 and (ret["amount"] < 0).all()
    assert not set(ret["order_id"]) & set(buy["order_id"])  # returns are their own transactions
    first_buy = buy.groupby(["customer_id", "product_id"])["order_date"].min()
    bought_qty = buy.groupby(["customer_id", "product_id"])["quantity"].sum()
    keys = pd.MultiIndex.from_frame(ret[["customer_id", "product_id"]])
    assert keys.isin(first_buy.index).all()
    assert (ret["order_date"].to_numpy() > first_buy.reindex(keys).to_numpy()).all()
    returned = ret.groupby(["customer_id", "product_id"])["quantity"].sum()
    assert (-returned <= bought_qty.reindex(returned.index)).all()


def test_dates_inside_the_window(store, per_customer):
    o, r = store["orders"], store["reviews"]
    for s in (o["order_date"], r["review_date"]):
        assert s.min() >= START
        assert s.max() < END + pd.Timedelta(days=1)
    has = per_customer.dropna(subset=["first_order"])
    assert (has["signup_date"] <= has["first_order"]).all()
    assert o["order_date"].dt.month.nunique() == 12


def test_reviews_cover_most_customers_and_are_about_their_purchases(store):
    c, o, r = store["customers"], store["orders"], store["reviews"]
    per = r.groupby("customer_id").size()
    assert len(per) / len(c) >= 0.8
    assert per.between(1, 5).all()
    assert r["rating"].isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert (r["review_text"].str.len() > 20).all()
    assert not r["review_text"].str.contains("{p}", regex=False).any()
    assert r["review_text"].nunique() > 0.5 * len(r)  # varied, not a handful of fixed texts
    buy = o[o["quantity"] > 0]
    first_buy = buy.groupby(["customer_id", "product_id"])["order_date"].min()
    keys = pd.MultiIndex.from_frame(r[["customer_id", "product_id"]])
    assert keys.isin(first_buy.index).all()
    assert (r["review_date"].to_numpy() > first_buy.reindex(keys).to_numpy()).all()
    # Ratings follow the persona: happy loyal customers, unhappy returners.
    rr = r.merge(c[["customer_id", "persona"]], on="customer_id")
    mean_rating = rr.groupby("persona")["rating"].mean()
    assert mean_rating["loyal_high_value"] > 4.2 and mean_rating["unhappy_returner"] < 2.5


def test_text_only_pair_has_the_same_numbers_but_different_words(store, per_customer):
    pc = per_customer
    a, b = pc[pc["persona"] == PAIR[0]], pc[pc["persona"] == PAIR[1]]
    for col in ("orders", "lines", "spend", "reviews"):
        x, y = a[col].mean(), b[col].mean()
        assert abs(x - y) / max(x, y) < 0.15, (col, x, y)
    assert abs(a["discount_rate"].mean() - b["discount_rate"].mean()) < 0.015
    assert abs(a["return_share"].mean() - b["return_share"].mean()) < 0.03
    gap = abs(a["signup_date"].astype("int64").mean() - b["signup_date"].astype("int64").mean())
    assert gap < pd.Timedelta(days=60).value
    # Nearly all of them wrote something, so the text can separate them.
    assert (a["reviews"] > 0).mean() >= 0.95 and (b["reviews"] > 0).mean() >= 0.95
    r = store["reviews"].merge(store["customers"][["customer_id", "persona"]], on="customer_id")
    txt = {p: " ".join(r.loc[r["persona"] == p, "review_text"]).lower() for p in PAIR}
    for word, own, other in (
        ("recycl", PAIR[0], PAIR[1]),
        ("sustainab", PAIR[0], PAIR[1]),
        ("specs", PAIR[1], PAIR[0]),
        ("upgrade", PAIR[1], PAIR[0]),
    ):
        assert txt[own].count(word) > 20 * max(1, txt[other].count(word)), word


def test_planted_behaviours(store, lines, per_customer):
    pc = per_customer
    # lapsing_churned: nothing at all (purchases or returns) in the last six months.
    lapsing = lines[lines["persona"] == "lapsing_churned"]
    assert lapsing["order_date"].max() < END - pd.DateOffset(months=6)
    assert lapsing["order_date"].min() < START + pd.DateOffset(months=12)
    # new_potential: signed up in the last three months, one to three orders.
    new = pc[pc["persona"] == "new_potential"]
    assert (new["signup_date"] >= END - pd.Timedelta(days=92)).all()
    assert new["orders"].between(1, 3).all()
    # unhappy_returner returns far more than loyal customers.
    share = pc.groupby("persona")["return_share"].mean()
    assert 0.25 <= share["unhappy_returner"] <= 0.55
    assert share["unhappy_returner"] > 5 * share["loyal_high_value"]
    # loyal_high_value spends most and orders most often; bargain_hunter has the deepest discounts.
    assert pc.groupby("persona")["spend"].mean().idxmax() == "loyal_high_value"
    assert pc.groupby("persona")["orders"].mean().idxmax() == "loyal_high_value"
    disc = pc.groupby("persona")["discount_rate"].mean()
    assert disc.idxmax() == "bargain_hunter" and 0.25 <= disc["bargain_hunter"] <= 0.6
    # gift_seasonal: most purchases in November and December.
    gift = lines[(lines["persona"] == "gift_seasonal") & (lines["quantity"] > 0)]
    others = lines[(lines["persona"] != "gift_seasonal") & (lines["quantity"] > 0)]
    assert gift["order_date"].dt.month.isin([11, 12]).mean() > 0.5
    assert others["order_date"].dt.month.isin([11, 12]).mean() < 0.3


def test_window_parameters_are_respected():
    s = generate_demo_store(n_customers=300, seed=1, end_date="2025-12-31", months=18)
    end = pd.Timestamp("2025-12-31")
    o = s["orders"]["order_date"]
    assert o.min() >= end - pd.DateOffset(months=18) and o.max() < end + pd.Timedelta(days=1)
    with pytest.raises(ValueError):
        generate_demo_store(n_customers=0)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_demo_files_roundtrip(store, tmp_path, fmt):
    paths = write_demo_files(store, tmp_path / "out", fmt=fmt)
    assert set(paths) == {"customers", "orders", "products", "reviews"}
    for t, path in paths.items():
        assert path.name == f"{t}.{fmt}" and path.exists()
        back = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
        assert list(back.columns) == list(store[t].columns)
        assert len(back) == len(store[t])
    o = pd.read_csv(paths["orders"]) if fmt == "csv" else pd.read_parquet(paths["orders"])
    assert o["amount"].sum() == pytest.approx(store["orders"]["amount"].sum())
    assert (pd.to_datetime(o["order_date"]) == store["orders"]["order_date"]).all()
    assert (o["order_id"] == store["orders"]["order_id"]).all()
    if fmt == "parquet":
        pd.testing.assert_frame_equal(
            pd.read_parquet(paths["reviews"]), store["reviews"], check_dtype=False
        )


def test_write_demo_files_rejects_unknown_format(store, tmp_path):
    with pytest.raises(ValueError):
        write_demo_files(store, tmp_path, fmt="xlsx")
