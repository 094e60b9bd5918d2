"""The charts' house style: their layout and toolbar room, week and day labels, and the pattern behind a
heatmap's squares with nothing to show. Pure functions of plain values; no I/O, no Dash."""

from __future__ import annotations

import datetime as dt
import html
import math
import textwrap
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
INK = "#1f2933"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOOLBAR_HEIGHT = 38  # room above a chart's title for its toolbar (Plotly's mode bar), so it covers nothing
TITLE_HEIGHT = 40
# At most this many week labels on an axis. Two lines each ("w/c" over "23 Nov"), in a smaller font, they fit
# side by side on a 360 px phone as on a desktop, where hovering names every week.
WEEK_TICKS = 4
TICK_FONT = {"size": 11}
TICK_LABELS_HEIGHT = 40  # two lines of tick labels under the x axis
LEGEND_ROW = 22
# A heatmap square with nothing to show is a gap in the heatmap, and gets this image: light grey with dark
# diagonal hatching, unlike any net score (the colour scale has neither grey nor stripes).
HATCH_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" '
    'preserveAspectRatio="none"><rect width="24" height="24" fill="#d9dde2"/>'
    '<path d="M-3 3l6-6M-3 15l18-18M-3 27l30-30M9 27l18-18M21 27l6-6" stroke="#3e4c59" '
    'stroke-width="1.5"/></svg>'
)
HATCH_IMAGE = "data:image/svg+xml," + quote(HATCH_SVG)


def plain(text: object) -> str:
    """Text as Plotly is to show it, character for character. Plotly reads a subset of HTML in every string it
    draws (titles, axis and tick labels, legend entries, hover text, annotations), links included, so a team
    called <a href="...">Minors</a> would become a link: &, < and > go as entities, which it shows as is."""
    return html.escape(str(text), quote=False)


class Chart(dict):
    """A Plotly figure as the plain JSON that plotly.js draws, with the few ways of adding to it that the
    charts use. Not plotly.py's graph objects: checking each change against the schema took most of a page's
    server time (tests build go.Figure from these, which checks them all)."""

    def __init__(self, data: Sequence[dict[str, Any]] = (), layout: dict[str, Any] | None = None) -> None:
        super().__init__(data=list(data), layout=dict(layout or {}))

    def add_bar(self, **trace: Any) -> None:
        self["data"].append({"type": "bar", **trace})

    def add_scatter(self, **trace: Any) -> None:
        self["data"].append({"type": "scatter", **trace})

    def add_annotation(self, **annotation: Any) -> None:
        self["layout"].setdefault("annotations", []).append(annotation)

    def update_layout(self, **changes: Any) -> None:
        _merge(self["layout"], changes)


def _merge(into: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def style(
    fig: Chart,
    title: str,
    height: int = 360,
    bottom: int = 40,
    right: int = 16,
    left: int = 56,
) -> Chart:
    """Title (plain text), fonts, size and margins. The toolbar runs along the top right, above the title, so
    that on a phone it covers neither the title nor an axis title. Margins are fixed: automargin redraws a
    chart until its labels settle, which was most of the time a page took to draw its charts."""
    fig.update_layout(
        title={
            "text": plain(title),  # most hold a unit's name
            "x": 0,
            "xanchor": "left",
            "xref": "container",
            "y": 1,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": TOOLBAR_HEIGHT, "l": 8},
            "font": {"size": 16},
        },
        font={"family": FONT, "size": 13, "color": INK},
        height=height,
        margin={"l": left, "r": right, "t": TOOLBAR_HEIGHT + TITLE_HEIGHT, "b": bottom},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 0,
            "yanchor": "bottom",
            "yref": "container",
        },
        hoverlabel={"font": {"family": FONT}},
        modebar={"orientation": "h"},
    )
    return fig


def empty(fig: Chart, message: str) -> Chart:
    """No data: say so, with no meaningless axes."""
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 15}
    )
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def legend_room(entries: int, per_row: int = 1) -> int:
    """Pixels under the axis labels for a legend of `entries`, `per_row` to a line at the narrowest (a
    phone); on a desktop the legend takes a single line and leaves the rest white."""
    return LEGEND_ROW * math.ceil(entries / per_row) + 8


def wrap_name(name: str, width: int = 16, lines: int = 3) -> str:
    """A unit's name on an axis, as plain text (see plain) in up to `lines` lines of about `width` characters:
    long names no longer squeeze the chart into a sliver on a phone. A longer name ends in an ellipsis; the
    hover shows it whole."""
    wrapped = textwrap.wrap(str(name), width) or [str(name)]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], wrapped[lines - 1][: width - 1] + "\u2026"]
    return "<br>".join(plain(line) for line in wrapped)


