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
) -> SelectionExplanation:
    """Compare the rows of `df` where `mask` is True with the other rows.

    ``df``: one row per customer (``customer_id`` and numeric features, as a segments table).
    ``mask``: booleans aligned with the rows. ``reviews``: ``customer_id`` and ``review_text``
    (optional). ``categorical``: the attribute columns to test for over-representation; None
    takes every text or boolean column with 2 to 50 values (not ``customer_id``). The derived
    favourite category is added whenever ``share_*`` features are present. ``features``: the
    numeric columns to compare (default: :func:`core.profiles.feature_columns`).
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
            message=f"Select at least {MIN_GROUP} customers to see what sets them apart "
            f"({n_sel} selected).",
        )
    if n_rest < MIN_GROUP:
        return SelectionExplanation(
            n_sel,
            n_rest,
            message="The selection covers (nearly) every customer: there is no rest to compare "
            "it with.",
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
    numeric = _numeric_table(df, sel, cols, all_units, labels)

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
    sentences = _sentences(numeric, cat, words, max_sentences)
    return SelectionExplanation(n_sel, n_rest, numeric, cat, words, sentences)


# ------------------------------------------------------------------------- numeric
def feature_label(column: str, category_labels: Mapping[str, str] | None = None) -> str:
    """A readable name: the catalogue description, or 'Share of spend on X' for share_*."""
    if column.startswith("share_"):
        cat = (category_labels or {}).get(column) or category_label(column)
        return f"Share of spend on {cat}"
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
                "label": feature_label(c, labels),
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
def _fmt(v: float, unit: str) -> str:
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
    return f"{v:,.{digits}f}{_UNIT_WORD.get(unit, '')}"


def _magnitude(ratio: float) -> str | None:
    if not math.isfinite(ratio) or ratio <= 0:
        return None
    if ratio >= 1.5:
        return f"{ratio:.1f}×"
    return f"{abs(ratio - 1):.0%}"


def numeric_sentence(row: Mapping) -> str:
    """'Spends 3.2× more than the rest (avg $1,204 vs $376)' for one row of the numeric table."""
    higher = row["selection"] > row["rest"]
    feature, unit = str(row["feature"]), str(row.get("unit") or "")
    if feature in _SAY:
        template = _SAY[feature][0 if higher else 1]
    elif feature.startswith("share_"):
        cat = str(row["label"]).removeprefix("Share of spend on ")
        template = f"Spends {{x}} {'more' if higher else 'less'} of their budget on {cat}"
    else:
        template = f"{row['label']}: {{x}} {'higher' if higher else 'lower'}"
    mag = _magnitude(float(row["ratio"]))
    text = template.replace("{x}", mag) if mag else template.replace(" {x}", "")
    a, b = _fmt(float(row["selection"]), unit), _fmt(float(row["rest"]), unit)
    return f"{text} than the rest (avg {a} vs {b})"


def categorical_sentence(row: Mapping) -> str:
    """'71% buy mostly Electronics vs 18% of the rest' for one row of the categorical table."""
    a, b = f"{row['selection_share']:.0%}", f"{row['rest_share']:.0%}"
    if row["column"] == TOP_CATEGORY:
        return f"{a} buy mostly {row['value']} vs {b} of the rest"
    column = str(row["column"]).replace("_", " ")
    return f"{a} have {column} '{row['value']}' vs {b} of the rest"


def words_sentence(words: Sequence[tuple[str, float]], n: int = 5) -> str:
    return "Reviews mention " + ", ".join(f"'{w}'" for w, _ in words[:n])


def _sentences(
    numeric: pd.DataFrame,
    cat: pd.DataFrame,
    words: list[tuple[str, float]],
    max_sentences: int,
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
            out.append((strength, categorical_sentence(r)))
            if r["column"] == TOP_CATEGORY:
                said_categories.add(f"Share of spend on {r['value']}")
    if not numeric.empty:
        strong = numeric[numeric["effect_size"].abs() >= MIN_EFFECT]
        # "72% buy mostly Grocery" already says what "spends more on Grocery" would.
        strong = strong[~strong["label"].isin(said_categories)]
        for _, r in strong.head(max_sentences).iterrows():
            out.append((abs(float(r["effect_size"])), numeric_sentence(r)))
    ranked = [s for _, s in sorted(out, key=lambda t: -t[0])][: max(0, max_sentences - 1)]
    if words:
        ranked.append(words_sentence(words))
    if not ranked:
        ranked.append("Nothing stands out: these customers look like the rest on every measure.")
    return ranked
