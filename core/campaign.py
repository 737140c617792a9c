"""Campaign feedback loop: read a campaign result file, measure uplift per segment, store it.

A campaign result file has one row per customer who was in the campaign:

    customer_id, group (treated / control), responded (yes / no), revenue (optional)

`read_campaign_file` reads it (CSV / TSV / Excel / Parquet / JSON through `core.ingest.read_raw`,
so encodings and delimiters are sniffed as for any upload), maps the common spellings and
reports every mapping and every value it had to fill in. Bad values raise a `ValueError` naming
the file, row and column.

`uplift_table` measures, per segment and overall, the response rate of treated and control
customers, the absolute uplift (difference of proportions) with Newcombe's hybrid score 95%
interval, the relative uplift, revenue per customer with a Welch 95% interval on the
difference, and the incremental responders / revenue (uplift × customers treated). Groups too
small to say anything get the verdict "too few customers to tell" and no uplift numbers.

`record_campaign` stores it next to the segmentation run it was measured against::

    runs/<segment_run>/campaigns/<campaign_id>/results.parquet   customer_id, group, responded,
                                                                 revenue, segment
    runs/<segment_run>/campaigns/<campaign_id>/summary.json      name, file, uploaded_at,
                                                                 report, table

The responses of treated customers become a "who responds" target for the fine-tuning engine
through `core.targets.campaign_target`.
"""

from __future__ import annotations

import io
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.locale import LocalizedError, Phrase, phrase, texts_in
from core.workspace import Workspace, atomic_write_json, atomic_write_parquet

TREATED = "treated"
CONTROL = "control"
OVERALL = "All customers"
UNSEGMENTED = "Not segmented"
MIN_GROUP = 30  # customers per group (treated and control) before a segment's uplift is shown
TOO_FEW = "too few customers to tell"
Z95 = 1.959963984540054

# Accepted spellings (compared lower-case, stripped).
TREATED_VALUES = frozenset(
    {"treated", "treatment", "test", "1", "t", "target", "targeted", "exposed", "mailed", "yes"}
)
CONTROL_VALUES = frozenset(
    {"control", "holdout", "hold-out", "hold out", "0", "c", "ctrl", "not treated", "no"}
)
YES_VALUES = frozenset({"yes", "y", "true", "t", "1", "1.0", "responded", "converted"})
NO_VALUES = frozenset({"no", "n", "false", "f", "0", "0.0", "did not respond", "not converted"})

COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id",
        "customerid",
        "customer",
        "cust_id",
        "client_id",
        "user_id",
        "member_id",
        "id",
    ),
    "group": (
        "group",
        "arm",
        "variant",
        "cell",
        "treatment_group",
        "test_group",
        "assignment",
        "treatment",
        "treated",
        "test_control",
    ),
    "responded": (
        "responded",
        "response",
        "converted",
        "conversion",
        "purchased",
        "outcome",
        "redeemed",
    ),
    "revenue": ("revenue", "sales", "amount", "value", "spend", "order_value"),
}
REQUIRED = ("customer_id", "group", "responded")
MAX_LISTED_ERRORS = 5


