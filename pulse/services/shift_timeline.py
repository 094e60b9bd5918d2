"""When each shift slot is the one a rating counts for: the open shift (shifts.open_shift) as a timeline.

A phone in verified mode holds one token per slot and has to choose, when someone taps, which slot's token to
spend, offline too. The rating page carries this timeline so that the phone makes the same choice as the
server's clock would (the server still decides, and names the open slot when the phone chose another).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pulse.services.shifts import UTC, BandLike, band_window, open_shift, week_start


@dataclass(frozen=True)
class SlotSpan:
    """From `starts` (inclusive) to `ends` (exclusive), a rating counts for this band on this shift date."""

    shift_date: dt.date
    band_id: int
    band_name: str
    starts: dt.datetime  # UTC
    ends: dt.datetime  # UTC


def slot_timeline(
    bands: Sequence[BandLike], first: dt.datetime, last: dt.datetime, tz: ZoneInfo, grace: dt.timedelta
) -> list[SlotSpan]:
    """The open shift from `first` to `last`, as spans in time order; no span where no band is open.

    The open shift only changes where a band opens or closes for rating, so it is looked up once between
    each two such moments, and neighbouring pieces of the same slot are joined.
    """
    first, last = first.astimezone(UTC), last.astimezone(UTC)
    if not bands or last <= first:
        return []
    moments = {first, last}
    day = first.astimezone(tz).date() - dt.timedelta(days=1)
    while day <= last.astimezone(tz).date():
        for band in bands:
            start, end = band_window(band, day, tz)
            moments.update(m for m in (start, end + grace) if first < m < last)
        day += dt.timedelta(days=1)
    ordered = sorted(moments)
    spans: list[SlotSpan] = []
    for starts, ends in itertools.pairwise(ordered):
        shift = open_shift(bands, starts, tz, grace)
        if shift is None:
            continue
        previous = spans[-1] if spans else None
        if (
            previous is not None
            and previous.ends == starts
            and (previous.shift_date, previous.band_id) == (shift.shift_date, shift.band_id)
        ):
            spans[-1] = SlotSpan(shift.shift_date, shift.band_id, shift.band_name, previous.starts, ends)
        else:
            spans.append(SlotSpan(shift.shift_date, shift.band_id, shift.band_name, starts, ends))
    return spans


def token_weeks(now: dt.datetime, tz: ZoneInfo) -> tuple[dt.date, dt.date]:
    """The ISO weeks (Mondays) whose tokens a phone may fetch at `now`: this week and the next."""
    this_week = week_start(now.astimezone(tz).date())
    return this_week, this_week + dt.timedelta(days=7)


def timeline_for_tokens(
    bands: Sequence[BandLike], now: dt.datetime, tz: ZoneInfo, grace: dt.timedelta
) -> list[SlotSpan]:
    """The timeline a phone needs now: from `now` until every slot of next week has closed for rating."""
    _, next_week = token_weeks(now, tz)
    last_day = next_week + dt.timedelta(days=6)
    # A night shift of the last Sunday closes for rating on the Monday after, plus the grace period.
    after = dt.datetime.combine(last_day + dt.timedelta(days=2), dt.time(), tzinfo=tz) + grace
    return [span for span in slot_timeline(bands, now, after, tz, grace) if span.shift_date <= last_day]
