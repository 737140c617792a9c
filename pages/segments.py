"""Segments: choose a method and k, run the segmentation as a background job, compare runs."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.encoders import AUTO_STATIC_ABOVE
from core.jobs import submit
from core.pipeline import SegmentationParams, load_segments, load_vectors
from core.segment import METHOD_LABELS, METHODS, k_selection, method_label, run_notes
from dashboard import state
from dashboard.components.charts import plotly_config
from dashboard.components.empty import require_dataset
from dashboard.components.format import fmt_int, fmt_pct
from dashboard.components.jobs import current_job, job_progress
from dashboard.i18n import current_language, t
from dashboard.navigation import page

st.title(t("segments.title"))
ws = state.workspace()
ds = require_dataset()

has_reviews = "reviews" in ds.tables
st.caption(t("segments.caption"))

# ----------------------------------------------------------------------------- set-up
# Option labels are resolved now, in this run: Streamlit may call format_func outside it.
lang = current_language()
methods = {"rfm": t("segments.method_rfm"), **{m: method_label(m, lang) for m in METHOD_LABELS}}
with st.form("segment_form"):
    c1, c2 = st.columns(2)
    method = c1.selectbox(
        t("segments.method"),
        list(methods),
        format_func=methods.get,
        index=1,
        key="seg_method",
        help=t("segments.method_help"),
    )
    k = c2.slider(
        t("segments.k"),
        2,
        15,
        8,
        key="seg_k",
        help=t("segments.k_help"),
    )
    c3, c4 = st.columns(2)
    use_text = c3.toggle(
        t("segments.use_text"),
        value=has_reviews,
        disabled=not has_reviews,
        key="seg_use_text",
        help=t("segments.use_text_help"),
    )
    text_weight = c4.slider(
        t("segments.text_weight"),
        0.0,
        1.0,
        0.5,
        0.05,
        key="seg_text_weight",
        help=t("segments.text_weight_help"),
    )
    with st.expander(t("segments.advanced")):
        a1, a2, a3 = st.columns(3)
        encoders = {
            "auto": t("segments.encoder_auto", threshold=fmt_int(AUTO_STATIC_ABOVE)),
            "minilm": t("segments.encoder_minilm"),
            "static": t("segments.encoder_static"),
            "other": t("segments.encoder_other"),
        }
        encoder_pick = a1.selectbox(
            t("segments.encoder"),
            list(encoders),
            format_func=encoders.get,
            key="seg_encoder_pick",
            help=t("segments.encoder_help", threshold=fmt_int(AUTO_STATIC_ABOVE)),
        )
        encoder_dir = a1.text_input(
            t("segments.encoder_dir"),
            "",
            key="seg_encoder_dir",
            help=t("segments.encoder_dir_help"),
        )
        device = a2.selectbox(
            t("segments.device"),
            ["auto", "cpu", "cuda"],
            format_func={"auto": t("segments.device_auto"), "cpu": "cpu", "cuda": "cuda"}.get,
            key="seg_device",
            help=t("segments.device_help"),
        )
        seed = a3.number_input(
            t("segments.seed"), 0, 10_000, 0, key="seg_seed", help=t("segments.seed_help")
        )
        train_runs = [
            r
            for r in ws.list_runs(ds.id, kind="train")
            if r.status == "done" and (r.path / "embeddings.npy").exists()
        ]
        vectors_from = st.selectbox(
            t("segments.vectors"),
            [None] + [r.id for r in train_runs],
            key="seg_vectors",
            format_func={
                None: t("segments.vectors_default"),
                **{
                    r.id: t("segments.vectors_model", run=r.id, target=r.summary.get("target", ""))
                    for r in train_runs
                },
            }.get,
            help=t("segments.vectors_help"),
        )
        b1, b2 = st.columns(2)
        max_reviews = b1.slider(
            t("segments.max_reviews"),
            1,
            10,
            5,
            key="seg_max_reviews",
            help=t("segments.max_reviews_help"),
        )
        text_dims = b2.slider(
            t("segments.text_dims"),
            4,
            128,
            32,
            key="seg_text_dims",
            help=t("segments.tips.seg_text_dims"),
        )
    submitted = st.form_submit_button(t("segments.run"), type="primary")

if submitted:
    params = SegmentationParams(
        method=method,
        k=int(k),
        seed=int(seed),
        use_text=bool(use_text and has_reviews),
        text_weight=float(text_weight),
        text_dims=int(text_dims),
        encoder=(encoder_dir.strip() or "auto") if encoder_pick == "other" else encoder_pick,
        device=device,
        max_reviews=int(max_reviews),
        vectors_from=vectors_from,
    )
    run = submit(ws, "segment", ds.id, params.to_dict())
    st.session_state["seg_job"] = run.id
    st.toast(t("segments.started"))


@st.fragment(run_every="2s")
def _watch(run_id: str) -> None:
    run = ws.get_run(run_id)
    state_ = job_progress(run, key="seg")
    if state_ == "done":
        state.set_active_run(run_id)
        st.session_state.pop("seg_job", None)
        st.rerun()  # full rerun: the results below refresh
    elif state_ in ("failed", "cancelled"):
        st.session_state.pop("seg_job", None)


job_id = current_job("seg_job", state.segment_runs(ds.id))
if job_id:
    st.subheader(t("segments.running"))
    _watch(job_id)

# ----------------------------------------------------------------------------- results
run = state.active_run(ds.id)
if run is None:
    if not job_id:
        st.info(t("segments.no_run"), icon=":material/info:")
    st.stop()

runs = [r for r in state.segment_runs(ds.id) if r.status == "done"]


def _run_label(r) -> str:
    method = r.params.get("method")
    label = f"{r.created_at[:16].replace('T', ' ')} · {method_label(method, lang)}"
    if method not in ("hdbscan", "rfm"):
        label += f" k={r.params.get('k')}"
    if r.params.get("use_text") and method != "rfm":
        label += " " + t("segments.plus_text")
    return label


labels = {r.id: _run_label(r) for r in runs}
chosen = st.selectbox(
    t("segments.run_pick"),
    list(labels),
    index=list(labels).index(run.id),
    format_func=labels.get,
    key="seg_run_pick",
    help=t("segments.run_pick_help"),
)
if chosen != run.id:
    state.set_active_run(chosen)
    run = ws.get_run(chosen)

seg = load_segments(ws, run.id)
sizes = seg["segment"].value_counts()
revenue = seg.groupby("segment")["monetary"].sum() if "monetary" in seg else None
total_rev = float(seg["monetary"].clip(lower=0).sum()) if "monetary" in seg else 0.0
summary = pd.DataFrame(
    {
        "segment": sizes.index,
        "customers": [fmt_int(v) for v in sizes.values],
        "share": [fmt_pct(v / len(seg)) for v in sizes.values],
        **(
            {
                "revenue share": [
                    fmt_pct(max(0.0, revenue[s]) / total_rev) if total_rev else "—"
                    for s in sizes.index
                ]
            }
            if revenue is not None
            else {}
        ),
    }
)
c1, c2 = st.columns([2, 3])
c1.dataframe(
    summary,
    hide_index=True,
    width="stretch",
    column_config={col: t(f"segments.col.{col.replace(' ', '_')}") for col in summary.columns},
)
fig = go.Figure(go.Bar(x=sizes.index.astype(str), y=sizes.values, marker_color="#0072B2"))
fig.update_layout(
    height=300, margin=dict(l=10, r=10, t=10, b=10), yaxis_title=t("segments.yaxis_customers")
)
c2.plotly_chart(fig, width="stretch", config=plotly_config(), key="seg_sizes")
for note in run_notes(run.summary, lang):
    st.caption(t("segments.note", note=note))
st.caption(t("segments.seconds", seconds=run.summary.get("seconds", "?")))
cols = st.columns(3)
cols[0].page_link(page("explore"), label=t("segments.link_explore"), icon=":material/scatter_plot:")
cols[1].page_link(page("profiles"), label=t("segments.link_profiles"), icon=":material/groups:")
cols[2].page_link(page("export"), label=t("segments.link_export"), icon=":material/download:")

# ------------------------------------------------------------------------------ choose k
st.subheader(t("segments.choose_k"))
X = load_vectors(ws, run.id)
if X is None:
    st.caption(t("segments.rfm_no_k"))
else:
    kc1, kc2, kc3 = st.columns(3)
    k_method = kc1.selectbox(
        t("segments.k_method"),
        [m for m in METHODS if METHODS[m].needs_k and m != "autoencoder_kmeans"],
        format_func=methods.get,
        key="k_method",
        help=t("segments.tips.k_method"),
    )
    k_range = kc2.slider(
        t("segments.k_range"), 2, 15, (2, 12), key="k_range", help=t("segments.tips.k_range")
    )
    n_seeds = kc3.slider(
        t("segments.k_seeds"),
        2,
        5,
        3,
        key="k_seeds",
        help=t("segments.k_seeds_help"),
    )
    if st.button(
        t("segments.k_go"),
        key="k_go",
        help=t("segments.k_go_help"),
    ):
        bar = st.progress(0.0, text=t("segments.scoring"))
        sel = k_selection(
            X,
            range(k_range[0], k_range[1] + 1),
            k_method,
            n_seeds=n_seeds,
            progress=lambda done, total: bar.progress(
                done / total, text=t("segments.scoring_progress", done=done, total=total)
            ),
        )
        bar.empty()
        st.session_state[f"ksel_{run.id}"] = (sel.table, sel.suggested_k, k_method)
    if f"ksel_{run.id}" in st.session_state:
        table, suggested, k_m = st.session_state[f"ksel_{run.id}"]
        scores = ["inertia", "silhouette", "davies_bouldin", "stability"]
        plots = make_subplots(
            rows=1, cols=4, subplot_titles=[t(f"segments.plot.{col}") for col in scores]
        )
        for i, col in enumerate(scores, start=1):
            if table[col].notna().any():
                plots.add_trace(
                    go.Scatter(
                        x=table["k"],
                        y=table[col],
                        mode="lines+markers",
                        marker_color="#0072B2",
                        name=t(f"segments.metric.{col}"),
                    ),
                    row=1,
                    col=i,
                )
            plots.add_vline(x=suggested, line_dash="dot", line_color="#D55E00", row=1, col=i)
        plots.update_layout(height=300, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
        st.plotly_chart(plots, width="stretch", config=plotly_config(), key="k_plots")
        st.info(
            t("segments.suggested", k=suggested, method=method_label(k_m, lang)),
            icon=":material/lightbulb:",
        )
