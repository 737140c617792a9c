"""Segment profiles in 简体中文: names, trait labels and playbook written by the engine."""

from __future__ import annotations

import json
import re
import string

import numpy as np
import pandas as pd
import pytest

from core.locale import LANGS, phrase
from core.profiles import (
    _TEXT,
    PLAYBOOK,
    SegmentProfile,
    _actions,
    _Trait,
    _unique_names,
    build_profiles,
    playbook_label,
    profiles_from_dict,
    profiles_to_dict,
    theme_label,
    trait_label,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# group -> (size, planted reviews, favourite category)
GROUPS = {
    "S1": (120, ["Premium craftsmanship, worth every penny.", "Flawless premium finish."]),
    "S2": (100, ["Coupon and voucher, great deal.", "Waited for the coupon code."]),
    "S3": (90, ["Meh, cheaper elsewhere.", "It was okay, meh."]),
    "S4": (80, ["Arrived broken, I want a refund.", "Broken again, refund requested."]),
}


def _shop(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    parts = []
    for g, (n, _) in GROUPS.items():
        cols = dict(
            recency_days=rng.gamma(2, 15, n),
            frequency=rng.poisson(6, n) + 1.0,
            monetary=rng.lognormal(6, 0.4, n),
            tenure_days=rng.uniform(300, 700, n),
            discount_rate=rng.beta(1, 20, n),
            return_rate=rng.beta(1, 30, n),
            avg_rating=np.clip(rng.normal(4.2, 0.5, n), 1, 5),
            low_rating_share=rng.beta(1, 15, n),
            share_electronics=rng.beta(2, 8, n),
            share_books=rng.beta(2, 8, n),
            share_fashion=rng.beta(2, 8, n),
            share_grocery=rng.beta(2, 8, n),
        )
        if g == "S1":  # loyal high value
            cols.update(
                monetary=rng.lognormal(8, 0.3, n),
                frequency=rng.poisson(20, n) + 1.0,
                recency_days=rng.gamma(2, 4, n),
                share_electronics=rng.beta(8, 2, n),
            )
        elif g == "S2":  # bargain hunters
            cols.update(discount_rate=rng.beta(8, 12, n), share_grocery=rng.beta(8, 2, n))
        elif g == "S3":  # lapsing book readers
            cols.update(
                recency_days=rng.uniform(250, 400, n),
                frequency=rng.poisson(2, n) + 1.0,
                share_books=rng.beta(8, 2, n),
            )
        else:  # unhappy returners
            cols.update(
                return_rate=rng.beta(8, 10, n),
                avg_rating=rng.uniform(1, 2.2, n),
                low_rating_share=rng.beta(8, 3, n),
                share_fashion=rng.beta(8, 2, n),
            )
        df = pd.DataFrame(cols)
        df.insert(0, "segment", g)
        parts.append(df)
    seg = pd.concat(parts, ignore_index=True)
    seg.insert(0, "customer_id", [f"C{i:04d}" for i in range(len(seg))])
    reviews = [
        (cid, GROUPS[g][1][i % 2])
        for i, (cid, g) in enumerate(zip(seg["customer_id"], seg["segment"], strict=True))
    ]
    return seg, pd.DataFrame(reviews, columns=["customer_id", "review_text"])


@pytest.fixture(scope="module")
def shop():
    return _shop()


@pytest.fixture(scope="module")
def both(shop):
    seg, reviews = shop
    en = {p.segment: p for p in build_profiles(seg, reviews)}
    zh = {p.segment: p for p in build_profiles(seg, reviews, lang="zh")}
    return en, zh


def _leftover_latin(text: str, p: SegmentProfile) -> set[str]:
    """Latin words in `text` that are not data values (categories, review words) or 'VIP'."""
    allowed = {"VIP"}
    for c, _ in p.top_categories:
        allowed |= set(LATIN_WORD.findall(c))
    for w, _ in p.words:
        allowed |= set(LATIN_WORD.findall(w))
    return set(LATIN_WORD.findall(text)) - allowed


def test_chinese_names_for_the_planted_groups(both):
    _, zh = both
    assert zh["S1"].name == "高价值忠实客户"
    assert zh["S2"].name == "优惠猎手"
    assert zh["S3"].name == "流失中的客户"
    assert zh["S4"].name == "不满意的退货客户"


def test_chinese_playbook_is_chinese_with_data_values_kept(both):
    en, zh = both
    for s, p in zh.items():
        assert 2 <= len(p.actions) <= 4
        for a in p.actions:
            for text in (a.title, a.detail, a.why):
                assert CJK.search(text), text
                assert not _leftover_latin(text, p), (text, _leftover_latin(text, p))
        # same playbook, other language: kinds (the machine keys) do not change
        assert [a.kind for a in p.actions] == [a.kind for a in en[s].actions]
    s3 = " ".join(a.detail for a in zh["S3"].actions)
    assert "“Books”品类" in s3 and "85 折" in s3  # the top category, quoted; a 15% voucher
    assert [a.why for a in zh["S3"].actions] == ["正在流失", "正在流失"]
    s4 = next(a.detail for a in zh["S4"].actions if a.kind == "service_care")
    assert re.search(r"（评论提到：“(refund|broken)[^”]*”(、“[^”]+”)*）", s4), s4
    assert "“Fashion”品类" in s4
    s1 = " ".join(a.title + a.detail for a in zh["S1"].actions)
    assert "VIP 服务" in s1 and "“Electronics”品类" in s1


def test_statistics_and_tags_do_not_depend_on_the_language(both):
    en, zh = both
    for s in en:
        a, b = en[s], zh[s]
        assert (a.size, a.share, a.revenue, a.means, a.z) == (
            b.size,
            b.share,
            b.revenue,
            b.means,
            b.z,
        )
        assert a.top_categories == b.top_categories and a.words == b.words
        assert a.traits == b.traits  # English tags in both; shown through trait_label
    assert "high spend" in zh["S1"].traits and "lapsing" in zh["S3"].traits


def test_english_is_unchanged(shop, both):
    seg, reviews = shop
    en, _ = both
    assert profiles_to_dict(build_profiles(seg, reviews, lang="en")) == profiles_to_dict(
        list(en.values())
    )
    assert en["S3"].name == "Lapsing customers"
    win_back = next(a for a in en["S3"].actions if a.title == "Win-back campaign")
    assert win_back.detail == (
        "Win-back email with a time-limited 15% voucher on their top category (Books), "
        "plus a short survey on why they stopped buying."
    )
    assert win_back.why == "lapsing"
    assert all(not CJK.search(a.title + a.detail + a.why) for p in en.values() for a in p.actions)


def test_labels_for_tags_kinds_and_themes():
    assert trait_label("high spend") == "high spend"
    assert trait_label("high spend", "zh") == "高消费"
    assert trait_label("gift / seasonal", "zh") == "送礼 / 节日"
    assert trait_label("made up tag", "zh") == "made up tag"  # unknown tags shown as they are
    assert [playbook_label(k) for k in PLAYBOOK] == list(PLAYBOOK.values())
    assert playbook_label("risk_control", "zh") == "风险控制"
    assert theme_label("eco") == "Eco-minded" and theme_label("eco", "zh") == "环保型"
    with pytest.raises(KeyError):
        playbook_label("nope", "zh")
    with pytest.raises(ValueError, match="lang must be one of en, zh, not 'fr'"):
        trait_label("new", "fr")


def test_unknown_language_is_refused(shop):
    seg, reviews = shop
    with pytest.raises(ValueError, match="'de'"):
        build_profiles(seg, reviews, lang="de")


def test_chinese_noise_and_colliding_names(shop):
    seg, reviews = shop
    seg = seg.copy()
    s2 = seg.index[seg.segment == "S2"]
    seg.loc[s2[:50], "segment"] = "S5"  # a second bargain group, books instead of grocery
    seg.loc[s2[:50], ["share_grocery", "share_books"]] = seg.loc[
        s2[:50], ["share_books", "share_grocery"]
    ].to_numpy()
    seg.loc[seg.index[:15], "segment"] = "Noise"
    profs = build_profiles(seg, reviews, lang="zh")
    assert profs[-1].name == "未归类（噪声）"
    names = [p.name for p in profs]
    assert len(set(names)) == len(names)
    bargain = sorted(p.name for p in profs if p.segment in ("S2", "S5"))
    assert bargain == ["优惠猎手 · Books", "优惠猎手 · Grocery"]
    rfm = seg.assign(segment=np.where(seg.segment == "S3", "At risk", "Champions"))
    assert {p.name for p in build_profiles(rfm, lang="zh")} == {"At risk", "Champions"}


def _blank(segment: str, name: str, cats=()) -> SegmentProfile:
    nan = float("nan")
    return SegmentProfile(segment, 1, nan, nan, nan, {}, {}, list(cats), [], [], name, [])


def test_chinese_unique_name_strategies():
    # theme adjective first, without repeating what the name already says
    profs = [_blank("3", "稳定常客"), _blank("5", "稳定常客")]
    _unique_names(profs, {"3": "eco", "5": "tech"}, "zh")
    assert [p.name for p in profs] == ["环保型稳定常客", "科技型稳定常客"]
    profs = [_blank("3", "送礼客户"), _blank("5", "送礼客户")]
    _unique_names(profs, {"3": "gift", "5": None}, "zh")
    assert [p.name for p in profs] == ["送礼客户（3）", "送礼客户（5）"]
    profs = [_blank("3", "Steady regulars"), _blank("5", "Steady regulars")]
    _unique_names(profs, {"3": "eco", "5": "tech"})
    assert [p.name for p in profs] == ["Eco-minded steady regulars", "Tech-savvy steady regulars"]


def test_chinese_actions_without_a_category_or_traits():
    acts = _actions([], None, None, [], "zh")
    assert [a.title for a in acts] == ["个性化推荐", "新品上架"]
    assert acts[1].detail == "向他们介绍他们最常买的品类的新品。"
    assert all(a.why == "没有突出特征：加深客户关系" for a in acts)
    acts = _actions([_Trait("high spend", 2.0), _Trait("lapsing", 1.5)], None, "Toys", [], "zh")
    assert acts[0].title == "高价值客户挽留预警" and acts[0].why == "高消费、正在流失"
    assert "1.5 倍" in acts[0].detail


def test_every_phrase_is_translated_with_the_same_placeholders():
    en, zh = _TEXT["en"], _TEXT["zh"]
    assert set(en) == set(zh)
    fields = string.Formatter()
    for key in en:
        names = {f for _, f, _, _ in fields.parse(en[key]) if f}
        assert names == {f for _, f, _, _ in fields.parse(zh[key]) if f}, key
    assert LANGS == ("en", "zh")
    assert phrase(_TEXT, "zh", "name.noise") == "未归类（噪声）"
    assert phrase({"en": {"a": "x {n}"}, "zh": {}}, "zh", "a", n=3) == "x 3"  # English fallback
    with pytest.raises(KeyError):
        phrase(_TEXT, "zh", "no.such.key")


def test_chinese_profiles_survive_json(both):
    _, zh = both
    data = profiles_to_dict(list(zh.values()))
    text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    back = profiles_from_dict(json.loads(text))
    assert [p.name for p in back] == [p.name for p in zh.values()]
    assert profiles_to_dict(back) == data
