"""The SPC card of the organisation and department pages, its callbacks, and the "You said, we did" list.

A page's layout fetches once, draws the default measure and fills the card's store (spc.spc_data); changing
the measure or downloading the chart's data draws from the store and never goes back to the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import ids, spc
from dashboard.components import BASE, graph, to_csv
from dashboard.spc_figure import SpcView, spc_view

INTRO = (
    "Is a change real, or the usual ups and downs? Dots are coloured as in NHS England's Making Data Count: "
    "grey for common cause variation (the usual ups and downs), orange for a special cause of concern, "
    "blue for a special cause of improvement. The solid line is the average; between the dashed process "
    "limits, weeks differ by chance alone. The limits come from at least the latest year of weeks, whatever "
    "range you choose."
)


def spc_card(name: str, title: str, data: dict[str, Any], intro: str = INTRO) -> html.Section:
    """A measure choice, the chart with its variation icon and reading beside it, and a CSV download.

    `data` is spc.spc_data: the card keeps it in the browser and draws the default measure from it at once.
    """
    view = spc_view(data, spc.DEFAULT_MEASURE)
    return html.Section(
        [
            html.H2(title, id=f"{name}-heading"),
            html.P(intro, className="intro"),
            html.Div(
                [
                    html.Span("Measure", id=f"{name}-measure-label", className="measure-label"),
                    *[
                        html.Button(
                            m.label,
                            id=ids.measure_button(name, key),
                            n_clicks=0,
                            className="measure-button",
                            **{"aria-pressed": "true" if key == spc.DEFAULT_MEASURE else "false"},
                        )
                        for key, m in spc.MEASURES.items()
                    ],
                ],
                role="group",
                className="measure-choice",
                **{"aria-labelledby": f"{name}-measure-label"},
            ),
            dcc.Store(id=ids.measure(name), data=spc.DEFAULT_MEASURE),
            html.Figure(
                [
                    graph(name, view.figure),
                    html.Figcaption(
                        _reading(view),
                        id=ids.summary(name),
                        className="summary spc-reading",
                        **{"aria-live": "polite"},
                    ),
                ],
                className="spc-figure",
                **{"aria-labelledby": f"{name}-heading"},
            ),
            html.Button(
                "Download the data (CSV)", id=ids.download_button(name), className="download", n_clicks=0
            ),
            dcc.Download(id=ids.download(name)),
            dcc.Store(id=ids.spc_data(name), data=data),
        ],
        className="card spc",
        **{"aria-labelledby": f"{name}-heading"},
    )


def actions_card(name: str, intro: str, listed: html.Ul | html.P) -> html.Section:
    return html.Section(
        [
            html.H2("You said, we did", id=f"{name}-heading"),
            html.P(intro, className="intro"),
            html.Div(listed, id=ids.actions(name), className="actions"),
        ],
        className="card",
        **{"aria-labelledby": f"{name}-heading"},
    )


def actions_list(actions: Sequence[dict[str, Any]], *, departments: bool) -> html.Ul | html.P:
    """Actions as they come (most recent first); with departments, each starts with its department's name."""
    if not actions:
        return html.P(
            "No actions recorded yet. When a department changes something in answer to what staff said, "
            "it appears here and on its chart.",
            className="actions-none",
        )
    items = []
    for action in actions:
        taken: dt.date = action["taken_on"]
        head: list[Any] = [html.Time(spc.long_date(taken), dateTime=taken.isoformat())]
        if departments:
            link = html.A(action["department"], href=f"{BASE}department/{action['department_id']}")
            head = [link, ", ", *head]
        items.append(
            html.Li(
                [
                    html.P(head, className="action-head"),
                    html.P(action["summary"], className="action-summary"),
                    html.P(f"In answer to: {', '.join(action['reasons'])}", className="action-reasons")
                    if action["reasons"]
                    else None,
                    html.P("The chart's limits start again from this week.", className="action-rebase")
                    if action["rebase"]
                    else None,
                ],
                className="action",
            )
        )
    return html.Ul(items, className="action-list")


def _reading(view: SpcView) -> list[Any]:
    reading: list[Any] = [html.Span(view.reading, className="spc-words")]
    if view.icon is not None:
        path, alt = view.icon
        reading.insert(0, html.Img(src=dash.get_asset_url(path), alt=alt, className="spc-icon"))
    return reading


def register_spc_callbacks(name: str) -> None:
    """Switch the card's measure, drawing from its store (no fetch), and download the chart's data."""

    keys = list(spc.MEASURES)

    @callback(
        Output(ids.graph(name), "figure"),
        Output(ids.summary(name), "children"),
        Output(ids.measure(name), "data"),
        [Output(ids.measure_button(name, key), "aria-pressed") for key in keys],
        [Input(ids.measure_button(name, key), "n_clicks") for key in keys],
        State(ids.spc_data(name), "data"),
        prevent_initial_call=True,
    )
    def update_spc_measure(*clicks_then_data: Any) -> list[Any]:
        data = clicks_then_data[-1]
        measure = {ids.measure_button(name, key): key for key in keys}.get(str(ctx.triggered_id))
        if not data or measure is None:
            raise PreventUpdate
        view = spc_view(data, measure)
        return [
            view.figure,
            _reading(view),
            measure,
            *("true" if key == measure else "false" for key in keys),
        ]

    @callback(
        Output(ids.download(name), "data"),
        Input(ids.download_button(name), "n_clicks"),
        State(ids.spc_data(name), "data"),
        State(ids.measure(name), "data"),
        prevent_initial_call=True,
    )
    def download_spc_data(_clicks: int, data: dict[str, Any] | None, measure: str | None) -> dict[str, Any]:
        if not data:
            raise PreventUpdate
        key = spc.measure_for(measure).key
        return dcc.send_string(to_csv(spc.chart_rows(data, key), spc.CSV_COLUMNS), f"pulse-{name}-{key}.csv")

    suffix = name.replace("-", "_")
    update_spc_measure.__name__ = f"update_{suffix}_measure"
    download_spc_data.__name__ = f"download_{suffix}"
