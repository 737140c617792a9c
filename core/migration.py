"""Segment migration: which segment each customer was in at one date and at a later one.

Two ways to segment a customer at a cutoff (only orders before it count; recency is measured
from it — see :class:`core.features.FeatureEngine`):

* **RFM tiers with thresholds fixed at the first cutoff** (default). :func:`core.segment.rfm_tiers`
  scores R, F and M as quintiles of the customers *at that date*. Re-ranking at each date would
  move a customer who changed nothing whenever the others did, so here the quintiles are
  measured once, on the paying customers at cutoff A, and both dates are scored by where the
  customer would rank among them: a move then means the customer's own recency, frequency or
  spend changed. (Since F and M add up over time, steady buyers drift up and lapsed ones drift
  down on R.) ``thresholds="per_cutoff"`` gives the re-ranked variant (``rfm_tiers`` at each
  date, among that date's paying customers).
* **A numeric segmentation run re-applied** (:func:`centroid_segments`). The run's own scaling
  (median imputation, signed log of skewed columns, standardisation — as
  :func:`core.segment.scale_numeric` did) is fitted on the run's features, each segment's centre
  is the mean of its members there, and customers at each cutoff take the nearest centre. For a
  K-means run this is K-means' own assignment rule; for other methods it is an approximation
  (nearest segment centre). Runs that used review text or a fine-tuned model are refused:
  their vectors cannot be rebuilt from what was known at a past date.

Population: every customer known at cutoff B (the feature engine's customer base at B).
Customers without a purchase before a cutoff — not yet known then, or known but not buying —
are in the :data:`NEW` node at that date; so the flows always sum to the population.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from core.features import CATALOGUE, Feature, build_customer_features
from core.locale import LocalizedError, LocalText, Phrase, phrase
from core.segment import NOISE, RFM_SEGMENTS, RFM_TIES, rfm_grid, rfm_tiers
from core.workspace import Workspace

NEW = "Not yet a customer"
RFM_FEATURES = ("recency_days", "frequency", "monetary")
THRESHOLDS = ("fixed", "per_cutoff")
_RUN_COLUMNS = {"customer_id", "segment", "confidence", "x", "y"}

# Segment labels stay English ids in the data (NEW, the RFM tiers); these are their display
# names in other languages (see :func:`segment_label`).
SEGMENT_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        NEW: "尚未成为客户",
        "Champions": "冠军客户",
        "Loyal": "忠诚客户",
        "Potential loyalists": "潜在忠诚客户",
        "New customers": "新客户",
        "Promising": "有潜力客户",
        "Need attention": "需要关注",
        "At risk": "流失风险",
        "Can't lose them": "不能失去的客户",
        "Hibernating": "休眠客户",
        "Lost": "已流失客户",
    }
}
_TEXT = {
    "en": {
        "flow": "{count} {src} → {dst} ({pct} of {src}",
        "flow_spend": "; {spend} spent before the first date",
        "flow_end": ")",
        "approximation": "this run's method ({method}) does not assign by nearest centre; "
        "re-applying it by nearest segment centre is an approximation",
        "gone": "{count} customers known at the first date are not known at the second",
        "new": "{count} customers had no purchase before the first date (not yet known, or known "
        "but not buying): they start in “{new}”",
    },
    "zh": {
        "flow": "{count} 位客户：{src} → {dst}（占 {src} 的 {pct}",
        "flow_spend": "；第一个日期前共消费 {spend}",
        "flow_end": "）",
        "approximation": "该运行的方法（{method}）并不按最近中心分配客户；按最近的分群中心重新应用"
        "只是近似",
        "gone": "{count} 位在第一个日期已知的客户在第二个日期不再出现",
        "new": "{count} 位客户在第一个日期前没有购买（当时未知，或已知但未购买）：他们从“{new}”"
        "开始",
    },
}


# Why migration cannot be computed (errors) or a run cannot be re-applied, in each language.
_ERRORS = {
    "en": {
        "no_buyers": "RFM thresholds need at least one customer with a purchase",
        "rfm_columns": "RFM tiers need the columns {columns} (computed from an orders table)",
        "no_numeric": "the run has no usable numeric features to re-apply",
        "features_missing": "features missing at this date: {names}",
        "no_segment_column": "segments table has no 'segment' column",
        "only_noise": "the run has no segments to re-apply (only noise)",
        "not_finished": "only finished segmentation runs can be re-applied",
        "is_rfm": "this run is RFM tiers: choose RFM tiers instead",
        "model_vectors": "this run clusters a fine-tuned model's embeddings, which cannot be "
        "rebuilt at a past date",
        "used_text": "this run used review text, whose embedding cannot be rebuilt from what was "
        "known at a past date; run a numeric-only segmentation (no text) to re-apply it",
        "first_date": "first date",
        "second_date": "second date",
        "not_date": "{name} {value} is not a date (expected e.g. 2025-06-30)",
        "features_gone": "run {run}: features {names} are no longer defined for this dataset",
        "dates_order": "the first date ({a}) must be before the second ({b})",
        "no_orders": "dataset {dataset} has no orders table; migration needs order dates",
        "needs_run": "method 'run' needs a segmentation run id",
        "not_reapplicable": "run {run} cannot be re-applied: {why}",
    },
    "zh": {
        "no_buyers": "RFM 阈值至少需要一位有购买记录的客户",
        "rfm_columns": "RFM 分层需要列 {columns}（由订单表计算）",
        "no_numeric": "该运行没有可重新应用的数值特征",
        "features_missing": "该日期缺少这些特征：{names}",
        "no_segment_column": "分群表没有 'segment' 列",
        "only_noise": "该运行没有可重新应用的分群（只有噪声点）",
        "not_finished": "只有已完成的分群运行才能重新应用",
        "is_rfm": "该运行是 RFM 分层：请改选 RFM 分层",
        "model_vectors": "该运行对微调模型的向量聚类，无法在过去的日期重建",
        "used_text": "该运行用到了评论文本，其向量无法用过去某日已知的信息重建；请运行一次仅用数值"
        "（不含文本）的分群，再重新应用",
        "first_date": "第一个日期",
        "second_date": "第二个日期",
        "not_date": "{name} {value} 不是日期（应类似 2025-06-30）",
        "features_gone": "运行 {run}：特征 {names} 在该数据集中已不再定义",
        "dates_order": "第一个日期（{a}）必须早于第二个日期（{b}）",
        "no_orders": "数据集 {dataset} 没有订单表；迁移分析需要订单日期",
        "needs_run": "“按运行”方式需要一个分群运行 ID",
        "not_reapplicable": "运行 {run} 无法重新应用：{why}",
    },
}


def segment_label(segment: str, lang: str = "en") -> str:
    """How a segment id is shown in `lang`: :data:`NEW` and the RFM tiers are translated,
    other segments (a run's "Segment 1", user names) are shown as they are."""
    return SEGMENT_LABELS.get(lang, {}).get(segment, segment)


# ------------------------------------------------------------------------------ flows
def migration_table(
    a_labels: pd.Series | Sequence,
    b_labels: pd.Series | Sequence,
    weights: pd.Series | Sequence | None = None,
) -> pd.DataFrame:
    """Customers moving from each segment at A to each segment at B.

    `a_labels` and `b_labels` hold one label per customer: aligned sequences, or Series indexed
    by customer id (then aligned on it; both must cover the same customers). `weights` (e.g.
    spend at A) adds ``revenue_at_a``, the flow's summed weight. Returns one row per non-empty
    flow: ``from``, ``to``, ``customers``, ``share_of_from`` (of the source segment's size),
    sorted by source, then size.
    """
    a, b, w = _aligned(a_labels, b_labels, weights)
    df = pd.DataFrame({"from": a, "to": b})
    if w is not None:
        df["revenue_at_a"] = w
    agg = {"customers": ("from", "size")}
    if w is not None:
        agg["revenue_at_a"] = ("revenue_at_a", "sum")
    flows = df.groupby(["from", "to"], sort=False).agg(**agg).reset_index()
    sizes = flows.groupby("from")["customers"].transform("sum")
    flows["share_of_from"] = flows["customers"] / sizes
    order = {s: i for i, s in enumerate(segment_order(flows["from"]))}
    flows["_o"] = flows["from"].map(order)
    flows = flows.sort_values(["_o", "customers", "to"], ascending=[True, False, True])
    cols = ["from", "to", "customers", "share_of_from"]
    cols += ["revenue_at_a"] if w is not None else []
    return flows[cols].reset_index(drop=True)


def _aligned(a, b, w):
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        if a.index.has_duplicates or b.index.has_duplicates:
            raise ValueError("segment labels: a customer id appears twice")
        missing = b.index.difference(a.index)
        extra = a.index.difference(b.index)
        if len(missing) or len(extra):
            odd = missing if len(missing) else extra
            side = "the first date" if len(missing) else "the second date"
            raise ValueError(
                f"segment labels: {len(odd):,} customers (e.g. {odd[0]!r}) have no label at "
                f"{side}; both dates need a label for every customer (use {NEW!r} for none)"
            )
        a = a.reindex(b.index)
        if isinstance(w, pd.Series):
            w = w.reindex(b.index)
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    if len(a) != len(b):
        raise ValueError(
            f"segment labels: {len(a):,} labels at the first date, {len(b):,} at the second"
        )
    for name, arr in (("first", a), ("second", b)):
        bad = pd.isna(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"segment labels: customer #{i} has no segment at the {name} date "
                f"(expected a segment name or {NEW!r})"
            )
    a, b = a.astype(str), b.astype(str)
    if w is not None:
        w = np.asarray(w, dtype=float)
        if len(w) != len(a):
            raise ValueError(f"{len(w):,} weights for {len(a):,} customers")
        w = np.nan_to_num(w, nan=0.0)
    return a, b, w


def segment_order(labels) -> list[str]:
    """Display order: the new-customer node first, RFM tiers best to worst, then natural order."""
    labels = set(map(str, labels))
    rfm = {s: i for i, s in enumerate(RFM_SEGMENTS)}

    def key(s: str):
        if s == NEW:
            return (0, 0, "")
        if s in rfm:
            return (1, rfm[s], "")
        digits = "".join(ch for ch in s if ch.isdigit())
        return (2 if s != "Noise" else 3, int(digits) if digits else math.inf, s)

    return sorted(labels, key=key)


def largest_flows(
    flows: pd.DataFrame,
    k: int = 3,
    *,
    by: str = "customers",
    names: dict[str, str] | None = None,
    include_new: bool = False,
    lang: str = "en",
) -> list[str]:
    """The `k` largest moves as sentences, e.g. "412 Loyal → At risk (23% of Loyal)".

    Customers who stayed in their segment are not moves and are left out. ``by="revenue"``
    ranks flows by the spend at the first date of the customers moving (needs a table built
    with weights). `names` renames segments for display. Flows out of :data:`NEW` (customers
    acquired between the dates) are left out unless `include_new`. ``lang`` ("en" or "zh"):
    the sentences' language; segments without a name in `names` get :func:`segment_label`.
    """
    if by not in ("customers", "revenue"):
        raise ValueError(f"largest_flows: by must be 'customers' or 'revenue', not {by!r}")
    if by == "revenue" and "revenue_at_a" not in flows:
        raise ValueError("largest_flows by revenue needs a flow table built with weights")
    names = names or {}
    moves = flows[flows["from"] != flows["to"]]
    if not include_new:
        moves = moves[moves["from"] != NEW]
    col = "customers" if by == "customers" else "revenue_at_a"
    moves = moves.sort_values([col, "customers"], ascending=False).head(max(0, int(k)))
    out = []
    for row in moves.itertuples(index=False):
        src = names[row[0]] if row[0] in names else segment_label(row[0], lang)
        dst = names[row[1]] if row[1] in names else segment_label(row[1], lang)
        share = row.share_of_from
        pct = "<1%" if share < 0.005 else f"{share:.0%}"
        text = phrase(_TEXT, lang, "flow", count=f"{row.customers:,}", src=src, dst=dst, pct=pct)
        if by == "revenue":
            text += phrase(_TEXT, lang, "flow_spend", spend=f"{row.revenue_at_a:,.0f}")
        out.append(text + phrase(_TEXT, lang, "flow_end"))
    return out


# ------------------------------------------------------------------------ RFM tiers
def _score(good: np.ndarray, reference: np.ndarray, ties: str = "average") -> np.ndarray:
    """Quintile 1–5 of each value's rank among the sorted `reference` values.

    The rank of :func:`core.segment.rfm_quintile` with the same tie rule (``"average"``: the
    middle of the values it ties with; ``"min"``: one more than the values below it), so on
    the reference date itself these are exactly rfm_scores' scores, ties included.
    """
    n = len(reference)
    lo = np.searchsorted(reference, good, side="left")
    if ties == "min":
        rank = lo + 1.0
    else:
        hi = np.searchsorted(reference, good, side="right")
        rank = lo + (hi - lo + 1) / 2  # a value between reference values sits half-way
    return np.clip(np.ceil(rank / n * 5), 1, 5).astype(int)


def _reference(good: np.ndarray) -> np.ndarray:
    v = np.sort(good[~np.isnan(good)])
    if len(v) == 0:
        raise LocalizedError(_ERRORS, "no_buyers")
    return v


@dataclass(frozen=True, eq=False)
class RFMThresholds:
    """R (as −recency days), F and M quintiles measured on one date's paying customers.

    Holds that date's sorted values; a customer at any date is scored by where they would have
    ranked among them, so the cut points stay where they were at the first date.
    """

    recency: np.ndarray
    frequency: np.ndarray
    monetary: np.ndarray

    @classmethod
    def fit(cls, features: pd.DataFrame) -> RFMThresholds:
        _check_rfm(features)
        buyers = features[features["recency_days"].notna()]
        return cls(
            recency=_reference(-buyers["recency_days"].to_numpy(float)),
            frequency=_reference(buyers["frequency"].fillna(0).to_numpy(float)),
            monetary=_reference(buyers["monetary"].fillna(0).to_numpy(float)),
        )

    def scores(self, features: pd.DataFrame) -> pd.DataFrame:
        _check_rfm(features)
        rec = -features["recency_days"].to_numpy(float)
        rec = np.where(np.isnan(rec), -np.inf, rec)  # never bought: the worst recency
        return pd.DataFrame(
            {
                "customer_id": features["customer_id"].to_numpy(),
                "r": _score(rec, self.recency, RFM_TIES["r"]),
                "f": _score(
                    features["frequency"].fillna(0).to_numpy(float), self.frequency, RFM_TIES["f"]
                ),
                "m": _score(
                    features["monetary"].fillna(0).to_numpy(float), self.monetary, RFM_TIES["m"]
                ),
            }
        )

    def tiers(self, features: pd.DataFrame) -> pd.DataFrame:
        """Scores and the RFM tier, with the same R × FM grid as :func:`core.segment.rfm_tiers`."""
        s = self.scores(features)
        s["segment"] = rfm_grid(s["r"].to_numpy(), s["f"].to_numpy(), s["m"].to_numpy())
        return s


def _check_rfm(features: pd.DataFrame) -> None:
    missing = [c for c in ("customer_id", *RFM_FEATURES) if c not in features]
    if missing:
        raise LocalizedError(_ERRORS, "rfm_columns", columns=", ".join(missing))


def rfm_segments(
    features_a: pd.DataFrame, features_b: pd.DataFrame, *, thresholds: str = "fixed"
) -> tuple[pd.Series, pd.Series]:
    """RFM tier per customer at A and at B (indexed by customer id; B's customers are the population).

    Customers without a purchase before a cutoff (or not yet known then) are :data:`NEW`.
    """
    if thresholds not in THRESHOLDS:
        raise ValueError(f"thresholds must be one of {', '.join(THRESHOLDS)}, not {thresholds!r}")
    fixed = RFMThresholds.fit(features_a) if thresholds == "fixed" else None
    out = []
    for feats in (features_a, features_b):
        _check_rfm(feats)
        buyers = feats[feats["recency_days"].notna()]
        if fixed is not None:
            tiers = fixed.tiers(buyers)
        else:
            tiers = rfm_tiers(buyers) if len(buyers) else buyers.assign(segment=[])
        seg = pd.Series(NEW, index=pd.Index(feats["customer_id"].astype(str), name="customer_id"))
        seg.loc[buyers["customer_id"].astype(str).to_numpy()] = tiers["segment"].to_numpy()
        out.append(seg.astype(object))
    a, b = out
    return _on_population(a, b), b


def _on_population(a: pd.Series, b: pd.Series) -> pd.Series:
    """A's labels for B's customers: anyone unknown at A is new there."""
    return a.reindex(b.index).fillna(NEW).astype(object)


# --------------------------------------------------------------- a run re-applied
@dataclass
class NumericScaling:
    """The scaling of :func:`core.segment.scale_numeric`, fitted once and applied to other data."""

    columns: list[str]
    medians: np.ndarray
    logged: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    notes: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, df: pd.DataFrame) -> NumericScaling:
        cols = [
            c for c in df.columns if c not in _RUN_COLUMNS and pd.api.types.is_numeric_dtype(df[c])
        ]
        keep, med, logged, mean, std, notes = [], [], [], [], [], []
        for c in cols:
            col = df[c].astype(float).to_numpy(copy=True)
            nan = np.isnan(col)
            if nan.all():
                notes.append(f"feature '{c}' is empty for every customer and is left out")
                continue
            m = float(np.nanmedian(col))
            col[nan] = m
            if np.std(col) == 0:
                notes.append(f"feature '{c}' is constant and is left out")
                continue
            lg = bool(abs(pd.Series(col).skew()) > 2)
            if lg:
                col = np.sign(col) * np.log1p(np.abs(col))
            keep.append(c)
            med.append(m)
            logged.append(lg)
            mean.append(col.mean())
            std.append(col.std())
        if not keep:
            raise LocalizedError(_ERRORS, "no_numeric")
        return cls(keep, np.array(med), np.array(logged), np.array(mean), np.array(std), notes)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.columns if c not in df]
        if missing:
            raise LocalizedError(_ERRORS, "features_missing", names=", ".join(missing))
        X = df[self.columns].astype(float).to_numpy(copy=True)
        X = np.where(np.isnan(X), self.medians[None, :], X)
        X[:, self.logged] = np.sign(X[:, self.logged]) * np.log1p(np.abs(X[:, self.logged]))
        return (X - self.means) / self.stds


