"""The only module of the dashboard that fetches figures: from pulse.published, as plain data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pulse import published
from pulse.published import Level
from pulse.runtime import published_session, take_today_steps

RANGES = {"12": 12, "26": 26, "52": 52, "all": None}
DEFAULT_RANGE = "26"


def week_range(session: Any, choice: str) -> tuple[dt.date, dt.date] | None:
    """Whole weeks: the latest published week and the ones before it, as chosen (12, 26, 52 or all)."""
    weeks = published.published_weeks(session)
    if not weeks:
        return None
    count = RANGES.get(choice, RANGES[DEFAULT_RANGE])
    first = weeks[0] if count is None else weeks[max(0, len(weeks) - count)]
    return first, weeks[-1] + dt.timedelta(days=6)


def navigation() -> list[dict]:
    return published.units(published_session())


def unit_name(level: str, unit_id: int) -> str | None:
    return published.unit_name(published_session(), Level(level), unit_id)


def organisation(choice: str) -> dict[str, Any]:
    session = published_session()
    span = week_range(session, choice)
    today = published.today_figures(session, take_today_steps())
    if span is None:
        return {"series": [], "latest": None, "days": [], "departments": [], "reasons": [], "today": today}
    series = published.weekly_series(session, Level.ORGANISATION, 0, *span)
    latest_week = series[-1]["week_start"]
    return {
        "series": series,
        "latest": series[-1],
        "days": published.daily_series(session, latest_week, latest_week + dt.timedelta(days=6)),
        "departments": published.units_in_week(session, Level.DEPARTMENT, latest_week),
        "reasons": _reason_totals(session, Level.ORGANISATION, 0, span),
        "today": today,
    }


def department(department_id: int, choice: str) -> dict[str, Any] | None:
    session = published_session()
    name = published.unit_name(session, Level.DEPARTMENT, department_id)
    if name is None:
        return None
    span = week_range(session, choice)
    if span is None:
        return {"name": name, "series": [], "grid": [], "weeks": [], "reasons": [], "labels": {}}
    series = published.weekly_series(session, Level.DEPARTMENT, department_id, *span)
    return {
        "name": name,
        "series": series,
        "grid": published.team_grid(session, department_id, *span),
        "weeks": [w["week_start"] for w in series],
        "reasons": published.reason_counts(session, Level.DEPARTMENT, department_id, *span),
        "labels": published.reason_labels(session),
    }


def team(team_id: int, choice: str) -> dict[str, Any] | None:
    session = published_session()
    name = published.unit_name(session, Level.TEAM, team_id)
    if name is None:
        return None
    span = week_range(session, choice)
    series = published.weekly_series(session, Level.TEAM, team_id, *span) if span else []
    return {"name": name, "series": series, "k": published.minimum_group_size(session)}


def _reason_totals(
    session: Any, level: Level, unit_id: int, span: tuple[dt.date, dt.date]
) -> list[tuple[str, int]]:
    """Reasons summed over published weeks only (PRIVACY.md L1: longer periods are sums of weeks)."""
    labels = published.reason_labels(session)
    totals: dict[int, int] = {}
    for week in published.reason_counts(session, level, unit_id, *span):
        for reason in week["reasons"]:
            totals[reason["tag_id"]] = totals.get(reason["tag_id"], 0) + reason["ratings"]
    top = sorted(totals.items(), key=lambda item: -item[1])[:8]
    return [(labels.get(tag, f"Reason {tag}"), n) for tag, n in top]
