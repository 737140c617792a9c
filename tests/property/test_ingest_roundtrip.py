"""Property tests: generated orders / customers tables survive a trip through a file and
`core.ingest.ingest_file` without losing or changing rows, whatever the ids (unicode), amounts
(negative = returns), dates and free text (commas, quotes, line breaks) look like; and bad
values planted at random rows are rejected at exactly those rows, named by the line a user
sees in the file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.ingest import IngestResult, ingest_file

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Ids: a letter first (so never a number, a date or a null token such as 'NA'), then letters
# from several scripts, digits, '-' and '_'.
_LETTERS = "abcxyzABCXYZéüßøçñ客户张李王ßØÅжДλΩ"
_ID = st.text(alphabet=_LETTERS, min_size=1, max_size=1).flatmap(
    lambda first: st.text(alphabet=_LETTERS + "0123456789-_", max_size=10).map(lambda r: first + r)
)
_DATE = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
_AMOUNT = st.decimals(min_value=-1_000_000, max_value=1_000_000, places=2, allow_nan=False).map(
    float
)
_QUANTITY = st.integers(min_value=-5, max_value=50)
# Free text: any printable character plus the ones that break naive CSV handling. A word
# first and last keeps it from being blank, a number or a null token, and from being trimmed.
_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), include_characters='\n,;"\t'
    ),
    max_size=40,
).map(lambda t: f"note {t} end")

_ORDER = st.tuples(_ID, _DATE, _QUANTITY, _AMOUNT, _TEXT)


def _orders_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["customer_id", "order_date", "quantity", "amount", "product_name"]
    )


def _check_orders(res: IngestResult, df: pd.DataFrame) -> None:
    rep = res.report
    assert (rep.rows_read, rep.rows_kept, rep.rows_rejected) == (len(df), len(df), 0), rep.warnings
    out = res.data
    assert out["customer_id"].tolist() == df["customer_id"].tolist()
    assert out["order_date"].tolist() == [pd.Timestamp(d) for d in df["order_date"]]
    assert out["quantity"].tolist() == [float(q) for q in df["quantity"]]
    assert out["amount"].tolist() == df["amount"].tolist()
    assert out["product_name"].tolist() == df["product_name"].tolist()
    n_neg = int(((df["quantity"] < 0) | (df["amount"] < 0)).sum())
    if n_neg:  # returns are kept, and said to be
        assert any("kept as returns" in n and n.startswith(f"{n_neg:,} line") for n in rep.notes)


@SETTINGS
@given(
    rows=st.lists(_ORDER, min_size=1, max_size=25),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_orders_csv_round_trip(tmp_path: Path, rows: list[tuple], sep: str, encoding: str) -> None:
    df = _orders_frame(rows)
    path = tmp_path / "orders.csv"
    df.to_csv(path, index=False, sep=sep, encoding=encoding, date_format="%Y-%m-%d %H:%M:%S")
    res = ingest_file(path, "orders")
    _check_orders(res, df)
    assert res.report.delimiter == sep


@SETTINGS
@given(rows=st.lists(_ORDER, min_size=1, max_size=25))
def test_orders_decimal_comma_round_trip(tmp_path: Path, rows: list[tuple]) -> None:
    """European export: ';' between fields, ',' as the decimal mark."""
    df = _orders_frame(rows)
    path = tmp_path / "bestellungen.csv"
    df.to_csv(path, index=False, sep=";", decimal=",", date_format="%Y-%m-%d %H:%M:%S")
    _check_orders(ingest_file(path, "orders"), df)


@SETTINGS
@given(rows=st.lists(_ORDER, min_size=1, max_size=25))
def test_orders_parquet_round_trip(tmp_path: Path, rows: list[tuple]) -> None:
    df = _orders_frame(rows)
    path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array(df["customer_id"].tolist(), pa.string()),
                "order_date": pa.array(df["order_date"].tolist(), pa.timestamp("us")),
                "quantity": pa.array(df["quantity"].tolist(), pa.int64()),
                "amount": pa.array(df["amount"].tolist(), pa.float64()),
                "product_name": pa.array(df["product_name"].tolist(), pa.string()),
            }
        ),  # fmt: skip
        path,
    )
    _check_orders(ingest_file(path, "orders"), df)


_CUSTOMER = st.tuples(
    st.one_of(st.none(), _DATE.map(lambda d: d.replace(hour=0, minute=0, second=0))),
    _TEXT,
    st.sampled_from(["vip", "regular", "churned", "新客"]),
)


@SETTINGS
@given(
    ids=st.lists(_ID, min_size=1, max_size=25, unique=True),
    data=st.data(),
    fmt=st.sampled_from(["csv", "parquet"]),
)
def test_customers_round_trip(tmp_path: Path, ids: list[str], data, fmt: str) -> None:
    attrs = data.draw(st.lists(_CUSTOMER, min_size=len(ids), max_size=len(ids)))
    df = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": [a[0] for a in attrs],
            "region": [a[1] for a in attrs],
            "label": [a[2] for a in attrs],
        }
    )
    path = tmp_path / f"customers.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False, date_format="%Y-%m-%d")
    else:
        df.to_parquet(path, index=False)
    res = ingest_file(path, "customers")
    rep = res.report
    assert (rep.rows_read, rep.rows_kept, rep.rows_rejected) == (len(df), len(df), 0), rep.warnings
    assert res.data["customer_id"].tolist() == ids
    assert res.data["region"].tolist() == df["region"].tolist()
    assert res.data["label"].tolist() == df["label"].tolist()
    got = res.data["signup_date"].tolist()
    assert [None if pd.isna(g) else g for g in got] == [
        None if a[0] is None else pd.Timestamp(a[0]) for a in attrs
    ]


@SETTINGS
@given(
    rows=st.lists(_ORDER, min_size=2, max_size=25),
    data=st.data(),
)
def test_bad_amounts_rejected_at_the_line_the_user_sees(tmp_path: Path, rows, data) -> None:
    """Plant unreadable amounts at random rows of a CSV whose text cells span lines: exactly
    those rows are rejected, each named by the line it starts on, the rest kept in order."""
    bad = set(data.draw(st.sets(st.integers(0, len(rows) - 1), max_size=len(rows) - 1)))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["customer_id", "order_date", "amount", "product_name"])
    start_line = {}
    for i, (cid, when, _q, amount, text) in enumerate(rows):
        start_line[i] = buf.getvalue().count("\n") + 1
        shown = "n/a?" if i in bad else repr(amount)
        writer.writerow([cid, when.strftime("%Y-%m-%d %H:%M:%S"), shown, text])
    path = tmp_path / "planted.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    res = ingest_file(path, "orders")
    rep = res.report
    assert rep.rows_read == len(rows) == rep.rows_kept + rep.rows_rejected
    expected_lines = sorted(start_line[i] for i in bad)
    assert res.rejected["_row"].tolist() == expected_lines
    for line, reason in zip(expected_lines, res.rejected["_reason"], strict=True):
        assert reason == f"column 'amount' row {line}: 'n/a?' is not a number (expected e.g. 12.50)"
    kept = [r for i, r in enumerate(rows) if i not in bad]
    assert res.data["customer_id"].tolist() == [r[0] for r in kept]
    assert res.data["amount"].tolist() == [r[3] for r in kept]
