"""core.ingest on files as public data sets ship them: a whitespace-separated transaction log
(CDNOW style: `00001 19970101 1 11.77`, runs of spaces between fields), a file whose
separator is not recognised (read as one column: flagged), and a telecom churn table whose
numeric column has cells of a single space. Read whole and streamed, both paths agree."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from core.ingest import _sniff_delimiter, ingest_file, read_raw
from core.ingest_stream import ingest_file_streaming
from core.ingest_text import render


def keys(messages) -> list[str]:
    return [getattr(m, "key", None) for m in messages]


def find(messages, key: str):
    return [m for m in messages if getattr(m, "key", None) == key]


def cdnow_lines(n: int = 60, *, header: bool = True) -> list[str]:
    rnd = random.Random(7)
    lines = ["customer_id   order_date  quantity   amount"] if header else []
    for i in range(n):
        # Padded like the original log: leading spaces, runs of spaces between fields.
        lines.append(
            f"  {i % 20 + 1:05d} 199701{i % 28 + 1:02d}   {i % 3 + 1}  {rnd.randint(100, 9000) / 100:.2f}"
        )
    return lines


def write(path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ whitespace-separated
def test_whitespace_separated_log_is_split_into_its_columns(tmp_path):
    path = tmp_path / "cdnow.txt"
    write(path, cdnow_lines())
    raw = read_raw(path)
    assert raw.delimiter == " "  # runs of spaces / tabs
    assert list(raw.df.columns) == ["customer_id", "order_date", "quantity", "amount"]
    assert raw.df.iloc[0].tolist() == ["00001", "19970101", "1", raw.df["amount"].iat[0]]
    assert "one_column" not in keys(raw.warnings)
    assert find(raw.notes, "separated")[0].values["delim"].key == "delim_whitespace"

    res = ingest_file(path, "orders")
    rep = res.report
    assert (rep.rows_read, rep.rows_kept, rep.rows_rejected) == (60, 60, 0)
    assert rep.mapping == {c: c for c in raw.df.columns}
    assert res.data["order_date"].iat[0] == pd.Timestamp("1997-01-01")
    assert res.data["amount"].dtype == "float64"
    assert res.data["customer_id"].iat[0] == "00001"
    # The note renders in Chinese too.
    assert "空白" in render(find(rep.notes, "separated")[0], "zh")


def test_whitespace_with_tabs_and_quoted_values_keeps_the_quoted_spaces(tmp_path):
    path = tmp_path / "people.txt"
    write(
        path,
        ["id \t name   city", '1  "Ann  Lee"\tParis', "2 Bob   Rome ", '3 "Li Wei" "New York"'],
    )
    raw = read_raw(path)
    assert raw.delimiter == " "
    assert raw.df.to_dict("list") == {
        "id": ["1", "2", "3"],
        "name": ["Ann  Lee", "Bob", "Li Wei"],
        "city": ["Paris", "Rome", "New York"],
    }
    assert raw.rejected is None


@pytest.mark.parametrize(
    ("lines", "delim"),
    [
        # A comma file whose values hold spaces stays a comma file.
        (["id,name", "1,Ann Lee", "2,Bob Smith Jr"], ","),
        # A tab file stays a tab file (tab is tried before whitespace).
        (["id\tname", "1\tAnn Lee", "2\tBob"], "\t"),
        # Free text on one column: the word count varies, so it stays one column.
        (["review", "great product", "not what I expected at all", "ok"], ","),
    ],
)
def test_whitespace_is_chosen_only_when_no_other_delimiter_fits(lines, delim):
    assert _sniff_delimiter("\n".join(lines) + "\n", ".txt") == delim


def test_streamed_whitespace_file_reads_as_the_whole_file_does(tmp_path):
    path = tmp_path / "cdnow.txt"
    write(path, cdnow_lines(400))
    ref = ingest_file(path, "orders")
    got = ingest_file_streaming(path, "orders", tmp_path / "out.parquet", chunk_bytes=1024)
    assert got.report.delimiter == ref.report.delimiter == " "
    assert (got.report.rows_read, got.report.rows_kept) == (400, 400)
    assert got.report.mapping == ref.report.mapping
    pd.testing.assert_frame_equal(pd.read_parquet(got.data_path), ref.data)


# ------------------------------------------------------------------ one column: flagged
@pytest.mark.parametrize("streamed", [False, True])
def test_file_read_as_one_column_is_flagged_naming_the_file(tmp_path, streamed):
    # '~' is no delimiter this reader knows: every line is one field.
    path = tmp_path / "customers.txt"
    write(path, ["customer_id~region"] + [f"c{i}~north" for i in range(20)])
    if streamed:
        warnings = ingest_file_streaming(
            path, "customers", tmp_path / "out.parquet", chunk_bytes=1024
        ).report.warnings
    else:
        warnings = ingest_file(path, "customers").report.warnings
    (w,) = find(warnings, "one_column")
    assert w.values == {"name": "customers.txt", "column": "'customer_id~region'"}
    assert "customers.txt" in render(w, "zh")


def test_a_table_of_several_columns_is_not_flagged(tmp_path):
    path = tmp_path / "customers.csv"
    write(path, ["customer_id,region", "c1,north", "c2,south"])
    assert "one_column" not in keys(ingest_file(path).report.warnings)


# ------------------------------------------------------------------ blank numeric cells
def telco_lines(n: int = 100, blanks: int = 11) -> list[str]:
    rnd = random.Random(3)
    lines = ["customerID,gender,tenure,MonthlyCharges,TotalCharges,Churn"]
    blank_rows = set(range(0, n, n // blanks)[:blanks])
    for i in range(n):
        total = " " if i in blank_rows else f"{rnd.randint(200, 80000) / 10:.1f}"
        gender = "Male" if i % 2 else "Female"
        churn = "Yes" if i % 4 == 0 else "No"
        lines.append(
            f"C{i:04d},{gender},{i % 72},{rnd.randint(200, 1100) / 10:.2f},{total},{churn}"
        )
    return lines


@pytest.mark.parametrize("streamed", [False, True])
def test_blank_numeric_cells_are_missing_the_column_numeric_and_noted(tmp_path, streamed):
    path = tmp_path / "telco.csv"
    write(path, telco_lines())
    if streamed:
        got = ingest_file_streaming(path, "customers", tmp_path / "out.parquet", chunk_bytes=1024)
        report, data = got.report, pd.read_parquet(got.data_path)
    else:
        res = ingest_file(path, "customers")
        report, data = res.report, res.data
    assert report.rows_kept == 100
    assert report.mapping["TotalCharges"] == "total_charges"
    assert data["total_charges"].dtype == "float64"
    assert int(data["total_charges"].isna().sum()) == 11
    (note,) = find(report.notes, "extra_blank_missing")
    assert note.values == {"src": "TotalCharges", "n": 11}
    assert "TotalCharges" in find(report.notes, "extra_numeric")[-1].values["src"]
    assert "11" in render(note, "zh")


def test_blank_cells_in_a_text_column_stay_text(tmp_path):
    path = tmp_path / "customers.csv"
    write(path, ["customer_id,nickname", "c1,ann", "c2, ", "c3,bob"])
    res = ingest_file(path, "customers")
    assert res.data["nickname"].tolist() == ["ann", " ", "bob"]
    assert "extra_blank_missing" not in keys(res.report.notes)


def test_blank_cells_in_an_optional_canonical_number_column_are_noted(tmp_path):
    path = tmp_path / "orders.csv"
    rows = [f"O{i},C{i % 5},2024-01-{i + 1:02d},{' ' if i < 3 else '2'},9.50" for i in range(10)]
    write(path, ["order_id,customer_id,order_date,quantity,amount", *rows])
    res = ingest_file(path, "orders")
    (note,) = find(res.report.notes, "blank_missing")
    assert note.values == {"src": "quantity", "n": 3}
    assert res.report.rows_kept == 10
