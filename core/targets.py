"""Prediction targets for the classifier: what a model is asked to predict, per customer.

Five kinds of target:

* ``label_column`` — an existing column of the customers table (e.g. ``label`` or ``persona``);
* ``churn`` — time split: customers who bought before a cutoff, labelled ``churned`` when they
  make no purchase in the ``horizon_days`` after it, else ``active``;
* ``value_tier`` — time split: spend in the horizon after the cutoff, cut into low/mid/high;
* ``cluster`` — the segments of a segmentation run ("Noise" dropped);
* ``campaign`` — who responded to a campaign, among the customers it treated (core.campaign).

Time-split targets carry their ``cutoff``: the features must be computed with that cutoff
(``build_customer_features(..., cutoff=target.cutoff)``), so the model only sees the past and
the label is the future. :func:`leakage_check` explains in plain words when a target is a
function of the very features used to predict it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from core.locale import LocalizedError, LocalText, Phrase, phrase_dicts, texts_in
from core.segment import RFM_SEGMENTS

# Errors a user meets when choosing a target, in each interface language (str() is English).
_ERRORS = {
    "en": {
        "cutoff_required": "a cutoff date is required (e.g. 2025-06-30)",
        "cutoff_not_date": "cutoff {value} is not a date (expected e.g. 2025-06-30)",
        "no_orders": "the orders table is empty: a churn or value target needs order history",
        "no_future": "not enough future data: cutoff {cutoff} + {days} days = {end}, but the last "
        "order in the data is on {last}. Pick a cutoff on or before {suggestion} or a shorter "
        "horizon.",
        "no_history": "cutoff {cutoff} is on or before the first order ({first}): there is no "
        "history to learn from",
        "no_buyers": "no customer made a purchase before the cutoff {cutoff}",
        "no_column": "the customers table has no column {column}",
        "numeric_label": "column {column} is numeric with {n} distinct values: it looks like a "
        "measurement, not a class label (at most {max} distinct values). Use the value-tier "
        "target to predict spend levels.",
        "one_class": "column {column} has fewer than 2 classes: there is nothing to predict",
        "only_class": "column {column} has fewer than 2 classes (only {value}): there is "
        "nothing to predict",
        "identifier": "column {column} has {n} distinct values for {customers} customers: it "
        "looks like an identifier or free text, not a class label",
        "tiny_classes": "column {column} has fewer than 2 classes with at least 2 customers each",
        "all_same": "every customer is {value} for cutoff {cutoff} and a {days}-day horizon: "
        "pick another cutoff or horizon",
        "no_spend": "no customer spends anything from {cutoff} over {days} days: pick another "
        "cutoff",
        "same_spend": "spend in the horizon is the same for almost everyone: no tiers to predict",
        "few_segments": "the segmentation has fewer than 2 segments (besides Noise): nothing to "
        "predict",
        "few_responders": "only {n} treated customer(s) are {value}: a model needs both "
        "responders and non-responders (at least 2 of each)",
    },
    "zh": {
        "cutoff_required": "需要一个截止日期（例如 2025-06-30）",
        "cutoff_not_date": "截止日期 {value} 不是日期（应类似 2025-06-30）",
        "no_orders": "订单表为空：流失或价值目标需要订单历史",
        "no_future": "未来数据不足：截止日 {cutoff} + {days} 天 = {end}，但数据中最后一笔订单在 "
        "{last}。请选择 {suggestion} 或更早的截止日，或缩短时间窗口。",
        "no_history": "截止日 {cutoff} 不晚于第一笔订单（{first}）：没有可供学习的历史",
        "no_buyers": "截止日 {cutoff} 之前没有任何客户下过单",
        "no_column": "客户表中没有列 {column}",
        "numeric_label": "列 {column} 是数值，有 {n} 个不同取值：它更像是一个度量，而不是类别标签"
        "（最多 {max} 个不同取值）。要预测消费水平，请使用价值层级目标。",
        "one_class": "列 {column} 的类别少于 2 个：没有可预测的内容",
        "only_class": "列 {column} 的类别少于 2 个（只有 {value}）：没有可预测的内容",
        "identifier": "列 {column} 在 {customers} 位客户中有 {n} 个不同取值：它更像是 ID 或自由文本，"
        "而不是类别标签",
        "tiny_classes": "列 {column} 中客户数不少于 2 位的类别不足 2 个：没有可预测的内容",
        "all_same": "在截止日 {cutoff} 和 {days} 天的时间窗口下，每位客户都是 {value}：请换一个截止日"
        "或时间窗口",
        "no_spend": "从 {cutoff} 起 {days} 天内没有任何客户消费：请换一个截止日",
        "same_spend": "时间窗口内几乎每位客户的消费都相同：没有可预测的层级",
        "few_segments": "该分群运行除 Noise 外不足 2 个分群：没有可预测的内容",
        "few_responders": "只有 {n} 位实验组客户为 {value}：模型需要响应者和未响应者（每类至少 2 位）",
    },
}

# Warnings about a target and its features (Train and Evaluate pages). A training run stores
# them in English ("warnings") with their phrases beside them ("warning_phrases").
TRAIN_WARNINGS = {
    "en": {
        "rare": "class {cls} is rare ({k} of {n} customers, {share}); metrics for it will be noisy",
        "duplicates": "{n} duplicate customer_id rows: kept the first label of each",
        "missing_label": "{missing} of {n} customers have no {column} value and were left out",
        "tiny_classes": "{n} class(es) of {column} have fewer than 2 customers and were left "
        "out: {names}",
        "zero_spend": "{share} of customers spend nothing in the horizon: they are all 'low'; "
        "the spenders are split into 'mid' and 'high'",
        "empty_tiers": "tier(s) {tiers} are empty because many customers spend the same amount",
        "free_orders_only": "{n} of {total} customers ordered before the cutoff but spent "
        "nothing (every order of amount 0): they are kept, and their purchase features "
        "(recency, spend) are empty",
        "noise_left_out": "{n} customers in {noise} (no segment) were left out",
        "tiny_segments": "segment(s) with fewer than 2 customers left out: {segments}",
        "campaign_cutoff": "Features are computed from all the data the dataset holds: if the "
        "campaign's own purchases are in the orders table, set the feature cutoff (Features "
        "page) to the campaign date, or the model sees the response it is asked to predict.",
        "no_text": "no customer has review text: training on numbers only",
        "without_cutoff": "without a cutoff",
        "with_cutoff": "with the cutoff {cutoff}",
        "late_cutoff": "The features were computed {when}, after the target's cutoff {cutoff}: "
        "they see the purchases the target is about, so the scores will be too good. Compute "
        "the features with cutoff {cutoff}.",
        "early_cutoff": "The features were computed with the cutoff {fc}, earlier than the "
        "target's {cutoff}: no leakage, but the model misses recent history.",
        "overlap_some": "{n} of the {total} features used ({names})",
        "overlap_all": "the customer features",
        "cluster_leak": "The cluster labels were made from {which}; a model trained on these "
        "features will just re-learn the clustering, and its high scores say nothing about real "
        "customer behaviour. Use it to explain segments or to assign new customers, not as "
        "evidence of predictive power; to predict the future, use the time-split churn or "
        "value-tier target.",
        "rfm_leak": "RFM segments are rules over recency_days, frequency and monetary, which are "
        "among the features: the model will re-learn the rules. Use the time-split churn or "
        "value-tier target.",
        "rfm_values": "its values look like RFM segments ({values})",
        "rfm_name": "its name {name} suggests a segment or tier",
        "label_leak": "The label {name} is probably derived from recency, frequency and monetary "
        "value ({why}), and {features} are among the features: the model would re-learn the "
        "rule that made the labels. Predict the future instead with the time-split churn or "
        "value-tier target.",
        "feature_leak": "The feature {feature} alone reproduces {name} ({share} of customers): "
        "the label is probably computed from it. Drop {feature} from the features, or choose "
        "another target.",
    },
    "zh": {
        "rare": "类别 {cls} 很少（{n} 位客户中只有 {k} 位，{share}）：它的指标会不稳定",
        "duplicates": "{n} 行重复的 customer_id：每位客户保留第一个标签",
        "missing_label": "{n} 位客户中有 {missing} 位没有 {column} 值，已排除",
        "tiny_classes": "{column} 中有 {n} 个类别不足 2 位客户，已排除：{names}",
        "zero_spend": "{share} 的客户在时间窗口内没有消费：他们都归为 'low'；有消费的客户分为 "
        "'mid' 和 'high'",
        "empty_tiers": "层级 {tiers} 为空：很多客户的消费金额相同",
        "free_orders_only": "{total} 位客户中有 {n} 位在截止日前下过单但没有消费（每笔订单金额都"
        "是 0）：他们保留在内，其购买特征（最近购买、消费金额）为空",
        "noise_left_out": "{noise}（未分群）中的 {n} 位客户已排除",
        "tiny_segments": "不足 2 位客户的分群已排除：{segments}",
        "campaign_cutoff": "特征由数据集中的全部数据计算：如果活动本身带来的购买在订单表中，请在"
        "特征页把特征截止日设为活动日期，否则模型会看到它要预测的响应。",
        "no_text": "没有客户有评论文本：仅用数值训练",
        "without_cutoff": "没有设置截止日",
        "with_cutoff": "截止日为 {cutoff}",
        "late_cutoff": "特征计算时{when}，晚于目标的截止日 {cutoff}：特征看到了目标所关心的购买，"
        "分数会虚高。请用截止日 {cutoff} 计算特征。",
        "early_cutoff": "特征的截止日 {fc} 早于目标的截止日 {cutoff}：没有泄漏，但模型缺少最近的"
        "历史。",
        "overlap_some": "所用 {total} 个特征中的 {n} 个（{names}）",
        "overlap_all": "客户特征",
        "cluster_leak": "分群标签由{which}得出；用这些特征训练的模型只会重新学到这次聚类，高分并不"
        "说明真实的客户行为。可用它解释分群或给新客户分配分群，但不能作为预测能力的证据；要预测"
        "未来，请使用按时间划分的流失或价值层级目标。",
        "rfm_leak": "RFM 分群是基于 recency_days、frequency 和 monetary 的规则，而它们都在特征中："
        "模型只会重新学到这些规则。请使用按时间划分的流失或价值层级目标。",
        "rfm_values": "它的取值像 RFM 分群（{values}）",
        "rfm_name": "它的名称 {name} 暗示这是分群或层级",
        "label_leak": "标签 {name} 很可能由最近购买、购买频次和消费金额得出（{why}），而 "
        "{features} 都在特征中：模型只会重新学到生成标签的规则。请改用按时间划分的流失或价值"
        "层级目标来预测未来。",
        "feature_leak": "仅特征 {feature} 就能复现 {name}（{share} 的客户）：标签很可能由它计算"
        "得出。请从特征中去掉 {feature}，或换一个目标。",
    },
}


def warnings_in(summary: dict, lang: str) -> list[str]:
    """A training run summary's warnings in `lang` (English when stored without phrases)."""
    return texts_in(
        summary.get("warnings", []), summary.get("warning_phrases"), TRAIN_WARNINGS, lang
    )


