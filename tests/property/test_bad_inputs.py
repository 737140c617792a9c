"""A corpus of bad inputs: every file is generated here, ingested through the real entry point
(`core.ingest.ingest_file`, i.e. `read_raw` + `ingest` as the Data page and CLI run them) and
the message a user sees is asserted.

Each case ends in one of two ways:

* accepted: a usable table plus a report in which every row is accounted for
  (rows read = kept + rejected) and every rejection names its row (and column, where one is
  at fault) — see `accept`;
* refused: an `IngestError` whose message names the file and says what was expected — see
  `refuse`. Any other exception type is a bug (a traceback for the user).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.ingest import IngestError, IngestLimits, IngestResult, TableReport, ingest_file

ORDERS_HEAD = "customer_id,order_date,amount\n"


# --------------------------------------------------------------------------- helpers
def accept(path: Path, table: str | None = None, **kw) -> IngestResult:
    """Ingest a file that must be usable; check that no row goes unaccounted for."""
    res = ingest_file(path, table, **kw)
    rep = res.report
    assert rep.file == path.name
    assert rep.rows_read == rep.rows_kept + rep.rows_rejected
    assert rep.rows_kept == len(res.data)
    assert rep.rows_rejected == len(res.rejected)
    assert len(rep.rejections) == min(rep.rows_rejected, IngestLimits().max_report_rejections)
    for r in rep.rejections:
        assert re.search(rf"\b{r.row}\b", r.reason), r  # the reason names the row
        if r.column is not None:
            assert r.column in res.rejected.columns  # ... and a column of the file
    if rep.rows_rejected:
        assert any("rejected" in w for w in rep.warnings), rep.warnings
    assert TableReport.from_dict(json.loads(json.dumps(rep.to_dict()))) == rep
    return res


def refuse(path: Path, *fragments: str, table: str | None = None, **kw) -> str:
    """Ingest a file that must be refused with an `IngestError` naming it (any other
    exception escapes and fails the case)."""
    with pytest.raises(IngestError) as info:
        ingest_file(path, table, **kw)
    msg = str(info.value)
    assert path.name in msg, msg
    for f in fragments:
        assert f in msg, (f, msg)
    return msg


def text_file(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp / name
    p.write_bytes(text.encode(encoding))
    return p


def bytes_file(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def xlsx_file(tmp: Path, name: str, sheets: dict[str, list[list[object]]], merge=()) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        for rng in merge:
            ws.merge_cells(rng)
    p = tmp / name
    wb.save(p)
    return p


def rewrite_zip(src: bytes, edit: Callable[[str, bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, edit(info.filename, zin.read(info.filename)), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def reasons(res: IngestResult) -> list[str]:
    return res.rejected["_reason"].tolist()


def joined(items: list[str]) -> str:
    return " | ".join(items)


CASES: dict[str, Callable[[Path], None]] = {}


def case(fn: Callable[[Path], None]) -> Callable[[Path], None]:
    CASES[fn.__name__.removeprefix("case_")] = fn
    return fn


# ============================================================================ encodings
@case
def case_utf8_bom(tmp: Path) -> None:
    p = text_file(tmp, "bom.csv", "customer_id,region\nc1,Zürich\nc2,Genève\n", "utf-8-sig")
    res = accept(p, "customers")
    assert res.report.encoding == "utf-8-sig"
    assert res.data.columns[0] == "customer_id"  # no '\ufeffcustomer_id'
    assert res.data["region"].tolist() == ["Zürich", "Genève"]
    assert "UTF-8 byte-order mark removed" in res.report.notes


@case
def case_utf8_bom_excel_export_semicolon_decimal_comma(tmp: Path) -> None:
    text = "Kunde;Datum;Betrag\nK1;05.01.2024;1.234,56\nK2;06.01.2024;12,5\n"
    p = text_file(tmp, "export.csv", text, "utf-8-sig")
    res = accept(
        p, "orders", mapping={"Kunde": "customer_id", "Datum": "order_date", "Betrag": "amount"}
    )
    assert res.data["amount"].tolist() == [1234.56, 12.5]
    assert res.report.delimiter == ";" and res.report.decimal == ","


@case
def case_gb18030_chinese_columns_and_values(tmp: Path) -> None:
    text = (
        "客户ID,下单时间,实付金额,类目\nU001,2024-01-05,128.50,女装\nU002,2024-01-06,56,家居用品\n"
    )
    p = text_file(tmp, "订单.csv", text, "gb18030")
    res = accept(p)
    assert res.table == "orders" and res.report.encoding == "gb18030"
    assert res.data["category"].tolist() == ["女装", "家居用品"]
    assert res.data["amount"].tolist() == [128.5, 56.0]


@case
def case_gbk_customers_chinese_names(tmp: Path) -> None:
    text = "会员ID,姓名,城市\nM1,张三,上海\nM2,李四,北京\nM3,王小二,广州\n"
    res = accept(text_file(tmp, "会员.csv", text, "gbk"), "customers")
    assert res.report.encoding == "gb18030"
    assert res.data["customer_id"].tolist() == ["M1", "M2", "M3"]
    assert res.data["region"].tolist() == ["上海", "北京", "广州"]
    assert res.data["姓名"].tolist() == ["张三", "李四", "王小二"]


@case
def case_utf8_chinese_columns_and_values(tmp: Path) -> None:
    text = "客户编号,注册日期,城市,标签\nA1,2023-05-01,深圳,高价值\nA2,2023-06-11,成都,流失\n"
    res = accept(text_file(tmp, "客户.csv", text))
    assert res.table == "customers"
    assert res.data["label"].tolist() == ["高价值", "流失"]
    assert res.data["signup_date"].tolist() == [
        pd.Timestamp("2023-05-01"),
        pd.Timestamp("2023-06-11"),
    ]


@case
def case_latin1_accents(tmp: Path) -> None:
    text = "customer_id,region,label\nc1,Créteil,fidèle\nc2,Besançon,nouveau\n"
    res = accept(text_file(tmp, "clients.csv", text, "latin-1"), "customers")
    assert res.report.encoding in ("cp1252", "latin-1")
    assert res.data["region"].tolist() == ["Créteil", "Besançon"]


@case
def case_cp1252_euro_sign_amounts(tmp: Path) -> None:
    text = ORDERS_HEAD + 'c1,2024-01-05,"€12,50"\nc2,2024-01-06,"€3,00"\n'
    res = accept(text_file(tmp, "euro.csv", text, "cp1252"), "orders")
    assert res.report.encoding == "cp1252"
    assert res.data["amount"].tolist() == [12.5, 3.0]
    assert any("currency symbols removed from 2 values in 'amount'" in n for n in res.report.notes)


@case
def case_utf16_le_bom_tab(tmp: Path) -> None:
    text = "customer_id\torder_date\tamount\nc1\t2024-01-05\t1.5\nc2\t2024-01-06\t2\n"
    res = accept(text_file(tmp, "export.txt", text, "utf-16"), "orders")
    assert res.report.encoding == "utf-16" and res.report.delimiter == "\t"
    assert res.data["amount"].tolist() == [1.5, 2.0]


@case
def case_utf16_be_bom(tmp: Path) -> None:
    p = bytes_file(
        tmp, "be.csv", b"\xfe\xff" + (ORDERS_HEAD + "c1,2024-01-05,7\n").encode("utf-16-be")
    )
    res = accept(p, "orders")
    assert res.data["amount"].tolist() == [7.0]


@case
def case_utf16_without_bom(tmp: Path) -> None:
    p = bytes_file(
        tmp, "nobom.csv", (ORDERS_HEAD + "c1,2024-01-05,7\nc2,2024-01-06,8\n").encode("utf-16-le")
    )
    res = accept(p, "orders")
    assert res.report.encoding == "utf-16-le"
    assert res.data["customer_id"].tolist() == ["c1", "c2"]


@case
def case_mixed_utf8_and_latin1_lines(tmp: Path) -> None:
    # Two exports pasted together: UTF-8 lines and one Latin-1 line. No mojibake ('Ã«') and a
    # warning naming the line that was not UTF-8.
    data = (
        "customer_id,name\nc1,Zoë\n".encode()
        + "c2,José\n".encode("latin-1")
        + "c3,Ångström\n".encode()
    )
    res = accept(bytes_file(tmp, "mixed.csv", data), "customers")
    assert res.data["name"].tolist() == ["Zoë", "José", "Ångström"]
    w = joined(res.report.warnings)
    assert "mixes encodings" in w and "line 3" in w


@case
def case_utf8_bom_then_latin1_line(tmp: Path) -> None:
    data = b"\xef\xbb\xbf" + "customer_id,name\nc1,Zoë\n".encode() + "c2,José\n".encode("latin-1")
    res = accept(bytes_file(tmp, "bom_mixed.csv", data), "customers")
    assert res.data["name"].tolist() == ["Zoë", "José"]
    assert "line 3" in joined(res.report.warnings)


@case
def case_mixed_utf8_and_gbk_lines(tmp: Path) -> None:
    data = "customer_id,城市\nc1,上海\n".encode() + "c2,北京\n".encode("gbk") + "c3,深圳\n".encode()
    res = accept(bytes_file(tmp, "cn_mixed.csv", data), "customers")
    assert res.data["region"].tolist() == ["上海", "北京", "深圳"]
    assert "line 3" in joined(res.report.warnings)


# =========================================================================== delimiters
@case
def case_semicolon_delimiter(tmp: Path) -> None:
    res = accept(text_file(tmp, "semi.csv", ORDERS_HEAD.replace(",", ";") + "c1;2024-01-05;3\n"))
    assert res.report.delimiter == ";" and res.data["amount"].tolist() == [3.0]


@case
def case_tab_delimited_named_csv(tmp: Path) -> None:
    res = accept(text_file(tmp, "tabs.csv", "customer_id\tregion\nc1\tNorth, East\nc2\tSouth\n"))
    assert res.report.delimiter == "\t"
    assert res.data["region"].tolist() == ["North, East", "South"]


@case
def case_pipe_delimited(tmp: Path) -> None:
    res = accept(text_file(tmp, "pipe.txt", ORDERS_HEAD.replace(",", "|") + "c1|2024-01-05|3\n"))
    assert res.report.delimiter == "|"


@case
def case_single_column_customers(tmp: Path) -> None:
    res = accept(text_file(tmp, "ids.csv", "customer_id\nc1\nc2\nc3\n"), "customers")
    assert res.data["customer_id"].tolist() == ["c1", "c2", "c3"]


@case
def case_old_mac_cr_line_endings(tmp: Path) -> None:
    text = (ORDERS_HEAD + "c1,2024-01-05,1\nc2,2024-01-06,2\n").replace("\n", "\r")
    res = accept(text_file(tmp, "mac.csv", text), "orders")
    assert res.data["customer_id"].tolist() == ["c1", "c2"]


@case
def case_crlf_and_trailing_delimiter(tmp: Path) -> None:
    text = ORDERS_HEAD.replace("\n", "\r\n") + "c1,2024-01-05,1,\r\nc2,2024-01-06,2,\r\n"
    res = accept(text_file(tmp, "crlf.csv", text), "orders")
    assert res.report.rows_kept == 2
    assert any("extra delimiter" in n for n in res.report.notes)


# ============================================================================== quoting
@case
def case_quoted_newlines_keep_row_numbers(tmp: Path) -> None:
    text = (
        "customer_id,review_text\n"  # line 1
        'c1,"line one\nline two, with comma"\n'  # lines 2-3
        'c2,"He said ""great"""\n'  # line 4
        ",orphan review\n"  # line 5: no customer
    )
    res = accept(text_file(tmp, "reviews.csv", text), "reviews")
    assert res.data["review_text"].tolist() == ["line one\nline two, with comma", 'He said "great"']
    assert reasons(res) == ["row 5: missing customer id (column 'customer_id' is empty)"]


