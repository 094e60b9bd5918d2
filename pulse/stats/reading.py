"""The plain-English reading of an SPC chart: what its last point says, in one sentence."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from pulse.stats.spc import SpcChart, SpcPoint, _real, _sign

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def describe(chart: SpcChart, dates: Sequence[datetime.date], *, unit: str = "week") -> str:
    """One plain-English sentence on the last point with a value, for example
    "Special cause of concern: 7 weeks below average since 3 March 2026."
    """
    if len(dates) != len(chart.points):
        raise ValueError("one date per point")
    last = chart.last
    if last is None:
        return "No data yet."
    segment = chart.segments[last.segment]
    trial = " (trial limits)" if segment.trial else ""
    if last.variation == "common_cause":
        quiet = 0
        for point in reversed(chart.points[segment.start : last.index + 1]):
            if point.rules:
                break
            quiet += point.value is not None
        period = f"the last {unit}" if quiet == 1 else f"the last {_count(quiet, unit)}"
        return f"Common cause variation: no signal in {period}{trial}."
    heading = {
        "special_cause_improvement": "Special cause of improvement",
        "special_cause_concern": "Special cause of concern",
        "special_cause_neutral": "Special cause variation",
    }[str(last.variation)]
    return f"{heading}: {_reading(chart, last, dates, unit)}{trial}."


def _reading(chart: SpcChart, last: SpcPoint, dates: Sequence[datetime.date], unit: str) -> str:
    """What the signal at the last point is, by the rule ptd would colour it by (the precedence of _side)."""
    high = last.side == "high"
    if "outside_limits" in last.rules:
        limit = "above the upper" if high else "below the lower"
        return f"a point {limit} process limit in the {unit} of {_date(dates[last.index])}"
    want = 1 if high else -1
    if "trend" in last.rules:
        first = _run_start(
            chart, last, lambda prev, point: _sign(_real(point.value) - _real(prev.value)) == want
        )
        length = last.index - first + 1
        return (
            f"{_count(length, unit)} {'rising' if high else 'falling'} in a row since {_date(dates[first])}"
        )
    if "two_in_three" in last.rules:
        near = sum("two_in_three" in p.rules for p in chart.points[last.index - 2 : last.index + 1])
        return f"{near} of the last 3 {unit}s near the {'upper' if high else 'lower'} process limit"
    centre = _real(last.centre)
    first = _run_start(chart, last, lambda prev, point: _sign(_real(prev.value) - centre) == want)
    length = last.index - first + 1
    return f"{_count(length, unit)} {'above' if high else 'below'} average since {_date(dates[first])}"


def _run_start(chart: SpcChart, last: SpcPoint, holds: Callable[[SpcPoint, SpcPoint], bool]) -> int:
    """The start of the unbroken run (no gap, no rebase) ending at last in which holds(prev, point)."""
    i = last.index
    while i > chart.segments[last.segment].start:
        prev, point = chart.points[i - 1], chart.points[i]
        if prev.value is None or not holds(prev, point):
            break
        i -= 1
    return i


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _date(day: datetime.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
