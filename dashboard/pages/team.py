"""A team's page: its weekly trend where it is published, and why not where it is not."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import data, ids
from dashboard.components import (
    BASE,
    WEEK_COLUMNS,
    mode_and_range,
    not_found,
    page_unit,
    register_download,
    to_csv,
    trend_card,
    unit_page,
)

dash.register_page(__name__, path_template="/team/<team_id>", title="Pulse - team morale", name="Team")

UNIT = "team-unit"
NOT_FOUND = "There is no team at this address. Use the search above to find one."


def layout(team_id: str | None = None, weeks: str | None = None, **_query: str) -> html.Div:
    """The page with its chart: fetched and drawn here, so the page arrives with it."""
    unit, choice, team = page_unit(team_id, weeks, data.team)
    if team is None:
        return not_found("Team not found", NOT_FOUND, ids.TEAM_NOTICE, "team-page")
    series = team["series"]
    return unit_page(
        "team-page",
        UNIT,
        unit,
        _trail(team),
        team["name"],
        [
            html.P(_hidden_weeks(team), id=ids.TEAM_NOTICE, className="notice"),
            *mode_and_range(series, team["name"], f"/dashboard/team/{unit}", choice),
            trend_card("team-trend", series, team["name"]),
        ],
    )


def _trail(team: dict[str, Any]) -> list[tuple[str, str | None]]:
    department = team["department"]
    up = [(department["name"], f"{BASE}department/{department['id']}")] if department else []
    return [("Whole organisation", BASE), *up, (team["name"], None)]


def _hidden_weeks(team: dict[str, Any]) -> str:
    series = team["series"]
    hidden = sum(1 for w in series if w["ratings"] is None)
    if not hidden:
        return ""
    return (
        f"Teams with fewer than {team['k']} people rating in a week are not shown separately, to protect "
        f"anonymity. {hidden} of these {len(series)} weeks are not shown for {team['name']}; its ratings "
        "still count in the department's and organisation's figures."
    )


register_download(
    "team-trend",
    lambda choice, unit: data.team(unit, choice) or {"series": []},
    lambda team: to_csv(team["series"], WEEK_COLUMNS),
    unit=UNIT,
    prefix="pulse-team",
)
