"""Chart builders shared by pages. Colour-blind-safe palettes throughout."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# Okabe–Ito, then Paul Tol's muted scheme: distinguishable with common colour-vision deficiencies.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
)
NOISE_COLOUR = "#BBBBBB"
CONTINUOUS_SCALE = "Viridis"

_HOVER_COLS = ("segment_name", "monetary", "frequency", "recency_days")


def is_categorical(s: pd.Series) -> bool:
    if (
        isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype == object
        or pd.api.types.is_string_dtype(s)
    ):
        return True
    if pd.api.types.is_bool_dtype(s):
        return True
    return pd.api.types.is_integer_dtype(s) and s.nunique() <= 12


def segment_colours(segments) -> dict[str, str]:
    out, i = {}, 0
    for s in segments:
        if str(s) == "Noise":
            out[s] = NOISE_COLOUR
        else:
            out[s] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def _hover_values(s: pd.Series) -> pd.Series:
    """A hover column as shipped: money to the cent, counts and days as whole numbers.

    The map's customdata travels as JSON, one number per point and column: ``13`` and
    ``1667.03`` instead of ``13.0`` and ``1667.0300000000002`` is a sixth of the payload.
    """
    if not pd.api.types.is_float_dtype(s):
        return s
    if s.name == "monetary":
        return s.round(2)
    if s.name in ("frequency", "recency_days"):
        r = s.round()
        return r.astype("int64") if r.notna().all() else r
    return s


def _custom(df: pd.DataFrame) -> tuple[np.ndarray, str]:
    cols = ["customer_id"] + [c for c in _HOVER_COLS if c in df.columns]
    data = pd.DataFrame({c: _hover_values(df[c]) for c in cols}).to_numpy(dtype=object)
    lines = ["<b>%{customdata[0]}</b>"]
    for i, c in enumerate(cols[1:], start=1):
        fmt = ":,.0f" if c == "monetary" else (":.0f" if c in ("frequency", "recency_days") else "")
        label = "segment" if c == "segment_name" else c
        lines.append(f"{label}: %{{customdata[{i}]{fmt}}}")
    return data, "<br>".join(lines) + "<extra></extra>"


def customer_map(
    df: pd.DataFrame,
    colour: str,
    height: int = 620,
    totals: Mapping[str, int] | None = None,
) -> go.Figure:
    """WebGL scatter of customers (x, y) coloured by `colour`; customer_id in customdata[0].

    Unselected points are greyed by plotly itself once the user selects with lasso or box.
    `totals` (category → customers) labels the legend when `df` is a sample of them.
    """
    fig = go.Figure()
    col = df[colour]
    if is_categorical(col):
        values = col.astype(str).fillna("(missing)")
        cats = values.value_counts().index.tolist()
        if totals:  # order (and so colour) by the full counts, not the sample's
            cats.sort(key=lambda c: -totals.get(c, 0))
        colours = segment_colours(cats)
        for cat in cats:
            part = df[values == cat]
            data, hover = _custom(part)
            fig.add_trace(
                go.Scattergl(
                    x=part["x"],
                    y=part["y"],
                    mode="markers",
                    name=f"{cat} ({(totals or {}).get(cat, len(part)):,})",
                    marker=dict(size=4, color=colours[cat], opacity=0.75),
                    customdata=data,
                    hovertemplate=hover,
                    unselected=dict(marker=dict(opacity=0.08, color="#BBBBBB")),
                )
            )
    else:
        data, hover = _custom(df)
        vals = col.astype(float)
        lo, hi = np.nanpercentile(vals, [1, 99]) if vals.notna().any() else (0, 1)
        fig.add_trace(
            go.Scattergl(
                x=df["x"],
                y=df["y"],
                mode="markers",
                name=colour,
                marker=dict(
                    size=4,
                    color=vals,
                    colorscale=CONTINUOUS_SCALE,
                    cmin=lo,
                    cmax=hi,
                    opacity=0.8,
                    colorbar=dict(title=colour, thickness=12),
                ),
                customdata=data,
                hovertemplate=hover.replace(
                    "<extra></extra>", f"<br>{colour}: %{{marker.color:.3g}}<extra></extra>"
                ),
                unselected=dict(marker=dict(opacity=0.08)),
            )
        )
    fig.update_layout(
        height=height,
        dragmode="lasso",
        margin=dict(l=0, r=0, t=10, b=0),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, scaleanchor="x"),
        legend=dict(itemsizing="constant", title=None),
        plot_bgcolor="white",
        uirevision="customer-map",
    )
    return fig
