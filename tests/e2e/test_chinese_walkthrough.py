"""The app in 简体中文, as the browser draws it: what AppTest cannot see.

AppTest (tests/app/test_zh_audit.py) reads the page's elements; this reads the rendered page:
text drawn by the browser, table headers of the data grid, and what plotly draws itself (legend,
axes, hover labels, the mode bar's button titles). Home, Segments, Explore and Evaluate are
opened in Chinese over a small store with a segmentation and a trained model, and their text
is checked against the same allowlist as the AppTest audit (data, names, ids in code, method
and format names).

Streamlit's own text is not ours to translate and is left out: the icon font's ligature names
(``check_circle``), the hidden "Skip to main content" link, and the plotly mode bar's
"Fullscreen" button that Streamlit adds.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from core.cli import serve_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from test_new_user_path import SETTLED_JS  # noqa: E402
from test_zh_audit import CJK, _allowlist, english_words  # noqa: E402

pytestmark = pytest.mark.e2e

STREAMLIT_OWN = {"Fullscreen"}  # mode bar button added by Streamlit, not by plotly's locale

# The page's text as drawn: main block and sidebar, without the icon font's ligature names.
PAGE_TEXT_JS = """() => {
  const parts = [];
  for (const sel of ['[data-testid="stSidebar"]', '[data-testid="stMain"]']) {
    const el = document.querySelector(sel);
    if (!el) continue;
    const copy = el.cloneNode(true);
    copy.querySelectorAll(
      '[data-testid="stIconMaterial"], [data-testid="stAlertDynamicIcon"], '
      + 'span[role="img"][aria-label$=" icon"]'
    ).forEach(e => e.remove());
    copy.style.position = 'absolute';
    document.body.appendChild(copy);
    parts.push(copy.innerText);
    copy.remove();
  }
  return parts.join('\\n');
}"""

# Everything plotly drew (titles, axes, legends, colour bars, annotations), the data grids'
# header cells, and the mode bar's button titles.
CHART_TEXT_JS = """() => ({
  charts: [...document.querySelectorAll('.js-plotly-plot')].map(
    gd => [...gd.querySelectorAll('.main-svg text')].map(t => t.textContent)),
  legends: [...document.querySelectorAll('.js-plotly-plot')].map(
    gd => [...gd.querySelectorAll('.legendtext')].map(t => t.textContent)),
  headers: [...document.querySelectorAll('[data-testid="stDataFrame"] [role="columnheader"]')]
    .map(t => t.textContent),
  modebar: [...new Set([...document.querySelectorAll('.modebar-btn')]
    .map(b => b.getAttribute('data-title')))],
})"""

# The screen position of point `k` of trace `i` of the `n`-th chart (a 2-D cartesian chart).
POINT_JS = """([n, i, k]) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[n];
  gd.scrollIntoView({block: 'center'});  // a warning above may push the chart off screen
  const t = gd._fullData[i];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return [r.left + xa.c2p(xa.d2c(t.x[k])), r.top + ya.c2p(ya.d2c(t.y[k]))];
}"""
HOVER_JS = "() => [...document.querySelectorAll('.hoverlayer text')].map(t => t.textContent)"


@pytest.fixture(scope="module")
def zh_app(tmp_path_factory):
    """The app in Chinese over a 600-customer store with a K-means run and a churn model;
    yields (url, allowlist)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    from pagetest import small_segmented_workspace

    root = tmp_path_factory.mktemp("e2e_zh") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGSTUDIO_HOME", str(root))
        ws, train_run = small_segmented_workspace(root, seed=3, k=4, train=True)
    seg_run = ws.list_runs("demo", kind="segment")[0]
    allow = _allowlist(ws, seg_run, train_run)
    with serve_app(root, SEGSTUDIO_LANG="zh", OMP_NUM_THREADS="1") as url:
        yield url, allow
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def page(browser, zh_app):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    p = context.new_page()
    p.set_default_timeout(90_000)
    yield p
    context.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    _open_settled(page)
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def _english(lines, allow) -> list[str]:
    out = []
    for line in lines:
        if line.strip() in STREAMLIT_OWN:
            continue
        bad = english_words(line, allow)
        if bad:
            out.append(f"{line[:160]!r}: {', '.join(dict.fromkeys(bad))}")
    return list(dict.fromkeys(out))


