"""Rendering of ingest reports: counts, notes, warnings and the rejected rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.export import to_safe_csv_bytes
from dashboard.components.format import fmt_int
from dashboard.i18n import t


def render_report(
    report: dict[str, Any], rejected: pd.DataFrame | None = None, *, key: str
) -> None:
    """One file's report. `rejected` holds the full rejected rows (the report may cap its list)."""
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
            file=report.get("file", "?"),
            table=report.get("table", "?"),
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
        for note in report.get("notes", []):
            st.info(note, icon=":material/info:")
        for warning in report.get("warnings", []):
            st.warning(warning, icon=":material/warning:")
        rows = report.get("rejections", [])
        if rej:
            if rejected is not None and len(rejected):
                st.dataframe(rejected.head(500), hide_index=True, width="stretch")
                st.download_button(
                    t("report.download_rejected", count=fmt_int(len(rejected))),
                    to_safe_csv_bytes(rejected),
                    file_name=f"rejected_{report.get('table', 'rows')}.csv",
                    mime="text/csv",
                    key=f"dl_rej_{key}",
                )
            elif rows:
                st.dataframe(pd.DataFrame(rows).head(500), hide_index=True, width="stretch")
