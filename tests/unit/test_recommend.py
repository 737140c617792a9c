"""Recommendations: purchase matrix, logistic MF, time-split evaluation, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from core.recommend import (
    FACTORS_FILE,
    META_FILE,
    Interactions,
    Recommender,
    build_interactions,
    evaluate_time_split,
    hit_rate_and_recall,
    load_for_run,
    time_split,
    train_for_run,
)


def _orders(rows):
    """rows: (customer_id, product_id, date, quantity)."""
    df = pd.DataFrame(rows, columns=["customer_id", "product_id", "order_date", "quantity"])
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["amount"] = df["quantity"] * 10.0
    return df


def _planted(n_per_group=40, seed=0) -> Interactions:
    """Two groups: group A buys 3 of items 0-5, group B 3 of items 6-11; items 12-13 by nobody
    in particular (one random buyer each) so popularity alone cannot separate the groups."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for c in range(2 * n_per_group):
        base = 0 if c < n_per_group else 6
        for i in rng.choice(6, size=3, replace=False):
            rows.append(c)
            cols.append(base + int(i))
    rows += [0, n_per_group]
    cols += [12, 13]
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(2 * n_per_group, 14))
    return Interactions(
        m, [f"c{c:03d}" for c in range(2 * n_per_group)], [f"p{i:02d}" for i in range(14)]
    )


def test_returned_in_full_is_not_a_purchase_partial_return_is():
    inter = build_interactions(
        _orders(
            [
                ("a", "x", "2025-01-01", 2),
                ("a", "x", "2025-01-10", -2),  # fully returned
                ("a", "y", "2025-01-01", 3),
                ("a", "y", "2025-01-10", -1),  # partly returned: 2 kept
                ("b", "x", "2025-01-02", 1),
            ]
        )
    )
    m = pd.DataFrame(inter.matrix.toarray(), index=inter.customer_ids, columns=inter.item_ids)
    assert m.loc["a", "x"] == 0 and m.loc["a", "y"] == 2 and m.loc["b", "x"] == 1
    assert inter.binary.nnz == 2


def test_fit_recovers_planted_group_preferences_and_excludes_bought():
    inter = _planted()
    model = Recommender(factors=4, epochs=60, seed=0).fit(inter)
    recs = model.recommend(inter.customer_ids, n=3, exclude_bought=True)
    recs["group"] = np.where(recs["customer_id"] < "c040", "A", "B")
    item_no = recs["product_id"].str[1:].astype(int)
    own = np.where(recs["group"] == "A", item_no < 6, (item_no >= 6) & (item_no < 12))
    assert own.mean() == 1.0, recs[~own]  # every unbought own-group item ranks above the rest
    # excluded: nothing a customer already bought is recommended
    bought = set(zip(*inter.binary.nonzero(), strict=True))
    cidx = {c: i for i, c in enumerate(inter.customer_ids)}
    iidx = {p: i for i, p in enumerate(inter.item_ids)}
    assert not any(
        (cidx[c], iidx[p]) in bought for c, p in recs[["customer_id", "product_id"]].values
    )
    # not excluded: the top-3 are the customer's own (already bought, most likely) items
    incl = model.recommend(["c000"], n=3, exclude_bought=False)
    assert set(incl["product_id"]) == set(model.bought_items("c000")) - {"p12"}
    # scores are probabilities, ranked best first
    assert recs["score"].between(0, 1).all()
    assert (recs.groupby("customer_id")["score"].diff().dropna() <= 0).all()


def test_segment_top_items_and_lift():
    inter = _planted()
    model = Recommender(factors=4, epochs=60, seed=0).fit(inter)
    seg = pd.DataFrame({"customer_id": inter.customer_ids, "segment": ["A"] * 40 + ["B"] * 40})
    top = model.segment_top_items(seg, n=6, exclude_bought=False)
    a = top[top["segment"] == "A"]
    assert set(a["product_id"]) == {f"p{i:02d}" for i in range(6)}
    assert (a["lift"] > 1.8).all() and (a["members"] == 40).all()
    # buy rate is the share of members who bought it: p00 by exactly those who did
    bought_p00 = inter.binary[:40, 0].sum() / 40
    assert a.set_index("product_id").loc["p00", "buy_rate"] == pytest.approx(bought_p00)
    excl = model.segment_top_items(seg, n=3, exclude_bought=True)
    full = model.segment_top_items(seg, n=3, exclude_bought=False)
    assert (excl["score"].to_numpy() <= full["score"].to_numpy() + 1e-9).all()


def test_fit_is_deterministic_for_a_seed():
    inter = _planted()
    a = Recommender(factors=4, epochs=5, seed=1).fit(inter)
    b = Recommender(factors=4, epochs=5, seed=1).fit(inter)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert np.array_equal(a.scores(["c001"]), b.scores(["c001"]))


def test_hit_rate_and_recall_on_a_hand_built_example():
    top = np.array([[0, 1], [2, 3], [1, -1]])
    truth = sp.csr_matrix(
        np.array(
            [
                [0, 1, 0, 0, 0],  # c0 bought item 1: found at rank 2
                [1, 0, 0, 0, 0],  # c1 bought item 0: never found
                [0, 1, 0, 0, 1],  # c2 bought items 1 and 4: item 1 at rank 1
            ]
        )
    )
    hit, recall = hit_rate_and_recall(top, truth)
    assert hit.tolist() == pytest.approx([1 / 3, 2 / 3])
    assert recall.tolist() == pytest.approx([(0 + 0 + 0.5) / 3, (1 + 0 + 0.5) / 3])


