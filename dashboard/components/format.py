"""Numbers for humans: thousands separators, currency, percentages, durations."""

from __future__ import annotations

import math

import pandas as pd


def _bad(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_int(x) -> str:
    return "—" if _bad(x) else f"{int(round(float(x))):,}"


def fmt_num(x, digits: int = 2) -> str:
    if _bad(x):
        return "—"
    x = float(x)
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.{digits}f} M"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def fmt_money(x, symbol: str = "$") -> str:
    if _bad(x):
        return "—"
    x = float(x)
    sign = "−" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        return f"{sign}{symbol}{x / 1e6:,.2f} M"
    return f"{sign}{symbol}{x:,.2f}" if x < 1e4 else f"{sign}{symbol}{x:,.0f}"


def fmt_pct(x, digits: int = 1) -> str:
    return "—" if _bad(x) else f"{float(x) * 100:.{digits}f}%"


def fmt_value(x, unit: str) -> str:
    """Format a feature value by its unit (as declared in the feature catalogue)."""
    if unit == "currency":
        return fmt_money(x)
    if unit == "share":
        return fmt_pct(x)
    if unit in ("count", "days", "chars"):
        return fmt_num(x, 1)
    return fmt_num(x)


def feature_names_in(names, lang: str, category_labels=None) -> dict[str, str]:
    """Feature id → what a picker shows in `lang`: the id in English (it is what SQL and the
    exports call it), the feature's short name in other languages (ids of features the
    catalogue does not know stay as they are)."""
    if lang == "en":
        return {n: n for n in names}
    from core.explain import feature_label

    return {n: feature_label(n, category_labels, lang=lang) for n in names}


def missing_as_dash(df: pd.DataFrame) -> pd.DataFrame:
    """`df` for display: empty text cells shown as "—" instead of the table's English "None".

    Only text columns: a number column would turn into text (and lose its alignment and sort).
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if (s.dtype == object or pd.api.types.is_string_dtype(s)) and s.isna().any():
            out[col] = s.astype(object).where(s.notna(), "—")
    return out
