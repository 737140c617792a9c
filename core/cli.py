"""`segstudio` command line: every app capability without the UI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Segment Studio: customer segmentation for e-commerce data.",
)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Workspace directory (default: $SEGSTUDIO_HOME or ~/.segstudio)"
    ),
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _ws(workspace: Path | None):
    from core.workspace import Workspace

    return Workspace(workspace)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _progress_printer():
    """A (message, fraction) callback drawing one updating progress line on stderr."""
    last = [-1]

    def progress(message: str, fraction: float) -> None:
        pct = int(fraction * 100)
        if pct != last[0]:
            last[0] = pct
            typer.echo(f"\r[{pct:3d}%] {message:<78}", nl=False, err=True)

    return progress


@app.command()
def demo(
    customers: Annotated[
        int, typer.Option("--customers", "-n", min=10, help="Number of customers")
    ] = 20_000,
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="Random seed (same seed, same data)")
    ] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Also write the raw tables to this folder")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="File format for --out: csv or parquet")
    ] = "csv",
    lang: Annotated[
        str,
        typer.Option(
            "--lang", help="Language of the reviews: en or zh (same customers and orders)"
        ),
    ] = "en",
    workspace: WorkspaceOpt = None,
) -> None:
    """Generate the synthetic demo store and save it as the workspace's `demo` dataset."""
    import time

    from core.datasets import create_demo_dataset

    t0 = time.perf_counter()
    ws = _ws(workspace)
    from core.demo import REVIEW_LANGS

    if lang not in REVIEW_LANGS:
        raise typer.BadParameter(
            f"{lang!r} is not a review language (choose from {', '.join(REVIEW_LANGS)})",
            param_hint="--lang",
        )
    info = create_demo_dataset(ws, customers, seed, lang=lang)
    typer.echo(f"dataset '{info.id}' saved in {ws.root} ({time.perf_counter() - t0:.1f} s)")
    for t, n in info.tables.items():
        typer.echo(f"  {t:<10} {n:>12,} rows")
    if out is not None:
        from core.demo import write_demo_files

        tables = {t: ws.load_table(info.id, t) for t in info.tables}
        paths = write_demo_files(tables, out, fmt=fmt)
        for p in paths.values():
            typer.echo(f"  wrote {p}")


@app.command()
def ingest(
    files: Annotated[
        list[Path], typer.Argument(help="CSV / TSV / Parquet / Excel / JSON-lines files")
    ],
    name: Annotated[
        str | None, typer.Option(help="Dataset name (default: first file's name)")
    ] = None,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            "-t",
            help="Table of each file, in order (customers, orders, products, reviews); guessed when omitted",
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            "-m",
            help="Column mapping override SOURCE=CANONICAL (repeatable; CANONICAL '-' keeps it as an extra column)",
        ),
    ] = None,
    rejected_out: Annotated[
        Path | None, typer.Option(help="Write rejected rows (with reasons) to this CSV")
    ] = None,
    max_file_mb: Annotated[
        float | None,
        typer.Option(help="Largest file accepted, in MB (default: $SEGSTUDIO_MAX_FILE_MB or 200)"),
    ] = None,
    max_rows: Annotated[
        int | None,
        typer.Option(help="Most rows per file (default: $SEGSTUDIO_MAX_ROWS or 20,000,000)"),
    ] = None,
    max_columns: Annotated[
        int | None,
        typer.Option(help="Most columns per file (default: $SEGSTUDIO_MAX_COLUMNS or 2,000)"),
    ] = None,
    max_text_chars: Annotated[
        int | None,
        typer.Option(
            help="Longer text values are truncated (default: $SEGSTUDIO_MAX_TEXT_CHARS or 20,000)"
        ),
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Read CSV / TSV files in chunks straight to Parquet, in bounded memory "
            "(default: for text files larger than --stream-above-mb)",
        ),
    ] = None,
    stream_above_mb: Annotated[
        float, typer.Option(help="Text files larger than this are read in chunks")
    ] = 64,
    chunk_mb: Annotated[float, typer.Option(help="Chunk size when reading in chunks, MB")] = 64,
    workspace: WorkspaceOpt = None,
) -> None:
    """Validate and normalise files into a new dataset; print the ingest report."""
    from core.datasets import assemble_dataset, save_assembled
    from core.ingest import MB, IngestError, IngestLimits

    tables = list(table or [])
    if tables and len(tables) != len(files):
        _fail(
            f"--table was given {len(tables)} times for {len(files)} files; give it once per file or not at all"
        )
    overrides: dict[str, str | None] = {}
    for m in map_ or []:
        if "=" not in m:
            _fail(f"--map {m!r} must look like SOURCE=CANONICAL")
        src, dst = m.split("=", 1)
        overrides[src.strip()] = None if dst.strip() in ("", "-") else dst.strip()
    try:
        limits = IngestLimits.from_env(
            max_bytes=int(max_file_mb * MB) if max_file_mb is not None else None,
            max_rows=max_rows,
            max_columns=max_columns,
            max_text_chars=max_text_chars,
        )
    except IngestError as exc:
        _fail(str(exc))
    streamed = [_streams(p, stream, stream_above_mb * MB) for p in files]
    if any(streamed):
        _ingest_streaming(
            files, tables, overrides, limits, streamed, int(chunk_mb * MB), name, rejected_out,
            workspace,
        )  # fmt: skip
        return
    results = []
    for i, path in enumerate(files):
        try:
            results.append(_ingest_one(path, tables[i] if tables else None, overrides, limits))
        except (IngestError, FileNotFoundError, ValueError) as exc:
            _fail(str(exc))
    _check_overrides(files, overrides, [list(r.report.mapping) for r in results])
    for r in results:
        _echo_report(r.report)
    try:
        assembled = assemble_dataset(results)
    except ValueError as exc:
        _fail(str(exc))
    for w in assembled.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW)
    ws = _ws(workspace)
    info = save_assembled(ws, name or files[0].stem, assembled)
    if rejected_out is not None and assembled.rejected:
        import pandas as pd

        from core.export import write_safe_csv

        write_safe_csv(
            pd.concat(list(assembled.rejected.values()), ignore_index=True), rejected_out
        )
        typer.echo(f"rejected rows written to {rejected_out}")
    typer.echo(f"dataset '{info.id}' saved in {ws.root}")


