"""The interface catalogue: complete in both languages, and every key the pages use exists."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from dashboard.i18n import LANGUAGES, catalogue, translate
from dashboard.navigation import PAGE_SPECS

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _keys_used() -> dict[str, str]:
    """Literal keys passed to t(...) anywhere in the interface code -> where."""
    used = {}
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("dashboard/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                used[node.args[0].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return used


def test_both_languages_have_the_same_keys_and_placeholders():
    en, zh = catalogue("en"), catalogue("zh")
    assert sorted(set(en) - set(zh)) == [], "untranslated"
    assert sorted(set(zh) - set(en)) == [], "Chinese strings with no English source"
    for key in en:
        assert _fields(en[key]) == _fields(zh[key]), key


def test_chinese_strings_are_translated_not_copied():
    en, zh = catalogue("en"), catalogue("zh")
    copied = [
        k for k in zh if not CJK.search(zh[k]) and zh[k] == en[k] and re.search("[a-z]{4}", en[k])
    ]
    assert len(copied) <= 0.05 * len(zh), copied[:20]


def test_every_key_the_interface_asks_for_exists():
    en = catalogue("en")
    missing = {k: where for k, where in _keys_used().items() if k not in en}
    assert missing == {}
    for key, (_, _, section) in PAGE_SPECS.items():
        assert f"common.nav.{key}" in en and f"common.section.{section}" in en


def test_translate_fills_values_and_refuses_unknown_keys():
    assert translate("home.demo_ready", "zh", name="Demo") == "演示商店已就绪：Demo"
    assert translate("home.demo_ready", "en", name="Demo") == "Demo store ready: Demo"
    with pytest.raises(KeyError, match="no string 'home.nope'"):
        translate("home.nope", "en")
    assert set(LANGUAGES) == {"en", "zh"}
