"""The fusion classifier: a transformer over the customer document ⊕ an MLP over numbers.

    document ──► HF encoder ──► pooled vector ─┐
                                               ├─► concat ──► dropout ──► linear head ──► logits
    features ──► preprocess ──► MLP ───────────┘

Either tower can be switched off (text only, numbers only). A trained model is saved as a
*bundle* directory with no pickle anywhere:

    bundle.json        model config, classes, numeric preprocessing, training summary
    model.safetensors  all weights (encoder included)
    encoder/           the encoder's config.json (architecture, rebuilt offline)
    tokenizer/         the tokenizer files
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

BUNDLE_VERSION = 1


# ----------------------------------------------------------------------- numbers
@dataclass
class NumericPreprocessor:
    """Median imputation, signed log for long tails, standardisation — reproducible from JSON."""

    columns: list[str] = field(default_factory=list)
    medians: list[float] = field(default_factory=list)
    log: list[bool] = field(default_factory=list)
    means: list[float] = field(default_factory=list)
    stds: list[float] = field(default_factory=list)

    def fit(self, df: pd.DataFrame, columns: list[str]) -> NumericPreprocessor:
        self.columns, self.medians, self.log, self.means, self.stds = list(columns), [], [], [], []
        for c in columns:
            col = pd.to_numeric(df[c], errors="coerce").astype(float)
            med = float(col.median()) if col.notna().any() else 0.0
            x = col.fillna(med).to_numpy()
            use_log = bool(abs(pd.Series(x).skew()) > 2) if len(x) > 2 else False
            if use_log:
                x = np.sign(x) * np.log1p(np.abs(x))
            self.medians.append(med)
            self.log.append(use_log)
            self.means.append(float(x.mean()))
            self.stds.append(float(x.std()) or 1.0)
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise ValueError(f"missing feature columns: {', '.join(missing)}")
        out = np.empty((len(df), len(self.columns)), np.float32)
        for j, c in enumerate(self.columns):
            col = pd.to_numeric(df[c], errors="coerce").astype(float)
            if col.isna().all() and df[c].notna().any():
                raise ValueError(f"column '{c}' is not numeric (e.g. {df[c].dropna().iloc[0]!r})")
            x = col.fillna(self.medians[j]).to_numpy()
            if self.log[j]:
                x = np.sign(x) * np.log1p(np.abs(x))
            out[:, j] = np.clip((x - self.means[j]) / self.stds[j], -10, 10)
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> NumericPreprocessor:
        return cls(**d)


# ------------------------------------------------------------------------- model
@dataclass
class ModelConfig:
    classes: list[str]
    numeric_columns: list[str] = field(default_factory=list)
    encoder: str = "default"  # what the user chose (model id or directory)
    use_text: bool = True
    pooling: str = "mean"
    max_length: int = 256
    numeric_hidden: int = 64
    dropout: float = 0.1

    @property
    def use_numeric(self) -> bool:
        return bool(self.numeric_columns)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return cls(**d)


class FusionClassifier(nn.Module):
    def __init__(self, config: ModelConfig, encoder: nn.Module | None):
        super().__init__()
        if not config.use_text and not config.use_numeric:
            raise ValueError("the model needs text, numeric features, or both")
        if config.use_text and encoder is None:
            raise ValueError("use_text is on but no encoder was given")
        self.config = config
        self.encoder = encoder if config.use_text else None
        width = 0
        if self.encoder is not None:
            width += int(self.encoder.config.hidden_size)
        if config.use_numeric:
            n = len(config.numeric_columns)
            self.numeric = nn.Sequential(
                nn.Linear(n, config.numeric_hidden),
                nn.GELU(),
                nn.Dropout(config.dropout),
                nn.Linear(config.numeric_hidden, config.numeric_hidden),
                nn.GELU(),
            )
            width += config.numeric_hidden
        else:
            self.numeric = None
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(width, len(config.classes))

    def pooled_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.config.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def embed(self, input_ids=None, attention_mask=None, numeric=None) -> torch.Tensor:
        parts = []
        if self.encoder is not None:
            parts.append(self.pooled_text(input_ids, attention_mask))
        if self.numeric is not None:
            parts.append(self.numeric(numeric))
        return torch.cat(parts, dim=1)

    def forward(self, input_ids=None, attention_mask=None, numeric=None) -> torch.Tensor:
        return self.head(self.dropout(self.embed(input_ids, attention_mask, numeric)))


def load_encoder(name: str):
    """(encoder module, tokenizer) for 'default', a local directory or a cached HF id."""
    from transformers import AutoModel, AutoTokenizer

    from core.encoders import EncoderError, resolve_model

    source, _ = resolve_model(name)
    local = Path(source).is_dir()
    try:
        tok = AutoTokenizer.from_pretrained(source, local_files_only=local)
        enc = AutoModel.from_pretrained(source, local_files_only=local, use_safetensors=True)
    except Exception as exc:  # many transformers error types
        raise EncoderError(f"could not load encoder '{name}': {str(exc).splitlines()[0]}") from None
    return enc, tok


# ------------------------------------------------------------------------ bundle
@dataclass
class ModelBundle:
    model: FusionClassifier
    tokenizer: Any
    preprocessor: NumericPreprocessor
    config: ModelConfig
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(path / "model.safetensors"))
        if self.model.encoder is not None:
            self.model.encoder.config.save_pretrained(path / "encoder")
            self.tokenizer.save_pretrained(path / "tokenizer")
        bundle = {
            "version": BUNDLE_VERSION,
            "config": self.config.to_dict(),
            "preprocessor": self.preprocessor.to_dict(),
            "meta": self.meta,
        }
        (path / "bundle.json").write_text(json.dumps(bundle, indent=2, default=_json_default))
        return path

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> ModelBundle:
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        path = Path(path)
        if not (path / "bundle.json").exists() or not (path / "model.safetensors").exists():
            raise ValueError(
                f"{path} is not a model bundle (needs bundle.json and model.safetensors)"
            )
        d = json.loads((path / "bundle.json").read_text())
        if d.get("version") != BUNDLE_VERSION:
            raise ValueError(f"model bundle version {d.get('version')} is not supported")
        config = ModelConfig.from_dict(d["config"])
        encoder, tokenizer = None, None
        if config.use_text:
            enc_cfg = AutoConfig.from_pretrained(path / "encoder", local_files_only=True)
            encoder = AutoModel.from_config(enc_cfg)
            tokenizer = AutoTokenizer.from_pretrained(path / "tokenizer", local_files_only=True)
        model = FusionClassifier(config, encoder)
        state = load_file(str(path / "model.safetensors"), device="cpu")
        model.load_state_dict(state, strict=True)
        model.to(device).eval()
        return cls(
            model,
            tokenizer,
            NumericPreprocessor.from_dict(d["preprocessor"]),
            config,
            d.get("meta", {}),
        )


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float) and math.isnan(o):
        return None
    return str(o)
