"""Run the benchmark suite and write benchmarks/RESULTS.md.

    python -m benchmarks                       # every benchmark at the small scale
    python -m benchmarks --scale full          # the figures the benchmarks issue asks for
    python -m benchmarks --only features,umap  # a subset
    python -m benchmarks --list

Results go to benchmarks/results/<name>.json (or --results DIR) and RESULTS.md is re-rendered
from every stored result, so a partial run keeps the other figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from pathlib import Path

from benchmarks.suite import (
    BENCHMARKS,
    RESULTS_DIR,
    RESULTS_MD,
    SCALES,
    rows_table,
    run_benchmark,
    save_result,
    write_results_md,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    ap.add_argument("--scale", choices=SCALES, default="small")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    ap.add_argument("--skip", default="", help="comma-separated benchmark names to leave out")
    ap.add_argument("--workdir", default="", help="scratch folder (default: a temp folder)")
    ap.add_argument("--results", default=str(RESULTS_DIR), help="folder for <name>.json results")
    ap.add_argument("--report", default=str(RESULTS_MD), help="markdown file to (re)write")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)

    if args.list:
        print(rows_table([{"name": n, "what": d} for n, d in BENCHMARKS.items()]))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}
    unknown = [n for n in [*names, *skip] if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    names = [n for n in names if n not in skip]

    results_dir = Path(args.results)
    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="segstudio-bench-"))
    failed = []
    for name in names:
        print(f"== {name} ({args.scale}) ...", flush=True)
        try:
            res = run_benchmark(name, args.scale, base / name)
        except Exception:  # noqa: BLE001 - report and go on with the other benchmarks
            traceback.print_exc()
            failed.append(name)
            continue
        save_result(res, results_dir)
        print(f"   {res.summary}  ({res.wall_seconds:.0f} s)", flush=True)
    report = write_results_md(results_dir, Path(args.report))
    print(f"wrote {report}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