def as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def week_label(week_start: dt.date | str) -> str:
    """A week as people name it: "w/c 23 Nov", the week commencing Monday 23 November."""
    day = as_date(week_start)
    return f"w/c {day.day} {MONTHS[day.month - 1]}"


def week_long(week_start: dt.date | str) -> str:
    """The hover's name for a week: "w/c 23 Nov 2026 (2026-W48)", with its ISO week."""
    day = as_date(week_start)
    year, number, _ = day.isocalendar()
    return f"w/c {day.day} {MONTHS[day.month - 1]} {day.year} ({year}-W{number:02d})"


def day_label(day: dt.date | str) -> str:
    """A shift date on an axis, under its week's title: "Mon" over "23"."""
    value = as_date(day)
    return f"{DAYS[value.weekday()]}<br>{value.day}"


def day_long(day: dt.date | str) -> str:
    value = as_date(day)
    return f"{DAYS[value.weekday()]} {value.day} {MONTHS[value.month - 1]} {value.year}"


def week_axis(weeks: Sequence[dt.date | str], **extra: Any) -> dict[str, Any]:
    """A category axis of weeks, their Mondays in order, labelled "w/c 23 Nov" on two lines at no more than
    WEEK_TICKS of them, counted back from the latest: labels never overlap, nor run off the chart."""
    values = [str(week) for week in weeks]
    step = max(1, math.ceil(len(values) / WEEK_TICKS))
    shown = values[::-1][::step][::-1]
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": values,
        "tickmode": "array",
        "tickvals": shown,
        "ticktext": [week_label(week).replace(" ", "<br>", 1) for week in shown],
        "tickangle": 0,
        "tickfont": TICK_FONT,
        "automargin": False,
        **extra,
    }


def hatched_cells(cells: Sequence[tuple[str, str]], gap: float = 0.06) -> list[dict[str, Any]]:
    """A hatched image over each (x, y) category cell of a heatmap that has nothing to show, a little smaller
    than the cell, so that the white lines between squares stay white."""
    return [
        {
            "source": HATCH_IMAGE,
            "xref": "x",
            "yref": "y",
            "x": x,
            "y": y,
            "xanchor": "center",
            "yanchor": "middle",
            "sizex": 1 - gap,
            "sizey": 1 - gap,
            "sizing": "stretch",
            "layer": "below",
        }
        for x, y in cells
    ]


# Where a dot's name may go, in order of preference, with the offset of its box from the dot (in pixels,
# for a chart about 600 x 300 px: the names are placed once, for every screen).
POSITIONS = ("top center", "bottom center", "middle right", "middle left")
CHAR_WIDTH, TEXT_HEIGHT, PLOT_SIZE = 6.2, 14.0, (600.0, 300.0)


def label_positions(
    x: Sequence[float],
    y: Sequence[float],
    names: Sequence[str],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> list[str]:
    """A text position for each dot's name: the first of POSITIONS whose box overlaps the fewest names and
    dots already placed and stays in the plot. Greedy, from the most crowded dots outwards: good enough for
    a few dozen departments; Plotly has no placement of its own."""
    width, height = PLOT_SIZE
    px = [(xi - x_range[0]) / (x_range[1] - x_range[0]) * width for xi in x]
    py = [(y_range[1] - yi) / (y_range[1] - y_range[0]) * height for yi in y]
    dots = [(a - 5, b - 5, a + 5, b + 5) for a, b in zip(px, py, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    chosen = [POSITIONS[0]] * len(x)

    def box(i: int, position: str) -> tuple[float, float, float, float]:
        w, h, cx, cy = CHAR_WIDTH * len(names[i]), TEXT_HEIGHT, px[i], py[i]
        if position == "top center":
            return (cx - w / 2, cy - 7 - h, cx + w / 2, cy - 7)
        if position == "bottom center":
            return (cx - w / 2, cy + 7, cx + w / 2, cy + 7 + h)
        if position == "middle right":
            return (cx + 7, cy - h / 2, cx + 7 + w, cy + h / 2)
        return (cx - 7 - w, cy - h / 2, cx - 7, cy + h / 2)

    def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    def outside(b: tuple[float, ...]) -> float:
        return max(0.0, -b[0]) + max(0.0, b[2] - width) + max(0.0, -b[1]) + max(0.0, b[3] - height)

    crowded = sorted(
        range(len(x)),
        key=lambda i: -sum(overlap(dots[i], (d[0] - 40, d[1] - 20, d[2] + 40, d[3] + 20)) for d in dots),
    )
    for i in crowded:

        def cost(position: str, i: int = i) -> float:
            b = box(i, position)
            others = [d for j, d in enumerate(dots) if j != i]
            return sum(overlap(b, p) for p in placed + others) + 50 * outside(b)

        best = min(POSITIONS, key=cost)
        chosen[i] = best
        placed.append(box(i, best))
    return chosen
