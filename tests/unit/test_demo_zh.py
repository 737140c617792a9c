"""The demo store with Chinese reviews: the same shop, the same personas, words of their own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.cli import app
from core.datasets import create_demo_dataset, dataset_name
from core.demo import REVIEW_LANGS, generate_demo_store
from core.explain import explain_selection
from core.profiles import class_tfidf, word_theme
from core.tokenise import chinese_share, is_mostly_chinese
from core.workspace import Workspace

N = 800
SEED = 5


@pytest.fixture(scope="module")
def stores():
    return (
        generate_demo_store(n_customers=N, seed=SEED),
        generate_demo_store(n_customers=N, seed=SEED, lang="zh"),
    )


@pytest.fixture(scope="module")
def zh_reviews(stores):
    zh = stores[1]
    return zh["reviews"].merge(
        zh["customers"][["customer_id", "persona"]], on="customer_id", validate="many_to_one"
    )


def test_same_shop_in_either_language(stores):
    en, zh = stores
    for table in ("customers", "orders", "products"):
        pd.testing.assert_frame_equal(en[table], zh[table])
    pd.testing.assert_frame_equal(
        en["reviews"].drop(columns="review_text"), zh["reviews"].drop(columns="review_text")
    )
    assert (en["customers"]["persona"] == zh["customers"]["persona"]).all()


def test_zh_reviews_are_chinese_and_en_reviews_are_not(stores):
    en, zh = stores
    assert chinese_share(zh["reviews"]["review_text"]) == 1.0
    assert chinese_share(en["reviews"]["review_text"]) == 0.0
    assert not zh["reviews"]["review_text"].str.contains("{p}", regex=False).any()


def test_banks_say_the_same_number_of_things():
    en_banks, en_neutral, _ = REVIEW_LANGS["en"]
    zh_banks, zh_neutral, _ = REVIEW_LANGS["zh"]
    assert set(en_banks) == set(zh_banks)
    assert {k: len(v) for k, v in en_banks.items()} == {k: len(v) for k, v in zh_banks.items()}
    assert len(en_neutral) == len(zh_neutral)
    assert all(is_mostly_chinese(s) for bank in zh_banks.values() for s in bank)


def test_unknown_review_language_is_refused():
    with pytest.raises(ValueError, match="'fr'"):
        generate_demo_store(n_customers=20, lang="fr")


def test_distinctive_words_of_a_persona_come_from_its_own_bank(zh_reviews):
    banks, _, _ = REVIEW_LANGS["zh"]
    words = class_tfidf(zh_reviews.groupby("persona")["review_text"].agg(list), top_n=5)
    assert set(words) == set(banks)
    for persona, top in words.items():
        assert len(top) == 5, persona
        for term, _ in top:
            # A term (a word or two neighbouring words) is written in one of the persona's
            # own sentences — not a whole clause, not a neutral filler sentence.
            assert any(term.replace(" ", "") in s for s in banks[persona]), (persona, term)
            assert len(term) <= 6, (persona, term)


@pytest.mark.parametrize(
    ("persona", "theme"),
    [
        ("eco_conscious", "eco"),
        ("tech_enthusiast", "tech"),
        ("gift_seasonal", "gift"),
        ("bargain_hunter", "deal"),
        ("unhappy_returner", "unhappy"),
    ],
)
def test_chinese_words_carry_the_persona_theme(zh_reviews, persona, theme):
    words = class_tfidf(zh_reviews.groupby("persona")["review_text"].agg(list), top_n=8)
    assert word_theme(words[persona]) == theme


def test_explaining_a_chinese_selection_gives_its_words(stores):
    zh = stores[1]
    customers = zh["customers"][["customer_id", "persona"]].copy()
    customers["n"] = np.arange(len(customers), dtype=float)  # one numeric column
    mask = (customers["persona"] == "eco_conscious").to_numpy()
    why = explain_selection(customers.drop(columns="persona"), mask, zh["reviews"], lang="zh")
    got = {w for w, _ in why.words}
    assert got & {"环保", "塑料", "回收", "再生", "包装"}
    assert all(len(w) <= 6 for w in got)


def test_demo_dataset_and_cli_in_chinese(workspace_root):
    ws = Workspace(workspace_root)
    info = create_demo_dataset(ws, 120, 4, lang="zh")
    assert info.name == "Demo store (120 customers, seed 4, Chinese reviews)"
    assert dataset_name(info, "zh") == "演示商店（120 位客户，随机种子 4，中文评论）"
    assert ws.get_dataset("demo").meta["review_lang"] == "zh"
    assert chinese_share(ws.load_table("demo", "reviews")["review_text"]) == 1.0

    runner = CliRunner()
    res = runner.invoke(app, ["demo", "--customers", "100", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert chinese_share(ws.load_table("demo", "reviews")["review_text"]) == 1.0
    res = runner.invoke(app, ["demo", "--customers", "100", "--lang", "fr"])
    assert res.exit_code != 0
    assert "'fr'" in res.output
