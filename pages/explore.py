"""Explore: the UMAP map of customers, coloured by anything, with lasso/box selection.

A selection (drawn on the map, a segment or a saved list) is explained in plain sentences and
expanded with lookalikes: the most similar customers outside it.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from core.explain import TOP_CATEGORY, explain_selection
from core.export import column_label, segment_list, to_safe_csv_bytes
from core.features import category_share_feature
from core.lookalike import find_lookalikes, note_text
from core.pipeline import (
    load_segments,
    load_selections,
    load_vectors,
    save_selection,
    segment_names,
)
from core.targets import class_label, target_kind
from dashboard import state
from dashboard.components.charts import (
    customer_map,
    highlight_map,
    is_categorical,
    lookalike_map,
    plotly_config,
)
from dashboard.components.empty import require_segment_run
from dashboard.components.format import fmt_int, fmt_money, fmt_pct
from dashboard.components.map_points import (
    ALL,
    cap_options,
    default_cap,
    sample_for_map,
    selected_mask,
)
from dashboard.i18n import current_language, t

MAP, SEGMENT, SAVED, CELL = "Map selection", "Segment", "Saved selection", "Confusion cell"
SOURCES = (MAP, SEGMENT, SAVED)
LINKED = "linked_customers"  # set by the Evaluate page: the customers of a confusion-matrix cell
SOURCE_LABELS = {
    MAP: t("explore.source_map"),
    SEGMENT: t("explore.source_segment"),
    SAVED: t("explore.source_saved"),
    CELL: t("explore.source_cell"),
}

# Columns of a run that clusters a fine-tuned model's vectors: what it was taught and predicts.
MODEL_CLASS_COLUMNS = ("model_target", "model_predicted")


def _model_target_kind(ws, run) -> str | None:
    """The kind of target (churn, value tier, …) of the training run whose vectors `run` used."""
    train_id = (run.params or {}).get("vectors_from")
    if not train_id:
        return None
    try:
        summary = ws.get_run(train_id).summary or {}
    except KeyError:
        return None
    return summary.get("target_kind") or target_kind(summary.get("target"))


st.title(t("explore.title"))
ws = state.workspace()
ds, run = require_segment_run(t("explore.empty_what"))

seg = load_segments(ws, run.id)
if "x" not in seg:
    st.info(t("explore.no_map"))
    st.stop()
names = segment_names(ws, run.id)
seg["segment_name"] = seg["segment"].map(lambda s: names.get(s, s))
customers = ws.load_table(ds.id, "customers")
attrs: list[str] = []
if customers is not None:
    attrs = [c for c in customers.columns if c != "customer_id" and c not in seg.columns]
    seg = seg.merge(customers[["customer_id", *attrs]], on="customer_id", how="left")

feature_columns = {c for c in seg.columns if c not in attrs}
hidden = {"customer_id", "x", "y"}
colour_options = ["segment_name"] + [
    c for c in seg.columns if c not in hidden and c != "segment_name"
]
# Option labels are made here, in the script run that knows the session's language: Streamlit
# may call format_func again later, outside it.
segment_label, all_label = t("explore.colour_segment"), t("explore.points_all")
lang = current_language()
# Features and the run's own columns by name; the dataset's own columns (region, …) as they are.
colour_labels = {
    c: column_label(c, lang) if c in ("segment", "confidence") or c in feature_columns else c
    for c in colour_options
}
colour_labels["segment_name"] = segment_label
c1, c2, c3 = st.columns([2, 1, 1])
colour = c1.selectbox(
    t("explore.colour_by"),
    colour_options,
    key="explore_colour",
    format_func=colour_labels.get,
    help=t("explore.colour_help"),
)
default_points = default_cap()
max_points = c2.select_slider(
    t("explore.points_drawn"),
    cap_options(default_points),
    value=default_points,
    key="explore_points",
    format_func=lambda v: all_label if v == ALL else fmt_int(v),
    help=t("explore.points_help"),
)
c3.metric(t("explore.customers"), fmt_int(len(seg)))

# Stratified by segment (not by the colour), with a fixed seed: the same customers are drawn
# whatever the colour and on every rerun, so the chart (identified by its figure) keeps its
# selection.
shown = sample_for_map(seg, max_points, by="segment")
sampled = len(shown) < len(seg)
if sampled:
    st.caption(t("explore.sampled", shown=fmt_int(len(shown)), total=fmt_int(len(seg))))

# The figure must not depend on the selection: Streamlit identifies the chart by its spec, so
# a figure redrawn with the selection baked in would be a new chart with an empty selection.
# Plotly greys out unselected points in the browser by itself (see `unselected` in the traces).
sel_key = f"explore_map_{run.id}"
totals = (
    seg[colour].astype(str).value_counts().to_dict()
    if sampled and is_categorical(seg[colour])
    else None
)
if colour in MODEL_CLASS_COLUMNS:  # a model's classes (churned, high, …): said in this language
    kind = _model_target_kind(ws, run)
    shown = shown.assign(**{colour: shown[colour].map(lambda v: class_label(v, kind, lang))})
    if totals is not None:
        totals = {class_label(k, kind, lang): n for k, n in totals.items()}
fig = customer_map(shown, colour, totals=totals, label=colour_labels[colour])
event = st.plotly_chart(
    fig,
    key=sel_key,
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    width="stretch",
    config=plotly_config(scrollZoom=True, displaylogo=False),
)
selection = event.selection if event and event.selection else None
in_selection = selected_mask(seg, selection, sampled=sampled, colour=colour)

st.subheader(t("explore.selection"))
linked = st.session_state.get(LINKED)
sources = (*SOURCES, CELL) if linked else SOURCES
source = st.radio(
    t("explore.source_label"),
    sources,
    key="explore_source",
    horizontal=True,
    format_func=SOURCE_LABELS.get,
    help=t("explore.source_help"),
)
if source == SEGMENT:
    sizes = seg["segment"].astype(str).value_counts()
    options = {
        s: t("explore.option_count", name=names.get(s, s), count=fmt_int(n))
        for s, n in sizes.items()
    }
    chosen = st.selectbox(
        t("explore.segment_label"),
        list(options),
        key=f"explore_segment_{run.id}",
        format_func=options.get,
    )
    in_selection = (seg["segment"].astype(str) == chosen).to_numpy()
    source_key = f"segment:{chosen}"
elif source == SAVED:
    saved = load_selections(ws, run.id)
    if not saved:
        st.caption(t("explore.no_saved"))
        st.stop()
    options = {
        s: t("explore.option_count", name=s, count=fmt_int(len(ids))) for s, ids in saved.items()
    }
    chosen = st.selectbox(
        t("explore.saved_label"),
        list(options),
        key=f"explore_saved_{run.id}",
        format_func=options.get,
    )
    wanted = set(map(str, saved[chosen]))
    in_selection = seg["customer_id"].astype(str).isin(wanted).to_numpy()
    gone = len(wanted) - int(in_selection.sum())
    if gone:
        st.caption(t("explore.saved_gone", count=fmt_int(gone)))
    source_key = f"saved:{chosen}"
elif source == CELL:
    wanted = set(map(str, linked["customer_ids"]))
    in_selection = seg["customer_id"].astype(str).isin(wanted).to_numpy()
    verdict = (
        t("explore.cell_correct")
        if linked["true"] == linked["predicted"]
        else t("explore.cell_predicted", predicted=linked["predicted"])
    )
    st.caption(
        t(
            "explore.cell_caption",
            run=linked["run_id"],
            true=linked["true"],
            verdict=verdict,
            inside=fmt_int(int(in_selection.sum())),
            total=fmt_int(len(wanted)),
        )
    )
    cell_label = t("explore.cell_label", true=linked["true"], predicted=linked["predicted"])
    st.plotly_chart(
        highlight_map(seg, wanted, cell_label),
        width="stretch",
        config=plotly_config(),
        key=f"explore_cell_map_{run.id}",
    )
    source_key = f"cell:{linked['run_id']}:{linked['true']}:{linked['predicted']}"
else:
    source_key = "map"
if not in_selection.any():
    st.caption(t("explore.draw_hint") if source == MAP else t("explore.nobody"))
    st.stop()

sel = seg[in_selection]
total_rev = float(seg["monetary"].clip(lower=0).sum()) if "monetary" in seg else 0.0
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("explore.selected_customers"), fmt_int(len(sel)))
m2.metric(t("explore.share_customers"), fmt_pct(len(sel) / len(seg)))
if "monetary" in sel:
    m3.metric(t("explore.revenue"), fmt_money(sel["monetary"].sum()))
    m4.metric(
        t("explore.share_revenue"),
        fmt_pct(max(0.0, sel["monetary"].clip(lower=0).sum()) / total_rev) if total_rev else "—",
    )
mix = sel["segment_name"].value_counts(normalize=True)
st.caption(t("explore.mix", mix=", ".join(f"{k} {fmt_pct(v)}" for k, v in mix.head(6).items())))

export = segment_list(sel, names)
st.dataframe(
    export.head(1000),
    hide_index=True,
    width="stretch",
    column_config={c: st.column_config.Column(column_label(c, lang)) for c in export.columns},
)
e1, e2 = st.columns(2)
bom = e1.checkbox(t("explore.bom"), value=False, key="explore_bom")
e1.download_button(
    t("explore.download", count=fmt_int(len(export))),
    to_safe_csv_bytes(export, excel_bom=bom),
    file_name="selection.csv",
    mime="text/csv",
    key="explore_dl",
)
with e2.form("save_selection"):
    new_name = st.text_input(t("explore.save_label"), placeholder=t("explore.save_placeholder"))
    if st.form_submit_button(t("explore.save_button")) and new_name.strip():
        save_selection(ws, run.id, new_name.strip(), sel["customer_id"].tolist())
        st.success(t("explore.saved", name=new_name.strip(), count=fmt_int(len(sel))))

# The selection as a short key: cached explanations and stored lookalikes belong to it.
sel_sig = hashlib.sha1(np.packbits(in_selection).tobytes()).hexdigest()


@st.cache_data(show_spinner=t("explore.explaining"), max_entries=16)
def _explain(run_id, updated, dataset_id, sig, categorical, names_key, lang, _df, _mask):
    """Explanation of one selection (keyed by the run, the selection's signature, the segment
    names, which appear among the attributes, and the language of its sentences)."""
    reviews = ws.load_table(dataset_id, "reviews")
    products = ws.load_table(dataset_id, "products")
    labels = {}
    if products is not None and "category" in products:
        cats = products["category"].dropna().astype(str).unique()
        labels = {category_share_feature(c).name: c for c in cats}
    return explain_selection(
        _df, _mask, reviews, categorical=list(categorical), category_labels=labels, lang=lang
    )


@st.cache_resource(show_spinner=False, max_entries=2)
def _vectors(run_id: str, updated: str):
    """The run's fused customer vectors (read-only; one copy per run in the process)."""
    return load_vectors(ws, run_id)


