from __future__ import annotations

import io

import pandas as pd

from core.export import neutralise_formulas, to_safe_csv_bytes


def test_formula_cells_are_neutralised_numbers_untouched():
    df = pd.DataFrame(
        {
            "name": [
                '=HYPERLINK("http://x")',
                "+cmd",
                "-1+1",
                "@SUM(A1)",
                "\tx",
                "\rx",
                "ok",
                None,
            ],
            "amount": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    out = neutralise_formulas(df)
    assert out["name"].tolist()[:6] == [
        '\'=HYPERLINK("http://x")',
        "'+cmd",
        "'-1+1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
    ]
    assert out["name"].iloc[6] == "ok" and pd.isna(out["name"].iloc[7])
    assert out["amount"].tolist() == df["amount"].tolist()


def test_csv_bytes_with_bom_roundtrip():
    df = pd.DataFrame({"customer_id": ["客户1", "=evil"], "x": [1, 2]})
    data = to_safe_csv_bytes(df, excel_bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["customer_id"].tolist() == ["客户1", "'=evil"]
    assert back["x"].tolist() == [1, 2]
