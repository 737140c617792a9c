"""Customer features as DuckDB SQL over the canonical tables.

Every feature is one SQL expression in DuckDB's dialect, evaluated per customer over one
source table:

* ``orders`` / ``reviews`` features are *aggregate* expressions (``GROUP BY customer_id``);
* ``order_totals`` (one row per customer and order) and ``category_totals`` (one row per
  customer and category) are the order lines summed per order and per category; features over
  them aggregate those rows per customer. Counting orders there is ``count(*)`` rather than a
  ``count(DISTINCT order_id)`` over the lines, which DuckDB plans as a separate hash
  aggregate per distinct count (about a third of the catalogue's time at 10 M lines);
* ``customers`` features are row expressions over the customers table.

The views the expressions see always carry every canonical column (missing ones filled with
defaults, category completed from the products table), so a feature's SQL never needs to
know what the upload looked like. ``getvariable('ref_date')`` is the reference date: the
cutoff when one is given (only data before it is used), else the day after the last order.

User features go through :func:`validate_custom_feature`: one SELECT-able expression, run on
a connection with file access disabled, so a feature can only read the dataset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from core.locale import LocalizedError, LocalText, Phrase, phrase_dicts, texts_in

SOURCES = ("orders", "order_totals", "category_totals", "reviews", "customers")
# Relations built from the orders view (GROUP BY customer and order / category); a feature on
# one of them is available when the orders table has the columns it `requires`.
DERIVED_FROM_ORDERS = ("order_totals", "category_totals")


# Why a feature's SQL is refused, in each interface language (DuckDB's own error text and the
# SQL are quoted as they are).
_ERRORS = {
    "en": {
        "sql": "\n  SQL: {sql}",
        "duplicate": "feature name '{name}' is used twice",
        "bad_name": "feature name {name} must be snake_case: a lowercase letter, then letters, "
        "digits or underscores (at most 63)",
        "bad_source": "feature '{name}': source must be one of {sources}, not {source}",
        "no_sql": "feature '{name}' has no SQL expression",
        "semicolon": "feature '{name}' must be a single expression without ';'{sql}",
        "forbidden": "feature '{name}' uses '{word}', which is not allowed: a feature is a "
        "read-only expression over the dataset's columns{sql}",
        "invalid": "feature '{name}' is not valid SQL: {error}{sql}",
        "not_select": "feature '{name}' must be one expression usable in a SELECT{sql}",
        "foreign_table": "feature '{name}' reads from {target}: a subquery in a feature may only "
        "read the dataset's tables ({tables}){sql}",
        "unparsable": "could not parse: {error}",
        "builtin": "'{name}' is already a built-in feature; pick another name",
        "no_table": "feature '{name}' reads the {source} table, which this dataset does not have "
        "(it has: {tables})",
        "failed": "feature '{name}' failed: {error}{hint}{sql}",
        "hint_aggregate": " — features on the orders and reviews tables must aggregate per "
        "customer, e.g. sum(amount) or avg(rating)",
        "not_number": "feature '{name}' must produce a number, but its SQL gives {type}{sql}",
        "missing_columns": "these features need columns this dataset lacks: {names}",
        "duckdb": "{error}",
    },
    "zh": {
        "sql": "\n  SQL：{sql}",
        "duplicate": "特征名 '{name}' 重复使用了两次",
        "bad_name": "特征名 {name} 必须是 snake_case：以小写字母开头，后跟字母、数字或下划线（最多 "
        "63 个字符）",
        "bad_source": "特征 '{name}'：数据表必须是 {sources} 之一，而不是 {source}",
        "no_sql": "特征 '{name}' 没有 SQL 表达式",
        "semicolon": "特征 '{name}' 必须是单个表达式，不能含 ';'{sql}",
        "forbidden": "特征 '{name}' 用到了 '{word}'，这是不允许的：特征是对数据集各列的只读表达式{sql}",
        "invalid": "特征 '{name}' 不是有效的 SQL：{error}{sql}",
        "not_select": "特征 '{name}' 必须是可以放进 SELECT 的单个表达式{sql}",
        "foreign_table": "特征 '{name}' 读取了 {target}：特征中的子查询只能读取数据集的表"
        "（{tables}）{sql}",
        "unparsable": "无法解析：{error}",
        "builtin": "'{name}' 已是内置特征；请换一个名称",
        "no_table": "特征 '{name}' 读取 {source} 表，但该数据集没有这张表（现有：{tables}）",
        "failed": "特征 '{name}' 计算失败：{error}{hint}{sql}",
        "hint_aggregate": " —— 订单表和评论表上的特征必须按客户聚合，例如 sum(amount) 或 "
        "avg(rating)",
        "not_number": "特征 '{name}' 必须得出数值，但它的 SQL 得出 {type}{sql}",
        "missing_columns": "这些特征需要该数据集缺少的列：{names}",
        "duckdb": "{error}",
    },
}


# Notes on what a cutoff left out, in each interface language.
FEATURE_NOTES = {
    "en": {
        "cutoff": "cutoff {date}: {n} of {total} {source} rows on or after it are not used",
        "undated_reviews": "{n} reviews have no date; they are used although the cutoff cannot "
        "be checked for them",
        "orders": "orders",
        "reviews": "reviews",
        "customers": "customers",
    },
    "zh": {
        "cutoff": "截止日期 {date}：{source}的 {total} 行中有 {n} 行在该日期当天或之后，未使用",
        "undated_reviews": "{n} 条评论没有日期；无法按截止日期检查，仍然使用",
        "orders": "订单表",
        "reviews": "评论表",
        "customers": "客户表",
    },
}


class FeatureSQLError(LocalizedError):
    """A feature's SQL is not acceptable; the message quotes the SQL and says why.

    ``str(exc)`` is English; `core.locale.error_text` says it in the user's language."""

    def __init__(self, key: str, /, **values) -> None:
        super().__init__(_ERRORS, key, **values)


