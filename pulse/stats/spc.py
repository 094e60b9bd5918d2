"""Statistical process control: Making Data Count's XmR chart and a p-chart, with their special causes.

The XmR chart and its special-cause rules follow NHS England's "Making Data Count" as coded by the NHS-R
package NHSRplotthedots (ptd): the same constants, the same screening of large moving ranges, the same rules
and the same way of telling improvement from concern. Two things ptd lacks are added: gaps (a week hidden by
suppression) and a p-chart for a proportion. Pure functions over plain numbers: no I/O, Flask or database.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Literal

Direction = Literal["up", "down", "neutral"]
Variation = Literal[
    "common_cause", "special_cause_improvement", "special_cause_concern", "special_cause_neutral"
]
Rule = Literal["outside_limits", "shift", "trend", "two_in_three"]
Side = Literal["high", "low"]
Assurance = Literal["consistent_pass", "consistent_fail", "inconsistent"]

LIMIT = 2.66  # process limits sit 2.66 mean moving ranges from the mean (3 / d2, d2 = 1.128)
NEAR_LIMIT = 2 * (LIMIT / 3)  # the "2 sigma" line of the two-in-three rule, computed as ptd does
SCREEN = 3.267  # D4: ptd keeps a moving range only if it is below 3.267 x the mean moving range
RUN = 7  # points (values, not steps) in a shift or a trend
BASELINE = 12  # limits from fewer points than this are trial limits
_DIRECTIONS = ("up", "down", "neutral")


@dataclass(frozen=True)
class SpcPoint:
    """One point of a chart. A gap (value None) has no rules or variation but keeps its segment's lines."""

    index: int
    value: float | None
    centre: float | None
    lower: float | None
    upper: float | None
    rules: frozenset[Rule]
    variation: Variation | None
    side: Side | None  # where a special cause points: above the mean or rising ("high"), or the opposite
    segment: int


@dataclass(frozen=True)
class SpcSegment:
    """Points start..stop-1, between two rebases, with the centre and spread their limits came from."""

    start: int
    stop: int
    centre: float | None  # None when the segment has no data
    mean_moving_range: float | None  # XmR only, after screening; None with fewer than two adjacent points
    baseline: int  # data points the centre and limits were calculated from

    @property
    def trial(self) -> bool:
        """Making Data Count calls limits from fewer than 12 points trial limits."""
        return self.baseline < BASELINE


@dataclass(frozen=True)
class SpcChart:
    """A chart: its points, its segments (one per rebase), and its assurance against a target if given."""

    points: tuple[SpcPoint, ...]
    segments: tuple[SpcSegment, ...]
    direction: Direction
    assurance: Assurance | None = None

    @property
    def trial_limits(self) -> tuple[bool, ...]:
        return tuple(segment.trial for segment in self.segments)

    @property
    def last(self) -> SpcPoint | None:
        """The last point with a value: the one the summary icon and the reading are about."""
        return next((p for p in reversed(self.points) if p.value is not None), None)

    @property
    def variation(self) -> Variation | None:
        """The summary variation icon: the variation of the last point with a value (as ptd's summary)."""
        last = self.last
        return last.variation if last else None


@dataclass(frozen=True)
class _Lines:
    centre: float | None
    lower: float | None = None
    upper: float | None = None
    near_lower: float | None = None
    near_upper: float | None = None


