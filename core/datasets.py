"""From ingest results or the demo generator to a workspace dataset, and its feature set-up.

This is the glue the CLI and the app share: assemble several ingested files into one dataset
(with cross-table checks), create the demo dataset, and keep each dataset's feature
configuration (enabled catalogue features, custom SQL features, cutoff) next to its tables.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.features import Feature, FeatureEngine, FeatureTable, build_customer_features
from core.ingest_text import EN, MessageError, Msg, localize, to_json
from core.locale import phrase, phrase_dicts
from core.workspace import DatasetInfo, Workspace, atomic_write_json, atomic_write_parquet

DEMO_ID = "demo"


class DatasetError(MessageError):
    """The ingested files cannot make a dataset (none given, no customers or orders table,
    a customer in two customers files...). ``str(exc)`` is English; `message` is the `Msg`."""


@dataclass
class AssembledDataset:
    tables: dict[str, pd.DataFrame]
    rejected: dict[str, pd.DataFrame]
    reports: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)  # `Msg`s: English, and translatable


def _table_list(names: Iterable[str]) -> Msg | str:
    """Table names joined with commas, each in the reader's language ("nothing" when none)."""
    parts: list[Msg | str] = [
        Msg(f"table_{n}") if f"table_{n}" in EN else str(n) for n in sorted(names)
    ]
    if not parts:
        return Msg("no_tables")
    out = parts[0]
    for p in parts[1:]:
        out = Msg("list_pair", a=out, b=p)
    return out


def _needs_table(tables: Iterable[str]) -> DatasetError:
    return DatasetError(Msg("dataset_needs_table", found=_table_list(tables)))


def _unknown_customers(table: str, n_rows: int, n_customers: int) -> Msg:
    return Msg(
        "unknown_customers",
        n=int(n_rows),
        table=Msg(f"table_{table}"),
        n_customers=int(n_customers),
    )


def _warnings_meta(warnings: Sequence[str]) -> dict[str, Any]:
    """Dataset meta for cross-table warnings: the English text (as always) and, beside it,
    the structured form to show them in another language (`dataset_warnings`)."""
    return {
        "warnings": [str(w) for w in warnings],
        "warnings_i18n": [to_json(w) if isinstance(w, Msg) else None for w in warnings],
    }


def dataset_warnings(meta: Mapping[str, Any], lang: str = "en") -> list[str]:
    """A dataset's cross-table warnings in `lang`. Datasets saved before the structured form
    was kept (no ``warnings_i18n``) show their English text."""
    english = list(meta.get("warnings") or [])
    stored = list(meta.get("warnings_i18n") or [])
    stored += [None] * (len(english) - len(stored))
    return [localize(e, s, lang) for e, s in zip(english, stored, strict=False)]


def assemble_dataset(results: Sequence[Any]) -> AssembledDataset:
    """Combine `IngestResult`s (one per file) into canonical tables; check them against each other.

    Several files of the same table are stacked. Cross-table problems (orders of customers
    missing from the customers table, reviews of unknown customers) are reported, not dropped.
    """
    if not results:
        raise DatasetError(Msg("no_files_ingested"))
    by_table: dict[str, list[pd.DataFrame]] = {}
    rejected: dict[str, list[pd.DataFrame]] = {}
    reports = []
    for r in results:
        by_table.setdefault(r.table, []).append(r.data)
        if r.rejected is not None and len(r.rejected):
            rejected.setdefault(r.table, []).append(r.rejected.assign(_file=r.report.file))
        reports.append(r.report.to_dict())
    tables = {
        t: (dfs[0] if len(dfs) == 1 else pd.concat(dfs, ignore_index=True))
        for t, dfs in by_table.items()
    }
    if "customers" not in tables and "orders" not in tables:
        raise _needs_table(tables)
    warnings: list[str] = []
    if "customers" in tables:
        dup = tables["customers"]["customer_id"].duplicated()
        if dup.any():
            first = tables["customers"]["customer_id"][dup].iloc[0]
            raise DatasetError(Msg("customer_in_two_files", value=repr(first)))
        known = set(tables["customers"]["customer_id"])
        for t in ("orders", "reviews"):
            if t in tables:
                unknown = ~tables[t]["customer_id"].isin(known)
                if unknown.any():
                    n_ids = tables[t].loc[unknown, "customer_id"].nunique()
                    warnings.append(_unknown_customers(t, unknown.sum(), n_ids))
    return AssembledDataset(
        tables=tables,
        rejected={t: pd.concat(v, ignore_index=True) for t, v in rejected.items()},
        reports=reports,
        warnings=warnings,
    )


