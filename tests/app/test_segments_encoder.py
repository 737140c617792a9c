"""Segments page: which text encoder ran and why, and choosing another one."""

from __future__ import annotations

import pytest
from pagetest import app_in, page_texts

import core.encoders as E


@pytest.fixture
def static_run_ws(workspace_root, tmp_path, monkeypatch):
    """A 300-customer demo store segmented with text by `auto` on a CPU above a lowered
    threshold, so the static model ran (distilled from a tiny BERT, not the real MiniLM)."""
    from core.datasets import create_demo_dataset
    from core.pipeline import SegmentationParams, run_segmentation
    from core.workspace import Workspace

    model, tok, _ = E.tiny_bert(seed=0, vocab_words=["great", "deal", "coupon", "eco"])
    source = tmp_path / "tiny-source"
    model.save_pretrained(source)
    tok.save_pretrained(source)
    ws = Workspace(workspace_root)
    E.build_static_model(E.static_model_dir(ws.root / "models"), source_dir=source)
    create_demo_dataset(ws, n_customers=300, seed=2)
    monkeypatch.setattr(E, "cuda_available", lambda: False)
    monkeypatch.setattr(E, "AUTO_STATIC_ABOVE", 50)
    run = run_segmentation(ws, "demo", SegmentationParams(k=4, projection=False))
    assert run.summary["encoder"]["encoder"] == "static"
    return ws


def test_page_says_which_encoder_ran_and_why_in_chinese(static_run_ws):
    at = app_in("zh", "segments")
    text = page_texts(at)
    assert "文本编码器：由 MiniLM 蒸馏的静态模型（自动：在 CPU 上有" in text
    assert "超过 50 份" in text


def test_choosing_an_encoder_overrides_auto(static_run_ws, monkeypatch):
    import core.jobs

    submitted = []

    def fake_submit(ws, kind, dataset_id, params):
        submitted.append(params)
        return ws.create_run(dataset_id, kind, params)

    monkeypatch.setattr(core.jobs, "submit", fake_submit)
    at = app_in("en", "segments")
    assert at.selectbox(key="seg_encoder_pick").value == "auto"  # the default
    at.selectbox(key="seg_encoder_pick").set_value("static")
    next(b for b in at.button if "Run segmentation" in str(b.label)).click().run()
    assert not at.exception, at.exception
    assert submitted and submitted[-1]["encoder"] == "static"
