"""The only module of the dashboard that fetches figures: from pulse.published, as plain data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dashboard.spc import SPC_WEEKS
from pulse import published
from pulse.published import Level
from pulse.runtime import current_k, published_session, take_today_steps

RANGES = {"12": 12, "26": 26, "52": 52, "all": None}
DEFAULT_RANGE = "26"


def week_range(session: Any, choice: str) -> tuple[dt.date, dt.date] | None:
    """Whole weeks: the latest published week and the ones before it, as chosen (12, 26, 52 or all)."""
    spans = _spans(session, choice)
    return spans[0] if spans else None


def _spans(session: Any, choice: str) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]] | None:
    """The weeks chosen, and the weeks an SPC chart needs for them: at least the latest SPC_WEEKS, so that
    its limits do not change with the range shown. One query for both."""
    weeks = published.published_weeks(session)
    if not weeks:
        return None
    count = RANGES.get(choice, RANGES[DEFAULT_RANGE])
    last = weeks[-1] + dt.timedelta(days=6)
    spc_count = None if count is None else max(count, SPC_WEEKS)
    return (_first(weeks, count), last), (_first(weeks, spc_count), last)


def _first(weeks: list[dt.date], count: int | None) -> dt.date:
    return weeks[0] if count is None else weeks[max(0, len(weeks) - count)]


def navigation() -> list[dict]:
    return published.units(published_session())


def unit_name(level: str, unit_id: int) -> str | None:
    return published.unit_name(published_session(), Level(level), unit_id)


def organisation(choice: str) -> dict[str, Any]:
    """The organisation's figures; "history" is the longer series its SPC chart needs, and "actions" every
    department's actions (the organisation has none of its own)."""
    session = published_session()
    spans = _spans(session, choice)
    today = published.today_figures(session, take_today_steps(), current_k(session))
    actions = published.actions(session)
    if spans is None:
        return {
            "series": [],
            "history": [],
            "latest": None,
            "days": [],
            "departments": [],
            "reasons": [],
            "today": today,
            "actions": actions,
        }
    span, spc_span = spans
    history = published.weekly_series(session, Level.ORGANISATION, 0, *spc_span)
    series = [week for week in history if week["week_start"] >= span[0]]
    latest_week = series[-1]["week_start"]
    return {
        "series": series,
        "history": history,
        "actions": actions,
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
    spans = _spans(session, choice)
    actions = published.actions(session, department_id)
    if spans is None:
        return {
            "name": name,
            "series": [],
            "history": [],
            "grid": [],
            "weeks": [],
            "reasons": [],
            "labels": {},
            "actions": actions,
        }
    span, spc_span = spans
    history = published.weekly_series(session, Level.DEPARTMENT, department_id, *spc_span)
    series = [week for week in history if week["week_start"] >= span[0]]
    return {
        "name": name,
        "series": series,
        "history": history,
        "actions": actions,
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
    return {
        "name": name,
        "series": series,
        "k": published.minimum_group_size(session),
        "department": published.team_department(session, team_id),
    }


def _reason_totals(
    session: Any, level: Level, unit_id: int, span: tuple[dt.date, dt.date]
) -> list[tuple[str, int]]:
    """Reasons summed over published weeks only (docs/anonymity.md A16: longer periods are sums of weeks)."""
    labels = published.reason_labels(session)
    totals: dict[int, int] = {}
    for week in published.reason_counts(session, level, unit_id, *span):
        for reason in week["reasons"]:
            totals[reason["tag_id"]] = totals.get(reason["tag_id"], 0) + reason["ratings"]
    top = sorted(totals.items(), key=lambda item: -item[1])[:8]
    return [(labels.get(tag, f"Reason {tag}"), n) for tag, n in top]
