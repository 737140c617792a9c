"""Read a user's file and turn it into one canonical table, reporting every change.

Two steps, both pure functions (no UI):

* `read_raw` reads CSV / TSV / TXT, Excel (.xlsx), Parquet and JSON (lines or an array of
  records) into a `RawTable`: every column as *text*, exactly as written in the file, plus the
  detected encoding / delimiter and each data row's number as the user sees it.
* `ingest` maps the columns onto a canonical table (`core.schema`), converts the values to
  the canonical types and checks them. Rows that cannot be used are *rejected with a reason*
  (and kept, raw, in `IngestResult.rejected` for download), never dropped silently; every
  change made to values is written into `TableReport.notes` with counts.

Problems with the file as a whole (empty, unreadable, a required column missing) raise
`IngestError`, whose message names the file and says what was expected.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.ingest_text import EN, Msg, from_json, partial, to_json
from core.roles import KEYWORDS, SYNONYMS, TABLE_SIGNALS, normalize_name
from core.schema import DATE, FLOAT, INT, STRING, TABLES, TableSchema, schema_for, to_snake_case

__all__ = [
    "IngestError",
    "IngestLimits",
    "IngestPlan",
    "IngestResult",
    "RawTable",
    "Rejection",
    "TableReport",
    "guess_mapping",
    "guess_table",
    "ingest",
    "ingest_file",
    "read_raw",
    "SUPPORTED_EXTENSIONS",
]

MB = 1024 * 1024

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", ".tab")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xls")
PARQUET_EXTENSIONS = (".parquet", ".pq")
JSON_EXTENSIONS = (".jsonl", ".ndjson", ".json")
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS + EXCEL_EXTENSIONS + PARQUET_EXTENSIONS + JSON_EXTENSIONS

ID_COLUMNS = ("customer_id", "order_id", "product_id", "review_id")
# The reader's rejected rows carry each reason's structured form (JSON) in this column, which
# `ingest` takes out again (the rejected frame it returns has `_reason` only).
_REASON_I18N = "_reason_i18n"
# What each canonical column is called in messages ("needs a customer id column").
_HUMAN = {c: c.replace("_", " ") for t in TABLES for c in schema_for(t).column_names}


# --------------------------------------------------------------------------- public types
class IngestError(ValueError):
    """The file (or its mapping) cannot be ingested at all. The message says why and what
    was expected, naming the file (and row / column where that applies). ``str(exc)`` is
    English; `message` is the `Msg` (render it in the user's language with
    `core.ingest_text.render`), or the plain text when the error came from elsewhere."""

    @property
    def message(self) -> str:
        return self.args[0] if self.args else ""


@dataclass(frozen=True)
class IngestLimits:
    max_bytes: int = 200 * MB
    max_rows: int = 20_000_000
    max_columns: int = 2_000
    max_text_chars: int = 20_000
    max_report_rejections: int = 1_000  # Rejection records kept in the report (counts stay exact)
    # An .xlsx is a zip archive: what it may expand to, in all and per member (zip bombs).
    max_unzipped_bytes: int = 1024 * MB
    max_zip_ratio: int = 200

    @classmethod
    def from_env(
        cls, environ: dict[str, str] | None = None, **overrides: int | None
    ) -> IngestLimits:
        """The limits set by the deployment: SEGSTUDIO_MAX_FILE_MB, SEGSTUDIO_MAX_ROWS,
        SEGSTUDIO_MAX_COLUMNS and SEGSTUDIO_MAX_TEXT_CHARS (unset or empty: the default).
        `overrides` (e.g. from command-line options; None means "not given") win over both."""
        env = os.environ if environ is None else environ
        kw: dict[str, int] = {}
        for name, (var, unit, example) in LIMIT_ENV_VARS.items():
            raw = env.get(var)
            if raw is None or not raw.strip():
                continue
            text = raw.strip().replace("_", "")
            try:
                value = float(text) if unit == MB else int(text)
            except ValueError:
                value = None
            if value is None or not math.isfinite(value) or value <= 0:
                what = Msg("what_mb") if unit == MB else Msg("what_int")
                raise IngestError(
                    Msg("limit_env_invalid", var=var, raw=repr(raw), what=what, example=example)
                )
            kw[name] = int(value * unit)
        for name, value in overrides.items():
            if name not in {f.name for f in fields(cls)}:
                raise TypeError(f"IngestLimits has no limit {name!r}")
            if value is not None:
                if value <= 0:
                    raise IngestError(Msg("limit_not_positive", name=name, value=str(value)))
                kw[name] = int(value)
        return cls(**kw)


# Limit → (environment variable, unit, example value) for `IngestLimits.from_env`.
LIMIT_ENV_VARS: dict[str, tuple[str, int, str]] = {
    "max_bytes": ("SEGSTUDIO_MAX_FILE_MB", MB, "2048"),
    "max_rows": ("SEGSTUDIO_MAX_ROWS", 1, "50000000"),
    "max_columns": ("SEGSTUDIO_MAX_COLUMNS", 1, "5000"),
    "max_text_chars": ("SEGSTUDIO_MAX_TEXT_CHARS", 1, "50000"),
}


@dataclass
class Rejection:
    row: int  # 1-based row as the user sees it (CSV: header is row 1; Excel: sheet row)
    column: str | None  # source column name, None when the whole row is the problem
    value: str | None
    reason: str  # a `Msg` when ingest wrote it


def _stored(messages: list[str]) -> list[list[Any] | None]:
    """The structured form of each message (None for plain text) for `TableReport.to_dict`."""
    return [to_json(m) if isinstance(m, Msg) else None for m in messages]


def _restored(english: Any, stored: Any) -> str:
    """A message read back from a stored report: its `Msg` when the structured form is there
    and readable by this version, else the English text as stored."""
    if stored:
        try:
            return from_json(stored)
        except (KeyError, ValueError, TypeError, IndexError):
            pass
    return english


@dataclass
class TableReport:
    file: str
    table: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    format: str | None = None
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready. Notes, warnings and rejection reasons stay English strings (as every
        stored report has them); `notes_i18n`, `warnings_i18n` and each rejection's
        `reason_i18n` hold their structured form (`core.ingest_text.to_json`, None for plain
        text), from which the interface shows them in the user's language."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["mapping"], d["date_formats"] = dict(self.mapping), dict(self.date_formats)
        for k in ("notes", "warnings"):
            messages = getattr(self, k)
            d[k] = [str(m) for m in messages]
            d[f"{k}_i18n"] = _stored(messages)
        d["rejections"] = [
            {
                "row": r.row,
                "column": r.column,
                "value": r.value,
                "reason": str(r.reason),
                "reason_i18n": to_json(r.reason) if isinstance(r.reason, Msg) else None,
            }
            for r in self.rejections
        ]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TableReport:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        rejections = []
        for r in d.get("rejections", []) or []:
            if not isinstance(r, Rejection):
                stored = r.get("reason_i18n")
                r = Rejection(**{k: r.get(k) for k in _REJ_FIELDS})
                r.reason = _restored(r.reason, stored)
            rejections.append(r)
        kw["rejections"] = rejections
        for k in ("mapping", "date_formats"):
            kw[k] = dict(kw.get(k) or {})
        for k in ("notes", "warnings"):
            english = list(kw.get(k) or [])
            stored = list(d.get(f"{k}_i18n") or [])
            stored += [None] * (len(english) - len(stored))
            kw[k] = [_restored(e, s) for e, s in zip(english, stored, strict=False)]
        return cls(**kw)


_REJ_FIELDS = ("row", "column", "value", "reason")


@dataclass
class IngestResult:
    table: str
    data: pd.DataFrame
    rejected: pd.DataFrame
    report: TableReport


@dataclass
class IngestPlan:
    """Decisions `ingest` otherwise takes from the values of one table, held fixed so that
    the chunks of one large file (see `core.ingest_stream`) are read alike. `ingest` fills
    each decision the first time a chunk's values settle it, and follows it afterwards.

    With a plan, `ingest` also leaves the whole-table checks to its caller (which sees every
    chunk): columns empty in every kept row, a label with one value, identical order lines,
    "no usable rows"; and it keeps extra columns as text (the caller turns those that hold
    only numbers in every chunk into numbers at the end)."""

    decimals: dict[str, str] = field(default_factory=dict)  # canonical column → '.' or ','
    date_families: dict[str, Any] = field(default_factory=dict)  # canonical column → _Family
    discount_percent: bool | None = None  # discounts written as 0-100 rather than 0-1
    # Key column → {key: row it was first seen on}, over all chunks so far.
    seen_keys: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class RawTable:
    """A file as read: every column as text, exactly as written (nothing parsed yet)."""

    df: pd.DataFrame
    filename: str
    format: str  # "csv" | "excel" | "parquet" | "json"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    row_numbers: np.ndarray | None = None  # 1-based row of each df row, as the user sees it
    # Rows the reader could not split into the columns (ragged CSV lines, bad JSON lines):
    # raw fields + `_row` + `_column` + `_reason`.
    rejected: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.row_numbers is None:
            start = 2 if self.format == "csv" else 1
            self.row_numbers = np.arange(start, start + len(self.df), dtype=np.int64)
        self.row_numbers = np.asarray(self.row_numbers, dtype=np.int64)
        if len(self.row_numbers) != len(self.df):
            raise ValueError("row_numbers must have one entry per row")

    @property
    def n_rejected(self) -> int:
        return 0 if self.rejected is None else len(self.rejected)


# --------------------------------------------------------------------------- helpers
def _fmt_n(n: int) -> str:
    return f"{int(n):,}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{_fmt_n(n)} {one if n == 1 else (many or one + 's')}"


def _q(v: Any, limit: int = 60) -> str:
    """A value quoted for a message, shortened when long."""
    s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    s = s.replace("\n", "\\n").replace("\r", "\\r")
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return "'" + s.replace("'", "\\'") + "'"


def _str_series(values: Iterable[Any] | np.ndarray, index: pd.Index | None = None) -> pd.Series:
    return pd.Series(values, index=index, dtype="str")


def _examples(values: Iterable[Any], k: int = 3) -> str:
    out = []
    for v in values:
        if len(out) >= k:
            break
        out.append(_q(v, 30))
    return ", ".join(out)


def _join_names(names: list[str], limit: int = 30) -> str:
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        return Msg("names_more", shown=shown, more=str(len(names) - limit))
    return shown or Msg("no_columns")


def _dedupe_names(names: list[str], taken: Iterable[str] = ()) -> list[str]:
    seen = set(taken)
    out = []
    for n in names:
        cand, k = n, 2
        while cand in seen:
            cand = f"{n}_{k}"
            k += 1
        seen.add(cand)
        out.append(cand)
    return out


def _clean_headers(names: list[Any], notes: list[str]) -> list[str]:
    """Strip header names, name empty ones, make duplicates unique (noted)."""
    cleaned = []
    for i, n in enumerate(names):
        s = "" if n is None else str(n)
        s = s.replace("\ufeff", "").strip()
        cleaned.append(s or f"column_{i + 1}")
    unnamed = [c for c, n in zip(cleaned, names, strict=True) if n is None or not str(n).strip()]
    if unnamed:
        notes.append(Msg("unnamed_columns", cols=len(unnamed), names=_join_names(unnamed, 5)))
    out = _dedupe_names(cleaned)
    dups = [f"'{a}' → '{b}'" for a, b in zip(cleaned, out, strict=True) if a != b]
    if dups:
        notes.append(Msg("dup_columns", pairs=", ".join(dups[:5])))
    return out


# --------------------------------------------------------------------------- read_raw
def read_raw(
    source: str | Path | bytes,
    filename: str | None = None,
    *,
    sheet: str | int | None = None,
    max_bytes: int | None = None,
    limits: IngestLimits | None = None,
) -> RawTable:
    """Read a file into text columns. `source` is a path or the file's bytes; `filename`
    (needed with bytes) gives the name used in messages and the format by extension."""
    limits = limits or IngestLimits.from_env()
    max_bytes = limits.max_bytes if max_bytes is None else max_bytes
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = filename or "upload"
    else:
        path = Path(source)
        name = filename or path.name
        if not path.exists():
            raise IngestError(Msg("file_missing", name=name, path=str(path)))
        if path.is_dir():
            raise IngestError(Msg("is_folder", name=name))
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(_too_big(name, size, max_bytes))
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise IngestError(_too_big(name, len(data), max_bytes))
    if len(data) == 0:
        raise IngestError(Msg("file_empty", name=name))

    notes: list[str] = []
    warnings: list[str] = []
    lower = name.lower()
    if lower.endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name, max_bytes)
        lower = lower[:-3] if lower.endswith(".gz") else lower
        notes.append(Msg("gzip_note"))
        if not data:
            raise IngestError(Msg("empty_decompressed", name=name))
    ext = Path(lower).suffix
    kind = _format_from_extension(ext)
    magic = _format_from_magic(data)
    if magic == "xls-ole":
        raise IngestError(Msg("xls_old", name=name))
    if kind is None:
        if magic in ("excel", "parquet"):
            kind = magic
            warnings.append(Msg("read_as_kind", name=name, what=Msg(f"kind_{magic}")))
        else:
            raise IngestError(
                Msg(
                    "unsupported_type",
                    name=name,
                    ext=ext or Msg("no_extension"),
                    exts=", ".join(SUPPORTED_EXTENSIONS),
                )
            )
    elif kind in ("csv", "json") and magic in ("excel", "parquet"):
        warnings.append(Msg("misnamed", name=name, ext=ext, what=Msg(f"kind_{magic}")))
        kind = magic

    if kind == "excel":
        raw = _read_excel(data, name, sheet, notes, warnings, limits)
    elif kind == "parquet":
        raw = _read_parquet(data, name, notes, warnings)
    else:
        text, encoding = _decode(data, name, notes, warnings)
        if kind == "json":
            raw = _read_json(text, name, encoding, notes, warnings)
        else:
            raw = _read_delimited(text, data, encoding, name, ext, limits, notes, warnings)
    raw.n_bytes = len(data)
    if raw.df.shape[1] > limits.max_columns:
        raise IngestError(_too_many_columns(name, raw.df.shape[1], limits))
    n_rows = len(raw.df) + raw.n_rejected
    if n_rows > limits.max_rows:
        raise IngestError(Msg("too_many_rows", name=name, rows=n_rows, limit=limits.max_rows))
    if n_rows == 0:
        if raw.sheet:
            raise IngestError(Msg("no_data_rows_sheet", sheet=raw.sheet, name=name))
        raise IngestError(Msg("no_data_rows", name=name))
    return raw


def _too_big(name: str, size: int, limit: int, *, unzipped: bool = False) -> Msg:
    key = "too_big_unzipped" if unzipped else "too_big"
    return Msg(key, name=name, size=size / MB, limit=limit / MB)


def _too_many_columns(name: str, n: int, limits: IngestLimits) -> Msg:
    return Msg("too_many_columns", name=name, cols=int(n), limit=limits.max_columns)


def _gunzip(data: bytes, name: str, max_bytes: int) -> bytes:
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, max_bytes + 1)
        if len(out) > max_bytes or d.unconsumed_tail:
            raise IngestError(
                _too_big(name, max(len(out), max_bytes + 1), max_bytes, unzipped=True)
            )
        return out
    except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise IngestError(Msg("bad_gzip", name=name, error=str(exc))) from None


def _format_from_extension(ext: str) -> str | None:
    if ext in TEXT_EXTENSIONS:
        return "csv"
    if ext in EXCEL_EXTENSIONS:
        return "excel"
    if ext in PARQUET_EXTENSIONS:
        return "parquet"
    if ext in JSON_EXTENSIONS:
        return "json"
    return None


def _format_from_magic(data: bytes) -> str | None:
    if data[:4] == b"PK\x03\x04":
        return "excel"  # a zip archive; .xlsx is one
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls-ole"
    return None


# ----------------------------------------------------------------- text: encoding detection
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# charset-normalizer answers trusted as they are; others (western single-byte guesses on
# short samples are often odd, e.g. cp1250 / mac_roman) fall back to cp1252 / latin-1.
_TRUSTED = {
    "big5", "big5hkscs", "cp950", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949",
    "iso2022_jp", "cp1251", "koi8_r", "koi8_u", "cp1253", "iso8859_7", "cp1255", "cp1256",
    "iso8859_8", "iso8859_6", "cp874", "tis_620", "cp1254", "iso8859_9",
}  # fmt: skip


def _decode(
    data: bytes, name: str, notes: list[str], warnings: list[str] | None = None
) -> tuple[str, str]:
    """Bytes → text and the encoding used. See the module rules in `read_raw`'s brief:
    BOMs first, strict UTF-8, GB18030 for Chinese, UTF-8 mixed with another encoding line by
    line (files pasted together), charset-normalizer, then cp1252/latin-1."""
    warnings = [] if warnings is None else warnings
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return _strict(data, "utf-32", name), "utf-32"
    if data[:3] == b"\xef\xbb\xbf":
        notes.append(Msg("bom_removed"))
        try:
            text = data[3:].decode("utf-8")
        except UnicodeDecodeError:
            # The marker says UTF-8, yet some lines are not: read those in the encoding they
            # most likely have (and say which lines), rather than refuse the whole file.
            mixed = _decode_mixed(data[3:], name, warnings, force=True)
            if mixed is None:
                raise IngestError(Msg("bom_not_utf8", name=name)) from None
            return mixed
        return _check_text(text, name), "utf-8-sig"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _check_text(_strict(data, "utf-16", name), name), "utf-16"
    head = data[:65536]
    if head.count(b"\x00") > len(head) // 8:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is zero.
        even, odd = head[0::2].count(0), head[1::2].count(0)
        enc = "utf-16-le" if odd > even * 4 else "utf-16-be" if even > odd * 4 else None
        if enc:
            try:
                return _check_text(data.decode(enc), name), enc
            except UnicodeDecodeError:
                pass
        raise _binary_error(name)
    try:
        return _check_text(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    # Chinese: GB18030 (a superset of GBK / GB2312) when it decodes and looks like Chinese.
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _looks_chinese(text[:100_000]):
        return _check_text(text, name), "gb18030"
    mixed = _decode_mixed(data, name, warnings)
    if mixed is not None:
        return mixed
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        guess = best.encoding if best is not None else None
    except Exception:  # pragma: no cover - detection is best effort
        guess = None
    if guess:
        g = guess.lower().replace("-", "_")
        if g in ("gb18030", "gbk", "gb2312", "hz") and text is not None:
            return _check_text(text, name), "gb18030"
        if g.startswith(("utf_16", "utf_32")) or g in _TRUSTED:
            try:
                return _check_text(data.decode(g), name), g
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        return _check_text(data.decode("cp1252"), name), "cp1252"
    except UnicodeDecodeError:
        return _check_text(data.decode("latin-1"), name), "latin-1"


def _decode_mixed(
    data: bytes, name: str, warnings: list[str], *, force: bool = False
) -> tuple[str, str] | None:
    """Text that is UTF-8 on some lines and another encoding on others (two exports pasted
    together): each line in its own encoding, with a warning naming the non-UTF-8 lines.
    None when no line has non-ASCII UTF-8 text (then it is not UTF-8 at all), unless `force`."""
    lines = data.splitlines(keepends=True)  # bytes split on \n, \r and \r\n only
    decoded: list[str | None] = []
    bad: list[int] = []
    n_utf8 = 0
    for i, line in enumerate(lines):
        try:
            s = line.decode("utf-8")
        except UnicodeDecodeError:
            decoded.append(None)
            bad.append(i)
            continue
        decoded.append(s)
        n_utf8 += not s.isascii()
    if not bad or (n_utf8 == 0 and not force):
        return None
    other_text, other = _decode(b"".join(lines[i] for i in bad), name, [], [])
    other_lines = io.StringIO(other_text, newline="").readlines()
    if len(other_lines) != len(bad):  # the other encoding splits lines differently: give up
        if force:
            raise IngestError(Msg("bom_line_not_utf8", name=name, line=str(bad[0] + 1)))
        return None
    for i, s in zip(bad, other_lines, strict=True):
        decoded[i] = s
    shown = ", ".join(str(i + 1) for i in bad[:10]) + (", …" if len(bad) > 10 else "")
    key = "mixed_encodings_one" if len(bad) == 1 else "mixed_encodings_many"
    warnings.append(Msg(key, name=name, n=len(bad), lines=shown, encoding=other))
    return _check_text("".join(s or "" for s in decoded), name), f"utf-8+{other}"


def _strict(data: bytes, enc: str, name: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise IngestError(
            Msg("bom_invalid", name=name, enc=enc.upper(), byte=str(exc.start))
        ) from None


def _looks_chinese(text: str) -> bool:
    """GB18030-decoded text is Chinese when its non-ASCII characters are overwhelmingly
    common Chinese (GB2312) characters; Latin-1 accents misread as GBK are rare ones."""
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii or not _CJK.search(text):
        return False
    common = 0
    for c in non_ascii[:20_000]:
        try:
            c.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * min(len(non_ascii), 20_000)


def _binary_error(name: str) -> IngestError:
    return IngestError(Msg("binary", name=name))


def _check_text(text: str, name: str) -> str:
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > max(2, len(sample) // 200):
        raise _binary_error(name)
    return text


# ----------------------------------------------------------------------- text: CSV parsing
_DELIMS = (",", ";", "\t", "|")
# Runs of spaces and tabs (fixed-width-looking logs such as `00001 19970101 1 11.77`): never a
# delimiter of the file as written; such text is rewritten tab-separated before parsing.
_WHITESPACE = " "
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", _WHITESPACE: "whitespace"}
_WS_RUN = re.compile(r"[ \t]+")
_WS_EDGES = re.compile(r"^[ \t]+|[ \t]+(?=\r?$)", flags=re.MULTILINE)
# One field of a whitespace-separated line: quoted parts ("John Smith") keep their spaces; a
# quote never closed is an ordinary character.
_WS_FIELD = re.compile(r'(?:"(?:[^"]|"")*"|[^ \t"]+)+|[^ \t]+')


def _sample_records(sample: str, delim: str, k: int = 100) -> list[list[str]]:
    cut = sample.rfind("\n")
    if 0 < cut < len(sample) - 1:
        sample = sample[: cut + 1]
    rows = []
    try:
        for rec in csv.reader(io.StringIO(sample, newline=""), delimiter=delim):
            if rec:
                rows.append(rec)
            if len(rows) >= k:
                break
    except csv.Error:
        pass
    return rows


def _sniff_delimiter(sample: str, ext: str) -> str:
    """The delimiter of a text file: the one that splits the sampled records into the most
    consistent number of fields (then the most fields); runs of whitespace (`_WHITESPACE`)
    when none of the single characters does and whitespace gives every record the header's
    number of fields."""
    best, best_score = None, (0.0, 0)
    order = ("\t", ",", ";", "|") if ext in (".tsv", ".tab") else _DELIMS
    for d in order:
        rows = _sample_records(sample, d, 50)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        consistent = sum(len(r) in (width, width + 1) for r in body) / len(body)
        score = (round(consistent, 2), width)
        if score > best_score:
            best, best_score = d, score
    if best_score[0] < _CONSISTENT and _whitespace_consistent(sample):
        return _WHITESPACE
    if best is None:
        return "\t" if ext in (".tsv", ".tab") else ","
    return best


# Share of sampled records with the header's number of fields for a delimiter to be
# "consistent".
_CONSISTENT = 0.9


def _whitespace_consistent(sample: str) -> bool:
    """Whether runs of whitespace split the header and (nearly) every sampled record into the
    same number (two or more) of fields. Free text on one column has a varying number of
    words per line, so it stays one column."""
    rows = _sample_records(_whitespace_to_tabs(sample), "\t", 50)
    if len(rows) < 2 or len(rows[0]) < 2:
        return False
    width = len(rows[0])
    body = rows[1:]
    return sum(len(r) == width for r in body) / len(body) >= _CONSISTENT


def _whitespace_to_tabs(text: str) -> str:
    """A whitespace-separated text rewritten tab-separated, line for line (line breaks and so
    row numbers unchanged): leading and trailing spaces of each line dropped, each run of
    spaces / tabs between fields made one tab. Idempotent."""
    if '"' not in text:
        return _WS_RUN.sub("\t", _WS_EDGES.sub("", text))
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body) :]
        if '"' in body:
            body = "\t".join(_WS_FIELD.findall(body))
        else:
            body = _WS_RUN.sub("\t", body.strip(" \t"))
        out.append(body + end)
    return "".join(out)


def _parse_delimiter(delim: str) -> str:
    """The delimiter the parsers use for text of delimiter `delim` (after
    `_whitespace_to_tabs` for whitespace)."""
    return "\t" if delim == _WHITESPACE else delim


def _one_column_warning(name: str, columns: list[str]) -> list[str]:
    """A text file read as a single column: almost always a separator this reader did not
    recognise (an orders or customers table has several columns)."""
    if len(columns) != 1:
        return []
    return [Msg("one_column", name=name, column=_q(columns[0]))]


def _text_stream(text: str) -> io.TextIOBase:
    return io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8", newline="")


def _read_delimited(
    text: str,
    data: bytes,
    encoding: str,
    name: str,
    ext: str,
    limits: IngestLimits,
    notes: list[str],
    warnings: list[str],
) -> RawTable:
    delim, header_lines, columns = _delimited_layout(text, name, ext, limits, notes)
    width = len(columns)
    utf8 = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else None
    if delim == _WHITESPACE:
        text = _whitespace_to_tabs(text)
        utf8 = None
    sep = _parse_delimiter(delim)
    df, rows, rejected = _parse_fast(
        utf8 if utf8 is not None else text.encode("utf-8"), text, sep, columns, header_lines
    )
    if df is None:
        df, rows, rejected = _parse_slow(text, sep, columns, header_lines, name)
    _check_unclosed_quote(text, df, rows, rejected, sep, columns, name)
    warnings.extend(_one_column_warning(name, columns))
    if rejected is not None and len(rejected):
        warnings.append(_ragged_warning(len(rejected), width))
    if delim != ",":
        notes.append(_separated_note(delim))
    return RawTable(
        df=df,
        filename=name,
        format="csv",
        encoding=encoding,
        delimiter=delim,
        row_numbers=rows,
        rejected=rejected,
        notes=notes,
        warnings=warnings,
    )


def _ragged_warning(n: int, width: int) -> Msg:
    return Msg("ragged_rows", n=n, width=str(width))


def _separated_note(delim: str) -> Msg:
    return Msg("separated", delim=Msg(f"delim_{_DELIM_NAMES[delim]}"))


def _delimited_layout(
    text: str, name: str, ext: str, limits: IngestLimits, notes: list[str]
) -> tuple[str, int, list[str]]:
    """From the start of a delimited text file: the delimiter, how many physical lines the
    header (and blank lines before it) take, and the cleaned column names. Refuses a file
    with too many columns here, before any data row is parsed. For `_WHITESPACE` the caller
    parses `_whitespace_to_tabs(text)` with `_parse_delimiter(delim)`."""
    if not text.strip():
        raise IngestError(Msg("only_blank", name=name))
    # Python's csv module refuses fields over 128 KiB by default; long review texts are
    # allowed (and truncated later, with a note), so lift that limit.
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(2**31 - 1)
    sample = text[:262_144]
    delim = _sniff_delimiter(sample, ext)
    if delim == _WHITESPACE:
        sample = _whitespace_to_tabs(sample)
    sep = _parse_delimiter(delim)
    # The header: the first non-blank record; how many physical lines it (and blank lines
    # before it) take.
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=sep)
    header: list[str] | None = None
    try:
        for rec in reader:
            if rec and any(f.strip() for f in rec):
                header = rec
                break
    except csv.Error as exc:
        raise IngestError(Msg("header_unreadable", name=name, error=str(exc))) from None
    if header is None:
        raise IngestError(Msg("no_header", name=name))
    header_lines = reader.line_num
    if len(header) > limits.max_columns:
        raise IngestError(_too_many_columns(name, len(header), limits))
    # Rows ending with an extra (empty) field — a trailing delimiter — or a header that has one.
    body = _sample_records(sample, sep, 200)[1:]
    width = len(header)
    if body:
        trailing = [r for r in body if len(r) == width + 1 and r[-1] == ""]
        if len(trailing) >= 0.8 * len(body):
            header = [*header, ""]
            width += 1
            notes.append(Msg("trailing_delim_rows"))
        elif header[-1].strip() == "" and width > 1:
            short = [r for r in body if len(r) == width - 1]
            if len(short) >= 0.8 * len(body):
                header = header[:-1]
                width -= 1
                notes.append(Msg("trailing_delim_header"))
    return delim, header_lines, _clean_headers(header, notes)


def _parse_fast(
    utf8: bytes,
    text: str,
    delim: str,
    columns: list[str],
    header_lines: int,
    line_offset: int = 0,
) -> tuple[pd.DataFrame | None, np.ndarray | None, pd.DataFrame | None]:
    """pyarrow's multi-threaded CSV reader, every column as text. Ragged rows are skipped
    here and rebuilt (with their line numbers) from a quote-aware pass over the text.
    `line_offset`: lines of the file before `text` (a chunk of a larger file)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(columns))]
    n_invalid = 0

    def on_invalid(row: Any) -> str:
        nonlocal n_invalid
        n_invalid += 1
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=header_lines, use_threads=True,
                block_size=16 * MB,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, quote_char='"', double_quote=True, newlines_in_values=True,
                ignore_empty_lines=True, invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None, None, None
    df = table.to_pandas()
    df.columns = columns
    n = len(df)
    n_lines = utf8.count(b"\n") + (0 if utf8.endswith(b"\n") else 1)
    if n_invalid == 0 and n_lines == n + header_lines:
        first = line_offset + header_lines + 1
        return df, np.arange(first, first + n, dtype=np.int64), None
    # Blank lines, values spanning lines or ragged rows: number the records properly.
    starts, ragged = _record_positions(text, delim, header_lines, len(columns))
    if starts is None or len(starts) != n or len(ragged) != n_invalid:
        return None, None, None  # the two parsers disagree: use the careful one
    return df, starts + line_offset, _ragged_frame(ragged, columns, line_offset)


