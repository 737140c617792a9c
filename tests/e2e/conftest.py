"""Real-browser tests: the app served by `streamlit run`, driven by Playwright + Debian chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.cli import serve_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SEGSTUDIO_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"{CHROMIUM} is missing: .ci/run installs Debian's chromium for these tests"
            )
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def _segmented_workspace(root: Path):
    from core.datasets import create_demo_dataset
    from core.pipeline import SegmentationParams, run_segmentation
    from core.workspace import Workspace

    ws = Workspace(root)
    create_demo_dataset(ws, n_customers=1500, seed=11)
    run_segmentation(ws, "demo", SegmentationParams(method="kmeans", k=6, use_text=False))
    return ws


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    """Start the real app on a free local port over a fresh workspace; yields (url, workspace)."""
    root = tmp_path_factory.mktemp("e2e_ws")
    ws = _segmented_workspace(root)
    with serve_app(root) as url:
        yield url, ws
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def served_app_sampled(tmp_path_factory):
    """The same app, with the Explore map drawing at most 500 of the 1,500 customers."""
    root = tmp_path_factory.mktemp("e2e_ws_sampled")
    ws = _segmented_workspace(root)
    with serve_app(root, SEGSTUDIO_MAP_POINTS="500") as url:
        yield url, ws
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def empty_app(tmp_path_factory):
    """The app over an empty workspace, as a new user first sees it; yields (url, workspace).

    One OpenMP thread per process: on a small shared machine the jobs' scikit-learn / torch
    thread pools otherwise oversubscribe the cores, and a baseline fit that takes seconds
    alone can take minutes.
    """
    from core.workspace import Workspace

    root = tmp_path_factory.mktemp("e2e_ws_empty")
    with serve_app(root, OMP_NUM_THREADS="1") as url:
        yield url, Workspace(root)
    shutil.rmtree(root, ignore_errors=True)
