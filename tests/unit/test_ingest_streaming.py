"""Streaming ingest: a CSV read in chunks gives what reading it whole gives (rows, rejected
rows with their line numbers, report counts), in bounded memory; limits are configurable and
enforced before the expensive work; streamed Parquet files become a dataset without pandas."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

import core.ingest_stream as stream_mod
from core.cli import app
from core.datasets import save_streamed
from core.ingest import IngestError, IngestLimits, ingest_file, read_raw
from core.ingest_stream import ingest_file_streaming, merge_messages
from core.workspace import Workspace

CHUNK_NOTE = re.compile(r"^read in [\d,]+ chunks? of up to")


def orders_lines(
    n: int, *, delim: str = ",", decimal: str = ".", late_bad: bool = True
) -> list[str]:
    """Order lines with values spanning lines, bad amounts and dates, a ragged row late."""
    d = delim
    lines = [d.join(["Order ID", "Customer ID", "Order Date", "Qty", "Unit Price", "Note", "Zip"])]
    for i in range(n):
        price = f"{i % 50}.{i % 10}5".replace(".", decimal)
        date = f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} 10:{i % 60:02d}:00"
        note = f'"line one {i}\nline ""two"" {d} end"' if i % 9 == 0 else f"note {i}"
        zip_ = str(10000 + i)
        if late_bad and i == n - 7:
            price = "twelve"
        if late_bad and i == n - 3:
            date = "2024-13-45"
        if i % 31 == 5:
            price = ""  # amount can't be computed
        lines.append(d.join([f"O{i // 3}", f"C{i % 37}", date, str(i % 4 + 1), price, note, zip_]))
    if late_bad:
        lines.insert(n - 1, d.join(["O-x", "C1", "2024-01-01"]))  # ragged, near the end
    return lines


def write(path, lines: list[str], encoding: str = "utf-8") -> None:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def assert_same(path, tmp_path, chunk_bytes: int, table: str | None = "orders"):
    ref = ingest_file(path, table)
    got = ingest_file_streaming(
        path, table, tmp_path / "out.parquet", chunk_bytes=chunk_bytes, limits=IngestLimits()
    )
    a, b = ref.report, got.report
    assert (b.table, b.rows_read, b.rows_kept, b.rows_rejected) == (
        a.table,
        a.rows_read,
        a.rows_kept,
        a.rows_rejected,
    )
    assert (b.encoding, b.delimiter, b.decimal, b.mapping, b.date_formats) == (
        a.encoding,
        a.delimiter,
        a.decimal,
        a.mapping,
        a.date_formats,
    )
    pd.testing.assert_frame_equal(pd.read_parquet(got.data_path), ref.data)
    if a.rows_rejected:
        pd.testing.assert_frame_equal(pd.read_parquet(got.rejected_path), ref.rejected)
    else:
        assert got.rejected_path is None
    assert b.rejections == a.rejections
    chunk_notes = [n for n in b.notes if CHUNK_NOTE.match(n)]
    assert len(chunk_notes) == 1
    assert sorted(n for n in b.notes if n not in chunk_notes) == sorted(a.notes)
    assert sorted(b.warnings) == sorted(a.warnings)
    return ref, got


def n_chunks(report) -> int:
    note = next(n for n in report.notes if CHUNK_NOTE.match(n))
    return int(note.split()[2].replace(",", ""))


@pytest.mark.parametrize("chunk_bytes", [1024, 1500, 4099])
def test_streaming_equals_reading_whole_with_values_spanning_chunk_boundaries(
    tmp_path, chunk_bytes
):
    path = tmp_path / "orders.csv"
    write(path, orders_lines(400))
    ref, got = assert_same(path, tmp_path, chunk_bytes)
    assert n_chunks(got.report) > 4  # many boundaries, some inside quoted values
    assert ref.report.rows_rejected >= 3
    # Rejections late in the file keep the file's own line numbers.
    late = [r for r in got.report.rejections if r.value in ("twelve", "2024-13-45")]
    assert len(late) == 2 and all(r.row > 400 for r in late)
    data = pd.read_parquet(got.data_path)
    assert data["note"].str.contains("\n").sum() == ref.data["note"].str.contains("\n").sum() > 0
    assert data["zip"].dtype == "float64"  # numbers only in every chunk → stored as numbers


def test_every_chunk_boundary_inside_a_quoted_value_is_carried_whole(tmp_path, monkeypatch):
    # Each record is one long quoted value spanning several lines: small chunks end inside one.
    body = "\n".join(f'R{i},"{"word " * 30}\n{"more " * 30}\nend {i}"' for i in range(60))
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,notes\n" + body + "\n")
    carried = []
    find_open = stream_mod._unclosed_last_record

    def spy(*a, **k):
        found = find_open(*a, **k)
        carried.append(found is not None)
        return found

    monkeypatch.setattr(stream_mod, "_unclosed_last_record", spy)
    for size in (300, 517, 1024):
        carried.clear()
        ref, got = assert_same(path, tmp_path, size, table="customers")
        assert got.report.rows_kept == 60 and n_chunks(got.report) > 5
        assert sum(carried) >= 5  # chunks that ended inside a quoted value
        notes = pd.read_parquet(got.data_path)["notes"]
        assert notes.str.count("\n").eq(2).all() and notes.iloc[-1].endswith("end 59")


def test_decimal_comma_semicolon_bom_decided_once(tmp_path):
    path = tmp_path / "orders.csv"
    write(path, orders_lines(300, delim=";", decimal=","), encoding="utf-8-sig")
    ref, got = assert_same(path, tmp_path, 2048)
    assert got.report.decimal == "," and got.report.encoding == "utf-8-sig"
    assert "UTF-8 byte-order mark removed" in got.report.notes
    # 12,5 in a late chunk is 12.5, not 125 or a rejection.
    data = pd.read_parquet(got.data_path)
    assert data["unit_price"].max() == pytest.approx(ref.data["unit_price"].max())


def test_gb18030_file(tmp_path):
    names = ["苹果手机壳", "蓝牙耳机", "保温杯", "运动鞋"]
    lines = ["订单号,客户编号,下单日期,金额,商品名称"]
    for i in range(300):
        lines.append(f"D{i},K{i % 20},2024年{i % 12 + 1}月{i % 28 + 1}日,{i}.5,{names[i % 4]}")
    path = tmp_path / "orders_gb.csv"
    write(path, lines, encoding="gb18030")
    ref, got = assert_same(path, tmp_path, 1024)
    assert got.report.encoding == "gb18030"
    assert set(pd.read_parquet(got.data_path)["product_name"]) == set(names)


def test_duplicate_customer_ids_across_chunks_are_rejected_naming_the_first_row(tmp_path):
    lines = ["customer_id,region,signup_date"]
    lines += [f"C{i},north,2023-01-{i % 28 + 1:02d}" for i in range(200)]
    lines += ["C3,south,2023-05-01", "C150,west,2023-05-02"]  # repeats from earlier chunks
    path = tmp_path / "customers.csv"
    write(path, lines)
    ref, got = assert_same(path, tmp_path, 1024, table="customers")
    reasons = [r.reason for r in got.report.rejections]
    assert reasons == [
        "row 202: duplicate customer_id 'C3' (first seen on row 5)",
        "row 203: duplicate customer_id 'C150' (first seen on row 152)",
    ]


def test_whole_table_warnings_are_over_all_chunks(tmp_path):
    # 'label' has one value in the first chunk only; 'promo' is empty in early chunks only.
    lines = ["customer_id,label,promo"]
    lines += [f"C{i},gold,{'' if i < 150 else 'spring'}" for i in range(200)]
    lines[-1] = "C199,silver,spring"
    path = tmp_path / "customers.csv"
    write(path, lines)
    _, got = assert_same(path, tmp_path, 700, table="customers")
    assert not any("single value" in w or "empty in every" in w for w in got.report.warnings)


def test_identical_order_lines_counted_across_chunks(tmp_path):
    lines = ["order_id,customer_id,order_date,amount"]
    lines += [f"O{i},C{i % 5},2024-01-0{i % 9 + 1},{i}" for i in range(150)]
    lines += lines[1:4]  # three lines repeated, in a later chunk
    path = tmp_path / "orders.csv"
    write(path, lines)
    _, got = assert_same(path, tmp_path, 600)
    assert any(w.startswith("3 order lines identical") for w in got.report.warnings)


def test_unclosed_quote_at_the_end_is_refused_like_reading_whole(tmp_path):
    lines = orders_lines(100, late_bad=False) + ['O9,C1,2024-01-01,1,2,"never closed', "x,y"]
    path = tmp_path / "orders.csv"
    write(path, lines)
    with pytest.raises(IngestError) as whole:
        ingest_file(path, "orders")
    with pytest.raises(IngestError) as chunked:
        ingest_file_streaming(path, "orders", tmp_path / "o.parquet", chunk_bytes=1024)
    assert str(chunked.value) == str(whole.value)
    assert "is never closed" in str(chunked.value)
    assert not list(tmp_path.glob("*.parquet*"))  # nothing half-written left behind


# ------------------------------------------------------------------------------ limits
def test_limits_from_environment(monkeypatch):
    monkeypatch.setenv("SEGSTUDIO_MAX_FILE_MB", "1.5")
    monkeypatch.setenv("SEGSTUDIO_MAX_ROWS", "1_000")
    monkeypatch.setenv("SEGSTUDIO_MAX_COLUMNS", "12")
    monkeypatch.setenv("SEGSTUDIO_MAX_TEXT_CHARS", "")  # empty: the default
    lim = IngestLimits.from_env()
    assert (lim.max_bytes, lim.max_rows, lim.max_columns) == (int(1.5 * 1024**2), 1000, 12)
    assert lim.max_text_chars == IngestLimits().max_text_chars
    assert IngestLimits.from_env(max_rows=5, max_columns=None).max_rows == 5  # options win
    # The defaults of read_raw / ingest come from the environment.
    monkeypatch.setenv("SEGSTUDIO_MAX_ROWS", "2")
    with pytest.raises(IngestError, match="has 3 rows; at most 2"):
        read_raw(b"customer_id\nA\nB\nC\n", "c.csv")


@pytest.mark.parametrize("value", ["lots", "-5", "0", "1e400"])
def test_bad_limit_in_environment_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("SEGSTUDIO_MAX_ROWS", value)
    with pytest.raises(IngestError, match=r"SEGSTUDIO_MAX_ROWS=.* is not a valid limit"):
        IngestLimits.from_env()
    with pytest.raises(IngestError, match="SEGSTUDIO_MAX_ROWS"):
        ingest_file(b"customer_id\nA\n", filename="c.csv")


def test_row_limit_stops_reading_early(tmp_path, monkeypatch):
    path = tmp_path / "orders.csv"
    write(path, orders_lines(3000, late_bad=False))
    seen = []
    with pytest.raises(IngestError, match=r"has more than 100 rows \(counted [\d,]+ by line"):
        ingest_file_streaming(
            path,
            "orders",
            tmp_path / "o.parquet",
            chunk_bytes=2048,
            limits=IngestLimits(max_rows=100),
            progress=lambda msg, frac: seen.append(frac),
        )
    assert seen and max(seen) < 0.2  # stopped within the first fifth of the file
    assert not (tmp_path / "o.parquet").exists()


def test_column_limit_from_the_header_before_any_row_is_parsed(tmp_path, monkeypatch):
    path = tmp_path / "wide.csv"
    write(path, [",".join(f"c{i}" for i in range(30))] + ["1," * 29 + "1"] * 50)

    def no_parsing(*a, **k):
        raise AssertionError("rows were parsed")

    monkeypatch.setattr(stream_mod, "_parse_fast", no_parsing)
    monkeypatch.setattr(stream_mod, "_parse_slow", no_parsing)
    with pytest.raises(IngestError, match="has 30 columns; at most 10 are supported"):
        ingest_file_streaming(
            path, None, tmp_path / "o.parquet", limits=IngestLimits(max_columns=10)
        )


def test_file_size_limit_from_stat_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "orders.csv"
    write(path, orders_lines(200))

    def no_open(*a, **k):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(stream_mod._ChunkReader, "_open", no_open)
    with pytest.raises(IngestError, match="the limit is 0 MB"):
        ingest_file_streaming(
            path, "orders", tmp_path / "o.parquet", limits=IngestLimits(max_bytes=1000)
        )


def test_excel_or_parquet_are_not_streamed(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"customer_id": ["a"]}).to_parquet(path)
    with pytest.raises(IngestError, match="reading in chunks works for delimited text"):
        ingest_file_streaming(path, None, tmp_path / "o.parquet")


# ------------------------------------------------------------------------------ merging
def test_merge_messages_sums_counts_and_keeps_first_examples():
    a = [
        "decimal comma detected in 'Amount' (1 value, e.g. '1,5' read as 1.5)",
        "semicolon-separated file",
    ]
    b = ["decimal comma detected in 'Amount' (2,000 values, e.g. '77,25' read as 77.25)",
         "decimal comma detected in 'Price2' (4 values, e.g. '3,5' read as 3.5)"]  # fmt: skip
    assert merge_messages([a, b]) == [
        "decimal comma detected in 'Amount' (2,001 values, e.g. '1,5' read as 1.5)",
        "semicolon-separated file",
        "decimal comma detected in 'Price2' (4 values, e.g. '3,5' read as 3.5)",
    ]
    assert merge_messages([["no quantity column: quantity set to 1 for all 3 rows"]] * 2) == [
        "no quantity column: quantity set to 1 for all 6 rows"
    ]


# ------------------------------------------------------------------------------ datasets
def test_streamed_files_become_a_dataset_without_loading_them(tmp_path):
    ws = Workspace(tmp_path / "ws")
    cpath, opath = tmp_path / "customers.csv", tmp_path / "orders.csv"
    write(cpath, ["customer_id,region"] + [f"C{i},r{i % 3}" for i in range(30)] + ["C1,dup"])
    write(opath, orders_lines(200))
    stage = tmp_path / "stage"
    cust = ingest_file_streaming(cpath, "customers", stage / "c.parquet", chunk_bytes=1024)
    orders = ingest_file_streaming(opath, "orders", stage / "o.parquet", chunk_bytes=1024)
    info = save_streamed(ws, "Big shop", [cust, orders])
    assert info.tables == {"customers": 30, "orders": orders.rows}
    assert info.n_customers == 30
    # C30..C36 order but are not in the customers table.
    assert any("customers that are not in the customers table" in w for w in info.meta["warnings"])
    pd.testing.assert_frame_equal(
        ws.load_table(info.id, "orders"), ingest_file(opath, "orders").data
    )
    rejected = ws.load_rejected(info.id)
    assert set(rejected) == {"customers", "orders"} and rejected["customers"]["_row"].tolist() == [
        32
    ]
    assert [r["file"] for r in ws.load_reports(info.id)] == ["customers.csv", "orders.csv"]
    assert not list(stage.glob("*.parquet"))  # moved, not copied
    assert not [p for p in (ws.root / "datasets").iterdir() if p.name.startswith(".")]


def test_saving_files_that_fail_leaves_the_previous_version_whole(tmp_path):
    ws = Workspace(tmp_path / "ws")
    path = tmp_path / "customers.csv"
    write(path, ["customer_id"] + [f"C{i}" for i in range(10)])
    first = ingest_file_streaming(path, "customers", tmp_path / "c1.parquet")
    ws.save_dataset_files("shop", {"customers": first.data_path}, dataset_id="shop")
    with pytest.raises(ValueError, match="does not exist"):
        ws.save_dataset_files("shop", {"customers": tmp_path / "gone.parquet"}, dataset_id="shop")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="is not a Parquet file"):
        ws.save_dataset_files("shop", {"customers": tmp_path / "bad.parquet"}, dataset_id="shop")
    assert len(ws.load_table("shop", "customers")) == 10


def test_cli_streams_large_text_files_and_takes_limit_options(tmp_path):
    runner = CliRunner()
    path = tmp_path / "orders.csv"
    write(path, orders_lines(300))
    ws = tmp_path / "ws"
    res = runner.invoke(
        app,
        ["ingest", str(path), "-w", str(ws), "--stream", "--chunk-mb", "0.002", "--name", "big",
         "--rejected-out", str(tmp_path / "rej.csv")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "read in" in res.output and "chunks" in res.output
    (info,) = Workspace(ws).list_datasets()
    assert info.tables["orders"] == ingest_file(path, "orders").report.rows_kept
    assert (
        len(pd.read_csv(tmp_path / "rej.csv")) == ingest_file(path, "orders").report.rows_rejected
    )
    res = runner.invoke(app, ["ingest", str(path), "-w", str(ws), "--stream", "--max-rows", "50"])
    assert res.exit_code == 2 and "more than 50 rows" in res.output
    res = runner.invoke(app, ["ingest", str(path), "-w", str(ws), "--max-file-mb", "0.001"])
    assert res.exit_code == 2 and "the limit is" in res.output
