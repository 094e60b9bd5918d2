"""Making Data Count SPC as NHSRplotthedots (ptd) codes it, the Wilson interval and the net score.

Expected values are worked out in the tests from the formulas (exact fractions where it matters), not read
back from the code; ptd's own snapshot is matched to its rounding, and a transliteration of ptd's rules is
compared with the module on random series.
"""

from __future__ import annotations

import datetime
import itertools
import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pulse.stats import (
    SpcChart,
    describe,
    net_score,
    p_chart,
    wilson_interval,
    xmr_chart,
)

# set.seed(123); rnorm(20), as in ptd's tests/testthat/test-ptd_spc_standard.R
RNORM = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774,
    1.71506499, 0.46091621, -1.26506123, -0.68685285, -0.44566197,
    1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113,
    1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip

# A clean baseline: mean 5 and every moving range 2, so with fix_after=12 the limits are 5 +- 5.32
# (-0.32, 10.32) and the two-in-three lines 5 +- 2 * (2.66 / 3) * 2 (1.4533, 8.5467), whatever follows.
BASE = [4.0, 6.0] * 6
UPPER = 5 + 2.66 * 2
NEAR_UPPER = 5 + 2 * (2.66 / 3) * 2
NEAR_LOWER = 5 - 2 * (2.66 / 3) * 2


def flagged(chart: SpcChart, rule: str) -> list[int]:
    return [p.index for p in chart.points if rule in p.rules]


def signals(chart: SpcChart) -> list[int]:
    return [p.index for p in chart.points if p.rules]


def weeks(n: int, first: datetime.date = datetime.date(2026, 1, 5)) -> list[datetime.date]:
    return [first + datetime.timedelta(weeks=i) for i in range(n)]


def exact_xmr(values: list[float]) -> tuple[Fraction, Fraction, Fraction]:
    """Mean and unscreened mean moving range in exact arithmetic, from the decimal values as written."""
    xs = [Fraction(str(v)) for v in values]
    ranges = [abs(b - a) for a, b in itertools.pairwise(xs)]
    return sum(xs, Fraction(0)) / len(xs), sum(ranges, Fraction(0)) / len(ranges), max(ranges)


# --- the XmR limits ----------


def test_rnorm_matches_ptd_snapshot_and_the_formula() -> None:
    chart = xmr_chart(RNORM, "up")
    (segment,) = chart.segments
    first = chart.points[0]
    # ptd's snapshot (tests/testthat/_snaps/ptd_spc.md): mean_col 0.142, lpl -3.01, upl 3.29, n 20, all
    # common cause.
    assert (round(_v(first.centre), 3), round(_v(first.lower), 2), round(_v(first.upper), 2)) == (
        0.142,
        -3.01,
        3.29,
    )
    assert [p.variation for p in chart.points] == ["common_cause"] * 20
    assert chart.variation == "common_cause"
    assert chart.trial_limits == (False,)
    assert segment.baseline == 20
    # By hand: no moving range reaches 3.267 x amr, so screening keeps them all.
    mean, amr, largest = exact_xmr(RNORM)
    assert largest < Fraction("3.267") * amr
    assert mean == Fraction("0.1416238035")
    assert float(amr) == pytest.approx(1.18533962315789474, rel=1e-15)
    assert segment.centre == pytest.approx(float(mean), rel=1e-15)
    assert segment.mean_moving_range == pytest.approx(float(amr), rel=1e-15)
    assert first.lower == pytest.approx(float(mean - Fraction("2.66") * amr), rel=1e-14)
    assert first.upper == pytest.approx(float(mean + Fraction("2.66") * amr), rel=1e-14)
    assert first.lower == pytest.approx(-3.0113795941, abs=1e-10)
    assert first.upper == pytest.approx(3.2946272011, abs=1e-10)


def test_a_point_beyond_the_2_sigma_line_with_neighbours_across_the_mean_is_not_two_in_three() -> None:
    # Week 18 of the rnorm series (-1.967) is beyond the lower 2-sigma line (-1.960) but its neighbours are
    # above the mean: ptd fixed exactly this (issue #143), so nothing is flagged.
    chart = xmr_chart(RNORM, "up")
    centre, upper = _v(chart.points[17].centre), _v(chart.points[17].upper)
    assert RNORM[17] < centre - (2 / 3) * (upper - centre)
    assert signals(chart) == []