# --------------------------------------------------------------------------- reading
# What reading a file says (errors, notes, warnings), in each interface language. The report
# stores the English text (summary.json stays English) and the phrases, so a page can say the
# notes again in the session's language; errors are LocalizedErrors (str() is English).
_READ = {
    "en": {
        "sep": "; ",
        "list_sep": ", ",
        "more": " (and {n} more)",
        "fix": "{errors}{more}. Fix {file} and upload it again.",
        "no_columns": "no columns",
        "missing_columns": "{file}: no {missing} column. A campaign result file needs the "
        "columns customer_id, group (treated or control), responded (yes or no) and optionally "
        "revenue; the file has: {columns}",
        "row_unreadable": "{file} row {row}: {reason}",
        "rows_unreadable": "{file}: {n} rows could not be read",
        "id_empty": "{file} row {row}, column {column}: the customer id is empty",
        "id_duplicate": "{file} rows {rows}, column {column}: customer {customer} appears {n} "
        "times (each customer must appear once)",
        "group_empty": "{file} row {row}, column {column}: is empty (expected treated / "
        "treatment / test / 1 or control / holdout / 0)",
        "group_bad": "{file} row {row}, column {column}: {value} is not treated or control "
        "(expected treated / treatment / test / 1 or control / holdout / 0)",
        "responded_empty": "{file} row {row}, column {column}: is empty (expected yes / no, "
        "true / false or 1 / 0)",
        "responded_bad": "{file} row {row}, column {column}: {value} is not yes or no (expected "
        "yes / no, true / false or 1 / 0)",
        "revenue_bad": "{file} row {row}, column {column}: {value} is not a number (expected "
        "e.g. 12.50)",
        "unknown_row": "row {row}: {customer}",
        "unknown_refused": "{file}: {n} of {total} customer ids (column {column}) are not in the "
        "dataset — {rows}; {why}",
        "why_none": "none of them is a customer of this dataset (is it the right dataset?)",
        "why_refused": "the file was refused as asked",
        "no_control": "{file}: no customer is in the control group (column {column}). Uplift is "
        "measured against customers who were not contacted: keep a random holdout and mark it "
        "'control'.",
        "no_treated": "{file}: no customer is in the treated group (column {column}): there is "
        "nothing to measure",
        "reading": "reading: {note}",
        "as_is": "{text}",
        "unsegmented": "'Not segmented'",
        "blank_no_revenue": "{n} non-responders have no revenue: counted as 0",
        "blank_yes_revenue": "{n} responders have no revenue: counted as 0, so revenue uplift "
        "is understated",
        "negative_revenue": "{n} customers have negative revenue (refunds): kept as is",
        "revenue_no_response": "{n} customers who did not respond still have revenue: kept as is",
        "no_revenue_column": "no revenue column: revenue figures are not shown",
        "unknown_left_out": "{n} of {total} customer ids are not in the dataset and were left "
        "out of the analysis ({rows})",
        "few_control": "only {n} control customers: uplift will be very uncertain (aim for at "
        "least a few hundred)",
        "not_segmented": "{n} campaign customers are not in this segmentation (no features, "
        "e.g. no orders): shown as {segment}",
    },
    "zh": {
        "sep": "；",
        "list_sep": "、",
        "more": "（另有 {n} 处）",
        "fix": "{errors}{more}。请修改 {file} 后重新上传。",
        "no_columns": "没有任何列",
        "missing_columns": "{file}：缺少 {missing} 列。营销活动结果文件需要以下列：`customer_id`、"
        "`group`（`treated` 或 `control`）、`responded`（`yes` 或 `no`），`revenue` 可选；"
        "该文件的列为：{columns}",
        "row_unreadable": "{file} 第 {row} 行：{reason}",
        "rows_unreadable": "{file}：有 {n} 行无法读取",
        "id_empty": "{file} 第 {row} 行，列 {column}：客户 ID 为空",
        "id_duplicate": "{file} 第 {rows} 行，列 {column}：客户 {customer} 出现了 {n} 次"
        "（每位客户只能出现一次）",
        "group_empty": "{file} 第 {row} 行，列 {column}：值为空（实验组应写 `treated` / "
        "`treatment` / `test` / `1`，对照组应写 `control` / `holdout` / `0`）",
        "group_bad": "{file} 第 {row} 行，列 {column}：{value} 既不是实验组也不是对照组（实验组应写 "
        "`treated` / `treatment` / `test` / `1`，对照组应写 `control` / `holdout` / `0`）",
        "responded_empty": "{file} 第 {row} 行，列 {column}：值为空（应为 `yes` / `no`、`true` / "
        "`false` 或 `1` / `0`）",
        "responded_bad": "{file} 第 {row} 行，列 {column}：{value} 不是“是”或“否”（应为 `yes` / "
        "`no`、`true` / `false` 或 `1` / `0`）",
        "revenue_bad": "{file} 第 {row} 行，列 {column}：{value} 不是数字（应类似 12.50）",
        "unknown_row": "第 {row} 行：{customer}",
        "unknown_refused": "{file}：{total} 个客户 ID 中有 {n} 个（列 {column}）不在该数据集中——"
        "{rows}；{why}",
        "why_none": "没有一个是该数据集的客户（数据集选对了吗？）",
        "why_refused": "已按要求拒收该文件",
        "no_control": "{file}：对照组中没有客户（列 {column}）。提升是相对未被联系的客户来衡量的："
        "请保留一个随机对照组，并标记为 `control`。",
        "no_treated": "{file}：实验组中没有客户（列 {column}）：没有可衡量的内容",
        "reading": "读取：{note}",
        "unsegmented": "未分群",
        "blank_no_revenue": "{n} 位未响应客户没有收入：按 0 计",
        "blank_yes_revenue": "{n} 位响应客户没有收入：按 0 计，因此收入提升被低估",
        "negative_revenue": "{n} 位客户的收入为负（退款）：保持原值",
        "revenue_no_response": "{n} 位未响应客户仍有收入：保持原值",
        "no_revenue_column": "没有收入列：不显示收入相关数字",
        "unknown_left_out": "{total} 个客户 ID 中有 {n} 个不在该数据集中，已从分析中排除（{rows}）",
        "few_control": "对照组只有 {n} 位客户：提升的不确定性会很大（建议至少几百人）",
        "not_segmented": "{n} 位活动客户不在本次分群中（没有特征，例如没有订单）：显示为“{segment}”",
    },
}


