"""Background jobs: long work runs in its own process, never in the Streamlit script.

A job is a workspace run whose directory holds:

    job.json       what to run (kind, dataset, params)
    status.json    state, stage message, fraction done, pid, error — written atomically
    events.jsonl   one JSON line per progress event (append-only)
    STOP           created to ask the job to stop; checked between steps
    job.log        the worker's stdout/stderr

The worker is ``python -m core.cli job <run_dir>``, started in a new session so it survives
page reloads (and the app itself). A job whose process died without writing a final state is
reported as failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.locale import LANGS, LocalText, error_text, text_in
from core.workspace import RunInfo, Workspace, atomic_write_json, pid_alive

TERMINAL = {"done", "failed", "cancelled"}

# The job runner's own progress messages, in each interface language. A job's messages (these,
# and the `LocalText` progress of the pipeline and the training) are stored in English in
# status.json with the other languages beside them ("message_i18n"), so the page says them in
# the language the user has now.
_TEXT = {
    "en": {
        "starting": "starting",
        "waiting": "waiting to start",
        "resuming": "resuming",
        "gpu_busy": "waiting for the GPU: another training job is using it",
        "stopped": "stopped on request",
        "stopped_gpu": "stopped while waiting for the GPU",
        "finished": "finished",
        "failed": "failed",
        "worker_died": "the worker process ended unexpectedly",
    },
    "zh": {
        "starting": "正在启动",
        "waiting": "等待启动",
        "resuming": "正在恢复",
        "gpu_busy": "等待 GPU：另一个训练任务正在使用",
        "stopped": "已按要求停止",
        "stopped_gpu": "等待 GPU 时已停止",
        "finished": "已完成",
        "failed": "失败",
        "worker_died": "工作进程意外结束",
    },
}

# A job's state in each interface language (the stored state stays the English id).
_STATES = {
    "en": {
        "queued": "queued",
        "running": "running",
        "done": "done",
        "failed": "failed",
        "cancelled": "cancelled",
    },
    "zh": {
        "queued": "排队中",
        "running": "运行中",
        "done": "已完成",
        "failed": "失败",
        "cancelled": "已取消",
    },
}


def state_label(state: str, lang: str = "en") -> str:
    """A job or run state (queued, running, done, failed, cancelled) in `lang`; others as is."""
    return _STATES.get(lang, _STATES["en"]).get(state, state) if state else ""


def _in_langs(text: str) -> dict[str, str]:
    """`text` in the other interface languages (empty for plain text: it is said as it is)."""
    if not isinstance(text, LocalText):
        return {}
    return {lang: text.text(lang) for lang in LANGS if lang != "en"}


class JobCancelled(Exception):
    """Raised inside a job when its STOP file appears."""


@dataclass
class JobStatus:
    state: str  # queued | running | done | failed | cancelled
    message: str = ""
    fraction: float = 0.0
    pid: int | None = None
    error: str | None = None
    started_at: float | None = None
    updated_at: float | None = None
    message_i18n: dict[str, str] | None = None  # the message in the other interface languages
    error_i18n: dict[str, str] | None = None

    def message_in(self, lang: str) -> str:
        """The stage message in `lang` (English for a job written before messages had it)."""
        return (self.message_i18n or {}).get(lang) or text_in(self.message, lang)

    def error_in(self, lang: str) -> str:
        return (self.error_i18n or {}).get(lang) or text_in(self.error, lang)

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Time left, extrapolated from the pace up to the last progress report and counted
        down since. None while too early to tell, or once a step outlasts the estimate (a
        long step without reports would otherwise sit at "about 0 s left")."""
        if not self.started_at or self.fraction <= 0.02 or self.finished:
            return None
        now = time.time() if now is None else now
        reported = self.updated_at or now
        left = (reported - self.started_at) * (1 - self.fraction) / self.fraction
        left -= max(0.0, now - reported)
        return left if left >= 1 else None

    def step_seconds(self, now: float | None = None) -> float:
        """How long the current step has run without a new progress report."""
        now = time.time() if now is None else now
        return max(0.0, now - (self.updated_at or now))