def _record_positions(
    text: str, delim: str, header_lines: int, width: int
) -> tuple[np.ndarray | None, list[tuple[int, list[str]]]]:
    """First line of every well-formed data record, and the ragged records (line, fields)."""
    starts: list[int] = []
    ragged: list[tuple[int, list[str]]] = []
    reader = csv.reader(_text_stream(text), delimiter=delim)
    prev = 0
    try:
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if start <= header_lines or not rec:
                continue
            if len(rec) == width:
                starts.append(start)
            else:
                ragged.append((start, rec))
    except csv.Error:
        return None, ragged
    return np.asarray(starts, dtype=np.int64), ragged


def _parse_slow(
    text: str,
    delim: str,
    columns: list[str],
    header_lines: int,
    name: str = "file",
    line_offset: int = 0,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame | None]:
    """Python's csv module, record by record: copes with anything the fast path refused."""
    width = len(columns)
    cols: list[list[str]] = [[] for _ in range(width)]
    starts: list[int] = []
    ragged: list[tuple[int, list[str]]] = []
    reader = csv.reader(_text_stream(text), delimiter=delim, strict=False)
    prev = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise IngestError(
                Msg("line_unreadable", name=name, line=str(line_offset + prev + 1), error=str(exc))
            ) from None
        start, prev = prev + 1, reader.line_num
        if start <= header_lines or not rec:
            continue
        if len(rec) == width:
            starts.append(start)
            for c, v in zip(cols, rec, strict=True):
                c.append(v)
        else:
            ragged.append((start, rec))
    df = pd.DataFrame({c: _str_series(v) for c, v in zip(columns, cols, strict=True)})
    if not width:
        df = pd.DataFrame(index=range(0))
    rows = np.asarray(starts, dtype=np.int64) + line_offset
    return df, rows, _ragged_frame(ragged, columns, line_offset)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _check_unclosed_quote(
    text: str,
    df: pd.DataFrame,
    rows: np.ndarray | None,
    rejected: pd.DataFrame | None,
    delim: str,
    columns: list[str],
    name: str,
    line_offset: int = 0,
) -> None:
    """A quote opened in the last record and never closed swallows every line after it into
    one value; both CSV parsers accept that silently, so refuse it here, naming the line."""
    found = _unclosed_last_record(text, df, rows, rejected, delim, columns, line_offset)
    if found is None:
        return
    start, col = found
    n_lines = line_offset + len(_LINE_BREAK.findall(text.rstrip("\r\n"))) + 1
    if col:
        raise IngestError(
            Msg("unclosed_quote_col", name=name, start=str(start), end=str(n_lines), column=col)
        )
    raise IngestError(Msg("unclosed_quote", name=name, start=str(start), end=str(n_lines)))


