"""Every message the ingest engine shows a user, in English and 简体中文.

A message is a `Msg`: a ``str`` holding the English text (so logs, the CLI, tests and stored
reports that treat messages as plain English keep working) that also carries its phrase
``key`` and the ``values`` it was filled with, so the interface can show it in the user's
language later::

    m = Msg("spaces_trimmed", n=3, src="Name")
    m                      # "surrounding spaces removed from 3 values in 'Name'"
    render(m, "zh")        # "已去除 'Name' 中 3 个值首尾的空格"

Templates use ``str.format`` fields with these rules (see `_Formatter`):

* a value that is a `Msg` (a sub-phrase: "an Excel workbook", "comma") is rendered in the
  same language;
* an int gets thousands separators (``1,234``); ``{n:row}`` writes the count with its noun,
  plural when needed (``1 row`` / ``2 rows``; ``{n:entry|entries}`` for irregular ones);
* ``{canon:human}`` writes a canonical column name the English way ("customer id");
* any other format spec is Python's (``{size:,.1f}``).

File names, column names and quoted values are passed as plain strings and never translated.
Value names carry meaning for merging the messages of several chunks (`merge_key`):
``n`` / ``n_*`` are counts of rows or values (summed; a count of columns is named otherwise), ``ex`` / ``ex_*`` are examples (the first one kept).

Stored form (JSON): ``[key, {name: value}]``, a sub-phrase the same way, nested.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from core.locale import Localized

__all__ = [
    "TEXT",
    "MessageError",
    "Msg",
    "from_json",
    "localize",
    "merge_key",
    "merged",
    "render",
    "to_json",
]

EN: dict[str, str] = {
    # ------------------------------------------------------------------ limits
    "limit_env_invalid": (
        "environment variable {var}={raw} is not a valid limit: expected {what}, e.g. "
        "{var}={example}"
    ),
    "what_mb": "a positive number of megabytes",
    "what_int": "a positive whole number",
    "limit_not_positive": "the limit {name} must be positive, not {value}",
    # ----------------------------------------------------------------- the file
    "file_missing": "file '{name}' does not exist ({path})",
    "is_folder": "'{name}' is a folder, not a file",
    "file_empty": "file '{name}' is empty (0 bytes); expected a table with a header row",
    "gzip_note": "file was gzip-compressed; decompressed",
    "empty_decompressed": "file '{name}' is empty once decompressed",
    "xls_old": (
        "'{name}' is an old Excel 97-2003 workbook (.xls), which can't be read; open it in "
        "Excel or LibreOffice and save it as .xlsx or CSV"
    ),
    "kind_excel": "an Excel workbook",
    "kind_parquet": "a Parquet file",
    "kind_ext": "a '{ext}' file",
    "no_extension": "(no extension)",
    "read_as_kind": "'{name}' has no known extension but is {what}; read as such",
    "misnamed": "'{name}' is named like a {ext} file but is {what}; read as such",
    "unsupported_type": "'{name}': unsupported file type '{ext}'; expected one of {exts}",
    "too_many_columns": "'{name}' has {cols} columns; at most {limit} are supported",
    "too_many_rows": (
        "'{name}' has {rows} rows; at most {limit} are supported (split the file or sample it)"
    ),
    "no_data_rows": "'{name}' has a header but no data rows",
    "no_data_rows_sheet": "sheet '{sheet}' of '{name}' has a header but no data rows",
    "too_big": (
        "'{name}' is {size:,.1f} MB; the limit is {limit:,.0f} MB (split the file, or save it "
        "as Parquet, which is smaller)"
    ),
    "too_big_unzipped": (
        "'{name}' is {size:,.1f} MB; the limit is {limit:,.0f} MB (split the file, or save it "
        "as Parquet, which is smaller) once decompressed"
    ),
    "bad_gzip": "'{name}' is not a valid gzip file: {error}",
    # ----------------------------------------------------------------- encoding
    "bom_removed": "UTF-8 byte-order mark removed",
    "bom_not_utf8": (
        "'{name}' starts with a UTF-8 marker but is not UTF-8; save the file again as UTF-8"
    ),
    "bom_line_not_utf8": (
        "'{name}' starts with a UTF-8 marker but line {line} is not UTF-8; save the file again "
        "as UTF-8"
    ),
    "mixed_encodings_one": (
        "'{name}' mixes encodings: {n:line} not UTF-8 (line {lines}) read as {encoding}; check "
        "the accents and characters on that line"
    ),
    "mixed_encodings_many": (
        "'{name}' mixes encodings: {n:line} not UTF-8 (line {lines}) read as {encoding}; check "
        "the accents and characters on those lines"
    ),
    "bom_invalid": (
        "'{name}' starts with a {enc} marker but is not valid {enc} (byte {byte}); save the "
        "file again as UTF-8"
    ),
    "binary": (
        "'{name}' does not look like a text table (it contains binary data); expected CSV / "
        "TSV text (UTF-8, GB18030 or Latin-1), an .xlsx workbook, Parquet or JSON"
    ),
    # ---------------------------------------------------------------------- CSV
    "ragged_rows": ("{n:row} with a different number of fields than the header ({width}) rejected"),
    "ragged_row": "row {row} has {fields} fields, header has {width}",
    "delim_comma": "comma",
    "delim_semicolon": "semicolon",
    "delim_tab": "tab",
    "delim_pipe": "pipe",
    "delim_whitespace": "whitespace",
    "separated": "{delim}-separated file",
    "one_column": (
        "'{name}' was read as a single column ({column}): no comma, semicolon, tab, pipe or run "
        "of spaces splits its lines into the same number of fields; check the file's separator "
        "(an orders or customers table has several columns)"
    ),
    "only_blank": "file '{name}' contains only blank lines; expected a header row",
    "header_unreadable": "'{name}': the header row can't be read: {error}",
    "no_header": "file '{name}' has no header row",
    "trailing_delim_rows": "data rows end with an extra delimiter; read as an empty last column",
    "trailing_delim_header": "the header ends with an extra delimiter; ignored",
    "line_unreadable": "'{name}' line {line} can't be read: {error} (an unclosed quote?)",
    "unclosed_quote": (
        "'{name}' line {start}: a quote opened is never closed, so lines {start}-{end} would "
        "be read as one value; close the quote (a quote inside a quoted value is written "
        'twice: "") and upload again'
    ),
    "unclosed_quote_col": (
        "'{name}' line {start}: a quote opened in column '{column}' is never closed, so lines "
        "{start}-{end} would be read as one value; close the quote (a quote inside a quoted "
        'value is written twice: "") and upload again'
    ),
    "unnamed_columns": "{cols:column} without a header named {names}",
    "dup_columns": "repeated column names made unique: {pairs}",
    "names_more": "{shown}, … ({more} more)",
    "no_columns": "(no columns)",
    # --------------------------------------------------------------------- JSON
    "json_blank": "file '{name}' contains only blank lines; expected JSON records",
    "json_invalid": "'{name}' is not valid JSON: {error} at line {line}, column {col}",
    "json_not_records": (
        "'{name}' is a JSON array, but not of records (objects with named fields)"
    ),
    "json_field": "records read from the JSON field '{field}'",
    "json_record_not_object": "record {i} is not a JSON object",
    "json_records_rejected": "{n:record} that are not JSON objects rejected",
    "jsonl_invalid": "line {i} is not valid JSON ({error})",
    "jsonl_not_object": "line {i} is not a JSON object",
    "jsonl_unreadable": "'{name}' is not JSON lines or a JSON array of records: {first}",
    "jsonl_rejected": "{n:line} that are not JSON records rejected",
    # -------------------------------------------------------------------- Excel
    "xlsx_invalid": "'{name}' is not a valid Excel workbook (.xlsx): {error}",
    "zip_bomb_part": (
        "'{name}' looks like a zip bomb: its part '{part}' would expand {ratio:,.0f}-fold to "
        "{size:,.0f} MB (at most {max_ratio}-fold is accepted); refused without opening it"
    ),
    "zip_too_big": (
        "'{name}' would expand to {total:,.0f} MB once unzipped; the limit is {limit:,.0f} MB "
        "(a zip bomb, or a workbook too big for Excel upload: save it as CSV or Parquet)"
    ),
    "no_sheets": "Excel workbook '{name}' has no sheets",
    "no_sheet_number": (
        "Excel workbook '{name}' has {count} sheets ({names}); there is no sheet number {number}"
    ),
    "no_sheet_name": "Excel workbook '{name}' has no sheet '{sheet}'; sheets: {names}",
    "rows_above_header": "{n:row} above the header (row {row}) skipped",
    "sheet_unreadable": (
        "sheet '{sheet}' of '{name}' can't be read ({error}); open the workbook in Excel or "
        "LibreOffice, save it again as .xlsx (or CSV) and upload that"
    ),
    "sheet_empty": "sheet '{sheet}' of '{name}' is empty",
    "sheet_empty_others": "sheet '{sheet}' of '{name}' is empty; other sheets: {names}",
    "formulas_no_result": (
        "sheet '{sheet}' of '{name}', column '{column}': {n:cell} hold formulas without a "
        "saved result (e.g. row {row}: {ex}), read as empty; open the workbook in Excel and "
        "save it, so the results are stored"
    ),
    "many_sheets": "workbook has {count} sheets ({names}); read '{sheet}'",
    "parquet_invalid": "'{name}' is not a valid Parquet file: {error}",
    # -------------------------------------------------------------------- dates
    "dates_both_orders": (
        "both day-first and month-first dates found ({n_day} vs {n_month} values); read as "
        "{label}, the others are rejected"
    ),
    "dates_ambiguous": (
        "dates are ambiguous (no day above 12): read as {label}; if they are {other}, choose "
        "that format"
    ),
    "tz_removed": (
        "UTC offset {offset} removed from {n:value} (times kept as written, stored without "
        "timezone)"
    ),
    "tz_converted": (
        "{n:value} with {offsets} different UTC offsets converted to UTC (stored without timezone)"
    ),
    "second_format": "{n:value} written as {label} also read",
    "col_note": "column '{src}': {text}",
    "src_note": "'{src}': {text}",
    "mixed_date_formats": "column '{src}' mixes date formats: mostly {label}; {second}",
    "dates_unknown_required": (
        "{table} file '{name}': column '{src}' (mapped to {canon}) does not hold dates in a "
        "known format (values like {examples}); expected e.g. 2024-12-25, 25/12/2024, "
        "12/25/2024 10:30, 25.12.2024 or 2024年12月25日"
    ),
    "dates_unknown_extra": (
        "column '{src}' does not hold dates in a known format (values like {examples}); kept "
        "as an extra text column instead of {canon}"
    ),
    "dates_mostly_not": (
        "{table} file '{name}': column '{src}' (mapped to {canon}) mostly does not hold dates "
        "(values like {examples}); map another column"
    ),
    "date_expected": "{label}, e.g. {example}",
    "future_dates": "{n:value} in '{src}' are in the future (latest {ex_latest}); kept",
    "old_dates": "{n:value} in '{src}' are before 1900; kept",
    # ------------------------------------------------------------ mapping, tables
    "table_customers": "customers",
    "table_orders": "orders",
    "table_products": "products",
    "table_reviews": "reviews",
    "mapping_unknown": (
        "the column mapping names {unknown}, but {table} file '{name}' has no such column; "
        "found: {found}"
    ),
    "mapped_twice": (
        "{table} file '{name}': '{dst}' is mapped from both '{a}' and '{b}'; map only one of them"
    ),
    "missing_required_one": (
        "{table} file '{name}' needs {need}; found: {found}. Map one in the column mapping."
    ),
    "missing_required_many": (
        "{table} file '{name}' needs {need}; found: {found}. Map them in the column mapping."
    ),
    "need_col_a": "a {canon:human} column",
    "need_col_an": "an {canon:human} column",
    "need_amount": "an amount column (or quantity and unit price columns to compute it)",
    "list_pair": "{a}, {b}",
    "list_and": "{a} and {b}",
    # ------------------------------------------------------------------- values
    "spaces_trimmed": "surrounding spaces removed from {n:value} in '{src}'",
    "ids_made_whole": (
        "'{src}' values written as decimals made whole: {ex} → {ex_fixed} ({n:value})"
    ),
    "ids_scientific": (
        "'{src}' has {n:value} in scientific notation (e.g. {ex}): Excel may have rounded "
        "these ids, so different customers can share one; export the column as text and "
        "upload again"
    ),
    "truncated": "{n:value} in '{src}' longer than {limit} characters truncated",
    "truncated_row": (
        "{n:value} in '{src}' longer than {limit} characters truncated (first on row {ex_row})"
    ),
    "decimal_comma": (
        "decimal comma detected in '{src}' ({n:value}, e.g. {ex} read as {ex_value})"
    ),
    "currency_removed": "currency symbols removed from {n:value} in '{src}' (e.g. {ex})",
    "thousands_removed": "thousands separator '{sep}' removed from {n:value} in '{src}'",
    "parens_negative": "{n:value} in parentheses in '{src}' read as negative (e.g. {ex})",
    "mixed_currencies": (
        "'{src}' mixes currencies ({currencies}): the values are used as written, without "
        "conversion; convert them to one currency if that matters"
    ),
    "mixed_decimals": (
        "'{src}' mixes decimal separators; read with '{decimal}' as the decimal mark (the "
        "majority); values using '{other}' that don't fit are rejected"
    ),
    "ambiguous_decimal": (
        "'{src}': values like {ex} could use either ',' or '.' as the decimal mark; read with "
        "'{decimal}' as the decimal mark"
    ),
    "discount_percent_sign": "{n:discount} written as percentages (e.g. '20%') divided by 100",
    "discount_percent_scale": (
        "discounts in '{src}' look like percentages (up to {ex_max}); {n:value} divided by 100"
    ),
    "ratings_out": "{n:rating} outside 0-10 (kept)",
    "extra_numeric": "extra column '{src}' holds only numbers; stored as numbers",
    "extra_blank_missing": "extra column '{src}': {n:blank value} stored as missing",
    "blank_missing": "'{src}': {n:blank value} (only spaces) stored as missing",
    "extras_kept": "{cols:column} kept as extra attributes",
    "extras_kept_renamed": "{cols:column} kept as extra attributes (renamed {renamed})",
    "column_empty": "column '{src}' is empty in every kept row",
    "label_single": ("label column '{src}' has a single value ({value}); it can't separate groups"),
    # ------------------------------------------------------------------- orders
    "no_quantity": "no quantity column: quantity set to 1 for all {n:row}",
    "amount_derived": "amount derived from {formula} for {n:row}",
    "amount_filled": "empty amount derived from {formula} for {n:row}",
    "lines_without_amount": (
        "{n:order line} without an amount (kept: they count as orders but add nothing to spend)"
    ),
    "returns_negative": "{n:line} with negative quantity or amount kept as returns",
    "cancellations": (
        "{n:line} with an order_id starting with 'C' (e.g. {ex}): cancellations, kept as returns"
    ),
    "cancellations_positive": (
        "{n:cancellation line} ('C' order ids) with a positive quantity (kept as they are)"
    ),
    "zero_quantity": "{n:line} with quantity 0 (kept)",
    "zero_price": "{n:line} with unit price 0 (kept)",
    "negative_price": "{n:line} with a negative unit price (kept)",
    "identical_lines": (
        "{n:order line} identical to an earlier line (kept: repeated lines can be real, e.g. "
        "the same item bought twice)"
    ),
    # ------------------------------------------- rejected rows: reasons and kinds
    "col_ref": "column '{src}'",
    "col_ref_canon": "column '{src}' ({canon})",
    "ex_discount": "20% or 0.2",
    "missing_value": "row {row}: missing {canon:human} (column '{src}' is empty)",
    "not_number": "{ref} row {row}: {value} is not a number (expected e.g. {example})",
    "not_whole": "{ref} row {row}: {value} is not a whole number",
    "bad_date": "{ref} row {row}: {value} is not a valid date (expected {expected})",
    "discount_range": (
        "column '{src}' row {row}: discount {value} is not between 0 and 1 (or 0% and 100%)"
    ),
    "amount_missing": "row {row}: amount can't be computed (quantity or unit price is empty)",
    "duplicate_key": "row {row}: duplicate {key} {value} (first seen on row {extra})",
    "also": "{first}; {then}",
    "kind_missing": "missing {canon:human}",
    "kind_not_number": "not a number in '{src}'",
    "kind_not_whole": "not a whole number in '{src}'",
    "kind_bad_date": "invalid date in '{src}'",
    "kind_discount_range": "discount out of range in '{src}'",
    "kind_amount_missing": "amount can't be computed",
    "kind_duplicate": "duplicate {key}",
    "rows_rejected": "{n:row} rejected: {kind}",
    "no_usable_rows": "no usable rows in '{name}': all {n:row} were rejected (first: {first})",
    # ---------------------------------------------------------- large files, chunks
    "stream_progress": "{name}: {done:,.0f} of {size:,.0f} MB read, {rows} rows",
    "stream_not_text": (
        "'{name}' is {kind}; reading in chunks works for delimited text (.csv, .tsv, .txt, "
        ".tab); read this file whole instead"
    ),
    "stream_end_unreadable": "'{name}': the end of the file could not be read",
    "stream_utf16": (
        "'{name}' is UTF-16 or UTF-32 text (or binary); reading in chunks works for UTF-8, "
        "GB18030 and single-byte encodings: save it as UTF-8"
    ),
    "stream_mixed_encodings": (
        "'{name}' mixes encodings ({first} and {second}); reading in chunks needs one "
        "encoding: save the file again as UTF-8"
    ),
    "stream_bad_line": (
        "'{name}' line {line} is not valid {encoding} text, though the start of the file is "
        "({reason}); save the file again as UTF-8"
    ),
    "stream_too_many_rows": (
        "'{name}' has more than {limit} rows (counted {rows} by line {line}); at most {limit} "
        "are supported (split the file or sample it)"
    ),
    "stream_schema_drift": (
        "'{name}': the rows from line {line} on do not fit the columns the first rows set "
        "({error}); read the file whole instead"
    ),
    "read_in_chunks": "read in {n:chunk} of up to {mb:,.3g} MB",
    # ---------------------------------------------------------------- the demo store
    "demo_note": "generated by the built-in demo store; the persona column is ground truth",
    "demo_file": "demo store (seed {seed})",
    # ------------------------------------------------------ assembling a dataset (core.datasets)
    "no_files_ingested": "no files were ingested",
    "dataset_needs_table": (
        "a dataset needs a customers table (one row per customer) or an orders table "
        "(customer, date, amount); the files given only contain: {found}"
    ),
    "no_tables": "nothing",
    "customer_in_two_files": (
        "customer_id {value} appears in more than one customers file; merge them or keep one"
    ),
    "streamed_same_table": (
        "'{a}' and '{b}' are both {table} files; large files are saved one per table: "
        "combine them first"
    ),
    "unknown_customers": (
        "{n} {table} rows belong to {n_customers} customers that are not in the customers "
        "table; they are kept, but features are computed for the customers table's customers only"
    ),
    # ------------------------------------------------------------------- core.schema
    "unknown_table": "unknown table '{table}' (expected one of {expected})",
}

ZH: dict[str, str] = {
    "limit_env_invalid": "环境变量 {var}={raw} 不是有效的上限：应为{what}，例如 {var}={example}",
    "what_mb": "以 MB 为单位的正数",
    "what_int": "正整数",
    "limit_not_positive": "上限 {name} 必须是正数，不能是 {value}",
    "file_missing": "文件 '{name}' 不存在（{path}）",
    "is_folder": "'{name}' 是文件夹，不是文件",
    "file_empty": "文件 '{name}' 是空的（0 字节）；需要一个带表头行的表格",
    "gzip_note": "文件经过 gzip 压缩，已解压",
    "empty_decompressed": "文件 '{name}' 解压后是空的",
    "xls_old": (
        "'{name}' 是旧版 Excel 97-2003 工作簿（.xls），无法读取；请用 Excel 或 LibreOffice "
        "打开，另存为 .xlsx 或 CSV"
    ),
    "kind_excel": "Excel 工作簿",
    "kind_parquet": "Parquet 文件",
    "kind_ext": "'{ext}' 文件",
    "no_extension": "（无扩展名）",
    "read_as_kind": "'{name}' 没有可识别的扩展名，但实际是 {what}，已按此读取",
    "misnamed": "'{name}' 的扩展名是 {ext}，但实际是 {what}，已按此读取",
    "unsupported_type": "'{name}'：不支持的文件类型 '{ext}'；支持：{exts}",
    "too_many_columns": "'{name}' 有 {cols} 列，最多支持 {limit} 列",
    "too_many_rows": "'{name}' 有 {rows} 行，最多支持 {limit} 行（请拆分文件或抽样）",
    "no_data_rows": "'{name}' 只有表头，没有数据行",
    "no_data_rows_sheet": "'{name}' 的工作表 '{sheet}' 只有表头，没有数据行",
    "too_big": (
        "'{name}' 大小为 {size:,.1f} MB，上限是 {limit:,.0f} MB（请拆分文件，或另存为体积更小的 "
        "Parquet）"
    ),
    "too_big_unzipped": (
        "'{name}' 解压后为 {size:,.1f} MB，上限是 {limit:,.0f} MB（请拆分文件，或另存为体积更小的 "
        "Parquet）"
    ),
    "bad_gzip": "'{name}' 不是有效的 gzip 文件：{error}",
    "bom_removed": "已去掉 UTF-8 字节顺序标记（BOM）",
    "bom_not_utf8": "'{name}' 以 UTF-8 标记开头，内容却不是 UTF-8；请将文件重新保存为 UTF-8",
    "bom_line_not_utf8": (
        "'{name}' 以 UTF-8 标记开头，但第 {line} 行不是 UTF-8；请将文件重新保存为 UTF-8"
    ),
    "mixed_encodings_one": (
        "'{name}' 混用了多种编码：有 {n} 行不是 UTF-8（第 {lines} 行），已按 {encoding} 读取；"
        "请检查该行的重音字母和特殊字符"
    ),
    "mixed_encodings_many": (
        "'{name}' 混用了多种编码：有 {n} 行不是 UTF-8（第 {lines} 行），已按 {encoding} 读取；"
        "请检查这些行的重音字母和特殊字符"
    ),
    "bom_invalid": (
        "'{name}' 以 {enc} 标记开头，但不是有效的 {enc}（第 {byte} 字节）；请将文件重新保存为 UTF-8"
    ),
    "binary": (
        "'{name}' 不像文本表格（含有二进制数据）；支持 CSV / TSV 文本（UTF-8、GB18030 或 "
        "Latin-1）、.xlsx 工作簿、Parquet 和 JSON"
    ),
    "ragged_rows": "已剔除 {n} 行：字段数与表头（{width} 个）不一致",
    "ragged_row": "第 {row} 行有 {fields} 个字段，表头有 {width} 个",
    "delim_comma": "逗号",
    "delim_semicolon": "分号",
    "delim_tab": "制表符",
    "delim_pipe": "竖线",
    "delim_whitespace": "空白（空格或制表符）",
    "separated": "以{delim}分隔的文件",
    "one_column": (
        "'{name}' 只读出了一列（{column}）：逗号、分号、制表符、竖线或连续空格都不能把各行分成"
        "相同数目的字段；请检查文件的分隔符（订单表或客户表应有多列）"
    ),
    "only_blank": "文件 '{name}' 只有空行；需要一个表头行",
    "header_unreadable": "'{name}'：无法读取表头行：{error}",
    "no_header": "文件 '{name}' 没有表头行",
    "trailing_delim_rows": "数据行末尾多了一个分隔符，已读作空的最后一列",
    "trailing_delim_header": "表头末尾多了一个分隔符，已忽略",
    "line_unreadable": "'{name}' 第 {line} 行无法读取：{error}（引号没有闭合？）",
    "unclosed_quote": (
        "'{name}' 第 {start} 行：有一个引号没有闭合，第 {start}-{end} 行会被读成一个值；"
        '请补上闭合引号（引号内的引号要写两次：""）后重新上传'
    ),
    "unclosed_quote_col": (
        "'{name}' 第 {start} 行：列 '{column}' 中有一个引号没有闭合，第 {start}-{end} 行会被读成"
        '一个值；请补上闭合引号（引号内的引号要写两次：""）后重新上传'
    ),
    "unnamed_columns": "{cols} 列没有表头，已命名为 {names}",
    "dup_columns": "重复的列名已改为唯一：{pairs}",
    "names_more": "{shown}，…（另有 {more} 个）",
    "no_columns": "（没有列）",
    "json_blank": "文件 '{name}' 只有空行；需要 JSON 记录",
    "json_invalid": "'{name}' 不是有效的 JSON：{error}（第 {line} 行第 {col} 列）",
    "json_not_records": "'{name}' 是 JSON 数组，但元素不是记录（带字段名的对象）",
    "json_field": "已从 JSON 字段 '{field}' 读取记录",
    "json_record_not_object": "第 {i} 条记录不是 JSON 对象",
    "json_records_rejected": "已剔除 {n} 条记录：不是 JSON 对象",
    "jsonl_invalid": "第 {i} 行不是有效的 JSON（{error}）",
    "jsonl_not_object": "第 {i} 行不是 JSON 对象",
    "jsonl_unreadable": "'{name}' 既不是 JSON lines，也不是 JSON 记录数组：{first}",
    "jsonl_rejected": "已剔除 {n} 行：不是 JSON 记录",
    "xlsx_invalid": "'{name}' 不是有效的 Excel 工作簿（.xlsx）：{error}",
    "zip_bomb_part": (
        "'{name}' 疑似压缩炸弹：其中的 '{part}' 会膨胀 {ratio:,.0f} 倍，达到 {size:,.0f} MB"
        "（最多接受 {max_ratio} 倍）；未打开即拒绝"
    ),
    "zip_too_big": (
        "'{name}' 解压后将达到 {total:,.0f} MB，上限是 {limit:,.0f} MB（可能是压缩炸弹，或工作簿"
        "太大、不适合以 Excel 上传：请另存为 CSV 或 Parquet）"
    ),
    "no_sheets": "Excel 工作簿 '{name}' 没有工作表",
    "no_sheet_number": "Excel 工作簿 '{name}' 有 {count} 个工作表（{names}），没有第 {number} 号工作表",
    "no_sheet_name": "Excel 工作簿 '{name}' 中没有工作表 '{sheet}'；现有工作表：{names}",
    "rows_above_header": "已跳过表头（第 {row} 行）上方的 {n} 行",
    "sheet_unreadable": (
        "无法读取 '{name}' 的工作表 '{sheet}'（{error}）；请用 Excel 或 LibreOffice 打开工作簿，"
        "重新保存为 .xlsx（或 CSV）后上传"
    ),
    "sheet_empty": "'{name}' 的工作表 '{sheet}' 是空的",
    "sheet_empty_others": "'{name}' 的工作表 '{sheet}' 是空的；其他工作表：{names}",
    "formulas_no_result": (
        "'{name}' 的工作表 '{sheet}'，列 '{column}'：{n} 个单元格的公式没有保存计算结果（例如第 "
        "{row} 行：{ex}），已读作空值；请在 Excel 中打开并保存工作簿，以保存计算结果"
    ),
    "many_sheets": "工作簿有 {count} 个工作表（{names}）；已读取 '{sheet}'",
    "parquet_invalid": "'{name}' 不是有效的 Parquet 文件：{error}",
    "dates_both_orders": (
        "日期中既有日在前、也有月在前的写法（{n_day} 个对 {n_month} 个）；已按 {label} 读取，"
        "其余的将被剔除"
    ),
    "dates_ambiguous": (
        "日期有歧义（没有大于 12 的日）：已按 {label} 读取；如果实际是 {other}，请选择该格式"
    ),
    "tz_removed": "已去掉 {n} 个值的 UTC 偏移 {offset}（时间按原样保留，存储时不带时区）",
    "tz_converted": "{n} 个值带有 {offsets} 种不同的 UTC 偏移，已换算为 UTC（存储时不带时区）",
    "second_format": "另有 {n} 个按 {label} 书写的值也已读取",
    "col_note": "列 '{src}'：{text}",
    "src_note": "'{src}'：{text}",
    "mixed_date_formats": "列 '{src}' 混用了多种日期格式：大多为 {label}；{second}",
    "dates_unknown_required": (
        "{table}文件 '{name}'：列 '{src}'（映射到 {canon}）中的日期格式无法识别（值如 "
        "{examples}）；应为 2024-12-25、25/12/2024、12/25/2024 10:30、25.12.2024 或 "
        "2024年12月25日 这类格式"
    ),
    "dates_unknown_extra": (
        "列 '{src}' 中的日期格式无法识别（值如 {examples}）；已作为附加文本列保留，不作为 {canon}"
    ),
    "dates_mostly_not": (
        "{table}文件 '{name}'：列 '{src}'（映射到 {canon}）大多不是日期（值如 {examples}）；"
        "请映射其他列"
    ),
    "date_expected": "{label}，例如 {example}",
    "future_dates": "'{src}' 中有 {n} 个值是未来日期（最晚 {ex_latest}），已保留",
    "old_dates": "'{src}' 中有 {n} 个值早于 1900 年，已保留",
    "table_customers": "客户表",
    "table_orders": "订单表",
    "table_products": "商品表",
    "table_reviews": "评论表",
    "mapping_unknown": "列映射中指定了 {unknown}，但{table}文件 '{name}' 中没有这些列；现有列：{found}",
    "mapped_twice": "{table}文件 '{name}'：'{dst}' 同时映射自 '{a}' 和 '{b}'；只能映射其中一个",
    "missing_required_one": "{table}文件 '{name}' 需要 {need}；现有列：{found}。请在列映射中指定。",
    "missing_required_many": "{table}文件 '{name}' 需要 {need}；现有列：{found}。请在列映射中指定。",
    "need_col_a": "{canon} 列",
    "need_col_an": "{canon} 列",
    "need_amount": "amount 列（或用来计算金额的 quantity 列和 unit_price 列）",
    "list_pair": "{a}、{b}",
    "list_and": "{a}和 {b}",
    "spaces_trimmed": "已去掉 '{src}' 中 {n} 个值首尾的空格",
    "ids_made_whole": "'{src}' 中写成小数的编号已改为整数：{ex} → {ex_fixed}（{n} 个值）",
    "ids_scientific": (
        "'{src}' 中有 {n} 个值是科学计数法（例如 {ex}）：Excel 可能已将这些编号四舍五入，"
        "不同客户可能因此共用同一个编号；请把该列导出为文本后重新上传"
    ),
    "truncated": "'{src}' 中有 {n} 个值超过 {limit} 个字符，已截断",
    "truncated_row": "'{src}' 中有 {n} 个值超过 {limit} 个字符，已截断（第一个在第 {ex_row} 行）",
    "decimal_comma": "'{src}' 使用小数逗号（{n} 个值，例如 {ex} 读作 {ex_value}）",
    "currency_removed": "已去掉 '{src}' 中 {n} 个值的货币符号（例如 {ex}）",
    "thousands_removed": "已去掉 '{src}' 中 {n} 个值的千位分隔符 '{sep}'",
    "parens_negative": "'{src}' 中 {n} 个带括号的值已读作负数（例如 {ex}）",
    "mixed_currencies": (
        "'{src}' 混用了多种货币（{currencies}）：数值按原样使用，未做换算；如有影响，请先统一为一种货币"
    ),
    "mixed_decimals": (
        "'{src}' 混用了不同的小数点：已按多数值的写法以 '{decimal}' 为小数点读取；使用 '{other}' "
        "且无法按此读取的值将被剔除"
    ),
    "ambiguous_decimal": (
        "'{src}'：像 {ex} 这样的值既可能以 ',' 也可能以 '.' 为小数点；已按 '{decimal}' 为小数点读取"
    ),
    "discount_percent_sign": "{n} 个写成百分比的折扣（例如 '20%'）已除以 100",
    "discount_percent_scale": "'{src}' 中的折扣看起来是百分数（最大 {ex_max}）；已将 {n} 个值除以 100",
    "ratings_out": "{n} 个评分超出 0-10 范围（已保留）",
    "extra_numeric": "附加列 '{src}' 只含数字，已按数字存储",
    "extra_blank_missing": "附加列 '{src}'：{n} 个空白值已按缺失值存储",
    "blank_missing": "'{src}'：{n} 个空白值（只有空格）已按缺失值存储",
    "extras_kept": "{cols} 列作为附加属性保留",
    "extras_kept_renamed": "{cols} 列作为附加属性保留（已重命名 {renamed}）",
    "column_empty": "列 '{src}' 在所有保留的行中都是空的",
    "label_single": "标签列 '{src}' 只有一个取值（{value}），无法区分群体",
    "no_quantity": "没有数量列：全部 {n} 行的数量设为 1",
    "amount_derived": "已按 {formula} 算出 {n} 行的金额",
    "amount_filled": "已按 {formula} 补上 {n} 行的空金额",
    "lines_without_amount": "{n} 条订单明细没有金额（已保留：计入订单数，但不计入消费额）",
    "returns_negative": "{n} 行的数量或金额为负，已作为退货保留",
    "cancellations": "{n} 行的 order_id 以 'C' 开头（例如 {ex}）：视为取消，已作为退货保留",
    "cancellations_positive": "{n} 条取消明细（order_id 以 'C' 开头）的数量为正（按原样保留）",
    "zero_quantity": "{n} 行的数量为 0（已保留）",
    "zero_price": "{n} 行的单价为 0（已保留）",
    "negative_price": "{n} 行的单价为负（已保留）",
    "identical_lines": "{n} 条订单明细与前面某行完全相同（已保留：重复的明细可能是真实的，例如同一商品买了两次）",
    "col_ref": "列 '{src}'",
    "col_ref_canon": "列 '{src}'（{canon}）",
    "ex_discount": "20% 或 0.2",
    "missing_value": "第 {row} 行：缺少 {canon}（列 '{src}' 为空）",
    "not_number": "{ref} 第 {row} 行：{value} 不是数字（应类似 {example}）",
    "not_whole": "{ref} 第 {row} 行：{value} 不是整数",
    "bad_date": "{ref} 第 {row} 行：{value} 不是有效日期（应为 {expected}）",
    "discount_range": "列 '{src}' 第 {row} 行：折扣 {value} 不在 0 到 1（或 0% 到 100%）之间",
    "amount_missing": "第 {row} 行：无法计算金额（数量或单价为空）",
    "duplicate_key": "第 {row} 行：{key} {value} 重复（首次出现在第 {extra} 行）",
    "also": "{first}；{then}",
    "kind_missing": "缺少 {canon}",
    "kind_not_number": "'{src}' 不是数字",
    "kind_not_whole": "'{src}' 不是整数",
    "kind_bad_date": "'{src}' 不是有效日期",
    "kind_discount_range": "'{src}' 的折扣超出范围",
    "kind_amount_missing": "无法计算金额",
    "kind_duplicate": "{key} 重复",
    "rows_rejected": "已剔除 {n} 行：{kind}",
    "no_usable_rows": "'{name}' 中没有可用的行：全部 {n} 行都被剔除（第一条原因：{first}）",
    "stream_progress": "{name}：已读取 {done:,.0f} / {size:,.0f} MB，{rows} 行",
    "stream_not_text": (
        "'{name}' 是 {kind}；分块读取只适用于分隔文本（.csv、.tsv、.txt、.tab）；请整体读取此文件"
    ),
    "stream_end_unreadable": "'{name}'：无法读取文件末尾",
    "stream_utf16": (
        "'{name}' 是 UTF-16 或 UTF-32 文本（或二进制文件）；分块读取只支持 UTF-8、GB18030 "
        "和单字节编码：请另存为 UTF-8"
    ),
    "stream_mixed_encodings": (
        "'{name}' 混用了多种编码（{first} 和 {second}）；分块读取要求单一编码：请将文件重新保存为 UTF-8"
    ),
    "stream_bad_line": (
        "'{name}' 第 {line} 行不是有效的 {encoding} 文本，而文件开头是（{reason}）；"
        "请将文件重新保存为 UTF-8"
    ),
    "stream_too_many_rows": (
        "'{name}' 超过 {limit} 行（读到第 {line} 行时已有 {rows} 行），最多支持 {limit} 行"
        "（请拆分文件或抽样）"
    ),
    "stream_schema_drift": (
        "'{name}'：从第 {line} 行起的数据与前面确定的列类型不符（{error}）；请整体读取此文件"
    ),
    "read_in_chunks": "分 {n} 块读取，每块最多 {mb:,.3g} MB",
    "demo_note": "由内置演示商店生成；persona 列是真实标签（预设的客户画像）",
    "demo_file": "演示商店（随机种子 {seed}）",
    "no_files_ingested": "没有导入任何文件",
    "dataset_needs_table": (
        "数据集需要客户表（每位客户一行）或订单表（客户、日期、金额）；所给文件只包含：{found}"
    ),
    "no_tables": "无",
    "customer_in_two_files": "customer_id {value} 出现在多个客户表文件中；请合并这些文件，或只保留一个",
    "streamed_same_table": (
        "'{a}' 和 '{b}' 都是{table}文件；大文件每个表只能保存一个文件：请先把它们合并"
    ),
    "unknown_customers": (
        "{table}中有 {n} 行属于 {n_customers} 位不在客户表中的客户；这些行已保留，"
        "但只为客户表中的客户计算特征"
    ),
    "unknown_table": "未知的表 '{table}'（应为 {expected} 之一）",
}

TEXT: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}

_NOUN = re.compile(r"[a-z][a-z ]+(?:\|[a-z ]+)?")


class _Keep:
    """A field left as ``{name}`` by `partial` (filled later, row by row)."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Formatter(string.Formatter):
    def __init__(self, lang: str, keep: Iterable[str] = ()) -> None:
        self.lang = lang
        self.keep = frozenset(keep)

    def get_value(self, key: Any, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if key in kwargs:
            return kwargs[key]
        if key in self.keep:
            return _Keep(key)
        raise KeyError(key)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Keep):
            return "{" + value.name + "}"
        if isinstance(value, Msg):
            return render(value, self.lang)
        if isinstance(value, bool) or value is None:
            return str(value)
        if isinstance(value, int | float) and _NOUN.fullmatch(format_spec):
            one, _, many = format_spec.partition("|")
            count = f"{value:,}" if isinstance(value, int) else f"{value:g}"
            return f"{count} {one if value == 1 else (many or one + 's')}"
        if isinstance(value, str) and format_spec == "human":
            return value.replace("_", " ")
        if isinstance(value, int) and not format_spec:
            return f"{value:,}"
        return format(value, format_spec)


