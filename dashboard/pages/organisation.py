"""The organisation page, for all staff: this week, the trend and its SPC chart, what departments changed,
days and shifts, departments and reasons."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard import chart_style, data, figures, heatmaps, ids, spc, summaries
from dashboard.components import (
    WEEK_COLUMNS,
    chart_card,
    chosen_range,
    mode_and_range,
    register_download,
    to_csv,
    trend_card,
    unit_links,
)
from dashboard.spc_card import actions_card, actions_list, register_spc_callbacks, spc_card

dash.register_page(__name__, path="/", title="Pulse - organisation morale", name="Organisation")

SPC = "org-spc"
ACTIONS = "org-actions"


def layout(weeks: str | None = None, **_query: str) -> html.Div:
    """The page with its figures: fetched and drawn here, so the page arrives with its charts."""
    choice = chosen_range(weeks)
    org = data.organisation(choice)
    latest = org["latest"]
    week_label = chart_style.week_label(latest["week_start"]) if latest else "no week yet"
    series = org["series"]
    return html.Div(
        [
            html.H1("Staff morale across the organisation"),
            html.P(
                "At the end of each shift, staff tap green, amber or red. These are the published weekly "
                "figures: the same for everyone, managers included.",
                className="lead",
            ),
            *mode_and_range(series, "the organisation", "/dashboard/", choice),
            chart_card(
                "org-week",
                "The latest published week",
                figures.week_picture_figure(latest, f"The organisation, {week_label}"),
                summaries.trend_summary([latest] if latest else [], "The organisation"),
            ),
            html.Section(
                [html.H2("Today so far"), html.P(summaries.today_summary(org["today"]), id=ids.ORG_TODAY)],
                className="card today",
            ),
            unit_links("Departments", data.navigation(), "department"),
            trend_card(
                "org-trend",
                series,
                "The organisation",
                "Share of ratings by week",
                "Bars: the share of good, OK and tough shifts. Line: the net score (% good - % tough).",
            ),
            # Actions belong to departments: they mark and rebase their department's chart, not this one.
            spc_card(
                SPC,
                "Is anything really changing?",
                spc.spc_data(
                    org["history"], series[0]["week_start"] if series else None, name="The organisation"
                ),
            ),
            actions_card(
                ACTIONS,
                f"What departments changed in answer to what staff said: the latest "
                f"{spc.ORGANISATION_ACTIONS}, most recent first. Each is marked on its department's chart.",
                actions_list(spc.latest_actions(org["actions"], spc.ORGANISATION_ACTIONS), departments=True),
            ),
            chart_card(
                "org-days",
                "Days and shifts in the latest week",
                heatmaps.daily_figure(org["days"], f"Net score by shift, {week_label}"),
                summaries.daily_summary(org["days"]),
                "Net score by shift; a hatched square has too few ratings to show.",
            ),
            chart_card(
                "org-departments",
                "Departments side by side",
                figures.funnel_figure(org["departments"], latest, f"Departments, {week_label}"),
                summaries.funnel_summary(org["departments"], latest),
                "Each dot is a department. Inside the dashed funnel, a department differs from the "
                "organisation only by chance; outside it, the difference is worth a look. Smaller "
                "departments have wider limits.",
            ),
            chart_card(
                "org-reasons",
                "Reasons people gave",
                figures.reasons_figure(org["reasons"], "Most named reasons"),
                summaries.reasons_summary(org["reasons"]),
                "Optional reasons named with ratings, over the weeks shown.",
            ),
        ],
        id="organisation-page",
    )


register_spc_callbacks(SPC)


def _download(name: str, build: Any) -> None:
    register_download(name, data.organisation, build)


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
