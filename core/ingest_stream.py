"""Ingest a large CSV / TSV file in chunks, straight to canonical Parquet, in bounded memory.

`ingest_file_streaming` reads the file block by block (64 MB by default), cuts each block at
a record boundary (a quoted value spanning lines is carried whole into the next chunk), and
runs the same `core.ingest.ingest` on every chunk. Whatever `ingest` decides from the values
(the table, the column mapping, each number column's decimal mark, each date column's
format, whether discounts are percentages) is decided on the first chunk that settles it and
held fixed in an `IngestPlan`, so chunks cannot disagree. Checks over the whole table (keys
repeated across chunks, columns empty in every kept row, a one-valued label, identical order
lines, "no usable rows") are done across chunks: duplicate keys with a running key → first
row map, identical order lines with DuckDB over the written Parquet.

Memory: about `chunk_bytes` × 6 for the chunk being converted, plus the running key map of a
customers / products file (one entry per distinct key). Row numbers in rejections are the
file's own line numbers; the report's counts are exact sums over the chunks, its notes and
warnings merged (counts summed, first example kept).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.ingest import (
    _LINE_BREAK,
    _WHITESPACE,
    MB,
    IngestError,
    IngestLimits,
    IngestPlan,
    RawTable,
    Rejection,
    TableReport,
    _blank_cells,
    _check_unclosed_quote,
    _decode,
    _delimited_layout,
    _empty_column_warnings,
    _format_from_extension,
    _format_from_magic,
    _identical_lines_warnings,
    _label_warnings,
    _maybe_numeric,
    _no_usable_rows_warning,
    _one_column_warning,
    _parse_delimiter,
    _parse_fast,
    _parse_slow,
    _plural,
    _ragged_warning,
    _separated_note,
    _too_big,
    _unclosed_last_record,
    _whitespace_to_tabs,
    guess_mapping,
    guess_table,
    ingest,
)
from core.ingest_text import Msg, merge_key, merged
from core.schema import schema_for

__all__ = ["StreamedTable", "ingest_file_streaming", "merge_messages"]

Progress = Callable[[str, float], None]
_REJ_COLS = ("_row", "_column", "_reason", "_raw_line")


@dataclass
class StreamedTable:
    """One file ingested to Parquet: where the kept rows and the rejected rows are."""

    table: str
    report: TableReport
    data_path: Path
    rejected_path: Path | None  # None when no row was rejected

    @property
    def rows(self) -> int:
        return self.report.rows_kept


def ingest_file_streaming(
    path: str | Path,
    table: str | None,
    out_path: str | Path,
    mapping: dict[str, str | None] | None = None,
    *,
    limits: IngestLimits | None = None,
    date_formats: dict[str, str] | None = None,
    chunk_bytes: int = 64 * MB,
    rejected_path: str | Path | None = None,
    progress: Progress | None = None,
    mapping_overrides: dict[str, str | None] | None = None,
) -> StreamedTable:
    """Ingest a delimited text file (.csv / .tsv / .txt / .tab, perhaps gzip-compressed) as
    canonical `table` (guessed from the first chunk when None), writing the kept rows to
    `out_path` and the rejected ones (raw text + `_row`, `_column`, `_reason`) to
    `rejected_path` (default: `<out_path stem>.rejected.parquet` beside it). Both are
    written to a temporary sibling and renamed into place at the end. `mapping` (source →
    canonical) defaults to the one guessed from the first chunk, with `mapping_overrides`
    applied to it (the CLI's --map)."""
    limits = limits or IngestLimits.from_env()
    path, out_path = Path(path), Path(out_path)
    if rejected_path is None:
        rejected_path = out_path.with_name(out_path.stem + ".rejected.parquet")
    rejected_path = Path(rejected_path)
    name = path.name
    size = _check_file(path, name, limits)
    reader = _ChunkReader(path, name, size, limits, chunk_bytes)
    state = _StreamState(name, table, mapping, limits, date_formats)
    state.overrides = dict(mapping_overrides or {})
    out_path.parent.mkdir(parents=True, exist_ok=True)
    rejected_path.parent.mkdir(parents=True, exist_ok=True)
    data_tmp = _tmp_sibling(out_path)
    rej_tmp = _tmp_sibling(rejected_path)
    try:
        for chunk in reader:
            state.add(chunk, data_tmp, rej_tmp)
            if progress is not None:
                progress(
                    Msg(
                        "stream_progress",
                        name=name,
                        done=reader.bytes_read / MB,
                        size=size / MB,
                        rows=state.rows_read,
                    ),
                    min(1.0, reader.bytes_read / max(1, size)),
                )
        report = state.finish(data_tmp, rej_tmp, reader)
        os.replace(data_tmp, out_path)
        if report.rows_rejected:
            os.replace(rej_tmp, rejected_path)
        else:
            rej_tmp.unlink(missing_ok=True)
            rejected_path.unlink(missing_ok=True)  # a stale file from an earlier run
    except BaseException:
        state.close()
        data_tmp.unlink(missing_ok=True)
        rej_tmp.unlink(missing_ok=True)
        raise
    return StreamedTable(
        table=state.table or "",
        report=report,
        data_path=out_path,
        rejected_path=rejected_path if report.rows_rejected else None,
    )


def _tmp_sibling(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def _check_file(path: Path, name: str, limits: IngestLimits) -> int:
    """The file's size, refused from its stat alone (before anything is read) when too big."""
    if not path.exists():
        raise IngestError(Msg("file_missing", name=name, path=str(path)))
    if path.is_dir():
        raise IngestError(Msg("is_folder", name=name))
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise IngestError(_too_big(name, size, limits.max_bytes))
    if size == 0:
        raise IngestError(Msg("file_empty", name=name))
    return size


# --------------------------------------------------------------------------- reading
@dataclass
class _Chunk:
    """Whole records of the file, parsed to text columns (the first chunk had the header)."""

    line_offset: int  # physical lines of the file before `text`
    header_lines: int  # lines of `text` before the first data record (first chunk only)
    delimiter: str
    columns: list[str]
    encoding: str
    df: pd.DataFrame
    rows: np.ndarray
    rejected: pd.DataFrame | None
    notes: list[str]  # the reader's (first chunk only); `Msg`s
    warnings: list[str]


class _ChunkReader:
    """Yields the file as `_Chunk`s of whole records, each parsed to text columns."""

    def __init__(
        self, path: Path, name: str, size: int, limits: IngestLimits, chunk_bytes: int
    ) -> None:
        self.path, self.name, self.size, self.limits = path, name, size, limits
        self.chunk_bytes = max(1024, int(chunk_bytes))
        self.bytes_read = 0  # of the file on disk (compressed, for a .gz)
        self.n_decoded = 0  # bytes of text, after decompression
        self.gzip = False

    def _open(self) -> Any:
        with open(self.path, "rb") as fh:
            head = fh.read(8)
        lower = self.name.lower()
        if lower.endswith(".gz") or head[:2] == b"\x1f\x8b":
            lower = lower[:-3] if lower.endswith(".gz") else lower
            self.gzip = True
            with gzip.open(self.path, "rb") as gz:
                head = gz.read(8)
        ext = Path(lower).suffix
        magic = _format_from_magic(head)
        if _format_from_extension(ext) != "csv" or magic is not None:
            if magic in ("excel", "parquet"):
                kind = Msg(f"kind_{magic}")
            else:
                kind = Msg("kind_ext", ext=ext or Msg("no_extension"))
            raise IngestError(Msg("stream_not_text", name=self.name, kind=kind))
        return gzip.open(self.path, "rb") if self.gzip else open(self.path, "rb")  # noqa: SIM115

    def _read(self, fh: Any, raw: Any) -> bytes:
        block = fh.read(self.chunk_bytes)
        self.n_decoded += len(block)
        self.bytes_read = raw.tell() if self.gzip else self.n_decoded
        if self.n_decoded > self.limits.max_bytes:  # only a .gz gets here: its stat was fine
            raise IngestError(
                _too_big(self.name, self.n_decoded, self.limits.max_bytes, unzipped=True)
            )
        return block

    def __iter__(self) -> Any:
        fh = self._open()
        raw = fh.fileobj if self.gzip else fh
        try:
            yield from self._chunks(fh, raw)
        finally:
            fh.close()

    def _chunks(self, fh: Any, raw: Any) -> Any:
        pending = b""  # bytes after the last line break read so far
        carry = ""  # text of a record left open at the end of the previous chunk
        encoding: str | None = None
        layout: tuple[str, int, list[str]] | None = None
        reader_notes: list[str] = []
        reader_warnings: list[str] = []
        line_offset = 0
        eof = False
        while not eof:
            block = self._read(fh, raw)
            eof = not block
            buf = pending + block
            if not eof:
                cut = buf.rfind(b"\n")
                if cut < 0:
                    pending = buf  # a line longer than a block: read on
                    continue
                piece, pending = buf[: cut + 1], buf[cut + 1 :]
            else:
                piece, pending = buf, b""
            if encoding is None:
                if not piece.strip():
                    if eof:
                        raise IngestError(Msg("only_blank", name=self.name))
                    pending = piece + pending
                    continue
                text, encoding = self._detect(piece, reader_notes, reader_warnings)
            else:
                text = self._decode(piece, encoding, line_offset + _count_lines(carry))
            text = carry + text
            carry = ""
            if not text:
                continue
            first = layout is None
            if first:
                notes: list[str] = []
                found = _delimited_layout(text, self.name, "." + self._ext(), self.limits, notes)
                header_lines = found[1]
            else:
                header_lines = 0
            delim, _, columns = found if first else layout  # type: ignore[misc]
            if delim == _WHITESPACE:  # as `read_raw` reads it (idempotent: carry is rewritten)
                text = _whitespace_to_tabs(text)
            sep = _parse_delimiter(delim)
            df, rows, rejected = self._parse(text, sep, columns, header_lines, line_offset)
            if eof:
                _check_unclosed_quote(
                    text, df, rows, rejected, sep, columns, self.name, line_offset
                )
            else:
                open_at = _unclosed_last_record(text, df, rows, rejected, sep, columns, line_offset)
                if open_at is not None:
                    # The last record goes on in the next block: keep it for the next chunk.
                    keep = _line_start(text, open_at[0] - line_offset - 1)
                    if keep <= _line_start(text, header_lines):
                        carry = text  # no whole record yet: read more first
                        continue
                    carry, text = text[keep:], text[:keep]
                    df, rows, rejected = self._parse(text, sep, columns, header_lines, line_offset)
            if first:
                layout = found
                reader_notes += notes
                if delim != ",":
                    reader_notes.append(_separated_note(delim))
            warnings = [*reader_warnings, *_one_column_warning(self.name, columns)] if first else []
            if rejected is not None and len(rejected):
                warnings.append(_ragged_warning(len(rejected), len(columns)))
            yield _Chunk(
                line_offset=line_offset,
                header_lines=header_lines,
                delimiter=delim,
                columns=columns,
                encoding=encoding,
                df=df,
                rows=rows,
                rejected=rejected,
                notes=reader_notes if first else [],
                warnings=warnings,
            )
            line_offset += _count_lines(text)
        if carry:  # cannot happen: the last block is parsed whole
            raise IngestError(Msg("stream_end_unreadable", name=self.name))

    def _parse(
        self, text: str, delim: str, columns: list[str], header_lines: int, line_offset: int
    ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame | None]:
        """As `read_raw` parses a whole file: pyarrow first, Python's csv module when the
        two disagree; rows numbered as lines of the file."""
        df, rows, rejected = _parse_fast(
            text.encode("utf-8"), text, delim, columns, header_lines, line_offset
        )
        if df is None:
            return _parse_slow(text, delim, columns, header_lines, self.name, line_offset)
        return df, rows, rejected

    def _ext(self) -> str:
        lower = self.name.lower()
        lower = lower[:-3] if lower.endswith(".gz") else lower
        return Path(lower).suffix.lstrip(".")

    def _detect(self, piece: bytes, notes: list[str], warnings: list[str]) -> tuple[str, str]:
        """The encoding, from the first block (whole lines), as `read_raw` detects it."""
        head = piece[:65536]
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head.count(b"\x00") > len(head) // 8:
            raise IngestError(Msg("stream_utf16", name=self.name))
        text, encoding = _decode(piece, self.name, notes, warnings)
        if "+" in encoding:  # lines in two encodings (files pasted together)
            first, _, second = encoding.partition("+")
            raise IngestError(
                Msg("stream_mixed_encodings", name=self.name, first=first, second=second)
            )
        return text, encoding

    def _decode(self, piece: bytes, encoding: str, line_offset: int) -> str:
        enc = "utf-8" if encoding == "utf-8-sig" else encoding  # the marker was at the start
        try:
            return piece.decode(enc)
        except UnicodeDecodeError as exc:
            line = line_offset + piece[: exc.start].count(b"\n") + 1
            raise IngestError(
                Msg(
                    "stream_bad_line",
                    name=self.name,
                    line=str(line),
                    encoding=encoding,
                    reason=exc.reason,
                )
            ) from None


def _count_lines(text: str) -> int:
    """Line breaks in `text`, counted as the CSV reader counts them (\\r\\n, \\r or \\n)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _line_start(text: str, k: int) -> int:
    """Position in `text` where its line k+1 starts (after its k-th line break)."""
    if k <= 0:
        return 0
    for i, m in enumerate(_LINE_BREAK.finditer(text), start=1):
        if i == k:
            return m.end()
    return len(text)


# ------------------------------------------------------------------------- converting
class _StreamState:
    """What is carried from chunk to chunk: decisions, writers, counts, messages."""

    def __init__(
        self,
        name: str,
        table: str | None,
        mapping: dict[str, str | None] | None,
        limits: IngestLimits,
        date_formats: dict[str, str] | None,
    ) -> None:
        self.name, self.table, self.limits = name, table, limits
        self.mapping = dict(mapping) if mapping is not None else None
        self.date_formats = date_formats
        self.overrides: dict[str, str | None] = {}
        self.plan = IngestPlan()
        self.reports: list[TableReport] = []
        self.rows_read = 0
        self.rows_kept = 0
        self.rows_rejected = 0
        self.rejections: list[Rejection] = []
        self.first_reason: str | None = None  # a `Msg` when the chunk's report has it
        self.data_writer: Any = None
        self.data_schema: Any = None
        self.rej_writer: Any = None
        self.rej_schema: Any = None
        self.has_value: set[str] = set()
        self.labels: dict[str, None] = {}
        self.extras: dict[str, bool | None] = {}  # extra source column → numbers only so far
        self.extra_blanks: dict[str, int] = {}  # extra source column → cells of only spaces
        self.any_ragged = False
        self.last_line = 0

    # -- per chunk
    def add(self, chunk: _Chunk, data_tmp: Path, rej_tmp: Path) -> None:
        n = len(chunk.df) + (0 if chunk.rejected is None else len(chunk.rejected))
        self.rows_read += n
        if len(chunk.rows):
            self.last_line = max(self.last_line, int(chunk.rows[-1]))
        if self.rows_read > self.limits.max_rows:
            raise IngestError(
                Msg(
                    "stream_too_many_rows",
                    name=self.name,
                    limit=self.limits.max_rows,
                    rows=self.rows_read,
                    line=self.last_line,
                )
            )
        raw = RawTable(
            df=chunk.df,
            filename=self.name,
            format="csv",
            encoding=chunk.encoding,
            delimiter=chunk.delimiter,
            row_numbers=chunk.rows,
            rejected=chunk.rejected,
            notes=chunk.notes,
            warnings=chunk.warnings,
        )
        first = not self.reports
        if first:
            self.table = self.table or guess_table(chunk.df)
            if self.mapping is None:
                self.mapping = guess_mapping(chunk.df, self.table)
                self.mapping.update({k: v for k, v in self.overrides.items() if k in self.mapping})
        res = ingest(
            raw,
            self.table,
            dict(self.mapping or {}),
            limits=self.limits,
            date_formats=self.date_formats,
            plan=self.plan,
        )
        rep = res.report
        if first:
            self._settle_mapping(rep)
        self.reports.append(rep)
        self.rows_kept += len(res.data)
        self.rows_rejected += len(res.rejected)
        room = self.limits.max_report_rejections - len(self.rejections)
        if room > 0:
            self.rejections += rep.rejections[:room]
        if self.first_reason is None and len(res.rejected):
            self.first_reason = (
                rep.rejections[0].reason if rep.rejections else str(res.rejected["_reason"].iloc[0])
            )
        self._track_whole_table(chunk.df, res.data)
        self._write_data(res.data, data_tmp, chunk)
        if len(res.rejected):
            self._write_rejected(res.rejected, rej_tmp, list(chunk.df.columns))

    def _settle_mapping(self, rep: TableReport) -> None:
        """The mapping the first chunk ended with (a date column that held no dates became an
        extra column there), for every later chunk; and which columns are extras."""
        canon = set(schema_for(rep.table).column_names)
        mapping = dict(self.mapping or {})
        for src, final in rep.mapping.items():
            want = mapping.get(src)
            if want in ("", "-"):
                want = None
            if want in canon and final != want:
                want = None
            mapping[src] = want
            if final not in canon:
                self.extras[src] = None
        self.mapping = mapping

    def _track_whole_table(self, raw_df: pd.DataFrame, data: pd.DataFrame) -> None:
        for c in data.columns:
            if c not in self.has_value and data[c].notna().any():
                self.has_value.add(c)
        if "label" in data.columns and len(self.labels) < 2:
            for v in data["label"].dropna().unique()[:2]:
                self.labels.setdefault(v, None)
        for src, numeric in self.extras.items():
            if numeric is False:
                continue
            s = raw_df[src]
            s = s.where(s != "")
            blank = _blank_cells(s)  # missing, not text (as `ingest` decides for a whole file)
            if blank.any():
                self.extra_blanks[src] = self.extra_blanks.get(src, 0) + int(blank.sum())
                s = s.where(~blank)
            if s.notna().any():
                self.extras[src] = _maybe_numeric(s)[1]

    def _write_data(self, data: pd.DataFrame, tmp: Path, chunk: _Chunk) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = pa.Table.from_pandas(data, preserve_index=False)
        if self.data_writer is None:
            self.data_schema = _no_null_types(t.schema)
            self.data_writer = pq.ParquetWriter(tmp, self.data_schema, compression="zstd")
        try:
            t = t.cast(self.data_schema)
        except (ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise IngestError(
                Msg(
                    "stream_schema_drift",
                    name=self.name,
                    line=str(chunk.line_offset + 1),
                    error=str(exc),
                )
            ) from None
        self.data_writer.write_table(t)

    def _write_rejected(self, rejected: pd.DataFrame, tmp: Path, columns: list[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if "_raw_line" in rejected.columns and rejected["_raw_line"].notna().any():
            self.any_ragged = True
        frame = pd.DataFrame(
            {
                c: (
                    rejected[c].astype("str").where(rejected[c].notna(), None)
                    if c in rejected.columns
                    else pd.Series([None] * len(rejected), dtype="str")
                )
                for c in [*columns, "_column", "_reason", "_raw_line"]
            }
        )
        frame.insert(len(columns), "_row", rejected["_row"].astype("int64").to_numpy())
        frame = frame[[*columns, *_REJ_COLS]]
        t = pa.Table.from_pandas(frame, preserve_index=False)
        if self.rej_writer is None:
            self.rej_schema = _no_null_types(t.schema)
            self.rej_writer = pq.ParquetWriter(tmp, self.rej_schema, compression="zstd")
        self.rej_writer.write_table(t.cast(self.rej_schema))

    def close(self) -> None:
        for w in (self.data_writer, self.rej_writer):
            if w is not None:
                with contextlib.suppress(Exception):  # after a failure: the file goes anyway
                    w.close()
        self.data_writer = self.rej_writer = None

    # -- at the end
    def finish(self, data_tmp: Path, rej_tmp: Path, reader: _ChunkReader) -> TableReport:
        self.close()
        if not self.reports or self.rows_read == 0:
            raise IngestError(Msg("no_data_rows", name=self.name))
        first = self.reports[0]
        canon = set(schema_for(first.table).column_names)
        notes = merge_messages([r.notes for r in self.reports])
        warnings = merge_messages([r.warnings for r in self.reports])
        numeric = [src for src, ok in self.extras.items() if ok]
        if numeric:
            names = {src: first.mapping[src] for src in numeric}
            _rewrite_parquet(data_tmp, lambda df: _to_numbers(df, list(names.values())))
            at = next((i for i, n in enumerate(notes) if _is_extras_note(n)), len(notes))
            for src in numeric:
                notes.insert(at, Msg("extra_numeric", src=src))
                at += 1
                if self.extra_blanks.get(src):
                    notes.insert(at, Msg("extra_blank_missing", src=src, n=self.extra_blanks[src]))
                    at += 1
        if self.rows_rejected and not self.any_ragged:
            _rewrite_parquet(rej_tmp, lambda df: df.drop(columns="_raw_line"))
        # Whole-table checks, over every chunk.
        final_map = dict(first.mapping)
        if self.rows_kept:
            cols = [c for c in _parquet_columns(data_tmp) if c not in self.has_value]
            warnings += _empty_column_warnings(cols, final_map)
            by_canon = {d: s for s, d in final_map.items() if d in canon}
            warnings += _label_warnings(list(self.labels), by_canon)
            if first.table == "orders":
                warnings += _identical_lines_warnings(_count_identical_rows(data_tmp))
        elif self.rows_rejected:
            warnings.insert(
                0, _no_usable_rows_warning(self.name, self.rows_rejected, self.first_reason or "")
            )
        decimals = {r.decimal for r in self.reports if r.decimal}
        date_formats: dict[str, str] = {}
        for r in self.reports:
            for k, v in r.date_formats.items():
                date_formats.setdefault(k, v)
        notes.append(Msg("read_in_chunks", n=len(self.reports), mb=reader.chunk_bytes / MB))
        return TableReport(
            file=self.name,
            table=first.table,
            rows_read=self.rows_read,
            rows_kept=self.rows_kept,
            rows_rejected=self.rows_rejected,
            encoding=first.encoding,
            delimiter=first.delimiter,
            decimal="," if "," in decimals else "." if decimals else None,
            mapping=first.mapping,
            date_formats=date_formats,
            notes=notes,
            warnings=warnings,
            rejections=self.rejections,
            format=first.format,
            sheet=None,
        )


def _no_null_types(schema: Any) -> Any:
    """A column with no value in the first chunk gets Arrow's null type; make it text."""
    import pyarrow as pa

    for i, f in enumerate(schema):
        if pa.types.is_null(f.type):
            schema = schema.set(i, f.with_type(pa.large_string()))
    return schema


def _to_numbers(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.to_numeric(df[c].str.strip(), errors="coerce").astype("float64")
    return df


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def _rewrite_parquet(path: Path, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Apply `fn` to a Parquet file row group by row group (bounded memory), in place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = _tmp_sibling(path)
    writer = None
    schema = None
    try:
        src = pq.ParquetFile(path)
        for i in range(src.num_row_groups):
            df = fn(src.read_row_group(i).to_pandas())
            t = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                schema = _no_null_types(t.schema)
                writer = pq.ParquetWriter(out, schema, compression="zstd")
            writer.write_table(t.cast(schema))
        if writer is None:  # no row group at all
            df = fn(src.read().to_pandas())
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out, compression="zstd")
        else:
            writer.close()
            writer = None
        os.replace(out, path)
    finally:
        if writer is not None:
            writer.close()
        out.unlink(missing_ok=True)


def _count_identical_rows(path: Path) -> int:
    """Rows identical to an earlier row, over the whole file (DuckDB, spilling to disk)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = '1GB'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET temp_directory = '{_sql_str(str(path.parent / '.duckdb-tmp'))}'")
        total, distinct = con.execute(
            "SELECT (SELECT count(*) FROM read_parquet($p)), "
            "(SELECT count(*) FROM (SELECT DISTINCT * FROM read_parquet($p)))",
            {"p": str(path)},
        ).fetchone()
        return int(total) - int(distinct)
    finally:
        con.close()


def _sql_str(s: str) -> str:
    return s.replace("'", "''")


# --------------------------------------------------------------------------- messages
# A count in a message: "1,234 values", "3 order lines" (what `_plural` writes for rows).
_COUNT = re.compile(
    r"(?<![\w.,+-])(\d{1,3}(?:,\d{3})+|\d+) "
    r"(order line|cancellation line|value|row|line|cell|record|discount|rating)(s?)\b"
)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
# A quoted value after these is an example (differs from chunk to chunk), not a column name.
_EXAMPLE_BEFORE = ("e.g. ", "like ", "whole: ", "→ ", ", ", "first: ", "(")


def _message_key(msg: str) -> tuple[str, list[tuple[int, int, str, int]]]:
    """The message with its counts and examples blanked out, and its counts
    (start, end, noun, count)."""
    key: list[str] = []
    counts: list[tuple[int, int, str, int]] = []
    pos = 0

    def plain(seg: str, offset: int) -> None:
        last = 0
        for m in _COUNT.finditer(seg):
            key.append(re.sub(r"\d+", "~", seg[last : m.start()]))
            key.append(f"# {m[2]}")
            counts.append((offset + m.start(), offset + m.end(), m[2], int(m[1].replace(",", ""))))
            last = m.end()
        key.append(re.sub(r"\d+", "~", seg[last:]))

    for m in _QUOTED.finditer(msg):
        plain(msg[pos : m.start()], pos)
        before = msg[max(0, m.start() - 8) : m.start()]
        key.append("'…'" if before.endswith(_EXAMPLE_BEFORE) else m[0])
        pos = m.end()
    plain(msg[pos:], pos)
    return "".join(key), counts


def _is_extras_note(note: str) -> bool:
    if isinstance(note, Msg):
        return note.key in ("extras_kept", "extras_kept_renamed")
    return "kept as extra attributes" in note


def merge_messages(chunks: list[list[str]]) -> list[str]:
    """Notes or warnings of several chunks as one list: a message that differs only in its
    counts and examples appears once, with the counts summed and the first chunk's
    examples; the order is that of first appearance. A `Msg` is merged on its key and
    values (`core.ingest_text.merge_key`); plain text (written elsewhere) by blanking the
    counts and examples out of the English."""
    found: dict[Any, Any] = {}
    for msgs in chunks:
        for msg in msgs:
            if isinstance(msg, Msg):
                key = ("msg", merge_key(msg))
                found[key] = merged(found[key], msg) if key in found else msg
                continue
            text_key, counts = _message_key(msg)
            key = ("text", text_key)
            if key not in found:
                found[key] = (msg, counts, [c[3] for c in counts])
            else:
                first, spans, totals = found[key]
                found[key] = (
                    first,
                    spans,
                    [a + c[3] for a, c in zip(totals, counts, strict=True)],
                )
    out = []
    for entry in found.values():
        if isinstance(entry, Msg):
            out.append(entry)
            continue
        msg, spans, totals = entry
        for (start, end, noun, _), total in sorted(
            zip(spans, totals, strict=True), key=lambda x: -x[0][0]
        ):
            msg = msg[:start] + _plural(total, noun) + msg[end:]
        out.append(msg)
    return out
