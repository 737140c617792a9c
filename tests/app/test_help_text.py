"""First-run experience: every non-obvious control of every page explains itself (help text),
in both languages."""

from __future__ import annotations

import pytest
from pagetest import make_app, small_segmented_workspace

from dashboard.navigation import PAGE_SPECS

INPUTS = (
    "selectbox", "multiselect", "slider", "select_slider", "toggle", "checkbox",
    "number_input", "text_input", "text_area", "radio", "date_input",
)  # fmt: skip
# Controls whose label says all there is to say.
OBVIOUS = {
    "delete_choice", "delete_confirm",  # Data: which dataset to delete, "Yes, delete…"
    "cf_name", "cf_desc",  # Features: the new feature's name and description
    "cmp_a", "cmp_b",  # Profiles: the two segments to compare
    "ev_run", "ev_cell_true", "ev_cell_pred",  # Evaluate: run picker; cell picker (captioned)
    "camp_name",  # Campaigns: a name for the campaign
}  # fmt: skip


@pytest.fixture(scope="module")
def full_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("help")
    small_segmented_workspace(root, seed=1, k=4, train=True)
    return root


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_non_obvious_control_has_help(full_ws, monkeypatch, lang):
    monkeypatch.setenv("SEGSTUDIO_HOME", str(full_ws))
    at = make_app()
    at.query_params["lang"] = lang
    at.run()
    missing, seen = [], 0
    for key in PAGE_SPECS:
        at.switch_page(f"../pages/{key}.py").run()
        assert not at.exception, (key, at.exception)
        for kind in INPUTS:
            for w in at.get(kind):
                seen += 1
                if w.key in OBVIOUS or (w.key or "").startswith("FormSubmitter"):
                    continue
                if not (w.proto.help or "").strip():
                    missing.append(f"{key}: {kind} {w.label!r} ({w.key})")
    assert seen > 40  # the pages really rendered their controls
    assert missing == []
