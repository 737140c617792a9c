"""Profiles: a card per segment — size, revenue, radar, categories, words, name, actions."""

from __future__ import annotations

import contextlib
import json

import plotly.graph_objects as go
import streamlit as st

from core.datasets import compute_dataset_features, load_feature_config
from core.pipeline import load_segments, save_segment_names, segment_names
from core.profiles import build_profiles, compare_segments, profiles_from_dict, profiles_to_dict
from core.workspace import atomic_write_json
from dashboard import state
from dashboard.components.charts import segment_colours
from dashboard.components.empty import require_segment_run
from dashboard.components.format import fmt_int, fmt_money, fmt_pct

st.title("Profiles")
ws = state.workspace()
ds, run = require_segment_run("each segment gets a profile card here.")


@st.cache_data(show_spinner="Profiling segments…", max_entries=8)
def _profiles(run_id: str, dataset_id: str, updated: str):
    """The run's profiles: aggregates only (no per-customer rows reach the browser).

    Kept next to the run (``profiles.json``) so a restarted server does not profile 100 k
    customers' reviews again; the key changes with the run, the dataset and its features.
    """
    path = ws.get_run(run_id).path / "profiles.json"
    key = "|".join(
        [updated, ws.get_dataset(dataset_id).created_at, load_feature_config(ws, dataset_id).key()]
    )
    try:
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            return profiles_from_dict(saved["profiles"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: build it again
    seg = load_segments(ws, run_id)
    reviews = ws.load_table(dataset_id, "reviews")
    prefix = "Share of purchase value spent on "
    labels = {
        f.name: f.description.removeprefix(prefix)
        for f in compute_dataset_features(ws, dataset_id).features
        if f.name.startswith("share_") and f.description.startswith(prefix)
    }
    profiles = build_profiles(seg, reviews, category_labels=labels)
    with contextlib.suppress(OSError):  # a read-only workspace still shows the profiles
        atomic_write_json(path, {"key": key, "profiles": profiles_to_dict(profiles)})
    return profiles


profiles = _profiles(run.id, ds.id, run.updated_at)
saved_names = segment_names(ws, run.id)
colours = segment_colours([p.segment for p in profiles])
RADAR = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "discount_rate",
    "return_rate",
    "holiday_share",
    "review_count",
    "avg_rating",
    "tenure_days",
]


def _radar(p, colour: str, other=None) -> go.Figure:
    feats = [f for f in RADAR if f in p.z] or list(p.z)[:8]
    fig = go.Figure()
    for prof, col in ((p, colour), (other, "#D55E00")) if other else ((p, colour),):
        vals = [max(-2.5, min(2.5, prof.z.get(f, 0.0))) for f in feats]
        fig.add_trace(
            go.Scatterpolar(
                r=vals + vals[:1],
                theta=feats + feats[:1],
                fill="toself",
                name=saved_names.get(prof.segment, prof.name),
                line_color=col,
                opacity=0.7,
            )
        )
    fig.update_layout(
        height=280,
        margin=dict(l=30, r=30, t=20, b=20),
        showlegend=other is not None,
        polar=dict(radialaxis=dict(range=[-2.5, 2.5], tickvals=[-2, 0, 2])),
    )
    return fig


st.caption(
    "Radar axes are standardised means (0 = the average customer, ±2 = far above/below). "
    "Words are the review terms most distinctive of each segment (class-based TF-IDF)."
)
renamed = {}
for i in range(0, len(profiles), 2):
    cols = st.columns(2)
    for col, p in zip(cols, profiles[i : i + 2], strict=False):
        with col, st.container(border=True):
            current = saved_names.get(p.segment, p.name)
            new = st.text_input(
                f"Name of {p.segment}",
                value=current,
                key=f"name_{run.id}_{p.segment}",
                help="Automatic name from the segment's traits; rename it freely",
            )
            if new.strip() and new.strip() != current:
                renamed[p.segment] = new.strip()
            m1, m2, m3 = st.columns(3)
            m1.metric("Customers", fmt_int(p.size))
            m2.metric("Share of customers", fmt_pct(p.share))
            m3.metric(
                "Share of revenue",
                fmt_pct(p.revenue_share),
                help=f"Net revenue of this segment: {fmt_money(p.revenue)}",
            )
            if p.traits:
                st.markdown(" ".join(f"`{t}`" for t in p.traits))
            st.plotly_chart(
                _radar(p, colours[p.segment]), width="stretch", key=f"radar_{p.segment}"
            )
            if p.top_categories:
                st.markdown(
                    "**Top categories:** "
                    + ", ".join(f"{c} ({fmt_pct(v)})" for c, v in p.top_categories)
                )
            if p.words:
                st.markdown("**Distinctive review words:** " + ", ".join(w for w, _ in p.words[:8]))
            if p.actions:
                st.markdown("**Playbook**")
                for a in p.actions:
                    st.markdown(
                        f"- **{a.title}** — {a.detail}  \n  <small>why: {a.why}</small>",
                        unsafe_allow_html=False,
                    )
if renamed:
    save_segment_names(ws, run.id, {**saved_names, **renamed})
    st.toast("Names saved")

st.subheader("Compare two segments")
ids = [p.segment for p in profiles]
if len(ids) >= 2:
    c1, c2 = st.columns(2)
    label = lambda s: saved_names.get(s, next(p.name for p in profiles if p.segment == s))  # noqa: E731
    a = c1.selectbox("Segment A", ids, index=0, format_func=label, key="cmp_a")
    b = c2.selectbox("Segment B", ids, index=1, format_func=label, key="cmp_b")
    if a != b:
        pa = next(p for p in profiles if p.segment == a)
        pb = next(p for p in profiles if p.segment == b)
        c1.plotly_chart(_radar(pa, colours[a], pb), width="stretch", key="cmp_radar")
        table = compare_segments(profiles, a, b)
        c2.dataframe(table.round(3), hide_index=True, width="stretch", height=360)
