"""Evaluate: the fine-tuned model next to the baselines, on the same held-out customers.

Clicking a confusion-matrix cell (or picking its two classes) lists the holdout customers behind
it, highlights them on the segmentation map and shows their reviews. The last such set is kept
in ``st.session_state["linked_customers"]`` (see `LINKED`) for other pages to pick up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.evaluate import Evaluation, compare_table
from core.export import to_safe_csv_bytes
from core.finetune import load_cv, load_evaluations, load_predictions
from core.trust import cell_customers, reviews_for
from dashboard import state
from dashboard.components.charts import PALETTE, confusion_grid, highlight_map
from dashboard.components.format import fmt_int
from dashboard.navigation import page

LINKED = "linked_customers"  # session key: the customers of the last confusion cell looked into
CAP = 500  # rows of the cell's customer table sent to the browser
REVIEW_CAP = 200


def _clicked_cell(event, classes: list[str]) -> tuple[str, str] | None:
    """(true, predicted) of the confusion cell just clicked, or None."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for pt in points:
        data = pt.get("customdata") or []
        if len(data) >= 2 and str(data[0]) in classes and str(data[1]) in classes:
            return str(data[0]), str(data[1])
        if str(pt.get("y")) in classes and str(pt.get("x")) in classes:
            return str(pt["y"]), str(pt["x"])
    return None


@st.cache_data(show_spinner=False, max_entries=4)
def _predictions(run_id: str) -> pd.DataFrame:
    return load_predictions(ws, run_id)


@st.cache_data(show_spinner=False, max_entries=4)
def _map_points(run_ids: tuple[str, ...]) -> tuple[str | None, pd.DataFrame | None]:
    """(run id, customer_id/x/y/…) of the first of these segment runs that has a map."""
    for rid in run_ids:
        try:
            seg = pd.read_parquet(ws.get_run(rid).path / "segments.parquet")
        except (OSError, KeyError):
            continue
        if {"x", "y"} <= set(seg.columns):
            cols = ["customer_id", "x", "y"]
            cols += [c for c in ("monetary", "frequency", "recency_days") if c in seg.columns]
            return rid, seg[cols]
    return None, None


def _linked_cell(event) -> None:
    """Who is behind a cell: the clicked (or picked) cell's customers on the map, their
    probabilities and their reviews. Shares them with other pages as ``st.session_state[
    LINKED]`` = {"source", "run_id", "true", "predicted", "customer_ids"}."""
    st.subheader("Who is behind a cell?")
    if model_name != evals[0].model_name:
        st.caption(
            f"Customer lists are kept for {evals[0].model_name} only (the baselines' per-customer "
            "predictions are not saved); choose it above to look into a cell."
        )
        return
    ss = st.session_state
    linked = ss.get(LINKED) or {}
    if "ev_cell_true" not in ss and linked.get("run_id") == run_id:
        ss["ev_cell_true"], ss["ev_cell_pred"] = linked.get("true"), linked.get("predicted")
    clicked = _clicked_cell(event, classes)
    if clicked and ss.get("ev_last_click") != (run_id, *clicked):
        ss["ev_last_click"] = (run_id, *clicked)  # apply a click once; the boxes may change it
        ss["ev_cell_true"], ss["ev_cell_pred"] = clicked
    st.caption(
        "Click a cell of the matrix, or pick its two classes here, to see those holdout "
        "customers on the map, with their predicted probabilities and their reviews."
    )
    b1, b2 = st.columns(2)
    t = b1.selectbox("True class", classes, index=None, key="ev_cell_true", placeholder="pick")
    p = b2.selectbox("Predicted class", classes, index=None, key="ev_cell_pred", placeholder="pick")
    if t is None or p is None:
        return
    try:
        cust = cell_customers(_predictions(run_id), t, p)
    except (OSError, ValueError) as exc:
        st.warning(f"No per-customer predictions for this run: {exc}", icon=":material/warning:")
        return
    ids = cust["customer_id"].astype(str).tolist()
    ss[LINKED] = {
        "source": "evaluate",
        "run_id": run_id,
        "true": t,
        "predicted": p,
        "customer_ids": ids,
    }
    verdict = "correctly predicted" if t == p else f"predicted **{p}**"
    st.markdown(f"**{fmt_int(len(cust))}** holdout customers are **{t}** and were {verdict}.")
    if cust.empty:
        return
    if st.button(
        "Open them on the Explore map",
        key="ev_to_explore",
        icon=":material/scatter_plot:",
        help="Explore with these customers as the selection: explain them, find lookalikes, "
        "export them.",
    ):
        ss["explore_source"] = "Confusion cell"
        st.switch_page(page("explore"))
    m1, m2 = st.columns([3, 2])
    with m1:
        # The map the user is looking at elsewhere (the active run) first, else the newest.
        active = state.active_run(run.dataset_id)
        seg_runs = [r.id for r in state.segment_runs(run.dataset_id) if r.status == "done"]
        seg_runs.sort(key=lambda i: active is None or i != active.id)
        seg_run, points = _map_points(tuple(seg_runs))
        if points is None:
            st.info(
                "No segmentation with a map for this dataset yet; run one on the Segments page "
                "to see these customers on it.",
                icon=":material/info:",
            )
        else:
            on_map = int(points["customer_id"].astype(str).isin(set(ids)).sum())
            st.plotly_chart(
                highlight_map(points, ids, f"true {t} · predicted {p}"),
                width="stretch",
                key="ev_linked_map",
            )
            st.caption(
                f"Map of segmentation run {seg_run}: {fmt_int(on_map)} of these customers drawn "
                "in colour, everyone else in grey."
            )
    with m2:
        prob_cols = [c for c in cust.columns if c.startswith("p_")]
        table = cust[["customer_id", "true", "predicted", *prob_cols]]
        st.dataframe(table.head(CAP).round(3), hide_index=True, width="stretch", height=420)
        if len(table) > CAP:
            st.caption(f"First {CAP:,} of {len(table):,}, most confident first.")
        st.download_button(
            f"Download {len(table):,} customers (CSV)",
            to_safe_csv_bytes(table),
            file_name=f"cell_{t}_as_{p}.csv",
            mime="text/csv",
            key="ev_cell_dl",
        )
    reviews, n_reviews = reviews_for(ws, run.dataset_id, ids, limit=REVIEW_CAP)
    st.markdown("**Their reviews**")
    if n_reviews == 0:
        st.caption("These customers wrote no reviews.")
    else:
        st.dataframe(reviews, hide_index=True, width="stretch", height=320)
        st.caption(
            f"{fmt_int(min(n_reviews, REVIEW_CAP))} of {fmt_int(n_reviews)} reviews, newest first."
        )


