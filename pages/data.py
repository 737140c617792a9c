"""Data: upload files, map columns, validate, save datasets; browse what is loaded."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.datasets import (
    assemble_dataset,
    create_demo_dataset,
    dataset_name,
    dataset_warnings,
    save_assembled,
)
from core.ingest import IngestError, guess_mapping, guess_table, ingest, read_raw
from core.locale import error_text
from core.schema import SCHEMAS, TABLES
from dashboard import state
from dashboard.components.format import fmt_int, missing_as_dash
from dashboard.components.report import render_report
from dashboard.i18n import LANGUAGES, current_language, t, translate

# "Keep as extra column" in every language: a cell edited before a language switch still counts.
KEEP_LABELS = {translate("data.keep_extra", lang) for lang in LANGUAGES}
UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "xlsx", "xls", "json", "jsonl", "ndjson"]

st.title(t("data.title"))
ws = state.workspace()


@st.cache_data(show_spinner=False, max_entries=16)
def _read(_data: bytes, name: str, digest: str, sheet: str | None = None):
    # The leading underscore keeps Streamlit from hashing the bytes; `digest` is the key.
    return read_raw(_data, name, sheet=sheet)


def _mapping_editor(raw_df: pd.DataFrame, table: str, key: str) -> dict[str, str | None]:
    guessed = guess_mapping(raw_df, table)
    keep = t("data.keep_extra")
    options = [keep, *SCHEMAS[table].column_names]
    rows = []
    for col in raw_df.columns:
        sample = ", ".join(str(v) for v in raw_df[col].dropna().astype(str).head(3))
        rows.append(
            {"file column": col, "examples": sample[:80], "maps to": guessed.get(col) or keep}
        )
    edited = st.data_editor(
        pd.DataFrame(rows),
        column_config={
            "file column": st.column_config.TextColumn(
                t("data.mapping.file_column"), disabled=True
            ),
            "examples": st.column_config.TextColumn(t("data.mapping.examples"), disabled=True),
            "maps to": st.column_config.SelectboxColumn(
                t("data.mapping.maps_to"),
                options=options,
                required=True,
                help=t("data.mapping.maps_to_help"),
            ),
        },
        hide_index=True,
        width="stretch",
        key=f"map_{key}_{table}",
    )
    return {
        r["file column"]: (None if r["maps to"] in KEEP_LABELS else r["maps to"])
        for r in edited.to_dict("records")
    }


# ------------------------------------------------------------------------------ upload
st.subheader(t("data.add_dataset"))
st.caption(t("data.add_caption"))
token = st.session_state["upload_token"]
files = st.file_uploader(
    t("data.files"),
    type=UPLOAD_TYPES,
    accept_multiple_files=True,
    key=f"uploader_{token}",
    help=t("data.files_help"),
)
c_demo, _ = st.columns([1, 3])
if c_demo.button(
    t("data.load_demo"),
    key="data_load_demo",
    help=t("data.load_demo_help"),
):
    with st.spinner(t("data.demo_generating")):
        info = create_demo_dataset(ws)
    state.set_active_dataset(info.id)
    st.rerun()

# Option labels are resolved now, in this run: format_func is also called outside it.
table_labels = {name: t(f"data.tables.{name}") for name in TABLES}
plans = []
for f in files or []:
    data = f.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    with st.container(border=True):
        st.markdown(t("data.file_heading", name=f.name, size=fmt_int(len(data))))
        try:
            raw = _read(data, f.name, digest)
            sheet = None
            if getattr(raw, "sheet_names", None) and len(raw.sheet_names) > 1:
                sheet = st.selectbox(t("data.sheet"), raw.sheet_names, key=f"sheet_{digest}")
                raw = _read(data, f.name, digest, sheet)
        except IngestError as exc:
            st.error(error_text(exc, current_language()), icon=":material/error:")
            continue
        found = [
            t("data.found_rows", count=fmt_int(len(raw.df))),
            t("data.found_columns", count=len(raw.df.columns)),
        ]
        if raw.encoding:
            found.append(t("data.found_encoding", encoding=raw.encoding))
        if raw.delimiter:
            found.append(t("data.found_delimiter", delimiter=repr(raw.delimiter)))
        st.caption(" · ".join(found))
        guessed_table = guess_table(raw.df)
        table = st.selectbox(
            t("data.table_select"),
            TABLES,
            index=TABLES.index(guessed_table),
            format_func=table_labels.get,
            key=f"table_{digest}",
            help=t("data.table_select_help"),
        )
        mapping = _mapping_editor(raw.df, table, digest)
        with st.expander(t("data.preview_raw")):
            st.dataframe(missing_as_dash(raw.df.head(20)), hide_index=True, width="stretch")
        plans.append((raw, table, mapping))

if plans:
    default_name = (files[0].name.rsplit(".", 1)[0] if files else "dataset")[:40]
    name = st.text_input(t("data.dataset_name"), value=default_name, key=f"dsname_{token}")
    if st.button(t("data.validate"), type="primary", key="data_validate"):
        results, errors = [], []
        with st.status(t("data.validating"), expanded=True) as status:
            for raw, table, mapping in plans:
                st.write(f"{raw.filename} → {table}")
                try:
                    results.append(ingest(raw, table, mapping))
                except IngestError as exc:
                    errors.append(error_text(exc, current_language()))
            if not errors:
                try:
                    assembled = assemble_dataset(results)
                    info = save_assembled(ws, name or "dataset", assembled)
                except ValueError as exc:
                    errors.append(error_text(exc, current_language()))
            status.update(
                label=t("data.not_saved") if errors else t("data.saved"),
                state="error" if errors else "complete",
                expanded=False,
            )
        failed = bool(errors)
        for message in errors:  # outside the status box, so they cannot be missed
            st.error(message, icon=":material/error:")
        if not failed:
            state.set_active_dataset(info.id)
            st.session_state["upload_token"] = token + 1
            st.session_state["just_saved"] = info.id
            st.rerun()

# ---------------------------------------------------------------------- active dataset
ds = state.active_dataset()
st.divider()
if ds is None:
    st.info(t("data.no_dataset"), icon=":material/info:")
    st.stop()

if st.session_state.pop("just_saved", None) == ds.id:
    st.success(
        t("data.saved_selected", name=dataset_name(ds, current_language())),
        icon=":material/check_circle:",
    )

st.subheader(t("data.validation_report", name=dataset_name(ds, current_language())))
reports = ws.load_reports(ds.id)
rejected = ws.load_rejected(ds.id)
for w in dataset_warnings(ds.meta, current_language()):
    st.warning(w, icon=":material/warning:")
for i, rep in enumerate(reports):
    rej = rejected.get(rep.get("table"))
    if rej is not None and "_file" in rej.columns:
        rej = rej[rej["_file"] == rep.get("file")]
    render_report(rep, rej, key=f"{ds.id}_{i}")

st.subheader(t("data.preview"))
tables = list(ds.tables)
tab_objs = st.tabs(
    [t("data.tab", table=table_labels[name], count=fmt_int(ds.tables[name])) for name in tables]
)
for name, tab in zip(tables, tab_objs, strict=True):
    with tab:
        df = ws.load_table(ds.id, name)
        st.dataframe(missing_as_dash(df.head(1000)), hide_index=True, width="stretch")
        if len(df) > 1000:
            st.caption(t("data.first_rows", shown=fmt_int(1000), total=fmt_int(len(df))))

# -------------------------------------------------------------------------- dataset list


def _when(stamp: str) -> str:
    """A stored ISO time (UTC) as the run pickers show times: 2026-01-31 18:29."""
    try:
        return f"{pd.Timestamp(stamp):%Y-%m-%d %H:%M}"
    except ValueError:
        return stamp


st.subheader(t("data.all_datasets"))
all_ds = ws.list_datasets()
listing = pd.DataFrame(
    [
        {
            "id": d.id,
            "name": dataset_name(d, current_language()),
            "source": d.source,
            "customers": d.n_customers,
            **{name: d.tables.get(name) for name in TABLES},
            "created": _when(d.created_at),
        }
        for d in all_ds
    ]
)
st.dataframe(
    listing,
    hide_index=True,
    width="stretch",
    column_config={
        **{col: t(f"data.listing.{col}") for col in ("id", "name", "source", "created")},
        **{
            name: st.column_config.NumberColumn(label, format="localized")
            for name, label in table_labels.items()
        },
    },
)
with st.expander(t("data.delete_heading")):
    victim = st.selectbox(t("data.delete_choice"), [d.id for d in all_ds], key="delete_choice")
    confirm = st.checkbox(t("data.delete_confirm"), key="delete_confirm")
    if st.button(t("data.delete"), disabled=not confirm, key="delete_btn"):
        ws.delete_dataset(victim)
        if st.session_state.get(state.ACTIVE) == victim:
            state.set_active_dataset(None)
        st.rerun()
