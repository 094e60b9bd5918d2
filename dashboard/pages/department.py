"""A department's page: its weekly trend, its SPC chart and actions, its teams week by week, and reasons."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures, ids, spc
from dashboard.components import WEEK_COLUMNS, chart_card, chosen_range, range_choice, to_csv
from dashboard.spc_card import (
    INTRO,
    actions_card,
    actions_list,
    register_spc_callbacks,
    spc_card,
    spc_output_targets,
    spc_outputs,
)

dash.register_page(
    __name__,
    path_template="/department/<department_id>",
    title="Pulse - department morale",
    name="Department",
)

CHARTS = ("dept-trend", "dept-teams", "dept-reasons")
SPC = "dept-spc"
ACTIONS = "dept-actions"
UNIT = "dept-unit"


def layout(department_id: str | None = None, weeks: str | None = None, **_query: str) -> html.Div:
    unit = int(department_id) if department_id and department_id.isdigit() else 0
    name = data.unit_name("department", unit) if unit else None
    title = name or "Department not found"
    return html.Div(
        [
            dcc.Store(id=UNIT, data=unit),
            html.H1(title),
            html.P(
                "Weekly figures for the department and its teams. Teams with too few ratings in a week are "
                "not shown separately, to protect anonymity; they still count in the department's figures.",
                className="lead",
            ),
            html.P(id=ids.DEPT_NOTICE, className="notice"),
            range_choice(f"/dashboard/department/{unit}", chosen_range(weeks)),
            dcc.Store(id=ids.RANGE, data=chosen_range(weeks)),
            chart_card("dept-trend", "Week by week"),
            spc_card(
                SPC,
                "Is anything really changing?",
                f"{INTRO} A dotted line and a triangle mark a change the department made.",
            ),
            actions_card(
                ACTIONS,
                "What the department changed in answer to what staff said, most recent first. Each change "
                "is marked on the chart above.",
            ),
            chart_card(
                "dept-teams",
                "Teams week by week",
                "Net score for each team and week. Blank squares have too few ratings to show.",
            ),
            chart_card("dept-reasons", "Reasons over time", "The most named reasons, week by week."),
        ],
        id="department-page",
    )


@callback(
    [Output(ids.graph(c), "figure") for c in CHARTS]
    + [Output(ids.summary(c), "children") for c in CHARTS]
    + spc_output_targets(SPC)
    + [Output(ids.actions(ACTIONS), "children")]
    + [Output(ids.DEPT_NOTICE, "children")],
    Input(ids.RANGE, "data"),
    State(UNIT, "data"),
)
def update_department_charts(choice: str, unit: int) -> list[Any]:
    department = data.department(unit, choice)
    if department is None:
        empty = figures.trend_figure([], "")
        notice = "There is no department at this address. Use the search above to find one."
        nothing = spc_outputs(spc.spc_data([], None))
        return [empty, empty, empty, "", "", "", *nothing, actions_list([], departments=False), notice]
    name = department["name"]
    weeks = [w["iso_week"] for w in department["series"]]
    grid = [
        {**team, "weeks": {_iso(week): figures_ for week, figures_ in team["weeks"].items()}}
        for team in department["grid"]
    ]
    return [
        figures.trend_figure(department["series"], f"{name}: share of ratings by week"),
        figures.heatmap_figure(grid, weeks, f"{name}: teams by week"),
        figures.reasons_over_time_figure(department["reasons"], department["labels"], f"{name}: reasons"),
        figures.trend_summary(department["series"], name),
        figures.grid_summary(grid, weeks),
        figures.reasons_over_time_summary(department["reasons"], department["labels"]),
        *spc_outputs(
            spc.spc_data(
                department["history"], _first_week(department["series"]), department["actions"], name=name
            ),
        ),
        actions_list(spc.latest_actions(department["actions"]), departments=False),
        "",
    ]


def _first_week(series: list[dict[str, Any]]) -> Any:
    return series[0]["week_start"] if series else None


def _iso(week: Any) -> str:
    from pulse.published import iso_week

    return iso_week(week)


register_spc_callbacks(SPC)


def _download(name: str, build: Any) -> None:
    @callback(
        Output(ids.download(name), "data"),
        Input(ids.download_button(name), "n_clicks"),
        State(ids.RANGE, "data"),
        State(UNIT, "data"),
        prevent_initial_call=True,
    )
    def download(_clicks: int, choice: str, unit: int) -> dict[str, Any]:
        department = data.department(unit, choice) or {"series": [], "grid": [], "reasons": [], "labels": {}}
        return dcc.send_string(build(department), f"pulse-{name}-{unit}.csv")

    download.__name__ = f"download_{name.replace('-', '_')}"


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
