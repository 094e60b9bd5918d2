"""The organisation page, for all staff: this week, the trend and its SPC chart, what departments changed,
days and shifts, departments and reasons."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures, ids, spc
from dashboard.components import WEEK_COLUMNS, chart_card, chosen_range, range_choice, to_csv
from dashboard.spc_card import (
    actions_card,
    actions_list,
    register_spc_callbacks,
    spc_card,
    spc_output_targets,
    spc_outputs,
)

dash.register_page(__name__, path="/", title="Pulse - organisation morale", name="Organisation")

CHARTS = ("org-week", "org-trend", "org-days", "org-departments", "org-reasons")
SPC = "org-spc"
ACTIONS = "org-actions"


def layout(weeks: str | None = None, notfound: str | None = None, **_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Staff morale across the organisation"),
            html.P(
                f"No department or team is called {notfound!r}. "
                "Try part of its name, or pick one from the list.",
                className="notice",
                role="status",
            )
            if notfound
            else None,
            html.P(
                "At the end of each shift, staff tap green, amber or red. These are the published weekly "
                "figures: the same for everyone, managers included.",
                className="lead",
            ),
            range_choice("/dashboard/", chosen_range(weeks)),
            dcc.Store(id=ids.RANGE, data=chosen_range(weeks)),
            chart_card("org-week", "The latest published week"),
            html.Section(
                [html.H2("Today so far"), html.P(id=ids.ORG_TODAY, **{"aria-live": "polite"})],
                className="card today",
            ),
            chart_card(
                "org-trend",
                "Week by week",
                "Bars: the share of good, OK and tough shifts. Line: the net score (% good - % tough).",
            ),
            spc_card(SPC, "Is anything really changing?"),
            actions_card(
                ACTIONS,
                f"What departments changed in answer to what staff said: the latest "
                f"{spc.ORGANISATION_ACTIONS}, most recent first. Each is marked on its department's chart.",
            ),
            chart_card(
                "org-days",
                "Days and shifts in the latest week",
                "Net score by shift; blank means not enough ratings.",
            ),
            chart_card(
                "org-departments",
                "Departments side by side",
                "Each dot is a department. Inside the dashed funnel, a department differs from the "
                "organisation only by chance; outside it, the difference is worth a look. Smaller "
                "departments have wider limits.",
            ),
            chart_card(
                "org-reasons",
                "Reasons people gave",
                "Optional reasons named with ratings, over the weeks shown.",
            ),
        ],
        id="organisation-page",
    )


@callback(
    [Output(ids.graph(c), "figure") for c in CHARTS]
    + [Output(ids.summary(c), "children") for c in CHARTS]
    + [Output(ids.ORG_TODAY, "children")]
    + spc_output_targets(SPC)
    + [Output(ids.actions(ACTIONS), "children")],
    Input(ids.RANGE, "data"),
)
def update_organisation_charts(choice: str) -> list[Any]:
    org = data.organisation(choice)
    latest = org["latest"]
    week_label = f"week {latest['iso_week']}" if latest else "no week yet"
    return [
        figures.week_picture_figure(latest, f"The organisation, {week_label}"),
        figures.trend_figure(org["series"], "Share of ratings by week"),
        figures.daily_figure(org["days"], f"Net score by shift, {week_label}"),
        figures.funnel_figure(org["departments"], latest, f"Departments, {week_label}"),
        figures.reasons_figure(org["reasons"], "Most named reasons"),
        figures.trend_summary([latest] if latest else [], "The organisation"),
        figures.trend_summary(org["series"], "The organisation"),
        figures.daily_summary(org["days"]),
        figures.funnel_summary(org["departments"], latest),
        figures.reasons_summary(org["reasons"]),
        figures.today_summary(org["today"]),
        # Actions belong to departments: they mark and rebase their department's chart, not this one.
        *spc_outputs(
            spc.spc_data(
                org["history"],
                org["series"][0]["week_start"] if org["series"] else None,
                name="The organisation",
            ),
        ),
        actions_list(spc.latest_actions(org["actions"], spc.ORGANISATION_ACTIONS), departments=True),
    ]


register_spc_callbacks(SPC)


def _download(name: str, build: Any) -> None:
    @callback(
        Output(ids.download(name), "data"),
        Input(ids.download_button(name), "n_clicks"),
        State(ids.RANGE, "data"),
        prevent_initial_call=True,
    )
    def download(_clicks: int, choice: str) -> dict[str, Any]:
        return dcc.send_string(build(data.organisation(choice)), f"pulse-{name}.csv")

    download.__name__ = f"download_{name.replace('-', '_')}"


_download("org-week", lambda org: to_csv([org["latest"]] if org["latest"] else [], WEEK_COLUMNS))
_download("org-trend", lambda org: to_csv(org["series"], WEEK_COLUMNS))
_download(
    "org-days",
    lambda org: to_csv(
        [{"shift_date": d["shift_date"], **b} for d in org["days"] for b in d["bands"]],
        ("shift_date", "band", *WEEK_COLUMNS[2:]),
    ),
)
_download(
    "org-departments",
    lambda org: to_csv(org["departments"], ("unit_id", "name", *WEEK_COLUMNS[2:])),
)
_download(
    "org-reasons",
    lambda org: to_csv([{"reason": r, "ratings": n} for r, n in org["reasons"]], ("reason", "ratings")),
)