def xmr_chart(
    values: Sequence[float | None],
    direction: Direction,
    *,
    rebase_at: Sequence[int] = (),
    fix_after: int | None = None,
    screen_outliers: bool = True,
    target: float | None = None,
) -> SpcChart:
    """An XmR chart of values (None for a gap), with a new segment at each index in rebase_at.

    Each segment's mean and mean moving range come from its data points, or from its first fix_after data
    points; moving ranges are taken only between adjacent data points, never across a gap.
    """
    xs = [_finite(v) for v in values]
    _check(direction, fix_after)
    segments: list[SpcSegment] = []
    lines: list[_Lines] = []
    for start, stop in _bounds(len(xs), rebase_at):
        base = _baseline(xs, start, stop, fix_after)
        in_base = set(base)
        centre = fmean(_real(xs[i]) for i in base) if base else None
        ranges = [abs(_real(xs[i + 1]) - _real(xs[i])) for i in base if i + 1 in in_base]
        amr = fmean(ranges) if ranges else None
        if amr and screen_outliers:
            amr = fmean(r for r in ranges if r < SCREEN * amr)  # never empty: the smallest is below the mean
        segments.append(SpcSegment(start, stop, centre, amr, len(base)))
        if centre is None or amr is None:
            line = _Lines(centre)
        else:
            line = _Lines(
                centre,
                centre - LIMIT * amr,
                centre + LIMIT * amr,
                centre - NEAR_LIMIT * amr,
                centre + NEAR_LIMIT * amr,
            )
        lines.extend([line] * (stop - start))
    return _chart(xs, lines, segments, direction, target)


def p_chart(
    counts: Sequence[int | None],
    totals: Sequence[int | None],
    direction: Direction,
    *,
    rebase_at: Sequence[int] = (),
    fix_after: int | None = None,
    target: float | None = None,
) -> SpcChart:
    """A p-chart of counts[i] / totals[i] (a gap where either is None or the total is 0), values from 0 to 1.

    The centre is the pooled proportion of the segment's (baseline) points; each point has its own limits,
    centre +- 3 sigma_i with sigma_i = sqrt(p(1 - p) / n_i), clipped to [0, 1], and its own 2-sigma lines.
    """
    if len(counts) != len(totals):
        raise ValueError("counts and totals must have the same length")
    _check(direction, fix_after)
    xs: list[float | None] = []
    for count, total in zip(counts, totals, strict=True):
        if count is None or total is None or total == 0:
            xs.append(None)
        elif not 0 <= count <= total:
            raise ValueError(f"a count must lie between 0 and its total, not {count} of {total}")
        else:
            xs.append(count / total)
    segments: list[SpcSegment] = []
    lines: list[_Lines] = []
    for start, stop in _bounds(len(xs), rebase_at):
        base = _baseline(xs, start, stop, fix_after)
        p = sum(_whole(counts[i]) for i in base) / sum(_whole(totals[i]) for i in base) if base else None
        segments.append(SpcSegment(start, stop, p, None, len(base)))
        for i in range(start, stop):
            if p is None or xs[i] is None:
                lines.append(_Lines(p))
            else:
                sigma = math.sqrt(p * (1 - p) / _whole(totals[i]))
                lines.append(
                    _Lines(p, max(0.0, p - 3 * sigma), min(1.0, p + 3 * sigma), p - 2 * sigma, p + 2 * sigma)
                )
    return _chart(xs, lines, segments, direction, target)


def _chart(
    xs: list[float | None],
    lines: list[_Lines],
    segments: list[SpcSegment],
    direction: Direction,
    target: float | None,
) -> SpcChart:
    rules: list[set[Rule]] = [set() for _ in xs]
    trend_side: list[Side | None] = [None] * len(xs)
    for segment in segments:
        for run in _runs(xs, segment.start, segment.stop):
            _mark(run, xs, lines, rules, trend_side)
    points = []
    for number, segment in enumerate(segments):
        for i in range(segment.start, segment.stop):
            line, x, side, variation = lines[i], xs[i], None, None
            if x is not None:
                side = _side(x, line, rules[i], trend_side[i])
                variation = _variation(side, direction)
            points.append(
                SpcPoint(
                    i, x, line.centre, line.lower, line.upper, frozenset(rules[i]), variation, side, number
                )
            )
    last = next((p for p in reversed(points) if p.value is not None), None)
    return SpcChart(tuple(points), tuple(segments), direction, _assurance(last, direction, target))