def _streams(path: Path, stream: bool | None, above_bytes: float) -> bool:
    """Whether `segstudio ingest` reads this file in chunks: delimited text only."""
    from core.ingest import TEXT_EXTENSIONS

    lower = path.name.lower()
    lower = lower[:-3] if lower.endswith(".gz") else lower
    if Path(lower).suffix not in TEXT_EXTENSIONS or stream is False:
        return False
    if stream:
        return True
    try:
        return path.stat().st_size > above_bytes
    except OSError:
        return False  # the in-memory path reports a missing file


def _ingest_one(path: Path, table: str | None, overrides: dict[str, str | None], limits):
    from core.ingest import guess_mapping, guess_table, read_raw
    from core.ingest import ingest as run_ingest

    raw = read_raw(path, path.name, limits=limits)
    t = table or guess_table(raw.df)
    mapping = guess_mapping(raw.df, t)
    mapping.update(_overrides_for(list(raw.df.columns), overrides))
    return run_ingest(raw, t, mapping, limits=limits)


def _overrides_for(columns: list[str], overrides: dict[str, str | None]) -> dict[str, str | None]:
    """The --map overrides that name a column of this file: as typed, else ignoring case and
    punctuation (`--map churn=label` for a column `Churn`)."""
    from core.roles import normalize_name

    by_norm = {normalize_name(c): c for c in columns}
    out: dict[str, str | None] = {}
    for src, dst in overrides.items():
        col = src if src in columns else by_norm.get(normalize_name(src))
        if col is not None:
            out[col] = dst
    return out


def _check_overrides(files: list[Path], overrides: dict[str, str | None], columns: list[list[str]]):
    """A --map naming a column no file has is a typo: say so instead of ignoring it."""
    for src in overrides:
        if not any(_overrides_for(cols, {src: None}) for cols in columns):
            seen = sorted({c for cols in columns for c in cols})
            _fail(
                f"--map {src!r}: no column of that name in {', '.join(f.name for f in files)} "
                f"(columns: {', '.join(map(str, seen))})"
            )


