"""A new user's whole path through the real app, in a real browser, from an empty workspace.

Home → load the demo store → Data: validation report → Features → Segments: run a
segmentation and watch it finish → Explore: draw a lasso with the mouse, check the selection
count and the downloaded CSV against the customers inside the lasso → Profiles, Migration →
Train: a short numbers-only CPU job whose progress updates without a reload → Evaluate:
confusion matrix and ROC curve → Campaigns, Recommendations → Export a segment list → Home →
Data: upload a messy CSV through the file input and read its validation report.

Pages are reached by clicking the sidebar links, as a user would. With
``SEGSTUDIO_SCREENSHOTS=1`` a full-page screenshot of every page is written to
``assets/screenshots/<page>.png`` (the README's pictures); without it nothing in the repository
is touched.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import lasso
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS_DIR = ROOT / "assets" / "screenshots"
SHOTS = os.environ.get("SEGSTUDIO_SCREENSHOTS") == "1"
VIEWPORT = {"width": 1400, "height": 900}
MAX_SHOT_HEIGHT = 3200  # px: long pages are cut here so the PNGs stay small

# Settled: no script run in flight (the "Running…" status widget), no stale element left from a
# previous run, no skeleton placeholder, every plotly chart drawn — and all of that for
# CALM_MS on end. Streamlit shows its status widget only once a run has lasted about half a
# second, so a shorter calm could be the gap between a click and the widget appearing.
CALM_MS = 1200
SETTLED_JS = """(calmMs) => {
  const busy = document.querySelector('[data-testid="stStatusWidget"]')
    || document.querySelector('[data-stale="true"]')
    || document.querySelector('[data-testid="stSkeleton"]')
    || document.querySelector('[data-testid="stSpinner"]')
    || [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
         .some(c => !c.querySelector('.main-svg'));
  const now = performance.now();
  if (busy || window.__e2eCalmSince === undefined) window.__e2eCalmSince = now;
  return !busy && now - window.__e2eCalmSince >= calmMs;
}"""

# The job progress bar's value and text, once it differs from `last`; or {done} once the page
# shows the job's result (an element matching `doneSelector` holding `doneText`) or an error.
PROGRESS_JS = """([last, doneSelector, doneText]) => {
  const box = document.querySelector('[data-testid="stProgress"]');
  const bar = box && box.querySelector('[role="progressbar"]');
  const now = bar ? bar.getAttribute('aria-valuenow') + '|' + box.innerText : null;
  const error = document.querySelector(
    '[data-testid="stAlertContentError"], [data-testid="stException"]');
  if (error) return {done: true, now, error: error.innerText};
  const done = [...document.querySelectorAll(doneSelector)]
    .some(e => e.innerText.includes(doneText));
  if (done) return {done: true, now};
  if (now !== null && now !== last) return {done: false, now};
  return false;
}"""

MESSY = (
    "Customer ID;Order Date;Amount;Note\n"
    "A1;05.01.2024;10,50;first\n"
    "A2;31.02.2024;7,25;impossible date\n"
    ";06.01.2024;3,00;no customer\n"
    "A3;07.01.2024;abc;not a number\n"
    "A4;08.01.2024;1.234,56;thousands separator\n"
    "A1;09.01.2024;2,00;Müller\n"
).encode("latin-1")


class Walk:
    """The browser page plus the small vocabulary the path is written in."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url
        self.t0 = self.t_step = time.monotonic()
        self.timings: list[tuple[str, float]] = []

    def step(self, name: str) -> None:
        now = time.monotonic()
        self.timings.append((name, round(now - self.t_step, 1)))
        self.t_step = now

    def settle(self, timeout: float = 60_000) -> None:
        self.page.evaluate("() => { delete window.__e2eCalmSince; }")
        self.page.wait_for_function(SETTLED_JS, arg=CALM_MS, polling=100, timeout=timeout)

    def go(self, title: str, path: str, heading: str | None = None) -> None:
        """Click the page's link in the sidebar; wait for its heading and a settled page."""
        self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
        self.page.wait_for_url(f"{self.url}/{path}")
        self.heading(heading or title)
        self.settle()

    def heading(self, text: str, timeout: float = 60_000):
        loc = self.page.get_by_role("heading", name=text, exact=True).first
        loc.wait_for(timeout=timeout)
        return loc

    def no_errors(self) -> None:
        errors = self.page.locator(
            '[data-testid="stException"], [data-testid="stAlertContentError"]'
        )
        assert errors.count() == 0, errors.all_inner_texts()

    def metric(self, label: str) -> str:
        box = self.page.locator('[data-testid="stMetric"]', has_text=label).first
        return box.locator('[data-testid="stMetricValue"]').inner_text()

    def switch_off(self, name: str) -> None:
        switch = self.page.get_by_role("switch", name=name)
        switch.wait_for()
        if switch.is_checked():
            # The input itself is visually hidden; users click the switch's label.
            self.page.locator("label", has=switch).click()
        assert not switch.is_checked()

    def download(self, button_name) -> bytes:
        with self.page.expect_download() as dl:
            self.page.get_by_role("button", name=button_name).click()
        return Path(dl.value.path()).read_bytes()

    def watch_job(self, done_selector: str, done_text: str, timeout_s: float) -> list[str]:
        """Every progress state the page shows until the job is done, read without a reload."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s
        while True:
            left = (deadline - time.monotonic()) * 1000
            assert left > 0, f"the job did not finish in {timeout_s} s; saw {seen}"
            got = self.page.wait_for_function(
                PROGRESS_JS,
                arg=[seen[-1] if seen else None, done_selector, done_text],
                polling=200,
                timeout=left,
            ).json_value()
            if got["now"] is not None and (not seen or got["now"] != seen[-1]):
                seen.append(got["now"])
            assert not got.get("error"), f"the job failed: {got['error']}"
            if got["done"]:
                return seen

    def shot(self, name: str) -> None:
        """Check the page shows no error; with SEGSTUDIO_SCREENSHOTS=1, save it whole."""
        # Park the mouse on empty space: no tooltip or hover toolbar in the picture.
        self.page.mouse.move(VIEWPORT["width"] - 10, VIEWPORT["height"] - 10)
        self.settle()
        self.no_errors()
        if not SHOTS:
            return
        # Toasts ("Campaign … saved") vanish by themselves after a few seconds.
        self.page.locator('[data-testid="stToast"]').first.wait_for(state="detached")
        height = self.page.evaluate(
            """() => {
              const main = document.querySelector('[data-testid="stMain"]')
                || document.querySelector('section.main');
              return Math.max(main ? main.scrollHeight : 0, window.innerHeight);
            }"""
        )
        full = {"width": VIEWPORT["width"], "height": min(int(height), MAX_SHOT_HEIGHT)}
        self.page.set_viewport_size(full)
        try:
            self.settle()  # plotly re-lays out its charts for the new size
            SHOTS_DIR.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS_DIR / f"{name}.png"))
        finally:
            self.page.set_viewport_size(VIEWPORT)
            self.settle()


def _charts(page) -> list[dict]:
    """What every plotly chart on the page shows: drawn title, trace types, points per trace."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
            title: (gd.querySelector('.gtitle') || {}).textContent || '',
            types: gd._fullData.map(t => t.type),
            lengths: gd._fullData.map(t => t._length),
            custom: gd.data[0] && gd.data[0].customdata ? gd.data[0].customdata : null,
        }))"""
    )


def test_new_user_path(browser, empty_app, tmp_path):
    url, ws = empty_app
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)  # a 2-core CI machine can take a while per page
    w = Walk(page, url)
    try:
        _walk(w, ws, tmp_path)
    finally:
        print("\nstep timings (s):", w.timings, "total", round(time.monotonic() - w.t0, 1))
        context.close()


def _walk(w: Walk, ws, tmp_path: Path) -> None:
    page = w.page
    from core.pipeline import load_segments

    # ------------------------------------------------------------ Home: nothing loaded yet
    page.goto(w.url)
    w.heading("Start here")
    w.settle()
    assert ws.list_datasets() == []
    page.get_by_role("button", name="Load the demo store").click()
    w.page.locator('[data-testid="stMetric"]', has_text="Customers").wait_for(timeout=120_000)
    w.settle()
    assert w.metric("Customers") == "20,000"
    (ds,) = ws.list_datasets()
    assert ds.id == "demo" and ds.n_customers == 20_000
    w.step("home: load the demo store")

    # ------------------------------------------------------------ Data: validation report
    w.go("Data", "data")
    w.heading(f"Validation report — {ds.name}")
    reports = page.locator('[data-testid="stExpander"]', has_text=" rows kept, ")
    labels = reports.all_inner_texts()
    for table, n in ds.tables.items():
        expected = f"→ {table}: {n:,} of {n:,} rows kept, 0 rejected"
        assert any(expected in lab for lab in labels), (expected, labels)
    w.step("data: validation report")

    # ------------------------------------------------------------ Features
    w.go("Features", "features")
    page.locator(".st-key-dist_chart .js-plotly-plot .main-svg").first.wait_for()
    w.shot("features")
    w.step("features")

    # ------------------------------------------------------------ Segments: run one
    w.go("Segments", "segments")
    # Numbers only: embedding 20,000 customers' reviews on a CPU takes minutes.
    w.switch_off("Use review text")
    page.get_by_role("button", name="Run segmentation").click()
    seen = w.watch_job('[data-testid="stHeading"]', "Choose k", timeout_s=240)
    # The fragment redrew the bar with the job's stages (at least the start and one more).
    print("\nsegmentation progress seen:", seen)
    assert len(seen) >= 2, seen
    w.settle()
    (run,) = [r for r in ws.list_runs("demo", kind="segment") if r.status == "done"]
    seg = load_segments(ws, run.id)
    sizes = seg["segment"].value_counts()
    bars = page.evaluate(
        "() => document.querySelector('.st-key-seg_sizes .js-plotly-plot')._fullData[0].y"
    )
    assert sorted(bars) == sorted(sizes.tolist()) and sum(bars) == 20_000
    w.shot("segments")
    w.step("segments: run k-means (numbers only)")

    # ------------------------------------------------------------ Explore: lasso + CSV
    w.go("Explore", "explore")
    drag = page.locator(".js-plotly-plot .nsewdrag").first
    drag.wait_for(timeout=60_000)
    n_drawn = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullData"
        ".reduce((n, t) => n + t._length, 0)"
    )
    assert n_drawn == 20_000
    box = drag.bounding_box()
    cx, cy, bw, bh = (
        box["x"] + box["width"] / 2,
        box["y"] + box["height"] / 2,
        box["width"],
        box["height"],
    )
    # An irregular lasso over the middle of the map, closed near where it started.
    path = [
        (cx - 0.30 * bw, cy - 0.25 * bh),
        (cx + 0.05 * bw, cy - 0.35 * bh),
        (cx + 0.30 * bw, cy - 0.10 * bh),
        (cx + 0.20 * bw, cy + 0.30 * bh),
        (cx - 0.25 * bw, cy + 0.20 * bh),
        (cx - 0.30 * bw, cy - 0.24 * bh),
    ]
    lasso.draw(page, path)
    page.locator('[data-testid="stMetric"]', has_text="Selected customers").wait_for(timeout=60_000)
    w.settle()
    n_selected = int(w.metric("Selected customers").replace(",", ""))
    assert 0 < n_selected < 20_000
    poly = lasso.to_data_coords(page, path, box)
    data = w.download(re.compile(r"Download [\d,]+ customers \(CSV\)"))
    csv = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"customer_id": str})
    assert len(csv) == n_selected and csv["customer_id"].is_unique
    by_id = seg.set_index(seg["customer_id"].astype(str))
    lasso.assert_selected_exactly(csv["customer_id"], by_id, poly)
    w.shot("explore")
    w.step("explore: lasso and CSV")

    # ------------------------------------------------------------ Profiles, Migration
    w.go("Profiles", "profiles")
    w.shot("profiles")
    w.go("Migration", "migration")
    w.shot("migration")
    w.step("profiles, migration")

    # ------------------------------------------------------------ Train: a short CPU job
    w.go("Train", "train")
    w.switch_off("Use review text (transformer)")  # numbers only: no transformer on a CPU
    epochs = page.locator('[data-testid="stSlider"]', has_text="Epochs").locator("input")
    epochs.focus()
    page.keyboard.press("Home")  # the slider's minimum: one epoch
    assert epochs.input_value() == "1"
    # Every customer, not the CPU default's sample of 4,000: the job then spends long enough
    # in each stage for the page's 2-second polling to show more than its start and end.
    page.get_by_text("Advanced", exact=True).click()
    customers = page.get_by_role("spinbutton", name="Customers to train on (0 = all)")
    customers.fill("0")
    customers.press("Tab")  # not Enter: inside a form, Enter would submit it
    page.evaluate("() => { window.__e2eNoReload = true; }")
    page.get_by_role("button", name="Start training").click()
    seen = w.watch_job('[data-testid="stAlertContentSuccess"]', "Latest model", timeout_s=300)
    # The progress bar moved forward several times while the page stayed loaded.
    print("\ntraining progress seen:", seen)
    values = [int(s.split("|")[0]) for s in seen]
    assert len(set(values)) >= 2 and values == sorted(values), seen
    assert page.evaluate("() => window.__e2eNoReload === true"), "the page was reloaded"
    w.settle()
    (model,) = [r for r in ws.list_runs("demo", kind="train") if r.status == "done"]
    assert model.params["use_text"] is False and model.params["epochs"] == 1
    assert model.summary["n_customers"] == 20_000
    w.shot("train")
    w.step("train: numbers-only model, 1 epoch")

    # ------------------------------------------------------------ Evaluate
    w.go("Evaluate", "evaluate")
    page.get_by_text("Confusion matrix", exact=True).wait_for()
    charts = _charts(page)
    classes = model.summary["classes"]
    n = len(classes)
    confusion = next(c for c in charts if c["custom"] and c["lengths"][0] == n * n)
    assert sum(int(row[2]) for row in confusion["custom"]) == model.summary["n_test"]
    assert {row[0] for row in confusion["custom"]} == set(classes)
    roc = next(c for c in charts if c["title"] == "ROC (one vs rest)")
    assert len(roc["types"]) == n + 1  # one curve per class and the diagonal
    w.shot("evaluate")
    w.step("evaluate")

    # ------------------------------------------------------------ Campaigns, Recommendations
    w.go("Campaigns", "campaigns")
    if SHOTS:  # a measured campaign makes a better picture than the empty page
        page.get_by_role("button", name="Try a demo campaign").click()
        w.heading("Uplift per segment", timeout=120_000)
    w.shot("campaigns")
    w.go("Recommendations", "recommend")
    if SHOTS:
        page.get_by_role("button", name="Train recommender").click()
        w.heading("Does it predict what customers bought next?", timeout=300_000)
    w.shot("recommendations")
    w.step("campaigns, recommendations")

    # ------------------------------------------------------------ Export a segment list
    w.go("Export", "export")
    n_rows = int(w.metric("Rows").replace(",", ""))
    data = w.download(re.compile(r"Download [\d,]+ rows \(CSV\)"))
    out = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"customer_id": str})
    (chosen,) = set(out["segment"])  # the largest segment is chosen by default
    assert len(out) == n_rows == sizes[chosen] == sizes.max()
    members = seg.loc[seg["segment"] == chosen, "customer_id"].astype(str)
    assert set(out["customer_id"]) == set(members)
    w.shot("export")
    w.step("export")

    # ------------------------------------------------------------ Home again: progress
    w.go("Home", "", heading="Next steps")
    w.shot("home")

    # ------------------------------------------------------------ Data: a messy upload
    w.go("Data", "data")
    messy = tmp_path / "orders_messy.csv"
    messy.write_bytes(MESSY)
    page.set_input_files('input[type="file"]', str(messy))
    page.get_by_text("orders_messy.csv").first.wait_for(timeout=30_000)
    w.settle()
    page.get_by_role("button", name="Validate and save").click()
    page.get_by_text("saved and selected").wait_for(timeout=60_000)
    w.settle()
    report = page.locator('[data-testid="stExpander"]', has_text="orders_messy.csv").first
    assert re.search(r"→ orders: 3 of 6 rows kept, 3 rejected", report.inner_text())
    assert w.metric("Rows rejected") == "3"
    for reason in (
        "missing customer id",
        "invalid date in 'Order Date'",
        "not a number in 'Amount'",
        "decimal comma detected in 'Amount'",
    ):
        report.get_by_text(reason).first.wait_for()
    (upload,) = [d for d in ws.list_datasets() if d.name.startswith("orders_messy")]
    assert upload.tables == {"orders": 3}
    assert sorted(ws.load_table(upload.id, "orders")["amount"]) == [2.0, 10.5, 1234.56]
    w.shot("data")
    w.step("data: messy upload")
