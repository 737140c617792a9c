"""Train: fine-tune a transformer on customer text + numbers, as a background job with live curves."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.campaign import list_campaigns
from core.datasets import column_mapping
from core.evaluate import BASELINE_LABELS, model_label
from core.finetune import FinetuneParams
from core.jobs import is_job, read_status, resume, state_label, submit
from core.locale import error_text, text_in
from core.targets import class_label, warnings_in
from dashboard import state
from dashboard.components.charts import plotly_config
from dashboard.components.empty import require_dataset
from dashboard.components.format import feature_names_in, fmt_int, fmt_pct
from dashboard.components.jobs import current_job, job_progress
from dashboard.i18n import current_language, t
from dashboard.navigation import page

st.title(t("train.title"))
ws = state.workspace()
ds = require_dataset()

try:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
except Exception:  # noqa: BLE001 - a broken CUDA set-up must not break the page
    gpu = None
st.caption(t("train.intro") + " " + (t("train.gpu", gpu=gpu) if gpu else t("train.no_gpu")))

customers = ws.load_table(ds.id, "customers")
label_cols = (
    [
        c
        for c in (customers.columns if customers is not None else [])
        if c != "customer_id" and 1 < customers[c].nunique() <= 50
    ]
    if customers is not None
    else []
)
uploaded_as = {v: k for k, v in column_mapping(ws, ds.id, "customers").items()}
seg_runs = [r for r in state.segment_runs(ds.id) if r.status == "done"]
campaigns = {c.id: c for c in list_campaigns(ws, dataset_id=ds.id)}
kinds = {
    "label_column": t("train.kind.label_column"),
    "churn": t("train.kind.churn"),
    "value_tier": t("train.kind.value_tier"),
    "cluster": t("train.kind.cluster"),
    "campaign": t("train.kind.campaign"),
}
available = [
    k
    for k in kinds
    if (k != "label_column" or label_cols)
    and (k != "cluster" or seg_runs)
    and (k != "campaign" or campaigns)
    and (k not in ("churn", "value_tier") or "orders" in ds.tables)
]
# Option labels are looked up, not computed in format_func: the labels are fixed in this
# run's language.
campaign_labels = {
    i: t(
        "train.form.campaign_option",
        name=c.name,
        date=c.uploaded_at[:10],
        treated=fmt_int(c.report.n_treated),
    )
    for i, c in campaigns.items()
}
device_labels = {"auto": t("train.form.device_auto"), "cuda": "cuda", "cpu": "cpu"}

from core.datasets import compute_dataset_features  # noqa: E402

feature_names = [f.name for f in compute_dataset_features(ws, ds.id).features]
feature_shown = feature_names_in(feature_names, current_language())

with st.form("train_form"):
    target = st.selectbox(
        t("train.form.target"),
        available,
        format_func=kinds.get,
        key="tr_target",
        help=t("train.form.target_help"),
    )
    c1, c2 = st.columns(2)
    label_column = c1.selectbox(
        t("train.form.label_column"),
        label_cols or ["—"],
        key="tr_label",
        index=next((label_cols.index(c) for c in ("persona", "label") if c in label_cols), 0),
        # `label (Churn)`: the stored column, and what the uploaded file called it.
        format_func=lambda c: c if uploaded_as.get(c, c) == c else f"{c} ({uploaded_as[c]})",
        help=t("train.form.label_column_help"),
    )
    horizon = c2.number_input(
        t("train.form.horizon"),
        14,
        365,
        90,
        key="tr_horizon",
        help=t("train.form.horizon_help"),
    )
    seg_run = st.selectbox(
        t("train.form.segment_run"),
        [r.id for r in seg_runs] or ["—"],
        key="tr_segrun",
        help=t("train.form.segment_run_help"),
    )
    campaign = (
        st.selectbox(
            t("train.form.campaign"),
            list(campaigns),
            key="tr_campaign",
            format_func=campaign_labels.get,
            help=t("train.form.campaign_help"),
        )
        if campaigns
        else None
    )
    chosen_features = st.multiselect(
        t("train.form.features"),
        feature_names,
        default=feature_names,
        format_func=feature_shown.get,
        key="tr_features",
        help=t("train.form.features_help"),
    )
    c3, c4, c5 = st.columns(3)
    use_text = c3.toggle(
        t("train.form.use_text"),
        value="reviews" in ds.tables,
        key="tr_text",
        help=t("train.tips.tr_text"),
        disabled="reviews" not in ds.tables,
    )
    epochs = c4.slider(
        t("train.form.epochs"), 1, 10, 2, key="tr_epochs", help=t("train.tips.tr_epochs")
    )
    batch = c5.select_slider(
        t("train.form.batch_size"),
        [4, 8, 16, 32, 64, 128],
        value=32,
        key="tr_batch",
        help=t("train.tips.tr_batch"),
    )
    with st.expander(t("train.form.advanced")):
        a1, a2, a3 = st.columns(3)
        encoder = a1.text_input(
            t("train.form.encoder"),
            "default",
            key="tr_encoder",
            help=t("train.form.encoder_help"),
        )
        lr = a2.select_slider(
            t("train.form.lr"),
            [1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4],
            value=5e-5,
            key="tr_lr",
            help=t("train.tips.tr_lr"),
        )
        device = a3.selectbox(
            t("train.form.device"),
            ["auto", "cuda", "cpu"],
            key="tr_device",
            format_func=device_labels.get,
            help=t("train.form.device_help"),
        )
        b1, b2, b3 = st.columns(3)
        cv_folds = b3.selectbox(
            t("train.form.cv_folds"),
            [0, 3, 5],
            key="tr_cv",
            help=t("train.form.cv_folds_help"),
        )
        max_len = b1.select_slider(
            t("train.form.max_length"),
            [32, 64, 128, 256],
            value=128,
            key="tr_maxlen",
            help=t("train.tips.tr_maxlen"),
        )
        max_customers = b2.number_input(
            t("train.form.max_customers"),
            0,
            10_000_000,
            0 if gpu else min(4000, ds.n_customers or 4000),
            step=1000,
            key="tr_max",
            help=t("train.form.max_customers_help"),
        )
    go_btn = st.form_submit_button(t("train.form.start"), type="primary")

if go_btn:
    params = FinetuneParams(
        target=target,
        label_column=label_column if target == "label_column" else None,
        segment_run=seg_run if target == "cluster" else None,
        campaign=campaign if target == "campaign" else None,
        horizon_days=int(horizon),
        use_text=bool(use_text),
        encoder=encoder.strip() or "default",
        epochs=int(epochs),
        batch_size=int(batch),
        lr=float(lr),
        max_length=int(max_len),
        device=device,
        max_customers=int(max_customers) or None,
        cv_folds=int(cv_folds),
        features=list(chosen_features),
        use_numeric=bool(chosen_features),
    )
    # Check the target first (fast): a bad choice is refused here, leakage is flagged before
    # any time is spent training.
    from core.finetune import build_target
    from core.targets import leakage_check

    try:
        tgt = build_target(ws, ds.id, params)
    except (ValueError, KeyError) as exc:
        st.error(error_text(exc, current_language()), icon=":material/error:")
    else:
        counts = tgt.labels["label"].value_counts()
        st.info(
            t(
                "train.launch.target_info",
                name=tgt.name,
                customers=fmt_int(len(tgt.labels)),
                counts=", ".join(
                    f"{class_label(c, tgt.kind, current_language())} {fmt_int(counts.get(c, 0))}"
                    for c in tgt.classes
                ),
            ),
            icon=":material/target:",
        )
        for w in tgt.warnings + leakage_check(tgt, params.features or []):
            st.warning(text_in(w, current_language()), icon=":material/warning:")
        run = submit(ws, "train", ds.id, params.to_dict())
        st.session_state["train_job"] = run.id
        st.toast(t("train.launch.started"))


def _curves(run_dir) -> None:
    path = run_dir / "history.json"
    if not path.exists():
        return
    try:
        hist = json.loads(path.read_text())
    except ValueError:
        return
    steps = [h for h in hist if h.get("kind") == "step"]
    evals = [h for h in hist if h.get("kind") == "eval"]
    c1, c2 = st.columns(2)
    if steps:
        fig = go.Figure(
            go.Scatter(
                x=[s["step"] for s in steps],
                y=[s["loss"] for s in steps],
                mode="lines",
                line_color="#0072B2",
                name=t("train.curves.loss_trace"),
            )
        )
        fig.update_layout(
            height=260,
            margin=dict(l=10, r=10, t=30, b=10),
            title=t("train.curves.loss_title"),
            xaxis_title=t("train.curves.step"),
        )
        c1.plotly_chart(
            fig, width="stretch", config=plotly_config(), key=f"loss_{run_dir.name}_{len(steps)}"
        )
    if evals:
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(
                x=[e["epoch"] + 1 for e in evals],
                y=[e["val_macro_f1"] for e in evals],
                mode="lines+markers",
                name=t("train.curves.macro_f1"),
                line_color="#009E73",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[e["epoch"] + 1 for e in evals],
                y=[e["val_accuracy"] for e in evals],
                mode="lines+markers",
                name=t("train.curves.accuracy"),
                line_color="#E69F00",
            )
        )
        fig.update_layout(
            height=260,
            margin=dict(l=10, r=10, t=30, b=10),
            title=t("train.curves.val_title"),
            xaxis_title=t("train.curves.epoch"),
            yaxis_range=[0, 1],
        )
        c2.plotly_chart(
            fig, width="stretch", config=plotly_config(), key=f"val_{run_dir.name}_{len(evals)}"
        )


@st.fragment(run_every="2s")
def _watch(run_id: str) -> None:
    run = ws.get_run(run_id)
    status = job_progress(run, key="train")
    _curves(run.path)
    if status in ("done", "failed", "cancelled"):
        st.session_state.pop("train_job", None)
        st.rerun()


runs = ws.list_runs(ds.id, kind="train")
job_id = current_job("train_job", runs)
if job_id:
    st.subheader(t("train.runs.training"))
    _watch(job_id)

st.subheader(t("train.runs.heading"))
if not runs:
    st.info(t("train.runs.none"), icon=":material/info:")
    st.stop()
rows = []
for r in runs:
    rows.append(
        {
            "run": r.id,
            "target": r.summary.get("target", r.params.get("target")),
            "state": state_label(
                read_status(r.path).state if is_job(r.path) else r.status, current_language()
            ),
            "test macro-F1": r.summary.get("test_macro_f1"),
            "best baseline": max(r.summary.get("baselines", {}).values(), default=None),
            "customers": fmt_int(r.summary.get("n_customers")),
            "seconds": r.summary.get("seconds"),
            "device": r.summary.get("device"),
        }
    )
table = pd.DataFrame(rows)
columns = {
    "run": t("train.runs.col.run"),
    "target": t("train.runs.col.target"),
    "state": t("train.runs.col.state"),
    "test macro-F1": t("train.runs.col.test_macro_f1"),
    "best baseline": t("train.runs.col.best_baseline"),
    "customers": t("train.runs.col.customers"),
    "seconds": t("train.runs.col.seconds"),
    "device": t("train.runs.col.device"),
}
st.dataframe(
    table.round(3),
    hide_index=True,
    width="stretch",
    column_config={c: st.column_config.Column(label) for c, label in columns.items()},
)
stuck = [r for r in runs if is_job(r.path) and read_status(r.path).state in ("failed", "cancelled")]
if stuck:
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox(
        t("train.runs.resume_pick"),
        [r.id for r in stuck],
        key="tr_resume_pick",
    )
    err = read_status(next(r for r in stuck if r.id == pick).path).error_in(current_language())
    if err:
        c1.caption(t("train.runs.error", error=err))
    if c2.button(t("train.runs.resume"), key="tr_resume"):
        resume(ws, pick)
        st.session_state["train_job"] = pick
        st.rerun()
done = [r for r in runs if r.status == "done"]


def _baseline(name: str) -> str:
    lang = current_language()
    if lang == "en":
        return BASELINE_LABELS.get(name, name.replace("_", " "))
    return model_label(name, lang)


if done:
    best = done[0]
    s = best.summary
    st.success(
        t(
            "train.runs.latest",
            f1=f"{s['test_macro_f1']:.3f}",
            n_test=fmt_int(s["n_test"]),
            accuracy=fmt_pct(s["test_accuracy"]),
        )
        + "".join(
            t("train.runs.latest_baseline", model=_baseline(k), f1=f"{v:.3f}")
            for k, v in s.get("baselines", {}).items()
        ),
        icon=":material/model_training:",
    )
    best_baseline = s.get("best_baseline")
    if (
        best_baseline
        and s.get("beats_best_baseline") is False
        and None not in (best_baseline["score"], best_baseline["model_score"])
    ):
        metric = best_baseline["metric"]
        st.warning(
            t(
                "train.runs.not_better",
                baseline=_baseline(best_baseline["name"]),
                metric=t(f"evaluate.col.{metric}"),
                baseline_score=f"{best_baseline['score']:.3f}",
                model_score=f"{best_baseline['model_score']:.3f}",
            ),
            icon=":material/warning:",
        )
    for w in warnings_in(s, current_language()):
        st.warning(w, icon=":material/warning:")
    st.page_link(
        page("evaluate"), label=t("train.runs.open_evaluation"), icon=":material/analytics:"
    )
