from __future__ import annotations

import pytest


@pytest.fixture
def workspace_root(tmp_path, monkeypatch):
    """An empty workspace that the app and the CLI both see (via SEGSTUDIO_HOME)."""
    root = tmp_path / "ws"
    monkeypatch.setenv("SEGSTUDIO_HOME", str(root))
    return root