@case
def case_ragged_rows_rejected_with_line(tmp: Path) -> None:
    text = (
        ORDERS_HEAD + "c1,2024-01-05,1\nc2,2024-01-06,2,surplus\nc3,2024-01-07\nc4,2024-01-08,4\n"
    )
    res = accept(text_file(tmp, "ragged.csv", text), "orders")
    assert res.data["customer_id"].tolist() == ["c1", "c4"]
    assert reasons(res) == ["row 3 has 4 fields, header has 3", "row 4 has 2 fields, header has 3"]


@case
def case_unclosed_quote_refused(tmp: Path) -> None:
    # The quote opened on line 3 swallows the rest of the file: refuse rather than read
    # lines 3-4 as one value.
    text = ORDERS_HEAD + 'c1,2024-01-05,1\nc2,2024-01-06,"2\nc3,2024-01-07,3\n'
    refuse(text_file(tmp, "unclosed.csv", text), "line 3", "never closed", table="orders")


@case
def case_blank_lines_between_rows(tmp: Path) -> None:
    text = ORDERS_HEAD + "\nc1,2024-01-05,1\n\n\nc2,2024-13-01,2\n"
    res = accept(text_file(tmp, "blank.csv", text), "orders")
    assert res.rejected["_row"].tolist() == [6]
    assert "row 6: '2024-13-01' is not a valid date" in reasons(res)[0]


