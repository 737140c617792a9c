"""Evaluate → Score: a churn model scores its own dataset as of its training cutoff by default,
says so, and warns when scoring as of the end of the data overlaps its label period."""

from __future__ import annotations

from pagetest import app_in, small_segmented_workspace


def test_scoring_a_churn_model_says_as_of_when(workspace_root):
    _, run = small_segmented_workspace(workspace_root, train=True)
    at = app_in("en", "evaluate")
    assert at.selectbox(key="sc_ds").value == run.dataset_id
    when = at.radio(key="sc_when_True")
    assert when.options[0] == "the training cutoff (as evaluated)"
    at.button(key="sc_go").click().run()
    assert not at.exception, at.exception
    captions = "\n".join(c.value for c in at.caption)
    assert "as in training and evaluation (cutoff" in captions
    assert not [w for w in at.warning if "do not compare" in w.value]

    at.radio(key="sc_when_True").set_value("latest").run()
    at.button(key="sc_go").click().run()
    assert not at.exception, at.exception
    assert [w for w in at.warning if "do not compare these scores" in w.value]


def test_scoring_notes_in_chinese(workspace_root):
    small_segmented_workspace(workspace_root, train=True)
    at = app_in("zh", "evaluate")
    at.button(key="sc_go").click().run()
    assert not at.exception, at.exception
    assert any("与训练和评估相同" in c.value for c in at.caption)
