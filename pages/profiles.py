"""Profiles: a card per segment — size, revenue, radar, categories, words, name, actions — and
how far the segments can be trusted (confidence, borderline customers, stability)."""

from __future__ import annotations

import contextlib
import json

import plotly.graph_objects as go
import streamlit as st

from core.datasets import compute_dataset_features, load_feature_config
from core.explain import feature_label
from core.export import to_safe_csv_bytes
from core.locale import error_text
from core.pipeline import load_segments, load_vectors, save_segment_names, segment_names
from core.profiles import (
    PROFILES_VERSION,
    build_profiles,
    compare_segments,
    profiles_from_dict,
    profiles_to_dict,
    trait_label,
)
from core.trust import (
    BORDERLINE_MARGIN,
    borderline,
    centroid_margins,
    load_stability,
    run_stability_check,
    stability_notes,
    trust_summary,
)
from core.workspace import atomic_write_json
from dashboard import state
from dashboard.components.charts import plotly_config, segment_colours
from dashboard.components.empty import require_segment_run
from dashboard.components.format import fmt_int, fmt_money, fmt_pct
from dashboard.i18n import current_language, t

st.title(t("profiles.title"))
ws = state.workspace()
ds, run = require_segment_run(t("profiles.empty_what"))
lang = current_language()


