"""Weeks: their ISO labels and Mondays, which are published, and the rating mode and k of each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models.published import PublishedWeek


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def iso_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def published_weeks(session: Session) -> list[dt.date]:
    return list(session.scalars(select(PublishedWeek.week_start).order_by(PublishedWeek.week_start)))


def latest_week(session: Session) -> dt.date | None:
    weeks = session.scalars(
        select(PublishedWeek.week_start).order_by(PublishedWeek.week_start.desc()).limit(1)
    )
    return next(iter(weeks), None)


def week_modes(session: Session, first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
    """The published weeks from `first` to `last`, each with the rating mode its figures come from."""
    rows = session.execute(
        select(PublishedWeek.week_start, PublishedWeek.rating_mode)
        .where(PublishedWeek.week_start.between(first, last))
        .order_by(PublishedWeek.week_start)
    )
    return [(week, mode.value) for week, mode in rows]


def minimum_group_size(session: Session) -> int | None:
    """k as used for the latest published week."""
    return session.scalar(select(PublishedWeek.k).order_by(PublishedWeek.week_start.desc()).limit(1))