def test_screening_drops_large_moving_ranges_once() -> None:
    # ptd's own screening test: rnorm(20) with the 15th value set to 10.
    values = list(RNORM)
    values[14] = 10.0
    mean, amr_all, _ = exact_xmr(values)
    xs = [Fraction(str(v)) for v in values]
    ranges = [abs(b - a) for a, b in itertools.pairwise(xs)]
    kept = [r for r in ranges if r < Fraction("3.267") * amr_all]
    assert len(kept) == len(ranges) - 2  # the two ranges into and out of the 10
    amr_kept = sum(kept) / len(kept)
    assert float(amr_all) == pytest.approx(1.97971, abs=1e-5)
    assert float(amr_kept) == pytest.approx(1.14777, abs=1e-5)

    screened = xmr_chart(values, "up")
    unscreened = xmr_chart(values, "up", screen_outliers=False)
    assert screened.segments[0].mean_moving_range == pytest.approx(float(amr_kept), rel=1e-14)
    assert unscreened.segments[0].mean_moving_range == pytest.approx(float(amr_all), rel=1e-14)
    assert screened.points[0].upper == pytest.approx(float(mean + Fraction("2.66") * amr_kept), rel=1e-14)
    assert unscreened.points[0].upper == pytest.approx(float(mean + Fraction("2.66") * amr_all), rel=1e-14)
    # The wider, unscreened limits still catch the 10, but only the screened ones are the MDC ones.
    assert flagged(screened, "outside_limits") == [14]
    assert screened.points[14].variation == "special_cause_improvement"


def test_a_constant_series_has_zero_width_limits_and_no_signal() -> None:
    chart = xmr_chart([3.0] * 12, "up")
    assert chart.segments[0].mean_moving_range == 0.0
    assert (chart.points[0].lower, chart.points[0].upper) == (3.0, 3.0)
    assert signals(chart) == []


# --- rule 1: outside the limits ----------


def test_a_point_on_or_just_inside_the_limit_is_common_and_just_outside_is_special() -> None:
    assert xmr_chart([*BASE, 4.0], "up", fix_after=12).points[0].upper == UPPER
    for value, outside in [(UPPER, False), (UPPER - 1e-9, False), (UPPER + 1e-9, True)]:
        chart = xmr_chart([*BASE, 4.0, value, 6.0], "up", fix_after=12)
        assert flagged(chart, "outside_limits") == ([13] if outside else [])
    low = xmr_chart([*BASE, 6.0, 5 - 2.66 * 2 - 1e-9, 4.0], "up", fix_after=12)
    assert flagged(low, "outside_limits") == [13]
    assert low.points[13].side == "low"
    assert low.points[13].variation == "special_cause_concern"


# --- rule 2: a shift ----------


def test_seven_on_one_side_is_a_shift_and_six_is_not() -> None:
    seven = [10, 0, 10, 0, 10, 0, 8, 9, 8, 9, 8, 9, 8, 0, 10, 0, 10, 0, 10]
    six = [10, 0, 10, 0, 10, 0, 8, 9, 8, 9, 8, 9, 0, 10, 0, 10, 0, 10]
    chart = xmr_chart([float(v) for v in seven], "up")
    assert all(v > _v(chart.points[0].centre) for v in seven[6:13])
    assert signals(chart) == flagged(chart, "shift") == list(range(6, 13))
    assert {chart.points[i].variation for i in range(6, 13)} == {"special_cause_improvement"}
    assert signals(xmr_chart([float(v) for v in six], "up")) == []


def test_a_point_on_the_mean_breaks_a_shift() -> None:
    # Symmetric about 5, so the mean is exactly 5.0 and the middle point sits on it.
    above, below, gap = [8, 9, 8, 9, 5, 8, 9, 8], [2, 1, 2, 1, 5, 2, 1, 2], [0, 10, 0, 10]
    broken = xmr_chart([float(v) for v in [*above, *gap, *below]], "up")
    assert broken.points[0].centre == 5.0
    assert signals(broken) == []
    above[4], below[4] = 8, 2
    whole = xmr_chart([float(v) for v in [*above, *gap, *below]], "up")
    assert whole.points[0].centre == 5.0
    assert flagged(whole, "shift") == [*range(0, 8), *range(12, 20)]
    assert whole.points[0].variation == "special_cause_improvement"
    assert whole.points[19].variation == "special_cause_concern"


