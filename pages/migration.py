"""Migration: how customers moved between segments from one date to a later one."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.datasets import summarise_dataset
from core.export import to_safe_csv_bytes
from core.locale import error_text
from core.migration import (
    NEW,
    compute_migration,
    flow_customers,
    largest_flows,
    reapplicable_run,
    segment_label,
    segment_order,
)
from core.pipeline import segment_names
from dashboard import state
from dashboard.components.charts import NOISE_COLOUR, plotly_config, segment_colours
from dashboard.components.empty import require_dataset
from dashboard.components.format import fmt_int, fmt_money, fmt_pct
from dashboard.i18n import current_language, t

RFM, RUN = "RFM tiers", "A segmentation run"  # option values of the method radio
st.title(t("migration.title"))
lang = current_language()
ws = state.workspace()
ds = require_dataset()


@st.cache_data(show_spinner=False, max_entries=8)
def _order_dates(scope: str, dataset_id: str, created_at: str) -> tuple[date | None, date | None]:
    s = summarise_dataset(ws, dataset_id)
    if s.first_order is None or s.last_order is None:
        return None, None
    return pd.Timestamp(s.first_order).date(), pd.Timestamp(s.last_order).date()


def _day(d: date) -> str:
    """A date as the interface's language writes it."""
    return t("migration.date", day=d)


first, last = _order_dates(str(ws.root), ds.id, ds.created_at)
if first is None or first >= last:
    st.info(t("migration.needs_dates"), icon=":material/info:")
    st.stop()

st.caption(t("migration.caption", new=segment_label(NEW, lang)))

c1, c2 = st.columns(2)
date_a = c1.date_input(
    t("migration.from_label"),
    value=max(first, last - timedelta(days=90)),
    min_value=first,
    max_value=last,
    key="mig_date_a",
    help=t("migration.from_help"),
)
date_b = c2.date_input(
    t("migration.to_label"),
    value=last,
    min_value=first,
    max_value=last,
    key="mig_date_b",
    help=t("migration.to_help"),
)
runs = [r for r in state.segment_runs(ds.id) if reapplicable_run(r) is None]
method = st.radio(
    t("migration.method_label"),
    [RFM, RUN],
    horizontal=True,
    key="mig_method",
    disabled=not runs,
    format_func={RFM: t("migration.method_rfm"), RUN: t("migration.method_run")}.get,
    help=t("migration.method_help") + ("" if runs else t("migration.method_no_run")),
)
thresholds, run_id, run_updated, names = "fixed", None, "", {}
if method == RFM or not runs:
    fixed = st.toggle(
        t("migration.fixed_label"),
        value=True,
        key="mig_fixed",
        help=t("migration.fixed_help"),
    )
    thresholds = "fixed" if fixed else "per_cutoff"
    method_key = "rfm"
else:
    run = st.selectbox(
        t("migration.run_label"),
        runs,
        key="mig_run",
        format_func=lambda r: f"{r.id} · {r.params.get('method')} k={r.params.get('k')}",
    )
    run_id, run_updated, method_key = run.id, run.updated_at, "run"
    names = segment_names(ws, run.id)

if date_a >= date_b:
    st.warning(t("migration.dates_order"), icon=":material/warning:")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=16)
def _migration(scope, dataset_id, created_at, a, b, method, thresholds, run_id, run_updated, lang):
    """Keyed by workspace, dataset (and its version), both days, the method and the run (and
    its version): with login, two workspaces can each hold a dataset called "demo"; and by the
    language of the notes."""
    return compute_migration(
        ws,
        dataset_id,
        a + timedelta(days=1),  # end of day a: orders before the next midnight count
        b + timedelta(days=1),
        method=method,
        thresholds=thresholds,
        run_id=run_id,
        lang=lang,
    )


with st.spinner(t("migration.segmenting")):
    try:
        mig = _migration(
            str(ws.root),
            ds.id,
            ds.created_at,
            date_a,
            date_b,
            method_key,
            thresholds,
            run_id,
            run_updated,
            lang,
        )
    except ValueError as exc:
        st.error(error_text(exc, lang), icon=":material/error:")
        st.stop()

