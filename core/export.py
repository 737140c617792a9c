"""Exports that are safe to open in a spreadsheet.

Text cells that begin with = + - @ tab or carriage return are read as formulas by Excel,
LibreOffice and Google Sheets (CSV injection). Such cells are prefixed with a single quote,
which spreadsheets show as plain text. Numeric columns are never touched.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text columns cannot be interpreted as spreadsheet formulas."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        if pd.api.types.is_bool_dtype(s):
            continue
        out[col] = s.map(neutralise_cell, na_action="ignore")
    return out


def to_safe_csv_bytes(df: pd.DataFrame, *, excel_bom: bool = False) -> bytes:
    buf = io.StringIO()
    neutralise_formulas(df).to_csv(buf, index=False)
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if excel_bom else data


def write_safe_csv(df: pd.DataFrame, path: str | Path, *, excel_bom: bool = False) -> Path:
    from core.workspace import atomic_write_bytes

    path = Path(path)
    atomic_write_bytes(path, to_safe_csv_bytes(df, excel_bom=excel_bom))
    return path


KEY_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "return_rate",
    "discount_rate",
    "review_count",
    "avg_rating",
)


def segment_list(
    segments: pd.DataFrame,
    names: dict[str, str] | None = None,
    *,
    include: list[str] | None = None,
    features: list[str] | None = None,
    score_column: str | None = "confidence",
) -> pd.DataFrame:
    """customer_id, segment, name, key features (and the score) for the chosen segments."""
    names = names or {}
    df = segments if include is None else segments[segments["segment"].isin(include)]
    cols = [c for c in (features if features is not None else KEY_FEATURES) if c in df.columns]
    out = pd.DataFrame(
        {
            "customer_id": df["customer_id"].to_numpy(),
            "segment": df["segment"].astype(str).to_numpy(),
            "segment_name": df["segment"].astype(str).map(lambda s: names.get(s, s)).to_numpy(),
        }
    )
    for c in cols:
        out[c] = df[c].to_numpy()
    if score_column and score_column in df.columns and df[score_column].notna().any():
        out["score"] = df[score_column].round(4).to_numpy()
    return out


# Headers of a segment list as a page shows them in Chinese (the file keeps the English ids).
_LIST_COLUMNS_ZH = {
    "customer_id": "客户 ID",
    "segment": "分群",
    "segment_name": "分群名称",
    "score": "归属得分",
    "confidence": "置信度",
}


def column_label(column: str, lang: str = "en") -> str:
    """How a page heads a segment-list column in `lang`: English keeps the file's column id;
    other languages name it (features by their short catalogue name)."""
    if lang == "en":
        return column
    if lang == "zh" and column in _LIST_COLUMNS_ZH:
        return _LIST_COLUMNS_ZH[column]
    from core.explain import feature_label

    return feature_label(column, lang=lang)


def write_table(
    df: pd.DataFrame, path: str | Path, *, fmt: str | None = None, excel_bom: bool = False
) -> Path:
    """CSV (formula-safe, optional BOM for Excel) or Parquet, chosen by `fmt` or the suffix."""
    path = Path(path)
    fmt = fmt or ("parquet" if path.suffix == ".parquet" else "csv")
    if fmt == "parquet":
        from core.workspace import atomic_write_parquet

        atomic_write_parquet(path, df)
        return path
    if fmt != "csv":
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    return write_safe_csv(df, path, excel_bom=excel_bom)


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()