# --- rule 3: a trend ----------


def test_seven_rising_values_are_a_trend_and_six_are_not() -> None:
    # ptd: "7 points" means 7 values, 6 rises (ptd_seven_point_trend(1:7) flags, 1:6 does not).
    seven = xmr_chart([0, 10, 0, 10, 1, 2, 3, 4, 5, 6, 7, 0, 10, 0, 10], "up")
    assert signals(seven) == flagged(seven, "trend") == list(range(4, 11))
    # ptd classifies a trend by its direction, not by the side of the mean: all seven are improvement.
    assert _v(seven.points[4].value) < _v(seven.points[4].centre) < _v(seven.points[10].value)
    assert {seven.points[i].variation for i in range(4, 11)} == {"special_cause_improvement"}
    six = xmr_chart([0, 10, 0, 10, 1, 2, 3, 4, 5, 6, 0, 10, 0, 10], "up")
    assert signals(six) == []


def test_a_tie_breaks_a_trend() -> None:
    tied = xmr_chart([0, 10, 0, 10, 1, 2, 3, 4, 4, 5, 6, 7, 0, 10, 0, 10], "up")
    assert signals(tied) == []
    rising = xmr_chart([0, 10, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 0, 10], "up")
    assert flagged(rising, "trend") == list(range(4, 12))


def test_a_trend_outranks_two_in_three_and_a_shift_as_in_ptd() -> None:
    # Seven falling points all above the mean and near the upper limit: shift, two-in-three and trend at once.
    # ptd labels by precedence (limits, trend, two-in-three, shift), so they are a falling trend: concern.
    falling = [10.3, 10.2, 10.1, 10.0, 9.9, 9.8, 9.7]
    chart = xmr_chart([*BASE, *falling], "up", fix_after=12)
    assert all(NEAR_UPPER < v < UPPER for v in falling)
    assert {rule for i in range(12, 19) for rule in chart.points[i].rules} == {
        "trend",
        "two_in_three",
        "shift",
    }
    assert {chart.points[i].variation for i in range(12, 19)} == {"special_cause_concern"}


def test_a_falling_trend_is_concern_when_up_is_better() -> None:
    chart = xmr_chart([10, 0, 10, 0, 9, 8, 7, 6, 5, 4, 3, 10, 0, 10, 0], "up")
    assert flagged(chart, "trend") == list(range(4, 11))
    assert {chart.points[i].side for i in range(4, 11)} == {"low"}
    assert {chart.points[i].variation for i in range(4, 11)} == {"special_cause_concern"}


def test_the_peak_of_a_rise_then_a_fall_takes_the_fall() -> None:
    # ptd: "if a point is part of a trend either side, use right side". Wide limits keep the peak inside.
    wide = [0.0, 20.0] * 6
    chart = xmr_chart([*wide, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1], "up", fix_after=12)
    assert flagged(chart, "trend") == list(range(12, 25))
    assert flagged(chart, "outside_limits") == []
    assert [p.side for p in chart.points[12:]] == ["high"] * 6 + ["low"] * 7
    assert chart.points[18].variation == "special_cause_concern"


def test_a_flat_step_between_two_trends_keeps_each_points_own_trend() -> None:
    # A deliberate difference from ptd: there the first 7 takes the sign of the flat step to its right (0),
    # which ptd labels "Decreasing"; here it keeps the rise it ends.
    wide = [0.0, 20.0] * 6
    chart = xmr_chart([*wide, 1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1], "up", fix_after=12)
    assert flagged(chart, "trend") == list(range(12, 26))
    assert (chart.points[18].side, chart.points[19].side) == ("high", "low")


# --- rule 4: two in three ----------


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ([4, 9, 6, 9, 4, 6], [13, 15]),  # 2 of 3 beyond the line, all above the mean: the two are flagged
        ([4, 9, 9, 9, 4, 6], [13, 14, 15]),  # 3 of 3
        ([4, 9, 4, 1, 6, 4], []),  # beyond the lines but on opposite sides
        ([4, 9, 6, 6, 4, 6], []),  # only 1 of 3
        ([4, 9, 5, 9, 4, 6], []),  # the third point is on the mean: not all on one side
        ([4, 11, 6, 9, 4, 6], []),  # a point outside the limits does not count as near them
    ],
)
def test_two_in_three(tail: list[float], expected: list[int]) -> None:
    assert NEAR_UPPER < 9 < UPPER and NEAR_LOWER > 1
    chart = xmr_chart([*BASE, *tail], "up", fix_after=12)
    assert flagged(chart, "two_in_three") == expected
    assert signals(chart) == (expected if 11 not in tail else [13])


