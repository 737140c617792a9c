"""Segment profiles: what each segment looks like, what it says, what to call it, what to do.

:func:`build_profiles` turns a segmentation (one row per customer: ``customer_id``, ``segment``
and the numeric features) plus optional review text into one :class:`SegmentProfile` per
segment:

* size, share of customers, revenue (net spend, the ``monetary`` feature) and revenue share;
* raw feature means and standardised means (z: how far the segment's mean is from the
  overall mean, in overall standard deviations — the radar chart);
* top categories (from the ``share_<category>`` features);
* distinctive review words from a class-based TF-IDF (:func:`class_tfidf`, BERTopic style);
* trait tags ("high spend", "lapsing", "discount-driven", ...), an automatic name and a
  playbook of recommended actions.

A trait needs two things. Relative: the segment's mean is well above (or below) the overall
mean (z) *and* its customers sit mostly above (below) the population median (mean percentile
rank), so one shop's currency or a few extreme spenders do not decide it. Absolute: the
segment's own numbers say what the word claims (:class:`SegmentFacts` — "new" needs a median
tenure of at most 90 days, "lapsing" a median recency past the shop's purchase rhythm,
"frequent" repeat orders, "gift / seasonal" most of the spend in November–December, ...), so a
segment is never called new, regular or seasonal only because the others are more so. A name
claims no more than its traits and facts hold; a table without orders gets names from its own
attributes, never from purchase behaviour.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from core.locale import LANGS, phrase
from core.tokenise import (
    DEFAULT_STOP_WORDS,
    FILLER_WORDS,  # noqa: F401 - re-exported; the list lives there
    analyser,
    join_terms,
)

NOISE_LABEL = "Noise"
NON_FEATURE_COLUMNS = frozenset({"customer_id", "segment", "x", "y", "confidence"})

PLAYBOOK: dict[str, str] = {
    "personalised_recommendation": "Personalised recommendation",
    "precision_marketing": "Precision marketing",
    "service_care": "Service care",
    "risk_control": "Risk control",
    "new_product_promotion": "New-product promotion",
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ------------------------------------------------------------------------------- model
@dataclass
class Action:
    kind: str  # a PLAYBOOK key
    title: str
    detail: str
    why: str  # the trait that triggered it

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SegmentProfile:
    segment: str
    size: int
    share: float
    revenue: float
    revenue_share: float
    means: dict[str, float]
    z: dict[str, float]
    top_categories: list[tuple[str, float]]
    words: list[tuple[str, float]]
    traits: list[str]
    name: str
    actions: list[Action]
    units: dict[str, str] = field(default_factory=dict)
    # the segment's own numbers the name was checked against (SegmentFacts.to_dict)
    facts: dict[str, float | bool] = field(default_factory=dict)


# ------------------------------------------------------------------------ c-TF-IDF
def _stop_words(stop_words) -> frozenset[str]:
    """'english' (the built-in lists: English, e-commerce filler and Chinese), a list, or None."""
    if stop_words is None:
        return frozenset()
    if isinstance(stop_words, str):
        if stop_words != "english":
            raise ValueError(
                f"stop_words must be 'english', a list of words or None, not {stop_words!r}"
            )
        return DEFAULT_STOP_WORDS
    return frozenset(str(w).lower() for w in stop_words)


def _flatten_docs(docs_by_segment) -> tuple[list[str], list[str]]:
    """(texts, labels) from a dict of lists, a Series of texts indexed by segment, or of lists."""
    texts: list[str] = []
    labels: list[str] = []
    if isinstance(docs_by_segment, pd.Series):
        items: Iterable = docs_by_segment.items()
    else:
        items = dict(docs_by_segment).items()
    for seg, docs in items:
        if docs is None or (isinstance(docs, float) and math.isnan(docs)):
            continue
        if isinstance(docs, str):
            docs = [docs]
        for d in docs:
            if isinstance(d, str) and d.strip():
                texts.append(d)
                labels.append(str(seg))
    return texts, labels


def class_tfidf(
    docs_by_segment: Mapping[str, Sequence[str]] | pd.Series,
    top_n: int = 10,
    min_df: int = 5,
    stop_words="english",
    *,
    ngram_range: tuple[int, int] = (1, 2),
    max_docs_per_segment: int | None = 10_000,
    seed: int = 0,
) -> dict[str, list[tuple[str, float]]]:
    """The terms most distinctive of each segment's documents (class-based TF-IDF).

    Each segment's documents are pooled into one class document; a term's weight in a class is
    ``tf × log(1 + A / f)`` where tf is the term's count divided by the class's total count,
    A the average number of words per class and f the term's count over all classes
    (Grootendorst, BERTopic). ``min_df`` counts individual documents (e.g. reviews) a term must
    appear in; with a small corpus it is lowered so something is left. At most
    ``max_docs_per_segment`` documents per segment are used (a fixed random sample).

    Words come from :func:`core.tokenise.tokenise` (jieba for Chinese, so an unsegmented review
    gives words, not one "word" per clause); the terms of a Chinese bigram are written without a
    space ("物流很快"), English ones with one. ``stop_words="english"`` is the built-in list
    (English, shopping filler and Chinese).

    ``docs_by_segment``: ``{segment: [text, ...]}``, or a Series of texts indexed by segment
    (or of lists of texts). Returns ``{segment: [(term, weight), ...]}`` best first; every
    segment given appears, with an empty list when it had no usable text.
    """
    texts, labels = _flatten_docs(docs_by_segment)
    segments = (
        [str(s) for s in pd.unique(pd.Index(docs_by_segment.index).astype(str))]
        if isinstance(docs_by_segment, pd.Series)
        else [str(s) for s in dict(docs_by_segment)]
    )
    out: dict[str, list[tuple[str, float]]] = {s: [] for s in segments}
    if not texts or top_n <= 0:
        return out
    lab = np.asarray(labels, dtype=object)
    if max_docs_per_segment:
        rng = np.random.default_rng(seed)
        keep = []
        for s in segments:
            idx = np.flatnonzero(lab == s)
            if len(idx) > max_docs_per_segment:
                idx = np.sort(rng.choice(idx, max_docs_per_segment, replace=False))
            keep.append(idx)
        keep_idx = np.sort(np.concatenate(keep)) if keep else np.array([], dtype=int)
        if len(keep_idx) < len(texts):
            texts = [texts[i] for i in keep_idx]
            lab = lab[keep_idx]
    stop = _stop_words(stop_words)
    eff_min_df = max(1, min(int(min_df), len(texts) // 20 or 1))
    counts = None
    for md in dict.fromkeys((eff_min_df, 1)):
        vec = CountVectorizer(
            analyzer=analyser(stop, ngram_range),
            min_df=md,
            dtype=np.float64,
        )
        try:
            counts = vec.fit_transform(texts)
            break
        except ValueError:  # nothing left after pruning
            continue
    if counts is None:
        return out
    vocab = vec.get_feature_names_out()
    # class × document indicator, then class × term counts
    codes, uniq = pd.factorize(pd.Series(lab))
    uniq = [str(u) for u in uniq]
    member = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(uniq), len(codes))
    )
    tf = (member @ counts).tocsr()  # stays sparse: k × vocabulary
    tf.sort_indices()  # ties break alphabetically
    words_per_class = np.asarray(tf.sum(axis=1)).ravel()
    f_t = np.asarray(tf.sum(axis=0)).ravel()
    A = words_per_class.mean()
    idf = np.log1p(A / np.maximum(f_t, 1e-12))
    for ci, seg in enumerate(uniq):
        lo, hi = tf.indptr[ci], tf.indptr[ci + 1]
        terms = tf.indices[lo:hi]
        if not len(terms) or words_per_class[ci] <= 0:
            continue
        score = tf.data[lo:hi] / words_per_class[ci] * idf[terms]
        order = np.argsort(-score, kind="stable")
        chosen: list[tuple[str, float]] = []
        chosen_toks: list[list[str]] = []
        covered: set[str] = set()
        for j in order[: top_n * 6]:
            if score[j] <= 0:
                break
            toks = str(vocab[terms[j]]).split()
            if len(toks) > 1 and all(t in covered for t in toks):
                continue  # a bigram of words already listed adds nothing
            if len(toks) == 1 and any(toks[0] in c for c in chosen_toks):
                continue  # a word already shown inside a listed bigram
            chosen.append((join_terms(toks), float(score[j])))
            chosen_toks.append(toks)
            covered.update(toks)
            if len(chosen) >= top_n:
                break
        out[seg] = chosen
    return out


# ----------------------------------------------------------------------- statistics
def _default_units() -> dict[str, str]:
    try:
        from core.features import CATALOGUE
    except Exception:  # pragma: no cover - features needs duckdb; profiles should not
        return {}
    return {f.name: f.unit for f in CATALOGUE if f.unit}


def feature_columns(df: pd.DataFrame, segment_col: str = "segment") -> list[str]:
    """Numeric feature columns: everything numeric except ids, labels, map coordinates."""
    skip = NON_FEATURE_COLUMNS | {segment_col}
    return [
        c
        for c in df.columns
        if c not in skip
        and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]


def category_label(column: str) -> str:
    """'share_home_kitchen' → 'Home kitchen' (a readable label when the real name is unknown)."""
    base = column.removeprefix("share_").replace("_", " ").strip()
    return base[:1].upper() + base[1:] if base else column


def _segment_order(sizes: pd.Series) -> list[str]:
    def key(s: str):
        m = re.fullmatch(r"[A-Za-z]*\s*(\d+)", s)
        return (s == NOISE_LABEL, -int(sizes[s]), int(m.group(1)) if m else 0, s)

    return sorted(sizes.index, key=key)


def _is_generic_label(label: str) -> bool:
    """Labels a clusterer made up (S3, 7, cluster 2) — as opposed to names like RFM tiers."""
    return bool(
        re.fullmatch(r"(?i)\s*(s|c|k|seg(ment)?|cluster|group)?\s*[-_ ]?\s*-?\d+\s*", label)
    )


@dataclass
class _Stats:
    z: float
    p: float  # mean percentile rank in the population minus 0.5 (−0.5 … 0.5)


def _stats_table(
    df: pd.DataFrame, cols: list[str], seg: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-segment means, z of the means and mean percentile ranks (−0.5..0.5)."""
    X = df[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    X = X.replace([np.inf, -np.inf], np.nan)
    means = X.groupby(seg.to_numpy(), sort=False).mean()
    mu = X.mean()
    sd = X.std(ddof=0)
    z = (means - mu) / sd.where(sd > 0)
    flat = [c for c in cols if not sd[c] > 0]
    if flat:
        z[flat] = 0.0
    ranks = X.rank(pct=True, na_option="keep") - 0.5
    pct = ranks.groupby(seg.to_numpy(), sort=False).mean()
    return means, z, pct


# --------------------------------------------------------------------------- traits
# Themes recognised in a segment's distinctive review words (prefix match on each token).
_THEMES: dict[str, tuple[str, ...]] = {
    "eco": _words(
        "sustainab eco recycl plastic compost ethical organic planet environment carbon waste fair repairab biodegrad reusab"
    ),
    "tech": _words(
        "spec upgrade firmware benchmark release generation chip performance battery tech gadget adopter cutting model"
    ),
    "gift": _words(
        "gift present christmas birthday wrapp holiday valentine mother anniversar xmas nephew niece"
    ),
    "deal": _words(
        "coupon discount deal sale voucher bargain cheap promo price clearance saved half"
    ),
    "unhappy": _words(
        "refund broken return damaged defective disappoint complain terrible poor wrong worst stopped sending"
    ),
    "quality": _words(
        "premium quality luxur craftsman excellent flawless superb outstanding penny"
    ),
    "first": _words("first discovered welcome signed newcomer"),
}
# The same themes in Chinese review words (a stem matches anywhere in a term: Chinese words
# take no inflections, and a bigram is written as one string, "申请退款").
_THEMES_ZH: dict[str, tuple[str, ...]] = {
    "eco": _words("环保 回收 塑料 再生 降解 低碳 可持续 公平贸易 有机 浪费 绿色 地球 道德"),
    "tech": _words("参数 升级 固件 跑分 芯片 续航 新品 首发 最新 数码 测评 新款 智能 性能"),
    "gift": _words("礼物 礼品 礼盒 圣诞 生日 情人节 母亲节 送礼 节日 过节 贺卡 包装纸"),
    "deal": _words("优惠 折扣 打折 划算 便宜 秒杀 促销 满减 包邮 半价 降价 低价 囤 用券 原价"),
    "unhappy": _words("退货 退款 坏 失望 破损 瑕疵 投诉 太差 廉价 换货 不符 散架 差评"),
    "quality": _words("品质 做工 质感 精致 高级 精品 用料 出众 物有所值 一流"),
    "first": _words("第一次 首单 新人 注册 新用户 第一印象"),
}


def _has_theme(term: str, theme: str) -> bool:
    """Whether a distinctive term belongs to a theme (English: a token starts with a stem)."""
    toks = term.lower().split()
    return any(t.startswith(s) for t in toks for s in _THEMES[theme]) or any(
        s in term for s in _THEMES_ZH[theme]
    )


# Engine text in each UI language (see core.locale): names, trait labels, playbook actions.
# Keys: "name.*" automatic names, "theme_adj.*" / "theme_stem.*" / "theme_name.*" word themes,
# "trait.*" trait tags as shown to a user, "kind.*" playbook kinds, "<action>.title/.detail"
# playbook actions, "why.*" the reason shown under an action. Data values (category names,
# review words, segment ids) are filled in, never translated.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        # automatic names
        "name.noise": "Unassigned (noise)",
        "name.promising_newcomers": "Promising newcomers",
        "name.new_customers": "New customers",
        "name.at_risk_high_spenders": "At-risk high spenders",
        "name.lapsing_customers": "Lapsing customers",
        "name.unhappy_returners": "Unhappy returners",
        "name.frequent_returners": "Frequent returners",
        "name.dissatisfied_customers": "Dissatisfied customers",
        "name.seasonal_gift_buyers": "Seasonal gift buyers",
        "name.bargain_hunters": "Bargain hunters",
        "name.high_value_loyalists": "High-value loyalists",
        "name.big_spenders": "Big spenders",
        "name.big_basket_shoppers": "Big-basket shoppers",
        "name.loyal_regulars": "Loyal regulars",
        "name.frequent_shoppers": "Frequent shoppers",
        "name.occasional_shoppers": "Occasional shoppers",
        "name.recently_active": "Recently active",
        "name.steady_regulars": "Steady regulars",
        "name.top_spenders": "Top spenders",
        "name.dormant_customers": "Dormant customers",
        "name.dormant_holiday_buyers": "Dormant holiday buyers",
        "name.dormant_one_time_buyers": "Dormant one-time buyers",
        "name.dormant_repeat_buyers": "Dormant repeat buyers",
        "name.lapsing_holiday_buyers": "Lapsing holiday buyers",
        "name.low_spenders": "Light spenders",
        "name.one_time_buyers": "One-time buyers",
        "name.active_customers": "Active customers",
        "name.typical_customers": "Typical customers",
        "name.eco_minded_customers": "Eco-minded customers",
        # a table without orders: named by its most distinctive attribute (a data value)
        "name.attr_high": "High {feature}",
        "name.attr_low": "Low {feature}",
        "name.attr_mostly": "Mostly {feature}",
        # making names unique
        "name.with_category": "{name} · {category}",
        "name.with_segment": "{name} ({segment})",
        # word themes: the adjective put before a name, its stem (a name that already starts
        # with it gets no adjective) and the theme's own name
        "theme_adj.eco": "Eco-minded",
        "theme_adj.tech": "Tech-savvy",
        "theme_adj.gift": "Gift-giving",
        "theme_adj.deal": "Deal-seeking",
        "theme_adj.unhappy": "Dissatisfied",
        "theme_adj.quality": "Quality-focused",
        "theme_adj.first": "First-time",
        "theme_stem.eco": "Eco",
        "theme_stem.tech": "Tech",
        "theme_stem.gift": "Gift",
        "theme_stem.deal": "Deal",
        "theme_stem.unhappy": "Dissatisfied",
        "theme_stem.quality": "Quality",
        "theme_stem.first": "First",
        "theme_name.eco": "Eco-minded regulars",
        "theme_name.tech": "Tech enthusiasts",
        "theme_name.gift": "Gift buyers",
        "theme_name.deal": "Deal seekers",
        "theme_name.unhappy": "Dissatisfied customers",
        "theme_name.quality": "Quality seekers",
        "theme_name.first": "First-time buyers",
        # trait tags (the English label is the tag itself)
        "trait.new": "new",
        "trait.lapsing": "lapsing",
        "trait.high spend": "high spend",
        "trait.frequent": "frequent",
        "trait.recent": "recent",
        "trait.loyal": "loyal",
        "trait.discount-driven": "discount-driven",
        "trait.high returns": "high returns",
        "trait.unhappy reviews": "unhappy reviews",
        "trait.happy reviews": "happy reviews",
        "trait.gift / seasonal": "gift / seasonal",
        "trait.big baskets": "big baskets",
        "trait.low spend": "low spend",
        "trait.infrequent": "infrequent",
        "trait.vocal reviewers": "vocal reviewers",
        "trait.join": ", ",
        # playbook kinds
        "kind.personalised_recommendation": "Personalised recommendation",
        "kind.precision_marketing": "Precision marketing",
        "kind.service_care": "Service care",
        "kind.risk_control": "Risk control",
        "kind.new_product_promotion": "New-product promotion",
        # pieces filled into the actions
        "cat.known": "{category}",
        "cat.unknown": "their favourite category",
        "in_cat": " in {category}",
        "mention": " (reviews mention: {words})",
        "mention.join": ", ",
        "mention.word": "{word}",
        # actions
        "retention_alert.title": "Retention alert for valuable customers",
        "retention_alert.detail": "Put these high spenders on a churn watch list: alert the "
        "retention team when the time since their last order passes 1.5× their usual gap, and "
        "call the largest accounts personally.",
        "cross_sell.title": "Personalised picks and cross-sell",
        "cross_sell.detail": "Recommend premium and complementary items{in_cat} from each "
        "customer's history on the homepage and in a monthly curated email.",
        "vip.title": "VIP service",
        "vip.detail": "Priority support, free express shipping and early access to sales and "
        "launches to protect the relationship.",
        "second_purchase.title": "Second-purchase incentive",
        "second_purchase.detail": "Onboarding emails with a 10% voucher valid 30 days on the "
        "second order, featuring best-sellers{in_cat}.",
        "welcome_arrivals.title": "Show new arrivals in the welcome journey",
        "welcome_arrivals.detail": "Feature new arrivals and best-sellers in {cat} and "
        "neighbouring categories to widen what they know of the shop.",
        "churn_warning.title": "Churn early warning",
        "churn_warning.detail": "Score churn risk from time since the last order relative to "
        "each customer's usual gap; trigger contact before they go silent for good.",
        "win_back.title": "Win-back campaign",
        "win_back.detail": "Win-back email with a time-limited 15% voucher on their top "
        "category ({cat}), plus a short survey on why they stopped buying.",
        "targeted_coupons.title": "Targeted coupons, not blanket discounts",
        "targeted_coupons.detail": "Send personal coupons and price-drop alerts{in_cat} only "
        "when they would not buy otherwise; leave them out of sitewide sales to avoid margin "
        "erosion.",
        "margin_guardrail.title": "Margin guardrail",
        "margin_guardrail.detail": "Cap discount depth and coupon stacking for this segment "
        "and track margin per order, not only revenue.",
        "outreach.title": "Proactive outreach and quality follow-up",
        "outreach.detail": "Contact them after delivery, fast-track refunds or replacements, "
        "and send the complaints{mention} to the buyers of {cat}.",
        "return_risk.title": "Return-risk monitoring",
        "return_risk.detail": "Flag products{in_cat} and customers with repeated returns; fix "
        "size guides and descriptions, and watch for return-policy abuse.",
        "dissatisfaction_warning.title": "Dissatisfaction early warning",
        "dissatisfaction_warning.detail": "Flag every review of 2 stars or less for a reply "
        "within 48 hours and watch these customers for churn.",
        "pre_season.title": "Pre-season launch",
        "pre_season.detail": "Preview new {cat} arrivals and a gift guide 4–6 weeks before "
        "the peak season (November–December and gifting days).",
        "gift_bundles.title": "Gift bundles and occasion reminders",
        "gift_bundles.detail": "Ready-wrapped gift bundles and reminders before birthdays, "
        "Valentine's and Mother's Day.",
        "grow_basket.title": "Grow the basket",
        "grow_basket.detail": "Recommend complementary products to what they buy{in_cat}; "
        "bundle offers that raise the order value.",
        "loyalty_rewards.title": "Loyalty rewards",
        "loyalty_rewards.detail": "Points or tiered perks that reward the next order rather "
        "than discount it.",
        "activation.title": "Activation offer",
        "activation.detail": "Free-shipping threshold or bundle offer{in_cat} to turn "
        "occasional visits into regular orders.",
        "sustainable.title": "Promote sustainable lines",
        "sustainable.detail": "Launch eco-friendly, refill and plastic-free ranges to them "
        "first; highlight materials and sourcing in the message.",
        "launch_previews.title": "Launch previews and pre-orders",
        "launch_previews.detail": "Early access and pre-orders for new releases{in_cat}, with "
        "spec comparisons.",
        "premium_recs.title": "Premium recommendations",
        "premium_recs.detail": "Recommend premium ranges{in_cat}; they care about quality more "
        "than price.",
        "personal_recs.title": "Personalised recommendations",
        "personal_recs.detail": "Recommend items related to past purchases{in_cat} in email "
        "and on site.",
        "new_arrivals.title": "New arrivals",
        "new_arrivals.detail": "Tell them about new arrivals in {cat}.",
        "profile_recs.title": "Recommendations by profile",
        "profile_recs.detail": "Recommend what customers with a similar profile (the same "
        "attributes) choose, in email and on site.",
        # why an action was suggested (besides trait labels)
        "why.eco": "review words about sustainability",
        "why.tech": "review words about specs and new releases",
        "why.quality": "review words about quality",
        "why.no_trait": "no strong trait: grow the relationship",
        "why.no_orders": "no purchase history: start from the profile",
    },
    "zh": {
        "name.noise": "未归类（噪声）",
        "name.promising_newcomers": "潜力新客",
        "name.new_customers": "新客户",
        "name.at_risk_high_spenders": "有流失风险的高消费客户",
        "name.lapsing_customers": "流失中的客户",
        "name.unhappy_returners": "不满意的退货客户",
        "name.frequent_returners": "频繁退货客户",
        "name.dissatisfied_customers": "不满意客户",
        "name.seasonal_gift_buyers": "节日送礼客户",
        "name.bargain_hunters": "优惠猎手",
        "name.high_value_loyalists": "高价值忠实客户",
        "name.big_spenders": "高消费客户",
        "name.big_basket_shoppers": "大单客户",
        "name.loyal_regulars": "忠实常客",
        "name.frequent_shoppers": "高频购物客户",
        "name.occasional_shoppers": "偶尔购物客户",
        "name.recently_active": "近期活跃客户",
        "name.steady_regulars": "稳定常客",
        "name.top_spenders": "顶级消费客户",
        "name.dormant_customers": "沉睡客户",
        "name.dormant_holiday_buyers": "沉睡的节日客户",
        "name.dormant_one_time_buyers": "沉睡的一次性购买客户",
        "name.dormant_repeat_buyers": "沉睡的回头客",
        "name.lapsing_holiday_buyers": "流失中的节日客户",
        "name.low_spenders": "低消费客户",
        "name.one_time_buyers": "一次性购买客户",
        "name.active_customers": "活跃客户",
        "name.typical_customers": "普通客户",
        "name.eco_minded_customers": "环保型客户",
        "name.attr_high": "{feature}偏高的客户",
        "name.attr_low": "{feature}偏低的客户",
        "name.attr_mostly": "多为“{feature}”的客户",
        "name.with_category": "{name} · {category}",
        "name.with_segment": "{name}（{segment}）",
        "theme_adj.eco": "环保型",
        "theme_adj.tech": "科技型",
        "theme_adj.gift": "送礼型",
        "theme_adj.deal": "优惠型",
        "theme_adj.unhappy": "不满型",
        "theme_adj.quality": "品质型",
        "theme_adj.first": "首购型",
        "theme_stem.eco": "环保",
        "theme_stem.tech": "科技",
        "theme_stem.gift": "送礼",
        "theme_stem.deal": "优惠",
        "theme_stem.unhappy": "不满",
        "theme_stem.quality": "品质",
        "theme_stem.first": "首次",
        "theme_name.eco": "环保常客",
        "theme_name.tech": "科技爱好者",
        "theme_name.gift": "送礼客户",
        "theme_name.deal": "优惠敏感客户",
        "theme_name.unhappy": "不满意客户",
        "theme_name.quality": "品质追求者",
        "theme_name.first": "首次购买客户",
        "trait.new": "新客",
        "trait.lapsing": "正在流失",
        "trait.high spend": "高消费",
        "trait.frequent": "购买频繁",
        "trait.recent": "近期活跃",
        "trait.loyal": "忠诚",
        "trait.discount-driven": "依赖折扣",
        "trait.high returns": "退货多",
        "trait.unhappy reviews": "差评多",
        "trait.happy reviews": "好评多",
        "trait.gift / seasonal": "送礼 / 节日",
        "trait.big baskets": "大额订单",
        "trait.low spend": "消费低",
        "trait.infrequent": "购买不频繁",
        "trait.vocal reviewers": "爱写评论",
        "trait.join": "、",
        "kind.personalised_recommendation": "个性化推荐",
        "kind.precision_marketing": "精准营销",
        "kind.service_care": "服务关怀",
        "kind.risk_control": "风险控制",
        "kind.new_product_promotion": "新品推广",
        "cat.known": "“{category}”品类",
        "cat.unknown": "他们最常买的品类",
        "in_cat": "“{category}”品类",
        "mention": "（评论提到：{words}）",
        "mention.join": "、",
        "mention.word": "“{word}”",
        "retention_alert.title": "高价值客户挽留预警",
        "retention_alert.detail": "把这些高消费客户列入流失观察名单：距上次下单的时间超过其平常"
        "购买间隔的 1.5 倍时提醒挽留团队，并由专人致电最大的客户。",
        "cross_sell.title": "个性化精选与交叉销售",
        "cross_sell.detail": "根据每位客户的购买记录，在首页和每月精选邮件中推荐{in_cat}高端"
        "商品和互补商品。",
        "vip.title": "VIP 服务",
        "vip.detail": "提供优先客服、免费快递，以及提前参与促销和新品发布的资格，稳固客户关系。",
        "second_purchase.title": "第二单激励",
        "second_purchase.detail": "发送新客引导邮件，附 30 天内第二单可用的 9 折券，并展示"
        "{in_cat}畅销商品。",
        "welcome_arrivals.title": "在新客欢迎流程中展示新品",
        "welcome_arrivals.detail": "展示{cat}及相邻品类的新品和畅销品，让他们更全面地了解店铺。",
        "churn_warning.title": "流失预警",
        "churn_warning.detail": "根据距上次下单的时间与每位客户平常购买间隔之比评估流失风险；"
        "在他们彻底沉寂之前主动联系。",
        "win_back.title": "召回活动",
        "win_back.detail": "发送召回邮件，附{cat}的限时 85 折券，并附一份简短问卷，了解他们"
        "为何不再购买。",
        "targeted_coupons.title": "定向发券，而非全场打折",
        "targeted_coupons.detail": "只在他们不打折就不会购买时，才发送{in_cat}个人优惠券和降价"
        "提醒；不让他们参与全场促销，以免侵蚀利润。",
        "margin_guardrail.title": "利润护栏",
        "margin_guardrail.detail": "限制该分群的折扣力度和优惠券叠加，并按订单跟踪利润，而不只看"
        "收入。",
        "outreach.title": "主动关怀与质量跟进",
        "outreach.detail": "送达后主动联系，加快退款或换货，并把投诉{mention}转给{cat}的采购人员。",
        "return_risk.title": "退货风险监控",
        "return_risk.detail": "标记{in_cat}反复退货的商品和客户；完善尺码指南和商品描述，并"
        "留意滥用退货政策的行为。",
        "dissatisfaction_warning.title": "不满预警",
        "dissatisfaction_warning.detail": "每条 2 星及以下的评论都要在 48 小时内回复，并关注这些"
        "客户的流失风险。",
        "pre_season.title": "旺季前新品预热",
        "pre_season.detail": "在旺季（11–12 月及送礼节日）前 4–6 周预告{cat}新品，并推出送礼指南。",
        "gift_bundles.title": "礼品套装与节日提醒",
        "gift_bundles.detail": "提供包装好的礼品套装，并在生日、情人节和母亲节前发送提醒。",
        "grow_basket.title": "提升客单价",
        "grow_basket.detail": "推荐与他们所购{in_cat}商品互补的产品；用组合优惠提高订单金额。",
        "loyalty_rewards.title": "会员积分奖励",
        "loyalty_rewards.detail": "用积分或会员等级权益奖励下一单，而不是给下一单打折。",
        "activation.title": "激活优惠",
        "activation.detail": "用包邮门槛或{in_cat}组合优惠，把偶尔的光顾变成固定的订单。",
        "sustainable.title": "推广可持续产品线",
        "sustainable.detail": "优先向他们推出环保、可补充装和无塑料系列；在宣传中突出材料和来源。",
        "launch_previews.title": "新品预览与预订",
        "launch_previews.detail": "为{in_cat}新品提供抢先体验和预订，并附参数对比。",
        "premium_recs.title": "高端推荐",
        "premium_recs.detail": "推荐{in_cat}高端系列；比起价格，他们更看重品质。",
        "personal_recs.title": "个性化推荐",
        "personal_recs.detail": "在邮件和网站上推荐与过往购买相关的{in_cat}商品。",
        "new_arrivals.title": "新品上架",
        "new_arrivals.detail": "向他们介绍{cat}的新品。",
        "profile_recs.title": "按客户画像推荐",
        "profile_recs.detail": "在邮件和网站上推荐画像（属性）相似的客户所选择的商品。",
        "why.eco": "评论用词涉及环保与可持续",
        "why.tech": "评论用词涉及产品参数和新品发布",
        "why.quality": "评论用词涉及品质",
        "why.no_trait": "没有突出特征：加深客户关系",
        "why.no_orders": "没有购买记录：从客户画像入手",
    },
}