class JobReporter:
    """Progress sink for a job: status.json + events.jsonl; raises JobCancelled on STOP."""

    def __init__(self, run_dir: Path, *, check_stop: bool = True):
        self.dir = Path(run_dir)
        self.started = time.time()
        self.check_stop = check_stop

    def stop_requested(self) -> bool:
        return (self.dir / "STOP").exists()

    def _write(
        self,
        state: str,
        message: str,
        fraction: float,
        error: str | None = None,
        error_i18n: dict[str, str] | None = None,
    ) -> None:
        now = time.time()
        status = {
            "state": state,
            "message": str(message),
            "message_i18n": _in_langs(message),
            "fraction": round(float(fraction), 4),
            "pid": os.getpid(),
            "error": error,
            "error_i18n": error_i18n or _in_langs(error),
            "started_at": self.started,
            "updated_at": now,
        }
        atomic_write_json(self.dir / "status.json", status)
        with open(self.dir / "events.jsonl", "a", encoding="utf-8") as fh:
            fh.write(
                json.dumps(
                    {"t": now, "state": state, "message": str(message), "fraction": fraction}
                )
                + "\n"
            )

    def __call__(self, message: str, fraction: float) -> None:
        if self.check_stop and self.stop_requested():
            raise JobCancelled(LocalText(_TEXT, "stopped"))
        self._write("running", message, fraction)

    def finish(
        self,
        state: str,
        message: str,
        error: str | None = None,
        error_i18n: dict[str, str] | None = None,
    ) -> None:
        fraction = 1.0 if state == "done" else self.last_fraction()
        self._write(state, message, fraction, error, error_i18n)

    def last_fraction(self) -> float:
        try:
            return float(json.loads((self.dir / "status.json").read_text())["fraction"])
        except (OSError, ValueError, KeyError):
            return 0.0


def is_job(run_dir: Path) -> bool:
    """Runs started by the app are jobs; runs from the CLI or tests have no job.json."""
    return (Path(run_dir) / "job.json").exists()


def read_status(run_dir: Path) -> JobStatus:
    path = Path(run_dir) / "status.json"
    if not path.exists():
        return JobStatus(state="queued", message=LocalText(_TEXT, "waiting"))
    try:
        d = json.loads(path.read_text())
    except ValueError:
        return JobStatus(state="running", message=LocalText(_TEXT, "starting"))
    st = JobStatus(**{k: d.get(k) for k in JobStatus.__dataclass_fields__})
    if st.pid is None:
        try:
            st.pid = int((Path(run_dir) / "worker.pid").read_text())
        except (OSError, ValueError):
            return st  # not started yet
    if not st.finished and not pid_alive(st.pid):
        if not st.error:
            st.error, st.error_i18n = LocalText(_TEXT, "worker_died"), None
        st.state = "failed"
    return st


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / "events.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    return out


def submit(ws: Workspace, kind: str, dataset_id: str, params: dict[str, Any]) -> RunInfo:
    """Create a run for the job and start its worker process."""
    run = ws.create_run(dataset_id, kind, params)
    atomic_write_json(
        run.path / "job.json", {"kind": kind, "dataset_id": dataset_id, "params": params}
    )
    ws.update_run(run.id, status="queued")
    now = time.time()
    atomic_write_json(
        run.path / "status.json",
        {
            "state": "queued",
            "message": "starting",
            "message_i18n": _in_langs(LocalText(_TEXT, "starting")),
            "fraction": 0.0,
            "pid": None,
            "error": None,
            "started_at": now,
            "updated_at": now,
        },
    )
    _spawn(ws, run.path)
    return ws.get_run(run.id)


def _spawn(ws: Workspace, run_dir: Path) -> None:
    """Start the worker in its own session (it outlives page reloads); record its pid."""
    env = dict(os.environ, SEGSTUDIO_HOME=str(ws.root), PYTHONUNBUFFERED="1")
    with open(run_dir / "job.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "job", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
    # The worker writes status.json itself from now on; its pid goes beside it.
    (run_dir / "worker.pid").write_text(str(proc.pid))


def request_stop(run_dir: Path) -> None:
    (Path(run_dir) / "STOP").touch()


def _wants_gpu(device: str) -> bool:
    if device == "cpu":
        return False
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return False


def _wait_for_gpu(ws: Workspace, reporter: JobReporter):
    """One GPU job at a time: hold an exclusive lock on the workspace's GPU lock file.

    The kernel releases the lock when the process ends, so a crashed job never blocks the queue.
    """
    import fcntl

    path = ws.root / "locks" / "gpu.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")  # noqa: SIM115 - held for the job's lifetime
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            if reporter.stop_requested():
                fh.close()
                raise JobCancelled(LocalText(_TEXT, "stopped_gpu")) from None
            reporter._write("queued", LocalText(_TEXT, "gpu_busy"), 0.0)
            time.sleep(2)