def test_time_split_has_no_leakage():
    orders = _orders(
        [
            ("a", "x", "2025-01-05", 1),
            ("a", "x", "2025-03-05", 1),  # rebuy after the cutoff: not new
            ("a", "y", "2025-03-06", 1),  # new after the cutoff: a test item
            ("b", "x", "2025-01-06", 1),
            ("b", "z", "2025-03-01", 1),
            ("b", "z", "2025-03-20", -1),  # bought then returned after the cutoff: not a test item
            ("c", "y", "2025-03-07", 1),  # customer only after the cutoff: not a test customer
            ("d", "y", "2025-01-07", 2),
            ("d", "y", "2025-01-08", -2),  # returned before: buying again later is new
            ("d", "x", "2025-01-09", 1),
            ("d", "y", "2025-04-01", 1),
        ]
    )
    split = time_split(orders, "2025-02-01")
    assert split.lines_before == 5 and split.lines_after == 6
    assert sorted(map(tuple, split.test.values.tolist())) == [("a", "y"), ("d", "y")]
    # the training matrix holds only lines before the cutoff
    assert split.train.customer_ids == ["a", "b", "d"]
    assert split.train.matrix.sum() == 3  # a-x, b-x, d-x (d-y returned)
    # test purchases all happened on or after the cutoff
    merged = split.test.merge(orders, on=["customer_id", "product_id"])
    assert (merged.groupby(["customer_id", "product_id"])["order_date"].max() >= "2025-02-01").all()
    ev = evaluate_time_split(orders, "2025-02-01", n=1, params=dict(factors=2, epochs=3))
    assert ev.test_customers == 2 and ev.test_items == 2
    # a and d already have x, so with exclusion y is the only candidate: both methods hit
    assert ev.at(1)["popularity_hit_rate"] == 1.0 and ev.at(1)["model_hit_rate"] == 1.0


def test_model_beats_popularity_on_the_demo_store():
    from core.demo import generate_demo_store

    orders = generate_demo_store(1500, seed=3)["orders"]
    ev = evaluate_time_split(orders, n=10)
    m = ev.at(10)
    assert ev.test_customers > 300
    assert m["model_hit_rate"] > m["popularity_hit_rate"] + 0.05, m
    assert m["model_recall"] > m["popularity_recall"] + 0.03, m


def test_save_load_roundtrip_gives_identical_scores(tmp_path):
    inter = _planted()
    model = Recommender(factors=4, epochs=5, seed=0).fit(inter)
    model.save(tmp_path / "rec", extra={"note": "x"})
    assert (tmp_path / "rec" / FACTORS_FILE).exists() and (tmp_path / "rec" / META_FILE).exists()
    back = Recommender.load(tmp_path / "rec")
    assert np.array_equal(back.scores(inter.customer_ids), model.scores(inter.customer_ids))
    pd.testing.assert_frame_equal(
        back.recommend(["c003", "c050"], n=4), model.recommend(["c003", "c050"], n=4)
    )
    assert back.bought_items("c003") == model.bought_items("c003")
    assert back.params == model.params


def test_train_for_run_saves_under_the_run(tmp_path):
    from core.datasets import create_demo_dataset
    from core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    create_demo_dataset(ws, n_customers=300, seed=1)
    run = ws.create_run("demo", "segment", {})
    steps = []
    model, meta = train_for_run(
        ws, run.id, params=dict(epochs=5), progress=lambda m, f: steps.append(f)
    )
    assert steps[-1] == 1.0 and steps == sorted(steps)
    assert (run.path / "recommend" / FACTORS_FILE).exists()
    loaded, meta2 = load_for_run(ws, run.id)
    assert set(meta2["evaluation"]) == {"true", "false"}
    assert meta2["evaluation"]["true"]["test_customers"] > 0
    ids = loaded.customer_ids[:5]
    assert np.array_equal(loaded.scores(ids), model.scores(ids))
    assert load_for_run(ws, ws.create_run("demo", "segment", {}).id) is None


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="no orders table"):
        build_interactions(None)
    with pytest.raises(ValueError, match="'product_id'"):
        build_interactions(pd.DataFrame({"customer_id": ["a"], "amount": [1.0]}))
    only_returns = _orders([("a", "x", "2025-01-01", -1)])
    with pytest.raises(ValueError, match="no purchases to learn from"):
        Recommender().fit(build_interactions(only_returns))
    model = Recommender(factors=2, epochs=2).fit(_planted())
    with pytest.raises(ValueError, match="'nobody'"):
        model.recommend(["c000", "nobody"])
    with pytest.raises(ValueError, match="no order lines on or after"):
        time_split(_orders([("a", "x", "2025-01-01", 1)]), "2026-01-01")
    with pytest.raises(ValueError, match="not a date"):
        time_split(_orders([("a", "x", "2025-01-01", 1)]), "31/02/2024")
    with pytest.raises(ValueError, match="not fitted"):
        Recommender().recommend(["a"])
    with pytest.raises(ValueError, match="at least 1"):
        Recommender(factors=0)
