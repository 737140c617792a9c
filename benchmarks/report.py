"""Small helpers shared by the benchmark scripts."""

from __future__ import annotations

import pandas as pd


def bench_dataset(workspace: str, customers: int, seed: int):
    """(workspace, dataset id) of a demo store of this size, generated on first use."""
    from core.datasets import create_demo_dataset
    from core.workspace import Workspace

    ws = Workspace(workspace)
    ds_id = f"demo-{customers}-{seed}"
    if not ws.has_dataset(ds_id):
        create_demo_dataset(ws, customers, seed, dataset_id=ds_id)
    return ws, ds_id


def markdown_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)