# The classes the time-split and campaign targets make, in each interface language. The
# stored labels stay these English values; pages show them with `class_label`.
_CLASS_LABELS = {
    "en": {},
    "zh": {
        "active": "活跃",
        "churned": "流失",
        "low": "低",
        "mid": "中",
        "high": "高",
        "responded": "已响应",
        "did not respond": "未响应",
    },
}
_MADE_CLASSES = {
    "churn": ("active", "churned"),
    "value_tier": ("low", "mid", "high"),
    "campaign": ("responded", "did not respond"),
}


def class_label(value, kind: str | None, lang: str = "en") -> str:
    """How to show the class `value` of a target of `kind`: the classes the app makes (churn,
    value tier, campaign response) in `lang`; the data's own classes (a label column, segment
    ids) as they are."""
    text = str(value)
    if kind in _MADE_CLASSES and text in _MADE_CLASSES[kind]:
        return _CLASS_LABELS.get(lang, {}).get(text, text)
    return text


def target_kind(name: str | None) -> str | None:
    """The kind of a target from its stored name (``churn_90d`` → churn), for runs whose
    summary does not say it."""
    name = str(name or "")
    if re.fullmatch(r"churn_\d+d", name):
        return "churn"
    if re.fullmatch(r"value_tier_\d+d", name):
        return "value_tier"
    if name.startswith("responds to ") or name == "campaign_response":
        return "campaign"
    return None


