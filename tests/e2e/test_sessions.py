"""Two people in two browsers at once: neither sees the other's dataset choice, map selection
or upload in progress."""

from __future__ import annotations

import lasso
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e


def _dataset_box(page):
    return page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Active dataset")


def _sidebar_dataset(page) -> str:
    return _dataset_box(page).input_value()


def _pick_dataset(page, name: str) -> None:
    _dataset_box(page).click()
    page.get_by_role("option", name=name).click()
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=stSidebar] input[role=combobox]')]"
        ".some(e => e.getAttribute('aria-label') === 'Active dataset' && e.value === n)",
        arg=name,
    )
    _settle(page)


def _go(page, title: str) -> None:
    """Navigate inside the app (same session) with the sidebar link."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    path = "/" if title == "Home" else f"/{title.lower()}"
    page.wait_for_function("p => location.pathname === p", arg=path)
    _settle(page)


def _settle(page) -> None:
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)


def _lasso(page) -> None:
    page.wait_for_selector(".js-plotly-plot .nsewdrag", timeout=60_000)
    page.wait_for_timeout(1000)
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    w, h = box["width"], box["height"]
    path = [(cx - 0.3 * w, cy - 0.3 * h), (cx + 0.3 * w, cy - 0.3 * h),
            (cx + 0.3 * w, cy + 0.3 * h), (cx - 0.3 * w, cy + 0.3 * h),
            (cx - 0.3 * w, cy - 0.29 * h)]  # fmt: skip
    lasso.draw(page, path)
    page.wait_for_selector(
        '[data-testid="stMetric"]:has-text("Selected customers")', timeout=30_000
    )


def test_two_sessions_keep_their_own_dataset_selection_and_upload(browser, served_app, tmp_path):
    url, ws = served_app
    orders = pd.DataFrame(
        {
            "customer_id": ["K1", "K2", "K3"],
            "order_date": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-03-04"]),
            "amount": [10.0, 20.0, 30.0],
        }
    )
    ws.save_dataset("Kiosk", {"orders": orders})  # the newest: every new session starts on it
    demo_name = ws.get_dataset("demo").name

    ctx_a = browser.new_context(viewport={"width": 1400, "height": 1100})
    ctx_b = browser.new_context(viewport={"width": 1400, "height": 1100})
    a, b = ctx_a.new_page(), ctx_b.new_page()
    a.goto(url)
    b.goto(url)
    for p in (a, b):
        _dataset_box(p).wait_for(timeout=60_000)
        assert _sidebar_dataset(p) == "Kiosk"

    # A works on the demo store and lassoes customers on its map.
    _pick_dataset(a, demo_name)
    _go(a, "Explore")
    _lasso(a)
    n_a = a.locator('[data-testid="stMetric"]', has_text="Selected customers").inner_text()

    # B is still on its own dataset, and A's selection is nowhere in B's session.
    _go(b, "Home")
    _settle(b)
    assert _sidebar_dataset(b) == "Kiosk"
    _pick_dataset(b, demo_name)
    _go(b, "Explore")
    b.wait_for_selector(".js-plotly-plot .nsewdrag", timeout=60_000)
    _settle(b)
    assert b.locator('[data-testid="stMetric"]', has_text="Selected customers").count() == 0
    assert b.get_by_text("Draw a lasso or a box on the map").count() == 1

    # B starts an upload; A's Data page shows nothing of it, and A keeps its selection.
    path = tmp_path / "b_private_upload.csv"
    path.write_text("customer_id,order_date,amount\nZ1,2024-01-01,5\n")
    _go(b, "Data")
    b.wait_for_selector('input[type="file"]', state="attached", timeout=60_000)
    b.set_input_files('input[type="file"]', str(path))
    b.wait_for_selector("text=b_private_upload.csv", timeout=30_000)

    # A, still on its map, reruns (ticks a box): its selection is intact after B's activity.
    a.get_by_text("UTF-8 with BOM (for Excel)").first.click()
    _settle(a)
    assert a.locator('[data-testid="stMetric"]', has_text="Selected customers").inner_text() == n_a
    _go(a, "Data")
    assert a.get_by_text("b_private_upload.csv").count() == 0
    assert _sidebar_dataset(a) == demo_name
    ctx_a.close()
    ctx_b.close()
