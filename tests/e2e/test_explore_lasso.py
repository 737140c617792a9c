"""A lasso drawn with the mouse on the Explore map selects customers; the CSV holds exactly them."""

from __future__ import annotations

import io
import re

import lasso
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_lasso_selection_table_and_csv(browser, served_app):
    url, ws = served_app
    _lasso_and_check_csv(browser, url, ws, sampled=False)


def test_lasso_on_a_sampled_map_selects_every_customer_in_the_area(browser, served_app_sampled):
    """The map draws 500 of 1,500 customers; the lasso still selects all of those inside it."""
    url, ws = served_app_sampled
    _lasso_and_check_csv(browser, url, ws, sampled=True)


def _lasso_and_check_csv(browser, url, ws, *, sampled: bool) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url + "/explore")
    page.wait_for_selector(".js-plotly-plot .nsewdrag", timeout=60_000)
    page.wait_for_timeout(1500)
    caption = page.get_by_text(re.compile(r"Showing 500 of 1,500 customers"))
    assert caption.count() == (1 if sampled else 0)
    n_drawn = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullData"
        ".reduce((n, t) => n + t._length, 0)"
    )
    assert n_drawn == (500 if sampled else 1500)
    drag = page.locator(".js-plotly-plot .nsewdrag").first
    box = drag.bounding_box()
    cx, cy, w, h = (
        box["x"] + box["width"] / 2,
        box["y"] + box["height"] / 2,
        box["width"],
        box["height"],
    )
    # A generous lasso around the middle of the map.
    path = [
        (cx - 0.3 * w, cy - 0.3 * h),
        (cx + 0.3 * w, cy - 0.3 * h),
        (cx + 0.3 * w, cy + 0.3 * h),
        (cx - 0.3 * w, cy + 0.3 * h),
        (cx - 0.3 * w, cy - 0.29 * h),
    ]
    lasso.draw(page, path)
    page.wait_for_selector(
        '[data-testid="stMetric"]:has-text("Selected customers")', timeout=30_000
    )
    n_selected = int(_metric(page, "Selected customers").replace(",", ""))
    assert 0 < n_selected <= 1500

    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile(r"Download .* customers \(CSV\)")).click()
    with open(dl.value.path(), "rb") as fh:
        data = fh.read()
    csv = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert len(csv) == n_selected
    assert csv["customer_id"].is_unique
    from core.pipeline import load_segments

    run = ws.list_runs("demo", kind="segment")[0]
    seg = load_segments(ws, run.id).set_index("customer_id")
    # The exported customers are exactly the map points inside the drawn lasso, computed
    # independently from the lasso's pixels converted to data coordinates by plotly's axes.
    poly = lasso.to_data_coords(page, path, box)
    expected = lasso.assert_selected_exactly(csv["customer_id"], seg, poly)
    assert set(csv["segment"]) <= set(seg["segment"])
    if sampled:  # far more customers than the points drawn inside the lasso
        assert len(expected) > 0.5 * n_selected and n_selected > 2 * 500 * len(expected) / 1500
    page.close()