@case
def case_duplicate_and_empty_header_names(tmp: Path) -> None:
    res = accept(text_file(tmp, "hdr.csv", "customer_id,x,x,\nc1,a,b,c\n"), "customers")
    assert list(res.data.columns) == ["customer_id", "x", "x_2", "column_4"]
    assert any("made unique" in n for n in res.report.notes)


# ============================================================================== numbers
@case
def case_decimal_comma_with_dot_thousands(tmp: Path) -> None:
    text = "customer_id;order_date;amount\nc1;2024-01-05;1.234,56\nc2;2024-01-06;0,99\n"
    res = accept(text_file(tmp, "de.csv", text), "orders")
    assert res.data["amount"].tolist() == [1234.56, 0.99]
    assert any("decimal comma detected in 'amount'" in n for n in res.report.notes)


@case
def case_comma_thousands_quoted(tmp: Path) -> None:
    text = ORDERS_HEAD + 'c1,2024-01-05,"1,234.56"\nc2,2024-01-06,"12,000.00"\n'
    res = accept(text_file(tmp, "us.csv", text), "orders")
    assert res.data["amount"].tolist() == [1234.56, 12000.0]
    assert any("thousands separator ','" in n for n in res.report.notes)


@case
def case_space_and_nbsp_thousands(tmp: Path) -> None:
    text = "customer_id;order_date;amount\nc1;2024-01-05;1 234,50\nc2;2024-01-06;2\u00a0000,00\n"
    res = accept(text_file(tmp, "fr.csv", text), "orders")
    assert res.data["amount"].tolist() == [1234.5, 2000.0]


@case
def case_swiss_apostrophe_thousands(tmp: Path) -> None:
    res = accept(text_file(tmp, "ch.csv", ORDERS_HEAD + "c1,2024-01-05,1'234.50\n"), "orders")
    assert res.data["amount"].tolist() == [1234.5]


@case
def case_yuan_symbols(tmp: Path) -> None:
    text = ORDERS_HEAD + 'c1,2024-01-05,"¥1,200"\nc2,2024-01-06,1200元\nc3,2024-01-07,￥3.5\n'
    res = accept(text_file(tmp, "cny.csv", text), "orders")
    assert res.data["amount"].tolist() == [1200.0, 1200.0, 3.5]
    assert any("currency symbols removed from 3 values" in n for n in res.report.notes)


@case
def case_mixed_currencies_warned(tmp: Path) -> None:
    text = ORDERS_HEAD + "c1,2024-01-05,$10\nc2,2024-01-06,€10\nc3,2024-01-07,$5\n"
    res = accept(text_file(tmp, "cur.csv", text), "orders")
    assert res.data["amount"].tolist() == [10.0, 10.0, 5.0]
    w = joined(res.report.warnings)
    assert "'amount' mixes currencies" in w and "$" in w and "€" in w


@case
def case_accounting_parentheses_negative(tmp: Path) -> None:
    res = accept(text_file(tmp, "acc.csv", ORDERS_HEAD + "c1,2024-01-05,(12.50)\n"), "orders")
    assert res.data["amount"].tolist() == [-12.5]
    assert any("in parentheses in 'amount' read as negative" in n for n in res.report.notes)


@case
def case_text_in_amount_rejected_with_row_column_value(tmp: Path) -> None:
    text = ORDERS_HEAD + "c1,2024-01-05,12\nc2,2024-01-06,twelve\nc3,2024-01-07,inf\n"
    res = accept(text_file(tmp, "txt.csv", text), "orders")
    assert res.data["customer_id"].tolist() == ["c1"]
    assert reasons(res) == [
        "column 'amount' row 3: 'twelve' is not a number (expected e.g. 12.50)",
        "column 'amount' row 4: 'inf' is not a number (expected e.g. 12.50)",
    ]
    assert res.report.rejections[0].column == "amount"
    assert res.report.rejections[0].value == "twelve"


