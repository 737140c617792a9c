"""Home: where the analyst stands and what to do next."""

from __future__ import annotations

import streamlit as st

from core.datasets import (
    compute_dataset_features,
    create_demo_dataset,
    dataset_name,
    dataset_warnings,
    summarise_dataset,
)
from dashboard import state
from dashboard.components.format import fmt_int, fmt_money
from dashboard.i18n import current_language, t
from dashboard.navigation import page

st.title(t("home.title"))
st.caption(t("home.tagline"))

ws = state.workspace()
ds = state.active_dataset()


def _load_demo(review_lang: str) -> None:
    with st.status(t("home.demo_generating")) as s:
        info = create_demo_dataset(ws, lang=review_lang)
        s.update(label=t("home.demo_ready", name=info.name), state="complete")
    state.set_active_dataset(info.id)


if ds is None:
    st.subheader(t("home.start_here"))
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown(t("home.demo_heading"))
        st.write(t("home.demo_text"))
        # The reviews in the interface's language by default: a Chinese team sees Chinese text
        # (one widget per interface language, so switching the language moves the default).
        ui_lang = current_language()
        lang_label = {code: t(f"home.demo_review_lang_{code}") for code in ("en", "zh")}
        review_lang = st.radio(
            t("home.demo_review_lang"),
            list(lang_label),
            index=1 if ui_lang == "zh" else 0,
            format_func=lang_label.__getitem__,
            horizontal=True,
            key=f"home_demo_review_lang_{ui_lang}",
        )
        if st.button(t("home.demo_button"), type="primary", key="home_load_demo"):
            _load_demo(review_lang)
            st.rerun()
    with right, st.container(border=True):
        st.markdown(t("home.own_heading"))
        st.write(t("home.own_text"))
        st.page_link(page("data"), label=t("home.go_data"), icon=":material/upload_file:")
    st.stop()

summary = summarise_dataset(ws, ds.id)
st.subheader(dataset_name(ds, current_language()))
cols = st.columns(5)
cols[0].metric(t("home.customers"), fmt_int(summary.n_customers))
cols[1].metric(t("home.orders"), fmt_int(summary.n_orders))
cols[2].metric(t("home.revenue"), fmt_money(summary.revenue))
cols[3].metric(t("home.reviews"), fmt_int(summary.n_reviews))
if summary.first_order is not None:
    months = (
        (summary.last_order.year - summary.first_order.year) * 12
        + summary.last_order.month
        - summary.first_order.month
        + 1
    )
    cols[4].metric(
        t("home.months"),
        fmt_int(months),
        help=f"{summary.first_order:%d %b %Y} – {summary.last_order:%d %b %Y}",
    )
else:
    cols[4].metric(t("home.months"), "—")

# What has been done, what comes next.
config = state.feature_config(ds.id)
features_ready = any((ds.path / "feature_cache").glob("*.parquet")) if ds.path.exists() else False
warnings = dataset_warnings(ds.meta, current_language())

st.subheader(t("home.next_steps"))
runs = [r for r in ws.list_runs(ds.id, kind="segment") if r.status == "done"]
models = [r for r in ws.list_runs(ds.id, kind="train") if r.status == "done"]
steps = [
    (t("home.step_data"), True, "data", t("home.step_data_action")),
    (t("home.step_features"), features_ready, "features", t("home.step_features_action")),
    (t("home.step_segments"), bool(runs), "segments", t("home.step_segments_action")),
    (t("home.step_explore"), None, ("explore", "profiles", "export"), None),
    (t("home.step_model"), bool(models), "train", t("home.step_model_action")),
    (t("home.step_act"), None, ("recommend", "campaigns", "migration"), None),
]
LINKS = {
    "explore": (t("home.link_explore"), ":material/scatter_plot:"),
    "profiles": (t("home.link_profiles"), ":material/groups:"),
    "export": (t("home.link_export"), ":material/download:"),
    "recommend": (t("home.link_recommend"), ":material/recommend:"),
    "campaigns": (t("home.link_campaigns"), ":material/campaign:"),
    "migration": (t("home.link_migration"), ":material/swap_horiz:"),
}
next_done = False
for label, done, target, action in steps:
    if done is None:  # an open-ended step: available once segments exist
        if runs:
            c1, _ = st.columns([3, 2])
            c1.markdown(f":material/arrow_right: {label}")
            for col, key in zip(st.columns(len(target)), target, strict=True):
                col.page_link(page(key), label=LINKS[key][0], icon=LINKS[key][1])
        continue
    c1, c2 = st.columns([3, 2])
    icon = ":material/check_circle:" if done else ":material/radio_button_unchecked:"
    c1.markdown(f"{icon} {label}")
    if not done and not next_done:
        next_done = True
        c2.page_link(
            page(target),
            label=t("home.next_action", action=action),
            icon=":material/arrow_forward:",
        )
    else:
        c2.page_link(page(target), label=t("home.open"), icon=":material/arrow_forward:")
if models:
    st.page_link(
        page("evaluate"),
        label=t("home.see_evaluation"),
        icon=":material/analytics:",
    )

if warnings:
    st.warning("\n\n".join(warnings), icon=":material/warning:")

if not features_ready and st.button(
    t("home.compute_now"), type="primary", key="home_compute_features"
):
    with st.spinner(t("home.computing")):
        table = compute_dataset_features(ws, ds.id, config)
    st.success(t("home.computed", customers=fmt_int(len(table.data)), features=len(table.features)))
    st.rerun()
