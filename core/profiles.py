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

Traits use relative thresholds only: a segment is "high" on a feature when its mean is well
above the overall mean (z) *and* its customers sit mostly above the population median (mean
percentile rank), so one shop's currency or a few extreme spenders do not decide a trait.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

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


# Words that say nothing about a shopper in an e-commerce review.
FILLER_WORDS = frozenset(
    _words(
        """product products item items order orders ordered ordering bought buy buying purchase
    purchased purchases got get thing things really just im ive dont did does use using one
    also would will thanks thank"""
    )
)


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


# ------------------------------------------------------------------------ c-TF-IDF
_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"  # words of two or more letters, no digits


def _stop_words(stop_words) -> list[str] | None:
    if stop_words is None:
        return None
    if isinstance(stop_words, str):
        if stop_words != "english":
            raise ValueError(
                f"stop_words must be 'english', a list of words or None, not {stop_words!r}"
            )
        return sorted(set(ENGLISH_STOP_WORDS) | FILLER_WORDS)
    return sorted({str(w).lower() for w in stop_words})


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
            ngram_range=ngram_range,
            stop_words=stop,
            min_df=md,
            token_pattern=_TOKEN_PATTERN,
            lowercase=True,
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
        covered: set[str] = set()
        for j in order[: top_n * 6]:
            if score[j] <= 0:
                break
            term = str(vocab[terms[j]])
            toks = term.split()
            if len(toks) > 1 and all(t in covered for t in toks):
                continue  # a bigram of words already listed adds nothing
            if len(toks) == 1 and any(toks[0] in c.split() for c, _ in chosen):
                continue  # a word already shown inside a listed bigram
            chosen.append((term, float(score[j])))
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
_THEME_ADJ = {
    "eco": "Eco-minded",
    "tech": "Tech-savvy",
    "gift": "Gift-giving",
    "deal": "Deal-seeking",
    "unhappy": "Dissatisfied",
    "quality": "Quality-focused",
    "first": "First-time",
}
_THEME_NAME = {
    "eco": "Eco-minded regulars",
    "tech": "Tech enthusiasts",
    "gift": "Gift buyers",
    "deal": "Deal seekers",
    "unhappy": "Dissatisfied customers",
    "quality": "Quality seekers",
    "first": "First-time buyers",
}


