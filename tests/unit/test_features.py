"""Feature SQL checked against a small example computed by hand."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from core.features import (
    CATALOGUE,
    SOURCES,
    FeatureEngine,
    FeatureSQLError,
    build_customer_features,
    validate_custom_feature,
)

T = pd.Timestamp


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "signup_date": [T("2024-01-01"), T("2024-03-01"), T("2024-05-01")],
            "region": ["North", "South", "North"],
        }
    )
    orders = pd.DataFrame(
        [
            ("o1", "c1", T("2024-01-10"), "p1", "Electronics", 1.0, 100.0, 0.0, 100.0),
            ("o1", "c1", T("2024-01-10"), "p2", "Books", 2.0, 10.0, 0.5, 10.0),
            ("o2", "c1", T("2024-03-10"), "p1", "Electronics", 1.0, 100.0, 0.0, 100.0),
            ("o3", "c1", T("2024-03-20"), "p1", "Electronics", -1.0, 100.0, 0.0, -100.0),
            ("o4", "c2", T("2024-02-15"), "p2", "Books", 3.0, 10.0, 0.0, 30.0),
            ("o5", "c2", T("2024-06-01"), "p2", "Books", 1.0, 10.0, 0.0, 10.0),
        ],
        columns=[
            "order_id",
            "customer_id",
            "order_date",
            "product_id",
            "category",
            "quantity",
            "unit_price",
            "discount",
            "amount",
        ],
    )
    reviews = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2"],
            "review_date": [T("2024-01-20"), T("2024-03-25"), T("2024-06-05")],
            "rating": [5.0, 1.0, 3.0],
            "review_text": ["great", "bad product", "ok"],
        }
    )
    return {"customers": customers, "orders": orders, "reviews": reviews}


def _row(df: pd.DataFrame, cid: str) -> pd.Series:
    return df.set_index("customer_id").loc[cid]


def test_catalogue_values_match_hand_computation(tables):
    ft = build_customer_features(tables)
    assert ft.ref_date == T("2024-06-02")  # day after the last order
    assert list(ft.data["customer_id"]) == ["c1", "c2", "c3"]
    c1 = _row(ft.data, "c1")
    assert c1["recency_days"] == 84
    assert c1["frequency"] == 2
    assert c1["monetary"] == pytest.approx(110.0)
    assert c1["tenure_days"] == 144
    assert c1["avg_order_value"] == pytest.approx(105.0)
    assert c1["avg_days_between_orders"] == pytest.approx(60.0)
    assert c1["items_per_order"] == pytest.approx(2.0)
    assert c1["discount_rate"] == pytest.approx(10 / 220)
    assert c1["return_rate"] == pytest.approx(100 / 210)
    assert c1["share_electronics"] == pytest.approx(200 / 210)
    assert c1["share_books"] == pytest.approx(10 / 210)
    assert c1["distinct_products"] == 2
    assert c1["distinct_categories"] == 2
    assert c1["holiday_share"] == 0
    assert c1["orders_last_90d"] == 1
    assert c1["spend_last_90d"] == pytest.approx(0.0)
    assert c1["review_count"] == 2
    assert c1["avg_review_length"] == pytest.approx(8.0)
    assert c1["avg_rating"] == pytest.approx(3.0)
    assert c1["low_rating_share"] == pytest.approx(0.5)
    assert c1["account_age_days"] == 153
    c2 = _row(ft.data, "c2")
    assert c2["recency_days"] == 1
    assert c2["frequency"] == 2
    assert c2["monetary"] == pytest.approx(40.0)
    assert c2["tenure_days"] == 108
    assert c2["avg_days_between_orders"] == pytest.approx(107.0)
    # A customer with no orders and no reviews: counts are 0, recency is unknown.
    c3 = _row(ft.data, "c3")
    assert c3["frequency"] == 0 and c3["monetary"] == 0 and c3["review_count"] == 0
    assert pd.isna(c3["recency_days"])


def test_cutoff_uses_only_earlier_data(tables):
    ft = build_customer_features(tables, cutoff="2024-05-01")
    assert ft.ref_date == T("2024-05-01")
    # c3 signed up on the cutoff day: not a customer yet.
    assert list(ft.data["customer_id"]) == ["c1", "c2"]
    c2 = _row(ft.data, "c2")
    assert c2["frequency"] == 1
    assert c2["monetary"] == pytest.approx(30.0)
    assert c2["recency_days"] == 76  # 14 (Feb, leap year) + 31 + 30 + 1
    assert c2["review_count"] == 0  # the June review is after the cutoff
    assert _row(ft.data, "c1")["recency_days"] == 52
    assert any("cutoff" in n for n in ft.notes)


def test_orders_only_dataset(tables):
    orders = tables["orders"][["customer_id", "order_date", "amount"]]
    ft = build_customer_features({"orders": orders})
    names = {f.name for f in ft.features}
    # Needs columns the upload lacks, so it is not offered.
    assert "discount_rate" not in names and "items_per_order" not in names
    assert {"recency_days", "frequency", "monetary"} <= names
    # Without order ids, an order is a customer's purchases at one timestamp.
    assert _row(ft.data, "c1")["frequency"] == 2
    assert _row(ft.data, "c1")["monetary"] == pytest.approx(110.0)


def test_customers_only_dataset(tables):
    ft = build_customer_features({"customers": tables["customers"]})
    # the sign-up date, and the two-valued region as one indicator (of its rarer value)
    assert [f.name for f in ft.features] == ["account_age_days", "region_south"]
    assert ft.data.set_index("customer_id")["region_south"].to_dict() == {
        "c1": 0, "c2": 1, "c3": 0,
    }  # fmt: skip
    assert len(ft.data) == 3


def test_category_from_products_table(tables):
    orders = tables["orders"].drop(columns=["category"])
    products = pd.DataFrame({"product_id": ["p1", "p2"], "category": ["Electronics", "Books"]})
    ft = build_customer_features({"orders": orders, "products": products})
    assert _row(ft.data, "c1")["share_electronics"] == pytest.approx(200 / 210)


def test_custom_feature_runs(tables):
    with FeatureEngine(tables) as eng:
        f = validate_custom_feature(
            "big_orders", "count(*) FILTER (WHERE amount >= 100)", "orders", engine=eng, fill=0
        )
        df = eng.compute([f])
    assert _row(df, "c1")["big_orders"] == 2
    assert _row(df, "c3")["big_orders"] == 0


def test_custom_feature_on_customers_table(tables):
    with FeatureEngine(tables) as eng:
        f = validate_custom_feature(
            "is_north", "CASE WHEN region = 'North' THEN 1 ELSE 0 END", "customers", engine=eng
        )
        df = eng.compute([f])
    assert list(df["is_north"]) == [1, 0, 1]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("sum(amount); DROP TABLE orders", "without ';'"),
        ("(SELECT count(*) FROM read_csv('/etc/passwd'))", "read_csv"),
        ("sum(amount) + getenv('HOME')", "getenv"),
        ("amount", "must aggregate per customer"),
        ("sum(no_such_column)", "no_such_column"),
        ("string_agg(category, ',')", "must produce a number"),
        ("sum(amount", "not valid SQL"),
    ],
)
def test_custom_feature_rejections_quote_the_sql(tables, sql, expected):
    with FeatureEngine(tables) as eng, pytest.raises(FeatureSQLError) as err:
        validate_custom_feature("bad_feature", sql, "orders", engine=eng)
    assert expected in str(err.value)


def test_custom_feature_cannot_read_files_even_if_unlisted(tables, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("x\n42\n")
    with FeatureEngine(tables) as eng, pytest.raises(FeatureSQLError) as err:
        # A table function not in the static deny list still hits DuckDB's sandbox.
        validate_custom_feature("leak", f"(SELECT max(x) FROM '{secret}')", "orders", engine=eng)
    assert "secret.csv" in str(err.value) or "disabled" in str(err.value)


def test_custom_feature_name_rules(tables):
    with pytest.raises(FeatureSQLError, match="snake_case"):
        validate_custom_feature("Bad Name", "sum(amount)")
    with FeatureEngine(tables) as eng, pytest.raises(FeatureSQLError, match="built-in"):
        validate_custom_feature("monetary", "sum(amount)", engine=eng)


def test_every_catalogue_feature_has_description_and_sql():
    for f in CATALOGUE:
        assert f.name and f.description and f.sql and f.source in SOURCES


def _as_parquet(tables, folder):
    paths = {}
    for name, df in tables.items():
        paths[name] = folder / f"{name}.parquet"
        df.to_parquet(paths[name], index=False)
    return paths


@pytest.mark.parametrize("cutoff", [None, "2024-05-01"])
def test_parquet_files_read_in_place_give_the_same_features(tables, tmp_path, cutoff):
    from_frames = build_customer_features(tables, cutoff=cutoff)
    from_files = build_customer_features(_as_parquet(tables, tmp_path), cutoff=cutoff)
    pd.testing.assert_frame_equal(from_files.data, from_frames.data)
    assert from_files.notes == from_frames.notes


def test_parquet_engine_reads_only_its_own_files(tables, tmp_path):
    paths = _as_parquet({"orders": tables["orders"]}, tmp_path)
    # Another Parquet file in the same folder is outside the dataset.
    tables["customers"].to_parquet(tmp_path / "other.parquet", index=False)
    with FeatureEngine(paths) as eng:
        assert eng.compute()["customer_id"].tolist() == ["c1", "c2"]
        for sql in (
            f"(SELECT count(*) FROM '{tmp_path / 'other.parquet'}')",
            f"(SELECT count(*) FROM '{paths['orders']}') + sum(amount)",
        ):
            with pytest.raises(FeatureSQLError):
                validate_custom_feature("leak", sql, "orders", engine=eng)
        # Raw SQL on the engine's connection cannot reach other files or write either.
        for sql in (
            f"SELECT count(*) FROM read_parquet('{tmp_path / 'other.parquet'}')",
            f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
            "SET enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                eng.query(sql)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "sum(amount) + (SELECT count(*) FROM 'orders.parquet')",
        'sum(amount) + (SELECT count(*) FROM "secret.csv")',
        "sum(amount) + (SELECT count(*) FROM range(10))",
        "sum(amount) + (SELECT count(*) FROM orders o JOIN '/etc/passwd' p ON true)",
    ],
)
def test_custom_feature_subqueries_may_read_only_dataset_tables(sql):
    with pytest.raises(FeatureSQLError, match="may only read the dataset's tables"):
        validate_custom_feature("leak", sql, "orders")


def test_custom_feature_with_subquery_and_extract_is_accepted(tables):
    sql = (
        "count(*) FILTER (WHERE extract(month FROM order_date) = 1) "
        "+ 0 * (SELECT count(*) FROM customers)"
    )
    with FeatureEngine(tables) as eng:
        f = validate_custom_feature("january_lines", sql, "orders", engine=eng)
        assert _row(eng.compute([f]), "c1")["january_lines"] == 2


def _line_level_definitions() -> dict[str, str]:
    """The order-count and category features written directly over the order lines with
    count(DISTINCT …): what `order_totals` / `category_totals` must reproduce exactly."""
    p = "amount > 0"
    n = f"count(DISTINCT order_id) FILTER (WHERE {p})"
    return {
        "frequency": n,
        "avg_order_value": f"sum(amount) FILTER (WHERE {p}) / nullif({n}, 0)",
        "avg_days_between_orders": (
            f"date_diff('day', min(order_date) FILTER (WHERE {p}), "
            f"max(order_date) FILTER (WHERE {p})) / nullif({n} - 1, 0)"
        ),
        "items_per_order": f"sum(quantity) FILTER (WHERE {p}) / nullif({n}, 0)",
        "orders_last_90d": (
            f"count(DISTINCT order_id) FILTER (WHERE {p} "
            "AND order_date >= getvariable('ref_date') - INTERVAL 90 DAY)"
        ),
        "distinct_categories": f"count(DISTINCT category) FILTER (WHERE {p})",
    }


def test_order_and_category_totals_equal_the_line_level_definitions():
    """Awkward orders: lines of one order on different days (one inside the 90 days, one
    before), an order that is only a return, a return line inside a purchase order, a line
    without a category, a zero-amount line, a customer with returns only."""
    rows = [
        ("o1", "a", "2024-01-10", "Books", 2.0, 10.0),
        ("o1", "a", "2024-05-20", "Toys", 1.0, 5.0),  # same order, 90-day window
        ("o1", "a", "2024-05-21", "Toys", -1.0, -5.0),  # returned line inside the order
        ("o2", "a", "2024-02-01", None, 1.0, 7.0),  # no category
        ("o3", "a", "2024-05-25", "Books", -1.0, -10.0),  # a return-only order
        ("o4", "a", "2024-03-01", "Books", 1.0, 0.0),  # zero amount: not a purchase
        ("o5", "b", "2024-04-01", "Toys", -2.0, -8.0),  # returns only
        ("o6", "c", "2024-06-01", "Garden", 3.0, 30.0),
        ("o6", "c", "2024-06-01", "Garden", 1.0, 12.0),
        ("o7", "c", "2024-06-01", "Books", 1.0, 9.0),
    ]
    orders = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "order_date", "category", "quantity", "amount"]
    ).assign(order_date=lambda d: pd.to_datetime(d["order_date"]), product_id="p")
    feats = [f for f in CATALOGUE if f.name in _line_level_definitions()]
    assert {f.source for f in feats} == {"order_totals", "category_totals"}
    with FeatureEngine({"orders": orders}) as eng:
        cats = eng.catalogue()
        shares = [f for f in cats if f.name.startswith("share_")]
        got = eng.compute(feats + shares).set_index("customer_id")
        for name, sql in _line_level_definitions().items():
            want = (
                eng.con.execute(
                    "SELECT b.customer_id, x.v FROM customer_base b LEFT JOIN "
                    f"(SELECT customer_id, CAST(({sql}) AS DOUBLE) AS v FROM orders "
                    "GROUP BY customer_id) x USING (customer_id) ORDER BY 1"
                )
                .df()
                .set_index("customer_id")["v"]
            )
            fill = next(f.fill for f in feats if f.name == name)
            want = want.fillna(fill) if fill is not None else want
            pd.testing.assert_series_equal(got[name], want, check_names=False)
        for f in shares:
            cat = f.description.removeprefix("Share of purchase value spent on ")
            want = (
                eng.con.execute(
                    "SELECT b.customer_id, coalesce(x.v, 0) AS v FROM customer_base b LEFT JOIN "
                    "(SELECT customer_id, coalesce(sum(amount) FILTER (WHERE amount > 0 AND "
                    "category = ?), 0) / nullif(sum(amount) FILTER (WHERE amount > 0), 0) AS v "
                    "FROM orders GROUP BY customer_id) x USING (customer_id) ORDER BY 1",
                    [cat],
                )
                .df()
                .set_index("customer_id")["v"]
            )
            pd.testing.assert_series_equal(got[f.name], want, check_names=False)
    a = got.loc["a"]
    assert a["frequency"] == 2  # o1 and o2; o3 is a return, o4 has no positive line
    assert a["orders_last_90d"] == 1  # o1, through its line of 2024-05-20
    assert a["distinct_categories"] == 2  # Books, Toys (the line without one is not counted)
    assert got.loc["b", "frequency"] == 0 and got.loc["c", "items_per_order"] == 2.5


def test_custom_feature_over_order_totals(tables):
    """A user counts big orders per customer on the order-level relation."""
    with FeatureEngine(tables) as eng:
        feat = validate_custom_feature(
            "big_orders",
            "count(*) FILTER (WHERE purchase_value >= 100)",
            "order_totals",
            engine=eng,
            fill=0,
        )
        got = eng.compute([feat]).set_index("customer_id")["big_orders"]
    # c1: o1 = 100 + 10 and o2 = 100 are big (o3 is a return); c2: 30 and 10; c3: no orders
    assert got.to_dict() == {"c1": 2.0, "c2": 0.0, "c3": 0.0}
