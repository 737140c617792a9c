"""Explaining a selection: the planted differences of the demo store come out in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.explain import explain_selection

ATTRS = ["region", "age_band", "gender", "channel"]
# The bargain_hunter persona's review phrase bank (core/demo.py) is about these.
DEAL_WORDS = {"deal", "coupon", "discount", "discounted", "sale", "bargain", "price", "voucher"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Features, customer attributes (with the planted persona) and reviews of a small store."""
    from core.datasets import compute_dataset_features, create_demo_dataset
    from core.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("ws"))
    create_demo_dataset(ws, n_customers=1200, seed=5)
    features = compute_dataset_features(ws, "demo").data
    customers = ws.load_table("demo", "customers")
    df = features.merge(customers[["customer_id", *ATTRS, "persona"]], on="customer_id")
    return df, ws.load_table("demo", "reviews")


def test_bargain_hunters_are_explained_by_discounts_and_deal_words(demo):
    df, reviews = demo
    mask = (df["persona"] == "bargain_hunter").to_numpy()
    ex = explain_selection(df, mask, reviews, categorical=ATTRS)
    assert ex.message is None and ex.n_selected == mask.sum()
    assert ex.numeric.iloc[0]["feature"] == "discount_rate"
    assert ex.numeric.iloc[0]["effect_size"] > 2
    assert "discount" in ex.sentences[0].lower() and "more" in ex.sentences[0]
    top_words = {w for term, _ in ex.words[:6] for w in term.split()}
    assert len(top_words & DEAL_WORDS) >= 3, ex.words
    assert ex.sentences[-1].startswith("Reviews mention")
    assert any(w in ex.sentences[-1] for w in DEAL_WORDS)


def test_loyal_high_value_customers_spend_more(demo):
    df, reviews = demo
    mask = (df["persona"] == "loyal_high_value").to_numpy()
    ex = explain_selection(df, mask, reviews, categorical=ATTRS)
    spend = ex.numeric.set_index("feature").loc["monetary"]
    assert spend["ratio"] > 3 and spend["effect_size"] > 1.5
    said = [s for s in ex.sentences if s.startswith("Spends ") and "× more than the rest" in s]
    assert said, ex.sentences
    assert "(avg $" in said[0]
    assert {"quality", "premium"} & {t for term, _ in ex.words for t in term.split()}


def test_over_represented_attribute_and_favourite_category_are_said():
    rng = np.random.default_rng(0)
    n = 200
    sel = np.arange(n) < 50
    elec = np.where(sel, rng.uniform(0.6, 0.9, n), rng.uniform(0.0, 0.3, n))
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "monetary": rng.gamma(2.0, 100.0, n),
            "share_electronics": elec,
            "share_grocery": 1 - elec,
            "region": np.where(sel, "North", np.where(np.arange(n) % 10 == 0, "North", "South")),
        }
    )
    ex = explain_selection(df, sel, categorical=["region"])
    cat = ex.categorical.set_index(["column", "value"])
    assert cat.loc[("region", "North"), "selection_share"] == 1.0
    assert cat.loc[("top_category", "Electronics"), "lift"] > 3
    text = "\n".join(ex.sentences)
    assert "100% buy mostly Electronics vs 0% of the rest" in text
    assert "100% have region 'North' vs 10% of the rest" in text
    # The favourite-category sentence already says what "spends more on Electronics" would.
    assert "budget on Electronics" not in text


def test_effect_size_is_cohens_d_and_ranks_the_features():
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(12)],
            "frequency": [10.0, 12, 11, 13, 9, 11, 5, 6, 4, 5, 6, 4],
            "monetary": [100.0, 90, 110, 95, 105, 100, 98, 102, 100, 97, 103, 100],
        }
    )
    sel = np.arange(12) < 6
    ex = explain_selection(df, sel)
    top = ex.numeric.iloc[0]
    assert top["feature"] == "frequency"
    a, b = df["frequency"][sel], df["frequency"][~sel]
    pooled = np.sqrt((a.var() * 5 + b.var() * 5) / 10)
    assert top["effect_size"] == pytest.approx((a.mean() - b.mean()) / pooled)
    assert top["ratio"] == pytest.approx(a.mean() / b.mean())
    assert ex.sentences[0].startswith("Orders 2.2× more often than the rest")


def test_tiny_selection_and_everyone_selected_get_a_message_not_statistics():
    df = pd.DataFrame({"customer_id": [f"c{i}" for i in range(40)], "monetary": range(40)})
    tiny = explain_selection(df, np.arange(40) < 3)
    assert tiny.message and "at least 5" in tiny.message and not tiny.sentences
    assert tiny.numeric.empty
    everyone = explain_selection(df, np.arange(40) < 38)
    assert everyone.message and "every customer" in everyone.message


def test_nothing_stands_out_is_said_when_the_groups_are_alike():
    df = pd.DataFrame({"customer_id": [f"c{i}" for i in range(20)], "frequency": [3.0] * 20})
    ex = explain_selection(df, np.arange(20) < 10)
    assert ex.sentences == [
        "Nothing stands out: these customers look like the rest on every measure."
    ]


def test_bad_mask_or_columns_are_refused():
    df = pd.DataFrame({"customer_id": ["a", "b"], "monetary": [1.0, 2.0]})
    with pytest.raises(ValueError, match="3 values for 2 customers"):
        explain_selection(df, np.array([True, False, True]))
    with pytest.raises(ValueError, match="booleans"):
        explain_selection(df, np.array([1, 0]))
    with pytest.raises(ValueError, match="'region'"):
        explain_selection(
            pd.concat([df] * 10, ignore_index=True), np.arange(20) < 10, categorical=["region"]
        )
