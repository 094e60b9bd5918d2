"""Plain-English readings of the charts, for everyone and for screen readers. Pure functions; no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dashboard.chart_style import day_long, week_label, week_long
from pulse import stats

NOT_SHOWN = "not enough ratings to show"
SMALL_N = 30  # below this, shares are read with care and their interval is shown


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval for a share, in percent to one decimal (stats.wilson_interval's)."""
    lower, upper = stats.wilson_interval(successes, n, z)
    return (round(100 * lower, 1), round(100 * upper, 1))


def trend_summary(series: Sequence[dict[str, Any]], unit: str) -> str:
    """A text reading of a weekly trend."""
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
        f"{unit}, {week_long(last['week_start'])}: {last['pct_green']:.0f}% good, "
        f"{last['pct_amber']:.0f}% OK, {last['pct_red']:.0f}% tough; net score {last['net_score']:+.0f} "
        f"from {last['ratings']} ratings by {last['contributors']} people."
    )
    if len(shown) > 1:
        first = shown[0]
        text += (
            f" Net score over the period: {first['net_score']:+.0f} ({week_long(first['week_start'])})"
            f" to {last['net_score']:+.0f}."
        )
    if last["ratings"] < SMALL_N:
        low, high = wilson_interval(last["green"], last["ratings"])
        text += f" Small numbers: the share of good shifts could be anywhere from {low:.0f}% to {high:.0f}%."
    if hidden:
        text += f" {hidden} of {len(series)} weeks have {NOT_SHOWN}."
    return text


def daily_summary(days: Sequence[dict[str, Any]]) -> str:
    shifts = [(d["shift_date"], b) for d in days for b in d["bands"] if b["ratings"] is not None]
    if not shifts:
        return f"No shift in this week has enough ratings to show on its own ({NOT_SHOWN})."
    best = max(shifts, key=lambda s: s[1]["net_score"])
    worst = min(shifts, key=lambda s: s[1]["net_score"])
    hidden = sum(len(d["bands"]) for d in days) - len(shifts)
    text = (
        f"Highest net score: {best[1]['band']} on {day_long(best[0])} ({best[1]['net_score']:+.0f}, "
        f"{best[1]['ratings']} ratings). Lowest: {worst[1]['band']} on {day_long(worst[0])} "
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
        f"So far today ({day_long(today['shift_date'])}): {today['pct_green']:.0f}% good, "
        f"{today['pct_amber']:.0f}% OK, {today['pct_red']:.0f}% tough, from {today['ratings']} ratings. "
        "It updates in steps, not rating by rating."
    )


def grid_summary(grid: Sequence[dict[str, Any]], weeks: Sequence[str]) -> str:
    """`grid` as heatmap_figure takes it, weeks by their Mondays (ISO dates)."""
    if not grid or not weeks:
        return "No team figures to show for these weeks."
    latest = weeks[-1]
    shown = [t for t in grid if t["weeks"].get(latest, {}).get("ratings") is not None]
    text = (
        f"In the {week_long(latest)}, {len(shown)} of {len(grid)} teams have enough ratings to show on their "
        "own; the others are hatched squares."
    )
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


VERIFIED_WORDS = "verified rating: only people on a team's staff list could rate for it, once per shift each"
OPEN_WORDS = (
    "open rating: anyone with a team's rating link could rate for it, so someone could have added ratings of "
    "their own"
)


def mode_summary(series: Sequence[dict[str, Any]], unit: str) -> str:
    """Which rating mode the weeks shown come from (docs/anonymity.md A7): all verified, all open, or which
    weeks."""
    modes = [w.get("rating_mode", "open") for w in series]
    if not modes:
        return ""
    if all(mode == "verified" for mode in modes):
        return f"How {unit}'s figures were collected: {VERIFIED_WORDS}, in every week shown."
    if all(mode == "open" for mode in modes):
        return f"How {unit}'s figures were collected: {OPEN_WORDS}, in every week shown."
    verified = [w for w in series if w.get("rating_mode") == "verified"]
    first_verified = verified[0]["week_start"]
    if all(w.get("rating_mode") == "verified" for w in series if w["week_start"] >= first_verified):
        last_open = [w for w in series if w["week_start"] < first_verified][-1]["week_start"]
        return (
            f"How {unit}'s figures were collected: {OPEN_WORDS}, up to {week_label(last_open)}; "
            f"{VERIFIED_WORDS}, from {week_label(first_verified)}."
        )
    weeks = ", ".join(week_label(w["week_start"]) for w in verified)
    return (
        f"How {unit}'s figures were collected: {VERIFIED_WORDS}, in {len(verified)} of the {len(series)} "
        f"weeks shown ({weeks}); {OPEN_WORDS}, in the others."
    )
