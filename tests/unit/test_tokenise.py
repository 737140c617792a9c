"""Words of reviews in English, Chinese and both: what the distinctive words are made of."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from core.profiles import FILLER_WORDS, class_tfidf
from core.tokenise import (
    CHINESE_STOP_WORDS,
    ENGLISH_TOKEN_PATTERN,
    _han_bigrams,
    chinese_share,
    han_share,
    is_mostly_chinese,
    join_terms,
    terms,
    tokenise,
)


def test_a_chinese_review_gives_words_not_the_sentence():
    words = tokenise("物流很快，包装很好，下次还会买")
    assert {"物流", "包装"} <= set(words)
    assert "物流很快" not in words and "物流很快，包装很好，下次还会买" not in words
    assert all(len(w) <= 4 for w in words)


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        ("质量一般，退货了", {"质量", "一般", "退货"}, {"了"}),
        ("环保材料，很喜欢", {"环保", "材料", "喜欢"}, {"很"}),
        ("客服回复太慢，投诉了也没人管", {"客服", "回复", "投诉"}, {"了", "也"}),
        ("用了优惠券，省了不少钱。", {"优惠券"}, {"用", "了"}),
    ],
)
def test_known_sentences_segment_into_real_words(text, expected, absent):
    words = set(tokenise(text))
    assert expected <= words
    assert not words & absent


def test_stop_words_and_punctuation_are_dropped():
    words = tokenise("我的这个东西真的很好！！是的，非常好。。。")
    assert not set(words) & CHINESE_STOP_WORDS
    assert not any(ch in w for w in words for ch in "！，。")
    assert tokenise("的了是我很也都就在和有不这那，。！？") == []


def test_mixed_english_and_chinese_text():
    words = tokenise("iPhone很好用，battery life 很长，15天到货")
    assert "iphone" in words  # lower-cased like English text
    assert {"battery", "life", "到货"} <= set(words)
    assert not any(ch.isdigit() for w in words for ch in w)  # "15天" is not a word
    # An English review keeps the English rule: 2+ letters, no digits, stop words out.
    assert tokenise("Great deal, I used a coupon and saved 20%!") == [
        "great",
        "deal",
        "used",
        "coupon",
        "saved",
    ]


def test_english_terms_are_what_they_were():
    """The English n-grams match scikit-learn's with the former token pattern exactly."""
    docs = [
        "Love that the packaging is plastic-free and recyclable.",
        "Upgraded to the latest model and the specs are impressive, 5G!",
        "It's the best deal I've had: coupon + voucher, a bargain at $9.99.",
    ]
    stop = frozenset(ENGLISH_STOP_WORDS) | FILLER_WORDS
    old = CountVectorizer(
        ngram_range=(1, 2), stop_words=sorted(stop), token_pattern=ENGLISH_TOKEN_PATTERN
    ).build_analyzer()
    for d in docs:
        assert terms(d, stop, (1, 2)) == old(d)


def test_chinese_ngrams_only_join_neighbouring_words():
    got = terms("开箱就是坏的，多花点钱也值得", ngram_range=(1, 2))
    assert "开箱 坏" not in got  # 就是 / 的 stood between them
    assert "多花点 钱" in got
    assert join_terms(["多花点", "钱"]) == "多花点钱"
    assert join_terms(["iphone", "好用"]) == "iphone 好用"
    assert join_terms(["great", "deal"]) == "great deal"


def test_script_detection():
    assert is_mostly_chinese("物流很快，包装很好")
    assert not is_mostly_chinese("Fast delivery, 很好")
    assert han_share("abc") == 0.0 and han_share("") == 0.0
    assert chinese_share(["物流很快", "Fast delivery", "", None]) == pytest.approx(0.5)


def test_segmentation_is_deterministic():
    text = "跑分相比上一代提升很大，续航也很强，做工精致，质感很高级"
    assert tokenise(text) == tokenise(text)
    assert "跑分" in tokenise(text)  # a shopping word the general dictionary lacks


def test_fallback_without_a_segmenter_still_splits_sentences():
    assert _han_bigrams("物流很快") == ["物流", "流很", "很快"]
    assert _han_bigrams("好") == ["好"]


def test_class_tfidf_finds_chinese_words_per_segment():
    rng = np.random.default_rng(0)
    eco = ["包装无塑料，可以回收，很喜欢。", "环保材料，包装可降解。", "再生材料，很环保。"]
    deal = ["用了优惠券，很划算。", "打折的时候买的，便宜。", "秒杀价，很划算。"]
    docs = {
        "eco": [eco[i] for i in rng.integers(0, 3, 30)],
        "deal": [deal[i] for i in rng.integers(0, 3, 30)],
    }
    words = class_tfidf(docs, top_n=4)
    eco_words = {w for w, _ in words["eco"]}
    deal_words = {w for w, _ in words["deal"]}
    assert eco_words & {"环保", "塑料", "回收", "材料", "再生"}
    assert deal_words & {"优惠券", "划算", "便宜", "打折"}
    assert not any("，" in w or "。" in w or len(w) > 8 for w in eco_words | deal_words)


def test_class_tfidf_on_a_mixed_store():
    docs = {
        "a": ["Fast delivery, 物流很快"] * 6 + ["物流很快，包装很好"] * 6,
        "b": ["Refund took weeks, 退款很慢"] * 6 + ["refund again"] * 6,
    }
    words = class_tfidf(docs, top_n=6)
    assert {"物流", "delivery"} & {w for w, _ in words["a"]}
    assert {"退款", "refund"} & {w for w, _ in words["b"]}
