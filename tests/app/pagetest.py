"""AppTest helpers shared by the page tests (imported as `pagetest`: tests/app is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TIMEOUT = 180


def make_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def page_texts(at: AppTest) -> str:
    """Every visible text of the page, for 'does the user see X' assertions."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    parts += [str(m.label) + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)
