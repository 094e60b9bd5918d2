"""Shift arithmetic: which band and shift date a moment belongs to, in the organisation's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

UTC = dt.UTC


class BandLike(Protocol):
    id: int
    name: str
    start_time: dt.time
    end_time: dt.time


@dataclass(frozen=True)
class Shift:
    band_id: int
    band_name: str
    shift_date: dt.date
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime  # UTC


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week holding `day`."""
    return day - dt.timedelta(days=day.weekday())


def band_window(band: BandLike, shift_date: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (UTC) of `band` on `shift_date`. A band that crosses midnight ends the next day."""
    end_date = shift_date + dt.timedelta(days=1) if band.end_time <= band.start_time else shift_date
    start = dt.datetime.combine(shift_date, band.start_time, tzinfo=tz).astimezone(UTC)
    end = dt.datetime.combine(end_date, band.end_time, tzinfo=tz).astimezone(UTC)
    return start, end


def open_shift(
    bands: Iterable[BandLike], now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta
) -> Shift | None:
    """The shift a rating made at `now` belongs to, or None when no band is open.

    A band is open from its start until its end plus the grace period. People rate as they leave, so where
    bands overlap (a Late that starts before the Early ends) the band that ends first wins; a tie goes to the
    band that started first.
    """
    now_utc = now.astimezone(UTC)
    local_today = now_utc.astimezone(tz).date()
    candidates: list[Shift] = []
    for band in bands:
        for offset in (-1, 0):
            shift_date = local_today + dt.timedelta(days=offset)
            start, end = band_window(band, shift_date, tz)
            if start <= now_utc < end + grace:
                candidates.append(Shift(band.id, band.name, shift_date, start, end))
    if not candidates:
        return None
    return min(candidates, key=lambda s: (s.ends_at, s.starts_at, s.band_id))


def day_closes_at(
    bands: Iterable[BandLike], shift_date: dt.date, tz: ZoneInfo, grace: dt.timedelta
) -> dt.datetime:
    """The moment (UTC) after which no rating can be dated to `shift_date` any more."""
    ends = [band_window(band, shift_date, tz)[1] for band in bands]
    latest = (
        max(ends) if ends else dt.datetime.combine(shift_date + dt.timedelta(days=2), dt.time(), tzinfo=tz)
    )
    return latest + grace