@case
def case_overflowing_number_rejected(tmp: Path) -> None:
    res = accept(text_file(tmp, "big.csv", ORDERS_HEAD + "c1,2024-01-05,1e400\nc2,2024-01-05,1\n"))
    assert reasons(res) == ["column 'amount' row 2: '1e400' is not a number (expected e.g. 12.50)"]


@case
def case_null_tokens_are_missing_not_errors(tmp: Path) -> None:
    text = "customer_id,order_date,quantity,unit_price,amount\n"
    text += "c1,2024-01-05,2,3,NULL\nc2,2024-01-06,1,4,N/A\nc3,2024-01-07,1,5,-\n"
    res = accept(text_file(tmp, "nulls.csv", text), "orders")
    assert res.data["amount"].tolist() == [6.0, 4.0, 5.0]  # derived from quantity × price
    assert any("empty amount derived" in n for n in res.report.notes)


@case
def case_percent_amount_rejected(tmp: Path) -> None:
    res = accept(text_file(tmp, "pct.csv", ORDERS_HEAD + "c1,2024-01-05,12%\nc2,2024-01-05,3\n"))
    assert reasons(res) == ["column 'amount' row 2: '12%' is not a number (expected e.g. 12.50)"]


@case
def case_discount_out_of_range_rejected(tmp: Path) -> None:
    text = "customer_id,order_date,amount,discount\nc1,2024-01-05,10,20%\nc2,2024-01-06,10,150%\n"
    res = accept(text_file(tmp, "disc.csv", text), "orders")
    assert res.data["discount"].tolist() == [0.2]
    assert "row 3: discount '150%' is not between 0 and 1" in reasons(res)[0]


# ====================================================== returns, zero and negative values
@case
def case_returns_kept_with_negative_quantity(tmp: Path) -> None:
    text = "order_id,customer_id,order_date,quantity,unit_price\n"
    text += "o1,c1,2024-01-05,3,2.5\no2,c1,2024-01-09,-1,2.5\n"
    res = accept(text_file(tmp, "ret.csv", text), "orders")
    assert res.data["quantity"].tolist() == [3.0, -1.0]
    assert res.data["amount"].tolist() == [7.5, -2.5]
    assert "1 line with negative quantity or amount kept as returns" in res.report.notes


@case
def case_negative_amount_kept_as_return(tmp: Path) -> None:
    res = accept(
        text_file(tmp, "neg.csv", ORDERS_HEAD + "c1,2024-01-05,-19.99\nc1,2024-01-01,19.99\n")
    )
    assert res.data["amount"].tolist() == [-19.99, 19.99]
    assert any("kept as returns" in n for n in res.report.notes)


@case
def case_cancellation_invoice_ids(tmp: Path) -> None:
    text = "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
    text += "536365,17850,2010-12-01,6,2.55\nC536379,17850,2010-12-02,-6,2.55\n"
    res = accept(text_file(tmp, "uci.csv", text), "orders")
    assert res.report.rows_kept == 2
    assert any("order_id starting with 'C'" in n for n in res.report.notes)


@case
def case_zero_quantity_and_zero_price_kept_and_warned(tmp: Path) -> None:
    text = "customer_id,order_date,quantity,unit_price,amount\n"
    text += "c1,2024-01-05,0,3,0\nc2,2024-01-06,1,0,0\nc3,2024-01-07,1,2,2\n"
    res = accept(text_file(tmp, "zero.csv", text), "orders")
    assert res.report.rows_kept == 3
    w = joined(res.report.warnings)
    assert "1 line with quantity 0 (kept)" in w and "1 line with unit price 0 (kept)" in w


# ================================================================================ dates
@case
def case_impossible_dates_rejected(tmp: Path) -> None:
    text = ORDERS_HEAD + "c1,2024-02-28,1\nc2,2024-02-30,1\nc3,2023-02-29,1\nc4,2024-13-01,1\n"
    text += "".join(f"c{i},2024-03-0{i},1\n" for i in range(5, 9))
    res = accept(text_file(tmp, "imp.csv", text), "orders")
    assert res.data["customer_id"].tolist() == ["c1", "c5", "c6", "c7", "c8"]
    assert reasons(res)[0] == (
        "column 'order_date' row 3: '2024-02-30' is not a valid date "
        "(expected YYYY-MM-DD, e.g. 2024-12-25)"
    )
    assert res.rejected["_row"].tolist() == [3, 4, 5]


@case
def case_mostly_invalid_dates_refused(tmp: Path) -> None:
    text = ORDERS_HEAD + "c1,2024-02-28,1\nc2,2024-02-30,1\nc3,2023-02-29,1\nc4,2024-13-01,1\n"
    refuse(text_file(tmp, "mostly_bad.csv", text), "column 'order_date'",
           "mostly does not hold dates", "'2024-02-30'", table="orders")  # fmt: skip


@case
def case_mixed_date_formats(tmp: Path) -> None:
    text = ORDERS_HEAD + "c1,2024-01-05,1\nc2,2024-01-06,1\nc3,13/01/2024,1\nc4,yesterday,1\n"
    res = accept(text_file(tmp, "mixd.csv", text), "orders")
    assert res.data["order_date"].iloc[2] == pd.Timestamp("2024-01-13")
    assert any("mixes date formats" in w for w in res.report.warnings)
    assert "row 5: 'yesterday' is not a valid date" in reasons(res)[0]


