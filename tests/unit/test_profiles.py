"""Segment profiles on a small synthetic shop with four planted groups."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from core.profiles import (
    FILLER_WORDS,
    PLAYBOOK,
    Action,
    SegmentProfile,
    build_profiles,
    class_tfidf,
    compare_segments,
    profiles_from_dict,
    profiles_to_dict,
)

# group -> (size, planted review sentences)
GROUPS = {
    "S1": (
        180,
        [
            "Premium craftsmanship, worth every penny.",
            "Luxurious premium finish.",
            "Flawless craftsmanship as always.",
        ],
    ),
    "S2": (
        160,
        [
            "Used a coupon and a voucher, great deal.",
            "Coupon code saved me a lot.",
            "Waited for the voucher, cheap with the coupon.",
        ],
    ),
    "S3": (
        140,
        [
            "Meh, found it cheaper elsewhere.",
            "It was okay, meh.",
            "Not sure I will come back, elsewhere is better.",
        ],
    ),
    "S4": (
        120,
        [
            "Arrived broken, I want a refund.",
            "Broken again, refund requested.",
            "Still waiting for my refund for the broken one.",
        ],
    ),
}
NEUTRAL = [
    "The product arrived and the order was on time.",
    "I bought this item last week.",
    "It is what it is and I got it.",
]


def _shop(seed: int = 0, *, monetary: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows = []
    for g, (n, _) in GROUPS.items():
        base = dict(
            recency_days=rng.gamma(2, 15, n),
            frequency=rng.poisson(6, n) + 1.0,
            monetary=rng.lognormal(6, 0.4, n),
            avg_order_value=rng.lognormal(4, 0.3, n),
            tenure_days=rng.uniform(300, 700, n),
            discount_rate=rng.beta(1, 20, n),
            return_rate=rng.beta(1, 30, n),
            holiday_share=rng.beta(2, 10, n),
            avg_rating=np.clip(rng.normal(4.2, 0.5, n), 1, 5),
            low_rating_share=rng.beta(1, 15, n),
            review_count=rng.poisson(2, n) + 1.0,
            share_electronics=rng.beta(2, 8, n),
            share_books=rng.beta(2, 8, n),
            share_fashion=rng.beta(2, 8, n),
            share_grocery=rng.beta(2, 8, n),
        )
        if g == "S1":  # loyal high value, electronics
            base.update(
                monetary=rng.lognormal(8, 0.3, n),
                frequency=rng.poisson(20, n) + 1.0,
                recency_days=rng.gamma(2, 4, n),
                share_electronics=rng.beta(8, 2, n),
            )
        elif g == "S2":  # bargain hunters, grocery
            base.update(discount_rate=rng.beta(8, 12, n), share_grocery=rng.beta(8, 2, n))
        elif g == "S3":  # lapsing, books
            base.update(
                recency_days=rng.uniform(250, 400, n),
                share_books=rng.beta(8, 2, n),
                frequency=rng.poisson(2, n) + 1.0,
            )
        else:  # unhappy returners, fashion
            base.update(
                return_rate=rng.beta(8, 10, n),
                avg_rating=rng.uniform(1, 2.2, n),
                low_rating_share=rng.beta(8, 3, n),
                share_fashion=rng.beta(8, 2, n),
            )
        df = pd.DataFrame(base)
        df.insert(0, "segment", g)
        rows.append(df)
    seg = pd.concat(rows, ignore_index=True)
    seg.insert(0, "customer_id", [f"C{i:04d}" for i in range(len(seg))])
    seg["x"], seg["y"], seg["confidence"] = rng.normal(size=(3, len(seg)))
    if not monetary:
        seg = seg.drop(columns="monetary")
    reviews = []
    for cid, g in zip(seg["customer_id"], seg["segment"], strict=True):
        bank = GROUPS[g][1]
        for _ in range(2):
            text = f"{bank[rng.integers(len(bank))]} {NEUTRAL[rng.integers(len(NEUTRAL))]}"
            reviews.append((cid, text))
    return seg, pd.DataFrame(reviews, columns=["customer_id", "review_text"])


@pytest.fixture(scope="module")
def shop():
    return _shop()


@pytest.fixture(scope="module")
def profiles(shop):
    seg, reviews = shop
    return {p.segment: p for p in build_profiles(seg, reviews)}


def test_sizes_shares_and_revenue(shop, profiles):
    seg, reviews = shop
    ordered = build_profiles(seg, reviews)
    assert [p.segment for p in ordered] == ["S1", "S2", "S3", "S4"]  # size desc
    assert sum(p.size for p in ordered) == len(seg)
    assert math.isclose(sum(p.share for p in ordered), 1.0)
    assert math.isclose(sum(p.revenue_share for p in ordered), 1.0)
    assert math.isclose(profiles["S1"].revenue, seg.loc[seg.segment == "S1", "monetary"].sum())
    assert {"x", "y", "confidence", "customer_id", "segment"}.isdisjoint(profiles["S1"].means)
    assert profiles["S1"].means["frequency"] == pytest.approx(
        seg.loc[seg.segment == "S1", "frequency"].mean()
    )


def test_z_scores(profiles):
    assert profiles["S1"].z["monetary"] > 1
    assert profiles["S3"].z["recency_days"] > 1
    assert profiles["S4"].z["return_rate"] > 1
    assert profiles["S2"].z["discount_rate"] > 1
    assert profiles["S1"].top_categories[0][0] == "Electronics"
    assert profiles["S3"].top_categories[0][0] == "Books"
    assert len(profiles["S1"].top_categories) == 3


def test_class_tfidf_finds_planted_words(shop):
    seg, reviews = shop
    docs = (
        reviews.merge(seg[["customer_id", "segment"]]).groupby("segment")["review_text"].agg(list)
    )
    words = class_tfidf(docs.to_dict(), top_n=10)
    top = {g: [w for w, _ in words[g]] for g in GROUPS}

    def near_top(g, term, n=3):
        return any(term in w.split() for w in top[g][:n])

    assert near_top("S2", "coupon")
    assert near_top("S4", "refund") or near_top("S4", "broken")
    assert near_top("S1", "premium") or near_top("S1", "craftsmanship")
    assert near_top("S3", "meh") or near_top("S3", "elsewhere")
    stop = set(ENGLISH_STOP_WORDS) | FILLER_WORDS
    for g in GROUPS:
        assert 0 < len(words[g]) <= 10
        scores = [s for _, s in words[g]]
        assert scores == sorted(scores, reverse=True)
        for term in top[g]:
            assert not set(term.split()) & stop, term
    assert "coupon" not in " ".join(top["S4"])
    # a Series of texts indexed by segment gives the same answer
    as_series = reviews.merge(seg[["customer_id", "segment"]]).set_index("segment")["review_text"]
    assert class_tfidf(as_series)["S2"] == words["S2"]


def test_class_tfidf_small_and_empty():
    out = class_tfidf({"a": ["Lovely lovely gift wrap"], "b": ["Broken screen"], "c": []})
    assert [w for w, _ in out["a"]][:1] == ["lovely"]
    assert "broken" in [w for w, _ in out["b"]]
    assert out["c"] == []
    assert class_tfidf({"a": ["the and of"], "b": []}) == {"a": [], "b": []}
    assert class_tfidf({}) == {}


def test_traits_and_names(profiles):
    p1, p2, p3, p4 = (profiles[s] for s in ("S1", "S2", "S3", "S4"))
    assert "high spend" in p1.traits
    assert "lapsing" not in p1.traits
    assert "discount-driven" in p2.traits
    assert "lapsing" in p3.traits
    assert "high returns" in p4.traits and "unhappy reviews" in p4.traits
    names = [p.name for p in profiles.values()]
    assert len(set(names)) == len(names)
    assert any(w in p3.name.lower() for w in ("lapsing", "at risk", "at-risk", "churn"))
    assert any(w in p4.name.lower() for w in ("unhappy", "return", "dissatisfied"))
    assert any(w in p2.name.lower() for w in ("bargain", "deal", "discount"))
    assert any(w in p1.name.lower() for w in ("high-value", "vip", "spend", "loyal"))


def test_actions(profiles):
    for p in profiles.values():
        assert 2 <= len(p.actions) <= 4
        assert all(a.kind in PLAYBOOK and a.title and a.detail and a.why for a in p.actions)
    kinds = {s: [a.kind for a in p.actions] for s, p in profiles.items()}
    assert "risk_control" in kinds["S3"]
    assert "precision_marketing" in kinds["S3"]
    assert kinds["S4"][0] == "service_care"
    assert "risk_control" in kinds["S4"]
    assert "precision_marketing" in kinds["S2"]
    assert "personalised_recommendation" in kinds["S1"]
    assert "Books" in " ".join(a.detail for a in profiles["S3"].actions)  # top category named


def test_without_reviews_or_monetary():
    seg, _ = _shop(1, monetary=False)
    profs = build_profiles(seg, None)
    assert all(p.words == [] for p in profs)
    assert all(math.isnan(p.revenue) and math.isnan(p.revenue_share) for p in profs)
    assert math.isclose(sum(p.share for p in profs), 1.0)
    assert len({p.name for p in profs}) == len(profs)
    by = {p.segment: p for p in profs}
    assert "lapsing" in by["S3"].traits
    assert "frequent" in by["S1"].traits
    assert "monetary" not in by["S1"].z
    empty = pd.DataFrame({"customer_id": [], "review_text": []})
    assert all(p.words == [] for p in build_profiles(seg, empty))


def test_noise_last_named_labels_and_collisions(shop):
    seg, reviews = shop
    seg = seg.copy()
    # two copies of the bargain group with different favourite categories collide on the name
    s2 = seg.index[seg.segment == "S2"]
    seg.loc[s2[:80], "segment"] = "S5"
    seg.loc[s2[:80], ["share_grocery", "share_books"]] = seg.loc[
        s2[:80], ["share_books", "share_grocery"]
    ].to_numpy()
    seg.loc[seg.index[:20], "segment"] = "Noise"
    profs = build_profiles(seg, reviews)
    assert profs[-1].segment == "Noise"
    names = [p.name for p in profs]
    assert len(set(names)) == len(names)
    bargain = [p.name for p in profs if p.segment in ("S2", "S5")]
    assert all("argain" in n or "eal" in n for n in bargain)

    rfm = seg.assign(segment=np.where(seg.segment == "S3", "At risk", "Champions"))
    assert {p.name for p in build_profiles(rfm)} == {"At risk", "Champions"}


def test_custom_segment_column_and_labels(shop):
    seg, reviews = shop
    df = seg.rename(columns={"segment": "cluster"})
    profs = build_profiles(
        df, reviews, segment_col="cluster", category_labels={"share_electronics": "TV & Audio"}
    )
    assert {p.segment for p in profs} == set(GROUPS)
    p1 = next(p for p in profs if p.segment == "S1")
    assert p1.top_categories[0][0] == "TV & Audio"
    assert p1.units["monetary"] == "currency" and p1.units["share_books"] == "share"
    with pytest.raises(ValueError):
        build_profiles(seg, segment_col="nope")


def _hand(segment: str, means: dict, z: dict) -> SegmentProfile:
    return SegmentProfile(
        segment, 10, 0.5, float("nan"), float("nan"), means, z, [], [], [], segment, []
    )


def test_compare_segments_hand_example():
    a = _hand("A", {"f1": 10.0, "f2": 3.0, "f3": 1.0}, {"f1": 1.0, "f2": 0.5, "f3": -2.0})
    b = _hand("B", {"f1": 5.0, "f2": 3.0, "f3": 0.0}, {"f1": -0.5, "f2": 0.4, "f3": 1.0})
    t = compare_segments([a, b], "A", "B")
    assert list(t["feature"]) == ["f3", "f1", "f2"]
    assert t.set_index("feature").loc["f1", "ratio"] == pytest.approx(2.0)
    assert t.set_index("feature").loc["f2", "ratio"] == pytest.approx(1.0)
    assert math.isnan(t.set_index("feature").loc["f3", "ratio"])  # division by zero
    assert list(t["z_diff"]) == pytest.approx([-3.0, 1.5, 0.1])
    assert {"feature", "mean_a", "mean_b", "ratio", "z_diff"} <= set(t.columns)
    with pytest.raises(KeyError):
        compare_segments([a, b], "A", "C")


def test_compare_on_real_profiles(profiles):
    t = compare_segments(list(profiles.values()), "S1", "S3")
    diffs = t["z_diff"].abs().to_numpy()
    assert (np.diff(diffs) <= 1e-12).all()
    assert t["feature"].iloc[0] in (
        "recency_days",
        "monetary",
        "frequency",
        "share_books",
        "share_electronics",
    )


def test_json_round_trip(shop):
    seg, _ = _shop(2, monetary=False)
    for profs in (build_profiles(*shop), build_profiles(seg)):
        data = profiles_to_dict(profs)
        text = json.dumps(data, allow_nan=False)
        back = profiles_from_dict(json.loads(text))
        assert profiles_to_dict(back) == data
        assert all(isinstance(a, Action) for p in back for a in p.actions)
        assert all(isinstance(c, tuple) for p in back for c in p.top_categories + p.words)
        assert [p.name for p in back] == [p.name for p in profs]