NOISE_LABEL = "Noise"
RFM_FEATURES = ("recency_days", "frequency", "monetary")
TIME_SPLIT_KINDS = ("churn", "value_tier")
MAX_NUMERIC_CLASSES = 20  # a numeric column with at most this many distinct values is a class label
MAX_CLASSES = 100
_NON_FEATURE_COLUMNS = frozenset({"customer_id", "segment", "x", "y", "confidence"})
_RFM_NAME = re.compile(r"rfm|segment|tier|cluster", re.IGNORECASE)
_UNSET: Any = object()


@dataclass
class Target:
    name: str  # e.g. "churn_90d", "value_tier_90d", "persona", "segment"
    kind: str  # "label_column" | "churn" | "value_tier" | "cluster" | "campaign"
    labels: pd.DataFrame  # customer_id, label (string class names)
    classes: list[str]
    cutoff: datetime | None  # features must be computed with this cutoff (time-split targets)
    description: str
    warnings: list[str] = field(default_factory=list)
    horizon_days: int | None = None
    source_features: list[str] = field(default_factory=list)  # features the labels were made from
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        return len(self.labels)

    @property
    def is_time_split(self) -> bool:
        return self.kind in TIME_SPLIT_KINDS

    def class_counts(self) -> pd.Series:
        """Customers per class, in `classes` order."""
        return self.labels["label"].value_counts().reindex(self.classes, fill_value=0)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly description (no labels)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "classes": list(self.classes),
            "counts": {k: int(v) for k, v in self.class_counts().items()},
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "horizon_days": self.horizon_days,
            "description": self.description,
            "warnings": [str(w) for w in self.warnings],
            "warning_phrases": phrase_dicts(self.warnings),
            "source_features": list(self.source_features),
            "meta": dict(self.meta),
        }


# --------------------------------------------------------------------------- helpers
def _as_datetime(value: date | datetime | str | pd.Timestamp) -> datetime:
    if value is None or value == "":
        raise LocalizedError(_ERRORS, "cutoff_required")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise LocalizedError(_ERRORS, "cutoff_not_date", value=repr(value)) from None
    if pd.isna(ts):
        raise LocalizedError(_ERRORS, "cutoff_not_date", value=repr(value))
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.to_pydatetime()


