"""Today so far: the steps of each band's chain that may be shown under the k in force, and their sum."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from itertools import groupby

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse.colours import COLOURS
from pulse.models.published import PublishedWeek, TodaySnapshot
from pulse.published.figures import describe_figures
from pulse.published.weeks import iso_monday


def shown_steps(chain: Sequence[TodaySnapshot], k: int) -> list[TodaySnapshot]:
    """The steps of one band's chain that may be shown under minimum group size `k`.

    Steps are taken in increments of the k in force at the time. When k has been raised since, the steps
    taken under the smaller k would show groups below the k they now stand under (a week is labelled with
    the k it was published with; today's steps with the k in force). So only a sub-chain is shown: the last
    step (publication keeps what follows it at 0 or at least k), then going back, each step at least k
    below the one shown after it, the first of them at least k. Every group shown is then at least k.
    """
    shown: list[TodaySnapshot] = []
    for snap in reversed(chain):
        ratings = step_ratings(snap)
        if ratings < k:
            break  # every earlier step is smaller still
        if not shown or step_ratings(shown[-1]) - ratings >= k:
            shown.append(snap)
    return shown[::-1]


def step_ratings(snap: TodaySnapshot) -> int:
    return snap.red + snap.amber + snap.green


def shown_today_steps(session: Session, labels: dict[dt.date, int], k: int) -> Iterator[TodaySnapshot]:
    """Every band's shown steps, by shift date and band; a published week's steps under that week's k."""
    rows = session.scalars(
        select(TodaySnapshot).order_by(TodaySnapshot.shift_date, TodaySnapshot.band_id, TodaySnapshot.step)
    )
    for (day, _band), chain in groupby(rows, key=lambda s: (s.shift_date, s.band_id)):
        yield from shown_steps(list(chain), labels.get(iso_monday(day), k))


def latest_steps(session: Session, day: dt.date) -> dict[int, TodaySnapshot]:
    """Each band's latest "today so far" step on shift date `day`."""
    last = (
        select(TodaySnapshot.band_id, func.max(TodaySnapshot.step).label("step"))
        .where(TodaySnapshot.shift_date == day)
        .group_by(TodaySnapshot.band_id)
        .subquery()
    )
    rows = session.scalars(
        select(TodaySnapshot)
        .join(last, (TodaySnapshot.band_id == last.c.band_id) & (TodaySnapshot.step == last.c.step))
        .where(TodaySnapshot.shift_date == day)
    )
    return {row.band_id: row for row in rows}


def today_figures(session: Session, day: dt.date, k: int) -> dict:
    """The organisation's "today so far": the sum of each band's latest step that may be shown under `k`, the
    minimum group size in force (empty until the first such step)."""
    label = session.scalar(select(PublishedWeek.k).where(PublishedWeek.week_start == iso_monday(day)))
    steps = [chain[-1] for chain in _chains(session, day, label or k) if chain]
    if not steps:
        return {"shift_date": day, **describe_figures(None, None, None, None)}
    red, amber, green = (sum(getattr(s, c) for s in steps) for c in COLOURS)
    # One rating per device per shift, so within a day's bands ratings and people agree (kiosks aside).
    return {"shift_date": day, **describe_figures(red, amber, green, red + amber + green)}


def _chains(session: Session, day: dt.date, k: int) -> list[list[TodaySnapshot]]:
    rows = session.scalars(
        select(TodaySnapshot)
        .where(TodaySnapshot.shift_date == day)
        .order_by(TodaySnapshot.band_id, TodaySnapshot.step)
    )
    return [shown_steps(list(chain), k) for _band, chain in groupby(rows, key=lambda s: s.band_id)]
