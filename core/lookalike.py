"""Lookalike expansion: the customers outside a seed set who look most like it.

The seed is any set of customers (a segment, a lasso selection, a saved list); the candidates
are everyone else. Similarity is measured on the run's fused customer vectors (scaled numeric
features ⊕ text embedding, ``runs/<id>/vectors.npy``), by cosine. Both blocks of those vectors
are centred on the average customer, so the cosine of two customers compares how each differs
from the average (more spend, more discount, deal words...), like a correlation of their
profiles.

Two methods (:data:`METHODS`):

``knn`` (default)
    A candidate's score is its mean cosine similarity to its ``k`` nearest seed members
    (exact brute-force k-NN on unit float32 rows, in chunks: a matrix product and a partial
    sort, the same neighbours as scikit-learn's brute cosine ``NearestNeighbors`` at about
    a third of its time). A seed made of several groups
    (a lasso across two clusters, a segment with two modes) pulls in customers near *any* of
    them, and averaging over ``k`` members keeps one odd seed member from attracting its own
    neighbours. Seeds larger than ``max_seeds`` are represented by a fixed random sample of
    that many members, so 100 k customers take a second or two.
``centroid``
    Cosine similarity to the mean of the (unit-length) seed vectors: the fastest, and the
    usual choice for a tight, single-mode seed; an elongated or multi-modal seed's centroid
    can lie between its groups, close to neither.

A seed member is never returned: the candidates are the customers outside the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.locale import phrase

METHODS = ("knn", "centroid")
DEFAULT_K = 10
DEFAULT_MAX_SEEDS = 2_000

# The notes as the user reads them. A result keeps each note as (key, values) in `note_keys`,
# so a page can say it in the language of the moment (:func:`note_text`); `notes` is English.
_TEXT = {
    "en": {
        "all_seed": "every customer is in the seed: there is nobody left to suggest",
        "seed_sampled": "the seed has {n_seed} customers: compared with a random sample of "
        "{max_seeds} of them",
        "fewer": "asked for {n} lookalikes but only {n_candidates} customers are outside the "
        "seed: all of them are listed",
    },
    "zh": {
        "all_seed": "所有客户都在种子中：没有可推荐的客户了",
        "seed_sampled": "种子共有 {n_seed} 位客户：只与其中随机抽取的 {max_seeds} 位比较",
        "fewer": "要求 {n} 位相似客户，但种子之外只有 {n_candidates} 位客户：已全部列出",
    },
}


@dataclass
class LookalikeResult:
    """The lookalikes, best first: ``row`` (position in the vectors), ``customer_id`` (when
    ids were given), ``similarity`` (cosine, −1…1, higher is closer) and ``rank`` (1 = best)."""

    table: pd.DataFrame
    method: str
    n_seed: int
    n_candidates: int
    notes: list[str] = field(default_factory=list)
    note_keys: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def notes_in(self, lang: str = "en") -> list[str]:
        """The notes in `lang` ("en" gives :attr:`notes`)."""
        return [note_text(key, values, lang) for key, values in self.note_keys]


def note_text(key: str, values: dict[str, str], lang: str = "en") -> str:
    """One note of a :class:`LookalikeResult` (an item of its ``note_keys``) in `lang`."""
    return phrase(_TEXT, lang, key, **values)


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def find_lookalikes(
    vectors: np.ndarray,
    seed_mask,
    n: int,
    *,
    method: str = "knn",
    ids=None,
    k: int = DEFAULT_K,
    max_seeds: int = DEFAULT_MAX_SEEDS,
    random_state: int = 0,
) -> LookalikeResult:
    """The `n` customers outside the seed most similar to it (see the module docstring).

    ``vectors``: one row per customer (n_customers × d). ``seed_mask``: booleans, one per row,
    True for the seed. ``ids``: optional customer ids aligned with the rows, copied into the
    table. When fewer than `n` customers are outside the seed, all of them are returned and
    ``notes`` says so.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    X = np.asarray(vectors)
    if X.ndim != 2 or not len(X):
        raise ValueError(
            f"vectors must be a non-empty 2-D array (customers × dimensions), got shape {X.shape}"
        )
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"vectors must be numeric, got dtype {X.dtype}")
    mask = np.asarray(seed_mask)
    if mask.dtype != bool:
        raise ValueError(f"seed_mask must be booleans (one per customer), got dtype {mask.dtype}")
    if mask.shape != (len(X),):
        raise ValueError(
            f"seed_mask has {mask.size} values for {len(X)} customer vectors; they must align"
        )
    if ids is not None and len(ids) != len(X):
        raise ValueError(f"ids has {len(ids)} values for {len(X)} customer vectors")
    n = int(n)
    if n < 1:
        raise ValueError(f"n (the number of lookalikes) must be at least 1, not {n}")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} customer vectors contain NaN or infinite values "
            f"(first at row {int(np.flatnonzero(bad)[0])})"
        )
    seed_rows = np.flatnonzero(mask)
    cand_rows = np.flatnonzero(~mask)
    if not len(seed_rows):
        raise ValueError("the seed is empty: select at least one customer to find lookalikes")
    note_keys: list[tuple[str, dict[str, str]]] = []
    if not len(cand_rows):
        note_keys.append(("all_seed", {}))
        return _result(_table(cand_rows, np.empty(0), ids), method, len(seed_rows), 0, note_keys)

    X = X.astype(np.float32, copy=False)
    if method == "centroid":
        centre = _unit_rows(X[seed_rows]).mean(axis=0, keepdims=True)
        sim = (_unit_rows(X[cand_rows]) @ _unit_rows(centre).T).ravel()
    else:
        seeds = seed_rows
        if len(seeds) > max_seeds:
            rng = np.random.default_rng(random_state)
            seeds = np.sort(rng.choice(seeds, max_seeds, replace=False))
            note_keys.append(
                ("seed_sampled", {"n_seed": f"{len(seed_rows):,}", "max_seeds": f"{max_seeds:,}"})
            )
        sim = _mean_top_k_cosine(_unit_rows(X[cand_rows]), _unit_rows(X[seeds]), min(k, len(seeds)))

    take = min(n, len(cand_rows))
    if take < n:
        note_keys.append(("fewer", {"n": f"{n:,}", "n_candidates": f"{len(cand_rows):,}"}))
    top = np.argpartition(-sim, take - 1)[:take] if take < len(sim) else np.arange(len(sim))
    # Best first; ties by row so the same input gives the same order.
    top = top[np.lexsort((cand_rows[top], -sim[top]))]
    return _result(
        _table(cand_rows[top], sim[top], ids), method, len(seed_rows), len(cand_rows), note_keys
    )


def _result(table, method, n_seed, n_candidates, note_keys) -> LookalikeResult:
    notes = [note_text(key, values) for key, values in note_keys]
    return LookalikeResult(table, method, n_seed, n_candidates, notes, note_keys)


def _mean_top_k_cosine(C: np.ndarray, S: np.ndarray, k: int, chunk: int = 8192) -> np.ndarray:
    """For each unit row of C, the mean cosine similarity to its k most similar rows of S."""
    out = np.empty(len(C), dtype=np.float32)
    for i in range(0, len(C), chunk):
        sims = C[i : i + chunk] @ S.T
        if k < sims.shape[1]:
            sims = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        out[i : i + chunk] = sims.mean(axis=1)
    return out


def _table(rows: np.ndarray, sim: np.ndarray, ids) -> pd.DataFrame:
    data: dict[str, object] = {"row": rows.astype(np.int64)}
    if ids is not None:
        data["customer_id"] = np.asarray(ids, dtype=object)[rows]
    data["similarity"] = np.round(sim.astype(np.float64), 4)
    data["rank"] = np.arange(1, len(rows) + 1, dtype=np.int64)
    return pd.DataFrame(data)
