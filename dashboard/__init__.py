"""The Dash dashboard, mounted on the Pulse server at /dashboard/. It reads published figures only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import dash
from dash import html
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
        # one plotly.py ships, a third of the size and parse time; dcc.Graph then loads no other.
        compress=True,
    )
    app.layout = serve_layout
    # Dash's page wraps its scripts in a <footer>; ours is the page's only footer landmark.
    app.index_string = (
        app.index_string.replace("<html>", '<html lang="en-GB">')
        .replace("<footer>", '<div class="dash-scripts">')
        .replace("</footer>", "</div>")
    )
    _register_search(server)
    _register_content_security_policy(server, app)
    return app


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
        """The header's search: the exact name, else the only name containing what was typed."""
        from dashboard.components import BASE, navigation_targets
        from dashboard.data import navigation

        wanted = " ".join(request.args.get("to", "").split()).casefold()
        targets = navigation_targets(navigation())
        exact = [path for label, path in targets if label.casefold() == wanted]
        partial = [path for label, path in targets if wanted and wanted in label.casefold()]
        found = exact or (partial if len(partial) == 1 else [])
        return redirect(found[0] if found else f"{BASE}?notfound={quote(wanted)}")
