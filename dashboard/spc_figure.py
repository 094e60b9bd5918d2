"""Pure functions that draw an SPC chart the Making Data Count way, from spc.py's data. No I/O, no Dash."""

from __future__ import annotations

import datetime as dt
import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.chart_style import (
    FONT,
    TICK_LABELS_HEIGHT,
    Chart,
    empty,
    legend_room,
    style,
    week_axis,
    week_long,
)
from dashboard.spc import (
    VARIATION_COLOURS,
    VARIATION_NAMES,
    Measure,
    chart_for,
    long_date,
    measure_for,
    reading,
    variation_icon,
)
from dashboard.summaries import NOT_SHOWN
from pulse import stats

# Colour is never the only signal: each classification also has its own marker shape and legend entry.
VARIATION_SYMBOLS = {
    "common_cause": "circle",
    "special_cause_concern": "diamond",
    "special_cause_improvement": "square",
    "special_cause_neutral": "hexagon",
}
RULE_WORDS = {
    "outside_limits": "outside the process limits",
    "shift": "7 or more weeks in a row on one side of the average",
    "trend": "7 or more weeks in a row rising or falling",
    "two_in_three": "2 of 3 weeks close to a process limit",
}
INK = "#231F20"  # the average (solid) and the process limits (dashed), as Making Data Count draws them
DATA_LINE = "#7B7D7D"  # the line joining the points; the points carry the classification
OUTLINE = "#3E4C59"  # a dark edge gives the pale MDC colours 3:1 against white (WCAG 1.4.11)
ACTION_INK = "#1F2933"
ACTIONS_NAME = "You said, we did: a change made"


@dataclass(frozen=True)
class SpcView:
    """What a page shows for one measure: the chart, its reading, and the variation icon (asset, alt)."""

    figure: Chart
    reading: str
    icon: tuple[str, str] | None


def spc_view(data: dict[str, Any], measure_key: str | None) -> SpcView:
    """The chart, the reading and the icon of one measure, from spc.spc_data; the chart is computed once."""
    measure = measure_for(measure_key)
    chart = chart_for(data, measure)
    title = f"{data['name']}: {measure.label.lower()}" if data["name"] else measure.label
    return SpcView(
        spc_figure(data, chart, measure, title), reading(data, chart, measure), variation_icon(chart)
    )


def spc_figure(data: dict[str, Any], chart: stats.SpcChart, measure: Measure, title: str) -> Chart:
    """Points coloured by their classification, the average solid and the process limits dashed (one step per
    segment), hidden weeks as gaps, and each action as a dotted line with a marker naming it.

    Traces and layout are built as plain dicts, as plotly.js takes them (see chart_style.Chart).
    """
    first = data["shown_from"]
    points = chart.points[first:]
    labels = data["weeks"][first:]  # the x of each week: its Monday; it is labelled "w/c 23 Nov"
    if not points:
        return style(empty(Chart(), "No weeks published yet"), title, height=220)
    if all(p.value is None for p in points):
        message = "None of these weeks has enough ratings to show"
        return style(empty(Chart(), message), title, height=220)
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": labels,
            "y": [p.value for p in points],
            "mode": "lines",
            "connectgaps": False,  # a hidden week is a gap, never bridged
            "line": {"color": DATA_LINE, "width": 1.5},
            "name": measure.label,
            "showlegend": False,
            "hoverinfo": "skip",
        }
    ]
    traces += _lines(chart, first, labels, measure)
    traces += _points(points, labels, [dt.date.fromisoformat(w) for w in data["weeks"][first:]], measure)
    low, high = _value_range(points)
    hidden = [label for label, p in zip(labels, points, strict=True) if p.value is None]
    if hidden:
        traces.append(
            {
                "type": "scatter",
                "x": hidden,
                "y": [low] * len(hidden),
                "mode": "markers",
                "name": NOT_SHOWN.capitalize(),
                "marker": {"symbol": "line-ew-open", "size": 14, "color": "#52606d", "line": {"width": 2}},
                "customdata": [week_long(week) for week in hidden],
                "hovertemplate": f"%{{customdata}}: {NOT_SHOWN}<extra></extra>",
            }
        )
    weeks = _actions_by_week(data, labels)
    if weeks:
        traces.append(_action_markers(weeks, high))
    margin = (high - low) * 0.05
    layout = {
        "xaxis": week_axis(labels),
        "yaxis": {
            "title": {"text": measure.label},
            "range": [low - margin, high + margin],
            "gridcolor": "#e4e7eb",
            "zeroline": False,
            **({"ticksuffix": "%"} if measure.key == "pct_red" else {"tickformat": "+.0f"}),
        },
        "shapes": [
            {"type": "line", "xref": "x", "x0": label, "x1": label, "yref": "paper", "y0": 0, "y1": 1,
             "line": {"color": ACTION_INK, "width": 1.5, "dash": "dot"}, "layer": "below"}
            for label in weeks
        ],
        # Dark text for every hover label; left-aligned, as action summaries run over several lines.
        "hoverlabel": {"font": {"family": FONT, "color": "#1f2933"}, "align": "left"},
    }  # fmt: skip
    legend = legend_room(len([t for t in traces if t.get("showlegend", True)]))
    return style(Chart(traces, layout), title, height=400 + legend, bottom=TICK_LABELS_HEIGHT + legend)