def _plain(v: Any) -> Any:
    """Values stored in a message: JSON-friendly Python scalars, sub-phrases as they are."""
    if isinstance(v, Msg) or v is None or isinstance(v, bool | int | float):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return str(v)


class Msg(Localized):
    """An English message that remembers its phrase key and values (see the module doc): the
    ingest report's kind of `core.locale.Localized`."""

    __slots__ = ("key", "values")
    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, /, **values: Any) -> Msg:
        if key not in EN:
            raise KeyError(f"no ingest message {key!r}")
        values = {k: _plain(v) for k, v in values.items()}
        self = super().__new__(cls, _Formatter("en").vformat(EN[key], (), values))
        self.key = key
        self.values = values
        return self

    def text(self, lang: str) -> str:
        return render(self, lang)

    def __reduce__(self) -> tuple[Any, ...]:  # pickling (st.cache_data), copy, deepcopy
        return (_rebuild, (self.key, self.values))


def _rebuild(key: str, values: dict[str, Any]) -> Msg:
    return Msg(key, **values)


class MessageError(ValueError):
    """A ValueError raised with a `Msg` (like `core.ingest.IngestError`): ``str(exc)`` is the
    English text (CLI, logs); `message` is the `Msg`, to `render` in the user's language."""

    @property
    def message(self) -> str:
        return self.args[0] if self.args else ""