def _sql(sql: str) -> Phrase:
    return Phrase(_ERRORS, "sql", sql=sql)


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    source: str  # one of SOURCES
    sql: str
    group: str = "Custom"
    fill: float | None = None  # value for customers with no rows in the source table
    requires: tuple[str, ...] = ()  # canonical columns of `source` that must be present
    unit: str = ""  # "days", "currency", "share", "count", "flag", ...
    default_enabled: bool = True
    # For a feature made from a customers-table column (group "Attributes"): that column, and
    # for a one-hot indicator the value it flags.
    attribute: str = ""
    level: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Feature:
        d = dict(d)
        d["requires"] = tuple(d.get("requires", ()))
        return cls(**d)


_PURCHASE = "amount > 0"
# Purchase orders (orders with at least one line of positive amount), over `order_totals`.
_PURCHASE_ORDERS = "count(*) FILTER (WHERE is_purchase)"

CATALOGUE: tuple[Feature, ...] = (
    # ------------------------------------------------------------------ RFM
    Feature(
        "recency_days",
        "Days from the last purchase to the reference date",
        "orders",
        f"date_diff('day', max(order_date) FILTER (WHERE {_PURCHASE}), getvariable('ref_date'))",
        group="RFM",
        unit="days",
    ),
    Feature(
        "frequency",
        "Number of distinct purchase orders",
        "order_totals",
        _PURCHASE_ORDERS,
        group="RFM",
        fill=0,
        unit="count",
    ),
    Feature(
        "monetary",
        "Net spend: purchases minus returns",
        "orders",
        "sum(amount)",
        group="RFM",
        fill=0,
        unit="currency",
    ),
    # ------------------------------------------------------------- behaviour
    Feature(
        "tenure_days",
        "Days from the first order to the reference date",
        "orders",
        "date_diff('day', min(order_date), getvariable('ref_date'))",
        group="Behaviour",
        unit="days",
    ),
    Feature(
        "avg_order_value",
        "Average gross value of a purchase order",
        "order_totals",
        f"sum(purchase_value) / nullif({_PURCHASE_ORDERS}, 0)",
        group="Behaviour",
        unit="currency",
    ),
    Feature(
        "avg_days_between_orders",
        "Mean days between consecutive purchase orders (inter-purchase time)",
        "order_totals",
        "date_diff('day', min(first_purchase_date), max(last_purchase_date)) "
        f"/ nullif({_PURCHASE_ORDERS} - 1, 0)",
        group="Behaviour",
        unit="days",
    ),
    Feature(
        "items_per_order",
        "Average units bought per purchase order",
        "order_totals",
        f"sum(purchase_units) / nullif({_PURCHASE_ORDERS}, 0)",
        group="Behaviour",
        unit="count",
        requires=("quantity",),
    ),
    Feature(
        "orders_last_90d",
        "Purchase orders in the 90 days before the reference date",
        "order_totals",
        "count(*) FILTER (WHERE is_purchase "
        "AND last_purchase_date >= getvariable('ref_date') - INTERVAL 90 DAY)",
        group="Behaviour",
        fill=0,
        unit="count",
    ),
    Feature(
        "spend_last_90d",
        "Net spend in the 90 days before the reference date",
        "orders",
        "coalesce(sum(amount) FILTER "
        "(WHERE order_date >= getvariable('ref_date') - INTERVAL 90 DAY), 0)",
        group="Behaviour",
        fill=0,
        unit="currency",
    ),
    Feature(
        "distinct_products",
        "Number of different products bought",
        "orders",
        f"count(DISTINCT product_id) FILTER (WHERE {_PURCHASE})",
        group="Behaviour",
        fill=0,
        unit="count",
        requires=("product_id",),
    ),
    Feature(
        "distinct_categories",
        "Number of different categories bought",
        "category_totals",
        "count(category) FILTER (WHERE purchase_lines > 0)",
        group="Category",
        fill=0,
        unit="count",
        requires=("category",),
    ),
    Feature(
        "holiday_share",
        "Share of purchase value bought in November and December (gift / seasonal buying)",
        "orders",
        f"coalesce(sum(amount) FILTER (WHERE {_PURCHASE} AND month(order_date) IN (11, 12)), 0)"
        f" / nullif(sum(amount) FILTER (WHERE {_PURCHASE}), 0)",
        group="Behaviour",
        unit="share",
    ),
    Feature(
        "discount_rate",
        "Share of the gross value of purchases given away as discount",
        "orders",
        f"sum(quantity * unit_price * discount) FILTER (WHERE {_PURCHASE}) "
        f"/ nullif(sum(quantity * unit_price) FILTER (WHERE {_PURCHASE}), 0)",
        group="Behaviour",
        fill=0,
        unit="share",
        requires=("discount",),
    ),
    Feature(
        "return_rate",
        "Returned value as a share of purchased value",
        "orders",
        "coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) "
        f"/ nullif(sum(amount) FILTER (WHERE {_PURCHASE}), 0)",
        group="Behaviour",
        fill=0,
        unit="share",
    ),
    # --------------------------------------------------------------- reviews
    Feature(
        "review_count",
        "Number of reviews written",
        "reviews",
        "count(*)",
        group="Reviews",
        fill=0,
        unit="count",
    ),
    Feature(
        "avg_review_length",
        "Average review length in characters",
        "reviews",
        "avg(length(review_text))",
        group="Reviews",
        fill=0,
        unit="chars",
    ),
    Feature(
        "avg_rating",
        "Average star rating given",
        "reviews",
        "avg(rating)",
        group="Reviews",
        unit="stars",
        requires=("rating",),
    ),
    Feature(
        "low_rating_share",
        "Share of reviews rated 2 stars or less",
        "reviews",
        "avg(CASE WHEN rating <= 2 THEN 1.0 ELSE 0.0 END)",
        group="Reviews",
        unit="share",
        requires=("rating",),
    ),
    # ------------------------------------------------------------- customers
    Feature(
        "account_age_days",
        "Days from sign-up to the reference date",
        "customers",
        "date_diff('day', signup_date, getvariable('ref_date'))",
        group="Profile",
        unit="days",
        requires=("signup_date",),
    ),
)

