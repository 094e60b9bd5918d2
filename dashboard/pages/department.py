"""A department's page: its weekly trend, its SPC chart and actions, its teams week by week, and reasons."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import data, figures, heatmaps, ids, spc, summaries
from dashboard.components import (
    BASE,
    WEEK_COLUMNS,
    chart_card,
    mode_and_range,
    not_found,
    page_unit,
    register_download,
    to_csv,
    trend_card,
    unit_links,
    unit_page,
)
from dashboard.spc_card import INTRO, actions_card, actions_list, register_spc_callbacks, spc_card

dash.register_page(
    __name__,
    path_template="/department/<department_id>",
    title="Pulse - department morale",
    name="Department",
)

SPC = "dept-spc"
ACTIONS = "dept-actions"
UNIT = "dept-unit"
NOT_FOUND = "There is no department at this address. Use the search above to find one."


def layout(department_id: str | None = None, weeks: str | None = None, **_query: str) -> html.Div:
    """The page with its figures: fetched and drawn here, so the page arrives with its charts."""
    unit, choice, department = page_unit(department_id, weeks, data.department)
    if department is None:
        return not_found("Department not found", NOT_FOUND, ids.DEPT_NOTICE, "department-page")
    name = department["name"]
    weeks_shown = [str(w["week_start"]) for w in department["series"]]
    grid = [
        {**team, "weeks": {str(week): figures_ for week, figures_ in team["weeks"].items()}}
        for team in department["grid"]
    ]
    reasons, labels = department["reasons"], department["labels"]
    return unit_page(
        "department-page",
        UNIT,
        unit,
        [("Whole organisation", BASE), (name, None)],
        name,
        [
            html.P(
                "Weekly figures for the department and its teams. Teams with too few ratings in a week are "
                "not shown separately, to protect anonymity; they still count in the department's figures.",
                className="lead",
            ),
            *mode_and_range(
                department["series"],
                name,
                f"/dashboard/department/{unit}",
                choice,
                unit_links(f"Teams in {name}", _teams(unit), "team"),
            ),
            trend_card("dept-trend", department["series"], name),
            spc_card(
                SPC,
                "Is anything really changing?",
                spc.spc_data(
                    department["history"],
                    _first_week(department["series"]),
                    department["actions"],
                    name=name,
                ),
                f"{INTRO} A dotted line and a triangle mark a change the department made.",
            ),
            actions_card(
                ACTIONS,
                "What the department changed in answer to what staff said, most recent first. Each change "
                "is marked on the chart above.",
                actions_list(spc.latest_actions(department["actions"]), departments=False),
            ),
            chart_card(
                "dept-teams",
                "Teams week by week",
                heatmaps.heatmap_figure(grid, weeks_shown, f"{name}: teams by week"),
                summaries.grid_summary(grid, weeks_shown),
                "Net score for each team and week. Hatched squares are not shown: too few ratings.",
            ),
            chart_card(
                "dept-reasons",
                "Reasons over time",
                figures.reasons_over_time_figure(reasons, labels, f"{name}: reasons"),
                summaries.reasons_over_time_summary(reasons, labels),
                "The most named reasons, week by week.",
            ),
        ],
    )


def _teams(department_id: int) -> list[dict[str, Any]]:
    """The department's teams as in the latest published week."""
    return next((d["teams"] for d in data.navigation() if d["id"] == department_id), [])


def _first_week(series: list[dict[str, Any]]) -> Any:
    return series[0]["week_start"] if series else None


register_spc_callbacks(SPC)


NOTHING: dict[str, Any] = {"series": [], "grid": [], "reasons": [], "labels": {}}


def _download(name: str, build: Any) -> None:
    register_download(name, lambda choice, unit: data.department(unit, choice) or NOTHING, build, unit=UNIT)


_download("dept-trend", lambda d: to_csv(d["series"], WEEK_COLUMNS))
_download(
    "dept-teams",
    lambda d: to_csv(
        [
            {"team_id": t["team_id"], "team": t["name"], "week_start": w, **f}
            for t in d["grid"]
            for w, f in t["weeks"].items()
        ],
        ("team_id", "team", "week_start", *WEEK_COLUMNS[2:]),
    ),
)
_download(
    "dept-reasons",
    lambda d: to_csv(
        [
            {
                "iso_week": w["iso_week"],
                "reason": d["labels"].get(r["tag_id"], r["tag_id"]),
                "ratings": r["ratings"],
            }
            for w in d["reasons"]
            for r in w["reasons"]
        ],
        ("iso_week", "reason", "ratings"),
    ),
)
