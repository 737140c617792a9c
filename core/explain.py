"""Explain a selection: what sets a group of customers apart from everyone else.

:func:`explain_selection` compares the selected customers (a lasso, a segment, a saved list)
with the rest on three kinds of evidence and says the strongest in plain sentences:

* numeric features ranked by effect size — Cohen's d, the difference of the means in pooled
  standard deviations (0.2 small, 0.5 medium, 0.8 large), so features in dollars, days and
  shares compare on one scale — with the ratio of the means for the sentence ("spends 3.2×
  more");
* categorical over-representation: each value's share in the selection and in the rest, and
  their ratio (lift); the favourite category (the largest ``share_*`` feature) counts as one
  such attribute ("71% buy mostly Electronics vs 18% of the rest");
* distinctive review words: class-based TF-IDF of the selection's reviews against the rest's
  (:func:`core.profiles.class_tfidf`).

Feature columns, units and category labels follow :mod:`core.profiles`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.locale import phrase
from core.profiles import _default_units, category_label, class_tfidf, feature_columns

MIN_GROUP = 5  # fewer customers on either side: no statistics, a message instead
TOP_CATEGORY = "top_category"  # the derived attribute: each customer's largest share_* feature
MIN_EFFECT = 0.3  # |Cohen's d| a numeric feature needs to be said in a sentence
MIN_LIFT = 1.3  # a categorical value must be this over-represented ...
MIN_SHARE_GAP = 0.10  # ... and by this many points, to be said in a sentence

# How a feature is said when the selection is higher / lower. "{x}" is the magnitude
# ("3.2×" or "45%"); templates without it are used as they are.
_SAY: dict[str, tuple[str, str]] = {
    "monetary": ("Spends {x} more", "Spends {x} less"),
    "frequency": ("Orders {x} more often", "Orders {x} less often"),
    "recency_days": ("Last ordered {x} longer ago", "Ordered more recently"),
    "tenure_days": ("Has been a customer {x} longer", "Has been a customer {x} less long"),
    "avg_order_value": ("Spends {x} more per order", "Spends {x} less per order"),
    "avg_days_between_orders": (
        "Waits {x} longer between orders",
        "Waits {x} less between orders",
    ),
    "items_per_order": ("Buys {x} more items per order", "Buys {x} fewer items per order"),
    "orders_last_90d": (
        "Placed {x} more orders in the last 90 days",
        "Placed {x} fewer orders in the last 90 days",
    ),
    "spend_last_90d": (
        "Spent {x} more in the last 90 days",
        "Spent {x} less in the last 90 days",
    ),
    "distinct_products": ("Buys {x} more different products", "Buys {x} fewer different products"),
    "distinct_categories": (
        "Shops in {x} more categories",
        "Shops in {x} fewer categories",
    ),
    "holiday_share": (
        "Spends {x} more of their budget in November–December",
        "Spends {x} less of their budget in November–December",
    ),
    "discount_rate": ("Gets {x} more discount", "Gets {x} less discount"),
    "return_rate": ("Returns {x} more", "Returns {x} less"),
    "review_count": ("Writes {x} more reviews", "Writes {x} fewer reviews"),
    "avg_review_length": ("Writes {x} longer reviews", "Writes {x} shorter reviews"),
    "avg_rating": ("Gives higher ratings", "Gives lower ratings"),  # a ratio of stars says little
    "low_rating_share": (
        "Gives {x} more low ratings (2 stars or less)",
        "Gives {x} fewer low ratings (2 stars or less)",
    ),
    "account_age_days": ("Signed up {x} longer ago", "Signed up more recently"),
}
_UNIT_WORD = {"days": " days", "stars": " stars", "chars": " characters"}

# The whole-sentence phrases in each interface language (numbers are formatted the same way).
_TEXT = {
    "en": {
        "too_few": "Select at least {min_group} customers to see what sets them apart "
        "({n} selected).",
        "no_rest": "The selection covers (nearly) every customer: there is no rest to compare "
        "it with.",
        "nothing": "Nothing stands out: these customers look like the rest on every measure.",
        "share_label": "Share of spend on {cat}",
        "numeric": "{text} than the rest (avg {a} vs {b})",
        "top_category": "{a} buy mostly {value} vs {b} of the rest",
        "attribute": "{a} have {column} '{value}' vs {b} of the rest",
        "words": "Reviews mention {words}",
    },
    "zh": {
        "too_few": "请至少选择 {min_group} 位客户，才能看出他们与其他客户的不同（当前选中 {n} 位）。",
        "no_rest": "选中的客户（几乎）就是全部客户：没有其他客户可以比较。",
        "nothing": "没有突出之处：这些客户在各项指标上都与其他客户相似。",
        "share_label": "{cat} 消费占比",
        "numeric": "{text}（平均 {a} 对比 {b}）",
        "top_category": "{a} 主要购买 {value}，其他客户为 {b}",
        "attribute": "{a} 的 {column} 为“{value}”，其他客户为 {b}",
        "words": "评论常提到 {words}",
    },
}
# Chinese says a feature as its subject plus the word for "more" / "less" ("消费比其他客户多
# 45%", "消费是其他客户的 3.2 倍"); a fixed sentence where English has no magnitude.
_ZH_SAY: dict[str, tuple[str, str, str]] = {
    "monetary": ("消费", "多", "少"),
    "frequency": ("下单次数", "多", "少"),
    "recency_days": ("距上次下单的天数", "多", "少"),
    "tenure_days": ("成为客户的时长", "长", "短"),
    "avg_order_value": ("客单价", "高", "低"),
    "avg_days_between_orders": ("两次下单的间隔", "长", "短"),
    "items_per_order": ("每单购买件数", "多", "少"),
    "orders_last_90d": ("近 90 天的下单次数", "多", "少"),
    "spend_last_90d": ("近 90 天的消费", "多", "少"),
    "distinct_products": ("购买的不同商品数", "多", "少"),
    "distinct_categories": ("购买涉及的品类数", "多", "少"),
    "holiday_share": ("11–12 月的消费占比", "高", "低"),
    "discount_rate": ("折扣率", "高", "低"),
    "return_rate": ("退货率", "高", "低"),
    "review_count": ("评论数", "多", "少"),
    "avg_review_length": ("评论长度", "长", "短"),
    "avg_rating": ("评分", "高", "低"),
    "low_rating_share": ("低分评价（2 星及以下）占比", "高", "低"),
    "account_age_days": ("注册时长", "长", "短"),
}
_ZH_FIXED: dict[str, tuple[str | None, str | None]] = {
    "recency_days": (None, "最近一次下单比其他客户更近"),
    "avg_rating": ("评分高于其他客户", "评分低于其他客户"),
    "account_age_days": (None, "注册时间比其他客户晚"),
}
_ZH_LABEL = {
    "monetary": "净消费",
    "frequency": "订单数",
    "recency_days": "距上次购买天数",
    "tenure_days": "成为客户的天数",
    "avg_order_value": "平均订单金额",
    "avg_days_between_orders": "平均下单间隔（天）",
    "items_per_order": "每单平均件数",
    "orders_last_90d": "近 90 天订单数",
    "spend_last_90d": "近 90 天净消费",
    "distinct_products": "购买的不同商品数",
    "distinct_categories": "购买的不同品类数",
    "holiday_share": "11–12 月消费占比",
    "discount_rate": "折扣率",
    "return_rate": "退货率",
    "review_count": "评论数",
    "avg_review_length": "平均评论长度（字符）",
    "avg_rating": "平均评分",
    "low_rating_share": "低分评价（2 星及以下）占比",
    "account_age_days": "注册天数",
}
_ZH_UNIT_WORD = {"days": " 天", "stars": " 星", "chars": " 个字符"}


@dataclass
class SelectionExplanation:
    """What distinguishes a selection from the rest.

    ``numeric``: feature, label, unit, selection, rest (means), ratio, effect_size (Cohen's d),
    sorted by |effect_size|. ``categorical``: column, value, selection_share, rest_share, lift,
    sorted by how much more common the value is in the selection. ``words``: the selection's
    distinctive review terms, best first. ``message`` is set (and the rest left empty) when the
    selection is too small or covers nearly everyone.
    """

    n_selected: int
    n_rest: int
    numeric: pd.DataFrame = field(default_factory=pd.DataFrame)
    categorical: pd.DataFrame = field(default_factory=pd.DataFrame)
    words: list[tuple[str, float]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    message: str | None = None


def explain_selection(
    df: pd.DataFrame,
    mask,
    reviews: pd.DataFrame | None = None,
    categorical: Sequence[str] | None = None,
    *,
    features: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    category_labels: Mapping[str, str] | None = None,
    max_sentences: int = 6,
    top_words: int = 8,
    lang: str = "en",
) -> SelectionExplanation:
    """Compare the rows of `df` where `mask` is True with the other rows.

    ``df``: one row per customer (``customer_id`` and numeric features, as a segments table).
    ``mask``: booleans aligned with the rows. ``reviews``: ``customer_id`` and ``review_text``
    (optional). ``categorical``: the attribute columns to test for over-representation; None
    takes every text or boolean column with 2 to 50 values (not ``customer_id``). The derived
    favourite category is added whenever ``share_*`` features are present. ``features``: the
    numeric columns to compare (default: :func:`core.profiles.feature_columns`). ``lang``:
    the language of the message, the sentences and the feature labels ("en" or "zh").
    """
    sel = np.asarray(mask)
    if sel.dtype != bool:
        raise ValueError(f"mask must be booleans (one per customer), got dtype {sel.dtype}")
    if sel.shape != (len(df),):
        raise ValueError(f"mask has {sel.size} values for {len(df)} customers; they must align")
    n_sel, n_rest = int(sel.sum()), int((~sel).sum())
    if n_sel < MIN_GROUP:
        return SelectionExplanation(
            n_sel,
            n_rest,
            message=phrase(_TEXT, lang, "too_few", min_group=MIN_GROUP, n=n_sel),
        )
    if n_rest < MIN_GROUP:
        return SelectionExplanation(
            n_sel,
            n_rest,
            message=phrase(_TEXT, lang, "no_rest"),
        )
    df = df.reset_index(drop=True)
    all_units = {**_default_units(), **dict(units or {})}
    labels = dict(category_labels or {})
    if features is None:
        cols = feature_columns(df)
    else:
        missing = [c for c in features if c not in df.columns]
        if missing:
            raise ValueError(f"no feature column(s) {', '.join(map(repr, missing))} in the table")
        cols = list(features)
    for c in cols:
        if c.startswith("share_"):
            all_units.setdefault(c, "share")
    numeric = _numeric_table(df, sel, cols, all_units, labels, lang)

    cat_df = df
    if categorical is None:
        categorical = [
            c
            for c in df.columns
            if c != "customer_id"
            and c not in cols
            and (pd.api.types.is_string_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
            and 2 <= df[c].nunique() <= 50
        ]
    else:
        missing = [c for c in categorical if c not in df.columns]
        if missing:
            raise ValueError(
                f"no categorical column(s) {', '.join(map(repr, missing))} in the table"
            )
    categorical = list(categorical)
    share_cols = [c for c in cols if c.startswith("share_") and all_units.get(c) == "share"]
    if share_cols and TOP_CATEGORY not in categorical:
        cat_df = df.assign(**{TOP_CATEGORY: _top_category(df, share_cols, labels)})
        categorical = [TOP_CATEGORY, *categorical]
    cat = _categorical_table(cat_df, sel, categorical)

    words = _words(df, sel, reviews, top_words)
    sentences = _sentences(numeric, cat, words, max_sentences, lang)
    return SelectionExplanation(n_sel, n_rest, numeric, cat, words, sentences)


# ------------------------------------------------------------------------- numeric
def feature_label(
    column: str, category_labels: Mapping[str, str] | None = None, lang: str = "en"
) -> str:
    """A readable name: the catalogue description, or 'Share of spend on X' for share_*.

    In Chinese: a short Chinese name for catalogue features, the column itself for others.
    """
    if column.startswith("share_"):
        cat = (category_labels or {}).get(column) or category_label(column)
        return phrase(_TEXT, lang, "share_label", cat=cat)
    if lang != "en":
        return _ZH_LABEL.get(column, column) if lang == "zh" else column
    desc = _descriptions().get(column)
    if desc:
        return desc
    base = column.replace("_", " ").strip()
    return base[:1].upper() + base[1:] if base else column


def _descriptions() -> dict[str, str]:
    try:
        from core.features import CATALOGUE
    except Exception:  # pragma: no cover - features needs duckdb; explanations should not
        return {}
    return {f.name: f.description for f in CATALOGUE}


def _numeric_table(
    df: pd.DataFrame,
    sel: np.ndarray,
    cols: list[str],
    units: Mapping[str, str],
    labels: Mapping[str, str],
    lang: str = "en",
) -> pd.DataFrame:
    rows = []
    for c in cols:
        x = pd.to_numeric(df[c], errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
        a, b = x[sel].dropna(), x[~sel].dropna()
        if len(a) < 2 or len(b) < 2:
            continue  # no data to compare on one side
        ma, mb = float(a.mean()), float(b.mean())
        va, vb = float(a.var(ddof=1)), float(b.var(ddof=1))
        pooled = math.sqrt(((len(a) - 1) * va + (len(b) - 1) * vb) / (len(a) + len(b) - 2))
        if pooled > 0:
            d = (ma - mb) / pooled
        else:
            d = 0.0 if ma == mb else math.copysign(math.inf, ma - mb)
        ratio = ma / mb if mb > 0 and ma >= 0 else math.nan
        rows.append(
            {
                "feature": c,
                "label": feature_label(c, labels, lang),
                "unit": units.get(c, ""),
                "selection": ma,
                "rest": mb,
                "ratio": ratio,
                "effect_size": d,
            }
        )
    table = pd.DataFrame(
        rows, columns=["feature", "label", "unit", "selection", "rest", "ratio", "effect_size"]
    )
    if table.empty:
        return table
    key = -table["effect_size"].abs().to_numpy()
    return table.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)


# --------------------------------------------------------------------- categorical
def _top_category(df: pd.DataFrame, share_cols: list[str], labels: Mapping[str, str]) -> pd.Series:
    S = df[share_cols].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(float)
    best = S.argmax(axis=1)
    names = np.array([labels.get(c) or category_label(c) for c in share_cols], dtype=object)
    out = pd.Series(names[best], index=df.index, dtype=object)
    return out.where(S.max(axis=1) > 0, None)  # bought nothing: no favourite


def _categorical_table(df: pd.DataFrame, sel: np.ndarray, columns: list[str]) -> pd.DataFrame:
    parts = []
    for c in columns:
        values = df[c].astype(object).where(df[c].notna(), "(missing)").astype(str)
        a = values[sel].value_counts(normalize=True)
        b = values[~sel].value_counts(normalize=True)
        both = pd.concat([a.rename("selection_share"), b.rename("rest_share")], axis=1).fillna(0.0)
        if len(both) < 2 and c != TOP_CATEGORY:
            continue  # one value for everyone says nothing
        both.index.name = "value"
        both = both.reset_index()
        both.insert(0, "column", c)
        parts.append(both)
    cols = ["column", "value", "selection_share", "rest_share", "lift"]
    if not parts:
        return pd.DataFrame(columns=cols)
    table = pd.concat(parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["lift"] = np.where(
            table["rest_share"] > 0, table["selection_share"] / table["rest_share"], np.inf
        )
    gap = (table["selection_share"] - table["rest_share"]).to_numpy()
    table = table.iloc[np.argsort(-gap, kind="stable")].reset_index(drop=True)
    return table[cols]


# --------------------------------------------------------------------------- words
def _words(
    df: pd.DataFrame, sel: np.ndarray, reviews: pd.DataFrame | None, top_n: int
) -> list[tuple[str, float]]:
    if (
        reviews is None
        or not len(reviews)
        or not {"customer_id", "review_text"} <= set(reviews.columns)
        or "customer_id" not in df.columns
    ):
        return []
    chosen = set(df.loc[sel, "customer_id"].astype(str))
    in_sel = reviews["customer_id"].astype(str).isin(chosen).to_numpy()
    text = reviews["review_text"]
    ok = text.notna().to_numpy()
    docs = {
        "selection": text[in_sel & ok].astype(str).tolist(),
        "rest": text[~in_sel & ok].astype(str).tolist(),
    }
    if not docs["selection"] or not docs["rest"]:
        return []
    return class_tfidf(docs, top_n=top_n)["selection"]


# ----------------------------------------------------------------------- sentences
def _fmt(v: float, unit: str, lang: str = "en") -> str:
    if not math.isfinite(v):
        return "—"
    if unit == "currency":
        sign = "−" if v < 0 else ""
        return f"{sign}${abs(v):,.0f}" if abs(v) >= 100 else f"{sign}${abs(v):,.2f}"
    if unit == "share":
        return f"{v:.0%}" if abs(v) >= 0.1 else f"{v:.1%}"
    digits = 0 if abs(v) >= 100 else 1
    if unit == "stars":
        digits = 2
    words = _ZH_UNIT_WORD if lang == "zh" else _UNIT_WORD
    return f"{v:,.{digits}f}{words.get(unit, '')}"


def _magnitude(ratio: float) -> str | None:
    if not math.isfinite(ratio) or ratio <= 0:
        return None
    if ratio >= 1.5:
        return f"{ratio:.1f}×"
    return f"{abs(ratio - 1):.0%}"


def _numeric_text_zh(row: Mapping, higher: bool) -> str:
    """'消费是其他客户的 3.2 倍' / '客单价比其他客户低 45%' (without the averages)."""
    feature = str(row["feature"])
    fixed = _ZH_FIXED.get(feature, (None, None))[0 if higher else 1]
    if fixed:
        return fixed
    if feature in _ZH_SAY:
        subject, more, less = _ZH_SAY[feature]
    elif feature.startswith("share_"):
        cat = str(row["label"]).removesuffix(" 消费占比")
        subject, more, less = f"在 {cat} 上的消费占比", "高", "低"
    else:
        subject, more, less = f"{row['label']} ", "高", "低"
    word = more if higher else less
    if subject.endswith("比"):  # "占比比其他客户高" stumbles; a comma reads naturally
        subject += "，"
    ratio = float(row["ratio"])
    if not math.isfinite(ratio) or ratio <= 0:
        return f"{subject}{word}于其他客户"
    if ratio >= 1.5:
        return f"{subject}是其他客户的 {ratio:.1f} 倍"
    return f"{subject}比其他客户{word} {abs(ratio - 1):.0%}"


def numeric_sentence(row: Mapping, lang: str = "en") -> str:
    """'Spends 3.2× more than the rest (avg $1,204 vs $376)' for one row of the numeric table."""
    higher = row["selection"] > row["rest"]
    feature, unit = str(row["feature"]), str(row.get("unit") or "")
    if lang == "zh":
        text = _numeric_text_zh(row, higher)
    else:
        if feature in _SAY:
            template = _SAY[feature][0 if higher else 1]
        elif feature.startswith("share_"):
            cat = str(row["label"]).removeprefix("Share of spend on ")
            template = f"Spends {{x}} {'more' if higher else 'less'} of their budget on {cat}"
        else:
            template = f"{row['label']}: {{x}} {'higher' if higher else 'lower'}"
        mag = _magnitude(float(row["ratio"]))
        text = template.replace("{x}", mag) if mag else template.replace(" {x}", "")
    a = _fmt(float(row["selection"]), unit, lang)
    b = _fmt(float(row["rest"]), unit, lang)
    return phrase(_TEXT, lang, "numeric", text=text, a=a, b=b)


def categorical_sentence(row: Mapping, lang: str = "en") -> str:
    """'71% buy mostly Electronics vs 18% of the rest' for one row of the categorical table."""
    a, b = f"{row['selection_share']:.0%}", f"{row['rest_share']:.0%}"
    if row["column"] == TOP_CATEGORY:
        return phrase(_TEXT, lang, "top_category", a=a, value=row["value"], b=b)
    column = str(row["column"])
    if lang != "zh":  # Chinese keeps the column's own (technical) name
        column = column.replace("_", " ")
    return phrase(_TEXT, lang, "attribute", a=a, column=column, value=row["value"], b=b)


def words_sentence(words: Sequence[tuple[str, float]], n: int = 5, lang: str = "en") -> str:
    if lang == "zh":
        listed = "、".join(f"“{w}”" for w, _ in words[:n])
    else:
        listed = ", ".join(f"'{w}'" for w, _ in words[:n])
    return phrase(_TEXT, lang, "words", words=listed)


def _sentences(
    numeric: pd.DataFrame,
    cat: pd.DataFrame,
    words: list[tuple[str, float]],
    max_sentences: int,
    lang: str = "en",
) -> list[str]:
    out: list[tuple[float, str]] = []
    said_categories: set[str] = set()
    if not cat.empty:
        gap = cat["selection_share"] - cat["rest_share"]
        over = cat[(cat["lift"] >= MIN_LIFT) & (gap >= MIN_SHARE_GAP)]
        over = over[over["value"] != "(missing)"].drop_duplicates("column")
        for _, r in over.head(2).iterrows():
            # Rank next to the numeric sentences: a gap of 50 points ≈ a large effect (d 1.0).
            strength = 2 * float(r["selection_share"] - r["rest_share"])
            out.append((strength, categorical_sentence(r, lang)))
            if r["column"] == TOP_CATEGORY:
                said_categories.add(phrase(_TEXT, lang, "share_label", cat=r["value"]))
    if not numeric.empty:
        strong = numeric[numeric["effect_size"].abs() >= MIN_EFFECT]
        # "72% buy mostly Grocery" already says what "spends more on Grocery" would.
        strong = strong[~strong["label"].isin(said_categories)]
        for _, r in strong.head(max_sentences).iterrows():
            out.append((abs(float(r["effect_size"])), numeric_sentence(r, lang)))
    ranked = [s for _, s in sorted(out, key=lambda t: -t[0])][: max(0, max_sentences - 1)]
    if words:
        ranked.append(words_sentence(words, lang=lang))
    if not ranked:
        ranked.append(phrase(_TEXT, lang, "nothing"))
    return ranked
