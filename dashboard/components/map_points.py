"""Which customers the Explore map draws, and which customers a selection on it covers.

Every point drawn is shipped to the browser inside the figure's JSON (about 50 bytes each, plus
the browser's work to parse and draw it), so past some tens of thousands of customers the map
draws a sample: the same share of every segment (small segments keep a minimum so they stay
visible), chosen by a fixed seed so the same customers are drawn on every rerun — Streamlit
identifies the chart by its figure, and a different sample would be a new chart that loses the
user's selection.

A lasso or box drawn on a sampled map means the area, not the few points drawn in it: the
selection is every customer inside the drawn shapes, drawn or not (see `selected_mask`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

ENV_MAP_POINTS = "SEGSTUDIO_MAP_POINTS"
DEFAULT_MAP_POINTS = 20_000
ALL = 0  # a cap of 0 means every customer
CAP_OPTIONS = (5_000, 10_000, 20_000, 50_000, 100_000, ALL)
MIN_PER_SEGMENT = 200


def default_cap() -> int:
    """The default number of points: ``$SEGSTUDIO_MAP_POINTS`` (a number, or ``all``) or 20,000."""
    raw = os.environ.get(ENV_MAP_POINTS, "").strip().lower().replace(",", "").replace("_", "")
    if raw in ("all", "0"):
        return ALL
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_MAP_POINTS
    return value if value > 0 else DEFAULT_MAP_POINTS


def cap_options(default: int) -> list[int]:
    """The choices offered on the page (the default among them), smallest first, "all" last."""
    opts = sorted({*(o for o in CAP_OPTIONS if o != ALL), *([default] if default != ALL else [])})
    return [*opts, ALL]


def _allocate(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Points per group: in proportion to size, but at least a floor (≤ budget in all).

    Groups whose proportional share falls below the floor get the floor (or all their rows);
    the others share what is left in proportion to their sizes (largest remainders round up).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    out = np.zeros(len(sizes), np.int64)
    if budget <= 0 or not len(sizes) or sizes.sum() == 0:
        return out
    if sizes.sum() <= budget:
        return sizes.copy()
    nonempty = sizes > 0
    if nonempty.sum() > budget:  # more groups than points: one each for the largest groups
        out[np.argsort(-sizes, kind="stable")[:budget]] = 1
        return out
    floor = np.minimum(sizes, max(1, min(MIN_PER_SEGMENT, budget // (4 * int(nonempty.sum())))))
    fixed = ~nonempty
    while True:
        free = ~fixed
        if not free.any():  # cannot happen (floors add up to at most the budget); be safe
            return out
        left = budget - int(out[fixed].sum())
        quota = np.where(free, sizes * (left / sizes[free].sum()), 0.0)
        small = free & (quota < floor)
        if not small.any():
            break
        out[small] = floor[small]
        fixed |= small
    share = np.minimum(np.floor(quota).astype(np.int64), sizes)
    out[free] = share[free]
    short = budget - int(out.sum())
    remainder = np.where(free & (out < sizes), quota - share, -1.0)
    for i in np.argsort(-remainder, kind="stable")[: max(0, short)]:
        if remainder[i] >= 0:
            out[i] += 1
    return out


def sample_for_map(
    df: pd.DataFrame,
    cap: int,
    *,
    by: str = "segment",
    keep: Iterable[str] | None = None,
    id_col: str = "customer_id",
    seed: int = 0,
) -> pd.DataFrame:
    """At most `cap` rows of `df` (all of them when ``cap`` is 0 or ``len(df) <= cap``).

    Stratified by `by`: every group keeps the same share of its rows, except that a group whose
    share would fall below ``min(size, 200)`` rows keeps that many (fewer when many groups share
    a small budget), so no segment disappears from the map. Customers in `keep` are always included (even past the cap).
    The same inputs give the same rows, in `df`'s order.
    """
    n = len(df)
    if cap <= 0 or n <= cap:
        return df
    kept = df[id_col].isin(set(keep)).to_numpy() if keep is not None else np.zeros(n, dtype=bool)
    budget = max(0, cap - int(kept.sum()))
    groups = df[by].astype(str).where(df[by].notna(), "(missing)").to_numpy()
    codes, uniques = pd.factorize(groups[~kept], sort=True)
    alloc = _allocate(np.bincount(codes, minlength=len(uniques)), budget)
    # A random rank within each group; a group keeps its `alloc` lowest ranks.
    key = np.random.default_rng(seed).random(len(codes))
    order = np.lexsort((key, codes))
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(len(uniques)))
    rank = np.empty(len(codes), np.int64)
    rank[order] = np.arange(len(codes)) - starts[sorted_codes]
    take = np.zeros(n, dtype=bool)
    take[~kept] = rank < alloc[codes]
    return df[take | kept]


def points_in_polygon(x: np.ndarray, y: np.ndarray, px, py) -> np.ndarray:
    """Which points (x, y) lie inside the closed polygon (px, py): even-odd ray casting."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    px, py = np.asarray(px, float), np.asarray(py, float)
    inside = np.zeros(len(x), dtype=bool)
    if len(px) < 3:
        return inside
    j = len(px) - 1
    for i in range(len(px)):
        if py[i] != py[j]:
            crosses = ((py[i] > y) != (py[j] > y)) & (
                x < (px[j] - px[i]) * (y - py[i]) / (py[j] - py[i]) + px[i]
            )
            inside ^= crosses
        j = i
    return inside


def _area_mask(x: np.ndarray, y: np.ndarray, selection: Mapping[str, Any]) -> np.ndarray:
    mask = np.zeros(len(x), dtype=bool)
    for box in selection.get("box") or []:
        bx, by = box.get("x") or [], box.get("y") or []
        if len(bx) == 2 and len(by) == 2:
            mask |= (x >= min(bx)) & (x <= max(bx)) & (y >= min(by)) & (y <= max(by))
    for lasso in selection.get("lasso") or []:
        mask |= points_in_polygon(x, y, lasso.get("x") or [], lasso.get("y") or [])
    return mask


def selected_ids(selection: Mapping[str, Any] | None) -> list[str]:
    """Customer ids of the points plotly reports as selected (customdata[0])."""
    points = (selection or {}).get("points") or []
    return [p["customdata"][0] for p in points if p.get("customdata")]


def selected_mask(
    seg: pd.DataFrame,
    selection: Mapping[str, Any] | None,
    *,
    sampled: bool,
    colour: str | None = None,
    id_col: str = "customer_id",
) -> np.ndarray:
    """Which rows of `seg` (every customer) a map selection covers.

    When the map draws every customer this is exactly the points plotly selected. When it draws
    a sample, a lasso or box covers every customer inside the drawn shapes, drawn or not, plus any
    point clicked; with a categorical `colour`, only categories with a selected point count (a
    category hidden from the legend has no selectable points, and so selects nobody).
    """
    ids = set(selected_ids(selection))
    picked = seg[id_col].isin(ids).to_numpy()
    if not sampled or not selection:
        return picked
    area = _area_mask(seg["x"].to_numpy(float), seg["y"].to_numpy(float), selection)
    if not area.any():
        return picked
    if colour is not None and colour in seg:
        from dashboard.components.charts import is_categorical

        if is_categorical(seg[colour]):
            cats = seg[colour].astype(str)
            area &= cats.isin(set(cats[picked])).to_numpy()
    return area | picked