def test_two_in_three_flags_concern_below_when_up_is_better() -> None:
    chart = xmr_chart([*BASE, 6, 1, 4, 1, 6], "up", fix_after=12)
    assert flagged(chart, "two_in_three") == [13, 15]
    assert chart.points[15].variation == "special_cause_concern"


# --- gaps ----------


def test_moving_ranges_are_not_taken_across_a_gap() -> None:
    chart = xmr_chart([1.0, 3.0, None, 10.0, 12.0], "up")
    (segment,) = chart.segments
    assert segment.mean_moving_range == 2.0  # |3-1| and |12-10|, never |10-3|
    assert segment.centre == 6.5
    assert segment.baseline == 4
    gap = chart.points[2]
    assert (gap.value, gap.rules, gap.variation, gap.side) == (None, frozenset(), None, None)
    assert (gap.centre, gap.lower, gap.upper) == (6.5, 6.5 - 5.32, 6.5 + 5.32)


def test_a_gap_breaks_a_shift() -> None:
    above, below, gap = [8, 9, 8, 9, None, 8, 9, 8], [2, 1, 2, 1, None, 2, 1, 2], [0, 10, 0, 10]
    chart = xmr_chart([*above, *gap, *below], "up")
    assert chart.points[0].centre == 5.0
    assert signals(chart) == []


def test_a_gap_breaks_a_trend() -> None:
    assert signals(xmr_chart([0, 10, 0, 10, 1, 2, 3, None, 4, 5, 6, 7, 0, 10, 0, 10], "up")) == []


def test_a_gap_breaks_two_in_three() -> None:
    assert signals(xmr_chart([*BASE, 4, 9, None, 9, 4, 6], "up", fix_after=12)) == []


def test_the_summary_icon_comes_from_the_last_point_with_a_value() -> None:
    spike = xmr_chart([*BASE, 12.0, None, None], "up", fix_after=12)
    assert spike.variation == "special_cause_improvement"
    later = xmr_chart([*BASE, 12.0, 4.0, 6.0], "up", fix_after=12)
    assert later.points[12].variation == "special_cause_improvement"
    assert later.variation == "common_cause"
    assert xmr_chart([None, None], "up").variation is None


# --- rebasing and fixed limits ----------


def test_a_rebase_gives_each_segment_its_own_limits() -> None:
    values = [*BASE, *[v + 45 for v in BASE]]
    rebased = xmr_chart(values, "up", rebase_at=[12])
    assert [(s.start, s.stop, s.centre, s.mean_moving_range) for s in rebased.segments] == [
        (0, 12, 5.0, 2.0),
        (12, 24, 50.0, 2.0),
    ]
    assert [p.segment for p in rebased.points] == [0] * 12 + [1] * 12
    assert signals(rebased) == []
    assert signals(xmr_chart(values, "up")) == list(range(24))


def test_runs_do_not_cross_a_rebase() -> None:
    before, after = [2, 1, 2, 1, 8, 9, 8, 9], [9, 8, 9, 1, 2, 1, 2, 8]  # each averages 5: 4 + 3 above
    whole = xmr_chart([*before, *after], "up")
    assert flagged(whole, "shift") == list(range(4, 11))
    assert flagged(xmr_chart([*before, *after], "up", rebase_at=[8]), "shift") == []


def test_fix_after_fixes_the_limits_from_the_first_points() -> None:
    values = [*BASE, *[v + 10 for v in BASE]]
    fixed = xmr_chart(values, "up", fix_after=12)
    assert (fixed.segments[0].centre, fixed.segments[0].baseline) == (5.0, 12)
    assert fixed.trial_limits == (False,)
    assert flagged(fixed, "outside_limits") == list(range(12, 24))  # 14 and 16 against 5 +- 5.32
    assert flagged(fixed, "shift") == list(range(11, 24))  # the baseline's last 6 is above 5 too
    assert xmr_chart(values, "up").segments[0].centre == 10.0
    assert xmr_chart(values, "up", fix_after=11).trial_limits == (True,)


