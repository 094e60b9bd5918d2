"""The read-only face of published figures: the only source for the API, exports and the dashboard.

Every figure here comes from a frozen published cell. A cell that was suppressed and a cell with no ratings
come out exactly alike: null figures and the same note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from pulse.models.actions import Action
from pulse.models.published import Level, PublishedCell, PublishedReason, PublishedWeek, TodaySnapshot

NOT_SHOWN = "not enough ratings to show"
COLOURS = ("red", "amber", "green")


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def describe_figures(red: int | None, amber: int | None, green: int | None, contributors: int | None) -> dict:
    """Counts with shares and net score, or all nulls and the note when the cell shows nothing."""
    total = (red or 0) + (amber or 0) + (green or 0)
    if red is None or amber is None or green is None or total == 0:
        return {
            "red": None,
            "amber": None,
            "green": None,
            "ratings": None,
            "contributors": None,
            "pct_red": None,
            "pct_amber": None,
            "pct_green": None,
            "net_score": None,
            "note": NOT_SHOWN,
        }
    # Written out rather than looped over COLOURS: a year of days calls this for every day and band.
    return {
        "red": red,
        "amber": amber,
        "green": green,
        "ratings": total,
        "contributors": contributors,
        "pct_red": round(100 * red / total, 1),
        "pct_amber": round(100 * amber / total, 1),
        "pct_green": round(100 * green / total, 1),
        "net_score": round(100 * (green - red) / total, 1),
        "note": None,
    }


def published_weeks(session: Session) -> list[dt.date]:
    return list(session.scalars(select(PublishedWeek.week_start).order_by(PublishedWeek.week_start)))


def latest_week(session: Session) -> dt.date | None:
    weeks = session.scalars(
        select(PublishedWeek.week_start).order_by(PublishedWeek.week_start.desc()).limit(1)
    )
    return next(iter(weeks), None)


def unit_is_known(session: Session, level: Level, unit_id: int) -> bool:
    """Whether the unit appears in any published week."""
    found = session.scalar(
        select(PublishedCell.id)
        .where(PublishedCell.level == level, PublishedCell.unit_id == unit_id)
        .limit(1)
    )
    return found is not None


def weekly_series(session: Session, level: Level, unit_id: int, first: dt.date, last: dt.date) -> list[dict]:
    """One entry per published week from `first` to `last` (Mondays); a week without the unit is empty."""
    weeks = session.scalars(
        select(PublishedWeek.week_start)
        .where(PublishedWeek.week_start.between(first, last))
        .order_by(PublishedWeek.week_start)
    ).all()
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
    series = []
    for week in weeks:
        cell = cells.get(week)
        figures = describe_figures(*_counts(cell))
        series.append({"week_start": week, "iso_week": iso_week(week), **figures})
    return series


def departments_weekly_series(session: Session, first: dt.date, last: dt.date) -> list[dict]:
    """Every department published from `first` to `last`, each with its weekly series (as weekly_series),
    named as in its latest published week there, in name order: two queries, whatever the number."""
    weeks = session.scalars(
        select(PublishedWeek.week_start)
        .where(PublishedWeek.week_start.between(first, last))
        .order_by(PublishedWeek.week_start)
    ).all()
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
        series = [
            {"week_start": week, "iso_week": iso_week(week), **describe_figures(*_counts(by_week.get(week)))}
            for week in weeks
        ]
        departments.append({"department_id": unit_id, "name": name, "weeks": series})
    return sorted(departments, key=lambda d: (d["name"], d["department_id"]))


def daily_series(session: Session, first: dt.date, last: dt.date) -> list[dict]:
    """The organisation by shift date and band, for the published weeks from `first` to `last` (Mondays)."""
    days: dict[dt.date, dict[str, Any]] = {}
    rows = session.execute(
        select(
            PublishedCell.level,
            PublishedCell.unit_id,
            PublishedCell.name,
            PublishedCell.period,
            PublishedCell.red,
            PublishedCell.amber,
            PublishedCell.green,
            PublishedCell.contributors,
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


EXPORT_BATCH = 2000


def iter_export_rows(session: Session) -> Iterator[dict]:
    """Every published figure as open data, streamed: colour cells, reason counts, then today's steps."""
    cells = session.execute(
        select(
            PublishedCell.level,
            PublishedCell.unit_id,
            PublishedCell.parent_id,
            PublishedCell.name,
            PublishedCell.period,
            PublishedCell.red,
            PublishedCell.amber,
            PublishedCell.green,
            PublishedCell.contributors,
        )
        .order_by(PublishedCell.period, PublishedCell.level, PublishedCell.unit_id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for level, unit_id, parent_id, name, period, red, amber, green, contributors in cells:
        shown = describe_figures(red, amber, green, contributors)
        yield {
            "table": "figures",
            "level": level.value,
            "unit_id": unit_id,
            "parent_id": parent_id,
            "name": name,
            "period": period,
            "tag_id": None,
            **{key: shown[key] for key in ("red", "amber", "green", "ratings", "contributors")},
        }
    reasons = session.execute(
        select(
            PublishedReason.level,
            PublishedReason.unit_id,
            PublishedReason.tag_id,
            PublishedReason.ratings,
            PublishedWeek.week_start,
        )
        .join(PublishedWeek, PublishedWeek.id == PublishedReason.week_id)
        .order_by(
            PublishedWeek.week_start, PublishedReason.level, PublishedReason.unit_id, PublishedReason.tag_id
        )
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for level, unit_id, tag_id, ratings, week in reasons:
        yield {
            "table": "reasons",
            "level": level.value,
            "unit_id": unit_id,
            "parent_id": None,
            "name": None,
            "period": week,
            "tag_id": tag_id,
            "red": None,
            "amber": None,
            "green": None,
            "ratings": ratings,
            "contributors": None,
        }
    for snap in session.scalars(
        select(TodaySnapshot).order_by(TodaySnapshot.shift_date, TodaySnapshot.band_id, TodaySnapshot.step)
    ):
        yield {
            "table": "today",
            "level": "shift",
            "unit_id": snap.band_id,
            "parent_id": None,
            "name": f"step {snap.step}",
            "period": snap.shift_date,
            "tag_id": None,
            "red": snap.red,
            "amber": snap.amber,
            "green": snap.green,
            "ratings": snap.red + snap.amber + snap.green,
            "contributors": None,
        }


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


def today_figures(session: Session, day: dt.date) -> dict:
    """The organisation's "today so far": the sum of each band's latest step (empty until the first step)."""
    steps = latest_steps(session, day).values()
    if not steps:
        return {"shift_date": day, **describe_figures(None, None, None, None)}
    red, amber, green = (sum(getattr(s, c) for s in steps) for c in COLOURS)
    # One rating per device per shift, so within a day's bands ratings and people agree (kiosks aside).
    return {"shift_date": day, **describe_figures(red, amber, green, red + amber + green)}


def _counts(cell: PublishedCell | None) -> tuple[int | None, int | None, int | None, int | None]:
    if cell is None:
        return (None, None, None, None)
    return (cell.red, cell.amber, cell.green, cell.contributors)


def units(session: Session) -> list[dict]:
    """Departments and their teams as of the latest published week (names as published)."""
    latest = session.scalar(select(PublishedWeek.id).order_by(PublishedWeek.week_start.desc()).limit(1))
    if latest is None:
        return []
    cells = session.scalars(
        select(PublishedCell).where(
            PublishedCell.week_id == latest, PublishedCell.level.in_([Level.DEPARTMENT, Level.TEAM])
        )
    ).all()
    departments: dict[int, dict[str, Any]] = {
        c.unit_id: {"id": c.unit_id, "name": c.name, "teams": []}
        for c in cells
        if c.level == Level.DEPARTMENT
    }
    for c in cells:
        if c.level == Level.TEAM and c.parent_id in departments:
            departments[c.parent_id]["teams"].append({"id": c.unit_id, "name": c.name})
    for department in departments.values():
        department["teams"].sort(key=lambda t: t["name"])
    return sorted(departments.values(), key=lambda d: d["name"])


def unit_name(session: Session, level: Level, unit_id: int) -> str | None:
    """The unit's name in the latest published week that holds it."""
    return session.scalar(
        select(PublishedCell.name)
        .join(PublishedWeek, PublishedWeek.id == PublishedCell.week_id)
        .where(PublishedCell.level == level, PublishedCell.unit_id == unit_id)
        .order_by(PublishedWeek.week_start.desc())
        .limit(1)
    )


def reason_labels(session: Session) -> dict[int, str]:
    from pulse.models.structure import ReasonTag

    return {tag_id: label for tag_id, label in session.execute(select(ReasonTag.id, ReasonTag.label))}


def units_in_week(session: Session, level: Level, week: dt.date) -> list[dict]:
    """Every unit of `level` in one published week, with its figures (departments side by side)."""
    cells = session.scalars(
        select(PublishedCell)
        .join(PublishedWeek, PublishedWeek.id == PublishedCell.week_id)
        .where(PublishedWeek.week_start == week, PublishedCell.level == level)
        .order_by(PublishedCell.name)
    )
    return [{"unit_id": c.unit_id, "name": c.name, **describe_figures(*_counts(c))} for c in cells]


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
        team["weeks"][c.period] = describe_figures(*_counts(c))
    return sorted(teams.values(), key=lambda t: t["name"])


def minimum_group_size(session: Session) -> int | None:
    """k as used for the latest published week."""
    return session.scalar(select(PublishedWeek.k).order_by(PublishedWeek.week_start.desc()).limit(1))


def actions(session: Session, department_id: int | None = None) -> list[dict]:
    """ "You said, we did": the actions on a department's timeline (or every department's, for the
    organisation), oldest first. Not figures, but shown to everyone beside them."""
    stmt = (
        select(Action)
        .options(selectinload(Action.reasons), selectinload(Action.department))
        .where(Action.withdrawn.is_(False))
        .order_by(Action.taken_on, Action.id)
    )
    if department_id is not None:
        stmt = stmt.where(Action.department_id == department_id)
    return [
        {
            "id": action.id,
            "department_id": action.department_id,
            "department": action.department.name,
            "taken_on": action.taken_on,
            "week_start": action.taken_on - dt.timedelta(days=action.taken_on.weekday()),
            "summary": action.summary,
            "reasons": [tag.label for tag in action.reasons],
            "rebase": action.rebase,
        }
        for action in session.scalars(stmt)
    ]
