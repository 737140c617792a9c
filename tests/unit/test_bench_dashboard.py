"""The dashboard benchmark at its tiny scale: real pages, a real server and browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_dashboard as B
from dashboard.components.map_points import DEFAULT_MAP_POINTS


def test_dashboard_benchmark_tiny(tmp_path):
    res = B.run("tiny", tmp_path)
    n = B.SIZES["tiny"]
    explore = [r for r in res.rows if r["page"] == "Explore"]
    profiles = [r for r in res.rows if r["page"].startswith("Profiles")]
    assert len(explore) == len(B.CAPS["tiny"]) and len(profiles) == 3
    full, sampled = explore
    assert full["points drawn"] == n
    cap = int(B.CAPS["tiny"][-1])
    assert 0 < sampled["points drawn"] <= cap
    # fewer points, a smaller page
    assert 0 < sampled["page elements (kB)"] < full["page elements (kB)"]
    for r in explore + profiles:
        assert r["customers"] == n and r["page elements (kB)"] > 0
        assert (r["server first render (s)"] or 0) > 0 or (r["server rerun (s)"] or 0) > 0
    assert all(r["points drawn"] == 0 for r in profiles)
    assert profiles[0]["page elements (kB)"] == profiles[1]["page elements (kB)"]
    if Path(B.CHROMIUM).exists():
        # the payload the browser received over the websocket, and the time to the chart
        assert sampled["browser: websocket (kB)"] >= sampled["page elements (kB)"] > 0
        assert sampled["browser: shown (s)"] > 0
        assert all(r["browser: websocket (kB)"] > 0 for r in profiles[1:])
    assert "sampled per segment" in res.summary and res.goal and res.goal_met is None
    assert any("segments is on the sampled map" in c for c in res.checks)
    assert (tmp_path / f"ws-{n}-pca" / ".bench-ready").exists(), "the workspace is kept"


def test_points_counted_in_typed_and_plain_arrays():
    import plotly.graph_objects as go
    import plotly.io as pio

    fig = go.Figure([go.Scattergl(x=[1.0, 2.0, 3.0], y=[1, 2, 3]), go.Scatter(x=["a", "b"])])
    assert B._n_points(pio.to_json(fig, validate=False)) == 5


@pytest.mark.parametrize("cap,want", [("all", 0), ("", DEFAULT_MAP_POINTS), ("500", 500)])
def test_cap_values(cap, want):
    assert B._cap_value(cap) == want