@dataclass
class CampaignReport:
    """What reading the file did: column and value mappings, fills, exclusions."""

    file: str
    rows_read: int = 0
    rows_kept: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> column in the file
    group_values: dict[str, str] = field(default_factory=dict)  # spelling in file -> group
    responded_values: dict[str, bool] = field(default_factory=dict)
    n_treated: int = 0
    n_control: int = 0
    unknown_ids: int = 0
    unknown_examples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The same notes and warnings as phrases (Phrase.to_dict()), to say them in another language.
    note_phrases: list[dict[str, Any]] = field(default_factory=list)
    warning_phrases: list[dict[str, Any]] = field(default_factory=list)

    def note(self, key: str, **values) -> None:
        p = Phrase(_READ, key, **values)
        self.notes.append(p.text("en"))
        self.note_phrases.append(p.to_dict())

    def warn(self, key: str, **values) -> None:
        p = Phrase(_READ, key, **values)
        self.warnings.append(p.text("en"))
        self.warning_phrases.append(p.to_dict())

    def notes_in(self, lang: str) -> list[str]:
        """The notes in `lang` (English for a report stored before notes had phrases)."""
        return _said(self.notes, self.note_phrases, lang)

    def warnings_in(self, lang: str) -> list[str]:
        return _said(self.warnings, self.warning_phrases, lang)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CampaignReport:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


def _said(texts: list[str], phrases: list[dict[str, Any]], lang: str) -> list[str]:
    if lang != "en" and len(phrases) != len(texts):  # stored before reports kept phrases
        return [_reread(text, lang) for text in texts]
    return texts_in(texts, phrases, _READ, lang)


def _reread(text: str, lang: str) -> str:
    """An English note of an older report said in `lang`, when it matches one of the phrases."""
    for key, template in _READ["en"].items():
        if key in ("sep", "list_sep", "as_is") or "{" not in template and template != text:
            continue
        parts = re.split(r"\{(\w+)\}", template)
        pattern = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)
        )
        m = re.fullmatch(pattern, text)
        if m:
            return phrase(_READ, lang, key, **m.groupdict())
    return text


@dataclass
class CampaignFile:
    data: pd.DataFrame  # customer_id (str), group ("treated"/"control"), responded (bool), revenue
    report: CampaignReport
    has_revenue: bool = True  # False: the file had no revenue column (revenue is all 0)


def _bad_cells(
    bad: np.ndarray, text: pd.Series, what: str, name: str, rows: Any, column: str
) -> list[Phrase]:
    """One error per cell of `text` flagged in `bad`: '<what>_empty' or '<what>_bad'."""
    return [
        Phrase(
            _READ,
            f"{what}_empty" if text.iloc[i] == "" else f"{what}_bad",
            file=name,
            row=rows[i],
            column=repr(column),
            value=_q(text.iloc[i]),
        )
        for i in np.flatnonzero(bad)
    ]


def _q(v: Any) -> str:
    s = str(v)
    return repr(s if len(s) <= 40 else s[:39] + "…")


def _find_columns(columns: list[str], name: str) -> dict[str, str]:
    """canonical -> source column, by exact (case-insensitive, separators ignored) synonym."""

    def norm(c: str) -> str:
        return re.sub(r"[^a-z0-9]", "", str(c).strip().lower())

    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm(c), c)
    found: dict[str, str] = {}
    used: set[str] = set()
    for canon, synonyms in COLUMN_SYNONYMS.items():
        for s in synonyms:
            src = by_norm.get(norm(s))
            if src is not None and src not in used:
                found[canon] = src
                used.add(src)
                break
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise LocalizedError(
            _READ,
            "missing_columns",
            file=name,
            missing=" / ".join(repr(m) for m in missing),
            columns=", ".join(map(repr, columns)) or Phrase(_READ, "no_columns"),
        )
    return found


def _money(text: str) -> float | None:
    """'1,234.50', '$12', '12,5' → float; None when not a number."""
    s = re.sub(r"[\s$€£¥]", "", text)
    if "," in s and "." in s:
        s = s.replace(",", "")
    elif re.fullmatch(r"-?\d+,\d{1,2}", s):
        s = s.replace(",", ".")
    else:
        s = s.replace(",", "")
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _raise_errors(errors: list[Phrase], name: str) -> None:
    if not errors:
        return
    extra = len(errors) - MAX_LISTED_ERRORS
    more = Phrase(_READ, "more", n=f"{extra:,}") if extra > 0 else ""
    raise LocalizedError(_READ, "fix", errors=errors[:MAX_LISTED_ERRORS], more=more, file=name)


