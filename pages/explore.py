"""Explore: the UMAP map of customers, coloured by anything, with lasso/box selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.export import segment_list, to_safe_csv_bytes
from core.pipeline import load_segments, save_selection, segment_names
from dashboard import state
from dashboard.components.charts import customer_map, is_categorical
from dashboard.components.empty import require_segment_run
from dashboard.components.format import fmt_int, fmt_money, fmt_pct
from dashboard.components.map_points import (
    ALL,
    cap_options,
    default_cap,
    sample_for_map,
    selected_mask,
)

st.title("Explore")
ws = state.workspace()
ds, run = require_segment_run("its map appears here.")

seg = load_segments(ws, run.id)
if "x" not in seg:
    st.info("This run has no map (it was run without the UMAP step). Run it again with the map on.")
    st.stop()
names = segment_names(ws, run.id)
seg["segment_name"] = seg["segment"].map(lambda s: names.get(s, s))
customers = ws.load_table(ds.id, "customers")
if customers is not None:
    attrs = [c for c in customers.columns if c != "customer_id" and c not in seg.columns]
    seg = seg.merge(customers[["customer_id", *attrs]], on="customer_id", how="left")

hidden = {"customer_id", "x", "y"}
colour_options = ["segment_name"] + [
    c for c in seg.columns if c not in hidden and c != "segment_name"
]
c1, c2, c3 = st.columns([2, 1, 1])
colour = c1.selectbox(
    "Colour by",
    colour_options,
    key="explore_colour",
    format_func=lambda c: "segment" if c == "segment_name" else c,
    help="Segments, any feature (continuous colour scale) or any customer attribute.",
)
default_points = default_cap()
max_points = c2.select_slider(
    "Points drawn",
    cap_options(default_points),
    value=default_points,
    key="explore_points",
    format_func=lambda v: "all" if v == ALL else fmt_int(v),
    help="Large maps draw the same share of every segment so the page stays responsive; "
    "a lasso or box still selects every customer inside it, drawn or not.",
)
c3.metric("Customers", fmt_int(len(seg)))

# Stratified by segment (not by the colour), with a fixed seed: the same customers are drawn
# whatever the colour and on every rerun, so the chart (identified by its figure) keeps its
# selection.
shown = sample_for_map(seg, max_points, by="segment")
sampled = len(shown) < len(seg)
if sampled:
    st.caption(
        f"Showing {fmt_int(len(shown))} of {fmt_int(len(seg))} customers (sampled evenly per "
        "segment). A lasso or box selects every customer inside it, including those not drawn."
    )

# The figure must not depend on the selection: Streamlit identifies the chart by its spec, so
# a figure redrawn with the selection baked in would be a new chart with an empty selection.
# Plotly greys out unselected points in the browser by itself (see `unselected` in the traces).
sel_key = f"explore_map_{run.id}"
totals = (
    seg[colour].astype(str).value_counts().to_dict()
    if sampled and is_categorical(seg[colour])
    else None
)
fig = customer_map(shown, colour, totals=totals)
event = st.plotly_chart(
    fig,
    key=sel_key,
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    width="stretch",
    config={"scrollZoom": True, "displaylogo": False},
)
selection = event.selection if event and event.selection else None
in_selection = selected_mask(seg, selection, sampled=sampled, colour=colour)

st.subheader("Selection")
if not in_selection.any():
    st.caption("Draw a lasso or a box on the map (toolbar, top right) to select customers.")
    st.stop()

sel = seg[in_selection]
total_rev = float(seg["monetary"].clip(lower=0).sum()) if "monetary" in seg else 0.0
m1, m2, m3, m4 = st.columns(4)
m1.metric("Selected customers", fmt_int(len(sel)))
m2.metric("Share of customers", fmt_pct(len(sel) / len(seg)))
if "monetary" in sel:
    m3.metric("Revenue", fmt_money(sel["monetary"].sum()))
    m4.metric(
        "Share of revenue",
        fmt_pct(max(0.0, sel["monetary"].clip(lower=0).sum()) / total_rev) if total_rev else "—",
    )
mix = sel["segment_name"].value_counts(normalize=True)
st.caption(
    "Segments in the selection: " + ", ".join(f"{k} {fmt_pct(v)}" for k, v in mix.head(6).items())
)

export = segment_list(sel, names)
st.dataframe(export.head(1000), hide_index=True, width="stretch")
e1, e2 = st.columns(2)
bom = e1.checkbox("UTF-8 with BOM (for Excel)", value=False, key="explore_bom")
e1.download_button(
    f"Download {fmt_int(len(export))} customers (CSV)",
    to_safe_csv_bytes(export, excel_bom=bom),
    file_name="selection.csv",
    mime="text/csv",
    key="explore_dl",
)
with e2.form("save_selection"):
    new_name = st.text_input(
        "Save as a named segment", placeholder="e.g. Big spenders in the north"
    )
    if st.form_submit_button("Save") and new_name.strip():
        save_selection(ws, run.id, new_name.strip(), sel["customer_id"].tolist())
        st.success(
            f"Saved '{new_name.strip()}' ({fmt_int(len(sel))} customers). Export it on the Export page."
        )

num_cols = [c for c in seg.select_dtypes("number").columns if c not in ("x", "y", "confidence")]
if num_cols:
    comp = pd.DataFrame(
        {
            "feature": num_cols,
            "selection": sel[num_cols].mean().to_numpy(),
            "everyone": seg[num_cols].mean().to_numpy(),
        }
    )
    comp["ratio"] = np.where(
        comp["everyone"].abs() > 1e-12, comp["selection"] / comp["everyone"], np.nan
    )
    comp = comp.reindex(comp["ratio"].sub(1).abs().sort_values(ascending=False).index)
    with st.expander("How the selection differs from everyone (feature means)", expanded=False):
        st.dataframe(comp.round(3), hide_index=True, width="stretch")