def _echo_report(rep) -> None:
    typer.echo(
        f"{rep.file}: {rep.table}: read {rep.rows_read:,}, kept {rep.rows_kept:,}, "
        f"rejected {rep.rows_rejected:,}"
    )
    mapped = {src: dst for src, dst in rep.mapping.items() if dst}
    if mapped:
        # What each column became, so a user knows `Churn` is now `label` (change it with
        # --map SOURCE=CANONICAL).
        typer.echo(
            "  columns: " + ", ".join(f"{s} → {d}" if s != d else s for s, d in mapped.items())
        )
    for n in rep.notes:
        typer.echo(f"  note: {n}")
    for w in rep.warnings:
        typer.secho(f"  warning: {w}", fg=typer.colors.YELLOW)
    for rej in rep.rejections[:10]:
        typer.echo(f"  rejected: {rej.reason}")
    if rep.rows_rejected > 10:
        typer.echo(f"  ... {rep.rows_rejected - 10:,} more rejected rows")


def _ingest_streaming(
    files: list[Path],
    tables: list[str],
    overrides: dict[str, str | None],
    limits,
    streamed: list[bool],
    chunk_bytes: int,
    name: str | None,
    rejected_out: Path | None,
    workspace: Path | None,
) -> None:
    """`segstudio ingest` when a file is read in chunks: every table goes to Parquet in a
    staging folder of the workspace (files read whole are written there too) and is moved
    into the dataset from there, so no table is held in memory whole."""
    import shutil
    import tempfile

    from core.datasets import save_streamed
    from core.ingest import IngestError
    from core.ingest_stream import StreamedTable, ingest_file_streaming
    from core.workspace import atomic_write_parquet

    ws = _ws(workspace)
    # Named like an unfinished dataset write, so a killed run's leftovers are cleaned up.
    stage = Path(tempfile.mkdtemp(dir=ws.root / "datasets", prefix=f".staging.new-{os.getpid()}-"))
    try:
        out: list[StreamedTable] = []
        for i, path in enumerate(files):
            t = tables[i] if tables else None
            data_path = stage / f"{i}.parquet"
            rej_path = stage / f"{i}.rejected.parquet"
            try:
                if streamed[i]:
                    res = ingest_file_streaming(
                        path, t, data_path, limits=limits, chunk_bytes=chunk_bytes,
                        rejected_path=rej_path, progress=_progress_printer(),
                        mapping_overrides=overrides,
                    )  # fmt: skip
                    typer.echo("", err=True)
                else:
                    r = _ingest_one(path, t, overrides, limits)
                    atomic_write_parquet(data_path, r.data)
                    if len(r.rejected):
                        atomic_write_parquet(rej_path, r.rejected)
                    res = StreamedTable(
                        r.table, r.report, data_path, rej_path if len(r.rejected) else None
                    )
            except (IngestError, FileNotFoundError, ValueError) as exc:
                _fail(str(exc))
            out.append(res)
        for res in out:
            _echo_report(res.report)
        try:
            info = save_streamed(ws, name or files[0].stem, out)
        except ValueError as exc:
            _fail(str(exc))
        for w in info.meta.get("warnings", []):
            typer.secho(f"warning: {w}", fg=typer.colors.YELLOW)
        if rejected_out is not None:
            rejected = ws.load_rejected(info.id)
            if rejected:
                import pandas as pd

                from core.export import write_safe_csv

                write_safe_csv(pd.concat(list(rejected.values()), ignore_index=True), rejected_out)
                typer.echo(f"rejected rows written to {rejected_out}")
        typer.echo(f"dataset '{info.id}' saved in {ws.root}")
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@app.command()
def datasets(workspace: WorkspaceOpt = None) -> None:
    """List the workspace's datasets."""
    ws = _ws(workspace)
    items = ws.list_datasets()
    if not items:
        typer.echo("no datasets yet: run `segstudio demo` or `segstudio ingest FILE`")
    for d in items:
        tables = ", ".join(f"{t} {n:,}" for t, n in d.tables.items())
        typer.echo(f"{d.id:<28} {d.name:<40} {tables}")


