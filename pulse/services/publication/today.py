"""The organisation's "today so far": live, but only in steps of k or more new people (docs/anonymity.md A18).

Each shift band of today's shift date keeps its own chain of steps. A band's step is taken when k or more
people have rated in it since its last step; the figure shown is the sum of every band's latest step. Chains
inside a band nest (each step contains the one before), so publication can treat them as fixed sub-cells of
the band and hide what else it must around them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pulse.models import OrgShiftTally, TodaySnapshot
from pulse.published import latest_steps
from pulse.services.sql import insert_for
from pulse.services.tallies import org_shift_totals


def due_steps(session: Session, now: dt.datetime, tz: ZoneInfo, k: int) -> tuple[dt.date, list[dict]]:
    """Today's shift date, and the steps now due on it (reads only; usually none)."""
    today = now.astimezone(tz).date()
    steps = latest_steps(session, today)
    due = []
    for tally in org_shift_totals(session, OrgShiftTally.shift_date == today):
        previous = steps.get(tally.band_id)
        done = 0 if previous is None else previous.red + previous.amber + previous.green
        if tally.red + tally.amber + tally.green - done >= k:
            due.append(
                {
                    "shift_date": today,
                    "band_id": tally.band_id,
                    "step": 1 if previous is None else previous.step + 1,
                    "red": tally.red,
                    "amber": tally.amber,
                    "green": tally.green,
                }
            )
    return today, due


def take_due_steps(session: Session, now: dt.datetime, tz: ZoneInfo, k: int) -> dt.date:
    """Take every band's step that is due for today's shift date; returns that date. The caller commits."""
    today, due = due_steps(session, now, tz, k)
    if due:
        # A concurrent reader may have taken the same step: it holds the same figures, so nothing is lost.
        session.execute(insert_for(session, TodaySnapshot).on_conflict_do_nothing(), due)
    return today