def save_assembled(
    ws: Workspace, name: str, assembled: AssembledDataset, *, source: str = "upload"
) -> DatasetInfo:
    return ws.save_dataset(
        name,
        assembled.tables,
        source=source,
        reports=assembled.reports,
        rejected=assembled.rejected,
        meta=_warnings_meta(assembled.warnings),
    )


def save_streamed(
    ws: Workspace, name: str, streamed: Sequence[Any], *, source: str = "upload"
) -> DatasetInfo:
    """Save tables ingested to Parquet files (`core.ingest_stream.StreamedTable`, one per
    table) as a dataset, without loading them: the cross-table check of `assemble_dataset`
    (orders / reviews of customers missing from the customers table) runs in DuckDB."""
    if not streamed:
        raise DatasetError(Msg("no_files_ingested"))
    by_table: dict[str, Any] = {}
    for s in streamed:
        if s.table in by_table:
            table = Msg(f"table_{s.table}") if f"table_{s.table}" in EN else s.table
            raise DatasetError(
                Msg(
                    "streamed_same_table",
                    a=by_table[s.table].report.file,
                    b=s.report.file,
                    table=table,
                )
            )
        by_table[s.table] = s
    files = {t: s.data_path for t, s in by_table.items()}
    if "customers" not in files and "orders" not in files:
        raise _needs_table(files)
    warnings = _unknown_customer_warnings(files)
    return ws.save_dataset_files(
        name,
        files,
        source=source,
        reports=[s.report.to_dict() for s in streamed],
        rejected={t: s.rejected_path for t, s in by_table.items() if s.rejected_path},
        meta=_warnings_meta(warnings),
    )


def _unknown_customer_warnings(files: dict[str, Any]) -> list[Msg]:
    import duckdb

    if "customers" not in files:
        return []
    con = duckdb.connect()
    try:
        out = []
        for t in ("orders", "reviews"):
            if t not in files:
                continue
            n_rows, n_ids = con.execute(
                "SELECT count(*), count(DISTINCT x.customer_id) FROM read_parquet(?) x "
                "ANTI JOIN read_parquet(?) c ON x.customer_id = c.customer_id",
                [str(files[t]), str(files["customers"])],
            ).fetchone()
            if n_rows:
                out.append(_unknown_customers(t, n_rows, n_ids))
        return out
    finally:
        con.close()


# The demo dataset's name (stored in English: the catalogue, the CLI) in each interface language.
# A demo whose reviews are not in English says their language (key "demo_name.<lang>").
_DEMO_NAME = {
    "en": {
        "demo_name": "Demo store ({n} customers, seed {seed})",
        "demo_name.zh": "Demo store ({n} customers, seed {seed}, Chinese reviews)",
    },
    "zh": {
        "demo_name": "演示商店（{n} 位客户，随机种子 {seed}）",
        "demo_name.zh": "演示商店（{n} 位客户，随机种子 {seed}，中文评论）",
    },
}
_DEMO_NAME_RE = re.compile(
    r"Demo store \((?P<n>[\d,]+) customers, seed (?P<seed>-?\d+)(?P<zh>, Chinese reviews)?\)"
)


def dataset_name(ds: DatasetInfo, lang: str = "en") -> str:
    """How to show a dataset's name in `lang`: the demo store's generated name is translated;
    a name the user gave (or a renamed demo) is shown as it is."""
    m = _DEMO_NAME_RE.fullmatch(ds.name or "") if ds.source == "demo" else None
    if not m:
        return ds.name
    key = "demo_name.zh" if m["zh"] else "demo_name"
    return phrase(_DEMO_NAME, lang, key, n=m["n"], seed=m["seed"])


