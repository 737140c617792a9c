"""Uploading a messy CSV through the real file input shows the validation report."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

MESSY = (
    "Customer ID;Order Date;Amount\n"
    "A1;05.01.2024;10,50\n"
    ";06.01.2024;3,00\n"
    "B2;31.02.2024;7,25\n"
    "C3;01.03.2024;abc\n"
    "D4;02.03.2024;1.234,56\n"
).encode("latin-1")


def test_upload_messy_csv_shows_report(browser, served_app, tmp_path):
    url, ws = served_app
    path = tmp_path / "bestellungen.csv"
    path.write_bytes(MESSY)
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(url + "/data")
    page.wait_for_selector('input[type="file"]', state="attached", timeout=60_000)
    page.set_input_files('input[type="file"]', str(path))
    page.wait_for_selector("text=bestellungen.csv", timeout=30_000)
    page.get_by_role("button", name="Validate and save").click()
    page.wait_for_selector("text=saved and selected", timeout=60_000)
    summary = page.locator('[data-testid="stExpander"]', has_text="bestellungen.csv").first
    label = summary.inner_text()
    assert re.search(r"2 of 5 rows kept, 3 rejected", label), label
    datasets = [d for d in ws.list_datasets() if d.name.startswith("bestellungen")]
    assert datasets and datasets[0].tables == {"orders": 2}
    orders = ws.load_table(datasets[0].id, "orders")
    assert sorted(orders["amount"].tolist()) == [10.5, 1234.56]
    page.close()
