"""The dashboard says which rating mode the figures shown come from: open, verified, or which weeks were
which (docs/anonymity.md A7), on the organisation's, a department's and a team's page."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.summaries import mode_summary
from pulse.models import RatingMode
from pulse.services.organisation import set_rating_mode
from tests.dashboard.conftest import WEEKS
from tests.dashboard.test_callbacks import find, page


def weeks(*modes: str) -> list[dict]:
    return [
        {"week_start": dt.date(2026, 10, 26) + dt.timedelta(weeks=n), "rating_mode": mode}
        for n, mode in enumerate(modes)
    ]


def test_all_open_all_verified_or_from_a_week() -> None:
    assert "open rating: anyone with a team's rating link could rate" in mode_summary(weeks("open"), "Ward 1")
    assert "in every week shown" in mode_summary(weeks("open", "open"), "Ward 1")
    verified = mode_summary(weeks("verified", "verified"), "Ward 1")
    assert verified == (
        "How Ward 1's figures were collected: verified rating: only people on a team's staff list could rate "
        "for it, once per shift each, in every week shown."
    )
    switched = mode_summary(weeks("open", "open", "verified"), "Ward 1")
    assert "open rating" in switched and "up to w/c 2 Nov;" in switched
    assert switched.endswith("once per shift each, from w/c 9 Nov.")


def test_back_and_forth_names_the_verified_weeks() -> None:
    text = mode_summary(weeks("verified", "open", "verified"), "Ward 1")
    assert "in 2 of the 3 weeks shown (w/c 26 Oct, w/c 9 Nov)" in text
    assert text.endswith("in the others.")
    assert mode_summary([], "Ward 1") == ""


@pytest.mark.parametrize("unit", ["organisation", "department", "team"])
def test_each_page_says_where_its_figures_come_from(dash_app, seeded, unit: str) -> None:
    # Verified from the Sunday before the second week: the first week was open. Published on first read.
    session = dash_app.extensions["pulse"].session_factory()
    set_rating_mode(session, RatingMode.VERIFIED, since=WEEKS[1] - dt.timedelta(days=1))
    session.commit()
    session.close()
    ids = {"organisation": {}, "department": {"department_id": str(seeded.department.id)}}
    ids["team"] = {"team_id": str(seeded.teams[1].id)}
    with dash_app.test_request_context():
        layout = page(unit).layout(weeks="12", **ids[unit])
    note = find(layout, "rating-mode").children
    assert "open rating" in note and "up to w/c 26 Oct;" in note
    assert note.endswith("from w/c 2 Nov.")
