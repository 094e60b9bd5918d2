"""The Dash dashboard, mounted on the Pulse server at /dashboard/. It reads published figures only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import dash
from dash import html
from dash.exceptions import DependencyException
from flask import Flask, Response, redirect, request

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
        # gzip for Dash's bundles and callback answers (flask-compress): a first visit moves about a fifth of
        # the bytes. Plotly comes from assets/vendor: its cartesian bundle, the same plotly.js version as the
        # one plotly.py ships, a third of the size and parse time; dcc.Graph then loads no other. It is not a
        # script tag of the page (assets_path_ignore): assets/plotly-loader.js runs it while the server draws.
        compress=True,
        assets_path_ignore=["vendor"],
        # Dash's request hook starts plotly.js as the page's first request leaves (assets/plotly-loader.js).
        hooks={"request_pre": "function () { if (window.pulsePlotly) { window.pulsePlotly.load(); } }"},
    )
    app.layout = serve_layout
    # Dash's page wraps its scripts in a <footer>; ours is the page's only footer landmark.
    # Fetched from the start, so that neither waits on Dash: plotly.js (run by assets/plotly-loader.js) and
    # the chunk of dcc.Graph that Dash would ask for only once the page's first chart arrives.
    preloads = "".join(
        f'<link rel="preload" href="{href}" as="script">'
        for href in (
            app.get_asset_url("vendor/plotly-cartesian-4.1.1.min.js"),
            "/dashboard/_dash-component-suites/dash/dcc/async-graph.js",
        )
    )
    app.index_string = (
        app.index_string.replace("<html>", '<html lang="en-GB">')
        .replace("{%css%}", "{%css%}\n        " + preloads)
        .replace("<footer>", '<div class="dash-scripts">')
        .replace("</footer>", "</div>")
    )
    _register_search(server)
    _register_content_security_policy(server, app)
    server.register_error_handler(DependencyException, _no_such_script)
    return app


def _no_such_script(_error: DependencyException) -> Response:
    """Dash raises this for a script address it does not serve (say, _dash-component-suites/../x): a 404,
    not a 500."""
    return Response("There is no such script.", status=404, mimetype="text/plain")


def _register_content_security_policy(server: Flask, app: dash.Dash) -> None:
    """Scripts only from Pulse, plus Dash's own inline scripts by their hashes: no 'unsafe-inline' for
    scripts. Plotly and Dash set inline styles as they draw, so styles keep 'unsafe-inline'."""
    policy: list[str] = []  # built at the first request: Dash's pages register their inline scripts late

    def build() -> str:
        return "; ".join(
            [
                "default-src 'self'",
                "script-src 'self' " + " ".join(app.csp_hashes()),
                "style-src 'self' 'unsafe-inline'",
                "img-src 'self' data: blob:",
                "font-src 'self' data:",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )

    @server.after_request
    def protect_dashboard(response: Response) -> Response:
        if request.path.startswith("/dashboard"):
            if not policy:
                policy.append(build())
            response.headers["Content-Security-Policy"] = policy[0]
        return response


def serve_layout() -> html.Div:
    """Built per page load, so the search lists the units of the latest published week."""
    from dashboard.components import header
    from dashboard.data import navigation

    return html.Div(
        [
            html.A("Skip to the figures", href="#main", className="skip-link"),
            header(navigation()),
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


def _register_search(server: Flask) -> None:
    @server.get("/dashboard/go")
    def go_to_unit() -> Response:
        """The header's search, without JavaScript: straight to the unit named, or to the only one whose name
        holds what was typed; otherwise to the list of every match (or of suggestions)."""
        from dashboard import search
        from dashboard.data import navigation

        wanted = " ".join(request.args.get("to", "").split())
        found = search.destination(navigation(), wanted)
        return redirect(found or f"{search.BASE}search?to={quote(wanted)}")