def read_campaign_file(
    source: str | Path | bytes,
    filename: str | None = None,
    *,
    known_ids: pd.Series | pd.Index | list[str] | None = None,
    unknown_ids: str = "exclude",
) -> CampaignFile:
    """Read and validate a campaign result file.

    `known_ids` are the dataset's customer ids. Ids the dataset does not know are left out of
    the analysis and counted in the report (``unknown_ids="exclude"``), or refuse the file
    (``unknown_ids="reject"``). A file without control customers, or without treated ones, is
    refused: uplift is measured against the control group.
    """
    from core.ingest import read_raw

    if unknown_ids not in ("exclude", "reject"):
        raise ValueError(f"unknown_ids must be 'exclude' or 'reject' (got {unknown_ids!r})")
    raw = read_raw(source, filename)
    name = raw.filename
    report = CampaignReport(file=name, rows_read=len(raw.df) + raw.n_rejected)
    for n in raw.notes:
        report.note("reading", note=n)
    for w in raw.warnings:  # the reader's own words (not translated here)
        report.warn("as_is", text=w)
    if raw.n_rejected:
        bad = raw.rejected
        rows = bad["_row"].tolist() if "_row" in bad.columns else []
        reasons = bad["_reason"].tolist() if "_reason" in bad.columns else []
        _raise_errors(
            [
                Phrase(_READ, "row_unreadable", file=name, row=r, reason=why)
                for r, why in zip(rows, reasons, strict=False)
            ]
            or [Phrase(_READ, "rows_unreadable", file=name, n=f"{raw.n_rejected:,}")],
            name,
        )
    df = raw.df
    cols = _find_columns(list(df.columns), name)
    report.columns = dict(cols)
    rows = raw.row_numbers
    errors: list[Phrase] = []

    def cell(canon: str) -> pd.Series:
        return df[cols[canon]].astype("string").fillna("").str.strip()

    # customer_id
    ids = cell("customer_id")
    for i in np.flatnonzero((ids == "").to_numpy()):
        errors.append(
            Phrase(_READ, "id_empty", file=name, row=rows[i], column=repr(cols["customer_id"]))
        )
    dup = ids.duplicated(keep=False) & (ids != "")
    if dup.any():
        for cid, idx in ids[dup].groupby(ids[dup]).groups.items():
            where = ", ".join(str(rows[df.index.get_loc(j)]) for j in list(idx)[:5])
            errors.append(
                Phrase(
                    _READ,
                    "id_duplicate",
                    file=name,
                    rows=where,
                    column=repr(cols["customer_id"]),
                    customer=_q(cid),
                    n=len(idx),
                )
            )

    # group
    g_text = cell("group")
    g_low = g_text.str.lower()
    group = pd.Series(
        np.where(
            g_low.isin(TREATED_VALUES), TREATED, np.where(g_low.isin(CONTROL_VALUES), CONTROL, "")
        ),
        index=df.index,
        dtype=object,
    )
    errors += _bad_cells((group == "").to_numpy(), g_text, "group", name, rows, cols["group"])
    for spelling in sorted(set(g_text[group != ""])):
        report.group_values[spelling] = TREATED if spelling.lower() in TREATED_VALUES else CONTROL

    # responded
    r_text = cell("responded")
    r_low = r_text.str.lower()
    yes, no = r_low.isin(YES_VALUES), r_low.isin(NO_VALUES)
    bad = (~yes & ~no).to_numpy()
    errors += _bad_cells(bad, r_text, "responded", name, rows, cols["responded"])
    for spelling in sorted(set(r_text[yes | no])):
        report.responded_values[spelling] = spelling.lower() in YES_VALUES
    responded = yes.to_numpy()

    # revenue (optional)
    revenue = np.zeros(len(df))
    if "revenue" in cols:
        v_text = cell("revenue")
        blank = (v_text == "").to_numpy()
        for i in np.flatnonzero(~blank):
            x = _money(v_text.iloc[i])
            if x is None:
                errors.append(
                    Phrase(
                        _READ,
                        "revenue_bad",
                        file=name,
                        row=rows[i],
                        column=repr(cols["revenue"]),
                        value=_q(v_text.iloc[i]),
                    )
                )
            else:
                revenue[i] = x
        n_blank_no = int((blank & ~responded).sum())
        n_blank_yes = int((blank & responded).sum())
        if n_blank_no:
            report.note("blank_no_revenue", n=f"{n_blank_no:,}")
        if n_blank_yes:
            report.warn("blank_yes_revenue", n=f"{n_blank_yes:,}")
        n_neg = int((revenue < 0).sum())
        if n_neg:
            report.note("negative_revenue", n=f"{n_neg:,}")
        n_rev_no = int(((revenue != 0) & ~responded).sum())
        if n_rev_no:
            report.note("revenue_no_response", n=f"{n_rev_no:,}")
    else:
        report.note("no_revenue_column")
    _raise_errors(errors, name)

    data = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(dtype=object),
            "group": group.to_numpy(dtype=object),
            "responded": responded.astype(bool),
            "revenue": revenue.astype(float),
        }
    )

    if known_ids is not None:
        known = pd.Index(pd.Series(list(known_ids), dtype=object).astype(str).unique())
        unknown = ~data["customer_id"].isin(known).to_numpy()
        n_unknown = int(unknown.sum())
        if n_unknown:
            report.unknown_ids = n_unknown
            report.unknown_examples = data.loc[unknown, "customer_id"].head(5).tolist()
            first = np.flatnonzero(unknown)[:MAX_LISTED_ERRORS]
            listing = [
                Phrase(_READ, "unknown_row", row=rows[i], customer=_q(data["customer_id"].iloc[i]))
                for i in first
            ]
            counts = dict(n=f"{n_unknown:,}", total=f"{len(data):,}", rows=listing)
            if unknown_ids == "reject" or n_unknown == len(data):
                why = "why_none" if n_unknown == len(data) else "why_refused"
                raise LocalizedError(
                    _READ,
                    "unknown_refused",
                    file=name,
                    column=repr(cols["customer_id"]),
                    why=Phrase(_READ, why),
                    **counts,
                )
            report.warn("unknown_left_out", **counts)
            data = data[~unknown].reset_index(drop=True)

    report.n_treated = int((data["group"] == TREATED).sum())
    report.n_control = int((data["group"] == CONTROL).sum())
    if report.n_control == 0:
        raise LocalizedError(_READ, "no_control", file=name, column=repr(cols["group"]))
    if report.n_treated == 0:
        raise LocalizedError(_READ, "no_treated", file=name, column=repr(cols["group"]))
    if report.n_control < MIN_GROUP:
        report.warn("few_control", n=f"{report.n_control:,}")
    report.rows_kept = len(data)
    return CampaignFile(data=data, report=report, has_revenue="revenue" in cols)


