"""The `segstudio` command line, run in-process with typer's CliRunner."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from core.cli import app
from core.workspace import Workspace

runner = CliRunner()


def test_demo_then_features(workspace_root, tmp_path):
    res = runner.invoke(
        app, ["demo", "--customers", "300", "--seed", "1", "--out", str(tmp_path / "raw")]
    )
    assert res.exit_code == 0, res.output
    assert "dataset 'demo' saved" in res.output
    assert (tmp_path / "raw" / "orders.csv").exists()
    out = tmp_path / "f.parquet"
    res = runner.invoke(
        app,
        [
            "features",
            "demo",
            "--cutoff",
            "2026-01-01",
            "--custom",
            "big=count(*) FILTER (WHERE amount > 100)",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(out)
    assert {"customer_id", "recency_days", "monetary", "big"} <= set(df.columns)
    assert (df["recency_days"].dropna() >= 0).all()


def test_ingest_files_and_list(workspace_root, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text("Customer ID,Region,Segment\n1,North,gold\n2,South,silver\n3,North,gold\n")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "customer_id,order_date,amount\n1,2024-01-05,10.5\n2,2024-01-06,3\n,2024-01-07,4\n"
    )
    rejected = tmp_path / "rej.csv"
    res = runner.invoke(
        app,
        ["ingest", str(customers), str(orders), "--name", "shop", "--rejected-out", str(rejected)],
    )
    assert res.exit_code == 0, res.output
    assert "rejected 1" in res.output
    ws = Workspace(workspace_root)
    (info,) = ws.list_datasets()
    assert info.tables == {"customers": 3, "orders": 2}
    assert "missing customer id" in rejected.read_text().lower()
    res = runner.invoke(app, ["datasets"])
    assert info.id in res.output


def test_ingest_refusal_is_a_clean_error(workspace_root, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = runner.invoke(app, ["ingest", str(empty)])
    assert res.exit_code == 2
    assert "empty.csv" in res.output
    assert "Traceback" not in res.output


def test_features_unknown_dataset(workspace_root):
    res = runner.invoke(app, ["features", "nope"])
    assert res.exit_code == 2 and "no dataset" in res.output


def test_features_bad_custom_sql(workspace_root):
    runner.invoke(app, ["demo", "--customers", "100"])
    res = runner.invoke(app, ["features", "demo", "--custom", "bad=amount"])
    assert res.exit_code == 2
    assert "must aggregate per customer" in res.output


def test_train_then_score(workspace_root, tmp_path):
    assert runner.invoke(app, ["demo", "--customers", "400", "--seed", "2"]).exit_code == 0
    res = runner.invoke(app, ["train", "demo", "--target", "churn", "--no-text", "--epochs", "1"])
    assert res.exit_code == 0, res.output
    assert "logistic_regression" in res.output
    run = Workspace(workspace_root).list_runs("demo", kind="train")[0]
    out = tmp_path / "scores.csv"
    res = runner.invoke(app, ["score", str(run.path / "bundle"), "demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    # by default a churn model scores as of its training cutoff, and says so
    assert "as in training and evaluation (cutoff" in res.output
    n_at_cutoff = len(pd.read_csv(out))
    res = runner.invoke(
        app, ["score", str(run.path / "bundle"), "demo", "--out", str(out), "--cutoff", "latest"]
    )
    assert res.exit_code == 0, res.output
    assert "do not compare these scores with those labels" in res.output
    scores = pd.read_csv(out)
    assert len(scores) == 400 >= n_at_cutoff and set(scores["predicted"]) <= {"active", "churned"}
    res = runner.invoke(app, ["score", str(tmp_path), "demo", "--out", str(out)])
    assert res.exit_code == 2 and "not a model bundle" in res.output


def test_ingest_prints_the_mapping_and_map_ignores_case(workspace_root, tmp_path):
    path = tmp_path / "telco.csv"
    path.write_text("customerID,Churn,Plan\nA1,Yes,basic\nA2,No,pro\nA3,No,basic\n")
    res = runner.invoke(app, ["ingest", str(path), "--map", "plan=label", "--map", "churn=-"])
    assert res.exit_code == 0, res.output
    assert "customerID → customer_id" in res.output and "Plan → label" in res.output
    ws = Workspace(workspace_root)
    (info,) = ws.list_datasets()
    customers = ws.load_table(info.id, "customers")
    assert customers.set_index("customer_id")["label"].to_dict() == {
        "A1": "basic", "A2": "pro", "A3": "basic",
    }  # fmt: skip
    assert "churn" in customers.columns
    res = runner.invoke(app, ["ingest", str(path), "--map", "chrn=label"])
    assert res.exit_code == 2 and "--map 'chrn': no column" in res.output


def test_features_save_keeps_custom_features_for_later_commands(workspace_root):
    from core.datasets import compute_dataset_features, load_feature_config

    assert runner.invoke(app, ["demo", "--customers", "200", "--seed", "1"]).exit_code == 0
    res = runner.invoke(
        app,
        ["features", "demo", "--custom", "big=count(*) FILTER (WHERE amount > 100)",
         "--enable", "channel_app", "--save"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    ws = Workspace(workspace_root)
    config = load_feature_config(ws, "demo")
    assert [f.name for f in config.custom] == ["big"] and config.enabled == ["channel_app"]
    assert {"big", "channel_app"} <= set(compute_dataset_features(ws, "demo").data.columns)
    # saving again with the same name replaces the feature instead of doubling it
    res = runner.invoke(app, ["features", "demo", "--custom", "big=count(*)", "--save"])
    assert res.exit_code == 0, res.output
    assert [f.sql for f in load_feature_config(ws, "demo").custom] == ["count(*)"]
    res = runner.invoke(app, ["features", "demo", "--list"])
    assert "* channel_app" in res.output and "  channel_web" in res.output
    res = runner.invoke(app, ["features", "demo", "--enable", "nope"])
    assert res.exit_code == 2 and "no feature 'nope'" in res.output


def _model_rows(output: str, names) -> dict[str, list[float]]:
    """name → the numbers printed on its table row (first row naming it)."""
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        for name in names:
            if name not in rows and line.strip().startswith(name + " "):
                rows[name] = [float(v) for v in parts[len(name.split()) :] if v != "±"]
    return rows


def test_train_prints_auc_for_every_model_and_cross_validates(
    workspace_root, tmp_path, demo_tiny_bert
):
    import json

    enc, tok, _ = demo_tiny_bert
    encoder_dir = tmp_path / "tiny-bert"
    enc.save_pretrained(encoder_dir)
    tok.save_pretrained(encoder_dir)
    assert runner.invoke(app, ["demo", "--customers", "300", "--seed", "4"]).exit_code == 0
    res = runner.invoke(
        app,
        [
            "train",
            "demo",
            "--label-column",
            "persona",
            "--encoder",
            str(encoder_dir),
            "--epochs",
            "1",
            "--max-length",
            "32",
            "--lr",
            "2e-3",
            "--cv",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    run = Workspace(workspace_root).list_runs("demo", kind="train")[0]
    s = json.loads((run.path / "summary.json").read_text())
    names = [m["name"] for m in s["models"]]
    assert names[0] == "fine-tuned text + numbers" and "tfidf_logistic_regression" in names
    holdout, _, cv_part = res.output.partition("cross-validation")
    header = next(line for line in holdout.splitlines() if line.strip().startswith("model"))
    assert header.split() == ["model", "AUC", "accuracy", "macro-F1"]
    rows = _model_rows(holdout, names)
    assert set(rows) == set(names)
    for m in s["models"]:  # the printed figures are the stored ones
        expected = [m["macro_auc"], m["accuracy"], m["macro_f1"]]
        assert rows[m["name"]] == pytest.approx(expected, abs=5e-4), m
    best = s["best_baseline"]["name"]
    verdict = next(line for line in holdout.splitlines() if best in line and "fine-tuned" in line)
    assert ("does as well as or better" in verdict) == (not s["beats_best_baseline"])
    # --cv 2: mean ± std of the three metrics per model, the fine-tuned one included
    assert cv_part and "2-fold" in res.output
    cv_rows = _model_rows(cv_part, ["fine-tuned", *names[1:]])
    assert set(cv_rows) == {"fine-tuned", *names[1:]}
    for values in cv_rows.values():
        assert len(values) == 6 and all(0 <= v <= 1 for v in values)
    cv = pd.read_parquet(run.path / "cv.parquet")
    auc = cv[cv["model"] == "fine-tuned"]["macro_auc"]
    assert len(auc) == 2 and cv_rows["fine-tuned"][0] == pytest.approx(auc.mean(), abs=5e-4)


def test_train_cv_needs_two_folds(workspace_root):
    assert runner.invoke(app, ["demo", "--customers", "100"]).exit_code == 0
    res = runner.invoke(app, ["train", "demo", "--label-column", "persona", "--cv", "1"])
    assert res.exit_code == 2 and "--cv" in res.output
