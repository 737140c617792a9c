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

from core.datasets import dataset_name
from core.evaluate import Evaluation, compare_table, compare_with_best_baseline, model_label
from core.export import to_safe_csv_bytes
from core.finetune import load_cv, load_evaluations, load_predictions
from core.locale import error_text, text_in
from core.targets import TIME_SPLIT_KINDS, class_label, target_kind, warnings_in
from core.trust import cell_customers, reviews_for
from dashboard import state
from dashboard.components.charts import PALETTE, confusion_grid, highlight_map, plotly_config
from dashboard.components.format import fmt_int
from dashboard.i18n import DEFAULT, catalogue, current_language, t
from dashboard.navigation import page

LINKED = "linked_customers"  # session key: the customers of the last confusion cell looked into
CAP = 500  # rows of the cell's customer table sent to the browser
REVIEW_CAP = 200
lang = current_language()


def _columns(columns) -> dict:
    """Column labels in the session's language for the page's tables (the data keeps its ids)."""
    out = {}
    for c in map(str, columns):
        if c.startswith("p_"):
            out[c] = st.column_config.Column(t("evaluate.col.p", cls=_cls(c[2:])))
        elif f"evaluate.col.{c}" in catalogue(DEFAULT):
            out[c] = st.column_config.Column(t(f"evaluate.col.{c}"))
    return out


def _cls(value) -> str:
    """A class as the page shows it: the classes the app makes (churn, value tier) in the
    session's language, the data's own classes as they are."""
    return class_label(value, kind, lang)


def _shown(df: pd.DataFrame, columns=("true", "predicted")) -> pd.DataFrame:
    """`df` with its class columns as the page shows them (downloads keep the stored values)."""
    return df.assign(**{c: df[c].map(_cls) for c in columns if c in df.columns})


