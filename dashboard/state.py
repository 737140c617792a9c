"""Session state in one place: what each page reads and writes about the current session.

Everything a browser session sees (the active dataset, uploads in progress) lives in
`st.session_state`, so two sessions never see each other's choices. Without login the
deployment has one workspace (``SEGSTUDIO_HOME``), opened once per process. With login
(``[auth]`` in the secrets) each signed-in user works in one of the workspaces the
``[segstudio.access]`` allowlist grants their e-mail (see core/access.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from core.access import AccessConfigError, AccessPolicy, workspace_root
from core.datasets import FeatureConfig, load_feature_config, save_feature_config
from core.workspace import DatasetInfo, Workspace, default_root
from dashboard.i18n import t

ACTIVE = "active_dataset_id"
WORKSPACE = "workspace_name"  # with login: the workspace this session works in


@st.cache_resource(show_spinner=False)
def _open_workspace(root: str) -> Workspace:
    return Workspace(root)


def _secrets_section(name: str):
    try:
        return st.secrets.get(name)
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return None  # no secrets file: local use


def login_enabled() -> bool:
    """Login is on when the deployment configures Streamlit's OIDC login (``[auth]``)."""
    return _secrets_section("auth") is not None


def access_policy() -> AccessPolicy:
    section = _secrets_section("segstudio")
    return AccessPolicy.from_mapping(section.get("access") if section is not None else None)


def allowed_workspaces() -> list[str]:
    """Workspaces the signed-in user may open (empty when not signed in)."""
    if not st.user.get("is_logged_in"):
        return []
    return access_policy().allowed(st.user.get("email"))


def workspace() -> Workspace:
    home = Path(default_root()).resolve()
    if not login_enabled():
        return _open_workspace(str(home))
    name = st.session_state.get(WORKSPACE)
    if name is None or name not in allowed_workspaces():
        # Pages only run after require_access(); reaching here means the grant was withdrawn.
        st.error(t("common.sidebar.no_access"))
        st.stop()
    return _open_workspace(str(workspace_root(home, name)))


def require_access() -> None:
    """With login on: stop the page unless the user is signed in and has a workspace."""
    if not login_enabled():
        return
    if not st.user.get("is_logged_in"):
        st.title("Segment Studio")
        st.write(t("common.sidebar.sign_in_needed"))
        st.button(t("common.sidebar.log_in"), on_click=st.login, type="primary", key="auth_login")
        st.stop()
    try:
        allowed = allowed_workspaces()
    except AccessConfigError as exc:
        st.error(t("common.sidebar.malformed_access", error=exc))
        st.stop()
    if not allowed:
        st.title("Segment Studio")
        who = st.user.get("email") or t("common.sidebar.this_account")
        st.error(t("common.sidebar.no_workspace", who=who))
        st.button(t("common.sidebar.log_out"), on_click=st.logout, key="auth_logout_denied")
        st.stop()
    if st.session_state.get(WORKSPACE) not in allowed:
        st.session_state[WORKSPACE] = allowed[0]
        st.session_state.pop(ACTIVE, None)
        st.session_state.pop(RUN, None)


def set_workspace(name: str) -> None:
    if name not in allowed_workspaces():
        raise PermissionError(f"no access to workspace {name!r}")
    if st.session_state.get(WORKSPACE) != name:
        st.session_state[WORKSPACE] = name
        st.session_state.pop(ACTIVE, None)  # a dataset of another workspace means nothing here
        st.session_state.pop(RUN, None)


def init_state() -> None:
    """Called once per rerun by the entry script before any page runs."""
    ss = st.session_state
    if ACTIVE not in ss or (ss[ACTIVE] and not workspace().has_dataset(ss[ACTIVE])):
        datasets = workspace().list_datasets()
        ss[ACTIVE] = datasets[0].id if datasets else None
    ss.setdefault("upload_token", 0)


def active_dataset() -> DatasetInfo | None:
    ds_id = st.session_state.get(ACTIVE)
    if not ds_id:
        return None
    try:
        return workspace().get_dataset(ds_id)
    except KeyError:
        st.session_state[ACTIVE] = None
        return None


def set_active_dataset(dataset_id: str | None) -> None:
    st.session_state[ACTIVE] = dataset_id


def feature_config(dataset_id: str) -> FeatureConfig:
    return load_feature_config(workspace(), dataset_id)


def store_feature_config(dataset_id: str, config: FeatureConfig) -> None:
    save_feature_config(workspace(), dataset_id, config)


RUN = "active_run_id"


def segment_runs(dataset_id: str):
    return workspace().list_runs(dataset_id, kind="segment")


def active_run(dataset_id: str):
    """The run the Explore / Profiles / Export pages show: chosen, else the newest finished."""
    runs = [r for r in segment_runs(dataset_id) if r.status == "done"]
    chosen = st.session_state.get(RUN)
    for r in runs:
        if r.id == chosen:
            return r
    return runs[0] if runs else None


def set_active_run(run_id: str | None) -> None:
    st.session_state[RUN] = run_id
