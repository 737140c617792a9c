"""Accessibility basics that can be checked without a person: readable contrast of the theme
and segment colours that stay distinguishable for colour-blind users."""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import numpy as np
import pytest

from dashboard.components.charts import PALETTE, segment_colours

ROOT = Path(__file__).resolve().parents[2]

# Machado, Oliveira & Fernandes (2009) full-severity simulation matrices, on linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _luminance(hex_colour: str) -> float:
    return float(np.dot([0.2126, 0.7152, 0.0722], _linear(hex_colour)))


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    x = (xyz @ rgb_linear) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(x > 216 / 24389, np.cbrt(x), (24389 / 27 * x + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _theme() -> dict:
    with (ROOT / ".streamlit" / "config.toml").open("rb") as fh:
        return tomllib.load(fh)["theme"]


def test_theme_text_meets_wcag_aa_contrast():
    th = _theme()
    assert _contrast(th["textColor"], th["backgroundColor"]) >= 7  # AAA for body text
    assert _contrast(th["textColor"], th["secondaryBackgroundColor"]) >= 4.5  # sidebar
    assert _contrast("#FFFFFF", th["primaryColor"]) >= 4.5  # label on a primary button


def test_contrast_helper_matches_the_wcag_definition():
    assert _contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert _contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("vision", [None, *CVD])
def test_the_first_eight_segment_colours_stay_apart_for_colour_blind_users(vision):
    """Okabe–Ito: every pair differs by ΔE*ab ≥ 15 under each full colour-vision deficiency
    (a difference of about 2 is just noticeable; 15 is plainly another colour)."""
    m = np.eye(3) if vision is None else np.array(CVD[vision])
    labs = {c: _lab(np.clip(m @ _linear(c), 0, 1)) for c in PALETTE[:8]}
    worst = min(
        (float(np.linalg.norm(labs[a] - labs[b])), a, b) for a, b in itertools.combinations(labs, 2)
    )
    assert worst[0] >= 15, worst


def test_segments_get_palette_colours_in_order_and_noise_is_grey():
    colours = segment_colours(["S1", "S2", "Noise", "S3"])
    assert [colours[s] for s in ("S1", "S2", "S3")] == list(PALETTE[:3])
    r, g, b = (int(colours["Noise"].lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    assert max(r, g, b) - min(r, g, b) <= 16, "noise should read as grey, not as a segment"
