"""Figures are pure functions: hidden weeks are gaps, colour is never the only signal, numbers are honest."""

from __future__ import annotations

import datetime as dt
import math

import plotly.graph_objects as go
import pytest

from dashboard import chart_style, figures, heatmaps, summaries
from pulse.published import describe_figures


def week(iso: str, red: int | None, amber: int | None, green: int | None, n: int | None = None) -> dict:
    monday = dt.date.fromisocalendar(int(iso[:4]), int(iso[6:]), 1)
    return {"iso_week": iso, "week_start": monday, **describe_figures(red, amber, green, n)}


SERIES = [week("2026-W44", 2, 4, 14, 20), week("2026-W45", None, None, None), week("2026-W46", 5, 5, 10, 18)]


def test_wilson_interval_matches_the_published_formula() -> None:
    assert summaries.wilson_interval(5, 10) == (23.7, 76.3)
    assert summaries.wilson_interval(0, 20) == (0.0, 16.1)
    assert summaries.wilson_interval(0, 0) == (0.0, 100.0)


def test_trend_leaves_hidden_weeks_as_gaps_never_zeros() -> None:
    fig = go.Figure(figures.trend_figure(SERIES, "t"))
    bars = [t for t in fig.data if t.type == "bar"]
    assert [b.y[1] for b in bars] == [None, None, None]
    net = next(t for t in fig.data if t.name.startswith("Net score"))
    assert net.y[1] is None and net.connectgaps is False
    marker = next(t for t in fig.data if t.name == "Not enough ratings to show")
    assert list(marker.x) == ["2026-11-02"]
    assert list(marker.customdata) == ["w/c 2 Nov 2026 (2026-W45)"], (
        "the hover names the week and its ISO week"
    )


def test_colour_is_never_the_only_signal() -> None:
    fig = go.Figure(figures.trend_figure(SERIES, "t"))
    bars = [t for t in fig.data if t.type == "bar"]
    assert [b.name for b in bars] == ["Good shift", "OK shift", "Tough shift"]
    assert len({b.marker.pattern.shape for b in bars}) == 3, "each colour has its own pattern"


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
SIMULATIONS = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
}


