"""Search results: every department and team whose name holds what was typed, or suggestions."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import data, search

dash.register_page(__name__, path="/search", title="Pulse - find a department or team", name="Search")


def layout(to: str | None = None, **_query: str) -> html.Div:
    query = " ".join((to or "").split())
    units = data.navigation()
    found = search.matches(units, query)
    if found:
        heading = f"{len(found)} {'name matches' if len(found) == 1 else 'names match'} \u201c{query}\u201d"
        body: list = [html.Ul([_item(t) for t in found], className="search-results")]
    else:
        heading = (
            f"No department or team is called \u201c{query}\u201d" if query else "Find a department or team"
        )
        close = search.suggestions(units, query) if query else []
        body = [
            html.P("Did you mean:" if close else "Try part of its name, or pick one from the list below."),
            html.Ul([_item(t) for t in close or search.targets(units)[1:]], className="search-results"),
        ]
    return html.Div(
        [html.H1(heading), *body], id="search-page", role="region", **{"aria-label": "Search results"}
    )


def _item(target: search.Target) -> html.Li:
    kind = {"organisation": "", "department": "department", "team": "team"}[target.kind]
    return html.Li([dcc.Link(target.label, href=target.path), html.Span(f" ({kind})" if kind else "")])
