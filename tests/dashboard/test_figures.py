"""Figures are pure functions: hidden weeks are gaps, colour is never the only signal, numbers are honest."""

from __future__ import annotations

import math

import pytest

from dashboard import figures
from pulse.published import describe_figures


def week(iso: str, red: int | None, amber: int | None, green: int | None, n: int | None = None) -> dict:
    return {"iso_week": iso, "week_start": iso, **describe_figures(red, amber, green, n)}


SERIES = [week("2026-W44", 2, 4, 14, 20), week("2026-W45", None, None, None), week("2026-W46", 5, 5, 10, 18)]


def test_wilson_interval_matches_the_published_formula() -> None:
    assert figures.wilson_interval(5, 10) == (23.7, 76.3)
    assert figures.wilson_interval(0, 20) == (0.0, 16.1)
    assert figures.wilson_interval(0, 0) == (0.0, 100.0)


def test_trend_leaves_hidden_weeks_as_gaps_never_zeros() -> None:
    fig = figures.trend_figure(SERIES, "t")
    bars = [t for t in fig.data if t.type == "bar"]
    assert [b.y[1] for b in bars] == [None, None, None]
    net = next(t for t in fig.data if t.name.startswith("Net score"))
    assert net.y[1] is None and net.connectgaps is False
    marker = next(t for t in fig.data if t.name == "Not enough ratings to show")
    assert list(marker.x) == ["2026-W45"]


def test_colour_is_never_the_only_signal() -> None:
    fig = figures.trend_figure(SERIES, "t")
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
    text = figures.trend_summary(SERIES, "Ward 7")
    assert "2026-W46: 50% good, 25% OK, 25% tough; net score +25 from 20 ratings by 18 people" in text
    assert "1 of 3 weeks have not enough ratings to show" in text
    assert "Small numbers" in text


def test_summary_when_nothing_is_shown() -> None:
    text = figures.trend_summary([week("2026-W45", None, None, None)], "Ward 7")
    assert "not shown separately, to protect anonymity" in text


def test_heatmap_blank_for_hidden_cells() -> None:
    grid = [
        {
            "name": "A",
            "weeks": {"W1": describe_figures(1, 1, 8, 10), "W2": describe_figures(None, None, None, None)},
        }
    ]
    fig = figures.heatmap_figure(grid, ["W1", "W2"], "t")
    assert fig.data[0].z[0][0] == 70.0 and fig.data[0].z[0][1] is None


def test_funnel_limits_narrow_as_numbers_grow() -> None:
    overall = describe_figures(10, 30, 60, 100)
    small = figures.funnel_limits(overall, 20, 1.96)
    large = figures.funnel_limits(overall, 200, 1.96)
    assert small[0] < large[0] < 50 < large[1] < small[1]
    units = [
        {"name": "Low", **describe_figures(40, 30, 30, 100)},
        {"name": "Typical", **describe_figures(1, 3, 6, 10)},
    ]
    summary = figures.funnel_summary(units, overall)
    assert "Below the funnel: Low." in summary and "None is above the funnel." in summary