@case
def case_ambiguous_day_month_warned(tmp: Path) -> None:
    res = accept(text_file(tmp, "amb.csv", ORDERS_HEAD + "c1,01/02/2024,1\nc2,03/04/2024,2\n"))
    assert any("ambiguous" in w and "DD/MM/YYYY" in w for w in res.report.warnings)


@case
def case_future_dates_kept_and_warned(tmp: Path) -> None:
    future = (pd.Timestamp.now() + pd.Timedelta(days=400)).strftime("%Y-%m-%d")
    res = accept(text_file(tmp, "fut.csv", ORDERS_HEAD + f"c1,2024-01-05,1\nc2,{future},1\n"))
    assert res.report.rows_kept == 2
    assert any(
        "1 value in 'order_date' are in the future" in w and future in w
        for w in res.report.warnings
    )


@case
def case_dates_before_1900_warned(tmp: Path) -> None:
    res = accept(text_file(tmp, "old.csv", ORDERS_HEAD + "c1,1899-12-31,1\nc2,2024-01-01,1\n"))
    assert any("before 1900" in w for w in res.report.warnings)


@case
def case_required_date_column_of_words_refused(tmp: Path) -> None:
    p = text_file(tmp, "words.csv", ORDERS_HEAD + "c1,soon,1\nc2,later,2\n")
    refuse(
        p, "column 'order_date'", "does not hold dates", "expected e.g. 2024-12-25", table="orders"
    )


@case
def case_missing_dates_rejected(tmp: Path) -> None:
    res = accept(text_file(tmp, "nodate.csv", ORDERS_HEAD + "c1,2024-01-05,1\nc2,,1\n"))
    assert reasons(res) == ["row 3: missing order date (column 'order_date' is empty)"]


@case
def case_chinese_dates(tmp: Path) -> None:
    text = "客户,日期,金额\nu1,2024年1月5日,10\nu2,2024年2月30日,10\n"
    res = accept(text_file(tmp, "cn_dates.csv", text), "orders",
                 mapping={"客户": "customer_id", "日期": "order_date", "金额": "amount"})  # fmt: skip
    assert res.data["order_date"].tolist() == [pd.Timestamp("2024-01-05")]
    assert (
        "column '日期' (order_date) row 3: '2024年2月30日' is not a valid date" in reasons(res)[0]
    )


# ================================================================================= keys
@case
def case_duplicate_customer_ids(tmp: Path) -> None:
    text = "customer_id,region\nc1,North\nc2,South\n c1 ,East\n"
    res = accept(text_file(tmp, "dup.csv", text), "customers")
    assert res.data["customer_id"].tolist() == ["c1", "c2"]
    assert reasons(res) == ["row 4: duplicate customer_id 'c1' (first seen on row 2)"]


@case
def case_duplicate_order_lines_kept_and_warned(tmp: Path) -> None:
    text = "order_id,customer_id,order_date,amount\no1,c1,2024-01-05,3\no1,c1,2024-01-05,3\n"
    res = accept(text_file(tmp, "dupo.csv", text), "orders")
    assert res.report.rows_kept == 2  # one order, two identical lines: can be real
    assert any("identical to an earlier line" in w for w in res.report.warnings)


@case
def case_duplicate_product_ids(tmp: Path) -> None:
    text = "sku,title,price\np1,Mug,9.99\np1,Mug again,8.99\n"
    res = accept(text_file(tmp, "prod.csv", text), "products")
    assert reasons(res) == ["row 3: duplicate product_id 'p1' (first seen on row 2)"]


@case
def case_ids_as_floats_made_whole(tmp: Path) -> None:
    text = ORDERS_HEAD + "17850.0,2024-01-05,1\n13047.0,2024-01-06,2\n"
    res = accept(text_file(tmp, "floatids.csv", text), "orders")
    assert res.data["customer_id"].tolist() == ["17850", "13047"]
    assert any("'17850.0' → '17850'" in n for n in res.report.notes)


@case
def case_ids_with_real_fractions_left_alone(tmp: Path) -> None:
    res = accept(text_file(tmp, "frac.csv", "customer_id,region\n1.0,a\n1.5,b\n"), "customers")
    assert res.data["customer_id"].tolist() == ["1.0", "1.5"]  # not all integral: untouched


@case
def case_ids_in_scientific_notation_warned(tmp: Path) -> None:
    text = "customer_id,region\n1.23457E+11,a\n9.87654E+11,b\n"
    res = accept(text_file(tmp, "sci.csv", text), "customers")
    assert res.data["customer_id"].tolist() == ["1.23457E+11", "9.87654E+11"]
    assert any(
        "'customer_id'" in w and "scientific notation" in w and "1.23457E+11" in w
        for w in res.report.warnings
    )


@case
def case_leading_zero_ids_kept_as_text(tmp: Path) -> None:
    res = accept(
        text_file(tmp, "zeros.csv", "customer_id,zip\n007,01234\n010,75001\n"), "customers"
    )
    assert res.data["customer_id"].tolist() == ["007", "010"]
    assert res.data["zip"].tolist() == ["01234", "75001"]


@case
def case_missing_customer_ids_rejected(tmp: Path) -> None:
    res = accept(
        text_file(
            tmp, "noid.csv", ORDERS_HEAD + ",2024-01-05,1\nnull,2024-01-06,1\nc3,2024-01-07,1\n"
        )
    )
    assert res.rejected["_row"].tolist() == [2, 3]
    assert "row 2: missing customer id (column 'customer_id' is empty)" in reasons(res)


# ============================================================================ structure
@case
def case_missing_required_column_refused(tmp: Path) -> None:
    p = text_file(tmp, "noamount.csv", "customer_id,order_date,colour\nc1,2024-01-05,red\n")
    refuse(p, "orders file 'noamount.csv' needs an amount column",
           "found: customer_id, order_date, colour", table="orders")  # fmt: skip


