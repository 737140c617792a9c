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


class Localized(str):
    """English text that can be said again in another language: ``text(lang)``.

    The one type the interface needs to know: `text_in` and `error_text` say any `Localized`
    in the user's language, whatever made it. Two kinds exist: `LocalText` (a phrase of a
    module's own table, stored beside the English with `phrase_dicts`) and
    `core.ingest_text.Msg` (the ingest report's phrases, whose counts merge across the chunks
    of a streamed file and whose nouns take plurals). Code that keeps messages as plain strings
    (the CLI, logs, stored English) sees the English text.
    """

    __slots__ = ()

    def text(self, lang: str) -> str:  # pragma: no cover - every subclass says itself
        raise NotImplementedError


def phrase(table: Mapping[str, Mapping[str, str]], lang: str, key: str, **values) -> str:
    """``table[lang][key]`` filled with ``values``; English when ``lang`` lacks the key.

    Raises KeyError for a key the English table does not have (a typo, not a translation gap).
    """
    english = table["en"]
    if key not in english:
        raise KeyError(f"no phrase {key!r} (have {', '.join(sorted(english))})")
    template = table.get(lang, english).get(key, english[key])
    return template.format(**values) if values else template


class Phrase:
    """A phrase of `table` still to be said: ``text(lang)`` fills it in that language.

    A value may itself be a Phrase, or a list of Phrases (joined with the table's ``sep``
    phrase, or ``"; "`` when it has none), so a message can quote sub-messages (every bad row
    of a file) that are translated too.
    """

    def __init__(self, table: Mapping[str, Mapping[str, str]], key: str, **values) -> None:
        if key not in table["en"]:
            raise KeyError(f"no phrase {key!r} (have {', '.join(sorted(table['en']))})")
        self.table, self.key, self.values = table, key, values

    def text(self, lang: str) -> str:
        return phrase(
            self.table,
            lang,
            self.key,
            **{k: _say(v, self.table, lang) for k, v in self.values.items()},
        )

    def __str__(self) -> str:
        return self.text("en")

    def to_dict(self) -> dict:
        """JSON-ready form (for stored reports whose notes are said again in another language)."""
        return {"key": self.key, "values": {k: _dump(v) for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, table: Mapping[str, Mapping[str, str]], d: Mapping) -> Phrase:
        return cls(table, d["key"], **{k: _load(table, v) for k, v in d.get("values", {}).items()})


def _dump(value):
    if isinstance(value, Phrase):
        return {"phrase": value.to_dict()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def _load(table, value):
    if isinstance(value, dict) and "phrase" in value:
        return Phrase.from_dict(table, value["phrase"])
    if isinstance(value, list):
        return [_load(table, v) for v in value]
    return value


def _say(value, table: Mapping[str, Mapping[str, str]], lang: str):
    if isinstance(value, Phrase):
        return value.text(lang)
    if isinstance(value, list | tuple) and value and all(isinstance(v, Phrase) for v in value):
        sep = phrase(table, lang, "sep") if "sep" in table["en"] else "; "
        return sep.join(v.text(lang) for v in value)
    return value


class LocalizedError(ValueError):
    """A ValueError whose message can be said in each UI language.

    ``str(exc)`` is the English message (the CLI, logs and existing callers see no change); a
    page shows ``error_text(exc, lang)``. The message is ``table[lang][key]`` filled with
    ``values`` (already formatted: numbers, quoted cells, file names; or Phrases)::

        raise LocalizedError(_ERRORS, "no_control", file=name, column=repr(col))
    """

    def __init__(self, table: Mapping[str, Mapping[str, str]], key: str, **values) -> None:
        self.phrase = Phrase(table, key, **values)
        super().__init__(self.phrase.text("en"))

    @property
    def key(self) -> str:
        return self.phrase.key

    def text(self, lang: str) -> str:
        return self.phrase.text(lang)


def error_text(exc: BaseException, lang: str) -> str:
    """What to show a user for `exc`: in `lang` when the engine can say it, else ``str(exc)``.

    Says a `LocalizedError`, and an error that carries a `Localized` in ``.message``
    (`core.ingest.IngestError`, `core.datasets.DatasetError`, `core.ingest_text.MessageError`).
    """
    if isinstance(exc, LocalizedError):
        return exc.text(lang)
    message = getattr(exc, "message", None)
    if isinstance(message, Localized):
        return message.text(lang)
    return str(exc)


class LocalText(Localized):
    """English text that remembers its `Phrase`, so it can be said again in another language.

    A phrase of a module's own table (see `Localized`): code that keeps messages as plain strings
    (lists of notes and warnings, progress callbacks, the CLI, logs) sees the English text;
    `text_in` says it in the user's language, and `phrase_dicts` gives the structured form to
    store beside the English (read back with `texts_in`)::

        note = LocalText(_NOTES, "constant", feature="'aov'")
        note                   # "feature 'aov' is constant and is left out"
        text_in(note, "zh")    # "特征 'aov' 是常数，未使用"
    """

    __slots__ = ("phrase",)
    phrase: Phrase

    def __new__(cls, table: Mapping[str, Mapping[str, str]], key: str, /, **values) -> LocalText:
        p = Phrase(table, key, **values)
        self = super().__new__(cls, p.text("en"))
        self.phrase = p
        return self

    def text(self, lang: str) -> str:
        return self.phrase.text(lang)

    def __reduce__(self):  # pickling (st.cache_data), copy, deepcopy
        return (_local_text, (self.phrase.table, self.phrase.key, self.phrase.values))


def _local_text(table, key, values) -> LocalText:
    return LocalText(table, key, **values)


def text_in(text, lang: str) -> str:
    """`text` in `lang` when it can be said there (a `Localized` or a `Phrase`), else as it is
    (data, or text stored before it carried its phrase)."""
    if isinstance(text, Localized | Phrase):
        return text.text(lang)
    return "" if text is None else str(text)


def phrase_dicts(texts) -> list[dict | None]:
    """The structured form of `texts` to store beside them (None for a plain string)."""
    return [t.phrase.to_dict() if isinstance(t, LocalText) else None for t in texts]


def texts_in(texts, phrases, table: Mapping[str, Mapping[str, str]], lang: str) -> list[str]:
    """Stored English `texts` said in `lang` from their stored `phrases` (`phrase_dicts`).

    A text without a phrase (stored by an older version, or plain data) stays as it is, and so
    does one whose phrase this version no longer knows.
    """
    texts = [str(t) for t in texts or []]
    if lang == "en" or not phrases or len(phrases) != len(texts):
        return texts
    out = []
    for text, d in zip(texts, phrases, strict=True):
        try:
            out.append(Phrase.from_dict(table, d).text(lang) if d else text)
        except (KeyError, IndexError, ValueError, TypeError):
            out.append(text)
    return out