JOB_NICE = 10  # how much lower a worker's CPU priority is than the app's (POSIX nice)


def lower_priority(increment: int | None = None) -> int:
    """Lower this process's CPU priority (a worker's: on a small machine the app's own server
    must keep answering while a job trains or embeds on every core). ``SEGSTUDIO_JOB_NICE``
    overrides the increment (0 keeps it). Returns the niceness now (0 where unsupported)."""
    if increment is None:
        try:
            increment = int(os.environ.get("SEGSTUDIO_JOB_NICE", JOB_NICE))
        except ValueError:
            increment = JOB_NICE
    try:
        return os.nice(max(0, increment))
    except (AttributeError, OSError):  # no nice() on this platform
        return 0


def run_job(run_dir: Path) -> int:
    """Worker entry point: execute the job in `run_dir`; return a process exit code."""
    run_dir = Path(run_dir)
    spec = json.loads((run_dir / "job.json").read_text())
    ws = Workspace(run_dir.parent.parent)
    run_id = run_dir.name
    reporter = JobReporter(run_dir)
    try:
        reporter(LocalText(_TEXT, "starting"), 0.0)
        ws.update_run(run_id, status="running")
        if spec["kind"] == "segment":
            from core.pipeline import SegmentationParams, run_segmentation

            params = SegmentationParams(**spec["params"])
            run_segmentation(ws, spec["dataset_id"], params, progress=reporter, run_id=run_id)
        elif spec["kind"] == "train":
            from core.finetune import FinetuneParams, run_finetune
            from core.train import TrainingCancelled

            # The training loop checks for STOP itself, between steps, after a checkpoint.
            reporter.check_stop = False
            params = spec["params"]
            gpu_lock = (
                _wait_for_gpu(ws, reporter) if _wants_gpu(params.get("device", "auto")) else None
            )
            try:
                run_finetune(
                    ws,
                    spec["dataset_id"],
                    FinetuneParams(**spec["params"]),
                    progress=reporter,
                    should_stop=reporter.stop_requested,
                    run_id=run_id,
                )
            except TrainingCancelled as exc:
                raise JobCancelled(str(exc)) from None
            finally:
                if gpu_lock is not None:
                    gpu_lock.close()
        else:
            raise ValueError(f"unknown job kind {spec['kind']!r}")
    # The catalog is updated before status.json says the job ended: whoever sees it finished
    # (a page, a test) then reads the same state from the catalog.
    except JobCancelled:
        ws.update_run(run_id, status="cancelled")
        reporter.finish("cancelled", LocalText(_TEXT, "stopped"))
        return 3
    except Exception as exc:  # the job's error is shown to the user, not a traceback
        ws.update_run(run_id, status="failed", summary={"error": str(exc)})
        reporter.finish(
            "failed",
            LocalText(_TEXT, "failed"),
            error=f"{type(exc).__name__}: {exc}",
            # Said without the exception's (English) class name in the other languages.
            error_i18n={lang: error_text(exc, lang) for lang in LANGS if lang != "en"},
        )
        import traceback

        traceback.print_exc()
        return 1
    reporter.finish("done", LocalText(_TEXT, "finished"))
    return 0


def resume(ws: Workspace, run_id: str) -> RunInfo:
    """Start a failed or cancelled job again in the same run; training resumes from its checkpoint."""
    run = ws.get_run(run_id)
    status = read_status(run.path)
    if not status.finished:
        raise ValueError(f"run {run_id} is still {status.state}")
    if status.state == "done":
        raise ValueError(f"run {run_id} already finished")
    (run.path / "STOP").unlink(missing_ok=True)
    now = time.time()
    atomic_write_json(
        run.path / "status.json",
        {
            "state": "queued",
            "message": "resuming",
            "message_i18n": _in_langs(LocalText(_TEXT, "resuming")),
            "fraction": status.fraction,
            "pid": None,
            "error": None,
            "started_at": now,
            "updated_at": now,
        },
    )
    (run.path / "worker.pid").unlink(missing_ok=True)
    _spawn(ws, run.path)
    ws.update_run(run_id, status="queued")
    return ws.get_run(run_id)
