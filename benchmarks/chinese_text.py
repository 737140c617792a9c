"""Chinese review text end to end on the demo store: ARI and distinctive words.

    python -m benchmarks.chinese_text [--customers 5000] [--seed 0]

The same shop is generated twice, with English and with Chinese reviews (``lang="zh"``: the
same customers, orders and personas; each review the same persona sentences, in Chinese). For
each, the segmentation steps of :func:`core.pipeline.run_segmentation` — features, customer
documents, the default text encoder (MiniLM), fused vectors (text weight 0.5), K-means with
k = 8 — are scored against the planted personas (ARI) next to numbers only, overall and on the
eco_conscious / tech_enthusiast pair that only the review text can tell apart. Then the
distinctive words (class-based TF-IDF, jieba for Chinese) of each segment found, checked
against the phrase bank of the persona most of the segment's customers have.

Writes benchmarks/chinese_text.md. Embeddings are cached in the workspace.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from benchmarks.report import markdown_table
from core.datasets import compute_dataset_features, create_demo_dataset
from core.demo import REVIEW_LANGS
from core.documents import DocumentSpec, build_documents
from core.encoders import EmbeddingCache, EncoderSpec, TextEncoder, text_hash
from core.profiles import class_tfidf, word_theme
from core.segment import fuse_vectors, make_segmenter
from core.tokenise import chinese_share
from core.workspace import Workspace

OUT = Path(__file__).with_name("chinese_text.md")
PAIR = ("eco_conscious", "tech_enthusiast")


def in_bank(term: str, persona: str, lang: str) -> bool:
    """Whether a distinctive term is written in one of the persona's own sentences."""
    bank = REVIEW_LANGS[lang][0][persona]
    if lang == "zh":
        return any(term.replace(" ", "") in s for s in bank)
    return any(term in s.lower() for s in bank)


