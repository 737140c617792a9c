"""Evaluate: the fine-tuned model next to the baselines, on the same held-out customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.evaluate import Evaluation, compare_table
from core.finetune import load_cv, load_evaluations
from dashboard import state
from dashboard.components.charts import PALETTE
from dashboard.navigation import page

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
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=classes,
            y=classes,
            colorscale="Blues",
            text=text,
            texttemplate="%{text}",
            showscale=False,
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(
        height=420,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="predicted",
        yaxis_title="true",
        yaxis_autorange="reversed",
    )
    st.plotly_chart(fig, width="stretch", key="ev_confusion")
with c2:
    st.markdown("**Per class**")
    st.dataframe(ev.per_class.round(3), hide_index=True, width="stretch")

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
    from core.export import to_safe_csv_bytes

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
