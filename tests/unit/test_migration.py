"""Segment migration: flow counts, call-outs, RFM thresholds fixed at the first date, re-applied runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.datasets import create_demo_dataset
from core.features import CATALOGUE, build_customer_features
from core.migration import (
    NEW,
    RFM_FEATURES,
    RFMThresholds,
    SegmentCentres,
    compute_migration,
    flow_customers,
    largest_flows,
    migration_table,
    rfm_segments,
)
from core.segment import rfm_tiers
from core.workspace import Workspace

LOW_RECENCY_TIERS = {
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
}  # exactly the r <= 2 tiers


def _labels():
    ids = [f"c{i}" for i in range(10)]
    a = pd.Series(["Loyal"] * 5 + ["At risk"] * 3 + [NEW] * 2, index=ids, dtype=object, name="a")
    b = pd.Series(
        ["Loyal", "Loyal", "At risk", "At risk", "Lost", "At risk", "Lost", "Lost", "Loyal", NEW],
        index=ids,
        dtype=object,
    )
    return a, b


def test_migration_table_counts_each_flow_exactly():
    a, b = _labels()
    flows = migration_table(a, b)
    got = {(r["from"], r["to"]): r["customers"] for _, r in flows.iterrows()}
    assert got == {
        ("Loyal", "Loyal"): 2,
        ("Loyal", "At risk"): 2,
        ("Loyal", "Lost"): 1,
        ("At risk", "At risk"): 1,
        ("At risk", "Lost"): 2,
        (NEW, "Loyal"): 1,
        (NEW, NEW): 1,
    }
    # Counts sum to the population; each source's flows sum to its size; shares sum to 1.
    assert flows["customers"].sum() == len(b)
    assert flows.groupby("from")["customers"].sum().to_dict() == a.value_counts().to_dict()
    assert np.allclose(flows.groupby("from")["share_of_from"].sum(), 1.0)
    loyal_at_risk = flows[(flows["from"] == "Loyal") & (flows["to"] == "At risk")]
    assert loyal_at_risk["share_of_from"].iloc[0] == pytest.approx(0.4)
    assert flows["from"].iloc[0] == NEW  # new customers first, then tiers best to worst


def test_migration_table_aligns_series_on_customer_id_and_rejects_gaps():
    a, b = _labels()
    shuffled = a.iloc[::-1]
    assert migration_table(shuffled, b).equals(migration_table(a, b))
    with pytest.raises(ValueError, match="no label at the first date"):
        migration_table(a.iloc[1:], b)
    with pytest.raises(ValueError, match="customer #3 has no segment at the second date"):
        migration_table(["x"] * 4, ["x", "x", "x", None])
    with pytest.raises(ValueError, match="4 labels at the first date, 3 at the second"):
        migration_table(["x"] * 4, ["x"] * 3)


def test_largest_flows_sentences_skip_stay_puts_and_new_customers():
    a, b = _labels()
    flows = migration_table(
        a, b, weights=pd.Series([100.0] * 5 + [1000.0] * 3 + [0, 0], index=a.index)
    )
    assert largest_flows(flows, 2) == [
        "2 Loyal → At risk (40% of Loyal)",
        "2 At risk → Lost (67% of At risk)",
    ]
    assert largest_flows(flows, 1, by="revenue") == [
        "2 At risk → Lost (67% of At risk; 2,000 spent before the first date)"
    ]
    assert any(s.startswith(f"1 {NEW} → Loyal") for s in largest_flows(flows, 10, include_new=True))
    assert all(NEW not in s for s in largest_flows(flows, 10))
    assert largest_flows(flows, 1, names={"Loyal": "Regulars"}) == [
        "2 Regulars → At risk (40% of Regulars)"
    ]
    with pytest.raises(ValueError, match="needs a flow table built with weights"):
        largest_flows(migration_table(a, b), by="revenue")


def test_fixed_thresholds_on_one_date_reproduce_rfm_tiers():
    rng = np.random.default_rng(0)
    n = 1000  # distinct values, n divisible by 5: rank quintiles and edges cut the same places
    feats = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency_days": rng.permutation(n).astype(float),
            "frequency": rng.permutation(n).astype(float) + 1,
            "monetary": rng.random(n) * 1000,
        }
    )
    ours = RFMThresholds.fit(feats).tiers(feats)
    theirs = rfm_tiers(feats)
    assert (ours[["r", "f", "m"]].to_numpy() == theirs[["r", "f", "m"]].to_numpy()).all()
    assert (ours["segment"] == theirs["segment"]).all()


def test_fixed_thresholds_reproduce_rfm_tiers_with_ties():
    # many one-order customers, shared days and round amounts: the same tie rules as rfm_scores
    rng = np.random.default_rng(3)
    n = 997
    freq = np.where(rng.random(n) < 0.65, 1.0, rng.integers(2, 6, n).astype(float))
    feats = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency_days": rng.integers(0, 60, n).astype(float),
            "frequency": freq,
            "monetary": freq * rng.choice([10.0, 20.0, 25.0, 40.0], n),
        }
    )
    ours = RFMThresholds.fit(feats).tiers(feats)
    theirs = rfm_tiers(feats)
    assert (ours[["r", "f", "m"]].to_numpy() == theirs[["r", "f", "m"]].to_numpy()).all()
    assert (ours["segment"] == theirs["segment"]).all()
    assert set(ours.loc[freq == 1, "f"]) == {1}


def test_fixed_thresholds_mean_a_customer_who_did_nothing_only_ages():
    # Customer x does nothing between the dates; everyone else buys a lot more. With thresholds
    # re-ranked at B, x would drop on F and M although nothing about x changed.
    ids = [f"c{i}" for i in range(10)] + ["x"]
    fa = pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": [5.0] * 11,
            "frequency": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 8],
            "monetary": [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100, 80],
        }
    )
    fb = fa.assign(recency_days=5.0, frequency=fa["frequency"] * 3, monetary=fa["monetary"] * 3)
    fb.loc[10, ["frequency", "monetary"]] = [8.0, 80.0]
    th = RFMThresholds.fit(fa)
    sa, sb = th.scores(fa).set_index("customer_id"), th.scores(fb).set_index("customer_id")
    assert sa.loc["x"].tolist() == sb.loc["x"].tolist() == [3, 4, 4]  # ties share a score
    a_fixed, b_fixed = rfm_segments(fa, fb)
    assert a_fixed["x"] == b_fixed["x"] == "Loyal"
    assert (sb.drop("x")["f"] >= sa.drop("x")["f"]).all()  # the others did move up
    a_rerank, b_rerank = rfm_segments(fa, fb, thresholds="per_cutoff")
    assert a_rerank["x"] != b_rerank["x"]


def test_customers_without_purchase_are_new_and_population_is_the_second_date():
    fa = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "recency_days": [3.0, 40.0, np.nan],  # c is known but has not bought yet
            "frequency": [5.0, 1.0, 0.0],
            "monetary": [500.0, 20.0, 0.0],
        }
    )
    fb = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],  # d bought after A; e signed up, no order
            "recency_days": [10.0, 200.0, 4.0, 2.0, np.nan],
            "frequency": [9.0, 1.0, 2.0, 1.0, 0.0],
            "monetary": [900.0, 20.0, 60.0, 30.0, 0.0],
        }
    )
    a, b = rfm_segments(fa, fb)
    assert list(a.index) == list(b.index) == ["a", "b", "c", "d", "e"]
    assert a[["c", "d", "e"]].tolist() == [NEW] * 3
    assert b["e"] == NEW and b["d"] != NEW
    assert migration_table(a, b)["customers"].sum() == 5


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    create_demo_dataset(ws, n_customers=800, seed=5)
    return ws


# The demo store ends on 2026-06-30; lapsing_churned customers buy nothing in the last 215+ days.
CUT_A, CUT_B = "2025-12-12", "2026-07-01"


def test_demo_flows_sum_to_population_and_sources(small_store):
    ws = small_store
    mig = compute_migration(ws, "demo", CUT_A, CUT_B)
    n_known_at_b = len(ws.load_table("demo", "customers"))  # every demo customer signed up by then
    assert mig.flows["customers"].sum() == len(mig.customers) == n_known_at_b
    sizes_a = mig.customers["segment_a"].value_counts()
    assert mig.flows.groupby("from")["customers"].sum().to_dict() == sizes_a.to_dict()
    assert mig.flows["revenue_at_a"].sum() == pytest.approx(mig.customers["monetary_a"].sum())
    first = mig.flows[mig.flows["from"] != mig.flows["to"]].iloc[0]
    moved = flow_customers(mig, first["from"], first["to"])
    assert len(moved) == first["customers"]
    with pytest.raises(ValueError, match="must be before the second"):
        compute_migration(ws, "demo", CUT_B, CUT_A)


def test_demo_lapsing_customers_move_into_low_recency_tiers(small_store):
    ws = small_store
    paths = ws.table_paths("demo")
    rfm = [f for f in CATALOGUE if f.name in RFM_FEATURES]
    fa = build_customer_features(paths, rfm, cutoff=CUT_A).data
    fb = build_customer_features(paths, rfm, cutoff=CUT_B).data
    persona = ws.load_table("demo", "customers").set_index("customer_id")["persona"]
    lapsing = persona.index[persona == "lapsing_churned"]
    th = RFMThresholds.fit(fa)
    ra = th.scores(fa).set_index("customer_id").loc[lapsing]
    rb = th.scores(fb).set_index("customer_id").loc[lapsing]
    # Planted: no purchase between the dates, so recency only grows and frequency stays put.
    assert (rb["r"] <= ra["r"]).all() and (rb["f"] == ra["f"]).all()
    assert (rb["r"] < ra["r"]).mean() > 0.5
    mig = compute_migration(ws, "demo", CUT_A, CUT_B).customers.set_index("customer_id")
    lap = mig.loc[lapsing]
    low_a = lap["segment_a"].isin(LOW_RECENCY_TIERS).mean()
    low_b = lap["segment_b"].isin(LOW_RECENCY_TIERS).mean()
    assert low_b >= 0.9 and low_b > low_a
    # Everyone else keeps buying: most of them are not in a low-recency tier at B.
    others = mig.loc[persona.index[persona != "lapsing_churned"]]
    assert others["segment_b"].isin(LOW_RECENCY_TIERS).mean() < 0.5


def test_numeric_run_reapplied_reproduces_its_kmeans_labels(small_store):
    from core.pipeline import SegmentationParams, load_segments, run_segmentation

    ws = small_store
    run = run_segmentation(
        ws, "demo", SegmentationParams(method="kmeans", k=4, use_text=False, projection=False)
    )
    seg = load_segments(ws, run.id)
    assert (SegmentCentres.fit(seg).assign(seg) == seg["segment"].to_numpy()).all()
    # At B = the day after the last order the features are the run's own: same labels.
    mig = compute_migration(ws, "demo", CUT_A, CUT_B, method="run", run_id=run.id)
    b = mig.customers.set_index("customer_id")["segment_b"]
    assert (b.loc[seg["customer_id"]].to_numpy() == seg["segment"].to_numpy()).all()
    assert mig.flows["customers"].sum() == len(seg)
    assert set(mig.customers["segment_a"]) <= {NEW, *set(seg["segment"])}


def test_text_runs_are_refused_with_a_reason(small_store):
    ws = small_store
    run = ws.create_run(
        "demo", "segment", {"method": "kmeans", "use_text": True, "text_weight": 0.5}
    )
    ws.update_run(run.id, status="done", summary={"notes": []})
    with pytest.raises(ValueError, match="used review text"):
        compute_migration(ws, "demo", CUT_A, CUT_B, method="run", run_id=run.id)
