"""Segments: choose a method and k, run the segmentation as a background job, compare runs."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.jobs import submit
from core.pipeline import SegmentationParams, load_segments, load_vectors
from core.segment import METHOD_LABELS, METHODS, k_selection
from dashboard import state
from dashboard.components.empty import require_dataset
from dashboard.components.format import fmt_int, fmt_pct
from dashboard.components.jobs import current_job, job_progress
from dashboard.navigation import page

st.title("Segments")
ws = state.workspace()
ds = require_dataset()

has_reviews = "reviews" in ds.tables
st.caption(
    "Customers are described by their features (scaled) and, optionally, by an embedding of "
    "their review text from a transformer; the two are fused and clustered. Runs are kept, so "
    "you can compare methods and choose the one to explore."
)

# ----------------------------------------------------------------------------- set-up
methods = {"rfm": "RFM rule tiers (Champions, Loyal, At risk, …)", **METHOD_LABELS}
with st.form("segment_form"):
    c1, c2 = st.columns(2)
    method = c1.selectbox(
        "Method",
        list(methods),
        format_func=methods.get,
        index=1,
        key="seg_method",
        help="K-means is the dependable default. HDBSCAN finds the number of segments itself and "
        "marks outliers as Noise. RFM tiers use rules on recency, frequency and spend only.",
    )
    k = c2.slider(
        "Number of segments (k)",
        2,
        15,
        8,
        key="seg_k",
        help="Ignored by HDBSCAN and RFM. Use 'Choose k' below to compare values.",
    )
    c3, c4 = st.columns(2)
    use_text = c3.toggle(
        "Use review text",
        value=has_reviews,
        disabled=not has_reviews,
        key="seg_use_text",
        help="Embed each customer's reviews with a transformer and fuse them with the numbers.",
    )
    text_weight = c4.slider(
        "Weight of the text part",
        0.0,
        1.0,
        0.5,
        0.05,
        key="seg_text_weight",
        help="Share of the fused vector's variance given to text (0 = numbers only, 1 = text only).",
    )
    with st.expander("Advanced"):
        a1, a2, a3 = st.columns(3)
        encoder = a1.text_input(
            "Text encoder",
            "default",
            key="seg_encoder",
            help="'default' is the built-in offline all-MiniLM-L6-v2. Or a local model directory, "
            "or a Hugging Face model id available in the local cache.",
        )
        device = a2.selectbox(
            "Device",
            ["auto", "cpu", "cuda"],
            key="seg_device",
            help="auto uses a GPU when one is present",
        )
        seed = a3.number_input(
            "Seed", 0, 10_000, 0, key="seg_seed", help="Same seed, same segments"
        )
        train_runs = [
            r
            for r in ws.list_runs(ds.id, kind="train")
            if r.status == "done" and (r.path / "embeddings.npy").exists()
        ]
        vectors_from = st.selectbox(
            "Vectors",
            [None] + [r.id for r in train_runs],
            key="seg_vectors",
            format_func=lambda r: (
                "Features ⊕ review-text embedding (default)"
                if r is None
                else f"Fine-tuned model {r} ({next(t for t in train_runs if t.id == r).summary.get('target', '')})"
            ),
            help="Cluster and map the representation a fine-tuned model learned instead of the default "
            "embedding; the map can then be coloured by the model's target and prediction.",
        )
        b1, b2 = st.columns(2)
        max_reviews = b1.slider(
            "Reviews per customer", 1, 10, 5, key="seg_max_reviews", help="Most recent first"
        )
        text_dims = b2.slider("Text dimensions kept (PCA)", 4, 128, 32, key="seg_text_dims")
    submitted = st.form_submit_button("Run segmentation", type="primary")

if submitted:
    params = SegmentationParams(
        method=method,
        k=int(k),
        seed=int(seed),
        use_text=bool(use_text and has_reviews),
        text_weight=float(text_weight),
        text_dims=int(text_dims),
        encoder=encoder.strip() or "default",
        device=device,
        max_reviews=int(max_reviews),
        vectors_from=vectors_from,
    )
    run = submit(ws, "segment", ds.id, params.to_dict())
    st.session_state["seg_job"] = run.id
    st.toast("Segmentation started in the background")


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
    st.subheader("Running")
    _watch(job_id)

# ----------------------------------------------------------------------------- results
run = state.active_run(ds.id)
if run is None:
    if not job_id:
        st.info(
            "No segmentation yet: choose a method and press **Run segmentation**.",
            icon=":material/info:",
        )
    st.stop()

runs = [r for r in state.segment_runs(ds.id) if r.status == "done"]
labels = {
    r.id: f"{r.created_at[:16].replace('T', ' ')} · {r.params.get('method')}"
    f"{'' if r.params.get('method') in ('hdbscan', 'rfm') else ' k=' + str(r.params.get('k'))}"
    f"{' + text' if r.params.get('use_text') and r.params.get('method') != 'rfm' else ''}"
    for r in runs
}
chosen = st.selectbox(
    "Run to explore",
    list(labels),
    index=list(labels).index(run.id),
    format_func=labels.get,
    key="seg_run_pick",
    help="The Explore, Profiles and Export pages use this run.",
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
c1.dataframe(summary, hide_index=True, width="stretch")
fig = go.Figure(go.Bar(x=sizes.index.astype(str), y=sizes.values, marker_color="#0072B2"))
fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="customers")
c2.plotly_chart(fig, width="stretch", key="seg_sizes")
for note in run.summary.get("notes", []):
    st.caption(f"Note: {note}")
st.caption(f"Computed in {run.summary.get('seconds', '?')} s.")
cols = st.columns(3)
cols[0].page_link(page("explore"), label="Explore the map", icon=":material/scatter_plot:")
cols[1].page_link(page("profiles"), label="Read the profiles", icon=":material/groups:")
cols[2].page_link(page("export"), label="Export lists", icon=":material/download:")

# ------------------------------------------------------------------------------ choose k
st.subheader("Choose k")
X = load_vectors(ws, run.id)
if X is None:
    st.caption("RFM tiers are rules, not clusters: there is no k to choose.")
else:
    kc1, kc2, kc3 = st.columns(3)
    k_method = kc1.selectbox(
        "Method to score",
        [m for m in METHODS if METHODS[m].needs_k and m != "autoencoder_kmeans"],
        format_func=METHOD_LABELS.get,
        key="k_method",
    )
    k_range = kc2.slider("k range", 2, 15, (2, 12), key="k_range")
    n_seeds = kc3.slider(
        "Seeds for stability",
        2,
        5,
        3,
        key="k_seeds",
        help="Stability is the mean adjusted Rand index between runs with different seeds",
    )
    if st.button(
        "Score these k",
        key="k_go",
        help="Uses this run's fused vectors (a sample of up to 5,000 customers)",
    ):
        bar = st.progress(0.0, text="Scoring k…")
        sel = k_selection(
            X,
            range(k_range[0], k_range[1] + 1),
            k_method,
            n_seeds=n_seeds,
            progress=lambda d, t: bar.progress(d / t, text=f"Scoring k ({d}/{t})"),
        )
        bar.empty()
        st.session_state[f"ksel_{run.id}"] = (sel.table, sel.suggested_k, k_method)
    if f"ksel_{run.id}" in st.session_state:
        table, suggested, k_m = st.session_state[f"ksel_{run.id}"]
        plots = make_subplots(
            rows=1,
            cols=4,
            subplot_titles=(
                "Elbow (inertia, lower is tighter)",
                "Silhouette (higher is better)",
                "Davies–Bouldin (lower is better)",
                "Stability across seeds (ARI)",
            ),
        )
        for i, col in enumerate(["inertia", "silhouette", "davies_bouldin", "stability"], start=1):
            if table[col].notna().any():
                plots.add_trace(
                    go.Scatter(
                        x=table["k"],
                        y=table[col],
                        mode="lines+markers",
                        marker_color="#0072B2",
                        name=col,
                    ),
                    row=1,
                    col=i,
                )
            plots.add_vline(x=suggested, line_dash="dot", line_color="#D55E00", row=1, col=i)
        plots.update_layout(height=300, showlegend=False, margin=dict(l=10, r=10, t=40, b=10))
        st.plotly_chart(plots, width="stretch", key="k_plots")
        st.info(
            f"Suggested k = **{suggested}** for {METHOD_LABELS[k_m]}: the best silhouette among the "
            "k values whose segments are stable across seeds.",
            icon=":material/lightbulb:",
        )
