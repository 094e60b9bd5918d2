"""Pure functions from published figures to Plotly figures and plain-English summaries. No I/O, no Dash."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from pulse.services import stats

# Built on Okabe & Ito's colour-blind-safe palette (2008): bluish green and orange, with its vermillion
# darkened so that amber and red stay well apart for deuteranopes too (tested by simulation). Colour is
# never the only signal: each colour also has a word and a bar pattern.
COLOURS = {"green": "#009E73", "amber": "#E69F00", "red": "#A6361C"}
TEXT_ON = {"green": "#111111", "amber": "#111111", "red": "#ffffff"}  # WCAG contrast for labels on the bars
WORDS = {"green": "Good shift", "amber": "OK shift", "red": "Tough shift"}
PATTERNS = {"green": "", "amber": "/", "red": "x"}
NET_LINE = "#000000"
DIVERGING = [[0.0, "#D55E00"], [0.5, "#F7F7F7"], [1.0, "#0072B2"]]  # vermillion - white - blue, CVD-safe
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
NOT_SHOWN = "not enough ratings to show"
SMALL_N = 30  # below this, shares are read with care and their interval is shown


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval for a share, in percent to one decimal (stats.wilson_interval's)."""
    lower, upper = stats.wilson_interval(successes, n, z)
    return (round(100 * lower, 1), round(100 * upper, 1))


def _layout(fig: go.Figure, title: str, height: int = 360, bottom: int = 40) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 13, "color": "#1f2933"},
        height=height,
        margin={"l": 56, "r": 16, "t": 48, "b": bottom},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hoverlabel={"font": {"family": FONT}},
        modebar={"orientation": "v"},  # down the right-hand edge, clear of the title on a phone
    )
    return fig


def _empty(fig: go.Figure, message: str) -> go.Figure:
    """No data: say so, with no meaningless axes."""
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 15}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _label(week: dict[str, Any]) -> str:
    return str(week.get("iso_week") or week.get("shift_date"))


def trend_figure(series: Sequence[dict[str, Any]], title: str) -> go.Figure:
    """Weekly shares as stacked bars with patterns, and net score as a line; hidden weeks are gaps."""
    x = [_label(w) for w in series]
    fig = go.Figure()
    if not series:
        return _layout(_empty(fig, "No weeks published yet"), title, height=220)
    for colour in ("green", "amber", "red"):
        customdata = []
        for w in series:
            count = w[colour]
            interval = wilson_interval(count, w["ratings"]) if count is not None else None
            customdata.append([count, w["ratings"], f"{interval[0]}-{interval[1]}%" if interval else ""])
        fig.add_bar(
            x=x,
            y=[w[f"pct_{colour}"] for w in series],
            name=WORDS[colour],
            marker={"color": COLOURS[colour], "pattern": {"shape": PATTERNS[colour], "fgcolor": "#ffffff"}},
            customdata=customdata,
            hovertemplate=f"%{{x}}<br>{WORDS[colour]}: %{{y}}% (%{{customdata[0]}} of %{{customdata[1]}};"
            " 95% interval %{customdata[2]})<extra></extra>",
        )
    hidden = [_label(w) for w in series if w["ratings"] is None]
    if hidden:
        fig.add_scatter(
            x=hidden,
            y=[2] * len(hidden),
            mode="markers",
            name=NOT_SHOWN.capitalize(),
            marker={"symbol": "line-ew-open", "size": 14, "color": "#52606d", "line": {"width": 2}},
            hovertemplate=f"%{{x}}: {NOT_SHOWN}<extra></extra>",
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
        hovertemplate="%{x}<br>Net score %{y:+}<extra></extra>",
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
        },
        xaxis={"type": "category", "tickangle": -45, "automargin": True},
    )
    return _layout(fig, title, height=400, bottom=90)


