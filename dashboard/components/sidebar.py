"""The sidebar shared by every page: which dataset is active."""

from __future__ import annotations

import streamlit as st

from core.datasets import dataset_name
from dashboard import state
from dashboard.i18n import current_language, language_picker, t

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
        st.caption(t("common.sidebar.signed_in_as", email=st.user.get("email")))
        if len(allowed) > 1:
            st.session_state[_WS_KEY] = st.session_state.get(state.WORKSPACE)
            st.selectbox(
                t("common.sidebar.workspace"),
                allowed,
                key=_WS_KEY,
                on_change=_on_workspace,
                help=t("common.sidebar.workspace_help"),
            )
        st.button(t("common.sidebar.log_out"), on_click=st.logout, key="auth_logout")


def dataset_picker() -> None:
    language_picker()
    account_box()
    datasets = state.workspace().list_datasets()
    with st.sidebar:
        if not datasets:
            st.caption(t("common.sidebar.no_dataset"))
            return
        ids = [d.id for d in datasets]
        lang = current_language()
        names = {d.id: dataset_name(d, lang) for d in datasets}
        current = st.session_state.get(state.ACTIVE)
        if current not in ids:
            current = ids[0]
            state.set_active_dataset(current)
        # Pages change the active dataset too (after an upload, say): the widget follows.
        st.session_state[_KEY] = current
        st.selectbox(
            t("common.sidebar.active_dataset"),
            ids,
            format_func=lambda i: names[i],
            help=t("common.sidebar.active_dataset_help"),
            key=_KEY,
            on_change=_on_pick,
        )
