"""Campaigns: upload who was treated / held out and who responded; uplift per segment."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.campaign import (
    MIN_GROUP,
    OVERALL,
    TOO_FEW,
    dataset_customer_ids,
    demo_campaign_file,
    highlights,
    list_campaigns,
    read_campaign_file,
    record_campaign,
    segment_label,
    verdict_label,
)
from core.ingest import SUPPORTED_EXTENSIONS
from core.locale import error_text
from core.pipeline import segment_names
from dashboard import state
from dashboard.components.charts import plotly_config
from dashboard.components.empty import require_segment_run
from dashboard.components.format import fmt_int, fmt_money, fmt_pct
from dashboard.i18n import current_language, t
from dashboard.navigation import page

PICK = "camp_pick"

st.title(t("campaigns.title"))
lang = current_language()
ws = state.workspace()
ds, run = require_segment_run(t("campaigns.needs_run"))
names = segment_names(ws, run.id)
st.caption(t("campaigns.intro", run=run.id))
customers = ws.load_table(ds.id, "customers")
is_demo = ds.source == "demo" and customers is not None and "persona" in customers.columns
campaigns = list_campaigns(ws, run_id=run.id)

with st.expander(t("campaigns.add_heading"), expanded=not campaigns, icon=":material/upload_file:"):
    upload = st.file_uploader(
        t("campaigns.file_label"),
        type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS],
        key="camp_file",
        help=t("campaigns.file_help"),
    )
    c1, c2 = st.columns([2, 1])
    campaign_name = c1.text_input(
        t("campaigns.name_label"), key="camp_name", placeholder=t("campaigns.name_placeholder")
    )
    reject_unknown = c2.toggle(
        t("campaigns.reject_label"),
        value=False,
        key="camp_reject",
        help=t("campaigns.reject_help"),
    )
    b1, b2 = st.columns(2)
    analyse = b1.button(
        t("campaigns.analyse"), type="primary", disabled=upload is None, key="camp_analyse"
    )
    demo = (
        b2.button(
            t("campaigns.demo_button"),
            key="camp_demo",
            help=t("campaigns.demo_help"),
        )
        if is_demo
        else False
    )
    source = None
    if analyse and upload is not None:
        source, filename, label = upload.getvalue(), upload.name, campaign_name
    elif demo:
        source = demo_campaign_file(customers, seed=len(campaigns))
        filename, label = "demo_campaign.csv", campaign_name or t("campaigns.demo_name")
    if source is not None:
        try:
            with st.spinner(t("campaigns.reading")):
                cf = read_campaign_file(
                    source,
                    filename,
                    known_ids=dataset_customer_ids(ws, ds.id),
                    unknown_ids="reject" if reject_unknown else "exclude",
                )
                saved = record_campaign(ws, run.id, cf, name=label)
        except ValueError as exc:
            st.error(error_text(exc, lang), icon=":material/error:")
        else:
            st.session_state[PICK] = saved.id
            campaigns = list_campaigns(ws, run_id=run.id)
            st.toast(t("campaigns.saved", name=saved.name))

if not campaigns:
    others = list_campaigns(ws, dataset_id=ds.id)
    msg = t("campaigns.none_yet_demo") if is_demo else t("campaigns.none_yet")
    if others:
        msg += t("campaigns.others_hint", count=fmt_int(len(others)))
    st.info(msg, icon=":material/info:")
    st.stop()

by_id = {c.id: c for c in campaigns}
if st.session_state.get(PICK) not in by_id:
    st.session_state[PICK] = campaigns[0].id
# Labels are built now, in this run's language: a format_func may also be called outside the
# script run (AppTest does), where t() cannot see the session's language.
pick_labels = {
    c.id: t(
        "campaigns.pick_option",
        name=c.name,
        file=c.file,
        uploaded=c.uploaded_at[:16].replace("T", " "),
    )
    for c in campaigns
}
pick = st.selectbox(t("campaigns.pick_label"), list(by_id), key=PICK, format_func=pick_labels.get)
camp = by_id[pick]
table = camp.table
rep = camp.report


def _label(seg: str) -> str:
    return f"{seg} · {names[seg]}" if seg in names else segment_label(seg, lang)


def _pp(x, sign: bool = True) -> str:
    if x is None or x != x:
        return "—"
    return (f"{x * 100:+.1f} pp" if sign else f"{x * 100:.1f} pp").replace("-", "−")


with st.expander(t("campaigns.read_heading", file=camp.file), icon=":material/fact_check:"):
    st.markdown(
        t(
            "campaigns.read_summary",
            read=fmt_int(rep.rows_read),
            kept=fmt_int(rep.rows_kept),
            treated=fmt_int(rep.n_treated),
            control=fmt_int(rep.n_control),
        )
    )
    yes_no = {True: t("campaigns.yes"), False: t("campaigns.no")}
    st.markdown(
        t(
            "campaigns.read_columns",
            values=", ".join(f"{t(f'campaigns.role.{k}')} ← `{v}`" for k, v in rep.columns.items()),
        )
        + "  \n"
        + t(
            "campaigns.read_groups",
            values=", ".join(
                f"`{k}` → {t(f'campaigns.group.{v}')}" for k, v in rep.group_values.items()
            ),
        )
        + "  \n"
        + t(
            "campaigns.read_responded",
            values=", ".join(f"`{k}` → {yes_no[bool(v)]}" for k, v in rep.responded_values.items()),
        )
    )
    for n in rep.notes_in(lang):
        st.markdown(f"- {n}")
    for w in rep.warnings_in(lang):
        st.warning(w, icon=":material/warning:")

overall = table[table["segment"] == OVERALL].iloc[0]
m1, m2, m3, m4 = st.columns(4)
m1.metric(
    t("campaigns.metric_groups"),
    f"{fmt_int(overall['n_treated'])} / {fmt_int(overall['n_control'])}",
)
m2.metric(
    t("campaigns.metric_rate"),
    t(
        "campaigns.rate_vs",
        treated=fmt_pct(overall["rate_treated"]),
        control=fmt_pct(overall["rate_control"]),
    ),
    help=t("campaigns.metric_rate_help"),
)
m3.metric(
    t("campaigns.metric_uplift"),
    _pp(overall["uplift"]),
    help=t(
        "campaigns.metric_uplift_help",
        low=_pp(overall["uplift_low"]),
        high=_pp(overall["uplift_high"]),
    ),
)
if camp.has_revenue:
    m4.metric(
        t("campaigns.metric_revenue"),
        fmt_money(overall["incremental_revenue"]),
        help=t(
            "campaigns.metric_revenue_help",
            low=fmt_money(overall["revenue_diff_low"] * overall["n_treated"]),
            high=fmt_money(overall["revenue_diff_high"] * overall["n_treated"]),
        ),
    )
else:
    m4.metric(t("campaigns.metric_responders"), fmt_int(overall["incremental_responders"]))

for sentence in highlights(table, {s: _label(s) for s in table["segment"]}, lang=lang):
    st.markdown(sentence)


def _forest(tbl) -> go.Figure:
    shown = tbl[tbl["verdict"] != TOO_FEW]
    segs = shown[shown["segment"] != OVERALL].iloc[::-1]
    colour = [
        "#009E73" if lo > 0 else "#D55E00" if hi < 0 else "#999999"
        for lo, hi in zip(segs["uplift_low"], segs["uplift_high"], strict=True)
    ]
    fig = go.Figure(
        go.Scatter(
            x=segs["uplift"] * 100,
            y=[_label(s) for s in segs["segment"]],
            mode="markers",
            marker=dict(size=11, color=colour),
            error_x=dict(
                type="data",
                symmetric=False,
                array=(segs["uplift_high"] - segs["uplift"]) * 100,
                arrayminus=(segs["uplift"] - segs["uplift_low"]) * 100,
                color="#555555",
            ),
            name=t("campaigns.forest_trace"),
            hovertemplate="%{y}: %{x:+.1f} pp<extra></extra>",
        )
    )
    o = tbl[tbl["segment"] == OVERALL]
    if len(o) and o.iloc[0]["verdict"] != TOO_FEW:
        u = float(o.iloc[0]["uplift"]) * 100
        fig.add_vline(
            x=u,
            line_dash="dash",
            line_color="#0072B2",
            annotation_text=t("campaigns.forest_overall", uplift=f"{u:+.1f}"),
            annotation_position="top",
        )
    fig.add_vline(x=0, line_color="#000000", line_width=1)
    fig.update_layout(
        height=120 + 40 * len(segs),
        margin=dict(l=10, r=10, t=40, b=10),
        xaxis_title=t("campaigns.forest_axis"),
        showlegend=False,
    )
    return fig


st.subheader(t("campaigns.uplift_heading"))
if (table["verdict"] != TOO_FEW).sum() > 1:
    st.plotly_chart(
        _forest(table), width="stretch", config=plotly_config(), key=f"forest_{camp.id}"
    )
rows = []
for r in table.itertuples(index=False):
    few = r.verdict == TOO_FEW
    row = {
        t("campaigns.col.segment"): t("campaigns.all_customers")
        if r.segment == OVERALL
        else _label(r.segment),
        t("campaigns.col.treated"): fmt_int(r.n_treated),
        t("campaigns.col.control"): fmt_int(r.n_control),
        t("campaigns.col.rate_treated"): fmt_pct(r.rate_treated),
        t("campaigns.col.rate_control"): fmt_pct(r.rate_control),
        t("campaigns.col.uplift"): _pp(r.uplift),
        t("campaigns.col.ci"): "—"
        if few
        else t("campaigns.range", low=_pp(r.uplift_low), high=_pp(r.uplift_high)),
        t("campaigns.col.relative_uplift"): "—"
        if r.relative_uplift != r.relative_uplift
        else f"{r.relative_uplift:+.0%}".replace("-", "−"),
        t("campaigns.col.incremental_responders"): "—"
        if few
        else f"{round(r.incremental_responders) + 0:+,d}".replace("-", "−"),
    }
    if camp.has_revenue:
        row |= {
            t("campaigns.col.revenue_treated"): fmt_money(r.revenue_per_treated),
            t("campaigns.col.revenue_control"): fmt_money(r.revenue_per_control),
            t("campaigns.col.incremental_revenue"): fmt_money(r.incremental_revenue),
            t("campaigns.col.revenue_ci"): "—"
            if few
            else t(
                "campaigns.range",
                low=fmt_money(r.revenue_diff_low),
                high=fmt_money(r.revenue_diff_high),
            ),
        }
    row[t("campaigns.col.verdict")] = verdict_label(r.verdict, lang)
    rows.append(row)
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(
    t("campaigns.table_note", min_group=fmt_int(MIN_GROUP), too_few=verdict_label(TOO_FEW, lang))
)

st.subheader(t("campaigns.learn_heading"))
st.markdown(t("campaigns.learn_text"))
st.page_link(
    page("train"),
    label=t("campaigns.learn_link"),
    icon=":material/model_training:",
)
