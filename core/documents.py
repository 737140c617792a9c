"""One short text document per customer: a profile sentence plus their reviews.

The document is what the transformer reads, both for embeddings (segmentation) and for
fine-tuning. The profile sentence states the customer's key numbers in words; the reviews are
the customer's own voice, most recent first, length-capped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DocumentSpec:
    include_profile: bool = True
    include_reviews: bool = True
    max_reviews: int = 5
    max_chars: int = 1200
    review_separator: str = " | "


def _money(x: float) -> str:
    return f"${x:,.0f}"


def profile_sentences(
    features: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    text_attributes: Sequence[str] = (),
) -> pd.Series:
    """A sentence per customer from whichever features and attributes exist (vectorised).

    `text_attributes` are customers columns with too many values to be indicator features
    (`FeatureEngine.text_attributes`: a city, a plan name); each is said as "column: value"."""
    df = features.set_index("customer_id")
    n = len(df)
    parts: list[pd.Series] = []

    def add(mask: pd.Series | np.ndarray, text: pd.Series) -> None:
        parts.append(pd.Series(np.where(mask, text, ""), index=df.index))

    if customers is not None and len(customers):
        attrs = customers.drop_duplicates("customer_id").set_index("customer_id").reindex(df.index)
        bits = []
        if "region" in attrs:
            bits.append(("from ", attrs["region"]))
        if "age_band" in attrs:
            bits.append(("aged ", attrs["age_band"]))
        if "channel" in attrs:
            bits.append(("shops via ", attrs["channel"]))
        for name in text_attributes:
            if name in attrs and name not in ("region", "age_band", "channel"):
                bits.append((name.replace("_", " ") + ": ", attrs[name]))
        for prefix, col in bits:
            add(col.notna(), prefix + col.astype(str) + ". ")
    if "frequency" in df:
        f = df["frequency"].fillna(0)
        add(np.ones(n, bool), f.astype(int).astype(str) + np.where(f == 1, " order", " orders"))
    if "monetary" in df:
        add(df["monetary"].notna(), ", net spend " + df["monetary"].fillna(0).map(_money))
    if "avg_order_value" in df:
        add(
            df["avg_order_value"].notna(),
            ", average order " + df["avg_order_value"].fillna(0).map(_money),
        )
    if "recency_days" in df:
        r = df["recency_days"]
        add(r.notna(), ", last purchase " + r.fillna(0).astype(int).astype(str) + " days ago")
    if "return_rate" in df:
        rr = df["return_rate"].fillna(0)
        add(rr > 0, ", returns " + (rr * 100).round().astype(int).astype(str) + "% of spend")
    if "discount_rate" in df:
        dr = df["discount_rate"].fillna(0)
        add(dr > 0.005, ", discounts " + (dr * 100).round().astype(int).astype(str) + "%")
    share_cols = [c for c in df.columns if c.startswith("share_")]
    if share_cols:
        shares = df[share_cols].fillna(0)
        top = shares.idxmax(axis=1).str.removeprefix("share_").str.replace("_", " ")
        add(shares.max(axis=1) > 0, ", mostly " + top)
    if not parts:
        return pd.Series([""] * n, index=df.index, name="profile")
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    out = out.str.strip().str.lstrip(", ")
    out = np.where(out.str.len() > 0, out + ".", "")
    return pd.Series(out, index=df.index, name="profile")


def review_texts(reviews: pd.DataFrame | None, spec: DocumentSpec) -> pd.Series:
    """customer_id → the customer's most recent reviews joined, capped at spec.max_reviews."""
    if reviews is None or not len(reviews) or spec.max_reviews <= 0:
        return pd.Series(dtype=object)
    r = reviews[
        ["customer_id", "review_text"] + (["review_date"] if "review_date" in reviews else [])
    ]
    r = r[r["review_text"].notna() & (r["review_text"].astype(str).str.strip() != "")]
    if "review_date" in r:
        r = r.sort_values(["customer_id", "review_date"], ascending=[True, False], kind="stable")
    r = r.groupby("customer_id", sort=False).head(spec.max_reviews)
    text = r["review_text"].astype(str).str.strip()
    return text.groupby(r["customer_id"], sort=False).agg(spec.review_separator.join)


def build_documents(
    features: pd.DataFrame,
    reviews: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    spec: DocumentSpec | None = None,
    text_attributes: Sequence[str] = (),
) -> pd.DataFrame:
    """customer_id, document, has_reviews — one row per customer in `features`, same order."""
    spec = spec or DocumentSpec()
    ids = features["customer_id"]
    profile = (
        profile_sentences(features, customers, text_attributes)
        if spec.include_profile
        else pd.Series("", index=ids.values)
    )
    revs = review_texts(reviews, spec) if spec.include_reviews else pd.Series(dtype=object)
    rv = revs.reindex(ids.values)
    has_reviews = rv.notna().to_numpy()
    rv = rv.fillna("")
    prefix = np.where(has_reviews, "Reviews: ", "")
    doc = (profile.reindex(ids.values).fillna("") + " " + prefix + rv).str.strip()
    doc = doc.str.slice(0, spec.max_chars)
    return pd.DataFrame(
        {"customer_id": ids.to_numpy(), "document": doc.to_numpy(), "has_reviews": has_reviews}
    )
