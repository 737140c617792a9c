"""The Segments page says a run's notes, and the sidebar the demo store's name, in 简体中文."""

from __future__ import annotations

import re

from pagetest import app_in

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_segment_run_notes_and_demo_name_in_chinese(workspace_root):
    from core.datasets import create_demo_dataset
    from core.pipeline import SegmentationParams, run_segmentation
    from core.workspace import Workspace

    ws = Workspace(workspace_root)
    create_demo_dataset(ws, n_customers=400, seed=2)
    params = SegmentationParams(
        method="hdbscan",
        use_text=False,
        projection=False,
        method_params={"max_rows": 150, "min_cluster_size": 10},
    )
    run = run_segmentation(ws, "demo", params)
    assert any("random sample of 150 of 400" in n for n in run.summary["notes"])  # English

    at = app_in("zh", "segments")
    assert not at.exception, at.exception
    notes = [c.value for c in at.caption if c.value.startswith("注：")]
    assert notes, [c.value for c in at.caption]
    assert all(CJK.search(n.removeprefix("注：")) for n in notes), notes
    assert any("150" in n and "400" in n and "随机抽取" in n for n in notes), notes
    assert not any("random sample" in n for n in notes)
    # The demo store's generated name is translated in the sidebar's dataset picker.
    picker = at.sidebar.selectbox[-1]
    assert picker.options == ["演示商店（400 位客户，随机种子 2）"], picker.options
