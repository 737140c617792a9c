"""Drawing a lasso on the Explore map with the mouse, and checking what it selected.

Imported by the e2e tests as `lasso` (tests/e2e is on sys.path: it has no __init__.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def draw(page, path: list[tuple[float, float]]) -> None:
    """Press at the first point (pixels), move through the others, release."""
    page.mouse.move(*path[0])
    page.mouse.down()
    for x, y in path[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def to_data_coords(page, path: list[tuple[float, float]], box: dict) -> np.ndarray:
    """The lasso's pixels as map coordinates, converted by plotly's own axes."""
    return np.array(
        page.evaluate(
            """([pts, ox, oy]) => {
                const gd = document.querySelector('.js-plotly-plot');
                const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                return pts.map(([x, y]) => [xa.p2d(x - ox), ya.p2d(y - oy)]);
            }""",
            [path, box["x"], box["y"]],
        )
    )


def inside(x: np.ndarray, y: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd ray casting: which points lie inside the closed polygon."""
    out = np.zeros(len(x), bool)
    px, py = poly[:, 0], poly[:, 1]
    j = len(poly) - 1
    for i in range(len(poly)):
        crosses = ((py[i] > y) != (py[j] > y)) & (
            x < (px[j] - px[i]) * (y - py[i]) / (py[j] - py[i] + 1e-300) + px[i]
        )
        out ^= crosses
        j = i
    return out


def edge_distance(x: float, y: float, poly: np.ndarray) -> float:
    a, b = poly, np.roll(poly, -1, axis=0)
    ab = b - a
    t = np.clip(
        ((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1]) / ((ab**2).sum(1) + 1e-300), 0, 1
    )
    px, py = a[:, 0] + t * ab[:, 0], a[:, 1] + t * ab[:, 1]
    return float(np.sqrt((px - x) ** 2 + (py - y) ** 2).min())


def assert_selected_exactly(got_ids, points: pd.DataFrame, poly: np.ndarray) -> set[str]:
    """`got_ids` are the customers (index of `points`, with x and y) inside `poly`, but for
    points lying on its edge, which pixel rounding can flip. Returns the expected ids."""
    expected = set(points.index[inside(points["x"].to_numpy(), points["y"].to_numpy(), poly)])
    got = set(got_ids)
    differ = sorted(got ^ expected)
    assert len(differ) <= max(3, 0.01 * len(expected)), (len(got), len(expected))
    extent = max(np.ptp(points["x"]), np.ptp(points["y"]))
    for cid in differ:
        d = edge_distance(points.loc[cid, "x"], points.loc[cid, "y"], poly)
        assert d < 0.01 * extent, (cid, d)
    return expected
