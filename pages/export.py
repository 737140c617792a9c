"""Export: segment lists and saved selections as spreadsheet-safe CSV or Parquet."""

from __future__ import annotations

import streamlit as st

from core.export import (
    KEY_FEATURES,
    column_label,
    segment_list,
    to_parquet_bytes,
    to_safe_csv_bytes,
)
from core.pipeline import load_segments, load_selections, segment_names
from dashboard import state
from dashboard.components.empty import require_segment_run
from dashboard.components.format import feature_names_in, fmt_int
from dashboard.i18n import current_language, t

st.title(t("export.title"))
lang = current_language()
ws = state.workspace()
ds, run = require_segment_run(t("export.empty_what"))

seg = load_segments(ws, run.id)
names = segment_names(ws, run.id)
selections = load_selections(ws, run.id)
st.caption(t("export.caption"))

# The option values stay English; their labels are resolved now (format_func may run later).
sources = {
    "Segments": t("export.sources.segments"),
    "Saved selections": t("export.sources.selections"),
}
source = st.radio(
    t("export.source"),
    list(sources),
    format_func=sources.get,
    horizontal=True,
    key="exp_source",
    disabled=not selections,
    help=t("export.source_help"),
)
if source == "Segments" or not selections:
    order = seg["segment"].value_counts().index.tolist()
    chosen = st.multiselect(
        t("export.segments"),
        order,
        default=order[:1],
        key="exp_segments",
        help=t("export.tips.exp_segments"),
        format_func=lambda s: f"{names.get(s, s)} ({fmt_int((seg['segment'] == s).sum())})",
    )
    rows = seg[seg["segment"].isin(chosen)]
    label = "_".join(str(names.get(s, s)) for s in chosen)[:60] or t("export.file_default")
else:
    pick = st.selectbox(t("export.selection"), list(selections), key="exp_selection")
    rows = seg[seg["customer_id"].isin(set(selections[pick]))]
    label = pick

feature_opts = [c for c in seg.select_dtypes("number").columns if c not in ("x", "y", "confidence")]
feature_shown = feature_names_in(feature_opts, lang)
features = st.multiselect(
    t("export.features"),
    feature_opts,
    default=[c for c in KEY_FEATURES if c in feature_opts],
    format_func=feature_shown.get,
    key="exp_features",
    help=t("export.features_help"),
)
out = segment_list(rows, names, features=features)
c1, c2 = st.columns(2)
fmt = c1.radio(
    t("export.format"),
    ["CSV", "Parquet"],
    horizontal=True,
    key="exp_fmt",
    help=t("export.tips.exp_fmt"),
)
bom = c2.checkbox(
    t("export.bom"),
    value=True,
    key="exp_bom",
    disabled=fmt != "CSV",
    help=t("export.bom_help"),
)
st.metric(t("export.rows"), fmt_int(len(out)))
# The preview names each column in the session's language next to its id in the file.
st.dataframe(
    out.head(200),
    hide_index=True,
    width="stretch",
    column_config={
        c: st.column_config.Column(
            c if lang == "en" else t("export.column", label=column_label(c, lang), column=c)
        )
        for c in out.columns
    },
)
safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label)
if fmt == "CSV":
    st.download_button(
        t("export.download_csv", rows=fmt_int(len(out))),
        to_safe_csv_bytes(out, excel_bom=bom),
        file_name=f"{safe}.csv",
        mime="text/csv",
        type="primary",
        key="exp_dl",
        disabled=not len(out),
    )
else:
    st.download_button(
        t("export.download_parquet", rows=fmt_int(len(out))),
        to_parquet_bytes(out),
        file_name=f"{safe}.parquet",
        mime="application/octet-stream",
        type="primary",
        key="exp_dl",
        disabled=not len(out),
    )
