"""Rendering of ingest reports: counts, notes, warnings and the rejected rows."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from core.export import to_safe_csv_bytes
from core.ingest_text import Msg, localize, to_json
from core.schema import TABLES
from dashboard.components.format import fmt_int
from dashboard.i18n import current_language, t


def _messages(report: dict[str, Any], kind: str, lang: str) -> list[str]:
    """The report's notes or warnings in `lang` (English text of reports stored without
    their structured form stays English)."""
    english = report.get(kind) or []
    stored = list(report.get(f"{kind}_i18n") or [])
    stored += [None] * (len(english) - len(stored))
    return [localize(e, s, lang) for e, s in zip(english, stored, strict=False)]


def _localized_reasons(frame: pd.DataFrame, report: dict[str, Any], lang: str) -> pd.DataFrame:
    """`frame` (rejected rows with `_row` and `_reason`) with each reason in `lang`, where the
    report kept that row's structured reason (its first rejections); the rest as stored."""
    if lang == "en" or "_reason" not in frame.columns or "_row" not in frame.columns:
        return frame
    by_row = {
        r.get("row"): r.get("reason_i18n")
        for r in report.get("rejections") or []
        if r.get("reason_i18n")
    }
    if not by_row:
        return frame
    out = frame.copy()
    out["_reason"] = [
        localize(reason, by_row.get(_int(row)), lang)
        for row, reason in zip(out["_row"], out["_reason"], strict=True)
    ]
    return out


# Demo datasets saved before the label was kept in its structured form (``file_i18n``).
_OLD_DEMO_FILE = re.compile(r"demo store \(seed (-?\d+)\)")


def _file_label(report: dict[str, Any], lang: str) -> str:
    """The report's file name; a label the app wrote (the demo store's) in `lang`."""
    file = report.get("file", "?")
    stored = report.get("file_i18n")
    if not stored and isinstance(file, str) and (m := _OLD_DEMO_FILE.fullmatch(file)):
        stored = to_json(Msg("demo_file", seed=m.group(1)))
    return localize(file, stored, lang)


def _table_label(table: str) -> str:
    """A canonical table's name in the session's language (anything else as it is)."""
    return t(f"data.tables.{table}") if table in TABLES else table


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def render_report(
    report: dict[str, Any], rejected: pd.DataFrame | None = None, *, key: str
) -> None:
    """One file's report. `rejected` holds the full rejected rows (the report may cap its list).

    Notes, warnings and the reasons of the rejected rows shown are in the session's language;
    the downloadable CSV keeps the reasons as stored (English), like every export.
    """
    lang = current_language()
    read, kept, rej = (
        report.get("rows_read", 0),
        report.get("rows_kept", 0),
        report.get("rows_rejected", 0),
    )
    icon = (
        ":material/check_circle:"
        if rej == 0 and not report.get("warnings")
        else ":material/warning:"
        if rej == 0
        else ":material/error:"
    )
    with st.expander(
        t(
            "report.summary",
            file=_file_label(report, lang),
            table=_table_label(report.get("table", "?")),
            kept=fmt_int(kept),
            read=fmt_int(read),
            rejected=fmt_int(rej),
        ),
        expanded=bool(rej or report.get("warnings")),
        icon=icon,
    ):
        c1, c2, c3 = st.columns(3)
        c1.metric(t("report.rows_read"), fmt_int(read))
        c2.metric(t("report.rows_kept"), fmt_int(kept))
        c3.metric(t("report.rows_rejected"), fmt_int(rej))
        detected = [
            f"{label}: `{report[k]}`"
            for k, label in (
                ("encoding", t("report.encoding")),
                ("delimiter", t("report.delimiter")),
                ("decimal", t("report.decimal")),
            )
            if report.get(k)
        ]
        if report.get("date_formats"):
            detected += [f"{c}: `{f}`" for c, f in report["date_formats"].items()]
        if detected:
            st.caption(t("report.detected", items=" · ".join(detected)))
        if report.get("mapping"):
            pairs = " · ".join(
                f"{src} → **{dst}**" for src, dst in report["mapping"].items() if dst
            )
            st.caption(t("report.columns", items=pairs))
        for note in _messages(report, "notes", lang):
            st.info(note, icon=":material/info:")
        for warning in _messages(report, "warnings", lang):
            st.warning(warning, icon=":material/warning:")
        rows = report.get("rejections", [])
        if rej:
            if rejected is not None and len(rejected):
                shown = _localized_reasons(rejected.head(500), report, lang)
                _rejections_table(shown, prefix="_")
                st.download_button(
                    t("report.download_rejected", count=fmt_int(len(rejected))),
                    to_safe_csv_bytes(rejected),
                    file_name=f"rejected_{report.get('table', 'rows')}.csv",
                    mime="text/csv",
                    key=f"dl_rej_{key}",
                )
            elif rows:
                listed = pd.DataFrame(rows).head(500)
                if "reason" in listed.columns:
                    stored = listed.get("reason_i18n", pd.Series([None] * len(listed)))
                    listed["reason"] = [
                        localize(e, s, lang) for e, s in zip(listed["reason"], stored, strict=True)
                    ]
                listed = listed.drop(columns=["reason_i18n"], errors="ignore")
                _rejections_table(listed, prefix="")


def _rejections_table(df: pd.DataFrame, *, prefix: str) -> None:
    """Rejected rows (`prefix` "_": the reader's `_row`/`_column`/`_reason` beside the raw
    fields) or the report's list of rejections, with headers in the session's language."""
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        column_config={
            f"{prefix}row": st.column_config.NumberColumn(t("report.col_row"), format="%d"),
            f"{prefix}column": t("report.col_column"),
            f"{prefix}value": t("report.col_value"),
            f"{prefix}reason": t("report.col_reason"),
        },
    )
