"""Profiles: a card per segment — size, revenue, radar, categories, words, name, actions — and
how far the segments can be trusted (confidence, borderline customers, stability)."""

from __future__ import annotations

import contextlib
import json

import plotly.graph_objects as go
import streamlit as st

from core.datasets import compute_dataset_features, load_feature_config
from core.export import to_safe_csv_bytes
from core.pipeline import load_segments, load_vectors, save_segment_names, segment_names
from core.profiles import build_profiles, compare_segments, profiles_from_dict, profiles_to_dict
from core.trust import (
    BORDERLINE_MARGIN,
    borderline,
    centroid_margins,
    load_stability,
    run_stability_check,
    trust_summary,
)
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
name_of = {p.segment: p.name for p in profiles}
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

st.subheader("Can you trust these segments?")
st.caption(
    "Confidence: how far inside its segment a customer sits (for K-means, 1 − distance to its own "
    "centre ÷ distance to the next one; for a Gaussian mixture or HDBSCAN, the membership "
    f"probability). Borderline: own centre less than {BORDERLINE_MARGIN:.0%} nearer than the next "
    "segment's. Stability: re-cluster random 80 % subsamples with other seeds and see whether each "
    "segment comes back (Hennig's cluster-wise stability)."
)


@st.cache_data(show_spinner="Measuring how far each customer sits from the borders…", max_entries=4)
def _trust_inputs(run_id: str, updated: str):
    """(segment + confidence per customer, centroid margins or None when the run has no vectors)."""
    seg = load_segments(ws, run_id)
    keep = [c for c in ("customer_id", "segment", "confidence") if c in seg.columns]
    vectors = load_vectors(ws, run_id)
    margins = None
    if vectors is not None and seg["segment"].astype(str).nunique() >= 2:
        try:
            margins = centroid_margins(seg, vectors)
        except ValueError:
            margins = None  # e.g. a single segment besides noise: nothing to be borderline between
    return seg[keep], margins


seg_conf, margins = _trust_inputs(run.id, run.updated_at)
is_rfm = run.params.get("method") == "rfm"
n_segments = len(set(seg_conf["segment"].astype(str)) - {"Noise"})
stability = load_stability(run.path)
if is_rfm:
    st.caption(
        "RFM tiers are fixed rules on quintiles, not a clustering: every customer's tier is certain "
        "and there is nothing to re-run, so stability does not apply."
    )
elif n_segments < 2:
    st.caption(
        f"This run found {n_segments} segment(s) besides noise: there is nothing to be stable or "
        "borderline between. Try another method or settings on the Segments page."
    )
elif st.button(
    "Check stability" if stability is None else "Check stability again",
    key="trust_check",
    help="Re-clusters 5 random subsamples with this run's method and settings (at most "
    "20,000 customers, fewer for HDBSCAN and Ward); the result is saved with the run.",
):
    with st.status("Re-clustering subsamples…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            stability = run_stability_check(
                ws,
                run.id,
                progress=lambda i, n: bar.progress(i / n, text=f"Re-run {i} of {n} done"),
            )
            status.update(label=f"Stability checked in {stability.seconds:.0f} s", state="complete")
        except ValueError as exc:
            status.update(label="Stability could not be checked", state="error")
            st.error(str(exc), icon=":material/error:")

summary = trust_summary(seg_conf, margins, stability)
if is_rfm:
    summary["verdict"] = "rules: not applicable"
summary.insert(1, "name", [saved_names.get(s, name_of.get(s, s)) for s in summary["segment"]])
st.dataframe(
    summary,
    hide_index=True,
    width="stretch",
    column_config={
        "segment": "Segment",
        "name": "Name",
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "median_confidence": st.column_config.NumberColumn(
            "Median confidence", format="%.2f", help="0 = on a border, 1 = deep inside"
        ),
        "borderline_share": st.column_config.NumberColumn(
            "Borderline", format="percent", help="Share of the segment's customers near a border"
        ),
        "stability": st.column_config.NumberColumn(
            "Stability",
            format="%.2f",
            help="Mean best Jaccard match of the segment across re-runs (Hennig 2007, Cluster-wise "
            "assessment of cluster stability). Hennig's reading: ≥ 0.75 stable, 0.6–0.75 a real "
            "pattern but its members are doubtful, < 0.6 not to be trusted.",
        ),
        "verdict": st.column_config.TextColumn(
            "Verdict", help="stable ≥ 0.75 · so-so 0.6–0.75 · unstable < 0.6 (Hennig's thresholds)"
        ),
    },
)
if stability is not None:
    st.caption(
        f"Overall agreement of {stability.n_runs} re-runs ({stability.frac:.0%} subsamples of "
        f"{fmt_int(stability.sample_size)} customers) with these segments: adjusted Rand index "
        f"{stability.ari_mean:.2f} (1 = identical, 0 = chance)."
        + "".join(f" Note: {n}." for n in stability.notes)
    )

st.markdown("**Borderline customers**")
if margins is None and (
    "confidence" not in seg_conf.columns or seg_conf["confidence"].isna().all()
):
    st.caption("This run has neither vectors nor confidences, so no customer is borderline.")
else:
    listed = borderline(seg_conf, None, n=200) if margins is None else None
    if margins is not None:
        inside = margins[margins["segment"] != "Noise"]
        listed = inside[inside["margin"] < BORDERLINE_MARGIN].sort_values(
            ["margin", "customer_id"], kind="stable"
        )[["customer_id", "segment", "alternative", "margin"]]
        listed = listed.merge(seg_conf[["customer_id", "confidence"]], on="customer_id", how="left")
        st.caption(
            f"{fmt_int(len(listed))} customers sit within {BORDERLINE_MARGIN:.0%} of a border "
            "between two segments, least certain first; a campaign for either segment may fit them."
        )
    else:
        st.caption("The least certain customers by the run's confidence, least certain first.")
    for col in ("segment", "alternative"):
        listed[f"{col}_name"] = listed[col].map(lambda s: saved_names.get(s, name_of.get(s, s)))
    st.dataframe(listed.head(200).round(3), hide_index=True, width="stretch", height=300)
    if len(listed):
        st.download_button(
            f"Download {len(listed):,} borderline customers (CSV)",
            to_safe_csv_bytes(listed),
            file_name=f"borderline_{run.id}.csv",
            mime="text/csv",
            key="trust_dl",
        )
