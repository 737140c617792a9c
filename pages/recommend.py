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
from core.locale import error_text
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
from dashboard.components.charts import plotly_config
from dashboard.components.empty import require_dataset, require_segment_run
from dashboard.components.format import fmt_int, fmt_pct
from dashboard.i18n import current_language, t

st.title(t("recommend.title"))
lang = current_language()
# Product columns of the tables (the data keeps its ids; the headers are in the UI language).
PRODUCT_COLUMNS = {
    c: st.column_config.Column(t(f"recommend.col.{c}"))
    for c in ("rank", "product_name", "category", "product_id")
}
ws = state.workspace()
ds = require_dataset()
if not ds.tables.get("orders"):
    st.info(t("recommend.no_orders"), icon=":material/info:")
    st.stop()
ds, run = require_segment_run(t("recommend.needs_run"))

st.caption(t("recommend.intro"))

c1, c2 = st.columns(2)
n = c1.slider(
    t("recommend.n_label"),
    1,
    MAX_EVAL_N,
    10,
    key="rec_n",
    help=t("recommend.n_help"),
)
exclude = c2.toggle(
    t("recommend.exclude_label"),
    value=True,
    key="rec_exclude",
    help=t("recommend.exclude_help"),
)
with st.expander(t("recommend.settings")):
    m1, m2, m3 = st.columns(3)
    factors = m1.number_input(
        t("recommend.factors_label"),
        2,
        128,
        32,
        key="rec_factors",
        help=t("recommend.factors_help"),
    )
    epochs = m2.number_input(
        t("recommend.epochs_label"), 5, 200, 50, key="rec_epochs", help=t("recommend.epochs_help")
    )
    cutoff = m3.date_input(
        t("recommend.cutoff_label"),
        value=None,
        key="rec_cutoff",
        help=t("recommend.cutoff_help"),
    )

if st.button(t("recommend.train"), type="primary", key="rec_train"):
    with st.status(t("recommend.training"), expanded=True) as status:
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
                lang=lang,
            )
        except ValueError as exc:
            status.update(label=t("recommend.train_failed"), state="error")
            st.error(error_text(exc, lang))
        else:
            status.update(label=t("recommend.trained"), state="complete", expanded=False)


def _stamp(run_id: str) -> float:
    path = recommend_dir(ws, run_id) / META_FILE
    return path.stat().st_mtime if path.exists() else 0.0


@st.cache_resource(show_spinner=t("recommend.loading"), max_entries=2)
def _model(run_id: str, stamp: float):
    return load_for_run(ws, run_id)


@st.cache_data(show_spinner=t("recommend.ranking"), max_entries=8)
def _segment_top(run_id: str, stamp: float, n: int, exclude: bool) -> pd.DataFrame:
    model, _ = _model(run_id, stamp)
    seg = load_segments(ws, run_id)[["customer_id", "segment"]]
    return model.segment_top_items(seg, n=n, exclude_bought=exclude)


@st.cache_data(show_spinner=False, max_entries=2)
def _products(scope: str, dataset_id: str, created_at: str) -> pd.DataFrame | None:
    """Keyed by workspace too: with login, two workspaces can each hold a dataset "demo"."""
    return ws.load_table(dataset_id, "products")


stamp = _stamp(run.id)
loaded = _model(run.id, stamp) if stamp else None
if loaded is None:
    st.info(t("recommend.not_trained"), icon=":material/info:")
    st.stop()
model, meta = loaded
if meta.get("dataset_created_at") and meta["dataset_created_at"] != ds.created_at:
    st.warning(t("recommend.stale"))
products = _products(str(ws.root), ds.id, ds.created_at)
names = segment_names(ws, run.id)

# ------------------------------------------------------------------ evaluation
st.subheader(t("recommend.eval_heading"))
ev = RankingEvaluation.from_dict(meta["evaluation"][str(exclude).lower()])
at = ev.at(n)
e1, e2, e3, e4, e5 = st.columns(5)
for (model_col, pop_col), measure in zip(((e1, e2), (e3, e4)), ("hit_rate", "recall"), strict=True):
    ours, popular = at[f"model_{measure}"], at[f"popularity_{measure}"]
    model_col.metric(
        t(f"recommend.{measure}", n=n),
        fmt_pct(ours),
        delta=t("recommend.vs_popularity", delta=f"{(ours - popular) * 100:+.1f}"),
        help=t(f"recommend.{measure}_help"),
    )
    pop_col.metric(t(f"recommend.{measure}_popularity", n=n), fmt_pct(popular))