def render(message: Any, lang: str = "en") -> str:
    """`message` in `lang`: a `Msg`, its stored form (`to_json`), or a plain string (returned
    as it is: text this module did not write, e.g. from an older report)."""
    if message is None:
        return ""
    if isinstance(message, list | tuple):
        message = from_json(message)
    if not isinstance(message, Msg):
        return str(message)
    if lang == "en" or lang not in TEXT:
        return str(message)
    template = TEXT[lang].get(message.key, EN[message.key])
    return _Formatter(lang).vformat(template, (), message.values)


def partial(key: str, lang: str = "en", keep: Iterable[str] = (), /, **values: Any) -> str:
    """The template of `key` filled with `values`, fields named in `keep` left as ``{name}``
    (for text built for many rows at once)."""
    values = {k: _plain(v) for k, v in values.items()}
    template = TEXT.get(lang, EN).get(key, EN[key])
    return _Formatter(lang, keep).vformat(template, (), values)


def to_json(message: Msg) -> list[Any]:
    """The stored form ``[key, {name: value}]`` (sub-phrases the same way)."""
    return [
        message.key,
        {k: (to_json(v) if isinstance(v, Msg) else v) for k, v in message.values.items()},
    ]


def from_json(obj: Any) -> Msg:
    """A `Msg` from its stored form. Raises KeyError / ValueError / TypeError when `obj` is not
    one (e.g. written by a newer version with a phrase this one does not know)."""
    key, values = obj
    if not isinstance(key, str) or not isinstance(values, dict):
        raise ValueError(f"not a stored message: {obj!r}")
    return Msg(key, **{k: (from_json(v) if _is_stored(v) else v) for k, v in values.items()})