cat_cols = tuple(
    c
    for c in ["segment_name", *attrs]
    if c in seg
    and not (source == SEGMENT and c == "segment_name")
    and (pd.api.types.is_string_dtype(seg[c]) or pd.api.types.is_bool_dtype(seg[c]))
    and 2 <= seg[c].nunique() <= 50
)
st.subheader(t("explore.why"))
why = _explain(
    run.id,
    run.updated_at,
    ds.id,
    sel_sig,
    cat_cols,
    tuple(sorted(names.items())),
    current_language(),
    seg,
    in_selection,
)
if why.message:
    st.info(why.message, icon=":material/info:")
else:
    # "$" starts LaTeX in Streamlit markdown: amounts are escaped.
    st.markdown("\n".join(f"- {s}".replace("$", r"\$") for s in why.sentences))
    with st.expander(t("explore.ranked")):
        st.caption(t("explore.ranked_caption"))
        if not why.numeric.empty:
            st.dataframe(
                why.numeric[["label", "selection", "rest", "ratio", "effect_size"]].round(3),
                hide_index=True,
                width="stretch",
                column_config={
                    "label": t("explore.col_feature"),
                    "selection": t("explore.col_mean_selection"),
                    "rest": t("explore.col_mean_rest"),
                    "ratio": t("explore.col_ratio"),
                    "effect_size": t("explore.col_effect_size"),
                },
            )
        if not why.categorical.empty:
            over = why.categorical[why.categorical["selection_share"] > 0].head(15)
            st.dataframe(
                over.assign(
                    column=over["column"].replace(TOP_CATEGORY, t("explore.buys_mostly"))
                ).round(3),
                hide_index=True,
                width="stretch",
                column_config={
                    "column": t("explore.col_attribute"),
                    "selection_share": st.column_config.NumberColumn(
                        t("explore.col_share_selection"), format="percent"
                    ),
                    "rest_share": st.column_config.NumberColumn(
                        t("explore.col_share_rest"), format="percent"
                    ),
                    "value": t("explore.col_value"),
                    "lift": t("explore.col_lift"),
                },
            )
        if why.words:
            st.markdown(t("explore.words", words=", ".join(w for w, _ in why.words)))

