"""The open shift as a timeline: what a verified phone needs to choose which slot's token to spend."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from pulse.services.shift_timeline import slot_timeline, timeline_for_tokens, token_weeks
from pulse.services.shifts import UTC, open_shift
from tests.services.test_shifts import BANDS, GRACE, LONDON, at


def test_a_day_of_three_bands_in_order() -> None:
    spans = slot_timeline(BANDS, at("2026-11-18", "10:00"), at("2026-11-19", "10:00"), LONDON, GRACE)
    got = [(s.shift_date.isoformat(), s.band_name, s.starts, s.ends) for s in spans]
    assert got == [
        # Early ends at 15:00, closes for rating at 17:00; the Late wins from then, as it ends first.
        ("2026-11-18", "Early", at("2026-11-18", "10:00"), at("2026-11-18", "17:00")),
        ("2026-11-18", "Late", at("2026-11-18", "17:00"), at("2026-11-19", "00:30")),
        ("2026-11-18", "Night", at("2026-11-19", "00:30"), at("2026-11-19", "09:30")),
        ("2026-11-19", "Early", at("2026-11-19", "09:30"), at("2026-11-19", "10:00")),
    ]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=14 * 24 * 60 - 1))
def test_the_timeline_agrees_with_the_open_shift_at_every_moment(minutes: int) -> None:
    first = at("2026-11-16", "00:00")
    spans = slot_timeline(BANDS, first, first + dt.timedelta(days=14), LONDON, GRACE)
    moment = first + dt.timedelta(minutes=minutes)
    shift = open_shift(BANDS, moment, LONDON, GRACE)
    found = [s for s in spans if s.starts <= moment.astimezone(UTC) < s.ends]
    assert len(found) == 1
    assert shift is not None
    assert (found[0].shift_date, found[0].band_id) == (shift.shift_date, shift.band_id)


def test_spans_meet_without_gaps_or_repeats_when_bands_cover_the_day() -> None:
    spans = slot_timeline(BANDS, at("2026-11-16", "00:00"), at("2026-11-30", "00:00"), LONDON, GRACE)
    assert all(a.ends == b.starts for a, b in itertools.pairwise(spans))
    slots = [(s.shift_date, s.band_id) for s in spans]
    assert len(slots) == len(set(slots)), "each slot is one span"


def test_across_the_clocks_going_back() -> None:
    # 25 October 2026: British Summer Time ends at 02:00, so that night is an hour longer.
    spans = slot_timeline(BANDS, at("2026-10-24", "20:00"), at("2026-10-25", "12:00"), LONDON, GRACE)
    night = next(s for s in spans if s.band_name == "Night")
    assert night.ends - night.starts == dt.timedelta(hours=10)  # 00:30 BST to 09:30 GMT


def test_the_tokens_timeline_runs_to_the_end_of_next_week() -> None:
    now = at("2026-11-18", "10:00")
    this_week, next_week = token_weeks(now, LONDON)
    assert (this_week.isoformat(), next_week.isoformat()) == ("2026-11-16", "2026-11-23")
    spans = timeline_for_tokens(BANDS, now, LONDON, GRACE)
    assert spans[0].starts == now.astimezone(UTC) and spans[0].band_name == "Early"
    last = spans[-1]
    assert (last.shift_date.isoformat(), last.band_name) == ("2026-11-29", "Night")
    assert last.ends == at("2026-11-30", "09:30").astimezone(UTC)
    assert len(spans) == 2 * 21 - 6, "every slot from Wednesday's Early to next Sunday's Night"


def test_no_bands_no_timeline() -> None:
    assert slot_timeline([], at("2026-11-18", "10:00"), at("2026-11-19", "10:00"), LONDON, GRACE) == []
