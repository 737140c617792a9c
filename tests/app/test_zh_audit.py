"""Audit: in 简体中文, no page shows English words that are not names, ids or data.

Every page is opened in Chinese on a small store with a segmentation, a trained model, a
campaign and a recommender, a few interactions open the parts that start closed (explanations,
lookalikes, a confusion cell, the stability check, k selection, a bad upload), and every visible
text is collected: titles, markdown, captions, alerts, metric labels and values, widget labels,
help and options, expander and tab labels, download labels, table headers and chart titles,
axes, legends and trace names.

A word of three or more Latin letters is allowed only when it comes from the data or names
something the user recognises as such:
* the store's own data: table and column names (and the relations features read,
  ``order_totals``), customer ids, product names, categories,
  attribute values; review words only in a list of words (the distinctive words of a segment);
* names the user gave or the app made: dataset names (the demo store's generated name is not
  one: it is shown translated), run, model and campaign ids and names, file names
  (``demo_campaign.csv``), target names (``churn_90d``); not the classes the app makes
  (``active`` / ``churned`` of the churn target are shown translated), nor run states;
* feature ids (``recency_days``), but only in code or next to a Chinese name: a bare id in a
  picker is a finding;
* a short list of method, model and format names (K-means, HDBSCAN, UMAP, CSV, ROC, …);
* code spans and SQL (shown as code), and values quoted from the user's file or input ('maybe').
"""

from __future__ import annotations

import json
import re

import pytest
from pagetest import app_in, small_segmented_workspace

CJK = re.compile(r"[\u4e00-\u9fff]")
IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*")
WORD = re.compile(r"[A-Za-z]{3,}")
CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
FILE = re.compile(r".+\.(csv|tsv|txt|xlsx?|parquet|json|zip|html)", re.I)
QUOTED = re.compile(r"'[^'\n]*'")  # a value quoted from the user's file or input
ICON = re.compile(r":material/[a-z_]+:|:[a-z]+\[|:(?:gray|blue|green|red|orange|violet)\b")

# Names of methods, models, formats and tools, used as such in Chinese writing too.
_TERMS = """
Segment Studio English MiniLM all-MiniLM-L6-v2 default K-means MiniBatch HDBSCAN GMM UMAP RFM
PCA Ward Transformer MLP Hugging Face HF token CSV TSV Parquet Excel JSON UTF BOM GBK GB18030 PNG
Latin SQL DuckDB getvariable ref_date FILTER WHERE CASE WHEN THEN ELSE END count sum snake_case
ROC AUC PR AP F1 macro macro-F1 ARI TF-IDF Davies Bouldin Davies–Bouldin Hennig Newcombe Welch
score UTC GPU CPU cuda cpu VIP Noise Cohen
"""
TERMS = _TERMS.split()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """(root, words, identifiers, feature ids, review words)."""
    from core.recommend import train_for_run

    root = tmp_path_factory.mktemp("zh_audit") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGSTUDIO_HOME", str(root))
        ws, train_run = small_segmented_workspace(root, seed=3, k=4, train=True)
        seg_run = ws.list_runs("demo", kind="segment")[0]
        train_for_run(ws, seg_run.id, params={"epochs": 2, "factors": 8})
        yield (root, *_allowlist(ws, seg_run, train_run))


def _strings(x, keys: bool = True):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            if keys:
                yield str(k)
            yield from _strings(v, keys)
    elif isinstance(x, list | tuple):
        for v in x:
            yield from _strings(v, keys)


