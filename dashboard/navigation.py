"""The app's pages in one place, so the entry script and page links agree."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.i18n import t

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

# key -> (English title, icon, section); the title shown is common.nav.<key> in the
# session's language, the section common.section.<section>.
PAGE_SPECS: dict[str, tuple[str, str, str]] = {
    "home": ("Home", ":material/home:", "Start"),
    "data": ("Data", ":material/upload_file:", "Prepare"),
    "features": ("Features", ":material/functions:", "Prepare"),
    "segments": ("Segments", ":material/hub:", "Segment"),
    "explore": ("Explore", ":material/scatter_plot:", "Segment"),
    "profiles": ("Profiles", ":material/groups:", "Segment"),
    "migration": ("Migration", ":material/swap_horiz:", "Segment"),
    "train": ("Train", ":material/model_training:", "Model"),
    "evaluate": ("Evaluate", ":material/analytics:", "Model"),
    "campaigns": ("Campaigns", ":material/campaign:", "Act"),
    "recommend": ("Recommendations", ":material/recommend:", "Act"),
    "export": ("Export", ":material/download:", "Act"),
}


def page(key: str) -> st.Page:
    _, icon, _ = PAGE_SPECS[key]
    return st.Page(
        PAGES_DIR / f"{key}.py",
        title=t(f"common.nav.{key}"),
        icon=icon,
        url_path=None if key == "home" else key,
        default=key == "home",
    )


def navigation_sections() -> dict[str, list]:
    sections: dict[str, list] = {}
    for key, (_, _, section) in PAGE_SPECS.items():
        sections.setdefault(t(f"common.section.{section}"), []).append(page(key))
    return sections