def _orders_frame(orders: pd.DataFrame) -> pd.DataFrame:
    """customer_id (str), order_date (datetime64), amount (float) — amount derived when absent."""
    if orders is None or len(orders) == 0:
        raise LocalizedError(_ERRORS, "no_orders")
    for col in ("customer_id", "order_date"):
        if col not in orders.columns:
            raise ValueError(f"the orders table has no {col!r} column")
    if "amount" in orders.columns:
        amount = pd.to_numeric(orders["amount"], errors="coerce")
    elif {"quantity", "unit_price"} <= set(orders.columns):
        disc = (
            pd.to_numeric(orders["discount"], errors="coerce").fillna(0)
            if "discount" in orders.columns
            else 0.0
        )
        amount = (
            pd.to_numeric(orders["quantity"], errors="coerce")
            * pd.to_numeric(orders["unit_price"], errors="coerce")
            * (1 - disc)
        )
    else:
        amount = pd.Series(1.0, index=orders.index)  # no money columns: every line is a purchase
    dates = pd.to_datetime(orders["order_date"], errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)
    out = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].astype("string").to_numpy(dtype=object),
            "order_date": dates.to_numpy(),
            "amount": amount.astype(float).to_numpy(),
        }
    )
    out = out[out["customer_id"].notna() & out["order_date"].notna()]
    if out.empty:
        raise ValueError("no order has both a customer_id and a valid order_date")
    return out


def _check_horizon(od: pd.DataFrame, cutoff: datetime, horizon_days: int) -> datetime:
    if horizon_days is None or int(horizon_days) < 1:
        raise ValueError(f"horizon_days must be at least 1 (got {horizon_days!r})")
    first, last = od["order_date"].min(), od["order_date"].max()
    end = cutoff + timedelta(days=int(horizon_days))
    # The horizon is [cutoff, end): the data covers the last order's whole day, so the horizon
    # may end at the start of the day after it (and so include that last day).
    if end > pd.Timestamp(last).normalize() + pd.Timedelta(days=1):
        suggestion = suggest_cutoff(od, horizon_days)
        raise LocalizedError(
            _ERRORS,
            "no_future",
            cutoff=f"{cutoff:%Y-%m-%d}",
            days=horizon_days,
            end=f"{end:%Y-%m-%d}",
            last=f"{last:%Y-%m-%d}",
            suggestion=f"{suggestion:%Y-%m-%d}",
        )
    if cutoff <= first:
        raise LocalizedError(
            _ERRORS, "no_history", cutoff=f"{cutoff:%Y-%m-%d}", first=f"{first:%Y-%m-%d}"
        )
    return end


def _is_order(od: pd.DataFrame) -> pd.Series:
    """Lines that are orders, not returns: a purchase, or a line of amount 0 (a free or fully
    discounted order) or of unknown amount. A customer with such a line ordered."""
    return ~(od["amount"] < 0)


def _population(od: pd.DataFrame, cutoff: datetime) -> pd.Index:
    """Customers with at least one order (a line that is not a return, `_is_order`) before the
    cutoff, sorted. Customers whose orders were all free (amount 0) are in it: they ordered,
    and whether they order again in the horizon is as well defined for them as for anyone
    (`_free_orders_warnings` says how many there are)."""
    past = od[(od["order_date"] < cutoff) & _is_order(od)]
    ids = pd.Index(sorted(past["customer_id"].unique()), name="customer_id")
    if len(ids) == 0:
        raise LocalizedError(_ERRORS, "no_buyers", cutoff=f"{cutoff:%Y-%m-%d}")
    return ids


def _free_orders_warnings(od: pd.DataFrame, cutoff: datetime, ids: pd.Index) -> list[str]:
    """The customers of the population who spent nothing before the cutoff (every order of
    amount 0): the purchase features (recency, monetary, ...) count only lines of positive
    amount, so theirs are empty."""
    paid = od.loc[(od["order_date"] < cutoff) & (od["amount"] > 0), "customer_id"].unique()
    n = int((~ids.isin(paid)).sum())
    if not n:
        return []
    return [LocalText(TRAIN_WARNINGS, "free_orders_only", n=f"{n:,}", total=f"{len(ids):,}")]


def _labels_frame(ids, labels) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(np.asarray(ids, dtype=object), dtype=object),
            "label": pd.Series(np.asarray(labels, dtype=object), dtype=object),
        }
    )


def _balance_warnings(labels: pd.Series, classes: Sequence[str]) -> list[str]:
    out: list[str] = []
    counts = labels.value_counts()
    n = int(counts.sum())
    for c in classes:
        k = int(counts.get(c, 0))
        if n and k / n < 0.05:
            out.append(
                LocalText(
                    TRAIN_WARNINGS,
                    "rare",
                    cls=repr(c),
                    k=f"{k:,}",
                    n=f"{n:,}",
                    share=f"{k / n:.1%}",
                )
            )
    return out


def suggest_cutoff(orders: pd.DataFrame, horizon_days: int = 90) -> datetime:
    """A cutoff that leaves `horizon_days` of future data: last order day − horizon (one day
    before the latest one `_check_horizon` accepts, whose horizon ends on the last day)."""
    if orders is None or len(orders) == 0 or "order_date" not in orders.columns:
        raise ValueError("the orders table is empty or has no order_date: cannot suggest a cutoff")
    last = pd.to_datetime(orders["order_date"], errors="coerce").max()
    if pd.isna(last):
        raise ValueError("the orders table has no valid order_date")
    last = pd.Timestamp(last)
    if last.tzinfo is not None:
        last = last.tz_convert(None)
    return (last.normalize() - pd.Timedelta(days=int(horizon_days))).to_pydatetime()


