"""SPC charts as data and words: published weeks and actions -> a Making Data Count chart, its plain-English
reading and its variation icon. Pure functions: no I/O, no Dash (spc_figure.py draws the chart).

The chart works on plain, JSON-safe data (spc_data), so that a page can keep it in the browser and switch
measure without fetching again. Its limits come from at least the latest year of published weeks, whatever
range the page shows, with a new segment at each action that rebases them: the same chart, and so the same
reading, as the alert a manager receives (pulse.services.followup.alerts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.summaries import NOT_SHOWN
from pulse import stats

SPC_WEEKS = 52  # the limits come from the latest year, as in the alerts (followup.alerts.HISTORY_WEEKS)
ORGANISATION_ACTIONS = 10  # the organisation page lists the latest actions of every department

# NHS England "Making Data Count" colours. Colour is never the only signal: each classification also has a
# marker shape, a legend entry, words in the hover text, a letter in its icon, and the reading.
VARIATION_COLOURS = {
    "common_cause": "#A6A6A6",
    "special_cause_concern": "#ED8B00",
    "special_cause_improvement": "#41B6E6",
    "special_cause_neutral": "#490092",
}
VARIATION_NAMES = {
    "common_cause": "Common cause variation",
    "special_cause_concern": "Special cause of concern",
    "special_cause_improvement": "Special cause of improvement",
    "special_cause_neutral": "Special cause variation",
}


@dataclass(frozen=True)
class Measure:
    key: str  # the published figure charted, and the choice's value
    label: str  # its name in headings, legends and the choice
    direction: stats.Direction  # which way is better
    noun: str  # how the reading names it


MEASURES = {
    "net_score": Measure("net_score", "Net score", "up", "net score"),
    # An XmR chart too, not a p-chart: the alerts chart % red this way, and with a few hundred ratings a
    # week a p-chart's limits are too narrow for the week-to-week variation that is really there.
    "pct_red": Measure("pct_red", "Share of tough shifts", "down", "share of tough shifts"),
}
DEFAULT_MEASURE = "net_score"
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


# --- Data -------------------------------------------------------------------------------------------------


def spc_data(
    history: Sequence[dict[str, Any]],
    shown_from: dt.date | None,
    actions: Sequence[dict[str, Any]] = (),
    *,
    name: str = "",
) -> dict[str, Any]:
    """The weekly series (oldest first) and the actions of one unit, as JSON-safe data for the chart.

    The chart shows the weeks from shown_from on (None: every week). Only actions in one of the weeks can mark
    the chart or rebase it; the list below the chart shows them all.
    """
    weeks = [w["week_start"] for w in history]
    first = next((i for i, week in enumerate(weeks) if shown_from is None or week >= shown_from), len(weeks))
    on_chart = set(weeks)
    return {
        "name": name,
        "weeks": [week.isoformat() for week in weeks],
        "labels": [w["iso_week"] for w in history],
        "net_score": [w["net_score"] for w in history],
        "pct_red": [w["pct_red"] for w in history],
        "shown_from": first,
        "actions": [
            {
                "week_start": a["week_start"].isoformat(),
                "taken_on": a["taken_on"].isoformat(),
                "summary": a["summary"],
                "reasons": list(a["reasons"]),
                "department": a["department"],
                "rebase": bool(a["rebase"]),
            }
            for a in actions
            if a["week_start"] in on_chart
        ],
    }


def rebase_indices(data: dict[str, Any]) -> list[int]:
    """The index of the week of each action that rebases the limits (as in the alerts: its own week)."""
    index = {week: i for i, week in enumerate(data["weeks"])}
    return sorted({index[a["week_start"]] for a in data["actions"] if a["rebase"]} - {0})


def chart_for(data: dict[str, Any], measure: Measure) -> stats.SpcChart:
    """The XmR chart of the measure over the whole history, with its rebases."""
    return stats.xmr_chart(data[measure.key], measure.direction, rebase_at=rebase_indices(data))


# --- The reading and the icon ------------------------------------------------------------------------------


def reading(data: dict[str, Any], chart: stats.SpcChart, measure: Measure) -> str:
    """The plain-English reading beside the chart, also its summary for screen readers."""
    shown = range(data["shown_from"], len(data["weeks"]))
    if not shown:
        return "No weeks have been published yet."
    last = chart.last
    if last is None or last.index < data["shown_from"]:
        return f"None of these weeks has enough ratings to show, so there is no {measure.noun} to chart yet."
    dates = [dt.date.fromisoformat(week) for week in data["weeks"]]
    sentences = [stats.describe(chart, dates)]
    segment = chart.segments[last.segment]
    if last.lower is not None and last.upper is not None and last.centre is not None:
        centre, lower, upper = (_number(v, measure) for v in (last.centre, last.lower, last.upper))
        if measure.key == "pct_red":
            sentences.append(
                f"On average {centre} of shifts were tough; weeks from {lower} to {upper} are within the "
                "usual variation."
            )
        else:
            sentences.append(
                f"The average {measure.noun} is {centre}; weeks from {lower} to {upper} are within the "
                "usual variation."
            )
    if segment.trial:
        sentences.append(
            f"Trial limits: only {_weeks(segment.baseline)} with enough ratings so far "
            f"({stats.BASELINE} make firm limits), so read them with care."
        )
    if last.segment > 0:
        sentences.append(
            f"The limits start again from the week of {long_date(dates[segment.start])}, when the department "
            "made a change."
        )
    hidden = sum(data[measure.key][i] is None for i in shown)
    if hidden:
        has, gaps = ("has", "a gap") if hidden == 1 else ("have", "gaps")
        sentences.append(f"{hidden} of the {_weeks(len(shown))} shown {has} {NOT_SHOWN}: {gaps} in the line.")
    return " ".join(sentences)


def variation_icon(chart: stats.SpcChart) -> tuple[str, str] | None:
    """The Making Data Count variation icon of the last point with a value: (asset path, alt text)."""
    last = chart.last
    if last is None or last.variation is None:
        return None
    if last.variation == "common_cause":
        return ("spc/common-cause.svg", VARIATION_NAMES["common_cause"])
    kind = last.variation.removeprefix("special_cause_")
    side = last.side or "high"
    return (f"spc/{kind}-{side}.svg", f"{VARIATION_NAMES[last.variation]}, {side}")


def long_date(day: dt.date) -> str:
    """3 March 2026, in English whatever the server's locale."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def measure_for(key: str | None) -> Measure:
    return MEASURES.get(key or DEFAULT_MEASURE, MEASURES[DEFAULT_MEASURE])