def create_demo_dataset(
    ws: Workspace,
    n_customers: int = 20_000,
    seed: int = 0,
    *,
    dataset_id: str = DEMO_ID,
    lang: str = "en",
) -> DatasetInfo:
    """Generate the demo store and save it; ``lang`` is the language of its reviews (en, zh)."""
    from core.demo import PERSONAS, generate_demo_store

    tables = generate_demo_store(n_customers=n_customers, seed=seed, lang=lang)
    label = Msg("demo_file", seed=str(seed))
    report = [
        {
            "file": str(label),
            "file_i18n": to_json(label),
            "table": t,
            "rows_read": len(df),
            "rows_kept": len(df),
            "rows_rejected": 0,
            "notes": [str(Msg("demo_note"))],
            "notes_i18n": [to_json(Msg("demo_note"))],
            "warnings": [],
            "rejections": [],
        }
        for t, df in tables.items()
    ]
    return ws.save_dataset(
        phrase(
            _DEMO_NAME,
            "en",
            "demo_name" if lang == "en" else f"demo_name.{lang}",
            n=f"{n_customers:,}",
            seed=seed,
        ),
        tables,
        source="demo",
        reports=report,
        dataset_id=dataset_id,
        meta={"seed": seed, "personas": PERSONAS, "ground_truth": "persona", "review_lang": lang},
    )


def ensure_demo_dataset(ws: Workspace, n_customers: int = 20_000, seed: int = 0) -> DatasetInfo:
    """The demo dataset, generating it the first time."""
    if ws.has_dataset(DEMO_ID):
        return ws.get_dataset(DEMO_ID)
    return create_demo_dataset(ws, n_customers, seed)


def column_mapping(ws: Workspace, dataset_id: str, table: str) -> dict[str, str]:
    """How the uploaded columns of `table` were named in the dataset (source → stored name,
    from the ingest reports; columns left out are not listed)."""
    out: dict[str, str] = {}
    for rep in ws.load_reports(dataset_id):
        if rep.get("table") == table:
            out.update({str(k): str(v) for k, v in (rep.get("mapping") or {}).items() if v})
    return out


def resolve_column(ws: Workspace, dataset_id: str, table: str, name: str) -> str:
    """The stored column a user means by `name`: the stored name itself, or the column as it
    was called in the uploaded file (`Churn` stored as `label`), compared as typed, then
    ignoring case and punctuation. Unknown names are returned unchanged (the caller's
    'no such column' error then quotes them)."""
    from core.roles import normalize_name

    mapping = column_mapping(ws, dataset_id, table)
    if name in mapping.values() or not mapping:
        return name
    if name in mapping:
        return mapping[name]
    by_norm = {normalize_name(k): v for k, v in mapping.items()}
    return by_norm.get(normalize_name(name), name)


# --------------------------------------------------------------------------- features
@dataclass
class FeatureConfig:
    """Which features a dataset uses. `disabled` lists catalogue features switched off,
    `enabled` those off by default (attributes beside orders) switched on."""

    disabled: list[str] = field(default_factory=list)
    custom: list[Feature] = field(default_factory=list)
    cutoff: str | None = None
    enabled: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "disabled": sorted(self.disabled),
            "enabled": sorted(self.enabled),
            "custom": [f.to_dict() for f in self.custom],
            "cutoff": self.cutoff,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        return cls(
            disabled=list(d.get("disabled", [])),
            enabled=list(d.get("enabled", [])),
            custom=[Feature.from_dict(f) for f in d.get("custom", [])],
            cutoff=d.get("cutoff"),
        )

    def with_cutoff(self, cutoff: str | None) -> FeatureConfig:
        return FeatureConfig(list(self.disabled), list(self.custom), cutoff, list(self.enabled))

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def load_feature_config(ws: Workspace, dataset_id: str) -> FeatureConfig:
    path = ws.dataset_dir(dataset_id) / "features.json"
    if not path.exists():
        return FeatureConfig()
    return FeatureConfig.from_dict(json.loads(path.read_text()))


def save_feature_config(ws: Workspace, dataset_id: str, config: FeatureConfig) -> None:
    atomic_write_json(ws.dataset_dir(dataset_id) / "features.json", config.to_dict())


def excluded_attributes(ws: Workspace, dataset_id: str) -> list[str]:
    """Customers columns that must not become features: a demo store's planted ground truth
    (kept to measure segmentations against, never to learn from)."""
    truth = ws.get_dataset(dataset_id).meta.get("ground_truth")
    return [truth] if truth else []