# --------------------------------------------------------------------------- builders
def label_column_target(customers: pd.DataFrame, column: str) -> Target:
    """An existing customers column as the target. Missing labels are dropped (and reported)."""
    if column not in customers.columns:
        raise LocalizedError(_ERRORS, "no_column", column=repr(column))
    if "customer_id" not in customers.columns:
        raise ValueError("the customers table has no 'customer_id' column")
    warnings: list[str] = []
    df = customers[["customer_id", column]].copy()
    df = df[df["customer_id"].notna()]
    df["customer_id"] = df["customer_id"].astype(str)
    dup = int(df["customer_id"].duplicated().sum())
    if dup:
        warnings.append(LocalText(TRAIN_WARNINGS, "duplicates", n=f"{dup:,}"))
        df = df.drop_duplicates("customer_id", keep="first")
    values = df[column]

    numeric_order: dict[str, float] | None = None
    if pd.api.types.is_bool_dtype(values):
        text = values.map(lambda v: None if pd.isna(v) else str(bool(v)))
    elif pd.api.types.is_numeric_dtype(values):
        nums = pd.to_numeric(values, errors="coerce")
        n_unique = nums.dropna().nunique()
        if n_unique > MAX_NUMERIC_CLASSES:
            raise LocalizedError(
                _ERRORS,
                "numeric_label",
                column=repr(column),
                n=f"{n_unique:,}",
                max=MAX_NUMERIC_CLASSES,
            )

        def fmt(v: float) -> str | None:
            if pd.isna(v):
                return None
            return str(int(v)) if float(v).is_integer() else f"{v:g}"

        text = nums.map(fmt)
        numeric_order = {fmt(v): float(v) for v in nums.dropna().unique()}
    else:
        text = values.map(lambda v: None if pd.isna(v) else str(v).strip())
        text = text.where(text != "", None)
    df["label"] = text.astype(object)
    missing = int(df["label"].isna().sum())
    if missing:
        warnings.append(
            LocalText(
                TRAIN_WARNINGS,
                "missing_label",
                missing=f"{missing:,}",
                n=f"{len(df):,}",
                column=repr(column),
            )
        )
        df = df[df["label"].notna()]
    counts = df["label"].value_counts()
    if len(counts) < 2:
        if len(counts):
            raise LocalizedError(
                _ERRORS, "only_class", column=repr(column), value=repr(counts.index[0])
            )
        raise LocalizedError(_ERRORS, "one_class", column=repr(column))
    if len(counts) > MAX_CLASSES or (
        len(counts) > MAX_NUMERIC_CLASSES and len(counts) > 0.5 * len(df)
    ):
        raise LocalizedError(
            _ERRORS,
            "identifier",
            column=repr(column),
            n=f"{len(counts):,}",
            customers=f"{len(df):,}",
        )
    tiny = counts[counts < 2]
    if len(tiny):
        names = ", ".join(repr(c) for c in tiny.index[:10])
        warnings.append(
            LocalText(TRAIN_WARNINGS, "tiny_classes", n=len(tiny), column=repr(column), names=names)
        )
        df = df[~df["label"].isin(tiny.index)]
        counts = counts[counts >= 2]
        if len(counts) < 2:
            raise LocalizedError(_ERRORS, "tiny_classes", column=repr(column))
    if numeric_order is not None:
        classes = sorted(counts.index, key=lambda c: numeric_order.get(c, 0.0))
    else:
        classes = sorted(counts.index, key=str)
    warnings += _balance_warnings(df["label"], classes)
    labels = _labels_frame(df["customer_id"], df["label"]).sort_values(
        "customer_id", ignore_index=True
    )
    return Target(
        name=column,
        kind="label_column",
        labels=labels,
        classes=[str(c) for c in classes],
        cutoff=None,
        description=f"The existing customer column {column!r} ({len(classes)} classes, {len(labels):,} customers).",
        warnings=warnings,
        meta={"column": column},
    )


def churn_target(orders: pd.DataFrame, cutoff, horizon_days: int = 90) -> Target:
    """``churned`` when a customer who bought before `cutoff` buys nothing in the next `horizon_days`."""
    cutoff = _as_datetime(cutoff)
    od = _orders_frame(orders)
    end = _check_horizon(od, cutoff, horizon_days)
    ids = _population(od, cutoff)
    # Active: an order in the horizon, counted as the population counts orders before it.
    future = od[(od["order_date"] >= cutoff) & (od["order_date"] < end) & _is_order(od)]
    bought = ids.isin(future["customer_id"].unique())
    labels = _labels_frame(ids, np.where(bought, "active", "churned"))
    classes = ["active", "churned"]
    counts = labels["label"].value_counts()
    if len(counts) < 2:
        raise LocalizedError(
            _ERRORS,
            "all_same",
            value=repr(counts.index[0]),
            cutoff=f"{cutoff:%Y-%m-%d}",
            days=horizon_days,
        )
    warnings = _free_orders_warnings(od, cutoff, ids) + _balance_warnings(labels["label"], classes)
    n_new = int(
        od.loc[(od["order_date"] >= cutoff) & _is_order(od), "customer_id"]
        .drop_duplicates()
        .isin(ids)
        .eq(False)
        .sum()
    )
    rate = counts.get("churned", 0) / len(labels)
    return Target(
        name=f"churn_{int(horizon_days)}d",
        kind="churn",
        labels=labels,
        classes=classes,
        cutoff=cutoff,
        description=(
            f"Customers who bought before {cutoff:%Y-%m-%d}: 'churned' if they make no purchase from "
            f"{cutoff:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d} ({horizon_days} days), else 'active'. "
            f"Churn rate {rate:.1%} of {len(labels):,} customers. Features must be computed with the "
            f"cutoff {cutoff:%Y-%m-%d}."
        ),
        warnings=warnings,
        horizon_days=int(horizon_days),
        meta={"horizon_end": end.isoformat(), "first_time_buyers_after_cutoff": n_new},
    )


