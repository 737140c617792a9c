"""The Explore map's downsampling and the selection it maps back to every customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.components.map_points import (
    ALL,
    DEFAULT_MAP_POINTS,
    ENV_MAP_POINTS,
    MIN_PER_SEGMENT,
    _allocate,
    cap_options,
    default_cap,
    points_in_polygon,
    sample_for_map,
    selected_mask,
)


def _customers(sizes: dict[str, int], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seg = np.concatenate([[s] * n for s, n in sizes.items()])
    rng.shuffle(seg)
    n = len(seg)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in range(n)],
            "segment": seg,
            "x": rng.uniform(0, 10, n),
            "y": rng.uniform(0, 10, n),
            "monetary": rng.gamma(2, 50, n),
        }
    )


SIZES = {"S1": 30_000, "S2": 12_000, "S3": 5_000, "S4": 60, "Noise": 7}


def test_sample_keeps_every_segment_under_the_cap():
    df = _customers(SIZES)
    out = sample_for_map(df, 5_000)
    assert len(out) <= 5_000 and len(out) >= 4_990
    counts = out["segment"].value_counts()
    assert set(counts.index) == set(SIZES)  # no segment disappears
    assert counts["Noise"] == 7 and counts["S4"] == 60  # small ones are kept whole
    # Large segments keep the same share of their customers.
    shares = counts[["S1", "S2", "S3"]] / pd.Series(SIZES)[["S1", "S2", "S3"]]
    assert shares.max() - shares.min() < 0.01
    assert out["customer_id"].is_unique and out.index.is_monotonic_increasing


def test_sample_small_segments_keep_a_floor():
    df = _customers({"big": 50_000, "small": 1_000})
    out = sample_for_map(df, 2_000)
    counts = out["segment"].value_counts()
    # Proportionally "small" would get ~39 points; the floor keeps it visible.
    assert counts["small"] >= min(MIN_PER_SEGMENT, 2_000 // 8)
    assert len(out) == 2_000


def test_sample_is_deterministic_and_independent_of_other_columns():
    df = _customers(SIZES)
    a = sample_for_map(df, 3_000)
    b = sample_for_map(df.assign(colour=np.arange(len(df)) % 7), 3_000)
    assert a["customer_id"].tolist() == b["customer_id"].tolist()
    c = sample_for_map(df, 3_000, seed=1)
    assert a["customer_id"].tolist() != c["customer_id"].tolist()


def test_sample_always_includes_kept_customers():
    df = _customers(SIZES)
    keep = df["customer_id"].sample(300, random_state=4).tolist()
    out = sample_for_map(df, 1_000, keep=keep)
    assert set(keep) <= set(out["customer_id"])
    assert len(out) <= 1_000
    assert set(out["segment"]) == set(SIZES)
    # More kept customers than the cap: they are all there anyway.
    many = df["customer_id"].iloc[:1_500].tolist()
    out = sample_for_map(df, 1_000, keep=many)
    assert set(many) <= set(out["customer_id"]) and len(out) == 1_500


def test_no_sampling_when_small_or_all():
    df = _customers({"S1": 100, "S2": 50})
    assert sample_for_map(df, 1_000) is df
    assert sample_for_map(df, ALL) is df


def test_missing_segment_is_a_group():
    df = _customers({"S1": 5_000, "S2": 5_000})
    df.loc[df.index[:50], "segment"] = None
    out = sample_for_map(df, 1_000)
    assert out["segment"].isna().sum() > 0 and len(out) == 1_000


@pytest.mark.parametrize(
    "sizes,budget",
    [([10, 0, 5], 8), ([1000, 1, 1, 1], 10), ([5, 5, 5, 5, 5], 3), ([100, 200], 300), ([7], 0)],
)
def test_allocate_respects_budget_and_sizes(sizes, budget):
    alloc = _allocate(np.array(sizes), budget)
    assert alloc.sum() == min(budget, sum(sizes))
    assert (alloc <= np.array(sizes)).all() and (alloc >= 0).all()
    if budget >= sum(s > 0 for s in sizes):
        assert ((alloc > 0) == (np.array(sizes) > 0)).all()


def test_default_cap_from_environment(monkeypatch):
    monkeypatch.delenv(ENV_MAP_POINTS, raising=False)
    assert default_cap() == DEFAULT_MAP_POINTS
    for raw, want in [("all", ALL), ("0", ALL), ("1_500", 1500), ("nope", DEFAULT_MAP_POINTS)]:
        monkeypatch.setenv(ENV_MAP_POINTS, raw)
        assert default_cap() == want
    assert cap_options(1500)[0] == 1500 and cap_options(1500)[-1] == ALL
    assert cap_options(ALL).count(ALL) == 1


def test_points_in_polygon():
    x = np.array([0.5, 1.5, 0.5, 0.99, -0.1])
    y = np.array([0.5, 0.5, 1.5, 0.01, 0.5])
    square = ([0, 1, 1, 0], [0, 0, 1, 1])
    assert points_in_polygon(x, y, *square).tolist() == [True, False, False, True, False]
    assert not points_in_polygon(x, y, [0, 1], [0, 1]).any()  # not a polygon


def _event(df: pd.DataFrame, ids, lasso=None, box=None) -> dict:
    pts = df.set_index("customer_id").loc[list(ids)]
    return {
        "points": [
            {"x": r.x, "y": r.y, "customdata": [cid, r.segment]} for cid, r in pts.iterrows()
        ],
        "point_indices": list(range(len(pts))),
        "box": box or [],
        "lasso": lasso or [],
    }


def test_selection_on_a_full_map_is_the_selected_points():
    df = _customers({"S1": 300, "S2": 200})
    ids = df["customer_id"].iloc[[3, 10, 50]]
    lasso = [{"xref": "x", "yref": "y", "x": [0, 10, 10, 0], "y": [0, 0, 10, 10]}]
    mask = selected_mask(df, _event(df, ids, lasso=lasso), sampled=False, colour="segment")
    assert set(df.loc[mask, "customer_id"]) == set(ids)


def test_selection_on_a_sampled_map_covers_every_customer_in_the_area():
    df = _customers({"S1": 6_000, "S2": 4_000})
    shown = sample_for_map(df, 1_000)
    poly_x, poly_y = [2, 7, 7, 2], [2, 2, 6, 6]
    in_area = points_in_polygon(shown["x"], shown["y"], poly_x, poly_y)
    lasso = [{"xref": "x", "yref": "y", "x": poly_x, "y": poly_y}]
    event = _event(df, shown.loc[in_area, "customer_id"], lasso=lasso)
    mask = selected_mask(df, event, sampled=True, colour="segment")
    expected = (df["x"].between(2, 7)) & (df["y"].between(2, 6))
    assert mask.sum() > in_area.sum() * 5  # far more customers than drawn points
    assert (mask == expected.to_numpy()).all()

    # A box plus a clicked point outside it.
    box = [{"xref": "x", "yref": "y", "x": [8, 9], "y": [1, 0]}]
    shown_in_box = shown[shown["x"].between(8, 9) & shown["y"].between(0, 1)]
    outside = shown[~shown["x"].between(2, 9)]["customer_id"].iloc[:1]
    event = _event(df, [*shown_in_box["customer_id"], *outside], box=box)
    mask = selected_mask(df, event, sampled=True, colour="monetary")
    expected = (df["x"].between(8, 9) & df["y"].between(0, 1)) | df["customer_id"].isin(outside)
    assert (mask == expected.to_numpy()).all()


def test_selection_ignores_categories_without_a_selected_point():
    # S2 hidden from the legend: plotly selects none of its points, so neither do we.
    df = _customers({"S1": 6_000, "S2": 4_000})
    shown = sample_for_map(df, 1_000)
    lasso = [{"xref": "x", "yref": "y", "x": [0, 10, 10, 0], "y": [0, 0, 10, 10]}]
    ids = shown.loc[shown["segment"] == "S1", "customer_id"]
    mask = selected_mask(df, _event(df, ids, lasso=lasso), sampled=True, colour="segment")
    assert set(df.loc[mask, "segment"]) == {"S1"} and mask.sum() == 6_000


def test_no_selection():
    df = _customers({"S1": 100})
    assert not selected_mask(df, None, sampled=True).any()
    empty = {"points": [], "point_indices": [], "box": [], "lasso": []}
    assert not selected_mask(df, empty, sampled=True, colour="segment").any()
