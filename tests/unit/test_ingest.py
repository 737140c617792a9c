"""core.ingest: reading every supported format, mapping, normalisation, rejections, errors.

Every file is generated here (in tmp_path or as bytes); every ingest result is checked for
rows_read == rows_kept + rows_rejected and a JSON round-trip of its report.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.ingest import (
    IngestError,
    IngestLimits,
    IngestResult,
    RawTable,
    TableReport,
    guess_mapping,
    guess_table,
    ingest,
    ingest_file,
    read_raw,
)
from core.schema import schema_for


# --------------------------------------------------------------------------- helpers
def check(res: IngestResult) -> IngestResult:
    """Invariants every ingest result must satisfy."""
    rep = res.report
    assert rep.rows_read == rep.rows_kept + rep.rows_rejected
    assert rep.rows_kept == len(res.data)
    assert rep.rows_rejected == len(res.rejected)
    assert {"_row", "_column", "_reason"} <= set(res.rejected.columns)
    assert len(rep.rejections) == min(rep.rows_rejected, IngestLimits().max_report_rejections)
    if len(res.rejected):
        assert res.rejected["_reason"].notna().all()
        assert (res.rejected["_row"] >= 1).all()
    # Canonical columns first, in schema order, with their logical types.
    schema = schema_for(res.table)
    canon = [c for c in res.data.columns if c in schema.column_names]
    assert canon == [c for c in schema.column_names if c in canon]
    assert list(res.data.columns[: len(canon)]) == canon
    for c in canon:
        dtype = schema.column(c).dtype
        s = res.data[c]
        if dtype == "date":
            assert str(s.dtype) == "datetime64[us]", (c, s.dtype)
        elif dtype == "float":
            assert s.dtype == np.float64, (c, s.dtype)
        elif dtype == "string":
            assert pd.api.types.is_string_dtype(s.dtype), (c, s.dtype)
    for r in schema.required:
        assert r in res.data.columns
        assert res.data[r].notna().all()
    # The report survives JSON.
    d = json.loads(json.dumps(rep.to_dict(), ensure_ascii=False))
    assert TableReport.from_dict(d) == rep
    # The rejected rows can be saved as Parquet (the workspace does this).
    pa.Table.from_pandas(res.rejected, preserve_index=False)
    pa.Table.from_pandas(res.data, preserve_index=False)
    return res


def run(content: bytes | str, filename: str, table: str | None = None, **kw) -> IngestResult:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return check(ingest(read_raw(data, filename), table, **kw))


def write(tmp_path: Path, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return p


def xlsx_bytes(rows: list[list[object]], sheet: str = "Sheet1", extra_sheets=()) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    for name in extra_sheets:
        wb.create_sheet(name)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


ORDERS_CSV = """customer_id,order_date,amount
c1,2024-01-05,12.50
c2,2024-01-06,7
c1,2024-02-01,3.25
"""

UCI_ROWS = [
    # InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country
    ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "12/1/2010 8:26", "2.55", "17850.0", "United Kingdom"),
    ("536365", "71053", "WHITE METAL LANTERN", "6", "12/1/2010 8:26", "3.39", "17850.0", "United Kingdom"),
    ("536365", "84406B", "CREAM CUPID HEARTS COAT HANGER", "8", "12/1/2010 8:26", "2.75", "17850.0", "United Kingdom"),
    ("536366", "22633", "HAND WARMER UNION JACK", "6", "12/1/2010 8:28", "1.85", "17850.0", "United Kingdom"),
    ("536367", "84879", "ASSORTED COLOUR BIRD ORNAMENT", "32", "12/1/2010 8:34", "1.69", "13047.0", "United Kingdom"),
    ("536367", "22745", "POPPY'S PLAYHOUSE BEDROOM", "6", "12/1/2010 8:34", "2.1", "13047.0", "United Kingdom"),
    ("536368", "22960", "JAM MAKING SET WITH JARS", "6", "12/1/2010 8:34", "4.25", "13047.0", "United Kingdom"),
    ("536369", "21756", "BATH BUILDING BLOCK WORD", "3", "12/1/2010 8:35", "5.95", "13047.0", "United Kingdom"),
    ("536370", "22728", "ALARM CLOCK BAKELIKE PINK", "24", "12/1/2010 8:45", "3.75", "12583.0", "France"),
    ("536370", "POST", "POSTAGE", "3", "12/1/2010 8:45", "18", "12583.0", "France"),
    ("C536379", "D", "Discount", "-1", "12/1/2010 9:41", "27.5", "14527.0", "United Kingdom"),
    ("536414", "22139", "", "56", "12/1/2010 11:52", "0", "", "United Kingdom"),
    ("536544", "21773", "DECORATIVE ROSE BATHROOM BOTTLE", "1", "12/1/2010 14:32", "2.51", "", "United Kingdom"),
    ("536544", "21774", "DECORATIVE CATS BATHROOM BOTTLE", "2", "12/1/2010 14:32", "2.51", "", "United Kingdom"),
    ("536592", "DOT", "DOTCOM POSTAGE", "1", "12/1/2010 17:06", "607.49", "", "United Kingdom"),
    ("536596", "21624", "VINTAGE UNION JACK DOORSTOP", "1", "12/1/2010 9:34", "8.5", "15311.0", "United Kingdom"),
    ("536597", "21754", "HOME BUILDING BLOCK WORD", "2", "12/1/2010 9:34", "5.95", "18011.0", "United Kingdom"),
    ("536598", "84879", "ASSORTED COLOUR BIRD ORNAMENT", "8", "12/13/2010 10:05", "1.69", "18011.0", "United Kingdom"),
    ("536599", "22086", "PAPER CHAIN KIT 50'S CHRISTMAS", "-2", "12/14/2010 10:05", "2.95", "15311.0", "United Kingdom"),
    ("536600", "22086", "PAPER CHAIN KIT 50'S CHRISTMAS", "12", "12/15/2010 10:05", "2.95", "15311.0", "United Kingdom"),
]  # fmt: skip
UCI_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def uci_csv() -> str:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(UCI_HEADER.split(","))
    w.writerows(UCI_ROWS)
    return buf.getvalue()


# --------------------------------------------------------------------------- formats
def test_csv_orders_only(tmp_path: Path) -> None:
    res = check(ingest_file(write(tmp_path, "orders.csv", ORDERS_CSV)))
    assert res.table == "orders"
    rep = res.report
    assert (rep.rows_read, rep.rows_kept, rep.rows_rejected) == (3, 3, 0)
    assert rep.encoding == "utf-8" and rep.delimiter == "," and rep.format == "csv"
    assert list(res.data.columns[:3]) == ["customer_id", "order_date", "quantity"]
    assert res.data["amount"].tolist() == [12.5, 7.0, 3.25]
    assert res.data["order_date"].tolist() == [
        pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-06"), pd.Timestamp("2024-02-01")
    ]  # fmt: skip
    assert res.data["quantity"].tolist() == [1.0, 1.0, 1.0]
    assert any("quantity set to 1" in n for n in rep.notes)
    assert rep.date_formats == {"order_date": "YYYY-MM-DD"}
    assert rep.mapping == {
        "customer_id": "customer_id",
        "order_date": "order_date",
        "amount": "amount",
    }


def test_tsv_and_pipe() -> None:
    tsv = ORDERS_CSV.replace(",", "\t")
    res = run(tsv, "orders.tsv")
    assert res.report.delimiter == "\t" and res.report.rows_kept == 3
    res = run(ORDERS_CSV.replace(",", "|"), "orders.txt")
    assert res.report.delimiter == "|" and res.report.rows_kept == 3


def test_semicolon_csv_with_decimal_comma_and_day_first_dates() -> None:
    content = (
        "Kunde;Datum;Betrag;Menge\n"
        "K1;05.01.2024;1.234,56;2\n"
        "K2;31.01.2024;12,5;1\n"
        "K3;01.02.2024;€ 7,00;3\n"
    )
    res = run(content, "bestellungen.csv", "orders", mapping={
        "Kunde": "customer_id", "Datum": "order_date", "Betrag": "amount", "Menge": "quantity"
    })  # fmt: skip
    rep = res.report
    assert rep.delimiter == ";" and rep.decimal == ","
    assert res.data["amount"].tolist() == [1234.56, 12.5, 7.0]
    assert res.data["order_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-05", "2024-01-31", "2024-02-01"
    ]  # fmt: skip
    assert rep.date_formats["order_date"] == "DD.MM.YYYY"
    assert any("decimal comma detected in 'Betrag'" in n for n in rep.notes)
    assert any("currency symbols removed" in n for n in rep.notes)


def test_decimal_comma_in_comma_separated_file_with_quotes() -> None:
    content = 'customer_id,order_date,Prix\nc1,2024-01-05,"12,50"\nc2,2024-01-06,"0,99"\n'
    res = run(content, "fr.csv", "orders", mapping={"Prix": "amount"} | {
        "customer_id": "customer_id", "order_date": "order_date"
    })  # fmt: skip
    assert res.data["amount"].tolist() == [12.5, 0.99]
    assert any("decimal comma detected in 'Prix'" in n for n in res.report.notes)


def test_parquet_typed_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "CustomerID": pa.array([17850.0, 13047.0, None]),
            "InvoiceDate": pa.array(
                [
                    dt.datetime(2010, 12, 1, 8, 26),
                    dt.datetime(2010, 12, 2),
                    dt.datetime(2010, 12, 3),
                ],
                pa.timestamp("us"),
            ),
            "Revenue": pa.array([15.3, 0.1 + 0.2, 4.0]),
            "Channel": pa.array(["web", "app", "web"]).dictionary_encode(),
            "vip": pa.array([True, False, None]),
        }
    )
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    res = check(ingest_file(path))
    assert res.table == "orders"
    rep = res.report
    assert (rep.rows_read, rep.rows_kept, rep.rows_rejected) == (3, 2, 1)
    assert res.data["customer_id"].tolist() == ["17850", "13047"]
    assert res.data["order_date"].tolist() == [
        pd.Timestamp("2010-12-01 08:26"),
        pd.Timestamp("2010-12-02"),
    ]
    assert res.data["amount"].tolist() == [15.3, 0.1 + 0.2]  # exact round trip through text
    assert res.data["channel"].tolist() == ["web", "app"]
    assert res.data["vip"].tolist() == ["true", "false"]
    assert res.rejected["_row"].tolist() == [3]  # the 1-based record number
    assert "missing customer id" in res.rejected["_reason"].iloc[0]


def test_xlsx_with_title_rows_dates_and_sheet_row_numbers(tmp_path: Path) -> None:
    rows = [
        ["Sales export 2024"],
        [],
        ["Customer", "Order Date", "Total"],
        ["c1", dt.datetime(2024, 1, 5, 10, 30), 12.5],
        ["c2", dt.datetime(2024, 1, 6), "n/a?"],
        [],
        ["c3", "2024-01-07", 3],
    ]
    path = write(tmp_path, "orders.xlsx", xlsx_bytes(rows, extra_sheets=["Notes"]))
    raw = read_raw(path)
    assert raw.sheet == "Sheet1" and raw.sheet_names == ["Sheet1", "Notes"]
    assert raw.row_numbers.tolist() == [4, 5, 7]
    res = check(ingest(raw))
    assert res.table == "orders"
    assert res.data["customer_id"].tolist() == ["c1", "c3"]
    assert res.data["order_date"].tolist() == [
        pd.Timestamp("2024-01-05 10:30"),
        pd.Timestamp("2024-01-07"),
    ]
    assert res.rejected["_row"].tolist() == [5]
    assert res.rejected["_reason"].iloc[0] == (
        "column 'Total' (amount) row 5: 'n/a?' is not a number (expected e.g. 12.50)"
    )
    assert any("above the header" in n for n in res.report.notes)
    assert res.report.sheet == "Sheet1"


def test_xlsx_sheet_choice_and_errors(tmp_path: Path) -> None:
    data = xlsx_bytes(
        [["customer_id", "label"], ["a", "x"]], sheet="First", extra_sheets=["Second"]
    )
    with pytest.raises(IngestError, match="no sheet 'Nope'; sheets: First, Second"):
        read_raw(data, "c.xlsx", sheet="Nope")
    with pytest.raises(IngestError, match="sheet 'Second' of 'c.xlsx' is empty"):
        read_raw(data, "c.xlsx", sheet=1)
    assert read_raw(data, "c.xlsx", sheet="First").df.shape == (1, 2)
    with pytest.raises(IngestError, match="'bad.xlsx' is not a valid Excel workbook"):
        read_raw(b"this is not a zip file at all", "bad.xlsx")
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(IngestError, match="not a valid Excel workbook"):
        read_raw(zbuf.getvalue(), "zip.xlsx")
    with pytest.raises(IngestError, match=r"old Excel 97-2003 workbook \(\.xls\)"):
        read_raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")


def test_xlsx_excel_serial_dates() -> None:
    data = xlsx_bytes([["customer_id", "order_date", "amount"], ["a", 45296, 1], ["b", 45297.5, 2]])
    res = run(data, "serial.xlsx")
    assert res.data["order_date"].tolist() == [
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-01-06 12:00"),
    ]
    assert res.report.date_formats["order_date"] == "Excel serial day number"


def test_jsonl_and_json_array() -> None:
    lines = [
        {"user_id": 1, "purchase_date": "2024-01-05T10:00:00", "total": 12.5},
        {"user_id": 2, "purchase_date": "2024-01-06T11:00:00", "total": 3},
    ]
    jsonl = (
        "\n".join(json.dumps(x) for x in lines)
        + "\n{not json}\n\n"
        + json.dumps(
            {"user_id": 3, "purchase_date": "2024-01-07", "total": None, "extra": {"a": 1}}
        )
    )
    res = run(jsonl, "orders.jsonl")
    assert res.table == "orders" and res.report.format == "json"
    assert res.data["customer_id"].tolist() == ["1", "2", "3"]
    assert res.data["amount"].tolist()[:2] == [12.5, 3.0]
    assert np.isnan(res.data["amount"].iloc[2])
    assert res.rejected["_row"].tolist() == [3]
    assert "line 3 is not valid JSON" in res.rejected["_reason"].iloc[0]
    assert res.data["extra"].iloc[2] == '{"a": 1}'

    res = run(json.dumps(lines), "orders.json")
    assert res.report.rows_kept == 2 and res.data["customer_id"].tolist() == ["1", "2"]
    res = run(json.dumps({"data": lines}), "wrapped.json")
    assert res.report.rows_kept == 2
    res = run("\n".join(json.dumps(x) for x in lines), "lines.ndjson")
    assert res.report.rows_kept == 2


# --------------------------------------------------------------------------- encodings
def test_utf8_and_utf8_sig() -> None:
    content = "customer_id,region,label\nc1,Zürich,vip\nc2,München,regular\n"
    res = run(content.encode("utf-8"), "c.csv")
    assert res.report.encoding == "utf-8"
    assert res.data["region"].tolist() == ["Zürich", "München"]
    res = run(content.encode("utf-8-sig"), "c.csv")
    assert res.report.encoding == "utf-8-sig"
    assert list(res.data.columns) == ["customer_id", "region", "label"]


def test_gb18030_with_chinese_columns_and_values() -> None:
    content = (
        "用户ID,下单时间,实付金额,商品ID,类目,数量\n"
        "U001,2024年1月5日,128.50,SKU1,女装,1\n"
        "U002,2024年1月6日,56,SKU2,家居用品,2\n"
        "U001,2024年2月1日,￥99.00,SKU3,数码配件,1\n"
    )
    res = run(content.encode("gb18030"), "订单.csv")
    assert res.report.encoding == "gb18030"
    assert res.table == "orders"
    m = res.report.mapping
    assert (
        m["用户ID"] == "customer_id" and m["下单时间"] == "order_date" and m["实付金额"] == "amount"
    )
    assert m["商品ID"] == "product_id" and m["类目"] == "category" and m["数量"] == "quantity"
    assert res.data["category"].tolist() == ["女装", "家居用品", "数码配件"]
    assert res.data["amount"].tolist() == [128.5, 56.0, 99.0]
    assert res.data["order_date"].iloc[1] == pd.Timestamp("2024-01-06")
    assert res.report.date_formats["order_date"] == "YYYY年M月D日"


def test_gbk_customers_with_chinese_names() -> None:
    content = "会员ID,注册时间,城市,性别,年龄段,渠道,标签\nM1,2023-05-01,上海,女,25-34,小程序,高价值\nM2,2023-06-11,北京,男,35-44,App,流失\n"
    res = run(content.encode("gbk"), "会员.csv")
    assert res.table == "customers" and res.report.encoding == "gb18030"
    assert list(res.data.columns) == [
        "customer_id", "signup_date", "region", "age_band", "gender", "channel", "label"
    ]  # fmt: skip
    assert res.data["region"].tolist() == ["上海", "北京"]


def test_latin1_accents() -> None:
    content = "customer_id,region,label\nc1,Créteil,fidèle\nc2,Besançon,nouveau\n"
    res = run(content.encode("latin-1"), "clients.csv")
    assert res.report.encoding in ("cp1252", "latin-1")
    assert res.data["region"].tolist() == ["Créteil", "Besançon"]
    assert res.data["label"].tolist() == ["fidèle", "nouveau"]


def test_utf16_with_bom() -> None:
    content = "customer_id\torder_date\tamount\nc1\t2024-01-05\t1.5\nc2\t2024-01-06\t2\n"
    res = run(content.encode("utf-16"), "export.txt")
    assert res.report.encoding == "utf-16" and res.report.delimiter == "\t"
    assert res.data["amount"].tolist() == [1.5, 2.0]


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("values", "fmt", "expected"),
    [
        (["2024-01-05", "2024-12-25"], "YYYY-MM-DD", ["2024-01-05", "2024-12-25"]),
        (["2024-01-05T10:00:00Z", "2024-12-25T23:59:59Z"], "YYYY-MM-DD HH:MM:SS", ["2024-01-05 10:00", "2024-12-25 23:59:59"]),
        (["25/01/2024", "03/02/2024"], "DD/MM/YYYY", ["2024-01-25", "2024-02-03"]),
        (["01/25/2024", "02/03/2024"], "MM/DD/YYYY", ["2024-01-25", "2024-02-03"]),
        (["25.01.2024", "03.02.2024"], "DD.MM.YYYY", ["2024-01-25", "2024-02-03"]),
        (["2024/01/25", "2024/2/3"], "YYYY/MM/DD", ["2024-01-25", "2024-02-03"]),
        (["12/1/2010 8:26", "12/13/2010 17:06"], "MM/DD/YYYY HH:MM", ["2010-12-01 08:26", "2010-12-13 17:06"]),
        (["20240125", "20240203"], "YYYYMMDD", ["2024-01-25", "2024-02-03"]),
        (["2024年1月25日", "2024年2月3日"], "YYYY年M月D日", ["2024-01-25", "2024-02-03"]),
        (["1706140800", "1706918400"], "Unix epoch seconds", ["2024-01-25", "2024-02-03"]),
        (["1706140800000", "1706918400000"], "Unix epoch milliseconds", ["2024-01-25", "2024-02-03"]),
        (["25 Jan 2024", "3 Feb 2024"], "DD Mon YYYY", ["2024-01-25", "2024-02-03"]),
    ],
)  # fmt: skip
def test_date_formats(values: list[str], fmt: str, expected: list[str]) -> None:
    content = "customer_id,order_date,amount\n" + "".join(
        f"c{i},{v},1\n" for i, v in enumerate(values)
    )
    res = run(content, "d.csv", "orders")
    assert res.report.rows_rejected == 0, res.rejected["_reason"].tolist()
    assert res.report.date_formats["order_date"] == fmt
    assert res.data["order_date"].tolist() == [pd.Timestamp(e) for e in expected]


def test_impossible_date_rejected_with_row_and_expected_format() -> None:
    content = "customer_id,order_date,amount\nc1,25/01/2024,1\nc2,31/02/2024,2\nc3,13/02/2024,3\n"
    res = run(content, "d.csv", "orders")
    assert res.report.rows_kept == 2
    assert res.rejected["_row"].tolist() == [3]
    assert res.rejected["_reason"].iloc[0] == (
        "column 'order_date' row 3: '31/02/2024' is not a valid date (expected DD/MM/YYYY, "
        "e.g. 25/12/2024)"
    )
    assert res.rejected["_column"].iloc[0] == "order_date"
    assert res.report.rejections[0].row == 3 and res.report.rejections[0].value == "31/02/2024"


def test_ambiguous_dates_warned_and_overridable() -> None:
    content = "customer_id,order_date,amount\nc1,01/02/2024,1\nc2,03/04/2024,2\n"
    res = run(content, "d.csv", "orders")
    assert res.report.date_formats["order_date"] == "MM/DD/YYYY"
    assert res.data["order_date"].iloc[0] == pd.Timestamp("2024-01-02")
    assert any("ambiguous" in w for w in res.report.warnings)
    res = run(content, "d.csv", "orders", date_formats={"order_date": "DD/MM/YYYY"})
    assert res.data["order_date"].iloc[0] == pd.Timestamp("2024-02-01")
    dotted = content.replace("/", ".")
    res = run(dotted, "d.csv", "orders")
    assert res.report.date_formats["order_date"] == "DD.MM.YYYY"


def test_timezones_dropped_and_future_dates_warned() -> None:
    future = (pd.Timestamp.now() + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    content = (
        "customer_id,order_date,amount\n"
        "c1,2024-01-05T10:00:00+08:00,1\nc2,2024-01-05T10:00:00+08:00,1\n"
        f"c3,{future},1\n"
    )
    res = run(content, "tz.csv", "orders")
    assert res.data["order_date"].iloc[0] == pd.Timestamp("2024-01-05 10:00")
    assert any("UTC offset +0800 removed" in n for n in res.report.notes)
    assert any("in the future" in w for w in res.report.warnings)
    mixed = (
        "customer_id,order_date,amount\nc1,2024-01-05T10:00:00+08:00,1\nc2,2024-01-05T10:00:00Z,1\n"
    )
    res = run(mixed, "tz.csv", "orders")
    assert res.data["order_date"].tolist() == [
        pd.Timestamp("2024-01-05 02:00"),
        pd.Timestamp("2024-01-05 10:00"),
    ]
    assert any("converted to UTC" in n for n in res.report.notes)


def test_required_date_column_without_dates_is_an_error() -> None:
    content = "customer_id,order_date,amount\nc1,soon,1\nc2,later,2\n"
    with pytest.raises(
        IngestError, match=r"column 'order_date' \(mapped to order_date\) does not hold dates"
    ):
        run(content, "d.csv", "orders")


# --------------------------------------------------------------------------- UCI Online Retail
def test_uci_online_retail_sample(tmp_path: Path) -> None:
    res = check(ingest_file(write(tmp_path, "Online Retail.csv", uci_csv())))
    rep = res.report
    assert res.table == "orders"
    assert rep.mapping == {
        "InvoiceNo": "order_id", "StockCode": "product_id", "Description": "product_name",
        "Quantity": "quantity", "InvoiceDate": "order_date", "UnitPrice": "unit_price",
        "CustomerID": "customer_id", "Country": "country",
    }  # fmt: skip
    assert rep.date_formats["order_date"] == "MM/DD/YYYY HH:MM"
    # Rows without CustomerID: rejected with a reason, downloadable with their raw values.
    assert rep.rows_read == 20 and rep.rows_rejected == 4 and rep.rows_kept == 16
    assert res.rejected["_row"].tolist() == [13, 14, 15, 16]
    assert all("missing customer id" in r for r in res.rejected["_reason"])
    assert res.rejected["InvoiceNo"].tolist() == ["536414", "536544", "536544", "536592"]
    assert res.rejected["_column"].unique().tolist() == ["CustomerID"]
    # Float-looking ids made whole.
    assert set(res.data["customer_id"]) == {"17850", "13047", "12583", "14527", "15311", "18011"}
    assert any("'17850.0' → '17850'" in n for n in rep.notes)
    # amount = Quantity × UnitPrice.
    assert np.allclose(res.data["amount"], res.data["quantity"] * res.data["unit_price"])
    assert res.data["amount"].iloc[0] == pytest.approx(6 * 2.55)
    assert any("amount derived from quantity × unit_price for 16 rows" in n for n in rep.notes)
    # The cancellation is kept as a negative return.
    canc = res.data[res.data["order_id"] == "C536379"]
    assert len(canc) == 1 and canc["quantity"].iloc[0] == -1 and canc["amount"].iloc[0] == -27.5
    assert any("'C536379'" in n and "kept as returns" in n for n in rep.notes)
    assert any("2 lines with negative quantity or amount kept as returns" in n for n in rep.notes)
    assert res.data["country"].iloc[8] == "France"
    assert res.data["order_date"].iloc[0] == pd.Timestamp("2010-12-01 08:26")


def test_uci_guess_table_and_mapping() -> None:
    raw = read_raw(uci_csv().encode(), "retail.csv")
    assert guess_table(raw.df) == "orders"
    m = guess_mapping(raw.df, "orders")
    assert m["Country"] is None and m["CustomerID"] == "customer_id"


# --------------------------------------------------------------------------- customers / others
def test_customers_with_label_and_duplicates() -> None:
    content = (
        "Customer ID,Signup Date,Country,Gender,Segment,Loyalty Points,Zip\n"
        "c1,2023-01-05,DE,f,gold,120,01234\n"
        "c2,2023-02-05,FR,m,silver,80,75001\n"
        "c1,2023-03-05,DE,f,gold,50,01234\n"
        " c3 ,2023-04-05,,,gold,,\n"
    )
    res = run(content, "customers.csv")
    assert res.table == "customers"
    assert list(res.data.columns) == [
        "customer_id", "signup_date", "region", "gender", "label", "loyalty_points", "zip"
    ]  # fmt: skip
    assert res.data["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert res.rejected["_row"].tolist() == [4]
    assert (
        res.rejected["_reason"].iloc[0] == "row 4: duplicate customer_id 'c1' (first seen on row 2)"
    )
    assert res.data["loyalty_points"].dtype == np.float64
    assert res.data["zip"].tolist()[:2] == ["01234", "75001"]  # leading zeros: stays text
    assert any("surrounding spaces removed" in n for n in res.report.notes)


def test_label_with_one_class_and_all_null_column_warned() -> None:
    content = "client,churn,notes\na,0,\nb,0,\nc,0.0,\n"
    res = run(content, "c.csv", "customers")
    assert res.data["label"].tolist() == ["0", "0", "0"]
    assert any("single value" in w for w in res.report.warnings)
    assert any("'notes' is empty in every kept row" in w for w in res.report.warnings)


def test_reviews_and_products() -> None:
    reviews = (
        "review_id,customer,product,date,stars,comment\n"
        'r1,c1,p1,2024-01-05,5,"Great, would buy again"\n'
        "r2,c2,p1,2024-01-06,2,\n"
        'r3,c2,p2,2024-01-07,4,"Nice\nsecond line"\n'
    )
    res = run(reviews, "reviews.csv")
    assert res.table == "reviews"
    assert res.data["review_text"].tolist() == ["Great, would buy again", "Nice\nsecond line"]
    assert res.rejected["_row"].tolist() == [3]
    assert "missing review text" in res.rejected["_reason"].iloc[0]
    products = 'sku,title,category,price,description\np1,Mug,Home,9.99,A mug\np2,Cup,Home,"1,299.00",\np1,Mug,Home,9.99,dup\n'
    res = run(products, "products.csv")
    assert res.table == "products"
    assert res.data["price"].tolist() == [9.99, 1299.0]
    assert "duplicate product_id 'p1' (first seen on row 2)" in res.rejected["_reason"].iloc[0]


def test_guess_table_variants() -> None:
    def df(cols: list[str], rows: list[list[str]]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=cols, dtype="str")

    assert (
        guess_table(df(["cust_id", "txn_date", "revenue"], [["a", "2024-01-01", "3"]])) == "orders"
    )
    assert guess_table(df(["customer_id", "label"], [["a", "x"], ["b", "y"]])) == "customers"
    assert (
        guess_table(df(["user_id", "rating", "review"], [["a", "5", "good stuff here"]]))
        == "reviews"
    )
    assert guess_table(df(["sku", "product_name", "price"], [["p", "Mug", "3"]])) == "products"
    assert (
        guess_table(df(["客户ID", "订单日期", "订单金额"], [["a", "2024-01-01", "3"]])) == "orders"
    )


# --------------------------------------------------------------------------- number rules
def test_numbers_currency_parentheses_thousands_and_discount() -> None:
    content = (
        "customer_id,order_date,qty,price,discount,note\n"
        'c1,2024-01-05,2,"$1,200.00",20%,x\n'
        "c1,2024-01-06,1,(12.50),0,y\n"
        "c2,2024-01-07,3,USD 4.00,10%,z\n"
        "c3,2024-01-08,1,abc,,w\n"
    )
    res = run(content, "o.csv", "orders")
    assert res.data["unit_price"].tolist() == [1200.0, -12.5, 4.0]
    assert res.data["discount"].tolist() == [0.2, 0.0, 0.1]
    assert res.data["amount"].tolist() == pytest.approx([1920.0, -12.5, 10.8])
    assert res.rejected["_reason"].iloc[0] == (
        "column 'price' (unit_price) row 5: 'abc' is not a number (expected e.g. 12.50)"
    )
    notes = " | ".join(res.report.notes)
    assert "currency symbols removed from 2 values in 'price'" in notes
    assert "in parentheses in 'price' read as negative" in notes
    assert "written as percentages" in notes
    assert "amount derived from quantity × unit_price × (1 − discount) for 3 rows" in notes


def test_discount_whole_percent_numbers_and_out_of_range() -> None:
    content = "customer_id,order_date,amount,discount\nc1,2024-01-05,10,15\nc2,2024-01-05,10,30\nc3,2024-01-05,10,150%\n"
    res = run(content, "o.csv", "orders")
    assert res.data["discount"].tolist() == [0.15, 0.30]
    assert "discount '150%' is not between 0 and 1" in res.rejected["_reason"].iloc[0]


def test_amount_required_or_derivable() -> None:
    with pytest.raises(IngestError) as ei:
        run("customer_id,order_date,qty\nc1,2024-01-05,1\n", "no_amount.csv", "orders")
    msg = str(ei.value)
    assert "orders file 'no_amount.csv' needs an amount column" in msg
    assert "found: customer_id, order_date, qty" in msg


def test_negative_amounts_and_zero_price_reported() -> None:
    content = "customer_id,order_date,quantity,unit_price\nc1,2024-01-05,-2,3\nc1,2024-01-05,1,0\nc1,2024-01-05,1,0\n"
    res = run(content, "o.csv", "orders")
    assert res.data["amount"].tolist() == [-6.0, 0.0, 0.0]
    assert any(
        "1 line with negative quantity or amount kept as returns" in n for n in res.report.notes
    )
    assert any("2 lines with unit price 0" in w for w in res.report.warnings)
    assert any("identical to an earlier line" in w for w in res.report.warnings)


# --------------------------------------------------------------------------- errors
def test_missing_required_column_message_names_file_and_found_columns() -> None:
    content = "a,b,order_date,amount\n1,2,2024-01-01,3\n"
    with pytest.raises(IngestError) as ei:
        run(content, "x.csv", "orders")
    assert str(ei.value) == (
        "orders file 'x.csv' needs a customer id column; found: a, b, order_date, amount. "
        "Map one in the column mapping."
    )
    with pytest.raises(IngestError, match="needs a customer id column and an order date column"):
        run("a,amount\n1,2\n", "y.csv", "orders")


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"'empty.csv' is empty \(0 bytes\)"):
        read_raw(write(tmp_path, "empty.csv", b""))
    with pytest.raises(IngestError, match="'head.csv' has a header but no data rows"):
        read_raw(write(tmp_path, "head.csv", "customer_id,order_date,amount\n"))
    with pytest.raises(IngestError, match="has a header but no data rows"):
        read_raw(xlsx_bytes([["customer_id", "amount"]]), "head.xlsx")
    rng = np.random.default_rng(0)
    garbage = bytes(rng.integers(0, 256, 4096, dtype=np.uint8))
    with pytest.raises(IngestError, match="does not look like a text table"):
        read_raw(garbage, "garbage.csv")
    with pytest.raises(IngestError, match="unsupported file type '.docx'"):
        read_raw(b"hello", "report.docx")
    with pytest.raises(IngestError, match="'bad.parquet' is not a valid Parquet file"):
        read_raw(b"PAR1 definitely not parquet", "bad.parquet")
    with pytest.raises(IngestError, match="does not exist"):
        read_raw(tmp_path / "nope.csv")
    with pytest.raises(IngestError, match="is not valid JSON"):
        read_raw(b'[{"a": 1},', "broken.json")
    with pytest.raises(IngestError, match="only blank lines"):
        read_raw(b"\n\n  \n", "blank.csv")


def test_limits(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="the limit is"):
        read_raw(ORDERS_CSV.encode(), "o.csv", max_bytes=10)
    with pytest.raises(IngestError, match="at most 2 are supported"):
        read_raw(ORDERS_CSV.encode(), "o.csv", limits=IngestLimits(max_columns=2))
    raw = read_raw(ORDERS_CSV.encode(), "o.csv")
    with pytest.raises(IngestError, match="has 3 rows; at most 2"):
        ingest(raw, limits=IngestLimits(max_rows=2))
    long = "x" * 50
    content = f'customer_id,rating,review_text\nc1,5,"{long}"\nc2,4,short\n'
    res = check(
        ingest(
            read_raw(content.encode(), "r.csv"), "reviews", limits=IngestLimits(max_text_chars=10)
        )
    )
    assert res.data["review_text"].tolist() == ["x" * 10, "short"]
    assert any(
        "1 value in 'review_text' longer than 10 characters truncated" in n
        for n in res.report.notes
    )


def test_mapping_errors_and_overrides() -> None:
    raw = read_raw(ORDERS_CSV.encode(), "o.csv")
    with pytest.raises(IngestError, match="has no such column"):
        ingest(raw, "orders", {"nope": "customer_id"})
    with pytest.raises(IngestError, match="mapped from both"):
        ingest(raw, "orders", {"customer_id": "customer_id", "order_date": "customer_id"})
    with pytest.raises(IngestError, match="unknown table"):
        ingest(raw, "invoices")
    # Unmentioned columns are kept as extras; a non-canonical target renames the extra.
    res = check(ingest(raw, "orders", {"customer_id": "customer_id", "order_date": "order_date",
                                       "amount": "amount"}))  # fmt: skip
    assert res.report.rows_kept == 3
    res = check(ingest(read_raw(b"id,when,value,colour\na,2024-01-01,1,red\n", "o.csv"), "orders",
                       {"id": "customer_id", "when": "order_date", "value": "amount", "colour": "Favourite Colour"}))  # fmt: skip
    assert res.data["favourite_colour"].tolist() == ["red"]
    assert res.report.mapping["colour"] == "favourite_colour"


# --------------------------------------------------------------------------- CSV structure
def test_ragged_rows_rejected_and_quoted_newlines_parse() -> None:
    content = (
        "customer_id,order_date,amount,comment\n"  # row 1
        'c1,2024-01-05,1,"multi\nline, with comma"\n'  # row 2-3
        "c2,2024-01-06,2,ok\n"  # row 4
        "c3,2024-01-07,3,too,many,fields\n"  # row 5
        "\n"  # row 6 (blank)
        "c4,2024-01-08\n"  # row 7
        "c5,2024-01-09,5,fine\n"  # row 8
    )
    res = run(content, "r.csv", "orders")
    assert res.report.rows_read == 5 and res.report.rows_kept == 3
    assert res.data["comment"].iloc[0] == "multi\nline, with comma"
    assert res.data["customer_id"].tolist() == ["c1", "c2", "c5"]
    rej = res.rejected
    assert rej["_row"].tolist() == [5, 7]
    assert rej["_reason"].tolist() == [
        "row 5 has 6 fields, header has 4",
        "row 7 has 2 fields, header has 4",
    ]
    assert rej["customer_id"].tolist() == ["c3", "c4"]
    assert rej["_raw_line"].iloc[0] == "c3,2024-01-07,3,too,many,fields"


def test_row_numbers_with_blank_lines_point_at_the_right_line() -> None:
    content = "customer_id,order_date,amount\n\nc1,2024-01-05,1\n\nc2,2024-13-01,2\n"
    res = run(content, "b.csv", "orders")
    assert res.rejected["_row"].tolist() == [5]
    assert "row 5: '2024-13-01' is not a valid date" in res.rejected["_reason"].iloc[0]


def test_trailing_delimiter_and_crlf() -> None:
    content = "customer_id,order_date,amount\r\nc1,2024-01-05,1,\r\nc2,2024-01-06,2,\r\n"
    res = run(content, "t.csv", "orders")
    assert res.report.rows_kept == 2 and res.report.rows_rejected == 0
    assert any("extra delimiter" in n for n in res.report.notes)


def test_duplicate_and_empty_headers() -> None:
    content = "customer_id,order_date,amount,x,x,\nc1,2024-01-05,1,a,b,c\n"
    res = run(content, "h.csv", "orders")
    assert list(res.data.columns[-3:]) == ["x", "x_2", "column_6"]


def test_rejected_frame_layout_and_report_round_trip() -> None:
    content = "customer_id,order_date,amount\n,2024-01-05,1\nc2,2024-01-06,zero\nc3,bad,3\n"
    res = run(content, "o.csv", "orders")
    rej = res.rejected
    assert list(rej.columns) == [
        "customer_id",
        "order_date",
        "amount",
        "_row",
        "_column",
        "_reason",
    ]
    assert rej["_row"].tolist() == [2, 3, 4]
    assert rej["amount"].tolist() == ["1", "zero", "3"]  # raw text, as in the file
    d = res.report.to_dict()
    again = TableReport.from_dict(json.loads(json.dumps(d)))
    assert again == res.report
    assert again.rejections[1].reason.startswith("column 'amount' row 3: 'zero' is not a number")
    # Reports written by other code (demo datasets) load too.
    TableReport.from_dict({"file": "demo", "table": "orders", "rows_read": 1, "rows_kept": 1,
                           "rows_rejected": 0, "notes": [], "warnings": [], "rejections": []})  # fmt: skip


def test_rejections_capped_in_report_but_counts_exact() -> None:
    rows = "".join(f",2024-01-05,{i}\n" for i in range(1500))
    res = ingest(read_raw(("customer_id,order_date,amount\n" + rows).encode(), "o.csv"), "orders")
    assert res.report.rows_rejected == 1500 and len(res.rejected) == 1500
    assert len(res.report.rejections) == 1000
    assert "1,500 rows rejected: missing customer id" in res.report.warnings


def test_raw_table_defaults() -> None:
    raw = RawTable(pd.DataFrame({"a": ["1"]}, dtype="str"), "x.csv", "csv")
    assert raw.row_numbers.tolist() == [2]


# --------------------------------------------------------------------------- property
_ID = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,8}", fullmatch=True).filter(
    lambda s: s.lower() not in {"null", "none", "nan", "nil", "nat"}
)
_ROW = st.tuples(
    _ID,
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.decimals(min_value=-100_000, max_value=100_000, places=2, allow_nan=False).map(float),
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters='\n,;"\t'
        ),
        max_size=12,
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_ROW, min_size=1, max_size=30), sep=st.sampled_from([",", ";", "\t"]))
def test_property_orders_round_trip(rows: list[tuple], sep: str) -> None:
    df = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "memo"])
    buf = io.StringIO()
    df.to_csv(buf, index=False, sep=sep, date_format="%Y-%m-%d %H:%M:%S")
    res = check(ingest(read_raw(buf.getvalue().encode("utf-8"), "gen.csv"), "orders"))
    assert res.report.rows_kept == len(df)
    assert res.data["customer_id"].tolist() == df["customer_id"].tolist()
    assert res.data["order_date"].tolist() == [pd.Timestamp(d) for d in df["order_date"]]
    assert res.data["amount"].tolist() == df["amount"].tolist()


# --------------------------------------------------------------------------- more edge cases
def test_mixed_date_formats_second_unambiguous_format_read() -> None:
    content = "customer_id,order_date,amount\nc1,2024-01-05,1\nc2,2024-01-06,1\nc3,13/01/2024,1\n"
    res = run(content, "m.csv", "orders")
    assert res.data["order_date"].iloc[2] == pd.Timestamp("2024-01-13")
    assert any("mixes date formats" in w and "DD/MM/YYYY" in w for w in res.report.warnings)
    # An ambiguous second format is not guessed: the row is rejected with a reason.
    content = "customer_id,order_date,amount\nc1,2024-01-05,1\nc2,05/01/2024,1\n"
    res = run(content, "m.csv", "orders")
    assert res.rejected["_row"].tolist() == [3]


def test_slow_csv_path_matches_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import core.ingest as ing

    content = (
        "customer_id,order_date,amount,comment\n"
        'c1,2024-01-05,1,"multi\nline"\n'
        "\n"
        "c2,2024-01-06,2,x,extra\n"
        "c3,2024-01-07,3,y\n"
    )
    fast = run(content, "s.csv", "orders")
    monkeypatch.setattr(ing, "_parse_fast", lambda *a, **k: (None, None, None))
    slow = run(content, "s.csv", "orders")
    pd.testing.assert_frame_equal(fast.data, slow.data)
    pd.testing.assert_frame_equal(fast.rejected, slow.rejected)
    assert slow.rejected["_row"].tolist() == [5]
    assert slow.report.to_dict() == fast.report.to_dict()


def test_gzip_and_misnamed_files() -> None:
    import gzip

    res = run(gzip.compress(ORDERS_CSV.encode()), "orders.csv.gz")
    assert res.report.rows_kept == 3
    assert any("gzip" in n for n in res.report.notes)
    data = xlsx_bytes([["customer_id", "order_date", "amount"], ["a", "2024-01-01", 1]])
    res = run(data, "actually_excel.csv")
    assert res.report.format == "excel" and res.report.rows_kept == 1
    assert any(
        "is named like a .csv file but is an Excel workbook" in w for w in res.report.warnings
    )


def test_parquet_timezone_aware_and_int_ids(tmp_path: Path) -> None:
    ts = pd.Series(pd.to_datetime(["2024-01-05 10:00", "2024-01-06 11:00"])).dt.tz_localize("UTC")
    df = pd.DataFrame({"customer_id": [1, 2], "order_date": ts, "amount": [1.5, 2.5]})
    path = tmp_path / "o.parquet"
    df.to_parquet(path)
    res = check(ingest_file(path))
    assert res.data["customer_id"].tolist() == ["1", "2"]
    assert res.data["order_date"].tolist() == [
        pd.Timestamp("2024-01-05 10:00"),
        pd.Timestamp("2024-01-06 11:00"),
    ]
    assert any("UTC offset Z removed" in n for n in res.report.notes)


def test_json_array_with_non_object_records() -> None:
    content = json.dumps(
        [{"customer_id": "a", "label": "x"}, 5, {"customer_id": "b", "label": "y"}]
    )
    res = run(content, "c.json", "customers")
    assert res.report.rows_read == 3 and res.report.rows_kept == 2
    assert res.rejected["_row"].tolist() == [2]
    assert "record 2 is not a JSON object" in res.rejected["_reason"].iloc[0]
