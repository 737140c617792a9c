"""Features: the catalogue of customer features (DuckDB SQL), custom features, distributions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from core.datasets import FeatureConfig, compute_dataset_features, feature_engine
from core.features import SOURCES, FeatureSQLError, validate_custom_feature
from core.locale import error_text
from dashboard import state
from dashboard.components.charts import plotly_config
from dashboard.components.empty import require_dataset
from dashboard.components.format import feature_names_in, fmt_int, fmt_value
from dashboard.i18n import catalogue as catalogue_strings
from dashboard.i18n import current_language, t

st.title(t("features.title"))
ws = state.workspace()
ds = require_dataset()

config = state.feature_config(ds.id)
st.caption(t("features.caption"))

# ------------------------------------------------------------------------------- cutoff
c1, c2 = st.columns([1, 2])
use_cutoff = c1.toggle(
    t("features.use_cutoff"),
    value=config.cutoff is not None,
    key="feat_use_cutoff",
    help=t("features.use_cutoff_help"),
)
cutoff = None
if use_cutoff:
    default = pd.Timestamp(config.cutoff).date() if config.cutoff else dt.date.today()
    cutoff = c2.date_input(t("features.cutoff"), value=default, key="feat_cutoff").isoformat()

try:
    with feature_engine(ws, ds.id, cutoff) as eng:
        catalogue = eng.catalogue()
        ref_date = eng.ref_date
        categories = eng.categories()
        attributes = eng.attributes()
except ValueError as exc:
    st.error(error_text(exc, current_language()), icon=":material/error:")
    st.stop()

# ---------------------------------------------------------------------------- catalogue
st.subheader(t("features.catalogue"))
st.caption(
    " · ".join(
        [t("features.ref_date", date=f"{ref_date:%Y-%m-%d}")]
        + ([t("features.category_shares", count=len(categories))] if categories else [])
    )
)
lang = current_language()
SHARE_PREFIX = "Share of purchase value spent on "


def _description(f) -> str:
    """The catalogue's description in the interface language (core keeps it in English); a
    custom feature's own description is the user's and is shown as written."""
    if lang == "en":
        return f.description
    if f.group == "Custom":
        own = f.description != f"Custom: {f.sql}"
        return f.description if own else t("features.desc.custom", sql=f.sql)
    if f.name.startswith("share_") and f.description.startswith(SHARE_PREFIX):
        return t("features.desc.share", category=f.description.removeprefix(SHARE_PREFIX))
    if f.attribute:
        kind = "flag" if f.level is not None else "date" if f.unit == "days" else "number"
        return t(f"features.desc.attr_{kind}", column=f.attribute, value=f.level or "")
    key = f"features.desc.{f.name}"
    return t(key) if key in catalogue_strings("en") else f.description


def _group(group: str) -> str:
    key = f"features.groups.{group}"
    return t(key) if key in catalogue_strings("en") else group


if attributes:
    used = [a for a in attributes if a.kind in ("number", "date", "category")]
    unused = [a for a in attributes if a not in used]
    st.caption(
        t(
            "features.attributes_used",
            count=len(used),
            features=sum(1 for f in catalogue if f.attribute),
        )
        + (
            " " + t("features.attributes_off")
            if any(f.attribute and not f.default_enabled for f in catalogue)
            else ""
        )
    )
    if unused:
        st.caption(
            t(
                "features.attributes_unused",
                columns=", ".join(
                    t(
                        "features.attribute_kind",
                        column=a.column,
                        kind=t(f"features.kinds.{a.kind}"),
                    )
                    for a in unused
                ),
            )
        )


def _in_use(f) -> bool:
    return f.name in config.enabled or (f.default_enabled and f.name not in config.disabled)


rows = [
    {
        "use": _in_use(f),
        "feature": f.name,
        "group": _group(f.group),
        "description": _description(f),
        "table": f.source,
        "SQL": f.sql,
    }
    for f in catalogue + config.custom
]
edited = st.data_editor(
    pd.DataFrame(rows),
    column_config={
        "use": st.column_config.CheckboxColumn(t("features.col.use"), help=t("features.use_help")),
        "feature": st.column_config.TextColumn(t("features.col.feature"), disabled=True),
        "group": st.column_config.TextColumn(t("features.col.group"), disabled=True),
        "description": st.column_config.TextColumn(
            t("features.col.description"), disabled=True, width="large"
        ),
        "table": st.column_config.TextColumn(t("features.col.table"), disabled=True),
        "SQL": st.column_config.TextColumn(t("features.col.SQL"), disabled=True, width="large"),
    },
    hide_index=True,
    width="stretch",
    key=f"catalogue_{ds.id}",
)
default_on = {f.name: f.default_enabled for f in catalogue + config.custom}
disabled = sorted(
    n for n, use in zip(edited["feature"], edited["use"], strict=True) if not use and default_on[n]
)
enabled = sorted(
    n for n, use in zip(edited["feature"], edited["use"], strict=True) if use and not default_on[n]
)

# ------------------------------------------------------------------------------ custom
with st.expander(t("features.custom_heading")):
    st.markdown(t("features.custom_text"))
    with st.form("custom_feature", clear_on_submit=False):
        # The placeholders are code (a snake_case name, an SQL expression): the same in every
        # language, so they stay here rather than in the catalogue.
        name = st.text_input(t("features.cf_name"), placeholder="big_orders", key="cf_name")
        source = st.selectbox(
            t("features.cf_source"),
            SOURCES,
            # Labels resolved now: format_func may also be called outside this run.
            format_func={src: t(f"features.sources.{src}") for src in SOURCES}.get,
            key="cf_source",
            help=t("features.tips.cf_source"),
        )
        sql = st.text_area(
            t("features.cf_sql"),
            placeholder="count(*) FILTER (WHERE amount >= 100)",
            key="cf_sql",
            help=t("features.tips.cf_sql"),
        )
        description = st.text_input(t("features.cf_desc"), key="cf_desc")
        fill_zero = st.checkbox(
            t("features.cf_fill"), value=True, key="cf_fill", help=t("features.tips.cf_fill")
        )
        submitted = st.form_submit_button(t("features.cf_submit"))
    if submitted and any(f.name == name.strip() for f in config.custom):
        st.error(t("features.cf_duplicate", name=name.strip()), icon=":material/error:")
    elif submitted:
        try:
            with feature_engine(ws, ds.id, cutoff) as eng:
                feat = validate_custom_feature(
                    name,
                    sql,
                    source,
                    description=description,
                    engine=eng,
                    fill=0 if fill_zero else None,
                )
        except FeatureSQLError as exc:
            st.error(error_text(exc, current_language()), icon=":material/error:")
        else:
            config.custom.append(feat)
            state.store_feature_config(ds.id, config)
            st.success(t("features.cf_added", name=feat.name), icon=":material/check_circle:")
            st.rerun()
    if config.custom:
        drop = st.selectbox(t("features.cf_drop"), [f.name for f in config.custom], key="cf_drop")
        if st.button(t("features.cf_remove"), key="cf_remove"):
            config.custom = [f for f in config.custom if f.name != drop]
            state.store_feature_config(ds.id, config)
            st.rerun()

# ----------------------------------------------------------------------------- compute
new_config = FeatureConfig(disabled=disabled, custom=config.custom, cutoff=cutoff, enabled=enabled)
if new_config.to_dict() != config.to_dict():
    state.store_feature_config(ds.id, new_config)
    config = new_config

with st.spinner(t("features.computing")):
    try:
        table = compute_dataset_features(ws, ds.id, config)
    except (FeatureSQLError, ValueError) as exc:
        st.error(error_text(exc, current_language()), icon=":material/error:")
        st.stop()

st.subheader(t("features.customer_features"))
for note in table.notes_in(current_language()):
    st.info(note, icon=":material/info:")
st.caption(t("features.shape", customers=fmt_int(len(table.data)), features=len(table.features)))
units = {f.name: f.unit for f in table.features}

names = [f.name for f in table.features]
# In Chinese the picker, the tables and the axis name the feature next to its id (the id is what
# SQL uses).
shown_names = {
    n: n if label == n else t("features.feature_named", label=label, feature=n)
    for n, label in feature_names_in(names, lang).items()
}

stats = table.data.drop(columns=["customer_id"]).describe(percentiles=[0.5]).T
stats["missing"] = table.data.drop(columns=["customer_id"]).isna().sum()
summary = pd.DataFrame(
    {
        "feature": [shown_names.get(n, n) for n in stats.index],
        "mean": [fmt_value(v, units.get(n, "")) for n, v in stats["mean"].items()],
        "median": [fmt_value(v, units.get(n, "")) for n, v in stats["50%"].items()],
        "min": [fmt_value(v, units.get(n, "")) for n, v in stats["min"].items()],
        "max": [fmt_value(v, units.get(n, "")) for n, v in stats["max"].items()],
        "missing": [fmt_int(v) for v in stats["missing"]],
    }
)
st.dataframe(
    summary,
    hide_index=True,
    width="stretch",
    column_config={col: t(f"features.col.{col}") for col in summary.columns},
)

st.subheader(t("features.distribution"))
chosen = st.selectbox(
    t("features.dist_feature"),
    names,
    key="dist_feature",
    help=t("features.dist_feature_help"),
    format_func=shown_names.get,
)
values = table.data[chosen].dropna()
clip = st.toggle(
    t("features.dist_clip"), value=True, key="dist_clip", help=t("features.tips.dist_clip")
)
if clip and len(values):
    values = values[values <= values.quantile(0.99)]
fig = px.histogram(values, x=chosen, nbins=50, color_discrete_sequence=["#0072B2"])
# plotly express's hover says "recency_days=0 - 19<br>count=437": say it in the page's words.
fig.update_traces(
    hovertemplate=f"{shown_names[chosen]}: %{{x}}<br>{t('features.dist_yaxis')}: %{{y:,}}"
    "<extra></extra>"
)
fig.update_layout(
    height=320,
    margin=dict(l=10, r=10, t=10, b=10),
    showlegend=False,
    yaxis_title=t("features.dist_yaxis"),
    xaxis_title=shown_names[chosen],
)
st.plotly_chart(fig, width="stretch", config=plotly_config(), key="dist_chart")

with st.expander(t("features.sql_heading")):
    st.code(table.sql, language="sql")
