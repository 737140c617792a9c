"""Interface language: English and 简体中文, every string of the interface in one catalogue.

The catalogue is ``dashboard/locales/<lang>/<namespace>.toml``: one file per page (namespace =
the page's key, e.g. ``explore``) plus ``common`` for the navigation, the sidebar and shared
components. Pages ask for a string by key and pass values by name::

    st.title(t("explore.title"))
    st.caption(t("explore.sampled", shown=fmt_int(n), total=fmt_int(m)))

English is the source; a key missing in Chinese falls back to English (and
tests/unit/test_i18n.py fails until it is translated). Text produced by ``core`` (error
messages, automatic segment names, playbook sentences) stays English for now.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

import streamlit as st

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
LANG_KEY = "ui_language"  # session state: this browser session's language
ENV_LANG = "SEGSTUDIO_LANG"  # the deployment's default language


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every string of `lang`, keyed ``namespace.key`` (nested tables join with dots)."""
    out: dict[str, str] = {}

    def walk(prefix: str, table: dict) -> None:
        for k, v in table.items():
            if isinstance(v, dict):
                walk(f"{prefix}.{k}", v)
            else:
                out[f"{prefix}.{k}"] = str(v)

    for path in sorted((LOCALES / lang).glob("*.toml")):
        with path.open("rb") as fh:
            walk(path.stem, tomllib.load(fh))
    return out


def default_language() -> str:
    lang = os.environ.get(ENV_LANG, DEFAULT)
    return lang if lang in LANGUAGES else DEFAULT


def current_language() -> str:
    try:
        lang = st.session_state.get(LANG_KEY)
    except Exception:  # outside a Streamlit run (CLI, unit tests): the default
        return default_language()
    if lang not in LANGUAGES:
        lang = st.query_params.get("lang") or default_language()
        lang = lang if lang in LANGUAGES else DEFAULT
        st.session_state[LANG_KEY] = lang
    return lang


def translate(key: str, lang: str, **values) -> str:
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(DEFAULT).get(key)
    if text is None:
        raise KeyError(f"no string {key!r} in the interface catalogue (dashboard/locales/)")
    return text.format(**values) if values else text


def t(key: str, **values) -> str:
    """The interface string `key` in this session's language, with `values` filled in."""
    return translate(key, current_language(), **values)


def language_picker() -> None:
    """Sidebar control: switch the interface language for this session."""
    current_language()
    st.sidebar.selectbox(
        t("common.language"),
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        key=LANG_KEY,
        help=t("common.language_help"),
    )