@case
def case_missing_customer_id_column_refused(tmp: Path) -> None:
    p = text_file(tmp, "noid.csv", "region,label\nNorth,vip\n")
    refuse(p, "needs a customer id column", "found: region, label", table="customers")


@case
def case_all_null_extra_column_warned(tmp: Path) -> None:
    res = accept(text_file(tmp, "nullcol.csv", "customer_id,notes\nc1,\nc2,\n"), "customers")
    assert "column 'notes' is empty in every kept row" in res.report.warnings


@case
def case_all_null_id_column_every_row_rejected_and_said_so(tmp: Path) -> None:
    res = accept(text_file(tmp, "allnull.csv", "customer_id,region\n,a\n,b\n"), "customers")
    assert res.report.rows_kept == 0 and res.report.rows_rejected == 2
    assert res.report.warnings[0].startswith("no usable rows in 'allnull.csv'")


@case
def case_single_row(tmp: Path) -> None:
    res = accept(text_file(tmp, "one.csv", ORDERS_HEAD + "c1,2024-01-05,9.5\n"))
    assert res.table == "orders" and res.data["amount"].tolist() == [9.5]


@case
def case_single_row_without_trailing_newline(tmp: Path) -> None:
    res = accept(text_file(tmp, "one_nonl.csv", ORDERS_HEAD + "c1,2024-01-05,9.5"), "orders")
    assert res.report.rows_kept == 1


@case
def case_header_only_refused(tmp: Path) -> None:
    refuse(text_file(tmp, "head.csv", ORDERS_HEAD), "has a header but no data rows")


@case
def case_empty_0_byte_file_refused(tmp: Path) -> None:
    refuse(bytes_file(tmp, "empty.csv", b""), "is empty (0 bytes)")


@case
def case_blank_lines_only_refused(tmp: Path) -> None:
    refuse(text_file(tmp, "blank.csv", "\n \n\t\n"), "only blank lines")


@case
def case_bom_only_refused(tmp: Path) -> None:
    refuse(bytes_file(tmp, "bom_only.csv", b"\xef\xbb\xbf"), "only blank lines")


@case
def case_binary_garbage_renamed_csv_refused(tmp: Path) -> None:
    garbage = bytes(np.random.default_rng(0).integers(0, 256, 8192, dtype=np.uint8))
    refuse(bytes_file(tmp, "garbage.csv", garbage), "does not look like a text table")