def _number(value: float, measure: Measure) -> str:
    return f"{value:.0f}%" if measure.key == "pct_red" else f"{value:+.0f}"


def _weeks(n: int) -> str:
    return "1 week" if n == 1 else f"{n} weeks"


# --- Rows for the CSV download -----------------------------------------------------------------------------

CSV_COLUMNS = (
    "iso_week",
    "week_start",
    "measure",
    "value",
    "average",
    "lower_limit",
    "upper_limit",
    "variation",
    "rules",
    "trial_limits",
    "actions",
)


def chart_rows(data: dict[str, Any], measure_key: str) -> list[dict[str, Any]]:
    """The chart as rows, one per week shown: the value, its lines and its classification."""
    measure = measure_for(measure_key)
    chart = chart_for(data, measure)
    rows = []
    for i in range(data["shown_from"], len(data["weeks"])):
        point = chart.points[i]
        week = data["weeks"][i]
        rows.append(
            {
                "iso_week": data["labels"][i],
                "week_start": week,
                "measure": measure.key,
                "value": point.value,
                "average": _round(point.centre),
                "lower_limit": _round(point.lower),
                "upper_limit": _round(point.upper),
                "variation": VARIATION_NAMES.get(str(point.variation), ""),
                "rules": " ".join(sorted(point.rules)),
                "trial_limits": "yes" if chart.segments[point.segment].trial else "no",
                "actions": " | ".join(a["summary"] for a in data["actions"] if a["week_start"] == week),
            }
        )
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def latest_actions(actions: Sequence[dict[str, Any]], limit: int | None = None) -> list[dict[str, Any]]:
    """Actions most recent first (published.actions gives them oldest first), at most `limit` of them."""
    ordered = sorted(actions, key=lambda a: (a["taken_on"], a["id"]), reverse=True)
    return ordered if limit is None else ordered[:limit]