def _is_stored(v: Any) -> bool:
    return isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], dict)


def localize(english: Any, stored: Any, lang: str) -> str:
    """A message kept as English text plus (perhaps) its stored form, shown in `lang`: the
    stored form rendered when there is one this version can read, else the English text
    (translated when it is a phrase without values, as reports stored before the
    translations were written have them)."""
    if lang != "en" and stored:
        try:
            return render(from_json(stored), lang)
        except (KeyError, ValueError, TypeError, IndexError):
            pass
    if lang != "en" and isinstance(english, str) and english in _CONSTANT:
        return render(Msg(_CONSTANT[english]), lang)
    return render(english, lang)


# ------------------------------------------------------------------- merging (chunks)
def _is_count(name: str) -> bool:
    return name == "n" or name.startswith("n_")


def _is_example(name: str) -> bool:
    return name == "ex" or name.startswith("ex_")


def merge_key(message: Msg) -> tuple[Any, ...]:
    """What makes two messages "the same message": the key and the values other than counts
    and examples (sub-phrases likewise)."""
    return (
        message.key,
        tuple(
            sorted(
                (k, merge_key(v) if isinstance(v, Msg) else v)
                for k, v in message.values.items()
                if not _is_count(k) and not _is_example(k)
            )
        ),
    )


def merged(first: Msg, other: Msg) -> Msg:
    """`first` with the counts of `other` (same `merge_key`) added to its own."""
    values: dict[str, Any] = {}
    for k, v in first.values.items():
        w = other.values.get(k)
        if _is_count(k) and isinstance(v, int | float) and isinstance(w, int | float):
            values[k] = v + w
        elif isinstance(v, Msg) and isinstance(w, Msg):
            values[k] = merged(v, w)
        else:
            values[k] = v
    return Msg(first.key, **values)


# English text → key of the phrases without values (see `localize`).
_CONSTANT = {
    text: key
    for key, text in EN.items()
    if not any(f for _, f, _, _ in string.Formatter().parse(text))
}