def value_tier_target(
    orders: pd.DataFrame,
    cutoff,
    horizon_days: int = 90,
    quantiles: tuple[float, float] = (1 / 3, 2 / 3),
) -> Target:
    """low / mid / high by net spend in the `horizon_days` after `cutoff` (zero spend is low).

    Customers with the same spend always share a tier (cut points are spend values; ties go to
    the lower tier). When more than the low share of customers spend nothing, "low" is exactly
    the non-spenders and the spenders are split into mid / high in proportion to their shares.
    """
    q1, q2 = (float(q) for q in quantiles)
    if not 0 < q1 < q2 < 1:
        raise ValueError(f"quantiles must satisfy 0 < low < high < 1 (got {quantiles!r})")
    cutoff = _as_datetime(cutoff)
    od = _orders_frame(orders)
    end = _check_horizon(od, cutoff, horizon_days)
    ids = _population(od, cutoff)
    future = od[(od["order_date"] >= cutoff) & (od["order_date"] < end)]
    spend = (
        future.groupby("customer_id")["amount"].sum().reindex(ids, fill_value=0.0).clip(lower=0.0)
    )
    s = spend.to_numpy(dtype=float)
    warnings: list[str] = _free_orders_warnings(od, cutoff, ids)
    t1 = float(np.quantile(s, q1))
    t2 = float(np.quantile(s, q2))
    if t1 <= 0:
        pos = s[s > 0]
        zero_share = 1 - len(pos) / len(s)
        warnings.append(LocalText(TRAIN_WARNINGS, "zero_spend", share=f"{zero_share:.0%}"))
        if len(pos) == 0:
            raise LocalizedError(
                _ERRORS, "no_spend", cutoff=f"{cutoff:%Y-%m-%d}", days=horizon_days
            )
        t1 = 0.0
        t2 = float(np.quantile(pos, (q2 - q1) / (1 - q1)))  # mid / high keep their relative shares
    tier = np.where(s <= t1, "low", np.where(s <= t2, "mid", "high"))
    classes_all = ["low", "mid", "high"]
    present = set(tier)
    empty = [c for c in classes_all if c not in present]
    if empty:
        warnings.append(LocalText(TRAIN_WARNINGS, "empty_tiers", tiers=", ".join(empty)))
    classes = [c for c in classes_all if c in present]
    if len(classes) < 2:
        raise LocalizedError(_ERRORS, "same_spend")
    labels = _labels_frame(ids, tier)
    warnings += _balance_warnings(labels["label"], classes)
    return Target(
        name=f"value_tier_{int(horizon_days)}d",
        kind="value_tier",
        labels=labels,
        classes=classes,
        cutoff=cutoff,
        description=(
            f"Customers who bought before {cutoff:%Y-%m-%d}, tiered by net spend from {cutoff:%Y-%m-%d} "
            f"to {end - timedelta(days=1):%Y-%m-%d} ({horizon_days} days): low ≤ {t1:,.2f} < mid ≤ "
            f"{t2:,.2f} < high. Features must be computed with the cutoff {cutoff:%Y-%m-%d}."
        ),
        warnings=warnings,
        horizon_days=int(horizon_days),
        meta={"thresholds": [t1, t2], "quantiles": [q1, q2], "horizon_end": end.isoformat()},
    )


