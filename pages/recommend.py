"""Recommendations: the products each segment and each customer is most drawn to.

A logistic matrix factorisation over purchase history (core.recommend) scores every customer ×
product pair as σ(⟨u, v⟩ + biases); the page shows how well that predicted the products
customers bought next (against "recommend the best sellers"), the top items per segment with
their lift, a per-customer lookup, and a CSV of per-customer recommendations for a segment.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.export import to_safe_csv_bytes
from core.pipeline import load_segments, segment_names
from core.recommend import (
    MAX_EVAL_N,
    META_FILE,
    RankingEvaluation,
    load_for_run,
    recommend_dir,
    train_for_run,
    with_product_info,
)
from dashboard import state
from dashboard.components.empty import require_dataset, require_segment_run
from dashboard.components.format import fmt_int, fmt_pct

st.title("Recommendations")
ws = state.workspace()
ds = require_dataset()
if not ds.tables.get("orders"):
    st.info(
        "This dataset has no order lines; recommendations are learnt from who bought which "
        "product. Load a dataset with an orders table (customer_id, product_id, order_date).",
        icon=":material/info:",
    )
    st.stop()
ds, run = require_segment_run("recommendations are shown for each of its segments.")

st.caption(
    "Each customer and product gets a learnt vector; a score is the model's probability that "
    "the customer buys the product. A product returned in full does not count as bought."
)

c1, c2 = st.columns(2)
n = c1.slider(
    "Items to show (N)",
    1,
    MAX_EVAL_N,
    10,
    key="rec_n",
    help="How many products to recommend per customer and per segment; the evaluation below "
    "is shown at this N",
)
exclude = c2.toggle(
    "Exclude already bought",
    value=True,
    key="rec_exclude",
    help="Leave out products the customer already bought (and kept). For segments, members who "
    "own a product add nothing to its score",
)
with st.expander("Model settings"):
    m1, m2, m3 = st.columns(3)
    factors = m1.number_input(
        "Factors",
        2,
        128,
        32,
        key="rec_factors",
        help="Length of each customer / product vector: more can capture finer tastes",
    )
    epochs = m2.number_input(
        "Epochs", 5, 200, 50, key="rec_epochs", help="Passes over all customers while training"
    )
    cutoff = m3.date_input(
        "Test period starts",
        value=None,
        key="rec_cutoff",
        help="The evaluation trains on orders before this day and checks the products customers "
        "first bought from it on. Empty: the day by which 80% of order lines had happened",
    )

if st.button("Train recommender", type="primary", key="rec_train"):
    with st.status("Training the recommender…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            train_for_run(
                ws,
                run.id,
                n=n,
                exclude_bought=exclude,
                cutoff=str(cutoff) if cutoff else None,
                params=dict(factors=int(factors), epochs=int(epochs)),
                progress=lambda msg, frac: bar.progress(min(1.0, frac), text=msg),
            )
        except ValueError as exc:
            status.update(label="Training failed", state="error")
            st.error(str(exc))
        else:
            status.update(label="Recommender trained", state="complete", expanded=False)


def _stamp(run_id: str) -> float:
    path = recommend_dir(ws, run_id) / META_FILE
    return path.stat().st_mtime if path.exists() else 0.0


@st.cache_resource(show_spinner="Loading the recommender…", max_entries=2)
def _model(run_id: str, stamp: float):
    return load_for_run(ws, run_id)


@st.cache_data(show_spinner="Ranking products per segment…", max_entries=8)
def _segment_top(run_id: str, stamp: float, n: int, exclude: bool) -> pd.DataFrame:
    model, _ = _model(run_id, stamp)
    seg = load_segments(ws, run_id)[["customer_id", "segment"]]
    return model.segment_top_items(seg, n=n, exclude_bought=exclude)


@st.cache_data(show_spinner=False, max_entries=2)
def _products(dataset_id: str, created_at: str) -> pd.DataFrame | None:
    return ws.load_table(dataset_id, "products")


stamp = _stamp(run.id)
loaded = _model(run.id, stamp) if stamp else None
if loaded is None:
    st.info(
        "Train the recommender to see how well it predicts next purchases, the top products "
        "per segment and recommendations per customer.",
        icon=":material/info:",
    )
    st.stop()
model, meta = loaded
if meta.get("dataset_created_at") and meta["dataset_created_at"] != ds.created_at:
    st.warning("The dataset changed since the recommender was trained; train it again.")
products = _products(ds.id, ds.created_at)
names = segment_names(ws, run.id)

# ------------------------------------------------------------------ evaluation
st.subheader("Does it predict what customers bought next?")
ev = RankingEvaluation.from_dict(meta["evaluation"][str(exclude).lower()])
at = ev.at(n)
e1, e2, e3, e4, e5 = st.columns(5)
e1.metric(
    f"Hit-rate@{n}",
    fmt_pct(at["model_hit_rate"]),
    delta=f"{(at['model_hit_rate'] - at['popularity_hit_rate']) * 100:+.1f} pts vs popularity",
    help="Share of test customers with at least one of their next products in their top N",
)
e2.metric(f"Hit-rate@{n}, popularity", fmt_pct(at["popularity_hit_rate"]))
e3.metric(
    f"Recall@{n}",
    fmt_pct(at["model_recall"]),
    delta=f"{(at['model_recall'] - at['popularity_recall']) * 100:+.1f} pts vs popularity",
    help="Average share of each test customer's next products found in their top N",
)
e4.metric(f"Recall@{n}, popularity", fmt_pct(at["popularity_recall"]))
e5.metric(
    "Test customers",
    fmt_int(ev.test_customers),
    help="Customers who bought before the test period and bought a product new to them in it",
)
st.caption(
    f"Trained on orders before {ev.cutoff} ({fmt_int(ev.train_customers)} customers); tested on "
    f"the {fmt_int(ev.test_items)} products those customers first bought from {ev.cutoff} on"
    + (
        f", {fmt_int(ev.unseen_items)} of them never sold before (no method can rank those)"
        if ev.unseen_items
        else ""
    )
    + ". Popularity recommends the best sellers before the test period"
    + (", minus what each customer already bought." if exclude else ".")
)
with st.expander("Hit-rate and recall for every N"):
    ns = list(range(1, len(ev.model_hit_rate) + 1))
    fig = go.Figure()
    for label, ys, dash in (
        ("hit-rate, model", ev.model_hit_rate, "solid"),
        ("hit-rate, popularity", ev.popularity_hit_rate, "dot"),
        ("recall, model", ev.model_recall, "solid"),
        ("recall, popularity", ev.popularity_recall, "dot"),
    ):
        fig.add_trace(go.Scatter(x=ns, y=ys, name=label, mode="lines", line_dash=dash))
    fig.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="N",
        yaxis_tickformat=".0%",
    )
    st.plotly_chart(fig, width="stretch", key="rec_curves")

# ------------------------------------------------------------------ per segment
st.subheader(f"Top {n} products per segment")
top = with_product_info(_segment_top(run.id, stamp, n, exclude), products)
label_col = "product_name" if "product_name" in top.columns else "product_id"
segs = top["segment"].drop_duplicates().tolist()
overview = pd.DataFrame(
    {
        "segment": [names.get(s, s) for s in segs],
        "customers with purchases": [
            int(top.loc[top["segment"] == s, "members"].iloc[0]) for s in segs
        ],
        "top products": [
            ", ".join(top.loc[top["segment"] == s, label_col].astype(str).head(3)) for s in segs
        ],
    }
)
st.dataframe(overview, hide_index=True, width="stretch")
seg_pick = st.selectbox(
    "Segment",
    segs,
    format_func=lambda s: names.get(s, s),
    key="rec_segment",
    help="The segment whose products, customers and download are shown below",
)
cols = [c for c in ("rank", "product_name", "category", "product_id") if c in top.columns]
st.dataframe(
    top.loc[top["segment"] == seg_pick, [*cols, "score", "buy_rate", "overall_rate", "lift"]],
    hide_index=True,
    width="stretch",
    column_config={
        "score": st.column_config.NumberColumn(
            "score",
            format="percent",
            help="Mean predicted probability over the segment's members"
            + (
                " (members who own it count 0: the expected share who would newly buy)"
                if exclude
                else ""
            ),
        ),
        "buy_rate": st.column_config.NumberColumn(
            "bought in segment", format="percent", help="Share of members who bought it"
        ),
        "overall_rate": st.column_config.NumberColumn(
            "bought overall", format="percent", help="Share of all customers who bought it"
        ),
        "lift": st.column_config.NumberColumn(
            "lift", format="%.2f×", help="Bought in segment ÷ bought overall"
        ),
    },
)

# ------------------------------------------------------------------ per customer
seg_df = load_segments(ws, run.id)[["customer_id", "segment"]]
members = seg_df.loc[seg_df["segment"].astype(str) == str(seg_pick), "customer_id"].astype(str)
known = set(model.customer_ids)
members_known = [c for c in members if c in known]
st.subheader("One customer")
if len(members_known) < len(members):
    st.caption(
        f"{fmt_int(len(members) - len(members_known))} of the segment's {fmt_int(len(members))} "
        "members have no purchases and get no personal recommendations."
    )
cid = st.text_input(
    "Customer id",
    value=members_known[0] if members_known else "",
    key=f"rec_customer_{seg_pick}",
    help="Any customer id with purchases; starts at the first member of the chosen segment",
).strip()
if cid:
    try:
        recs = with_product_info(model.recommend([cid], n=n, exclude_bought=exclude), products)
        bought = with_product_info(pd.DataFrame({"product_id": model.bought_items(cid)}), products)
    except ValueError as exc:
        st.warning(str(exc))
    else:
        r1, r2 = st.columns(2)
        r1.markdown(f"**Recommended for {cid}**")
        r1.dataframe(
            recs.drop(columns="customer_id"),
            hide_index=True,
            width="stretch",
            column_config={"score": st.column_config.NumberColumn(format="percent")},
        )
        r2.markdown(f"**Already bought ({fmt_int(len(bought))})**")
        r2.dataframe(bought, hide_index=True, width="stretch")


# ------------------------------------------------------------------ download
@st.cache_data(show_spinner="Preparing the download…", max_entries=4)
def _segment_csv(
    run_id: str, stamp: float, segment: str, segment_name: str, n: int, exclude: bool
) -> tuple[bytes, int]:
    model, _ = _model(run_id, stamp)
    seg = load_segments(ws, run_id)
    known = set(model.customer_ids)
    ids = [
        c
        for c in seg.loc[seg["segment"].astype(str) == segment, "customer_id"].astype(str)
        if c in known
    ]
    recs = with_product_info(model.recommend(ids, n=n, exclude_bought=exclude), products)
    recs.insert(1, "segment", segment)
    recs.insert(2, "segment_name", segment_name)
    return to_safe_csv_bytes(recs, excel_bom=True), len(recs)


if members_known:
    seg_name = str(names.get(seg_pick, seg_pick))
    data, rows = _segment_csv(run.id, stamp, str(seg_pick), seg_name, n, exclude)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in seg_name)
    st.download_button(
        f"Download {fmt_int(rows)} recommendations for this segment (CSV)",
        data,
        file_name=f"recommendations_{safe}_top{n}.csv",
        mime="text/csv",
        key="rec_download",
        help="One row per customer and recommended product: customer_id, segment, rank, "
        "product, score",
    )
