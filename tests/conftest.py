from __future__ import annotations

import pytest


@pytest.fixture
def workspace_root(tmp_path, monkeypatch):
    """An empty workspace that the app and the CLI both see (via SEGSTUDIO_HOME)."""
    root = tmp_path / "ws"
    monkeypatch.setenv("SEGSTUDIO_HOME", str(root))
    return root


@pytest.fixture(scope="session")
def demo_tiny_bert():
    """A tiny random BERT whose vocabulary holds every word of the demo store's reviews."""
    from core.demo import _NEUTRAL, _PHRASES
    from core.encoders import tiny_bert

    words = {
        w.strip(".,!?'").lower()
        for bank in [*_PHRASES.values(), _NEUTRAL]
        for s in bank
        for w in s.split()
    }
    return tiny_bert(seed=0, vocab_words=sorted(words))
