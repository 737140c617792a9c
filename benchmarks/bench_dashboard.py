"""Dashboard: Explore and Profiles render time and the payload sent to the browser.

A workspace holds a demo store of N customers and a finished segmentation (K-means on numbers
plus review text encoded by a tiny random BERT: the dashboard's cost does not depend on how
good the embeddings are; UMAP uses its sample-fit path above 50 k customers). It is built once
per size and kept in the work folder.

Each page is measured twice:

* server side, by Streamlit's ``AppTest`` in a fresh process: the first render of the page
  (cold: its imports, nothing cached) and a rerun (warm: what each interaction costs), and the
  size of the elements it produced;
* in a real browser: ``streamlit run`` on a free port and headless Chromium (Playwright), the
  time from navigation to the page's main chart, and the bytes the server sent over the
  websocket for the whole page.

"Before" is the Explore map drawing every customer (``SEGSTUDIO_MAP_POINTS=all``) and, at the
full scale, the old default of 50,000 points; "after" is the default cap, a sample stratified by
segment (dashboard/components/map_points.py). Profiles are measured with and without the
profiles saved next to the run.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from benchmarks.suite import BenchResult, ResultsDiffer, measure_in_child
from core.cli import serve_app

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
CHROMIUM = os.environ.get("SEGSTUDIO_CHROMIUM", "/usr/bin/chromium")
SIZES = {"tiny": 2_000, "small": 20_000, "full": 100_000}
K = 8
PAGES = {"explore": "../pages/explore.py", "profiles": "../pages/profiles.py"}
PAYLOAD_GOAL_MB = 5.0
RERUN_GOAL_S = 1.0


# ------------------------------------------------------------------ workspace
def _demo_encoder():
    from core.demo import _NEUTRAL, _PHRASES
    from core.encoders import EncoderSpec, TextEncoder, tiny_bert

    words = {
        w.strip(".,!?'").lower()
        for bank in [*_PHRASES.values(), _NEUTRAL]
        for s in bank
        for w in s.split()
    }
    model, tok, key = tiny_bert(seed=0, vocab_words=sorted(words))
    return TextEncoder.from_model(model, tok, key=key, spec=EncoderSpec(batch_size=256))


def build_workspace(root: str, n_customers: int, seed: int = 0, umap: bool = True) -> dict:
    """A workspace with the demo store and one finished segmentation run; reused when present.

    ``umap=False`` draws the map from the vectors' first two principal components instead: the
    dashboard costs the same, and the test-suite scale skips UMAP's ~20 s of JIT compilation.
    """
    from core.datasets import create_demo_dataset
    from core.pipeline import SegmentationParams, load_segments, load_vectors, run_segmentation
    from core.workspace import Workspace, atomic_write_parquet

    ws = Workspace(root)
    t0 = time.perf_counter()
    if not ws.has_dataset("demo"):
        create_demo_dataset(ws, n_customers=n_customers, seed=seed)
    runs = [r for r in ws.list_runs("demo", kind="segment") if r.status == "done"]
    if not runs:
        run = run_segmentation(
            ws,
            "demo",
            SegmentationParams(method="kmeans", k=K, seed=seed, text_weight=0.4, projection=umap),
            encoder=_demo_encoder(),
        )
        if not umap:
            import numpy as np

            X = load_vectors(ws, run.id)
            Xc = X - X.mean(0)
            _, _, vt = np.linalg.svd(Xc, full_matrices=False)
            xy = (Xc @ vt[:2].T).astype(np.float32)
            seg = load_segments(ws, run.id)
            seg["x"], seg["y"] = xy[:, 0], xy[:, 1]
            atomic_write_parquet(run.path / "segments.parquet", seg)
        runs = [r for r in ws.list_runs("demo", kind="segment") if r.status == "done"]
    return {"run_id": runs[0].id, "build_seconds": time.perf_counter() - t0}


def _workspace(workdir: Path, n: int, umap: bool = True) -> tuple[Path, dict]:
    root = workdir / f"ws-{n}{'' if umap else '-pca'}"
    ready = root / ".bench-ready"
    if ready.exists():
        return root, {"run_id": ready.read_text().strip(), "build_seconds": 0.0}
    if root.exists():  # a half-built one from an interrupted run
        shutil.rmtree(root)
    info = measure_in_child(
        "benchmarks.bench_dashboard:build_workspace", root=str(root), n_customers=n, umap=umap
    )
    ready.write_text(info["run_id"])
    return root, info


# ------------------------------------------------------------------ measuring
def _n_points(spec_json: str) -> int:
    """Markers in a plotly figure spec (arrays may be plain lists or base64 typed arrays)."""
    import base64
    import json

    import numpy as np

    n = 0
    for trace in json.loads(spec_json).get("data", []):
        x = trace.get("x")
        if isinstance(x, dict) and "bdata" in x:
            n += len(base64.b64decode(x["bdata"])) // np.dtype(x["dtype"]).itemsize
        elif x is not None:
            n += len(x)
    return n


def _element_bytes(at) -> tuple[int, int, int]:
    """(bytes of every element's protobuf, bytes of the plotly specs, points in the charts)."""
    from streamlit.testing.v1.element_tree import Block

    total = 0
    for node in at._tree:
        if not isinstance(node, Block) and getattr(node, "proto", None) is not None:
            total += node.proto.ByteSize()
    charts = at.get("plotly_chart")
    return (
        total,
        sum(len(c.proto.spec) for c in charts),
        sum(_n_points(c.proto.spec) for c in charts),
    )


def apptest_page(home: str, page: str, map_points: str = "") -> dict:
    """Server-side render of one page under AppTest: cold (first) and warm (rerun) seconds."""
    os.environ["SEGSTUDIO_HOME"] = home
    if map_points:
        os.environ["SEGSTUDIO_MAP_POINTS"] = map_points
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=600)
    at.run()
    if at.exception:
        raise RuntimeError(f"home page failed: {at.exception}")
    t0 = time.perf_counter()
    at.switch_page(PAGES[page]).run()
    cold = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"{page} page failed: {at.exception}")
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    t0 = time.perf_counter()
    at.run()
    warm = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"{page} page failed on rerun: {at.exception}")
    total, spec, points = _element_bytes(at)
    import json

    traces = [
        t.get("name", "") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]
    ]
    captions = [c.value for c in at.caption]
    return {
        "cold_s": cold,
        "warm_s": warm,
        "element_bytes": total,
        "chart_bytes": spec,
        "points": points,
        "n_charts": len(at.get("plotly_chart")),
        "traces": traces,
        "same_spec_on_rerun": specs == [c.proto.spec for c in at.get("plotly_chart")],
        "captions": captions,
    }


