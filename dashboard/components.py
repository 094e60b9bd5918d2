"""Shared pieces of every page: the header and navigation, the week-range choice, and chart cards."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.data import DEFAULT_RANGE, RANGES

BASE = "/dashboard/"
RANGE_LABELS = {"12": "12 weeks", "26": "26 weeks", "52": "52 weeks", "all": "All weeks"}
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def header(units: Sequence[dict[str, Any]], current: str | None) -> html.Header:
    options = [{"label": "Whole organisation", "value": BASE}]
    for department in units:
        options.append({"label": department["name"], "value": f"{BASE}department/{department['id']}"})
        options.extend(
            {"label": f"{department['name']} / {team['name']}", "value": f"{BASE}team/{team['id']}"}
            for team in department["teams"]
        )
    return html.Header(
        [
            html.A("Pulse", href=BASE, className="brand"),
            html.Span("Staff morale, shift by shift", className="tagline"),
            html.Div(
                [
                    html.Label("Go to a department or team", htmlFor=ids.NAV, className="nav-label"),
                    dcc.Dropdown(
                        id=ids.NAV,
                        options=options,
                        value=current,
                        searchable=True,
                        clearable=False,
                        placeholder="Search departments and teams",
                    ),
                ],
                className="nav",
            ),
        ],
        className="site-header",
    )


def range_choice(component_id: str, value: str | None) -> html.Fieldset:
    chosen = value if value in RANGES else DEFAULT_RANGE
    return html.Fieldset(
        [
            html.Legend("Weeks shown"),
            dcc.RadioItems(
                id=component_id,
                options=[{"label": RANGE_LABELS[key], "value": key} for key in RANGES],
                value=chosen,
                inline=True,
                className="range-choice",
            ),
        ],
        className="range",
    )


def chart_card(name: str, title: str, intro: str | None = None) -> html.Section:
    """A chart with its heading, a plain-English reading (also for screen readers) and a CSV download."""
    return html.Section(
        [
            html.H2(title, id=f"{name}-heading"),
            html.P(intro, className="intro") if intro else None,
            html.Figure(
                [
                    dcc.Graph(id=ids.graph(name), config=GRAPH_CONFIG, className="chart"),
                    html.Figcaption(id=ids.summary(name), className="summary", **{"aria-live": "polite"}),
                ],
                **{"aria-labelledby": f"{name}-heading"},
            ),
            html.Button(
                "Download the data (CSV)", id=ids.download_button(name), className="download", n_clicks=0
            ),
            dcc.Download(id=ids.download(name)),
        ],
        className="card",
        **{"aria-labelledby": f"{name}-heading"},
    )


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return out.getvalue()


WEEK_COLUMNS = (
    "iso_week",
    "week_start",
    "red",
    "amber",
    "green",
    "ratings",
    "contributors",
    "pct_red",
    "pct_amber",
    "pct_green",
    "net_score",
    "note",
)
