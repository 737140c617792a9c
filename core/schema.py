"""Canonical tables: the one shape every later stage reads.

Four tables, each optional, but a dataset needs at least `customers` or `orders`:

* customers — one row per customer, attributes, perhaps a label column
* orders    — one row per order *line* (transaction line); returns are negative quantities
* products  — one row per product
* reviews   — one row per review text

Column names are snake_case and stable. Columns a user brings beyond the canonical ones are
kept (snake_cased) as extra attributes; nothing is dropped without being reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.ingest_text import MessageError, Msg

# Logical column types. Ingest coerces to these; Parquet stores them as
# string / timestamp[us] / float64 / int64.
STRING = "string"
DATE = "date"  # stored as timestamp (naive, microseconds)
FLOAT = "float"
INT = "int"

TABLES = ("customers", "orders", "products", "reviews")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class TableSchema:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table '{self.name}' has no canonical column '{name}'")


CUSTOMERS = TableSchema(
    name="customers",
    description="One row per customer: attributes and optionally a label column.",
    key=("customer_id",),
    columns=(
        Column("customer_id", STRING, "Unique customer identifier", required=True),
        Column("signup_date", DATE, "Date the customer registered / first seen"),
        Column("region", STRING, "Region, country or city"),
        Column("age_band", STRING, "Age band, e.g. 25-34"),
        Column("gender", STRING, "Gender as recorded by the shop"),
        Column("channel", STRING, "Acquisition channel, e.g. app, web, store"),
        Column("label", STRING, "An existing label (customer group, churn flag, ...)"),
    ),
)

ORDERS = TableSchema(
    name="orders",
    description=(
        "One row per order line. amount is the net line value after discount; returns and "
        "cancellations are lines with negative quantity and amount."
    ),
    key=(),
    columns=(
        Column("order_id", STRING, "Order / invoice number"),
        Column("customer_id", STRING, "Customer who placed the order", required=True),
        Column("order_date", DATE, "Date and time of the order", required=True),
        Column("product_id", STRING, "Product / SKU / stock code"),
        Column("product_name", STRING, "Product name or description"),
        Column("category", STRING, "Product category"),
        Column("quantity", FLOAT, "Units on the line; negative for returns"),
        Column("unit_price", FLOAT, "Price per unit before discount"),
        Column("discount", FLOAT, "Discount as a fraction of the gross line value (0-1)"),
        Column("amount", FLOAT, "Net line value (quantity × unit_price × (1 − discount))"),
    ),
)

PRODUCTS = TableSchema(
    name="products",
    description="One row per product.",
    key=("product_id",),
    columns=(
        Column("product_id", STRING, "Product / SKU identifier", required=True),
        Column("product_name", STRING, "Product name"),
        Column("category", STRING, "Product category"),
        Column("price", FLOAT, "List price"),
        Column("description", STRING, "Product description text"),
    ),
)

REVIEWS = TableSchema(
    name="reviews",
    description="One row per review written by a customer.",
    key=(),
    columns=(
        Column("review_id", STRING, "Review identifier"),
        Column("customer_id", STRING, "Customer who wrote the review", required=True),
        Column("product_id", STRING, "Product reviewed"),
        Column("review_date", DATE, "Date of the review"),
        Column("rating", FLOAT, "Star rating (e.g. 1-5)"),
        Column("review_text", STRING, "The review text", required=True),
    ),
)

SCHEMAS: dict[str, TableSchema] = {s.name: s for s in (CUSTOMERS, ORDERS, PRODUCTS, REVIEWS)}


def schema_for(table: str) -> TableSchema:
    try:
        return SCHEMAS[table]
    except KeyError:
        raise MessageError(
            Msg("unknown_table", table=str(table), expected=", ".join(TABLES))
        ) from None


def to_snake_case(name: str) -> str:
    """`Customer ID` → `customer_id`, `InvoiceDate` → `invoice_date`; non-ASCII kept."""
    import re

    s = str(name).strip()
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s)
    s = re.sub(r"[^\w]+", "_", s, flags=re.UNICODE)
    s = re.sub(r"_+", "_", s).strip("_").lower()
    return s or "column"