def _allowlist(ws, seg_run, train_run):
    from core.datasets import compute_dataset_features, dataset_name
    from core.features import DERIVED_FROM_ORDERS

    data: set[str] = set(DERIVED_FROM_ORDERS)
    reviews: set[str] = set()
    for ds in ws.list_datasets():
        data |= {ds.id, dataset_name(ds, "zh"), ds.source}
        for table in ds.tables:
            df = ws.load_table(ds.id, table)
            data |= {table, *map(str, df.columns)}
            for col in df.columns:
                if df[col].dtype.kind in "OSU" or str(df[col].dtype).startswith("str"):
                    values = set(df[col].dropna().astype(str).unique())
                    if col == "review_text":
                        reviews |= {w.lower() for v in values for w in WORD.findall(v)}
                    elif max(map(len, values), default=0) <= 60:  # names, not free text
                        data |= values
    for run in ws.list_runs("demo"):  # ids and the target's name, not states, classes, notes
        data |= {run.id} | ({run.summary["target"]} if run.summary.get("target") else set())
    idents = {s for s in data if IDENT.fullmatch(s)}
    words = {w.lower() for s in data for w in WORD.findall(s)} | {w.lower() for w in TERMS}
    features = {f.name for f in compute_dataset_features(ws, "demo").features}
    return words, idents | set(TERMS), features, reviews


def visible_texts(at) -> list[tuple[str, str]]:
    """(where, text) for everything the page shows."""
    out: list[tuple[str, str]] = []

    def add(where: str, value) -> None:
        if isinstance(value, list | tuple):
            for v in value:
                add(where, v)
        elif value is not None and str(value).strip():
            out.append((where, str(value)))

    for kind in ("title", "header", "subheader", "markdown", "caption"):
        for e in at.get(kind):
            add(kind, e.value)
    for kind in ("info", "warning", "error", "success", "toast"):
        for e in at.get(kind):
            add(kind, e.value)
    for m in at.metric:
        add("metric", [m.label, m.value, m.proto.delta])
    widgets = (
        "button",
        "selectbox",
        "radio",
        "multiselect",
        "slider",
        "select_slider",
        "toggle",
        "checkbox",
        "text_input",
        "number_input",
        "text_area",
        "date_input",
    )
    for kind in widgets:
        for w in at.get(kind):
            add(f"{kind} label", w.label)
            add(f"{kind} help", getattr(w, "help", None))
            if kind in ("selectbox", "radio", "multiselect", "select_slider"):
                add(f"{kind} option", list(w.options))
    for kind in ("download_button", "page_link", "status"):
        for w in at.get(kind):
            add(kind, getattr(w.proto, "label", None))
    for e in at.expander:
        add("expander", e.label)
    for tab in at.tabs:
        add("tab", tab.label)
    for d in at.dataframe:
        config = json.loads(d.proto.columns) if d.proto.columns else {}
        for c in d.value.columns:
            label = (config.get(str(c)) or {}).get("label")
            add("table header", label or str(c))
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        layout = spec.get("layout", {})

        def text(x):
            return x.get("text") if isinstance(x, dict) else x

        add("chart title", text(layout.get("title")))
        for k, v in layout.items():
            if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict):
                add("chart axis", text(v.get("title")))
        for a in layout.get("annotations") or []:
            add("chart note", a.get("text"))
        for trace in spec.get("data", []):
            if trace.get("showlegend", True) is not False:
                add("chart trace", trace.get("name"))
            add("chart colour", text((trace.get("marker") or {}).get("colorbar", {}).get("title")))
    return out


def english_words(text: str, allow, *, extra: set[str] = frozenset()) -> list[str]:
    """Words of `text` a Chinese reader should not meet (see the module docstring)."""
    words, idents, features, reviews = allow
    words = words | extra
    chinese = bool(CJK.search(text))
    bad = []
    for line in ICON.sub(" ", QUOTED.sub(" ", CODE.sub(" ", text))).splitlines():
        # Review words where a line says it lists them ("特色评论词：…", "评论常提到 …").
        allowed = words | reviews if "评论" in line else words
        for token in IDENT.findall(line):
            if token in idents or (chinese and token in features) or FILE.fullmatch(token):
                continue
            bad += [w for w in WORD.findall(token) if w.lower() not in allowed]
    return bad


def findings(at, allow, *, extra: set[str] = frozenset()) -> list[str]:
    seen, out = set(), []
    for where, text in visible_texts(at):
        bad = english_words(text, allow, extra=extra)
        if bad and (where, text) not in seen:
            seen.add((where, text))
            out.append(f"[{where}] {text[:200]!r}: {', '.join(dict.fromkeys(bad))}")
    return out


