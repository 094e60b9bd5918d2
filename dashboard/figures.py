"""Pure functions from published figures to Plotly figures. No I/O, no Dash. (Their readings in words are
in summaries.py, the house style in chart_style.py; the heatmaps are in heatmaps.py, the SPC chart in
spc_figure.py.)"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dashboard.chart_style import (
    FONT,
    TICK_LABELS_HEIGHT,
    Chart,
    empty,
    label_positions,
    legend_room,
    plain,
    style,
    week_axis,
    week_long,
)
from dashboard.summaries import NOT_SHOWN, wilson_interval

# Built on Okabe & Ito's colour-blind-safe palette (2008): bluish green and orange, with its vermillion
# darkened so that amber and red stay well apart for deuteranopes too (tested by simulation). Colour is
# never the only signal: each colour also has a word and a bar pattern.
COLOURS = {"green": "#009E73", "amber": "#E69F00", "red": "#A6361C"}
TEXT_ON = {"green": "#111111", "amber": "#111111", "red": "#ffffff"}  # WCAG contrast for labels on the bars
WORDS = {"green": "Good shift", "amber": "OK shift", "red": "Tough shift"}
PATTERNS = {"green": "", "amber": "/", "red": "x"}
NET_LINE = "#000000"
__all__ = ["FONT", "NOT_SHOWN", "wilson_interval"]


def pattern(colour: str) -> dict[str, Any]:
    """The bar pattern of a colour: white marks over the colour (overlay: the colour stays the background)."""
    return {
        "shape": PATTERNS[colour],
        "fgcolor": "#ffffff",
        "fillmode": "overlay",
        "size": 10,
        "solidity": 0.2,
    }


def trend_figure(series: Sequence[dict[str, Any]], title: str) -> Chart:
    """Weekly shares as stacked bars with patterns, and net score as a line; hidden weeks are gaps."""
    fig = Chart()
    if not series:
        return style(empty(fig, "No weeks published yet"), title, height=220)
    x = [str(w["week_start"]) for w in series]
    names = [week_long(w["week_start"]) for w in series]
    for colour in ("green", "amber", "red"):
        customdata = []
        for w, name in zip(series, names, strict=True):
            count = w[colour]
            interval = wilson_interval(count, w["ratings"]) if count is not None else None
            customdata.append(
                [count, w["ratings"], f"{interval[0]}-{interval[1]}%" if interval else "", name]
            )
        fig.add_bar(
            x=x,
            y=[w[f"pct_{colour}"] for w in series],
            name=WORDS[colour],
            marker={"color": COLOURS[colour], "pattern": pattern(colour)},
            customdata=customdata,
            hovertemplate=f"%{{customdata[3]}}<br>{WORDS[colour]}: %{{y}}% (%{{customdata[0]}} of "
            "%{customdata[1]}; 95% interval %{customdata[2]})<extra></extra>",
        )
    hidden = [(week, name) for week, name, w in zip(x, names, series, strict=True) if w["ratings"] is None]
    if hidden:
        fig.add_scatter(
            x=[week for week, _ in hidden],
            y=[2] * len(hidden),
            mode="markers",
            name=NOT_SHOWN.capitalize(),
            marker={"symbol": "line-ew-open", "size": 14, "color": "#52606d", "line": {"width": 2}},
            customdata=[name for _, name in hidden],
            hovertemplate=f"%{{customdata}}: {NOT_SHOWN}<extra></extra>",
        )
    fig.add_scatter(
        x=x,
        y=[w["net_score"] for w in series],
        name="Net score (% good - % tough)",
        yaxis="y2",
        mode="lines+markers",
        connectgaps=False,
        line={"color": NET_LINE, "width": 2},
        marker={"symbol": "diamond", "size": 7},
        customdata=names,
        hovertemplate="%{customdata}<br>Net score %{y:+}<extra></extra>",
    )
    fig.update_layout(
        barmode="stack",
        yaxis={"title": "% of ratings", "range": [0, 100], "ticksuffix": "%", "gridcolor": "#e4e7eb"},
        yaxis2={
            "title": "Net score",
            "range": [-100, 100],
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "zeroline": False,
        },
        xaxis=week_axis(x),
    )
    legend = legend_room(4 + bool(hidden))
    return style(fig, title, height=360 + legend, bottom=TICK_LABELS_HEIGHT + legend, right=56)


def week_picture_figure(week: dict[str, Any] | None, title: str) -> Chart:
    """One week's shares as a single labelled bar."""
    fig = Chart()
    if week is not None and week["ratings"] is not None:
        for colour in ("green", "amber", "red"):
            share = week[f"pct_{colour}"]
            fig.add_bar(
                y=[""],
                x=[share],
                orientation="h",
                name=WORDS[colour],
                text=[f"{WORDS[colour]} {share:.0f}%"],
                textposition="inside",
                insidetextanchor="middle",
                textfont={"color": TEXT_ON[colour]},
                marker={
                    "color": COLOURS[colour],
                    "pattern": pattern(colour),
                },
                hovertemplate=f"{WORDS[colour]}: %{{x}}%<extra></extra>",
            )
    else:
        fig.add_annotation(
            text=NOT_SHOWN.capitalize(), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    fig.update_layout(barmode="stack", xaxis={"range": [0, 100], "ticksuffix": "%"}, showlegend=False)
    return style(fig, title, height=190, right=32)  # room for half of the "100%" label


def funnel_figure(units: Sequence[dict[str, Any]], overall: dict[str, Any] | None, title: str) -> Chart:
    """Net score against number of ratings, with 95% and 99.8% limits around the organisation's score; each
    department's dot is labelled with its name.

    A funnel, not a league table: units inside the funnel differ from the whole only by chance.
    """
    fig = Chart()
    shown = [u for u in units if u["ratings"] is not None]
    if not shown:
        return style(empty(fig, "No department has enough ratings to show"), title, height=220)
    top = max([u["ratings"] for u in shown] + [50]) * 1.15
    if overall and overall["ratings"]:
        pg, pr = overall["pct_green"] / 100, overall["pct_red"] / 100
        centre = 100 * (pg - pr)
        spread = max(pg + pr - (pg - pr) ** 2, 1e-9)
        ns = [max(5, top * i / 60) for i in range(1, 61)]
        for z, dash, label in ((1.96, "dash", "95% limits"), (3.09, "dot", "99.8% limits")):
            for sign in (1, -1):
                fig.add_scatter(
                    x=ns,
                    y=[max(-100, min(100, centre + sign * z * 100 * math.sqrt(spread / n))) for n in ns],
                    mode="lines",
                    line={"color": "#52606d", "dash": dash, "width": 1},
                    name=label,
                    legendgroup=label,
                    showlegend=sign == 1,
                    hoverinfo="skip",
                )
        # In the legend, not written on the line: a label there ran into the limits where they converge.
        fig.add_scatter(
            x=[0, top],
            y=[centre, centre],
            mode="lines",
            line={"color": NET_LINE, "width": 1},
            name=f"Organisation ({centre:+.0f})",
            hovertemplate=f"Organisation: net score {centre:+.0f}<extra></extra>",
        )
    x = [u["ratings"] for u in shown]
    y = [u["net_score"] for u in shown]
    names = [plain(u["name"]) for u in shown]
    # The dots and the centre with room around them, not -100 to +100: the dots would crowd into a band
    # (the funnel's mouth, where limits pass +-100, is cut off, as there are no departments there).
    around = [*y, overall["net_score"]] if overall and overall["ratings"] else y
    y_range = (max(-100.0, min(around) - 25), min(100.0, max(around) + 25))
    fig.add_scatter(
        x=x,
        y=y,
        mode="markers+text",
        name="Department",
        marker={"size": 10, "color": "#0072B2", "symbol": "circle", "line": {"color": "#ffffff", "width": 1}},
        text=names,
        textposition=label_positions(x, y, names, (0, top), y_range),
        textfont={"size": 11, "color": "#1f2933"},
        hovertemplate="%{text}<br>net score %{y:+} from %{x} ratings<extra></extra>",
        cliponaxis=False,
    )
    fig.update_layout(
        xaxis={
            "title": {"text": "Ratings in the week", "standoff": 6},
            "range": [0, top],
            "automargin": True,
        },
        yaxis={"title": "Net score", "range": list(y_range), "automargin": False},
    )
    legend = legend_room(4)
    return style(fig, title, height=420 + legend, bottom=48 + legend, right=24)


def reasons_figure(counts: Sequence[tuple[str, int]], title: str) -> Chart:
    ordered = sorted(counts, key=lambda c: c[1])
    fig = Chart(
        [
            dict(
                type="bar",
                x=[n for _, n in ordered],
                y=[plain(label) for label, _ in ordered],
                orientation="h",
                marker={"color": "#0072B2"},
                text=[str(n) for _, n in ordered],
                textposition="outside",
                hovertemplate="%{y}: %{x} ratings<extra></extra>",
            )
        ]
    )
    if not counts:
        fig.add_annotation(
            text="No reasons to show", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    most = max((n for _, n in counts), default=0)
    fig.update_layout(
        xaxis={"title": "Ratings naming the reason", "range": [0, most * 1.18 or 1]},
        yaxis={"automargin": True},
        showlegend=False,
    )
    return style(fig, title, height=max(240, 100 + 28 * len(counts)), bottom=48)


def reasons_over_time_figure(
    weeks: Sequence[dict[str, Any]], labels: dict[int, str], title: str, top: int = 5
) -> Chart:
    totals: dict[int, int] = {}
    for w in weeks:
        for r in w["reasons"]:
            totals[r["tag_id"]] = totals.get(r["tag_id"], 0) + r["ratings"]
    leading = sorted(totals, key=lambda t: -totals[t])[:top]
    symbols = ["circle", "square", "diamond", "triangle-up", "x"]
    x = [str(w["week_start"]) for w in weeks]
    names = [week_long(w["week_start"]) for w in weeks]
    fig = Chart()
    for i, tag in enumerate(leading):
        label = plain(labels.get(tag, f"Reason {tag}"))
        fig.add_scatter(
            x=x,
            y=[next((r["ratings"] for r in w["reasons"] if r["tag_id"] == tag), None) for w in weeks],
            name=label,
            mode="lines+markers",
            connectgaps=False,
            marker={"symbol": symbols[i % len(symbols)], "size": 8},
            customdata=names,
            hovertemplate=f"%{{customdata}}<br>{label}: %{{y}} ratings<extra></extra>",
        )
    if not leading:
        fig.add_annotation(
            text="No reasons to show", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    fig.update_layout(xaxis=week_axis(x), yaxis={"title": "Ratings naming the reason", "rangemode": "tozero"})
    legend = legend_room(len(leading))
    return style(fig, title, height=340 + legend, bottom=TICK_LABELS_HEIGHT + legend)