@st.cache_data(show_spinner=t("profiles.profiling"), max_entries=8)
def _profiles(run_id: str, dataset_id: str, updated: str, lang: str):
    """(key, the run's profiles): aggregates only (no per-customer rows reach the browser).

    Kept next to the run (``profiles.json``, see :func:`_keep_saved`) so a restarted server
    does not profile 100 k customers' reviews again; the key changes with the run, the dataset,
    its features, the language of the names and playbooks and the naming rules' version.
    """
    path = ws.get_run(run_id).path / "profiles.json"
    key = "|".join(
        [
            updated,
            ws.get_dataset(dataset_id).created_at,
            load_feature_config(ws, dataset_id).key(),
            PROFILES_VERSION,
            lang,
        ]
    )
    try:
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            return key, profiles_from_dict(saved["profiles"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: build it again
    seg = load_segments(ws, run_id)
    reviews = ws.load_table(dataset_id, "reviews")
    prefix = "Share of purchase value spent on "
    features = compute_dataset_features(ws, dataset_id).features
    labels = {
        f.name: f.description.removeprefix(prefix)
        for f in features
        if f.name.startswith("share_") and f.description.startswith(prefix)
    }
    # attribute features by what they say: "internet service: Fiber optic", "monthly charges"
    attributes = {f.name: _attribute_label(f) for f in features if f.attribute}
    return key, build_profiles(
        seg, reviews, category_labels=labels, lang=lang, attribute_labels=attributes
    )


def _attribute_label(f) -> str:
    column = f.attribute.replace("_", " ")
    return column if f.level is None else f"{column}: {f.level}"


def _keep_saved(run_id: str, key: str, profiles) -> None:
    """Save the profiles shown unless ``profiles.json`` already holds them.

    Outside the cache on purpose: after a language switch the profiles may come from memory
    while the file holds the other language's, and other pages (and the name boxes below, via
    ``segment_names``) read the automatic names from that file.
    """
    path = ws.get_run(run_id).path / "profiles.json"
    try:
        if json.loads(path.read_text()).get("key") == key:
            return
    except (OSError, ValueError, AttributeError):
        pass  # missing or unreadable: write it
    with contextlib.suppress(OSError):  # a read-only workspace still shows the profiles
        atomic_write_json(path, {"key": key, "profiles": profiles_to_dict(profiles)})


profiles_key, profiles = _profiles(run.id, ds.id, run.updated_at, lang)
_keep_saved(run.id, profiles_key, profiles)
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


def _feature_name(column: str) -> str:
    """The feature as a chart axis or table row shows it: English keeps the short column name
    (the catalogue's English descriptions are sentences), other languages a short label."""
    return column if lang == "en" else feature_label(column, lang=lang)


def _radar(p, colour: str, other=None) -> go.Figure:
    feats = [f for f in RADAR if f in p.z] or list(p.z)[:8]
    axes = [_feature_name(f) for f in feats]
    fig = go.Figure()
    for prof, col in ((p, colour), (other, "#D55E00")) if other else ((p, colour),):
        vals = [max(-2.5, min(2.5, prof.z.get(f, 0.0))) for f in feats]
        fig.add_trace(
            go.Scatterpolar(
                r=vals + vals[:1],
                theta=axes + axes[:1],
                fill="toself",
                name=saved_names.get(prof.segment, prof.name),
                line_color=col,
                opacity=0.7,
                hovertemplate="%{theta}: z = %{r:.2f}",
            )
        )
    fig.update_layout(
        height=280,
        margin=dict(l=30, r=30, t=20, b=20),
        showlegend=other is not None,
        polar=dict(radialaxis=dict(range=[-2.5, 2.5], tickvals=[-2, 0, 2])),
    )
    return fig


st.caption(t("profiles.radar_caption"))
renamed = {}
for i in range(0, len(profiles), 2):
    cols = st.columns(2)
    for col, p in zip(cols, profiles[i : i + 2], strict=False):
        with col, st.container(border=True):
            current = saved_names.get(p.segment, p.name)
            # One box per language: a box keeps what it holds across reruns, so after a switch
            # it would still hold the other language's automatic name and save it as a rename.
            new = st.text_input(
                t("profiles.name_of", segment=p.segment),
                value=current,
                key=f"name_{run.id}_{p.segment}_{lang}",
                help=t("profiles.name_help"),
            )
            if new.strip() and new.strip() != current:
                renamed[p.segment] = new.strip()
            m1, m2, m3 = st.columns(3)
            m1.metric(t("profiles.customers"), fmt_int(p.size))
            m2.metric(t("profiles.share_customers"), fmt_pct(p.share))
            m3.metric(
                t("profiles.share_revenue"),
                fmt_pct(p.revenue_share),
                help=t("profiles.revenue_help", revenue=fmt_money(p.revenue)),
            )
            if p.traits:
                st.markdown(" ".join(f"`{trait_label(trait, lang)}`" for trait in p.traits))
            st.plotly_chart(
                _radar(p, colours[p.segment]),
                width="stretch",
                config=plotly_config(),
                key=f"radar_{p.segment}",
            )
            if p.top_categories:
                st.markdown(
                    t(
                        "profiles.top_categories",
                        categories=", ".join(f"{c} ({fmt_pct(v)})" for c, v in p.top_categories),
                    )
                )
            if p.words:
                st.markdown(t("profiles.words", words=", ".join(w for w, _ in p.words[:8])))
            if p.actions:
                st.markdown(t("profiles.playbook"))
                for a in p.actions:
                    st.markdown(
                        t("profiles.action", title=a.title, detail=a.detail, why=a.why),
                        unsafe_allow_html=False,
                    )
if renamed:
    save_segment_names(ws, run.id, {**saved_names, **renamed})
    st.toast(t("profiles.names_saved"))

st.subheader(t("profiles.compare"))
ids = [p.segment for p in profiles]
if len(ids) >= 2:
    c1, c2 = st.columns(2)
    label = lambda s: saved_names.get(s, next(p.name for p in profiles if p.segment == s))  # noqa: E731
    a = c1.selectbox(t("profiles.segment_a"), ids, index=0, format_func=label, key="cmp_a")
    b = c2.selectbox(t("profiles.segment_b"), ids, index=1, format_func=label, key="cmp_b")
    if a != b:
        pa = next(p for p in profiles if p.segment == a)
        pb = next(p for p in profiles if p.segment == b)
        c1.plotly_chart(
            _radar(pa, colours[a], pb), width="stretch", config=plotly_config(), key="cmp_radar"
        )
        table = compare_segments(profiles, a, b)
        table["feature"] = table["feature"].map(_feature_name)
        cols = ("feature", "mean_a", "mean_b", "ratio", "z_a", "z_b", "z_diff")
        headers = {c: t(f"profiles.cmp_col.{c}", a=label(a), b=label(b)) for c in cols}
        c2.dataframe(
            table.round(3), hide_index=True, width="stretch", height=360, column_config=headers
        )

st.subheader(t("profiles.trust"))
st.caption(t("profiles.trust_caption", margin=f"{BORDERLINE_MARGIN:.0%}"))


@st.cache_data(show_spinner=t("profiles.measuring"), max_entries=4)
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
    st.caption(t("profiles.rfm_caption"))
elif n_segments < 2:
    st.caption(t("profiles.too_few", n=n_segments))
elif st.button(
    t("profiles.check") if stability is None else t("profiles.check_again"),
    key="trust_check",
    help=t("profiles.check_help"),
):
    with st.status(t("profiles.reclustering"), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            stability = run_stability_check(
                ws,
                run.id,
                progress=lambda i, n: bar.progress(i / n, text=t("profiles.rerun_done", i=i, n=n)),
            )
            status.update(
                label=t("profiles.checked", seconds=f"{stability.seconds:.0f}"), state="complete"
            )
        except ValueError as exc:
            status.update(label=t("profiles.check_failed"), state="error")
            st.error(error_text(exc, lang), icon=":material/error:")

summary = trust_summary(seg_conf, margins, stability, lang=lang)
if is_rfm:
    summary["verdict"] = t("profiles.verdict_rfm")
summary.insert(1, "name", [saved_names.get(s, name_of.get(s, s)) for s in summary["segment"]])
# Not checked yet: a dash, not the grid's own (English) "None" for an empty number.
unchecked = bool(summary["stability"].isna().all())
if unchecked:
    summary["stability"] = "—"
st.dataframe(
    summary,
    hide_index=True,
    width="stretch",
    column_config={
        "segment": t("profiles.col_segment"),
        "name": t("profiles.col_name"),
        "customers": st.column_config.NumberColumn(t("profiles.col_customers"), format="localized"),
        "median_confidence": st.column_config.NumberColumn(
            t("profiles.col_confidence"), format="%.2f", help=t("profiles.col_confidence_help")
        ),
        "borderline_share": st.column_config.NumberColumn(
            t("profiles.col_borderline"), format="percent", help=t("profiles.col_borderline_help")
        ),
        "stability": (
            st.column_config.TextColumn(
                t("profiles.col_stability"), help=t("profiles.col_stability_help")
            )
            if unchecked
            else st.column_config.NumberColumn(
                t("profiles.col_stability"), format="%.2f", help=t("profiles.col_stability_help")
            )
        ),
        "verdict": st.column_config.TextColumn(
            t("profiles.col_verdict"), help=t("profiles.col_verdict_help")
        ),
    },
)
if stability is not None:
    st.caption(
        t(
            "profiles.agreement",
            runs=stability.n_runs,
            frac=f"{stability.frac:.0%}",
            size=fmt_int(stability.sample_size),
            ari=f"{stability.ari_mean:.2f}",
        )
        + "".join(t("profiles.note", note=n) for n in stability_notes(stability, lang))
    )

st.markdown(t("profiles.borderline"))
if margins is None and (
    "confidence" not in seg_conf.columns or seg_conf["confidence"].isna().all()
):
    st.caption(t("profiles.no_borderline"))
else:
    listed = borderline(seg_conf, None, n=200) if margins is None else None
    if margins is not None:
        inside = margins[margins["segment"] != "Noise"]
        listed = inside[inside["margin"] < BORDERLINE_MARGIN].sort_values(
            ["margin", "customer_id"], kind="stable"
        )[["customer_id", "segment", "alternative", "margin"]]
        listed = listed.merge(seg_conf[["customer_id", "confidence"]], on="customer_id", how="left")
        st.caption(
            t(
                "profiles.within",
                count=fmt_int(len(listed)),
                margin=f"{BORDERLINE_MARGIN:.0%}",
            )
        )
    else:
        st.caption(t("profiles.least_certain"))
    for col in ("segment", "alternative"):
        listed[f"{col}_name"] = listed[col].map(lambda s: saved_names.get(s, name_of.get(s, s)))
    st.dataframe(
        listed.head(200).round(3),
        hide_index=True,
        width="stretch",
        height=300,
        column_config={
            "customer_id": t("profiles.col_customer_id"),
            "segment": t("profiles.col_segment"),
            "alternative": t("profiles.col_alternative"),
            "margin": t("profiles.col_margin"),
            "confidence": t("profiles.col_confidence_short"),
            "segment_name": t("profiles.col_segment_name"),
            "alternative_name": t("profiles.col_alternative_name"),
        },
    )
    if len(listed):
        st.download_button(
            t("profiles.download_borderline", count=f"{len(listed):,}"),
            to_safe_csv_bytes(listed),
            file_name=f"borderline_{run.id}.csv",
            mime="text/csv",
            key="trust_dl",
        )
