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
)
from core.ingest import SUPPORTED_EXTENSIONS
from core.pipeline import segment_names
from dashboard import state
from dashboard.components.empty import require_segment_run
from dashboard.components.format import fmt_int, fmt_money, fmt_pct
from dashboard.navigation import page

PICK = "camp_pick"

st.title("Campaigns")
ws = state.workspace()
ds, run = require_segment_run("campaign results are measured per segment of a segmentation run.")
names = segment_names(ws, run.id)
st.caption(
    f"Measure a campaign against the segments of run `{run.id}`: the response rate of treated "
    "customers against a control group that was not contacted, per segment, with 95% "
    "confidence intervals. pp = percentage points."
)
customers = ws.load_table(ds.id, "customers")
is_demo = ds.source == "demo" and customers is not None and "persona" in customers.columns
campaigns = list_campaigns(ws, run_id=run.id)

with st.expander("Add a campaign result", expanded=not campaigns, icon=":material/upload_file:"):
    upload = st.file_uploader(
        "Campaign result file",
        type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS],
        key="camp_file",
        help=(
            "One row per customer in the campaign: customer_id; group — treated (treatment, test, "
            "1) or control (holdout, 0); responded — yes / no, true / false or 1 / 0; revenue "
            "(optional; blank counts as 0). CSV, Excel or Parquet."
        ),
    )
    c1, c2 = st.columns([2, 1])
    campaign_name = c1.text_input(
        "Campaign name", key="camp_name", placeholder="e.g. Spring discount mailing"
    )
    reject_unknown = c2.toggle(
        "Refuse unknown customer ids",
        value=False,
        key="camp_reject",
        help="Off: ids that are not in this dataset are left out and counted in the report. "
        "On: the whole file is refused.",
    )
    b1, b2 = st.columns(2)
    analyse = b1.button(
        "Analyse and save", type="primary", disabled=upload is None, key="camp_analyse"
    )
    demo = (
        b2.button(
            "Try a demo campaign",
            key="camp_demo",
            help="A made-up discount mailing for the demo store: some personas answer it, "
            "others ignore it or are put off.",
        )
        if is_demo
        else False
    )
    source = None
    if analyse and upload is not None:
        source, filename, label = upload.getvalue(), upload.name, campaign_name
    elif demo:
        source = demo_campaign_file(customers, seed=len(campaigns))
        filename, label = "demo_campaign.csv", campaign_name or "Demo discount mailing"
    if source is not None:
        try:
            with st.spinner("Reading and measuring…"):
                cf = read_campaign_file(
                    source,
                    filename,
                    known_ids=dataset_customer_ids(ws, ds.id),
                    unknown_ids="reject" if reject_unknown else "exclude",
                )
                saved = record_campaign(ws, run.id, cf, name=label)
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.session_state[PICK] = saved.id
            campaigns = list_campaigns(ws, run_id=run.id)
            st.toast(f"Campaign '{saved.name}' saved")

if not campaigns:
    others = list_campaigns(ws, dataset_id=ds.id)
    msg = "No campaign measured against this segmentation yet. Upload a result file above"
    msg += " or try the demo campaign." if is_demo else "."
    if others:
        msg += (
            f" {len(others)} campaign(s) are stored with other segmentation runs of this "
            "dataset; choose that run on the Segments page to see them."
        )
    st.info(msg, icon=":material/info:")
    st.stop()

by_id = {c.id: c for c in campaigns}
if st.session_state.get(PICK) not in by_id:
    st.session_state[PICK] = campaigns[0].id
pick = st.selectbox(
    "Campaign",
    list(by_id),
    key=PICK,
    format_func=lambda i: (
        f"{by_id[i].name} — {by_id[i].file}, {by_id[i].uploaded_at[:16].replace('T', ' ')} UTC"
    ),
)
camp = by_id[pick]
table = camp.table
rep = camp.report


def _label(seg: str) -> str:
    return f"{seg} · {names[seg]}" if seg in names else seg


def _pp(x, sign: bool = True) -> str:
    if x is None or x != x:
        return "—"
    return (f"{x * 100:+.1f} pp" if sign else f"{x * 100:.1f} pp").replace("-", "−")


with st.expander(f"What was read from {camp.file}", icon=":material/fact_check:"):
    st.markdown(
        f"{fmt_int(rep.rows_read)} rows read, {fmt_int(rep.rows_kept)} analysed: "
        f"{fmt_int(rep.n_treated)} treated, {fmt_int(rep.n_control)} control."
    )
    st.markdown(
        "**Columns:** "
        + ", ".join(f"{k} ← `{v}`" for k, v in rep.columns.items())
        + "  \n**Group values:** "
        + ", ".join(f"`{k}` → {v}" for k, v in rep.group_values.items())
        + "  \n**Responded values:** "
        + ", ".join(f"`{k}` → {'yes' if v else 'no'}" for k, v in rep.responded_values.items())
    )
    for n in rep.notes:
        st.markdown(f"- {n}")
    for w in rep.warnings:
        st.warning(w, icon=":material/warning:")