def test_fix_after_counts_data_points_not_gaps() -> None:
    chart = xmr_chart([4.0, None, 6.0, 4.0, 6.0, 40.0], "up", fix_after=3)
    assert chart.segments[0].baseline == 3
    assert chart.segments[0].centre == pytest.approx(14 / 3)
    assert chart.segments[0].mean_moving_range == 2.0  # only 6 -> 4: 4 and 6 are not adjacent


def test_fewer_than_twelve_points_give_trial_limits_per_segment() -> None:
    assert xmr_chart([4.0, 6.0] * 5 + [4.0], "up").trial_limits == (True,)
    assert xmr_chart([4.0, 6.0] * 6, "up").trial_limits == (False,)
    assert xmr_chart([4.0, 6.0, None] * 4, "up").trial_limits == (True,)  # 8 data points in 12 weeks
    assert xmr_chart([4.0, 6.0] * 10, "up", rebase_at=[12]).trial_limits == (False, True)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="rebase"):
        xmr_chart([1.0, 2.0], "up", rebase_at=[2])
    with pytest.raises(ValueError, match="direction"):
        xmr_chart([1.0, 2.0], "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fix_after"):
        xmr_chart([1.0, 2.0], "up", fix_after=0)
    with pytest.raises(ValueError, match="finite"):
        xmr_chart([1.0, math.nan], "up")
    with pytest.raises(ValueError, match="between"):
        p_chart([3], [2], "down")


# --- classification ----------


@pytest.mark.parametrize(
    ("direction", "high", "low"),
    [
        ("up", "special_cause_improvement", "special_cause_concern"),
        ("down", "special_cause_concern", "special_cause_improvement"),
        ("neutral", "special_cause_neutral", "special_cause_neutral"),
    ],
)
def test_classification_follows_the_direction(direction: str, high: str, low: str) -> None:
    chart = xmr_chart([*BASE, 12.0, 4.0, -2.0, 6.0], direction, fix_after=12)  # type: ignore[arg-type]
    assert (chart.points[12].side, chart.points[14].side) == ("high", "low")
    assert (chart.points[12].variation, chart.points[14].variation) == (high, low)
    assert chart.points[13].variation == "common_cause"


@pytest.mark.parametrize(
    ("direction", "target", "assurance"),
    [
        ("up", 11.0, "consistent_fail"),
        ("up", -1.0, "consistent_pass"),
        ("up", 7.0, "inconsistent"),
        ("down", 11.0, "consistent_pass"),
        ("down", -1.0, "consistent_fail"),
        ("neutral", 11.0, None),
        ("up", None, None),
    ],
)
def test_assurance_compares_the_target_with_the_latest_limits(
    direction: str, target: float | None, assurance: str | None
) -> None:
    chart = xmr_chart(BASE, direction, target=target)  # type: ignore[arg-type]
    assert chart.assurance == assurance


# --- the p-chart ----------


def test_p_chart_limits_vary_with_n_and_are_clipped_at_zero() -> None:
    chart = p_chart([2, 5, 20, None, 3], [10, 50, 200, 40, 0], "down")
    p = 27 / 260
    assert chart.segments[0].centre == pytest.approx(p)
    assert chart.segments[0].baseline == 3
    for i, n in [(0, 10), (1, 50), (2, 200)]:
        sigma = math.sqrt(p * (1 - p) / n)
        point = chart.points[i]
        assert point.upper == pytest.approx(p + 3 * sigma)
        assert point.lower == pytest.approx(max(0.0, p - 3 * sigma))
    assert chart.points[0].lower == 0.0  # p - 3 sigma = -0.186 at n = 10
    assert chart.points[2].lower == pytest.approx(0.0391, abs=1e-4)
    for gap in chart.points[3:]:  # no count, and a total of 0, are both gaps
        assert (gap.value, gap.lower, gap.upper, gap.variation) == (None, None, None, None)


def test_p_chart_assurance_uses_the_last_point_with_limits() -> None:
    chart = p_chart([10] * 12 + [None], [100] * 12 + [None], "down", target=0.2)
    assert chart.points[-1].upper is None
    assert chart.assurance == "consistent_pass"  # 0.2 is above the upper limit, 0.19, and down is better


def test_p_chart_clips_at_one() -> None:
    chart = p_chart([9, 10], [10, 10], "up")
    assert chart.points[0].upper == 1.0


