"""Text encoders with a tiny randomly initialised BERT built in code (no files, no hub)."""

from __future__ import annotations

import numpy as np
import pytest

from core.encoders import EmbeddingCache, EncoderError, EncoderSpec, TextEncoder, tiny_bert

WORDS = ["great", "quality", "coupon", "deal", "broken", "refund", "gift", "wrapping"]


@pytest.fixture(scope="module")
def tiny():
    return tiny_bert(seed=0, vocab_words=WORDS)


def test_vectors_are_normalised_and_ordered(tiny):
    model, tok, key = tiny
    enc = TextEncoder.from_model(model, tok, key=key, spec=EncoderSpec(batch_size=2))
    texts = ["great quality", "coupon deal deal", "broken refund", "great quality"]
    v = enc.encode(texts)
    assert v.shape == (4, 32) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(v[0], v[3], atol=1e-6)  # same text, same vector, whatever the batch
    assert not np.allclose(v[0], v[1])
    single = enc.encode(["coupon deal deal"])
    np.testing.assert_allclose(single[0], v[1], atol=1e-5)  # padding does not change a vector


def test_cls_pooling_differs_from_mean(tiny):
    model, tok, key = tiny
    mean = TextEncoder.from_model(model, tok, key=key).encode(["gift wrapping great"])
    cls = TextEncoder.from_model(model, tok, key=key, spec=EncoderSpec(pooling="cls")).encode(
        ["gift wrapping great"]
    )
    assert not np.allclose(mean, cls)


def test_cache_reuses_vectors_and_reports_progress(tiny, tmp_path):
    model, tok, key = tiny
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    enc = TextEncoder.from_model(model, tok, key=key, spec=EncoderSpec(batch_size=2), cache=cache)
    texts = [f"great deal {w}" for w in WORDS]
    calls: list[tuple[int, int]] = []
    first = enc.encode(texts, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, len(texts)) and calls[-1] == (len(texts), len(texts))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    # A second encoder sharing the cache must not run the model for cached texts.
    enc2 = TextEncoder.from_model(model, tok, key=key, cache=cache)
    enc2._encode_batch = lambda batch: (_ for _ in ()).throw(AssertionError("re-encoded"))
    calls2: list[tuple[int, int]] = []
    again = enc2.encode(texts, progress=lambda d, t: calls2.append((d, t)))
    np.testing.assert_allclose(first, again, atol=1e-6)
    assert calls2 == [(len(texts), len(texts))]


def test_unknown_model_is_a_clear_error(tmp_path):
    enc = TextEncoder(EncoderSpec(model=str(tmp_path / "no-such-model-dir")))
    with pytest.raises(EncoderError, match="could not load encoder"):
        enc.load()


def test_cuda_requested_without_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    from core.encoders import pick_device

    with pytest.raises(EncoderError, match="no CUDA GPU"):
        pick_device("cuda")
    assert pick_device("auto") == "cpu"


def test_default_offline_minilm_loads_and_separates_meanings():
    enc = TextEncoder(EncoderSpec(batch_size=8))
    v = enc.encode(
        [
            "Great value, I used a coupon and got a big discount.",
            "Cheap deal with a voucher, saved a lot of money.",
            "The item arrived broken and I want a refund.",
        ]
    )
    assert v.shape == (3, 384)
    assert enc.model_key.startswith("all-MiniLM-L6-v2@")
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])


def test_tiny_tokenizer_knows_its_words(tiny):
    _, tok, _ = tiny
    tokens = tok.convert_ids_to_tokens(tok("coupon deal refund")["input_ids"])
    assert tokens == ["[CLS]", "coupon", "deal", "refund", "[SEP]"]
