from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pandas as pd
import pytest

from core.workspace import Workspace, default_root


def _orders(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "order_date": pd.date_range("2024-01-01", periods=n),
            "amount": [10.0 * (i + 1) for i in range(n)],
        }
    )


def test_default_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGSTUDIO_HOME", str(tmp_path / "x"))
    assert default_root() == tmp_path / "x"
    monkeypatch.delenv("SEGSTUDIO_HOME")
    assert default_root().name == ".segstudio"


def test_save_and_load_roundtrip(tmp_path):
    ws = Workspace(tmp_path)
    info = ws.save_dataset("My shop", {"orders": _orders()}, reports=[{"file": "o.csv"}])
    assert info.id.startswith("my-shop-")
    assert info.tables == {"orders": 3}
    assert info.n_customers == 3
    pd.testing.assert_frame_equal(ws.load_table(info.id, "orders"), _orders())
    assert ws.load_reports(info.id) == [{"file": "o.csv"}]
    assert [d.id for d in Workspace(tmp_path).list_datasets()] == [info.id]
    # WAL mode is on for the catalog.
    mode = sqlite3.connect(tmp_path / "catalog.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_needs_customers_or_orders(tmp_path):
    ws = Workspace(tmp_path)
    reviews = pd.DataFrame({"customer_id": ["a"], "review_text": ["nice"]})
    with pytest.raises(ValueError, match="customers table or an orders table"):
        ws.save_dataset("x", {"reviews": reviews})


def test_failed_rewrite_leaves_previous_version_intact(tmp_path):
    ws = Workspace(tmp_path)
    ws.save_dataset("shop", {"orders": _orders(3)}, dataset_id="shop")
    bad = _orders(5)
    bad["amount"] = [1.0, "x", object(), 2.0, 3.0]  # pyarrow cannot write this column
    with pytest.raises(Exception):  # noqa: B017 - any writer error
        ws.save_dataset("shop", {"orders": bad}, dataset_id="shop")
    assert len(ws.load_table("shop", "orders")) == 3
    assert ws.get_dataset("shop").tables == {"orders": 3}
    leftovers = [p.name for p in (tmp_path / "datasets").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_replace_dataset(tmp_path):
    ws = Workspace(tmp_path)
    ws.save_dataset("shop", {"orders": _orders(3)}, dataset_id="shop")
    ws.save_dataset("shop", {"orders": _orders(7)}, dataset_id="shop")
    assert len(ws.load_table("shop", "orders")) == 7
    assert len(ws.list_datasets()) == 1


def test_delete_dataset(tmp_path):
    ws = Workspace(tmp_path)
    info = ws.save_dataset("shop", {"orders": _orders()})
    ws.create_run(info.id, "features", {"a": 1})
    ws.delete_dataset(info.id)
    assert ws.list_datasets() == [] and ws.list_runs() == []
    assert not info.path.exists()


def test_invalid_dataset_id_is_refused(tmp_path):
    ws = Workspace(tmp_path)
    with pytest.raises(ValueError, match="invalid dataset id"):
        ws.dataset_dir("../../etc")


def test_runs_lifecycle(tmp_path):
    ws = Workspace(tmp_path)
    info = ws.save_dataset("shop", {"orders": _orders()})
    run = ws.create_run(info.id, "segment", {"k": 5})
    assert run.status == "created" and run.path.is_dir()
    ws.update_run(run.id, status="done", summary={"ari": 0.9})
    got = ws.get_run(run.id)
    assert got.status == "done" and got.summary == {"ari": 0.9} and got.params == {"k": 5}
    assert [r.id for r in ws.list_runs(info.id, kind="segment")] == [run.id]
    with pytest.raises(KeyError):
        ws.create_run("nope", "segment", {})


def _writer(root: str, dataset_id: str, n: int) -> None:
    ws = Workspace(root)
    for i in range(n):
        r = ws.create_run(dataset_id, "job", {"i": i})
        ws.update_run(r.id, status="done")


def test_catalog_survives_concurrent_writers(tmp_path):
    ws = Workspace(tmp_path)
    info = ws.save_dataset("shop", {"orders": _orders()})
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), info.id, 25)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    runs = ws.list_runs(info.id)
    assert len(runs) == 100 and all(r.status == "done" for r in runs)
