"""Campaigns page: empty states, demo campaign → uplift table per segment, upload errors."""

from __future__ import annotations

from pagetest import make_app, page_texts

PAGE = "../pages/campaigns.py"


def _open():
    at = make_app().run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def test_campaigns_page_asks_for_a_segmentation_first(demo_ws):
    at = _open()
    assert any("Run a segmentation first" in i.value for i in at.info)
    assert not at.file_uploader


def test_demo_campaign_shows_uplift_per_segment_and_feeds_train(segmented_ws):
    at = _open()
    assert any("No campaign measured" in i.value for i in at.info)
    demo = [b for b in at.button if b.key == "camp_demo"]
    assert demo, "the demo store offers a demo campaign"
    demo[0].click().run()
    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe if "uplift" in d.value.columns]
    assert tables, "the per-segment uplift table is shown"
    t = tables[0]
    segs = [s.split(" · ")[0] for s in t["segment"]]
    assert set(segs) == {"S1", "S2", "S3", "S4", "S5", "All customers"}
    assert segs[-1] == "All customers"
    assert all(v.endswith(" pp") or v == "—" for v in t["uplift"])
    assert all(v.endswith("%") for v in t["response (treated)"])
    assert t["95% CI"].str.contains(" to ").any()
    text = page_texts(at)
    assert "Overall, treated customers responded at" in text
    assert "Best segment:" in text and "Worst segment:" in text
    assert "What was read from demo_campaign.csv" in " ".join(e.label for e in at.expander)
    assert "'treatment' → treated" in text or "`treatment` → treated" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Uplift"].endswith(" pp") and metrics["Incremental revenue"].startswith(
        ("$", "−$")
    )
    # The stored campaign is offered as a training target.
    at.switch_page("../pages/train.py").run()
    assert not at.exception
    target = at.selectbox(key="tr_target")
    assert "Campaign response: who responds when contacted" in target.options
    assert at.selectbox(key="tr_campaign").options


def test_bad_upload_names_row_and_column(segmented_ws):
    at = _open()
    at.file_uploader(key="camp_file").upload(
        "campaign.csv", b"customer_id,group,responded\nC0000001,treated,yes\nC0000002,maybe,no\n"
    ).run()
    at.button(key="camp_analyse").click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "campaign.csv row 3, column 'group': 'maybe' is not treated or control" in errors
    assert not [d for d in at.dataframe if "uplift" in d.value.columns]
