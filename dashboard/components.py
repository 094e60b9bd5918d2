"""Shared pieces of every page: the header and navigation, the week-range choice, chart cards, the trend."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dash import Input, Output, State, callback, dcc, html

from dashboard import figures, ids, search, summaries
from dashboard.data import DEFAULT_RANGE, RANGES
from pulse.csvfile import write_csv

BASE = "/dashboard/"
RANGE_LABELS = {"12": "12 weeks", "26": "26 weeks", "52": "52 weeks", "all": "All weeks"}
# Nothing on a chart leaves Pulse: plotly.js 4 adds a "Share chart..." button that uploads the chart to
# Plotly's cloud unless showSendToCloud is off; no "Edit in Chart Studio", no link to plotly either.
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendChartToCloud", "editInChartStudio"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def header(units: Sequence[dict[str, Any]]) -> html.Header:
    """The site header, with a search box that works without JavaScript (a form and a native datalist)."""
    options = [html.Option(value=target.label) for target in search.targets(units)]
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


def range_choice(path: str, value: str) -> html.Nav:
    """Links, not a form control: each range is a deep link. They change the page in place (dcc.Link: the
    page's layout is fetched again, nothing reloads); the current one is not a link, and says so."""
    items = []
    for key in RANGES:
        if key == value:
            item: Any = html.Span(
                RANGE_LABELS[key], className="range-link current", **{"aria-current": "page"}
            )
        else:
            item = dcc.Link(RANGE_LABELS[key], href=f"{path}?weeks={key}", className="range-link")
        items.append(html.Li(item))
    return html.Nav([html.H2("Weeks shown", className="range-title"), html.Ul(items)], className="range",
                    **{"aria-label": "Weeks shown"})  # fmt: skip


def mode_and_range(
    series: Sequence[dict[str, Any]], unit: str, path: str, choice: str, links: html.Section | None = None
) -> list[Any]:
    """What every page shows between its intro and its charts: which rating mode the weeks shown come from,
    the links down (if any), and the choice of weeks, with the store its downloads read the choice from."""
    return [
        html.P(summaries.mode_summary(series, unit), id=ids.RATING_MODE, className="mode-note"),
        *([links] if links is not None else []),
        range_choice(path, choice),
        dcc.Store(id=ids.RANGE, data=choice),
    ]


def breadcrumbs(trail: Sequence[tuple[str, str | None]]) -> html.Nav:
    """Where this page sits: the organisation > a department > a team, each a link but the last (this page).
    dcc.Link: moving up or down changes the page in place."""
    items = [
        html.Li(
            dcc.Link(label, href=href) if href is not None else html.Span(label, **{"aria-current": "page"})
        )
        for label, href in trail
    ]
    return html.Nav(html.Ol(items), className="breadcrumbs", **{"aria-label": "Breadcrumb"})


def unit_links(title: str, units: Sequence[dict[str, Any]], kind: str) -> html.Section:
    """A card linking down to the departments of the organisation, or the teams of a department."""
    return html.Section(
        [
            html.H2(title, id=f"{kind}-links-heading"),
            html.Ul(
                [html.Li(dcc.Link(u["name"], href=f"{BASE}{kind}/{u['id']}")) for u in units],
                className="units",
            )
            if units
            else html.P("None published yet."),
        ],
        className="card",
        **{"aria-labelledby": f"{kind}-links-heading"},
    )


def chosen_range(value: str | None) -> str:
    return value if value in RANGES else DEFAULT_RANGE


def graph(name: str, figure: Any) -> dcc.Graph:
    """A chart drawn with its figure from the start: the page's layout brings it, so the browser plots it
    once, with no empty plot first and no second round trip for the figure."""
    return dcc.Graph(id=ids.graph(name), figure=figure, config=GRAPH_CONFIG, className="chart")


def chart_card(name: str, title: str, figure: Any, summary: str, intro: str | None = None) -> html.Section:
    """A chart with its heading, a plain-English reading (also for screen readers) and a CSV download."""
    return html.Section(
        [
            html.H2(title, id=f"{name}-heading"),
            html.P(intro, className="intro") if intro else None,
            html.Figure(
                [
                    graph(name, figure),
                    html.Figcaption(summary, id=ids.summary(name), className="summary"),
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


def trend_card(
    name: str, series: Sequence[dict[str, Any]], unit: str, title: str | None = None, intro: str | None = None
) -> html.Section:
    """A unit's weeks: shares as stacked bars, net score as a line (the chart titled `title`, by default the
    unit's share of ratings by week)."""
    figure = figures.trend_figure(series, title or f"{unit}: share of ratings by week")
    return chart_card(name, "Week by week", figure, summaries.trend_summary(series, unit), intro)


def page_unit(
    raw_id: str | None, weeks: str | None, fetch: Callable[[int, str], dict[str, Any] | None]
) -> tuple[int, str, dict[str, Any] | None]:
    """A unit page's address read: the unit's id (0 for anything but digits), the range of weeks chosen, and
    the unit's figures (None when there is no such unit)."""
    unit = int(raw_id) if raw_id and raw_id.isdigit() else 0
    choice = chosen_range(weeks)
    return unit, choice, fetch(unit, choice) if unit else None


def unit_page(
    page_id: str, store: str, unit: int, trail: Sequence[tuple[str, str | None]], name: str, body: list[Any]
) -> html.Div:
    """A department's or a team's page: the unit's id in the store its downloads read, where the unit sits,
    its name, then the rest of the page."""
    return html.Div([dcc.Store(id=store, data=unit), breadcrumbs(trail), html.H1(name), *body], id=page_id)


def not_found(heading: str, message: str, notice_id: str, page_id: str) -> html.Div:
    """The page of a unit that does not exist: a heading and, where the page's notice goes, what to do."""
    return html.Div([html.H1(heading), html.P(message, id=notice_id, className="notice")], id=page_id)


def register_download(
    name: str,
    fetch: Callable[..., Any],
    build: Callable[[Any], str],
    *,
    unit: str | None = None,
    prefix: str | None = None,
) -> None:
    """The callback behind a chart card's download button: fetch the page's figures for the range shown (and
    the unit, from the store `unit`), build the CSV, send it as pulse-<name>[-<unit id>].csv."""
    states = [State(ids.RANGE, "data"), *([State(unit, "data")] if unit else [])]

    @callback(
        Output(ids.download(name), "data"),
        Input(ids.download_button(name), "n_clicks"),
        *states,
        prevent_initial_call=True,
    )
    def download(_clicks: int, choice: str, *unit_id: int) -> dict[str, Any]:
        filename = "-".join([prefix or f"pulse-{name}", *(str(u) for u in unit_id)]) + ".csv"
        return dcc.send_string(build(fetch(choice, *unit_id)), filename)

    download.__name__ = f"download_{name.replace('-', '_')}"


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """A download's CSV, written as every CSV Pulse writes (no cell can start a formula: pulse.csvfile)."""
    return write_csv(rows, columns)


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