MAX_CATEGORY_FEATURES = 12
# A text attribute with at most this many values becomes 0/1 indicators; with more, it is
# kept for the profile sentence (a hundred indicators would swamp every other feature).
MAX_ATTRIBUTE_LEVELS = 12
# A column whose name says it identifies a person or a record is never a feature.
_IDENTIFIER_NAME = re.compile(
    r"(^|_)(id|ids|uuid|guid|key|no|number|num|code|email|e_mail|mail|phone|mobile|tel|"
    r"telephone|name|first_name|last_name|surname|full_name|address|street|zip|zipcode|"
    r"postcode|postal_code|ip|ip_address|password|token)$"
)
# Values that mean "yes" in a two-valued column: the indicator flags them.
_YES = {"yes", "y", "true", "t", "1", "是", "有"}


@dataclass(frozen=True)
class Attribute:
    """A customers-table column seen as a feature source (see `FeatureEngine.attributes`)."""

    column: str
    kind: str  # number | date | category | text | identifier | constant | empty
    n_distinct: int
    n_values: int  # non-missing values
    n_rows: int
    levels: tuple[str, ...] = ()  # a category's values, most frequent first

    @property
    def n_missing(self) -> int:
        return self.n_rows - self.n_values


def _is_number(duck_type: str) -> bool:
    return any(t in duck_type for t in _NUMERIC_TYPES)


def _attribute_kind(
    column: str, duck_type: str, n_distinct: int, n_values: int, integral: bool
) -> str:
    if n_values == 0:
        return "empty"
    if n_distinct <= 1:
        return "constant"
    if _IDENTIFIER_NAME.search(column):
        return "identifier"
    # Nearly every value different: an id, an e-mail, a name (for numbers: whole numbers only;
    # a continuous amount is naturally all different).
    all_different = n_values >= 20 and n_distinct >= 0.95 * n_values
    if "TIMESTAMP" in duck_type or duck_type == "DATE":
        return "date"
    if _is_number(duck_type):
        return "identifier" if all_different and (integral or duck_type == "BOOLEAN") else "number"
    if all_different:
        return "identifier"
    return "category" if n_distinct <= MAX_ATTRIBUTE_LEVELS else "text"


def _indicator_levels(levels: Sequence[str]) -> list[str]:
    """The values that get an indicator: for a two-valued column only one (its "yes" value,
    else the rarer one), since the second indicator would say the same thing."""
    if len(levels) != 2:
        return list(levels)
    yes = [v for v in levels if v.strip().lower() in _YES]
    return yes[:1] or [levels[1]]


def _feature_name(text: str) -> str:
    """A column-like feature name from a column and value: snake_case, letters kept."""
    name = re.sub(r"[^\w]+", "_", text.lower(), flags=re.UNICODE).strip("_")
    return name[:63] or "attribute"


def category_share_feature(category: str) -> Feature:
    name = "share_" + (re.sub(r"[^0-9a-zA-Z]+", "_", category).strip("_").lower() or "other")
    lit = category.replace("'", "''")
    return Feature(
        name,
        f"Share of purchase value spent on {category}",
        "category_totals",
        f"coalesce(sum(purchase_value) FILTER (WHERE category = '{lit}'), 0) "
        "/ nullif(sum(purchase_value), 0)",
        group="Category",
        fill=0,
        unit="share",
        requires=("category",),
    )


