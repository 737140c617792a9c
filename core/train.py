"""Fine-tuning loop for the fusion classifier.

AdamW with linear warm-up and decay, class weights for imbalance, length-bucketed batches,
gradient accumulation, bf16 autocast on CUDA, evaluation each epoch with early stopping on
validation macro-F1, checkpoints every N steps (resumable), cancel between steps, and a CUDA
out-of-memory guard that halves the batch (doubling accumulation) and carries on.

The loop knows nothing about the UI: progress leaves through `TrainCallbacks`.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from torch import nn

from core.locale import LocalizedError
from core.model import FusionClassifier

# What the training loop tells a user (a failed job shows it), in each interface language.
_ERRORS = {
    "en": {"no_cuda": "device 'cuda' was asked for, but no CUDA GPU is available"},
    "zh": {"no_cuda": "指定了设备 'cuda'，但没有可用的 CUDA GPU"},
}


class TrainingCancelled(Exception):
    pass


@dataclass
class TrainConfig:
    epochs: int = 3
    batch_size: int = 16
    lr: float = 5e-5  # encoder
    head_lr: float = 1e-3  # numeric tower and head
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    grad_accum: int = 1
    max_length: int = 256
    patience: int = 2
    checkpoint_every: int = 200
    device: str = "auto"
    seed: int = 0
    class_weights: bool = True
    bucket_by_length: bool = True
    # Progress (`on_step`) at most this often, and at the last step of each epoch: reading the
    # loss waits for the GPU, so it is summed on the device and read once per report.
    report_seconds: float = 0.5

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainData:
    texts: list[str] | None
    numeric: np.ndarray | None  # (n, d) float32, already preprocessed
    labels: np.ndarray  # (n,) int64

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class TrainCallbacks:
    on_step: Callable[[dict], None] | None = (
        None  # {step, total_steps, epoch, loss, lr, samples_per_s}
    )
    on_eval: Callable[[dict], None] | None = (
        None  # {epoch, step, val_loss, val_accuracy, val_macro_f1}
    )
    should_stop: Callable[[], bool] | None = None


@dataclass
class TrainResult:
    # "done": every epoch ran; "early_stopped": patience ended training before the last epoch.
    status: str
    best_epoch: int
    best_macro_f1: float
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    samples_per_s: float = 0.0
    batch_size: int = 0
    device: str = "cpu"


def pick_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise LocalizedError(_ERRORS, "no_cuda")
    return device


class _Batcher:
    """Tokenises once; yields padded batches, grouped by length when asked."""

    def __init__(self, data: TrainData, tokenizer, max_length: int):
        self.data = data
        self.ids = None
        if data.texts is not None and tokenizer is not None:
            enc = tokenizer(list(data.texts), truncation=True, max_length=max_length, padding=False)
            self.ids = enc["input_ids"]
            self.pad = tokenizer.pad_token_id or 0

    def order(
        self, batch_size: int, seed: int, epoch: int, bucket: bool, shuffle: bool = True
    ) -> list[np.ndarray]:
        n = len(self.data)
        rng = np.random.default_rng(seed * 1000 + epoch)
        idx = rng.permutation(n) if shuffle else np.arange(n)
        if bucket and self.ids is not None:
            # Sort within large chunks by length: little padding, still shuffled overall.
            chunk = batch_size * 50
            lengths = np.array([len(self.ids[i]) for i in range(n)])
            parts = [
                c[np.argsort(lengths[c], kind="stable")]
                for c in np.array_split(idx, max(1, math.ceil(n / chunk)))
            ]
            idx = np.concatenate(parts)
        batches = [idx[i : i + batch_size] for i in range(0, n, batch_size)]
        if shuffle and bucket:
            rng.shuffle(batches)
        return batches

    def make(self, rows: np.ndarray, device: str) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        if self.ids is not None:
            seqs = [self.ids[i] for i in rows]
            width = max(len(s) for s in seqs)
            ids = torch.full((len(seqs), width), self.pad, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for j, s in enumerate(seqs):
                ids[j, : len(s)] = torch.tensor(s, dtype=torch.long)
                mask[j, : len(s)] = 1
            out["input_ids"], out["attention_mask"] = ids.to(device), mask.to(device)
        if self.data.numeric is not None:
            out["numeric"] = torch.from_numpy(self.data.numeric[rows]).to(device)
        return out


def infer(
    model: FusionClassifier,
    data: TrainData,
    tokenizer,
    max_length: int = 256,
    batch_size: int = 64,
    device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """(class probabilities, the fused representation before the head) in one pass."""
    batcher = _Batcher(data, tokenizer if model.encoder is not None else None, max_length)
    model.eval()  # dropout off: head(embed(x)) is exactly forward(x)
    proba = np.zeros((len(data), len(model.config.classes)), np.float32)
    emb = None
    use_bf16 = device == "cuda"
    with torch.inference_mode():
        for rows in batcher.order(batch_size, 0, 0, bucket=True, shuffle=False):
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
                v = model.embed(**batcher.make(rows, device))
                logits = model.head(v)
            proba[rows] = torch.softmax(logits.float(), dim=1).cpu().numpy()
            if emb is None:
                emb = np.zeros((len(data), v.shape[1]), np.float32)
            emb[rows] = v.float().cpu().numpy()
    return proba, emb if emb is not None else np.zeros((0, 0), np.float32)


def predict_proba(
    model: FusionClassifier,
    data: TrainData,
    tokenizer,
    max_length: int = 256,
    batch_size: int = 64,
    device: str = "cpu",
) -> np.ndarray:
    return infer(model, data, tokenizer, max_length, batch_size, device)[0]


def _evaluate(model, batcher: _Batcher, data: TrainData, loss_fn, device: str) -> dict:
    model.eval()
    losses, preds = [], np.zeros(len(data), np.int64)
    use_bf16 = device == "cuda"
    with torch.inference_mode():
        for rows in batcher.order(64, 0, 0, bucket=True, shuffle=False):
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
                logits = model(**batcher.make(rows, device)).float()
            y = torch.from_numpy(data.labels[rows]).to(device)
            losses.append(float(loss_fn(logits, y)) * len(rows))
            preds[rows] = logits.argmax(1).cpu().numpy()
    model.train()
    return {
        "val_loss": sum(losses) / max(1, len(data)),
        "val_accuracy": float(accuracy_score(data.labels, preds)),
        "val_macro_f1": float(f1_score(data.labels, preds, average="macro", zero_division=0)),
    }


def _checkpoint_path(d: Path) -> Path:
    return d / "checkpoint.pt"


def train(
    model: FusionClassifier,
    tokenizer,
    train_data: TrainData,
    val_data: TrainData,
    cfg: TrainConfig | None = None,
    callbacks: TrainCallbacks | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
) -> TrainResult:
    cfg = cfg or TrainConfig()
    cb = callbacks or TrainCallbacks()
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    model.to(device).train()
    n_classes = len(model.config.classes)
    tok = tokenizer if model.encoder is not None else None
    train_b = _Batcher(train_data, tok, cfg.max_length)
    val_b = _Batcher(val_data, tok, cfg.max_length)

    weights = None
    if cfg.class_weights:
        counts = np.bincount(train_data.labels, minlength=n_classes).astype(float)
        w = len(train_data) / (n_classes * np.maximum(counts, 1))
        weights = torch.tensor(w, dtype=torch.float32, device=device)
    loss_fn = nn.CrossEntropyLoss(weight=weights)

    enc_params = list(model.encoder.parameters()) if model.encoder is not None else []
    enc_ids = {id(p) for p in enc_params}
    other = [p for p in model.parameters() if id(p) not in enc_ids]
    groups = [{"params": other, "lr": cfg.head_lr}]
    if enc_params:
        groups.append({"params": enc_params, "lr": cfg.lr})
    opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)

    batch_size, accum = cfg.batch_size, max(1, cfg.grad_accum)
    steps_per_epoch = math.ceil(math.ceil(len(train_data) / batch_size) / accum)
    total_steps = max(1, steps_per_epoch * cfg.epochs)
    warmup = int(cfg.warmup_ratio * total_steps)

    def lr_lambda(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)

    state = {
        "epoch": 0,
        "batch_in_epoch": 0,
        "step": 0,
        "best_f1": -1.0,
        "best_epoch": -1,
        "bad_epochs": 0,
        "history": [],
        "samples": 0,
        "seconds": 0.0,
        "batch_size": batch_size,
        "accum": accum,
    }
    best_state: dict[str, torch.Tensor] | None = None
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir else None

    if resume and ckpt_dir and _checkpoint_path(ckpt_dir).exists():
        ck = torch.load(_checkpoint_path(ckpt_dir), map_location=device, weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        state.update({k: ck["state"][k] for k in state if k in ck["state"]})
        state["history"] = list(ck["state"].get("history", []))
        batch_size, accum = int(state["batch_size"]), int(state["accum"])
        if "best_model" in ck:
            best_state = ck["best_model"]

    def save_checkpoint() -> None:
        if ckpt_dir is None:
            return
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "state": {k: v for k, v in state.items()},
        }
        if best_state is not None:
            payload["best_model"] = best_state
        tmp = ckpt_dir / "checkpoint.pt.tmp"
        torch.save(payload, tmp)
        tmp.replace(_checkpoint_path(ckpt_dir))

    use_bf16 = device == "cuda"
    t_start = time.perf_counter() - float(state["seconds"])
    status = "done"
    stopped_early = False
    epoch = int(state["epoch"])
    loss_sum = torch.zeros((), device=device)  # losses of the steps since the last report
    loss_steps = 0
    last_report = -math.inf
    while epoch < cfg.epochs:
        batches = train_b.order(batch_size, cfg.seed, epoch, cfg.bucket_by_length)
        start_batch = int(state["batch_in_epoch"])
        opt.zero_grad(set_to_none=True)
        i = start_batch
        while i < len(batches):
            if cb.should_stop and cb.should_stop():
                state["seconds"] = time.perf_counter() - t_start
                save_checkpoint()
                raise TrainingCancelled("stopped on request")
            rows = batches[i]
            try:
                inputs = train_b.make(rows, device)
                y = torch.from_numpy(train_data.labels[rows]).to(device)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
                    logits = model(**inputs)
                loss = loss_fn(logits.float(), y) / accum
                loss.backward()
            except torch.cuda.OutOfMemoryError:
                if batch_size <= 1:
                    raise
                opt.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                batch_size //= 2
                accum *= 2
                state["batch_size"], state["accum"] = batch_size, accum
                # Re-plan the rest of this epoch with the smaller batch.
                done_rows = sum(len(b) for b in batches[:i])
                rest = np.concatenate(batches[i:]) if i < len(batches) else np.array([], int)
                batches = batches[:i] + [
                    rest[j : j + batch_size] for j in range(0, len(rest), batch_size)
                ]
                del done_rows
                continue
            state["samples"] += len(rows)
            i += 1
            state["batch_in_epoch"] = i
            if i % accum == 0 or i == len(batches):
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                state["step"] += 1
                elapsed = time.perf_counter() - t_start
                loss_sum += loss.detach() * accum
                loss_steps += 1
                due = elapsed - last_report >= cfg.report_seconds or i == len(batches)
                if cb.on_step and due:
                    cb.on_step(
                        {
                            "step": state["step"],
                            "total_steps": total_steps,
                            "epoch": epoch,
                            "loss": float(loss_sum) / loss_steps,  # mean since the last report
                            "lr": sched.get_last_lr()[-1],
                            "samples_per_s": state["samples"] / max(elapsed, 1e-9),
                        }
                    )
                if due:
                    loss_sum.zero_()
                    loss_steps, last_report = 0, elapsed
                if cfg.checkpoint_every and state["step"] % cfg.checkpoint_every == 0:
                    state["seconds"] = elapsed
                    save_checkpoint()
        metrics = _evaluate(model, val_b, val_data, loss_fn, device)
        metrics.update({"epoch": epoch, "step": state["step"]})
        state["history"].append(metrics)
        if cb.on_eval:
            cb.on_eval(metrics)
        if metrics["val_macro_f1"] > state["best_f1"]:
            state["best_f1"], state["best_epoch"], state["bad_epochs"] = (
                metrics["val_macro_f1"],
                epoch,
                0,
            )
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            state["bad_epochs"] += 1
        epoch += 1
        state["epoch"], state["batch_in_epoch"] = epoch, 0
        state["seconds"] = time.perf_counter() - t_start
        save_checkpoint()
        # Patience only stops training that had epochs left: after the last epoch the run is
        # complete, however the last epochs went.
        if state["bad_epochs"] >= cfg.patience and epoch < cfg.epochs:
            stopped_early = True
            break
    if best_state is not None:
        model.load_state_dict(copy.deepcopy(best_state))
    seconds = time.perf_counter() - t_start
    if stopped_early:
        status = "early_stopped"
    return TrainResult(
        status=status,
        best_epoch=int(state["best_epoch"]),
        best_macro_f1=float(state["best_f1"]),
        history=list(state["history"]),
        steps=int(state["step"]),
        seconds=seconds,
        samples_per_s=state["samples"] / max(seconds, 1e-9),
        batch_size=batch_size,
        device=device,
    )


def result_dict(result: TrainResult) -> dict[str, Any]:
    return asdict(result)
