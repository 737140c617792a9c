"""Upload to profiles for a store of realistic size, every stage timed, cold and warm.

    python -m benchmarks.end_to_end [--customers 100000] [--seed 0]

The demo store's tables are written as CSV files (what a user uploads), then: ingest (the
`segstudio ingest` path) → features → documents → text embeddings (default encoder: `auto`) →
fused vectors → K-means → UMAP map → profiles, in a cold workspace (the static encoder is
built on the way). The second run repeats segmentation and profiles on the unchanged data
(feature, embedding and map caches). Writes benchmarks/end_to_end.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).with_name("end_to_end.md")


def _segment_and_profile(ws, ds_id: str) -> tuple[dict[str, float], dict]:
    """Stage → seconds of one segmentation (default settings) and its profiles."""
    from core.pipeline import SegmentationParams, load_segments, run_segmentation
    from core.profiles import build_profiles

    marks: list[tuple[float, str]] = []

    def progress(message, fraction: float) -> None:
        key = getattr(getattr(message, "phrase", None), "key", str(message))
        if not marks or marks[-1][1] != key:
            marks.append((time.perf_counter(), key))

    t0 = time.perf_counter()
    run = run_segmentation(ws, ds_id, SegmentationParams(), progress=progress)
    t1 = time.perf_counter()
    stages: dict[str, float] = {}
    for (start, key), (end, _) in zip(marks, [*marks[1:], (t1, "")], strict=True):
        stages[key] = stages.get(key, 0.0) + end - start
    seg = load_segments(ws, run.id)
    t2 = time.perf_counter()
    build_profiles(seg, ws.load_table(ds_id, "reviews"))
    stages["profiles"] = time.perf_counter() - t2
    stages["segmentation total"] = t1 - t0
    return stages, run.summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from core.datasets import assemble_dataset, save_assembled
    from core.demo import generate_demo_store
    from core.ingest import ingest_file
    from core.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tables = generate_demo_store(n_customers=args.customers, seed=args.seed)
        tables["customers"] = tables["customers"].drop(columns=["persona"])
        paths = []
        for name, df in tables.items():
            path = root / f"{name}.csv"
            df.to_csv(path, index=False)
            paths.append(path)
        sizes = {p.stem: (len(tables[p.stem]), p.stat().st_size / 2**20) for p in paths}
        os.environ["SEGSTUDIO_HOME"] = str(root / "ws")
        ws = Workspace(root / "ws")

        t0 = time.perf_counter()
        results = [ingest_file(p) for p in paths]
        ds_id = save_assembled(ws, "store", assemble_dataset(results)).id
        ingest_s = time.perf_counter() - t0
        cold, summary = _segment_and_profile(ws, ds_id)
        warm, _ = _segment_and_profile(ws, ds_id)

    keys = list(dict.fromkeys([*cold, *warm]))
    labels = {
        "features": "features (DuckDB)",
        "documents": "customer documents",
        "static_build": "static encoder build (once per workspace)",
        "embedding": "text embeddings",
        "fusing": "fused vectors",
        "clustering": "K-means",
        "map": "UMAP map",
        "saving": "saving the run",
        "profiles": "profiles (names, words, playbook)",
        "segmentation total": "**segmentation total**",
    }
    cold_total = ingest_s + cold["segmentation total"] + cold["profiles"]
    warm_total = warm["segmentation total"] + warm["profiles"]
    encoder = summary.get("encoder", {})
    lines = [
        f"# Upload to profiles at {args.customers:,} customers (2 CPU cores)",
        "",
        f"`python -m benchmarks.end_to_end --customers {args.customers}`, run "
        f"{time.strftime('%Y-%m-%d %H:%M')}, load average before "
        f"{os.getloadavg()[0]:.1f}. Files: "
        + ", ".join(f"{k} {n:,} rows ({mb:.0f} MB)" for k, (n, mb) in sizes.items())
        + f". Text encoder chosen by `auto`: {encoder.get('encoder', '?')} "
        f"({encoder.get('reason', '?')}, {encoder.get('n_texts', 0):,} documents).",
        "",
        "| stage | cold workspace (s) | second run, data unchanged (s) |",
        "|---|---|---|",
        f"| ingest (4 CSV files → checked Parquet) | {ingest_s:.1f} | — |",
        *[
            f"| {labels.get(k, k)} | {cold.get(k, 0):.1f} | {warm.get(k, 0):.1f} |"
            for k in keys
            if k not in ("done",)
        ],
        f"| **upload → profiles** | **{cold_total:.1f}** | **{warm_total:.1f}** |",
        "",
        "Goals: under 180 s from a cold workspace; under 30 s for the second run.",
        "",
    ]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