@app.command()
def features(
    dataset: Annotated[str, typer.Argument(help="Dataset id (see `segstudio datasets`)")],
    cutoff: Annotated[
        str | None, typer.Option(help="Use only data before this date (YYYY-MM-DD)")
    ] = None,
    custom: Annotated[
        list[str] | None,
        typer.Option(
            "--custom", "-c", help="Custom feature NAME=SQL (orders table) or NAME@SOURCE=SQL"
        ),
    ] = None,
    disable: Annotated[
        list[str] | None, typer.Option("--disable", "-x", help="Catalogue feature to leave out")
    ] = None,
    enable: Annotated[
        list[str] | None,
        typer.Option(
            "--enable", "-e", help="Feature that is off by default to use (e.g. an attribute)"
        ),
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save",
            help="Keep this configuration (cutoff, --custom, --disable, --enable) for the "
            "dataset: segment, train and the app then use it",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the feature table (.parquet or .csv)")
    ] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="List the available features and exit")
    ] = False,
    show_sql: Annotated[bool, typer.Option("--sql", help="Print the generated SQL")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Compute customer features with DuckDB SQL."""
    from core.datasets import (
        FeatureConfig,
        compute_dataset_features,
        feature_engine,
        load_feature_config,
    )
    from core.features import FeatureSQLError, validate_custom_feature

    ws = _ws(workspace)
    try:
        ws.get_dataset(dataset)
    except (KeyError, ValueError) as exc:
        _fail(str(exc))
    saved = load_feature_config(ws, dataset)
    config = FeatureConfig(
        disabled=list(disable) if disable else saved.disabled,
        custom=list(saved.custom),
        cutoff=cutoff if cutoff is not None else saved.cutoff,
        enabled=list(enable) if enable else saved.enabled,
    )
    try:
        with feature_engine(ws, dataset, config.cutoff) as eng:
            for spec in custom or []:
                if "=" not in spec:
                    _fail(f"--custom {spec!r} must look like NAME=SQL or NAME@SOURCE=SQL")
                head, sql = spec.split("=", 1)
                fname, _, source = head.partition("@")
                fname = fname.strip()
                # A saved feature of the same name is replaced, not doubled.
                config.custom = [f for f in config.custom if f.name != fname]
                config.custom.append(
                    validate_custom_feature(fname, sql, source or "orders", engine=eng)
                )
            catalogue = eng.catalogue() + config.custom
            known = {f.name for f in catalogue}
            for opt, names in (("--disable", disable), ("--enable", enable)):
                unknown = sorted(set(names or []) - known)
                if unknown:
                    _fail(
                        f"{opt}: no feature {', '.join(map(repr, unknown))} in this dataset "
                        "(see `segstudio features DATASET --list`)"
                    )
            if list_only:
                typer.echo(f"{'':2}{'feature':<34} {'group':<10} description")
                for f in catalogue:
                    on = f.name in config.enabled or (
                        f.default_enabled and f.name not in config.disabled
                    )
                    typer.echo(f"{'*' if on else ' ':2}{f.name:<34} {f.group:<10} {f.description}")
                typer.echo("(* = used; attributes beside orders are off until --enable)")
                for a in eng.attributes():
                    if a.kind not in ("number", "date", "category"):
                        typer.echo(f"  not a feature: customers column {a.column!r} ({a.kind})")
                return
        table = compute_dataset_features(ws, dataset, config)
    except (FeatureSQLError, ValueError) as exc:
        _fail(str(exc))
    if save:
        from core.datasets import save_feature_config

        save_feature_config(ws, dataset, config)
        typer.echo("feature configuration saved for this dataset")
    for n in table.notes:
        typer.echo(f"note: {n}")
    typer.echo(
        f"{len(table.data):,} customers × {len(table.features)} features (reference date {table.ref_date:%Y-%m-%d})"
    )
    if show_sql:
        typer.echo(table.sql)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".csv":
            from core.export import write_safe_csv

            write_safe_csv(table.data, out)
        else:
            table.data.to_parquet(out, index=False)
        typer.echo(f"written to {out}")
    else:
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 12):
            typer.echo(table.data.describe().T.to_string())


@app.command()
def segment(
    dataset: Annotated[str, typer.Argument(help="Dataset id")],
    method: Annotated[
        str,
        typer.Option(
            help="kmeans, minibatch_kmeans, gmm, hdbscan, agglomerative, autoencoder_kmeans or rfm"
        ),
    ] = "kmeans",
    k: Annotated[int, typer.Option(help="Number of segments (ignored by hdbscan and rfm)")] = 8,
    text: Annotated[
        bool, typer.Option("--text/--no-text", help="Use review text embeddings")
    ] = True,
    text_weight: Annotated[
        float, typer.Option(min=0, max=1, help="Share of the text part in the fused vectors")
    ] = 0.5,
    encoder: Annotated[
        str,
        typer.Option(
            help="auto (MiniLM on a GPU or for small stores, else the static model), minilm "
            "(the offline transformer; also 'default'), static (distilled from MiniLM, built "
            "once per workspace), a local model directory or a HF model id"
        ),
    ] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    seed: Annotated[int, typer.Option()] = 0,
    no_map: Annotated[bool, typer.Option("--no-map", help="Skip the UMAP map")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Segment a dataset's customers (features ⊕ text embeddings → clusters → UMAP map)."""
    from core.encoders import EncoderError
    from core.pipeline import SegmentationParams, run_segmentation

    ws = _ws(workspace)
    params = SegmentationParams(
        method=method,
        k=k,
        seed=seed,
        use_text=text,
        text_weight=text_weight,
        encoder=encoder,
        device=device,
        projection=not no_map,
    )
    progress = _progress_printer()
    try:
        run = run_segmentation(ws, dataset, params, progress=progress)
    except (ValueError, KeyError, EncoderError) as exc:
        typer.echo("", err=True)
        _fail(str(exc))
    typer.echo("", err=True)
    typer.echo(
        f"run '{run.id}': {run.summary['n_segments']} segments in {run.summary['seconds']} s"
    )
    used = run.summary.get("encoder")
    if used:
        n, limit = f"{used['n_texts']:,}", f"{used['threshold']:,}"
        why = {
            "gpu": "auto: a GPU is available",
            "small": f"auto: {n} documents, at most {limit}",
            "large_cpu": f"auto: {n} documents on CPU, more than {limit}",
            "chosen": "as chosen",
        }.get(used["reason"], used["reason"])
        typer.echo(f"text encoder: {used['encoder']} ({why}; override with --encoder)")
    for name, n in run.summary["sizes"].items():
        typer.echo(f"  {name:<20} {n:>10,}")
    for note in run.summary.get("notes", []):
        typer.echo(f"  note: {note}")


encoders_app = typer.Typer(no_args_is_help=True, help="Text encoders: the static model.")
app.add_typer(encoders_app, name="encoders")


@encoders_app.command("build-static")
def encoders_build_static(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if it exists")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Distil the static encoder from the offline MiniLM into the workspace, once (no hub)."""
    from core.encoders import EncoderError, build_static_model, static_model_dir

    ws = _ws(workspace)
    target = static_model_dir(ws.root / "models")
    printer = _progress_printer()

    def progress(stage: str, done: int, total: int) -> None:
        label = {"load": "loading MiniLM", "tokens": f"tokens {done:,}/{total:,}", "save": "saving"}
        printer(f"building the static encoder: {label[stage]}", done / max(1, total))

    try:
        info = build_static_model(target, progress=progress, force=force)
    except EncoderError as exc:
        typer.echo("", err=True)
        _fail(str(exc))
    typer.echo("", err=True)
    typer.echo(
        f"static encoder in {target}: {info['vocabulary']:,} tokens × {info['pca_dims']} dims, "
        f"built in {info['build_seconds']} s from {info['source']}"
    )


@app.command()
def export(
    dataset: Annotated[str, typer.Argument(help="Dataset id")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (.csv or .parquet)")],
    run: Annotated[
        str | None, typer.Option(help="Segmentation run id (default: the newest finished one)")
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option("--segment", "-s", help="Segment(s) to export (default: all)"),
    ] = None,
    selection: Annotated[
        str | None, typer.Option(help="A selection saved from the Explore map")
    ] = None,
    bom: Annotated[bool, typer.Option("--bom", help="UTF-8 with BOM, for Excel")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export segment lists (formula-injection-safe CSV, or Parquet)."""
    from core.export import segment_list, write_table
    from core.pipeline import load_segments, load_selections, segment_names

    ws = _ws(workspace)
    runs = [r for r in ws.list_runs(dataset, kind="segment") if r.status == "done"]
    if run:
        runs = [r for r in runs if r.id == run]
    if not runs:
        _fail(
            f"no finished segmentation run{' ' + repr(run) if run else ''} for dataset {dataset!r}; run `segstudio segment {dataset}` first"
        )
    r = runs[0]
    seg = load_segments(ws, r.id)
    if selection:
        sels = load_selections(ws, r.id)
        if selection not in sels:
            _fail(f"no saved selection {selection!r} (saved: {', '.join(sels) or 'none'})")
        seg = seg[seg["customer_id"].isin(set(sels[selection]))]
    if segment:
        unknown = set(segment) - set(seg["segment"].astype(str))
        if unknown:
            _fail(
                f"unknown segment(s) {sorted(unknown)}; this run has {sorted(seg['segment'].astype(str).unique())}"
            )
    table = segment_list(seg, segment_names(ws, r.id), include=list(segment) if segment else None)
    write_table(table, out, excel_bom=bom)
    typer.echo(f"{len(table):,} rows written to {out} (run {r.id})")


@app.command(name="train")
def train_cmd(
    dataset: Annotated[str, typer.Argument(help="Dataset id")],
    target: Annotated[
        str, typer.Option(help="label_column, churn, value_tier or cluster")
    ] = "label_column",
    label_column: Annotated[
        str | None, typer.Option(help="Customers column to predict (label_column target)")
    ] = None,
    segment_run: Annotated[
        str | None, typer.Option(help="Segmentation run id (cluster target)")
    ] = None,
    horizon_days: Annotated[
        int, typer.Option(help="Churn / value-tier horizon after the cutoff")
    ] = 90,
    cutoff: Annotated[
        str | None,
        typer.Option(help="Cutoff date for churn / value tier (default: last order − horizon)"),
    ] = None,
    text: Annotated[
        bool, typer.Option("--text/--no-text", help="Use the transformer over customer documents")
    ] = True,
    encoder: Annotated[
        str, typer.Option(help="'default' (offline MiniLM), a local model directory or a HF id")
    ] = "default",
    epochs: Annotated[int, typer.Option(min=1)] = 3,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    lr: Annotated[float, typer.Option(help="Encoder learning rate")] = 5e-5,
    max_length: Annotated[int, typer.Option(help="Tokens per document")] = 128,
    max_customers: Annotated[
        int | None, typer.Option(help="Train on a stratified sample of this many customers")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    seed: Annotated[int, typer.Option()] = 0,
    cv: Annotated[
        int,
        typer.Option(
            "--cv",
            min=0,
            help="Also k-fold cross-validate the fine-tuned model and every baseline with K "
            "folds (K ≥ 2): mean ± std of AUC, accuracy and macro-F1",
        ),
    ] = 0,
    workspace: WorkspaceOpt = None,
) -> None:
    """Fine-tune the text + numbers classifier; evaluate it next to baselines; save a bundle."""
    from core.encoders import EncoderError
    from core.finetune import FinetuneParams, run_finetune

    ws = _ws(workspace)
    p = FinetuneParams(
        target=target,
        label_column=label_column,
        segment_run=segment_run,
        horizon_days=horizon_days,
        cutoff=cutoff,
        use_text=text,
        encoder=encoder,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        max_length=max_length,
        max_customers=max_customers,
        device=device,
        seed=seed,
        cv_folds=cv,
    )
    if cv == 1:
        _fail("--cv needs at least 2 folds (or 0 for none)")
    progress = _progress_printer()
    try:
        run = run_finetune(ws, dataset, p, progress=progress)
    except (ValueError, KeyError, EncoderError) as exc:
        typer.echo("", err=True)
        _fail(str(exc))
    typer.echo("", err=True)
    s = run.summary
    typer.echo(
        f"run '{run.id}': target {s['target']} ({len(s['classes'])} classes), {s['n_customers']:,} customers, {s['seconds']} s on {s['device']}"
    )
    typer.echo(f"  holdout of {s['n_test']:,} customers:")

    def num(v) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    width = max(len(m["name"]) for m in s["models"]) + 2
    typer.echo(f"  {'model':<{width}}{'AUC':>8}{'accuracy':>10}{'macro-F1':>10}")
    for m in s["models"]:
        typer.echo(
            f"  {m['name']:<{width}}{num(m['macro_auc']):>8}{num(m['accuracy']):>10}"
            f"{num(m['macro_f1']):>10}"
        )
    best = s.get("best_baseline")
    if best:
        metric = {"macro_auc": "AUC", "macro_f1": "macro-F1"}[best["metric"]]
        model, base = num(best["model_score"]), num(best["score"])
        if s.get("beats_best_baseline"):
            typer.echo(
                f"  the fine-tuned model beats the best baseline: {metric} {model} against "
                f"{base} for {best['name']}"
            )
        else:
            typer.secho(
                f"  the baseline {best['name']} does as well as or better than the fine-tuned "
                f"model: {metric} {base} against {model}; prefer it, or give the model more "
                "data or epochs",
                fg=typer.colors.YELLOW,
            )
    if cv:
        from core.evaluate import cv_summary
        from core.finetune import load_cv

        folds = load_cv(ws, run.id)
        if folds is not None and len(folds):
            table = cv_summary(folds)
            typer.echo(f"  {table['folds'].max()}-fold cross-validation (mean ± std):")
            typer.echo(f"  {'model':<{width}}{'AUC':>15}{'accuracy':>17}{'macro-F1':>17}")
            for r in table.itertuples():
                typer.echo(f"  {r.model:<{width}}{r.macro_auc:>15}{r.accuracy:>17}{r.macro_f1:>17}")
    for w in s["warnings"]:
        typer.secho(f"  warning: {w}", fg=typer.colors.YELLOW)
    typer.echo(f"  bundle: {run.path / 'bundle'}")


@app.command(name="score")
def score_cmd(
    bundle: Annotated[Path, typer.Argument(help="A model bundle directory (runs/<id>/bundle)")],
    dataset: Annotated[
        str, typer.Argument(help="Dataset id to score (same schema as the training data)")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (.csv or .parquet)")],
    cutoff: Annotated[
        str | None,
        typer.Option(
            help="Score as of this date (features from the data before it), or 'latest' (as of "
            "the end of the data). Default: the training cutoff on the training dataset; "
            "required for a churn / value-tier model on another dataset",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Apply a saved model bundle to a dataset: customer_id, predicted class, class probabilities."""
    from core.export import write_table
    from core.finetune import score_dataset

    ws = _ws(workspace)
    try:
        result = score_dataset(ws, bundle, dataset, as_of=cutoff)
    except (ValueError, KeyError) as exc:
        _fail(str(exc))
    for note in result.attrs.get("notes", []):
        typer.echo(f"note: {note}")
    write_table(result, out)
    typer.echo(f"{len(result):,} customers scored → {out}")
    typer.echo(result["predicted"].value_counts().to_string())


@app.command(hidden=True)
def job(run_dir: Annotated[Path, typer.Argument(help="A job's run directory")]) -> None:
    """Worker entry point for background jobs (started by the app)."""
    from core.jobs import lower_priority, run_job

    lower_priority()
    raise typer.Exit(run_job(run_dir))


@app.command(name="app")
def run_app(
    demo_store: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Create the demo dataset first if missing")
    ] = True,
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to bind (127.0.0.1 keeps it local)")
    ] = "127.0.0.1",
    headless: Annotated[bool, typer.Option(help="Do not open a browser")] = True,
    workspace: WorkspaceOpt = None,
) -> None:
    """Start the web app."""
    ws = _ws(workspace)
    if demo_store:
        from core.datasets import ensure_demo_dataset

        if not ws.has_dataset("demo"):
            typer.echo("creating the demo store (first run only)...")
        ensure_demo_dataset(ws)
    env = dict(os.environ, SEGSTUDIO_HOME=str(ws.root))
    cmd = app_command(port, address, headless=headless)
    typer.echo(f"Segment Studio on http://{address}:{port}  (workspace {ws.root})")
    raise typer.Exit(subprocess.call(cmd, cwd=PROJECT_ROOT, env=env))


def app_command(port: int, address: str = "127.0.0.1", *, headless: bool = True) -> list[str]:
    """The `streamlit run` command line for the app (run it with cwd=PROJECT_ROOT)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        str(headless).lower(),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]


@contextmanager
def serve_app(home: str | Path, *, timeout_s: float = 120, **env_extra: str) -> Iterator[str]:
    """Run the app on a free local port over the workspace at `home`; yields its URL.

    Waits for Streamlit's health endpoint, and stops the server on exit. Used by the
    end-to-end tests and the dashboard benchmark.
    """
    import socket
    import tempfile
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, SEGSTUDIO_HOME=str(home), **env_extra)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            app_command(port), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        tail = log.read().decode(errors="replace")[-2000:]
                        raise RuntimeError(f"the app did not start: {tail}") from None
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
