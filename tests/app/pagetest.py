"""AppTest helpers shared by the page tests (imported as `pagetest`: tests/app is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TIMEOUT = 180


def make_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def page_texts(at: AppTest) -> str:
    """Every visible text of the page, for 'does the user see X' assertions."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    parts += [str(m.label) + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


def small_segmented_workspace(root, *, seed: int = 5, k: int = 4, train: bool = False):
    """(workspace, training run or None): a 600-customer demo store with a numeric K-means run
    (with its map) and, with `train`, a tiny numbers-only churn model. About 10 s."""
    from core.datasets import create_demo_dataset
    from core.finetune import FinetuneParams, run_finetune
    from core.pipeline import SegmentationParams, run_segmentation
    from core.workspace import Workspace

    ws = Workspace(root)
    create_demo_dataset(ws, n_customers=600, seed=seed)
    run_segmentation(ws, "demo", SegmentationParams(method="kmeans", k=k, use_text=False))
    params = FinetuneParams(target="churn", use_text=False, epochs=2, batch_size=64)
    return ws, (run_finetune(ws, "demo", params) if train else None)


def app_in(lang: str, page: str | None = None) -> AppTest:
    """The app switched to `lang` in the sidebar, then on `page` (a pages/ file stem)."""
    at = make_app().run()
    assert not at.exception, at.exception
    at.selectbox(key="ui_language").set_value(lang).run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, at.exception
    return at
