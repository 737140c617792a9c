"""Linked views on Evaluate (confusion cell → customers, map, reviews) and the trust section of
Profiles (confidence, borderline customers, stability check)."""

from __future__ import annotations

import numpy as np
from pagetest import make_app, page_texts

from core.evaluate import Evaluation
from core.finetune import FinetuneParams, load_evaluations, load_predictions, run_finetune
from core.trust import load_stability


def test_profiles_trust_section_and_stability_check(segmented_ws):
    (run,) = segmented_ws.list_runs("demo", kind="segment")
    at = make_app().run()
    at.switch_page("../pages/profiles.py").run()
    assert not at.exception
    assert "Can you trust these segments?" in page_texts(at)
    assert len(at.get("plotly_chart")) >= 5  # the profile cards still draw their radars

    def trust_table():
        return next(d.value for d in at.dataframe if "verdict" in d.value.columns)

    before = trust_table()
    assert len(before) == 5 and set(before["verdict"]) == {"not checked"}
    assert before["borderline_share"].between(0, 1).all()
    borderline = next(d.value for d in at.dataframe if "alternative" in d.value.columns)
    assert len(borderline) and (borderline["segment"] != borderline["alternative"]).all()
    assert (borderline["margin"] < 0.1).all()

    next(b for b in at.button if b.key == "trust_check").click().run()
    assert not at.exception
    after = trust_table()
    assert after["stability"].between(0, 1).all()
    assert set(after["verdict"]) <= {"stable", "so-so", "unstable"}
    assert load_stability(run.path) is not None  # saved: the next visit does not recompute
    at2 = make_app().run()
    at2.switch_page("../pages/profiles.py").run()
    table = next(d.value for d in at2.dataframe if "verdict" in d.value.columns)
    assert np.allclose(table["stability"], after["stability"])
    assert "adjusted Rand index" in page_texts(at2)


def test_evaluate_confusion_cell_lists_its_customers(segmented_ws):
    run = run_finetune(
        segmented_ws,
        "demo",
        FinetuneParams(target="churn", use_text=False, epochs=2, batch_size=64),
    )
    ev = Evaluation.from_dict(load_evaluations(segmented_ws, run.id)[0])
    # the off-diagonal cell with most customers (else the fullest cell)
    conf = np.asarray(ev.confusion)
    off = conf - np.diag(np.diag(conf)) if (conf - np.diag(np.diag(conf))).any() else conf
    i, j = np.unravel_index(off.argmax(), off.shape)
    true_cls, pred_cls, count = ev.classes[i], ev.classes[j], int(conf[i, j])
    assert count > 0

    at = make_app().run()
    at.switch_page("../pages/evaluate.py").run()
    assert not at.exception
    assert "Who is behind a cell?" in page_texts(at)
    at.selectbox(key="ev_cell_true").set_value(true_cls)
    at.selectbox(key="ev_cell_pred").set_value(pred_cls).run()
    assert not at.exception
    assert f"**{count:,}** holdout customers are **{true_cls}**" in page_texts(at)
    listed = next(d.value for d in at.dataframe if {"true", "predicted"} <= set(d.value.columns))
    assert len(listed) == min(count, 500)
    assert set(listed["true"].astype(str)) == {true_cls}
    assert set(listed["predicted"].astype(str)) == {pred_cls}
    pred = load_predictions(segmented_ws, run.id)
    holdout = set(pred.loc[pred["split"] == "test", "customer_id"].astype(str))
    assert set(listed["customer_id"].astype(str)) <= holdout
    linked = at.session_state["linked_customers"]
    assert len(linked["customer_ids"]) == count and linked["run_id"] == run.id
    assert any(c.key == "ev_linked_map" for c in at.get("plotly_chart"))  # the map is drawn
    reviews = [d.value for d in at.dataframe if "review_text" in d.value.columns]
    assert reviews and set(reviews[0]["customer_id"].astype(str)) <= set(linked["customer_ids"])

    # The same customers, as the selection on the Explore map (explain, lookalikes, export).
    next(b for b in at.button if b.key == "ev_to_explore").click().run()
    assert not at.exception
    assert at.radio(key="explore_source").value == "Confusion cell"
    assert {m.label: m.value for m in at.metric}["Selected customers"] == f"{count:,}"
    assert any(c.key.startswith("explore_cell_map_") for c in at.get("plotly_chart"))
    at.switch_page("../pages/evaluate.py").run()

    at.radio(key="ev_model").set_value(at.radio(key="ev_model").options[1]).run()
    assert not at.exception
    assert "Customer lists are kept for" in page_texts(at)  # baselines keep no per-customer rows
