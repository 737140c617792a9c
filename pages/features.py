"""Features: the catalogue of customer features (DuckDB SQL), custom features, distributions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from core.datasets import FeatureConfig, compute_dataset_features, feature_engine
from core.features import SOURCES, FeatureSQLError, validate_custom_feature
from dashboard import state
from dashboard.components.empty import require_dataset
from dashboard.components.format import fmt_int, fmt_value

st.title("Features")
ws = state.workspace()
ds = require_dataset()

config = state.feature_config(ds.id)
st.caption(
    "Each feature is one SQL expression evaluated per customer with DuckDB over the dataset's "
    "tables. Switch features on or off, add your own, and set a cutoff date to compute them "
    "from history only (time-split targets rely on it)."
)

# ------------------------------------------------------------------------------- cutoff
c1, c2 = st.columns([1, 2])
use_cutoff = c1.toggle(
    "Use a cutoff date",
    value=config.cutoff is not None,
    key="feat_use_cutoff",
    help="Only orders, reviews and sign-ups before this date are used; recency is measured to it.",
)
cutoff = None
if use_cutoff:
    default = pd.Timestamp(config.cutoff).date() if config.cutoff else dt.date.today()
    cutoff = c2.date_input("Cutoff date", value=default, key="feat_cutoff").isoformat()

try:
    with feature_engine(ws, ds.id, cutoff) as eng:
        catalogue = eng.catalogue()
        ref_date = eng.ref_date
        categories = eng.categories()
except ValueError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()

# ---------------------------------------------------------------------------- catalogue
st.subheader("Catalogue")
st.caption(
    f"Reference date **{ref_date:%Y-%m-%d}**"
    + (f" · {len(categories)} category share features" if categories else "")
)
rows = [
    {
        "use": f.name not in config.disabled,
        "feature": f.name,
        "group": f.group,
        "description": f.description,
        "table": f.source,
        "SQL": f.sql,
    }
    for f in catalogue + config.custom
]
edited = st.data_editor(
    pd.DataFrame(rows),
    column_config={
        "use": st.column_config.CheckboxColumn(
            help="Include this feature in segmentation and models"
        ),
        "feature": st.column_config.TextColumn(disabled=True),
        "group": st.column_config.TextColumn(disabled=True),
        "description": st.column_config.TextColumn(disabled=True, width="large"),
        "table": st.column_config.TextColumn(disabled=True),
        "SQL": st.column_config.TextColumn(disabled=True, width="large"),
    },
    hide_index=True,
    width="stretch",
    key=f"catalogue_{ds.id}",
)
disabled = sorted(edited.loc[~edited["use"], "feature"].tolist())

# ------------------------------------------------------------------------------ custom
with st.expander("Add a custom SQL feature"):
    st.markdown(
        "Write one SQL expression in DuckDB's dialect. On **orders** and **reviews** it must "
        "aggregate per customer (e.g. `count(*) FILTER (WHERE amount > 200)`); on "
        "**customers** it is a row expression (e.g. `CASE WHEN channel = 'app' THEN 1 ELSE 0 END`). "
        "`getvariable('ref_date')` is the reference date. Columns: "
        "orders — order_id, order_date, product_id, category, quantity, unit_price, discount, "
        "amount; reviews — review_date, rating, review_text; customers — signup_date, region, "
        "age_band, gender, channel, label and your extra columns."
    )
    with st.form("custom_feature", clear_on_submit=False):
        name = st.text_input("Name (snake_case)", placeholder="big_orders", key="cf_name")
        source = st.selectbox("Table", SOURCES, key="cf_source")
        sql = st.text_area(
            "SQL expression", placeholder="count(*) FILTER (WHERE amount >= 100)", key="cf_sql"
        )
        description = st.text_input("Description (optional)", key="cf_desc")
        fill_zero = st.checkbox(
            "Customers with no rows get 0 (instead of empty)", value=True, key="cf_fill"
        )
        submitted = st.form_submit_button("Check and add")
    if submitted:
        try:
            if any(f.name == name.strip() for f in config.custom):
                raise FeatureSQLError(f"there is already a custom feature called '{name.strip()}'")
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
            st.error(str(exc), icon=":material/error:")
        else:
            config.custom.append(feat)
            state.store_feature_config(ds.id, config)
            st.success(f"Feature '{feat.name}' added.", icon=":material/check_circle:")
            st.rerun()
    if config.custom:
        drop = st.selectbox(
            "Remove a custom feature", [f.name for f in config.custom], key="cf_drop"
        )
        if st.button("Remove", key="cf_remove"):
            config.custom = [f for f in config.custom if f.name != drop]
            state.store_feature_config(ds.id, config)
            st.rerun()

# ----------------------------------------------------------------------------- compute
new_config = FeatureConfig(disabled=disabled, custom=config.custom, cutoff=cutoff)
if new_config.to_dict() != config.to_dict():
    state.store_feature_config(ds.id, new_config)
    config = new_config

with st.spinner("Computing features with DuckDB…"):
    try:
        table = compute_dataset_features(ws, ds.id, config)
    except (FeatureSQLError, ValueError) as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()

st.subheader("Customer features")
for note in table.notes:
    st.info(note, icon=":material/info:")
st.caption(f"{fmt_int(len(table.data))} customers × {len(table.features)} features")
units = {f.name: f.unit for f in table.features}

stats = table.data.drop(columns=["customer_id"]).describe(percentiles=[0.5]).T
stats["missing"] = table.data.drop(columns=["customer_id"]).isna().sum()
summary = pd.DataFrame(
    {
        "feature": stats.index,
        "mean": [fmt_value(v, units.get(n, "")) for n, v in stats["mean"].items()],
        "median": [fmt_value(v, units.get(n, "")) for n, v in stats["50%"].items()],
        "min": [fmt_value(v, units.get(n, "")) for n, v in stats["min"].items()],
        "max": [fmt_value(v, units.get(n, "")) for n, v in stats["max"].items()],
        "missing": [fmt_int(v) for v in stats["missing"]],
    }
)
st.dataframe(summary, hide_index=True, width="stretch")

st.subheader("Distribution")
names = [f.name for f in table.features]
chosen = st.selectbox("Feature", names, key="dist_feature", help="Histogram across customers")
values = table.data[chosen].dropna()
clip = st.toggle("Clip the top 1% (long tails)", value=True, key="dist_clip")
if clip and len(values):
    values = values[values <= values.quantile(0.99)]
fig = px.histogram(values, x=chosen, nbins=50, color_discrete_sequence=["#0072B2"])
fig.update_layout(
    height=320, margin=dict(l=10, r=10, t=10, b=10), showlegend=False, yaxis_title="customers"
)
st.plotly_chart(fig, width="stretch", key="dist_chart")

with st.expander("The SQL that computed this table"):
    st.code(table.sql, language="sql")