def dataset_customer_ids(ws: Workspace, dataset_id: str) -> pd.Index:
    """Every customer id the dataset knows (customers table, else the orders' customers)."""
    for table in ("customers", "orders"):
        path = ws.dataset_dir(dataset_id) / f"{table}.parquet"
        if path.exists():
            ids = pd.read_parquet(path, columns=["customer_id"])["customer_id"]
            return pd.Index(ids.dropna().astype(str).unique())
    return pd.Index([], dtype=object)


# --------------------------------------------------------------------------- maths
@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def wilson_interval(x: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval for a proportion x / n."""
    if n <= 0:
        return Interval(math.nan, math.nan, math.nan)
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def uplift_interval(x_t: int, n_t: int, x_c: int, n_c: int, z: float = Z95) -> Interval:
    """Difference of proportions x_t/n_t − x_c/n_c with Newcombe's hybrid score interval.

    Newcombe (1998), method 10: combines the Wilson intervals (l, u) of both rates,
    ``d − √((p_t − l_t)² + (u_c − p_c)²)`` to ``d + √((u_t − p_t)² + (p_c − l_c)²)``. Unlike the
    Wald interval it stays inside [−1, 1] and keeps its coverage for small groups and rates
    near 0 or 1.
    """
    if n_t <= 0 or n_c <= 0:
        return Interval(math.nan, math.nan, math.nan)
    t, c = wilson_interval(x_t, n_t, z), wilson_interval(x_c, n_c, z)
    d = t.estimate - c.estimate
    low = d - math.sqrt((t.estimate - t.low) ** 2 + (c.high - c.estimate) ** 2)
    high = d + math.sqrt((t.high - t.estimate) ** 2 + (c.estimate - c.low) ** 2)
    return Interval(d, low, high)


def welch_interval(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> Interval:
    """mean(a) − mean(b) with the Welch (unequal variances) t interval."""
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return Interval(math.nan, math.nan, math.nan)
    d = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(d, d, d)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    return Interval(d, d - t * se, d + t * se)


# The verdicts are stored in English (they are data: summary.json, comparisons with TOO_FEW);
# :func:`verdict_label` says them in the interface language.
_VERDICTS_ZH = {
    "responds more when treated": "触达后响应更多",
    "responds less when treated": "触达后响应更少",
    "no clear effect": "无明显效果",
    TOO_FEW: "客户太少，无法判断",
}


def verdict_label(verdict: str, lang: str = "en") -> str:
    """A stored verdict as shown in `lang` ("en" or "zh"); unknown verdicts as they are."""
    return _VERDICTS_ZH.get(verdict, verdict) if lang == "zh" else verdict


_SEGMENTS_ZH = {OVERALL: "全部客户", UNSEGMENTED: "未分群"}


def segment_label(segment: str, lang: str = "en") -> str:
    """The table's own rows (all customers, not segmented) in `lang`; other segments as they are."""
    return _SEGMENTS_ZH.get(segment, segment) if lang == "zh" else segment


_TEXT = {
    "en": {
        "overall_few": "Overall there are too few customers in one of the groups to tell.",
        "overall": "Overall, treated customers responded at {treated} against {control} in the "
        "control group: {uplift} (95% CI {low} to {high}, pp = percentage points): {verdict}.",
        "sure": " — the interval is above zero",
        "unsure": ", though the interval includes zero",
        "best": "Best segment: **{segment}**, uplift {uplift}{sure}.",
        "worst_negative": ": the campaign put these customers off; leave them out next time",
        "worst_positive": ", still clearly positive",
        "worst_unclear": ": no clear effect; the budget is probably better spent elsewhere",
        "worst": "Worst segment: **{segment}**, uplift {uplift}{tail}.",
        "few": "Too few customers to tell for {segments} (fewer than {min_group} treated or "
        "control customers).",
        "list_sep": ", ",
    },
    "zh": {
        "overall_few": "整体而言，有一组客户太少，无法判断。",
        "overall": "整体而言，实验组客户的响应率为 {treated}，对照组为 {control}：{uplift}"
        "（95% 置信区间 {low} 至 {high}，pp = 百分点）：{verdict}。",
        "sure": "——区间高于零",
        "unsure": "，但区间包含零",
        "best": "最佳分群：**{segment}**，提升 {uplift}{sure}。",
        "worst_negative": "：这次活动让这些客户反感，下次请把他们排除在外",
        "worst_positive": "，仍明显为正",
        "worst_unclear": "：没有明显效果，预算花在别处可能更好",
        "worst": "最差分群：**{segment}**，提升 {uplift}{tail}。",
        "few": "{segments} 的客户太少，无法判断（实验组或对照组不足 {min_group} 人）。",
        "list_sep": "、",
    },
}


def _verdict(iv: Interval) -> str:
    if iv.low > 0:
        return "responds more when treated"
    if iv.high < 0:
        return "responds less when treated"
    return "no clear effect"


TABLE_COLUMNS = [
    "segment",
    "n_treated",
    "n_control",
    "responders_treated",
    "responders_control",
    "rate_treated",
    "rate_control",
    "uplift",
    "uplift_low",
    "uplift_high",
    "relative_uplift",
    "revenue_per_treated",
    "revenue_per_control",
    "revenue_diff",
    "revenue_diff_low",
    "revenue_diff_high",
    "incremental_responders",
    "incremental_revenue",
    "verdict",
]


def _group_row(seg: str, g: pd.DataFrame, min_group: int, has_revenue: bool) -> dict[str, Any]:
    t = g[g["group"] == TREATED]
    c = g[g["group"] == CONTROL]
    n_t, n_c = len(t), len(c)
    x_t, x_c = int(t["responded"].sum()), int(c["responded"].sum())
    row: dict[str, Any] = {
        "segment": seg,
        "n_treated": n_t,
        "n_control": n_c,
        "responders_treated": x_t,
        "responders_control": x_c,
        "rate_treated": x_t / n_t if n_t else math.nan,
        "rate_control": x_c / n_c if n_c else math.nan,
        "revenue_per_treated": float(t["revenue"].mean()) if n_t and has_revenue else math.nan,
        "revenue_per_control": float(c["revenue"].mean()) if n_c and has_revenue else math.nan,
    }
    nan = Interval(math.nan, math.nan, math.nan)
    enough = n_t >= min_group and n_c >= min_group
    up = uplift_interval(x_t, n_t, x_c, n_c) if enough else nan
    rev = welch_interval(t["revenue"], c["revenue"]) if enough and has_revenue else nan
    rate_c = row["rate_control"]
    row |= {
        "uplift": up.estimate,
        "uplift_low": up.low,
        "uplift_high": up.high,
        "relative_uplift": up.estimate / rate_c if enough and rate_c > 0 else math.nan,
        "revenue_diff": rev.estimate,
        "revenue_diff_low": rev.low,
        "revenue_diff_high": rev.high,
        "incremental_responders": up.estimate * n_t,
        "incremental_revenue": rev.estimate * n_t,
        "verdict": _verdict(up) if enough else TOO_FEW,
    }
    return row


def uplift_table(
    results: pd.DataFrame, *, min_group: int = MIN_GROUP, has_revenue: bool = True
) -> pd.DataFrame:
    """One row per segment (largest first) and a last row for all customers.

    `results` has customer_id, group, responded, revenue and (optionally) segment. A segment
    with fewer than `min_group` treated or control customers keeps its counts and rates but
    gets no uplift figures and the verdict "too few customers to tell".
    """
    for col in ("group", "responded"):
        if col not in results.columns:
            raise ValueError(f"the campaign results have no {col!r} column")
    df = results.copy()
    if "revenue" not in df.columns:
        df["revenue"] = 0.0
        has_revenue = False
    if "segment" not in df.columns:
        df["segment"] = OVERALL
    df["segment"] = df["segment"].astype(object).where(df["segment"].notna(), UNSEGMENTED)
    df["segment"] = df["segment"].astype(str)
    rows = [
        _group_row(seg, g, min_group, has_revenue)
        for seg, g in df.groupby("segment", sort=False)
        if seg != OVERALL
    ]
    rows.sort(key=lambda r: (-(r["n_treated"] + r["n_control"]), r["segment"]))
    rows.append(_group_row(OVERALL, df, min_group, has_revenue))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def highlights(
    table: pd.DataFrame, names: dict[str, str] | None = None, lang: str = "en"
) -> list[str]:
    """Plain sentences: the overall effect, the best and the worst segment, the undecided.

    ``lang`` ("en" or "zh") is the sentences' language; numbers read the same in both.
    """
    names = names or {}
    out: list[str] = []

    def label(s: str) -> str:
        return names.get(s, s)

    def pct(x: float) -> str:
        return f"{x * 100:+.1f} pp".replace("-", "−")

    overall = table[table["segment"] == OVERALL]
    if len(overall):
        o = overall.iloc[0]
        if o["verdict"] == TOO_FEW:
            out.append(phrase(_TEXT, lang, "overall_few"))
        else:
            out.append(
                phrase(
                    _TEXT,
                    lang,
                    "overall",
                    treated=f"{o['rate_treated']:.1%}",
                    control=f"{o['rate_control']:.1%}",
                    uplift=pct(o["uplift"]),
                    low=pct(o["uplift_low"]),
                    high=pct(o["uplift_high"]),
                    verdict=verdict_label(o["verdict"], lang),
                )
            )
    segs = table[(table["segment"] != OVERALL) & (table["verdict"] != TOO_FEW)]
    if len(segs) >= 2:
        best = segs.loc[segs["uplift"].idxmax()]
        worst = segs.loc[segs["uplift"].idxmin()]
        sure = phrase(_TEXT, lang, "sure" if best["uplift_low"] > 0 else "unsure")
        out.append(
            phrase(
                _TEXT,
                lang,
                "best",
                segment=label(best["segment"]),
                uplift=pct(best["uplift"]),
                sure=sure,
            )
        )
        if worst["uplift_high"] < 0:
            tail = phrase(_TEXT, lang, "worst_negative")
        elif worst["uplift_low"] > 0:
            tail = phrase(_TEXT, lang, "worst_positive")
        else:
            tail = phrase(_TEXT, lang, "worst_unclear")
        out.append(
            phrase(
                _TEXT,
                lang,
                "worst",
                segment=label(worst["segment"]),
                uplift=pct(worst["uplift"]),
                tail=tail,
            )
        )
    few = table[(table["segment"] != OVERALL) & (table["verdict"] == TOO_FEW)]
    if len(few):
        sep = phrase(_TEXT, lang, "list_sep")
        out.append(
            phrase(
                _TEXT,
                lang,
                "few",
                segments=sep.join(label(s) for s in few["segment"]),
                min_group=MIN_GROUP,
            )
        )
    return out


# --------------------------------------------------------------------------- storage
@dataclass
class Campaign:
    id: str
    name: str
    dataset_id: str
    segment_run: str
    file: str
    uploaded_at: str
    path: Path
    report: CampaignReport
    table: pd.DataFrame
    has_revenue: bool = True

    def results(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "results.parquet")


def _campaigns_dir(ws: Workspace, run_id: str) -> Path:
    return ws.get_run(run_id).path / "campaigns"


def _json_safe(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def record_campaign(
    ws: Workspace, run_id: str, campaign: CampaignFile, name: str | None = None
) -> Campaign:
    """Join the campaign to the run's segments, measure uplift, store both with the run."""
    from core.pipeline import load_segments

    run = ws.get_run(run_id)
    if run.kind != "segment":
        raise ValueError(f"run {run_id} is not a segmentation run")
    seg = load_segments(ws, run_id)[["customer_id", "segment"]]
    seg = seg.assign(customer_id=seg["customer_id"].astype(str), segment=seg["segment"].astype(str))
    results = campaign.data.merge(seg, on="customer_id", how="left")
    results["segment"] = results["segment"].fillna(UNSEGMENTED).astype(str)
    has_revenue = campaign.has_revenue
    report = campaign.report
    n_unseg = int((results["segment"] == UNSEGMENTED).sum())
    if n_unseg:
        report.note("not_segmented", n=f"{n_unseg:,}", segment=Phrase(_READ, "unsegmented"))
    table = uplift_table(results, has_revenue=has_revenue)
    name = (name or "").strip() or Path(report.file).stem
    now = datetime.now(UTC)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "campaign"
    cid = f"{slug}-{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"
    path = _campaigns_dir(ws, run_id) / cid
    atomic_write_parquet(path / "results.parquet", results)
    summary = {
        "id": cid,
        "name": name,
        "dataset_id": run.dataset_id,
        "segment_run": run_id,
        "file": report.file,
        "uploaded_at": now.isoformat(timespec="seconds"),
        "has_revenue": has_revenue,
        "report": report.to_dict(),
        "table": [{k: _json_safe(v) for k, v in r.items()} for r in table.to_dict("records")],
    }
    atomic_write_json(path / "summary.json", summary)
    return _from_summary(summary, path)


def _from_summary(summary: dict[str, Any], path: Path) -> Campaign:
    table = pd.DataFrame(summary.get("table") or [], columns=TABLE_COLUMNS)
    for c in TABLE_COLUMNS:
        if c not in ("segment", "verdict"):
            table[c] = pd.to_numeric(table[c], errors="coerce").astype(float)
    return Campaign(
        id=summary["id"],
        name=summary["name"],
        dataset_id=summary["dataset_id"],
        segment_run=summary["segment_run"],
        file=summary["file"],
        uploaded_at=summary["uploaded_at"],
        path=path,
        report=CampaignReport.from_dict(summary.get("report") or {"file": summary["file"]}),
        table=table,
        has_revenue=bool(summary.get("has_revenue", True)),
    )


def list_campaigns(
    ws: Workspace, *, run_id: str | None = None, dataset_id: str | None = None
) -> list[Campaign]:
    """Campaigns stored with one segmentation run, or with every run of a dataset; newest first."""
    if run_id is None and dataset_id is None:
        raise ValueError("give a segmentation run or a dataset")
    runs = [run_id] if run_id else [r.id for r in ws.list_runs(dataset_id, kind="segment")]
    out = []
    for rid in runs:
        d = _campaigns_dir(ws, rid)
        if not d.exists():
            continue
        for p in d.iterdir():
            try:
                summary = json.loads((p / "summary.json").read_text())
            except (OSError, ValueError):
                continue  # half-written or foreign folder: not a campaign
            out.append(_from_summary(summary, p))
    return sorted(out, key=lambda c: (c.uploaded_at, c.id), reverse=True)


def load_campaign(
    ws: Workspace, campaign_id: str, *, run_id: str | None = None, dataset_id: str | None = None
) -> Campaign:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,100}", campaign_id or ""):
        raise ValueError(f"invalid campaign id {campaign_id!r}")
    if run_id:
        path = _campaigns_dir(ws, run_id) / campaign_id
        if (path / "summary.json").exists():
            return _from_summary(json.loads((path / "summary.json").read_text()), path)
    if dataset_id:
        for c in list_campaigns(ws, dataset_id=dataset_id):
            if c.id == campaign_id:
                return c
    raise KeyError(f"no campaign {campaign_id!r}")


# --------------------------------------------------------------------------- demo
# (response rate of control, of treated) per demo persona: a discount mailing that bargain
# hunters and new customers answer, loyal customers buy anyway, unhappy returners resent.
DEMO_RESPONSE: dict[str, tuple[float, float]] = {
    "loyal_high_value": (0.22, 0.24),
    "bargain_hunter": (0.08, 0.26),
    "new_potential": (0.05, 0.15),
    "lapsing_churned": (0.02, 0.04),
    "gift_seasonal": (0.06, 0.11),
    "unhappy_returner": (0.06, 0.02),
    "eco_conscious": (0.07, 0.09),
    "tech_enthusiast": (0.07, 0.12),
}
DEMO_ORDER_VALUE: dict[str, float] = {
    "loyal_high_value": 120.0,
    "bargain_hunter": 35.0,
    "new_potential": 50.0,
    "lapsing_churned": 45.0,
    "gift_seasonal": 70.0,
    "unhappy_returner": 40.0,
    "eco_conscious": 60.0,
    "tech_enthusiast": 90.0,
}


def demo_campaign_file(
    customers: pd.DataFrame,
    *,
    seed: int = 0,
    share_in_campaign: float = 0.8,
    treated_share: float = 0.5,
) -> bytes:
    """A plausible campaign result CSV for the demo store (needs its ``persona`` column).

    A random `share_in_campaign` of customers, split at random into treatment and control;
    responses depend on the persona (`DEMO_RESPONSE`), so some segments clearly respond and
    others do not. Spellings are the everyday ones ("treatment", "yes", blank revenue for
    non-responders) so the file also shows what the reader maps.
    """
    if "persona" not in customers.columns:
        raise ValueError("a demo campaign needs the demo store's persona column")
    rng = np.random.default_rng(seed)
    c = customers[["customer_id", "persona"]].dropna()
    c = c[rng.random(len(c)) < share_in_campaign].reset_index(drop=True)
    treated = rng.random(len(c)) < treated_share
    rates = np.array([DEMO_RESPONSE.get(p, (0.05, 0.05)) for p in c["persona"]])
    p = np.where(treated, rates[:, 1], rates[:, 0])
    responded = rng.random(len(c)) < p
    aov = np.array([DEMO_ORDER_VALUE.get(p, 50.0) for p in c["persona"]])
    revenue = np.round(aov * rng.lognormal(0.0, 0.4, len(c)), 2)
    out = pd.DataFrame(
        {
            "customer_id": c["customer_id"].astype(str).to_numpy(),
            "group": np.where(treated, "treatment", "control"),
            "responded": np.where(responded, "yes", "no"),
            "revenue": np.where(responded, revenue.astype(str), ""),
        }
    )
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    return buf.getvalue().encode()