def test_p_chart_rules_use_each_points_own_limits() -> None:
    base_counts, base_totals = [10] * 12, [100] * 12  # p = 0.1, sigma = 0.03 at n = 100
    # 0.17 at n = 100 is beyond 2 sigma (0.16) but inside 3 (0.19); at n = 400 it is beyond 3 sigma (0.115).
    chart = p_chart([*base_counts, 17, 11, 17], [*base_totals, 100, 100, 100], "down", fix_after=12)
    assert flagged(chart, "two_in_three") == [12, 14]
    assert chart.points[14].variation == "special_cause_concern"
    big = p_chart([*base_counts, 68], [*base_totals, 400], "down", fix_after=12)
    assert flagged(big, "outside_limits") == [12]
    shift = p_chart([*base_counts, *[12] * 7], [*base_totals, *[100] * 7], "down", fix_after=12)
    assert flagged(shift, "shift") == list(range(12, 19))


# --- the Wilson interval and the net score ----------


@pytest.mark.parametrize(
    ("successes", "n", "lower", "upper"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (the score interval)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(successes: int, n: int, lower: float, upper: float) -> None:
    low, high = wilson_interval(successes, n)
    assert (round(low, 4), round(high, 4)) == (lower, upper)


def test_wilson_interval_edges() -> None:
    z = 1.959964
    assert wilson_interval(0, 10) == (0.0, pytest.approx(z * z / (10 + z * z)))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_net_score_and_its_standard_error() -> None:
    score, se = net_score(red=2, amber=3, green=5)
    assert score == pytest.approx(30.0)
    # By hand: p_g = 0.5, p_r = 0.2, var = (0.7 - 0.3^2) / 10 = 0.061
    assert se == pytest.approx(100 * math.sqrt(0.061))
    assert se == pytest.approx(24.698, abs=1e-3)
    assert net_score(0, 0, 7) == (100.0, 0.0)
    assert net_score(4, 0, 4) == (0.0, pytest.approx(100 * math.sqrt(1 / 8)))
    with pytest.raises(ValueError):
        net_score(0, 0, 0)


# --- the plain-English reading ----------


def test_describe_common_cause() -> None:
    assert (
        describe(xmr_chart(RNORM, "up"), weeks(20))
        == "Common cause variation: no signal in the last 20 weeks."
    )
    after = xmr_chart([*BASE, 12.0, 4.0, 6.0, None], "up", fix_after=12)
    assert describe(after, weeks(16)) == "Common cause variation: no signal in the last 2 weeks."
    just = xmr_chart([*BASE, 12.0, 4.0], "up", fix_after=12)
    assert describe(just, weeks(14)) == "Common cause variation: no signal in the last week."
    assert describe(xmr_chart(BASE[:11], "up"), weeks(11)) == (
        "Common cause variation: no signal in the last 11 weeks (trial limits)."
    )


def test_describe_special_causes() -> None:
    first = datetime.date(2025, 12, 9)  # so that week 12 is 3 March 2026
    assert weeks(13, first)[12] == datetime.date(2026, 3, 3)
    shift = xmr_chart([*BASE, *[4.5] * 7], "up", fix_after=12)
    assert (
        describe(shift, weeks(19, first))
        == "Special cause of concern: 7 weeks below average since 3 March 2026."
    )
    spike = xmr_chart([*BASE, 12.0], "up", fix_after=12)
    assert describe(spike, weeks(13, first)) == (
        "Special cause of improvement: a point above the upper process limit in the week of 3 March 2026."
    )
    trend = xmr_chart([*BASE, 3.5, 4, 4.5, 5.5, 6, 6.5, 7, 7.5], "up", fix_after=12)
    assert describe(trend, weeks(20, first)) == (
        "Special cause of improvement: 8 weeks rising in a row since 3 March 2026."
    )
    near = xmr_chart([*BASE, 9, 6, 9], "down", fix_after=12)
    assert describe(near, weeks(15, first)) == (
        "Special cause of concern: 2 of the last 3 weeks near the upper process limit."
    )
    neutral = xmr_chart([*BASE, *[4.5] * 7], "neutral", fix_after=6)
    assert describe(neutral, weeks(19, first)) == (
        "Special cause variation: 7 weeks below average since 3 March 2026 (trial limits)."
    )


def test_describe_without_data_and_with_the_wrong_dates() -> None:
    assert describe(xmr_chart([None, None], "up"), weeks(2)) == "No data yet."
    with pytest.raises(ValueError):
        describe(xmr_chart(BASE, "up"), weeks(3))


def test_describe_names_the_rule_by_ptds_precedence() -> None:
    rising = xmr_chart([*BASE, 3, 4, 5, 6, 7, 8.6, 9], "up", fix_after=12)
    assert flagged(rising, "two_in_three") == [17, 18]
    assert (
        describe(rising, weeks(19))
        == "Special cause of improvement: 7 weeks rising in a row since 30 March 2026."
    )


def test_describe_counts_weeks_with_data_since_the_last_signal() -> None:
    chart = xmr_chart([*BASE, 12.0, 4.0, None, 6.0], "up", fix_after=12)
    assert describe(chart, weeks(16)) == "Common cause variation: no signal in the last 2 weeks."


# --- properties ----------

series = st.lists(st.one_of(st.none(), st.integers(-50, 50)), min_size=2, max_size=40)
# Random walks, so that shifts and trends are common rather than rare.
walks = st.lists(st.integers(-3, 3), min_size=2, max_size=40).map(
    lambda steps: list(itertools.accumulate(steps))
)


@given(series)
def test_limits_are_symmetric_about_the_mean(values: list[int | None]) -> None:
    for point in xmr_chart(values, "up").points:
        if point.lower is not None:
            assert _v(point.upper) - _v(point.centre) == pytest.approx(
                _v(point.centre) - point.lower, abs=1e-9
            )


def _clear_of_lines(chart: SpcChart) -> bool:
    """No value within a rounding error of a line, where adding a constant could tip a comparison."""
    for p in chart.points:
        if p.value is None or p.upper is None:
            continue
        centre, half = _v(p.centre), _v(p.upper) - _v(p.centre)
        lines = [centre + k * half for k in (-1, -2 / 3, 2 / 3, 1)]
        if any(abs(p.value - line) < 1e-6 for line in lines):
            return False
    return True


@given(series, st.integers(-1000, 1000))
def test_adding_a_constant_moves_the_lines_but_not_the_signals(values: list[int | None], c: int) -> None:
    chart = xmr_chart(values, "up")
    moved = xmr_chart([None if v is None else v + c for v in values], "up")
    assume(_clear_of_lines(chart) and _clear_of_lines(moved))
    for a, b in zip(chart.points, moved.points, strict=True):
        assert (a.rules, a.variation, a.side) == (b.rules, b.variation, b.side)
        if a.upper is not None:
            assert _v(b.centre) == pytest.approx(_v(a.centre) + c, abs=1e-9)
            assert _v(b.upper) == pytest.approx(a.upper + c, abs=1e-9)
            assert _v(b.lower) == pytest.approx(_v(a.lower) + c, abs=1e-9)


@given(series, st.floats(0.001, 1000), st.integers(-10, 10))
def test_scaling_scales_the_limits(values: list[int | None], factor: float, power: int) -> None:
    chart = xmr_chart(values, "up")
    scaled = xmr_chart([None if v is None else v * factor for v in values], "up")
    for a, b in zip(chart.points, scaled.points, strict=True):
        if a.upper is not None:
            assert _v(b.upper) == pytest.approx(a.upper * factor, rel=1e-9, abs=1e-9)
            assert _v(b.lower) == pytest.approx(_v(a.lower) * factor, rel=1e-9, abs=1e-9)
    # Scaling by a power of two is exact in floating point, so every comparison and signal is unchanged.
    exact = xmr_chart([None if v is None else v * 2.0**power for v in values], "up")
    assert [(p.rules, p.variation) for p in exact.points] == [(p.rules, p.variation) for p in chart.points]


@given(series)
def test_mirroring_the_values_and_the_direction_changes_nothing(values: list[int | None]) -> None:
    up = xmr_chart(values, "up")
    down = xmr_chart([None if v is None else -v for v in values], "down")
    assert [(p.rules, p.variation) for p in up.points] == [(p.rules, p.variation) for p in down.points]


@given(walks)
def test_rules_match_a_transliteration_of_ptd(values: list[int]) -> None:
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    assume(sum(ranges) > 0)  # ptd's screening turns a flat series into NaN limits
    expected = ptd_point_types(values, 1)
    chart = xmr_chart(values, "up")
    for point, ptd in zip(chart.points, expected, strict=True):
        if ptd != "ambiguous":
            assert point.variation == ptd


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=30))
def test_p_chart_limits_stay_in_zero_to_one_around_the_centre(pairs: list[tuple[int, int]]) -> None:
    counts = [min(c, n) for c, n in pairs]
    totals = [n for _, n in pairs]
    for point in p_chart(counts, totals, "down").points:
        if point.lower is not None:
            assert 0.0 <= point.lower <= _v(point.centre) <= _v(point.upper) <= 1.0


