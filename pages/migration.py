"""Migration: how customers moved between segments from one date to a later one."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.datasets import summarise_dataset
from core.export import to_safe_csv_bytes
from core.migration import (
    NEW,
    compute_migration,
    flow_customers,
    largest_flows,
    reapplicable_run,
    segment_order,
)
from core.pipeline import segment_names
from dashboard import state
from dashboard.components.charts import NOISE_COLOUR, segment_colours
from dashboard.components.empty import require_dataset
from dashboard.components.format import fmt_int, fmt_money, fmt_pct

st.title("Migration")
ws = state.workspace()
ds = require_dataset()


@st.cache_data(show_spinner=False, max_entries=8)
def _order_dates(dataset_id: str, created_at: str) -> tuple[date | None, date | None]:
    s = summarise_dataset(ws, dataset_id)
    if s.first_order is None or s.last_order is None:
        return None, None
    return pd.Timestamp(s.first_order).date(), pd.Timestamp(s.last_order).date()


first, last = _order_dates(ds.id, ds.created_at)
if first is None or first >= last:
    st.info(
        "Migration compares customers at two dates, so it needs an orders table with order "
        "dates spanning more than one day.",
        icon=":material/info:",
    )
    st.stop()

st.caption(
    "Each customer's segment at the end of two days, computed only from the orders placed up to "
    "then (recency counted from that day), and the flows between them. The population is every "
    f"customer known on the second day; those without a purchase by a date are “{NEW}” there."
)

c1, c2 = st.columns(2)
date_a = c1.date_input(
    "From (end of day)",
    value=max(first, last - timedelta(days=90)),
    min_value=first,
    max_value=last,
    key="mig_date_a",
    help="Segments as they stood at the end of this day: orders placed after it are ignored",
)
date_b = c2.date_input(
    "To (end of day)",
    value=last,
    min_value=first,
    max_value=last,
    key="mig_date_b",
    help="The later date; its customers are the population. The default, the last order "
    "date, is the data as it stands today",
)
runs = [r for r in state.segment_runs(ds.id) if reapplicable_run(r) is None]
method = st.radio(
    "Segment customers by",
    ["RFM tiers", "A segmentation run"],
    horizontal=True,
    key="mig_method",
    disabled=not runs,
    help="RFM tiers are rules on recency, frequency and spend. A numeric segmentation run "
    "(no review text) can be re-applied: each customer takes the nearest segment centre "
    "at each date" + ("" if runs else " — no such run yet"),
)
thresholds, run_id, run_updated, names = "fixed", None, "", {}
if method == "RFM tiers" or not runs:
    fixed = st.toggle(
        "Keep the first date's thresholds",
        value=True,
        key="mig_fixed",
        help="On: both dates are scored against the recency, frequency and spend quintiles of "
        "the first date, so a move means the customer's own behaviour changed. Off: quintiles "
        "are re-ranked at each date, so customers also move when others change",
    )
    thresholds = "fixed" if fixed else "per_cutoff"
    method_key = "rfm"
else:
    run = st.selectbox(
        "Run",
        runs,
        key="mig_run",
        format_func=lambda r: f"{r.id} · {r.params.get('method')} k={r.params.get('k')}",
    )
    run_id, run_updated, method_key = run.id, run.updated_at, "run"
    names = segment_names(ws, run.id)

if date_a >= date_b:
    st.warning("Pick a From day before the To day.", icon=":material/warning:")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=16)
def _migration(dataset_id, created_at, a, b, method, thresholds, run_id, run_updated):
    """Keyed by dataset (and its version), both days, the method and the run (and its version)."""
    return compute_migration(
        ws,
        dataset_id,
        a + timedelta(days=1),  # end of day a: orders before the next midnight count
        b + timedelta(days=1),
        method=method,
        thresholds=thresholds,
        run_id=run_id,
    )


with st.spinner("Segmenting customers at both dates…"):
    try:
        mig = _migration(
            ds.id, ds.created_at, date_a, date_b, method_key, thresholds, run_id, run_updated
        )
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()

flows = mig.flows
show = lambda s: names.get(s, s)  # noqa: E731
n = int(flows["customers"].sum())
new = int(flows.loc[flows["from"] == NEW, "customers"].sum())
known = flows[flows["from"] != NEW]
moved = int(known.loc[known["from"] != known["to"], "customers"].sum())
m1, m2, m3 = st.columns(3)
m1.metric("Customers", fmt_int(n), help=f"Everyone known on {date_b:%d %b %Y}")
m2.metric(
    "Changed segment",
    fmt_pct(moved / (n - new) if n > new else None),
    help=f"{fmt_int(moved)} of the {fmt_int(n - new)} customers who had bought by "
    f"{date_a:%d %b %Y}",
)
m3.metric(
    f"{NEW} on {date_a:%d %b %Y}",
    fmt_int(new),
    help="No purchase yet by the From day: not known then, or known but not buying",
)


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


PAD, HEIGHT = 12, 560


def _sankey(flows: pd.DataFrame) -> go.Figure:
    left, right = segment_order(flows["from"]), segment_order(flows["to"])
    colours = segment_colours([s for s in segment_order(left + right) if s != NEW])
    colours[NEW] = NOISE_COLOUR
    size_l = flows.groupby("from")["customers"].sum()
    size_r = flows.groupby("to")["customers"].sum()
    labels = [f"{show(s)} ({fmt_int(size_l[s])})" for s in left]
    labels += [f"{show(s)} ({fmt_int(size_r[s])})" for s in right]
    index_l = {s: i for i, s in enumerate(left)}
    index_r = {s: len(left) + i for i, s in enumerate(right)}
    hover = [
        f"{fmt_int(r.customers)} customers: {show(r[0])} → {show(r[1])}"
        f"<br>{fmt_pct(r.share_of_from)} of {show(r[0])}"
        + (f"<br>spent before: {fmt_money(r.revenue_at_a)}" if "revenue_at_a" in flows else "")
        for r in flows.itertuples(index=False)
    ]
    # Fixed positions keep both columns in the display order (plotly would reorder them).
    # Node centres as plotly sizes nodes: one scale for both columns, PAD pixels between nodes.
    gap = PAD / (HEIGHT - 50)  # the plot area is the height less the top and bottom margins
    cols = ((0.001, left, size_l), (0.999, right, size_r))
    scale = min((1 - (len(side) - 1) * gap) / float(sizes.sum()) for _, side, sizes in cols)
    xs, ys = [], []
    for x, side, sizes in cols:
        top = 0.0
        for s in side:
            xs.append(x)
            ys.append(top + sizes[s] * scale / 2)
            top += sizes[s] * scale + gap
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node=dict(
                x=xs,
                y=ys,
                label=labels,
                color=[colours[s] for s in left + right],
                pad=PAD,
                thickness=16,
                hovertemplate="%{label}<extra></extra>",
            ),
            link=dict(
                source=[index_l[s] for s in flows["from"]],
                target=[index_r[s] for s in flows["to"]],
                value=flows["customers"].tolist(),
                color=[_rgba(colours[s], 0.35) for s in flows["from"]],
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
            ),
        )
    )
    for x, anchor, day in ((0, "left", date_a), (1, "right", date_b)):
        fig.add_annotation(
            x=x,
            y=1.06,
            xref="paper",
            yref="paper",
            text=f"<b>{day:%d %b %Y}</b>",
            showarrow=False,
            xanchor=anchor,
        )
    fig.update_layout(height=HEIGHT, margin=dict(l=10, r=10, t=40, b=10), font_size=12)
    return fig


st.plotly_chart(_sankey(flows), width="stretch", key="mig_sankey")

st.subheader("Largest moves")
by = st.radio(
    "Rank moves by",
    ["customers", "revenue"],
    horizontal=True,
    key="mig_by",
    format_func=lambda v: "Customers" if v == "customers" else "Spend before the From day",
    help="Spend: the net spend, up to the From day, of the customers who moved — what is at "
    "stake when a valuable group slips",
)
sentences = largest_flows(flows, 5, by=by, names=names)
st.markdown("\n".join(f"- {s}" for s in sentences) if sentences else "Nobody changed segment.")
for note in mig.notes:
    st.caption(note)
if method_key == "rfm":
    st.caption(
        "RFM tiers with thresholds fixed at the From day: frequency and spend add up over time, "
        "so customers who keep buying move up and customers who stop drift down on recency."
        if thresholds == "fixed"
        else "RFM tiers re-ranked at each date: a customer's tier also depends on everyone else."
    )

st.subheader("All flows")
table = flows.assign(**{"from": flows["from"].map(show), "to": flows["to"].map(show)}).rename(
    columns={
        "from": "From",
        "to": "To",
        "customers": "Customers",
        "share_of_from": "Share of From",
        "revenue_at_a": "Spend before From day",
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "Share of From": st.column_config.NumberColumn(format="percent"),
        "Spend before From day": st.column_config.NumberColumn(format="dollar"),
    },
)

st.subheader("Export a flow")
# Moves of existing customers first, largest first; then the new customers' first segments.
moves = flows[flows["from"] != flows["to"]].sort_values("customers", ascending=False, kind="stable")
moves = pd.concat([moves[moves["from"] != NEW], moves[moves["from"] == NEW]])
options = list(zip(moves["from"], moves["to"], strict=True)) or list(
    zip(flows["from"], flows["to"], strict=True)
)
counts = dict(zip(zip(flows["from"], flows["to"], strict=True), flows["customers"], strict=True))
pick = st.selectbox(
    "Customers who moved",
    options,
    key="mig_flow",
    format_func=lambda p: f"{show(p[0])} → {show(p[1])} ({fmt_int(counts[p])})",
)
rows = flow_customers(mig, *pick)
rows = rows.assign(segment_a=rows["segment_a"].map(show), segment_b=rows["segment_b"].map(show))
rows = rows.rename(
    columns={
        "segment_a": f"segment_{date_a:%Y-%m-%d}",
        "segment_b": f"segment_{date_b:%Y-%m-%d}",
        "monetary_a": f"spend_to_{date_a:%Y-%m-%d}",
        "monetary_b": f"spend_to_{date_b:%Y-%m-%d}",
    }
)
slug = re.sub(r"[^a-z0-9]+", "_", f"{show(pick[0])}_to_{show(pick[1])}".lower()).strip("_")
st.download_button(
    f"Download {fmt_int(len(rows))} customers (CSV)",
    to_safe_csv_bytes(rows),
    file_name=f"migration_{slug}_{date_a:%Y%m%d}_{date_b:%Y%m%d}.csv",
    mime="text/csv",
    key="mig_download",
    icon=":material/download:",
)
