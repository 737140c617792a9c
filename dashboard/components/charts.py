"""Chart builders shared by pages. Colour-blind-safe palettes throughout."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.components.format import feature_names_in
from dashboard.i18n import current_language, t

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

# Plotly's own interface text (mode bar buttons, their notices, dates) in the interface language:
# plotly.js's zh-CN locale, passed through the chart config because Streamlit's bundle registers
# no locale. The mode bar's "Fullscreen" button is Streamlit's and stays English.
_PLOTLY_LOCALES = {
    "zh": {
        "zh-CN": {
            "dictionary": {
                "Autoscale": "自动缩放",
                "Box Select": "框选",
                "Lasso Select": "套索选择",
                "Pan": "平移",
                "Zoom": "缩放",
                "Zoom in": "放大",
                "Zoom out": "缩小",
                "Reset axes": "重置坐标轴",
                "Reset": "重置",
                "Reset view": "重置视图",
                "Reset views": "重置视图",
                "Download plot as a PNG": "下载图表（PNG）",
                "Download plot as a png": "下载图表（PNG）",
                "Download plot": "下载图表",
                "Preparing image - this may take a few seconds": "正在生成图片，可能需要几秒钟",
                "Taking snapshot - this may take a few seconds": "正在生成图片，可能需要几秒钟",
                "Snapshot succeeded": "图片已生成",
                "Sorry, there was a problem downloading your snapshot!": "抱歉，下载图片时出错！",
                "Double-click to zoom back out": "双击恢复缩放",
                "Double-click on legend to isolate one trace": "双击图例只显示这一项",
                "Show closest data on hover": "悬停时显示最近的数据",
                "Compare data on hover": "悬停时比较数据",
                "Toggle Spike Lines": "切换辅助线",
                "Toggle show closest data on hover": "切换悬停时显示最近的数据",
                "Erase active shape": "擦除选中的形状",
            },
            "format": {
                "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
                "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
                "months": [f"{m}月" for m in range(1, 13)],
                "shortMonths": [f"{m}月" for m in range(1, 13)],
                "date": "%Y-%m-%d",
            },
        }
    }
}


def plotly_config(**extra) -> dict:
    """`st.plotly_chart(config=...)`: plotly's own interface text in this session's language."""
    lang = current_language()
    locales = _PLOTLY_LOCALES.get(lang)
    if not locales:
        return dict(extra)
    return {"locale": next(iter(locales)), "locales": locales, **extra}


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
    # Feature ids in English (what SQL and exports call them), short names in other languages.
    names = feature_names_in(cols[1:], current_language())
    for i, c in enumerate(cols[1:], start=1):
        fmt = ":,.0f" if c == "monetary" else (":.0f" if c in ("frequency", "recency_days") else "")
        label = t("charts.segment") if c == "segment_name" else names[c]
        lines.append(f"{label}: %{{customdata[{i}]{fmt}}}")
    return data, "<br>".join(lines) + "<extra></extra>"


def customer_map(
    df: pd.DataFrame,
    colour: str,
    height: int = 620,
    totals: Mapping[str, int] | None = None,
    label: str | None = None,
) -> go.Figure:
    """WebGL scatter of customers (x, y) coloured by `colour`; customer_id in customdata[0].

    `label` names the colour (legend, colour bar, hover) in the interface language; default the
    column itself.

    Unselected points are greyed by plotly itself once the user selects with lasso or box.
    `totals` (category → customers) labels the legend when `df` is a sample of them.
    """
    fig = go.Figure()
    col = df[colour]
    if is_categorical(col):
        values = col.astype(str).fillna(t("charts.missing"))
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
                name=label or colour,
                marker=dict(
                    size=4,
                    color=vals,
                    colorscale=CONTINUOUS_SCALE,
                    cmin=lo,
                    cmax=hi,
                    opacity=0.8,
                    colorbar=dict(title=label or colour, thickness=12),
                ),
                customdata=data,
                hovertemplate=hover.replace(
                    "<extra></extra>",
                    f"<br>{label or colour}: %{{marker.color:.3g}}<extra></extra>",
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


def confusion_grid(
    confusion,
    classes: list[str],
    text: list[list[str]],
    shade,
    height: int = 420,
    shown: list[str] | None = None,
) -> go.Figure:
    """A confusion matrix as a grid of square markers, one per cell, selectable by a click.

    A plotly heatmap cannot be clicked into a selection (its trace type has no point
    selection, so `st.plotly_chart(on_select=...)` never hears of the click); scatter markers
    can. Each point's customdata is [true class, predicted class, count] (the stored class
    values); `shown` are the classes as the axes and the hover say them (default: as stored).
    """
    n = len(classes)
    conf = np.asarray(confusion)
    shade = np.asarray(shade, dtype=float)
    true_c, pred_c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    tc, pc = true_c.ravel(), pred_c.ravel()
    labels = np.asarray([str(c) for c in classes], dtype=object)
    names = np.asarray([str(c) for c in (shown or classes)], dtype=object)
    vals = shade.ravel()
    hi = float(np.nanmax(vals)) if vals.size and np.nanmax(vals) > 0 else 1.0
    # Light cells take dark text and dark cells light text, as a heatmap would.
    font = ["#FFFFFF" if v / hi > 0.55 else "#222222" for v in vals]
    size = max(18, min(130, int((height - 110) / max(n, 1) * 0.78)))
    fig = go.Figure(
        go.Scatter(
            x=names[pc],
            y=names[tc],
            mode="markers+text",
            marker=dict(
                symbol="square",
                size=size,
                color=vals,
                colorscale="Blues",
                cmin=0,
                cmax=hi,
                line=dict(width=1, color="#FFFFFF"),
            ),
            text=[text[i][j] for i, j in zip(tc, pc, strict=True)],
            textfont=dict(color=font),
            customdata=np.column_stack(
                [labels[tc], labels[pc], conf.ravel().astype(int), names[tc], names[pc]]
            ),
            hovertemplate=t(
                "charts.confusion_hover",
                true="%{customdata[3]}",
                predicted="%{customdata[4]}",
                count="%{customdata[2]}",
            )
            + "<extra></extra>",
            selected=dict(marker=dict(opacity=1)),
            unselected=dict(marker=dict(opacity=0.35)),
            showlegend=False,
        )
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(
            title=t("charts.predicted"),
            type="category",
            categoryorder="array",
            categoryarray=list(names),
            showgrid=False,
        ),
        yaxis=dict(
            title=t("charts.true"),
            type="category",
            categoryorder="array",
            categoryarray=list(names),
            autorange="reversed",
            showgrid=False,
        ),
        plot_bgcolor="white",
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def highlight_map(
    points: pd.DataFrame,
    highlight_ids,
    label: str,
    max_background: int = 20_000,
    height: int = 520,
    seed: int = 0,
) -> go.Figure:
    """Customers (x, y) in grey with `highlight_ids` drawn on top in colour.

    All highlighted customers are drawn; of the others at most `max_background` (a fixed-seed
    sample, so the figure stays the same across reruns).
    """
    ids = set(map(str, highlight_ids))
    is_hit = points["customer_id"].astype(str).isin(ids).to_numpy()
    rest = points[~is_hit]
    if len(rest) > max_background:
        rest = rest.sample(max_background, random_state=seed)
    hit = points[is_hit]
    fig = go.Figure()
    fig.add_trace(
        go.Scattergl(
            x=rest["x"],
            y=rest["y"],
            mode="markers",
            name=t("charts.other_customers", count=f"{int((~is_hit).sum()):,}"),
            marker=dict(size=3, color=NOISE_COLOUR, opacity=0.35),
            hoverinfo="skip",
        )
    )
    data, hover = _custom(hit)
    fig.add_trace(
        go.Scattergl(
            x=hit["x"],
            y=hit["y"],
            mode="markers",
            name=f"{label} ({len(hit):,})",
            marker=dict(size=7, color=PALETTE[5], opacity=0.9, line=dict(width=0.5, color="#000")),
            customdata=data,
            hovertemplate=hover,
        )
    )
    return _overlay_layout(fig, height)


def lookalike_map(
    points: pd.DataFrame,
    seed_ids,
    lookalike_ids,
    max_background: int = 20_000,
    height: int = 520,
    seed: int = 0,
) -> go.Figure:
    """Customers (x, y) in grey, the seed set in blue and its lookalikes in orange on top.

    Every lookalike is drawn; of the seed and of the others at most `max_background` each (a
    fixed-seed sample). Not meant for selection: the Explore page's selectable map is another.
    """
    cid = points["customer_id"].astype(str)
    is_look = cid.isin(set(map(str, lookalike_ids))).to_numpy()
    is_seed = cid.isin(set(map(str, seed_ids))).to_numpy() & ~is_look
    fig = go.Figure()
    layers = (
        ("other_customers", ~is_seed & ~is_look, dict(size=3, color=NOISE_COLOUR, opacity=0.3)),
        ("selection", is_seed, dict(size=4, color=PALETTE[0], opacity=0.55)),
        (
            "lookalikes",
            is_look,
            dict(size=7, color=PALETTE[1], opacity=0.95, line=dict(width=0.5, color="#000")),
        ),
    )
    for name, mask, marker in layers:
        part = points[mask]
        if name != "lookalikes" and len(part) > max_background:
            part = part.sample(max_background, random_state=seed)
        trace = go.Scattergl(
            x=part["x"],
            y=part["y"],
            mode="markers",
            name=t(f"charts.{name}", count=f"{int(mask.sum()):,}"),
        )
        trace.marker = marker
        if name == "other_customers":  # grey context: no hover, no per-point data shipped
            trace.hoverinfo = "skip"
        else:
            trace.customdata, trace.hovertemplate = _custom(part)
        fig.add_trace(trace)
    return _overlay_layout(fig, height)


def _overlay_layout(fig: go.Figure, height: int) -> go.Figure:
    """Axes hidden, equal scales, legend on top: the look of the highlight and lookalike maps."""
    fig.update_layout(
        height=height,
        margin=dict(l=0, r=0, t=10, b=0),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, scaleanchor="x"),
        legend=dict(itemsizing="constant", title=None, orientation="h", y=1.02),
        plot_bgcolor="white",
    )
    return fig
