"""Ingest: an order-lines CSV to canonical Parquet, Segment Studio versus pandas and DuckDB.

The CSV is the demo store's order lines written with spreadsheet-style headers ("Order ID",
"Order Date", ...), the way an analyst's export looks. Segment Studio's ingest guesses the
mapping, parses every column with checks (dates, numbers, ids, returns, duplicates) and
reports what it rejected; `pandas.read_csv` + `to_parquet` and DuckDB's
`COPY (SELECT * FROM read_csv(...)) TO ...` are what a user would otherwise type, without any
checks. All three Parquet files are compared (rows, ids, dates, amounts) before timing.

Segment Studio runs twice: reading the file whole (`ingest_file`, memory grows with the
file) and in chunks (`ingest_file_streaming`, what `segstudio ingest` does for large CSV
files: memory bounded by the chunk size). Both must write the same Parquet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.suite import BenchResult, ResultsDiffer, measure_in_child

# demo customers per size (≈ 13.4 order lines each)
SIZES = {"tiny": [1_500], "small": [77_000], "full": [77_000, 770_000]}
HEADERS = {
    "order_id": "Order ID",
    "customer_id": "Customer ID",
    "order_date": "Order Date",
    "product_id": "Product ID",
    "product_name": "Product Name",
    "category": "Category",
    "quantity": "Quantity",
    "unit_price": "Unit Price",
    "discount": "Discount",
    "amount": "Amount",
}
GB = 1024**3
MB = 1024**2
# Chunk size of the streamed path: small at `tiny` so that the test suite crosses chunks.
CHUNK_MB = {"tiny": 0.25, "small": 64, "full": 64}


def make_csv(path: Path, n_customers: int) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from core.demo import generate_demo_store

    orders = generate_demo_store(n_customers=n_customers, seed=0)["orders"]
    orders = orders.rename(columns=HEADERS)
    orders["Order Date"] = orders["Order Date"].dt.strftime("%Y-%m-%d %H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(pa.Table.from_pandas(orders, preserve_index=False), tmp)
    tmp.replace(path)
    return len(orders)


def studio_child(csv: str, out: str) -> dict:
    from core.ingest import IngestLimits, ingest_file
    from core.workspace import atomic_write_parquet

    limits = IngestLimits(max_bytes=8 * GB, max_rows=50_000_000)
    res = ingest_file(csv, "orders", limits=limits)
    atomic_write_parquet(Path(out), res.data)
    return {"rows": len(res.data), "rejected": len(res.rejected)}


def studio_stream_child(csv: str, out: str, chunk_mb: float = 64) -> dict:
    from core.ingest import IngestLimits
    from core.ingest_stream import ingest_file_streaming

    limits = IngestLimits(max_bytes=8 * GB, max_rows=50_000_000)
    res = ingest_file_streaming(csv, "orders", out, limits=limits, chunk_bytes=int(chunk_mb * MB))
    chunks = next((n.split()[2] for n in res.report.notes if n.startswith("read in ")), "?")
    return {"rows": res.rows, "rejected": res.report.rows_rejected, "chunks": chunks}


def pandas_child(csv: str, out: str) -> dict:
    df = pd.read_csv(
        csv,
        dtype={"Order ID": "string", "Customer ID": "string", "Product ID": "string"},
        parse_dates=["Order Date"],
    )
    df.columns = list(HEADERS)
    df.to_parquet(out, index=False)
    return {"rows": len(df)}


def duckdb_child(csv: str, out: str) -> dict:
    import duckdb

    con = duckdb.connect()
    cols = ", ".join(f'"{h}" AS {c}' for c, h in HEADERS.items())
    types = "{'Order ID': 'VARCHAR', 'Customer ID': 'VARCHAR', 'Product ID': 'VARCHAR'}"
    n = con.execute(
        f"COPY (SELECT {cols} FROM read_csv('{csv}', types={types})) TO '{out}' (FORMAT parquet)"
    ).fetchall()[0][0]
    return {"rows": int(n)}


def compare(paths: dict[str, Path]) -> list[str]:
    cols = ["order_id", "customer_id", "order_date", "amount", "quantity"]
    frames = {k: pd.read_parquet(p, columns=cols) for k, p in paths.items()}
    ref = frames.pop("Segment Studio")
    ref_ids = ref["order_id"].astype(str).to_numpy()
    for tool, df in frames.items():
        if len(df) != len(ref):
            raise ResultsDiffer(f"{tool} wrote {len(df):,} rows, Segment Studio {len(ref):,}")
        if not np.array_equal(df["order_id"].astype(str).to_numpy(), ref_ids):
            raise ResultsDiffer(f"{tool} and Segment Studio disagree on order ids")
        if not np.array_equal(
            df["customer_id"].astype(str).to_numpy(), ref["customer_id"].astype(str).to_numpy()
        ):
            raise ResultsDiffer(f"{tool} and Segment Studio disagree on customer ids")
        a = pd.to_datetime(df["order_date"]).to_numpy("datetime64[s]")
        b = pd.to_datetime(ref["order_date"]).to_numpy("datetime64[s]")
        if not np.array_equal(a, b):
            raise ResultsDiffer(f"{tool} and Segment Studio disagree on order dates")
        for c in ("amount", "quantity"):
            if not np.allclose(df[c].to_numpy(float), ref[c].to_numpy(float), equal_nan=True):
                raise ResultsDiffer(f"{tool} and Segment Studio disagree on {c}")
    return cols


def run(scale: str, workdir: Path) -> BenchResult:
    rows = []
    for n in SIZES[scale]:
        csv = workdir / f"orders-{n}.csv"
        if not csv.exists():
            make_csv(csv, n)
        size_mb = csv.stat().st_size / 1024**2
        chunk_mb = CHUNK_MB[scale]
        streamed = f"Segment Studio, in {chunk_mb:g} MB chunks"
        outs = {
            "Segment Studio": workdir / f"studio-{n}.parquet",
            streamed: workdir / f"studio-stream-{n}.parquet",
            "pandas read_csv + to_parquet": workdir / f"pandas-{n}.parquet",
            "DuckDB COPY read_csv → Parquet": workdir / f"duckdb-{n}.parquet",
        }
        funcs = ("studio_child", "studio_stream_child", "pandas_child", "duckdb_child")
        measured = {}
        for (tool, out), func in zip(outs.items(), funcs, strict=True):
            extra = {"chunk_mb": chunk_mb} if func == "studio_stream_child" else {}
            measured[tool] = measure_in_child(
                f"benchmarks.bench_ingest:{func}", csv=str(csv), out=str(out), **extra
            )
        checked = compare(outs)
        for tool in ("Segment Studio", streamed):
            if measured[tool]["rejected"]:
                raise ResultsDiffer("the demo CSV is clean; Segment Studio must not reject rows")
        for tool, m in measured.items():
            studio = tool.startswith("Segment Studio")
            rows.append(
                {
                    "lines": m["rows"],
                    "CSV MB": size_mb,
                    "tool": "Segment Studio" if studio else tool,
                    "path": ("streamed" if tool == streamed else "whole file") if studio else "—",
                    "seconds": m["seconds"],
                    "rows/s": m["rows"] / m["seconds"],
                    "peak RSS MB": m["peak_rss_mb"],
                    "checks": "mapping guessed, types parsed, ids/dates/returns checked, report"
                    if studio
                    else "none",
                }
            )
        for p in outs.values():
            p.unlink(missing_ok=True)
    big = [r for r in rows if r["lines"] == rows[-1]["lines"]]
    s, st, p, d = big
    return BenchResult(
        name="ingest",
        title="Ingest: CSV to canonical Parquet",
        scale=scale,
        summary=(
            f"{s['lines']:,} lines ({s['CSV MB']:,.0f} MB CSV): Segment Studio "
            f"{s['rows/s']:,.0f} rows/s (peak {s['peak RSS MB'] / 1024:.1f} GB) with every check "
            f"and a report ({st['rows/s']:,.0f} rows/s, peak {st['peak RSS MB'] / 1024:.1f} GB "
            f"read in chunks); pandas {p['rows/s']:,.0f} rows/s ({p['peak RSS MB'] / 1024:.1f} GB) "
            f"and DuckDB {d['rows/s']:,.0f} rows/s ({d['peak RSS MB'] / 1024:.1f} GB) without checks."
        ),
        rows=rows,
        checks=[f"same rows and equal {', '.join(checked)} in all four Parquet files"],
        notes=[
            "Segment Studio's ingest guesses the column mapping from the headers and values, "
            "parses dates and numbers with format detection, checks ids, duplicates and "
            "returns, and keeps a per-row report of anything rejected; the other two only "
            "convert.",
            "Peak RSS is each child process's own, Python and imports included.",
            "Streamed: `ingest_file_streaming` (what `segstudio ingest` uses for CSV files above "
            "64 MB, or with --stream) reads the file in chunks, runs the same checks per chunk "
            "with the decisions of the first chunk, and writes Parquet as it goes; its memory "
            "stays about the same whatever the file size.",
        ],
    )
