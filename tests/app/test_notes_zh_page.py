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


def test_explore_colours_a_model_map_by_its_classes_in_chinese(workspace_root):
    """A run that clusters a churn model's vectors, coloured by the model's target: the legend
    says 活跃 / 流失, while the stored segments keep the model's class values."""
    import json

    from core.datasets import create_demo_dataset
    from core.finetune import FinetuneParams, run_finetune
    from core.pipeline import SegmentationParams, load_segments, run_segmentation
    from core.workspace import Workspace

    ws = Workspace(workspace_root)
    create_demo_dataset(ws, n_customers=400, seed=4)
    fine = FinetuneParams(target="churn", horizon_days=90, use_text=False, epochs=1)
    train = run_finetune(ws, "demo", fine)
    seg_run = run_segmentation(
        ws, "demo", SegmentationParams(method="kmeans", k=3, vectors_from=train.id)
    )
    assert set(load_segments(ws, seg_run.id)["model_target"]) == {"active", "churned"}

    at = app_in("zh", "explore")
    at.selectbox(key="explore_colour").set_value("model_target").run()
    assert not at.exception, at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = {tr.get("name") for tr in spec["data"]}
    assert any(n and "流失" in n for n in names) and any(n and "活跃" in n for n in names), names
    assert not any(n and ("churned" in n or "active" in n) for n in names), names