e5.metric(
    t("recommend.test_customers"),
    fmt_int(ev.test_customers),
    help=t("recommend.test_customers_help"),
)
st.caption(
    t(
        "recommend.eval_caption",
        cutoff=ev.cutoff,
        train_customers=fmt_int(ev.train_customers),
        test_items=fmt_int(ev.test_items),
    )
    + (t("recommend.eval_unseen", unseen=fmt_int(ev.unseen_items)) if ev.unseen_items else "")
    + (t("recommend.eval_popularity_exclude") if exclude else t("recommend.eval_popularity"))
)
with st.expander(t("recommend.curves_heading")):
    ns = list(range(1, len(ev.model_hit_rate) + 1))
    fig = go.Figure()
    for label, ys, dash in (
        (t("recommend.curve.hit_rate_model"), ev.model_hit_rate, "solid"),
        (t("recommend.curve.hit_rate_popularity"), ev.popularity_hit_rate, "dot"),
        (t("recommend.curve.recall_model"), ev.model_recall, "solid"),
        (t("recommend.curve.recall_popularity"), ev.popularity_recall, "dot"),
    ):
        fig.add_trace(go.Scatter(x=ns, y=ys, name=label, mode="lines", line_dash=dash))
    fig.update_layout(
        height=300,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title=t("recommend.curve.x"),
        yaxis_tickformat=".0%",
    )
    st.plotly_chart(fig, width="stretch", config=plotly_config(), key="rec_curves")

# ------------------------------------------------------------------ per segment
st.subheader(t("recommend.top_heading", n=n))
top = with_product_info(_segment_top(run.id, stamp, n, exclude), products)
label_col = "product_name" if "product_name" in top.columns else "product_id"
segs = top["segment"].drop_duplicates().tolist()
overview = pd.DataFrame(
    {
        t("recommend.col.segment"): [names.get(s, s) for s in segs],
        t("recommend.col.buyers"): [
            int(top.loc[top["segment"] == s, "members"].iloc[0]) for s in segs
        ],
        t("recommend.col.top_products"): [
            ", ".join(top.loc[top["segment"] == s, label_col].astype(str).head(3)) for s in segs
        ],
    }
)
st.dataframe(overview, hide_index=True, width="stretch")
seg_pick = st.selectbox(
    t("recommend.segment_label"),
    segs,
    format_func=lambda s: names.get(s, s),
    key="rec_segment",
    help=t("recommend.segment_help"),
)
cols = [c for c in ("rank", "product_name", "category", "product_id") if c in top.columns]
st.dataframe(
    top.loc[top["segment"] == seg_pick, [*cols, "score", "buy_rate", "overall_rate", "lift"]],
    hide_index=True,
    width="stretch",
    column_config={
        **PRODUCT_COLUMNS,
        "score": st.column_config.NumberColumn(
            t("recommend.col.score"),
            format="percent",
            help=t("recommend.col.score_help_exclude")
            if exclude
            else t("recommend.col.score_help"),
        ),
        "buy_rate": st.column_config.NumberColumn(
            t("recommend.col.buy_rate"), format="percent", help=t("recommend.col.buy_rate_help")
        ),
        "overall_rate": st.column_config.NumberColumn(
            t("recommend.col.overall_rate"),
            format="percent",
            help=t("recommend.col.overall_rate_help"),
        ),
        "lift": st.column_config.NumberColumn(
            t("recommend.col.lift"), format="%.2f×", help=t("recommend.col.lift_help")
        ),
    },
)

# ------------------------------------------------------------------ per customer
seg_df = load_segments(ws, run.id)[["customer_id", "segment"]]
members = seg_df.loc[seg_df["segment"].astype(str) == str(seg_pick), "customer_id"].astype(str)
known = set(model.customer_ids)
members_known = [c for c in members if c in known]
st.subheader(t("recommend.customer_heading"))
if len(members_known) < len(members):
    st.caption(
        t(
            "recommend.no_purchases",
            missing=fmt_int(len(members) - len(members_known)),
            members=fmt_int(len(members)),
        )
    )
cid = st.text_input(
    t("recommend.customer_label"),
    value=members_known[0] if members_known else "",
    key=f"rec_customer_{seg_pick}",
    help=t("recommend.customer_help"),
).strip()
if cid:
    try:
        recs = with_product_info(model.recommend([cid], n=n, exclude_bought=exclude), products)
        bought = with_product_info(pd.DataFrame({"product_id": model.bought_items(cid)}), products)
    except ValueError as exc:
        st.warning(error_text(exc, lang))
    else:
        r1, r2 = st.columns(2)
        r1.markdown(t("recommend.recommended_for", customer=cid))
        r1.dataframe(
            recs.drop(columns="customer_id"),
            hide_index=True,
            width="stretch",
            column_config={
                **PRODUCT_COLUMNS,
                "score": st.column_config.NumberColumn(t("recommend.col.score"), format="percent"),
            },
        )
        r2.markdown(t("recommend.already_bought", count=fmt_int(len(bought))))
        r2.dataframe(bought, hide_index=True, width="stretch", column_config=PRODUCT_COLUMNS)


# ------------------------------------------------------------------ download
@st.cache_data(show_spinner=t("recommend.preparing"), max_entries=4)
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
        t("recommend.download", count=fmt_int(rows)),
        data,
        file_name=f"recommendations_{safe}_top{n}.csv",
        mime="text/csv",
        key="rec_download",
        help=t("recommend.download_help"),
    )