@dataclass
class SegmentCentres:
    """Each segment's centre in a run's scaled feature space; assigns customers by nearest centre."""

    scaling: NumericScaling
    segments: list[str]
    centres: np.ndarray

    @classmethod
    def fit(cls, run_segments: pd.DataFrame) -> SegmentCentres:
        if "segment" not in run_segments:
            raise LocalizedError(_ERRORS, "no_segment_column")
        scaling = NumericScaling.fit(run_segments)
        Z = scaling.transform(run_segments)
        seg = run_segments["segment"].astype(str).to_numpy()
        names = [s for s in segment_order(set(seg)) if s not in ("Noise", str(NOISE))]
        if not names:
            raise LocalizedError(_ERRORS, "only_noise")
        centres = np.vstack([Z[seg == s].mean(axis=0) for s in names])
        return cls(scaling, names, centres)

    def assign(self, features: pd.DataFrame) -> np.ndarray:
        Z = self.scaling.transform(features)
        d = (Z**2).sum(1)[:, None] - 2 * Z @ self.centres.T + (self.centres**2).sum(1)[None, :]
        return np.asarray(self.segments, dtype=object)[d.argmin(axis=1)]


def centroid_segments(
    run_segments: pd.DataFrame, features_a: pd.DataFrame, features_b: pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    """A run's segments re-applied at A and B by nearest centre (B's customers are the population)."""
    centres = SegmentCentres.fit(run_segments)
    out = []
    for feats in (features_a, features_b):
        seg = pd.Series(NEW, index=pd.Index(feats["customer_id"].astype(str), name="customer_id"))
        buys = feats["recency_days"].notna().to_numpy() if "recency_days" in feats else None
        if buys is None:  # no orders-based recency: everyone known counts as a customer
            buys = np.ones(len(feats), dtype=bool)
        if buys.any():
            seg.iloc[np.flatnonzero(buys)] = centres.assign(feats[buys])
        out.append(seg.astype(object))
    a, b = out
    return _on_population(a, b), b


def reapplicable_run(run) -> LocalText | None:
    """Why a segmentation run cannot be re-applied at past dates (English; `text_in` says it
    in another language), or None when it can."""
    p = run.params or {}
    if run.kind != "segment" or run.status != "done":
        return LocalText(_ERRORS, "not_finished")
    if p.get("method") == "rfm":
        return LocalText(_ERRORS, "is_rfm")
    if p.get("vectors_from"):
        return LocalText(_ERRORS, "model_vectors")
    notes = " ".join((run.summary or {}).get("notes", []))
    if p.get("use_text", True) and p.get("text_weight", 0.5) > 0 and "numbers only" not in notes:
        return LocalText(_ERRORS, "used_text")
    return None


# ------------------------------------------------------------------- the workspace
@dataclass
class Migration:
    """Both dates' segments for every customer known at cutoff B, and their flows."""

    customers: pd.DataFrame  # customer_id, segment_a, segment_b, monetary_a, monetary_b
    flows: pd.DataFrame
    cutoff_a: datetime
    cutoff_b: datetime
    method: str
    notes: list[str] = field(default_factory=list)


def _as_cutoff(value: date | datetime | str, name: str) -> datetime:
    try:
        return pd.Timestamp(value).to_pydatetime()
    except (ValueError, TypeError):
        raise LocalizedError(
            _ERRORS, "not_date", name=Phrase(_ERRORS, name), value=repr(value)
        ) from None


def _run_features(ws: Workspace, run) -> list[Feature]:
    """The Feature definitions of the columns a run clustered on."""
    from core.datasets import FeatureConfig, compute_dataset_features

    seg = pd.read_parquet(run.path / "segments.parquet")
    cols = [
        c for c in seg.columns if c not in _RUN_COLUMNS and pd.api.types.is_numeric_dtype(seg[c])
    ]
    config = FeatureConfig.from_dict((run.params or {}).get("features", {}))
    known = {f.name: f for f in CATALOGUE}
    known.update({f.name: f for f in compute_dataset_features(ws, run.dataset_id, config).features})
    missing = [c for c in cols if c not in known]
    if missing:
        raise LocalizedError(_ERRORS, "features_gone", run=run.id, names=", ".join(missing))
    feats = [known[c] for c in cols]
    for name in RFM_FEATURES:  # recency tells buyers from non-buyers; monetary weighs flows
        if name not in cols:
            feats.append(known[name])
    return feats


def compute_migration(
    ws: Workspace,
    dataset_id: str,
    cutoff_a: date | datetime | str,
    cutoff_b: date | datetime | str,
    *,
    method: str = "rfm",
    thresholds: str = "fixed",
    run_id: str | None = None,
    lang: str = "en",
) -> Migration:
    """Segments at two cutoffs (only orders before each count) and the flows between them.

    `method` is ``"rfm"`` (tiers; `thresholds` ``"fixed"`` at A or ``"per_cutoff"``) or
    ``"run"`` (segmentation run `run_id` re-applied by nearest centre). ``lang``: the language
    of the notes ("en" or "zh"); the segment labels in the data stay the English ids.
    """
    a, b = _as_cutoff(cutoff_a, "first_date"), _as_cutoff(cutoff_b, "second_date")
    if a >= b:
        raise LocalizedError(_ERRORS, "dates_order", a=f"{a:%Y-%m-%d}", b=f"{b:%Y-%m-%d}")
    paths = ws.table_paths(dataset_id)
    if "orders" not in paths:
        raise LocalizedError(_ERRORS, "no_orders", dataset=repr(dataset_id))
    notes: list[str] = []
    if method == "rfm":
        feats = [f for f in CATALOGUE if f.name in RFM_FEATURES]
        run_seg = None
    elif method == "run":
        if not run_id:
            raise LocalizedError(_ERRORS, "needs_run")
        run = ws.get_run(run_id)
        why = reapplicable_run(run)
        if why:
            raise LocalizedError(_ERRORS, "not_reapplicable", run=run_id, why=why.phrase)
        feats = _run_features(ws, run)
        run_seg = pd.read_parquet(run.path / "segments.parquet")
        run_method = (run.params or {}).get("method", "")
        if run_method not in ("kmeans", "minibatch_kmeans"):
            notes.append(phrase(_TEXT, lang, "approximation", method=run_method))
    else:
        raise ValueError(f"method must be 'rfm' or 'run', not {method!r}")
    fa = build_customer_features(paths, feats, cutoff=a)
    fb = build_customer_features(paths, feats, cutoff=b)
    if method == "rfm":
        seg_a, seg_b = rfm_segments(fa.data, fb.data, thresholds=thresholds)
    else:
        seg_a, seg_b = centroid_segments(run_seg, fa.data, fb.data)
    ids_a = set(fa.data["customer_id"].astype(str))
    gone = ids_a - set(seg_b.index)
    if gone:
        notes.append(phrase(_TEXT, lang, "gone", count=f"{len(gone):,}"))
    money = {}
    for tag, ft in (("a", fa), ("b", fb)):
        m = ft.data.set_index(ft.data["customer_id"].astype(str))["monetary"]
        money[tag] = m.reindex(seg_b.index).fillna(0.0).to_numpy(float)
    customers = pd.DataFrame(
        {
            "customer_id": seg_b.index.to_numpy(),
            "segment_a": seg_a.to_numpy(),
            "segment_b": seg_b.to_numpy(),
            "monetary_a": money["a"],
            "monetary_b": money["b"],
        }
    )
    n_new = int((customers["segment_a"] == NEW).sum())
    if n_new:
        notes.append(phrase(_TEXT, lang, "new", count=f"{n_new:,}", new=segment_label(NEW, lang)))
    flows = migration_table(seg_a, seg_b, weights=pd.Series(money["a"], index=seg_b.index))
    label = "RFM tiers" if method == "rfm" else f"run {run_id}"
    return Migration(customers, flows, a, b, label, notes)


def flow_customers(migration: Migration, src: str, dst: str) -> pd.DataFrame:
    """The customers who moved from `src` at the first date to `dst` at the second."""
    c = migration.customers
    return c[(c["segment_a"] == src) & (c["segment_b"] == dst)].reset_index(drop=True)