def trend_summary(series: Sequence[dict[str, Any]], unit: str) -> str:
    """A text reading of a weekly trend, for everyone and for screen readers."""
    if not series:
        return "No weeks have been published yet."
    shown = [w for w in series if w["ratings"] is not None]
    hidden = len(series) - len(shown)
    if not shown:
        return (
            f"{unit}: none of these {len(series)} weeks has enough ratings to show. "
            "Groups with too few ratings are not shown separately, to protect anonymity."
        )
    last = shown[-1]
    text = (
        f"{unit}, week {last['iso_week']}: {last['pct_green']:.0f}% good, {last['pct_amber']:.0f}% OK, "
        f"{last['pct_red']:.0f}% tough; net score {last['net_score']:+.0f} from {last['ratings']} ratings"
        f" by {last['contributors']} people."
    )
    if len(shown) > 1:
        first = shown[0]
        text += (
            f" Net score over the period: {first['net_score']:+.0f} ({first['iso_week']})"
            f" to {last['net_score']:+.0f}."
        )
    if last["ratings"] < SMALL_N:
        low, high = wilson_interval(last["green"], last["ratings"])
        text += f" Small numbers: the share of good shifts could be anywhere from {low:.0f}% to {high:.0f}%."
    if hidden:
        text += f" {hidden} of {len(series)} weeks have {NOT_SHOWN}."
    return text


