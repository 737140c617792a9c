"""Campaign feedback loop: reading result files, uplift maths, storage, the 'who responds' target."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from core.campaign import (
    CONTROL,
    OVERALL,
    TOO_FEW,
    TREATED,
    demo_campaign_file,
    highlights,
    list_campaigns,
    load_campaign,
    read_campaign_file,
    record_campaign,
    uplift_interval,
    uplift_table,
    welch_interval,
    wilson_interval,
)
from core.targets import NOT_RESPONDED, RESPONDED, campaign_target


# --------------------------------------------------------------------------- maths
@pytest.mark.parametrize(
    ("x_t", "n_t", "x_c", "n_c", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_uplift_interval_matches_newcombe_published_examples(x_t, n_t, x_c, n_c, low, high):
    iv = uplift_interval(x_t, n_t, x_c, n_c)
    assert iv.estimate == pytest.approx(x_t / n_t - x_c / n_c)
    assert iv.low == pytest.approx(low, abs=5e-5)
    assert iv.high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_by_hand():
    # 12/40: p = .3, z² = 3.8415: centre (0.3 + 3.8415/80) / (1 + 3.8415/40) = 0.348018 / 1.096036
    # = 0.317524; half = 1.959964 / 1.096036 · √(0.21/40 + 3.8415/6400) = 1.788229 · 0.076487
    # = 0.136776
    iv = wilson_interval(12, 40)
    assert iv.low == pytest.approx(0.180748, abs=1e-5)
    assert iv.high == pytest.approx(0.454300, abs=1e-5)


def test_welch_interval_by_hand_and_against_scipy():
    from scipy import stats

    a = np.array([10.0] * 12 + [0.0] * 28)  # mean 3, variance 840/39
    b = np.array([10.0] * 4 + [0.0] * 36)  # mean 1, variance 360/39
    iv = welch_interval(a, b)
    # se = √(21.538/40 + 9.231/40) = 0.87706; df = 67.24; t(0.975, 67.24) = 1.9960
    assert iv.estimate == pytest.approx(2.0)
    assert iv.low == pytest.approx(2.0 - 1.9960 * 0.87706, abs=1e-3)
    assert iv.high == pytest.approx(2.0 + 1.9960 * 0.87706, abs=1e-3)
    ref = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    assert (iv.low, iv.high) == pytest.approx((ref.low, ref.high))


def _fixed_results() -> pd.DataFrame:
    """Segment A: 12/40 treated vs 4/40 control responded, each responder spent 10.
    Segment B: 5 treated and 5 control customers only (too few to tell)."""
    rows = []
    for seg, group, n, k in [
        ("A", TREATED, 40, 12),
        ("A", CONTROL, 40, 4),
        ("B", TREATED, 5, 1),
        ("B", CONTROL, 5, 3),
    ]:
        for i in range(n):
            rows.append(
                {
                    "customer_id": f"{seg}{group[0]}{i}",
                    "group": group,
                    "responded": i < k,
                    "revenue": 10.0 if i < k else 0.0,
                    "segment": seg,
                }
            )
    return pd.DataFrame(rows)


def test_uplift_table_on_fixed_example():
    t = uplift_table(_fixed_results()).set_index("segment")
    assert list(t.index) == ["A", "B", OVERALL]
    a = t.loc["A"]
    assert (a["n_treated"], a["n_control"]) == (40, 40)
    assert a["rate_treated"] == pytest.approx(0.30) and a["rate_control"] == pytest.approx(0.10)
    assert a["uplift"] == pytest.approx(0.20)
    assert a["relative_uplift"] == pytest.approx(2.0)  # 30% is three times 10%
    iv = uplift_interval(12, 40, 4, 40)
    assert (a["uplift_low"], a["uplift_high"]) == pytest.approx((iv.low, iv.high))
    assert 0 < a["uplift_low"] < 0.20 < a["uplift_high"] < 0.40
    assert a["incremental_responders"] == pytest.approx(8.0)  # 0.20 × 40 treated
    assert a["revenue_per_treated"] == pytest.approx(3.0)
    assert a["revenue_per_control"] == pytest.approx(1.0)
    assert a["revenue_diff_low"] == pytest.approx(2.0 - 1.9960 * 0.87706, abs=1e-3)
    assert a["incremental_revenue"] == pytest.approx(80.0)  # 2.0 × 40
    assert a["verdict"] == "responds more when treated"
    b = t.loc["B"]
    assert b["verdict"] == TOO_FEW and math.isnan(b["uplift"]) and math.isnan(b["uplift_low"])
    assert b["rate_treated"] == pytest.approx(0.2)  # counts and rates are still shown
    o = t.loc[OVERALL]
    assert (o["n_treated"], o["n_control"]) == (45, 45)
    assert o["uplift"] == pytest.approx(13 / 45 - 7 / 45)
    text = " ".join(highlights(t.reset_index()))
    assert "Too few customers to tell for B" in text and "+13.3 pp" in text


def test_best_and_worst_segment_sentences():
    rows = []
    for seg, xt, xc in [("Keen", 30, 5), ("Put off", 2, 12)]:
        for g, x in ((TREATED, xt), (CONTROL, xc)):
            rows += [
                {"customer_id": f"{seg}{g}{i}", "group": g, "responded": i < x, "segment": seg}
                for i in range(100)
            ]
    t = uplift_table(pd.DataFrame(rows), has_revenue=False)
    assert t["revenue_per_treated"].isna().all()
    text = "\n".join(highlights(t, {"Keen": "Bargain hunters"}))
    assert "Best segment: **Bargain hunters**, uplift +25.0 pp — the interval is above zero" in text
    assert (
        "Worst segment: **Put off**, uplift −10.0 pp: the campaign put these customers off" in text
    )


# --------------------------------------------------------------------------- reading
def test_reader_maps_spellings_and_reports_fills():
    csv = (
        b"Customer ID;Arm;Converted;Sales\n"
        b"c1;Treatment;Yes;12,50\n"
        b"c2;HOLDOUT;no;\n"
        b"c3;test;TRUE;\n"
        b"c4;0;0;\n"
        b"c5;1;false;\n"
    )
    cf = read_campaign_file(csv, "campaign.csv")
    r = cf.report
    assert r.columns == {
        "customer_id": "Customer ID",
        "group": "Arm",
        "responded": "Converted",
        "revenue": "Sales",
    }
    assert r.group_values == {
        "0": CONTROL,
        "1": TREATED,
        "HOLDOUT": CONTROL,
        "Treatment": TREATED,
        "test": TREATED,
    }
    assert (r.n_treated, r.n_control, r.rows_read, r.rows_kept) == (3, 2, 5, 5)
    assert list(cf.data["responded"]) == [True, False, True, False, False]
    assert list(cf.data["revenue"]) == [12.5, 0.0, 0.0, 0.0, 0.0]
    assert any("3 non-responders have no revenue: counted as 0" in n for n in r.notes)
    assert any("1 responders have no revenue" in w for w in r.warnings)


def test_reader_errors_name_file_row_and_column():
    csv = b"customer_id,group,responded\nc1,treated,yes\nc2,maybe,no\nc3,control,perhaps\n"
    with pytest.raises(ValueError) as e:
        read_campaign_file(csv, "campaign.csv")
    msg = str(e.value)
    assert "campaign.csv row 3, column 'group': 'maybe' is not treated or control" in msg
    assert "campaign.csv row 4, column 'responded': 'perhaps' is not yes or no" in msg


def test_reader_refuses_duplicates_missing_columns_and_empty_control():
    with pytest.raises(
        ValueError, match=r"rows 2, 4, column 'customer_id': customer 'c1' appears 2"
    ):
        read_campaign_file(
            b"customer_id,group,responded\nc1,treated,1\nc2,control,0\nc1,control,1\n", "d.csv"
        )
    with pytest.raises(ValueError, match=r"x\.csv: no 'responded' column"):
        read_campaign_file(b"customer_id,group\nc1,treated\n", "x.csv")
    with pytest.raises(ValueError, match="no customer is in the control group"):
        read_campaign_file(b"customer_id,group,responded\nc1,treated,1\nc2,treated,0\n", "t.csv")
    with pytest.raises(ValueError, match=r"row 3, column 'revenue': 'lots' is not a number"):
        read_campaign_file(
            b"customer_id,group,responded,revenue\nc1,treated,1,3\nc2,control,0,lots\n", "r.csv"
        )


def test_unknown_ids_are_excluded_and_reported_or_rejected():
    csv = b"customer_id,group,responded\nc1,treated,1\nzz,control,0\nc2,control,0\n"
    cf = read_campaign_file(csv, "c.csv", known_ids=["c1", "c2", "c3"])
    assert list(cf.data["customer_id"]) == ["c1", "c2"]
    assert cf.report.unknown_ids == 1 and cf.report.unknown_examples == ["zz"]
    assert any(
        "1 of 3 customer ids are not in the dataset" in w and "row 3: 'zz'" in w
        for w in cf.report.warnings
    )
    with pytest.raises(ValueError, match=r"1 of 3 customer ids .* row 3: 'zz'"):
        read_campaign_file(csv, "c.csv", known_ids=["c1", "c2"], unknown_ids="reject")
    with pytest.raises(ValueError, match="right dataset"):
        read_campaign_file(csv, "c.csv", known_ids=["other"])


def test_reader_reads_excel_and_parquet():
    df = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "group": ["treated", "control", "treated"],
            "responded": [True, False, False],
        }
    )
    pq = io.BytesIO()
    df.to_parquet(pq)
    cf = read_campaign_file(pq.getvalue(), "c.parquet")
    assert list(cf.data["customer_id"]) == ["1", "2", "3"] and not cf.has_revenue
    xl = io.BytesIO()
    df.to_excel(xl, index=False)
    cf = read_campaign_file(xl.getvalue(), "c.xlsx")
    assert list(cf.data["responded"]) == [True, False, False]


# --------------------------------------------------------------------------- storage, demo, target
@pytest.fixture(scope="module")
def seg_ws(tmp_path_factory):
    from core.datasets import create_demo_dataset
    from core.pipeline import SegmentationParams, run_segmentation
    from core.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("campaign"))
    create_demo_dataset(ws, n_customers=600, seed=4)
    run = run_segmentation(
        ws, "demo", SegmentationParams(method="kmeans", k=3, use_text=False, projection=False)
    )
    return ws, run.id


def test_demo_campaign_round_trip_through_storage(seg_ws):
    ws, run_id = seg_ws
    customers = ws.load_table("demo", "customers")
    data = demo_campaign_file(customers, seed=1)
    cf = read_campaign_file(data, "demo_campaign.csv", known_ids=customers["customer_id"])
    assert cf.report.group_values == {"control": CONTROL, "treatment": TREATED}
    assert cf.report.unknown_ids == 0 and cf.report.n_control > 100
    saved = record_campaign(ws, run_id, cf, name="Spring sale")
    assert saved.path == ws.get_run(run_id).path / "campaigns" / saved.id
    assert (saved.path / "results.parquet").exists() and (saved.path / "summary.json").exists()
    again = load_campaign(ws, saved.id, run_id=run_id)
    assert again.name == "Spring sale" and again.file == "demo_campaign.csv"
    assert again.report.group_values == cf.report.group_values
    pd.testing.assert_frame_equal(again.table, saved.table)
    segs = set(again.table["segment"]) - {OVERALL}
    assert segs == {"S1", "S2", "S3"}
    overall = again.table.set_index("segment").loc[OVERALL]
    assert overall["n_treated"] + overall["n_control"] == len(cf.data)
    res = again.results()
    assert set(res.columns) >= {"customer_id", "group", "responded", "revenue", "segment"}
    assert [c.id for c in list_campaigns(ws, run_id=run_id)] == [saved.id]
    assert load_campaign(ws, saved.id, dataset_id="demo").id == saved.id
    with pytest.raises(KeyError):
        load_campaign(ws, "nope", dataset_id="demo")


def test_demo_campaign_responses_depend_on_persona(seg_ws):
    ws, _ = seg_ws
    customers = ws.load_table("demo", "customers")
    cf = read_campaign_file(demo_campaign_file(customers, seed=0), "demo.csv")
    res = cf.data.merge(customers[["customer_id", "persona"]], on="customer_id")
    t = uplift_table(res.rename(columns={"persona": "segment"}), min_group=10).set_index("segment")
    assert t.loc["bargain_hunter", "uplift"] > 0.05
    assert t.loc["unhappy_returner", "uplift"] < t.loc["bargain_hunter", "uplift"]


def test_campaign_target_labels_treated_customers_only():
    res = _fixed_results()
    t = campaign_target(res, campaign_id="x")
    assert t.kind == "campaign" and t.classes == [RESPONDED, NOT_RESPONDED]
    assert t.n_customers == 45  # the 45 treated; the 45 control customers are left out
    assert set(t.labels["customer_id"]) == set(res.loc[res["group"] == TREATED, "customer_id"])
    assert t.class_counts().to_dict() == {RESPONDED: 13, NOT_RESPONDED: 32}
    assert t.meta["n_control_left_out"] == 45
    with pytest.raises(ValueError, match="both responders and non-responders"):
        campaign_target(res.assign(responded=False))
    with pytest.raises(ValueError, match="'group' has 'maybe'"):
        campaign_target(res.assign(group="maybe"))


def test_tiny_finetune_learns_who_responds(seg_ws):
    from core.finetune import FinetuneParams, run_finetune

    ws, run_id = seg_ws
    customers = ws.load_table("demo", "customers")
    cf = read_campaign_file(demo_campaign_file(customers, seed=2), "demo.csv")
    saved = record_campaign(ws, run_id, cf, name="Autumn")
    p = FinetuneParams(
        target="campaign",
        campaign=saved.id,
        use_text=False,
        epochs=1,
        batch_size=64,
        baselines=False,
    )
    run = run_finetune(ws, "demo", p)
    assert run.status == "done"
    assert run.summary["classes"] == [RESPONDED, NOT_RESPONDED]
    assert run.summary["n_customers"] == cf.report.n_treated
    from core.finetune import load_predictions

    pred = load_predictions(ws, run.id)
    assert set(pred["true"]) == {RESPONDED, NOT_RESPONDED}
    with pytest.raises(ValueError, match="choose the campaign"):
        run_finetune(ws, "demo", FinetuneParams(target="campaign"))