def cluster_target(
    segments: pd.DataFrame,
    *,
    name: str = "segment",
    features: Sequence[str] | None = None,
    method: str | None = None,
) -> Target:
    """The segments of a segmentation run (customer_id, segment, ...) as the target; Noise dropped.

    `features` are the features the segmentation used; by default the numeric feature columns
    stored alongside the segments. `method` (e.g. "rfm", "kmeans") is kept for the leakage check.
    """
    for col in ("customer_id", "segment"):
        if col not in segments.columns:
            raise ValueError(f"the segments table has no {col!r} column")
    warnings: list[str] = []
    df = segments[["customer_id", "segment"]].copy()
    df["customer_id"] = df["customer_id"].astype(str)
    df["label"] = df["segment"].map(lambda v: None if pd.isna(v) else str(v))
    noise = int((df["label"] == NOISE_LABEL).sum()) + int(df["label"].isna().sum())
    if noise:
        warnings.append(
            LocalText(TRAIN_WARNINGS, "noise_left_out", n=f"{noise:,}", noise=repr(NOISE_LABEL))
        )
        df = df[df["label"].notna() & (df["label"] != NOISE_LABEL)]
    counts = df["label"].value_counts()
    if len(counts) < 2:
        raise LocalizedError(_ERRORS, "few_segments")
    tiny = counts[counts < 2]
    if len(tiny):
        warnings.append(
            LocalText(TRAIN_WARNINGS, "tiny_segments", segments=", ".join(map(str, tiny.index)))
        )
        df = df[~df["label"].isin(tiny.index)]
        counts = counts[counts >= 2]

    def order(c: str):
        m = re.fullmatch(r"S(\d+)", c)
        return (0, int(m.group(1)), c) if m else (1, 0, c)

    if set(counts.index) <= set(RFM_SEGMENTS):
        classes = [c for c in RFM_SEGMENTS if c in counts.index]
        method = method or "rfm"
    else:
        classes = sorted(counts.index, key=order)
    if features is None:
        features = [
            c
            for c in segments.columns
            if c not in _NON_FEATURE_COLUMNS and pd.api.types.is_numeric_dtype(segments[c])
        ]
    warnings += _balance_warnings(df["label"], classes)
    return Target(
        name=name,
        kind="cluster",
        labels=_labels_frame(df["customer_id"], df["label"]),
        classes=classes,
        cutoff=None,
        description=f"Segments of a segmentation run ({len(classes)} segments, {len(df):,} customers).",
        warnings=warnings,
        source_features=list(features),
        meta={"method": method} if method else {},
    )


RESPONDED = "responded"
NOT_RESPONDED = "did not respond"


def campaign_target(
    results: pd.DataFrame, *, name: str = "campaign_response", campaign_id: str | None = None
) -> Target:
    """Who responds when treated: the campaign's *treated* customers, labelled ``responded`` or
    ``did not respond`` (`results`: customer_id, group, responded, as core.campaign stores them).

    Control customers are left out on purpose. They were not contacted, so whether they bought
    says how likely a customer is to buy anyway, not how they answer the campaign; labelling a
    control buyer "responded" would teach the model to find people who buy regardless. Among
    the treated, the label is exactly "answered when contacted". (Predicting the *uplift* itself
    would need both groups and a two-model or transformed-outcome learner, which this is not.)
    """
    for col in ("customer_id", "group", "responded"):
        if col not in results.columns:
            raise ValueError(f"the campaign results have no {col!r} column")
    group = results["group"].astype(str).str.strip().str.lower()
    odd = sorted(set(group) - {"treated", "control"})
    if odd:
        raise ValueError(
            f"campaign results column 'group' has {odd[0]!r}: expected 'treated' or 'control' "
            "(read the file with core.campaign.read_campaign_file)"
        )
    treated = results[group == "treated"]
    n_control = int((group == "control").sum())
    if treated.empty:
        raise ValueError("the campaign has no treated customers: there is no response to learn")
    responded = treated["responded"].map(
        lambda v: bool(v) if isinstance(v, bool | np.bool_ | int | np.integer) else None
    )
    if responded.isna().any():
        bad = treated["responded"][responded.isna()].iloc[0]
        raise ValueError(f"campaign results column 'responded' has {bad!r}: expected True or False")
    ids = treated["customer_id"].astype(str)
    if ids.duplicated().any():
        raise ValueError(
            f"customer {ids[ids.duplicated()].iloc[0]!r} appears twice in the campaign results"
        )
    labels = _labels_frame(ids, np.where(responded.astype(bool), RESPONDED, NOT_RESPONDED))
    labels = labels.sort_values("customer_id", ignore_index=True)
    counts = labels["label"].value_counts()
    classes = [RESPONDED, NOT_RESPONDED]
    for c in classes:
        if counts.get(c, 0) < 2:
            raise LocalizedError(_ERRORS, "few_responders", n=int(counts.get(c, 0)), value=repr(c))
    rate = counts[RESPONDED] / len(labels)
    warnings = _balance_warnings(labels["label"], classes)
    warnings.append(LocalText(TRAIN_WARNINGS, "campaign_cutoff"))
    return Target(
        name=name,
        kind="campaign",
        labels=labels,
        classes=classes,
        cutoff=None,
        description=(
            f"Treated customers of the campaign: {rate:.1%} of {len(labels):,} responded. "
            f"{n_control:,} control customers are left out: they were not contacted, so their "
            "purchases say nothing about answering the campaign."
        ),
        warnings=warnings,
        meta={"campaign_id": campaign_id, "n_control_left_out": n_control},
    )


