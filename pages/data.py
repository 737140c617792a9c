"""Data: upload files, map columns, validate, save datasets; browse what is loaded."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.datasets import assemble_dataset, create_demo_dataset, save_assembled
from core.ingest import IngestError, guess_mapping, guess_table, ingest, read_raw
from core.schema import SCHEMAS, TABLES
from dashboard import state
from dashboard.components.format import fmt_int
from dashboard.components.report import render_report

KEEP = "(keep as extra column)"
UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "xlsx", "xls", "json", "jsonl", "ndjson"]

st.title("Data")
ws = state.workspace()


@st.cache_data(show_spinner=False, max_entries=16)
def _read(_data: bytes, name: str, digest: str, sheet: str | None = None):
    # The leading underscore keeps Streamlit from hashing the bytes; `digest` is the key.
    return read_raw(_data, name, sheet=sheet)


def _mapping_editor(raw_df: pd.DataFrame, table: str, key: str) -> dict[str, str | None]:
    guessed = guess_mapping(raw_df, table)
    options = [KEEP, *SCHEMAS[table].column_names]
    rows = []
    for col in raw_df.columns:
        sample = ", ".join(str(v) for v in raw_df[col].dropna().astype(str).head(3))
        rows.append(
            {"file column": col, "examples": sample[:80], "maps to": guessed.get(col) or KEEP}
        )
    edited = st.data_editor(
        pd.DataFrame(rows),
        column_config={
            "file column": st.column_config.TextColumn(disabled=True),
            "examples": st.column_config.TextColumn(disabled=True),
            "maps to": st.column_config.SelectboxColumn(
                options=options,
                required=True,
                help="The canonical column this file column feeds. Unmapped columns are kept as extra attributes.",
            ),
        },
        hide_index=True,
        width="stretch",
        key=f"map_{key}_{table}",
    )
    return {
        r["file column"]: (None if r["maps to"] == KEEP else r["maps to"])
        for r in edited.to_dict("records")
    }


# ------------------------------------------------------------------------------ upload
st.subheader("Add a dataset")
st.caption(
    "Upload one file per table: **customers** (one row per customer, attributes, perhaps a "
    "label), **orders** (transaction lines: customer, date, amount or quantity × price), "
    "**products** and **reviews**. Either customers or orders alone is enough to continue. "
    "Encodings (UTF-8, GBK/GB18030, Latin-1, UTF-16), delimiters, decimal commas and date "
    "formats are detected; nothing is dropped without being listed in the report."
)
token = st.session_state["upload_token"]
files = st.file_uploader(
    "Files",
    type=UPLOAD_TYPES,
    accept_multiple_files=True,
    key=f"uploader_{token}",
    help="CSV/TSV, Excel (.xlsx), Parquet or JSON lines; one table per file.",
)
c_demo, _ = st.columns([1, 3])
if c_demo.button(
    "Load the demo store instead",
    key="data_load_demo",
    help="20,000 synthetic customers with planted personas",
):
    with st.spinner("Generating the demo store…"):
        info = create_demo_dataset(ws)
    state.set_active_dataset(info.id)
    st.rerun()

plans = []
for f in files or []:
    data = f.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    with st.container(border=True):
        st.markdown(f"**{f.name}** · {fmt_int(len(data))} bytes")
        try:
            raw = _read(data, f.name, digest)
            sheet = None
            if getattr(raw, "sheet_names", None) and len(raw.sheet_names) > 1:
                sheet = st.selectbox("Sheet", raw.sheet_names, key=f"sheet_{digest}")
                raw = _read(data, f.name, digest, sheet)
        except IngestError as exc:
            st.error(str(exc), icon=":material/error:")
            continue
        found = [f"{fmt_int(len(raw.df))} rows", f"{len(raw.df.columns)} columns"]
        if raw.encoding:
            found.append(f"encoding {raw.encoding}")
        if raw.delimiter:
            found.append(f"delimiter {raw.delimiter!r}")
        st.caption(" · ".join(found))
        guessed_table = guess_table(raw.df)
        table = st.selectbox(
            "This file is the table",
            TABLES,
            index=TABLES.index(guessed_table),
            key=f"table_{digest}",
            help="Guessed from the column names and values; change it if the guess is wrong.",
        )
        mapping = _mapping_editor(raw.df, table, digest)
        with st.expander("Preview (first 20 rows as read)"):
            st.dataframe(raw.df.head(20), hide_index=True, width="stretch")
        plans.append((raw, table, mapping))

if plans:
    default_name = (files[0].name.rsplit(".", 1)[0] if files else "dataset")[:40]
    name = st.text_input("Dataset name", value=default_name, key=f"dsname_{token}")
    if st.button("Validate and save", type="primary", key="data_validate"):
        results, errors = [], []
        with st.status("Validating…", expanded=True) as status:
            for raw, table, mapping in plans:
                st.write(f"{raw.filename} → {table}")
                try:
                    results.append(ingest(raw, table, mapping))
                except IngestError as exc:
                    errors.append(str(exc))
            if not errors:
                try:
                    assembled = assemble_dataset(results)
                    info = save_assembled(ws, name or "dataset", assembled)
                except ValueError as exc:
                    errors.append(str(exc))
            status.update(
                label="Nothing was saved: fix the problems below and try again"
                if errors
                else "Saved",
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
    st.info("No dataset yet. Upload files above or load the demo store.", icon=":material/info:")
    st.stop()

if st.session_state.pop("just_saved", None) == ds.id:
    st.success(f"Dataset **{ds.name}** saved and selected.", icon=":material/check_circle:")

st.subheader(f"Validation report — {ds.name}")
reports = ws.load_reports(ds.id)
rejected = ws.load_rejected(ds.id)
for w in ds.meta.get("warnings", []):
    st.warning(w, icon=":material/warning:")
for i, rep in enumerate(reports):
    rej = rejected.get(rep.get("table"))
    if rej is not None and "_file" in rej.columns:
        rej = rej[rej["_file"] == rep.get("file")]
    render_report(rep, rej, key=f"{ds.id}_{i}")

st.subheader("Preview")
tables = list(ds.tables)
tab_objs = st.tabs([f"{t} ({fmt_int(ds.tables[t])})" for t in tables])
for t, tab in zip(tables, tab_objs, strict=True):
    with tab:
        df = ws.load_table(ds.id, t)
        st.dataframe(df.head(1000), hide_index=True, width="stretch")
        if len(df) > 1000:
            st.caption(f"First 1,000 of {fmt_int(len(df))} rows.")

# -------------------------------------------------------------------------- dataset list
st.subheader("All datasets")
all_ds = ws.list_datasets()
listing = pd.DataFrame(
    [
        {
            "id": d.id,
            "name": d.name,
            "source": d.source,
            "customers": d.n_customers,
            **{t: d.tables.get(t) for t in TABLES},
            "created": d.created_at,
        }
        for d in all_ds
    ]
)
st.dataframe(listing, hide_index=True, width="stretch")
with st.expander("Delete a dataset"):
    victim = st.selectbox("Dataset", [d.id for d in all_ds], key="delete_choice")
    confirm = st.checkbox("Yes, delete its files and runs", key="delete_confirm")
    if st.button("Delete", disabled=not confirm, key="delete_btn"):
        ws.delete_dataset(victim)
        if st.session_state.get(state.ACTIVE) == victim:
            state.set_active_dataset(None)
        st.rerun()
