"""Recommendations: which products each customer — and each segment — is most drawn to.

Purchase history becomes an implicit-feedback matrix (customer × product, 1 = bought and kept;
a line fully returned does not count). A logistic matrix factorisation learns a vector per
customer and per product so that

    score(c, i) = σ(⟨u_c, v_i⟩ + b_i + b_c)

is the model's probability that customer c buys product i. Training minimises the binary
cross-entropy over *every* (customer, product) cell of a batch of customers — no negative
sampling, so a fit is deterministic for a seed — with purchases weighted ``pos_weight`` (the
weight's log-odds are taken back out when scoring, so σ stays a probability), Adam, and L2
shrinkage of each customer vector in proportion to their purchases (weighted-λ). All in NumPy,
vectorised over batches of customers: 100k customers × 200 products fit in well under a minute
on one CPU core.

`evaluate_time_split` trains on lines before a cutoff and asks: of the products a customer
first bought after the cutoff, how many were in their top N? (hit-rate@N, recall@N), next to a
popularity baseline. `train_for_run` does both for a segmentation run and saves the result
under ``runs/<id>/recommend/`` as ``factors.safetensors`` + ``recommend.json`` (no pickle).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from core.locale import LocalizedError, phrase
from core.workspace import Workspace, atomic_write_bytes, atomic_write_json

# What the recommender tells a user (errors, training progress) in each interface language.
_TEXT = {
    "en": {
        "no_orders": "this dataset has no orders table; recommendations are learnt from order "
        "lines (customer_id, product_id, order_date, quantity)",
        "empty_orders": "the orders table is empty; recommendations need purchase lines",
        "missing_columns": "orders table has no column {columns}; recommendations need to know "
        "which customer bought which product",
        "missing_columns_dates": "orders table has no column {columns}; recommendations need to "
        "know which customer bought which product and when",
        "no_products": "orders column 'product_id' is empty on every line; recommendations need "
        "the product of each order line",
        "no_purchases": "no purchases to learn from: every (customer, product) pair has zero or "
        "negative net quantity",
        "unknown_customers": "{n} customer id(s) have no purchases in the training data: {ids}",
        "no_members": "none of the segment members have purchases the model knows",
        "nothing_before": "cutoff {cutoff} leaves no order lines before it (orders run from "
        "{first} to {last})",
        "nothing_after": "cutoff {cutoff} leaves no order lines on or after it (orders run from "
        "{first} to {last})",
        "no_purchases_before": "no kept purchases before the cutoff {cutoff}",
        "splitting": "Splitting orders by time",
        "training_before": "Training on orders before {date}",
        "eval_epoch": "Evaluation model: epoch {epoch}/{epochs}",
        "scoring": "Scoring the held-out period",
        "training_all": "Training on all orders",
        "final_epoch": "Final model: epoch {epoch}/{epochs}",
        "saved": "Saved",
    },
    "zh": {
        "no_orders": "该数据集没有订单表；推荐模型从订单明细（customer_id、product_id、order_date、"
        "quantity）中学习",
        "empty_orders": "订单表为空；推荐需要购买记录",
        "missing_columns": "订单表缺少列 {columns}；推荐需要知道哪位客户买了哪件商品",
        "missing_columns_dates": "订单表缺少列 {columns}；推荐需要知道哪位客户在何时买了哪件商品",
        "no_products": "订单列 'product_id' 每一行都为空；推荐需要每条订单明细的商品",
        "no_purchases": "没有可学习的购买记录：每个（客户，商品）组合的净数量都为零或负数",
        "unknown_customers": "{n} 个客户 ID 在训练数据中没有购买记录：{ids}",
        "no_members": "该分群中没有任何成员有模型认识的购买记录",
        "nothing_before": "截止日 {cutoff} 之前没有任何订单明细（订单日期从 {first} 到 {last}）",
        "nothing_after": "截止日 {cutoff} 当天及之后没有任何订单明细（订单日期从 {first} 到 {last}）",
        "no_purchases_before": "截止日 {cutoff} 之前没有保留下来的购买记录",
        "splitting": "按时间切分订单",
        "training_before": "用 {date} 之前的订单训练",
        "eval_epoch": "评估模型：第 {epoch}/{epochs} 轮",
        "scoring": "为留出时段打分",
        "training_all": "用全部订单训练",
        "final_epoch": "最终模型：第 {epoch}/{epochs} 轮",
        "saved": "已保存",
    },
}

Progress = Callable[[str, float], None]  # (stage message, fraction 0..1)

RECOMMEND_DIR = "recommend"
FACTORS_FILE = "factors.safetensors"
META_FILE = "recommend.json"
MAX_EVAL_N = 50  # evaluation curves are kept for N = 1..MAX_EVAL_N
_SCORE_BATCH = 4096  # customers scored at once (4096 × items float32)


# --------------------------------------------------------------------------- interactions
@dataclass
class Interactions:
    """Customer × product purchase matrix: ``matrix[c, i]`` = net units kept (> 0 only)."""

    matrix: sp.csr_matrix
    customer_ids: list[str]
    item_ids: list[str]
    skipped_lines: int = 0  # order lines without a customer or product id (reported, not used)

    def __post_init__(self) -> None:
        m = sp.csr_matrix(self.matrix, dtype=np.float32)
        if m.shape != (len(self.customer_ids), len(self.item_ids)):
            raise ValueError(
                f"interaction matrix is {m.shape[0]}×{m.shape[1]} but there are "
                f"{len(self.customer_ids)} customer ids and {len(self.item_ids)} item ids"
            )
        m.eliminate_zeros()
        m.sort_indices()
        self.matrix = m
        self.customer_ids = [str(c) for c in self.customer_ids]
        self.item_ids = [str(i) for i in self.item_ids]

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def binary(self) -> sp.csr_matrix:
        b = self.matrix.copy()
        b.data = (b.data > 0).astype(np.float32)
        b.eliminate_zeros()
        return b


def _line_units(orders: pd.DataFrame) -> np.ndarray:
    """Signed units per line: quantity where given, else the sign of amount, else 1."""
    n = len(orders)
    units = np.ones(n, dtype=np.float64)
    if "amount" in orders.columns:
        amount = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype=float)
        units = np.where(np.isfinite(amount) & (amount < 0), -1.0, units)
    if "quantity" in orders.columns:
        qty = pd.to_numeric(orders["quantity"], errors="coerce").to_numpy(dtype=float)
        units = np.where(np.isfinite(qty), qty, units)
    return units


def check_orders(orders: pd.DataFrame | None, *, need_dates: bool = False) -> pd.DataFrame:
    """The orders table if it can feed a recommender, else a ValueError saying what is missing."""
    if orders is None:
        raise LocalizedError(_TEXT, "no_orders")
    if len(orders) == 0:
        raise LocalizedError(_TEXT, "empty_orders")
    need = ["customer_id", "product_id"] + (["order_date"] if need_dates else [])
    missing = [c for c in need if c not in orders.columns]
    if missing:
        raise LocalizedError(
            _TEXT,
            "missing_columns_dates" if need_dates else "missing_columns",
            columns=", ".join(repr(c) for c in missing),
        )
    if orders["product_id"].isna().all():
        raise LocalizedError(_TEXT, "no_products")
    if need_dates and not pd.api.types.is_datetime64_any_dtype(orders["order_date"]):
        raise ValueError(
            f"orders column 'order_date' has dtype {orders['order_date'].dtype}, expected dates"
        )
    return orders


def build_interactions(
    orders: pd.DataFrame | None,
    *,
    item_ids: Sequence[str] | None = None,
    customer_ids: Sequence[str] | None = None,
) -> Interactions:
    """Net units per (customer, product); a product returned in full is not a purchase.

    ``item_ids`` / ``customer_ids`` fix the rows and columns (lines for other ids are left out
    and counted in ``skipped_lines``); by default they are the ids seen, sorted.
    """
    orders = check_orders(orders)
    cust = orders["customer_id"].astype("string")
    prod = orders["product_id"].astype("string")
    ok = (cust.notna() & prod.notna()).to_numpy()
    skipped = int((~ok).sum())
    units = _line_units(orders)[ok]
    cust = cust[ok].to_numpy(dtype=object)
    prod = prod[ok].to_numpy(dtype=object)
    cids = np.array(sorted(set(cust)) if customer_ids is None else list(customer_ids), dtype=object)
    iids = np.array(sorted(set(prod)) if item_ids is None else list(item_ids), dtype=object)
    ci = pd.Index(cids).get_indexer(cust)
    ii = pd.Index(iids).get_indexer(prod)
    known = (ci >= 0) & (ii >= 0)
    skipped += int((~known).sum())
    net = sp.coo_matrix(
        (units[known], (ci[known], ii[known])), shape=(len(cids), len(iids))
    ).tocsr()  # duplicates are summed: purchases minus returns
    net.data = np.where(net.data > 0, net.data, 0.0)
    return Interactions(net, list(cids), list(iids), skipped_lines=skipped)


# --------------------------------------------------------------------------- the model
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free σ


def _sigmoid_(x: np.ndarray) -> np.ndarray:
    """σ in place (saves the allocations of the training loop's hottest line)."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


@dataclass
class RecommenderParams:
    factors: int = 32
    epochs: int = 50
    lr: float = 0.05
    reg: float = 0.5  # L2 shrinkage, per purchase behind a vector (weighted-λ)
    pos_weight: float = 4.0  # weight of a purchase cell relative to a non-purchase cell
    batch_size: int = 512
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _adam(param, grad, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam step; returns the new (param, first moment, second moment)."""
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad * grad
    step = (lr * np.sqrt(1 - b2**t) / (1 - b1**t)) * m / (np.sqrt(v) + eps)
    return (param - step).astype(np.float32), m.astype(np.float32), v.astype(np.float32)


class Recommender:
    """Logistic matrix factorisation over an implicit purchase matrix (sklearn-style)."""

    def __init__(self, **params: Any):
        self.params = RecommenderParams(**params)
        p = self.params
        if p.factors < 1 or p.epochs < 1 or p.batch_size < 1:
            raise ValueError(
                f"factors, epochs and batch_size must be at least 1 (got {p.factors}, "
                f"{p.epochs}, {p.batch_size})"
            )
        if p.lr <= 0 or p.reg < 0 or p.pos_weight <= 0:
            raise ValueError(
                f"lr and pos_weight must be > 0 and reg ≥ 0 (got {p.lr}, {p.pos_weight}, {p.reg})"
            )
        self.customer_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None
        self.item_bias: np.ndarray | None = None
        self.customer_bias: np.ndarray | None = None
        self.customer_ids: list[str] = []
        self.item_ids: list[str] = []
        self.bought: sp.csr_matrix | None = None
        self.loss_history: list[float] = []
        self._cindex: dict[str, int] = {}

    # ------------------------------------------------------------------ training
    def fit(self, interactions: Interactions, on_epoch: Callable[[int, float], None] | None = None):
        """Learn the factors. ``on_epoch(epoch, mean_loss)`` reports progress."""
        # The matrices are small (batch × factors × items): a multi-threaded BLAS spends more
        # time waking threads than multiplying, by 10-30× on a busy machine.
        with threadpool_limits(1, user_api="blas"):
            return self._fit(interactions, on_epoch)

    def _fit(self, interactions: Interactions, on_epoch: Callable[[int, float], None] | None):
        Y = interactions.binary
        n, m = Y.shape
        if n == 0 or m == 0 or Y.nnz == 0:
            raise LocalizedError(_TEXT, "no_purchases")
        p = self.params
        rng = np.random.default_rng(p.seed)
        k = p.factors
        U = (rng.standard_normal((n, k)) * 0.1).astype(np.float32)
        V = (rng.standard_normal((m, k)) * 0.1).astype(np.float32)
        # Start the biases at the log-odds of the observed rates: popularity is the first guess.
        item_rate = np.clip(np.asarray(Y.mean(axis=0)).ravel(), 0.5 / n, 1 - 0.5 / n)
        bi = np.log(item_rate / (1 - item_rate)).astype(np.float32)
        bu = np.zeros(n, dtype=np.float32)
        n_c = np.maximum(np.diff(Y.indptr), 1).astype(np.float32)
        n_i = np.float32(max(Y.nnz / m, 1.0))
        # Adam state: items get a global step; a customer row is updated once per epoch, so its
        # step count is the epoch number (lazy Adam, as for sparse embeddings).
        mU, vU = np.zeros_like(U), np.zeros_like(U)
        mbu, vbu = np.zeros_like(bu), np.zeros_like(bu)
        mV, vV = np.zeros_like(V), np.zeros_like(V)
        mbi, vbi = np.zeros_like(bi), np.zeros_like(bi)
        t_item = 0
        w_pos = np.float32(p.pos_weight)
        self.loss_history = []
        # At most ~100 batches an epoch: large stores take bigger batches, not more Python steps.
        batch = max(p.batch_size, -(-n // 100))
        for epoch in range(p.epochs):
            order = rng.permutation(n)
            t_row = epoch + 1  # every customer row is updated once an epoch
            loss = 0.0
            for start in range(0, n, batch):
                rows = np.sort(order[start : start + batch])
                y = Y[rows].toarray()
                Ub, bub = U[rows], bu[rows]
                logit = Ub @ V.T
                logit += bi
                logit += bub[:, None]
                prob = _sigmoid_(logit)
                if start == 0:  # the epoch's loss, estimated on its first batch
                    w = 1.0 + (w_pos - 1.0) * y
                    loss = float(-(w * np.log(np.abs(1.0 - y - prob) + 1e-7)).mean())
                # gradient of the mean weighted BCE over the batch's cells w.r.t. the logits;
                # purchases weigh pos_weight, the other cells 1
                g = prob
                g -= y
                y *= (w_pos - 1.0) / (len(rows) * m)
                y += 1.0 / (len(rows) * m)
                g *= y
                # objective: Σ_cells w·BCE + reg·(Σ n_c‖u_c‖² + n_i Σ‖v_i‖²), scaled by
                # 1 / (batch cells); n_c counts the customer's purchases (weighted-λ, as in
                # ALS-WR), n_i is the mean purchases per product: shrinking every product alike
                # keeps best sellers' vectors (weighting them by sales left only their bias).
                # The product part is spread over the epoch's batches.
                gU = g @ V + (2 * p.reg / (len(rows) * m)) * (Ub * n_c[rows, None])
                gV = g.T @ Ub + (2 * p.reg * n_i / (n * m)) * V
                U[rows], mU[rows], vU[rows] = _adam(Ub, gU, mU[rows], vU[rows], t_row, p.lr)
                bu[rows], mbu[rows], vbu[rows] = _adam(
                    bub, g.sum(axis=1), mbu[rows], vbu[rows], t_row, p.lr
                )
                t_item += 1
                V, mV, vV = _adam(V, gV, mV, vV, t_item, p.lr)
                bi, mbi, vbi = _adam(bi, g.sum(axis=0), mbi, vbi, t_item, p.lr)
            self.loss_history.append(loss)
            if on_epoch is not None:
                on_epoch(epoch + 1, loss)
        self.customer_factors, self.item_factors = U, V
        self.customer_bias, self.item_bias = bu, bi
        self.customer_ids = list(interactions.customer_ids)
        self.item_ids = list(interactions.item_ids)
        self.bought = Y
        self._cindex = {c: i for i, c in enumerate(self.customer_ids)}
        return self

    # ------------------------------------------------------------------- scoring
    def _check_fitted(self) -> None:
        if self.customer_factors is None:
            raise ValueError("the recommender is not fitted yet; call fit(interactions) first")

    def customer_index(self, customer_ids: Sequence[str]) -> np.ndarray:
        """Row numbers of ``customer_ids``; a ValueError names any the model has not seen."""
        self._check_fitted()
        ids = [str(c) for c in customer_ids]
        idx = np.fromiter((self._cindex.get(c, -1) for c in ids), dtype=np.int64, count=len(ids))
        if (idx < 0).any():
            unknown = [c for c, i in zip(ids, idx, strict=True) if i < 0]
            raise LocalizedError(
                _TEXT,
                "unknown_customers",
                n=len(unknown),
                ids=f"{', '.join(repr(c) for c in unknown[:5])}{' …' if len(unknown) > 5 else ''}",
            )
        return idx

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """σ(⟨u, v⟩ + b_i + b_c − log pos_weight) for customer rows × every item (float32)."""
        self._check_fitted()
        s = self.customer_factors[rows] @ self.item_factors.T
        s += self.item_bias
        s += self.customer_bias[rows, None]
        # Purchases weighed pos_weight in training, which inflates the odds by that factor;
        # taking it back out keeps σ a probability (it does not change any ranking).
        s -= np.float32(np.log(self.params.pos_weight))
        return _sigmoid(s)

    def scores(self, customer_ids: Sequence[str]) -> np.ndarray:
        return self.score_rows(self.customer_index(customer_ids))

    def top_n_rows(self, rows: np.ndarray, n: int, exclude_bought: bool = True) -> np.ndarray:
        """Item indices (len(rows) × n, best first; -1 where fewer items are left)."""
        return _top_n(self.score_rows, rows, n, self.bought if exclude_bought else None)

    def recommend(
        self, customer_ids: Sequence[str], n: int = 10, exclude_bought: bool = True
    ) -> pd.DataFrame:
        """Long table: customer_id, rank (1 = best), product_id, score."""
        if n < 1:
            raise ValueError(f"n must be at least 1 (got {n})")
        rows = self.customer_index(customer_ids)
        out = []
        for start in range(0, len(rows), _SCORE_BATCH):
            r = rows[start : start + _SCORE_BATCH]
            scores = self.score_rows(r)
            top = _top_from_scores(scores, n, self.bought[r] if exclude_bought else None)
            ok = top >= 0
            ri, ranks = np.nonzero(ok)
            items = top[ok]
            out.append(
                pd.DataFrame(
                    {
                        "customer_id": np.asarray(self.customer_ids, dtype=object)[r[ri]],
                        "rank": ranks + 1,
                        "product_id": np.asarray(self.item_ids, dtype=object)[items],
                        "score": scores[ri, items].astype(float),
                    }
                )
            )
        if not out:
            return pd.DataFrame(columns=["customer_id", "rank", "product_id", "score"])
        return pd.concat(out, ignore_index=True)

    def bought_items(self, customer_id: str) -> list[str]:
        row = self.customer_index([customer_id])[0]
        return [self.item_ids[i] for i in self.bought[row].indices]

    def segment_top_items(
        self, segments: pd.DataFrame, n: int = 10, exclude_bought: bool = True
    ) -> pd.DataFrame:
        """Top-n products per segment, with how much more the segment buys them than everyone.

        ``segments`` needs customer_id and segment. Columns: segment, rank, product_id,
        score (mean σ over the segment's members who have purchases; with ``exclude_bought``
        members who already own the product count 0, so the score is the expected share of the
        segment that would newly buy it), buy_rate (share of those members who bought it),
        overall_rate (share of all customers), lift (buy_rate / overall_rate), members.
        """
        self._check_fitted()
        if n < 1:
            raise ValueError(f"n must be at least 1 (got {n})")
        missing = {"customer_id", "segment"} - set(segments.columns)
        if missing:
            raise ValueError(
                f"segments table needs columns customer_id and segment; missing {missing}"
            )
        ids = segments["customer_id"].astype(str).to_numpy()
        rows = np.fromiter((self._cindex.get(c, -1) for c in ids), dtype=np.int64, count=len(ids))
        seg = segments["segment"].astype(str).to_numpy()
        known = rows >= 0
        seg_names = sorted(set(seg[known]), key=_natural_key)
        if not seg_names:
            raise LocalizedError(_TEXT, "no_members")
        code = pd.Index(seg_names).get_indexer(seg[known])
        rows = rows[known]
        g = len(seg_names)
        sums = np.zeros((g, len(self.item_ids)), dtype=np.float64)
        for start in range(0, len(rows), _SCORE_BATCH):
            r, c = rows[start : start + _SCORE_BATCH], code[start : start + _SCORE_BATCH]
            s = self.score_rows(r).astype(np.float64)
            if exclude_bought:
                b = self.bought[r].toarray() > 0
                s[b] = 0.0
            np.add.at(sums, c, s)
        onehot = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (code, rows)), shape=(g, len(self.customer_ids))
        )
        members = np.asarray(onehot.sum(axis=1)).ravel()
        buyers = np.asarray((onehot @ self.bought).todense())
        mean_score = sums / members[:, None]
        rate = buyers / members[:, None]
        overall = np.asarray(self.bought.sum(axis=0)).ravel() / len(self.customer_ids)
        frames = []
        for j, name in enumerate(seg_names):
            top = np.argsort(-mean_score[j], kind="stable")[:n]
            frames.append(
                pd.DataFrame(
                    {
                        "segment": name,
                        "rank": np.arange(1, len(top) + 1),
                        "product_id": np.asarray(self.item_ids, dtype=object)[top],
                        "score": mean_score[j, top],
                        "buy_rate": rate[j, top],
                        "overall_rate": overall[top],
                        "lift": np.where(
                            overall[top] > 0, rate[j, top] / np.maximum(overall[top], 1e-12), np.nan
                        ),
                        "members": int(members[j]),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------- persistence
    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """``factors.safetensors`` (arrays) + ``recommend.json`` (params, ids, ``extra``)."""
        from safetensors.numpy import save

        self._check_fitted()
        d = Path(directory)
        b = self.bought
        arrays = {
            "customer_factors": self.customer_factors,
            "item_factors": self.item_factors,
            "customer_bias": self.customer_bias,
            "item_bias": self.item_bias,
            "bought_indptr": b.indptr.astype(np.int64),
            "bought_indices": b.indices.astype(np.int64),
        }
        atomic_write_bytes(
            d / FACTORS_FILE, save({k: np.ascontiguousarray(v) for k, v in arrays.items()})
        )
        meta = {
            "params": self.params.to_dict(),
            "customer_ids": self.customer_ids,
            "item_ids": self.item_ids,
            "loss_history": self.loss_history,
            **(extra or {}),
        }
        atomic_write_json(d / META_FILE, meta)
        return d

    @classmethod
    def load(cls, directory: str | Path) -> Recommender:
        from safetensors.numpy import load

        d = Path(directory)
        if not (d / FACTORS_FILE).exists() or not (d / META_FILE).exists():
            raise ValueError(
                f"{d} holds no saved recommender (needs {FACTORS_FILE} and {META_FILE})"
            )
        meta = json.loads((d / META_FILE).read_text())
        arrays = load((d / FACTORS_FILE).read_bytes())
        model = cls(**meta["params"])
        model.customer_factors = arrays["customer_factors"]
        model.item_factors = arrays["item_factors"]
        model.customer_bias = arrays["customer_bias"]
        model.item_bias = arrays["item_bias"]
        model.customer_ids = [str(c) for c in meta["customer_ids"]]
        model.item_ids = [str(i) for i in meta["item_ids"]]
        n, m = len(model.customer_ids), len(model.item_ids)
        if model.customer_factors.shape[0] != n or model.item_factors.shape[0] != m:
            raise ValueError(f"{d / FACTORS_FILE} does not match the ids in {d / META_FILE}")
        indices = arrays["bought_indices"]
        model.bought = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, arrays["bought_indptr"]),
            shape=(n, m),
        )
        model.loss_history = list(meta.get("loss_history", []))
        model._cindex = {c: i for i, c in enumerate(model.customer_ids)}
        return model


def _natural_key(s: str):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _top_from_scores(scores: np.ndarray, n: int, bought: sp.csr_matrix | None) -> np.ndarray:
    s = np.array(scores, dtype=np.float32, copy=True)
    if bought is not None:
        b = bought.toarray() > 0
        s[b] = -np.inf
    n_eff = min(n, s.shape[1])
    part = np.argpartition(-s, n_eff - 1, axis=1)[:, :n_eff]
    order = np.argsort(-np.take_along_axis(s, part, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(part, order, axis=1)
    top[~np.isfinite(np.take_along_axis(s, top, axis=1))] = -1
    if n_eff < n:
        top = np.pad(top, ((0, 0), (0, n - n_eff)), constant_values=-1)
    return top


def _top_n(score_fn, rows: np.ndarray, n: int, bought: sp.csr_matrix | None) -> np.ndarray:
    parts = [
        _top_from_scores(
            score_fn(rows[s : s + _SCORE_BATCH]),
            n,
            bought[rows[s : s + _SCORE_BATCH]] if bought is not None else None,
        )
        for s in range(0, len(rows), _SCORE_BATCH)
    ]
    return np.vstack(parts) if parts else np.empty((0, n), dtype=np.int64)


# --------------------------------------------------------------------------- evaluation
def hit_rate_and_recall(
    top: np.ndarray, test: sp.csr_matrix, n_test_items: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Curves for N = 1..top.shape[1]: hit-rate@N (share of customers with ≥ 1 test item in
    their top N) and recall@N (mean share of each customer's test items found in the top N).

    ``top`` holds item indices (-1 = empty slot), one row per test customer; ``test`` is the
    matching customer × item matrix of test purchases. ``n_test_items`` overrides the recall
    denominators (e.g. to count test items the model never saw).
    """
    if top.shape[0] != test.shape[0]:
        raise ValueError(f"{top.shape[0]} ranked rows but {test.shape[0]} test rows")
    if top.shape[0] == 0:
        raise ValueError("no test customers to evaluate")
    dense = test.toarray() > 0
    safe = np.where(top >= 0, top, 0)
    hits = np.take_along_axis(dense, safe, axis=1) & (top >= 0)
    cum = np.cumsum(hits, axis=1)
    denom = np.asarray(dense.sum(axis=1)).ravel() if n_test_items is None else n_test_items
    denom = np.maximum(np.asarray(denom, dtype=float), 1.0)
    return (cum > 0).mean(axis=0), (cum / denom[:, None]).mean(axis=0)


@dataclass
class RankingEvaluation:
    cutoff: str
    n: int
    exclude_bought: bool
    train_customers: int
    test_customers: int
    test_items: int  # (customer, product) pairs first bought after the cutoff
    unseen_items: int  # of which the product was never sold before the cutoff
    model_hit_rate: list[float] = field(default_factory=list)  # index N-1
    model_recall: list[float] = field(default_factory=list)
    popularity_hit_rate: list[float] = field(default_factory=list)
    popularity_recall: list[float] = field(default_factory=list)

    def at(self, n: int | None = None) -> dict[str, float]:
        n = self.n if n is None else n
        k = max(1, min(n, len(self.model_hit_rate))) - 1
        return {
            "model_hit_rate": self.model_hit_rate[k],
            "model_recall": self.model_recall[k],
            "popularity_hit_rate": self.popularity_hit_rate[k],
            "popularity_recall": self.popularity_recall[k],
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RankingEvaluation:
        return cls(**d)


@dataclass
class TimeSplit:
    """Train on what happened before ``cutoff``; test on what customers did next."""

    cutoff: pd.Timestamp
    train: Interactions  # lines before the cutoff only
    test: pd.DataFrame  # customer_id, product_id: products first bought at/after the cutoff
    lines_before: int
    lines_after: int


def time_split(orders: pd.DataFrame | None, cutoff: str | pd.Timestamp | None = None) -> TimeSplit:
    """Split orders at ``cutoff`` (default: the day by which 80 % of lines had happened).

    Test pairs are (customer, product) where the customer has purchases before the cutoff,
    had not kept the product before it, and kept it (net units > 0 over the whole history)
    after it — so a product returned after the cutoff is not a test purchase either.
    """
    orders = check_orders(orders, need_dates=True)
    dates = orders["order_date"]
    if dates.isna().all():
        raise ValueError("orders column 'order_date' is empty on every line")
    if cutoff is None:
        cut = pd.Timestamp(dates.quantile(0.8)).normalize()
    else:
        try:
            cut = pd.Timestamp(cutoff)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"cutoff {cutoff!r} is not a date (expected e.g. 2026-01-31)") from exc
        if pd.isna(cut):
            raise ValueError(f"cutoff {cutoff!r} is not a date (expected e.g. 2026-01-31)")
    before = (dates < cut).to_numpy()
    after = (dates >= cut).to_numpy()  # lines without a date belong to neither side
    if not before.any() or not after.any():
        raise LocalizedError(
            _TEXT,
            "nothing_before" if not before.any() else "nothing_after",
            cutoff=cut.date(),
            first=dates.min().date(),
            last=dates.max().date(),
        )
    train = build_interactions(orders[before])
    if train.matrix.nnz == 0:
        raise LocalizedError(_TEXT, "no_purchases_before", cutoff=cut.date())
    later = build_interactions(orders[after])
    coo = later.binary.tocoo()
    cust = np.asarray(later.customer_ids, dtype=object)[coo.row]
    item = np.asarray(later.item_ids, dtype=object)[coo.col]
    # Kept over the whole history: bought before and returned after is not a new purchase.
    full = build_interactions(orders[before | after])
    fu_c = pd.Index(full.customer_ids).get_indexer(cust)
    fu_i = pd.Index(full.item_ids).get_indexer(item)
    kept = np.asarray(full.matrix[fu_c, fu_i]).ravel() > 0
    tr_c = pd.Index(train.customer_ids).get_indexer(cust)
    tr_i = pd.Index(train.item_ids).get_indexer(item)
    both = (tr_c >= 0) & (tr_i >= 0)
    already = np.zeros(len(cust), dtype=bool)
    already[both] = np.asarray(train.matrix[tr_c[both], tr_i[both]]).ravel() > 0
    is_test = (tr_c >= 0) & kept & ~already
    test = pd.DataFrame({"customer_id": cust[is_test], "product_id": item[is_test]})
    return TimeSplit(cut, train, test, int(before.sum()), int(after.sum()))


def _popularity_top(train: Interactions, rows: np.ndarray, n: int, exclude: bool) -> np.ndarray:
    pop = np.asarray(train.binary.sum(axis=0), dtype=np.float32).ravel()
    return _top_n(
        lambda r: np.broadcast_to(pop, (len(r), len(pop))),
        rows,
        n,
        train.binary if exclude else None,
    )


def evaluate_time_split(
    orders: pd.DataFrame | None,
    cutoff: str | pd.Timestamp | None = None,
    n: int = 10,
    exclude_bought: bool = True,
    params: dict[str, Any] | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> RankingEvaluation:
    """Train on lines before ``cutoff``; test on products customers seen before the cutoff
    first bought at or after it. The model and a popularity baseline rank the same items."""
    split = time_split(orders, cutoff)
    model = Recommender(**(params or {})).fit(split.train, on_epoch=on_epoch)
    return evaluate_split(model, split, n, exclude_bought)


def evaluate_split(
    model: Recommender, split: TimeSplit, n: int = 10, exclude_bought: bool = True
) -> RankingEvaluation:
    """hit-rate@N and recall@N curves of ``model`` (fitted on ``split.train``) and popularity."""
    if not 1 <= n <= MAX_EVAL_N:
        raise ValueError(f"n must be between 1 and {MAX_EVAL_N} (got {n})")
    train, test = split.train, split.test
    if test.empty:
        raise ValueError(
            f"no customer who bought before {split.cutoff.date()} bought a new product after "
            "it; choose an earlier cutoff"
        )
    if model.item_ids != train.item_ids or model.customer_ids != train.customer_ids:
        raise ValueError("the model was not fitted on this split's training data")
    tr_c = pd.Index(train.customer_ids).get_indexer(test["customer_id"])
    tr_i = pd.Index(train.item_ids).get_indexer(test["product_id"])
    rows = np.unique(tr_c)
    pos = np.searchsorted(rows, tr_c)
    n_test = np.bincount(pos, minlength=len(rows))  # counts products unseen before the cutoff
    seen = tr_i >= 0
    truth = sp.csr_matrix(
        (np.ones(int(seen.sum()), dtype=np.float32), (pos[seen], tr_i[seen])),
        shape=(len(rows), train.n_items),
    )
    k = MAX_EVAL_N
    with threadpool_limits(1, user_api="blas"):
        m_hit, m_rec = hit_rate_and_recall(model.top_n_rows(rows, k, exclude_bought), truth, n_test)
    p_hit, p_rec = hit_rate_and_recall(
        _popularity_top(train, rows, k, exclude_bought), truth, n_test
    )
    return RankingEvaluation(
        cutoff=str(split.cutoff.date()),
        n=n,
        exclude_bought=exclude_bought,
        train_customers=train.n_customers,
        test_customers=len(rows),
        test_items=len(test),
        unseen_items=int((~seen).sum()),
        model_hit_rate=[float(x) for x in m_hit],
        model_recall=[float(x) for x in m_rec],
        popularity_hit_rate=[float(x) for x in p_hit],
        popularity_recall=[float(x) for x in p_rec],
    )


# --------------------------------------------------------------------------- runs
def recommend_dir(ws: Workspace, run_id: str) -> Path:
    return ws.get_run(run_id).path / RECOMMEND_DIR


def train_for_run(
    ws: Workspace,
    run_id: str,
    *,
    n: int = 10,
    exclude_bought: bool = True,
    cutoff: str | None = None,
    params: dict[str, Any] | None = None,
    progress: Progress | None = None,
    lang: str = "en",
) -> tuple[Recommender, dict[str, Any]]:
    """Evaluate on a time split, fit on all orders, save under ``runs/<id>/recommend/``.

    `progress` gets (message in `lang`, fraction done)."""

    def say(key: str, frac: float, **values) -> None:
        if progress is not None:
            progress(phrase(_TEXT, lang, key, **values), frac)

    run = ws.get_run(run_id)
    orders = check_orders(ws.load_table(run.dataset_id, "orders"), need_dates=True)
    p = RecommenderParams(**(params or {}))
    say("splitting", 0.02)
    split = time_split(orders, cutoff)
    say("training_before", 0.05, date=split.cutoff.date())
    held = Recommender(**p.to_dict()).fit(
        split.train,
        on_epoch=lambda e, _l: say(
            "eval_epoch", 0.05 + 0.4 * e / p.epochs, epoch=e, epochs=p.epochs
        ),
    )
    say("scoring", 0.46)
    evaluations = {
        str(ex).lower(): evaluate_split(held, split, n, ex).to_dict() for ex in (True, False)
    }
    say("training_all", 0.5)
    full = build_interactions(orders)
    model = Recommender(**p.to_dict()).fit(
        full,
        on_epoch=lambda e, _l: say(
            "final_epoch", 0.5 + 0.45 * e / p.epochs, epoch=e, epochs=p.epochs
        ),
    )
    meta = {
        "dataset_id": run.dataset_id,
        "run_id": run_id,
        "dataset_created_at": ws.get_dataset(run.dataset_id).created_at,
        "n": n,
        "exclude_bought": exclude_bought,
        "skipped_lines": full.skipped_lines,
        "evaluation": evaluations,
    }
    model.save(recommend_dir(ws, run_id), extra=meta)
    say("saved", 1.0)
    return model, meta


def load_for_run(ws: Workspace, run_id: str) -> tuple[Recommender, dict[str, Any]] | None:
    """The saved recommender of a run and its metadata, or None if none was trained."""
    d = recommend_dir(ws, run_id)
    if not (d / META_FILE).exists():
        return None
    meta = json.loads((d / META_FILE).read_text())
    return Recommender.load(d), meta


def with_product_info(df: pd.DataFrame, products: pd.DataFrame | None) -> pd.DataFrame:
    """``df`` with product_name and category joined on product_id (where a products table has them)."""
    out = df.copy()
    if products is None or "product_id" not in products.columns:
        return out
    cols = [c for c in ("product_name", "category") if c in products.columns]
    info = products[["product_id", *cols]].drop_duplicates("product_id").astype({"product_id": str})
    out["product_id"] = out["product_id"].astype(str)
    out = out.merge(info, on="product_id", how="left")
    front = [c for c in out.columns if c not in cols]
    i = front.index("product_id") + 1
    return out[front[:i] + cols + front[i:]]
