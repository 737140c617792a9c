"""Export: segment lists and saved selections as spreadsheet-safe CSV or Parquet."""

from __future__ import annotations

import streamlit as st

from core.export import KEY_FEATURES, segment_list, to_parquet_bytes, to_safe_csv_bytes
from core.pipeline import load_segments, load_selections, segment_names
from dashboard import state
from dashboard.components.empty import require_segment_run
from dashboard.components.format import fmt_int

st.title("Export")
ws = state.workspace()
ds, run = require_segment_run("its segment lists can be exported here.")

seg = load_segments(ws, run.id)
names = segment_names(ws, run.id)
selections = load_selections(ws, run.id)
st.caption(
    "Lists hold customer_id, segment, segment name, key features and the assignment score. "
    "Text cells that a spreadsheet would run as a formula (starting with = + - @ tab or CR) "
    "are prefixed with ' so they open as plain text; numbers are untouched."
)

source = st.radio(
    "Export",
    ["Segments", "Saved selections"],
    horizontal=True,
    key="exp_source",
    disabled=not selections,
    help="Selections are saved from the Explore map",
)
if source == "Segments" or not selections:
    order = seg["segment"].value_counts().index.tolist()
    chosen = st.multiselect(
        "Segments",
        order,
        default=order[:1],
        key="exp_segments",
        format_func=lambda s: f"{names.get(s, s)} ({fmt_int((seg['segment'] == s).sum())})",
    )
    rows = seg[seg["segment"].isin(chosen)]
    label = "_".join(str(names.get(s, s)) for s in chosen)[:60] or "segments"
else:
    pick = st.selectbox("Selection", list(selections), key="exp_selection")
    rows = seg[seg["customer_id"].isin(set(selections[pick]))]
    label = pick

feature_opts = [c for c in seg.select_dtypes("number").columns if c not in ("x", "y", "confidence")]
features = st.multiselect(
    "Feature columns",
    feature_opts,
    default=[c for c in KEY_FEATURES if c in feature_opts],
    key="exp_features",
    help="Which customer features to include next to the segment",
)
out = segment_list(rows, names, features=features)
c1, c2 = st.columns(2)
fmt = c1.radio("Format", ["CSV", "Parquet"], horizontal=True, key="exp_fmt")
bom = c2.checkbox(
    "UTF-8 with BOM (Excel)",
    value=True,
    key="exp_bom",
    disabled=fmt != "CSV",
    help="Excel needs the BOM to show non-English text correctly",
)
st.metric("Rows", fmt_int(len(out)))
st.dataframe(out.head(200), hide_index=True, width="stretch")
safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label)
if fmt == "CSV":
    st.download_button(
        f"Download {fmt_int(len(out))} rows (CSV)",
        to_safe_csv_bytes(out, excel_bom=bom),
        file_name=f"{safe}.csv",
        mime="text/csv",
        type="primary",
        key="exp_dl",
        disabled=not len(out),
    )
else:
    st.download_button(
        f"Download {fmt_int(len(out))} rows (Parquet)",
        to_parquet_bytes(out),
        file_name=f"{safe}.parquet",
        mime="application/octet-stream",
        type="primary",
        key="exp_dl",
        disabled=not len(out),
    )
