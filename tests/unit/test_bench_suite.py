"""The benchmark suite itself: one command, equality checks before timing, the report."""

from __future__ import annotations

import json

import pytest

from benchmarks.__main__ import main as bench_main
from benchmarks.bench_features import compare, pandas_features
from benchmarks.suite import (
    BENCHMARKS,
    BenchResult,
    ResultsDiffer,
    load_results,
    measure_in_child,
    render_results,
)


def test_child_measurement_reports_time_memory_and_the_result():
    out = measure_in_child("benchmarks.bench_demo:generate", n_customers=300)
    assert out["customers"] == 300 and out["persona_total"] == 300
    assert out["seconds"] > 0 and out["cpu_seconds"] > 0
    assert out["peak_rss_mb"] > 50  # a Python process with pandas loaded


def test_child_failure_is_reported_with_its_traceback():
    with pytest.raises(RuntimeError, match="n_customers must be at least 1"):
        measure_in_child("benchmarks.bench_demo:generate", n_customers=0)


def test_one_command_runs_benchmarks_and_renders_results(tmp_path):
    results, report = tmp_path / "results", tmp_path / "RESULTS.md"
    rc = bench_main(
        [
            "--scale",
            "tiny",
            "--only",
            "features,ingest,demo",
            "--workdir",
            str(tmp_path / "work"),
            "--results",
            str(results),
            "--report",
            str(report),
        ]
    )
    assert rc == 0
    stored = load_results(results)
    assert set(stored) == {"features", "ingest", "demo"}
    feats = stored["features"]
    assert feats.rows[0]["features"] >= 25  # the whole catalogue, not a subset
    assert "all" in feats.checks[0] and feats.machine["cpus"] >= 1
    ingest_tools = {r["tool"] for r in stored["ingest"].rows}
    assert len(ingest_tools) == 3
    md = report.read_text()
    # Rendered in the registry's order, with machine and versions.
    assert md.index("## Feature catalogue") < md.index("## Ingest") < md.index("## Demo store")
    assert "duckdb 2" in md or "duckdb 1" in md  # library versions are recorded
    json.loads((results / "features.json").read_text())  # valid JSON on disk


def test_unknown_benchmark_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench_main(["--only", "nope"])
    assert "unknown benchmark" in capsys.readouterr().err


def test_pandas_features_disagreement_is_caught(tmp_path):
    from core.demo import generate_demo_store
    from core.features import build_customer_features

    tables = generate_demo_store(n_customers=200, seed=1)
    duck = build_customer_features(tables).data
    pand = pandas_features(tables)
    duck.to_parquet(tmp_path / "result_duckdb.parquet", index=False)
    pand.to_parquet(tmp_path / "result_pandas.parquet", index=False)
    assert len(compare(tmp_path)) == len(duck.columns) - 1
    pand.loc[3, "monetary"] += 1.0
    pand.to_parquet(tmp_path / "result_pandas.parquet", index=False)
    with pytest.raises(ResultsDiffer, match="monetary for 1 customers"):
        compare(tmp_path)


def test_report_shows_goal_status_and_every_benchmark_in_order():
    res = {
        "demo": BenchResult("demo", "Demo", "tiny", "fast.", rows=[{"n": 1, "s": 0.5}]),
        "features": BenchResult(
            "features", "Feats", "full", "4.2× faster.", goal="≥ 5×", goal_met=False
        ),
    }
    md = render_results(res, findings="**Top finding.**")
    assert md.index("**Top finding.**") < md.index("## Summary")
    assert "**not met**" in md and "| 1 | 0.5 |" in md
    assert md.index("## Feats") < md.index("## Demo")  # the registry's order
    assert list(BENCHMARKS)[0] == "features"


def test_child_peak_memory_is_its_own_not_the_parents():
    import numpy as np

    held = np.ones(50_000_000)  # 400 MB held by this process while the child runs
    out = measure_in_child("benchmarks.bench_demo:generate", n_customers=300)
    assert held.sum() == 50_000_000
    assert out["peak_rss_mb"] < 350  # a small child, whatever its parent holds
