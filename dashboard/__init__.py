"""The Dash dashboard, mounted on the Pulse server at /dashboard/. It reads published figures only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, dcc, html
from flask import Flask

from dashboard import ids

HERE = Path(__file__).resolve().parent


def create_dash(server: Flask) -> dash.Dash:
    app = dash.Dash(
        __name__,
        server=server,
        url_base_pathname="/dashboard/",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        serve_locally=True,
        title="Pulse - staff morale",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    app.layout = serve_layout
    app.index_string = app.index_string.replace("<html>", '<html lang="en-GB">')
    _register_navigation(app)
    return app


def serve_layout() -> html.Div:
    """Built per page load, so the navigation lists the units of the latest published week."""
    from dashboard.components import header
    from dashboard.data import navigation

    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            html.A("Skip to the figures", href="#main", className="skip-link"),
            header(navigation(), None),
            html.Main(dash.page_container, id="main", tabIndex="-1"),
            html.Footer(
                [
                    html.P(
                        "Every figure here has passed Pulse's anonymity checks: groups with too few ratings "
                        "are not shown, and everyone sees the same numbers."
                    ),
                    html.A("Download every published figure (CSV)", href="/api/v1/figures/export.csv"),
                ],
                className="site-footer",
            ),
        ]
    )


def _register_navigation(app: dash.Dash) -> None:
    @app.callback(
        Output(ids.URL, "href"),
        Input(ids.NAV, "value"),
        State(ids.URL, "pathname"),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def go_to_unit(target: str | None, pathname: str, search: str | None) -> str:
        if not target or target == pathname:
            raise dash.exceptions.PreventUpdate
        return target + (search or "")

    @app.callback(Output(ids.NAV, "value"), Input(ids.URL, "pathname"))
    def show_current_unit(pathname: str | None) -> str | None:
        return pathname


def range_search(choice: str) -> str:
    return "?" + urlencode({"weeks": choice})