flows = mig.flows
# A run's own names, else the display name (NEW and the RFM tiers are translated).
show = lambda s: names[s] if s in names else segment_label(s, lang)  # noqa: E731
n = int(flows["customers"].sum())
new = int(flows.loc[flows["from"] == NEW, "customers"].sum())
known = flows[flows["from"] != NEW]
moved = int(known.loc[known["from"] != known["to"], "customers"].sum())
m1, m2, m3 = st.columns(3)
m1.metric(t("migration.customers"), fmt_int(n), help=t("migration.known_on", date=_day(date_b)))
m2.metric(
    t("migration.changed"),
    fmt_pct(moved / (n - new) if n > new else None),
    help=t(
        "migration.changed_help",
        moved=fmt_int(moved),
        known=fmt_int(n - new),
        date=_day(date_a),
    ),
)
m3.metric(
    t("migration.new_on", new=segment_label(NEW, lang), date=_day(date_a)),
    fmt_int(new),
    help=t("migration.new_help"),
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
        t(
            "migration.flow_hover",
            count=fmt_int(r.customers),
            source=show(r[0]),
            target=show(r[1]),
            share=fmt_pct(r.share_of_from),
        )
        + (
            t("migration.flow_hover_spend", spend=fmt_money(r.revenue_at_a))
            if "revenue_at_a" in flows
            else ""
        )
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
            text=f"<b>{_day(day)}</b>",
            showarrow=False,
            xanchor=anchor,
        )
    fig.update_layout(height=HEIGHT, margin=dict(l=10, r=10, t=40, b=10), font_size=12)
    return fig


st.plotly_chart(_sankey(flows), width="stretch", config=plotly_config(), key="mig_sankey")

st.subheader(t("migration.largest"))
by = st.radio(
    t("migration.rank_by"),
    ["customers", "revenue"],
    horizontal=True,
    key="mig_by",
    format_func={
        "customers": t("migration.rank_customers"),
        "revenue": t("migration.rank_spend"),
    }.get,
    help=t("migration.rank_help"),
)
sentences = largest_flows(flows, 5, by=by, names=names, lang=lang)
st.markdown("\n".join(f"- {s}" for s in sentences) if sentences else t("migration.nobody_moved"))
for note in mig.notes:
    st.caption(note)
if method_key == "rfm":
    st.caption(t("migration.rfm_fixed") if thresholds == "fixed" else t("migration.rfm_per_cutoff"))

st.subheader(t("migration.all_flows"))
share_col, spend_col = t("migration.col_share"), t("migration.col_spend")
table = flows.assign(**{"from": flows["from"].map(show), "to": flows["to"].map(show)}).rename(
    columns={
        "from": t("migration.col_from"),
        "to": t("migration.col_to"),
        "customers": t("migration.col_customers"),
        "share_of_from": share_col,
        "revenue_at_a": spend_col,
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        share_col: st.column_config.NumberColumn(format="percent"),
        spend_col: st.column_config.NumberColumn(format="dollar"),
    },
)

st.subheader(t("migration.export"))
# Moves of existing customers first, largest first; then the new customers' first segments.
moves = flows[flows["from"] != flows["to"]].sort_values("customers", ascending=False, kind="stable")
moves = pd.concat([moves[moves["from"] != NEW], moves[moves["from"] == NEW]])
options = list(zip(moves["from"], moves["to"], strict=True)) or list(
    zip(flows["from"], flows["to"], strict=True)
)
counts = dict(zip(zip(flows["from"], flows["to"], strict=True), flows["customers"], strict=True))
pick = st.selectbox(
    t("migration.flow_label"),
    options,
    key="mig_flow",
    help=t("migration.tips.mig_flow"),
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
# The file name from the (English) ids: a translated name would leave no ASCII to slug.
plain = lambda s: names.get(s, s)  # noqa: E731
slug = re.sub(r"[^a-z0-9]+", "_", f"{plain(pick[0])}_to_{plain(pick[1])}".lower()).strip("_")
st.download_button(
    t("migration.download", count=fmt_int(len(rows))),
    to_safe_csv_bytes(rows),
    file_name=f"migration_{slug}_{date_a:%Y%m%d}_{date_b:%Y%m%d}.csv",
    mime="text/csv",
    key="mig_download",
    icon=":material/download:",
)
