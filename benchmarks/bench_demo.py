"""The demo store generator: time and peak memory at 1 M customers.

There is no other tool to compare with; the check before timing is that the generator is
deterministic (the same seed gives identical tables) and that the planted personas add up.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.suite import BenchResult, ResultsDiffer, measure_in_child

SIZES = {"tiny": [2_000], "small": [20_000, 200_000], "full": [20_000, 200_000, 1_000_000]}


def generate(n_customers: int, seed: int = 0) -> dict:
    from core.demo import generate_demo_store

    tables = generate_demo_store(n_customers=n_customers, seed=seed)
    c = tables["customers"]
    return {
        "customers": len(c),
        "order_lines": len(tables["orders"]),
        "reviews": len(tables["reviews"]),
        "products": len(tables["products"]),
        "persona_total": int(c["persona"].value_counts().sum()),
        "table_mb": sum(t.memory_usage(deep=True).sum() for t in tables.values()) / 1e6,
    }


def _check_deterministic() -> None:
    from core.demo import generate_demo_store

    a = generate_demo_store(n_customers=500, seed=3)
    b = generate_demo_store(n_customers=500, seed=3)
    for name in a:
        if not a[name].equals(b[name]):
            raise ResultsDiffer(f"demo store is not deterministic: table {name} differs")


def run(scale: str, workdir: Path) -> BenchResult:
    _check_deterministic()
    rows = []
    for n in SIZES[scale]:
        r = measure_in_child("benchmarks.bench_demo:generate", n_customers=n)
        if r["persona_total"] != r["customers"]:
            raise ResultsDiffer("every demo customer must have a planted persona")
        rows.append(
            {
                "customers": r["customers"],
                "order lines": r["order_lines"],
                "reviews": r["reviews"],
                "seconds": r["seconds"],
                "customers/s": r["customers"] / r["seconds"],
                "tables (MB)": r["table_mb"],
                "peak RSS (MB)": r["peak_rss_mb"],
            }
        )
    big = rows[-1]
    return BenchResult(
        name="demo",
        title="Demo store generator",
        scale=scale,
        summary=(
            f"{big['customers']:,} customers ({big['order lines']:,} order lines, "
            f"{big['reviews']:,} reviews) in {big['seconds']:.1f} s, peak {big['peak RSS (MB)'] / 1024:.1f} GB."
        ),
        rows=rows,
        checks=["same seed gives identical tables", "every customer has a planted persona"],
        notes=[
            "Vectorised NumPy/Arrow generation; review texts are drawn from persona phrase banks.",
            "Peak RSS is the child process's own, Python and imports included.",
        ],
    )
