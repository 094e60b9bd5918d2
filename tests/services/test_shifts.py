"""Which band and shift date a moment belongs to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from pulse.services.shifts import band_window, day_closes_at, open_shift, week_start

LONDON = ZoneInfo("Europe/London")
GRACE = dt.timedelta(hours=2)


@dataclass
class Band:
    id: int
    name: str
    start_time: dt.time
    end_time: dt.time


BANDS = [
    Band(1, "Early", dt.time(7, 0), dt.time(15, 0)),
    Band(2, "Late", dt.time(14, 30), dt.time(22, 30)),
    Band(3, "Night", dt.time(22, 0), dt.time(7, 30)),
]


def at(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=LONDON)


@pytest.mark.parametrize(
    ("moment", "band", "shift_date"),
    [
        (at("2026-11-18", "10:00"), "Early", "2026-11-18"),
        # Early and Late overlap: people rate as they leave, so the band that ends first wins.
        (at("2026-11-18", "14:45"), "Early", "2026-11-18"),
        # Early has ended but is within its grace period; still the Early.
        (at("2026-11-18", "16:30"), "Early", "2026-11-18"),
        (at("2026-11-18", "17:01"), "Late", "2026-11-18"),
        (at("2026-11-18", "23:30"), "Late", "2026-11-18"),
        (at("2026-11-19", "00:31"), "Night", "2026-11-18"),
        # A night shift is dated to the day it started, even after midnight.
        (at("2026-11-19", "06:59"), "Night", "2026-11-18"),
        (at("2026-11-19", "08:00"), "Night", "2026-11-18"),
        (at("2026-11-19", "09:31"), "Early", "2026-11-19"),
    ],
)
def test_open_shift_picks_band_and_date(moment: dt.datetime, band: str, shift_date: str) -> None:
    shift = open_shift(BANDS, moment, LONDON, GRACE)
    assert shift is not None
    assert (shift.band_name, shift.shift_date.isoformat()) == (band, shift_date)


def test_no_band_open_outside_bands_and_grace() -> None:
    day_only = [BANDS[0]]
    assert open_shift(day_only, at("2026-11-18", "06:59"), LONDON, GRACE) is None
    assert open_shift(day_only, at("2026-11-18", "17:00"), LONDON, GRACE) is None
    assert open_shift(day_only, at("2026-11-18", "16:59"), LONDON, GRACE) is not None


def test_zero_grace_closes_at_band_end() -> None:
    assert open_shift([BANDS[0]], at("2026-11-18", "15:00"), LONDON, dt.timedelta(0)) is None
    assert open_shift([BANDS[0]], at("2026-11-18", "14:59"), LONDON, dt.timedelta(0)) is not None


def test_night_across_clocks_going_back_lasts_an_hour_longer() -> None:
    # 25 October 2026: British Summer Time ends at 02:00, so the night of the 24th lasts 10.5 hours.
    start, end = band_window(BANDS[2], dt.date(2026, 10, 24), LONDON)
    assert end - start == dt.timedelta(hours=10, minutes=30)
    start, end = band_window(BANDS[2], dt.date(2026, 3, 28), LONDON)  # clocks go forward
    assert end - start == dt.timedelta(hours=8, minutes=30)


def test_time_zone_is_respected_for_utc_input() -> None:
    # 09:30 UTC in July is 10:30 in London: an Early shift of that day.
    shift = open_shift(BANDS, dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC), LONDON, GRACE)
    assert shift is not None and shift.band_name == "Early"


def test_week_start_is_iso_monday() -> None:
    assert week_start(dt.date(2026, 11, 22)) == dt.date(2026, 11, 16)  # Sunday
    assert week_start(dt.date(2026, 11, 16)) == dt.date(2026, 11, 16)
    assert week_start(dt.date(2027, 1, 1)) == dt.date(2026, 12, 28)  # ISO week 53 of 2026


def test_day_closes_after_the_night_and_its_grace() -> None:
    closes = day_closes_at(BANDS, dt.date(2026, 11, 18), LONDON, GRACE)
    assert closes == at("2026-11-19", "09:30").astimezone(dt.UTC)
