"""Segment Studio entry point: page config, session state, navigation.

Run with `segstudio app` or `streamlit run dashboard/app.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from a source checkout
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import state  # noqa: E402
from dashboard.components.sidebar import dataset_picker  # noqa: E402
from dashboard.navigation import navigation_sections  # noqa: E402

st.set_page_config(
    page_title="Segment Studio",
    page_icon=str(ROOT / "assets" / "icon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)
st.logo(str(ROOT / "assets" / "logo.png"), icon_image=str(ROOT / "assets" / "icon.png"))
state.require_access()
state.init_state()

nav = st.navigation(navigation_sections())
dataset_picker()
nav.run()
