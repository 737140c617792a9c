"""Phrase tables for text the engine writes (names, sentences, playbooks) in each UI language.

``core/`` cannot use the dashboard's ``t()`` (no streamlit, no dashboard import), so each module
keeps its own small table next to the code that uses it::

    _TEXT = {"en": {"ratio": "spends {x}× more"}, "zh": {"ratio": "消费是其他客户的 {x} 倍"}}
    phrase(_TEXT, lang, "ratio", x="3.2")

English is the reference: every key must exist there; another language may leave a key out and
gets the English phrase instead.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("en", "zh")


def phrase(table: Mapping[str, Mapping[str, str]], lang: str, key: str, **values) -> str:
    """``table[lang][key]`` filled with ``values``; English when ``lang`` lacks the key.

    Raises KeyError for a key the English table does not have (a typo, not a translation gap).
    """
    english = table["en"]
    if key not in english:
        raise KeyError(f"no phrase {key!r} (have {', '.join(sorted(english))})")
    template = table.get(lang, english).get(key, english[key])
    return template.format(**values) if values else template