overall = table[table["segment"] == OVERALL].iloc[0]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Treated / control", f"{fmt_int(overall['n_treated'])} / {fmt_int(overall['n_control'])}")
m2.metric(
    "Response rate",
    f"{fmt_pct(overall['rate_treated'])} vs {fmt_pct(overall['rate_control'])}",
    help="Treated vs control",
)
m3.metric(
    "Uplift",
    _pp(overall["uplift"]),
    help=f"95% CI {_pp(overall['uplift_low'])} to {_pp(overall['uplift_high'])} "
    "(Newcombe hybrid score interval)",
)
if camp.has_revenue:
    m4.metric(
        "Incremental revenue",
        fmt_money(overall["incremental_revenue"]),
        help="Revenue per customer, treated minus control, × customers treated. 95% CI "
        f"{fmt_money(overall['revenue_diff_low'] * overall['n_treated'])} to "
        f"{fmt_money(overall['revenue_diff_high'] * overall['n_treated'])} (Welch)",
    )
else:
    m4.metric("Incremental responders", fmt_int(overall["incremental_responders"]))

for sentence in highlights(table, {s: _label(s) for s in table["segment"]}):
    st.markdown(sentence)


def _forest(t) -> go.Figure:
    shown = t[t["verdict"] != TOO_FEW]
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
            name="segments",
            hovertemplate="%{y}: %{x:+.1f} pp<extra></extra>",
        )
    )
    o = t[t["segment"] == OVERALL]
    if len(o) and o.iloc[0]["verdict"] != TOO_FEW:
        u = float(o.iloc[0]["uplift"]) * 100
        fig.add_vline(
            x=u,
            line_dash="dash",
            line_color="#0072B2",
            annotation_text=f"all customers {u:+.1f} pp",
            annotation_position="top",
        )
    fig.add_vline(x=0, line_color="#000000", line_width=1)
    fig.update_layout(
        height=120 + 40 * len(segs),
        margin=dict(l=10, r=10, t=40, b=10),
        xaxis_title="uplift in response rate, percentage points (95% CI)",
        showlegend=False,
    )
    return fig


st.subheader("Uplift per segment")
if (table["verdict"] != TOO_FEW).sum() > 1:
    st.plotly_chart(_forest(table), width="stretch", key=f"forest_{camp.id}")
rows = []
for r in table.itertuples(index=False):
    few = r.verdict == TOO_FEW
    row = {
        "segment": "All customers" if r.segment == OVERALL else _label(r.segment),
        "treated": fmt_int(r.n_treated),
        "control": fmt_int(r.n_control),
        "response (treated)": fmt_pct(r.rate_treated),
        "response (control)": fmt_pct(r.rate_control),
        "uplift": _pp(r.uplift),
        "95% CI": "—" if few else f"{_pp(r.uplift_low)} to {_pp(r.uplift_high)}",
        "relative uplift": "—"
        if r.relative_uplift != r.relative_uplift
        else f"{r.relative_uplift:+.0%}".replace("-", "−"),
        "incremental responders": "—"
        if few
        else f"{round(r.incremental_responders) + 0:+,d}".replace("-", "−"),
    }
    if camp.has_revenue:
        row |= {
            "revenue / customer (treated)": fmt_money(r.revenue_per_treated),
            "revenue / customer (control)": fmt_money(r.revenue_per_control),
            "incremental revenue": fmt_money(r.incremental_revenue),
            "revenue 95% CI (per customer)": "—"
            if few
            else f"{fmt_money(r.revenue_diff_low)} to {fmt_money(r.revenue_diff_high)}",
        }
    row["verdict"] = r.verdict
    rows.append(row)
st.dataframe(rows, hide_index=True, width="stretch")
st.caption(
    "Uplift = response rate of treated minus control customers, with Newcombe's hybrid score "
    "interval; revenue difference with Welch's t interval. Segments with fewer than "
    f"{MIN_GROUP} treated or control customers are marked '{TOO_FEW}'."
)

st.subheader("Learn who responds")
st.markdown(
    "The responses of the treated customers can train a model that predicts who will answer "
    "the next campaign. Control customers are left out of that target: they were not contacted."
)
st.page_link(
    page("train"),
    label="Use as a training target on the Train page (target: campaign response)",
    icon=":material/model_training:",
)