def _text(lang: str, key: str, **values) -> str:
    return phrase(_TEXT, lang, key, **values)


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def trait_label(tag: str, lang: str = "en") -> str:
    """A trait tag ("high spend") as a user reads it in ``lang`` (the tag itself in English).

    Profiles keep the English tags in ``SegmentProfile.traits`` (rules and tests key on them);
    pages show this label. An unknown tag is shown as it is.
    """
    key = f"trait.{tag}"
    return _text(_check_lang(lang), key) if key in _TEXT["en"] else tag


def playbook_label(kind: str, lang: str = "en") -> str:
    """A playbook kind ("risk_control") as a user reads it in ``lang``."""
    if kind not in PLAYBOOK:
        raise KeyError(f"no playbook kind {kind!r} (have {', '.join(PLAYBOOK)})")
    return _text(_check_lang(lang), f"kind.{kind}")


def theme_label(theme: str, lang: str = "en") -> str:
    """A word theme of :func:`word_theme` ("eco") as a user reads it ("Eco-minded")."""
    return _text(_check_lang(lang), f"theme_adj.{theme}")


def word_theme(words: Sequence[tuple[str, float]], min_hits: int = 3) -> str | None:
    """The theme most of a segment's top words belong to (eco, tech, gift, ...), if any."""
    if not words:
        return None
    need = min(min_hits, max(2, len(words) // 3))
    hits: dict[str, int] = {}
    for term, _ in words:
        for theme in _THEMES:
            if _has_theme(term, theme):
                hits[theme] = hits.get(theme, 0) + 1
    if not hits:
        return None
    theme, n = max(hits.items(), key=lambda kv: (kv[1], -list(_THEMES).index(kv[0])))
    return theme if n >= need else None


@dataclass
class _Trait:
    tag: str
    strength: float  # ≥ 1 when it fires; used to order traits and actions


# ------------------------------------------------------------------ absolute facts
# What a segment's own numbers must show before a word about it is used. Every threshold is
# one a marketer can check against the profile card.
#
# "New": half the segment placed its first order (or, without orders, signed up) at most a
# quarter ago.
NEW_MAX_TENURE_DAYS = 90
# "Lapsing": the segment's median days since its last purchase is more than twice the usual
# gap between orders — the shop's median inter-purchase time, or the segment's own when it
# buys less often (a seasonal buyer is not lapsing between seasons) — but never less than a
# quarter (a weekly shop does not call a month away lapsed) and never more than half a year
# (half a year without an order is lapsed in any shop). Without a known gap: half a year.
LAPSE_GAPS = 2.0
LAPSE_MIN_DAYS = 90.0
LAPSE_MAX_DAYS = 180.0
# "Dormant": a whole year without an order, whatever the rhythm.
DORMANT_DAYS = 365.0
# "Recent": within half the lapse threshold (i.e. about one usual gap).
RECENT_SHARE_OF_LAPSE = 0.5
# "Frequent", "loyal", "regulars": half the segment placed two orders or more.
REPEAT_MIN_ORDERS = 2.0
# "High spend": the segment's mean spend is at least 1.5× the shop's (for net spend this is its
# revenue share ÷ customer share). "Top spenders" / "high-value": at least 2× — it is then
# named for its value before returns, reviews, seasons or discounts.
HIGH_SPEND_RATIO = 1.5
TOP_VALUE_RATIO = 2.0
# "Big baskets": mean order value at least 1.5× the shop's.
BIG_BASKET_RATIO = 1.5
# "Gift / seasonal": half the segment bought most of its value in November–December (three
# times the 2/12 an even spread would give).
SEASONAL_MIN_HOLIDAY_SHARE = 0.5
# "Discount-driven": on average a tenth or more of the list price given away.
DISCOUNT_MIN_RATE = 0.10
# "High returns": on average a tenth or more of the purchased value returned.
RETURN_MIN_RATE = 0.10
# "Unhappy reviews": mean rating 3.5 stars or less, or a quarter of reviews at 2 stars or
# less; "happy reviews": mean rating 4 stars or more.
UNHAPPY_MAX_RATING = 3.5
UNHAPPY_MIN_LOW_SHARE = 0.25
HAPPY_MIN_RATING = 4.0

# Catalogue features computed from orders: when none is there (or all are empty), the table
# has no purchase history and no name may speak of purchases.
_ORDER_FEATURES = frozenset(
    _words(
        """recency_days frequency monetary tenure_days avg_order_value avg_days_between_orders
    items_per_order orders_last_90d spend_last_90d distinct_products distinct_categories
    holiday_share discount_rate return_rate"""
    )
)
_NAN = float("nan")


@dataclass
class SegmentFacts:
    """A segment's own numbers that names are checked against (NaN: not in the data).

    Medians are over the segment's customers (recency over those who ever bought); ratios
    compare the segment's mean with the whole shop's.
    """

    recency_days: float = _NAN  # median days since the last purchase
    tenure_days: float = _NAN  # median days since the first order (else since sign-up)
    orders: float = _NAN  # median number of purchase orders (frequency)
    holiday_share: float = _NAN  # median share of value bought in November–December
    spend_ratio: float = _NAN  # mean spend ÷ the shop's mean spend
    basket_ratio: float = _NAN  # mean order value ÷ the shop's
    discount_rate: float = _NAN  # mean
    return_rate: float = _NAN  # mean
    rating: float = _NAN  # mean star rating
    low_rating_share: float = _NAN  # mean
    lapse_days: float = LAPSE_MAX_DAYS  # this segment's lapse threshold (see LAPSE_GAPS)
    has_orders: bool = True

    @property
    def lapsed(self) -> bool:
        return self.recency_days > self.lapse_days  # False when NaN

    @property
    def dormant(self) -> bool:
        return self.recency_days > DORMANT_DAYS

    @property
    def active(self) -> bool:
        return self.recency_days <= self.lapse_days

    @property
    def recent(self) -> bool:
        return self.recency_days <= self.lapse_days * RECENT_SHARE_OF_LAPSE

    @property
    def repeat(self) -> bool:
        return self.orders >= REPEAT_MIN_ORDERS

    @property
    def regular(self) -> bool:
        """Buys again and bought lately: what "regulars", "loyal" and "active" claim."""
        return self.active and self.repeat

    @property
    def new(self) -> bool:
        return self.tenure_days <= NEW_MAX_TENURE_DAYS and not self.lapsed

    def to_dict(self) -> dict:
        return asdict(self)


def _median(x: pd.Series) -> float:
    x = x[np.isfinite(x)]
    return float(x.median()) if len(x) else _NAN


def _mean(x: pd.Series) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else _NAN


def _ratio(a: float, b: float) -> float:
    return a / b if np.isfinite(a) and np.isfinite(b) and b > 0 else _NAN


def _usual_gap(X: pd.DataFrame) -> pd.Series:
    """Each customer's mean days between purchase orders (NaN with fewer than two)."""
    if "avg_days_between_orders" in X:
        return X["avg_days_between_orders"]
    if {"tenure_days", "recency_days", "frequency"} <= set(X.columns):
        # first order to last purchase, over the gaps between the orders
        span = X["tenure_days"] - X["recency_days"]
        return (span / (X["frequency"] - 1)).where(X["frequency"] >= 2)
    return pd.Series(np.nan, index=X.index)


def segment_facts(
    df: pd.DataFrame, seg: pd.Series, spend_col: str | None = None
) -> dict[str, SegmentFacts]:
    """:class:`SegmentFacts` of each segment of ``df`` (one row per customer, ``seg`` aligned)."""
    cols = [c for c in df.columns if c not in NON_FEATURE_COLUMNS]
    X = df[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    X = X.replace([np.inf, -np.inf], np.nan)
    has_orders = any(
        c in X and (X[c].notna() & (X[c] != 0)).any()
        for c in ("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value")
    )
    gap = _usual_gap(X)
    shop_gap = _median(gap)
    tenure_col = next(
        (c for c in ("tenure_days", "account_age_days") if c in X and X[c].notna().any()), None
    )
    shop_spend = _mean(X[spend_col]) if spend_col and spend_col in X else _NAN
    shop_basket = _mean(X["avg_order_value"]) if "avg_order_value" in X else _NAN
    out: dict[str, SegmentFacts] = {}
    keys = seg.to_numpy()
    for s, idx in pd.Series(np.arange(len(X))).groupby(keys, sort=False):
        g = X.iloc[idx.to_numpy()]

        def col(c: str, f, g=g) -> float:
            return f(g[c]) if c in g else _NAN

        seg_gap = _median(gap.iloc[idx.to_numpy()])
        usual = np.nanmax([shop_gap, seg_gap]) if np.isfinite([shop_gap, seg_gap]).any() else _NAN
        lapse = (
            float(np.clip(LAPSE_GAPS * usual, LAPSE_MIN_DAYS, LAPSE_MAX_DAYS))
            if np.isfinite(usual)
            else LAPSE_MAX_DAYS
        )
        out[str(s)] = SegmentFacts(
            recency_days=col("recency_days", _median),
            tenure_days=col(tenure_col, _median) if tenure_col else _NAN,
            orders=col("frequency", _median),
            holiday_share=col("holiday_share", _median),
            spend_ratio=_ratio(col(spend_col, _mean), shop_spend) if spend_col else _NAN,
            basket_ratio=_ratio(col("avg_order_value", _mean), shop_basket),
            discount_rate=col("discount_rate", _mean),
            return_rate=col("return_rate", _mean),
            rating=col("avg_rating", _mean),
            low_rating_share=col("low_rating_share", _mean),
            lapse_days=lapse,
            has_orders=has_orders,
        )
    return out


def _spend_column(cols: Iterable[str], units: Mapping[str, str]) -> str | None:
    cols = list(cols)
    if "monetary" in cols:
        return "monetary"
    return next(
        (c for c in ("spend_last_90d", "avg_order_value") if c in cols),
        next((c for c, u in units.items() if u == "currency" and c in cols), None),
    )


def _traits(
    st: Mapping[str, _Stats], units: Mapping[str, str], facts: SegmentFacts | None = None
) -> list[_Trait]:
    """Trait tags: each fires on its relative rule *and* the segment's own facts."""
    fx = facts or SegmentFacts()

    def s(f):
        return st.get(f)

    def high(f, tz=0.5, tp=0.08) -> float:
        v = s(f)
        if v is None or not np.isfinite(v.z) or not np.isfinite(v.p):
            return 0.0
        return v.z / tz if v.z >= tz and v.p >= tp else 0.0

    def low(f, tz=0.5, tp=0.08) -> float:
        v = s(f)
        if v is None or not np.isfinite(v.z) or not np.isfinite(v.p):
            return 0.0
        return -v.z / tz if v.z <= -tz and v.p <= -tp else 0.0

    def at_least(value: float, bound: float) -> bool:
        return bool(np.isfinite(value) and value >= bound)

    spend_col = _spend_column(st, units)
    out: list[_Trait] = []
    # new: first order (else sign-up) at most 90 days ago for half the segment, not gone since
    new = max(low("tenure_days", 0.8, 0.15), low("account_age_days", 0.8, 0.15))
    if not fx.new:
        new = 0.0
    # lapsing: decided by the segment's own recency against the shop's rhythm, not by how it
    # compares with the others (in a shop where most customers are gone, most segments are)
    if "recency_days" in st:
        lapsing = max(high("recency_days", 0.8, 0.12), 1.0) if fx.lapsed else 0.0
    else:  # no recency: most of the segment bought nothing in the last 90 days
        lapsing = low("orders_last_90d", 0.8, 0.12)
        if "orders_last_90d" in st and not fx.has_orders:
            lapsing = 0.0
    if lapsing and new:  # signed up recently yet long gone: not "new"
        new = 0.0
    recent = 0.0 if lapsing or not fx.recent else low("recency_days", 0.4, 0.08)
    spend = high(spend_col, 0.5, 0.1) if spend_col else 0.0
    if not at_least(fx.spend_ratio, HIGH_SPEND_RATIO):
        spend = 0.0
    frequent = high("frequency", 0.5, 0.1) if fx.repeat else 0.0
    if new:
        out.append(_Trait("new", new))
    if lapsing:
        out.append(_Trait("lapsing", lapsing))
    if spend:
        out.append(_Trait("high spend", spend))
    if frequent:
        out.append(_Trait("frequent", frequent))
    if recent and not new:
        out.append(_Trait("recent", recent))
    if (
        frequent
        and not lapsing
        and not new
        and fx.regular
        and (recent or high("tenure_days", 0.3, 0.05) or high("orders_last_90d", 0.3, 0.05))
    ):
        out.append(_Trait("loyal", max(frequent, recent)))
    disc = high("discount_rate", 0.6, 0.1)
    if disc and at_least(fx.discount_rate, DISCOUNT_MIN_RATE):
        out.append(_Trait("discount-driven", disc))
    ret = high("return_rate", 0.6, 0.1)
    if ret and at_least(fx.return_rate, RETURN_MIN_RATE):
        out.append(_Trait("high returns", ret))
    unhappy = max(low("avg_rating", 0.6, 0.1), high("low_rating_share", 0.6, 0.05))
    unhappy_fact = (np.isfinite(fx.rating) and fx.rating <= UNHAPPY_MAX_RATING) or at_least(
        fx.low_rating_share, UNHAPPY_MIN_LOW_SHARE
    )
    happy = high("avg_rating", 0.6, 0.1) if at_least(fx.rating, HAPPY_MIN_RATING) else 0.0
    if unhappy and unhappy_fact:
        out.append(_Trait("unhappy reviews", unhappy))
    elif happy:
        out.append(_Trait("happy reviews", happy * 0.5))
    seasonal = high("holiday_share", 0.6, 0.1)
    if seasonal and fx.holiday_share > SEASONAL_MIN_HOLIDAY_SHARE:
        out.append(_Trait("gift / seasonal", seasonal))
    if spend_col != "avg_order_value":
        aov = high("avg_order_value", 0.8, 0.15)
        if aov and not spend and at_least(fx.basket_ratio, BIG_BASKET_RATIO):
            out.append(_Trait("big baskets", aov))
    if spend_col and not new:
        lo_spend = low(spend_col, 0.5, 0.2)
        if lo_spend:
            out.append(_Trait("low spend", lo_spend * 0.8))
    if not new and not lapsing:
        rare = low("frequency", 0.5, 0.15)
        if rare:
            out.append(_Trait("infrequent", rare * 0.8))
    vocal = high("review_count", 0.8, 0.12)
    if vocal:
        out.append(_Trait("vocal reviewers", vocal * 0.5))
    order = {t.tag: i for i, t in enumerate(out)}
    return sorted(out, key=lambda t: (-t.strength, order[t.tag]))


def _theme_holds(theme: str | None, facts: SegmentFacts) -> str | None:
    """A word theme, unless what its words would say contradicts the numbers."""
    if theme == "first" and facts.orders > REPEAT_MIN_ORDERS:
        return None  # "first-time" buyers with several orders each
    return theme


def _name(
    tags: set[str], theme: str | None, lang: str = "en", facts: SegmentFacts | None = None
) -> str:
    return _text(lang, _name_key(tags, theme, facts))


def _name_key(tags: set[str], theme: str | None, facts: SegmentFacts | None = None) -> str:
    """The automatic name's phrase key: the strongest claim the traits and the facts hold.

    Order: new, lapsing (its value, season or depth), value, returns and reviews, season,
    discounts, spend, review-word theme, baskets, loyalty and frequency, then a default that
    says only what is true (regulars need recent repeat orders).
    """
    fx = facts or SegmentFacts()

    def has(*t):
        return all(x in tags for x in t)

    top_value = np.isfinite(fx.spend_ratio) and fx.spend_ratio >= TOP_VALUE_RATIO
    if has("new"):
        return (
            "name.promising_newcomers"
            if ("high spend" in tags or "big baskets" in tags)
            else "name.new_customers"
        )
    if has("lapsing"):
        if "high spend" in tags:
            return "name.at_risk_high_spenders"
        if fx.dormant:  # a year or more without an order: the season no longer explains it
            if "gift / seasonal" in tags:
                return "name.dormant_holiday_buyers"
            if fx.orders < REPEAT_MIN_ORDERS:
                return "name.dormant_one_time_buyers"
            if fx.repeat:
                return "name.dormant_repeat_buyers"
            return "name.dormant_customers"
        if "gift / seasonal" in tags:
            return "name.lapsing_holiday_buyers"
        return "name.lapsing_customers"
    if top_value and has("high spend"):
        return "name.high_value_loyalists" if has("loyal") else "name.top_spenders"
    if has("high returns") and has("unhappy reviews"):
        return "name.unhappy_returners"
    if has("high returns"):
        return "name.frequent_returners"
    if has("unhappy reviews"):
        return "name.dissatisfied_customers"
    if has("gift / seasonal"):
        return "name.seasonal_gift_buyers"
    if has("discount-driven"):
        return "name.bargain_hunters"
    if has("high spend") and (has("frequent") or has("loyal")):
        return "name.high_value_loyalists"
    if has("high spend"):
        return "name.big_spenders"
    if theme == "eco" and not fx.regular:
        return "name.eco_minded_customers"
    if theme is not None:
        return f"theme_name.{theme}"
    if has("big baskets"):
        return "name.big_basket_shoppers"
    if has("loyal") or (has("frequent") and has("recent")):
        return "name.loyal_regulars"
    if has("frequent"):
        return "name.frequent_shoppers"
    if has("infrequent"):
        return "name.occasional_shoppers"
    if has("low spend"):
        return "name.low_spenders"
    if has("recent"):
        return "name.recently_active"
    if not fx.has_orders:
        return "name.typical_customers"
    if fx.regular:
        return "name.steady_regulars"
    if fx.active and np.isfinite(fx.orders):
        return "name.one_time_buyers"  # active, but half of them ordered once
    if fx.active:
        return "name.active_customers"
    return "name.typical_customers"


def _attribute_name(
    st: Mapping[str, _Stats],
    means: Mapping[str, float],
    binary: set[str],
    lang: str,
    labels: Mapping[str, str] | None = None,
) -> str | None:
    """A table without orders: the segment's most distinctive attribute ("High monthly
    charges", "Mostly contract month to month"), or None when none stands out."""
    best: tuple[float, str] | None = None
    for c, v in st.items():
        if c in _ORDER_FEATURES or c.startswith("share_") or not np.isfinite(v.z):
            continue
        if abs(v.z) < 0.5 or abs(v.p) < 0.08 or np.sign(v.z) != np.sign(v.p):
            continue
        if c in binary and not (v.z > 0 and means.get(c, 0.0) >= 0.5):
            continue  # an indicator says something only when most of the segment has it
        if best is None or abs(v.z) > best[0]:
            best = (abs(v.z), c)
    if best is None:
        return None
    c = best[1]
    label = (labels or {}).get(c) or c.removeprefix("attr_").replace("_", " ").strip() or c
    key = (
        "name.attr_mostly" if c in binary else "name.attr_high" if st[c].z > 0 else "name.attr_low"
    )
    return _text(lang, key, feature=label)


def _with_theme(base: str, theme: str, lang: str) -> str:
    """'Bargain hunters' → 'Deal-seeking bargain hunters' (unless the name already says it)."""
    adj = _text(lang, f"theme_adj.{theme}")
    stem = _text(lang, f"theme_stem.{theme}")
    if lang == "en":
        return base if base.startswith(stem) else f"{adj} {base[:1].lower()}{base[1:]}"
    return base if stem in base else f"{adj}{base}"  # Chinese: no case, no space


def _unique_names(
    profiles: list[SegmentProfile], themes: Mapping[str, str | None], lang: str = "en"
) -> None:
    """Make names unique: theme adjective, then top category, then the segment label."""
    taken = [p.name for p in profiles]

    def strategies(p: SegmentProfile):
        theme = themes.get(p.segment)
        base = p.name
        yield _with_theme(base, theme, lang) if theme else base
        yield (
            _text(lang, "name.with_category", name=base, category=p.top_categories[0][0])
            if p.top_categories
            else base
        )
        yield _text(lang, "name.with_segment", name=base, segment=p.segment)

    for _ in range(3):
        counts = pd.Series(taken).value_counts()
        dup = set(counts[counts > 1].index)
        if not dup:
            break
        for name in dup:
            idx = [i for i, n in enumerate(taken) if n == name]
            others = {n for i, n in enumerate(taken) if i not in idx}
            for level in range(3):
                cand = [list(strategies(profiles[i]))[level] for i in idx]
                if len(set(cand)) == len(cand) and not (set(cand) & others):
                    for i, c in zip(idx, cand, strict=True):
                        taken[i] = c
                    break
    for p, n in zip(profiles, taken, strict=True):
        p.name = n
    seen: set[str] = set()
    for p in profiles:  # last resort (cannot normally happen)
        if p.name in seen:
            p.name = _text(lang, "name.with_segment", name=p.name, segment=p.segment)
        seen.add(p.name)


# -------------------------------------------------------------------------- actions
def _actions(
    traits: list[_Trait],
    theme: str | None,
    top_cat: str | None,
    words: list[tuple[str, float]],
    lang: str = "en",
    *,
    has_orders: bool = True,
) -> list[Action]:
    cat = _text(lang, "cat.known", category=top_cat) if top_cat else _text(lang, "cat.unknown")
    in_cat = _text(lang, "in_cat", category=top_cat) if top_cat else ""
    complaint_words = [w for w, _ in words if _has_theme(w, "unhappy")][:3]
    mention = (
        _text(
            lang,
            "mention",
            words=_text(lang, "mention.join").join(
                _text(lang, "mention.word", word=w) for w in complaint_words
            ),
        )
        if complaint_words
        else ""
    )
    tags = {t.tag for t in traits}
    out: list[Action] = []

    def trait(*tag: str) -> str:
        return _text(lang, "trait.join").join(_text(lang, f"trait.{x}") for x in tag)

    def add(kind: str, action: str, why: str) -> None:
        title = _text(lang, f"{action}.title")
        if all((a.kind, a.title) != (kind, title) for a in out):
            detail = _text(lang, f"{action}.detail", cat=cat, in_cat=in_cat, mention=mention)
            out.append(Action(kind, title, detail, why))

    for t in traits:
        tag = t.tag
        if tag == "high spend" or (tag == "loyal" and "high spend" in tags):
            if "lapsing" in tags:
                add("risk_control", "retention_alert", trait("high spend", "lapsing"))
                continue
            add("personalised_recommendation", "cross_sell", trait("high spend"))
            add("service_care", "vip", trait("high spend"))
        elif tag == "new":
            if has_orders:  # signed up without orders: there is no first order to follow
                add("precision_marketing", "second_purchase", trait("new"))
            add("new_product_promotion", "welcome_arrivals", trait("new"))
        elif tag == "lapsing":
            add("risk_control", "churn_warning", trait("lapsing"))
            add("precision_marketing", "win_back", trait("lapsing"))
        elif tag == "discount-driven":
            add("precision_marketing", "targeted_coupons", trait("discount-driven"))
            add("risk_control", "margin_guardrail", trait("discount-driven"))
        elif tag in ("high returns", "unhappy reviews"):
            add("service_care", "outreach", trait(tag))
            if tag == "high returns":
                add("risk_control", "return_risk", trait(tag))
            elif "high returns" not in tags:
                add("risk_control", "dissatisfaction_warning", trait(tag))
        elif tag == "gift / seasonal":
            add("new_product_promotion", "pre_season", trait("gift / seasonal"))
            add("precision_marketing", "gift_bundles", trait("gift / seasonal"))
        elif tag in ("loyal", "frequent") and "high spend" not in tags:
            add("personalised_recommendation", "grow_basket", trait(tag))
            add("precision_marketing", "loyalty_rewards", trait(tag))
        elif tag in ("low spend", "infrequent") and not tags & {"lapsing", "new"}:
            add("precision_marketing", "activation", trait(tag))

    if theme == "eco":
        add("new_product_promotion", "sustainable", _text(lang, "why.eco"))
    elif theme == "tech":
        add("new_product_promotion", "launch_previews", _text(lang, "why.tech"))
    elif theme == "quality" and len(out) < 2:
        add("personalised_recommendation", "premium_recs", _text(lang, "why.quality"))
    if len(out) < 2 and not has_orders:  # no purchase history to recommend from
        add("personalised_recommendation", "profile_recs", _text(lang, "why.no_orders"))
    if len(out) < 2 and has_orders:
        add("personalised_recommendation", "personal_recs", _text(lang, "why.no_trait"))
    if len(out) < 2:
        add("new_product_promotion", "new_arrivals", _text(lang, "why.no_trait"))
    return out[:4]


# --------------------------------------------------------------------------- profiles
# Bumped whenever names, traits or the playbook change, so profiles saved with a run by an
# older version are built again instead of showing names the current rules would not give.
PROFILES_VERSION = "3"


def build_profiles(
    segments: pd.DataFrame,
    reviews: pd.DataFrame | None = None,
    *,
    segment_col: str = "segment",
    units: Mapping[str, str] | None = None,
    category_labels: Mapping[str, str] | None = None,
    top_words: int = 10,
    lang: str = "en",
    attribute_labels: Mapping[str, str] | None = None,
) -> list[SegmentProfile]:
    """One profile per segment, largest first and "Noise" last.

    ``segments``: one row per customer with ``segment_col`` and numeric feature columns
    (``customer_id``, ``x``, ``y`` and ``confidence`` are not features). ``reviews``:
    ``customer_id`` and ``review_text``, joined on ``customer_id``. ``units`` overrides the
    feature units of the built-in catalogue; ``category_labels`` maps ``share_*`` columns to
    readable category names (default: derived from the column name); ``attribute_labels`` maps
    attribute features to what they say ("contract_two_year" → "contract: Two year").

    ``lang`` ("en" or "zh", see :data:`core.locale.LANGS`) is the language of the text the
    engine writes: automatic names and playbook actions. ``traits`` stay English tags in every
    language (show them with :func:`trait_label`); data values (segment ids, category names,
    review words) are never translated.
    """
    _check_lang(lang)
    if segment_col not in segments.columns:
        raise ValueError(f"no segment column {segment_col!r} in the segments table")
    df = segments.reset_index(drop=True)
    seg = df[segment_col].astype(str)
    seg = seg.where(df[segment_col].notna(), NOISE_LABEL)
    n = len(df)
    all_units = {**_default_units(), **(dict(units) if units else {})}
    cols = feature_columns(df, segment_col)
    for c in cols:
        if c.startswith("share_"):
            all_units.setdefault(c, "share")
    all_units = {c: all_units[c] for c in cols if c in all_units}
    cat_cols = [c for c in cols if c.startswith("share_") and all_units.get(c, "share") == "share"]
    labels = dict(category_labels or {})

    sizes = seg.value_counts()
    order = _segment_order(sizes)
    if cols:
        means, z, pct = _stats_table(df, cols, seg)
    else:
        means = z = pct = pd.DataFrame(index=order)

    revenue = pd.Series(np.nan, index=order)
    total_rev = np.nan
    if "monetary" in df.columns and pd.api.types.is_numeric_dtype(df["monetary"]):
        m = pd.to_numeric(df["monetary"], errors="coerce").fillna(0.0)
        revenue = m.groupby(seg.to_numpy()).sum().reindex(order)
        total_rev = float(m.sum())

    words: dict[str, list[tuple[str, float]]] = {s: [] for s in order}
    if (
        reviews is not None
        and len(reviews)
        and {"customer_id", "review_text"} <= set(reviews.columns)
        and "customer_id" in df.columns
    ):
        seg_of = pd.Series(seg.to_numpy(), index=df["customer_id"].astype(str).to_numpy())
        seg_of = seg_of[~seg_of.index.duplicated()]
        r_seg = reviews["customer_id"].astype(str).map(seg_of)
        text = reviews["review_text"]
        ok = r_seg.notna() & text.notna()
        if ok.any():
            grouped = text[ok].astype(str).groupby(r_seg[ok].to_numpy(), sort=False).agg(list)
            words.update(class_tfidf(grouped, top_n=top_words))

    facts = segment_facts(df[cols], seg, _spend_column(cols, all_units))
    binary = {
        c
        for c in cols
        if c not in _ORDER_FEATURES and df[c].dropna().isin([0, 1]).all() and df[c].notna().any()
    }

    profiles: list[SegmentProfile] = []
    themes: dict[str, str | None] = {}
    for s in order:
        size = int(sizes[s])
        mean_d = {c: _num(means.at[s, c]) for c in cols}
        z_all = {c: _num(z.at[s, c]) for c in cols}
        z_d = {c: v for c, v in z_all.items() if math.isfinite(v)}  # no data in it: left out
        st = {c: _Stats(z_all[c], _num(pct.at[s, c])) for c in cols if c not in cat_cols}
        cats = sorted(
            ((labels.get(c, category_label(c)), mean_d[c]) for c in cat_cols if mean_d[c] > 0),
            key=lambda kv: -kv[1],
        )[:3]
        w = words.get(s, [])
        fx = facts.get(s, SegmentFacts())
        theme = _theme_holds(word_theme(w), fx)
        themes[s] = theme
        traits = _traits(st, all_units, fx)
        tags = {t.tag for t in traits}
        if s == NOISE_LABEL:
            name = _text(lang, "name.noise")
        elif not _is_generic_label(s):
            name = s  # already a name (RFM tiers, user labels)
        elif not fx.has_orders and not tags and theme is None:
            name = _attribute_name(st, mean_d, binary, lang, attribute_labels) or _name(
                tags, theme, lang, fx
            )
        else:
            name = _name(tags, theme, lang, fx)
        rev = float(revenue.get(s, np.nan))
        profiles.append(
            SegmentProfile(
                segment=s,
                size=size,
                share=size / n if n else float("nan"),
                revenue=rev,
                revenue_share=rev / total_rev
                if total_rev and np.isfinite(total_rev)
                else float("nan"),
                means=mean_d,
                z=z_d,
                top_categories=[(c, float(v)) for c, v in cats],
                words=w,
                traits=[t.tag for t in traits][:6],
                name=name,
                actions=_actions(
                    traits, theme, cats[0][0] if cats else None, w, lang, has_orders=fx.has_orders
                ),
                units=all_units,
                facts=fx.to_dict(),
            )
        )
    _unique_names(profiles, themes, lang)
    return profiles


def _num(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f


# --------------------------------------------------------------------------- compare
def compare_segments(profiles: Sequence[SegmentProfile], a: str, b: str) -> pd.DataFrame:
    """Feature by feature: mean in a and b, their ratio (a / b) and the z difference (a − b).

    Sorted by the absolute z difference, largest first.
    """
    by = {p.segment: p for p in profiles}
    for s in (a, b):
        if s not in by:
            raise KeyError(f"no segment {s!r} (have {', '.join(by)})")
    pa, pb = by[a], by[b]
    feats = [f for f in pa.means if f in pb.means]
    ma = np.array([pa.means[f] for f in feats], dtype=float)
    mb = np.array([pb.means[f] for f in feats], dtype=float)
    za = np.array([pa.z.get(f, np.nan) for f in feats], dtype=float)
    zb = np.array([pb.z.get(f, np.nan) for f in feats], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mb != 0, ma / mb, np.nan)
    table = pd.DataFrame(
        {
            "feature": feats,
            "mean_a": ma,
            "mean_b": mb,
            "ratio": ratio,
            "z_a": za,
            "z_b": zb,
            "z_diff": za - zb,
        }
    )
    key = table["z_diff"].abs().fillna(-1.0)
    return table.iloc[np.argsort(-key.to_numpy(), kind="stable")].reset_index(drop=True)


# ------------------------------------------------------------------------------ JSON
def _clean(v):
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def _f(v) -> float:
    return float("nan") if v is None else float(v)


def profiles_to_dict(profiles: Sequence[SegmentProfile]) -> list[dict]:
    """JSON-safe dicts (NaN/inf become None, tuples become lists)."""
    return [_clean(asdict(p)) for p in profiles]


def profiles_from_dict(data: Sequence[Mapping]) -> list[SegmentProfile]:
    out = []
    for d in data:
        out.append(
            SegmentProfile(
                segment=str(d["segment"]),
                size=int(d["size"]),
                share=_f(d.get("share")),
                revenue=_f(d.get("revenue")),
                revenue_share=_f(d.get("revenue_share")),
                means={k: _f(v) for k, v in (d.get("means") or {}).items()},
                z={k: _f(v) for k, v in (d.get("z") or {}).items()},
                top_categories=[(str(c), _f(v)) for c, v in d.get("top_categories") or []],
                words=[(str(w), _f(v)) for w, v in d.get("words") or []],
                traits=[str(t) for t in d.get("traits") or []],
                name=str(d.get("name", d["segment"])),
                actions=[Action(**a) for a in d.get("actions") or []],
                units={str(k): str(v) for k, v in (d.get("units") or {}).items()},
                facts={
                    str(k): v if isinstance(v, bool) else _f(v)
                    for k, v in (d.get("facts") or {}).items()
                },
            )
        )
    return out
