"""Engine text in 简体中文: explain_selection, largest_flows and campaign highlights with lang="zh".

English stays as it was (tests/unit/test_explain.py, test_migration.py, test_campaign.py); here
each module's sentences are checked in Chinese on a planted case: Chinese characters, the
planted numbers, and no English words left besides data values (categories, review words,
segment ids) and technical names.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from core.campaign import OVERALL, TOO_FEW, highlights, segment_label, uplift_table, verdict_label
from core.explain import explain_selection, feature_label
from core.migration import NEW, largest_flows, migration_table
from core.migration import segment_label as migration_label

CJK = re.compile(r"[\u4e00-\u9fff]")


def _english_left(text: str, allowed: set[str]) -> list[str]:
    """Latin words in `text` that are not data values or technical names."""
    return [w for w in re.findall(r"[A-Za-z]+", text) if w not in allowed]


# --------------------------------------------------------------------------- explain
def _planted_store() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """100 selected customers who spend $1,204 on average (the rest $376), order half as
    often, 71% of whom buy mostly Electronics (18% of the rest), and who write about gifts."""
    n = 100
    wobble = np.tile([-10.0, 10.0], n // 2)  # symmetric: the means are exact
    top_sel = np.arange(n) < 71
    top_rest = np.arange(n) < 18
    df = pd.DataFrame(
        {
            "customer_id": [f"s{i}" for i in range(n)] + [f"r{i}" for i in range(n)],
            "monetary": np.r_[1204 + wobble, 376 + wobble],
            "frequency": np.r_[2 + wobble / 20, 4 + wobble / 20],
            "share_electronics": np.r_[np.where(top_sel, 0.8, 0.2), np.where(top_rest, 0.8, 0.2)],
            "share_home": np.r_[np.where(top_sel, 0.2, 0.8), np.where(top_rest, 0.2, 0.8)],
        }
    )
    mask = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    reviews = pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "review_text": ["lovely gift wrapping"] * n + ["slow delivery again"] * n,
        }
    )
    return df, mask, reviews


LABELS = {"share_electronics": "Electronics", "share_home": "Home"}


def test_explain_selection_says_the_planted_differences_in_chinese():
    df, mask, reviews = _planted_store()
    why = explain_selection(df, mask, reviews, category_labels=LABELS, lang="zh")
    assert why.message is None
    s = why.sentences
    assert "消费是其他客户的 3.2 倍（平均 $1,204 对比 $376）" in s
    assert "71% 主要购买 Electronics，其他客户为 18%" in s
    assert "下单次数比其他客户少 50%（平均 2.0 对比 4.0）" in s
    words = next(x for x in s if x.startswith("评论常提到 "))
    assert "“gift”" in words and "、" in words and "delivery" not in words
    # "buys mostly Electronics" already says it: no sentence on the Electronics share.
    assert not any("Electronics 消费占比" in x or "在 Electronics 上" in x for x in s)
    assert "在 Home 上的消费占比，比其他客户低 46%（平均 37% 对比 69%）" in s
    data_words = {"Electronics", "Home", "gift", "wrapping", "lovely"}
    for sentence in s:
        assert CJK.search(sentence), sentence
        assert not _english_left(sentence, data_words), sentence
    # The ranked table's labels are Chinese too (categories stay as they are).
    labels = dict(zip(why.numeric["feature"], why.numeric["label"], strict=True))
    assert labels["monetary"] == "净消费" and labels["frequency"] == "订单数"
    assert labels["share_electronics"] == "Electronics 消费占比"


def test_explain_selection_english_is_unchanged_by_the_language_parameter():
    df, mask, reviews = _planted_store()
    en = explain_selection(df, mask, reviews, category_labels=LABELS)
    same = explain_selection(df, mask, reviews, category_labels=LABELS, lang="en")
    assert same.sentences == en.sentences
    assert "Spends 3.2× more than the rest (avg $1,204 vs $376)" in en.sentences
    assert "71% buy mostly Electronics vs 18% of the rest" in en.sentences
    assert feature_label("share_home", LABELS) == "Share of spend on Home"


def test_explain_selection_messages_and_other_sentences_in_chinese():
    df, _, _ = _planted_store()
    few = np.zeros(len(df), bool)
    few[:3] = True
    msg = explain_selection(df, few, lang="zh").message
    assert msg == "请至少选择 5 位客户，才能看出他们与其他客户的不同（当前选中 3 位）。"
    everyone = np.ones(len(df), bool)
    everyone[:2] = False
    msg = explain_selection(df, everyone, lang="zh").message
    assert CJK.search(msg) and not _english_left(msg, set())
    # Two halves of identical customers: nothing stands out.
    same = pd.DataFrame({"customer_id": [str(i) for i in range(20)], "monetary": [5.0, 7.0] * 10})
    half = np.arange(20) < 10
    (nothing,) = explain_selection(same, half, lang="zh").sentences
    assert nothing.startswith("没有突出之处")
    # An attribute column keeps its (technical) name and value; a generic feature its column.
    df = df.assign(
        region=["north"] * 90 + ["south"] * 110,
        custom_score=np.r_[[3.0] * 100, [1.0] * 100] + np.tile([0.1, -0.1], 100),
    )
    why = explain_selection(df, np.arange(200) < 100, categorical=["region"], lang="zh")
    assert "90% 的 region 为“north”，其他客户为 0%" in why.sentences
    assert any(x.startswith("custom_score 是其他客户的 3.0 倍") for x in why.sentences)


# -------------------------------------------------------------------------- migration
def _planted_flows(weights: bool = False) -> pd.DataFrame:
    """1,800 Loyal customers, 412 of whom fall to At risk; 300 new customers become Promising."""
    a = ["Loyal"] * 1800 + [NEW] * 300 + ["At risk"] * 200
    b = (
        ["At risk"] * 412
        + ["Loyal"] * 1388
        + ["Promising"] * 300
        + ["Lost"] * 50
        + ["At risk"] * 150
    )
    w = [10.0] * len(a) if weights else None
    return migration_table(a, b, weights=w)


def test_largest_flows_in_chinese_with_translated_tiers():
    flows = _planted_flows(weights=True)
    top = largest_flows(flows, 2, lang="zh")
    assert top == [
        "412 位客户：忠诚客户 → 流失风险（占 忠诚客户 的 23%）",
        "50 位客户：流失风险 → 已流失客户（占 流失风险 的 25%）",
    ]
    spend = largest_flows(flows, 1, by="revenue", lang="zh")
    assert spend == [
        "412 位客户：忠诚客户 → 流失风险（占 忠诚客户 的 23%；第一个日期前共消费 4,120）"
    ]
    with_new = largest_flows(flows, 3, include_new=True, lang="zh")
    assert "300 位客户：尚未成为客户 → 有潜力客户（占 尚未成为客户 的 100%）" in with_new
    # A run's own names win; English is as before.
    named = largest_flows(flows, 1, names={"Loyal": "VIP"}, lang="zh")
    assert named == ["412 位客户：VIP → 流失风险（占 VIP 的 23%）"]
    assert largest_flows(flows, 1) == ["412 Loyal → At risk (23% of Loyal)"]
    for sentence in top + spend + with_new:
        assert CJK.search(sentence) and not _english_left(sentence, set()), sentence


def test_segment_labels_translate_only_new_and_rfm_tiers():
    assert migration_label(NEW, "zh") == "尚未成为客户"
    assert migration_label("Can't lose them", "zh") == "不能失去的客户"
    assert migration_label("Segment 3", "zh") == "Segment 3"
    assert migration_label("Champions", "en") == "Champions"


# --------------------------------------------------------------------------- campaign
def _results(segment: str, n: int, treated_yes: int, control_yes: int) -> pd.DataFrame:
    group = ["treated"] * n + ["control"] * n
    responded = [True] * treated_yes + [False] * (n - treated_yes)
    responded += [True] * control_yes + [False] * (n - control_yes)
    return pd.DataFrame(
        {
            "customer_id": [f"{segment}{i}" for i in range(2 * n)],
            "group": group,
            "responded": responded,
            "revenue": 0.0,
            "segment": segment,
        }
    )


@pytest.fixture
def campaign_table() -> pd.DataFrame:
    """Bargain hunters clearly respond (50% vs 10%), Loyal clearly resent it (10% vs 30%),
    and Tiny has too few customers."""
    results = pd.concat(
        [
            _results("Bargain", 200, 100, 20),
            _results("Loyal", 200, 20, 60),
            _results("Tiny", 10, 5, 1),
        ],
        ignore_index=True,
    )
    return uplift_table(results, has_revenue=False)


def test_campaign_highlights_in_chinese(campaign_table):
    out = highlights(campaign_table, lang="zh")
    overall, best, worst, few = out
    assert overall.startswith("整体而言，实验组客户的响应率为 ")
    assert "pp = 百分点" in overall and "（95% 置信区间 " in overall and " 至 " in overall
    o = campaign_table[campaign_table["segment"] == OVERALL].iloc[0]
    assert f"{o['rate_treated']:.1%}，对照组为 {o['rate_control']:.1%}" in overall
    assert best == "最佳分群：**Bargain**，提升 +40.0 pp——区间高于零。"
    assert worst == (
        "最差分群：**Loyal**，提升 −20.0 pp：这次活动让这些客户反感，下次请把他们排除在外。"
    )
    assert few == "Tiny 的客户太少，无法判断（实验组或对照组不足 30 人）。"
    for sentence in out:
        assert CJK.search(sentence)
        assert not _english_left(sentence, {"Bargain", "Loyal", "Tiny", "pp"}), sentence
    # English is as before.
    en = highlights(campaign_table)
    assert en[1] == "Best segment: **Bargain**, uplift +40.0 pp — the interval is above zero."
    assert (
        en[3] == "Too few customers to tell for Tiny (fewer than 30 treated or control customers)."
    )


def test_campaign_verdicts_and_rows_are_translated_only_for_display(campaign_table):
    verdicts = set(campaign_table["verdict"])
    assert TOO_FEW in verdicts  # the stored data keeps the English verdicts
    shown = {verdict_label(v, "zh") for v in verdicts}
    assert "客户太少，无法判断" in shown and "触达后响应更多" in shown
    assert all(CJK.search(v) for v in shown)
    assert verdict_label(TOO_FEW, "en") == TOO_FEW
    assert verdict_label("something new", "zh") == "something new"
    assert segment_label(OVERALL, "zh") == "全部客户"
    assert segment_label("Not segmented", "zh") == "未分群"
    assert segment_label("Bargain", "zh") == "Bargain"