# Defaults a view uses for canonical columns the upload did not have.
_ORDER_DEFAULTS = {
    "order_id": "customer_id || '@' || strftime(order_date, '%Y-%m-%d %H:%M:%S')",
    "product_id": "NULL::VARCHAR",
    "product_name": "NULL::VARCHAR",
    "category": "NULL::VARCHAR",
    "quantity": "1.0::DOUBLE",
    "discount": "0.0::DOUBLE",
    "unit_price": "NULL::DOUBLE",  # replaced below by amount / quantity
    "amount": "NULL::DOUBLE",
}
_REVIEW_DEFAULTS = {
    "review_id": "NULL::VARCHAR",
    "product_id": "NULL::VARCHAR",
    "review_date": "NULL::TIMESTAMP",
    "rating": "NULL::DOUBLE",
    "review_text": "''",
}
_CUSTOMER_DEFAULTS = {
    "signup_date": "NULL::TIMESTAMP",
    "region": "NULL::VARCHAR",
    "age_band": "NULL::VARCHAR",
    "gender": "NULL::VARCHAR",
    "channel": "NULL::VARCHAR",
    "label": "NULL::VARCHAR",
}

TableSource = Path | str | pd.DataFrame


def _as_timestamp(value: date | datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return pd.Timestamp(value).to_pydatetime()
    except (ValueError, TypeError):
        raise ValueError(f"cutoff {value!r} is not a date (expected e.g. 2025-06-30)") from None


class FeatureEngine:
    """A sandboxed DuckDB connection holding one dataset's tables (optionally cut off at a date).

    Parquet tables are read in place through views; the connection may read those files and
    no others (``allowed_paths`` with external access off, configuration locked), so user SQL
    can read the dataset and nothing else. DataFrames are copied into DuckDB tables.
    """

    def __init__(
        self,
        tables: Mapping[str, TableSource],
        *,
        cutoff: date | datetime | str | None = None,
        threads: int | None = None,
        exclude_attributes: Iterable[str] = (),
    ):
        if "orders" not in tables and "customers" not in tables:
            raise ValueError("features need at least a customers table or an orders table")
        self.cutoff = _as_timestamp(cutoff)
        # Customers columns that must never become features (e.g. a demo's ground truth).
        self.exclude_attributes = set(exclude_attributes)
        self._attributes: list[Attribute] | None = None
        self.con = duckdb.connect(":memory:")
        if threads:
            self._exec(f"SET threads = {int(threads)}")
        self.columns: dict[str, set[str]] = {}
        self.notes: list[str] = []
        self.allowed_paths: list[str] = []
        for name, src in tables.items():
            if name not in ("customers", "orders", "products", "reviews") or src is None:
                continue
            self._load(name, src)
        self._make_views()
        self.ref_date = self._reference_date()
        self._exec("SET VARIABLE ref_date = ?::TIMESTAMP", [self.ref_date])
        # From here on the connection reads the dataset's own files and nothing else.
        paths = ", ".join(_literal(p) for p in self.allowed_paths)
        self._exec(f"SET allowed_paths = [{paths}]")
        self._exec("SET enable_external_access = false")
        self._exec("SET lock_configuration = true")

    # ---------------------------------------------------------------- loading
    def _exec(self, sql: str, params: Sequence | None = None) -> None:
        # DuckDB keeps a statement's result open until fetched; drain it so the next runs.
        self.con.execute(sql, params or []).fetchall()

    def _scalar(self, sql: str, params: Sequence | None = None):
        return self.con.execute(sql, params or []).fetchall()[0][0]

    def _load(self, name: str, src: TableSource) -> None:
        """`{name}_raw`: the table as given, only rows before the cutoff when there is one.

        A Parquet file is read in place through a view (only the columns a query needs are
        read, and nothing is copied into memory); the file is added to the connection's
        allowed paths, which are the only files it can read once external access is off.
        A DataFrame is copied into a DuckDB table.
        """
        src_rel = f"_src_{name}"
        if isinstance(src, pd.DataFrame):
            self.con.register("_incoming", src)
            self._exec(f"CREATE TABLE {src_rel} AS SELECT * FROM _incoming")
            self.con.unregister("_incoming")
        else:
            path = str(Path(src).resolve())
            self.allowed_paths.append(path)
            self._exec(f"CREATE VIEW {src_rel} AS SELECT * FROM read_parquet({_literal(path)})")
        cols = {r[0] for r in self.con.execute(f"DESCRIBE {src_rel}").fetchall()}
        self.columns[name] = cols
        date_col = {"orders": "order_date", "reviews": "review_date", "customers": "signup_date"}
        col = date_col.get(name)
        if self.cutoff is None or not col or col not in cols:
            self._exec(f"CREATE VIEW {name}_raw AS SELECT * FROM {src_rel}")
            return
        # Orders must be dated; undated reviews / sign-ups are kept (and reported).
        keep_null = "" if name == "orders" else f" OR {col} IS NULL"
        cutoff = f"TIMESTAMP {_literal(self.cutoff.isoformat(sep=' '))}"
        self._exec(
            f"CREATE VIEW {name}_raw AS SELECT * FROM {src_rel} WHERE {col} < {cutoff}{keep_null}"
        )
        before, after, undated = self.con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {col} < {cutoff}{keep_null}), "
            f"count(*) FILTER (WHERE {col} IS NULL) FROM {src_rel}"
        ).fetchall()[0]
        if before != after:
            self.notes.append(
                LocalText(
                    FEATURE_NOTES,
                    "cutoff",
                    date=f"{self.cutoff:%Y-%m-%d}",
                    n=f"{before - after:,}",
                    total=f"{before:,}",
                    source=Phrase(FEATURE_NOTES, name),
                )
            )
        if name == "reviews" and undated:
            self.notes.append(LocalText(FEATURE_NOTES, "undated_reviews", n=f"{undated:,}"))

    def _select_list(self, name: str, defaults: dict[str, str]) -> str:
        have = self.columns[name]
        parts = []
        for col, default in defaults.items():
            parts.append(f"{col}" if col in have else f"{default} AS {col}")
        return ", ".join(parts)

    def _make_views(self) -> None:
        if "orders" in self.columns:
            have = self.columns["orders"]
            sel = self._select_list("orders", _ORDER_DEFAULTS)
            self._exec(
                f"CREATE VIEW _orders_filled AS SELECT customer_id, order_date, {sel} FROM orders_raw"
            )
            price = "unit_price" if "unit_price" in have else "amount / nullif(quantity, 0)"
            amount = "amount" if "amount" in have else "quantity * unit_price * (1 - discount)"
            if (
                "products" in self.columns
                and {"product_id", "category"} <= self.columns["products"]
                and "product_id" in have
                and ("category" not in have or self._has_nulls("orders_raw", "category"))
            ):
                category = "coalesce(o.category, p.category)"
                join = (
                    " LEFT JOIN (SELECT product_id, any_value(category) AS category "
                    "FROM products_raw GROUP BY product_id) p USING (product_id)"
                )
                self.columns["orders"] = have | {"category"}
            else:
                category, join = "o.category", ""
            self._exec(
                "CREATE VIEW orders AS SELECT o.customer_id, o.order_date, o.order_id, "
                "o.product_id, o.product_name, "
                f"{category} AS category, o.quantity, {price} AS unit_price, o.discount, "
                f"{amount} AS amount FROM _orders_filled o{join}"
            )
            self._make_order_relations()
        if "reviews" in self.columns:
            sel = self._select_list("reviews", _REVIEW_DEFAULTS)
            self._exec(f"CREATE VIEW reviews AS SELECT customer_id, {sel} FROM reviews_raw")
        if "customers" in self.columns:
            extra = sorted(self.columns["customers"] - set(_CUSTOMER_DEFAULTS) - {"customer_id"})
            sel = self._select_list("customers", _CUSTOMER_DEFAULTS)
            extra_sel = "".join(f", {_quote(c)}" for c in extra)
            self._exec(
                f"CREATE VIEW customers AS SELECT customer_id, {sel}{extra_sel} FROM customers_raw"
            )
        if "products" in self.columns:
            self._exec("CREATE VIEW products AS SELECT * FROM products_raw")
        # The customer universe: the customers table when there is one, else everyone seen.
        if "customers" in self.columns:
            base = "SELECT DISTINCT customer_id FROM customers"
        else:
            parts = ["SELECT DISTINCT customer_id FROM orders"]
            if "reviews" in self.columns:
                parts.append("SELECT customer_id FROM reviews")
            base = " UNION ".join(parts)
        self._exec(f"CREATE VIEW customer_base AS {base}")

    def _make_order_relations(self) -> None:
        """`order_totals` and `category_totals`: the order lines summed per customer and order,
        and per customer and category (see the module docstring)."""
        p = _PURCHASE
        self._exec(
            "CREATE VIEW order_totals AS SELECT customer_id, order_id, "
            "min(order_date) AS order_date, "
            f"min(order_date) FILTER (WHERE {p}) AS first_purchase_date, "
            f"max(order_date) FILTER (WHERE {p}) AS last_purchase_date, "
            f"bool_or({p}) AS is_purchase, "
            f"sum(amount) FILTER (WHERE {p}) AS purchase_value, "
            f"sum(quantity) FILTER (WHERE {p}) AS purchase_units, "
            "sum(amount) AS net_value, count(*) AS lines "
            "FROM orders GROUP BY customer_id, order_id"
        )
        self._exec(
            "CREATE VIEW category_totals AS SELECT customer_id, category, "
            f"count(*) FILTER (WHERE {p}) AS purchase_lines, "
            f"sum(amount) FILTER (WHERE {p}) AS purchase_value, "
            "sum(amount) AS net_value "
            "FROM orders GROUP BY customer_id, category"
        )
        for rel in DERIVED_FROM_ORDERS:
            self.columns[rel] = {r[0] for r in self.con.execute(f"DESCRIBE {rel}").fetchall()}

    def _has_nulls(self, relation: str, column: str) -> bool:
        return bool(self._scalar(f"SELECT count(*) FROM {relation} WHERE {column} IS NULL"))

    def _reference_date(self) -> datetime:
        if self.cutoff is not None:
            return self.cutoff
        for table, col in (
            ("orders", "order_date"),
            ("reviews", "review_date"),
            ("customers", "signup_date"),
        ):
            if table in self.columns:
                v = self._scalar(f"SELECT max({col}) FROM {table}")
                if v is not None:
                    d = pd.Timestamp(v).normalize() + timedelta(days=1)
                    return d.to_pydatetime()
        today = date.today()
        return datetime(today.year, today.month, today.day)

    # ------------------------------------------------------------- catalogue
    def available(self, feature: Feature) -> bool:
        if feature.source not in self.columns:
            return False
        # The derived relations always have a (perhaps all-empty) category column, so what a
        # feature on them requires is checked against the columns the orders really have.
        have = (
            self.columns["orders"]
            if feature.source in DERIVED_FROM_ORDERS
            else self.columns[feature.source]
        )
        return all(col in have for col in feature.requires)

    def categories(self, limit: int = MAX_CATEGORY_FEATURES) -> list[str]:
        if "orders" not in self.columns or "category" not in self.columns["orders"]:
            return []
        rows = self.con.execute(
            "SELECT category FROM orders WHERE category IS NOT NULL AND amount > 0 "
            "GROUP BY category ORDER BY sum(amount) DESC, category LIMIT ?",
            [limit],
        ).fetchall()
        return [r[0] for r in rows]

    def catalogue(self) -> list[Feature]:
        """Every built-in feature this dataset can compute: category shares and the customers
        table's attributes included."""
        feats = [f for f in CATALOGUE if self.available(f)]
        feats += [category_share_feature(c) for c in self.categories()]
        taken = {f.name for f in feats}
        for f in self.attribute_features():
            if f.name in taken:  # e.g. an uploaded column called 'frequency'
                f = replace(f, name=f"attr_{f.name}")
            taken.add(f.name)
            feats.append(f)
        return feats

    # ------------------------------------------------------------ attributes
    def attributes(self) -> list[Attribute]:
        """What each column of the customers table is, as a source of features (computed once).

        Numbers and dates become one feature each; a text column with a few values becomes
        one 0/1 indicator per value (one for a yes/no column); a text column with many values
        is kept for the profile sentence; identifiers (ids, e-mails, names: nearly every value
        different), constants, the label and excluded columns (e.g. a demo store's planted
        ground truth) never become features.
        """
        if self._attributes is not None:
            return self._attributes
        self._attributes = []
        if "customers" not in self.columns:
            return self._attributes
        types = {
            r[0]: str(r[1]).upper()
            for r in self.con.execute("DESCRIBE customers").fetchall()
            if r[0] in self.columns["customers"]
        }
        skip = {"customer_id", "label", "signup_date", *self.exclude_attributes}
        cols = [c for c in types if c not in skip]
        if not cols:
            return self._attributes
        stats = ", ".join(
            f"count(DISTINCT {_quote(c)}), count({_quote(c)})"
            + (
                f", bool_and({_quote(c)} = round({_quote(c)}))"
                if _is_number(types[c]) and types[c] != "BOOLEAN"
                else ", NULL"
            )
            for c in cols
        )
        row = self.con.execute(f"SELECT count(*), {stats} FROM customers").fetchall()[0]
        n_rows = int(row[0])
        for i, c in enumerate(cols):
            n_distinct, n_values, integral = row[1 + 3 * i : 4 + 3 * i]
            kind = _attribute_kind(c, types[c], int(n_distinct), int(n_values), bool(integral))
            levels: tuple[str, ...] = ()
            if kind == "category":
                levels = tuple(
                    str(r[0])
                    for r in self.con.execute(
                        f"SELECT {_quote(c)} AS v FROM customers WHERE v IS NOT NULL "
                        "GROUP BY v ORDER BY count(*) DESC, v"
                    ).fetchall()
                )
            self._attributes.append(
                Attribute(c, kind, int(n_distinct), int(n_values), n_rows, levels)
            )
        return self._attributes

    def attribute_features(self) -> list[Feature]:
        """Features from the customers table's attributes (see :meth:`attributes`). They are
        on by default when the dataset has no orders; beside purchase behaviour they are
        offered but off, because 0/1 demographics would otherwise decide distance-based
        segments on their own."""
        on = "orders" not in self.columns
        out: list[Feature] = []
        for a in self.attributes():
            col = _quote(a.column)
            common = dict(
                source="customers", group="Attributes", requires=(a.column,),
                default_enabled=on, attribute=a.column,
            )  # fmt: skip
            if a.kind == "number":
                out.append(
                    Feature(
                        _feature_name(a.column),
                        f"Customer attribute '{a.column}' as uploaded",
                        sql=f"CAST({col} AS DOUBLE)",
                        **common,
                    )
                )
            elif a.kind == "date":
                out.append(
                    Feature(
                        _feature_name(f"days_since_{a.column}"),
                        f"Days from '{a.column}' to the reference date",
                        sql=f"CASE WHEN {col} < getvariable('ref_date') "
                        f"THEN date_diff('day', {col}, getvariable('ref_date')) END",
                        unit="days",
                        **common,
                    )
                )
            elif a.kind == "category":
                for level in _indicator_levels(a.levels):
                    out.append(
                        Feature(
                            _feature_name(f"{a.column}_{level}"),
                            f"1 when '{a.column}' is '{level}', else 0",
                            sql=f"CASE WHEN {col} = {_literal(level)} THEN 1.0 ELSE 0.0 END",
                            unit="flag",
                            level=level,
                            **common,
                        )
                    )
        return out

    def text_attributes(self) -> list[str]:
        """Customers-table text columns with too many values for indicators (a city, a plan
        name): they belong in the customer's profile sentence instead."""
        return [a.column for a in self.attributes() if a.kind == "text"]

    # ---------------------------------------------------------------- custom
    def validate(self, feature: Feature) -> Feature:
        """Check a (user) feature against this dataset; raises FeatureSQLError quoting the SQL."""
        _check_static(feature)
        if feature.source not in self.columns:
            raise FeatureSQLError(
                "no_table",
                name=feature.name,
                source=feature.source,
                tables=", ".join(sorted(self.columns)),
            )
        probe = self._source_query([feature]) + " LIMIT 0"
        try:
            desc = self.con.execute(probe).description
        except duckdb.Error as exc:
            hint: Phrase | str = ""
            msg = str(exc)
            if feature.source != "customers" and "GROUP BY" in msg:
                hint = Phrase(_ERRORS, "hint_aggregate")
            raise FeatureSQLError(
                "failed",
                name=feature.name,
                error=msg.splitlines()[0],
                hint=hint,
                sql=_sql(feature.sql),
            ) from None
        type_name = str(desc[1][1]).upper()
        if not any(t in type_name for t in _NUMERIC_TYPES):
            raise FeatureSQLError(
                "not_number", name=feature.name, type=type_name, sql=_sql(feature.sql)
            )
        return feature

    # --------------------------------------------------------------- compute
    def _source_query(self, feats: Sequence[Feature]) -> str:
        source = feats[0].source
        cols = ", ".join(f"({f.sql}) AS {_quote(f.name)}" for f in feats)
        if source == "customers":
            return f"SELECT customer_id, {cols} FROM customers"
        return f"SELECT customer_id, {cols} FROM {source} GROUP BY customer_id"

    def sql(self, features: Sequence[Feature]) -> str:
        """The single SELECT computing `features` for every customer (for display and export)."""
        by_source: dict[str, list[Feature]] = {}
        for f in features:
            by_source.setdefault(f.source, []).append(f)
        ctes, joins, outs = [], [], []
        for i, feats in enumerate(by_source.values()):
            alias = f"s{i}"
            ctes.append(f"{alias} AS ({self._source_query(feats)})")
            joins.append(f"LEFT JOIN {alias} USING (customer_id)")
            for f in feats:
                col = f"{alias}.{_quote(f.name)}"
                if f.fill is not None:
                    col = f"coalesce({col}, {f.fill})"
                outs.append(f"CAST({col} AS DOUBLE) AS {_quote(f.name)}")
        with_clause = ("WITH " + ",\n     ".join(ctes) + "\n") if ctes else ""
        select = ", ".join(["b.customer_id", *outs])
        return (
            f"{with_clause}SELECT {select}\nFROM customer_base b\n"
            + "\n".join(joins)
            + "\nORDER BY b.customer_id"
        )

    def compute(self, features: Sequence[Feature] | None = None) -> pd.DataFrame:
        features = list(features) if features is not None else self.catalogue()
        _check_unique(features)
        missing = [f.name for f in features if not self.available(f)]
        if missing:
            raise FeatureSQLError("missing_columns", names=", ".join(missing))
        try:
            return self.con.execute(self.sql(features)).df()
        except duckdb.Error as exc:
            # Find the culprit so the message can quote its SQL.
            for f in features:
                self.validate(f)
            raise FeatureSQLError("duckdb", error=str(exc)) from None

    def query(self, sql: str, params: Sequence | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> FeatureEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_NUMERIC_TYPES = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC", "BOOLEAN", "HUGEINT")
_FORBIDDEN = re.compile(
    r"\b(attach|detach|copy|export|import|install|load|pragma|set|reset|call|create|insert|"
    r"update|delete|drop|alter|checkpoint|vacuum|read_\w+|glob|parquet_\w+|sniff_csv|"
    r"getenv|query|query_table)\b",
    re.IGNORECASE,
)
# The relations a feature's subqueries may read. Anything else, a quoted path in particular,
# would be a DuckDB replacement scan of a file (e.g. the raw table without the cutoff).
_RELATIONS = {*SOURCES, "products", "customer_base"}
_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_unique(features: Iterable[Feature]) -> None:
    seen: set[str] = set()
    for f in features:
        if f.name in seen:
            raise FeatureSQLError("duplicate", name=f.name)
        seen.add(f.name)


def _check_static(feature: Feature) -> None:
    sql = feature.sql.strip()
    if not _NAME_RE.fullmatch(feature.name):
        raise FeatureSQLError("bad_name", name=repr(feature.name))
    if feature.source not in SOURCES:
        raise FeatureSQLError(
            "bad_source", name=feature.name, sources=", ".join(SOURCES), source=repr(feature.source)
        )
    if not sql:
        raise FeatureSQLError("no_sql", name=feature.name)
    if ";" in sql:
        raise FeatureSQLError("semicolon", name=feature.name, sql=_sql(sql))
    m = _FORBIDDEN.search(re.sub(r"'(?:[^']|'')*'", "''", sql))
    if m:
        raise FeatureSQLError("forbidden", name=feature.name, word=m.group(0), sql=_sql(sql))
    try:
        statements = duckdb.extract_statements(f"SELECT ({sql}) AS x FROM t")
    except duckdb.Error as exc:
        raise FeatureSQLError(
            "invalid", name=feature.name, error=str(exc).splitlines()[0], sql=_sql(sql)
        ) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise FeatureSQLError("not_select", name=feature.name, sql=_sql(sql))
    for kind, target in _table_refs(f"SELECT ({sql}) AS x"):
        if kind != "BASE_TABLE" or target.lower() not in _RELATIONS:
            raise FeatureSQLError(
                "foreign_table",
                name=feature.name,
                target=repr(target),
                tables=", ".join(sorted(_RELATIONS)),
                sql=_sql(sql),
            )


def _table_refs(select_sql: str) -> list[tuple[str, str]]:
    """(kind, name) of every table or table function a statement reads, from DuckDB's parser."""
    with duckdb.connect(":memory:") as con:
        tree = json.loads(
            con.execute("SELECT json_serialize_sql(?)", [select_sql]).fetchall()[0][0]
        )
    if tree.get("error"):
        raise FeatureSQLError("unparsable", error=tree.get("error_message", select_sql))
    refs: list[tuple[str, str]] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("BASE_TABLE", "TABLE_FUNCTION"):
                fn = node.get("function") or {}
                name = node.get("table_name") or fn.get("function_name") or "?"
                refs.append((node["type"], str(name)))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(tree)
    return refs


def validate_custom_feature(
    name: str,
    sql: str,
    source: str = "orders",
    *,
    description: str = "",
    engine: FeatureEngine | None = None,
    fill: float | None = None,
) -> Feature:
    """Build a user feature; with an engine, also check that it runs on that dataset."""
    feature = Feature(
        name=name.strip(),
        description=description.strip() or f"Custom: {sql.strip()}",
        source=source,
        sql=sql.strip(),
        group="Custom",
        fill=fill,
    )
    _check_static(feature)
    if engine is not None:
        if any(f.name == feature.name for f in CATALOGUE):
            raise FeatureSQLError("builtin", name=feature.name)
        engine.validate(feature)
    return feature


@dataclass
class FeatureTable:
    """Computed features plus what produced them (for caching and reproducibility)."""

    data: pd.DataFrame
    features: list[Feature]
    ref_date: datetime
    cutoff: datetime | None
    sql: str
    notes: list[str] = field(default_factory=list)
    # The notes' phrases (`core.locale.phrase_dicts`), for a table read back from the cache.
    note_phrases: list[dict | None] = field(default_factory=list)
    # Customers text columns with many values, for the profile sentence (`text_attributes`).
    text_attributes: list[str] = field(default_factory=list)

    def notes_in(self, lang: str) -> list[str]:
        """The notes in `lang` (as stored when they carry no phrase)."""
        phrases = self.note_phrases or phrase_dicts(self.notes)
        return texts_in(self.notes, phrases, FEATURE_NOTES, lang)


def select_features(
    features: Sequence[Feature], exclude: Iterable[str] = (), include: Iterable[str] = ()
) -> list[Feature]:
    """The features a configuration uses: those on by default unless excluded, plus those off
    by default that were switched on."""
    skip, add = set(exclude), set(include)
    return [f for f in features if f.name in add or (f.default_enabled and f.name not in skip)]


def build_customer_features(
    tables: Mapping[str, TableSource],
    features: Sequence[Feature] | None = None,
    *,
    custom: Sequence[Feature] = (),
    cutoff: date | datetime | str | None = None,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
    exclude_attributes: Iterable[str] = (),
) -> FeatureTable:
    """Compute customer features for a dataset (paths to Parquet files or DataFrames).

    `features` defaults to the available catalogue (those on by default, plus the names in
    `include`); `custom` features are validated and appended; names in `exclude` are dropped.
    `exclude_attributes` are customers columns never to turn into features.
    """
    with FeatureEngine(tables, cutoff=cutoff, exclude_attributes=exclude_attributes) as eng:
        feats = list(features) if features is not None else eng.catalogue()
        for f in custom:
            feats.append(eng.validate(f))
        feats = select_features(feats, exclude, include)
        data = eng.compute(feats)
        return FeatureTable(
            data=data,
            features=feats,
            ref_date=eng.ref_date,
            cutoff=eng.cutoff,
            sql=eng.sql(feats),
            notes=list(eng.notes),
            text_attributes=eng.text_attributes(),
        )
