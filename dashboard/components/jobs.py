"""Live view of a background job: progress bar, stage, time left, stop button."""

from __future__ import annotations

import streamlit as st

from core.jobs import is_job, read_status, request_stop
from dashboard.i18n import current_language, t


def _fmt_eta(seconds: float | None, step_seconds: float = 0.0) -> str:
    if seconds is None:
        # Past the estimate (or too early for one): say the step is still at work instead.
        if step_seconds >= 5:
            return " · " + t("jobs.step_running", seconds=f"{step_seconds:.0f}")
        return ""
    if seconds < 60:
        return " · " + t("jobs.eta_seconds", seconds=f"{seconds:.0f}")
    return " · " + t("jobs.eta_minutes", minutes=f"{seconds / 60:.0f}")


def job_progress(run, *, key: str) -> str:
    """Draw the job's state; returns it (queued, running, done, failed, cancelled)."""
    status = read_status(run.path)
    lang = current_language()
    if status.state in ("queued", "running"):
        eta = _fmt_eta(status.eta_seconds(), status.step_seconds())
        st.progress(min(1.0, max(0.0, status.fraction)), text=f"{status.message_in(lang)}{eta}")
        if st.button(
            t("jobs.stop"),
            key=f"stop_{key}_{run.id}",
            help=t("jobs.stop_help"),
        ):
            request_stop(run.path)
            st.toast(t("jobs.stop_asked"))
    elif status.state == "done":
        st.success(t("jobs.finished"), icon=":material/check_circle:")
    elif status.state == "cancelled":
        st.warning(t("jobs.stopped"), icon=":material/stop_circle:")
    else:
        st.error(t("jobs.failed", error=status.error_in(lang)), icon=":material/error:")
    return status.state


def current_job(session_key: str, runs) -> str | None:
    """The job this session launched, else one of `runs` still going (pages survive reloads)."""
    job_id = st.session_state.get(session_key)
    if job_id is None:
        for r in runs:
            if (
                r.status in ("queued", "running")
                and is_job(r.path)
                and not read_status(r.path).finished
            ):
                return r.id
    return job_id
