"""A team's page: its weekly trend where it is published, and why not where it is not."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures, ids
from dashboard.components import WEEK_COLUMNS, chart_card, chosen_range, range_choice, to_csv

dash.register_page(__name__, path_template="/team/<team_id>", title="Pulse - team morale", name="Team")

UNIT = "team-unit"


def layout(team_id: str | None = None, weeks: str | None = None, **_query: str) -> html.Div:
    unit = int(team_id) if team_id and team_id.isdigit() else 0
    name = data.unit_name("team", unit) if unit else None
    return html.Div(
        [
            dcc.Store(id=UNIT, data=unit),
            html.H1(name or "Team not found"),
            html.P(id=ids.TEAM_NOTICE, className="notice", **{"aria-live": "polite"}),
            range_choice(f"/dashboard/team/{unit}", chosen_range(weeks)),
            dcc.Store(id=ids.RANGE, data=chosen_range(weeks)),
            chart_card("team-trend", "Week by week"),
        ],
        id="team-page",
    )


@callback(
    Output(ids.graph("team-trend"), "figure"),
    Output(ids.summary("team-trend"), "children"),
    Output(ids.TEAM_NOTICE, "children"),
    Input(ids.RANGE, "data"),
    State(UNIT, "data"),
)
def update_team_chart(choice: str, unit: int) -> tuple[Any, str, str]:
    team = data.team(unit, choice)
    if team is None:
        return (
            figures.trend_figure([], ""),
            "",
            "There is no team at this address. Use the search above to find one.",
        )
    series = team["series"]
    hidden = sum(1 for w in series if w["ratings"] is None)
    notice = ""
    if hidden:
        notice = (
            f"Teams with fewer than {team['k']} people rating in a week are not shown separately, to protect "
            f"anonymity. {hidden} of these {len(series)} weeks are not shown for {team['name']}; its ratings "
            "still count in the department's and organisation's figures."
        )
    return (
        figures.trend_figure(series, f"{team['name']}: share of ratings by week"),
        figures.trend_summary(series, team["name"]),
        notice,
    )


@callback(
    Output(ids.download("team-trend"), "data"),
    Input(ids.download_button("team-trend"), "n_clicks"),
    State(ids.RANGE, "data"),
    State(UNIT, "data"),
    prevent_initial_call=True,
)
def download_team_trend(_clicks: int, choice: str, unit: int) -> dict[str, Any]:
    team = data.team(unit, choice) or {"series": []}
    return dcc.send_string(to_csv(team["series"], WEEK_COLUMNS), f"pulse-team-{unit}.csv")
