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