@case
def case_png_renamed_csv_refused(tmp: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    refuse(bytes_file(tmp, "photo.csv", png), "does not look like a text table")


@case
def case_unsupported_extension_refused(tmp: Path) -> None:
    refuse(bytes_file(tmp, "report.docx", b"PK-not-really"), "unsupported file type '.docx'")


@case
def case_very_wide_5000_columns_refused(tmp: Path) -> None:
    header = ",".join(["customer_id"] + [f"f{i}" for i in range(4999)])
    row = ",".join(["c1"] + ["1"] * 4999)
    t0 = time.perf_counter()
    refuse(text_file(tmp, "wide.csv", f"{header}\n{row}\n"), "5,000 columns", "at most 2,000")
    assert time.perf_counter() - t0 < 5


@case
def case_wide_within_limit_accepted(tmp: Path) -> None:
    header = ",".join(["customer_id"] + [f"f{i}" for i in range(800)])
    rows = "".join(",".join([f"c{r}"] + [str(r)] * 800) + "\n" for r in range(3))
    res = accept(text_file(tmp, "wide_ok.csv", f"{header}\n{rows}"), "customers")
    assert res.data.shape == (3, 801)
    assert (res.data.dtypes == "float64").sum() == 800  # numeric extras stored as numbers


@case
def case_too_big_file_refused(tmp: Path) -> None:
    p = text_file(tmp, "big.csv", ORDERS_HEAD + "c1,2024-01-05,1\n" * 2000)
    refuse(p, "the limit is", limits=IngestLimits(max_bytes=20_000))


@case
def case_too_many_rows_refused(tmp: Path) -> None:
    p = text_file(tmp, "rows.csv", ORDERS_HEAD + "c1,2024-01-05,1\n" * 50)
    refuse(p, "has 50 rows; at most 10", limits=IngestLimits(max_rows=10))


@case
def case_gzip_bomb_refused(tmp: Path) -> None:
    import gzip

    bomb = gzip.compress(ORDERS_HEAD.encode() + b" " * (8 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    refuse(bytes_file(tmp, "orders.csv.gz", bomb), "once decompressed",
           limits=IngestLimits(max_bytes=1024 * 1024))  # fmt: skip


# ============================================================================ long text
@case
def case_1mb_text_cell_truncated_and_reported(tmp: Path) -> None:
    big = "x" * 1_000_000
    text = f"customer_id,review_text\nc1,short review\nc2,{big}\n"
    res = accept(text_file(tmp, "long.csv", text), "reviews")
    assert res.data["review_text"].str.len().tolist() == [12, 20_000]
    assert (
        "1 value in 'review_text' longer than 20,000 characters truncated (first on row 3)"
        in res.report.notes
    )


@case
def case_1mb_quoted_multiline_cell_not_refused(tmp: Path) -> None:
    # A huge quoted cell with line breaks, plus a blank line: the careful CSV path must cope
    # (Python's csv module refuses fields over 128 KiB by default).
    big = ("word " * 200_000).strip()
    text = f'customer_id,review_text\nc1,"{big}\nsecond paragraph"\n\nc2,short one\n'
    res = accept(text_file(tmp, "long_ml.csv", text), "reviews")
    assert res.data["customer_id"].tolist() == ["c1", "c2"]
    assert any("truncated (first on row 2)" in n for n in res.report.notes)


@case
def case_formula_injection_text_kept_verbatim(tmp: Path) -> None:
    text = 'customer_id,region\nc1,"=HYPERLINK(""http://x"",""y"")"\nc2,+cmd|calc\n'
    res = accept(text_file(tmp, "inj.csv", text), "customers")
    assert res.data["region"].tolist() == ['=HYPERLINK("http://x","y")', "+cmd|calc"]


# ================================================================================ Excel
@case
def case_excel_several_sheets_first_read_and_named(tmp: Path) -> None:
    p = xlsx_file(tmp, "book.xlsx", {
        "Orders": [["customer_id", "order_date", "amount"], ["c1", dt.datetime(2024, 1, 5), 3]],
        "Notes": [["just some notes"]],
        "Pivot": [["x", "y"], [1, 2]],
    })  # fmt: skip
    res = accept(p)
    assert res.report.sheet == "Orders"
    assert "workbook has 3 sheets (Orders, Notes, Pivot); read 'Orders'" in res.report.warnings
    res = accept(p, "customers", sheet="Pivot", mapping={"x": "customer_id"})
    assert res.data["customer_id"].tolist() == ["1"]


@case
def case_excel_empty_first_sheet_refused_naming_others(tmp: Path) -> None:
    p = xlsx_file(tmp, "empty_first.xlsx", {"Cover": [], "Data": [["customer_id"], ["c1"]]})
    refuse(p, "sheet 'Cover' of 'empty_first.xlsx' is empty", "other sheets: Data")


@case
def case_excel_missing_sheet_refused(tmp: Path) -> None:
    p = xlsx_file(tmp, "s.xlsx", {"A": [["customer_id"], ["c1"]]})
    refuse(p, "has no sheet 'B'; sheets: A", sheet="B")


@case
def case_excel_merged_title_and_header(tmp: Path) -> None:
    rows = [
        ["Q1 sales report", None, None],
        [],
        ["customer_id", "order_date", "amount"],
        ["c1", dt.datetime(2024, 1, 5), 12.5],
        ["c2", dt.datetime(2024, 1, 6), "oops"],
    ]
    p = xlsx_file(tmp, "merged.xlsx", {"Sheet1": rows}, merge=["A1:C1"])
    res = accept(p, "orders")
    assert res.data["customer_id"].tolist() == ["c1"]
    assert "2 rows above the header (row 3) skipped" in res.report.notes
    assert reasons(res) == ["column 'amount' row 5: 'oops' is not a number (expected e.g. 12.50)"]


@case
def case_excel_formulas_without_saved_results_warned(tmp: Path) -> None:
    rows = [["customer_id", "order_date", "amount", "double"],
            ["c1", "2024-01-05", 3, "=C2*2"], ["c2", "2024-01-06", 4, "=C3*2"]]  # fmt: skip
    res = accept(xlsx_file(tmp, "formulas.xlsx", {"Sheet1": rows}), "orders")
    assert res.report.rows_kept == 2
    w = joined(res.report.warnings)
    assert "column 'double': 2 cells hold formulas without a saved result" in w
    assert "row 2: '=C2*2'" in w


@case
def case_excel_formulas_with_cached_values_read(tmp: Path) -> None:
    rows = [["customer_id", "order_date", "amount"], ["c1", "2024-01-05", "=1+2"]]
    p = xlsx_file(tmp, "cached.xlsx", {"Sheet1": rows})
    data = rewrite_zip(
        p.read_bytes(),
        lambda n, b: b.replace(b"<v />", b"<v>3</v>").replace(b"<v></v>", b"<v>3</v>")
        if n.endswith("sheet1.xml") else b,
    )  # fmt: skip
    res = accept(bytes_file(tmp, "cached2.xlsx", data), "orders")
    assert res.data["amount"].tolist() == [3.0]
    assert not any("formulas" in w for w in res.report.warnings)


@case
def case_excel_float_ids_and_real_dates(tmp: Path) -> None:
    rows = [
        ["CustomerID", "InvoiceDate", "Amount"],
        [17850.0, dt.datetime(2010, 12, 1, 8, 26), 2.5],
    ]
    res = accept(xlsx_file(tmp, "retail.xlsx", {"Sheet1": rows}), "orders")
    assert res.data["customer_id"].tolist() == ["17850"]
    assert res.data["order_date"].tolist() == [pd.Timestamp("2010-12-01 08:26")]


@case
def case_zip_bomb_renamed_xlsx_refused_fast(tmp: Path) -> None:
    # A valid-looking workbook whose sheet inflates to 200 MB of spaces (~200 KB on disk).
    p = xlsx_file(tmp, "seed.xlsx", {"Sheet1": [["customer_id"], ["c1"]]})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(p.read_bytes())) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if not info.filename.endswith("sheet1.xml"):
                zout.writestr(info, body, zipfile.ZIP_DEFLATED)
                continue
            zi = zipfile.ZipInfo(info.filename)
            zi.compress_type = zipfile.ZIP_DEFLATED
            head, tail = body.split(b"<sheetData>", 1)
            with zout.open(zi, "w", force_zip64=True) as f:
                f.write(head + b"<sheetData>")
                chunk = b" " * (1 << 20)
                for _ in range(200):
                    f.write(chunk)
                f.write(tail)
    bomb = out.getvalue()
    assert len(bomb) < 1_000_000
    path = bytes_file(tmp, "bomb.xlsx", bomb)
    t0 = time.perf_counter()
    refuse(path, "zip bomb")
    assert time.perf_counter() - t0 < 1.0


@case
def case_plain_zip_renamed_xlsx_refused(tmp: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "hello")
    refuse(bytes_file(tmp, "archive.xlsx", buf.getvalue()), "not a valid Excel workbook")


@case
def case_truncated_xlsx_refused(tmp: Path) -> None:
    p = xlsx_file(tmp, "whole.xlsx", {"Sheet1": [["customer_id"], ["c1"]]})
    data = p.read_bytes()
    refuse(bytes_file(tmp, "cut.xlsx", data[: len(data) // 2]), "not a valid Excel workbook")


@case
def case_xlsx_with_broken_sheet_xml_refused(tmp: Path) -> None:
    p = xlsx_file(tmp, "ok.xlsx", {"Sheet1": [["customer_id", "region"], ["c1", "x"]]})
    data = rewrite_zip(
        p.read_bytes(), lambda n, b: b[: len(b) // 2] if n.endswith("sheet1.xml") else b
    )
    refuse(bytes_file(tmp, "broken.xlsx", data), "sheet 'Sheet1'", "can't be read")


@case
def case_old_xls_refused(tmp: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    refuse(bytes_file(tmp, "legacy.xls", ole), "old Excel 97-2003 workbook", "save it as .xlsx")


@case
def case_excel_header_only_refused(tmp: Path) -> None:
    p = xlsx_file(tmp, "hdr.xlsx", {"S": [["customer_id", "amount"]]})
    refuse(p, "sheet 'S' of 'hdr.xlsx' has a header but no data rows")


# ============================================================================== Parquet
@case
def case_malformed_parquet_refused(tmp: Path) -> None:
    refuse(
        bytes_file(tmp, "bad.parquet", b"PAR1" + b"\x00garbage" * 50 + b"PAR1"),
        "not a valid Parquet file",
    )


@case
def case_truncated_parquet_refused(tmp: Path) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.table({"customer_id": ["a", "b"], "amount": [1.0, 2.0]}), buf)
    data = buf.getvalue()
    refuse(bytes_file(tmp, "cut.parquet", data[: len(data) // 2]), "not a valid Parquet file")


@case
def case_parquet_zero_rows_refused(tmp: Path) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.table({"customer_id": pa.array([], pa.string())}), buf)
    refuse(bytes_file(tmp, "none.parquet", buf.getvalue()), "has a header but no data rows")


@case
def case_parquet_nested_and_null_columns(tmp: Path) -> None:
    table = pa.table({
        "customer_id": pa.array([1, 2, None], pa.int64()),
        "tags": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
        "label": pa.array(["x", "y", "x"]),
    })  # fmt: skip
    buf = io.BytesIO()
    pq.write_table(table, buf)
    res = accept(bytes_file(tmp, "nested.parquet", buf.getvalue()), "customers")
    assert res.data["customer_id"].tolist() == ["1", "2"]
    assert res.data["tags"].tolist() == ['["a", "b"]', "[]"]
    assert reasons(res) == ["row 3: missing customer id (column 'customer_id' is empty)"]


@case
def case_parquet_named_csv_read_as_parquet(tmp: Path) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.table({"customer_id": ["a"], "label": ["x"]}), buf)
    res = accept(bytes_file(tmp, "actually.csv", buf.getvalue()), "customers")
    assert any("is named like a .csv file but is a Parquet file" in w for w in res.report.warnings)


# ================================================================================= JSON
@case
def case_broken_json_refused(tmp: Path) -> None:
    refuse(bytes_file(tmp, "broken.json", b'[{"customer_id": "a"},'), "is not valid JSON", "line 1")


@case
def case_jsonl_with_bad_line_rejected(tmp: Path) -> None:
    text = '{"customer_id": "a", "label": "x"}\n{oops}\n{"customer_id": "b", "label": "y"}\n'
    res = accept(text_file(tmp, "c.jsonl", text), "customers")
    assert res.data["customer_id"].tolist() == ["a", "b"]
    assert reasons(res) == [
        "line 2 is not valid JSON (Expecting property name enclosed in double quotes)"
    ]


# ================================================================================ labels
@case
def case_label_with_one_class(tmp: Path) -> None:
    from core.targets import label_column_target

    res = accept(text_file(tmp, "one_class.csv", "customer_id,churned\nc1,yes\nc2,yes\nc3,yes\n"), "customers",
                 mapping={"customer_id": "customer_id", "churned": "label"})  # fmt: skip
    assert "label column 'churned' has a single value ('yes'); it can't separate groups" in (
        res.report.warnings
    )
    with pytest.raises(ValueError, match=r"column 'label' has fewer than 2 classes \(only 'yes'\)"):
        label_column_target(res.data, "label")


@case
def case_label_all_missing(tmp: Path) -> None:
    res = accept(text_file(tmp, "nolabel.csv", "customer_id,label\nc1,\nc2,n/a\n"), "customers")
    assert "column 'label' is empty in every kept row" in res.report.warnings


# ============================================================================ mapping
@case
def case_mapping_to_unknown_column_refused(tmp: Path) -> None:
    p = text_file(tmp, "m.csv", ORDERS_HEAD + "c1,2024-01-05,1\n")
    refuse(p, "has no such column", "found: customer_id, order_date, amount",
           table="orders", mapping={"Kunde": "customer_id"})  # fmt: skip


@case
def case_mapping_same_target_twice_refused(tmp: Path) -> None:
    p = text_file(tmp, "m2.csv", ORDERS_HEAD + "c1,2024-01-05,1\n")
    refuse(p, "'customer_id' is mapped from both", table="orders",
           mapping={"customer_id": "customer_id", "order_date": "customer_id"})  # fmt: skip


# ================================================================================ runner
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, tmp_path: Path) -> None:
    CASES[name](tmp_path)


def test_corpus_size() -> None:
    assert len(CASES) >= 60, len(CASES)
