"""Workspaces shared by the page tests."""

from __future__ import annotations

import pytest

from core.datasets import create_demo_dataset
from core.workspace import Workspace


@pytest.fixture
def demo_ws(workspace_root) -> Workspace:
    ws = Workspace(workspace_root)
    create_demo_dataset(ws, n_customers=1500, seed=3)
    return ws


@pytest.fixture
def segmented_ws(demo_ws):
    from core.pipeline import SegmentationParams, run_segmentation

    run_segmentation(demo_ws, "demo", SegmentationParams(method="kmeans", k=5, use_text=False))
    return demo_ws