def _open_settled(page) -> None:
    page.evaluate("() => { delete window.__e2eCalmSince; }")
    page.wait_for_function(SETTLED_JS, arg=1200, polling=100, timeout=90_000)


def _check_page(page, allow) -> dict:
    title = page.locator('[data-testid="stMain"] h1').first.inner_text()
    assert CJK.search(title), title
    text = page.evaluate(PAGE_TEXT_JS)
    drawn = page.evaluate(CHART_TEXT_JS)
    lines = text.splitlines() + drawn["headers"] + drawn["modebar"]
    lines += [t for chart in drawn["charts"] for t in chart]
    found = _english(lines, allow)
    assert not found, "English in the Chinese interface:\n" + "\n".join(found)
    return drawn


def _hover(page, chart: int, trace: int, point: int) -> list[str]:
    x, y = page.evaluate(POINT_JS, [chart, trace, point])
    page.mouse.move(x, y)
    page.wait_for_function(f"() => ({HOVER_JS})().length > 0", timeout=10_000)
    texts = page.evaluate(HOVER_JS)
    page.mouse.move(1390, 890)
    return texts


@pytest.mark.parametrize("path", ["", "segments"], ids=["home", "segments"])
def test_page_is_chinese_in_the_browser(page, zh_app, path):
    url, allow = zh_app
    _open(page, f"{url}/{path}")
    _check_page(page, allow)


def test_explore_map_legend_hover_and_tools_are_chinese(page, zh_app):
    url, allow = zh_app
    _open(page, f"{url}/explore")
    drawn = _check_page(page, allow)
    legend = drawn["legends"][0]
    assert len(legend) == 4, legend  # one entry per segment, checked above for English
    # The mode bar speaks plotly's Chinese locale: the lasso the page asks users to draw.
    assert {"套索选择", "框选", "下载图表（PNG）"} <= set(drawn["modebar"]), drawn["modebar"]
    hover = _hover(page, 0, 0, 0)
    joined = " ".join(hover)
    assert "分群" in joined and "净消费" in joined, hover
    assert not _english(hover, allow), hover  # no "monetary", "recency_days"

    # Coloured by a feature: the colour bar and its hover name it in Chinese.
    page.get_by_role("combobox", name="着色依据").click()
    page.get_by_role("option", name="净消费").first.click()
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot .colorbar')", timeout=60_000
    )
    _open_settled(page)
    drawn = _check_page(page, allow)
    bar = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot .colorbar text')]"
        ".map(t => t.textContent)"
    )
    assert any("净消费" in t for t in bar), bar


def test_evaluate_charts_and_hover_are_chinese(page, zh_app):
    url, allow = zh_app
    _open(page, f"{url}/evaluate")
    drawn = _check_page(page, allow)
    assert any("ROC" in t and CJK.search(t) for chart in drawn["charts"] for t in chart)
    confusion = _hover(page, 0, 0, 0)
    assert any("真实" in t for t in confusion) and not _english(confusion, allow), confusion
    # The ROC chart's chance diagonal has no name: it must not hover as "trace 2".
    roc = next(
        i for i, chart in enumerate(drawn["charts"]) if any(t.startswith("ROC") for t in chart)
    )
    n_traces = page.evaluate(
        f"() => document.querySelectorAll('.js-plotly-plot')[{roc}]._fullData.length"
    )
    page.mouse.move(1390, 890)
    time.sleep(0.3)
    x, y = page.evaluate(POINT_JS, [roc, n_traces - 1, 1])  # the diagonal's top-right end
    page.mouse.move(x, y)
    time.sleep(0.5)
    assert not any("trace" in t for t in page.evaluate(HOVER_JS))
