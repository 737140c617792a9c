"""The static encoder (model2vec distilled from a transformer) and the `auto` encoder choice.

Building the real static model from MiniLM takes 40–80 s on 2 cores, so these tests distil one
from a tiny random BERT saved to a directory, once per session, through the very same
`build_static_model` code path; the real MiniLM build is measured in
benchmarks/bench_static_encoder.py.
"""

from __future__ import annotations

import os
import re
import shutil
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

import core.encoders as E
from core.encoders import (
    EmbeddingCache,
    StaticTextEncoder,
    build_static_model,
    choose_encoder,
    make_encoder,
    static_model_dir,
    static_model_info,
    tiny_bert,
)

WORDS = ["great", "quality", "coupon", "deal", "broken", "refund", "gift", "wrapping", "eco"]
TEXTS = ["great quality", "coupon deal deal", "broken refund", "great quality", "gift wrapping"]


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory):
    """A tiny random BERT saved as a model directory (what a local MiniLM directory holds)."""
    model, tok, _ = tiny_bert(seed=0, vocab_words=WORDS)
    path = tmp_path_factory.mktemp("tiny-source")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_static(tiny_source, tmp_path_factory):
    """A workspace-style models folder holding a static model built from the tiny BERT."""
    models = tmp_path_factory.mktemp("models")
    build_static_model(static_model_dir(models), source_dir=tiny_source)
    return static_model_dir(models)


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection or hub model-card lookup fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    from model2vec.distill import distillation

    monkeypatch.setattr(distillation, "model_info", refuse)


# ------------------------------------------------------------------------ static encoder
def test_static_vectors_are_deterministic_normalised_and_cached(tiny_static, tmp_path):
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    enc = StaticTextEncoder(tiny_static, cache=cache)
    first = enc.encode(TEXTS)
    assert first.dtype == np.float32 and first.shape == (len(TEXTS), enc.dim)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first[0], first[3])  # same text, same vector
    assert not np.allclose(first[0], first[2])
    assert enc.built_seconds is None  # it existed: nothing was built

    # A second encoder on the same cache is served from it: the model never runs.
    again = StaticTextEncoder(tiny_static, cache=cache)
    again.load()
    again._encode_batch = lambda batch: (_ for _ in ()).throw(AssertionError("re-encoded"))
    calls = []
    np.testing.assert_array_equal(again.encode(TEXTS, progress=lambda d, t: calls.append(d)), first)
    assert calls == [len(TEXTS)]


def test_cache_key_names_the_static_model_apart_from_minilm(tiny_static, tmp_path):
    enc = StaticTextEncoder(tiny_static).load()
    assert re.fullmatch(r"static-minilm@[0-9a-f]{12}", enc.model_key)
    minilm_key = E.resolve_model("default")[1]
    assert enc.model_key != minilm_key and not minilm_key.startswith("static")
    # The same text under MiniLM's key is not found for the static model, and vice versa.
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    vec = enc.encode(["great deal"])
    cache.put(minilm_key, {E.text_hash("great deal"): np.ones(384, np.float32)})
    enc.cache = cache
    np.testing.assert_array_equal(enc.encode(["great deal"]), vec)


def test_rebuilt_model_gives_the_same_vectors_and_key(tiny_source, tiny_static, tmp_path):
    other = static_model_dir(tmp_path / "models")
    build_static_model(other, source_dir=tiny_source)
    a, b = StaticTextEncoder(tiny_static).load(), StaticTextEncoder(other).load()
    np.testing.assert_array_equal(a.encode(TEXTS), b.encode(TEXTS))
    assert a.model_key == b.model_key  # cached vectors stay valid after a rebuild


def test_build_is_offline_and_writes_only_safetensors_and_json(
    tiny_source, tmp_path, monkeypatch, no_network
):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    target = static_model_dir(tmp_path / "models")
    info = build_static_model(target, source_dir=tiny_source)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    files = sorted(p.name for p in target.iterdir())
    assert "model.safetensors" in files and "tokenizer.json" in files
    assert all(name.endswith((".safetensors", ".json")) for name in files), files
    assert info == static_model_info(target) and info["source"] == str(tiny_source)
    assert info["vocabulary"] > len(WORDS)
    assert not list(target.parent.glob(".static-minilm-*"))  # no temporary folder left behind
    # Loading and encoding are offline too.
    assert StaticTextEncoder(target).encode(["eco gift"]).shape[0] == 1


def test_first_use_builds_once_with_progress(tiny_source, tmp_path, no_network):
    target = static_model_dir(tmp_path / "models")
    events = []
    enc = StaticTextEncoder(target, source_dir=tiny_source, on_build=lambda *e: events.append(e))
    enc.encode(["great deal"])
    assert enc.built_seconds is not None
    stages = [s for s, _, _ in events]
    assert stages[0] == "load" and "tokens" in stages and stages[-1] == "save"
    done, total = max((d, t) for s, d, t in events if s == "tokens")
    assert done == total > 0
    # A later job finds it built: no second build.
    mtime = (target / "model.safetensors").stat().st_mtime_ns
    later = StaticTextEncoder(target, source_dir=tiny_source, on_build=lambda *e: events.append(e))
    n_events = len(events)
    later.encode(["great deal"])
    assert later.built_seconds is None and len(events) == n_events
    assert (target / "model.safetensors").stat().st_mtime_ns == mtime


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(E.EncoderError, match="does not exist"):
        build_static_model(tmp_path / "m" / "static-minilm", source_dir=tmp_path / "nope")


# -------------------------------------------------------------------------- auto choice
@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(E, "cuda_available", lambda: False)


