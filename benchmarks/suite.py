"""The benchmark suite: registry, scales, child-process measurement and the RESULTS.md report.

Every benchmark is a module ``benchmarks.bench_<name>`` with

    def run(scale: str, workdir: pathlib.Path) -> BenchResult

It sizes itself from ``scale`` (``tiny`` for the test suite, ``small`` for a quick look,
``full`` for the figures the benchmarks issue asks for), compares Segment Studio with the tool
a user would otherwise pick in the same run, checks that both give the same result *before*
reporting any time, and raises :class:`ResultsDiffer` when they do not.

Each result is stored as ``benchmarks/results/<name>.json``; ``RESULTS.md`` is rendered from
all stored results, so benchmarks can be re-run one at a time without losing the others.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"
FINDINGS_MD = HERE / "findings.md"
SCALES = ("tiny", "small", "full")

# name -> one-line description; order is the order of RESULTS.md
BENCHMARKS: dict[str, str] = {
    "features": "Feature catalogue: DuckDB SQL versus pandas groupby",
    "ingest": "Ingest: CSV to canonical Parquet",
    "embeddings": "Embeddings: Segment Studio encoder versus sentence-transformers encode",
    "static_encoder": "Static encoder: model2vec distilled from MiniLM versus MiniLM",
    "finetune": "Fine-tuning: fusion trainer versus Hugging Face Trainer",
    "umap": "UMAP: sample-fit + transform versus full fit",
    "segmentation": "Segmentation: K-means / MiniBatch K-means / HDBSCAN",
    "dashboard": "Dashboard: Explore and Profiles render time and payload",
    "demo": "Demo store generator",
}


class ResultsDiffer(AssertionError):
    """The two implementations a benchmark compares did not produce the same result."""


@dataclass
class BenchResult:
    name: str
    title: str
    scale: str
    summary: str  # one or two sentences: the finding
    rows: list[dict] = field(default_factory=list)  # the table
    goal: str = ""  # e.g. "≥ 5× faster than pandas"
    goal_met: bool | None = None  # None: no goal, or not measurable on this machine
    notes: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # what was verified equal before timing
    ran_at: str = ""
    machine: dict = field(default_factory=dict)
    wall_seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)

    @classmethod
    def from_dict(cls, d: dict) -> BenchResult:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def machine_info() -> dict:
    """Where the figures were taken: CPU, memory, GPU and library versions."""
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        info["memory_gib"] = round(kb / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for dist in (
        "duckdb",
        "pandas",
        "numpy",
        "pyarrow",
        "torch",
        "transformers",
        "sentence-transformers",
        "scikit-learn",
        "umap-learn",
        "streamlit",
    ):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = "not installed"
    info["versions"] = versions
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
            ).stdout.strip()
            if out:
                info["gpu"] = out.splitlines()[0]
        except (OSError, subprocess.SubprocessError):
            pass
    return info


# ------------------------------------------------------------------ measuring
def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Linux's VmHWM, the high-water mark of this process's own address space. Not
    ``getrusage().ru_maxrss``: that survives fork + exec, so a child started by a process
    holding 5 GB would report at least 5 GB whatever it used itself.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_in_child(target: str, *, timeout: float | None = None, **kwargs) -> dict:
    """Run ``module:function(**kwargs)`` in a fresh Python process and return its dict.

    The child adds ``seconds`` (wall time of the call), ``peak_rss_mb`` and ``cpu_seconds``
    (the child's own, imports included), so each side of a comparison is measured alone.
    """
    cmd = [sys.executable, "-m", "benchmarks.suite", "--child", target, json.dumps(kwargs)]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {target} failed:\n{proc.stderr[-4000:]}")
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"benchmark child {target} printed no result:\n{proc.stdout[-2000:]}")


def _child_main(target: str, kwargs_json: str) -> None:
    module, func = target.split(":")
    fn: Callable[..., dict] = getattr(importlib.import_module(module), func)
    kwargs = json.loads(kwargs_json)
    t0 = time.perf_counter()
    out = fn(**kwargs) or {}
    out.setdefault("seconds", time.perf_counter() - t0)
    out["peak_rss_mb"] = peak_rss_mb()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out.setdefault("cpu_seconds", ru.ru_utime + ru.ru_stime)
    print(json.dumps(out, default=str), flush=True)


# ------------------------------------------------------------------- results
def save_result(res: BenchResult, folder: Path = RESULTS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{res.name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(res.to_json())
    os.replace(tmp, path)
    return path


def load_results(folder: Path = RESULTS_DIR) -> dict[str, BenchResult]:
    out = {}
    for name in BENCHMARKS:
        path = folder / f"{name}.json"
        if path.exists():
            out[name] = BenchResult.from_dict(json.loads(path.read_text()))
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        if v != v:  # NaN
            return "—"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:,.1f}"
        return f"{v:,.3g}" if abs(v) < 1 else f"{v:,.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return "—" if v is None else str(v)


def rows_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def render_results(results: dict[str, BenchResult], findings: str = "") -> str:
    """RESULTS.md: findings, a goal summary, then one section per benchmark."""
    order = list(BENCHMARKS)
    results = dict(
        sorted(results.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    )
    out = [
        "# Benchmarks",
        "",
        "Run them all with `python -m benchmarks --scale full` (or one: `--only features`); "
        "`--scale small` is a quick look, `--scale tiny` is what the test suite runs. "
        "Each benchmark checks that both tools give the same result before it reports a time. "
        "This file is rendered from `benchmarks/results/*.json`; edit `benchmarks/findings.md`, "
        "not this file, for the text at the top.",
        "",
    ]
    if findings.strip():
        out += [findings.strip(), ""]
    if results:
        out += ["## Summary", ""]
        summary_rows = []
        for name, r in results.items():
            status = {True: "met", False: "**not met**", None: "—"}[r.goal_met]
            summary_rows.append(
                {
                    "benchmark": f"[{name}](#{name})",
                    "scale": r.scale,
                    "finding": r.summary,
                    "goal": r.goal or "—",
                    "status": status if r.goal else "—",
                    "date": r.ran_at[:10],
                }
            )
        out += [rows_table(summary_rows), ""]
    for name, r in results.items():
        m = r.machine or {}
        v = m.get("versions", {})
        machine = (
            f"{m.get('cpus', '?')} CPUs ({m.get('cpu', 'unknown CPU')}), "
            f"{m.get('memory_gib', '?')} GiB, {m.get('gpu', 'no GPU')}; Python {m.get('python', '?')}"
        )
        libs = ", ".join(f"{k} {val}" for k, val in v.items() if val != "not installed")
        out += [
            f'<a id="{name}"></a>',
            f"## {r.title}",
            "",
            f"*Scale `{r.scale}`, run {r.ran_at} in {r.wall_seconds:,.0f} s. {machine}. {libs}.*",
            "",
            r.summary,
            "",
        ]
        if r.goal:
            status = {True: "met", False: "not met", None: "not measurable here"}[r.goal_met]
            out += [f"Goal: {r.goal} — **{status}**.", ""]
        if r.checks:
            out += ["Checked before timing: " + "; ".join(r.checks) + ".", ""]
        if r.rows:
            out += [rows_table(r.rows), ""]
        for n in r.notes:
            out += [f"* {n}"]
        if r.notes:
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_results_md(folder: Path = RESULTS_DIR, path: Path = RESULTS_MD) -> Path:
    findings = FINDINGS_MD.read_text() if FINDINGS_MD.exists() else ""
    path.write_text(render_results(load_results(folder), findings))
    return path


def run_benchmark(name: str, scale: str, workdir: Path) -> BenchResult:
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    if scale not in SCALES:
        raise KeyError(f"unknown scale {scale!r}; known: {', '.join(SCALES)}")
    module = importlib.import_module(f"benchmarks.bench_{name}")
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res: BenchResult = module.run(scale, workdir)
    res.name = name
    res.title = res.title or BENCHMARKS[name]
    res.scale = scale
    res.wall_seconds = time.perf_counter() - t0
    res.ran_at = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    res.machine = machine_info()
    return res


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child_main(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("use: python -m benchmarks [--scale tiny|small|full] [--only NAME,...]")