# --------------------------------------------------------------------------- leakage
def _single_feature_predictors(
    target: Target, data: pd.DataFrame, names: Sequence[str]
) -> list[tuple[str, float]]:
    """(feature, accuracy) for features that alone reproduce the labels (≥ 0.99 training accuracy)."""
    from sklearn.tree import DecisionTreeClassifier

    if "customer_id" not in data.columns:
        return []
    merged = target.labels.merge(
        data.assign(customer_id=data["customer_id"].astype(str)), on="customer_id", how="inner"
    )
    if len(merged) < 10:
        return []
    if len(merged) > 20_000:
        merged = merged.sample(20_000, random_state=0)
    y = merged["label"].astype(str).to_numpy()
    majority = pd.Series(y).value_counts(normalize=True).iloc[0]
    if majority >= 0.99:
        return []
    n_classes = len(set(y))
    hits: list[tuple[str, float]] = []
    for name in names:
        if name not in merged.columns or name in ("customer_id", "label"):
            continue
        col = merged[name]
        if pd.api.types.is_bool_dtype(col):
            col = col.astype(float)
        if not pd.api.types.is_numeric_dtype(col):
            # categorical feature: purity of label within each value
            grp = pd.DataFrame({"v": col.astype(str), "y": y})
            acc = grp.groupby("v")["y"].agg(lambda s: s.value_counts().iloc[0]).sum() / len(grp)
        else:
            x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            x = np.where(np.isfinite(x), x, np.nan)
            if np.isnan(x).all():
                continue
            # missing values as their own, extreme value so they can form a group
            fill = np.nanmin(x) - 1.0
            x = np.where(np.isnan(x), fill, x).reshape(-1, 1)
            tree = DecisionTreeClassifier(max_leaf_nodes=max(2, 2 * n_classes), random_state=0)
            acc = float(tree.fit(x, y).score(x, y))
        if acc >= 0.99:
            hits.append((name, float(acc)))
    return sorted(hits, key=lambda t: -t[1])


def leakage_check(
    target: Target,
    feature_names: Sequence[str],
    data: pd.DataFrame | None = None,
    *,
    feature_cutoff: Any = _UNSET,
) -> list[str]:
    """Plain-words warnings when the target is (nearly) a function of the features used.

    `data` (customer_id + feature columns) enables the check that no single feature reproduces
    the labels; `feature_cutoff` (the cutoff the features were computed with) enables the check
    that time-split features do not look past the target's cutoff.
    """
    feats = [str(f) for f in feature_names]
    fset = set(feats)
    out: list[str] = []

    if target.is_time_split:
        if feature_cutoff is not _UNSET and target.cutoff is not None:
            fc = None if feature_cutoff in (None, "") else _as_datetime(feature_cutoff)
            if fc is None or fc > target.cutoff:
                when = (
                    Phrase(TRAIN_WARNINGS, "without_cutoff")
                    if fc is None
                    else Phrase(TRAIN_WARNINGS, "with_cutoff", cutoff=f"{fc:%Y-%m-%d}")
                )
                out.append(
                    LocalText(
                        TRAIN_WARNINGS,
                        "late_cutoff",
                        when=when,
                        cutoff=f"{target.cutoff:%Y-%m-%d}",
                    )
                )
            elif fc < target.cutoff:
                out.append(
                    LocalText(
                        TRAIN_WARNINGS,
                        "early_cutoff",
                        fc=f"{fc:%Y-%m-%d}",
                        cutoff=f"{target.cutoff:%Y-%m-%d}",
                    )
                )
        return out

    if target.kind == "cluster":
        overlap = [f for f in feats if f in set(target.source_features)]
        method = str(target.meta.get("method") or "")
        if overlap or not target.source_features:
            which = (
                Phrase(
                    TRAIN_WARNINGS,
                    "overlap_some",
                    n=len(overlap),
                    total=len(feats),
                    names=", ".join(overlap[:5]) + (", …" if len(overlap) > 5 else ""),
                )
                if overlap
                else Phrase(TRAIN_WARNINGS, "overlap_all")
            )
            out.append(LocalText(TRAIN_WARNINGS, "cluster_leak", which=which))
        if method == "rfm" and fset & set(RFM_FEATURES) and not overlap:
            out.append(LocalText(TRAIN_WARNINGS, "rfm_leak"))

    if target.kind == "label_column":
        values = set(target.classes)
        rfm_values = values & set(RFM_SEGMENTS)
        rfm_like = len(rfm_values) >= 2 or (rfm_values and len(rfm_values) >= len(values) / 2)
        named_like = bool(_RFM_NAME.search(target.name))
        rfm_used = [f for f in RFM_FEATURES if f in fset]
        if (rfm_like or named_like) and rfm_used:
            why = (
                Phrase(TRAIN_WARNINGS, "rfm_values", values=", ".join(sorted(rfm_values)[:4]))
                if rfm_like
                else Phrase(TRAIN_WARNINGS, "rfm_name", name=repr(target.name))
            )
            out.append(
                LocalText(
                    TRAIN_WARNINGS,
                    "label_leak",
                    name=repr(target.name),
                    why=why,
                    features=", ".join(rfm_used),
                )
            )

    if data is not None:
        hits = _single_feature_predictors(target, data, feats)
        for name, acc in hits[:5]:
            out.append(
                LocalText(
                    TRAIN_WARNINGS,
                    "feature_leak",
                    feature=repr(name),
                    name=repr(target.name),
                    share=f"{acc:.1%}",
                )
            )
    return out