def _unclosed_last_record(
    text: str,
    df: pd.DataFrame,
    rows: np.ndarray | None,
    rejected: pd.DataFrame | None,
    delim: str,
    columns: list[str],
    line_offset: int = 0,
) -> tuple[int, str | None] | None:
    """(first line, column) of the last record when it opens a quote that `text` never
    closes (it then swallowed every line after it), else None. Lines count from
    `line_offset` + 1 (`rows` and `rejected['_row']` are numbered the same way)."""
    last: tuple[int, list[Any]] | None = None
    if rows is not None and len(rows):
        last = (int(rows[-1]), df.iloc[-1].tolist())
    if rejected is not None and len(rejected):
        r = int(rejected["_row"].max())
        if last is None or r > last[0]:
            rec = rejected.loc[rejected["_row"] == r].iloc[0]
            last = (r, [rec.get(c) for c in columns])
    if last is None:
        return None
    start, values = last
    multi = [i for i, v in enumerate(values) if isinstance(v, str) and ("\n" in v or "\r" in v)]
    if not multi:
        return None
    pos = 0
    for k, m in enumerate(_LINE_BREAK.finditer(text), start=2):
        if k > start - line_offset:
            break
        pos = m.end()
    try:
        for _ in csv.reader(io.StringIO(text[pos:], newline=""), delimiter=delim, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" not in str(exc):
            return None
        return start, (columns[multi[0]] if multi[0] < len(columns) else None)
    return None


def _ragged_frame(
    ragged: list[tuple[int, list[str]]], columns: list[str], line_offset: int = 0
) -> pd.DataFrame | None:
    if not ragged:
        return None
    width = len(columns)
    recs = []
    for rel, fields_ in ragged:
        row = rel + line_offset
        d = {c: (fields_[i] if i < len(fields_) else None) for i, c in enumerate(columns)}
        d["_row"] = row
        d["_column"] = None
        reason = Msg("ragged_row", row=str(row), fields=str(len(fields_)), width=str(width))
        d["_reason"] = str(reason)
        d[_REASON_I18N] = json.dumps(to_json(reason), ensure_ascii=False)
        d["_raw_line"] = _csv_line(fields_)
        recs.append(d)
    return pd.DataFrame(recs)


def _csv_line(values: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue()


# ------------------------------------------------------------------------------- JSON
def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def _records_frame(records: list[dict[str, Any]], notes: list[str]) -> pd.DataFrame:
    keys: dict[str, None] = {}
    for r in records:
        for k in r:
            if k not in keys:
                keys[k] = None
    names = list(keys)
    cleaned = _clean_headers(names, notes)
    return pd.DataFrame(
        {
            c: _str_series([_cell_text(r.get(k)) for r in records])
            for k, c in zip(names, cleaned, strict=True)
        },
        index=pd.RangeIndex(len(records)),
    )


def _read_json(
    text: str, name: str, encoding: str, notes: list[str], warnings: list[str]
) -> RawTable:
    stripped = text.lstrip()
    if not stripped:
        raise IngestError(Msg("json_blank", name=name))
    records: list[dict[str, Any]] | None = None
    if stripped[0] == "[" or stripped[0] == "{":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            if stripped[0] == "[":
                raise IngestError(
                    Msg(
                        "json_invalid",
                        name=name,
                        error=exc.msg,
                        line=str(exc.lineno),
                        col=str(exc.colno),
                    )
                ) from None
            obj = None  # perhaps JSON lines: one object per line
        if isinstance(obj, list):
            bad = [i for i, r in enumerate(obj) if not isinstance(r, dict)]
            if bad and len(bad) == len(obj):
                raise IngestError(Msg("json_not_records", name=name))
            records = obj
        elif isinstance(obj, dict):
            lists = [
                k for k, v in obj.items() if isinstance(v, list) and v and isinstance(v[0], dict)
            ]
            if len(lists) == 1:
                records = obj[lists[0]]
                notes.append(Msg("json_field", field=lists[0]))
            else:
                records = [obj]
    if records is not None:
        good = [r for r in records if isinstance(r, dict)]
        rows = np.asarray(
            [i + 1 for i, r in enumerate(records) if isinstance(r, dict)], dtype=np.int64
        )
        df = _records_frame(good, notes)
        rej = [
            _reader_reject(i + 1, Msg("json_record_not_object", i=str(i + 1)), _cell_text(r))
            for i, r in enumerate(records)
            if not isinstance(r, dict)
        ]
        rejected = pd.DataFrame(rej) if rej else None
        if rej:
            warnings.append(Msg("json_records_rejected", n=len(rej)))
        return RawTable(df, name, "json", encoding=encoding, row_numbers=rows, rejected=rejected,
                        notes=notes, warnings=warnings)  # fmt: skip
    # JSON lines: one object per line.
    good: list[dict[str, Any]] = []
    rows_l: list[int] = []
    rej = []
    for i, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as exc:
            rej.append(_reader_reject(i, Msg("jsonl_invalid", i=str(i), error=exc.msg), line))
            continue
        if not isinstance(obj, dict):
            rej.append(_reader_reject(i, Msg("jsonl_not_object", i=str(i)), line))
            continue
        good.append(obj)
        rows_l.append(i)
    if not good and rej and len(rej) == len([ln for ln in text.splitlines() if ln.strip()]):
        first = from_json(json.loads(rej[0][_REASON_I18N]))
        raise IngestError(Msg("jsonl_unreadable", name=name, first=first))
    if rej:
        warnings.append(Msg("jsonl_rejected", n=len(rej)))
    df = _records_frame(good, notes)
    return RawTable(df, name, "json", encoding=encoding, row_numbers=np.asarray(rows_l, dtype=np.int64),
                    rejected=pd.DataFrame(rej) if rej else None, notes=notes, warnings=warnings)  # fmt: skip


def _reader_reject(row: int, reason: Msg, raw_line: str) -> dict[str, Any]:
    """A row the reader could not use, as a record of its rejected frame."""
    return {
        "_row": row,
        "_column": None,
        "_reason": str(reason),
        _REASON_I18N: json.dumps(to_json(reason), ensure_ascii=False),
        "_raw_line": raw_line,
    }


# ------------------------------------------------------------------------------ Excel
def _check_zip_sizes(data: bytes, name: str, limits: IngestLimits) -> None:
    """Refuse a zip (an .xlsx is one) that would inflate far beyond its size, from the sizes
    its central directory declares, before anything is decompressed. (Python's zipfile never
    inflates a member past its declared size, so a member that lies fails its CRC check.)"""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise IngestError(
            Msg("xlsx_invalid", name=name, error=f"{type(exc).__name__}: {exc}")
        ) from None
    total = sum(i.file_size for i in infos)
    for i in infos:
        ratio = i.file_size / max(1, i.compress_size)
        if i.file_size > 16 * MB and ratio > limits.max_zip_ratio:
            raise IngestError(
                Msg(
                    "zip_bomb_part",
                    name=name,
                    part=i.filename,
                    ratio=float(ratio),
                    size=i.file_size / MB,
                    max_ratio=str(limits.max_zip_ratio),
                )
            )
    if total > limits.max_unzipped_bytes:
        raise IngestError(
            Msg(
                "zip_too_big",
                name=name,
                total=total / MB,
                limit=limits.max_unzipped_bytes / MB,
            )
        )


def _read_excel(
    data: bytes,
    name: str,
    sheet: str | int | None,
    notes: list[str],
    warnings: list[str],
    limits: IngestLimits | None = None,
) -> RawTable:
    import openpyxl

    _check_zip_sizes(data, name, limits or IngestLimits.from_env())
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError, ...
        raise IngestError(
            Msg("xlsx_invalid", name=name, error=f"{type(exc).__name__}: {exc}")
        ) from None
    try:
        names = list(wb.sheetnames)
        if not names:
            raise IngestError(Msg("no_sheets", name=name))
        if sheet is None:
            sheet_name = names[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise IngestError(
                    Msg(
                        "no_sheet_number",
                        name=name,
                        count=str(len(names)),
                        names=_join_names(names),
                        number=str(sheet),
                    )
                )
            sheet_name = names[sheet]
        else:
            if sheet not in names:
                raise IngestError(
                    Msg("no_sheet_name", name=name, sheet=sheet, names=_join_names(names))
                )
            sheet_name = sheet
        ws = wb[sheet_name]
        if getattr(ws, "max_row", 1) is None and hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        header, header_row, out_rows, out_vals, skipped = _excel_rows(ws, name, sheet_name, names)
        if skipped:
            notes.append(Msg("rows_above_header", n=header_row - 1, row=str(header_row)))
    finally:
        wb.close()
    width = max([len(header)] + [len(v) for v in out_vals]) if out_vals else len(header)
    # Trailing columns with neither a header nor any value are not columns.
    used = [any(i < len(v) and v[i] not in (None, "") for v in out_vals) for i in range(width)]
    keep = [i for i in range(width) if (i < len(header) and header[i] not in (None, "")) or used[i]]
    head_vals = [header[i] if i < len(header) else None for i in keep]
    columns = _clean_headers(head_vals, notes)
    if _has_formulas(data):
        warnings.extend(
            _formulas_without_results(data, name, sheet_name, out_rows, out_vals, keep, columns)
        )
    return _excel_raw(
        name, sheet, sheet_name, names, columns, keep, out_rows, out_vals, notes, warnings
    )


def _excel_rows(
    ws: Any, name: str, sheet_name: str, names: list[str]
) -> tuple[list[Any], int, list[int], list[tuple[Any, ...]], bool]:
    """The header (and its row) and the non-empty data rows of a sheet, with sheet row
    numbers. A sheet whose XML can't be parsed is refused, not a traceback."""
    try:
        return _excel_rows_unguarded(ws, name, sheet_name, names)
    except IngestError:
        raise
    except Exception as exc:  # ParseError, BadZipFile (CRC), ValueError from openpyxl, ...
        raise IngestError(
            Msg(
                "sheet_unreadable",
                sheet=sheet_name,
                name=name,
                error=f"{type(exc).__name__}: {exc}",
            )
        ) from None


def _excel_rows_unguarded(
    ws: Any, name: str, sheet_name: str, names: list[str]
) -> tuple[list[Any], int, list[int], list[tuple[Any, ...]], bool]:
    rows_iter = ws.iter_rows(min_row=1, values_only=True)
    pending: list[tuple[int, tuple[Any, ...]]] = []
    # Title lines above the header (e.g. "Sales report 2024") are skipped: the header is
    # the first row at least half as wide as the widest of the first 30 non-empty rows.
    for r, values in enumerate(rows_iter, start=1):
        if any(v is not None and str(v).strip() != "" for v in values):
            pending.append((r, values))
        if len(pending) >= 30:
            break
    if not pending:
        others = [n for n in names if n != sheet_name]
        if others:
            raise IngestError(
                Msg("sheet_empty_others", sheet=sheet_name, name=name, names=_join_names(others))
            )
        raise IngestError(Msg("sheet_empty", sheet=sheet_name, name=name))
    counts = [sum(v is not None and str(v).strip() != "" for v in vals) for _, vals in pending]
    need = max(1, math.ceil(0.5 * max(counts)))
    k = next(i for i, c in enumerate(counts) if c >= need)
    header_row, header = pending[k][0], list(pending[k][1])
    body = [p for p in pending[k + 1 :]]
    out_rows: list[int] = []
    out_vals: list[tuple[Any, ...]] = []
    for r, vals in body:
        out_rows.append(r)
        out_vals.append(vals)
    for r, values in enumerate(rows_iter, start=pending[-1][0] + 1):
        if any(v is not None and (not isinstance(v, str) or v.strip() != "") for v in values):
            out_rows.append(r)
            out_vals.append(values)
    return header, header_row, out_rows, out_vals, k > 0


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of an .xlsx holds a formula (`<f>` element), read in chunks."""
    try:
        return _scan_for_formulas(data)
    except Exception:  # a damaged part: the values were read already; this check is a bonus
        return False


def _scan_for_formulas(data: bytes) -> bool:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                continue
            tail = b""
            with zf.open(info) as f:
                while chunk := f.read(1 << 20):
                    buf = tail + chunk
                    if b"<f>" in buf or b"<f " in buf or b":f>" in buf or b":f " in buf:
                        return True
                    tail = buf[-8:]
    return False


def _formulas_without_results(
    data: bytes,
    name: str,
    sheet_name: str,
    out_rows: list[int],
    out_vals: list[tuple[Any, ...]],
    keep: list[int],
    columns: list[str],
) -> list[str]:
    """Cells holding a formula whose result was never saved (files written by scripts, not by
    Excel) read as empty: say which, per column, instead of letting them pass as blanks."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # the values were read already; this check is best effort
        return []
    pos = {r: i for i, r in enumerate(out_rows)}
    found: dict[int, list[tuple[int, str]]] = {}
    try:
        for r, values in enumerate(wb[sheet_name].iter_rows(min_row=1, values_only=True), 1):
            i = pos.get(r)
            if i is None:
                continue
            got = out_vals[i]
            for j in keep:
                f = values[j] if j < len(values) else None
                f = getattr(f, "text", f)  # ArrayFormula
                if isinstance(f, str) and f.startswith("=") and (j >= len(got) or got[j] is None):
                    found.setdefault(j, []).append((r, f))
    except Exception:
        return []
    finally:
        wb.close()
    out = []
    for j, cells in found.items():
        col = columns[keep.index(j)]
        r, f = cells[0]
        out.append(
            Msg(
                "formulas_no_result",
                sheet=sheet_name,
                name=name,
                column=col,
                n=len(cells),
                row=str(r),
                ex=_q(f),
            )
        )
    return out


def _excel_raw(
    name: str,
    sheet: str | int | None,
    sheet_name: str,
    names: list[str],
    columns: list[str],
    keep: list[int],
    out_rows: list[int],
    out_vals: list[tuple[Any, ...]],
    notes: list[str],
    warnings: list[str],
) -> RawTable:
    df = pd.DataFrame(
        {
            c: _str_series([_cell_text(v[i]) if i < len(v) else "" for v in out_vals])
            for c, i in zip(columns, keep, strict=True)
        },
        index=pd.RangeIndex(len(out_vals)),
    )
    return RawTable(
        df=df,
        filename=name,
        format="excel",
        sheet=sheet_name,
        sheet_names=names,
        row_numbers=np.asarray(out_rows, dtype=np.int64),
        notes=notes,
        warnings=warnings
        + (
            [
                Msg(
                    "many_sheets",
                    count=str(len(names)),
                    names=_join_names(names),
                    sheet=sheet_name,
                )
            ]
            if len(names) > 1 and sheet is None
            else []
        ),
    )


# ---------------------------------------------------------------------------- Parquet
def _read_parquet(data: bytes, name: str, notes: list[str], warnings: list[str]) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:
        raise IngestError(Msg("parquet_invalid", name=name, error=str(exc))) from None
    columns = _clean_headers([str(c) for c in table.column_names], notes)
    out = {}
    for c, col in zip(columns, table.columns, strict=True):
        out[c] = _arrow_to_text(col)
    df = pd.DataFrame(out, index=pd.RangeIndex(table.num_rows))
    return RawTable(df, name, "parquet", notes=notes, warnings=warnings)


def _arrow_to_text(col: Any) -> pd.Series:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    try:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            s = col
        elif pa.types.is_boolean(t):
            s = pc.if_else(col, "true", "false")
        elif (
            pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
            or pa.types.is_temporal(t)
        ):  # fmt: skip
            s = pc.cast(col, pa.string())
        else:
            raise TypeError
        return pd.Series(pc.fill_null(s, "").to_pandas(), dtype="str")
    except (TypeError, pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return _str_series([_cell_text(v) for v in col.to_pylist()])


# ------------------------------------------------------------------------- value parsing
_NULLS_TEXT = frozenset({"", "null", "none", "nan", "n/a", "#n/a", "nil", "(null)", "<na>", "nat"})
_NULLS_VALUE = _NULLS_TEXT | {"na", "-", "--", "—", "?"}

_CURRENCY = re.compile(r"(?i)(?:RMB|USD|EUR|GBP|CNY)|[$€£¥￥元]")
# Symbols and codes naming the same currency ('¥' is also the yen: it is one kind here).
_CURRENCY_KIND = {"USD": "$", "EUR": "€", "GBP": "£", "RMB": "¥", "CNY": "¥", "￥": "¥", "元": "¥"}
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_DOT_NUM = r"[+-]?(?:(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_COMMA_NUM = r"[+-]?(?:(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d*)?|,\d+)"
_COMMA_THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+"
_DOT_THOUSANDS = r"[+-]?\d{1,3}(?:\.\d{3})+"
_PLAIN_NUM = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _null_mask(s: pd.Series, tokens: frozenset[str]) -> pd.Series:
    return s.isna() | s.str.lower().isin(tokens)


@dataclass
class _NumInfo:
    decimal: str = "."
    n_currency: int = 0
    n_paren: int = 0
    n_percent: int = 0
    n_thousands: int = 0
    n_comma: int = 0
    ambiguous: list[str] = field(default_factory=list)
    mixed: bool = False
    examples: dict[str, str] = field(default_factory=dict)
    currencies: list[str] = field(default_factory=list)  # distinct currencies, when several
    settled: bool = False  # the values show which mark is the decimal one


def _by_uniques(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype="str")


def _parse_numbers(
    s: pd.Series,
    *,
    allow_percent: bool = False,
    decimal_hint: str | None = None,
    decimal: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _NumInfo]:
    """Text (stripped, NA for blanks) → float64. Returns (values, bad, percent, info); `bad`
    marks non-null text that is not a number, `percent` values written with a % sign.
    `decimal` fixes the decimal mark (decided earlier); `info.settled` says whether the
    values themselves showed which mark is the decimal one."""
    info = _NumInfo()
    n = len(s)
    values = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    pct_rows = np.zeros(n, dtype=bool)
    if n == 0 or s.isna().all():
        return values, bad, pct_rows, info
    codes, u = _by_uniques(s)
    freq = np.bincount(codes[codes >= 0], minlength=len(u))
    orig = u
    paren = u.str.fullmatch(r"\(.*\)").to_numpy(dtype=bool)
    if paren.any():
        u = u.where(~paren, "-" + u.str.slice(1, -1).str.strip())
    cur = u.str.contains(_CURRENCY, regex=True).to_numpy(dtype=bool)
    if cur.any():
        u = u.str.replace(_CURRENCY, "", regex=True)
    u = u.str.replace(_SPACES, "", regex=True)
    # "-$12" → "-12", "$-12" → "-12" already; "12-" (trailing minus) is not accepted.
    pct = u.str.endswith("%").to_numpy(dtype=bool)
    if allow_percent and pct.any():
        u = u.where(~pct, u.str.slice(0, -1))
    comma_ok = u.str.fullmatch(_COMMA_NUM).to_numpy(dtype=bool)
    dot_ok = u.str.fullmatch(_DOT_NUM).to_numpy(dtype=bool)
    has_comma = u.str.contains(",", regex=False).to_numpy(dtype=bool)
    has_dot = u.str.contains(".", regex=False).to_numpy(dtype=bool)
    comma_thou = u.str.fullmatch(_COMMA_THOUSANDS).to_numpy(dtype=bool)
    dot_thou = u.str.fullmatch(_DOT_THOUSANDS).to_numpy(dtype=bool)
    comma_ev = comma_ok & has_comma & ~comma_thou
    dot_ev = dot_ok & has_dot & ~dot_thou
    n_comma_ev, n_dot_ev = int(freq[comma_ev].sum()), int(freq[dot_ev].sum())
    info.settled = bool(n_comma_ev or n_dot_ev)
    if decimal in (",", "."):
        mode = decimal
        info.mixed = bool(n_comma_ev if mode == "." else n_dot_ev)
    elif n_comma_ev and not n_dot_ev:
        mode = ","
    elif n_dot_ev and not n_comma_ev:
        mode = "."
    elif n_comma_ev and n_dot_ev:
        mode = "," if n_comma_ev > n_dot_ev else "."
        info.mixed = True
    else:
        # Only values like '1,234' / '1.234': either mark could be the decimal one.
        mode = decimal_hint if decimal_hint in (",", ".") else "."
        amb = comma_thou | dot_thou
        if amb.any():
            info.ambiguous = list(orig[amb].head(3))
    info.decimal = mode
    if mode == ".":
        ok = dot_ok
        clean = u.str.replace(",", "", regex=False)
        thou = ok & has_comma
    else:
        ok = comma_ok
        clean = u.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        thou = ok & has_dot
        info.n_comma = int(freq[ok & has_comma].sum())
    parsed = pd.to_numeric(clean.where(ok), errors="coerce").to_numpy(dtype=float, copy=True)
    parsed[paren & ok] = -np.abs(parsed[paren & ok])
    if info.n_comma:
        first = int(np.flatnonzero(ok & has_comma)[0])
        info.examples["comma"] = str(orig.iloc[first])
        info.examples["comma_value"] = repr(float(parsed[first]))
    good = ok & np.isfinite(parsed)
    u_bad = ~good & ~u.isna().to_numpy()
    if not allow_percent:
        u_bad |= pct & ~good
    info.n_currency = int(freq[cur & good].sum())
    info.n_paren = int(freq[paren & good].sum())
    info.n_thousands = int(freq[thou & good].sum())
    info.n_percent = int(freq[pct & good].sum()) if allow_percent else 0
    if info.n_currency:
        info.examples["currency"] = str(orig[cur & good].iloc[0])
        found = orig[cur & good].str.findall(_CURRENCY).explode().dropna()
        kinds = sorted({_CURRENCY_KIND.get(c.upper(), c) for c in found})
        if len(kinds) > 1:
            info.currencies = kinds
    if info.n_paren:
        info.examples["paren"] = str(orig[paren & good].iloc[0])
    valid = codes >= 0
    values[valid] = np.where(good, parsed, np.nan)[codes[valid]]
    bad[valid] = u_bad[codes[valid]]
    if allow_percent:
        pct_rows[valid] = (pct & good)[codes[valid]]
    return values, bad, pct_rows, info


# --------------------------------------------------------------------------- date parsing
@dataclass(frozen=True)
class _Family:
    label: str
    fmt: str  # strptime date part, or "ISO8601" / "epoch_s" / "epoch_ms" / "excel"
    shape: str  # regex the value must fullmatch (checked on the date part)
    pair: str = ""  # day-first / month-first twins share a pair name
    example: str = ""


_TIME_OPTS = (
    ("", ""),
    (" %H:%M", " HH:MM"),
    (" %H:%M:%S", " HH:MM:SS"),
    (" %H:%M:%S.%f", " HH:MM:SS.ffffff"),
    (" %I:%M %p", " hh:MM AM/PM"),
    (" %I:%M:%S %p", " hh:MM:SS AM/PM"),
    ("T%H:%M:%S", "THH:MM:SS"),
    ("T%H:%M", "THH:MM"),
    ("%H:%M:%S", "HH:MM:SS"),  # 2024年1月5日12:30:00
    (" %H时%M分", " H时M分"),
    (" %H时%M分%S秒", " H时M分S秒"),
)
_T = r"(?:[ T].*)?"
_FAMILIES: tuple[_Family, ...] = (
    _Family("YYYY-MM-DD", "ISO8601", r"\d{4}-\d{1,2}-\d{1,2}" + _T, example="2024-12-25"),
    _Family("YYYY/MM/DD", "%Y/%m/%d", r"\d{4}/\d{1,2}/\d{1,2}" + _T, example="2024/12/25"),
    _Family("YYYY.MM.DD", "%Y.%m.%d", r"\d{4}\.\d{1,2}\.\d{1,2}" + _T, example="2024.12.25"),
    _Family("MM/DD/YYYY", "%m/%d/%Y", r"\d{1,2}/\d{1,2}/\d{4}" + _T, "slash4", "12/25/2024"),
    _Family("DD/MM/YYYY", "%d/%m/%Y", r"\d{1,2}/\d{1,2}/\d{4}" + _T, "slash4", "25/12/2024"),
    _Family("DD.MM.YYYY", "%d.%m.%Y", r"\d{1,2}\.\d{1,2}\.\d{4}" + _T, "dot4", "25.12.2024"),
    _Family("MM.DD.YYYY", "%m.%d.%Y", r"\d{1,2}\.\d{1,2}\.\d{4}" + _T, "dot4", "12.25.2024"),
    _Family("DD-MM-YYYY", "%d-%m-%Y", r"\d{1,2}-\d{1,2}-\d{4}" + _T, "dash4", "25-12-2024"),
    _Family("MM-DD-YYYY", "%m-%d-%Y", r"\d{1,2}-\d{1,2}-\d{4}" + _T, "dash4", "12-25-2024"),
    _Family("MM/DD/YY", "%m/%d/%y", r"\d{1,2}/\d{1,2}/\d{2}" + _T, "slash2", "12/25/24"),
    _Family("DD/MM/YY", "%d/%m/%y", r"\d{1,2}/\d{1,2}/\d{2}" + _T, "slash2", "25/12/24"),
    _Family("DD.MM.YY", "%d.%m.%y", r"\d{1,2}\.\d{1,2}\.\d{2}" + _T, "dot2", "25.12.24"),
    _Family("YYYYMMDD", "%Y%m%d", r"\d{8}", example="20241225"),
    _Family("YYYY年M月D日", "%Y年%m月%d日", r"\d{4}年\d{1,2}月\d{1,2}日.*", example="2024年12月25日"),
    _Family("DD Mon YYYY", "%d %b %Y", r"\d{1,2} [A-Za-z]{3} \d{4}.*", example="25 Dec 2024"),
    _Family("DD Month YYYY", "%d %B %Y", r"\d{1,2} [A-Za-z]{4,9} \d{4}.*", example="25 December 2024"),
    _Family("Mon DD, YYYY", "%b %d, %Y", r"[A-Za-z]{3} \d{1,2}, \d{4}.*", example="Dec 25, 2024"),
    _Family("Month DD, YYYY", "%B %d, %Y", r"[A-Za-z]{4,9} \d{1,2}, \d{4}.*", example="December 25, 2024"),
    _Family("DD-Mon-YYYY", "%d-%b-%Y", r"\d{1,2}-[A-Za-z]{3}-\d{4}.*", example="25-Dec-2024"),
    _Family("DD-Mon-YY", "%d-%b-%y", r"\d{1,2}-[A-Za-z]{3}-\d{2}.*", example="25-Dec-24"),
    _Family("Unix epoch seconds", "epoch_s", r"\d{9,10}(?:\.\d+)?", example="1735084800"),
    _Family("Unix epoch milliseconds", "epoch_ms", r"\d{12,13}", example="1735084800000"),
    _Family("Excel serial day number", "excel", r"\d{5}(?:\.\d+)?", example="45651"),
)  # fmt: skip
_NUMERIC_FAMILIES = ("epoch_s", "epoch_ms", "excel")
# Day-first or month-first when every value fits both: '/' reads US style (month first);
# '.' and '-' read day first.
_PAIR_DEFAULT = {
    "slash4": "MM/DD/YYYY",
    "slash2": "MM/DD/YY",
    "dot4": "DD.MM.YYYY",
    "dash4": "DD-MM-YYYY",
}
_FAMILY_BY_LABEL = {f.label.lower(): f for f in _FAMILIES}
_TZ = re.compile(r"(?<=\d)\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", flags=re.IGNORECASE)
# Python's \s spelled as a class of the characters themselves: pandas hands a pattern with
# \s (or \u escapes) to Python's `re`, one value at a time, instead of Arrow's RE2 engine
# (0.7 s of a 5 s ingest of 1 M order lines, for this one check).
_WS_CLASS = "[" + "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "]"
_TZ_NEEDS_TIME = re.compile(
    r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?" + _WS_CLASS + r"*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.I
)


def _parse_family(
    u: pd.Series, fam: _Family, prefer: Counter[str] | None = None
) -> tuple[np.ndarray, str, Counter[str]]:
    """Parse every value with one family (trying the time variants, those `prefer` counts
    most first); NaT where it fails. Returns (values, label, time variants used)."""
    n = len(u)
    used: Counter[str] = Counter()
    if n == 0:
        return np.full(0, np.datetime64("NaT"), dtype="datetime64[us]"), fam.label, used
    if fam.fmt == "ISO8601":
        try:
            res = pd.to_datetime(u, format="ISO8601", errors="coerce")
        except ValueError:  # offsets pandas reads but `_TZ` does not (e.g. '+08'): to UTC
            res = pd.to_datetime(u, format="ISO8601", errors="coerce", utc=True)
            res = res.dt.tz_localize(None)
        out = np.array(res.to_numpy(dtype="datetime64[us]"), copy=True)
        has_time = bool(u.str.contains(r"\d:\d", regex=True).any())
        return out, fam.label + (" HH:MM:SS" if has_time else ""), used
    if fam.fmt in _NUMERIC_FAMILIES:
        ok = u.str.fullmatch(fam.shape).to_numpy(dtype=bool)
        num = pd.to_numeric(u.where(ok), errors="coerce")
        if fam.fmt == "excel":
            days = num.where((num >= 1) & (num < 2_958_466))
            res = pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D")
        else:
            unit = "s" if fam.fmt == "epoch_s" else "ms"
            res = pd.to_datetime(num, unit=unit, errors="coerce")
        return np.array(pd.Series(res).to_numpy(dtype="datetime64[us]"), copy=True), fam.label, used
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    todo = np.ones(n, dtype=bool)
    opts = sorted(_TIME_OPTS, key=lambda o: -(prefer or {}).get(o[1], 0))
    for suffix, lab in opts:
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        res = pd.to_datetime(u.iloc[idx], format=fam.fmt + suffix, errors="coerce")
        got = res.notna().to_numpy()
        if got.any():
            out[idx[got]] = res.to_numpy(dtype="datetime64[us]")[got]
            todo[idx[got]] = False
            used[lab] += int(got.sum())
    label = fam.label + (used.most_common(1)[0][0] if used else "")
    return out, label, used


def _sample(u: pd.Series, k: int = 400) -> pd.Series:
    if len(u) <= k:
        return u
    step = max(1, len(u) // k)
    return pd.concat([u.iloc[: k // 2], u.iloc[::step].head(k // 2)])


def _detect_family(
    u: pd.Series, *, allow_numeric: bool
) -> tuple[_Family | None, int, int, Counter[str]]:
    """The family parsing most of a sample; (family, parsed, sample size, time variants)."""
    sample = _sample(u)
    best: _Family | None = None
    best_n = 0
    best_used: Counter[str] = Counter()
    for fam in _FAMILIES:
        if fam.fmt in _NUMERIC_FAMILIES and not allow_numeric:
            continue
        date_part = sample.str.fullmatch(fam.shape, flags=re.IGNORECASE)
        if not date_part.any():
            continue
        parsed, _, used = _parse_family(sample[date_part.to_numpy(dtype=bool)], fam)
        n_ok = int((~np.isnat(parsed)).sum())
        if n_ok > best_n:
            best, best_n, best_used = fam, n_ok, used
    return best, best_n, len(sample), best_used


def _resolve_pair(u: pd.Series, fam: _Family) -> tuple[_Family, str | None]:
    """Day-first or month-first, decided on *all* values: a first number above 12 means the
    day comes first, a second number above 12 means the month comes first."""
    if not fam.pair:
        return fam, None
    twins = [f for f in _FAMILIES if f.pair == fam.pair]
    shape = u.str.match(r"\d{1,2}\D\d{1,2}\D").to_numpy(dtype=bool)
    uu = u[shape]
    a = pd.to_numeric(uu.str.replace(r"^(\d{1,2})\D.*$", r"\1", regex=True), errors="coerce")
    b = pd.to_numeric(
        uu.str.replace(r"^\d{1,2}\D(\d{1,2})\D.*$", r"\1", regex=True), errors="coerce"
    )
    first_big, second_big = int((a > 12).sum()), int((b > 12).sum())
    day_first = next(f for f in twins if f.label.startswith("DD"))
    month_first = next(f for f in twins if f.label.startswith("MM"))
    if first_big and not second_big:
        return day_first, None
    if second_big and not first_big:
        return month_first, None
    if first_big and second_big:
        pick = day_first if first_big >= second_big else month_first
        return pick, Msg("dates_both_orders", n_day=first_big, n_month=second_big, label=pick.label)
    pick = _FAMILY_BY_LABEL[_PAIR_DEFAULT[fam.pair].lower()]
    other = day_first if pick is month_first else month_first
    return pick, Msg("dates_ambiguous", label=pick.label, other=other.label)


@dataclass
class _DateInfo:
    label: str | None = None
    family: _Family | None = None
    warning: str | None = None
    tz_note: str | None = None
    second: str | None = None  # a second format found in the column
    parse_rate: float = 1.0


def _parse_dates(
    s: pd.Series,
    *,
    allow_numeric: bool = True,
    forced: str | None = None,
    family: _Family | None = None,
) -> tuple[np.ndarray, np.ndarray, _DateInfo]:
    """Text (stripped, NA for blanks) → datetime64[us]. Returns (values, bad, info).
    `family` is the format decided earlier (no detection; a second format is still tried
    for values it does not read, as when it was detected)."""
    info = _DateInfo()
    n = len(s)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    bad = np.zeros(n, dtype=bool)
    if n == 0 or s.isna().all():
        return out, bad, info
    codes, u = _by_uniques(s)
    # Offsets: one offset for all → removed (times kept as written); several → to UTC.
    offset_min = None
    # The pattern's text (not the compiled object) lets pandas run it in Arrow's RE2 engine
    # instead of a Python loop over every distinct value.
    tz_m = u.str.contains(_TZ_NEEDS_TIME.pattern, case=False, regex=True).to_numpy(dtype=bool)
    if tz_m.any():
        tz_txt = u.str.extract(_TZ, expand=False).where(tz_m)
        u = u.where(~tz_m, u.str.replace(_TZ, "", regex=True).str.strip())
        kinds = tz_txt[tz_m].str.upper().str.replace(":", "", regex=False)
        kinds = kinds.replace({"UTC": "Z", "GMT": "Z"})
        kinds = kinds.where(kinds.str.len() != 3, kinds + "00")  # '+08' → '+0800'
        kinds = kinds.replace({"+0000": "Z", "-0000": "Z"})
        distinct = sorted(set(kinds))
        n_tz = int(np.bincount(codes[codes >= 0], minlength=len(u))[tz_m].sum())
        if len(distinct) == 1:
            info.tz_note = Msg("tz_removed", offset=distinct[0], n=n_tz)
        else:
            sign = np.where(kinds.str.startswith("-"), -1, 1)
            hh = pd.to_numeric(kinds.str.slice(1, 3), errors="coerce").fillna(0)
            mm = pd.to_numeric(kinds.str.slice(3, 5), errors="coerce").fillna(0)
            mins = np.where(kinds == "Z", 0, sign * (hh * 60 + mm))
            offset_min = np.zeros(len(u))
            offset_min[tz_m] = mins
            info.tz_note = Msg("tz_converted", n=n_tz, offsets=str(len(distinct)))
    fam: _Family | None
    prefer: Counter[str] | None = None
    if forced:
        fam = _FAMILY_BY_LABEL.get(forced.strip().lower())
        if fam is None:
            base = forced.split(" ")[0].lower()
            fam = _FAMILY_BY_LABEL.get(base) or _Family(forced, forced, r".*")
    elif family is not None:
        fam = family
    else:
        fam, n_ok, n_sample, prefer = _detect_family(u, allow_numeric=allow_numeric)
        info.parse_rate = n_ok / max(1, n_sample)
        if fam is None:
            info.parse_rate = 0.0
            bad[:] = codes >= 0
            return out, bad, info
        fam, info.warning = _resolve_pair(u, fam)
    parsed, label, _ = _parse_family(u, fam, prefer)
    failed = np.isnat(parsed)
    if failed.any() and not forced:
        # A second, unambiguous format for the rest (e.g. ISO dates among DD.MM.YYYY ones);
        # never the day/month twin of the first, which would contradict it.
        rest = u[failed]
        fam2, n2, _, prefer2 = _detect_family(rest, allow_numeric=allow_numeric)
        if fam2 is not None and fam2 is not fam and (not fam2.pair or fam2.pair != fam.pair):
            if fam2.pair:
                fam2, amb = _resolve_pair(rest, fam2)
            else:
                amb = None
            if amb is None:
                p2, label2, _ = _parse_family(rest, fam2, prefer2)
                got = ~np.isnat(p2)
                if got.any():
                    idx = np.flatnonzero(failed)[got]
                    parsed[idx] = p2[got]
                    n_rows = int(np.isin(codes, idx).sum())
                    info.second = Msg("second_format", n=n_rows, label=label2)
    if offset_min is not None:
        parsed = parsed - (offset_min * 60_000_000).astype("timedelta64[us]")
    info.label, info.family = label, fam
    valid = codes >= 0
    out[valid] = parsed[codes[valid]]
    bad[valid] = np.isnat(parsed)[codes[valid]]
    return out, bad, info


def _date_like_rate(s: pd.Series, *, allow_numeric: bool = False) -> float:
    s = s[~_null_mask(s, _NULLS_VALUE)].str.strip() if len(s) else s
    if not len(s):
        return 0.0
    u = pd.Series(s.unique(), dtype="str")
    fam, n_ok, n, _ = _detect_family(u, allow_numeric=allow_numeric)
    return 0.0 if fam is None else n_ok / max(1, n)


def _number_like_rate(s: pd.Series) -> float:
    s = s[~_null_mask(s, _NULLS_VALUE)]
    if not len(s):
        return 0.0
    _, bad, _, _ = _parse_numbers(s.str.strip().reset_index(drop=True), allow_percent=True)
    return 1.0 - bad.mean()


# --------------------------------------------------------------------------- mapping
def _candidates(df: pd.DataFrame, table: str) -> list[tuple[float, int, str, str]]:
    """(tier, rank, source, canonical) for every plausible pairing, best first.
    Tier 0: the canonical name; 1: a synonym; 2: a keyword in the name."""
    schema = schema_for(table)
    syn = {c: [normalize_name(x) for x in lst] for c, lst in SYNONYMS[table].items()}
    cands: list[tuple[float, int, str, str]] = []
    for pos, col in enumerate(df.columns):
        n = normalize_name(col)
        if not n:
            continue
        for canon in schema.column_names:
            if n == normalize_name(canon):
                cands.append((0, pos, col, canon))
            elif n in syn.get(canon, []):
                cands.append((1 + syn[canon].index(n) / 1000, pos, col, canon))
            elif canon in KEYWORDS:
                words, also = KEYWORDS[canon]
                if any(w in n for w in words) and (not also or any(a in n for a in also)):
                    cands.append((2, pos, col, canon))
    cands.sort(key=lambda c: (c[0], c[1]))
    return cands


def _values_fit(sample: pd.Series, dtype: str) -> bool:
    """Do the values of a column matched by name fit the canonical type? (Most of them: the
    few that don't are rejected row by row later, with reasons.)"""
    if dtype == DATE:
        return _date_like_rate(sample, allow_numeric=True) >= 0.5
    if dtype in (FLOAT, INT):
        return _number_like_rate(sample) >= 0.5
    return True


def guess_mapping(df: pd.DataFrame, table: str) -> dict[str, str | None]:
    """Source column → canonical column of `table`, or None (kept as an extra attribute).
    By name (canonical names, English / Chinese synonyms, keywords), checked against the
    values (a date column must hold dates, a number column numbers); then by values alone
    for date and review-text columns no name matched. Each canonical column at most once."""
    found = _guess(df, table)
    return {c: (found[c][0] if c in found else None) for c in df.columns}


def _guess(df: pd.DataFrame, table: str) -> dict[str, tuple[str, float]]:
    """Source column → (canonical column, tier); tier 3 means matched by values alone."""
    schema = _schema(table)
    sample = df.head(500)
    found: dict[str, tuple[str, float]] = {}
    taken: set[str] = set()
    fit_cache: dict[tuple[str, str], bool] = {}
    for tier, _pos, col, canon in _candidates(df, table):
        if col in found or canon in taken:
            continue
        dtype = schema.column(canon).dtype
        if tier > 0 and dtype != STRING and len(sample):
            key = (col, dtype)
            if key not in fit_cache:
                fit_cache[key] = _values_fit(sample[col], dtype)
            if not fit_cache[key]:
                continue
        found[col] = (canon, tier)
        taken.add(canon)
    if not len(sample):
        return found
    # By values alone: a required (or review) date column, and review text.
    free = [c for c in df.columns if c not in found]
    for canon in schema.column_names:
        if canon in taken:
            continue
        col_def = schema.column(canon)
        pick = None
        if col_def.dtype == DATE and (col_def.required or table == "reviews"):
            pick = next((c for c in free if _date_like_rate(sample[c]) >= 0.9), None)
        elif canon == "review_text":
            best_len = 20.0
            for c in free:
                v = sample[c][~_null_mask(sample[c], _NULLS_TEXT)]
                if not len(v) or _number_like_rate(v) > 0.5:
                    continue
                mean_len = float(v.str.len().mean())
                if mean_len > best_len:
                    pick, best_len = c, mean_len
        if pick is not None:
            found[pick] = (canon, 3)
            taken.add(canon)
            free.remove(pick)
    return found


# How much a match counts towards guessing the table, by tier.
_TIER_WEIGHT = {0: 1.0, 1: 1.0, 2: 0.5, 3: 0.3}


def guess_table(df: pd.DataFrame) -> str:
    """Which canonical table a raw file most likely is, from its column names and values:
    each table scores the columns that match it (weighted by how telling they are and how
    sure the match is), plus a bonus when its required columns are all there and a penalty
    when not; a customers / products key that repeats counts against those tables."""
    best, best_score = "orders", -math.inf
    sample = df.head(500)
    guesses = {t: _guess(sample, t) for t in ("orders", "customers", "reviews", "products")}
    for t, found in guesses.items():
        mapped = {canon for canon, _ in found.values()}
        sig = TABLE_SIGNALS[t]
        score = sum(sig.get(canon, 0.0) * _TIER_WEIGHT[int(tier)] for canon, tier in found.values())
        schema = schema_for(t)
        ok = all(r in mapped for r in schema.required)
        if t == "orders":
            ok = ok and bool(mapped & {"amount", "unit_price"})
        score += 3 if ok else -6
        if t in ("customers", "products") and len(sample):
            key = schema.key[0]
            src = next((c for c, (canon, _) in found.items() if canon == key), None)
            if src is not None:
                ids = sample[src][~_null_mask(sample[src], _NULLS_TEXT)]
                score += 1.5 if ids.is_unique else -2.5
        if t == "products" and any(c == "customer_id" for c, _ in guesses["orders"].values()):
            score -= 3
        if score > best_score:
            best, best_score = t, score
    return best


def _schema(table: str) -> TableSchema:
    try:
        return schema_for(table)
    except ValueError as exc:
        raise IngestError(exc.args[0]) from None


# ----------------------------------------------------------------------------- ingest
class _Rejects:
    """Why rows are rejected: first problem per row (later ones appended), with the row's
    number, column and value. Reasons are messages (`core.ingest_text`) whose `{row}`,
    `{value}` (quoted) and `{extra}` fields differ from row to row: their English text is
    built for the bad rows only, vectorised; `message(i)` builds one row's `Msg` on demand
    (the report keeps those of the first rows only)."""

    _TOKENS = re.compile(r"(\{row\}|\{value\}|\{extra\})")
    _PER_ROW = ("row", "value", "extra")

    def __init__(self, n: int, rows: np.ndarray) -> None:
        self.rows = rows
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)
        self.value = np.full(n, None, dtype=object)
        self.kinds: Counter[Msg] = Counter()
        # Each `add`: (key, fixed values, row positions, quoted values, extras), and for
        # every row the `add` of its first problem (-1: none) and of any later ones.
        self._adds: list[tuple[str, dict[str, Any], np.ndarray, Any, Any]] = []
        self._first = np.full(n, -1, dtype=np.int64)
        self._more: dict[int, list[int]] = {}

    def message(self, i: int) -> Msg:
        """The reason of row position i (which has one), as a `Msg`."""
        out: Msg | None = None
        for k in [int(self._first[i]), *self._more.get(i, [])]:
            key, fixed, idx, quoted, extra = self._adds[k]
            pos = int(np.searchsorted(idx, i))
            values = dict(fixed, row=str(self.rows[i]))
            if quoted is not None:
                values["value"] = quoted[pos]
            if extra is not None:
                values["extra"] = extra[pos]
            m = Msg(key, **values)
            out = m if out is None else Msg("also", first=out, then=m)
        assert out is not None
        return out

    @property
    def mask(self) -> np.ndarray:
        return pd.notna(self.reason)

    def add(
        self,
        mask: np.ndarray,
        column: str | None,
        values: pd.Series | None,
        phrase: str,
        kind: Msg,
        /,
        extra: np.ndarray | None = None,
        **fixed: Any,
    ) -> int:
        """Reject the rows of `mask` for the reason `phrase` (a key of `core.ingest_text`
        filled with `fixed` and, per row, `row`, `value` and `extra`); `kind` sums them up."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return 0
        template = partial(phrase, "en", self._PER_ROW, **fixed)
        vals = (
            values.iloc[idx].reset_index(drop=True)
            if values is not None
            else pd.Series([""] * len(idx), dtype="str")
        )
        parts: dict[str, Any] = {"{row}": _str_series(self.rows[idx].astype(str))}
        quoted = extras = None
        if "{value}" in template:
            parts["{value}"] = _quote_series(vals)
            quoted = parts["{value}"].to_numpy(dtype=object)
        if extra is not None:
            parts["{extra}"] = _str_series(np.asarray(extra).astype(str))
            extras = parts["{extra}"].to_numpy(dtype=object)
        k = len(self._adds)
        self._adds.append((phrase, fixed, idx, quoted, extras))
        text: Any = None
        for piece in self._TOKENS.split(template):
            if not piece:
                continue
            part = parts.get(piece, piece)
            text = part if text is None else text + part
        if not isinstance(text, pd.Series):
            text = _str_series([text] * len(idx))
        reasons = text.to_numpy(dtype=object)
        fresh = pd.isna(self.reason[idx])
        f_idx = idx[fresh]
        self.reason[f_idx] = reasons[fresh]
        self.column[f_idx] = column
        self._first[f_idx] = k
        raw = vals.to_numpy(dtype=object)
        self.value[f_idx] = [None if v is None or v != v else v for v in raw[fresh]]
        if (~fresh).any():
            o_idx = idx[~fresh]
            self.reason[o_idx] = [
                f"{a}; {b}" for a, b in zip(self.reason[o_idx], reasons[~fresh], strict=True)
            ]
            for i in o_idx.tolist():
                self._more.setdefault(i, []).append(k)
        self.kinds[kind] += len(idx)
        return len(idx)


def _quote_series(v: pd.Series, limit: int = 60) -> pd.Series:
    """`_q` for a whole Series."""
    s = v.astype("str").fillna("").str.strip()
    s = s.str.replace("\n", "\\n", regex=False).str.replace("\r", "\\r", regex=False)
    long = (s.str.len() > limit).to_numpy(dtype=bool)
    if long.any():
        s = s.where(~long, s.str.slice(0, limit - 1) + "…")
    return "'" + s.str.replace("'", "\\'", regex=False) + "'"


def _col_ref(src: str, canon: str) -> Msg:
    return Msg("col_ref", src=src) if src == canon else Msg("col_ref_canon", src=src, canon=canon)


def _table_name(table: str) -> Msg | str:
    """A canonical table's name in messages ("orders"), translated with them."""
    return Msg(f"table_{table}") if f"table_{table}" in EN else table


def ingest(
    raw: RawTable,
    table: str | None = None,
    mapping: dict[str, str | None] | None = None,
    *,
    limits: IngestLimits | None = None,
    date_formats: dict[str, str] | None = None,
    plan: IngestPlan | None = None,
) -> IngestResult:
    """Map, convert and check a `RawTable` as canonical `table` (guessed when None).

    `mapping` (source column → canonical column, None to keep it as an extra attribute, or
    another name to keep it under that name) defaults to `guess_mapping`; columns it does not
    mention are kept as extras. `date_formats` forces a date format for a canonical column
    (a label such as 'DD/MM/YYYY' or a strptime pattern such as '%d/%m/%Y'). `plan` holds
    decisions fixed across the chunks of one file (see `IngestPlan`)."""
    limits = limits or IngestLimits.from_env()
    df = raw.df
    name = raw.filename
    if df.shape[1] > limits.max_columns:
        raise IngestError(_too_many_columns(name, df.shape[1], limits))
    if len(df) + raw.n_rejected > limits.max_rows:
        raise IngestError(
            Msg("too_many_rows", name=name, rows=len(df) + raw.n_rejected, limit=limits.max_rows)
        )
    table = table or guess_table(df)
    schema = _schema(table)
    canon_names = schema.column_names
    if mapping is None:
        mapping = guess_mapping(df, table)
    else:
        # '' and '-' mean "no canonical column" too (as in the CLI's --map SRC=-).
        mapping = {k: (None if v in ("", "-") else v) for k, v in mapping.items()}
        unknown = [k for k in mapping if k not in df.columns]
        if unknown:
            raise IngestError(
                Msg(
                    "mapping_unknown",
                    unknown=_join_names([repr(u) for u in unknown]),
                    table=_table_name(table),
                    name=name,
                    found=_join_names(list(df.columns)),
                )
            )
        for c in df.columns:
            mapping.setdefault(c, None)
    by_canon: dict[str, str] = {}
    for src in df.columns:
        dst = mapping.get(src)
        if dst in canon_names:
            if dst in by_canon:
                raise IngestError(
                    Msg(
                        "mapped_twice",
                        table=_table_name(table),
                        name=name,
                        dst=dst,
                        a=by_canon[dst],
                        b=src,
                    )
                )
            by_canon[dst] = src
    _check_required(table, schema, by_canon, name, list(df.columns))

    n = len(df)
    rows = raw.row_numbers if raw.row_numbers is not None else np.arange(2, n + 2)
    rej = _Rejects(n, rows)
    notes: list[str] = list(raw.notes)
    warnings: list[str] = list(raw.warnings)
    date_fmts: dict[str, str] = {}
    out: dict[str, Any] = {}
    decimals_used: set[str] = set()
    # The decimal separator other number columns of the file agree on, for ambiguous columns.
    decimal_hint = "," if raw.delimiter == ";" else None
    forced_dates = {k: v for k, v in (date_formats or {}).items() if v}

    for canon in canon_names:
        if canon not in by_canon:
            continue
        src = by_canon[canon]
        col = schema.column(canon)
        text = df[src]
        stripped = text.str.strip()
        if col.dtype == STRING:
            null = _null_mask(stripped, _NULLS_TEXT).to_numpy(dtype=bool)
            s = stripped.where(~null)
            n_trim = int(((stripped != text) & ~null).sum())
            if n_trim:
                notes.append(Msg("spaces_trimmed", n=n_trim, src=src))
            if canon in ID_COLUMNS or canon == "label":
                s = _integral_ids(s, src, notes)
            if canon in ID_COLUMNS:
                _warn_scientific_ids(s, src, warnings)
            s = _truncate(s, src, limits, notes, rows)
            if col.required:
                rej.add(null, src, text, "missing_value", Msg("kind_missing", canon=canon),
                        canon=canon, src=src)  # fmt: skip
            out[canon] = s
        elif col.dtype in (FLOAT, INT):
            null = _null_mask(stripped, _NULLS_VALUE).to_numpy(dtype=bool)
            s = stripped.where(~null)
            if not col.required:  # required: such rows are rejected as missing, with a reason
                _blank_note(text, src, notes)
            vals, bad, pct, info = _parse_numbers(
                s,
                allow_percent=canon == "discount",
                decimal_hint=decimal_hint,
                decimal=plan.decimals.get(canon) if plan else None,
            )
            if plan is not None and info.settled:
                plan.decimals.setdefault(canon, info.decimal)
            _number_notes(info, src, notes, warnings)
            if info.n_comma or info.decimal == "," and (~null).any():
                decimals_used.add(",")
                decimal_hint = decimal_hint or ","
            elif (~null).any():
                decimals_used.add(".")
            ref = _col_ref(src, canon)
            example = (
                Msg("ex_discount")
                if canon == "discount"
                else ("3" if col.dtype == INT else "12.50")
            )
            rej.add(bad, src, text, "not_number", Msg("kind_not_number", src=src),
                    ref=ref, example=example)  # fmt: skip
            if col.dtype == INT:
                frac = ~np.isnan(vals) & (vals != np.round(vals))
                rej.add(frac, src, text, "not_whole", Msg("kind_not_whole", src=src),
                        ref=ref)  # fmt: skip
                out[canon] = pd.array(np.where(frac, np.nan, vals), dtype="Float64").astype("Int64")
            else:
                out[canon] = vals
            if canon == "discount":
                out[canon] = _discount(vals, pct, bad, src, text, rej, notes, plan)
            if col.required:
                rej.add(null, src, text, "missing_value", Msg("kind_missing", canon=canon),
                        canon=canon, src=src)  # fmt: skip
        elif col.dtype == DATE:
            null = _null_mask(stripped, _NULLS_VALUE).to_numpy(dtype=bool)
            s = stripped.where(~null)
            if not col.required:  # required: such rows are rejected as missing, with a reason
                _blank_note(text, src, notes)
            vals, bad, info = _parse_dates(
                s,
                forced=forced_dates.get(canon),
                family=plan.date_families.get(canon) if plan else None,
            )
            if plan is not None and info.family is not None:
                plan.date_families.setdefault(canon, info.family)
            if info.family is None and (~null).any():
                examples = _examples(s.dropna().unique())
                if col.required:
                    raise IngestError(
                        Msg(
                            "dates_unknown_required",
                            table=_table_name(table),
                            name=name,
                            src=src,
                            canon=canon,
                            examples=examples,
                        )
                    )
                warnings.append(Msg("dates_unknown_extra", src=src, examples=examples, canon=canon))
                mapping[src] = None
                del by_canon[canon]
                continue
            if info.parse_rate < 0.5 and not forced_dates.get(canon) and (~null).any():
                raise IngestError(
                    Msg(
                        "dates_mostly_not",
                        table=_table_name(table),
                        name=name,
                        src=src,
                        canon=canon,
                        examples=_examples(s.dropna().unique()),
                    )
                )
            if info.label:
                date_fmts[canon] = info.label
            if info.warning:
                warnings.append(Msg("col_note", src=src, text=info.warning))
            if info.tz_note:
                notes.append(Msg("src_note", src=src, text=info.tz_note))
            if info.second:
                warnings.append(
                    Msg("mixed_date_formats", src=src, label=info.label, second=info.second)
                )
            fam = info.family
            expected = (
                Msg("date_expected", label=info.label or "?", example=fam.example)
                if fam and fam.example
                else str(info.label)
            )
            ref = _col_ref(src, canon)
            rej.add(bad, src, text, "bad_date", Msg("kind_bad_date", src=src),
                    ref=ref, expected=expected)  # fmt: skip
            if col.required:
                rej.add(null, src, text, "missing_value", Msg("kind_missing", canon=canon),
                        canon=canon, src=src)  # fmt: skip
            ok = ~np.isnat(vals)
            if ok.any():
                limit = np.datetime64(pd.Timestamp.now().normalize() + pd.Timedelta(days=2), "us")
                n_future = int((vals[ok] >= limit).sum())
                if n_future:
                    latest = pd.Timestamp(vals[ok].max())
                    warnings.append(
                        Msg("future_dates", n=n_future, src=src, ex_latest=f"{latest:%Y-%m-%d}")
                    )
                n_old = int((vals[ok] < np.datetime64("1900-01-01", "us")).sum())
                if n_old:
                    warnings.append(Msg("old_dates", n=n_old, src=src))
            out[canon] = vals

    if table == "orders":
        _orders_rules(out, by_canon, df, rej, notes, warnings, n)
    elif table == "reviews" and "rating" in out:
        r = out["rating"]
        odd = ~np.isnan(r) & ((r < 0) | (r > 10))
        if odd.any():
            warnings.append(Msg("ratings_out", n=int(odd.sum())))

    # Duplicate keys (customers, products): later duplicates rejected, naming the first row.
    for key in schema.key:
        if key in out:
            seen = plan.seen_keys.setdefault(key, {}) if plan is not None else None
            _reject_duplicates(out[key], by_canon[key], key, rej, seen)

    keep = ~rej.mask
    keep_idx = np.flatnonzero(keep)
    all_kept = len(keep_idx) == n

    def kept(v: Any) -> Any:
        if isinstance(v, pd.Series):
            return (v if all_kept else v.iloc[keep_idx]).reset_index(drop=True)
        return v if all_kept else v[keep_idx]

    data = pd.DataFrame(index=pd.RangeIndex(len(keep_idx)))
    for canon in canon_names:
        if canon not in out:
            continue
        v = kept(out[canon])
        dtype = schema.column(canon).dtype
        if dtype == STRING:
            data[canon] = v.astype("str") if isinstance(v, pd.Series) else _str_series(v)
        elif dtype == DATE:
            data[canon] = pd.Series(v, dtype="datetime64[us]")
        elif dtype == INT:
            data[canon] = pd.array(v, dtype="Int64")
        else:
            data[canon] = pd.Series(v, dtype="float64")

    # Extra columns: kept, snake_cased, de-duplicated.
    final_map: dict[str, str] = {src: canon for canon, src in by_canon.items()}
    extras = [c for c in df.columns if c not in final_map]
    taken = set(data.columns) | set(canon_names)
    extra_names = []
    for src in extras:
        want = mapping.get(src)
        base = to_snake_case(want if want and want not in canon_names else src)
        if base in taken:
            base = f"{base}_extra"
        extra_names.append(base)
    extra_names = _dedupe_names(extra_names, taken)
    renamed = []
    extra_cols: dict[str, Any] = {}  # joined at once: inserting thousands one by one is slow
    for src, nm in zip(extras, extra_names, strict=True):
        final_map[src] = nm
        s = df[src]
        s = s.where(s != "")
        s = _truncate(s, src, limits, notes, rows)
        numeric, n_blank = False, 0
        if plan is None:
            # Cells of only spaces (a spreadsheet's "no value", e.g. 11 blank TotalCharges)
            # do not make a column of numbers text: they are missing, and the note says so.
            blank = _blank_cells(s)
            n_blank = int(blank.sum())
            as_numbers, numeric = _maybe_numeric(s.where(~blank) if n_blank else s)
            if numeric:
                s = as_numbers
        if numeric:
            notes.append(Msg("extra_numeric", src=src))
            if n_blank:
                notes.append(Msg("extra_blank_missing", src=src, n=n_blank))
        extra_cols[nm] = kept(s) if numeric else kept(s.astype("str"))
        if nm != to_snake_case(src) or to_snake_case(src) != src:
            renamed.append(f"'{src}' → '{nm}'")
    if extra_cols:
        data = pd.concat([data, pd.DataFrame(extra_cols, index=data.index)], axis=1)
    if extras:
        if renamed:
            shown = ", ".join(renamed[:8]) + (", …" if len(renamed) > 8 else "")
            notes.append(Msg("extras_kept_renamed", cols=len(extras), renamed=shown))
        else:
            notes.append(Msg("extras_kept", cols=len(extras)))

    # Warnings about what was kept (over the whole table: with a plan, the caller's job).
    if plan is None and len(data):
        empty = [c for c in data.columns if data[c].isna().all()]
        warnings.extend(_empty_column_warnings(empty, final_map))
        if "label" in data.columns:
            warnings.extend(_label_warnings(data["label"].dropna().unique()[:2], by_canon))
        if table == "orders":
            warnings.extend(_identical_lines_warnings(int(data.duplicated(keep="first").sum())))

    # Rejected rows: the raw text, with row number, column and reason.
    bad_idx = np.flatnonzero(~keep)
    parts = []
    reader_i18n = None  # the reader's reasons, structured (JSON text)
    if len(bad_idx):
        part = df.iloc[bad_idx].reset_index(drop=True).copy()
        part["_row"] = rows[bad_idx]
        part["_column"] = pd.Series(rej.column[bad_idx], dtype="str")
        part["_reason"] = pd.Series(rej.reason[bad_idx], dtype="str")
        parts.append(part)
    if raw.rejected is not None and len(raw.rejected):
        reader_rej = raw.rejected
        if _REASON_I18N in reader_rej.columns:
            reader_i18n = reader_rej[_REASON_I18N].to_numpy(dtype=object)
            reader_rej = reader_rej.drop(columns=_REASON_I18N)
        parts.append(reader_rej)
    origin = np.zeros(0, dtype=np.int64)  # row of `rejected` → its row in `parts`, end to end
    if parts:
        rejected = pd.concat(parts, ignore_index=True)
        rejected = rejected.sort_values("_row", kind="stable")
        origin = rejected.index.to_numpy()
        rejected = rejected.reset_index(drop=True)
        rejected["_row"] = rejected["_row"].astype("int64")
        for c in rejected.columns:
            if c != "_row":
                rejected[c] = rejected[c].astype("str").where(rejected[c].notna(), None)
    else:
        rejected = pd.DataFrame(
            {
                **{c: pd.Series(dtype="str") for c in df.columns},
                "_row": pd.Series(dtype="int64"),
                "_column": pd.Series(dtype="str"),
                "_reason": pd.Series(dtype="str"),
            }  # fmt: skip
        )

    def reason_of(i: int) -> str:
        """The reason of `rejected`'s row i as a `Msg` (the English text if it has none)."""
        o = int(origin[i])
        if o < len(bad_idx):
            return rej.message(int(bad_idx[o]))
        stored = reader_i18n[o - len(bad_idx)] if reader_i18n is not None else None
        if isinstance(stored, str):
            try:
                return from_json(json.loads(stored))
            except (KeyError, ValueError, TypeError, IndexError):
                pass
        return str(rejected["_reason"].iat[i])

    rejections = []
    head = rejected.head(limits.max_report_rejections)
    for i in range(len(head)):
        col = _none_if_na(head["_column"].iat[i])
        val = None
        if col is not None and col in head.columns:
            val = _none_if_na(head[col].iat[i])
        elif "_raw_line" in head.columns:
            val = _none_if_na(head["_raw_line"].iat[i])
        rejections.append(
            Rejection(
                row=int(head["_row"].iat[i]),
                column=col,
                value=val,
                reason=reason_of(i),
            )
        )
    # Summary of why rows were rejected (the reader has already warned about its own).
    for kind, cnt in rej.kinds.most_common():
        warnings.append(Msg("rows_rejected", n=cnt, kind=kind))
    if len(data) == 0 and len(rejected) and plan is None:
        first = rejections[0].reason if rejections else reason_of(0)
        warnings.insert(0, _no_usable_rows_warning(name, len(rejected), first))

    report = TableReport(
        file=name,
        table=table,
        rows_read=n + raw.n_rejected,
        rows_kept=len(data),
        rows_rejected=len(rejected),
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        decimal=("," if "," in decimals_used else "." if decimals_used else None),
        mapping={c: final_map[c] for c in df.columns},
        date_formats=date_fmts,
        notes=notes,
        warnings=warnings,
        rejections=rejections,
        format=raw.format,
        sheet=raw.sheet,
    )
    return IngestResult(table=table, data=data, rejected=rejected, report=report)


def ingest_file(
    path: str | Path | bytes,
    table: str | None = None,
    mapping: dict[str, str | None] | None = None,
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
    limits: IngestLimits | None = None,
    date_formats: dict[str, str] | None = None,
) -> IngestResult:
    """`read_raw` + `ingest`."""
    raw = read_raw(path, filename, sheet=sheet, limits=limits)
    return ingest(raw, table, mapping, limits=limits, date_formats=date_formats)


# --------------------------------------------------------------------- ingest helpers
def _empty_column_warnings(empty: list[str], final_map: dict[str, str]) -> list[str]:
    out = []
    for c in empty:
        src = next((s for s, d in final_map.items() if d == c), c)
        out.append(Msg("column_empty", src=src))
    return out


def _label_warnings(values: Any, by_canon: dict[str, str]) -> list[str]:
    """`values`: up to two distinct labels of the kept rows."""
    if len(values) != 1:
        return []
    return [Msg("label_single", src=by_canon["label"], value=_q(values[0]))]


def _identical_lines_warnings(n_dup: int) -> list[str]:
    if not n_dup:
        return []
    return [Msg("identical_lines", n=n_dup)]


def _no_usable_rows_warning(name: str, n_rejected: int, first_reason: str) -> Msg:
    return Msg("no_usable_rows", name=name, n=n_rejected, first=first_reason)


def _check_required(
    table: str, schema: TableSchema, by_canon: dict[str, str], name: str, found: list[str]
) -> None:
    missing = [c for c in schema.required if c not in by_canon]
    parts: list[Msg] = []
    for c in missing:
        parts.append(Msg("need_col_an" if _HUMAN[c][0] in "aeiou" else "need_col_a", canon=c))
    if table == "orders" and "amount" not in by_canon and "unit_price" not in by_canon:
        parts.append(Msg("need_amount"))
    if parts:
        need = parts[0]
        for p in parts[1:-1]:
            need = Msg("list_pair", a=need, b=p)
        if len(parts) > 1:
            need = Msg("list_and", a=need, b=parts[-1])
        raise IngestError(
            Msg(
                "missing_required_one" if len(parts) == 1 else "missing_required_many",
                table=_table_name(table),
                name=name,
                need=need,
                found=_join_names(found),
            )
        )


_ID_FLOAT = r"-?\d+(?:\.0+)?"


def _integral_ids(s: pd.Series, src: str, notes: list[str]) -> pd.Series:
    """IDs written as floats ('17850.0') lose the '.0' when the whole column is integral."""
    codes, u = _by_uniques(s)
    if not len(u) or not u.str.fullmatch(_ID_FLOAT).all():
        return s
    dotted_u = u.str.contains(".", regex=False).to_numpy(dtype=bool)
    if not dotted_u.any():
        return s
    fixed = u.str.replace(r"\.0+$", "", regex=True)
    first = int(np.flatnonzero(dotted_u)[0])
    n_changed = int(dotted_u[codes[codes >= 0]].sum())
    notes.append(
        Msg(
            "ids_made_whole",
            src=src,
            ex=_q(u.iloc[first]),
            ex_fixed=_q(fixed.iloc[first]),
            n=n_changed,
        )
    )
    return _from_uniques(codes, fixed, s.index)


_SCIENTIFIC = r"[+-]?\d(?:\.\d+)?[eE][+-]?\d+"


def _warn_scientific_ids(s: pd.Series, src: str, warnings: list[str]) -> None:
    """IDs like '1.23457E+11' are what Excel shows for long numbers: digits are lost."""
    sci = s.str.fullmatch(_SCIENTIFIC).fillna(False).to_numpy(dtype=bool)
    if sci.any():
        warnings.append(Msg("ids_scientific", src=src, n=int(sci.sum()), ex=_q(s[sci].iloc[0])))


def _from_uniques(codes: np.ndarray, u: pd.Series, index: pd.Index) -> pd.Series:
    """Broadcast per-unique results back to rows (code -1 → missing)."""
    take = np.where(codes < 0, len(u), codes)
    ext = pd.concat([u, pd.Series([None], dtype=u.dtype)], ignore_index=True)
    out = ext.iloc[take]
    out.index = index
    return out


def _none_if_na(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return str(v)


def _truncate(
    s: pd.Series,
    src: str,
    limits: IngestLimits,
    notes: list[str],
    rows: np.ndarray | None = None,
) -> pd.Series:
    if not len(s) or not pd.api.types.is_string_dtype(s.dtype):
        return s
    lens = s.str.len()
    long = (lens > limits.max_text_chars).fillna(False).to_numpy(dtype=bool)
    if long.any():
        s = s.where(~long, s.str.slice(0, limits.max_text_chars))
        values = {"n": int(long.sum()), "src": src, "limit": limits.max_text_chars}
        if rows is not None and len(rows) == len(s):
            first = str(int(rows[np.flatnonzero(long)[0]]))
            notes.append(Msg("truncated_row", **values, ex_row=first))
        else:
            notes.append(Msg("truncated", **values))
    return s


def _number_notes(info: _NumInfo, src: str, notes: list[str], warnings: list[str]) -> None:
    if info.n_comma:
        notes.append(
            Msg(
                "decimal_comma",
                src=src,
                n=info.n_comma,
                ex=_q(info.examples["comma"]),
                ex_value=info.examples["comma_value"],
            )
        )
    if info.n_currency:
        notes.append(
            Msg("currency_removed", n=info.n_currency, src=src, ex=_q(info.examples["currency"]))
        )
    if info.n_thousands:
        sep = "." if info.decimal == "," else ","
        notes.append(Msg("thousands_removed", sep=sep, n=info.n_thousands, src=src))
    if info.n_paren:
        notes.append(Msg("parens_negative", n=info.n_paren, src=src, ex=_q(info.examples["paren"])))
    if info.currencies:
        warnings.append(Msg("mixed_currencies", src=src, currencies=", ".join(info.currencies)))
    if info.mixed:
        other = "." if info.decimal == "," else ","
        warnings.append(Msg("mixed_decimals", src=src, decimal=info.decimal, other=other))
    if info.ambiguous:
        warnings.append(
            Msg("ambiguous_decimal", src=src, ex=_examples(info.ambiguous), decimal=info.decimal)
        )


def _discount(
    vals: np.ndarray,
    pct: np.ndarray,
    bad: np.ndarray,
    src: str,
    text: pd.Series,
    rej: _Rejects,
    notes: list[str],
    plan: IngestPlan | None = None,
) -> np.ndarray:
    vals = vals.copy()
    if pct.any():
        vals[pct] = vals[pct] / 100
        notes.append(Msg("discount_percent_sign", n=int(pct.sum())))
    rest = ~pct & ~np.isnan(vals)
    if rest.any():
        mx = float(np.nanmax(vals[rest]))
        percent = 1 < mx <= 100 and bool((vals[rest] >= 0).all())
        if plan is not None:
            if plan.discount_percent is None:
                plan.discount_percent = percent
            percent = plan.discount_percent
        if percent:
            vals[rest] = vals[rest] / 100
            notes.append(
                Msg("discount_percent_scale", src=src, ex_max=f"{mx:g}", n=int(rest.sum()))
            )
    out_of_range = ~np.isnan(vals) & ((vals < 0) | (vals > 1)) & ~bad
    rej.add(out_of_range, src, text, "discount_range", Msg("kind_discount_range", src=src),
            src=src)  # fmt: skip
    return vals


def _orders_rules(
    out: dict[str, Any],
    by_canon: dict[str, str],
    df: pd.DataFrame,
    rej: _Rejects,
    notes: list[str],
    warnings: list[str],
    n: int,
) -> None:
    if "quantity" not in out:
        out["quantity"] = np.ones(n)
        if n:
            notes.append(Msg("no_quantity", n=n))
    q = out["quantity"]
    disc = out.get("discount")
    d = np.nan_to_num(disc, nan=0.0) if disc is not None else np.zeros(n)
    formula = (
        "quantity × unit_price × (1 − discount)" if disc is not None else "quantity × unit_price"
    )
    if "amount" not in out:
        p = out["unit_price"]
        amount = q * p * (1 - d)
        can = ~np.isnan(amount) & ~rej.mask
        out["amount"] = amount
        if can.any():
            notes.append(Msg("amount_derived", formula=formula, n=int(can.sum())))
        missing = np.isnan(amount) & ~rej.mask
        src_p = by_canon["unit_price"]
        rej.add(missing, src_p, df[src_p], "amount_missing",
                Msg("kind_amount_missing"))  # fmt: skip
    else:
        a = out["amount"]
        blank = np.isnan(a) & ~rej.mask
        if blank.any() and "unit_price" in out:
            derived = q * out["unit_price"] * (1 - d)
            fill = blank & ~np.isnan(derived)
            if fill.any():
                a = a.copy()
                a[fill] = derived[fill]
                out["amount"] = a
                notes.append(Msg("amount_filled", formula=formula, n=int(fill.sum())))
            blank = blank & ~fill
        if blank.any():
            warnings.append(Msg("lines_without_amount", n=int(blank.sum())))
    q, a = out["quantity"], out["amount"]
    live = ~rej.mask
    neg = live & (((~np.isnan(q)) & (q < 0)) | ((~np.isnan(a)) & (a < 0)))
    if neg.any():
        notes.append(Msg("returns_negative", n=int(neg.sum())))
    if "order_id" in out:
        oid = out["order_id"]
        canc = oid.str.fullmatch(r"[Cc]\d+").fillna(False).to_numpy(dtype=bool) & live
        if canc.any() and oid.str.fullmatch(r"\d+").fillna(False).any():
            example = oid[canc].iloc[0]
            notes.append(Msg("cancellations", n=int(canc.sum()), ex=_q(example)))
            pos = canc & ~np.isnan(q) & (q > 0)
            if pos.any():
                warnings.append(Msg("cancellations_positive", n=int(pos.sum())))
    zero_q = live & ~np.isnan(q) & (q == 0)
    if zero_q.any():
        warnings.append(Msg("zero_quantity", n=int(zero_q.sum())))
    if "unit_price" in out:
        p = out["unit_price"]
        zero = live & ~np.isnan(p) & (p == 0)
        if zero.any():
            warnings.append(Msg("zero_price", n=int(zero.sum())))
        negp = live & ~np.isnan(p) & (p < 0)
        if negp.any():
            warnings.append(Msg("negative_price", n=int(negp.sum())))


def _reject_duplicates(
    s: pd.Series, src: str, key: str, rej: _Rejects, seen: dict[str, int] | None = None
) -> None:
    """Later rows repeating a key are rejected, naming the row that has it first. `seen`
    (key → first row) carries the keys of earlier chunks of the same file, and is updated."""
    live = ~rej.mask & s.notna().to_numpy()
    if seen:
        before = np.zeros(len(s), dtype=bool)
        live_idx = np.flatnonzero(live)
        firsts = s.iloc[live_idx].map(seen)
        hit = firsts.notna().to_numpy()
        if hit.any():
            before[live_idx[hit]] = True
            rej.add(before, src, s, "duplicate_key", Msg("kind_duplicate", key=key),
                    extra=firsts.to_numpy()[hit].astype(np.int64), key=key)  # fmt: skip
            live &= ~before
    if seen is not None and live.any():
        live_idx = np.flatnonzero(live)
        sub = s.iloc[live_idx]
        first = ~sub.duplicated(keep="first").to_numpy()
        seen.update(
            zip(sub.to_numpy()[first].tolist(), rej.rows[live_idx[first]].tolist(), strict=True)
        )
    if not live.any():
        return
    live_idx = np.flatnonzero(live)
    sub = s.iloc[live_idx].reset_index(drop=True)
    dup = sub.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    codes, _ = pd.factorize(sub)
    first_of_code = np.full(codes.max() + 1, -1, dtype=np.int64)
    firsts = np.flatnonzero(~dup)
    first_of_code[codes[firsts]] = rej.rows[live_idx[firsts]]
    mask = np.zeros(len(s), dtype=bool)
    mask[live_idx[dup]] = True
    rej.add(mask, src, s, "duplicate_key", Msg("kind_duplicate", key=key),
            extra=first_of_code[codes[dup]], key=key)  # fmt: skip


_LEADING_ZERO = re.compile(r"[+-]?0\d+.*", flags=re.DOTALL)


def _blank_note(text: pd.Series, src: str, notes: list[str]) -> None:
    n_blank = int(_blank_cells(text).sum())
    if n_blank:
        notes.append(Msg("blank_missing", src=src, n=n_blank))


def _blank_cells(s: pd.Series) -> np.ndarray:
    """Cells holding only whitespace (not empty: those are missing already)."""
    if not len(s):
        return np.zeros(0, dtype=bool)
    return s.str.fullmatch(r"\s+").fillna(False).to_numpy(dtype=bool)


def _maybe_numeric(s: pd.Series) -> tuple[pd.Series, bool]:
    """Extra columns that hold only plain numbers (no leading zeros) become float64."""
    v = s.dropna()
    if not len(v):
        return s, False
    uniques = v.unique()
    if len(uniques) <= 1_000:
        # Few distinct values (wide files have thousands of such columns): plain Python
        # regexes beat a vectorised call's fixed cost.
        texts = [str(x).strip() for x in uniques]
        if not all(_PLAIN_NUM.fullmatch(x) for x in texts):
            return s, False
        if any(_LEADING_ZERO.fullmatch(x) for x in texts):
            return s, False  # zip codes, phone numbers: keep as text
        return pd.to_numeric(s.str.strip(), errors="coerce").astype("float64"), True
    stripped = v.str.strip()
    if not stripped.str.fullmatch(_PLAIN_NUM.pattern).all():
        return s, False
    if stripped.str.fullmatch(_LEADING_ZERO.pattern).any():
        return s, False  # zip codes, phone numbers: keep as text
    return pd.to_numeric(s.str.strip(), errors="coerce").astype("float64"), True