st.title("Evaluate")
ws = state.workspace()
ds = state.active_dataset()
runs = [r for r in ws.list_runs(ds.id, kind="train") if r.status == "done"] if ds else []
if not runs:
    st.info("Train a model first; its evaluation appears here.", icon=":material/info:")
    st.page_link(page("train"), label="Go to Train", icon=":material/model_training:")
    st.stop()

run_id = st.selectbox(
    "Training run",
    [r.id for r in runs],
    key="ev_run",
    format_func=lambda i: f"{i} · {next(r for r in runs if r.id == i).summary.get('target', '')}",
)
run = ws.get_run(run_id)
evals = [Evaluation.from_dict(d) for d in load_evaluations(ws, run_id)]
if not evals:
    st.warning("This run has no evaluation file.")
    st.stop()
s = run.summary
st.caption(
    f"Holdout of {s.get('n_test', 0):,} customers never seen in training; the baselines are trained "
    "on the same training customers with the numeric features only, so the gap shows what the "
    "transformer over review text adds."
)
for w in s.get("warnings", []):
    st.warning(w, icon=":material/warning:")

st.subheader("Side by side")
cmp = compare_table(evals)
st.dataframe(cmp.round(3), hide_index=True, width="stretch")
cv = load_cv(ws, run_id)
if cv is not None:
    folds = cv["fold"].nunique()
    summary = (
        cv.groupby("model")
        .agg(
            macro_f1_mean=("macro_f1", "mean"),
            macro_f1_std=("macro_f1", "std"),
            accuracy_mean=("accuracy", "mean"),
        )
        .sort_values("macro_f1_mean", ascending=False)
    )
    st.markdown(f"**{folds}-fold cross-validation** (every customer is tested once)")
    st.dataframe(summary.round(3).reset_index(), hide_index=True, width="stretch")
else:
    st.caption(
        "Start training with cross-validation folds (Train → Advanced) to see k-fold results here."
    )

names = [e.model_name for e in evals]
model_name = st.radio("Model", names, horizontal=True, key="ev_model")
ev = next(e for e in evals if e.model_name == model_name)
classes = ev.classes

c1, c2 = st.columns(2)
with c1:
    st.markdown("**Confusion matrix**")
    norm = st.toggle("Row-normalised (recall per true class)", value=True, key="ev_norm")
    z = ev.confusion_normalised if norm else ev.confusion
    text = [[f"{v:.0%}" if norm else f"{int(v):,}" for v in row] for row in z]
    event = st.plotly_chart(
        confusion_grid(ev.confusion, classes, text, z),
        width="stretch",
        key=f"ev_confusion_{run_id}_{names.index(model_name)}",
        on_select="rerun",
        selection_mode=("points",),
    )