def _explore(at):
    at.radio(key="explore_source").set_value("Segment").run()
    at.button(key="explore_find_lookalikes").click().run()


def _evaluate(at):
    classes = at.selectbox(key="ev_cell_true").options
    at.selectbox(key="ev_cell_true").set_value(classes[0])
    at.selectbox(key="ev_cell_pred").set_value(classes[-1]).run()
    at.button(key="sc_go").click().run()


def _evaluate_baseline(at):
    at.radio(key="ev_model").set_value("logistic_regression").run()


def _profiles(at):
    at.button(key="trust_check").click().run()


def _segments(at):
    at.slider(key="k_range").set_value((2, 3))
    at.slider(key="k_seeds").set_value(2)
    at.button(key="k_go").click().run()


def _campaigns(at):
    at.button(key="camp_demo").click().run()


def _campaigns_bad_file(at):
    at.file_uploader(key="camp_file").upload(
        "campaign.csv", b"customer_id,group,responded\nC0000001,treated,yes\nC0000002,maybe,no\n"
    ).run()
    at.button(key="camp_analyse").click().run()


def _recommend_unknown(at):
    seg = at.selectbox(key="rec_segment").value
    at.text_input(key=f"rec_customer_{seg}").set_value("nobody").run()


PAGES = [
    ("home", None),
    ("data", None),
    ("features", None),
    ("segments", _segments),
    ("explore", _explore),
    ("profiles", _profiles),
    ("migration", None),
    ("train", None),
    ("evaluate", _evaluate),
    ("evaluate", _evaluate_baseline),
    ("campaigns", _campaigns),
    ("campaigns", _campaigns_bad_file),
    ("recommend", _recommend_unknown),
    ("export", None),
]


@pytest.mark.parametrize(
    ("page", "act"), PAGES, ids=[f"{p}-{a.__name__ if a else 'open'}" for p, a in PAGES]
)
def test_page_shows_no_english_in_chinese(store, monkeypatch, page, act):
    root, *allow = store
    monkeypatch.setenv("SEGSTUDIO_HOME", str(root))
    at = app_in("zh", page)
    before = findings(at, allow)
    if act is not None:
        act(at)
        assert not at.exception, at.exception
    found = before + findings(at, allow)
    assert CJK.search(at.title[0].value)
    assert not found, "English in the Chinese interface:\n" + "\n".join(found)


def test_the_audit_finds_english(store):
    """The check itself: a bare feature id, an English sentence and a header are caught; data,
    names and code are not."""
    _, *allow = store
    assert "recency" in english_words("recency_days", allow)
    assert english_words("距上次购买天数（recency_days）", allow) == []
    assert {"responders", "revenue"} <= set(english_words("3 non-responders have revenue", allow))
    assert english_words("主要品类：Electronics (29.6%)", allow) == []
    assert english_words("运行 `segment-x` 的 K-means", allow) == []
    assert english_words("validation loss", allow) == ["validation", "loss"]
    assert english_words("'maybe' 既不是实验组也不是对照组", allow) == []
    assert english_words("shipping was quick", allow) == ["shipping", "was", "quick"]
    assert english_words("**特色评论词：** shipping, quick", allow) == []
    assert english_words("- 评论常提到 shipping\n- shipping", allow) == ["shipping"]


def test_feature_descriptions_follow_the_engine():
    """The Features page shows the catalogue's descriptions translated (dashboard/locales/*/
    features.toml, [desc]); the English source there must stay the engine's own text, so a
    changed description in core/features.py is noticed and retranslated."""
    from core.features import CATALOGUE, category_share_feature
    from dashboard.i18n import catalogue

    en, zh = catalogue("en"), catalogue("zh")
    for f in CATALOGUE:
        assert en[f"features.desc.{f.name}"] == f.description, f.name
        assert CJK.search(zh[f"features.desc.{f.name}"]), f.name
        assert f"features.groups.{f.group}" in en, f.group
    share = category_share_feature("Home & Kitchen")
    assert en["features.desc.share"].format(category="Home & Kitchen") == share.description
