"""Heatmaps of net score, pure functions like figures.py: a week's shifts by band, and a department's teams by
week. A square with nothing to show, hidden or empty alike, is never a zero: it is hatched, and says so."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashboard.chart_style import (
    TICK_FONT,
    TICK_LABELS_HEIGHT,
    TITLE_HEIGHT,
    TOOLBAR_HEIGHT,
    Chart,
    day_label,
    day_long,
    empty,
    hatched_cells,
    plain,
    style,
    week_axis,
    week_long,
    wrap_name,
)

DIVERGING = [[0.0, "#D55E00"], [0.5, "#F7F7F7"], [1.0, "#0072B2"]]  # vermillion - white - blue, CVD-safe
HIDDEN_CELL = "not shown: too few ratings"  # a heatmap square with nothing to show, hidden or empty alike
COLOURBAR_ROOM = 84  # under the week labels: the colour bar's title, bar and labels
# A heatmap's height but its rows'.
CHROME_HEIGHT = TOOLBAR_HEIGHT + TITLE_HEIGHT + TICK_LABELS_HEIGHT + COLOURBAR_ROOM
DAYS_HEIGHT = 340
HEATMAP_LEFT = 118  # team names, wrapped to lines of 16 characters at the tick font


def daily_figure(days: Sequence[dict[str, Any]], title: str) -> Chart:
    """Net score by shift date and band; a shift with too few ratings is a hatched square."""
    if not days:
        return style(empty(Chart(), "No days published yet"), title, height=200)
    bands = sorted({b["band"] for d in days for b in d["bands"]}, key=lambda name: _band_order(days, name))
    x = [str(d["shift_date"]) for d in days]
    z, text, hover = [], [], []
    for band in bands:
        row, labels, words = [], [], []
        for d in days:
            cell = next((b for b in d["bands"] if b["band"] == band), None)
            value = cell["net_score"] if cell else None
            row.append(value)
            labels.append(f"{value:+.0f}<br>n={cell['ratings']}" if cell and value is not None else "")
            shown = (
                f"net score {value:+.0f} ({cell['ratings']} ratings)" if cell and value is not None else ""
            )
            words.append(f"{plain(band)}, {day_long(d['shift_date'])}: {shown or HIDDEN_CELL}")
        z.append(row)
        text.append(labels)
        hover.append(words)
    names = [plain(band) for band in bands]
    fig = Chart([_squares(z, x, names, hover, DAYS_HEIGHT, gap=2, text=text, texttemplate="%{text}")])
    fig.update_layout(
        xaxis={
            "type": "category",
            "tickmode": "array",
            "tickvals": x,
            "ticktext": [day_label(day) for day in x],
            "tickangle": 0,
            "tickfont": TICK_FONT,
            "automargin": False,
        },
        yaxis={"automargin": True},
        images=_hatched_gaps(z, x, names),
    )
    return style(fig, title, height=DAYS_HEIGHT, bottom=TICK_LABELS_HEIGHT + COLOURBAR_ROOM)


def _band_order(days: Sequence[dict[str, Any]], name: str) -> int:
    for d in days:
        for b in d["bands"]:
            if b["band"] == name:
                return int(b["band_id"])
    return 0


def heatmap_figure(grid: Sequence[dict[str, Any]], weeks: Sequence[str], title: str) -> Chart:
    """Teams x weeks (their Mondays, ISO dates), net score. A square with nothing to show, hidden or empty
    alike, is never a zero: it is hatched, and says so on hover."""
    if not grid or not weeks:
        return style(empty(Chart(), "No team figures published yet"), title, height=200)
    z = [[t["weeks"].get(w, {}).get("net_score") for w in weeks] for t in grid]
    hover = []
    for t in grid:
        row = []
        for w in weeks:
            cell = t["weeks"].get(w, {})
            shown = (
                f"net score {cell['net_score']:+.0f} ({cell['ratings']} ratings)"
                if cell.get("net_score") is not None
                else HIDDEN_CELL
            )
            row.append(f"{plain(t['name'])}, {week_long(w)}: {shown}")
        hover.append(row)
    height = max(320, 220 + 34 * len(grid))
    names = [plain(t["name"]) for t in grid]
    fig = Chart([_squares(z, list(weeks), names, hover, height, gap=1)])
    fig.update_layout(
        xaxis=week_axis(weeks),
        yaxis={
            "autorange": "reversed",
            "tickmode": "array",
            "tickvals": names,
            "ticktext": [wrap_name(t["name"]) for t in grid],
            "tickfont": TICK_FONT,
            "automargin": False,
        },
        images=_hatched_gaps(z, weeks, names),
    )
    return style(fig, title, height=height, bottom=TICK_LABELS_HEIGHT + COLOURBAR_ROOM, left=HEATMAP_LEFT)


def _squares(
    z: list[list[Any]],
    x: list[str],
    y: list[str],
    hover: list[list[str]],
    height: int,
    gap: int,
    **extra: Any,
) -> dict[str, Any]:
    """The heatmap trace: net score from -100 to +100 on the diverging scale, each square (gaps too) hovered
    with its words, the colour bar under a chart `height` high."""
    return dict(
        type="heatmap",
        z=z,
        x=x,
        y=y,
        hovertext=hover,
        colorscale=DIVERGING,
        zmin=-100,
        zmax=100,
        hoverongaps=True,
        xgap=gap,
        ygap=gap,
        colorbar=_colourbar(height - CHROME_HEIGHT),
        hovertemplate="%{hovertext}<extra></extra>",
        **extra,
    )


def _hatched_gaps(z: list[list[Any]], x: Sequence[str], y: list[str]) -> list[dict[str, Any]]:
    """The hatching over each square with nothing to show."""
    return hatched_cells(
        [
            (column, name)
            for name, row in zip(y, z, strict=True)
            for column, v in zip(x, row, strict=True)
            if v is None
        ]
    )


def _colourbar(plot_height: int) -> dict[str, Any]:
    """Across the foot of a heatmap, under its week labels, so that the squares keep the whole width (a
    phone has little), at a fixed length that holds its three labels."""
    return {
        "title": {"text": "Net score", "side": "top"},
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "lenmode": "pixels",
        "len": 180,
        "y": -(TICK_LABELS_HEIGHT + 8) / plot_height,
        "yanchor": "top",
        "thickness": 12,
        "tickvals": [-100, 0, 100],
        "ticktext": ["-100", "0", "+100"],
    }
