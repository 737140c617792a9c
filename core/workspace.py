"""Workspace: datasets as Parquet on disk plus a SQLite catalog of datasets and runs.

Layout::

    <root>/catalog.sqlite                 datasets, runs (WAL mode)
    <root>/datasets/<id>/<table>.parquet  canonical tables
    <root>/datasets/<id>/report.json      the ingest report(s)
    <root>/datasets/<id>/rejected/<table>.parquet   rows ingest rejected, with reasons
    <root>/runs/<id>/                     artifacts of a run (features, segments, models)

Every write goes to a temporary sibling first and is renamed into place, so a crash mid-write
leaves the previous version intact.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.schema import TABLES

ENV_HOME = "SEGSTUDIO_HOME"


def default_root() -> Path:
    env = os.environ.get(ENV_HOME)
    return Path(env).expanduser() if env else Path.home() / ".segstudio"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, default=str, ensure_ascii=False).encode())


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pid_alive(pid: int | None) -> bool:
    """Whether process `pid` is running (a zombie, exited but not yet reaped, is not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


# Names of the siblings a dataset write leaves behind while it runs: `.<id>.new-<pid>-<rand>`
# (the version being written) and `.<id>.old-<pid>-<rand>` (the previous version, moved aside
# for the instant of the swap). The pid says whether the writer is still at work.
_WRITE_SIBLING = re.compile(
    r"^\.(?P<id>[a-z0-9][a-z0-9-]{0,80})\.(?P<kind>new|old)-(?P<pid>\d+)-\w+$"
)


def slugify(name: str) -> str:
    s = re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()
    return s[:40] or "dataset"


@dataclass
class DatasetInfo:
    id: str
    name: str
    created_at: str
    source: str
    tables: dict[str, int]  # table -> row count
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_customers(self) -> int | None:
        return self.meta.get("n_customers")


@dataclass
class RunInfo:
    id: str
    dataset_id: str
    kind: str
    status: str
    params: dict[str, Any]
    created_at: str
    updated_at: str
    path: Path
    summary: dict[str, Any] = field(default_factory=dict)


_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    source TEXT NOT NULL,
    tables TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_dataset ON runs(dataset_id, created_at);
"""


class Workspace:
    """A directory of datasets and runs. Cheap to construct; safe to share across processes."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).expanduser() if root is not None else default_root()
        (self.root / "datasets").mkdir(parents=True, exist_ok=True)
        (self.root / "runs").mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA_SQL)
        self.recover_interrupted_writes()

    def recover_interrupted_writes(self) -> list[str]:
        """Finish what a killed dataset write left: put the previous version back if the swap
        was cut between its two renames, and remove half-written new versions. Siblings of a
        writer that is still running are left alone. Returns what was done, for logs."""
        done = []
        for p in sorted((self.root / "datasets").iterdir()):
            m = _WRITE_SIBLING.match(p.name)
            if not m or pid_alive(int(m["pid"])):
                continue
            final = p.parent / m["id"]
            if m["kind"] == "old" and not final.exists():
                os.replace(p, final)
                done.append(f"restored the previous version of dataset {m['id']}")
            else:
                shutil.rmtree(p, ignore_errors=True)
                done.append(f"removed an unfinished write of dataset {m['id']}")
        return done

    # ----------------------------------------------------------------- catalog
    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.root / "catalog.sqlite", timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.row_factory = sqlite3.Row
            yield conn
        finally:
            conn.close()

    # ---------------------------------------------------------------- datasets
    def dataset_dir(self, dataset_id: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,80}", dataset_id):
            raise ValueError(f"invalid dataset id {dataset_id!r}")
        return self.root / "datasets" / dataset_id

    def save_dataset(
        self,
        name: str,
        tables: dict[str, pd.DataFrame],
        *,
        source: str = "upload",
        reports: list[dict[str, Any]] | None = None,
        rejected: dict[str, pd.DataFrame] | None = None,
        dataset_id: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> DatasetInfo:
        """Write canonical tables atomically and register them. Replaces `dataset_id` if given."""
        _check_tables(tables)
        dataset_id = dataset_id or f"{slugify(name)}-{uuid.uuid4().hex[:6]}"

        def fill(tmp: Path) -> None:
            for tname, df in tables.items():
                atomic_write_parquet(tmp / f"{tname}.parquet", df)
            for tname, df in (rejected or {}).items():
                if df is not None and len(df):
                    atomic_write_parquet(tmp / "rejected" / f"{tname}.parquet", df)
            atomic_write_json(tmp / "report.json", reports or [])

        self._write_swap(dataset_id, fill)
        counts = {t: int(len(df)) for t, df in tables.items()}
        meta = dict(meta or {})
        meta.setdefault("n_customers", _count_customers(tables))
        return self._register(dataset_id, name, source, counts, meta)

    def save_dataset_files(
        self,
        name: str,
        files: dict[str, str | Path],
        *,
        source: str = "upload",
        reports: list[dict[str, Any]] | None = None,
        rejected: dict[str, str | Path] | None = None,
        dataset_id: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> DatasetInfo:
        """`save_dataset` for tables already written as canonical Parquet files (by
        `core.ingest_stream`): the files are moved in (copied when on another disk), never
        loaded into memory; row counts come from the Parquet metadata and the number of
        customers from DuckDB. Same atomic swap: a crash leaves the previous version whole."""
        _check_tables(files)
        paths = {t: Path(p) for t, p in files.items()}
        rej_paths = {t: Path(p) for t, p in (rejected or {}).items() if p is not None}
        for what, p in [*paths.items(), *rej_paths.items()]:
            if not p.is_file():
                raise ValueError(f"the {what} table file {p} does not exist")
            try:
                pq.read_schema(p)
            except (pa.ArrowInvalid, OSError) as exc:
                raise ValueError(
                    f"the {what} table file {p} is not a Parquet file: {exc}"
                ) from None
        if "customers" in paths and "customer_id" not in pq.read_schema(paths["customers"]).names:
            raise ValueError(f"the customers table file {paths['customers']} has no customer_id")
        dataset_id = dataset_id or f"{slugify(name)}-{uuid.uuid4().hex[:6]}"
        counts = {t: int(pq.ParquetFile(p).metadata.num_rows) for t, p in paths.items()}
        meta = dict(meta or {})
        meta.setdefault("n_customers", _count_customers_in_files(paths))

        def fill(tmp: Path) -> None:
            for tname, p in paths.items():
                shutil.move(p, tmp / f"{tname}.parquet")
            for tname, p in rej_paths.items():
                (tmp / "rejected").mkdir(exist_ok=True)
                shutil.move(p, tmp / "rejected" / f"{tname}.parquet")
            atomic_write_json(tmp / "report.json", reports or [])

        self._write_swap(dataset_id, fill)
        return self._register(dataset_id, name, source, counts, meta)

    def _write_swap(self, dataset_id: str, fill: Any) -> None:
        """`fill(tmp)` writes the new version into a temporary sibling of the dataset's
        folder; then it is swapped into place, so the old version stays whole until the new
        one is complete (see `recover_interrupted_writes` for a crash between the renames)."""
        final = self.dataset_dir(dataset_id)
        tmp = Path(
            tempfile.mkdtemp(dir=self.root / "datasets", prefix=f".{dataset_id}.new-{os.getpid()}-")
        )
        try:
            fill(tmp)
            old = None
            if final.exists():
                old = final.with_name(f".{dataset_id}.old-{os.getpid()}-{uuid.uuid4().hex[:6]}")
                os.replace(final, old)
            os.replace(tmp, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _register(
        self, dataset_id: str, name: str, source: str, counts: dict[str, int], meta: dict[str, Any]
    ) -> DatasetInfo:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO datasets(id, name, created_at, source, tables, meta) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (dataset_id, name, _now(), source, json.dumps(counts), json.dumps(meta)),
            )
        return self.get_dataset(dataset_id)

    def _row_to_dataset(self, row: sqlite3.Row) -> DatasetInfo:
        return DatasetInfo(
            id=row["id"],
            name=row["name"],
            created_at=row["created_at"],
            source=row["source"],
            tables=json.loads(row["tables"]),
            path=self.dataset_dir(row["id"]),
            meta=json.loads(row["meta"] or "{}"),
        )

    def list_datasets(self) -> list[DatasetInfo]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM datasets ORDER BY created_at DESC, id").fetchall()
        return [self._row_to_dataset(r) for r in rows if self.dataset_dir(r["id"]).exists()]

    def get_dataset(self, dataset_id: str) -> DatasetInfo:
        with self._db() as db:
            row = db.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
        if row is None:
            raise KeyError(f"no dataset with id {dataset_id!r} in workspace {self.root}")
        return self._row_to_dataset(row)

    def has_dataset(self, dataset_id: str) -> bool:
        try:
            self.get_dataset(dataset_id)
        except (KeyError, ValueError):
            return False
        return True

    def table_paths(self, dataset_id: str) -> dict[str, Path]:
        d = self.dataset_dir(dataset_id)
        return {t: d / f"{t}.parquet" for t in TABLES if (d / f"{t}.parquet").exists()}

    def load_table(self, dataset_id: str, table: str) -> pd.DataFrame | None:
        path = self.dataset_dir(dataset_id) / f"{table}.parquet"
        return pd.read_parquet(path) if path.exists() else None

    def load_rejected(self, dataset_id: str) -> dict[str, pd.DataFrame]:
        d = self.dataset_dir(dataset_id) / "rejected"
        if not d.exists():
            return {}
        return {p.stem: pd.read_parquet(p) for p in sorted(d.glob("*.parquet"))}

    def load_reports(self, dataset_id: str) -> list[dict[str, Any]]:
        path = self.dataset_dir(dataset_id) / "report.json"
        return json.loads(path.read_text()) if path.exists() else []

    def delete_dataset(self, dataset_id: str) -> None:
        d = self.dataset_dir(dataset_id)
        with self._db() as db:
            db.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))
            db.execute("DELETE FROM runs WHERE dataset_id = ?", (dataset_id,))
        shutil.rmtree(d, ignore_errors=True)

    # -------------------------------------------------------------------- runs
    def create_run(self, dataset_id: str, kind: str, params: dict[str, Any]) -> RunInfo:
        self.get_dataset(dataset_id)
        run_id = f"{kind}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        path = self.root / "runs" / run_id
        path.mkdir(parents=True)
        now = _now()
        with self._db() as db:
            db.execute(
                "INSERT INTO runs(id, dataset_id, kind, status, params, created_at, updated_at) "
                "VALUES (?, ?, ?, 'created', ?, ?, ?)",
                (run_id, dataset_id, kind, json.dumps(params, default=str), now, now),
            )
        return self.get_run(run_id)

    def update_run(
        self, run_id: str, *, status: str | None = None, summary: dict[str, Any] | None = None
    ) -> RunInfo:
        sets, args = ["updated_at = ?"], [_now()]
        if status is not None:
            sets.append("status = ?")
            args.append(status)
        if summary is not None:
            sets.append("summary = ?")
            args.append(json.dumps(summary, default=str))
        with self._db() as db:
            db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> RunInfo:
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run with id {run_id!r}")
        return RunInfo(
            id=row["id"],
            dataset_id=row["dataset_id"],
            kind=row["kind"],
            status=row["status"],
            params=json.loads(row["params"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            path=self.root / "runs" / row["id"],
            summary=json.loads(row["summary"] or "{}"),
        )

    def list_runs(self, dataset_id: str | None = None, kind: str | None = None) -> list[RunInfo]:
        q, args = "SELECT id FROM runs WHERE 1=1", []
        if dataset_id:
            q += " AND dataset_id = ?"
            args.append(dataset_id)
        if kind:
            q += " AND kind = ?"
            args.append(kind)
        with self._db() as db:
            ids = [r["id"] for r in db.execute(q + " ORDER BY created_at DESC, id DESC", args)]
        return [self.get_run(i) for i in ids]


def _check_tables(tables: dict[str, Any]) -> None:
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)} (expected {', '.join(TABLES)})")
    if "customers" not in tables and "orders" not in tables:
        raise ValueError(
            "a dataset needs at least a customers table or an orders table; "
            f"got only: {', '.join(sorted(tables)) or 'nothing'}"
        )


def _count_customers_in_files(paths: dict[str, Path]) -> int:
    """`_count_customers` over Parquet files, with DuckDB (no table is loaded whole)."""
    import duckdb

    if "customers" in paths:
        sql, args = "SELECT count(DISTINCT customer_id) FROM read_parquet(?)", [paths["customers"]]
    else:
        parts = [t for t in ("orders", "reviews") if t in paths]
        sql = (
            "SELECT count(*) FROM ("
            + " UNION ".join(
                "SELECT customer_id FROM read_parquet(?) WHERE customer_id IS NOT NULL"
                for _ in parts
            )
            + ")"
        )
        args = [paths[t] for t in parts]
    con = duckdb.connect()
    try:
        return int(con.execute(sql, [str(a) for a in args]).fetchone()[0])
    finally:
        con.close()


def _count_customers(tables: dict[str, pd.DataFrame]) -> int:
    if "customers" in tables:
        return int(tables["customers"]["customer_id"].nunique())
    ids = set()
    for t in ("orders", "reviews"):
        if t in tables:
            ids.update(tables[t]["customer_id"].dropna().unique().tolist())
    return len(ids)
