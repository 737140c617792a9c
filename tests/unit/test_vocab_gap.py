"""An English-only encoder reading Chinese reviews is said to the user, not silently used."""

from __future__ import annotations

import pytest

from core.datasets import create_demo_dataset
from core.encoders import TextEncoder, tiny_bert
from core.pipeline import SegmentationParams, run_segmentation
from core.workspace import Workspace


@pytest.fixture(scope="module")
def english_encoder(demo_tiny_bert):
    model, tok, key = demo_tiny_bert  # its vocabulary: the English demo reviews' words
    return TextEncoder.from_model(model, tok, key=key)


def _note_keys(run) -> list[str]:
    return [p["key"] for p in run.summary["note_phrases"] if p]


@pytest.mark.parametrize("lang, warned", [("zh", True), ("en", False)])
def test_vocabulary_gap_is_noted(tmp_path, english_encoder, lang, warned):
    ws = Workspace(tmp_path)
    create_demo_dataset(ws, n_customers=300, seed=4, lang=lang)
    run = run_segmentation(
        ws, "demo", SegmentationParams(k=4, projection=False), encoder=english_encoder
    )
    assert ("vocab_gap" in _note_keys(run)) is warned
    if warned:
        note = next(n for n in run.summary["notes"] if "unknown to the text encoder" in n)
        share = int(note.split("%")[0])
        assert share >= 20


def test_unknown_share_counts_tokens():
    model, tok, key = tiny_bert(vocab_words=["good", "fast"])
    enc = TextEncoder.from_model(model, tok, key=key)
    assert enc.unknown_token_share(["good fast", "fast"]) == 0
    assert enc.unknown_token_share(["物流很快", "good"]) > 0.5
    assert enc.unknown_token_share(["", "  "]) is None
