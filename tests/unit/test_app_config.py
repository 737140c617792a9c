"""The app's Streamlit configuration: hardened options exist under these names and hold."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit.config as st_config

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def _options() -> dict[str, object]:
    data = tomllib.loads(CONFIG.read_text())
    return {f"{section}.{key}": v for section, kv in data.items() for key, v in kv.items()}


def test_every_configured_option_is_known_to_streamlit():
    known = set(st_config._config_options_template)
    unknown = [k for k in _options() if k not in known]
    assert not unknown, f"misspelt or removed Streamlit options: {unknown}"


def test_hardened_defaults():
    opts = _options()
    assert opts["client.disableDataExport"] is True  # exports only via the safe Export page
    assert opts["client.showErrorDetails"] == "type"  # no stack traces for users
    assert opts["client.toolbarMode"] == "viewer"
    assert opts["server.enableXsrfProtection"] is True
    assert opts["browser.gatherUsageStats"] is False