def _score(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _clicked_cell(event, classes: list[str]) -> tuple[str, str] | None:
    """(true, predicted) of the confusion cell just clicked, or None."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    stored = {_cls(c): c for c in classes}  # the axes show the classes as the page says them
    for pt in points:
        data = pt.get("customdata") or []
        if len(data) >= 2 and str(data[0]) in classes and str(data[1]) in classes:
            return str(data[0]), str(data[1])
        if str(pt.get("y")) in stored and str(pt.get("x")) in stored:
            return stored[str(pt["y"])], stored[str(pt["x"])]
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
    st.subheader(t("evaluate.cell.heading"))
    if model_name != evals[0].model_name:
        st.caption(t("evaluate.cell.baseline_only", model=model_label(evals[0].model_name, lang)))
        return
    ss = st.session_state
    linked = ss.get(LINKED) or {}
    if "ev_cell_true" not in ss and linked.get("run_id") == run_id:
        ss["ev_cell_true"], ss["ev_cell_pred"] = linked.get("true"), linked.get("predicted")
    clicked = _clicked_cell(event, classes)
    if clicked and ss.get("ev_last_click") != (run_id, *clicked):
        ss["ev_last_click"] = (run_id, *clicked)  # apply a click once; the boxes may change it
        ss["ev_cell_true"], ss["ev_cell_pred"] = clicked
    st.caption(t("evaluate.cell.hint"))
    b1, b2 = st.columns(2)
    true_cls = b1.selectbox(
        t("evaluate.cell.true_class"),
        classes,
        index=None,
        format_func=_cls,
        key="ev_cell_true",
        placeholder=t("evaluate.cell.pick"),
    )
    pred_cls = b2.selectbox(
        t("evaluate.cell.predicted_class"),
        classes,
        index=None,
        format_func=_cls,
        key="ev_cell_pred",
        placeholder=t("evaluate.cell.pick"),
    )
    if true_cls is None or pred_cls is None:
        return
    try:
        cust = cell_customers(_predictions(run_id), true_cls, pred_cls)
    except (OSError, ValueError) as exc:
        st.warning(t("evaluate.cell.no_predictions", error=exc), icon=":material/warning:")
        return
    ids = cust["customer_id"].astype(str).tolist()
    ss[LINKED] = {
        "source": "evaluate",
        "run_id": run_id,
        "true": true_cls,
        "predicted": pred_cls,
        "customer_ids": ids,
    }
    count = fmt_int(len(cust))
    if true_cls == pred_cls:
        st.markdown(t("evaluate.cell.correct", count=count, true=_cls(true_cls)))
    else:
        st.markdown(
            t("evaluate.cell.wrong", count=count, true=_cls(true_cls), predicted=_cls(pred_cls))
        )
    if cust.empty:
        return
    if st.button(
        t("evaluate.cell.to_explore"),
        key="ev_to_explore",
        icon=":material/scatter_plot:",
        help=t("evaluate.cell.to_explore_help"),
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
            st.info(t("evaluate.cell.no_map"), icon=":material/info:")
        else:
            on_map = int(points["customer_id"].astype(str).isin(set(ids)).sum())
            st.plotly_chart(
                highlight_map(
                    points,
                    ids,
                    t("evaluate.cell.map_label", true=_cls(true_cls), predicted=_cls(pred_cls)),
                ),
                width="stretch",
                config=plotly_config(),
                key="ev_linked_map",
            )
            st.caption(t("evaluate.cell.map_caption", run=seg_run, count=fmt_int(on_map)))
    with m2:
        prob_cols = [c for c in cust.columns if c.startswith("p_")]
        table = cust[["customer_id", "true", "predicted", *prob_cols]]
        st.dataframe(
            _shown(table.head(CAP)).round(3),
            hide_index=True,
            width="stretch",
            height=420,
            column_config=_columns(table.columns),
        )
        if len(table) > CAP:
            st.caption(t("evaluate.cell.first_rows", shown=fmt_int(CAP), total=fmt_int(len(table))))
        st.download_button(
            t("evaluate.cell.download", count=fmt_int(len(table))),
            to_safe_csv_bytes(table),
            file_name=f"cell_{true_cls}_as_{pred_cls}.csv",
            mime="text/csv",
            key="ev_cell_dl",
        )
    reviews, n_reviews = reviews_for(ws, run.dataset_id, ids, limit=REVIEW_CAP)
    st.markdown(t("evaluate.cell.reviews"))
    if n_reviews == 0:
        st.caption(t("evaluate.cell.no_reviews"))
    else:
        st.dataframe(
            reviews,
            hide_index=True,
            width="stretch",
            height=320,
            column_config=_columns(reviews.columns),
        )
        st.caption(
            t(
                "evaluate.cell.reviews_shown",
                shown=fmt_int(min(n_reviews, REVIEW_CAP)),
                total=fmt_int(n_reviews),
            )
        )


st.title(t("evaluate.title"))
ws = state.workspace()
ds = state.active_dataset()
runs = [r for r in ws.list_runs(ds.id, kind="train") if r.status == "done"] if ds else []
if not runs:
    st.info(t("evaluate.no_model"), icon=":material/info:")
    st.page_link(page("train"), label=t("evaluate.go_train"), icon=":material/model_training:")
    st.stop()

run_id = st.selectbox(
    t("evaluate.training_run"),
    [r.id for r in runs],
    key="ev_run",
    format_func=lambda i: f"{i} · {next(r for r in runs if r.id == i).summary.get('target', '')}",
)
run = ws.get_run(run_id)
evals = [Evaluation.from_dict(d) for d in load_evaluations(ws, run_id)]
if not evals:
    st.warning(t("evaluate.no_evaluation"))
    st.stop()
s = run.summary
kind = s.get("target_kind") or target_kind(s.get("target"))
st.caption(t("evaluate.holdout", n_test=fmt_int(s.get("n_test", 0))))
for w in warnings_in(s, lang):
    st.warning(w, icon=":material/warning:")

st.subheader(t("evaluate.side_by_side"))
# Said plainly: a fine-tuned model that a classical baseline matches is not worth its cost.
verdict = compare_with_best_baseline(evals[0], evals[1:])
if verdict is not None:
    words = dict(
        model=model_label(evals[0].model_name, lang),
        baseline=model_label(verdict["best_baseline"], lang),
        metric=t(f"evaluate.col.{verdict['metric']}"),
        model_score=_score(verdict["model_score"]),
        baseline_score=_score(verdict["baseline_score"]),
    )
    if verdict["model_beats_best_baseline"]:
        st.caption(t("evaluate.beats_baseline", **words))
    else:
        st.warning(t("evaluate.not_better", **words), icon=":material/warning:")
cmp = compare_table(evals)
cmp["model"] = cmp["model"].map(lambda m: model_label(m, lang))
st.dataframe(cmp.round(3), hide_index=True, width="stretch", column_config=_columns(cmp.columns))
cv = load_cv(ws, run_id)
if cv is not None:
    folds = cv["fold"].nunique()
    metrics = dict(
        macro_f1_mean=("macro_f1", "mean"),
        macro_f1_std=("macro_f1", "std"),
        accuracy_mean=("accuracy", "mean"),
    )
    if "macro_auc" in cv.columns:  # runs from before AUC was kept per fold have none
        metrics |= dict(macro_auc_mean=("macro_auc", "mean"), macro_auc_std=("macro_auc", "std"))
    summary = cv.groupby("model").agg(**metrics).sort_values("macro_f1_mean", ascending=False)
    st.markdown(t("evaluate.cv_heading", folds=folds))
    cv_columns = {
        "model": t("evaluate.cv_col.model"),
        "macro_f1_mean": t("evaluate.cv_col.macro_f1_mean"),
        "macro_f1_std": t("evaluate.cv_col.macro_f1_std"),
        "accuracy_mean": t("evaluate.cv_col.accuracy_mean"),
        "macro_auc_mean": t("evaluate.cv_col.macro_auc_mean"),
        "macro_auc_std": t("evaluate.cv_col.macro_auc_std"),
    }
    summary.index = summary.index.map(lambda m: model_label(m, lang))
    st.dataframe(
        summary.round(3).reset_index(),
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.Column(label) for c, label in cv_columns.items()},
    )
else:
    st.caption(t("evaluate.cv_hint"))

names = [e.model_name for e in evals]
model_names = {n: model_label(n, lang) for n in names}
model_name = st.radio(
    t("evaluate.model"),
    names,
    horizontal=True,
    key="ev_model",
    help=t("evaluate.tips.ev_model"),
    format_func=model_names.get,
)
ev = next(e for e in evals if e.model_name == model_name)
classes = ev.classes

c1, c2 = st.columns(2)
with c1:
    st.markdown(t("evaluate.confusion"))
    norm = st.toggle(
        t("evaluate.row_normalised"), value=True, key="ev_norm", help=t("evaluate.tips.ev_norm")
    )
    z = ev.confusion_normalised if norm else ev.confusion
    text = [[f"{v:.0%}" if norm else f"{int(v):,}" for v in row] for row in z]
    event = st.plotly_chart(
        confusion_grid(ev.confusion, classes, text, z, shown=[_cls(c) for c in classes]),
        width="stretch",
        config=plotly_config(),
        key=f"ev_confusion_{run_id}_{names.index(model_name)}",
        on_select="rerun",
        selection_mode=("points",),
    )
with c2:
    st.markdown(t("evaluate.per_class"))
    st.dataframe(
        ev.per_class.assign(**{"class": ev.per_class["class"].map(_cls)}).round(3),
        hide_index=True,
        width="stretch",
        column_config=_columns(ev.per_class.columns),
    )

_linked_cell(event)

c3, c4, c5 = st.columns(3)
roc = go.Figure()
for i, (cls, d) in enumerate(ev.roc.items()):
    roc.add_trace(
        go.Scatter(
            x=d["fpr"],
            y=d["tpr"],
            mode="lines",
            name=t("evaluate.roc.trace", cls=_cls(cls), auc=f"{d['auc']:.2f}"),
            line_color=PALETTE[i % len(PALETTE)],
        )
    )
roc.add_trace(
    go.Scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        line=dict(dash="dot", color="#999"),
        showlegend=False,
        hoverinfo="skip",  # the chance diagonal: unnamed, its hover would say "trace 2"
    )
)
roc.update_layout(
    height=360,
    margin=dict(l=10, r=10, t=30, b=10),
    title=t("evaluate.roc.title"),
    xaxis_title=t("evaluate.roc.x"),
    yaxis_title=t("evaluate.roc.y"),
    legend=dict(font_size=10),
)
c3.plotly_chart(roc, width="stretch", config=plotly_config(), key="ev_roc")
pr = go.Figure()
for i, (cls, d) in enumerate(ev.pr.items()):
    pr.add_trace(
        go.Scatter(
            x=d["recall"],
            y=d["precision"],
            mode="lines",
            name=t("evaluate.pr.trace", cls=_cls(cls), ap=f"{d['ap']:.2f}"),
            line_color=PALETTE[i % len(PALETTE)],
        )
    )
pr.update_layout(
    height=360,
    margin=dict(l=10, r=10, t=30, b=10),
    title=t("evaluate.pr.title"),
    xaxis_title=t("evaluate.pr.x"),
    yaxis_title=t("evaluate.pr.y"),
    legend=dict(font_size=10),
)
c4.plotly_chart(pr, width="stretch", config=plotly_config(), key="ev_pr")
cal = ev.calibration
calf = go.Figure()
if cal.get("prob_pred"):
    calf.add_trace(
        go.Scatter(
            x=cal["prob_pred"],
            y=cal["prob_true"],
            mode="lines+markers",
            line_color="#D55E00",
            name=t("evaluate.calibration.model"),
        )
    )
calf.add_trace(
    go.Scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        line=dict(dash="dot", color="#999"),
        name=t("evaluate.calibration.perfect"),
    )
)
calf.update_layout(
    height=360,
    margin=dict(l=10, r=10, t=30, b=10),
    title=t(
        "evaluate.calibration.title",
        # Binary: the positive class's probability; else the top class's (as core computes it).
        label=t("evaluate.col.p", cls=_cls(classes[1]))
        if len(classes) == 2
        else t("evaluate.calibration.top_class"),
    ),
    xaxis_title=t("evaluate.calibration.x"),
    yaxis_title=t("evaluate.calibration.y"),
    showlegend=False,
)
c5.plotly_chart(calf, width="stretch", config=plotly_config(), key="ev_cal")

if ev.macro_auc is not None and not np.isnan(ev.macro_auc):
    st.caption(
        t(
            "evaluate.summary",
            auc=f"{ev.macro_auc:.3f}",
            accuracy=f"{ev.accuracy:.3f}",
            f1=f"{ev.macro_f1:.3f}",
        )
    )
with st.expander(t("evaluate.history")):
    hist = run.path / "history.json"
    if hist.exists():
        h = pd.read_json(hist)
        h = h[h["kind"] == "eval"].drop(columns=["kind"], errors="ignore")
        st.dataframe(h, hide_index=True, width="stretch", column_config=_columns(h.columns))

st.subheader(t("evaluate.score.heading"))
st.caption(t("evaluate.score.intro"))
all_ds = ws.list_datasets()
ds_ids = [d.id for d in all_ds]
target_ds = st.selectbox(
    t("evaluate.score.dataset"),
    ds_ids,
    # the model's own dataset first: the one its features certainly fit
    index=ds_ids.index(run.dataset_id) if run.dataset_id in ds_ids else 0,
    key="sc_ds",
    help=t("evaluate.tips.sc_ds"),
    format_func=lambda i: next(dataset_name(d, lang) for d in all_ds if d.id == i),
)
as_of = None
if run.summary.get("target_kind") in TIME_SPLIT_KINDS:
    # A time-split model predicts what happens after a date: say which one.
    choices = (["training"] if target_ds == run.dataset_id else []) + ["latest", "date"]
    when = st.radio(
        t("evaluate.score.as_of"),
        choices,
        # labels resolved now: format_func may also be called outside this run
        format_func={c: t(f"evaluate.score.as_of_{c}") for c in choices}.get,
        horizontal=True,
        key=f"sc_when_{target_ds == run.dataset_id}",
        help=t("evaluate.tips.sc_as_of"),
    )
    if when == "latest":
        as_of = "latest"
    elif when == "date":
        as_of = st.date_input(t("evaluate.score.as_of_pick"), key="sc_as_of").isoformat()
if st.button(t("evaluate.score.button"), key="sc_go"):
    from core.finetune import score_dataset

    with st.spinner(t("evaluate.score.scoring")):
        try:
            scored = score_dataset(ws, run.path / "bundle", target_ds, as_of=as_of)
        except (ValueError, KeyError) as exc:
            st.error(error_text(exc, lang), icon=":material/error:")
            scored = None
    if scored is not None:
        st.session_state["sc_result"] = (run.id, target_ds, scored)
if st.session_state.get("sc_result") and st.session_state["sc_result"][:2] == (run.id, target_ds):
    scored = st.session_state["sc_result"][2]
    for note in scored.attrs.get("notes", []):
        leak = getattr(getattr(note, "phrase", None), "key", "") == "leak"
        (st.warning if leak else st.caption)(text_in(note, lang))
    st.dataframe(
        _shown(scored.head(500)).round(3),
        hide_index=True,
        width="stretch",
        column_config=_columns(scored.columns),
    )
    st.caption(
        t(
            "evaluate.score.predicted",
            counts=", ".join(
                f"{_cls(k)} {fmt_int(v)}" for k, v in scored["predicted"].value_counts().items()
            ),
        )
    )
    st.download_button(
        t("evaluate.score.download", count=fmt_int(len(scored))),
        to_safe_csv_bytes(scored),
        file_name="scores.csv",
        mime="text/csv",
        key="sc_dl",
    )