def _lines(
    chart: stats.SpcChart, first: int, labels: Sequence[str], measure: Measure
) -> list[dict[str, Any]]:
    """The average and the process limits, one step per segment: a rebase starts new lines."""
    traces = []
    legend = {"centre": True, "limits": True}  # one legend entry each, however many segments
    for segment in chart.segments:
        start, stop = max(segment.start, first), segment.stop
        if start >= stop or segment.centre is None:
            continue
        x = list(labels[start - first : stop - first])
        points = chart.points[start:stop]
        trial = " (trial)" if segment.trial else ""
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": [p.centre for p in points],
                "mode": "lines",
                "line": {"color": INK, "width": 1.5},
                "name": "Average",
                "legendgroup": "centre",
                "showlegend": legend["centre"],
                "hovertemplate": f"Average{trial} {_hover_number(measure)}<extra></extra>",
            }
        )
        legend["centre"] = False
        if segment.mean_moving_range is None:
            continue  # one week on its own: an average but no limits yet
        for edge in ("upper", "lower"):
            traces.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": [getattr(p, edge) for p in points],
                    "mode": "lines",
                    "line": {"color": INK, "width": 1, "dash": "dash"},
                    "name": "Process limits",
                    "legendgroup": "limits",
                    "showlegend": legend["limits"],
                    "hovertemplate": f"{edge.capitalize()} process limit{trial} {_hover_number(measure)}"
                    "<extra></extra>",
                }
            )
            legend["limits"] = False
    return traces


def _points(
    points: Sequence[stats.SpcPoint], labels: Sequence[str], dates: Sequence[dt.date], measure: Measure
) -> list[dict[str, Any]]:
    """One trace per classification, so that the legend names each colour and shape."""
    traces = []
    for variation, name in VARIATION_NAMES.items():
        mine = [
            (label, day, p)
            for label, day, p in zip(labels, dates, points, strict=True)
            if p.variation == variation
        ]
        if not mine:
            continue
        traces.append(
            {
                "type": "scatter",
                "x": [label for label, _, _ in mine],
                "y": [p.value for _, _, p in mine],
                "mode": "markers",
                "name": name,
                "marker": {
                    "color": VARIATION_COLOURS[variation],
                    "symbol": VARIATION_SYMBOLS[variation],
                    "size": 8 if variation == "common_cause" else 11,
                    "line": {"color": OUTLINE, "width": 1},
                },
                # Dark on white, edged in the classification's colour: text on pale MDC colours reads badly.
                "hoverlabel": {"bgcolor": "#ffffff", "bordercolor": VARIATION_COLOURS[variation]},
                "customdata": [[week_long(day), _point_words(p)] for _, day, p in mine],
                "hovertemplate": f"%{{customdata[0]}}<br>{measure.label} "
                f"{_hover_number(measure)}<br>%{{customdata[1]}}<extra></extra>",
            }
        )
    return traces


def _actions_by_week(data: dict[str, Any], labels: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The actions in the weeks shown, by the week's label."""
    shown = set(labels)
    by_week: dict[str, list[dict[str, Any]]] = {}
    for action in data["actions"]:
        if action["week_start"] in shown:
            by_week.setdefault(action["week_start"], []).append(action)
    return by_week


def _action_markers(weeks: dict[str, list[dict[str, Any]]], top: float) -> dict[str, Any]:
    """A marker at the top of each action's dotted line, naming the action on hover."""
    return {
        "type": "scatter",
        "x": list(weeks),
        "y": [top] * len(weeks),
        "mode": "markers",
        "name": ACTIONS_NAME,
        "marker": {
            "symbol": "triangle-down",
            "size": 14,
            "color": ACTION_INK,
            "line": {"color": "#ffffff", "width": 1},
        },
        "customdata": [_action_words(actions) for actions in weeks.values()],
        "hovertemplate": "%{customdata}<extra></extra>",
    }


def _action_words(actions: Sequence[dict[str, Any]]) -> str:
    """Hover text for the actions of one week. Escaped: Plotly reads some HTML in hover text."""
    parts = []
    for action in actions:
        taken = long_date(dt.date.fromisoformat(action["taken_on"]))
        lines = [f"You said, we did ({html.escape(action['department'])}, {taken}):"]
        lines += textwrap.wrap(html.escape(action["summary"]), 60)
        if action["reasons"]:
            lines.append("In answer to: " + html.escape(", ".join(action["reasons"])))
        if action["rebase"]:
            lines.append("The limits start again from this week.")
        parts.append("<br>".join(lines))
    return "<br><br>".join(parts)


def _point_words(point: stats.SpcPoint) -> str:
    variation = str(point.variation)
    if variation == "common_cause":
        return VARIATION_NAMES[variation]
    rules = "<br>".join(RULE_WORDS[rule] for rule in sorted(point.rules))
    return f"{VARIATION_NAMES[variation]} ({point.side}):<br>{rules}"


def _hover_number(measure: Measure) -> str:
    return "%{y:.1f}%" if measure.key == "pct_red" else "%{y:+.1f}"


def _value_range(points: Sequence[stats.SpcPoint]) -> tuple[float, float]:
    """The lowest and highest of the points and lines shown, with room for the gap and action markers."""
    values = [v for p in points for v in (p.value, p.centre, p.lower, p.upper) if v is not None]
    low, high = min(values), max(values)
    pad = max((high - low) * 0.08, 2.0)
    return low - pad, high + pad
