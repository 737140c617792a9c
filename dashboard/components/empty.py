"""Empty states shared by pages: stop the page with a pointer to what to do first."""

from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.i18n import t
from dashboard.navigation import page


def require_dataset():
    """The active dataset, or an empty state pointing to the Data page (and the page stops)."""
    ds = state.active_dataset()
    if ds is None:
        st.info(t("common.empty.load_dataset"), icon=":material/info:")
        st.page_link(page("data"), label=t("common.empty.go_data"), icon=":material/upload_file:")
        st.stop()
    return ds


def require_segment_run(what: str):
    """(dataset, the active finished segmentation run), or an empty state and the page stops."""
    ds = state.active_dataset()
    run = state.active_run(ds.id) if ds else None
    if run is None:
        st.info(t("common.empty.run_segmentation", what=what), icon=":material/info:")
        st.page_link(page("segments"), label=t("common.empty.go_segments"), icon=":material/hub:")
        st.stop()
    return ds, run
