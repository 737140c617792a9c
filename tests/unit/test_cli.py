"""The `segstudio` command line, run in-process with typer's CliRunner."""

from __future__ import annotations

import pandas as pd
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
    scores = pd.read_csv(out)
    assert len(scores) == 400 and set(scores["predicted"]) <= {"active", "churned"}
    res = runner.invoke(app, ["score", str(tmp_path), "demo", "--out", str(out)])
    assert res.exit_code == 2 and "not a model bundle" in res.output