@pytest.fixture
def with_gpu(monkeypatch):
    monkeypatch.setattr(E, "cuda_available", lambda: True)


def test_auto_small_store_on_cpu_runs_the_transformer(cpu_only):
    c = choose_encoder("auto", E.AUTO_STATIC_ABOVE)
    assert (c.encoder, c.reason, c.n_texts) == ("minilm", "small", E.AUTO_STATIC_ABOVE)


def test_auto_large_store_on_cpu_runs_the_static_model(cpu_only):
    c = choose_encoder("auto", E.AUTO_STATIC_ABOVE + 1)
    assert (c.encoder, c.reason, c.threshold) == ("static", "large_cpu", E.AUTO_STATIC_ABOVE)


def test_auto_on_a_gpu_runs_the_transformer_whatever_the_size(with_gpu):
    assert choose_encoder("auto", 10**6).to_dict()["encoder"] == "minilm"
    assert choose_encoder("auto", 10**6).reason == "gpu"
    # Asked to stay on the CPU, the size decides again.
    assert choose_encoder("auto", 10**6, device="cpu").encoder == "static"


def test_a_chosen_encoder_overrides_auto(with_gpu, tmp_path):
    assert choose_encoder("static", 10).to_dict() == {
        "encoder": "static",
        "reason": "chosen",
        "n_texts": 10,
        "threshold": E.AUTO_STATIC_ABOVE,
    }
    assert choose_encoder("default", 10**6).encoder == "minilm"
    assert choose_encoder(str(tmp_path), 10**6).encoder == str(tmp_path)


def test_make_encoder_maps_names_to_encoders(tmp_path):
    static = make_encoder("static", models_dir=tmp_path)
    assert isinstance(static, StaticTextEncoder)
    assert static.model_dir == tmp_path / "static-minilm"
    minilm = make_encoder("minilm", models_dir=tmp_path)
    assert type(minilm) is E.TextEncoder and minilm.spec.model == E.DEFAULT_MODEL
    assert make_encoder(str(tmp_path), models_dir=tmp_path).spec.model == str(tmp_path)
    with pytest.raises(ValueError, match="auto"):
        make_encoder("auto", models_dir=tmp_path)


# ------------------------------------------------------------ a run says which and why
@pytest.fixture
def large_demo(tmp_path, tiny_static, monkeypatch, cpu_only):
    """A 300-customer demo workspace whose static model is already built (from the tiny BERT),
    with the auto threshold lowered so that this store counts as large."""
    from core.datasets import create_demo_dataset
    from core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    create_demo_dataset(ws, n_customers=300, seed=2)
    shutil.copytree(tiny_static, static_model_dir(ws.root / "models"))
    monkeypatch.setattr(E, "AUTO_STATIC_ABOVE", 50)
    return ws


def test_auto_run_records_the_static_choice_in_english_and_chinese(large_demo):
    from core.locale import LocalText
    from core.pipeline import SegmentationParams, run_segmentation
    from core.segment import RUN_NOTES, run_notes

    run = run_segmentation(large_demo, "demo", SegmentationParams(k=4, projection=False))
    used = run.summary["encoder"]
    assert (used["encoder"], used["reason"], used["threshold"]) == ("static", "large_cpu", 50)
    assert used["key"].startswith("static-minilm@") and used["n_texts"] > 50
    keys = [p["key"] for p in run.summary["note_phrases"] if p]
    assert "encoder_large_cpu" in keys and "static_built" not in keys  # it was built already
    zh = next(n for n in run_notes(run.summary, "zh") if n.startswith("文本编码器"))
    assert "由 MiniLM 蒸馏的静态模型" in zh and f"{used['n_texts']:,}" in zh
    names = {"MiniLM", "CPU", "GPU", "Transformer"}  # names the zh audit allows
    assert set(re.findall(r"[A-Za-z]{3,}", zh)) <= names
    # Every encoder note has a Chinese phrase with the same placeholders.
    for key in ("encoder_gpu", "encoder_small", "encoder_large_cpu", "encoder_chosen"):
        note = LocalText(
            RUN_NOTES, key, encoder="x", n="1", threshold="2"
        )  # the values are data here
        assert re.search(r"[\u4e00-\u9fff]", note.text("zh")) and "{" not in note.text("zh")


def test_cli_segment_prints_the_encoder_and_why(large_demo, monkeypatch):
    from core.cli import app

    monkeypatch.setenv("SEGSTUDIO_HOME", str(large_demo.root))
    res = CliRunner().invoke(app, ["segment", "demo", "--k", "4", "--no-map"])
    assert res.exit_code == 0, res.output
    assert "text encoder: static (auto:" in res.output and "more than 50" in res.output
    res = CliRunner().invoke(
        app, ["segment", "demo", "--k", "4", "--no-map", "--encoder", "static"]
    )
    assert res.exit_code == 0, res.output
    assert "text encoder: static (as chosen" in res.output


def test_cli_build_static_builds_once(tmp_path, tiny_source, monkeypatch, no_network):
    from core.cli import app

    monkeypatch.setenv("SEGSTUDIO_HOME", str(tmp_path / "ws"))
    monkeypatch.setattr(E, "default_model_dir", lambda: tiny_source)
    res = CliRunner().invoke(app, ["encoders", "build-static"])
    assert res.exit_code == 0, res.output
    target = static_model_dir(tmp_path / "ws" / "models")
    assert "static encoder in" in res.output and E.static_model_ready(target)
    mtime = (target / "model.safetensors").stat().st_mtime_ns
    assert CliRunner().invoke(app, ["encoders", "build-static"]).exit_code == 0
    assert (target / "model.safetensors").stat().st_mtime_ns == mtime  # kept, not rebuilt