def run_lang(ws: Workspace, lang: str, customers: int, seed: int) -> dict:
    ds_id = f"demo-{lang}-{customers}-{seed}"
    if not ws.has_dataset(ds_id):
        create_demo_dataset(ws, customers, seed, dataset_id=ds_id, lang=lang)
    truth = ws.load_table(ds_id, "customers").set_index("customer_id")["persona"]
    reviews = ws.load_table(ds_id, "reviews")
    feats = compute_dataset_features(ws, ds_id).data
    y = truth.reindex(feats["customer_id"]).to_numpy()
    docs = build_documents(feats, reviews, None, DocumentSpec(include_profile=False))
    texts = docs["document"].tolist()

    enc = TextEncoder(EncoderSpec(), cache=EmbeddingCache(ws.root / "cache" / "embeddings.sqlite"))
    enc.load()
    cached = len(enc.cache.get(enc.model_key, sorted({text_hash(t) for t in texts})))
    t0 = time.perf_counter()
    emb = enc.encode(texts)
    t_embed = time.perf_counter() - t0
    # How much of the text MiniLM's WordPiece vocabulary does not know: [UNK] per token.
    tok = enc._tokenizer
    sample = texts[:500]
    ids = tok(sample, truncation=True, max_length=EncoderSpec().max_length)["input_ids"]
    unk = sum(i == tok.unk_token_id for row in ids for i in row) / max(1, sum(map(len, ids)))

    k = len(set(y))
    pair = np.isin(y, PAIR)
    rows, labels_by = [], {}
    for label, E in (("numbers only", None), ("fused (numbers ⊕ MiniLM text)", emb)):
        fused = fuse_vectors(
            feats,
            E,
            text_weight=0.5 if E is not None else 0.0,
            seed=seed,
            text_mask=docs["has_reviews"].to_numpy(),
        )
        labels = make_segmenter("kmeans", k=k, seed=seed).fit_predict(fused.X)
        labels_by[label] = labels
        rows.append(
            {
                "reviews": lang,
                "vectors": label,
                "ARI": round(adjusted_rand_score(y, labels), 3),
                f"ARI on {PAIR[0]} + {PAIR[1]}": round(
                    adjusted_rand_score(y[pair], labels[pair]), 3
                ),
            }
        )
        print(rows[-1], flush=True)

    # Distinctive words of the segments the fused run found.
    seg_of = pd.Series(labels_by["fused (numbers ⊕ MiniLM text)"], index=feats["customer_id"])
    r_seg = reviews["customer_id"].map(seg_of)
    ok = r_seg.notna()
    grouped = reviews.loc[ok, "review_text"].groupby(r_seg[ok].astype(int).to_numpy()).agg(list)
    words = class_tfidf(grouped, top_n=8)
    seg_rows = []
    for seg, top in sorted(words.items(), key=lambda kv: int(kv[0])):
        members = y[seg_of.to_numpy() == int(seg)]
        major = pd.Series(members).value_counts()
        persona, purity = str(major.index[0]), major.iloc[0] / len(members)
        hits = [in_bank(w, persona, lang) for w, _ in top]
        seg_rows.append(
            {
                "segment": f"S{seg}",
                "customers": len(members),
                "most are": persona,
                "purity": f"{purity:.0%}",
                "top words": ", ".join(w for w, _ in top),
                "theme": word_theme(top) or "—",
                "in that persona's bank": f"{sum(hits)}/{len(hits)}",
            }
        )
    # And of the planted personas themselves (what the text says, whatever the clustering).
    r_persona = reviews["customer_id"].map(truth)
    by_persona = class_tfidf(reviews.groupby(r_persona.to_numpy())["review_text"].agg(list), 8)
    persona_rows = [
        {
            "persona": p,
            "top words": ", ".join(w for w, _ in top),
            "theme": word_theme(top) or "—",
            "in its bank": f"{sum(in_bank(w, p, lang) for w, _ in top)}/{len(top)}",
        }
        for p, top in by_persona.items()
    ]
    return {
        "rows": rows,
        "segments": seg_rows,
        "personas": persona_rows,
        "embed_s": t_embed,
        "n_docs": len(texts),
        "cached": cached,
        "unk": unk,
        "chinese_share": chinese_share(reviews["review_text"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workspace", default=str(Path.home() / ".segstudio-bench"))
    args = ap.parse_args()
    ws = Workspace(args.workspace)

    res = {lang: run_lang(ws, lang, args.customers, args.seed) for lang in ("zh", "en")}
    zh, en = res["zh"], res["en"]
    ari = pd.DataFrame(zh["rows"] + en["rows"])
    get = {(r["reviews"], r["vectors"]): r["ARI"] for r in zh["rows"] + en["rows"]}
    num_zh = get[("zh", "numbers only")]
    fus_zh = get[("zh", "fused (numbers ⊕ MiniLM text)")]
    fus_en = get[("en", "fused (numbers ⊕ MiniLM text)")]
    md = [
        f"# Chinese review text on the demo store ({args.customers:,} customers, seed "
        f"{args.seed}, k = 8)",
        "",
        '`python -m benchmarks.chinese_text` — the same shop with Chinese (`lang="zh"`) and '
        "with English reviews: the same customers, orders and personas, each review the same "
        "persona sentences. Steps as in `run_segmentation`: features, customer documents, the "
        "default encoder (all-MiniLM-L6-v2), fused vectors (text weight 0.5), K-means.",
        "",
        "## ARI against the planted personas",
        "",
        markdown_table(ari),
        "",
        f"On Chinese reviews the fused vectors score ARI **{fus_zh:.3f}** against "
        f"**{num_zh:.3f}** for numbers only (English reviews, same shop: {fus_en:.3f}). "
        f"MiniLM was trained on English: {zh['unk']:.1%} of the WordPiece tokens of the "
        f"Chinese documents are [UNK] ({en['unk']:.1%} in English), the rest mostly single "
        "characters (BERT's tokenizer splits Han text one character at a time): the "
        "separation it still gives comes from which known characters and how many [UNK] a "
        "persona's sentences have, not from a model of Chinese meaning, and it would not carry "
        "over to real, less formulaic reviews. A Chinese-capable encoder is the remedy "
        "(issue 16); the words below do not depend on the encoder.",
        "",
        "Numbers only differs between the two languages although the orders are identical: "
        "one numeric feature, `avg_review_length`, counts characters, and a Chinese sentence "
        "has about a third of the characters of its English counterpart.",
        "",
        f"Embedding on CPU: {zh['n_docs']:,} Chinese documents in {zh['embed_s']:.1f} s "
        f"({zh['cached']:,} already cached), {en['n_docs']:,} English in {en['embed_s']:.1f} s "
        f"({en['cached']:,} cached).",
        "",
        "## Distinctive words of the segments found (Chinese reviews, fused K-means)",
        "",
        "Class-based TF-IDF with jieba segmentation (`core.tokenise`). *In that persona's "
        "bank*: how many of the eight top words are written in the phrase bank of the persona "
        "most of the segment's customers have.",
        "",
        markdown_table(pd.DataFrame(zh["segments"])),
        "",
        "## Distinctive words of the planted personas (Chinese reviews)",
        "",
        markdown_table(pd.DataFrame(zh["personas"])),
        "",
        "## The same for English reviews, for comparison",
        "",
        "English bigrams are scikit-learn's, over the words left after removing stop words, "
        'so a few ("quality requested") are not written literally in a bank sentence.',
        "",
        markdown_table(pd.DataFrame(en["segments"])),
        "",
    ]
    OUT.write_text("\n".join(md), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
