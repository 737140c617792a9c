"""Home: where the analyst stands and what to do next."""

from __future__ import annotations

import streamlit as st

from core.datasets import compute_dataset_features, create_demo_dataset, summarise_dataset
from dashboard import state
from dashboard.components.format import fmt_int, fmt_money
from dashboard.navigation import page

st.title("Segment Studio")
st.caption(
    "Turn your customers, orders and reviews into customer segments you can trust and act on."
)

ws = state.workspace()
ds = state.active_dataset()


def _load_demo() -> None:
    with st.status("Generating the demo store (20,000 customers, 2 years of orders)…") as s:
        info = create_demo_dataset(ws)
        s.update(label=f"Demo store ready: {info.name}", state="complete")
    state.set_active_dataset(info.id)


if ds is None:
    st.subheader("Start here")
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**Try it with the demo store**")
        st.write(
            "A synthetic shop with 20,000 customers, eight planted personas, two years of "
            "orders and review text. Nothing to prepare."
        )
        if st.button("Load the demo store", type="primary", key="home_load_demo"):
            _load_demo()
            st.rerun()
    with right, st.container(border=True):
        st.markdown("**Use your own data**")
        st.write(
            "Upload a customers table, an orders / transactions export, products and reviews "
            "(CSV, Excel, Parquet or JSON lines). Either customers or orders alone is enough."
        )
        st.page_link(page("data"), label="Go to Data", icon=":material/upload_file:")
    st.stop()

summary = summarise_dataset(ws, ds.id)
st.subheader(ds.name)
cols = st.columns(5)
cols[0].metric("Customers", fmt_int(summary.n_customers))
cols[1].metric("Orders", fmt_int(summary.n_orders))
cols[2].metric("Net revenue", fmt_money(summary.revenue))
cols[3].metric("Reviews", fmt_int(summary.n_reviews))
if summary.first_order is not None:
    months = (
        (summary.last_order.year - summary.first_order.year) * 12
        + summary.last_order.month
        - summary.first_order.month
        + 1
    )
    cols[4].metric(
        "Months of orders",
        fmt_int(months),
        help=f"{summary.first_order:%d %b %Y} – {summary.last_order:%d %b %Y}",
    )
else:
    cols[4].metric("Months of orders", "—")

# What has been done, what comes next.
config = state.feature_config(ds.id)
features_ready = any((ds.path / "feature_cache").glob("*.parquet")) if ds.path.exists() else False
warnings = ds.meta.get("warnings", [])

st.subheader("Next steps")
runs = [r for r in ws.list_runs(ds.id, kind="segment") if r.status == "done"]
models = [r for r in ws.list_runs(ds.id, kind="train") if r.status == "done"]
steps = [
    ("Data loaded and validated", True, "data", "Review the validation report"),
    ("Customer features computed", features_ready, "features", "Compute features"),
    ("Customers segmented", bool(runs), "segments", "Run a segmentation"),
    ("Segments explored, named and exported", None, "profiles", "Read the segment profiles"),
    (
        "A model fine-tuned to predict segments, churn or value",
        bool(models),
        "train",
        "Train a model",
    ),
]
next_done = False
for label, done, target, action in steps:
    if done is None:  # an open-ended step: available once segments exist
        if runs:
            c1, _ = st.columns([3, 2])
            c1.markdown(f":material/arrow_right: {label}")
            links = st.columns(3)
            links[0].page_link(
                page("explore"), label="Explore the map", icon=":material/scatter_plot:"
            )
            links[1].page_link(page("profiles"), label="Segment profiles", icon=":material/groups:")
            links[2].page_link(page("export"), label="Export lists", icon=":material/download:")
        continue
    c1, c2 = st.columns([3, 2])
    icon = ":material/check_circle:" if done else ":material/radio_button_unchecked:"
    c1.markdown(f"{icon} {label}")
    if not done and not next_done:
        next_done = True
        c2.page_link(page(target), label=f"Next: {action}", icon=":material/arrow_forward:")
    else:
        c2.page_link(page(target), label="Open", icon=":material/arrow_forward:")
if models:
    st.page_link(
        page("evaluate"),
        label="See how the model compares with the baselines",
        icon=":material/analytics:",
    )

if warnings:
    st.warning("\n\n".join(warnings), icon=":material/warning:")

if not features_ready and st.button(
    "Compute features now", type="primary", key="home_compute_features"
):
    with st.spinner("Computing customer features with DuckDB…"):
        table = compute_dataset_features(ws, ds.id, config)
    st.success(f"{len(table.data):,} customers × {len(table.features)} features computed.")
    st.rerun()