st.subheader(t("explore.lookalikes"))
vectors = _vectors(run.id, run.updated_at)
n_rest = int((~in_selection).sum())
if vectors is None or len(vectors) != len(seg):
    st.caption(t("explore.no_vectors"))
    st.stop()
if n_rest == 0:
    st.caption(t("explore.everyone"))
    st.stop()
l1, l2 = st.columns([1, 3])
n_look = l1.number_input(
    t("explore.how_many"),
    min_value=1,
    max_value=max(1, len(seg)),
    value=min(100, n_rest),
    step=50,
    key="explore_lookalike_n",
    help=t("explore.how_many_help"),
)
if l1.button(t("explore.find_button"), key="explore_find_lookalikes", type="primary"):
    found = find_lookalikes(vectors, in_selection, int(n_look), ids=seg["customer_id"].to_numpy())
    st.session_state["explore_lookalikes"] = {
        "sig": (run.id, source_key, sel_sig, int(n_look)),
        "rows": found.table["row"].tolist(),
        "similarity": found.table["similarity"].tolist(),
        "notes": found.note_keys,  # said in the language of each rerun, see below
    }
stored = st.session_state.get("explore_lookalikes")
if not stored or stored["sig"] != (run.id, source_key, sel_sig, int(n_look)):
    l2.caption(t("explore.lookalike_intro"))
    st.stop()
