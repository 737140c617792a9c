"""Words in review text, for English, Chinese and a mix of both.

Every place that counts the words of reviews (the distinctive words of a segment,
:func:`core.profiles.class_tfidf`, and through it the explanation of a selection and of a
lookalike audience) splits text with :func:`tokenise`, so a word means the same thing on the
Profiles card and in an explanation.

English (and any language written with spaces) keeps the long-standing rule: words of two or
more letters, no digits, lower-cased. Chinese is written without spaces, so the same rule turns
a whole clause ("物流很快" …) into one "word"; the script is detected per stretch of text: a run
of word characters with Han characters in it is segmented by jieba (the ``rjieba`` binding of
jieba-rs: its dictionary is compiled in, it is deterministic and needs no network), and every
other run goes through the English rule. A mostly-Chinese review, a mostly-English one and a
review that mixes both ("iPhone很好用") therefore all give real words.

Stop words: scikit-learn's English list, words that say nothing about a shopper in an
e-commerce review (:data:`FILLER_WORDS`), and a curated Chinese list (:data:`CHINESE_STOP_WORDS`:
particles, pronouns, adverbs of degree, "this item" words). One-character Chinese tokens are
kept only when they are not on that list (贵 "expensive" stays, 的 and 很 go); punctuation is
never a token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Han ideographs (CJK unified, extension A, compatibility). Kana and Hangul are left to the
# English rule: jieba's dictionary is Chinese.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_OR_NOT = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)
_RUN = re.compile(r"\w+")
_CLAUSE = re.compile(r"[^\w\s]+")  # punctuation ends a phrase
# The English rule (unchanged from the first c-TF-IDF): two or more letters, no digits.
ENGLISH_TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
_ENGLISH_TOKEN = re.compile(ENGLISH_TOKEN_PATTERN)
_LETTERS = re.compile(r"[^\W\d_]+")
_LATIN_WORD = re.compile(r"[^\W\d_]{2,}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that say nothing about a shopper in an e-commerce review.
FILLER_WORDS = _words(
    """product products item items order orders ordered ordering bought buy buying purchase
    purchased purchases got get thing things really just im ive dont did does use using one
    also would will thanks thank"""
)

# Chinese function words and e-commerce filler: particles and pronouns, degree adverbs and
# connectives, and the words for "this item / bought / received" that every review has.
CHINESE_STOP_WORDS = _words(
    """的 了 是 我 你 他 她 它 很 也 都 就 在 和 与 及 有 不 这 那 吗 呢 吧 啊 哦 呀 嘛 啦 哈
    个 还 又 被 把 给 让 会 要 能 对 说 去 来 到 上 下 里 中 着 过 得 地 之 其 而 且 但 或 才
    再 比 从 向 等 么 些 每 各 该 此 只 已 于 为 以 用 买 好 真 太 挺 超 蛮 更 最 多 少 次 件 款
    后 前 时 样 点 种 一下 一 没 可 当 看 感
    我们 你们 他们 她们 它们 自己 大家 一个 一些 一点 一直 一次 一样 这个 那个 这些 那些
    这样 那样 这次 这款 那款 这种 这家 没有 什么 怎么 非常 特别 比较 有点 有些 感觉 觉得
    还是 就是 但是 而且 因为 所以 如果 然后 已经 可以 应该 还有 真的 其实 不过 虽然 只是
    这里 那里 东西 商品 产品 宝贝 购买 买了 下单 订单 卖家 店家 评价 哈哈 嗯 呵呵"""
)

# Punctuation is never a token (the word runs above exclude it); listed for callers that filter
# tokens from elsewhere.
PUNCTUATION = frozenset("，。！？；：、“”‘’（）《》【】…—～·,.!?;:'\"()[]{}<>-~/\\|*&^%$#@+=_`")

DEFAULT_STOP_WORDS: frozenset[str] = (
    frozenset(ENGLISH_STOP_WORDS) | FILLER_WORDS | CHINESE_STOP_WORDS
)


def has_han(text: str) -> bool:
    """Whether `text` contains any Chinese (Han) character."""
    return _HAN.search(text) is not None


def han_share(text: str) -> float:
    """Han characters as a share of the letters of `text` (0 when it has none)."""
    letters = "".join(_LETTERS.findall(text))
    if not letters:
        return 0.0
    return len(_HAN.findall(letters)) / len(letters)


def is_mostly_chinese(text: str, threshold: float = 0.5) -> bool:
    """Whether most letters of `text` are Han characters."""
    return han_share(text) >= threshold


def chinese_share(texts: Iterable[str]) -> float:
    """The share of the non-empty texts that are mostly Chinese (e.g. to tell whether an
    English-only encoder suits a store's reviews)."""
    n = hit = 0
    for t in texts:
        if isinstance(t, str) and t.strip():
            n += 1
            hit += is_mostly_chinese(t)
    return hit / n if n else 0.0


# Shopping words jieba's general dictionary lacks (it would split or glue them by guesswork).
SHOP_WORDS: tuple[str, ...] = tuple(
    sorted(
        _words(
            """跑分 差评 包邮 首单 满减 低碳 碳排放 公平贸易 可持续 折扣码 圣诞袜 高级感 回头率
            性价比 种草 拔草 好物 开箱 秒发 色差 尺码 偏大 偏小 起球 掉色 做工 手感 质感 续航
            参数 固件"""
        )
    )
)

_segmenter = None


def _jieba():
    """The process's jieba segmenter (its own instance, so nothing else's dictionary changes)."""
    global _segmenter
    if _segmenter is None:
        import rjieba

        seg = rjieba.Jieba()
        for w in SHOP_WORDS:
            if not seg.has_word(w):
                seg.add_word(w, None, None)
        _segmenter = seg
    return _segmenter


def _cut(run: str) -> list[str]:
    try:
        seg = _jieba()
    except ImportError:  # pragma: no cover - rjieba is a dependency; degrade, don't fail
        return _han_bigrams(run)
    return seg.cut(run)


def _han_bigrams(run: str) -> list[str]:
    """Without a segmenter: overlapping character pairs of the Han stretches (a common
    fallback for Chinese retrieval), Latin stretches as they are."""
    out: list[str] = []
    for part in _HAN_OR_NOT.findall(run):
        if has_han(part):
            out.extend(part[i : i + 2] for i in range(max(1, len(part) - 1)))
        else:
            out.append(part)
    return out


def _chunks(text: str, stop: frozenset[str]) -> list[list[str]]:
    """The kept words of a lower-cased text with Han characters, in stretches of words that
    stand next to each other in it (a stop word, a dropped token or punctuation ends one)."""
    chunks: list[list[str]] = []
    cur: list[str] = []

    def cut() -> None:
        nonlocal cur
        if cur:
            chunks.append(cur)
            cur = []

    for clause in _CLAUSE.split(text):
        for run in _RUN.findall(clause):
            if not has_han(run):
                if _LATIN_WORD.fullmatch(run) and run not in stop:
                    cur.append(run)
                else:
                    cut()
                continue
            for tok in _cut(run):
                tok = tok.strip()
                if not tok:
                    continue
                keep = tok not in stop and (
                    _LETTERS.fullmatch(tok) is not None  # no digits inside ("15天")
                    if has_han(tok)
                    else _LATIN_WORD.fullmatch(tok) is not None
                )
                if keep:
                    cur.append(tok)
                else:
                    cut()
        cut()
    return chunks


def tokenise(
    text: str, stop_words: frozenset[str] | set[str] | None = DEFAULT_STOP_WORDS
) -> list[str]:
    """The words of `text`, lower-cased, stop words removed, in order.

    >>> tokenise("物流很快，包装很好，下次还会买")
    ['物流', '很快', '包装', '下次', '还会']
    >>> tokenise("Fast delivery, 包装很好")
    ['fast', 'delivery', '包装']
    """
    text = text.lower()
    stop = frozenset(stop_words or ())
    if not has_han(text):  # the English rule, exactly as before
        return [w for w in _ENGLISH_TOKEN.findall(text) if w not in stop]
    return [w for chunk in _chunks(text, stop) for w in chunk]


def terms(
    text: str,
    stop_words: frozenset[str] | set[str] | None = DEFAULT_STOP_WORDS,
    ngram_range: tuple[int, int] = (1, 1),
) -> list[str]:
    """The words and n-grams (space-joined, as scikit-learn writes them) of `text`.

    Without Chinese the n-grams are scikit-learn's: over the words left after removing stop
    words. With Chinese an n-gram is made only of words that stand next to each other in the
    text ("多花点钱" from 多花点 + 钱), so removing 的 / 就是 / punctuation never glues words
    into a phrase nobody wrote ("开箱就是坏的" gives 开箱 and 坏, not "开箱坏").
    """
    lo, hi = ngram_range
    text = text.lower()
    stop = frozenset(stop_words or ())
    if not has_han(text):
        chunks = [[w for w in _ENGLISH_TOKEN.findall(text) if w not in stop]]
    else:
        chunks = _chunks(text, stop)
    out: list[str] = []
    for n in range(max(1, lo), hi + 1):
        for chunk in chunks:
            out.extend(" ".join(chunk[i : i + n]) for i in range(len(chunk) - n + 1))
    return out


def analyser(
    stop_words: Iterable[str] | None = DEFAULT_STOP_WORDS, ngram_range: tuple[int, int] = (1, 1)
) -> Callable[[str], list[str]]:
    """:func:`terms` with fixed stop words and n-gram range (for scikit-learn's ``analyzer=``)."""
    stop = frozenset(stop_words) if stop_words is not None else frozenset()

    def analyse(text: str) -> list[str]:
        return terms(text, stop, ngram_range)

    return analyse


def join_terms(tokens: Iterable[str]) -> str:
    """Tokens of an n-gram as a reader writes them: a space between English words, none
    between Chinese ones ("物流 很快" → "物流很快", "iphone 好用" keeps its space)."""
    out = ""
    for tok in tokens:
        if out and not (has_han(out[-1]) and has_han(tok[0])):
            out += " "
        out += tok
    return out
