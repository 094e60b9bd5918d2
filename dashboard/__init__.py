"""The Dash dashboard, mounted on the Pulse server at /dashboard/. It reads published figures only."""

from __future__ import annotations

from pathlib import Path

import dash
from flask import Flask

PAGES_DIR = Path(__file__).resolve().parent / "pages"


def create_dash(server: Flask) -> dash.Dash:
    app = dash.Dash(
        __name__,
        server=server,
        url_base_pathname="/dashboard/",
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        serve_locally=True,
        title="Pulse - staff morale",
        update_title=None,
    )
    app.layout = dash.html.Main(dash.page_container, id="main")
    return app
