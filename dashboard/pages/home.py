"""The organisation page. Figures arrive with the publication issue; until then it says so plainly."""

import dash
from dash import html

dash.register_page(__name__, path="/", title="Pulse - organisation morale")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Staff morale across the organisation"),
            html.P(
                "Figures appear here once each week has closed and passed Pulse's anonymity checks. "
                "Nothing is shown for groups too small to keep ratings anonymous."
            ),
        ],
        id="organisation-page",
    )
