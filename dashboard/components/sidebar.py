"""The sidebar shared by every page: which dataset is active."""

from __future__ import annotations

import streamlit as st

from dashboard import state


def dataset_picker() -> None:
    datasets = state.workspace().list_datasets()
    with st.sidebar:
        if not datasets:
            st.caption("No dataset yet — load the demo store or upload files on the Data page.")
            return
        ids = [d.id for d in datasets]
        names = {d.id: d.name for d in datasets}
        current = st.session_state.get(state.ACTIVE)
        index = ids.index(current) if current in ids else 0
        chosen = st.selectbox(
            "Active dataset",
            ids,
            index=index,
            format_func=lambda i: names[i],
            help="Every page works on this dataset. Add datasets on the Data page.",
            key="sidebar_dataset",
        )
        if chosen != current:
            state.set_active_dataset(chosen)