def _visit(browser, url: str, ready_js: str, ready_arg, timeout_s: float = 300) -> dict:
    """Open `url` in a fresh browser context: seconds to `ready_js`, websocket bytes received."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = ctx.new_page()
    frames = {"n": 0, "bytes": 0, "last": time.perf_counter()}

    def on_frame(payload) -> None:
        frames["n"] += 1
        frames["bytes"] += len(payload)
        frames["last"] = time.perf_counter()

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(ready_js, arg=ready_arg, timeout=timeout_s * 1000, polling=50)
    ready = time.perf_counter() - t0
    # The page is drawn; wait for the script run to finish sending (no frame for 2 s).
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() - frames["last"] < 2.0 and time.perf_counter() < deadline:
        page.wait_for_timeout(200)
    errors = page.locator('[data-testid="stException"]').count()
    out = {
        "ready_s": ready,
        "ws_bytes": frames["bytes"],
        "ws_frames": frames["n"],
        "exceptions": errors,
    }
    ctx.close()
    return out


_MAP_READY = "() => document.querySelector('.js-plotly-plot .nsewdrag') !== null"
_PLOTS_READY = (
    "n => [...document.querySelectorAll('.js-plotly-plot')]"
    ".filter(g => g._fullLayout && g.querySelector('.main-svg')).length >= n"
)


def browser_pages(
    home: str, map_points: str = "", n_segments: int = K, profiles: bool = True
) -> dict:
    """Serve the app and time Explore, then Profiles (cold, then warm) in headless Chromium."""
    from playwright.sync_api import sync_playwright

    env = {"SEGSTUDIO_MAP_POINTS": map_points} if map_points else {}
    with serve_app(home, timeout_s=120, **env) as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            # Warm-up: the first script run imports pandas, plotly, duckdb, ... once per server.
            home_page = _visit(
                browser,
                url,
                "() => document.querySelector('[data-testid=\"stMetric\"]') !== null",
                None,
            )
            explore = _visit(browser, url + "/explore", _MAP_READY, None)
            profiles_cold = profiles_warm = None
            if profiles:  # one radar per segment and the comparison radar
                profiles_cold = _visit(browser, url + "/profiles", _PLOTS_READY, n_segments + 1)
                profiles_warm = _visit(browser, url + "/profiles", _PLOTS_READY, n_segments + 1)
        finally:
            browser.close()
    return {
        "home": home_page,
        "explore": explore,
        "profiles_cold": profiles_cold,
        "profiles_warm": profiles_warm,
    }


# ------------------------------------------------------------------ the benchmark
# Map caps measured per scale: "all" is the map before downsampling; "" is the page's default.
CAPS = {"tiny": ["all", "500"], "small": ["all", "5000"], "full": ["all", "50000", ""]}
BROWSER_CAPS = {"tiny": ["500"], "small": ["all", "5000"], "full": ["all", "50000", ""]}


def _cap_label(cap: str, n: int) -> str:
    from dashboard.components.map_points import DEFAULT_MAP_POINTS

    if cap == "all":
        return "all (no downsampling)"
    if cap == "":
        return f"{min(n, DEFAULT_MAP_POINTS):,} (default)"
    if cap == "50000":
        return "50,000 (the old default size)"
    return f"{int(cap):,}"


def _cap_value(cap: str) -> int:
    """The cap a CAPS entry stands for (0: none)."""
    from dashboard.components.map_points import DEFAULT_MAP_POINTS

    if cap == "all":
        return 0
    return DEFAULT_MAP_POINTS if cap == "" else int(cap)


def run(scale: str, workdir: Path) -> BenchResult:
    n = SIZES[scale]
    home, built = _workspace(workdir, n, umap=scale != "tiny")
    home_s = str(home)

    server = {}
    for cap in CAPS[scale]:
        server[("explore", cap)] = measure_in_child(
            "benchmarks.bench_dashboard:apptest_page", home=home_s, page="explore", map_points=cap
        )
    # Profiles: first with nothing saved (the run is profiled), then with the saved profiles.
    for saved in (home / "runs").glob("*/profiles.json"):
        saved.unlink()
    for key in ("profiling", "saved"):
        server[("profiles", key)] = measure_in_child(
            "benchmarks.bench_dashboard:apptest_page", home=home_s, page="profiles"
        )
    browser: dict[str, dict] = {}
    have_browser = Path(CHROMIUM).exists()
    if have_browser:
        for i, cap in enumerate(BROWSER_CAPS[scale]):
            browser[cap] = measure_in_child(
                "benchmarks.bench_dashboard:browser_pages",
                home=home_s,
                map_points=cap,
                profiles=i == 0,
            )

    # ---- checks before reporting any figure
    checks = []
    for (page, cap), r in server.items():
        if r["cold_s"] <= 0 or r["element_bytes"] <= 0:
            raise ResultsDiffer(f"{page} ({cap or 'default'}) rendered nothing")
    segments = None
    for cap in CAPS[scale]:
        r = server[("explore", cap)]
        limit = _cap_value(cap) or n
        if not 0 < r["points"] <= limit:
            raise ResultsDiffer(f"the map drew {r['points']:,} points with a cap of {limit:,}")
        if cap == "all" and r["points"] != n:
            raise ResultsDiffer(f"without downsampling the map must draw all {n:,} customers")
        if segments is None:
            segments = len(r["traces"])
        if len(r["traces"]) != segments:
            raise ResultsDiffer(f"a segment disappeared from the sampled map ({r['traces']})")
        if not r["same_spec_on_rerun"]:
            raise ResultsDiffer("the sampled map changed on a rerun (the selection would be lost)")
        sampled = r["points"] < n
        if sampled != any("sampled evenly per segment" in c for c in r["captions"]):
            raise ResultsDiffer("a sampled map must say so (and an unsampled one must not)")
    checks += [
        "every page renders without an exception (AppTest, and no exception box in the browser)",
        f"the map draws at most the cap and all {n:,} customers without one",
        f"every one of the {segments} segments is on the sampled map, with a caption saying it "
        "is a sample",
        "the sampled map is identical on a rerun (so Streamlit keeps the user's selection)",
    ]
    prof, prof_saved = server[("profiles", "profiling")], server[("profiles", "saved")]
    for r in (prof, prof_saved):
        if r["n_charts"] != segments + 1 or r["points"] != 0:
            raise ResultsDiffer(f"Profiles drew {r['n_charts']} charts for {segments} segments")
    if prof["element_bytes"] != prof_saved["element_bytes"]:
        raise ResultsDiffer("Profiles differ when read back from the run's profiles.json")
    checks.append(
        "Profiles draws one radar per segment plus the comparison, no customer points, and the "
        "same page from the profiles saved with the run"
    )
    if have_browser:
        for cap, b in browser.items():
            visits = [v for v in b.values() if isinstance(v, dict) and "ws_bytes" in v]
            if any(v["exceptions"] for v in visits):
                raise ResultsDiffer(f"the browser showed an exception (map cap {cap or 'default'})")
            chart = server.get(("explore", cap), {}).get("chart_bytes", 0)
            if b["explore"]["ws_bytes"] < chart:
                raise ResultsDiffer("the browser received less than the chart's own spec")
        checks.append("the browser received at least the bytes of the chart spec AppTest saw")

    # ---- rows
    def kb(v) -> float | None:
        return None if v is None else v / 1e3

    def size(v: float) -> str:
        return f"{v / 1e6:.1f} MB" if v >= 1e5 else f"{v / 1e3:.0f} kB"

    def row(page, cap, r, b, cold=True, warm=True) -> dict:
        return {
            "page": page,
            "map points": cap,
            "customers": n,
            "points drawn": r["points"] if r else None,
            "server first render (s)": r["cold_s"] if r and cold else None,
            "server rerun (s)": r["warm_s"] if r and warm else None,
            "page elements (kB)": kb(r["element_bytes"]) if r else None,
            "browser: shown (s)": b["ready_s"] if b else None,
            "browser: websocket (kB)": kb(b["ws_bytes"]) if b else None,
        }

    rows = [
        row(
            "Explore",
            _cap_label(cap, n),
            server[("explore", cap)],
            browser.get(cap, {}).get("explore"),
        )
        for cap in CAPS[scale]
    ]
    first = browser[BROWSER_CAPS[scale][0]] if have_browser else {}
    rows += [
        row("Profiles, first visit: profiling the run", "—", prof, None, warm=False),
        row(
            "Profiles, first visit: profiles saved with the run",
            "—",
            prof_saved,
            first.get("profiles_cold"),
            warm=False,
        ),
        row(
            "Profiles, again (cached in the server)",
            "—",
            prof_saved,
            first.get("profiles_warm"),
            cold=False,
        ),
    ]
    if first:
        rows.append(row("Home (the frontend's own start-up)", "—", None, first["home"]))

    # ---- summary and goal
    before = server[("explore", "all")]
    after_cap = CAPS[scale][-1]
    after = server[("explore", after_cap)]
    b_before = browser.get("all", {}).get("explore")
    b_after = browser.get(after_cap, {}).get("explore")
    payload_before = b_before["ws_bytes"] if b_before else before["element_bytes"]
    payload_after = b_after["ws_bytes"] if b_after else after["element_bytes"]
    prof_payload = (first.get("profiles_cold") or {}).get("ws_bytes", prof["element_bytes"])
    shown = (
        f"; shown in the browser in {b_before['ready_s']:.1f} s → {b_after['ready_s']:.1f} s"
        if b_before and b_after
        else ""
    )
    summary = (
        f"Explore at {n:,} customers: drawing all of them sends {size(payload_before)} and "
        f"reruns in {before['warm_s']:.2f} s; drawing {after['points']:,} sampled per segment "
        f"sends {size(payload_after)} and reruns in {after['warm_s']:.2f} s{shown}. "
        f"Profiles ship aggregates only ({size(prof_payload)}); first render "
        f"{prof['cold_s']:.1f} s, {prof_saved['cold_s']:.1f} s once saved with the run."
    )
    payload_ok = max(payload_after, prof_payload) <= PAYLOAD_GOAL_MB * 1e6
    render_ok = after["warm_s"] <= RERUN_GOAL_S and prof_saved["warm_s"] <= RERUN_GOAL_S
    notes = [
        "Server times are Streamlit's AppTest in a fresh process: 'first render' is the first "
        "visit to the page in a new server process (its imports, the segments read from disk, "
        "and for Profiles the profiling of the run's customers and reviews, or reading the "
        "profiles.json saved next to the run); 'rerun' is what every interaction costs.",
        "Browser times run from navigation to the page's main chart drawn in headless Chromium "
        "(the map's drag layer; all of Profiles' radars), frontend start-up included: the Home "
        "row is that start-up alone. Websocket kB is every frame the server sent for the page.",
        "The map sample is stratified by segment with a fixed seed (the same customers on every "
        "rerun and whatever the colour), small segments keep at least 200 points; a lasso or box "
        "on a sampled map selects every customer inside it, drawn or not.",
        "Workspace: the demo store, K-means (k=8) on numbers plus reviews encoded by a tiny "
        "random BERT (the dashboard's cost does not depend on the embeddings' quality); "
        + (
            "the map is the vectors' first two principal components (UMAP's JIT compilation "
            "alone would take longer than this scale's budget)."
            if scale == "tiny"
            else "UMAP (sample-fit above 50,000 customers)."
        )
        + (f" Built in {built['build_seconds']:.0f} s." if built["build_seconds"] else ""),
    ]
    if not have_browser:
        notes.append(f"No browser at {CHROMIUM}: server-side figures only.")
    return BenchResult(
        name="dashboard",
        title="Dashboard: Explore and Profiles render time and payload",
        scale=scale,
        summary=summary,
        rows=rows,
        goal=(
            f"at 100,000 customers each page sends ≤ {PAYLOAD_GOAL_MB:.0f} MB to the browser "
            f"and reruns in ≤ {RERUN_GOAL_S:.0f} s on the server"
        ),
        goal_met=(payload_ok and render_ok) if scale == "full" else None,
        checks=checks,
        notes=notes,
    )