lang = current_language()
for key, values in stored["notes"]:
    note = note_text(key, values, lang)
    st.caption(note[:1].upper() + note[1:] + ("。" if lang == "zh" else "."))
look = seg.iloc[stored["rows"]]
look_list = segment_list(look, names)
look_list.insert(1, "similarity", stored["similarity"])
look_mix = look["segment_name"].value_counts(normalize=True)
l2.metric(t("explore.found"), fmt_int(len(look)))
l2.caption(
    t(
        "explore.their_segments",
        mix=", ".join(f"{k} {fmt_pct(v)}" for k, v in look_mix.head(6).items()),
    )
)
st.plotly_chart(
    lookalike_map(seg, sel["customer_id"], look["customer_id"]),
    key="explore_lookalike_map",
    width="stretch",
    config=plotly_config(displaylogo=False),
)
st.dataframe(
    look_list.head(1000),
    hide_index=True,
    width="stretch",
    column_config={
        **{c: st.column_config.Column(column_label(c, lang)) for c in look_list.columns},
        "similarity": t("explore.col_similarity"),
    },
)
st.download_button(
    t("explore.download_lookalikes", count=fmt_int(len(look_list))),
    to_safe_csv_bytes(look_list, excel_bom=bom),
    file_name="lookalikes.csv",
    mime="text/csv",
    key="explore_lookalike_dl",
)