def _mark(
    run: list[int],
    xs: list[float | None],
    lines: list[_Lines],
    rules: list[set[Rule]],
    trend_side: list[Side | None],
) -> None:
    """Flag every point of every pattern in one unbroken run of data points, as ptd does."""
    x = {i: _real(xs[i]) for i in run}
    sign = {i: _sign(x[i] - _real(lines[i].centre)) for i in run}
    outside, near = {}, {}
    for i in run:
        line = lines[i]
        outside[i] = line.lower is not None and (x[i] < line.lower or x[i] > _real(line.upper))
        near[i] = (
            line.near_lower is not None
            and not outside[i]
            and (x[i] < line.near_lower or x[i] > _real(line.near_upper))
        )
        if outside[i]:
            rules[i].add("outside_limits")
    for k in range(len(run) - RUN + 1):
        window = run[k : k + RUN]
        if sign[window[0]] != 0 and all(sign[i] == sign[window[0]] for i in window):
            for i in window:
                rules[i].add("shift")
        steps = {_sign(x[b] - x[a]) for a, b in itertools.pairwise(window)}
        if steps in ({1}, {-1}):
            for i in window:  # a point in a rise then a fall takes the later trend's direction, as in ptd
                rules[i].add("trend")
                trend_side[i] = "high" if steps == {1} else "low"
    for k in range(len(run) - 2):
        window = run[k : k + 3]
        same_side = sign[window[0]] != 0 and all(sign[i] == sign[window[0]] for i in window)
        if same_side and sum(near[i] for i in window) >= 2:
            for i in window:
                if near[i]:  # ptd flags the points beyond the 2-sigma line only, not the third point
                    rules[i].add("two_in_three")


def _side(x: float, line: _Lines, rules: set[Rule], trend: Side | None) -> Side | None:
    """Where a special cause points, by ptd's precedence: limits, then trend, then two-in-three and shift."""
    if not rules:
        return None
    if "outside_limits" not in rules and "trend" in rules:
        return trend
    return "high" if x > _real(line.centre) else "low"


def _variation(side: Side | None, direction: Direction) -> Variation:
    if side is None:
        return "common_cause"
    if direction == "neutral":
        return "special_cause_neutral"
    return "special_cause_improvement" if (side == "high") == (direction == "up") else "special_cause_concern"


def _assurance(last: SpcPoint | None, direction: Direction, target: float | None) -> Assurance | None:
    """ptd's assurance: the target against the latest process limits (none for a neutral measure)."""
    if target is None or direction == "neutral" or last is None or last.lower is None or last.upper is None:
        return None
    if target > last.upper:
        return "consistent_fail" if direction == "up" else "consistent_pass"
    if target < last.lower:
        return "consistent_pass" if direction == "up" else "consistent_fail"
    return "inconsistent"


def _bounds(length: int, rebase_at: Sequence[int]) -> list[tuple[int, int]]:
    if any(not 0 <= i < length for i in rebase_at):
        raise ValueError(f"rebase indices must lie in 0..{length - 1}")
    if not length:
        return []
    starts = sorted({0, *rebase_at})
    return list(zip(starts, [*starts[1:], length], strict=True))


def _baseline(xs: list[float | None], start: int, stop: int, fix_after: int | None) -> list[int]:
    present = [i for i in range(start, stop) if xs[i] is not None]
    return present if fix_after is None else present[:fix_after]


def _runs(xs: list[float | None], start: int, stop: int) -> list[list[int]]:
    """The unbroken stretches of data points in start..stop-1: rules never run across a gap."""
    runs: list[list[int]] = [[]]
    for i in range(start, stop):
        if xs[i] is None:
            runs.append([])
        else:
            runs[-1].append(i)
    return [run for run in runs if run]


def _check(direction: str, fix_after: int | None) -> None:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, not {direction!r}")
    if fix_after is not None and fix_after < 1:
        raise ValueError("fix_after must be at least 1")


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError("values must be finite numbers or None for a gap")
    return float(value)


def _real(value: float | None) -> float:
    """A value the caller knows is not a gap (narrowed for mypy)."""
    assert value is not None
    return value


def _whole(value: int | None) -> int:
    assert value is not None
    return value


def _sign(d: float) -> int:
    return (d > 0) - (d < 0)
