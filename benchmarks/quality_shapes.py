"""Model quality on the shapes of data users bring, not only the demo store.

    python -m benchmarks.quality_shapes [--customers 3000] [--sample 1500] [--epochs 2]

Each shape is written as CSV files and read through the same ingest as `segstudio ingest`,
then trained with the default settings (no hand-written SQL, no tuning per shape):

* customers only: one row per customer with numeric, yes/no and categorical attributes and a
  churn label that depends on some of them (a telecom-churn-like table, generated here);
* orders only: a transaction log (customer, date, quantity, amount) from the demo store,
  target churn in the 90 days after a cutoff (a time split);
* reviews + label: customers with a persona label and their review text, nothing else;
* the whole demo store, persona target (text and numbers).

Writes benchmarks/quality_shapes.md: held-out AUC (macro one-vs-rest for several classes),
macro-F1 and accuracy of the fine-tuned model and of every baseline on the same split.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.datasets import assemble_dataset, save_assembled
from core.finetune import FinetuneParams, load_evaluations, run_finetune
from core.ingest import ingest_file
from core.workspace import Workspace

OUT = Path(__file__).with_name("quality_shapes.md")


def attribute_table(n: int, seed: int = 0) -> pd.DataFrame:
    """A customers table in the shape of a telecom churn export: ids, numbers, yes/no columns,
    categories, a charges column with blanks, and a label with a planted logistic rule."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.21, 0.24])
    tenure = np.where(contract == "Month-to-month", rng.integers(0, 40, n), rng.integers(5, 72, n))
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"], n)
    monthly = np.round(rng.uniform(18, 118, n), 2)
    senior = rng.integers(0, 2, n)
    logit = (
        -1.2
        + 1.6 * (contract == "Month-to-month")
        - 0.04 * tenure
        + 0.9 * (internet == "Fiber optic")
        + 0.6 * (payment == "Electronic check")
        + 0.01 * (monthly - 60)
        + 0.3 * senior
    )
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    total = np.round(monthly * tenure, 2).astype(object)
    total[tenure == 0] = " "
    return pd.DataFrame(
        {
            "customerID": [f"{i:05d}-{seed}" for i in range(n)],
            "gender": rng.choice(["Male", "Female"], n),
            "SeniorCitizen": senior,
            "Partner": rng.choice(["Yes", "No"], n),
            "tenure": tenure,
            "InternetService": internet,
            "Contract": contract,
            "PaymentMethod": payment,
            "MonthlyCharges": monthly,
            "TotalCharges": total,
            "Churn": np.where(churn, "Yes", "No"),
        }
    )


def _ingest(ws: Workspace, name: str, frames: dict[str, pd.DataFrame], folder: Path) -> str:
    paths = []
    for stem, df in frames.items():
        path = folder / f"{name}-{stem}.csv"
        df.to_csv(path, index=False)
        paths.append(path)
    return save_assembled(ws, name, assemble_dataset([ingest_file(p) for p in paths])).id


def build_shapes(ws: Workspace, customers: int, seed: int, folder: Path) -> list[dict]:
    from core.datasets import create_demo_dataset
    from core.demo import generate_demo_store

    store = generate_demo_store(n_customers=customers, seed=seed)
    orders = store["orders"][["customer_id", "order_date", "quantity", "amount"]]
    reviewed = store["reviews"]["customer_id"].unique()
    people = store["customers"]
    people = people[people["customer_id"].isin(reviewed)][["customer_id", "persona"]]
    reviews = store["reviews"][["customer_id", "review_date", "review_text"]]
    demo = create_demo_dataset(ws, customers, seed, dataset_id="demo").id
    return [
        {
            "shape": "customers only (attributes + churn label)",
            "dataset": _ingest(
                ws, "customers", {"customers": attribute_table(customers, seed)}, folder
            ),
            "params": {"label_column": "Churn"},
        },  # fmt: skip
        {
            "shape": "orders only (churn in 90 days, time split)",
            "dataset": _ingest(ws, "orders", {"orders": orders}, folder),
            "params": {"target": "churn", "horizon_days": 90},
        },
        {
            "shape": "reviews + persona label (text only)",
            "dataset": _ingest(
                ws,
                "reviews",
                {"customers": people.rename(columns={"persona": "label"}), "reviews": reviews},
                folder,
            ),
            "params": {"label_column": "label"},
        },  # fmt: skip
        {
            "shape": "demo store (persona: text + numbers)",
            "dataset": demo,
            "params": {"label_column": "persona"},
        },
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--sample", type=int, default=1500, help="customers trained on per shape")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = Workspace(folder / "ws")
        for shape in build_shapes(ws, args.customers, args.seed, folder):
            p = FinetuneParams(
                **shape["params"],
                epochs=args.epochs,
                batch_size=32,
                lr=1e-4,
                max_customers=args.sample,
                device=args.device,
                seed=args.seed,
            )
            t0 = time.perf_counter()
            run = run_finetune(ws, shape["dataset"], p)
            seconds = time.perf_counter() - t0
            evals = load_evaluations(ws, run.id)
            best = max(evals[1:], key=lambda e: e["macro_auc"] or 0, default=None)
            for i, e in enumerate(evals):
                rows.append(
                    {
                        "shape": shape["shape"],
                        "model": e["model_name"]
                        + (" ← best baseline" if best is not None and e is best else ""),
                        "AUC": e["macro_auc"],
                        "macro-F1": e["macro_f1"],
                        "accuracy": e["accuracy"],
                        "customers": run.summary["n_customers"] if i == 0 else "",
                        "s": round(seconds) if i == 0 else "",
                    }
                )
            print(f"{shape['shape']}: done in {seconds:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    lines = [
        "# Model quality on the shapes of data users bring",
        "",
        f"`python -m benchmarks.quality_shapes --customers {args.customers} --sample "
        f"{args.sample} --epochs {args.epochs}`, run {time.strftime('%Y-%m-%d')} on 2 CPU cores. "
        "Every shape goes through CSV ingest and the default settings; each model is scored on "
        "the same held-out 20 % (AUC: macro one-vs-rest when there are several classes). The "
        "fine-tuned model is all-MiniLM-L6-v2 + a numeric MLP (numbers only when a shape has "
        "no text).",
        "",
        "| shape | model | AUC | macro-F1 | accuracy | customers | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in df.itertuples(index=False):
        auc = "n/a" if r.AUC is None or pd.isna(r.AUC) else f"{r.AUC:.3f}"
        lines.append(
            f"| {r.shape} | {r.model} | {auc} | {r[3]:.3f} | {r.accuracy:.3f} | "
            f"{r.customers if r.customers == '' else f'{r.customers:,}'} | {r.s} |"
        )
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