def word_theme(words: Sequence[tuple[str, float]], min_hits: int = 3) -> str | None:
    """The theme most of a segment's top words belong to (eco, tech, gift, ...), if any."""
    if not words:
        return None
    need = min(min_hits, max(2, len(words) // 3))
    hits: dict[str, int] = {}
    for term, _ in words:
        toks = term.lower().split()
        for theme, stems in _THEMES.items():
            if any(t.startswith(s) for t in toks for s in stems):
                hits[theme] = hits.get(theme, 0) + 1
    if not hits:
        return None
    theme, n = max(hits.items(), key=lambda kv: (kv[1], -list(_THEMES).index(kv[0])))
    return theme if n >= need else None


@dataclass
class _Trait:
    tag: str
    strength: float  # ≥ 1 when it fires; used to order traits and actions


def _traits(st: Mapping[str, _Stats], units: Mapping[str, str]) -> list[_Trait]:
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

    spend_col = (
        "monetary"
        if "monetary" in st
        else next(
            (c for c in ("spend_last_90d", "avg_order_value") if c in st),
            next((c for c, u in units.items() if u == "currency" and c in st), None),
        )
    )
    out: list[_Trait] = []
    new = max(low("tenure_days", 0.8, 0.15), low("account_age_days", 0.8, 0.15))
    lapsing = high("recency_days", 0.8, 0.12)
    if not lapsing and "recency_days" not in st:
        lapsing = low("orders_last_90d", 0.8, 0.12)
    if lapsing and new:  # signed up recently yet long gone: not "new"
        new = 0.0
    recent = 0.0 if lapsing else low("recency_days", 0.4, 0.08)
    spend = high(spend_col, 0.5, 0.1) if spend_col else 0.0
    frequent = high("frequency", 0.5, 0.1)
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
        and (recent or high("tenure_days", 0.3, 0.05) or high("orders_last_90d", 0.3, 0.05))
    ):
        out.append(_Trait("loyal", max(frequent, recent)))
    disc = high("discount_rate", 0.6, 0.1)
    if disc:
        out.append(_Trait("discount-driven", disc))
    ret = high("return_rate", 0.6, 0.1)
    if ret:
        out.append(_Trait("high returns", ret))
    unhappy = max(low("avg_rating", 0.6, 0.1), high("low_rating_share", 0.6, 0.05))
    if unhappy:
        out.append(_Trait("unhappy reviews", unhappy))
    elif high("avg_rating", 0.6, 0.1):
        out.append(_Trait("happy reviews", high("avg_rating", 0.6, 0.1) * 0.5))
    seasonal = high("holiday_share", 0.6, 0.1)
    if seasonal:
        out.append(_Trait("gift / seasonal", seasonal))
    if spend_col != "avg_order_value":
        aov = high("avg_order_value", 0.8, 0.15)
        if aov and not spend:
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


def _name(tags: set[str], theme: str | None) -> str:
    def has(*t):
        return all(x in tags for x in t)

    if has("new"):
        return (
            "Promising newcomers"
            if ("high spend" in tags or "big baskets" in tags)
            else "New customers"
        )
    if has("lapsing"):
        if "high spend" in tags or "frequent" in tags:
            return "At-risk high spenders"
        return "Lapsing customers"
    if has("high returns") and has("unhappy reviews"):
        return "Unhappy returners"
    if has("high returns"):
        return "Frequent returners"
    if has("unhappy reviews"):
        return "Dissatisfied customers"
    if has("gift / seasonal"):
        return "Seasonal gift buyers"
    if has("discount-driven"):
        return "Bargain hunters"
    if has("high spend") and (has("frequent") or has("recent") or has("loyal")):
        return "High-value loyalists"
    if has("high spend"):
        return "Big spenders"
    if theme is not None:
        return _THEME_NAME[theme]
    if has("big baskets"):
        return "Big-basket shoppers"
    if has("loyal") or (has("frequent") and has("recent")):
        return "Loyal regulars"
    if has("frequent"):
        return "Frequent shoppers"
    if has("low spend") or has("infrequent"):
        return "Occasional shoppers"
    if has("recent"):
        return "Recently active"
    return "Steady regulars"


def _unique_names(profiles: list[SegmentProfile], themes: Mapping[str, str | None]) -> None:
    """Make names unique: theme adjective, then top category, then the segment label."""
    taken = [p.name for p in profiles]

    def strategies(p: SegmentProfile):
        theme = themes.get(p.segment)
        base = p.name
        yield (
            f"{_THEME_ADJ[theme]} {base[:1].lower()}{base[1:]}"
            if theme and not base.startswith(_THEME_ADJ[theme].split("-")[0])
            else base
        )
        yield f"{base} · {p.top_categories[0][0]}" if p.top_categories else base
        yield f"{base} ({p.segment})"

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
            p.name = f"{p.name} ({p.segment})"
        seen.add(p.name)


# -------------------------------------------------------------------------- actions
def _actions(
    traits: list[_Trait], theme: str | None, top_cat: str | None, words: list[tuple[str, float]]
) -> list[Action]:
    cat = top_cat or "their favourite category"
    in_cat = f" in {top_cat}" if top_cat else ""
    complaint_words = [w for w, _ in words if any(w.startswith(s) for s in _THEMES["unhappy"])][:3]
    mention = f" (reviews mention: {', '.join(complaint_words)})" if complaint_words else ""
    tags = {t.tag for t in traits}
    out: list[Action] = []

    def add(kind: str, title: str, detail: str, why: str) -> None:
        if all((a.kind, a.title) != (kind, title) for a in out):
            out.append(Action(kind, title, detail, why))

    for t in traits:
        tag = t.tag
        if tag == "high spend" or (tag == "loyal" and "high spend" in tags):
            if "lapsing" in tags:
                add(
                    "risk_control",
                    "Retention alert for valuable customers",
                    "Put these high spenders on a churn watch list: alert the retention team when "
                    "the time since their last order passes 1.5× their usual gap, and call the "
                    "largest accounts personally.",
                    "high spend, lapsing",
                )
                continue
            add(
                "personalised_recommendation",
                "Personalised picks and cross-sell",
                f"Recommend premium and complementary items{in_cat} from each customer's history "
                "on the homepage and in a monthly curated email.",
                "high spend",
            )
            add(
                "service_care",
                "VIP service",
                "Priority support, free express shipping and early access to sales and launches "
                "to protect the relationship.",
                "high spend",
            )
        elif tag == "new":
            add(
                "precision_marketing",
                "Second-purchase incentive",
                f"Onboarding emails with a 10% voucher valid 30 days on the second order, "
                f"featuring best-sellers{in_cat}.",
                "new",
            )
            add(
                "new_product_promotion",
                "Show new arrivals in the welcome journey",
                f"Feature new arrivals and best-sellers in {cat} and neighbouring categories to "
                "widen what they know of the shop.",
                "new",
            )
        elif tag == "lapsing":
            add(
                "risk_control",
                "Churn early warning",
                "Score churn risk from time since the last order relative to each customer's usual "
                "gap; trigger contact before they go silent for good.",
                "lapsing",
            )
            add(
                "precision_marketing",
                "Win-back campaign",
                f"Win-back email with a time-limited 15% voucher on their top category ({cat}), "
                "plus a short survey on why they stopped buying.",
                "lapsing",
            )
        elif tag == "discount-driven":
            add(
                "precision_marketing",
                "Targeted coupons, not blanket discounts",
                f"Send personal coupons and price-drop alerts{in_cat} only when they would not "
                "buy otherwise; leave them out of sitewide sales to avoid margin erosion.",
                "discount-driven",
            )
            add(
                "risk_control",
                "Margin guardrail",
                "Cap discount depth and coupon stacking for this segment and track margin per "
                "order, not only revenue.",
                "discount-driven",
            )
        elif tag in ("high returns", "unhappy reviews"):
            add(
                "service_care",
                "Proactive outreach and quality follow-up",
                f"Contact them after delivery, fast-track refunds or replacements, and send the "
                f"complaints{mention} to the buyers of {cat}.",
                tag,
            )
            if tag == "high returns":
                add(
                    "risk_control",
                    "Return-risk monitoring",
                    f"Flag products{in_cat} and customers with repeated returns; fix size guides "
                    "and descriptions, and watch for return-policy abuse.",
                    tag,
                )
            elif "high returns" not in tags:
                add(
                    "risk_control",
                    "Dissatisfaction early warning",
                    "Flag every review of 2 stars or less for a reply within 48 hours and watch "
                    "these customers for churn.",
                    tag,
                )
        elif tag == "gift / seasonal":
            add(
                "new_product_promotion",
                "Pre-season launch",
                f"Preview new {cat} arrivals and a gift guide 4–6 weeks before the peak season "
                "(November–December and gifting days).",
                "gift / seasonal",
            )
            add(
                "precision_marketing",
                "Gift bundles and occasion reminders",
                "Ready-wrapped gift bundles and reminders before birthdays, Valentine's and "
                "Mother's Day.",
                "gift / seasonal",
            )
        elif tag in ("loyal", "frequent") and "high spend" not in tags:
            add(
                "personalised_recommendation",
                "Grow the basket",
                f"Recommend complementary products to what they buy{in_cat}; bundle offers that "
                "raise the order value.",
                tag,
            )
            add(
                "precision_marketing",
                "Loyalty rewards",
                "Points or tiered perks that reward the next order rather than discount it.",
                tag,
            )
        elif tag in ("low spend", "infrequent") and not tags & {"lapsing", "new"}:
            add(
                "precision_marketing",
                "Activation offer",
                f"Free-shipping threshold or bundle offer{in_cat} to turn occasional visits into "
                "regular orders.",
                tag,
            )

    if theme == "eco":
        add(
            "new_product_promotion",
            "Promote sustainable lines",
            "Launch eco-friendly, refill and plastic-free ranges to them first; highlight "
            "materials and sourcing in the message.",
            "review words about sustainability",
        )
    elif theme == "tech":
        add(
            "new_product_promotion",
            "Launch previews and pre-orders",
            f"Early access and pre-orders for new releases{in_cat}, with spec comparisons.",
            "review words about specs and new releases",
        )
    elif theme == "quality" and len(out) < 2:
        add(
            "personalised_recommendation",
            "Premium recommendations",
            f"Recommend premium ranges{in_cat}; they care about quality more than price.",
            "review words about quality",
        )
    if len(out) < 2:
        add(
            "personalised_recommendation",
            "Personalised recommendations",
            f"Recommend items related to past purchases{in_cat} in email and on site.",
            "no strong trait: grow the relationship",
        )
    if len(out) < 2:
        add(
            "new_product_promotion",
            "New arrivals",
            f"Tell them about new arrivals in {cat}.",
            "no strong trait: grow the relationship",
        )
    return out[:4]


# --------------------------------------------------------------------------- profiles
def build_profiles(
    segments: pd.DataFrame,
    reviews: pd.DataFrame | None = None,
    *,
    segment_col: str = "segment",
    units: Mapping[str, str] | None = None,
    category_labels: Mapping[str, str] | None = None,
    top_words: int = 10,
) -> list[SegmentProfile]:
    """One profile per segment, largest first and "Noise" last.

    ``segments``: one row per customer with ``segment_col`` and numeric feature columns
    (``customer_id``, ``x``, ``y`` and ``confidence`` are not features). ``reviews``:
    ``customer_id`` and ``review_text``, joined on ``customer_id``. ``units`` overrides the
    feature units of the built-in catalogue; ``category_labels`` maps ``share_*`` columns to
    readable category names (default: derived from the column name).
    """
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
        theme = word_theme(w)
        themes[s] = theme
        traits = _traits(st, all_units)
        tags = {t.tag for t in traits}
        if s == NOISE_LABEL:
            name = "Unassigned (noise)"
        elif not _is_generic_label(s):
            name = s  # already a name (RFM tiers, user labels)
        else:
            name = _name(tags, theme)
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
                actions=_actions(traits, theme, cats[0][0] if cats else None, w),
                units=all_units,
            )
        )
    _unique_names(profiles, themes)
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
            )
        )
    return out
