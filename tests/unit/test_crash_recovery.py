"""Crash recovery: a training worker killed mid-run resumes from its checkpoint and ends where an
uninterrupted run ends; a dataset write killed half-way leaves the previous version whole."""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import signal
import time

import numpy as np
import pandas as pd
import pytest

from core.datasets import create_demo_dataset
from core.finetune import FinetuneParams, run_finetune
from core.jobs import read_events, read_status, resume, submit
from core.workspace import Workspace

PARAMS = FinetuneParams(
    target="label_column",
    label_column="persona",
    use_text=False,
    epochs=4,
    patience=10,  # no early stop: both runs train every epoch
    batch_size=16,
    head_lr=5e-3,
    baselines=False,
)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("crash"))
    create_demo_dataset(ws, n_customers=800, seed=5)
    return ws


def _wait(ws, run, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = read_status(run.path)
        if st.finished:
            return st
        time.sleep(0.3)
    raise AssertionError(f"job {run.id} did not finish in {timeout}s")


def _steps(run) -> list[int]:
    """Training steps reported in the job's events ("Training: step 12/144, …")."""
    found = (re.match(r"Training: step ([\d,]+)/", e["message"]) for e in read_events(run.path))
    return [int(m[1].replace(",", "")) for m in found if m]


def test_training_killed_mid_run_resumes_from_checkpoint_to_the_same_result(ws):
    reference = run_finetune(ws, "demo", PARAMS)
    ref = ws.get_run(reference.id).summary

    run = submit(ws, "train", "demo", PARAMS.to_dict())
    ckpt = run.path / "checkpoints" / "checkpoint.pt"
    deadline = time.time() + 300
    while not ckpt.exists():  # the first epoch is done and saved
        assert time.time() < deadline, "no checkpoint was written"
        assert not read_status(run.path).finished, read_status(run.path).error
        time.sleep(0.05)
    pid = read_status(run.path).pid
    os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    killed = read_status(run.path)
    assert killed.state == "failed" and "ended unexpectedly" in killed.error
    steps_before = _steps(run)

    resume(ws, run.id)
    st = _wait(ws, run)
    assert st.state == "done", st.error
    done = ws.get_run(run.id).summary
    # It went on from the checkpoint instead of starting over: the first step after the resume
    # continues the count (an epoch is 800 × 0.8 × 0.9 / 16 ≈ 36 steps).
    steps = _steps(run)
    after = steps[len(steps_before) :]
    assert after and after[0] > 30, (steps_before[-3:], after[:3])
    assert done["test_macro_f1"] == pytest.approx(ref["test_macro_f1"], abs=0.05)
    assert done["test_accuracy"] == pytest.approx(ref["test_accuracy"], abs=0.05)
    assert (run.path / "bundle" / "model.safetensors").exists()


def _rewrite_forever(root: str, n: int) -> None:
    ws = Workspace(root)
    big = pd.DataFrame({"customer_id": [f"N{i:07d}" for i in range(n)], "region": ["north"] * n})
    while True:
        ws.save_dataset("shop", {"customers": big}, dataset_id="shop")


def test_dataset_write_killed_midway_leaves_a_whole_version(tmp_path):
    ws = Workspace(tmp_path)
    old = pd.DataFrame({"customer_id": ["A", "B", "C"], "region": ["x", "y", "z"]})
    ws.save_dataset("shop", {"customers": old}, dataset_id="shop")
    new_rows = 300_000
    ctx = mp.get_context("spawn")
    rng = np.random.default_rng(0)
    for _ in range(6):
        p = ctx.Process(target=_rewrite_forever, args=(str(tmp_path), new_rows))
        p.start()
        time.sleep(2.5 + float(rng.uniform(0, 1.5)))  # somewhere inside a write
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        reopened = Workspace(tmp_path)  # what the next app start sees
        df = reopened.load_table("shop", "customers")
        assert df is not None, "the dataset disappeared"
        assert len(df) in (3, new_rows)  # the old version or the new one, never a torn mix
        assert reopened.get_dataset("shop").id == "shop"
        leftovers = [p.name for p in (tmp_path / "datasets").iterdir() if p.name.startswith(".")]
        assert leftovers == [], f"interrupted writes left {leftovers}"


def test_swap_cut_between_its_two_renames_puts_the_previous_version_back(tmp_path):
    ws = Workspace(tmp_path)
    ws.save_dataset(
        "shop", {"customers": pd.DataFrame({"customer_id": ["A", "B"]})}, dataset_id="shop"
    )
    dead = mp.get_context("spawn").Process(target=time.sleep, args=(0,))
    dead.start()
    dead.join()
    final = tmp_path / "datasets" / "shop"
    moved = final.with_name(f".shop.old-{dead.pid}-x1y2z3")
    os.replace(final, moved)  # the writer died right after moving the old version aside
    alive = final.with_name(f".shop.new-{os.getpid()}-q9")  # a write still in progress
    alive.mkdir()

    assert ws.recover_interrupted_writes() == ["restored the previous version of dataset shop"]
    assert len(Workspace(tmp_path).load_table("shop", "customers")) == 2
    assert not moved.exists()
    assert alive.exists(), "a live writer's files must not be touched"
