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


def header(units: Sequence[dict[str, Any]]) -> html.Header:
    """The site header, with a search box that works without JavaScript (a form and a native datalist)."""
    options = [html.Option(value=label) for label, _ in navigation_targets(units)]
    return html.Header(
        [
            html.A("Pulse", href=BASE, className="brand"),
            html.Span("Staff morale, shift by shift", className="tagline"),
            html.Form(
                [
                    html.Label("Find a department or team", htmlFor=ids.NAV, className="nav-label"),
                    html.Div(
                        [
                            dcc.Input(
                                id=ids.NAV,
                                name="to",
                                type="search",
                                list=ids.NAV_OPTIONS,
                                placeholder="Start typing a name",
                                autoComplete="off",
                                className="nav-input",
                            ),
                            html.Button("Go", type="submit", className="nav-go"),
                        ],
                        className="nav-row",
                    ),
                    html.Datalist(options, id=ids.NAV_OPTIONS),
                ],
                action=f"{BASE}go",
                method="get",
                role="search",
                className="nav",
            ),
        ],
        className="site-header",
    )


def navigation_targets(units: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(label, path) for the whole organisation, each department and each team."""
    targets = [("Whole organisation", BASE)]
    for department in units:
        targets.append((department["name"], f"{BASE}department/{department['id']}"))
        targets.extend(
            (f"{department['name']} / {team['name']}", f"{BASE}team/{team['id']}")
            for team in department["teams"]
        )
    return targets


def range_choice(path: str, value: str) -> html.Nav:
    """Links, not a form control: each range is a deep link, and the current one says so."""
    items = []
    for key in RANGES:
        current = key == value
        items.append(
            html.Li(
                html.A(
                    RANGE_LABELS[key],
                    href=f"{path}?weeks={key}",
                    className="range-link current" if current else "range-link",
                    **({"aria-current": "page"} if current else {}),
                )
            )
        )
    return html.Nav([html.H2("Weeks shown", className="range-title"), html.Ul(items)], className="range",
                    **{"aria-label": "Weeks shown"})  # fmt: skip


def chosen_range(value: str | None) -> str:
    return value if value in RANGES else DEFAULT_RANGE


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
