"""Published figures over time and side by side: a unit's weeks, the departments' weeks, the days of the
organisation by band, reason counts, one week's units and a department's teams by week."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pulse.models.published import Level, PublishedCell, PublishedReason, PublishedWeek
from pulse.published.figures import CELL_FIGURES, describe_cell, describe_figures
from pulse.published.weeks import iso_week, week_modes


def weekly_series(session: Session, level: Level, unit_id: int, first: dt.date, last: dt.date) -> list[dict]:
    """One entry per published week from `first` to `last` (Mondays); a week without the unit is empty. Each
    says which rating mode its figures come from ("open" or "verified")."""
    weeks = week_modes(session, first, last)
    cells = {
        c.period: c
        for c in session.scalars(
            select(PublishedCell).where(
                PublishedCell.level == level,
                PublishedCell.unit_id == unit_id,
                PublishedCell.period.between(first, last),
            )
        )
    }
    return _series(weeks, cells)


def departments_weekly_series(session: Session, first: dt.date, last: dt.date) -> list[dict]:
    """Every department published from `first` to `last`, each with its weekly series (as weekly_series),
    named as in its latest published week there, in name order: two queries, whatever the number."""
    weeks = week_modes(session, first, last)
    cells: dict[int, dict[dt.date, PublishedCell]] = {}
    for cell in session.scalars(
        select(PublishedCell).where(
            PublishedCell.level == Level.DEPARTMENT, PublishedCell.period.between(first, last)
        )
    ):
        cells.setdefault(cell.unit_id, {})[cell.period] = cell
    departments = []
    for unit_id, by_week in cells.items():
        name = by_week[max(by_week)].name
        departments.append({"department_id": unit_id, "name": name, "weeks": _series(weeks, by_week)})
    return sorted(departments, key=lambda d: (d["name"], d["department_id"]))


def _series(weeks: list[tuple[dt.date, str]], cells: dict[dt.date, PublishedCell]) -> list[dict]:
    """A unit's entry for each published week (with its rating mode), from its cells by week."""
    return [
        {
            "week_start": week,
            "iso_week": iso_week(week),
            **describe_cell(cells.get(week)),
            "rating_mode": mode,
        }
        for week, mode in weeks
    ]


def daily_series(session: Session, first: dt.date, last: dt.date) -> list[dict]:
    """The organisation by shift date and band, for the published weeks from `first` to `last` (Mondays)."""
    days: dict[dt.date, dict[str, Any]] = {}
    rows = session.execute(
        select(
            PublishedCell.level,
            PublishedCell.unit_id,
            PublishedCell.name,
            PublishedCell.period,
            *CELL_FIGURES,
        )
        .join(PublishedWeek, PublishedWeek.id == PublishedCell.week_id)
        .where(
            PublishedWeek.week_start.between(first, last), PublishedCell.level.in_([Level.DAY, Level.SHIFT])
        )
        .order_by(PublishedCell.period, PublishedCell.level, PublishedCell.unit_id)
    )
    for level, unit_id, name, period, red, amber, green, contributors in rows:
        figures = describe_figures(red, amber, green, contributors)
        if level == Level.DAY:
            days.setdefault(period, {"shift_date": period, "bands": []}).update(figures)
        else:
            days.setdefault(period, {"shift_date": period, "bands": []})["bands"].append(
                {"band_id": unit_id, "band": name, **figures}
            )
    return [days[d] for d in sorted(days)]


def reason_counts(session: Session, level: Level, unit_id: int, first: dt.date, last: dt.date) -> list[dict]:
    """Per published week, how many ratings named each reason tag; empty where the unit shows nothing."""
    weeks = session.execute(
        select(PublishedWeek.id, PublishedWeek.week_start)
        .where(PublishedWeek.week_start.between(first, last))
        .order_by(PublishedWeek.week_start)
    ).all()
    found: dict[int, dict[int, int]] = {}
    for reason in session.scalars(
        select(PublishedReason).where(
            PublishedReason.level == level,
            PublishedReason.unit_id == unit_id,
            PublishedReason.week_id.in_([w.id for w in weeks]),
        )
    ):
        if reason.ratings is not None:
            found.setdefault(reason.week_id, {})[reason.tag_id] = reason.ratings
    return [
        {
            "week_start": w.week_start,
            "iso_week": iso_week(w.week_start),
            "reasons": [{"tag_id": t, "ratings": n} for t, n in sorted(found.get(w.id, {}).items())],
        }
        for w in weeks
    ]


def units_in_week(session: Session, level: Level, week: dt.date) -> list[dict]:
    """Every unit of `level` in one published week, with its figures (departments side by side)."""
    cells = session.scalars(
        select(PublishedCell)
        .join(PublishedWeek, PublishedWeek.id == PublishedCell.week_id)
        .where(PublishedWeek.week_start == week, PublishedCell.level == level)
        .order_by(PublishedCell.name)
    )
    return [{"unit_id": c.unit_id, "name": c.name, **describe_cell(c)} for c in cells]


def team_grid(session: Session, department_id: int, first: dt.date, last: dt.date) -> list[dict]:
    """Each team that belonged to the department in the weeks from `first` to `last`, as it was published."""
    cells = session.scalars(
        select(PublishedCell).where(
            PublishedCell.level == Level.TEAM,
            PublishedCell.parent_id == department_id,
            PublishedCell.period.between(first, last),
        )
    ).all()
    teams: dict[int, dict[str, Any]] = {}
    for c in cells:
        team = teams.setdefault(c.unit_id, {"team_id": c.unit_id, "name": c.name, "weeks": {}})
        team["weeks"][c.period] = describe_cell(c)
    return sorted(teams.values(), key=lambda t: t["name"])