with c2:
    st.markdown("**Per class**")
    st.dataframe(ev.per_class.round(3), hide_index=True, width="stretch")

_linked_cell(event)

c3, c4, c5 = st.columns(3)
roc = go.Figure()
for i, (cls, d) in enumerate(ev.roc.items()):
    roc.add_trace(
        go.Scatter(
            x=d["fpr"],
            y=d["tpr"],
            mode="lines",
            name=f"{cls} (AUC {d['auc']:.2f})",
            line_color=PALETTE[i % len(PALETTE)],
        )
    )
roc.add_trace(
    go.Scatter(
        x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#999"), showlegend=False
    )
)
roc.update_layout(
    height=360,
    margin=dict(l=10, r=10, t=30, b=10),
    title="ROC (one vs rest)",
    xaxis_title="false positive rate",
    yaxis_title="true positive rate",
    legend=dict(font_size=10),
)
c3.plotly_chart(roc, width="stretch", key="ev_roc")
pr = go.Figure()
for i, (cls, d) in enumerate(ev.pr.items()):
    pr.add_trace(
        go.Scatter(
            x=d["recall"],
            y=d["precision"],
            mode="lines",
            name=f"{cls} (AP {d['ap']:.2f})",
            line_color=PALETTE[i % len(PALETTE)],
        )
    )
pr.update_layout(
    height=360,
    margin=dict(l=10, r=10, t=30, b=10),
    title="Precision–recall",
    xaxis_title="recall",
    yaxis_title="precision",
    legend=dict(font_size=10),
)
c4.plotly_chart(pr, width="stretch", key="ev_pr")
cal = ev.calibration
calf = go.Figure()
if cal.get("prob_pred"):
    calf.add_trace(
        go.Scatter(
            x=cal["prob_pred"],
            y=cal["prob_true"],
            mode="lines+markers",
            line_color="#D55E00",
            name="model",
        )
    )
calf.add_trace(
    go.Scatter(
        x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#999"), name="perfect"
    )
)
calf.update_layout(
    height=360,
    margin=dict(l=10, r=10, t=30, b=10),
    title=f"Calibration ({cal.get('label') or 'top class'})",
    xaxis_title="predicted probability",
    yaxis_title="observed frequency",
    showlegend=False,
)
c5.plotly_chart(calf, width="stretch", key="ev_cal")

if ev.macro_auc is not None and not np.isnan(ev.macro_auc):
    st.caption(
        f"Macro ROC-AUC {ev.macro_auc:.3f} · accuracy {ev.accuracy:.3f} · macro-F1 {ev.macro_f1:.3f}"
    )
with st.expander("Training history"):
    hist = run.path / "history.json"
    if hist.exists():
        h = pd.read_json(hist)
        st.dataframe(
            h[h["kind"] == "eval"].drop(columns=["kind"], errors="ignore"),
            hide_index=True,
            width="stretch",
        )

st.subheader("Score customers with this model")
st.caption(
    "Apply the saved model bundle to a dataset with the same kind of data (for example a newer "
    "upload of the same shop). Features are computed the same way; missing or non-numeric "
    "columns are reported by name."
)
all_ds = ws.list_datasets()
target_ds = st.selectbox(
    "Dataset to score",
    [d.id for d in all_ds],
    key="sc_ds",
    format_func=lambda i: next(d.name for d in all_ds if d.id == i),
)
if st.button("Score", key="sc_go"):
    from core.finetune import score_dataset

    with st.spinner("Scoring…"):
        try:
            scored = score_dataset(ws, run.path / "bundle", target_ds)
        except (ValueError, KeyError) as exc:
            st.error(str(exc), icon=":material/error:")
            scored = None
    if scored is not None:
        st.session_state["sc_result"] = (run.id, target_ds, scored)
if st.session_state.get("sc_result") and st.session_state["sc_result"][:2] == (run.id, target_ds):
    scored = st.session_state["sc_result"][2]
    st.dataframe(scored.head(500).round(3), hide_index=True, width="stretch")
    st.caption(
        "Predicted classes: "
        + ", ".join(f"{k} {v:,}" for k, v in scored["predicted"].value_counts().items())
    )
    st.download_button(
        f"Download {len(scored):,} scores (CSV)",
        to_safe_csv_bytes(scored),
        file_name="scores.csv",
        mime="text/csv",
        key="sc_dl",
    )