def week_picture_figure(week: dict[str, Any] | None, title: str) -> go.Figure:
    """One week's shares as a single labelled bar."""
    fig = go.Figure()
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
                    "pattern": {"shape": PATTERNS[colour], "fgcolor": "#ffffff"},
                },
                hovertemplate=f"{WORDS[colour]}: %{{x}}%<extra></extra>",
            )
    else:
        fig.add_annotation(
            text=NOT_SHOWN.capitalize(), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    fig.update_layout(barmode="stack", xaxis={"range": [0, 100], "ticksuffix": "%"}, showlegend=False)
    return _layout(fig, title, height=170)


def daily_figure(days: Sequence[dict[str, Any]], title: str) -> go.Figure:
    """Net score by shift date and band; cells with too few ratings stay blank."""
    if not days:
        return _layout(_empty(go.Figure(), "No days published yet"), title, height=200)
    bands = sorted({b["band"] for d in days for b in d["bands"]}, key=lambda name: _band_order(days, name))
    x = [str(d["shift_date"]) for d in days]
    z, text = [], []
    for band in bands:
        row, labels = [], []
        for d in days:
            cell = next((b for b in d["bands"] if b["band"] == band), None)
            value = cell["net_score"] if cell else None
            row.append(value)
            labels.append(f"{value:+.0f}<br>n={cell['ratings']}" if value is not None else "")
        z.append(row)
        text.append(labels)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=bands,
            text=text,
            texttemplate="%{text}",
            colorscale=DIVERGING,
            zmin=-100,
            zmax=100,
            hoverongaps=True,
            colorbar={"title": "Net score"},
            hovertemplate="%{x} %{y}: net score %{z:+}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(xaxis={"type": "category"})
    return _layout(fig, title, height=260)


def _band_order(days: Sequence[dict[str, Any]], name: str) -> int:
    for d in days:
        for b in d["bands"]:
            if b["band"] == name:
                return int(b["band_id"])
    return 0


def funnel_figure(units: Sequence[dict[str, Any]], overall: dict[str, Any] | None, title: str) -> go.Figure:
    """Net score against number of ratings, with 95% and 99.8% limits around the organisation's score.

    A funnel, not a league table: units inside the funnel differ from the whole only by chance.
    """
    fig = go.Figure()
    shown = [u for u in units if u["ratings"] is not None]
    if not shown:
        return _layout(_empty(fig, "No department has enough ratings to show"), title, height=220)
    if overall and overall["ratings"]:
        pg, pr = overall["pct_green"] / 100, overall["pct_red"] / 100
        centre = 100 * (pg - pr)
        spread = max(pg + pr - (pg - pr) ** 2, 1e-9)
        top = max([u["ratings"] for u in shown] + [50]) * 1.1
        ns = [max(5, top * i / 60) for i in range(1, 61)]
        for z, dash, label in ((1.96, "dash", "95% limits"), (3.09, "dot", "99.8% limits")):
            for sign in (1, -1):
                fig.add_scatter(
                    x=ns,
                    y=[max(-100, min(100, centre + sign * z * 100 * math.sqrt(spread / n))) for n in ns],
                    mode="lines",
                    line={"color": "#52606d", "dash": dash, "width": 1},
                    name=label,
                    showlegend=sign == 1,
                    hoverinfo="skip",
                )
        fig.add_hline(y=centre, line={"color": NET_LINE, "width": 1}, annotation_text="Organisation")
    fig.add_scatter(
        x=[u["ratings"] for u in shown],
        y=[u["net_score"] for u in shown],
        mode="markers",
        name="Department",
        marker={"size": 10, "color": "#0072B2", "symbol": "circle", "line": {"color": "#ffffff", "width": 1}},
        text=[u["name"] for u in shown],
        hovertemplate="%{text}<br>net score %{y:+} from %{x} ratings<extra></extra>",
    )
    fig.update_layout(
        xaxis={"title": "Ratings in the week", "rangemode": "tozero"},
        yaxis={"title": "Net score", "range": [-100, 100]},
    )
    return _layout(fig, title)


def reasons_figure(counts: Sequence[tuple[str, int]], title: str) -> go.Figure:
    ordered = sorted(counts, key=lambda c: c[1])
    fig = go.Figure(
        go.Bar(
            x=[n for _, n in ordered],
            y=[label for label, _ in ordered],
            orientation="h",
            marker={"color": "#0072B2"},
            text=[str(n) for _, n in ordered],
            textposition="outside",
            hovertemplate="%{y}: %{x} ratings<extra></extra>",
        )
    )
    if not counts:
        fig.add_annotation(
            text="No reasons to show", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    fig.update_layout(xaxis={"title": "Ratings naming the reason"}, showlegend=False)
    return _layout(fig, title, height=max(220, 40 + 28 * len(counts)))


def heatmap_figure(grid: Sequence[dict[str, Any]], weeks: Sequence[str], title: str) -> go.Figure:
    """Teams x weeks, net score; hidden and empty cells are blank gaps, never zeros."""
    if not grid or not weeks:
        return _layout(_empty(go.Figure(), "No team figures published yet"), title, height=200)
    z = [[t["weeks"].get(w, {}).get("net_score") for w in weeks] for t in grid]
    text = [
        [f"n={t['weeks'][w]['ratings']}" if t["weeks"].get(w, {}).get("ratings") else "" for w in weeks]
        for t in grid
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(weeks),
            y=[t["name"] for t in grid],
            text=text,
            colorscale=DIVERGING,
            zmin=-100,
            zmax=100,
            hoverongaps=False,
            xgap=1,
            ygap=1,
            colorbar={"title": "Net score", "orientation": "h", "y": -0.3, "yanchor": "top", "thickness": 12},
            hovertemplate="%{y}, %{x}: net score %{z:+} (%{text})<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"type": "category", "tickangle": -45, "automargin": True},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return _layout(fig, title, height=max(300, 160 + 26 * len(grid)), bottom=110)


def reasons_over_time_figure(
    weeks: Sequence[dict[str, Any]], labels: dict[int, str], title: str, top: int = 5
) -> go.Figure:
    totals: dict[int, int] = {}
    for w in weeks:
        for r in w["reasons"]:
            totals[r["tag_id"]] = totals.get(r["tag_id"], 0) + r["ratings"]
    leading = sorted(totals, key=lambda t: -totals[t])[:top]
    symbols = ["circle", "square", "diamond", "triangle-up", "x"]
    fig = go.Figure()
    for i, tag in enumerate(leading):
        fig.add_scatter(
            x=[w["iso_week"] for w in weeks],
            y=[next((r["ratings"] for r in w["reasons"] if r["tag_id"] == tag), None) for w in weeks],
            name=labels.get(tag, f"Reason {tag}"),
            mode="lines+markers",
            connectgaps=False,
            marker={"symbol": symbols[i % len(symbols)], "size": 8},
        )
    if not leading:
        fig.add_annotation(
            text="No reasons to show", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    fig.update_layout(
        xaxis={"type": "category", "tickangle": -45}, yaxis={"title": "Ratings naming the reason"}
    )
    return _layout(fig, title)


def daily_summary(days: Sequence[dict[str, Any]]) -> str:
    shifts = [(d["shift_date"], b) for d in days for b in d["bands"] if b["ratings"] is not None]
    if not shifts:
        return f"No shift in this week has enough ratings to show on its own ({NOT_SHOWN})."
    best = max(shifts, key=lambda s: s[1]["net_score"])
    worst = min(shifts, key=lambda s: s[1]["net_score"])
    hidden = sum(len(d["bands"]) for d in days) - len(shifts)
    text = (
        f"Highest net score: {best[1]['band']} on {best[0]} ({best[1]['net_score']:+.0f}, "
        f"{best[1]['ratings']} ratings). Lowest: {worst[1]['band']} on {worst[0]} "
        f"({worst[1]['net_score']:+.0f}, {worst[1]['ratings']} ratings)."
    )
    if hidden:
        text += f" {hidden} shifts have {NOT_SHOWN}."
    return text


def funnel_limits(overall: dict[str, Any], n: int, z: float) -> tuple[float, float]:
    pg, pr = overall["pct_green"] / 100, overall["pct_red"] / 100
    spread = max(pg + pr - (pg - pr) ** 2, 1e-9)
    centre = 100 * (pg - pr)
    half = z * 100 * math.sqrt(spread / n)
    return (centre - half, centre + half)


def funnel_summary(units: Sequence[dict[str, Any]], overall: dict[str, Any] | None) -> str:
    shown = [u for u in units if u["ratings"] is not None]
    if not overall or not shown:
        return f"No department has enough ratings to show this week ({NOT_SHOWN})."
    above = [u["name"] for u in shown if u["net_score"] > funnel_limits(overall, u["ratings"], 1.96)[1]]
    below = [u["name"] for u in shown if u["net_score"] < funnel_limits(overall, u["ratings"], 1.96)[0]]
    text = f"{len(shown)} of {len(units)} departments have enough ratings to show."
    text += f" Above the funnel: {', '.join(above)}." if above else " None is above the funnel."
    text += f" Below the funnel: {', '.join(below)}." if below else " None is below the funnel."
    return text


def reasons_summary(counts: Sequence[tuple[str, int]]) -> str:
    if not counts:
        return "No reasons to show for these weeks."
    return "Most named: " + "; ".join(f"{label} ({n})" for label, n in counts[:5]) + "."


def today_summary(today: dict[str, Any]) -> str:
    if today["ratings"] is None:
        return (
            "Today's figure appears once enough people have rated, and then moves only in steps of "
            "several people at a time, so that no single rating can be picked out."
        )
    return (
        f"So far today ({today['shift_date']}): {today['pct_green']:.0f}% good, "
        f"{today['pct_amber']:.0f}% OK, {today['pct_red']:.0f}% tough, from {today['ratings']} ratings. "
        "It updates in steps, not rating by rating."
    )


def grid_summary(grid: Sequence[dict[str, Any]], weeks: Sequence[str]) -> str:
    if not grid or not weeks:
        return "No team figures to show for these weeks."
    latest = weeks[-1]
    shown = [t for t in grid if t["weeks"].get(latest, {}).get("ratings") is not None]
    text = f"In week {latest}, {len(shown)} of {len(grid)} teams have enough ratings to show on their own."
    if shown:
        low = min(shown, key=lambda t: t["weeks"][latest]["net_score"])
        high = max(shown, key=lambda t: t["weeks"][latest]["net_score"])
        text += (
            f" Highest net score: {high['name']} ({high['weeks'][latest]['net_score']:+.0f}); "
            f"lowest: {low['name']} ({low['weeks'][latest]['net_score']:+.0f})."
        )
    return text


def reasons_over_time_summary(weeks: Sequence[dict[str, Any]], labels: dict[int, str]) -> str:
    totals: dict[int, int] = {}
    for w in weeks:
        for r in w["reasons"]:
            totals[r["tag_id"]] = totals.get(r["tag_id"], 0) + r["ratings"]
    if not totals:
        return "No reasons to show for these weeks."
    top = sorted(totals.items(), key=lambda item: -item[1])[:5]
    return "Most named over these weeks: " + "; ".join(f"{labels.get(t, t)} ({n})" for t, n in top) + "."