def simulated_distance(a: str, b: str, kind: str) -> float:
    def seen(hex_colour: str) -> tuple[float, float, float]:
        rgb = [_linear(int(hex_colour[i : i + 2], 16) / 255) for i in (1, 3, 5)]
        out = [
            max(0.0, min(1.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in SIMULATIONS[kind]
        ]
        return (out[0], out[1], out[2])

    return math.dist(_lab(seen(a)), _lab(seen(b)))


@pytest.mark.parametrize("kind", ["protanopia", "deuteranopia"])
def test_palette_stays_distinguishable_with_colour_blindness(kind: str) -> None:
    c = figures.COLOURS
    pairs = [(c["green"], c["amber"]), (c["green"], c["red"]), (c["amber"], c["red"])]
    assert min(simulated_distance(a, b, kind) for a, b in pairs) > 25


def test_a_traffic_light_palette_fails_the_same_check() -> None:
    """The check can fail: a plain green/red pair collapses for deuteranopes."""
    assert simulated_distance("#4CAF50", "#E57373", "deuteranopia") < 25


def test_summary_reads_the_latest_shown_week_and_counts_hidden_ones() -> None:
    text = summaries.trend_summary(SERIES, "Ward 7")
    assert (
        "w/c 9 Nov 2026 (2026-W46): 50% good, 25% OK, 25% tough; net score +25 from 20 ratings by 18 people"
        in text
    )
    assert "1 of 3 weeks have not enough ratings to show" in text
    assert "Small numbers" in text


def test_summary_when_nothing_is_shown() -> None:
    text = summaries.trend_summary([week("2026-W45", None, None, None)], "Ward 7")
    assert "not shown separately, to protect anonymity" in text


def test_heatmap_hatches_hidden_and_empty_cells_alike() -> None:
    hidden = describe_figures(None, None, None, None)
    grid = [
        {"name": "A", "weeks": {"2026-11-02": describe_figures(1, 1, 8, 10), "2026-11-09": hidden}},
        {"name": "B", "weeks": {"2026-11-02": describe_figures(2, 1, 7, 10)}},  # nothing at all in week 2
    ]
    fig = go.Figure(heatmaps.heatmap_figure(grid, ["2026-11-02", "2026-11-09"], "t"))
    cells = fig.data[0]
    assert cells.z[0][0] == 70.0 and cells.z[0][1] is None and cells.z[1][1] is None, "gaps, never zeros"
    assert cells.hovertext[0][1] == "A, w/c 9 Nov 2026 (2026-W46): not shown: too few ratings"
    assert cells.hovertext[1][1] == "B, w/c 9 Nov 2026 (2026-W46): not shown: too few ratings"
    assert cells.hoverongaps is True
    images = {(i.x, i.y): i.source for i in fig.layout.images}
    assert set(images) == {("2026-11-09", "A"), ("2026-11-09", "B")}, "hidden and empty look alike"
    assert all(source == chart_style.HATCH_IMAGE for source in images.values())


def test_week_labels_are_week_commencing_and_few_enough_to_fit() -> None:
    weeks = [dt.date(2026, 6, 1) + dt.timedelta(weeks=n) for n in range(26)]
    axis = chart_style.week_axis(weeks)
    assert axis["ticktext"][-1] == "w/c<br>23 Nov" and axis["tickvals"][-1] == "2026-11-23"
    assert len(axis["ticktext"]) <= chart_style.WEEK_TICKS
    assert chart_style.week_label(dt.date(2026, 11, 23)) == "w/c 23 Nov"
    assert chart_style.week_long("2026-11-23") == "w/c 23 Nov 2026 (2026-W48)"


def test_funnel_limits_narrow_as_numbers_grow() -> None:
    overall = describe_figures(10, 30, 60, 100)
    small = summaries.funnel_limits(overall, 20, 1.96)
    large = summaries.funnel_limits(overall, 200, 1.96)
    assert small[0] < large[0] < 50 < large[1] < small[1]
    units = [
        {"name": "Low", **describe_figures(40, 30, 30, 100)},
        {"name": "Typical", **describe_figures(1, 3, 6, 10)},
    ]
    summary = summaries.funnel_summary(units, overall)
    assert "Below the funnel: Low." in summary and "None is above the funnel." in summary


LINK = '<a href="https://evil.example/phish">Minors (click for details)</a>'


def drawn_strings(fig) -> list[str]:  # type: ignore[no-untyped-def]
    """Every string in a figure that Plotly may draw as text (its HTML subset included)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(dict(fig))
    return found


def test_names_are_text_in_every_figure_never_markup() -> None:
    """Plotly reads <a href>, <b>, <br> and entities in titles, labels, legends and hover text: every name
    reaches it with & < > as entities, which it shows as the characters themselves (issue 14, point 4)."""
    week_ = week("2026-W46", 2, 4, 14, 20)
    unit = {"name": LINK, "team_id": 1, "weeks": {"2026-W46": week_}, **week_}
    day = {"shift_date": "2026-11-09", "bands": [{"band": LINK, "band_id": 1, **week_}]}
    reasons = [{"week_start": dt.date(2026, 11, 9), "reasons": [{"tag_id": 1, "ratings": 7}]}]
    drawn = [
        figures.trend_figure(SERIES, f"{LINK}: share of ratings by week"),
        figures.week_picture_figure(week_, LINK),
        heatmaps.daily_figure([day], LINK),
        figures.funnel_figure([unit], week_, LINK),
        figures.reasons_figure([(LINK, 7)], LINK),
        heatmaps.heatmap_figure([unit], ["2026-W46"], LINK),
        figures.reasons_over_time_figure(reasons, {1: LINK}, LINK),
    ]
    for fig in drawn:
        strings = drawn_strings(fig)
        assert not [s for s in strings if "<a" in s], "a name became markup"
        assert any("&lt;a href=" in s for s in strings), "the name is drawn, as text"
