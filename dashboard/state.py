"""Session state in one place: what each page reads and writes about the current session.

Everything a browser session sees (the active dataset, uploads in progress) lives in
`st.session_state`, so two sessions never see each other's choices. The workspace itself is
shared by the deployment and opened once per process.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.datasets import FeatureConfig, load_feature_config, save_feature_config
from core.workspace import DatasetInfo, Workspace, default_root

ACTIVE = "active_dataset_id"


@st.cache_resource(show_spinner=False)
def _open_workspace(root: str) -> Workspace:
    return Workspace(root)


def workspace() -> Workspace:
    return _open_workspace(str(Path(default_root()).resolve()))


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
