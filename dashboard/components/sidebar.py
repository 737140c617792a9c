"""The sidebar shared by every page: which dataset is active."""

from __future__ import annotations

import streamlit as st

from dashboard import state

_KEY = "sidebar_dataset"
_WS_KEY = "sidebar_workspace"


def _on_pick() -> None:
    state.set_active_dataset(st.session_state[_KEY])


def _on_workspace() -> None:
    state.set_workspace(st.session_state[_WS_KEY])


def account_box() -> None:
    """With login on: who is signed in, their workspaces, and logging out."""
    if not state.login_enabled():
        return
    allowed = state.allowed_workspaces()
    with st.sidebar:
        st.caption(f"Signed in as {st.user.get('email')}")
        if len(allowed) > 1:
            st.session_state[_WS_KEY] = st.session_state.get(state.WORKSPACE)
            st.selectbox(
                "Workspace",
                allowed,
                key=_WS_KEY,
                on_change=_on_workspace,
                help="The workspaces your address is allowed to open. Each holds its own "
                "datasets and runs.",
            )
        st.button("Log out", on_click=st.logout, key="auth_logout")


def dataset_picker() -> None:
    account_box()
    datasets = state.workspace().list_datasets()
    with st.sidebar:
        if not datasets:
            st.caption("No dataset yet — load the demo store or upload files on the Data page.")
            return
        ids = [d.id for d in datasets]
        names = {d.id: d.name for d in datasets}
        current = st.session_state.get(state.ACTIVE)
        if current not in ids:
            current = ids[0]
            state.set_active_dataset(current)
        # Pages change the active dataset too (after an upload, say): the widget follows.
        st.session_state[_KEY] = current
        st.selectbox(
            "Active dataset",
            ids,
            format_func=lambda i: names[i],
            help="Every page works on this dataset. Add datasets on the Data page.",
            key=_KEY,
            on_change=_on_pick,
        )