def feature_engine(ws: Workspace, dataset_id: str, cutoff: str | None = None) -> FeatureEngine:
    return FeatureEngine(
        ws.table_paths(dataset_id),
        cutoff=cutoff,
        exclude_attributes=excluded_attributes(ws, dataset_id),
    )


def compute_dataset_features(
    ws: Workspace, dataset_id: str, config: FeatureConfig | None = None
) -> FeatureTable:
    """Features for a dataset under its saved (or the given) configuration, cached on disk."""
    config = config or load_feature_config(ws, dataset_id)
    info = ws.get_dataset(dataset_id)
    cache_dir = ws.dataset_dir(dataset_id) / "feature_cache"
    key = hashlib.sha256(f"{info.created_at}|{config.key()}".encode()).hexdigest()[:16]
    data_path, meta_path = cache_dir / f"{key}.parquet", cache_dir / f"{key}.json"
    if data_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return FeatureTable(
            data=pd.read_parquet(data_path),
            features=[Feature.from_dict(f) for f in meta["features"]],
            ref_date=pd.Timestamp(meta["ref_date"]).to_pydatetime(),
            cutoff=pd.Timestamp(meta["cutoff"]).to_pydatetime() if meta["cutoff"] else None,
            sql=meta["sql"],
            notes=meta["notes"],
            note_phrases=meta.get("note_phrases", []),
            text_attributes=meta.get("text_attributes", []),
        )
    table = build_customer_features(
        ws.table_paths(dataset_id),
        custom=config.custom,
        cutoff=config.cutoff,
        exclude=config.disabled,
        include=config.enabled,
        exclude_attributes=excluded_attributes(ws, dataset_id),
    )
    atomic_write_parquet(data_path, table.data)
    atomic_write_json(
        meta_path,
        {
            "features": [f.to_dict() for f in table.features],
            "ref_date": table.ref_date.isoformat(),
            "cutoff": table.cutoff.isoformat() if table.cutoff else None,
            "sql": table.sql,
            "notes": table.notes,
            "note_phrases": phrase_dicts(table.notes),
            "text_attributes": table.text_attributes,
            "dataset_id": dataset_id,
            "config": config.to_dict(),
        },
    )
    return table


# --------------------------------------------------------------------------- summary
@dataclass
class DatasetSummary:
    n_customers: int
    n_orders: int | None = None
    n_order_lines: int | None = None
    revenue: float | None = None
    first_order: Any = None
    last_order: Any = None
    n_reviews: int | None = None
    n_products: int | None = None
    return_lines: int | None = None


def summarise_dataset(ws: Workspace, dataset_id: str) -> DatasetSummary:
    """Headline numbers for a dataset, computed with DuckDB straight from its Parquet files."""
    import duckdb

    paths = ws.table_paths(dataset_id)
    con = duckdb.connect()
    try:

        def one(sql: str, path) -> tuple:
            return con.execute(sql, [str(path)]).fetchall()[0]

        out = DatasetSummary(n_customers=int(ws.get_dataset(dataset_id).n_customers or 0))
        if "orders" in paths:
            cols = {
                r[0]
                for r in con.execute(
                    "DESCRIBE SELECT * FROM read_parquet(?)", [str(paths["orders"])]
                ).fetchall()
            }
            order_key = "order_id" if "order_id" in cols else "customer_id || order_date::VARCHAR"
            amount = "amount" if "amount" in cols else "NULL"
            qty = "quantity" if "quantity" in cols else "1"
            (
                out.n_order_lines,
                out.n_orders,
                out.revenue,
                out.first_order,
                out.last_order,
                out.return_lines,
            ) = one(
                f"SELECT count(*), count(DISTINCT {order_key}), sum({amount}), min(order_date), "
                f"max(order_date), count(*) FILTER (WHERE {qty} < 0 OR {amount} < 0) "
                "FROM read_parquet(?)",
                paths["orders"],
            )
        if "reviews" in paths:
            out.n_reviews = one("SELECT count(*) FROM read_parquet(?)", paths["reviews"])[0]
        if "products" in paths:
            out.n_products = one("SELECT count(*) FROM read_parquet(?)", paths["products"])[0]
        return out
    finally:
        con.close()
