"""Segment trust and lookalike notes in 简体中文: stored in English, said in the user's language."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from core.lookalike import find_lookalikes, note_text
from core.trust import (
    StabilityResult,
    load_stability,
    save_stability,
    segment_stability,
    stability_notes,
    trust_summary,
    verdict_label,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def test_verdicts_are_said_in_chinese_and_unknown_ones_pass_through():
    assert [verdict_label(v, "zh") for v in ("stable", "so-so", "unstable", "not checked")] == [
        "稳定",
        "一般",
        "不稳定",
        "未检验",
    ]
    assert [verdict_label(v) for v in ("stable", "so-so", "unstable")] == [
        "stable",
        "so-so",
        "unstable",
    ]
    assert verdict_label("规则分层：不适用", "zh") == "规则分层：不适用"  # a page's own wording


def _result(notes, sample_size=200, n_customers=1234, seed=7) -> StabilityResult:
    table = pd.DataFrame(
        {
            "segment": ["S1", "S2", "S3"],
            "customers": [500, 400, 334],
            "stability": [0.9, 0.7, 0.3],
            "lowest": [0.85, 0.6, 0.2],
            "verdict": ["stable", "so-so", "unstable"],
        }
    )
    return StabilityResult(
        table, [0.8], "kmeans", 3, 2, 0.8, seed, n_customers, sample_size, 0.1, notes
    )


def test_summary_verdicts_in_chinese_while_trust_json_stays_english(tmp_path):
    rng = np.random.default_rng(0)
    seg = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(1234)],
            "segment": rng.choice(["S1", "S2", "S3"], size=1234),
            "confidence": rng.random(1234),
        }
    )
    res = _result([])
    save_stability(tmp_path, res)
    back = load_stability(tmp_path)
    assert list(back.per_segment["verdict"]) == ["stable", "so-so", "unstable"]  # stored English
    zh = trust_summary(seg, None, back, lang="zh")
    assert list(zh["verdict"]) == ["稳定", "一般", "不稳定"]
    assert list(trust_summary(seg, None, back)["verdict"]) == ["stable", "so-so", "unstable"]
    assert set(trust_summary(seg, None, None, lang="zh")["verdict"]) == {"未检验"}


def test_sampling_note_is_translated_at_display_time():
    X = np.random.default_rng(1).normal(size=(600, 4)).astype(np.float32)
    labels = np.where(X[:, 0] > 0, "S1", "S2")
    res = segment_stability(X, labels, "kmeans", k=2, n_runs=1, seed=7, max_rows=200)
    assert stability_notes(res) == res.notes  # English: exactly what is stored
    (zh,) = stability_notes(res, "zh")
    assert CJK.search(zh) and "600" in zh and "200" in zh and "7" in zh
    assert not ENGLISH_WORD.search(zh), zh
    # Thousands keep their separator, and a note this module did not write stays as it is.
    big = _result(
        [
            "checked on a random sample of 20,000 of 123,456 customers (seed 0) to keep the "
            "check to about a minute",
            "something else",
        ],
        sample_size=20_000,
        n_customers=123_456,
        seed=0,
    )
    first, other = stability_notes(big, "zh")
    assert "20,000" in first and "123,456" in first and CJK.search(first)
    assert other == "something else"


def test_lookalike_notes_in_chinese():
    X = np.random.default_rng(4).normal(size=(30, 4))
    res = find_lookalikes(X, np.arange(30) < 22, 100)
    (zh,) = res.notes_in("zh")
    assert CJK.search(zh) and "100" in zh and "8" in zh and not ENGLISH_WORD.search(zh), zh
    assert res.notes_in("en") == res.notes
    assert "only 8 customers are outside the seed" in res.notes[0]

    big = np.random.default_rng(6).normal(size=(3000, 5)).astype(np.float32)
    res = find_lookalikes(big, np.arange(3000) < 2500, 20, max_seeds=300)
    (zh,) = res.notes_in("zh")
    assert "2,500" in zh and "300" in zh and not ENGLISH_WORD.search(zh), zh

    res = find_lookalikes(X, np.ones(30, bool), 5)
    (zh,) = res.notes_in("zh")
    assert CJK.search(zh) and not ENGLISH_WORD.search(zh)


def test_note_text_rejects_an_unknown_note():
    with pytest.raises(KeyError):
        note_text("no_such_note", {}, "zh")