@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_interval_contains_the_share_and_mirrors(a: int, b: int) -> None:
    successes, n = min(a, b), max(a, b)
    assume(n > 0)
    low, high = wilson_interval(successes, n)
    assert 0.0 <= low <= successes / n <= high <= 1.0
    mirror_low, mirror_high = wilson_interval(n - successes, n)
    assert low == pytest.approx(1 - mirror_high, abs=1e-12)
    assert high == pytest.approx(1 - mirror_low, abs=1e-12)


@given(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100))
def test_net_score_se_is_the_se_of_the_mean_rating_score(red: int, amber: int, green: int) -> None:
    assume(red + amber + green > 0)
    score, se = net_score(red, amber, green)
    ratings = [-100] * red + [0] * amber + [100] * green
    assert score == pytest.approx(statistics.fmean(ratings), abs=1e-9)
    assert se == pytest.approx(math.sqrt(statistics.pvariance(ratings) / len(ratings)), abs=1e-9)
    assert -100 <= score <= 100


# --- helpers ----------


def _v(value: float | None) -> float:
    assert value is not None
    return value


def _sign(d: float) -> int:
    return (d > 0) - (d < 0)


def ptd_point_types(y: list[int], improvement: int) -> list[str]:
    """ptd's ptd_spc_standard + ptd_special_cause_type + ptd_point_type for one gap-free group, restated.

    Returns "ambiguous" for a trend point whose right-hand step is flat, which ptd labels "Decreasing"
    whatever the trend (the module gives it the trend it belongs to).
    """
    n = len(y)
    mean = statistics.fmean(y)
    mr = [abs(b - a) for a, b in itertools.pairwise(y)]
    amr = statistics.fmean(mr)
    amr = statistics.fmean([r for r in mr if r < 3.267 * amr])
    lpl, upl = mean - 2.66 * amr, mean + 2.66 * amr
    nlpl, nupl = mean - 2 * (2.66 / 3) * amr, mean + 2 * (2.66 / 3) * amr
    outside = [v > upl or v < lpl for v in y]
    rtm = [_sign(v - mean) for v in y]
    close = [not o and (v < nlpl or v > nupl) for v, o in zip(y, outside, strict=True)]

    def part_of_seven(ends: list[int]) -> list[bool]:
        return [any(ends[j] != 0 for j in range(i, min(i + 7, n))) for i in range(n)]

    side_ends = [
        int(i >= 6 and rtm[i] != 0 and all(rtm[j] == rtm[i] for j in range(i - 6, i))) for i in range(n)
    ]
    trend_ends = [0] * n
    for i in range(6, n):
        steps = {_sign(y[j + 1] - y[j]) for j in range(i - 6, i)}
        trend_ends[i] = 1 if steps == {1} else -1 if steps == {-1} else 0
    shift, trend = part_of_seven(side_ends), part_of_seven(trend_ends)
    cp, rp = [0, 0, *close, 0, 0], [0, 0, *rtm, 0, 0]
    two = [
        close[i]
        and any(sum(cp[i + k : i + k + 3]) >= 2 and abs(sum(rp[i + k : i + k + 3])) == 3 for k in range(3))
        for i in range(n)
    ]
    result = []
    for i in range(n):
        right = trend[i] and i + 1 < n and trend[i + 1]
        sdy = _sign(y[i + 1] - y[i]) if right else (_sign(y[i] - y[i - 1]) if i else 0)
        if outside[i]:
            v = 1 if rtm[i] == 1 else -1
        elif trend[i]:
            if sdy == 0:
                result.append("ambiguous")
                continue
            v = sdy
        elif two[i] or shift[i]:
            v = 1 if rtm[i] > 0 else -1
        else:
            result.append("common_cause")
            continue
        result.append("special_cause_improvement" if v * improvement > 0 else "special_cause_concern")
    return result


def test_an_empty_series_is_an_empty_chart() -> None:
    for chart in (xmr_chart([], "up"), p_chart([], [], "down")):
        assert chart.points == () and chart.variation is None
